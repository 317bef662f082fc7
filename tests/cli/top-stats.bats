#!/usr/bin/env bats
# `top` and `stats` against real containers: the host's ps limited to the
# container's processes (never the container's own ps: a trap image proves
# it), docker's tables, memory and pids read from the cgroup.

load helpers

setup() {
  container_setup
  # traps where a host helper might look for ps: running one leaves a marker
  MARK=$BATS_TEST_TMPDIR/trap-ran
  trap_script="#!/bin/sh
echo ran >$MARK
echo 'UID PID PPID C STIME TTY TIME CMD'
echo 'root 1 0 0 00:00 ? 00:00:00 fake'"
  make_probe_image img "bin/ps.trap=$trap_script" "usr/bin/ps=$trap_script"
}

teardown() { container_teardown; }

# The container's processes, as its cgroup lists them.
run_sleeper() {
  # the container puts the trap in place of its own ps first
  berth run -d --name "$1" "${@:2}" img sh -c 'cp /bin/ps.trap /bin/ps.t && chmod 755 /bin/ps.t /usr/bin/ps &&
    mv -f /bin/ps.t /bin/ps && touch /tmp/ready; sleep 1000 & exec sleep 1001'
  wait_for_inspect "$1" '{{.State.Status}}' running
  PID=$(berth inspect -f '{{.State.Pid}}' "$1")
  local id
  id=$(berth inspect -f '{{.Id}}' "$1")
  for i in $(seq 200); do [ -e "$TEST_ROOT/containers/$id/upper/tmp/ready" ] && pgrep -P "$PID" >/dev/null && break; sleep 0.1; done
  [ -x "$TEST_ROOT/containers/$id/upper/bin/ps" ] || fail "the trap is not in place"
  CHILD=$(pgrep -P "$PID")
}

squeeze() { tr -s ' ' <<<"$1"; }

@test "top: docker's default columns, only the container's processes" {
  run_sleeper c1
  run --separate-stderr berth top c1
  assert_success
  assert_equal "$(squeeze "${lines[0]}")" "UID PID PPID C STIME TTY TIME CMD"
  assert_equal "${#lines[@]}" 3
  [[ $(squeeze "${lines[1]}") == "root $PID "*" sleep 1001" ]] || fail "row: ${lines[1]}"
  [[ $(squeeze "${lines[2]}") == "root $CHILD $PID "*" sleep 1000" ]] || fail "row: ${lines[2]}"
  # docker/cli's tabwriter: 20 columns at least, 3 spaces of padding
  [[ ${lines[0]} == "UID                 PID "* ]] || fail "header: ${lines[0]}"
  [ ! -e "$MARK" ] || fail "a ps from the container ran"
}

@test "top: ps options go to the host's ps, rows filtered by PID" {
  run_sleeper c1
  run berth top c1 -o pid,comm
  assert_success
  assert_equal "$(squeeze "${lines[0]}")" "PID COMMAND"
  assert_equal "$(squeeze "${lines[1]}")" "$PID sleep"
  assert_equal "$(squeeze "${lines[2]}")" "$CHILD sleep"
  assert_equal "${#lines[@]}" 3
  run berth container top c1 -o comm,pid
  assert_equal "$(squeeze "${lines[1]}")" "sleep $PID"
  [ ! -e "$MARK" ] || fail "a ps from the container ran"
}

@test "top: errors like docker's" {
  berth create --name c2 img true
  id=$(berth inspect -f '{{.Id}}' c2)
  run --separate-stderr berth top c2
  assert_failure 1
  assert_equal "$stderr" "Error: container $id is not running"
  run_sleeper c1
  run --separate-stderr berth top c1 -o comm=PID
  assert_failure 1
  assert_equal "$stderr" 'Error: specifying "comm=PID" is not allowed'
  run --separate-stderr berth top c1 -o user
  assert_failure 1
  assert_equal "$stderr" "Error: Couldn't find PID field in ps output"
  run --separate-stderr berth top c1 --no-such-ps-option
  assert_failure 1
  [ -n "$stderr" ]
  run --separate-stderr berth top nosuch
  assert_failure 1
  [[ $stderr == *"No such container: nosuch"* ]] || fail "stderr: $stderr"
}

