#!/usr/bin/env bats
# security.md part B for cp and export: symlink-swap races in both
# directions (CVE-2018-15664), links out of the root and `..` (CVE-2019-18466),
# parents through an absolute symlink (CVE-2021-41089), magic links in the
# container's /proc, and no code from the container run or loaded on the host
# (CVE-2019-14271, CVE-2026-41567, CVE-2022-1227).  CANARY: host files the container must never reach.

load helpers

setup() {
  container_setup
  CANARY=berth-canary-$$-$BATS_TEST_NUMBER
  H=$BATS_TEST_TMPDIR/host
  mkdir -p "$H"
}

teardown() {
  container_teardown
  rm -rf "/$CANARY" "/tmp/$CANARY" "/probe-$CANARY"
}

# Wait until PATH exists in container C (up to 20 s).
wait_for_file() {
  local i
  for i in $(seq 200); do
    berth cp "$1:$2" - >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "$2 never appeared in $1"
}

@test "CVE-2018-15664, CVE-2019-10152: a symlink swapped against cp in both directions never reaches the host" {
  echo "host secret" >"/$CANARY"
  make_probe_image probe "w/d/$CANARY=container copy"
  run berth run -d --name ctr probe sh -c 'ln -s / /w/l; touch /ready; exec berth-probe swap /w/d /w/l'
  assert_success
  wait_for_file ctr /ready
  echo probe >"$H/probe-$CANARY"
  mkdir "$H/out"
  for i in $(seq 200); do
    berth cp "$H/probe-$CANARY" ctr:/w/d/ 2>/dev/null || true
    berth cp "ctr:/w/d/$CANARY" "$H/out/" 2>/dev/null || true
    [ ! -e "/probe-$CANARY" ] || fail "iteration $i: cp wrote /probe-$CANARY on the host"
    if [ -e "$H/out/$CANARY" ]; then
      assert_equal "$(cat "$H/out/$CANARY")" "container copy"
      rm "$H/out/$CANARY"
    fi
  done
  assert_equal "$(cat "/$CANARY")" "host secret"
}

@test "trap image: links out of the root and .. resolve inside it, for cp both ways and export" {
  make_probe_image trap "etc/secret=container secret"
  run berth run -d --name ctr trap sh -c 'ln -s / /abs; ln -s ../../../../.. /rel; ln -s /etc /out; ln -s ../../etc/secret /etclink; mkdir /dst; touch /ready; exec sleep 1000'
  assert_success
  wait_for_file ctr /ready
  # out: through links to / and ../..: the container's file, never the host's
  run berth cp ctr:/abs/etc/secret "$H/a"
  assert_success
  assert_equal "$(cat "$H/a")" "container secret"
  run berth cp ctr:/rel/etc/secret "$H/r"
  assert_equal "$(cat "$H/r")" "container secret"
  run berth cp ctr:/dst/../../../etc/secret "$H/d"
  assert_equal "$(cat "$H/d")" "container secret"
  run berth cp -L ctr:/etclink "$H/l"
  assert_equal "$(cat "$H/l")" "container secret"
  # CVE-2019-18466: a link to /etc comes out as a link, /etc is not read
  run berth cp ctr:/out "$H/outlink"
  assert_success
  assert [ -L "$H/outlink" ]
  # in: through the same links, into the container
  echo in >"$H/in"
  before=$(sha256sum /etc/passwd)
  run berth cp "$H/in" ctr:/abs/etc/
  assert_success
  run berth cp "$H/in" ctr:/rel/tmp/in-rel
  assert_success
  run berth cp "$H/in" ctr:/out/
  assert_success
  assert [ ! -e /etc/in ] && assert [ ! -e /tmp/in-rel ]
  assert_equal "$(berth cp ctr:/etc/in - | tar -xO)" in
  assert_equal "$(berth cp ctr:/tmp/in-rel - | tar -xO)" in
  assert_equal "$(sha256sum /etc/passwd)" "$before"
  # export: links stay links, nothing of the host comes along
  berth export ctr >"$H/fs.tar"
  run tar -tvf "$H/fs.tar" abs rel out
  assert_line --partial "abs -> /"
  assert_line --partial "rel -> ../../../../.."
  run tar -tf "$H/fs.tar"
  refute_line --partial "$CANARY"
}

