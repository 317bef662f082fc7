#!/usr/bin/env bats
# berth attach against real containers: several clients at once on one
# terminal (each sees everything, each can type, each detaches alone),
# --no-stdin, --sig-proxy, --detach-keys, and docker's refusals.  Terminals
# are real ptys driven by tests/helpers/ptyrun.py; waits are on output or
# state, bounded, never timed.

load helpers

PTYRUN=$BERTH_SRC/tests/helpers/ptyrun.py
PROMPT='/ # '

setup() {
  container_setup
  bootstrap_busybox
}

teardown() {
  local p
  for p in ${BG_PIDS:-}; do kill "$p" 2>/dev/null || true; done
  container_teardown
}

bberth() { "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" "$@"; }
# For `bberth ... &`: $! is then berth itself, not a subshell around it.
ebberth() { exec "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" "$@"; }

# pty STEP... -- berth ARGS: berth (this test's store) in a fresh pty.
pty() {
  local steps=()
  while [ "$1" != -- ]; do steps+=("$1"); shift; done
  shift
  run "$PYTHON" "$PTYRUN" --timeout 30 "${steps[@]}" -- "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" "$@"
}

# The same in the background, output in $BATS_TEST_TMPDIR/$1; sets PTY_PID.
pty_bg() {
  local out=$1 steps=()
  shift
  while [ "$1" != -- ]; do steps+=("$1"); shift; done
  shift
  "$PYTHON" "$PTYRUN" --timeout 60 "${steps[@]}" -- "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" "$@" \
    >"$BATS_TEST_TMPDIR/$out" 2>&1 &
  PTY_PID=$!
  BG_PIDS="${BG_PIDS:-} $PTY_PID"
}

# Wait until N clients have attached to container C (the attach events).
wait_attached() {
  local i
  for i in $(seq 300); do
    [ "$(bberth events --since 0 --until "$(date +%s.%N)" -f event=attach -f container="$1" | wc -l)" -ge "$2" ] &&
      return 0
    sleep 0.1
  done
  fail "$1 never had $2 attach clients"
}

@test "attach: two clients on one terminal see the same output, both type, ctrl-p ctrl-q detaches only one" {
  run berth run -dit --name mm busybox sh
  assert_success
  # A waits for B's line, then types its own, then waits for a third client's
  pty_bg a 'send:\r' "expect:$PROMPT" 'expect:from-b-4\n' 'send:echo from-a-$((1+1))\r' 'expect:from-a-2\n' \
    'expect:from-c-6\n' exit -- attach mm
  a=$PTY_PID
  wait_attached mm 1
  # B types, sees its output and A's, then detaches: only B goes
  pty 'send:echo from-b-$((2+2))\r' 'expect:from-b-4\n' 'expect:from-a-2\n' 'send:\x10\x11' -- attach mm
  assert_success
  assert_output --regexp $'read escape sequence\nptyrun: exit 1$'
  assert_line 'ptyrun: exit 1'
  run berth inspect -f '{{.State.Running}}' mm
  assert_output true
  # a third client: A still gets everything, and the container's exit ends A too
  pty 'send:echo from-c-$((3+3))\r' 'expect:from-c-6\n' 'send:exit 7\r' -- attach mm
  assert_success
  assert_line 'ptyrun: exit 7'
  wait "$a"
  run cat "$BATS_TEST_TMPDIR/a"
  assert_line --partial 'from-b-4'
  assert_line --partial 'from-a-2'
  assert_line --partial 'from-c-6'
  assert_line 'ptyrun: exit 7'
  wait_for_inspect mm '{{.State.Status}} {{.State.ExitCode}}' 'exited 7'
}

@test "attach: two clients without a terminal get the same stdout and stderr, apart" {
  run berth run -d -i --name pp busybox sh -c 'while read l; do echo "out $l"; echo "err $l" >&2; done'
  for c in 1 2; do
    mkfifo "$BATS_TEST_TMPDIR/in$c"
    ebberth attach pp <"$BATS_TEST_TMPDIR/in$c" >"$BATS_TEST_TMPDIR/out$c" 2>"$BATS_TEST_TMPDIR/err$c" &
    BG_PIDS="${BG_PIDS:-} $!"
    exec {fd}>"$BATS_TEST_TMPDIR/in$c"
    eval "w$c=$fd"
  done
  wait_attached pp 2
  echo one >&"$w1"
  wait_for_line "$BATS_TEST_TMPDIR/out2" '^out one$'
  echo two >&"$w2"
  wait_for_line "$BATS_TEST_TMPDIR/out1" '^out two$'
  # client 1's end of input does not close the container's stdin (no StdinOnce with run -d)
  exec {w1}>&-
  echo three >&"$w2"
  wait_for_line "$BATS_TEST_TMPDIR/out1" '^out three$'
  exec {w2}>&-
  run berth stop -t 1 pp
  for c in 1 2; do
    run cat "$BATS_TEST_TMPDIR/out$c"
    assert_output $'out one\nout two\nout three'
    run cat "$BATS_TEST_TMPDIR/err$c"
    assert_output $'err one\nerr two\nerr three'
  done
}

