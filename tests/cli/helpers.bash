# Shared bats helpers: every test runs against its own --root/--runroot under
# $BATS_TEST_TMPDIR, which bats removes; teardown unmounts anything left there.
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash
bats_require_minimum_version 1.5.0

BERTH=${BERTH:-$BATS_TEST_DIRNAME/../../build/berth}
BERTH_SRC=${BERTH_SRC:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
# The system python: a pyenv shim in PATH costs most of a second per call.
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
TARFORGE=$BERTH_SRC/tests/helpers/tarforge.py
ARCHFORGE=$BERTH_SRC/tests/helpers/archforge.py

berth_setup() {
  export TEST_ROOT="$BATS_TEST_TMPDIR/root"
  export TEST_RUNROOT="$BATS_TEST_TMPDIR/run"
  mkdir -p "$TEST_ROOT" "$TEST_RUNROOT"
  # the default network of the test's store gets a bridge and subnet of its
  # own (never a berth0 in use); net_cleanup removes them
  export BERTH_DEFAULT_BRIDGE="bt$(printf %x $$)x${BATS_TEST_NUMBER}"
  export BERTH_DEFAULT_SUBNET="10.$((200 + RANDOM % 50)).$((RANDOM % 250)).0/24"
}

# berth with this test's store.
berth() {
  "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" "$@"
}

berth_teardown() {
  # Nothing a test makes may outlive it: its networks' bridges and rules,
  # whatever is mounted below its tmpdir.
  net_cleanup
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
      zstd) command -v zstd >/dev/null || skip "requires zstd" ;;
      script) command -v script >/dev/null || skip "requires script (bsdutils) for a terminal" ;;
      debootstrap) command -v debootstrap >/dev/null || skip "requires debootstrap" ;;
      net)
        # Only the debootstrap test may use the network: the host's Debian mirror.
        local m
        m=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
        curl -fsI --max-time 10 "${m:-http://deb.debian.org/debian}/dists/bookworm/Release" >/dev/null 2>&1 ||
          skip "requires the Debian mirror (${m:-http://deb.debian.org/debian}) to be reachable"
        ;;
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

# A listing of every path, type, mode, owner, link count, size, link target,
# device number and content digest under a directory: compare before/after to
# prove that an operation changed nothing.  Hard links are hashed once (a
# busybox layer is hundreds of links to one binary); directory sizes and times
# are left out.
tree_state() {
  "$PYTHON" - "$1" <<'PY'
import hashlib, os, stat, sys
root = sys.argv[1]
digests, out = {}, []
def digest(path, st):
    key = (st.st_dev, st.st_ino)
    if key not in digests:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        digests[key] = h.hexdigest()
    return digests[key]
for d, dirs, files in os.walk(root):
    for name in dirs + files:
        p = os.path.join(d, name)
        st = os.lstat(p)
        m = st.st_mode
        line = "%s %o %d:%d" % (os.path.relpath(p, root), m, st.st_uid, st.st_gid)
        if stat.S_ISREG(m):
            line += " n%d %d %s" % (st.st_nlink, st.st_size, digest(p, st))
        elif stat.S_ISLNK(m):
            line += " -> %s" % os.readlink(p)
        elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
            line += " dev %d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
        out.append(line)
print("\n".join(sorted(out)))
PY
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

# berth with a second, independent store (round trips between stores).
berth2() {
  "$BERTH" --root "$BATS_TEST_TMPDIR/root2" --runroot "$BATS_TEST_TMPDIR/run2" "$@"
}

# Full image id (sha256:...) of REF, and the directory of its (single) layer.
image_id() { berth image inspect -f '{{.Id}}' "$1"; }
layer_dir() { berth image inspect -f '{{.GraphDriver.Data.LowerDir}}' "$1"; }

# Every file below the store's layers and blobs: compare before and after to
# prove that removing images leaves no orphans.
# Bytes the images occupy in the store, as system df counts them and prune
# frees them: unpacked layer content (regular files and symlinks, hard links
# once) plus every blob (layer tars, configs, manifests).
store_image_bytes() {
  /usr/bin/python3 - "$TEST_ROOT" <<'PY'
import os, sys
root = sys.argv[1]
seen, total = set(), 0
for base, dirs, files in os.walk(os.path.join(root, "layers")):
    if "/diff" not in base + "/":
        continue
    for f in files:
        st = os.lstat(os.path.join(base, f))
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        total += st.st_size
    for d in dirs:
        st = os.lstat(os.path.join(base, d))
        if os.path.islink(os.path.join(base, d)):
            total += st.st_size
blobs = os.path.join(root, "blobs", "sha256")
for f in os.listdir(blobs) if os.path.isdir(blobs) else []:
    if not f.startswith("."):
        total += os.lstat(os.path.join(blobs, f)).st_size
print(total)
PY
}

store_files() {
  (cd "$TEST_ROOT" && find layers blobs 2>/dev/null | LC_ALL=C sort)
}

# docker's units.HumanSizeWithPrecision(n, 3) (image and history sizes):
# decimal units, 3 significant digits.  human_size4 is units.HumanSize, 4
# digits (system df, reclaimed space, shared/unique/virtual sizes).
human_size() {
  awk -v n="$1" -v p="${2:-3}" 'BEGIN {
    split("B kB MB GB TB PB EB ZB YB", u, " ")
    i = 1
    while (n >= 1000 && i < 9) { n /= 1000.0; i++ }
    printf "%.*g%s\n", p, n, u[i]
  }'
}
human_size4() { human_size "$1" 4; }

