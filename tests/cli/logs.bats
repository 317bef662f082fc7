#!/usr/bin/env bats
# berth logs against real containers: the monitor's json-file log read back
# across rotation, streams kept apart, docker's --tail/-t/--since/--until/
# --details, and -f that ends with the container.  Waits are on output or on
# state, bounded, never timed.

load helpers

setup() {
  container_setup
  bootstrap_busybox
}

teardown() { container_teardown; }

ctr_id() { berth inspect -f '{{.Id}}' "$1"; }
log_file() { echo "$TEST_ROOT/containers/$(ctr_id "$1")/$(ctr_id "$1")-json.log"; }

# The "log" fields of a container's json-file entries, rotated files oldest
# first, as an independent reader sees them (optionally one stream).
log_entries() {
  "$PYTHON" - "$(log_file "$1")" "${2:-}" <<'PY'
import json, os, sys
live, stream = sys.argv[1], sys.argv[2]
files = []
i = 1
while os.path.exists("%s.%d" % (live, i)):
    files.insert(0, "%s.%d" % (live, i)); i += 1
files.append(live)
out = sys.stdout.buffer
for f in files:
    for line in open(f, "rb"):
        e = json.loads(line)
        if not stream or e["stream"] == stream:
            out.write(e["log"].encode())
PY
}

# A directory the container waits on: it goes on once the test touches go.
make_gate() { mkdir -p "$BATS_TEST_TMPDIR/gate"; }
GATE_WAIT='while [ ! -e /gate/go ]; do sleep 0.05; done'
open_gate() { touch "$BATS_TEST_TMPDIR/gate/go"; }

@test "logs: stdout entries on stdout, stderr entries on stderr; 2>/dev/null keeps stdout" {
  run berth run --name so busybox sh -c 'echo out1; echo err1 >&2; echo out2; echo err2 >&2'
  assert_success
  run --separate-stderr berth logs so
  assert_success
  assert_output $'out1\nout2'
  assert_equal "$stderr" $'err1\nerr2'
  run bash -c '"$@" 2>/dev/null' _ "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" logs so
  assert_output $'out1\nout2'
  run bash -c '"$@" >/dev/null' _ "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" logs so
  assert_output $'err1\nerr2'
  # a terminal container's output is all stdout (the pty merged it)
  run berth run -t --name tt busybox sh -c 'echo tty-out; echo tty-err >&2'
  run --separate-stderr berth logs tt
  assert_output $'tty-out\r\ntty-err\r'
  assert_equal "$stderr" ''
  # container logs is the same command; a line without newline stays as it is
  run berth run --name pp busybox printf 'no newline'
  run berth container logs pp
  assert_output 'no newline'
}

@test "logs: a missing container is docker's error; wrong arguments are refused" {
  run --separate-stderr berth logs nosuch
  assert_failure 1
  assert_equal "$stderr" 'Error: No such container: nosuch'
  run berth logs
  assert_failure 1
  assert_output --partial "'berth logs' requires 1 argument"
  run berth logs --since yesterday-ish nosuch
  assert_failure 1
  assert_output --partial 'Error: invalid value for "since": parsing time "yesterday-ish"'
  run berth logs --until soon nosuch
  assert_failure 1
  assert_output 'Error: invalid value for "until": failed to parse value as time or duration: "soon"'
  run berth logs --since 2024-13-01 nosuch
  assert_output 'Error: invalid value for "since": parsing time "2024-13-01": month out of range'
}

@test "logs: a running container, then the same container stopped" {
  make_gate
  run berth run -d --name rr -v "$BATS_TEST_TMPDIR/gate:/gate" busybox sh -c \
    "echo first; $GATE_WAIT; echo second; exec sleep 1000"
  assert_success
  for i in $(seq 200); do [ "$(berth logs rr)" = first ] && break; sleep 0.1; done
  run berth logs rr
  assert_output first
  open_gate
  for i in $(seq 200); do [ "$(berth logs rr | wc -l)" -eq 2 ] && break; sleep 0.1; done
  run berth stop -t 0 rr
  run berth logs rr
  assert_output $'first\nsecond'
}

