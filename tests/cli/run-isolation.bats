#!/usr/bin/env bats
# Isolation of `berth run` against real containers: capabilities, masked and
# read-only paths, /dev, seccomp, resources, users, namespaces, the process's
# setup flags and the exit-code table (security.md section 2, issue 3).

load helpers

setup() { container_setup; }
teardown() { container_teardown; }

# One capability line (CapPrm, CapEff, ...) of the container's pid 1.
cap_of() {
  sed -n "s/^$1:[[:space:]]*//p" <<<"$2"
}

# ---- capabilities -------------------------------------------------------------

@test "run: docker's default capability sets, inheritable and ambient empty" {
  bootstrap_busybox
  run berth run --rm busybox grep ^Cap /proc/self/status
  assert_success
  [ "$(cap_of CapPrm "$output")" = 00000000a80425fb ]
  [ "$(cap_of CapEff "$output")" = 00000000a80425fb ]
  [ "$(cap_of CapBnd "$output")" = 00000000a80425fb ]
  [ "$(cap_of CapInh "$output")" = 0000000000000000 ]
  [ "$(cap_of CapAmb "$output")" = 0000000000000000 ]
}

@test "run: --cap-add and --cap-drop take names with and without CAP_, any case, and ALL" {
  bootstrap_busybox
  # SYS_ADMIN is bit 21, CHOWN bit 0, NET_RAW bit 13
  run berth run --rm --cap-add SYS_ADMIN --cap-drop cap_chown busybox grep ^CapEff /proc/self/status
  assert_success
  assert_output --regexp '00000000a82425fa$'
  run berth run --rm --cap-add CAP_SYS_ADMIN busybox grep ^CapBnd /proc/self/status
  assert_output --regexp '00000000a82425fb$'
  run berth run --rm --cap-drop ALL busybox grep ^CapEff /proc/self/status
  assert_output --regexp '0000000000000000$'
  run berth run --rm --cap-drop all --cap-add net_raw busybox grep ^CapPrm /proc/self/status
  assert_output --regexp '0000000000002000$'
  # ALL is every capability of the host's bounding set, less the named drops
  local host
  host=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
  run berth run --rm --cap-add ALL busybox grep ^CapBnd /proc/self/status
  assert_output --regexp "$host\$"
  run berth run --rm --cap-add ALL --cap-drop MKNOD busybox grep ^CapEff /proc/self/status
  assert_output --regexp "$(printf '%016x' $((0x$host & ~(1 << 27))))\$"
  run berth run --rm --cap-add NO_SUCH_CAP busybox true
  assert_failure 125
  assert_output --partial 'unknown capability: "NO_SUCH_CAP"'
}

@test "run: a non-root user has no permitted, effective or ambient capability (-u 1000)" {
  bootstrap_busybox
  run berth run --rm -u 1000 busybox grep ^Cap /proc/self/status
  assert_success
  [ "$(cap_of CapPrm "$output")" = 0000000000000000 ]
  [ "$(cap_of CapEff "$output")" = 0000000000000000 ]
  [ "$(cap_of CapAmb "$output")" = 0000000000000000 ]
  [ "$(cap_of CapInh "$output")" = 0000000000000000 ]
}

@test "run: --privileged has every capability of the host's bounding set, rw /sys, no masks, no seccomp" {
  bootstrap_busybox
  local host
  host=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
  run berth run --rm --privileged busybox sh -c 'grep -E "^(Cap|Seccomp:)" /proc/self/status; grep -E " /sys (sysfs|cgroup)" /proc/mounts; grep -c " /proc/" /proc/mounts; ls /dev; cat /sys/fs/cgroup/devices/devices.list 2>/dev/null; true'
  assert_success
  [ "$(cap_of CapPrm "$output")" = "$host" ]
  [ "$(cap_of CapEff "$output")" = "$host" ]
  [ "$(cap_of CapBnd "$output")" = "$host" ]
  [ "$(cap_of CapInh "$output")" = 0000000000000000 ]
  [ "$(cap_of CapAmb "$output")" = 0000000000000000 ]
  [ "$(cap_of Seccomp "$output")" = 0 ]
  assert_line --regexp '^sysfs /sys sysfs rw,'
  assert_line 0 # nothing masked or remounted below /proc
  # every host device, and all of them allowed
  [ ! -e /dev/kmsg ] || assert_line kmsg
  [ ! -e /sys/fs/cgroup/devices/devices.list ] || assert_line 'a *:* rwm'
}