@test "CVE-2021-41089: parents behind an absolute symlink are the container's, the host's stay as they were" {
  mkdir -m 700 "/tmp/$CANARY"
  state=$(tree_state "/tmp/$CANARY"; stat -c %a "/tmp/$CANARY")
  make_probe_image probe
  run berth run -d --name ctr probe sh -c "mkdir -p /tmp/$CANARY; ln -s /tmp/$CANARY /link; touch /ready; exec sleep 1000"
  assert_success
  wait_for_file ctr /ready
  mkdir -p "$H/tree/new/deeper" && echo f >"$H/tree/new/deeper/f" && echo f >"$H/f"
  run berth cp "$H/f" ctr:/link/new/f
  assert_failure 1
  assert_output "Error: Could not find the file /link/new in container ctr"
  run berth cp "$H/tree/." ctr:/link/
  assert_success
  assert_equal "$(berth cp "ctr:/tmp/$CANARY/new/deeper/f" - | tar -xO)" f
  assert_same_state "$state" "$(tree_state "/tmp/$CANARY"; stat -c %a "/tmp/$CANARY")"
  # the same with the container stopped: its own overlay, never the host
  run berth stop -t 0 ctr
  run berth cp "$H/f" ctr:/link/stopped
  assert_success
  assert [ ! -e "/tmp/$CANARY/stopped" ]
  assert_equal "$(berth cp "ctr:/tmp/$CANARY/stopped" - | tar -xO)" f
}

@test "magic links in the container's /proc are never followed" {
  echo "host secret" >"/$CANARY"
  make_probe_image probe
  run berth run -d --name ctr probe sleep 1000
  assert_success
  run berth cp "ctr:/proc/1/root/$CANARY" "$H/x"
  assert_failure 1
  run berth cp "ctr:/proc/self/root/$CANARY" "$H/y"
  assert_failure 1
  run berth cp "ctr:/proc/1/cwd/" "$H/z"
  assert_failure 1
  assert [ ! -e "$H/x" ] && assert [ ! -e "$H/y" ] && assert [ ! -e "$H/z" ]
}

@test "CVE-2019-14271, CVE-2026-41567, CVE-2022-1227: cp, export, top, diff, commit and logs never run or load anything from the container" {
  command -v strace >/dev/null || skip "requires strace"
  # traps where a host helper would exec or dlopen something
  local traps=() f
  for f in usr/bin/tar usr/bin/xz usr/bin/gzip usr/bin/getent lib/libnss_files.so.2 \
           lib/x86_64-linux-gnu/libnss_files.so.2 usr/lib/libnss_compat.so.2 etc/ld.so.preload; do
    traps+=("$f=#!/bin/sh
echo \$DAEMON_TOKEN > /tmp/trap-marker")
  done
  make_probe_image trap "${traps[@]}"
  run berth run -d --name ctr --user nobody trap sleep 1000
  assert_success
  echo f >"$H/f"
  export DAEMON_TOKEN=token-$$
  # LeakSanitizer cannot run under ptrace (the ASan suite)
  [ -z "${ASAN_OPTIONS:-}" ] || export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
  strace -f -qq -e trace=execve,execveat,openat -o "$H/trace" -- "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" cp -a "$H/f" ctr:/tmp/
  strace -f -qq -e trace=execve,execveat,openat -o "$H/trace2" -- "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" cp ctr:/etc "$H/etc"
  strace -f -qq -e trace=execve,execveat,openat -o "$H/trace3" -- "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" export -o "$H/fs.tar" ctr
  # top (CVE-2022-1227: podman's helper ran the container's binaries), diff,
  # commit and logs read the container from the host side too
  local n=4 cmd
  for cmd in "top ctr" "diff ctr" "commit ctr committed" "logs ctr"; do
    strace -f -qq -e trace=execve,execveat,openat -o "$H/trace$n" -- "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" $cmd >/dev/null ||
      fail "berth $cmd failed"
    n=$((n + 1))
  done
  unset DAEMON_TOKEN
  # one execve each (berth itself) and, for top, the host's ps as docker runs
  # it (procps' columns, never the container's busybox ps)
  assert_equal "$(cat "$H"/trace* | grep -c 'execve')" 8
  assert_equal "$(grep -hvF "execve(\"$BERTH\"" "$H"/trace* | grep -c 'execve(')" 1
  grep -q 'execve("/\(usr/\)\?bin/ps", \["/\(usr/\)\?bin/ps", "-ef"' "$H/trace4" || fail "top ran: $(grep execve "$H/trace4")"
  run berth top ctr
  assert_line --index 0 --regexp '^UID +PID +PPID'
  # no library opened from the container: nothing named by an absolute path is opened from a container's root
  run grep -E 'openat\(AT_FDCWD, "[^"]*(libnss|ld\.so\.preload|/proc/[0-9]+/root)' "$H"/trace*
  refute_output --partial libnss
  refute_output --partial "/root/"
  run berth cp ctr:/tmp/trap-marker -
  assert_failure
  assert [ ! -e /tmp/trap-marker ]
}