@test "logs --tail N / -n N / all / 0 / nonsense (all, as dockerd's Atoi)" {
  run berth run --name tl busybox sh -c 'for i in 1 2 3 4 5; do echo "line $i"; done; echo err-last >&2'
  run --separate-stderr berth logs --tail 3 tl
  assert_output $'line 4\nline 5'
  assert_equal "$stderr" 'err-last'
  run berth logs -n 1 tl
  assert_output 'err-last'
  run berth logs --tail 0 tl
  assert_output ''
  run berth logs --tail all tl
  assert_equal "$(wc -l <<<"$output")" 6
  run berth logs --tail 100 tl
  assert_equal "$(wc -l <<<"$output")" 6
  run berth logs --tail -1 tl
  assert_equal "$(wc -l <<<"$output")" 6
  run berth logs --tail nonsense tl
  assert_equal "$(wc -l <<<"$output")" 6
}

@test "logs -t: each line prefixed with its entry's time in RFC3339NanoFixed" {
  run berth run --name ts busybox sh -c 'echo a; echo b'
  run berth logs -t ts
  assert_success
  assert_line --index 0 --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z a$'
  assert_line --index 1 --regexp '^[0-9T:.-]{29}Z b$'
  # the times are the entries' own, fraction padded to 9 digits
  want=$("$PYTHON" - "$(log_file ts)" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    t = e["time"].rstrip("Z")
    sec, _, frac = t.partition(".")
    print("%s.%sZ %s" % (sec, frac.ljust(9, "0"), e["log"].rstrip("\n")))
PY
)
  assert_output "$want"
}

