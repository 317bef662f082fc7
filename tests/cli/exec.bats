#!/usr/bin/env bats
# berth exec against real containers: exit codes and docker's messages, each
# flag, the namespaces, cgroup, capabilities and seccomp of the exec'd process,
# and the runtime escapes of security.md part A that apply to exec
# (CVE-2019-5736, CVE-2024-21626; empty inheritable and ambient sets, also
# with --privileged: CVE-2022-29162).  Terminals are driven through a real pty
# with tests/helpers/ptyrun.py: every wait there is on output, never timed.

load helpers

PTYRUN=$BERTH_SRC/tests/helpers/ptyrun.py

setup() {
  container_setup
  make_probe_image probe 'etc/passwd=root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
alice:x:1234:1235:Alice:/home/alice:/bin/sh
' 'etc/group=root:x:0:
nogroup:x:65534:
alice:x:1235:
staff:x:50:alice
'
}

teardown() { container_teardown; }

# A running container named ctr (CMD: sleep), with extra run flags.
start_c() {
  run berth run -d --name ctr "$@" probe sleep 1000
  assert_success
}

# ---- exit codes ---------------------------------------------------------------

@test "exec: the command's exit code (0, 1, 3, 128+signal) and its stdout and stderr apart" {
  start_c
  run berth exec ctr true
  assert_success
  run berth exec ctr false
  assert_failure 1
  run berth exec ctr sh -c 'exit 3'
  assert_failure 3
  run berth exec ctr sh -c 'kill -TERM $$'
  assert_failure 143
  run --separate-stderr berth exec ctr sh -c 'echo out; echo err >&2'
  assert_success
  assert_output out
  [ "$stderr" = err ] || fail "stderr: $stderr"
}

@test "exec: 127 for a command that does not exist, 126 for one that cannot run, with runc's messages" {
  start_c
  run -127 berth exec ctr nosuch-command
  assert_output 'OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuch-command": executable file not found in $PATH: unknown'
  run -127 berth exec ctr /no/such/file
  assert_output --partial 'exec: "/no/such/file": stat /no/such/file: no such file or directory'
  run berth exec ctr /etc
  assert_failure 126
  assert_output --partial 'exec: "/etc": is a directory'
  run berth exec ctr /etc/passwd
  assert_failure 126
  assert_output --partial 'exec: "/etc/passwd": permission denied'
  # the container is unharmed
  run berth exec ctr echo still-there
  assert_success
  assert_output still-there
}

@test "exec: no such container, not running, too few arguments" {
  run berth exec nosuch true
  assert_failure 1
  assert_output 'Error: No such container: nosuch'
  run berth create --name made probe true
  assert_success
  local id=$output
  run berth exec made true
  assert_failure 1
  assert_output "Error: Container $id is not running"
  run berth run --name ended probe true
  run berth exec ended true
  assert_failure 1
  assert_output --partial 'is not running'
  run berth exec made
  assert_failure 1
  assert_output --partial "'berth exec' requires at least 2 arguments"
}

@test "exec: a paused container refuses exec like docker" {
  berth pause --help >/dev/null 2>&1 || skip "requires berth pause (not in this tree yet)"
  start_c
  berth pause ctr
  run berth exec ctr true
  assert_failure 1
  assert_output 'Error: Container ctr is paused, unpause the container before exec'
  berth unpause ctr
  run berth exec ctr true
  assert_success
}

@test "exec: a stop ends a running exec with 137 and stops the container" {
  start_c
  berth exec ctr sleep 1000 >"$BATS_TEST_TMPDIR/out" 2>&1 &
  local client=$!
  wait_for_exec_proc 'sleep 1000' 2
  run berth stop -t 0 ctr
  assert_success
  local code=0
  wait $client || code=$?
  [ "$code" -eq 137 ] || fail "exec ended with $code: $(cat "$BATS_TEST_TMPDIR/out")"
  run berth inspect -f '{{.State.Status}}' ctr
  assert_output exited
}