# ---- masked and read-only paths, /sys, cgroupfs ---------------------------------

@test "run: masked paths read empty (files are the null device, directories empty tmpfs)" {
  bootstrap_busybox
  local p script=''
  for p in /proc/asound /proc/acpi /proc/interrupts /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list \
    /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware /sys/devices/virtual/powercap; do
    if [ -d "$p" ]; then
      script+="echo $p \$(ls -A $p | wc -l);"
    elif [ -e "$p" ]; then
      script+="echo $p \$(stat -c %t:%T $p) \$(cat $p | wc -c);"
    fi
  done
  [ -n "$script" ] || skip "the host has none of the masked paths"
  run berth run --rm busybox sh -c "$script"
  assert_success
  while read -r p rest; do
    if [ -d "$p" ]; then
      [ "$rest" = 0 ] || fail "$p is not empty in the container: $rest"
    else
      [ "$rest" = "1:3 0" ] || fail "$p is not the null device in the container: $rest"
    fi
  done <<<"$output"
  # /proc/kcore: when the host has one, it reads empty
  if [ -e /proc/kcore ]; then
    run berth run --rm busybox sh -c 'cat /proc/kcore | wc -c'
    assert_output 0
  fi
}

@test "run: /proc/sys and the other read-only paths refuse writes" {
  bootstrap_busybox
  run berth run --rm busybox sh -c 'echo x > /proc/sys/kernel/domainname'
  assert_failure
  assert_output --partial 'Read-only file system'
  run berth run --rm busybox sh -c 'grep -E " /proc/(sys|bus|fs|irq|sysrq-trigger) " /proc/mounts'
  assert_success
  assert_line --regexp '^proc /proc/sys proc ro,'
  refute_line --regexp ' rw,'
}

@test "run: /sys and every cgroup hierarchy are read-only (CVE-2023-25809)" {
  bootstrap_busybox
  run berth run --rm busybox sh -c 'grep -E " /sys(/fs/cgroup[^ ]*)? " /proc/mounts; mkdir /sys/fs/cgroup/memory/x'
  assert_failure
  assert_line --regexp '^sysfs /sys sysfs ro,'
  assert_line --regexp ' /sys/fs/cgroup (tmpfs|cgroup2) ro,'
  refute_line --regexp ' /sys[^ ]* [^ ]+ rw,'
  assert_output --partial 'Read-only file system'
}

# ---- /dev ---------------------------------------------------------------------

@test "run: /dev holds the default nodes, pts, shm, mqueue and no host device" {
  bootstrap_busybox
  run berth run --rm busybox sh -c 'cd /dev && for f in *; do if [ -L $f ]; then echo "$f -> $(readlink $f)"; elif [ -c $f ]; then echo "$f c $(stat -c %t:%T $f)"; else echo "$f $(stat -c %F $f)"; fi; done'
  assert_success
  assert_line 'null c 1:3'
  assert_line 'zero c 1:5'
  assert_line 'full c 1:7'
  assert_line 'random c 1:8'
  assert_line 'urandom c 1:9'
  assert_line 'tty c 5:0'
  assert_line 'ptmx -> pts/ptmx'
  assert_line 'fd -> /proc/self/fd'
  assert_line 'pts directory'
  assert_line 'shm directory'
  assert_line 'mqueue directory'
  # and nothing else that is a device
  [ "$(grep -c ' c ' <<<"$output")" -eq 6 ] || fail "unexpected devices: $output"
  refute_line --regexp '^(console|kmsg|mem|vda|sda|loop)'
  run berth run --rm busybox sh -c 'grep -E " /dev/(pts|shm|mqueue) " /proc/mounts'
  assert_line --regexp '^devpts /dev/pts devpts '
  assert_line --regexp ' /dev/shm tmpfs '
  assert_line --regexp '^mqueue /dev/mqueue mqueue '
}

@test "run -t: /dev/console is the container's pty (char 136:N)" {
  requires script
  bootstrap_busybox
  run script -qec "$BERTH --root $TEST_ROOT --runroot $TEST_RUNROOT run --rm -t busybox sh -c 'stat -c \"%F %t %T\" /dev/console; tty'" /dev/null
  assert_success
  assert_output --regexp 'character special file 88 [0-9a-f]+' # 0x88 = 136
  assert_output --partial '/dev/pts/'
}

