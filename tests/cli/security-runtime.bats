#!/usr/bin/env bats
# Regression tests for the runtime escapes of security.md part A that apply to
# `berth run`: each test names its CVE and checks what a fixed runtime does.

load helpers

ITER=${BERTH_RACE_ITERATIONS:-200}

setup() { container_setup; }
teardown() { container_teardown; }

# A random host file the container must never read (CANARY of security.md).
make_canary() {
  CANARY=$BATS_TEST_TMPDIR/canary-$RANDOM$RANDOM
  CANARY_TEXT="canary-$RANDOM$RANDOM$RANDOM"
  echo "$CANARY_TEXT" >"$CANARY"
}

@test "CVE-2024-21626: -w /proc/self/fd/N never reaches the host (N=3..20)" {
  make_probe_image probe
  make_canary
  local n rel=../../../../../../../../..$CANARY
  for n in $(seq 3 20); do
    run berth run --rm -w /proc/self/fd/$n probe cat "$rel"
    refute_output --partial "$CANARY_TEXT"
    [ "$status" -ne 0 ] || fail "-w /proc/self/fd/$n ran: $output"
  done
  # inside, only stdio is open and the working directory is inside the root
  run berth run --rm -w /tmp probe sh -c 'berth-probe fds; berth-probe cwd'
  assert_success
  [ "${#lines[@]}" -eq 4 ] || fail "more than stdio: $output"
  assert_line /tmp
}

