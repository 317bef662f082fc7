#!/usr/bin/env bats
# Archives move between berth and the real docker engine, both ways: a private
# dockerd (its own data root, exec root and socket, no bridge, no iptables)
# runs in a private mount namespace for this file only.

load helpers

setup_file() {
  command -v dockerd >/dev/null || return 0
  export DOCKER_DIR="$BATS_FILE_TMPDIR/docker"
  mkdir -p "$DOCKER_DIR"
  # tmpfs over /run and /var/lib keep whatever dockerd writes outside its
  # roots in this namespace; its mounts vanish with it.
  unshare --mount --propagation private -- sh -c '
    mount -t tmpfs berth-test-run /run && mount -t tmpfs berth-test-varlib /var/lib &&
    exec dockerd --data-root "$0/data" --exec-root "$0/exec" -H "unix://$0/docker.sock" \
      --pidfile "$0/docker.pid" --bridge=none --iptables=false --ip6tables=false --ip-masq=false' \
    "$DOCKER_DIR" >"$DOCKER_DIR/dockerd.log" 2>&1 &
  echo $! >"$DOCKER_DIR/unshare.pid"
  for _ in $(seq 1 150); do
    docker -H "unix://$DOCKER_DIR/docker.sock" info >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "dockerd did not start:" >&2
  tail -20 "$DOCKER_DIR/dockerd.log" >&2
}

teardown_file() {
  [ -f "${DOCKER_DIR:-/nonexistent}/unshare.pid" ] || return 0
  kill "$(cat "$DOCKER_DIR/unshare.pid")" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$(cat "$DOCKER_DIR/unshare.pid")" 2>/dev/null || break
    sleep 0.2
  done
  kill -9 "$(cat "$DOCKER_DIR/unshare.pid")" 2>/dev/null || true
  pkill -9 -f "containerd --config $DOCKER_DIR/" 2>/dev/null || true
}

setup() {
  berth_setup
  requires busybox
  command -v dockerd >/dev/null || skip "requires dockerd (docker.io)"
  docker_cli info >/dev/null 2>&1 || skip "the private dockerd did not start (see its log)"
}

docker_cli() { docker -H "unix://$DOCKER_DIR/docker.sock" "$@"; }

@test "docker loads berth's docker-archive: same image id, tag and layers" {
  bootstrap_busybox
  berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox
  run docker_cli load -i "$BATS_TEST_TMPDIR/bb.tar"
  assert_success
  assert_output --partial "Loaded image: busybox:latest"
  assert_equal "$(docker_cli image inspect -f '{{.Id}}' busybox:latest)" "$BUSYBOX_ID"
  assert_equal "$(docker_cli image inspect -f '{{json .RootFS.Layers}}' busybox:latest)" \
    "$(berth image inspect -f '{{json .RootFS.Layers}}' busybox)"
  docker_cli rmi busybox:latest >/dev/null
}

@test "berth loads what docker save writes: same id, tag and layers" {
  bootstrap_busybox
  berth tag busybox interop/bb:1
  berth save -o "$BATS_TEST_TMPDIR/bb.tar" interop/bb:1
  docker_cli load -i "$BATS_TEST_TMPDIR/bb.tar" >/dev/null
  docker_cli tag interop/bb:1 interop/bb:from-docker
  docker_cli save -o "$BATS_TEST_TMPDIR/from-docker.tar" interop/bb:from-docker
  docker_cli rmi interop/bb:1 interop/bb:from-docker >/dev/null
  run berth2 load -i "$BATS_TEST_TMPDIR/from-docker.tar"
  assert_success
  assert_output "Loaded image: interop/bb:from-docker"
  assert_equal "$(berth2 image inspect -f '{{.Id}}' interop/bb:from-docker)" "$BUSYBOX_ID"
  assert_equal "$(berth2 image inspect -f '{{json .RootFS.Layers}}' interop/bb:from-docker)" \
    "$(berth image inspect -f '{{json .RootFS.Layers}}' busybox)"
}

@test "docker's import of a tarball and berth's import give the same files" {
  make_rootfs_tar "$BATS_TEST_TMPDIR/r.tar" etc/hello=hi usr/bin/tool=x
  docker_cli import "$BATS_TEST_TMPDIR/r.tar" interop/imp:1 >/dev/null
  docker_cli save -o "$BATS_TEST_TMPDIR/imp.tar" interop/imp:1
  docker_cli rmi interop/imp:1 >/dev/null
  run berth load -i "$BATS_TEST_TMPDIR/imp.tar"
  assert_success
  assert_output "Loaded image: interop/imp:1"
  dir=$(berth image inspect -f '{{.GraphDriver.Data.LowerDir}}' interop/imp:1)
  assert_equal "$(cat "$dir/etc/hello")" "hi"
  assert_equal "$(cat "$dir/usr/bin/tool")" "x"
}
