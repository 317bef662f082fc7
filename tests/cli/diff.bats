#!/usr/bin/env bats
# `diff` against real containers: docker's A/C/D lines and order from the
# overlay upper dir, whiteouts and opaque directories, the runtime's own
# mount points left out, symlinks listed and never followed.

load helpers

setup() {
  container_setup
  make_probe_image img data/a=1 data/b=2 data/sub/c=3 keep/x=4
}

teardown() { container_teardown; }

@test "diff: added, changed and deleted paths in docker's order, parents first" {
  # /data is copied up unchanged (same mtime): docker does not list it
  berth run --name c1 img sh -c 'echo hi > /new; rm /keep/x; mkdir -p /tmp/d/e; touch /tmp/d/e/f; echo 5 > /data/a'
  run --separate-stderr berth diff c1
  assert_success
  assert_output "C /data/a
C /keep
D /keep/x
A /new
C /tmp
A /tmp/d
A /tmp/d/e
A /tmp/d/e/f"
  run berth container diff c1
  assert_success
  assert_line --index 0 "C /data/a"
}

@test "diff: a directory deleted and made again is opaque: D, then what it holds now" {
  berth run --name c1 img sh -c 'rm -rf /data; mkdir /data; echo 9 > /data/c'
  run berth diff c1
  assert_success
  assert_output "D /data
A /data/c"
}

@test "diff: a running container; the runtime's mount points are not changes" {
  berth run -d --name c1 img sh -c 'touch /ready; exec sleep 1000'
  wait_for_inspect c1 '{{.State.Status}}' running
  id=$(berth inspect -f "{{.Id}}" c1)
  for i in $(seq 200); do [ -e "$TEST_ROOT/containers/$id/upper/ready" ] && break; sleep 0.1; done
  # the runtime made these in the upper dir (the image has none of them)
  [ -e "$TEST_ROOT/containers/$id/upper/etc/hosts" ] || fail "no /etc/hosts mount point in the upper dir"
  run berth diff c1
  assert_success
  assert_output "A /ready"
}

@test "diff: nothing changed prints nothing" {
  berth run --name c1 img true
  run berth diff c1
  assert_success
  assert_output ""
}

@test "diff: symlinks in the upper dir are listed as they are, never followed" {
  make_victim
  berth run --name c1 img sh -c "ln -s / /escape; ln -s $VICTIM /victim; mkdir /d; ln -s ../../../.. /d/up"
  run berth diff c1
  assert_success
  assert_output "A /d
A /d/up
A /escape
A /victim"
}

@test "diff: errors like docker's" {
  run --separate-stderr berth diff nosuch
  assert_failure 1
  [[ $stderr == *"No such container: nosuch"* ]] || fail "stderr: $stderr"
  run --separate-stderr berth diff
  assert_failure 1
  [[ $stderr == *"'berth diff' requires 1 argument"* ]] || fail "stderr: $stderr"
}