# A tabwriter table (docker's: minwidth 10, padding 3): every row's cells start
# where the header's labels start.  Labels are given because some contain spaces.
# usage: assert_table_aligned "$output" "IMAGE ID" "CREATED" ...
assert_table_aligned() {
  local table=$1 header row label off
  shift
  header=$(head -n1 <<<"$table")
  for label in "$@"; do
    off=$(awk -v h="$header" -v l="$label" 'BEGIN { print index(h, l) - 1 }')
    [ "$off" -ge 0 ] || fail "header '$header' lacks '$label'"
    while IFS= read -r row; do
      [ "$off" -eq 0 ] || [ "${row:off-1:1}" = " " ] ||
        fail "row '$row' has no column break before offset $off ('$label')"
      [ -z "${row:off}" ] || [ "${row:off:1}" != " " ] ||
        fail "row '$row' has no cell at offset $off ('$label')"
    done < <(tail -n +2 <<<"$table")
  done
}

# Import a tarball made from NAME=CONTENT pairs; sets IMPORTED_ID.
# usage: import_files REF [-c CHANGE ...] -- NAME=CONTENT ...
import_files() {
  local ref=$1 tarball args=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  tarball=$(mktemp "$BATS_TEST_TMPDIR/import.XXXX.tar")
  make_rootfs_tar "$tarball" "$@"
  run berth import "${args[@]}" "$tarball" ${ref:+"$ref"}
  assert_success
  assert_output --regexp '^sha256:[0-9a-f]{64}$'
  IMPORTED_ID=$output
  rm -f "$tarball"
}

# A directory a test watches: it must be identical at the end.
make_victim() {
  VICTIM=${1:-$BATS_TEST_TMPDIR/victim}
  mkdir -p "$VICTIM"
  echo "host data" >"$VICTIM/hello"
  chmod 0644 "$VICTIM/hello"
}

# assert_same_state BEFORE AFTER: two tree_state listings are equal; on failure
# show only the difference.
assert_same_state() {
  local d
  d=$(diff <(printf '%s\n' "$1") <(printf '%s\n' "$2")) && return 0
  fail "$(printf 'the tree changed (< before, > after):\n%s' "$d")"
}

# ---- containers ---------------------------------------------------------------
# Containers of a test live in cgroups below the test's own cgroup, under a
# parent named after the test; teardown removes every container (and so its
# monitor) and then the parent cgroups.
PROBE=${PROBE:-$BATS_TEST_DIRNAME/../../build/tests/berth-probe}

container_setup() {
  berth_setup
  requires root busybox
  export BERTH_CGROUP_PARENT="berth-test-$$-${BATS_TEST_NUMBER}"
}