# Wait until N processes of the container run CMD (from its own /proc).
wait_for_exec_proc() {
  local cmd=$1 n=$2 i
  for i in $(seq 200); do
    [ "$(berth exec ctr sh -c "ps -o args | grep -cx '$cmd'" 2>/dev/null)" -ge "$n" ] 2>/dev/null && return 0
    sleep 0.05
  done
  fail "no $n processes '$cmd' in the container"
}

# ---- flags --------------------------------------------------------------------

@test "exec -u: a name, a uid, uid:gid, name:group, with the user's groups and home" {
  start_c
  # the groups are those of `run -u` (the same resolution, in the container's files)
  run berth exec -u alice ctr id
  assert_output "$(berth run --rm -u alice probe id)"
  assert_output --regexp '^uid=1234\(alice\) gid=1235\(alice\) groups=.*50\(staff\)'
  run berth exec -u alice ctr sh -c 'echo $HOME'
  assert_output /home/alice
  run berth exec -u 1234 ctr id -u
  assert_output 1234
  run berth exec -u 4000:4001 ctr id
  assert_output --regexp '^uid=4000 gid=4001'
  run berth exec -u nobody:staff ctr id
  assert_output --regexp '^uid=65534\(nobody\) gid=50\(staff\)'
  local u
  for u in 1234 4000:4001 nobody:staff alice:0; do
    run berth exec -u $u ctr id
    assert_output "$(berth run --rm -u $u probe id)"
  done
  run berth exec -u nosuchuser ctr id
  assert_failure 126
  assert_output --partial 'unable to find user nosuchuser: no matching entries in passwd file'
  # without -u: the container's user
  run berth run -d --name c2 -u alice probe sleep 1000
  run berth exec c2 id -u
  assert_output 1234
}

@test "exec -w: the working directory, the container's by default, a missing one fails with 126" {
  start_c -w /tmp
  run berth exec ctr pwd
  assert_output /tmp
  run berth exec -w /etc ctr pwd
  assert_output /etc
  run berth exec -w /nonexistent ctr pwd
  assert_failure 126
  assert_output --partial 'chdir to cwd ("/nonexistent") set in config.json failed: no such file or directory'
}

@test "exec -e and --env-file: over the container's env, with HOSTNAME, HOME and PATH kept" {
  start_c -e FROM_RUN=run -e SHADOWED=run --hostname hosty
  printf 'FROM_FILE=file\n# comment\nSHADOWED=file\n' >"$BATS_TEST_TMPDIR/env"
  export FROM_CLIENT=client
  run berth exec --env-file "$BATS_TEST_TMPDIR/env" -e NEW=1 -e FROM_CLIENT -e UNSET_IN_CLIENT ctr env
  assert_success
  assert_line FROM_RUN=run
  assert_line SHADOWED=file
  assert_line FROM_FILE=file
  assert_line NEW=1
  assert_line FROM_CLIENT=client
  assert_line HOSTNAME=hosty
  assert_line HOME=/root
  assert_line --regexp '^PATH=/usr/local/sbin:'
  refute_line --partial UNSET_IN_CLIENT
  refute_line --partial TERM=
  run berth exec -e SHADOWED=flag --env-file "$BATS_TEST_TMPDIR/env" ctr sh -c 'echo $SHADOWED'
  assert_output flag
  run berth exec -t ctr sh -c 'echo $TERM'
  assert_output $'xterm\r'
  run berth exec --env-file "$BATS_TEST_TMPDIR/missing" ctr true
  assert_failure
  assert_output --partial "open $BATS_TEST_TMPDIR/missing: no such file or directory"
}

