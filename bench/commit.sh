#!/usr/bin/env bash
# bench/commit.sh [BUILD]: `commit` of a stopped container whose writable
# layer holds BENCH_COMMIT_FILES (10000) new files: berth against podman and
# docker (where dockerd runs), and a floor: `tar -c` of berth's upper dir
# piped into `tar -x` (archiving and unpacking the layer, which any commit
# does, with nothing recorded).  Each timed run starts with the image of the
# previous run removed (untimed).  Like bench/run.sh it runs with
# /sys/fs/cgroup/unified unmounted in its private namespace (podman's crun
# refuses this machine's hybrid layout).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_containers "$@"

N=${BENCH_COMMIT_FILES:-10000}
RUNS=${BENCH_COMMIT_RUNS:-9}
SLOW=${BENCH_SLOW_RUNS:-5}
MAKE_FILES="mkdir /data; i=0; while [ \$i -lt $N ]; do echo \$i > /data/f\$i; i=\$((i + 1)); done"

log "commit: a container with $N new files in each engine"
quiet berth image bootstrap busybox
berth save busybox >"$T/in/busybox.tar"
quiet berth run --name src --network none busybox sh -c "$MAKE_FILES"
UPPER=$T/berth/containers/$(berth inspect -f '{{.Id}}' src)/upper
[ "$(find "$UPPER/data" -type f | wc -l)" -eq "$N" ] || die "berth's container did not write $N files"
if have podman; then
  quiet pod load -i "$T/in/busybox.tar"
  quiet pod run --name src --network none $POD_LIMITS busybox sh -c "$MAKE_FILES"
fi
if have dockerd; then
  docker_start
  quiet dock load -i "$T/in/busybox.tar"
  quiet dock run --name src --network none busybox sh -c "$MAKE_FILES"
fi

X=$T/x
tar_reset() { rm -rf "$X" && mkdir "$X"; }
tar_floor() { tar -C "$UPPER" -cf - . | tar -C "$X" -xf -; }
bench_add commit tar-c-x tar_reset tar_floor "$RUNS"
bench_add commit berth "berth rmi -f snap || true" "berth commit src snap" "$RUNS"
have podman && bench_add commit podman "pod rmi -f snap || true" "pod commit -q src snap" "$SLOW"
have dockerd && bench_add commit docker "dock rmi -f snap || true" "dock commit src snap" "$SLOW"
bench_run

{
  echo "### commit of a container with $N new files"
  echo
  bench_table commit
  echo
  echo "#### Commands"
  echo
  bench_commands commit
  echo
  bench_functions berth pod dock tar_floor
  echo
} >"$T/report.md"
cat "$T/report.md"
if [ -n "${BENCH_REPORT:-}" ]; then cp "$T/report.md" "$BENCH_REPORT"; fi
