#!/usr/bin/env bats
# security.md part A (mount destinations) and part B (writes into volumes)
# with shared volumes: a container swaps a directory of the volume with a
# symlink to the host while others start with mounts beneath it.  berth
# resolves every destination inside the container's root by fd
# (openat2 RESOLVE_IN_ROOT) and mounts on the fd, so nothing may be mounted
# or created outside the container roots, however the race falls.

load helpers

ITER=${BERTH_RACE_ITERATIONS:-200}

setup() {
  container_setup
  make_probe_image probe
  CANARY=$BATS_TEST_TMPDIR/canary
  mkdir -p "$CANARY"
}

teardown() { container_teardown; }

# Mounts whose mount point is under the canary, or that the host gained at
# a path ending in the race's mount names outside the test's tree.
escaped_mounts() {
  awk -v c="$CANARY" -v t="$BATS_TEST_TMPDIR" \
    'index($5, c) == 1 || (index($5, t) != 1 && ($5 ~ /\/t$/ || $5 ~ /\/new\/sub$/)) {print $5}' /proc/self/mountinfo
}

# Start the swapper: /v/d (a directory) and /v/l (a symlink to TARGET) of
# volume `race` exchanged in a loop.
start_swapper() {
  run berth run -d --name swapper -v race:/v probe sh -c \
    "mkdir -p /v/d && ln -sfn '$1' /v/l && touch /v/ready && exec berth-probe swap /v/d /v/l"
  assert_success
  wait_for_volume_file ready
}

wait_for_volume_file() {
  local i
  for i in $(seq 200); do
    [ -e "$TEST_ROOT/volumes/race/_data/$1" ] && return 0
    sleep 0.1
  done
  fail "the swapper did not start"
}

@test "CVE-2021-30465, CVE-2019-19921: a tmpfs and a volume beneath a swapped directory never land outside the root ($ITER runs)" {
  before=$(escaped_mounts)
  start_swapper "$CANARY"
  local ok=0 failed=0 i
  for i in $(seq "$ITER"); do
    if berth run --rm -v race:/v --tmpfs /v/d/t -v other:/v/d/o probe true >/dev/null 2>&1; then
      ok=$((ok + 1))
    else
      failed=$((failed + 1))
    fi
  done
  echo "started $ok, refused $failed" >&3
  [ $((ok + failed)) -eq "$ITER" ]
  run berth rm -f swapper
  assert_equal "$(escaped_mounts)" "$before"
  # nothing was made in the host directory the symlink names
  run ls -A "$CANARY"
  assert_output ""
}

@test "CVE-2024-45310, CVE-2026-41568, CVE-2026-42306: missing mount points beneath a swapped directory are never made on the host ($ITER runs)" {
  start_swapper "$CANARY"
  local i
  for i in $(seq "$ITER"); do
    berth run --rm -v race:/v -v other:/v/d/new/sub probe true >/dev/null 2>&1 || true
  done
  run berth rm -f swapper
  run ls -A "$CANARY"
  assert_output ""
  assert_equal "$(escaped_mounts)" ""
}

@test "CVE-2019-19921, CVE-2023-27561: a swapped symlink to /proc never gets a mount onto the host's or container's procfs" {
  start_swapper /proc/sys/kernel
  local pattern i
  pattern=$(cat /proc/sys/kernel/core_pattern)
  for i in $(seq 50); do
    berth run --rm -v race:/v --tmpfs /v/d/t probe sh -c 'grep -q " /proc/sys/kernel/t " /proc/mounts && echo ESCAPED' \
      2>/dev/null | grep -q ESCAPED && fail "a tmpfs landed on the container's /proc/sys/kernel"
  done
  run berth rm -f swapper
  assert_equal "$(cat /proc/sys/kernel/core_pattern)" "$pattern"
  assert_equal "$(escaped_mounts)" ""
}

@test "CVE-2025-52881: --sysctl beside a swapped link to /proc/sys/kernel writes only the container's own sysctl ($((ITER / 4)) runs)" {
  start_swapper /proc/sys/kernel
  local host_pattern host_rmid i out ok=0
  host_pattern=$(cat /proc/sys/kernel/core_pattern)
  host_rmid=$(cat /proc/sys/kernel/shm_rmid_forced)
  for i in $(seq $((ITER / 4))); do
    out=$(berth run --rm -v race:/v --tmpfs /v/d/t --sysctl kernel.shm_rmid_forced=$((1 - host_rmid)) probe \
      cat /proc/sys/kernel/shm_rmid_forced 2>/dev/null) || continue
    ok=$((ok + 1))
    assert_equal "$out" $((1 - host_rmid))
  done
  echo "started $ok" >&3
  run berth rm -f swapper
  assert_equal "$(cat /proc/sys/kernel/core_pattern)" "$host_pattern"
  assert_equal "$(cat /proc/sys/kernel/shm_rmid_forced)" "$host_rmid"
  assert_equal "$(escaped_mounts)" ""
}

@test "CVE-2025-31133: a volume over /dev with null -> core_pattern: the start fails closed, nothing is bound" {
  run berth run --rm -v devvol:/v probe sh -c 'ln -s /proc/sys/kernel/core_pattern /v/null && ln -s /proc/sysrq-trigger /v/console'
  assert_success
  pattern=$(cat /proc/sys/kernel/core_pattern)
  run berth run --rm --mount type=volume,src=devvol,dst=/dev probe sh -c \
    'stat -c "%t:%T %F" /dev/null; stat -c "%t:%T" /proc/kcore; echo c > /proc/sysrq-trigger && echo WROTE'
  # the masks would bind the volume's "null": berth refuses to start
  assert_failure 125
  refute_output --partial WROTE
  assert_output --partial "/dev/null in the container is not the null device"
  assert_equal "$(cat /proc/sys/kernel/core_pattern)" "$pattern"
}

@test "CVE-2025-9566, CVE-2023-0778: filling a volume from the image never follows the image's symlinks on the host" {
  echo keep >"$CANARY/file"
  local dir=$BATS_TEST_TMPDIR/rootfs-trap
  mkdir -p "$dir/data"
  cp -a "$BATS_TEST_TMPDIR/rootfs-probe/." "$dir/"
  ln -s "$CANARY/file" "$dir/data/cfg"
  ln -s "$CANARY" "$dir/data/dirlink"
  tar -C "$dir" -c . | berth import - trap >/dev/null
  # inside, the links lead to the container's own (missing) paths
  run berth run --rm -v trapvol:/data trap sh -c 'readlink /data/cfg; echo overwritten > /data/cfg; mkdir -p /data/dirlink; echo x > /data/dirlink/new'
  assert_line --index 0 "$CANARY/file"
  assert_equal "$(cat "$CANARY/file")" keep
  run ls -A "$CANARY"
  assert_output file
  # the volume holds the links as links
  assert_equal "$(readlink "$TEST_ROOT/volumes/trapvol/_data/cfg")" "$CANARY/file"
}
