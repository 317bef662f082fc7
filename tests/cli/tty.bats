#!/usr/bin/env bats
# Terminals, stdin, attach and signal proxying of run/start/attach against real
# busybox containers.  The terminal tests drive the CLI through a real pty with
# tests/helpers/ptyrun.py: every wait there is on output, bounded, never timed.

load helpers

PTYRUN=$BERTH_SRC/tests/helpers/ptyrun.py

setup() {
  container_setup
  bootstrap_busybox
}

teardown() { container_teardown; }

# pty STEP... -- berth ARGS: run berth (this test's store) in a fresh pty.
pty() {
  local steps=()
  while [ "$1" != -- ]; do steps+=("$1"); shift; done
  shift
  run "$PYTHON" "$PTYRUN" --timeout 30 "${steps[@]}" -- "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" "$@"
}

# busybox sh prints "/ # " (and asks for the cursor position: ESC[6n).
PROMPT='/ # '

# ---- run -it ------------------------------------------------------------------

@test "run -it: a prompt, typed commands run, its own devpts, exit 3 ends container and CLI with 3" {
  pty "expect:$PROMPT" 'send:echo typed-$((6*7))\r' 'expect:typed-42' "expect:$PROMPT" \
    'send:tty\r' 'expect:/dev/pts/[0-9]+' "expect:$PROMPT" \
    'send:ls -l /dev/console; echo CONSOLE-DONE\r' 'expect:CONSOLE-DONE\n' "expect:$PROMPT" \
    'send:exit 3\r' -- run -it --name t1 busybox sh
  assert_success
  assert_line --partial 'typed-42'
  assert_line '/dev/pts/0'
  assert_line --regexp '^c[-rwx]{9} .* 136, +0 .*/dev/console$'
  assert_line 'ptyrun: exit 3'
  run berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' t1
  assert_output 'exited 3'
}

@test "run -it: raw mode: ctrl-c reaches the container's shell, TERM=xterm" {
  pty "expect:$PROMPT" 'send:sleep 1000\r' 'sleep:0.3' 'send:\x03' "expect:$PROMPT" \
    'send:echo "term=$TERM"\r' 'expect:term=xterm' 'send:exit\r' -- run -it --rm busybox sh
  assert_success
  assert_line 'ptyrun: exit 0'
}

@test "run -it: stty size shows the pty's size and follows a resize (SIGWINCH)" {
  run "$PYTHON" "$PTYRUN" --rows 33 --cols 101 "expect:$PROMPT" 'send:stty size\r' 'expect:33 101' \
    "expect:$PROMPT" 'resize:47x123' 'sleep:0.2' 'send:stty size\r' 'expect:47 123' \
    'resize:20x60' 'sleep:0.2' 'send:stty size\r' 'expect:20 60' 'send:exit\r' \
    -- "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run -it --rm busybox sh
  assert_success
  assert_line 'ptyrun: exit 0'
}

@test "run -it: a resize that comes before the typing is seen by the next command" {
  # the resize goes out as a RESIZE frame; the next keys go after it on the same socket
  run "$PYTHON" "$PTYRUN" "expect:$PROMPT" 'resize:50x130' 'send:stty size\r' 'expect:50 130' \
    'send:exit\r' -- "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run -it --rm busybox sh
  assert_success
}

@test "run -it: ctrl-p ctrl-q detaches (exit 0, still Up), attach gets a terminal again, exit ends it" {
  pty "expect:$PROMPT" 'send:echo before\r' "expect:before\n.*$PROMPT" 'send:\x10\x11' -- run -it --name dt busybox sh
  assert_success
  assert_line 'ptyrun: exit 0'
  run berth ps --format '{{.Names}} {{.Status}}'
  assert_output --regexp '^dt Up '
  run berth inspect -f '{{.State.Running}}' dt
  assert_output true
  # re-attach: a fresh prompt after a newline, the same terminal
  pty 'send:\r' "expect:$PROMPT" 'send:tty; echo "again-$((1+1))"\r' 'expect:again-2' "expect:$PROMPT" \
    'send:exit 6\r' -- attach dt
  assert_success
  assert_line '/dev/pts/0'
  assert_line 'ptyrun: exit 6'
  wait_for_inspect dt '{{.State.Status}} {{.State.ExitCode}}' 'exited 6'
}

@test "attach: ctrl-p ctrl-q detaches the attach client (docker: 'read escape sequence', 1)" {
  pty "expect:$PROMPT" 'send:\x10\x11' -- run -it --name da busybox sh
  assert_line 'ptyrun: exit 0'
  pty 'send:\r' "expect:$PROMPT" 'send:\x10\x11' -- attach da
  assert_success
  assert_output --regexp $'read escape sequence\nptyrun: exit 1$'
  assert_line 'ptyrun: exit 1'
  run berth inspect -f '{{.State.Running}}' da
  assert_output true
}