STATS_HEADER="CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS"

# "12.5MiB" -> bytes
to_bytes() {
  awk -v s="$1" 'BEGIN { n = s + 0; u = s; sub(/^[0-9.]+/, "", u)
    m["B"] = 1; m["KiB"] = 1024; m["MiB"] = 1048576; m["GiB"] = 1073741824
    printf "%d\n", n * m[u] }'
}

@test "stats --no-stream: memory, limit and pids of a container holding 50 MB" {
  berth run -d --name c1 --network none --memory 200m img sh -c 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=50 2>/dev/null; touch /tmp/ready; exec sleep 1000'
  id=$(berth inspect -f '{{.Id}}' c1)
  for i in $(seq 200); do [ -e "$TEST_ROOT/containers/$id/upper/tmp/ready" ] && break; sleep 0.1; done
  run --separate-stderr berth stats --no-stream c1
  assert_success
  assert_equal "${lines[0]}" "$STATS_HEADER"
  assert_equal "${#lines[@]}" 2
  read -r cid name cpu used _ limit memp net1 _ net2 blk1 _ blk2 pids <<<"${lines[1]}"
  assert_equal "$cid $name" "${id:0:12} c1"
  [[ $cpu =~ ^[0-9]+\.[0-9]{2}%$ ]] || fail "cpu: $cpu"
  [ "$(to_bytes "$used")" -ge $((50 * 1048576)) ] || fail "usage $used < 50MiB"
  [ "$(to_bytes "$used")" -lt $((200 * 1048576)) ] || fail "usage $used"
  assert_equal "$limit" 200MiB
  [[ $memp =~ ^(2[5-9]|[3-9][0-9])\.[0-9]{2}%$ ]] || fail "mem %: $memp"
  assert_equal "$net1 $net2" "0B 0B"
  [[ $blk1 =~ B$ && $blk2 =~ B$ ]] || fail "block io: $blk1 / $blk2"
  assert_equal "$pids" 1
  run berth stats --no-stream --no-trunc --format '{{.Container}} {{.ID}} {{.Name}} {{.PIDs}}' c1
  assert_output "c1 $id c1 1"
}

@test "stats --no-stream: CPU % of a busy container, all running containers by default" {
  berth run -d --name busy img sh -c 'while :; do :; done'
  berth create --name idle img true
  wait_for_inspect busy '{{.State.Status}}' running
  run berth stats --no-stream --format '{{.Name}} {{.CPUPerc}} {{.PIDs}}'
  assert_success
  assert_equal "${#lines[@]}" 1
  read -r name cpu pids <<<"${lines[0]}"
  assert_equal "$name $pids" "busy 1"
  awk -v c="${cpu%\%}" 'BEGIN { exit !(c >= 5) }' || fail "busy container at $cpu"
  run berth stats --no-stream -a --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.MemPerc}} {{.NetIO}} {{.BlockIO}} {{.PIDs}}'
  assert_line "idle 0.00% 0B / 0B 0.00% 0B / 0B 0B / 0B 0"
}

@test "stats: errors like docker's" {
  run --separate-stderr berth stats --no-stream nosuch
  assert_failure 1
  [[ $stderr == *"No such container: nosuch"* ]] || fail "stderr: $stderr"
}

@test "stats: streams, redrawing from the top of the screen" {
  berth run -d --name c1 img sleep 1000
  wait_for_inspect c1 '{{.State.Status}}' running
  out=$BATS_TEST_TMPDIR/stream
  berth stats c1 >"$out" 2>&1 &
  pid=$!
  for i in $(seq 200); do [ "$(grep -o 'CONTAINER ID' "$out" | wc -l)" -ge 2 ] && break; sleep 0.1; done
  kill "$pid"
  wait "$pid" || true
  [ "$(grep -o 'CONTAINER ID' "$out" | wc -l)" -ge 2 ] || fail "fewer than two frames: $(cat -v "$out")"
  head -c 8 "$out" | cat -v | grep -q '^\^\[\[2J\^\[\[H' || fail "no clear screen: $(head -c 20 "$out" | cat -v)"
  grep -q "c1 " "$out"
}