# ---- seccomp and no-new-privileges ----------------------------------------------

@test "run: the default seccomp profile refuses keyctl, add_key, unshare(CLONE_NEWUSER), AF_ALG (CVE-2026-31431), mount" {
  make_probe_image probe
  run berth run --rm probe sh -c 'for s in keyctl add-key unshare-user socket-alg mount-tmpfs; do echo "$s $(berth-probe sys $s)"; done'
  assert_success
  assert_line 'keyctl EPERM'
  assert_line 'add-key EPERM'
  assert_line 'unshare-user EPERM'
  assert_line 'socket-alg EPERM'
  assert_line 'mount-tmpfs EPERM'
}

@test "run: seccomp=unconfined and --privileged let those syscalls through" {
  make_probe_image probe
  local opt
  for opt in "--security-opt seccomp=unconfined" --privileged; do
    run berth run --rm $opt probe sh -c 'for s in keyctl add-key unshare-user socket-alg; do echo "$s $(berth-probe sys $s)"; done; grep ^Seccomp: /proc/self/status'
    assert_success
    refute_line --regexp ' EPERM$'
    assert_line --regexp '^Seccomp:[[:space:]]+0$'
  done
}

@test "run: --security-opt seccomp=FILE.json applies a docker-format profile" {
  make_probe_image probe
  cat >"$BATS_TEST_TMPDIR/profile.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
EOF
  run berth run --rm --security-opt "seccomp=$BATS_TEST_TMPDIR/profile.json" probe sh -c 'mkdir /made; echo "mkdir $?"; echo "keyctl $(berth-probe sys keyctl)"; grep ^Seccomp: /proc/self/status'
  assert_success
  assert_line 'mkdir 1'
  assert_output --partial 'Operation not permitted'
  refute_line 'keyctl EPERM' # the profile allows what it does not name
  assert_line --regexp '^Seccomp:[[:space:]]+2$'
  run berth run --rm --security-opt "seccomp=$BATS_TEST_TMPDIR/missing.json" probe true
  assert_failure 125
  assert_output --partial 'missing.json'
}

@test "run: --security-opt no-new-privileges sets NoNewPrivs, the default does not" {
  bootstrap_busybox
  run berth run --rm --security-opt no-new-privileges busybox grep ^NoNewPrivs /proc/self/status
  assert_success
  assert_output --regexp '1$'
  run berth run --rm busybox grep ^NoNewPrivs /proc/self/status
  assert_output --regexp '0$'
}

# ---- resources ------------------------------------------------------------------

@test "run: --memory OOM-kills, exit 137 and State.OOMKilled true" {
  bootstrap_busybox
  run berth run --name oom -m 8m busybox tail /dev/zero
  assert_failure 137
  run berth inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}} {{.State.Status}}' oom
  assert_output 'true 137 exited'
  run berth run --name fine -m 64m busybox true
  assert_success
  run berth inspect -f '{{.State.OOMKilled}}' fine
  assert_output false
}

@test "run: --pids-limit is reached (forks fail)" {
  bootstrap_busybox
  # the shell gives up at the first fork that fails
  run berth run --rm --pids-limit 8 busybox sh -c 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i + 1)); done; echo "forked $i"'
  assert_failure
  assert_output --partial "can't fork"
  assert_line 8
  refute_output --partial forked
}

# The container's own cgroup file, read inside (v1: one hierarchy per
# controller; v2: one directory).
cg_read() {
  echo "for f in $*; do for d in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do [ -f \$d\$f ] && { echo \"\$f \$(cat \$d\$f)\"; break; }; done; done; true"
}

@test "run: --cpus, --cpu-shares, --cpuset-cpus, --memory, --memory-swap reach the container's cgroup" {
  bootstrap_busybox
  run berth run --rm --cpus 0.5 --cpu-shares 512 --cpuset-cpus 0 -m 64m --memory-swap 128m busybox sh -c \
    "$(cg_read cpu.cfs_quota_us cpu.cfs_period_us cpu.shares cpu.max cpu.weight cpuset.cpus memory.limit_in_bytes memory.memsw.limit_in_bytes memory.max memory.swap.max)"
  assert_success
  if grep -q '^cpu.max' <<<"$output"; then
    assert_line 'cpu.max 50000 100000'
    assert_line 'memory.max 67108864'
    assert_line 'memory.swap.max 67108864'
  else
    assert_line 'cpu.cfs_quota_us 50000'
    assert_line 'cpu.cfs_period_us 100000'
    assert_line 'cpu.shares 512'
    assert_line 'memory.limit_in_bytes 67108864'
    [ ! -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ] || assert_line 'memory.memsw.limit_in_bytes 134217728'
  fi
  assert_line 'cpuset.cpus 0'
}

