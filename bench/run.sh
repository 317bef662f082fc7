#!/usr/bin/env bash
# bench/run.sh [BUILD]: containers.  Side by side, in one run:
#   run     `run --rm busybox true` with no network: berth, crun and runc on an
#           equivalent prepared bundle, podman, docker
#   create  `create busybox true`: berth, podman, docker
#   memory  the resident size (PSS) of an idle per-container monitor, alone
#           and among 10: berth's monitor, podman's conmon, docker's shim
#   ps      `ps -a` with BENCH_CONTAINERS (1000) containers: berth, podman,
#           docker
# crun 1.8 refuses this machine's hybrid cgroup layout, so the whole script
# runs with /sys/fs/cgroup/unified unmounted in its private mount namespace
# (every engine alike; berth then sees pure cgroup v1).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_containers "$@"

N=${BENCH_CONTAINERS:-1000}
RUNS=${BENCH_RUN_RUNS:-21}
SLOW=${BENCH_SLOW_RUNS:-7}

log "run: busybox image for every engine"
quiet berth image bootstrap busybox
berth save busybox >"$T/in/busybox.tar"
ENGINES=(berth)
if have podman; then
  quiet pod load -i "$T/in/busybox.tar"
  ENGINES+=(podman)
fi
if have dockerd; then
  docker_start
  quiet dock load -i "$T/in/busybox.tar"
  ENGINES+=(docker)
fi

# The OCI bundles for crun and runc, with the same busybox files.  "oci" is
# equivalent to berth's container: berth's own spec for `run --network none
# busybox true` (docker's defaults: seccomp profile, capabilities, mounts,
# masked and read-only paths, rlimits, devices), its root a plain directory
# instead of berth's overlay.  "minimal" is the runtime's own `spec` (no
# seccomp filter), for reference.
for b in oci minimal; do
  mkdir -p "$T/$b/rootfs/bin" "$T/$b/rootfs/proc" "$T/$b/rootfs/sys" "$T/$b/rootfs/dev" "$T/$b/rootfs/etc"
  cp "$(command -v busybox)" "$T/$b/rootfs/bin/busybox"
  ln -s busybox "$T/$b/rootfs/bin/true"
done
(cd "$T/minimal" && crun spec && jq '.process.terminal = false | .process.args = ["true"]' config.json >c.json &&
  mv c.json config.json)
id=$(berth create --network none busybox true)
quiet berth start -a "$id"
for f in hostname hosts resolv.conf; do cp "$T/berth/containers/$id/$f" "$T/oci/$f"; done
jq --arg b "$T/oci" '.root = {path: "rootfs", readonly: false} | del(.annotations) |
  .linux.cgroupsPath = "/berth-bench-oci" |
  .mounts |= map(if (.destination | startswith("/etc/")) then .source = ($b + "/" + (.destination | ltrimstr("/etc/"))) else . end)' \
  "$T/berth-run/containers/$id/spec.json" >"$T/oci/config.json"
quiet berth rm "$id"
n=0
bundle_run() { n=$((n + 1)); "$1" run -b "$T/$2" "bench-$$-$n"; }

# ---- run --rm -------------------------------------------------------------
# Each timed run is preceded (untimed) by a pause: dockerd and containerd
# keep working after `docker run --rm` returns, and the row after docker's
# would otherwise pay for it.
SETTLE="sleep 0.3"
bench_add run berth "$SETTLE" "berth run --rm --network none busybox true" "$RUNS"
have crun && bench_add run crun "$SETTLE" "bundle_run crun oci" "$RUNS"
have runc && bench_add run runc "$SETTLE" "bundle_run runc oci" "$RUNS"
have crun && bench_add run crun-minimal "$SETTLE" "bundle_run crun minimal" "$RUNS"
have podman && bench_add run podman "$SETTLE" "pod run --rm --network none $POD_LIMITS busybox true" "$SLOW"
have dockerd && bench_add run docker "$SETTLE" "dock run --rm --network none busybox true" "$SLOW"
bench_run

# ---- create -----------------------------------------------------------------
bench_add create berth "$SETTLE" "berth create --network none busybox true" "$RUNS"
have podman && bench_add create podman "$SETTLE" "pod create --network none $POD_LIMITS busybox true" "$SLOW"
have dockerd && bench_add create docker "$SETTLE" "dock create --network none busybox true" "$SLOW"
bench_run

