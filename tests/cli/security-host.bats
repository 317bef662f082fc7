#!/usr/bin/env bats
# security.md part F (host-facing surfaces) and the check that every CVE of
# security.md maps to a test (docs/security-tests.md, scripts/security-map).

load helpers

setup() {
  container_setup
  # a store whose parents any user may traverse, so that the store's own
  # modes are what keeps a host user out
  HOSTDIR=/tmp/berth-sec-host-$$-$BATS_TEST_NUMBER
  mkdir -m 755 "$HOSTDIR"
  export TEST_ROOT=$HOSTDIR/root TEST_RUNROOT=$HOSTDIR/run
}

teardown() {
  container_teardown
  local m
  for m in $(awk -v d="$HOSTDIR" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$HOSTDIR"
}

# COMMAND as uid/gid 65534 with no capability (setpriv would keep its
# effective capabilities until the execve)
as_nobody() {
  "$PYTHON" -c 'import os, sys; os.setgroups([]); os.setgid(65534); os.setuid(65534); os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}

@test "CVE-2021-41091, CVE-2021-41103, CVE-2024-25621, CVE-2021-21284: a host user reaches no image or container file" {
  make_probe_image base
  local dir=$BATS_TEST_TMPDIR/rootfs-base
  cp "$PROBE" "$dir/suid"
  chmod 4755 "$dir/suid"
  tar -C "$dir" -c . | berth import --change 'CMD ["sh"]' - suid >/dev/null
  run berth run -d --name ctr -v vol:/data suid sh -c 'cp /suid /data/suid; cp /suid /tmp/suid; chmod 4755 /data/suid /tmp/suid; touch /ready; exec sleep 1000'
  assert_success
  local i
  for i in $(seq 100); do [ -n "$(find "$TEST_ROOT/containers" -name ready)" ] && break; sleep 0.1; done
  as_nobody ls -d "$TEST_ROOT" "$TEST_RUNROOT" >/dev/null || fail "nobody cannot even name the store"
  # the directories a host user can traverse down to: only the store roots
  run "$PYTHON" - "$TEST_ROOT" "$TEST_RUNROOT" <<'PY'
import os, stat, sys
for top in sys.argv[1:]:
    def walk(d, depth):
        st = os.lstat(d)
        if not stat.S_ISDIR(st.st_mode) or not st.st_mode & stat.S_IXOTH:
            return
        print(d)
        if depth < 4:
            for n in sorted(os.listdir(d)):
                walk(os.path.join(d, n), depth + 1)
    walk(top, 0)
PY
  assert_output "$TEST_ROOT
$TEST_RUNROOT"
  # every copy of the setuid file (layer, upper, volume) and the container's
  # root through /proc stay out of reach
  local f n=0
  while IFS= read -r f; do
    n=$((n + 1))
    run as_nobody "$f" fds
    [ "$status" -ne 0 ] || fail "nobody ran $f: $output"
    assert_output --partial "Permission denied"
  done < <(find "$TEST_ROOT" -name suid -type f)
  [ "$n" -ge 3 ] || fail "found $n copies of the setuid file"
  local pid
  pid=$(berth inspect -f '{{.State.Pid}}' ctr)
  run as_nobody ls "/proc/$pid/root/"
  assert_failure
  run as_nobody cat "$TEST_ROOT/volumes/vol/_data/suid"
  assert_failure
}

@test "CVE-2020-15257: a --network host container finds no abstract socket of berth's" {
  make_probe_image probe
  run berth run -d --name ctr --network host probe sleep 1000
  assert_success
  local inodes pid p
  # the sockets of berth's monitors (and of the container's init)
  for pid in $(pgrep -f -- "--runroot $TEST_RUNROOT ") $(berth inspect -f '{{.State.Pid}}' ctr); do
    for p in /proc/$pid/fd/*; do
      readlink "$p"
    done
  done 2>/dev/null | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | sort -u >"$BATS_TEST_TMPDIR/inodes"
  [ -s "$BATS_TEST_TMPDIR/inodes" ] || fail "no monitor socket found"
  # abstract names (@...) the container can see, by inode
  run berth exec ctr sh -c "awk 'NR > 1 && \$8 ~ /^@/ {print \$7}' /proc/net/unix"
  assert_success
  inodes=$(comm -12 "$BATS_TEST_TMPDIR/inodes" <(printf '%s\n' "$output" | sort -u))
  assert_equal "$inodes" ""
  # berth's own sockets are path sockets in directories only root may enter
  run find "$TEST_RUNROOT" -type s
  assert_output --partial attach.sock
  local s
  for s in $output; do
    [ "$(stat -c %a "$(dirname "$s")")" = 700 ] || fail "$s is in a directory of mode $(stat -c %a "$(dirname "$s")")"
  done
}

@test "every CVE of security.md maps to a test or a stated reason (scripts/security-map)" {
  local md=${SECURITY_MD:-$BERTH_SRC/../../shared/docs/security.md}
  [ -f "$md" ] || md=/work/shared/docs/security.md
  [ -f "$md" ] || skip "security.md is not here"
  run "$BERTH_SRC/scripts/security-map" --check "$md"
  assert_success
}
