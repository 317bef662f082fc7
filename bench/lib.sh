# shellcheck shell=bash
# bench/lib.sh: helpers shared by the bench scripts (sourced, not run).
#
#   bench_init "$@"      re-exec in a private mount namespace, make the tmpfs $T
#   bench_add CASE ENGINE PREP CMD [RUNS]; bench_run
#                        median wall time of each CMD over RUNS runs, the rows
#                        interleaved, PREP (not timed) before each run
#   berth / pod / dock   each engine, with its whole store under $T
#   docker_start         a private dockerd on $T, stopped at exit
#   *_reset              empty one engine's store
#
# Every engine's store, temporary files and inputs live on one tmpfs, so no
# engine pays for the root filesystem (creating a file on the host ext4 costs
# ~0.6 ms) and none gains from it.  The whole script runs in its own mount
# namespace: tmpfs mounts over /run, /var/tmp and /var/lib there
# catch the state podman and dockerd write outside their --root (podman's
# blob-info cache, /run/libpod, /run/docker ...), so the host's default
# docker/podman state is never touched, and every mount (dockerd's overlays
# included) disappears with the namespace even if the script is killed.

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_REPO=$(cd "$BENCH_LIB_DIR/.." && pwd)
BENCH_RUNS=${BENCH_RUNS:-9}
BENCH_WARMUP=${BENCH_WARMUP:-1}
BENCH_TMPFS_SIZE=${BENCH_TMPFS_SIZE:-12g}
BERTH=${BERTH:-$BENCH_REPO/build/berth}
BERTH_SRC=$BERTH

T=""
DOCKERD_PID=""

die() {
  echo "bench: $*" >&2
  exit 1
}

log() {
  echo "[$(date +%H:%M:%S)] $*" >&2
}

# Re-exec the calling script in a private mount namespace (once), then make
# the tmpfs and the private mounts.  Must be called as `bench_init "$@"`.
# bench_containers "$@": the start of a script that runs containers: berth
# from BUILD (its monitor and init from the build tree next to it), the store
# set up, and /sys/fs/cgroup/unified unmounted in the script's private mount
# namespace (crun 1.8, podman's runtime, refuses this machine's hybrid
# layout), every engine alike.  POD_LIMITS: podman's default rlimits exceed
# this host's hard limits, and without CAP_SYS_RESOURCE crun cannot raise
# them, so its runs fail unless given limits the host allows.
bench_containers() {
  if [ -n "${1:-}" ]; then BERTH=$(realpath -ms "$1/berth"); fi
  export BERTH
  bench_init "$@"
  have_berth || die "no berth binary at $BERTH"
  export BERTH_MONITOR=${BERTH_MONITOR:-$(dirname "$(realpath "$BERTH_SRC")")/../berth-monitor/berth-monitor}
  umount /sys/fs/cgroup/unified 2>/dev/null || true
  export BERTH_CGROUP_PARENT=berth-bench
  POD_LIMITS="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
}

bench_init() {
  [ "$(id -u)" -eq 0 ] || die "run as root (mounts a tmpfs, starts dockerd)"
  if [ -z "${BENCH_IN_NS:-}" ]; then
    BENCH_IN_NS=1 exec unshare --mount --propagation private -- "$0" "$@"
  fi
  # /var/lib hides the host's /var/lib/containers (podman's blob-info cache
  # is written there whatever --root says) and /var/lib/docker.
  mount -t tmpfs -o size=64m,mode=0755 bench-run /run
  mount -t tmpfs -o size=64m,mode=0755 bench-varlib /var/lib
  mount -t tmpfs -o size=1g,mode=1777 bench-vartmp /var/tmp
  # podman keeps its container locks in a shared memory segment
  # (/dev/shm/libpod_lock) that outlives its store: private here, so that
  # no run inherits the locks of an earlier one
  mount -t tmpfs -o size=256m,mode=1777 bench-shm /dev/shm
  T=$(mktemp -d /tmp/berth-bench.XXXXXX)
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  trap 'echo "bench: ${BASH_SOURCE[0]}:$LINENO: failed: $BASH_COMMAND" >&2' ERR
  mount -t tmpfs -o "size=$BENCH_TMPFS_SIZE,mode=0755" berth-bench "$T"
  mkdir -p "$T/tmp" "$T/in" "$T/bin"
  # A snapshot of the binary: the build tree may be rebuilt during a run.
  BERTH_SRC=$BERTH
  if [ -x "$BERTH" ]; then
    cp "$(realpath "$BERTH")" "$T/bin/berth"
    BERTH=$T/bin/berth
  fi
  export TMPDIR="$T/tmp"
  : "${BENCH_RESULTS:=$T/results.tsv}"
  export BENCH_RESULTS
}