@test "run -it --detach-keys ctrl-a,x: the new sequence detaches, ctrl-p ctrl-q goes to the container" {
  # busybox sh ignores ctrl-p ctrl-q at the prompt; the typed line still runs
  pty "expect:$PROMPT" 'send:\x10\x11echo passed-through\r' 'expect:passed-through\n' "expect:$PROMPT" \
    'send:\x01x' -- run -it --detach-keys ctrl-a,x --name dk busybox sh
  assert_success
  assert_line 'ptyrun: exit 0'
  run berth inspect -f '{{.State.Running}}' dk
  assert_output true
  # the sequence is the client's: attach with the default one detaches too
  pty 'send:\r' "expect:$PROMPT" 'send:\x10\x11' -- attach dk
  assert_line 'ptyrun: exit 1'
  run berth inspect -f '{{.State.Running}}' dk
  assert_output true
}

@test "run -it: a half-typed detach sequence is passed on (z then A with --detach-keys z,q)" {
  pty "expect:$PROMPT" 'send:echo zA; echo zz\r' 'expect:\nzA\nzz\n' 'send:exit 2\r' \
    -- run -it --rm --detach-keys z,q busybox sh
  assert_success
  assert_line 'ptyrun: exit 2'
}

@test "run -it with stdin not a terminal: 'the input device is not a TTY', 1" {
  run berth run -it --rm busybox true </dev/null
  assert_failure 1
  assert_output 'the input device is not a TTY'
}

@test "run -t without -i: a terminal for output, no stdin" {
  pty -- run -t --rm busybox sh -c 'tty; stty size; echo "term=$TERM"'
  assert_success
  assert_line '/dev/pts/0'
  assert_line '24 80'
  assert_line 'term=xterm'
  assert_line 'ptyrun: exit 0'
}

# ---- stdin and streams without a terminal ---------------------------------------

@test "run -i with stdin at its end: the container's exit wins over input the monitor no longer takes" {
  # the CLI's STDIN_EOF can reach a monitor that has already closed the
  # socket (EPIPE), or sit unread when it closes (the CLI then reads a reset
  # after EXIT): neither may turn the exit into a 125 (both did, ~1 run in 15)
  local i
  for i in $(seq 30); do
    run berth run --rm -i busybox true </dev/null
    assert_success
  done
}

@test "run -i with pipes: stdin reaches cat, its EOF ends it" {
  run --separate-stderr berth run -i --rm busybox cat <<<"hi"
  assert_success
  assert_output 'hi'
  # more than a pipe buffer, both ways
  seq 1 100000 >"$BATS_TEST_TMPDIR/in"
  berth run -i --rm busybox cat <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
  cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
  run berth run -i --rm busybox sh -c 'wc -l; echo done' </dev/null
  assert_success
  assert_output --regexp '^ *0'$'\n''done$'
}

@test "run without -i: no stdin (stdin is /dev/null in the container)" {
  run --separate-stderr berth run --rm busybox sh -c 'cat; echo "eof-at-once"' <<<"must not be read"
  assert_success
  assert_output 'eof-at-once'
}

@test "run -a stdout / -a stderr select the streams; stderr stays on stderr" {
  script='echo to-out; echo to-err >&2'
  run --separate-stderr berth run --rm busybox sh -c "$script"
  assert_success
  assert_output 'to-out'
  assert_equal "$stderr" 'to-err'
  run --separate-stderr berth run --rm -a stdout busybox sh -c "$script"
  assert_success
  assert_output 'to-out'
  assert_equal "$stderr" ''
  run --separate-stderr berth run --rm -a stderr busybox sh -c "$script"
  assert_success
  assert_output ''
  assert_equal "$stderr" 'to-err'
  run bash -c '"$@" 2>/dev/null' _ "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
    run --rm -a stderr busybox sh -c "$script"
  assert_success
  assert_output ''
  # both given: both shown, and -a stdin alone with -i reads stdin
  run --separate-stderr berth run --rm -a stdout -a stderr busybox sh -c "$script"
  assert_output 'to-out'
  assert_equal "$stderr" 'to-err'
  run --separate-stderr berth run --rm -i -a stdin -a stdout busybox cat <<<"in-and-out"
  assert_output 'in-and-out'
}

@test "run: the exit code and output of a failing command come through, stdout and stderr in order per stream" {
  run --separate-stderr berth run --rm busybox sh -c 'for i in 1 2 3; do echo o$i; echo e$i >&2; done; exit 9'
  assert_failure 9
  assert_output $'o1\no2\no3'
  assert_equal "$stderr" $'e1\ne2\ne3'
}

