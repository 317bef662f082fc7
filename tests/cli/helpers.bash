# Shared bats helpers: every test runs against its own --root/--runroot under
# $BATS_TEST_TMPDIR, which bats removes; teardown unmounts anything left there.
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

BERTH=${BERTH:-$BATS_TEST_DIRNAME/../../build/berth}
BERTH_SRC=${BERTH_SRC:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}

berth_setup() {
  export TEST_ROOT="$BATS_TEST_TMPDIR/root"
  export TEST_RUNROOT="$BATS_TEST_TMPDIR/run"
  mkdir -p "$TEST_ROOT" "$TEST_RUNROOT"
}

# berth with this test's store.
berth() {
  "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" "$@"
}

berth_teardown() {
  # Nothing a test makes may outlive it: unmount whatever is below its tmpdir.
  local m
  for m in $(awk -v d="$BATS_TEST_TMPDIR" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}

setup() { berth_setup; }
teardown() { berth_teardown; }

# requires root|skopeo|debootstrap|net ...: skip with a stated reason.
requires() {
  local r
  for r in "$@"; do
    case "$r" in
      root) [ "$(id -u)" -eq 0 ] || skip "requires root" ;;
      skopeo) command -v skopeo >/dev/null || skip "requires skopeo" ;;
      umoci) command -v umoci >/dev/null || skip "requires umoci" ;;
      busybox) command -v busybox >/dev/null || skip "requires busybox-static" ;;
      *) skip "unknown requirement $r" ;;
    esac
  done
}

# Bootstrap the busybox image once per test store.
bootstrap_busybox() {
  run berth image bootstrap busybox "${1:-busybox:latest}"
  assert_success
  BUSYBOX_ID=$output
}

# A listing of every path, type, mode, size and content digest under a
# directory: compare before/after to prove an operation changed nothing.
tree_state() {
  (cd "$1" && find . -printf '%p %y %m %s %l\n' | LC_ALL=C sort && \
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}

# Make a small root filesystem tarball from files given as NAME=CONTENT.
make_rootfs_tar() {
  local out=$1 dir
  shift
  dir=$(mktemp -d "$BATS_TEST_TMPDIR/rootfs.XXXX")
  for kv in "$@"; do
    mkdir -p "$dir/$(dirname "${kv%%=*}")"
    printf '%s' "${kv#*=}" >"$dir/${kv%%=*}"
  done
  tar -C "$dir" -cf "$out" .
  rm -rf "$dir"
}
