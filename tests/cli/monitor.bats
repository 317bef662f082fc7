#!/usr/bin/env bats
# The per-container monitor for real: restart policies, the json-file log and
# its rotation, output floods, the monitor lock, start failures, --rm, and the
# monitor's own size.

load helpers

setup() {
  container_setup
  bootstrap_busybox
}

teardown() { container_teardown; }

# Wait (up to 60 s) until the container's State.Status is one of the words given.
wait_for_status() {
  local c=$1 i s
  shift
  for i in $(seq 600); do
    s=$(berth inspect -f '{{.State.Status}}' "$c" 2>/dev/null)
    for w in "$@"; do [ "$s" = "$w" ] && return 0; done
    sleep 0.1
  done
  fail "container $c is still '$s', not $*"
}

# Wait (up to 60 s) until RestartCount reaches at least N.
wait_for_restarts() {
  local c=$1 n=$2 i r
  for i in $(seq 600); do
    r=$(berth inspect -f '{{.RestartCount}}' "$c" 2>/dev/null)
    [ "${r:-0}" -ge "$n" ] && return 0
    sleep 0.1
  done
  fail "container $c restarted only ${r:-0} times, not $n"
}

ctr_id() { berth inspect -f '{{.Id}}' "$1"; }
log_path() { echo "$TEST_ROOT/containers/$1/$1-json.log"; }
monitor_pid() { jq -r .MonitorPid "$TEST_ROOT/containers/$1/state.json"; }

# ---- restart policies ----------------------------------------------------------

@test "--restart on-failure:2: a command that exits 1 runs 3 times and ends Exited (1) with RestartCount 2" {
  run berth run -d --name of --restart on-failure:2 busybox sh -c 'echo run; exit 1'
  assert_success
  id=$output
  wait_for_status of exited
  run berth inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' of
  assert_output 'exited 1 2 on-failure:2'
  run grep -c '"log":"run\\n"' "$(log_path "$id")"
  assert_output 3
  run berth ps -a --format '{{.Status}}'
  assert_output --regexp '^Exited \(1\) '
  # the monitor is gone for good
  berth_ctr_wait_no_monitor "$id"
}

berth_ctr_wait_no_monitor() {
  local i
  for i in $(seq 300); do
    flock -n "$TEST_RUNROOT/containers/$1/monitor.lock" true 2>/dev/null && return 0
    [ -e "$TEST_RUNROOT/containers/$1/monitor.lock" ] || return 0
    sleep 0.1
  done
  fail "the monitor of $1 still holds its lock"
}

@test "--restart on-failure: exit 0 is not restarted" {
  run berth run -d --name ok --restart on-failure busybox true
  assert_success
  wait_for_status ok exited
  sleep 0.5 # a restart would come after 100 ms
  run berth inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}' ok
  assert_output 'exited 0 0'
}

@test "--restart always: restarts after exit 0; a user stop ends the restarts" {
  run berth run -d --name al --restart always busybox sh -c 'echo up; sleep 0.2'
  assert_success
  id=$output
  wait_for_restarts al 2
  run berth stop -t 1 al
  assert_success
  run berth inspect -f '{{.State.Status}} {{.State.Running}}' al
  assert_output 'exited false'
  count=$(berth inspect -f '{{.RestartCount}}' al)
  berth_ctr_wait_no_monitor "$id"
  sleep 1 # longer than any pending back-off at this count
  run berth inspect -f '{{.State.Status}} {{.RestartCount}}' al
  assert_output "exited $count"
  # a later start starts counting afresh, and restarts again
  run berth start al
  assert_success
  wait_for_restarts al 1
  run berth stop -t 1 al
  assert_success
}

@test "--restart always: a stop while the container waits out its back-off ends it at once" {
  # exit at once: the back-off doubles from 100 ms to seconds
  run berth run -d --name bo --restart always busybox true
  assert_success
  id=$output
  wait_for_restarts bo 5
  wait_for_status bo restarting
  run berth stop bo
  assert_success
  run berth inspect -f '{{.State.Status}}' bo
  assert_output exited
  berth_ctr_wait_no_monitor "$id"
}