# ---- signals -------------------------------------------------------------------

# Start `berth run ... CMD` in the background with its output in $BATS_TEST_TMPDIR/out.
run_bg() {
  "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" "$@" >"$BATS_TEST_TMPDIR/out" 2>&1 &
  BG=$!
}

# wait_status PID WANT: the background job PID ends with status WANT.
wait_status() {
  local st=0
  wait "$1" || st=$?
  [ "$st" -eq "$2" ] || fail "pid $1 ended with $st, not $2: $(cat "$BATS_TEST_TMPDIR/out" 2>/dev/null)"
}

wait_for_file_line() {
  local f=$1 want=$2 i
  for i in $(seq 300); do
    grep -qx -- "$want" "$f" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "no line '$want' in $f: $(cat "$f")"
}

@test "--sig-proxy (default): SIGTERM to a non-tty run reaches the container, the CLI exits 42" {
  run_bg run --name sp busybox sh -c 'trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done'
  wait_for_file_line "$BATS_TEST_TMPDIR/out" ready
  kill -TERM "$BG"
  wait_status "$BG" 42
  wait_for_inspect sp '{{.State.Status}} {{.State.ExitCode}}' 'exited 42'
}

@test "--sig-proxy: SIGUSR1 and SIGINT are forwarded too" {
  run_bg run --rm busybox sh -c 'trap "echo got-usr1" USR1; trap "exit 7" INT; echo ready; while :; do sleep 0.1; done'
  wait_for_file_line "$BATS_TEST_TMPDIR/out" ready
  kill -USR1 "$BG"
  wait_for_file_line "$BATS_TEST_TMPDIR/out" got-usr1
  kill -INT "$BG"
  wait_status "$BG" 7
}

@test "--sig-proxy=false: SIGTERM ends the CLI, the container keeps running" {
  run_bg run --sig-proxy=false --name nsp busybox sh -c 'trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done'
  wait_for_file_line "$BATS_TEST_TMPDIR/out" ready
  kill -TERM "$BG"
  wait_status "$BG" 143
  run berth inspect -f '{{.State.Running}}' nsp
  assert_output true
  run berth stop -t 30 nsp
  assert_success
  run berth inspect -f '{{.State.ExitCode}}' nsp
  assert_output 42
}

# ---- start -a -i, attach --------------------------------------------------------

@test "start -a -i of a created container: stdin in, output out, its exit code" {
  run berth create -i --name si busybox sh -c 'read x; echo "got $x"; echo to-err >&2; exit 7'
  assert_success
  run --separate-stderr berth start -a -i si <<<"line"
  assert_failure 7
  assert_output 'got line'
  assert_equal "$stderr" 'to-err'
  run berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' si
  assert_output 'exited 7'
  # again: a second start runs it afresh
  run --separate-stderr berth start -a -i si <<<"two"
  assert_failure 7
  assert_output 'got two'
}

@test "start -a of a created container without -i: output only" {
  run berth create --name sa busybox sh -c 'echo started; exit 3'
  assert_success
  run berth start -a sa
  assert_failure 3
  assert_output 'started'
}

@test "start -a -i of a created -it container: a real terminal" {
  run berth create -it --name st busybox sh
  assert_success
  pty "expect:$PROMPT" 'send:tty\r' 'expect:/dev/pts/0' 'send:exit 4\r' -- start -a -i st
  assert_success
  assert_line 'ptyrun: exit 4'
}

@test "attach: two clients both see the output" {
  run berth run -d --name two busybox sh -c 'i=0; while :; do echo "tick $i"; i=$((i+1)); sleep 0.1; done'
  assert_success
  "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" attach two >"$BATS_TEST_TMPDIR/a1" 2>&1 &
  a1=$!
  "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" attach two >"$BATS_TEST_TMPDIR/a2" 2>&1 &
  a2=$!
  # each sees ticks that start after it attached: wait for two of them
  for f in a1 a2; do
    for i in $(seq 300); do
      [ "$(grep -c '^tick [0-9]*$' "$BATS_TEST_TMPDIR/$f")" -ge 2 ] && break
      sleep 0.1
    done
  done
  run berth stop -t 1 two
  assert_success
  # the container's end ends both clients (137: killed after the timeout)
  wait_status "$a1" 137
  wait_status "$a2" 137
  for f in a1 a2; do
    [ "$(grep -c '^tick [0-9]*$' "$BATS_TEST_TMPDIR/$f")" -ge 2 ] || fail "$f saw: $(cat "$BATS_TEST_TMPDIR/$f")"
  done
}

@test "attach to a stopped container: docker's error" {
  run berth create --name stopped busybox true
  run berth attach stopped
  assert_failure 1
  assert_output --partial 'You cannot attach to a stopped container, start it first'
}