@test "logs --since/--until: RFC 3339 with and without zone, Unix seconds, durations; both ends inclusive" {
  run berth run --name tm busybox sh -c 'for i in 1 2 3 4; do echo "l$i"; done'
  # the entries' own times, as RFC 3339 UTC, Unix sec.nsec and local time of another zone
  mapfile -t times < <(jq -r .time "$(log_file tm)")
  mapfile -t unix < <("$PYTHON" - "${times[@]}" <<'PY'
import sys
from datetime import datetime, timezone
for t in sys.argv[1:]:
    sec, _, frac = t.rstrip("Z").partition(".")
    d = datetime.strptime(sec, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    print("%d.%s" % (d.timestamp(), frac.ljust(9, "0")))
PY
)
  run berth logs --since "${times[1]}" tm
  assert_output $'l2\nl3\nl4'
  run berth logs --until "${times[1]}" tm
  assert_output $'l1\nl2'
  run berth logs --since "${times[1]}" --until "${times[2]}" tm
  assert_output $'l2\nl3'
  run berth logs --since "${unix[2]}" tm
  assert_output $'l3\nl4'
  run berth logs --until "${unix[0]}" tm
  assert_output 'l1'
  # no zone: the local zone (here UTC+3), as docker's client reads it
  local3=$("$PYTHON" -c 'import sys; from datetime import datetime, timedelta
t = sys.argv[1].rstrip("Z"); sec, _, frac = t.partition(".")
print((datetime.strptime(sec, "%Y-%m-%dT%H:%M:%S") + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S") + "." + frac)' "${times[3]}")
  run env TZ=UTC-3 "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" logs --since "$local3" tm
  assert_output 'l4'
  # with an explicit offset
  plus1=$("$PYTHON" -c 'import sys; from datetime import datetime, timedelta
t = sys.argv[1].rstrip("Z"); sec, _, frac = t.partition(".")
print((datetime.strptime(sec, "%Y-%m-%dT%H:%M:%S") + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S") + "." + frac + "+01:00")' "${times[2]}")
  run berth logs --since "$plus1" tm
  assert_output $'l3\nl4'
  # durations count back from now; a date alone is its midnight
  run berth logs --since 10m tm
  assert_output $'l1\nl2\nl3\nl4'
  run berth logs --until 10m tm
  assert_output ''
  run berth logs --since -10m tm
  assert_output ''
  run berth logs --since 2000-01-01 --until 2000-01-02T10 tm
  assert_output ''
}

@test "logs --details: the log-opt labels/env attributes as docker prints them, a bare space without" {
  run berth run --name dd --label team=blue --label 'note=a b&c' --label other=x -e LEVEL=debug -e SECRET=s \
    --log-opt labels=team,note --log-opt env=LEVEL busybox sh -c 'echo hello; echo oops >&2'
  assert_success
  run --separate-stderr berth logs --details dd
  assert_output 'LEVEL=debug,note=a+b%26c,team=blue hello'
  assert_equal "$stderr" 'LEVEL=debug,note=a+b%26c,team=blue oops'
  run berth logs --details -t dd
  assert_line --index 0 --regexp '^[0-9T:.-]{29}Z LEVEL=debug,note=a\+b%26c,team=blue hello$'
  # the json-file entries carry them as docker's driver writes them
  run jq -c .attrs "$(log_file dd)"
  assert_line --index 0 '{"LEVEL":"debug","note":"a b&c","team":"blue"}'
  # regex forms
  run berth run --name dr --label com.x.a=1 --label com.y=2 -e APP_MODE=m \
    --log-opt labels-regex='^com\.x\.' --log-opt env-regex='^APP_' busybox echo hi
  run berth logs --details dr
  assert_output 'APP_MODE=m,com.x.a=1 hi'
  # no attributes: docker still puts the separating space
  run berth run --name dn busybox echo plain
  run berth logs --details dn
  assert_output ' plain'
}

@test "logs -f: follows a running container and ends when it exits, exit 0" {
  make_gate
  run berth run -d --name ff -v "$BATS_TEST_TMPDIR/gate:/gate" busybox sh -c \
    "echo before; $GATE_WAIT; for i in 1 2 3; do echo after-\$i; done; echo to-err >&2; exit 3"
  assert_success
  "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" logs -f ff >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
  bg=$!
  wait_for_line "$BATS_TEST_TMPDIR/out" '^before$'
  open_gate
  st=0
  wait "$bg" || st=$?
  assert_equal "$st" 0
  run cat "$BATS_TEST_TMPDIR/out"
  assert_output $'before\nafter-1\nafter-2\nafter-3'
  run cat "$BATS_TEST_TMPDIR/err"
  assert_output 'to-err'
  # -f of a container that is not running prints what there is and returns
  run berth logs -f ff
  assert_success
  assert_line 'after-3'
  # with --tail: the last lines, then the follow
  run --separate-stderr berth logs -f --tail 2 ff
  assert_output 'after-3'
  assert_equal "$stderr" 'to-err'
}

@test "logs -f crosses rotations: every line once, in order, after being stopped while many went by" {
  # the follower is stopped (SIGSTOP) while the first half rotates the log
  # about ten times, and let go while the second half rotates it again
  make_gate
  run berth run -d --name fr -v "$BATS_TEST_TMPDIR/gate:/gate" --log-opt max-size=100k --log-opt max-file=100 \
    busybox sh -c "echo ready; $GATE_WAIT; seq 1 15000; while [ ! -e /gate/go2 ]; do sleep 0.05; done; seq 15001 30000"
  assert_success
  "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" logs -f fr >"$BATS_TEST_TMPDIR/out" &
  bg=$!
  wait_for_line "$BATS_TEST_TMPDIR/out" '^ready$'
  kill -STOP "$bg"
  open_gate
  local live i written=no rotated nread
  live=$(log_file fr)
  for i in $(seq 600); do grep -q '"log":"15000\\n"' "$live" && written=yes && break; sleep 0.1; done
  rotated=$(ls "$live".* | wc -l)
  nread=$(wc -l <"$BATS_TEST_TMPDIR/out")
  touch "$BATS_TEST_TMPDIR/gate/go2"
  kill -CONT "$bg"
  assert_equal "$written" yes
  [ "$rotated" -ge 8 ] || fail "$rotated rotations while stopped"
  assert_equal "$nread" 1
  wait "$bg"
  [ -e "$live.16" ] || fail "too few rotations: $(ls "$(dirname "$live")")"
  seq 1 30000 | sed '1i ready' >"$BATS_TEST_TMPDIR/want"
  cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out"
}

@test "logs of a restarted container: both runs' output; -f follows the new run and ends with it" {
  make_gate
  run berth run -d --name rs -v "$BATS_TEST_TMPDIR/gate:/gate" busybox sh -c \
    "echo run-\$(cat /proc/sys/kernel/random/uuid | cut -c1-4)-start; [ -e /gate/second ] || exit 0; $GATE_WAIT; echo run-end"
  assert_success
  wait_for_inspect rs '{{.State.Status}}' exited
  touch "$BATS_TEST_TMPDIR/gate/second"
  run berth restart rs
  assert_success
  "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" logs -f rs >"$BATS_TEST_TMPDIR/out" &
  bg=$!
  for i in $(seq 200); do [ "$(grep -c start "$BATS_TEST_TMPDIR/out")" -eq 2 ] && break; sleep 0.1; done
  open_gate
  wait "$bg"
  run cat "$BATS_TEST_TMPDIR/out"
  assert_line --index 0 --regexp '^run-....-start$'
  assert_line --index 1 --regexp '^run-....-start$'
  assert_line --index 2 'run-end'
  assert_equal "${#lines[@]}" 3
  run berth logs rs
  assert_equal "${#lines[@]}" 3
}

@test "logs of a container that printed 100 MB: max-size=10m max-file=3 kept, the kept tail read back, monitor RSS flat" {
  [ -z "${ASAN_OPTIONS:-}" ] || skip "under ASan freed memory stays resident, and LeakSanitizer cannot run under strace"
  make_gate
  run berth run -d --name big -v "$BATS_TEST_TMPDIR/gate:/gate" --log-opt max-size=10m --log-opt max-file=3 \
    busybox sh -c "$GATE_WAIT; seq 1 1400000 | sed 's/^/100-megabytes-of-output-padded-out-to-about-seventy-bytes-a-line-/'; echo done; exec sleep 1000"
  assert_success
  id=$(ctr_id big)
  mpid=$(jq -r .MonitorPid "$TEST_ROOT/containers/$id/state.json")
  rss() { awk '/^VmRSS:/ {print $2}' "/proc/$mpid/status"; }
  before=$(rss)
  open_gate
  for i in $(seq 1200); do [ "$(berth logs --tail 1 big)" = done ] && break; sleep 0.1; done
  run berth logs --tail 1 big
  assert_output done
  after=$(rss)
  echo "monitor VmRSS: ${before} kB before, ${after} kB after 100 MB" >&3
  # a memory bound, not a timing: the monitor's buffers are fixed
  [ "$((after - before))" -lt 1024 ] || fail "the monitor grew from $before kB to $after kB"
  # rotation respected: three files, none past 10 MB
  run ls "$(dirname "$(log_file big)")"
  assert_line "$id-json.log"
  assert_line "$id-json.log.1"
  assert_line "$id-json.log.2"
  refute_line "$id-json.log.3"
  for f in "$(log_file big)" "$(log_file big)".1 "$(log_file big)".2; do
    [ "$(stat -c %s "$f")" -le 10485760 ] || fail "$f is $(stat -c %s "$f") bytes"
  done
  # logs gives exactly what the kept files hold: a contiguous tail ending with done
  berth logs big >"$BATS_TEST_TMPDIR/logs"
  log_entries big >"$BATS_TEST_TMPDIR/entries"
  cmp "$BATS_TEST_TMPDIR/logs" "$BATS_TEST_TMPDIR/entries"
  first=$(head -1 "$BATS_TEST_TMPDIR/logs" | sed 's/.*-//')
  [ "$first" -gt 1 ] || fail "the oldest output should have been rotated away"
  { seq "$first" 1400000 | sed 's/^/100-megabytes-of-output-padded-out-to-about-seventy-bytes-a-line-/'; echo done; } |
    cmp - "$BATS_TEST_TMPDIR/logs"
  # --tail across the files: the last 300000 lines span all three
  run bash -c '"$@" | head -1' _ "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" logs --tail 140001 big
  assert_output '100-megabytes-of-output-padded-out-to-about-seventy-bytes-a-line-1260001'
  # --tail reads from the end: a tail of 10 lines reads a few kB, not 30 MB
  strace -f -e trace=read,pread64 -o "$BATS_TEST_TMPDIR/trace" "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
    logs --tail 10 big >/dev/null
  bytes=$(awk -F'= ' '/(read|pread64)\(/ && $NF ~ /^[0-9]+$/ {s += $NF} END {print s + 0}' "$BATS_TEST_TMPDIR/trace")
  [ "$bytes" -lt 1048576 ] || fail "logs --tail 10 read $bytes bytes"
}

@test "logs --log-driver none: docker's error" {
  run berth create --name nd --log-driver none busybox true
  assert_success
  run berth logs nd
  assert_failure 1
  assert_output 'Error: configured logging driver does not support reading'
}