@test "run --device-read-bps|write-bps|read-iops|write-iops and --blkio-weight reach the block I/O cgroup" {
  bootstrap_busybox
  local disk dev
  disk=$(lsblk -dnpo NAME,TYPE 2>/dev/null | awk '$2 == "disk" { print $1; exit }')
  [ -n "$disk" ] || skip "the host has no disk"
  dev=$(lsblk -dno MAJ:MIN "$disk" | tr -d ' ')
  run berth run --rm --network none --device-read-bps "$disk:1mb" --device-write-bps "$disk:2048" \
    --device-read-iops "$disk:100" --device-write-iops "$disk:50" busybox sh -c \
    "$(cg_read blkio.throttle.read_bps_device blkio.throttle.write_bps_device blkio.throttle.read_iops_device blkio.throttle.write_iops_device io.max)"
  assert_success
  if grep -q '^io.max' <<<"$output"; then
    assert_line "io.max $dev rbps=1048576 wbps=2048 riops=100 wiops=50"
  else
    assert_line "blkio.throttle.read_bps_device $dev 1048576"
    assert_line "blkio.throttle.write_bps_device $dev 2048"
    assert_line "blkio.throttle.read_iops_device $dev 100"
    assert_line "blkio.throttle.write_iops_device $dev 50"
  fi
  run berth run --rm --network none --blkio-weight 300 busybox sh -c "$(cg_read blkio.weight blkio.bfq.weight io.weight io.bfq.weight)"
  if [ "$status" -eq 0 ]; then
    assert_output --regexp '^(blkio\.weight 300|blkio\.bfq\.weight 300|io\.bfq\.weight default 300|io\.weight default [0-9]+)'
  else # a scheduler without weights: the error says so
    assert_output --partial "--blkio-weight: this kernel's block I/O scheduler has no weight"
  fi
  run berth run --rm --device-read-bps /dev/null:1mb busybox true
  assert_failure 125
  assert_output --partial "/dev/null is not a block device"
  run berth run --rm --device-read-bps "$disk:fast" busybox true
  assert_failure 125
  assert_output --partial "invalid rate for device: $disk:fast"
  run berth run --rm --device-write-iops "$disk:-1" busybox true
  assert_failure 125
  run berth run --rm --blkio-weight 5 busybox true
  assert_failure 125
  assert_output --partial "must be between 10 and 1000"
}

@test "run: --shm-size sizes /dev/shm (64 MiB by default)" {
  bootstrap_busybox
  run berth run --rm --shm-size 100m busybox df -k /dev/shm
  assert_success
  assert_line --regexp '^shm +102400 '
  run berth run --rm busybox df -k /dev/shm
  assert_line --regexp '^shm +65536 '
}

@test "run: --ulimit nofile=100:200" {
  bootstrap_busybox
  run berth run --rm --ulimit nofile=100:200 busybox sh -c 'ulimit -n; ulimit -Hn'
  assert_success
  assert_output $'100\n200'
}

# ---- users ----------------------------------------------------------------------

users_image() {
  make_probe_image users \
    'etc/passwd=root:x:0:0:root:/root:/bin/sh
bob:x:1001:1002:Bob:/home/bob:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
' \
    'etc/group=root:x:0:
staff:x:50:bob
bobs:x:1002:
audio:x:29:
nogroup:x:65534:
'
}

