#!/usr/bin/env bash
# bench/run.sh [BUILD]: containers.  Side by side, in one run:
#   run     `run --rm busybox true` with no network: berth, crun and runc on an
#           equivalent prepared bundle, podman, docker
#   create  `create busybox true`: berth, podman, docker
#   memory  the resident size (PSS) of one idle per-container monitor: berth's
#           monitor, podman's conmon, docker's containerd-shim
#   ps      `ps -a` with BENCH_CONTAINERS (1000) containers: berth, podman,
#           docker
# crun 1.8 refuses this machine's hybrid cgroup layout, so the whole script
# runs with /sys/fs/cgroup/unified unmounted in its private mount namespace
# (every engine alike; berth then sees pure cgroup v1).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
if [ -n "${1:-}" ]; then BERTH=$(realpath -ms "$1/berth"); fi
export BERTH
bench_init "$@"
have_berth || die "no berth binary at $BERTH"
# the monitor and init run from the build tree next to the snapshot's source
export BERTH_MONITOR=${BERTH_MONITOR:-$(dirname "$(realpath "$BERTH_SRC")")/../berth-monitor/berth-monitor}
umount /sys/fs/cgroup/unified 2>/dev/null || true
export BERTH_CGROUP_PARENT=berth-bench

# podman's default rlimits (nofile and nproc of 1048576 and more) exceed this
# host's hard limits, and without CAP_SYS_RESOURCE crun cannot raise them: its
# runs fail here unless given limits the host allows.
POD_LIMITS="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
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

# The OCI bundle for crun and runc: the same busybox files, the runtime's
# default config (namespaces pid, net, ipc, uts, mount, cgroup) running `true`.
mkdir -p "$T/bundle/rootfs/bin" "$T/bundle/rootfs/proc" "$T/bundle/rootfs/sys" "$T/bundle/rootfs/dev"
cp "$(command -v busybox)" "$T/bundle/rootfs/bin/busybox"
ln -s busybox "$T/bundle/rootfs/bin/true"
(cd "$T/bundle" && crun spec && jq '.process.terminal = false | .process.args = ["true"]' config.json >c.json &&
  mv c.json config.json)
n=0
bundle_run() { n=$((n + 1)); "$1" run -b "$T/bundle" "bench-$$-$n"; }

# ---- run --rm -------------------------------------------------------------
# Each timed run is preceded (untimed) by a pause: dockerd and containerd
# keep working after `docker run --rm` returns, and the row after docker's
# would otherwise pay for it.
SETTLE="sleep 0.3"
bench_add run berth "$SETTLE" "berth run --rm --network none busybox true" "$RUNS"
have crun && bench_add run crun "$SETTLE" "bundle_run crun" "$RUNS"
have runc && bench_add run runc "$SETTLE" "bundle_run runc" "$RUNS"
have podman && bench_add run podman "$SETTLE" "pod run --rm --network none $POD_LIMITS busybox true" "$SLOW"
have dockerd && bench_add run docker "$SETTLE" "dock run --rm --network none busybox true" "$SLOW"
bench_run

# ---- create -----------------------------------------------------------------
bench_add create berth "$SETTLE" "berth create --network none busybox true" "$RUNS"
have podman && bench_add create podman "$SETTLE" "pod create --network none $POD_LIMITS busybox true" "$SLOW"
have dockerd && bench_add create docker "$SETTLE" "dock create --network none busybox true" "$SLOW"
bench_run

# ---- monitor memory -----------------------------------------------------------
pss_kb() { awk '/^Pss:/ { p = $2 } /^Private_(Clean|Dirty):/ { u += $2 } END { print p " | " u }' "/proc/$1/smaps_rollup"; }
MEM=()
id=$(berth run -d --network none busybox sleep 1000)
sleep 1
pid=$(pgrep -f "berth-monitor.*$id" | head -1)
MEM+=("| berth | berth-monitor | $(pss_kb "$pid") |")
berth rm -f "$id" >/dev/null
if have podman; then
  id=$(pod run -d --network none $POD_LIMITS busybox sleep 1000)
  sleep 1
  pid=$(pgrep -f "conmon.*$id" | head -1)
  MEM+=("| podman | conmon $(conmon --version | awk '/version/ {print $3; exit}') | $(pss_kb "$pid") |")
  quiet pod rm -f "$id"
fi
if have dockerd; then
  id=$(dock run -d --network none busybox sleep 1000)
  sleep 1
  pid=$(pgrep -f "containerd-shim.*${id:0:12}" | head -1 || true)
  [ -z "$pid" ] || MEM+=("| docker | containerd-shim-runc-v2 | $(pss_kb "$pid") |")
  quiet dock rm -f "$id"
fi

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
  echo "crun and runc run the same busybox files from a prepared OCI bundle (their"
  echo "own \`spec\`, args \`true\`): the bare runtime, with no image store, overlay or"
  echo "name; berth, podman and docker do all of a \`run\` (resolve the image, record"
  echo "the container, mount its overlay, start a monitor, remove it afterwards)."
  echo
  bench_table run
  echo
  echo "### create busybox true"
  echo
  bench_table create
  echo
  echo "### Memory of one idle container's monitor (kB, from /proc/PID/smaps_rollup)"
  echo
  echo "| engine | process | PSS kB | private kB |"
  echo "| --- | --- | ---: | ---: |"
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
