#!/usr/bin/env bash
# bench/volumes.sh [BUILD]: `run --rm` of a busybox container with 10 named
# volumes mounted, against the same run with none, side by side with podman
# (and docker where dockerd runs).  The volumes exist beforehand and hold a
# file each, so the rows time mounting them, not creating or filling them.
# As bench/run.sh: /sys/fs/cgroup/unified is unmounted in the script's private
# mount namespace (crun, podman's runtime, refuses the hybrid layout).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_containers "$@"
RUNS=${BENCH_VOLUMES_RUNS:-21}
N=10

log "volumes: busybox image and $N volumes for every engine"
quiet berth image bootstrap busybox
berth save busybox >"$T/in/busybox.tar"
VOLS=""
for i in $(seq $N); do VOLS="$VOLS -v bv$i:/v$i"; done
fill="for i in \$(seq $N); do echo x > /v\$i/f; done"
berth run --rm --network none $VOLS busybox sh -c "$fill"
bench_add none berth : "berth run --rm --network none busybox true" "$RUNS"
bench_add vols berth : "berth run --rm --network none $VOLS busybox true" "$RUNS"
if have podman; then
  quiet pod load -i "$T/in/busybox.tar"
  quiet pod run --rm --network none $POD_LIMITS $VOLS busybox sh -c "$fill"
  bench_add none podman : "pod run --rm --network none $POD_LIMITS busybox true" "$RUNS"
  bench_add vols podman : "pod run --rm --network none $POD_LIMITS $VOLS busybox true" "$RUNS"
fi
if have dockerd; then
  docker_start
  quiet dock load -i "$T/in/busybox.tar"
  quiet dock run --rm --network none $VOLS busybox sh -c "$fill"
  bench_add none docker : "dock run --rm --network none busybox true" "$RUNS"
  bench_add vols docker : "dock run --rm --network none $VOLS busybox true" "$RUNS"
fi
bench_run

{
  echo "### run --rm busybox true with $N named volumes"
  echo
  echo "Each engine's $N volumes exist and hold a file before the timed runs."
  echo
  bench_table vols
  echo
  echo "### the same run without volumes"
  echo
  bench_table none
  echo
  echo "### what the $N volumes add to each engine's run (medians)"
  echo
  echo "| engine | without s | with $N volumes s | added ms | x without |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  awk -F'\t' '$1 == "none" { n[$2] = $3; order[++k] = $2 } $1 == "vols" { v[$2] = $3 }
    END { for (i = 1; i <= k; i++) { e = order[i]
      printf "| %s | %.3f | %.3f | %.1f | %.2f |\n", e, n[e], v[e], (v[e] - n[e]) * 1000, v[e] / n[e] } }' \
    "$BENCH_RESULTS"
  echo
  echo "#### Commands"
  echo
  bench_commands none
  bench_commands vols
  echo
  bench_functions berth pod dock
  echo
} >"$T/report.md"
cat "$T/report.md"
if [ -n "${BENCH_REPORT:-}" ]; then cp "$T/report.md" "$BENCH_REPORT"; fi