container_teardown() {
  local ids
  ids=$(berth ps -aq --no-trunc 2>/dev/null || true)
  [ -z "$ids" ] || berth rm -f $ids >/dev/null 2>&1 || true
  # a monitor that lost its container record still dies with its test
  pkill -KILL -f -- "--runroot $TEST_RUNROOT " 2>/dev/null || true
  cgroup_cleanup
  berth_teardown
}

# The bridges and berth's nftables chains of the networks of this test's
# store (only those: "add" before "delete" makes one transaction that
# cannot fail on what is already gone).
net_cleanup() {
  local f id br script=""
  for f in "$TEST_ROOT"/networks/*.json; do
    [ -e "$f" ] || continue
    id=$(jq -r .Id "$f")
    br=$(jq -r '.Options["com.docker.network.bridge.name"] // empty' "$f")
    [ -n "$br" ] || continue
    script+="add table ip berth
add set ip berth bridges { type ifname; }
add element ip berth bridges { \"$br\" }
add chain ip berth nat-${id:0:12}
add chain ip berth fwd-${id:0:12}
delete chain ip berth nat-${id:0:12}
delete chain ip berth fwd-${id:0:12}
delete element ip berth bridges { \"$br\" }
"
    ip link del "$br" 2>/dev/null || true
  done
  [ -z "$script" ] || printf '%s' "$script" | nft -f - 2>/dev/null || true
  # berth's table itself once no network of any store has chains there
  if [ -n "$script" ] && ! nft list table ip berth 2>/dev/null | grep -qE 'chain (nat|fwd)-'; then
    nft delete table ip berth 2>/dev/null || true
  fi
}

# rmdir the test's parent cgroup (and anything left below it) in every hierarchy.
cgroup_cleanup() {
  local line rel base dir
  [ -n "${BERTH_CGROUP_PARENT:-}" ] || return 0
  while IFS= read -r line; do
    rel=${line#*:*:}
    for base in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
      case "$line" in
        0::*) [ "$base" = /sys/fs/cgroup/unified/ ] || [ "$base" = /sys/fs/cgroup/ ] || continue ;;
      esac
      dir="${base%/}${rel%/}/$BERTH_CGROUP_PARENT"
      [ -d "$dir" ] || continue
      find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
  done </proc/self/cgroup
}

# An image with busybox and berth-probe, plus extra files: make_probe_image
# NAME [PATH=CONTENT ...] (PATH relative to /, CONTENT written verbatim).
make_probe_image() {
  local name=$1 dir="$BATS_TEST_TMPDIR/rootfs-$1" f
  shift
  mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/root"
  cp "$(command -v busybox)" "$dir/bin/busybox"
  cp "$PROBE" "$dir/bin/berth-probe"
  for f in $("$dir/bin/busybox" --list); do
    [ -e "$dir/bin/$f" ] || ln -s busybox "$dir/bin/$f"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  for f in "$@"; do
    mkdir -p "$(dirname "$dir/${f%%=*}")"
    printf '%s' "${f#*=}" >"$dir/${f%%=*}"
  done
  tar -C "$dir" -c . | berth import --change 'CMD ["sh"]' - "$name" >/dev/null
}

# Wait (10 s at most) until PATH exists in container NAME: a shell there
# has done what comes before `touch PATH` (set its traps, say).
wait_in_container() {
  local i
  for i in $(seq 200); do
    berth exec "$1" test -e "$2" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "$2 never appeared in $1" >&2
  return 1
}

# Wait (30 s at most) until FILE has a line matching REGEX.
wait_for_line() {
  local i
  for i in $(seq 300); do
    grep -qE -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "no line /$2/ in $1: $(cat "$1")"
}

# Wait (up to 20 s) until `berth inspect -f TEMPLATE C` prints WANT.
wait_for_inspect() {
  local c=$1 tmpl=$2 want=$3 i
  for i in $(seq 200); do
    [ "$(berth inspect -f "$tmpl" "$c" 2>/dev/null)" = "$want" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $tmpl of $c to be $want (is: $(berth inspect -f "$tmpl" "$c" 2>&1))" >&2
  return 1
}
