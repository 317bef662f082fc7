#!/usr/bin/env bats
# berth export: the container's filesystem (layers plus its changes, no
# volumes) as a tar, to stdout or atomically to -o; import of it runs.

load helpers

PTYRUN=$BERTH_SRC/tests/helpers/ptyrun.py

setup() {
  container_setup
  make_probe_image probe "data/keep=kept" "data/gone=gone"
  H=$BATS_TEST_TMPDIR/host
  mkdir -p "$H"
}

teardown() { container_teardown; }

@test "export: refuses a terminal, writes -o atomically and leaves nothing on failure" {
  run berth create --name ctr probe true
  assert_success
  run "$PYTHON" "$PTYRUN" -- "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" export ctr
  assert_success
  assert_line "Error: cowardly refusing to save to a terminal. Use the -o flag or redirect"
  assert_line "ptyrun: exit 1"
  run berth export -o "$H/out.tar" nosuch
  assert_failure 1
  assert_output "Error: No such container: nosuch"
  assert_equal "$(ls -A "$H")" ""
  run berth export -o "$H/missing/out.tar" ctr
  assert_output "Error: failed to export container: invalid output path: directory \"$H/missing\" does not exist"
  run berth export -o "$H/out.tar" ctr
  assert_success
  assert_equal "$(ls -A "$H")" out.tar
  tar -tf "$H/out.tar" | grep -qx data/keep
  # stdout and -o give the same bytes
  berth export ctr >"$H/stdout.tar"
  cmp "$H/out.tar" "$H/stdout.tar"
}

@test "export: changes and deletions are in the tar, import of it runs" {
  run berth run --name ctr probe sh -c 'rm /data/gone; echo new > /data/new; echo changed > /data/keep'
  assert_success
  berth export ctr >"$H/fs.tar"
  run tar -tf "$H/fs.tar"
  assert_line data/new
  assert_line data/keep
  refute_line data/gone
  refute_line --partial .wh.
  run berth import "$H/fs.tar" exported:latest
  assert_success
  run berth run --rm exported:latest sh -c 'cat /data/new /data/keep; test ! -e /data/gone && echo no-gone'
  assert_success
  assert_output "new
changed
no-gone"
  run grep -c " $TEST_ROOT" /proc/self/mountinfo
  assert_output 0
}

@test "export: a running container's volumes and tmpfs stay out, its own changes are in" {
  mkdir -p "$H/vol" && echo volume-data >"$H/vol/in-volume"
  run berth run -d --name ctr --tmpfs /scratch -v "$H/vol:/vol" probe sh -c 'echo t > /scratch/in-tmpfs; echo u > /data/upper; exec sleep 1000'
  assert_success
  for i in $(seq 200); do
    berth cp ctr:/data/upper - >/dev/null 2>&1 && break
    sleep 0.1
  done
  berth export ctr >"$H/fs.tar"
  run tar -tf "$H/fs.tar"
  assert_line data/upper
  refute_line scratch/in-tmpfs
  refute_line vol/in-volume
}