@test "run -u: uid, uid:gid, name, name:group, --group-add, HOME from passwd" {
  users_image
  run berth run --rm -u 1000 users sh -c 'id -u; id -g; echo $HOME'
  assert_success
  assert_output $'1000\n0\n/'
  run berth run --rm -u 1000:1000 users sh -c 'id -u; id -g'
  assert_output $'1000\n1000'
  run berth run --rm -u bob users sh -c 'id -u; id -g; id -G; echo $HOME'
  assert_success
  assert_output $'1001\n1002\n1002 50\n/home/bob'
  run berth run --rm -u bob:audio users sh -c 'id -u; id -g'
  assert_output $'1001\n29'
  run berth run --rm -u 1001 --group-add audio --group-add 4242 users id -G
  assert_success
  assert_output --regexp '(^| )29( |$)'
  assert_output --regexp '(^| )4242( |$)'
  run berth run --rm users sh -c 'id -u; echo $HOME'
  assert_output $'0\n/root'
  run berth run --rm -u nosuchuser users true
  assert_failure
  assert_output --partial 'unable to find user nosuchuser: no matching entries in passwd file'
  run berth run --rm -u bob:nosuchgroup users true
  assert_failure
  assert_output --partial 'unable to find group nosuchgroup'
}

# ---- process settings ---------------------------------------------------------------

@test "run -w: the working directory, created when missing" {
  bootstrap_busybox
  run berth run --rm -w /a/b/c busybox pwd
  assert_success
  assert_output /a/b/c
  run berth run --rm -w relative busybox pwd
  assert_failure 125
}

@test "run -e and --env-file set the environment; PATH, HOSTNAME and HOME are there" {
  bootstrap_busybox
  printf 'FROMFILE=yes\n# comment\nOVER=file\n' >"$BATS_TEST_TMPDIR/env"
  run berth run --rm --env-file "$BATS_TEST_TMPDIR/env" -e OVER=flag -e A=1 busybox env
  assert_success
  assert_line A=1
  assert_line FROMFILE=yes
  assert_line OVER=flag
  assert_line --regexp '^PATH=/usr/local/sbin:'
  assert_line --regexp '^HOSTNAME=[0-9a-f]{12}$'
  assert_line HOME=/root
}

@test "run --entrypoint replaces the image's, and \"\" resets it" {
  make_probe_image ep
  berth rmi ep >/dev/null
  tar -C "$BATS_TEST_TMPDIR/rootfs-ep" -c . | berth import --change 'ENTRYPOINT ["echo", "from-entrypoint"]' --change 'CMD ["cmd"]' - ep >/dev/null
  run berth run --rm ep
  assert_output 'from-entrypoint cmd'
  run berth run --rm --entrypoint /bin/echo ep other
  assert_output other
  run berth run --rm --entrypoint "" ep echo reset
  assert_output reset
}

@test "run --hostname, and the default: the first 12 characters of the id" {
  bootstrap_busybox
  run berth run --rm --hostname box.example busybox sh -c 'hostname; echo $HOSTNAME'
  assert_output $'box.example\nbox.example'
  run berth run --name hn busybox hostname
  assert_success
  local id
  id=$(berth inspect -f '{{.Id}}' hn)
  assert_output "${id:0:12}"
}

@test "run --read-only: writes to / fail, --tmpfs /tmp stays writable" {
  bootstrap_busybox
  run berth run --rm --read-only --tmpfs /tmp busybox sh -c 'touch /x; echo "root $?"; touch /tmp/x && echo tmp ok'
  assert_success
  assert_line 'root 1'
  assert_output --partial 'Read-only file system'
  assert_line 'tmp ok'
}

@test "run --tmpfs with options: size, mode, noexec by default" {
  bootstrap_busybox
  run berth run --rm --tmpfs /scratch:size=1m,mode=1770 busybox sh -c 'grep " /scratch " /proc/mounts; stat -c %a /scratch'
  assert_success
  assert_line --regexp '^tmpfs /scratch tmpfs rw,nosuid,nodev,noexec,.*size=1024k'
  assert_line 1770
  run berth run --rm --tmpfs /scratch:exec busybox grep ' /scratch ' /proc/mounts
  refute_output --partial noexec
}

@test "run --init: pid 1 is berth's init, it reaps orphans and passes the signal's status" {
  bootstrap_busybox
  run berth run --rm --init busybox sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; readlink /proc/1/exe'
  assert_success
  assert_line --regexp '^/dev/init -- sh -c '
  # an orphan is reparented to pid 1 and reaped: no zombie stays
  run berth run --rm --init busybox sh -c '(sh -c "exit 0" &); for i in $(seq 100); do ps -o stat | grep -q "^Z" || { echo reaped; exit 0; }; sleep 0.1; done; ps -o pid,stat,comm'
  assert_output reaped
  run berth run --rm --init busybox sh -c 'kill -9 $$'
  assert_failure 137
}