@test "exec -i: our stdin reaches the command and its end ends it; without -i stdin is /dev/null" {
  start_c
  run berth exec -i ctr sh -c 'cat; echo done'
  assert_output done
  run bash -c "printf 'line1\nline2\n' | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' exec -i ctr sh -c 'wc -l; echo end'"
  assert_success
  assert_output $'2\nend'
  run bash -c "echo ignored | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' exec ctr sh -c 'cat; readlink /proc/self/fd/0'"
  assert_output /dev/null
}

@test "exec -d: runs in the background and returns at once; a missing command still fails with 127" {
  start_c
  run berth exec -d ctr sh -c 'sleep 0.2; echo later >/tmp/bg'
  assert_success
  assert_output ''
  local i
  for i in $(seq 100); do
    [ "$(berth exec ctr cat /tmp/bg 2>/dev/null)" = later ] && break
    sleep 0.05
  done
  run berth exec ctr cat /tmp/bg
  assert_output later
  run -127 berth exec -d ctr nosuch-command
  assert_output --partial 'executable file not found in $PATH'
}

@test "exec -it: a real terminal of the container's devpts, sized like ours, resized, exit code" {
  start_c
  run "$PYTHON" "$PTYRUN" --timeout 30 --rows 33 --cols 101 'expect:/ # ' 'send:stty size; tty\r' \
    'expect:/dev/pts/[0-9]+' 'resize:40x120' 'send:stty size\r' 'expect:40 120' 'send:exit 5\r' -- \
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" exec -it ctr sh
  assert_success
  assert_line '33 101'
  assert_line --regexp '^/dev/pts/[0-9]+$'
  assert_line '40 120'
  assert_line 'ptyrun: exit 5'
  # the container runs on
  run berth exec ctr true
  assert_success
}

@test "exec -it --detach-keys: detaching leaves the command running" {
  start_c
  run "$PYTHON" "$PTYRUN" --timeout 30 'expect:/ # ' 'send:exec sleep 999\r' 'sleep:0.3' 'send:\x01\x02' -- \
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" exec -it --detach-keys ctrl-a,ctrl-b ctr sh
  assert_success
  assert_line 'ptyrun: exit 0'
  wait_for_exec_proc 'sleep 999' 1
  run berth exec -it ctr true
  assert_failure 1
  assert_output 'the input device is not a TTY'
}

@test "exec -t without -i: a terminal for the output" {
  start_c
  run berth exec -t ctr sh -c 'tty; echo hi'
  assert_success
  assert_line --regexp $'^/dev/pts/[0-9]+\r$'
  assert_line $'hi\r'
}

# ---- isolation ----------------------------------------------------------------

@test "exec: the process is in every namespace and the cgroup of the container's init" {
  start_c
  local pid ns
  pid=$(berth inspect -f '{{.State.Pid}}' ctr)
  berth exec -d ctr sleep 777
  wait_for_exec_proc 'sleep 777' 1
  local spid
  spid=$(pgrep -f '^sleep 777$' | head -1)
  [ -n "$spid" ] || fail "no exec process on the host"
  for ns in mnt pid net ipc uts cgroup; do
    [ "$(readlink /proc/$spid/ns/$ns)" = "$(readlink /proc/$pid/ns/$ns)" ] ||
      fail "$ns: $(readlink /proc/$spid/ns/$ns) vs init's $(readlink /proc/$pid/ns/$ns)"
  done
  diff /proc/$spid/cgroup /proc/$pid/cgroup
  [ "$(readlink /proc/$spid/root)" = / ] || true
  # from inside: the container's view, pid 1 is the container's sleep
  run berth exec ctr sh -c "tr '\\0' ' ' </proc/1/cmdline"
  assert_output 'sleep 1000 '
  run berth exec ctr cat /proc/self/cgroup
  assert_line '0::/'
}

