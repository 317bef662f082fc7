#!/usr/bin/env bash
# bench/exec.sh [BUILD]: `exec C true` into a running busybox container, side
# by side in one run: berth, podman, docker, and the floor `nsenter -t PID -a
# true` (the bare joining of the container's namespaces, no engine).  Target
# (issue 4): berth within 2x of nsenter.
# As bench/run.sh: /sys/fs/cgroup/unified is unmounted in the script's
# private mount namespace (crun, podman's runtime, refuses the hybrid layout).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_containers "$@"
RUNS=${BENCH_EXEC_RUNS:-20}

log "exec: busybox image and a running container for every engine"
quiet berth image bootstrap busybox
berth save busybox >"$T/in/busybox.tar"
berth run -d --name ex --network none busybox sleep 100000 >/dev/null
PID=$(berth inspect -f '{{.State.Pid}}' ex)
bench_add exec nsenter : "nsenter -t $PID -a true" "$RUNS"
bench_add exec berth : "berth exec ex true" "$RUNS"
if have podman; then
  quiet pod load -i "$T/in/busybox.tar"
  quiet pod run -d --name ex --network none $POD_LIMITS busybox sleep 100000
  bench_add exec podman : "pod exec ex true" "$RUNS"
fi
if have dockerd; then
  docker_start
  quiet dock load -i "$T/in/busybox.tar"
  quiet dock run -d --name ex --network none busybox sleep 100000
  bench_add exec docker : "dock exec ex true" "$RUNS"
fi
bench_run
berth rm -f ex >/dev/null
have podman && quiet pod rm -f -t 0 ex
have dockerd && quiet dock rm -f ex

{
  echo "### exec C true into a running busybox container"
  echo
  echo "nsenter enters the namespaces of the container's init and runs \`true\`: no"
  echo "engine, no cgroup move, no capabilities, seccomp or user set up.  berth's"
  echo "exec also moves the process into the container's cgroup (v1 here: every"
  echo "hierarchy), resolves the user in the container's files and loads its"
  echo "seccomp filter and capabilities, through the container's monitor."
  echo
  bench_table exec
  echo
  echo "#### Commands"
  echo
  bench_commands exec
  echo
  bench_functions berth pod dock
  echo
} >"$T/report.md"
cat "$T/report.md"
if [ -n "${BENCH_REPORT:-}" ]; then cp "$T/report.md" "$BENCH_REPORT"; fi