# The namespace inode of NS in a container started with OPTS.
ns_of() {
  local ns=$1
  shift
  berth run --rm "$@" busybox readlink /proc/self/ns/$ns
}

@test "run --ipc host|private|shareable|container:X" {
  bootstrap_busybox
  [ "$(ns_of ipc --ipc host)" = "$(readlink /proc/self/ns/ipc)" ]
  [ "$(ns_of ipc --ipc private)" != "$(readlink /proc/self/ns/ipc)" ]
  run berth run -d --name shared --ipc shareable busybox sh -c 'touch /dev/shm/marker; sleep 60'
  assert_success
  wait_for_inspect shared '{{.State.Running}}' true
  local pid
  pid=$(berth inspect -f '{{.State.Pid}}' shared)
  [ "$(ns_of ipc --ipc container:shared)" = "$(readlink /proc/$pid/ns/ipc)" ]
  # its /dev/shm is shared too
  for i in $(seq 100); do [ -e /proc/$pid/root/dev/shm/marker ] && break; sleep 0.1; done
  run berth run --rm --ipc container:shared busybox sh -c 'ls /dev/shm; touch /dev/shm/back'
  assert_success
  assert_output marker
  [ -e /proc/$pid/root/dev/shm/back ]
  run berth run --rm --ipc container:nosuch busybox true
  assert_failure 125
}

@test "run --pid host|container:X" {
  bootstrap_busybox
  [ "$(ns_of pid --pid host)" = "$(readlink /proc/self/ns/pid)" ]
  [ "$(ns_of pid)" != "$(readlink /proc/self/ns/pid)" ]
  run berth run -d --name target busybox sleep 60
  assert_success
  wait_for_inspect target '{{.State.Running}}' true
  local pid
  pid=$(berth inspect -f '{{.State.Pid}}' target)
  [ "$(ns_of pid --pid container:target)" = "$(readlink /proc/$pid/ns/pid)" ]
  run berth run --rm --pid container:target busybox ps -o pid,comm
  assert_line --regexp '^ +1 sleep$'
}

@test "run --uts host shares the host's UTS namespace; the default does not" {
  bootstrap_busybox
  [ "$(ns_of uts --uts host)" = "$(readlink /proc/self/ns/uts)" ]
  [ "$(ns_of uts)" != "$(readlink /proc/self/ns/uts)" ]
  run berth run --rm --uts host busybox hostname
  assert_output "$(hostname)"
}

@test "run --device: the node and its rules in the device cgroup" {
  bootstrap_busybox
  run berth run --rm --device /dev/null:/dev/mynull busybox sh -c 'stat -c "%F %t:%T" /dev/mynull; echo hi > /dev/mynull && echo wrote'
  assert_success
  assert_line 'character special file 1:3'
  assert_line wrote
  [ -c /dev/kmsg ] || skip "the host has no /dev/kmsg"
  run berth run --rm --device /dev/kmsg:/dev/mykmsg:r busybox sh -c 'cat /sys/fs/cgroup/devices/devices.list 2>/dev/null; echo x > /dev/mykmsg'
  assert_failure
  assert_output --partial 'Operation not permitted'
  [ ! -e /sys/fs/cgroup/devices/devices.list ] || assert_line 'c 1:11 r'
  # without --device the node can be made (CAP_MKNOD) but not opened
  run berth run --rm busybox sh -c 'mknod /tmp/k c 1:11 2>/dev/null || mknod /tmp/k c 1 11; cat /tmp/k'
  assert_failure
  assert_output --partial 'Operation not permitted'
}