@test "--restart unless-stopped: restarts like always, stop ends it" {
  run berth run -d --name us --restart unless-stopped busybox sh -c 'exit 3'
  assert_success
  wait_for_restarts us 2
  run berth stop us
  assert_success
  run berth inspect -f '{{.State.Status}} {{.HostConfig.RestartPolicy.Name}}' us
  assert_output 'exited unless-stopped'
}

@test "--restart with --rm is refused (docker's message, 125), nothing created" {
  run berth run --rm --restart always busybox true
  assert_failure 125
  assert_output --partial 'conflicting options: cannot specify both --restart and --rm'
  run berth ps -aq
  assert_output ''
}

@test "a command that cannot start: State.Error and ExitCode 127 recorded, never restarted" {
  run -127 berth run -d --name nf --restart always busybox /no/such/cmd
  run berth inspect -f '{{.State.Status}}|{{.State.ExitCode}}|{{.RestartCount}}' nf
  assert_output 'created|127|0'
  run berth inspect -f '{{.State.Error}}' nf
  assert_output --partial '/no/such/cmd'
  id=$(ctr_id nf)
  berth_ctr_wait_no_monitor "$id"
  sleep 0.5
  run berth inspect -f '{{.State.Status}}|{{.RestartCount}}' nf
  assert_output 'created|0'
  # 126: not executable
  run -126 berth run -d --name nx busybox /etc/passwd
  run berth inspect -f '{{.State.ExitCode}}' nx
  assert_output 126
}

# ---- the log -------------------------------------------------------------------

@test "run -d: output goes to ROOT/containers/ID/ID-json.log as docker's json-file lines, streams apart" {
  run berth run -d --name lg busybox sh -c 'echo out1; echo err1 >&2; printf "a\"b\\\\c\t<&>\n"; printf partial'
  assert_success
  id=$output
  run berth wait lg
  assert_output 0
  f=$(log_path "$id")
  [ -f "$f" ] || fail "no log file $f"
  # every line is an object with exactly log, stream, time (RFC 3339, nanoseconds)
  run jq -c 'select((keys != ["log","stream","time"]) or (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\\.[0-9]{1,9})?Z$") | not))' "$f"
  assert_output ''
  run jq -r -j 'select(.stream == "stdout") | .log' "$f"
  assert_output $'out1\na"b\\c\t<&>\npartial'
  run jq -r -j 'select(.stream == "stderr") | .log' "$f"
  assert_output 'err1'
  # docker's escaping of < > & and the key order
  run grep -F '"log":"a\"b\\c\u0009\u003c\u0026\u003e\n","stream":"stdout","time":"' "$f"
  assert_success
}

@test "the log rotates by default at 20 MB, 5 files" {
  run berth run -d --name big busybox sh -c 'head -c 26000000 /dev/zero | tr "\0" x | fold -w 999'
  assert_success
  id=$output
  run berth wait big
  assert_output 0
  f=$(log_path "$id")
  [ -f "$f.1" ] || fail "no rotated $f.1: $(ls -l "$TEST_ROOT/containers/$id")"
  [ ! -e "$f.2" ] || fail "rotated twice"
  size1=$(stat -c %s "$f.1")
  [ "$size1" -le 20000000 ] && [ "$size1" -gt 19000000 ] || fail "$f.1 has $size1 bytes"
  # nothing lost: 26000000 x in lines of 999, 26026 newlines (fold adds none at the end)
  total=$(cat "$f.1" "$f" | jq -r -j .log | wc -c)
  assert_equal "$total" $((26000000 + 26026))
}

@test "--log-opt max-size=100k --log-opt max-file=2: two files of at most 100 kB" {
  run berth run -d --name small --log-opt max-size=100k --log-opt max-file=2 busybox \
    sh -c 'i=0; while [ $i -lt 6000 ]; do echo "line $i"; i=$((i+1)); done'
  assert_success
  id=$output
  run berth wait small
  assert_output 0
  f=$(log_path "$id")
  [ -f "$f" ] && [ -f "$f.1" ] || fail "expected $f and $f.1"
  [ ! -e "$f.2" ] || fail "max-file=2 keeps no .2"
  for x in "$f" "$f.1"; do
    [ "$(stat -c %s "$x")" -le 100000 ] || fail "$x is larger than 100 kB"
  done
  # the newest lines are kept, in order, up to the last
  run jq -r .log "$f"
  assert_line --index -1 'line 5999'
}