@test "CVE-2024-21626: a started container's init held before exec has only pipes, sockets, pty, anon inodes, memfd" {
  command -v strace >/dev/null || skip "requires strace (to hold the attaching client)"
  bootstrap_busybox
  berth create --name held busybox echo hi >/dev/null
  # the monitor holds the init before exec until the client attaches; strace
  # delays the client's connect to the attach socket
  strace -qq -o /dev/null -e trace=connect -e inject=connect:delay_enter=4000000 \
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" start -a held >/dev/null 2>&1 &
  local client=$! pid="" i
  for i in $(seq 200); do
    pid=$(berth inspect -f '{{.State.Pid}}' held)
    [ "$pid" -gt 0 ] 2>/dev/null && break
    sleep 0.02
  done
  [ "$pid" -gt 0 ] || fail "the container's init never showed"
  local cmd
  cmd=$(tr '\0' ' ' </proc/$pid/cmdline)
  run ls -l /proc/$pid/fd
  wait $client || true
  # still the monitor's clone, held before exec: the setup's own fds are there
  [[ $cmd == berth-monitor* ]] || fail "the init had already run its command: $cmd"
  [ "${#lines[@]}" -gt 1 ] || fail "no fd listed for $pid"
  local line target
  for line in "${lines[@]:1}"; do
    target=${line##* -> }
    case "$target" in
      pipe:* | socket:* | anon_inode:* | /dev/pts/* | /dev/null | /memfd:*) ;;
      *) fail "init $pid holds $target" ;;
    esac
  done
}

@test "CVE-2019-5736: a #!/proc/self/exe entry point cannot touch berth's binaries" {
  make_probe_image evil
  local dir=$BATS_TEST_TMPDIR/rootfs-evil bin before after
  berth rmi evil >/dev/null
  rm "$dir/bin/sh"
  printf '#!/proc/self/exe\n' >"$dir/bin/sh"
  chmod 755 "$dir/bin/sh"
  tar -C "$dir" -c . | berth import --change 'CMD ["/bin/sh"]' - evil >/dev/null
  local bins=("$(readlink -f "$BERTH")")
  for bin in "$BERTH_SRC"/build/cmd/berth-monitor/berth-monitor "$BERTH_SRC"/build/cmd/berth-init/berth-init; do
    [ -e "$bin" ] && bins+=("$bin")
  done
  before=$(sha256sum "${bins[@]}")
  berth run --rm evil >/dev/null 2>&1 || true
  berth run --rm evil /bin/sh -c true >/dev/null 2>&1 || true
  # a process of the container opening an exe for writing: its own, and
  # berth's init as pid 1
  run berth run --rm evil berth-probe open-write /proc/self/exe
  refute_output ok
  run berth run --rm --init evil berth-probe open-write /proc/1/exe
  refute_output ok
  run berth run --rm --init evil /bin/busybox sh -c 'for p in /proc/[0-9]*; do berth-probe open-write $p/exe; done'
  refute_line ok
  # init is a clone of the monitor until it execs the command: the monitor
  # runs from a read-only mount of its file that no write can go through
  local id mon
  id=$(berth run -d evil /bin/busybox sleep 60)
  mon=$(pgrep -f "berth-monitor.*$id")
  run "$PROBE" open-write "/proc/$mon/exe"
  refute_output ok
  run "$PYTHON" -c 'import os, sys; print(os.statvfs(sys.argv[1]).f_flag & os.ST_RDONLY != 0)' "/proc/$mon/exe"
  berth rm -f "$id" >/dev/null
  assert_output True
  after=$(sha256sum "${bins[@]}")
  [ "$before" = "$after" ] || fail "a binary changed: $before / $after"
}

@test "CVE-2022-29162, CVE-2022-24769, CVE-2022-27649, CVE-2022-27650, CVE-2022-27651, CVE-2022-27652: inheritable and ambient sets are empty for run, --cap-add and --privileged" {
  bootstrap_busybox
  local opts
  for opts in "" "--cap-add ALL" "--cap-add SYS_ADMIN" "--privileged" "-u 1000 --cap-add NET_ADMIN"; do
    run berth run --rm $opts busybox grep -E '^Cap(Inh|Amb)' /proc/self/status
    assert_success
    assert_output $'CapInh:\t0000000000000000\nCapAmb:\t0000000000000000'
  done
}

@test "CVE-2016-8867: a non-root user keeps no capability (--user 1000)" {
  bootstrap_busybox
  run berth run --rm --user 1000 busybox grep -E '^Cap(Prm|Eff|Amb)' /proc/self/status
  assert_success
  assert_output $'CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapAmb:\t0000000000000000'
}

@test "CVE-2016-3697: a numeric --user is a uid, never a name from the image's passwd" {
  make_probe_image numeric 'etc/passwd=root:x:0:0:root:/root:/bin/sh
1234:x:0:0:looks like root:/root:/bin/sh
'
  run berth run --rm --user 1234 numeric sh -c 'id -u; grep ^CapEff /proc/self/status'
  assert_success
  assert_line 1234
  assert_line $'CapEff:\t0000000000000000'
}

@test "CVE-2024-9676: /etc/passwd as /dev/zero or a FIFO gives a quick error" {
  make_probe_image zero
  local dir=$BATS_TEST_TMPDIR/rootfs-zero
  berth rmi zero >/dev/null
  rm "$dir/etc/passwd"
  ln -s /dev/zero "$dir/etc/passwd"
  tar -C "$dir" -c . | berth import - zero >/dev/null
  run timeout 20 "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run --rm -u bob zero true
  assert_failure 125
  assert_output --partial '/etc/passwd in the container is not a regular file'
  rm "$dir/etc/passwd"
  mkfifo "$dir/etc/passwd"
  tar -C "$dir" -c . | berth import - fifo >/dev/null
  run timeout 20 "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run --rm -u bob fifo true
  assert_failure 125
  assert_output --partial '/etc/passwd in the container is not a regular file'
}

@test "CVE-2025-31133, CVE-2025-52565, CVE-2026-88264, CVE-2026-88265: the image's /dev is never used: masks and console are real devices" {
  make_probe_image devtrick
  local dir=$BATS_TEST_TMPDIR/rootfs-devtrick core
  berth rmi devtrick >/dev/null
  mkdir -p "$dir/dev"
  ln -s /proc/sys/kernel/core_pattern "$dir/dev/null"
  ln -s /proc/sysrq-trigger "$dir/dev/console"
  tar -C "$dir" -c . | berth import --change 'CMD ["sh"]' - devtrick >/dev/null
  core=$(cat /proc/sys/kernel/core_pattern)
  run berth run --rm devtrick sh -c 'stat -c "%n %t:%T" /dev/null /proc/keys /proc/timer_list 2>/dev/null; echo x > /proc/sys/kernel/core_pattern'
  assert_failure
  assert_line '/dev/null 1:3'
  refute_line --regexp '^/proc/.* [^1]' # every masked file present is 1:3
  assert_output --partial 'Read-only file system'
  if command -v script >/dev/null; then
    run script -qec "$BERTH --root $TEST_ROOT --runroot $TEST_RUNROOT run --rm -t devtrick stat -c '%F %t' /dev/console" /dev/null
    assert_output --partial 'character special file 88' # 0x88 = 136
  fi
  # a host directory mounted on /dev with the same links: a clean error
  mkdir "$BATS_TEST_TMPDIR/hostdev"
  ln -s /proc/sys/kernel/core_pattern "$BATS_TEST_TMPDIR/hostdev/null"
  run berth run --rm -v "$BATS_TEST_TMPDIR/hostdev:/dev" devtrick true
  assert_failure 125
  assert_output --partial '/dev/null in the container is not the null device'
  [ "$(cat /proc/sys/kernel/core_pattern)" = "$core" ]
}

@test "CVE-2019-16884, CVE-2023-28642: /proc as a symlink fails cleanly; a junk /proc directory is covered by the real procfs" {
  make_probe_image badproc
  local dir=$BATS_TEST_TMPDIR/rootfs-badproc
  berth rmi badproc >/dev/null
  mkdir -p "$dir/bad-proc/self/attr"
  echo fake >"$dir/bad-proc/self/attr/current"
  ln -s /bad-proc "$dir/proc"
  tar -C "$dir" -c . | berth import --change 'CMD ["sh"]' - badproc >/dev/null
  run berth run --rm badproc cat /proc/self/attr/current
  assert_failure 125
  refute_output --partial fake
  assert_output --partial '/proc'
  rm "$dir/proc"
  mkdir -p "$dir/proc/self/attr" "$dir/proc/sys/kernel"
  echo fake >"$dir/proc/self/attr/current"
  echo fake >"$dir/proc/sys/kernel/core_pattern"
  tar -C "$dir" -c . | berth import --change 'CMD ["sh"]' --change 'VOLUME /proc' - junkproc >/dev/null
  run berth run --rm junkproc sh -c 'stat -f -c %T /proc; cat /proc/sys/kernel/core_pattern'
  assert_success
  assert_line proc
  refute_output --partial fake
}

@test "CVE-2021-43784: a 70 000-character bind source and a 1 MiB label give clean results" {
  bootstrap_busybox
  local long
  long=/$(head -c 70000 /dev/zero | tr '\0' a)
  run berth run --rm -v "$long:/x" busybox true
  assert_failure 125
  assert_output --partial 'File name too long'
  [ "${#output}" -lt 4096 ] || fail "an error of ${#output} bytes"
  { printf 'big='; head -c 1048576 /dev/zero | tr '\0' b; echo; } >"$BATS_TEST_TMPDIR/labels"
  run berth run --name big --label-file "$BATS_TEST_TMPDIR/labels" busybox echo ran
  assert_success
  assert_output ran
  run berth inspect -f '{{len .Config.Labels.big}}' big
  assert_output 1048576
}

@test "CVE-2025-52881: no user mount on or inside /proc but runc's lxcfs files" {
  bootstrap_busybox
  echo "MemTotal: 42 kB" >"$BATS_TEST_TMPDIR/meminfo"
  local opt
  for opt in "-v vol:/proc/sys/kernel" "-v $BATS_TEST_TMPDIR:/proc/sys" "--tmpfs /proc/fs" \
             "--mount type=tmpfs,dst=/proc/self/attr" "-v vol:/proc//sys/" "--mount type=volume,src=vol,dst=/proc/1"; do
    run berth run --rm $opt busybox echo RAN
    assert_failure 125
    refute_output --partial RAN
    assert_output --regexp '"/proc/[^"]*" cannot be mounted because it is inside /proc'
  done
  run berth run --rm --tmpfs /proc busybox echo RAN
  assert_failure 125
  assert_output --partial 'cannot be mounted to /proc because it is not of type proc'
  # what lxcfs emulates is still allowed, as with runc
  run berth run --rm -v "$BATS_TEST_TMPDIR/meminfo:/proc/meminfo:ro" busybox head -1 /proc/meminfo
  assert_success
  assert_output "MemTotal: 42 kB"
  run berth ps -aq
  assert_output ""
}

@test "CVE-2016-9962: the container's root can neither attach to nor read the fds of an exec before it runs its binary ($ITER execs)" {
  make_probe_image probe
  run berth run -d --name ctr probe sh -c 'berth-probe procscan /stop >/scan.log 2>&1 & echo $! >/scan.pid; exec sleep 1000'
  assert_success
  local i
  for i in $(seq 100); do berth exec ctr test -s /scan.pid && break; sleep 0.1; done
  for i in $(seq "$ITER"); do
    berth exec ctr true || fail "exec $i failed"
  done
  berth exec ctr touch /stop
  run berth exec ctr sh -c 'until grep -qx done /scan.log; do sleep 0.1; done; cat /scan.log'
  assert_success
  echo "attached: $(awk '/^attached/ {print $3}' <<<"$output" | sort | uniq -c | xargs)" >&3
  # the container's own processes may be attached; berth's never are
  refute_line --regexp '^attached [0-9]+ berth'
  refute_line --regexp '^fd '
}
