#!/usr/bin/env bats
# `commit` against real containers: the new layer carries additions,
# modifications, deletions (whiteouts) and opaque directories, so the image
# runs with them; -m, -a, -c, -p; history and config like docker's; the
# runtime's mount points stay out; symlinks pointing out of the container are
# archived as links and never followed.

load helpers

setup() {
  container_setup
  make_probe_image img data/a=1 data/b=2 data/sub/c=3 keep/x=4 keep/y=5
}

teardown() { container_teardown; }

@test "commit: created, changed and deleted files and a recreated dir; the image runs with them" {
  berth run --name c1 img sh -c 'echo new > /new; echo 6 > /keep/y; rm /keep/x; rm -rf /data; mkdir /data; echo 7 > /data/c'
  run --separate-stderr berth commit c1 snap:v1
  assert_success
  assert_output --regexp '^sha256:[0-9a-f]{64}$'
  assert_equal "$(berth image inspect -f '{{.Id}}' snap:v1)" "$output"
  run berth run --rm snap:v1 sh -c 'cat /new /keep/y /data/c; ls /keep; ls /data; ls /keep/x /data/a /data/sub 2>&1; true'
  assert_success
  assert_output "new
6
7
y
c
ls: /keep/x: No such file or directory
ls: /data/a: No such file or directory
ls: /data/sub: No such file or directory"
  # one layer more than the parent, and the parent's layers unchanged
  assert_equal "$(berth image inspect -f '{{len .RootFS.Layers}}' snap:v1)" 2
  assert_equal "$(berth image inspect -f '{{index .RootFS.Layers 0}}' snap:v1)" \
    "$(berth image inspect -f '{{index .RootFS.Layers 0}}' img)"
}

@test "commit: the layer holds OCI whiteouts and no runtime mount points" {
  berth run --name c1 img sh -c 'rm /keep/x; rm -rf /data; mkdir /data; touch /data/c'
  berth commit c1 snap >/dev/null
  top=$(layer_dir snap | cut -d: -f1)
  # unpacked as overlay lower dir: whiteout device and opaque xattr
  [ -c "$top/keep/x" ] || fail "no whiteout for /keep/x"
  assert_equal "$("$PYTHON" -c 'import os, sys; print(os.getxattr(sys.argv[1], "trusted.overlay.opaque").decode())' \
    "$top/data")" y
  [ ! -e "$top/etc/hosts" ] && [ ! -e "$top/etc/hostname" ] && [ ! -e "$top/etc/resolv.conf" ] ||
    fail "runtime mount points in the layer: $(ls -la "$top/etc")"
  [ ! -e "$top/proc" ] && [ ! -e "$top/sys" ] && [ ! -e "$top/dev" ] || fail "runtime dirs in the layer"
  # and the saved archive names them as OCI does
  berth save -o "$BATS_TEST_TMPDIR/s.tar" snap
  mkdir "$BATS_TEST_TMPDIR/s" && tar -C "$BATS_TEST_TMPDIR/s" -xf "$BATS_TEST_TMPDIR/s.tar"
  layer=$(jq -r '.[0].Layers[-1]' "$BATS_TEST_TMPDIR/s/manifest.json")
  run tar -tf "$BATS_TEST_TMPDIR/s/$layer"
  assert_line "keep/.wh.x"
  assert_line "data/.wh..wh..opq"
  assert_line "data/c"
  refute_line --partial "hosts"
}