# ---- monitor memory -----------------------------------------------------------
# PSS splits a shared page among the processes that map it, so one monitor
# alone is charged in full for its program's pages and those of the libraries
# nothing else on the host maps; with BENCH_MEM_CONTAINERS (10) idle
# containers, each is charged its share: the cost of one more container.
MEMN=${BENCH_MEM_CONTAINERS:-10}
pss_of() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }
private_of() { awk '/^Private_(Clean|Dirty):/ { u += $2 } END { print u }' "/proc/$1/smaps_rollup"; }
mem_row() { # LABEL PROCESS START-FUNC MONITOR-PID-FUNC REMOVE-FUNC
  local ids=() alone='' pss=0 private=0 id pid
  while [ ${#ids[@]} -lt "$MEMN" ]; do
    ids+=("$($3)")
    if [ -z "$alone" ]; then
      sleep 1
      pid=$($4 "${ids[0]}")
      [ -n "$pid" ] || { log "memory: no $2 process for ${ids[0]}"; $5 "${ids[@]}"; return 0; }
      alone=$(pss_of "$pid")
    fi
  done
  sleep 1
  for id in "${ids[@]}"; do
    pid=$($4 "$id")
    pss=$((pss + $(pss_of "$pid")))
    private=$((private + $(private_of "$pid")))
  done
  $5 "${ids[@]}"
  MEM+=("| $1 | $2 | $alone | $((pss / MEMN)) | $((private / MEMN)) |")
}
berth_idle() { berth run -d --network none busybox sleep 1000; }
berth_monitor() { pgrep -f "berth-monitor.*$1" | head -1; }
berth_remove() { quiet berth rm -f "$@"; }
pod_idle() { pod run -d --network none $POD_LIMITS busybox sleep 1000; }
pod_monitor() { pgrep -f "conmon.*$1" | head -1; }
pod_remove() { quiet pod rm -f -t 0 "$@"; }
dock_idle() { dock run -d --network none busybox sleep 1000; }
dock_monitor() { pgrep -f "containerd-shim.*${1:0:12}" | head -1 || true; }
dock_remove() { quiet dock rm -f "$@"; }
MEM=()
mem_row berth berth-monitor berth_idle berth_monitor berth_remove
have podman && mem_row podman "conmon $(conmon --version | awk '/version/ {print $3; exit}')" pod_idle pod_monitor pod_remove
have dockerd && mem_row docker containerd-shim-runc-v2 dock_idle dock_monitor dock_remove

# ---- ps -a with N containers --------------------------------------------------
fill() { # ENGINE-FUNC: create containers until there are N
  local have_n
  have_n=$("$1" ps -aq | wc -l)
  seq $((N - have_n)) | xargs -P 2 -I{} bash -c "$(declare -f "$1" berth pod dock); $1 create --network none ${FILL_OPTS:-} busybox true >/dev/null"
}
export T BERTH DOCKER_CLI BERTH_MONITOR BERTH_CGROUP_PARENT
for e in "${ENGINES[@]}"; do
  case $e in
  berth) fill berth ;;
  podman) FILL_OPTS="$POD_LIMITS" fill pod ;;
  docker) fill dock ;;
  esac
done
bench_add ps berth : "berth ps -a" "$RUNS"
have podman && bench_add ps podman : "pod ps -a" "$SLOW"
have dockerd && bench_add ps docker : "dock ps -a" "$RUNS"
bench_run

{
  echo "### run --rm busybox true (no network)"
  echo
  echo "crun and runc run the same busybox files from a prepared OCI bundle whose"
  echo "config.json is berth's own spec for this container (docker's seccomp profile,"
  echo "capabilities, mounts, masked paths), its root a plain directory: the bare"
  echo "runtime, with no image store, overlay or name.  crun-minimal runs crun's own"
  echo "\`spec\` (no seccomp filter).  berth, podman and docker do all of a \`run\`"
  echo "(resolve the image, record the container, mount its overlay, start a"
  echo "monitor, remove it afterwards)."
  echo
  bench_table run
  echo
  echo "### create busybox true"
  echo
  bench_table create
  echo
  echo "### Memory of an idle container's monitor (kB, from /proc/PID/smaps_rollup)"
  echo
  echo "PSS of the first monitor while it is the only one, then the mean PSS and"
  echo "private (unshared) size of each of $MEMN monitors of $MEMN idle containers."
  echo
  echo "| engine | process | PSS alone | PSS each of $MEMN | private each |"
  echo "| --- | --- | ---: | ---: | ---: |"
  printf '%s\n' "${MEM[@]}"
  echo
  echo "### ps -a with $N containers"
  echo
  bench_table ps
  echo
  echo "#### Commands"
  echo
  bench_commands run
  bench_commands create
  bench_commands ps
  echo
  bench_functions berth pod dock bundle_run
  echo
} >"$T/report.md"
cat "$T/report.md"
if [ -n "${BENCH_REPORT:-}" ]; then cp "$T/report.md" "$BENCH_REPORT"; fi