@test "exec: the container's capabilities and seccomp; --privileged: every capability, no filter" {
  start_c --cap-drop NET_RAW
  local want
  want=$(berth run --rm --cap-drop NET_RAW probe grep -E '^(CapEff|CapBnd|Seccomp):' /proc/self/status)
  run berth exec ctr grep -E '^(CapEff|CapBnd|Seccomp):' /proc/self/status
  assert_output "$want"
  assert_line $'Seccomp:\t2'
  run berth exec ctr grep -E '^Cap(Inh|Amb):' /proc/self/status
  assert_output $'CapInh:\t0000000000000000\nCapAmb:\t0000000000000000'
  run berth exec ctr berth-probe sys unshare-mnt
  assert_output EPERM
  run berth exec --privileged ctr grep -E '^(CapEff|CapBnd|Seccomp|CapInh|CapAmb):' /proc/self/status
  assert_line "$(grep '^CapBnd:' /proc/self/status | sed 's/Bnd/Eff/')"
  assert_line "$(grep '^CapBnd:' /proc/self/status)"
  assert_line $'Seccomp:\t0'
  assert_line $'CapInh:\t0000000000000000'
  assert_line $'CapAmb:\t0000000000000000'
  # a non-root user keeps nothing, privileged or not
  run berth exec --privileged -u 1000 ctr grep -E '^Cap(Prm|Eff):' /proc/self/status
  assert_output $'CapPrm:\t0000000000000000\nCapEff:\t0000000000000000'
  # masks stay as the container has them
  [ "$(wc -c </proc/timer_list)" -gt 0 ] || skip "the host's /proc/timer_list is empty"
  run berth exec --privileged ctr sh -c 'wc -c </proc/timer_list'
  assert_output 0
}

# ---- security.md part A -------------------------------------------------------

@test "CVE-2019-5736: exec of a #!/proc/self/exe /bin/sh cannot touch berth's binaries" {
  local dir=$BATS_TEST_TMPDIR/rootfs-probe bin before after
  berth rmi probe >/dev/null
  rm "$dir/bin/sh"
  printf '#!/proc/self/exe\n' >"$dir/bin/sh"
  chmod 755 "$dir/bin/sh"
  tar -C "$dir" -c . | berth import - evil >/dev/null
  local bins=("$(readlink -f "$BERTH")")
  for bin in "$BERTH_SRC"/build/cmd/berth-monitor/berth-monitor "$BERTH_SRC"/build/cmd/berth-init/berth-init; do
    [ -e "$bin" ] && bins+=("$bin")
  done
  before=$(sha256sum "${bins[@]}")
  run berth run -d --name ctr evil /bin/busybox sleep 1000
  assert_success
  local i
  for i in $(seq 20); do
    berth exec ctr /bin/sh >/dev/null 2>&1 || true
  done
  berth exec -d ctr /bin/sh -c 'sleep 1' >/dev/null 2>&1 || true
  run berth exec ctr berth-probe open-write /proc/self/exe
  refute_output ok
  run berth exec ctr /bin/busybox sh -c 'for p in /proc/[0-9]*; do berth-probe open-write $p/exe; done'
  refute_line ok
  after=$(sha256sum "${bins[@]}")
  [ "$before" = "$after" ] || fail "a binary changed: $before / $after"
}

@test "CVE-2024-21626: exec -w /proc/self/fd/N never reaches the host (N=3..20); only stdio is open" {
  start_c
  local canary=$BATS_TEST_TMPDIR/canary-$RANDOM$RANDOM text="canary-$RANDOM$RANDOM" n
  echo "$text" >"$canary"
  for n in $(seq 3 20); do
    run berth exec -w /proc/self/fd/$n ctr cat "../../../../../../../../..$canary"
    refute_output --partial "$text"
    [ "$status" -ne 0 ] || fail "-w /proc/self/fd/$n ran: $output"
  done
  run berth exec -w /tmp ctr sh -c 'berth-probe fds; berth-probe cwd'
  assert_success
  [ "${#lines[@]}" -eq 4 ] || fail "more than stdio: $output"
  assert_line /tmp
  run berth exec -t ctr berth-probe fds
  [ "${#lines[@]}" -eq 3 ] || fail "more than the terminal: $output"
}