@test "an output flood with nobody attached never blocks the container" {
  run berth run -d --name flood busybox sh -c 'head -c 60000000 /dev/zero | tr "\0" y; echo; echo finished'
  assert_success
  id=$output
  run berth wait flood
  assert_output 0
  run tail -n1 "$(log_path "$id")"
  assert_output --partial '"log":"finished\n"'
}

@test "an attach client that stops reading is dropped; the container is not held up" {
  # a second's pause lets the client connect (if it has not, the test proves less, never fails)
  run berth run -d --name stuck busybox sh -c 'sleep 1; head -c 30000000 /dev/zero | tr "\0" z; echo; echo finished'
  assert_success
  id=$output
  # a client whose output pipe nobody reads: it fills, the client blocks and stops reading its socket
  mkfifo "$BATS_TEST_TMPDIR/fifo"
  exec 5<>"$BATS_TEST_TMPDIR/fifo"
  "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" attach --sig-proxy=false stuck >&5 2>/dev/null &
  client=$!
  run berth wait stuck
  assert_output 0
  kill "$client" 2>/dev/null || true
  exec 5>&-
  run tail -n1 "$(log_path "$id")"
  assert_output --partial '"log":"finished\n"'
}

# ---- the monitor process ----------------------------------------------------------

@test "the monitor holds RUNROOT/containers/ID/monitor.lock while the container runs" {
  run berth run -d --name lk busybox sleep 1000
  assert_success
  id=$output
  lock="$TEST_RUNROOT/containers/$id/monitor.lock"
  [ -e "$lock" ] || fail "no $lock"
  run flock -n "$lock" true
  assert_failure
  pid=$(monitor_pid "$id")
  [ -d "/proc/$pid" ] || fail "monitor $pid is not running"
  # it is the container's parent, in its own session, with no terminal
  run ps -o ppid= -p "$(berth inspect -f '{{.State.Pid}}' lk)"
  assert_equal "${output// /}" "$pid"
  run berth stop -t 1 lk
  assert_success
  berth_ctr_wait_no_monitor "$id"
  for i in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  [ ! -d "/proc/$pid" ] || fail "monitor $pid still runs"
}

@test "run --rm leaves nothing: no directories, no name, no monitor, no cgroup" {
  run berth run --rm --name gone busybox sh -c 'echo bye'
  assert_success
  assert_output bye
  run berth run -d --rm --name gone2 busybox sh -c 'sleep 0.3'
  assert_success
  id2=$output
  pid=$(monitor_pid "$id2")
  run berth wait gone2
  for i in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  [ ! -d "/proc/$pid" ] || fail "monitor $pid still runs"
  run berth ps -aq
  assert_output ''
  run berth inspect gone
  assert_failure
  run berth inspect gone2
  assert_failure
  run ls -A "$TEST_ROOT/containers"
  assert_output ''
  run ls -A "$TEST_RUNROOT/containers"
  assert_output ''
  run find /sys/fs/cgroup -path "*$BERTH_CGROUP_PARENT/*" -type d
  assert_output ''
  # the name is free again
  run berth run --rm --name gone busybox true
  assert_success
}

@test "berth-monitor links no libcrypto, libcurl or libarchive" {
  mon=$BATS_TEST_DIRNAME/../../build/cmd/berth-monitor/berth-monitor
  [ -x "$mon" ] || skip "no $mon"
  run ldd "$mon"
  assert_success
  refute_output --partial libcrypto
  refute_output --partial libcurl
  refute_output --partial libarchive
  refute_output --partial libz
}

@test "the resident memory of an idle monitor (reported, not asserted)" {
  run berth run -d --name idle busybox sleep 1000
  assert_success
  id=$output
  pid=$(monitor_pid "$id")
  sleep 0.5
  pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
  rss=$(awk '/^Rss:/ {print $2}' "/proc/$pid/smaps_rollup")
  [ -n "$pss" ] || fail "no Pss for monitor $pid"
  echo "# idle monitor: Pss ${pss} kB, Rss ${rss} kB (target: Pss under 300 kB)" >&3
}