@test "attach --no-stdin: input stays with the client; without it, it reaches the container" {
  run berth run -d -i --name ns busybox sh -c 'read l; echo "got $l"'
  ebberth attach --no-stdin ns <<<"not-for-you" >"$BATS_TEST_TMPDIR/out" 2>&1 &
  BG_PIDS="${BG_PIDS:-} $!"
  nostdin=$!
  wait_attached ns 1
  run berth attach ns <<<"for-you"
  assert_success
  assert_output 'got for-you'
  wait "$nostdin"
  run cat "$BATS_TEST_TMPDIR/out"
  assert_output 'got for-you'
}

@test "attach --sig-proxy (default): signals reach the container; --sig-proxy=false: they end only the client" {
  run berth run -d --name sp busybox sh -c \
    'trap "echo got-usr1" USR1; trap "exit 42" TERM; while :; do echo tick; sleep 0.1; done'
  wait_for_inspect sp '{{.State.Running}}' true
  # a client that prints ticks has its relay (and its signal handlers) running
  ebberth attach sp >"$BATS_TEST_TMPDIR/proxy" 2>&1 &
  proxy=$!
  BG_PIDS="${BG_PIDS:-} $proxy"
  wait_for_line "$BATS_TEST_TMPDIR/proxy" '^tick$'
  ebberth attach --sig-proxy=false sp >"$BATS_TEST_TMPDIR/noproxy" 2>&1 &
  noproxy=$!
  BG_PIDS="${BG_PIDS:-} $noproxy"
  wait_for_line "$BATS_TEST_TMPDIR/noproxy" '^tick$'
  kill -USR1 "$proxy"
  wait_for_line "$BATS_TEST_TMPDIR/noproxy" '^got-usr1$'
  # not proxied: the client dies of it, the container runs on
  kill -TERM "$noproxy"
  st=0
  wait "$noproxy" || st=$?
  assert_equal "$st" 143
  run berth inspect -f '{{.State.Running}}' sp
  assert_output true
  kill -TERM "$proxy"
  st=0
  wait "$proxy" || st=$?
  assert_equal "$st" 42
  wait_for_inspect sp '{{.State.Status}} {{.State.ExitCode}}' 'exited 42'
}

@test "attach with a terminal: signals are not proxied (docker), ctrl-c goes through the terminal" {
  run berth run -dit --name tsp busybox sh
  pty 'send:\r' "expect:$PROMPT" 'send:sleep 1000\r' 'sleep:0.3' 'send:\x03' "expect:$PROMPT" \
    'send:echo still-$((4+4))\r' 'expect:still-8' 'send:\x10\x11' -- attach tsp
  assert_success
  assert_line 'ptyrun: exit 1'
  run berth inspect -f '{{.State.Running}}' tsp
  assert_output true
}

@test "attach --detach-keys: the given sequence detaches, the default one goes to the container" {
  run berth run -dit --name dk busybox sh
  pty 'send:\r' "expect:$PROMPT" 'send:\x10\x11echo passed-$((5+5))\r' 'expect:passed-10' "expect:$PROMPT" \
    'send:\x18y' -- attach --detach-keys ctrl-x,y dk
  assert_success
  assert_output --regexp $'read escape sequence\nptyrun: exit 1$'
  assert_line 'ptyrun: exit 1'
  run berth inspect -f '{{.State.Running}}' dk
  assert_output true
  run berth attach --detach-keys ctrl-,x dk
  assert_failure 1
  assert_output --partial 'Invalid detach keys (ctrl-,x) provided'
}

@test "run -it --detach-keys: detaches the run client, attach picks the terminal up again" {
  pty "expect:$PROMPT" 'send:echo first\r' 'expect:first\n' 'send:\x01d' -- run -it --detach-keys ctrl-a,d --name rk busybox sh
  assert_success
  assert_line 'ptyrun: exit 0'
  run berth inspect -f '{{.State.Running}}' rk
  assert_output true
  pty 'send:\r' "expect:$PROMPT" 'send:exit 3\r' -- attach rk
  assert_line 'ptyrun: exit 3'
}

@test "attach to a created or exited container: docker's refusal; to a missing one: no such container" {
  run berth create --name cr busybox true
  run berth attach cr
  assert_failure 1
  assert_output 'Error: You cannot attach to a stopped container, start it first'
  run berth start -a cr
  assert_success
  run berth attach cr
  assert_failure 1
  assert_output 'Error: You cannot attach to a stopped container, start it first'
  run berth attach nosuch
  assert_failure 1
  assert_output 'Error: No such container: nosuch'
  run berth attach
  assert_failure 1
  assert_output --partial "'berth attach' requires 1 argument"
}