@test "run --cgroup-parent, --cgroupns, --memory-swappiness, --device-cgroup-rule, --annotation" {
  bootstrap_busybox
  local id pid dir
  # relative: below the caller's own cgroup, as the tests' parent is
  id=$(berth run -d --cgroup-parent "$BERTH_CGROUP_PARENT/custom" --memory-swappiness 7 -m 64m busybox sleep 1000)
  pid=$(berth inspect -f '{{.State.Pid}}' "$id")
  run grep -c "/$BERTH_CGROUP_PARENT/custom/$id\$" "/proc/$pid/cgroup"
  [ "$output" -ge 1 ]
  dir=$(awk -F: '$2 == "memory" { print $3 }' "/proc/$pid/cgroup")
  if [ -n "$dir" ]; then # cgroup v1 has swappiness
    run cat "/sys/fs/cgroup/memory$dir/memory.swappiness"
    assert_output 7
  fi
  berth rm -f "$id" >/dev/null
  run berth run --rm --cgroupns private busybox cat /proc/self/cgroup
  assert_success
  refute_output --partial "$BERTH_CGROUP_PARENT"
  run berth run --rm --cgroupns host busybox cat /proc/self/cgroup
  assert_output --partial "$BERTH_CGROUP_PARENT"
  run berth run --rm --cgroupns bogus busybox true
  assert_failure 125
  assert_output --partial -- "--cgroupns: invalid CGROUP mode"
  # a node made in the container (/dev/kmsg's numbers, opened for writing,
  # nothing written) opens only with a rule for it
  run berth run --rm --device-cgroup-rule 'c 1:11 rmw' busybox sh -c 'mknod /tmp/k c 1 11 && exec 3>/tmp/k && echo opened'
  assert_output opened
  run berth run --rm busybox sh -c 'mknod /tmp/k c 1 11 && exec 3>/tmp/k && echo opened'
  assert_output --partial 'Operation not permitted'
  run berth run --rm --device-cgroup-rule 'x 1 rwm' busybox true
  assert_failure 125
  assert_output --partial "invalid device cgroup rule format: 'x 1 rwm'"
  # annotations reach the OCI spec; berth's own keys cannot be given
  id=$(berth run -d --annotation com.example.k=v busybox sleep 1000)
  run berth inspect -f '{{json .HostConfig.Annotations}}' "$id"
  assert_output '{"com.example.k":"v"}'
  run jq -r '.annotations["com.example.k"]' "$TEST_RUNROOT/containers/$id/spec.json"
  assert_output v
  run berth run --rm --annotation berth.net.undo=x busybox true
  assert_failure 125
  assert_output --partial "annotation berth.net.undo: keys starting with berth. are reserved"
}

@test "run --network none has only lo; host sees the host's interfaces" {
  bootstrap_busybox
  run berth run --rm --network none busybox ls /sys/class/net
  assert_success
  assert_output lo
  run berth run --rm --network host busybox ls /sys/class/net
  assert_success
  assert_output "$(ls /sys/class/net)"
}

@test "run --label, --stop-signal, --stop-timeout show in inspect" {
  bootstrap_busybox
  run berth run --name lbl --label a=b --label c --stop-signal SIGUSR1 --stop-timeout 7 busybox true
  assert_success
  run berth inspect -f '{{json .Config.Labels}} {{.Config.StopSignal}} {{.Config.StopTimeout}}' lbl
  assert_output '{"a":"b","c":""} SIGUSR1 7'
}

# ---- exit codes and fds -------------------------------------------------------------

@test "run: the exit-code table (0, N, 125, 126, 127, 128+N)" {
  bootstrap_busybox
  run berth run --rm busybox true
  assert_success
  run berth run --rm busybox sh -c 'exit 42'
  assert_failure 42
  run berth run --rm --no-such-flag busybox true
  assert_failure 125
  run berth run --rm no-such-image true
  assert_failure 125
  run berth run --rm busybox /etc/passwd
  assert_failure 126
  assert_output --partial 'permission denied'
  run berth run --rm busybox /etc
  assert_failure 126
  run -127 berth run --rm busybox no-such-command
  assert_failure 127
  assert_output --partial 'executable file not found in $PATH'
  run -127 berth run --rm busybox /no/such/path
  # a signal from outside: SIGKILL reaches pid 1, others only through --init
  run berth run -d --name k9 busybox sleep 60
  wait_for_inspect k9 '{{.State.Running}}' true
  berth kill k9
  run berth wait k9
  assert_output 137
  run berth run -d --init --name usr1 busybox sleep 60
  wait_for_inspect usr1 '{{.State.Running}}' true
  berth kill -s USR1 usr1
  run berth wait usr1
  assert_output 138
}

@test "run: only stdin, stdout and stderr reach the command" {
  make_probe_image probe
  run berth run --rm probe berth-probe fds
  assert_success
  assert_output --regexp '^0 -> /dev/null
1 -> pipe:\[[0-9]+\]
2 -> pipe:\[[0-9]+\]$'
  run berth run --rm -t probe berth-probe fds
  [ "${#lines[@]}" -eq 3 ] || fail "more than stdio: $output"
  assert_output --partial '0 -> /dev/pts/0'
}