# Unmount everything at or below $1, deepest first.
umount_below() {
  local m
  awk -v p="$1" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo |
    sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

bench_cleanup() {
  local rc=$?
  docker_stop
  if [ -n "$T" ]; then
    umount_below "$T"
    rmdir "$T" 2>/dev/null || true
  fi
  return "$rc"
}

# --- timing ---------------------------------------------------------------

now_us() {
  local t=${EPOCHREALTIME/[.,]/}
  echo "$t"
}

# bench_add CASE ENGINE PREP CMD [RUNS [WARMUP]]: one row of a comparison;
# bench_run then times every row added.  Each run evals PREP (not timed) then
# CMD (timed, output discarded); WARMUP runs (default BENCH_WARMUP) are
# dropped, RUNS (default BENCH_RUNS) kept.  The rows are run round-robin (one
# run of each row per round), so that load from elsewhere on the machine falls
# on every engine alike rather than on whichever ran at the wrong moment.
BENCH_ROWS=()
bench_add() {
  local us=$'\x1f'
  BENCH_ROWS+=("$1$us$2$us$3$us$4$us${5:-$BENCH_RUNS}$us${6:-$BENCH_WARMUP}")
}

# bench_run: time the rows added, append to $BENCH_RESULTS one line per row,
# "CASE<TAB>ENGINE<TAB>median<TAB>min<TAB>max<TAB>runs<TAB>CMD" (seconds),
# and forget the rows.  A failing CMD stops the script: a benchmark of a
# command that failed measures nothing.
bench_run() {
  local i r rounds=0 case engine prep cmd runs warmup t0 t1 stats
  local -a times=()
  for i in "${!BENCH_ROWS[@]}"; do
    IFS=$'\x1f' read -r case engine prep cmd runs warmup <<<"${BENCH_ROWS[$i]}"
    ((runs + warmup <= rounds)) || rounds=$((runs + warmup))
    times[i]=""
  done
  for ((r = 0; r < rounds; r++)); do
    for i in "${!BENCH_ROWS[@]}"; do
      IFS=$'\x1f' read -r case engine prep cmd runs warmup <<<"${BENCH_ROWS[$i]}"
      ((r < runs + warmup)) || continue
      eval "$prep" >/dev/null 2>&1 || die "$engine: prepare failed: $prep"
      t0=$(now_us)
      if ! eval "$cmd" >"$T/last.out" 2>&1; then
        cat "$T/last.out" >&2
        die "$case/$engine failed: $cmd"
      fi
      t1=$(now_us)
      ((r < warmup)) || times[i]+=" $((t1 - t0))"
    done
  done
  for i in "${!BENCH_ROWS[@]}"; do
    IFS=$'\x1f' read -r case engine prep cmd runs warmup <<<"${BENCH_ROWS[$i]}"
    # shellcheck disable=SC2086 # one number a word
    stats=$(printf '%s\n' ${times[i]} | sort -n | awk '
      { v[NR] = $1 }
      END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.4f\t%.4f\t%.4f\t%d", m / 1e6, v[1] / 1e6, v[NR] / 1e6, NR
      }')
    printf '%s\t%s\t%s\t%s\n' "$case" "$engine" "$stats" "$cmd" >>"$BENCH_RESULTS"
    log "$case $engine: median ${stats%%$'\t'*} s"
  done
  BENCH_ROWS=()
}

# bench_table CASE [FLOOR_CASE FLOOR_ENGINE]: one case as a markdown table:
# engine, median, min, runs, ratio to the floor (by default the first row of
# the case) and berth's median over the engine's (the row named "berth").
bench_table() {
  local case=$1 fcase=${2:-$1} feng=${3:-}
  awk -F'\t' -v c="$case" -v fc="$fcase" -v fe="$feng" '
    $1 == fc && fm == "" && (fe == "" || $2 == fe) { fm = $3; fname = $2 }
    $1 == c { n++; e[n] = $2; m[n] = $3; lo[n] = $4; r[n] = $6
              if ($2 == "berth") bm = $3 }
    END {
      print "| engine | median s | min s | runs | x " fname " | berth / engine |"
      print "| --- | ---: | ---: | ---: | ---: | ---: |"
      for (i = 1; i <= n; i++)
      {
        x = "-"; b = "-"
        if (fm > 0) x = sprintf("%.2f", m[i] / fm)
        if (bm > 0) b = sprintf(bm / m[i] < 0.1 ? "%.3f" : "%.2f", bm / m[i])
        printf "| %s | %.3f | %.3f | %d | %s | %s |\n", e[i], m[i], lo[i], r[i], x, b
      }
    }' "$BENCH_RESULTS"
}

# bench_commands CASE: the exact command of each engine in one case.
bench_commands() {
  awk -F'\t' -v c="$1" '$1 == c { printf "- %s: `%s`\n", $2, $7 }' "$BENCH_RESULTS" |
    sed "s|$T|\$T|g"
}

# bench_functions NAME...: the shell functions the commands above use, as
# they are defined (paths under $T left as $T), and dockerd's command line.
bench_functions() {
  echo '```bash'
  echo "BERTH=${BERTH_SRC#"$BENCH_REPO"/} DOCKER_CLI=$DOCKER_CLI T=(the tmpfs)"
  declare -f "$@"
  if [ -n "$DOCKERD_PID" ]; then
    echo "# the private dockerd:"
    tr '\0' ' ' <"/proc/$DOCKERD_PID/cmdline" | sed "s|$T|\$T|g; s/ *$/\n/"
  fi
  echo '```'
}

# --- engines --------------------------------------------------------------

# quiet CMD...: run CMD, showing its output only when it fails.
quiet() {
  local out=$T/quiet.$BASHPID
  if ! "$@" >"$out" 2>&1; then
    cat "$out" >&2
    die "failed: $*"
  fi
  rm -f "$out"
}

have() { command -v "$1" >/dev/null 2>&1; }

have_berth() { [ -x "$BERTH" ]; }

berth() { "$BERTH" --root "$T/berth" --runroot "$T/berth-run" "$@"; }

berth_reset() { rm -rf "$T/berth" "$T/berth-run"; }

# podman with every path of its own under $T: store (--root), run state
# (--runroot), libpod tmp dir (--tmpdir), image copy temp files ($TMPDIR).
pod() {
  podman --root "$T/podman" --runroot "$T/podman-run" --tmpdir "$T/podman-tmp" \
    --storage-driver overlay --cgroup-manager cgroupfs --events-backend none "$@"
}

pod_reset() {
  umount_below "$T/podman"
  rm -rf "$T/podman" "$T/podman-run" "$T/podman-tmp"
}

# The docker client of the docker.io package (the same release as its dockerd)
# when there, else the first on PATH.
DOCKER_CLI=${BENCH_DOCKER_CLI:-}
if [ -z "$DOCKER_CLI" ]; then
  if [ -x /usr/bin/docker ]; then DOCKER_CLI=/usr/bin/docker; else DOCKER_CLI=docker; fi
fi
dock() { "$DOCKER_CLI" -H "unix://$T/docker.sock" "$@"; }

# A private dockerd: data, exec state, socket and pid file under $T, no bridge,
# no iptables/ip6tables rules.  overlay2 works on tmpfs with kernel >= 5.x;
# vfs is the fallback (slower, and then noted in the results).
DOCKER_DRIVER=""
docker_start() {
  local drv
  for drv in overlay2 vfs; do
    mkdir -p "$T/docker" "$T/docker-exec"
    dockerd --data-root "$T/docker" --exec-root "$T/docker-exec" \
      -H "unix://$T/docker.sock" --pidfile "$T/docker.pid" \
      --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
      --storage-driver "$drv" >"$T/dockerd-$drv.log" 2>&1 &
    DOCKERD_PID=$!
    local i
    for ((i = 0; i < 150; i++)); do
      if dock info >/dev/null 2>&1; then
        # shellcheck disable=SC2034 # read by the scripts
        DOCKER_DRIVER=$drv
        log "dockerd ready (storage driver $drv)"
        return 0
      fi
      kill -0 "$DOCKERD_PID" 2>/dev/null || break
      sleep 0.2
    done
    docker_stop
    rm -rf "$T/docker" "$T/docker-exec"
  done
  die "dockerd did not start; see $T/dockerd-*.log"
}

docker_stop() {
  [ -n "$DOCKERD_PID" ] || return 0
  kill "$DOCKERD_PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$DOCKERD_PID" 2>/dev/null || true
  wait "$DOCKERD_PID" 2>/dev/null || true
  DOCKERD_PID=""
  umount_below "$T/docker"
}

docker_reset() {
  local ids
  ids=$(dock images -aq --no-trunc | sort -u)
  # shellcheck disable=SC2086
  [ -z "$ids" ] || dock rmi -f $ids >/dev/null
  dock image prune -af >/dev/null
}

umoci_reset() { rm -rf "$T/umoci"; }

# One line per engine: name and version, for the report.
engine_versions() {
  have_berth && echo "- berth: $("$BERTH" --version 2>/dev/null | awk '{print $3}')"
  have podman && echo "- podman: $(podman --version | awk '{print $3}')"
  have dockerd && echo "- docker: dockerd $(dockerd --version | awk '{print $3}' | tr -d ,), client $("$DOCKER_CLI" --version | awk '{print $3}' | tr -d ,)"
  have umoci && echo "- umoci: $(umoci --version | awk '{print $3}')"
  echo "- tar: $(tar --version | head -1 | awk '{print $4}'), gzip $(gzip --version | head -1 | awk '{print $2}')"
}