@test "commit: -m, -a and -c; config from the container, history like docker's" {
  berth run --name c1 -e FOO=bar -w /data img sh -c 'echo hi > /f'
  run berth commit -m "my message" -a "A. Author <a@example.com>" -c 'ENV X=1' -c 'LABEL l=v' -c 'EXPOSE 8080' \
    -c 'USER nobody' c1 snap:v2
  assert_success
  run berth image inspect -f '{{.Comment}}|{{.Author}}|{{json .Config.Cmd}}|{{.Config.User}}|{{.Config.WorkingDir}}|{{.Config.Labels.l}}|{{json .Config.ExposedPorts}}' snap:v2
  assert_output '["my message|A. Author <a@example.com>|[\"sh\",\"-c\",\"echo hi \u003e /f\"]|nobody|/data|v|{\"8080/tcp\":{}}"]' ||
    assert_output 'my message|A. Author <a@example.com>|["sh","-c","echo hi > /f"]|nobody|/data|v|{"8080/tcp":{}}'
  run berth image inspect -f '{{json .Config.Env}}' snap:v2
  assert_output --partial '"FOO=bar"'
  assert_output --partial '"X=1"'
  run berth history --no-trunc --format '{{.CreatedBy}}|{{.Comment}}' snap:v2
  assert_line --index 0 "sh -c echo hi > /f|my message"
  run berth run --rm snap:v2 sh -c 'echo $FOO $X; id -u; pwd; cat /f'
  assert_output "bar 1
65534
/data
hi"
}

@test "commit: -c ENTRYPOINT resets the Cmd unless a CMD comes first" {
  berth run --name c1 img true
  berth commit -c 'ENTRYPOINT ["echo", "e"]' c1 ep1 >/dev/null
  assert_equal "$(berth image inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' ep1)" '["echo","e"] null'
  run berth run --rm ep1
  assert_output e
  berth commit -c 'CMD ["x"]' -c 'ENTRYPOINT ["echo"]' c1 ep2 >/dev/null
  run berth run --rm ep2
  assert_output x
}

@test "commit: nothing changed gives an empty layer entry, no new layer" {
  berth run --name c1 img true
  berth commit c1 same >/dev/null
  assert_equal "$(berth image inspect -f '{{len .RootFS.Layers}}' same)" 1
  run berth history --format '{{.Size}}' same
  assert_line --index 0 "0B"
}

@test "commit: a running container, paused meanwhile by default, is running after it; -p=false and --no-pause too" {
  berth run -d --name c1 img sh -c 'echo 1 > /one; exec sleep 1000'
  wait_for_inspect c1 '{{.State.Status}}' running
  id=$(berth inspect -f '{{.Id}}' c1)
  for i in $(seq 200); do [ -e "$TEST_ROOT/containers/$id/upper/one" ] && break; sleep 0.1; done
  for flags in "" "-p=false" "--pause=false" "--no-pause"; do
    run berth commit $flags c1
    assert_success
    assert_output --regexp '^sha256:'
    assert_equal "$(berth inspect -f '{{.State.Status}} {{.State.Paused}}' c1)" "running false"
  done
  run berth run --rm "$output" cat /one
  assert_output 1
  # a paused container stays paused
  berth pause c1
  berth commit c1 >/dev/null
  assert_equal "$(berth inspect -f '{{.State.Status}}' c1)" paused
}

@test "commit: symlinks pointing out of the container are archived as links, never followed" {
  make_victim
  before=$(tree_state "$VICTIM")
  berth run --name c1 img sh -c "ln -s $VICTIM /v; ln -s / /root-link; ln -s ../../../../.. /up; mkdir /d; ln -s $VICTIM/hello /d/h"
  berth commit c1 links >/dev/null
  top=$(layer_dir links | cut -d: -f1)
  assert_equal "$(readlink "$top/v")" "$VICTIM"
  assert_equal "$(readlink "$top/root-link")" /
  assert_equal "$(readlink "$top/d/h")" "$VICTIM/hello"
  [ -L "$top/up" ] || fail "/up is not a link"
  run berth run --rm links sh -c 'readlink /v; readlink /root-link; readlink /d/h'
  assert_output "$VICTIM
/
$VICTIM/hello"
  assert_same_state "$before" "$(tree_state "$VICTIM")"
}

@test "commit: errors leave no image behind" {
  berth run --name c1 img true
  before=$(berth images -aq | sort)
  run --separate-stderr berth commit -c 'FROB x' c1 bad
  assert_failure 1
  [[ $stderr == *"FROB is not a valid change command"* ]] || fail "stderr: $stderr"
  run --separate-stderr berth commit c1 'Bad:Ref'
  assert_failure 1
  run --separate-stderr berth commit nosuch
  assert_failure 1
  [[ $stderr == *"No such container: nosuch"* ]] || fail "stderr: $stderr"
  assert_equal "$(berth images -aq | sort)" "$before"
}
