#!/usr/bin/env bats
# Malicious and malformed input (security.md 1.C): every tarforge case through
# `berth import`, tarforge's and archforge's save archives through `berth load`,
# and plain garbage through both.  A rejected input fails with one clear
# "Error: ..." line, exit 1, and leaves the store, the victim and everything
# else under the test's directory exactly as they were.  An accepted one
# imports, and the victim is still untouched.
# CVEs (docs/security-tests.md): the tarforge set is CVE-2014-6407,
# CVE-2014-9356, CVE-2021-32760 and CVE-2026-17106 (escapes through .., links,
# chmod through links, whiteouts); the save archives' traversal and id
# checks CVE-2014-9358, the digest checks CVE-2014-8178 (and archforge's
# malformed OCI digests CVE-2024-3727); the gzip bomb CVE-2017-14992.

load helpers

setup() {
  # Everything the test watches lives in $WORLD: the store, the run root, the
  # victim and the inputs (bats keeps files of its own in $BATS_TEST_TMPDIR).
  WORLD=$BATS_TEST_TMPDIR/world
  export TEST_ROOT=$WORLD/root TEST_RUNROOT=$WORLD/run
  mkdir -p "$TEST_ROOT" "$TEST_RUNROOT"
  requires busybox
  make_victim "$WORLD/victim"
  # A store with something in it, so that "unchanged" covers existing data.
  bootstrap_busybox
}

forge() { "$PYTHON" "$TARFORGE" "$1" "$2" --victim "$VICTIM"; }
archforge() { "$PYTHON" "$ARCHFORGE" "$1" "$2" --victim "$VICTIM"; }

# One line, "Error: " and a message; no strerror tacked onto a message that
# already says what is wrong, and no repeated prefixes.
assert_clear_error() {
  local problems=() repeated='(^|: )([a-z][a-z ]*): \2: '
  [ -z "$output" ] || problems+=("something on stdout: '$output'")
  [[ $stderr == "Error: "?* ]] || problems+=("stderr is not an 'Error: ...' line")
  [[ $stderr != *$'\n'* ]] || problems+=("stderr has several lines")
  [[ $stderr != *": Invalid argument" ]] || problems+=("stderr ends in strerror")
  [[ ! $stderr =~ $repeated ]] || problems+=("stderr repeats the prefix '${BASH_REMATCH[2]}: '")
  [ ${#problems[@]} -eq 0 ] || fail "$(printf '%s\n' "${problems[@]}" "stderr: '$stderr'")"
}

# usage: rejects import|load CASE-FILE
rejects() {
  local before
  before=$(tree_state "$WORLD")
  if [ "$1" = import ]; then
    run --separate-stderr berth import "$2" evil:latest
  else
    run --separate-stderr berth load -i "$2"
  fi
  assert_failure 1
  # What matters most first: nothing written, then a clear message.
  local err=$stderr out=$output
  assert_same_state "$before" "$(tree_state "$WORLD")"
  run berth images -a -q --no-trunc
  assert_output "$BUSYBOX_ID"
  stderr=$err output=$out
  assert_clear_error
}

import_rejects() {
  forge "$1" "$WORLD/case.tar"
  rejects import "$WORLD/case.tar"
}

# Import an accepted case as ok:latest; sets LAYER.  Nothing outside the
# store may change.
import_accepts() {
  local outside
  forge "$1" "$WORLD/case.tar"
  outside=$(tree_state "$WORLD" | grep -v -e '^root[/ ]' -e '^run[/ ]')
  run --separate-stderr berth import "$WORLD/case.tar" ok:latest
  assert_success
  assert_output --regexp '^sha256:[0-9a-f]{64}$'
  assert_same_state "$outside" "$(tree_state "$WORLD" | grep -v -e "^root[/ ]" -e "^run[/ ]")"
  LAYER=$(layer_dir ok:latest)
}

load_rejects() {
  forge "$1" "$WORLD/case.tar"
  rejects load "$WORLD/case.tar"
}

archforge_rejects() {
  "$PYTHON" "$ARCHFORGE" --victim "$VICTIM" --victim-files
  archforge "$1" "$WORLD/case.tar"
  rejects load "$WORLD/case.tar"
}

@test "every tarforge and archforge case has a test here" {
  missing=()
  while IFS=$'\t' read -r name _; do
    grep -q "^@test \"tarforge $name:" "$BATS_TEST_FILENAME" || missing+=("tarforge $name")
  done < <("$PYTHON" "$TARFORGE" --list)
  while IFS=$'\t' read -r name _; do
    grep -q "^@test \"archforge $name:" "$BATS_TEST_FILENAME" || missing+=("archforge $name")
  done < <("$PYTHON" "$ARCHFORGE" --list)
  [ ${#missing[@]} -eq 0 ] || fail "no test for: ${missing[*]}"
}

# ---- tarforge through import: rejected ------------------------------------------

@test "tarforge dotdot: import rejects ../victim/x" { import_rejects dotdot; }
@test "tarforge abs-dotdot: import rejects /../victim/x" { import_rejects abs-dotdot; }
@test "tarforge bare-dotdot: import rejects an entry named .." { import_rejects bare-dotdot; }
@test "tarforge inner-dotdot: import rejects a/../../victim/x" { import_rejects inner-dotdot; }
@test "tarforge sibling-prefix: import rejects ../dest-evil/secret" { import_rejects sibling-prefix; }
@test "tarforge symlink-escape: import rejects l -> ../victim, l/file" { import_rejects symlink-escape; }
@test "tarforge symlink-abs-escape: import rejects abs -> VICTIM, abs/file" { import_rejects symlink-abs-escape; }
@test "tarforge escape-absolute-chain: import rejects escape/absolute/file" { import_rejects escape-absolute-chain; }
@test "tarforge hardlink-escape: import rejects h => ../victim/hello" { import_rejects hardlink-escape; }
@test "tarforge hardlink-abs-escape: import rejects h => /../victim/hello" { import_rejects hardlink-abs-escape; }
@test "tarforge hardlink-dir: import rejects a hard link to a directory" { import_rejects hardlink-dir; }
@test "tarforge hardlink-through-symlink: import rejects h => lnk/hello, lnk -> VICTIM" { import_rejects hardlink-through-symlink; }
@test "tarforge whiteout-under-symlink: import rejects d/.wh.hello, d -> VICTIM" { import_rejects whiteout-under-symlink; }
@test "tarforge opaque-under-symlink: import rejects d/.wh..wh..opq, d -> ../victim" { import_rejects opaque-under-symlink; }
@test "tarforge whiteout-empty: import rejects .wh." { import_rejects whiteout-empty; }
@test "tarforge whiteout-dot: import rejects .wh.." { import_rejects whiteout-dot; }
@test "tarforge whiteout-dotdot: import rejects .wh..." { import_rejects whiteout-dotdot; }
@test "tarforge bad-checksum: import rejects a bad header checksum" { import_rejects bad-checksum; }
@test "tarforge truncated-header: import rejects a cut header" { import_rejects truncated-header; }
@test "tarforge truncated-data: import rejects cut file data" { import_rejects truncated-data; }
@test "tarforge negative-size: import rejects a negative size" { import_rejects negative-size; }
@test "tarforge huge-size: import rejects 8 GiB declared, no data" { import_rejects huge-size; }
@test "tarforge pax-huge-size: import rejects a PAX size overflowing int64" { import_rejects pax-huge-size; }
@test "tarforge pax-malformed: import rejects a PAX record past its header" { import_rejects pax-malformed; }
@test "tarforge sparse: import rejects a GNU sparse entry" { import_rejects sparse; }
@test "tarforge zero-block-then-header: import rejects an entry after a zero block" { import_rejects zero-block-then-header; }
@test "tarforge gzip-truncated: import rejects a cut gzip stream" { import_rejects gzip-truncated; }
@test "tarforge gzip-trailing-garbage: import rejects junk after the gzip member" { import_rejects gzip-trailing-garbage; }

# ---- tarforge through import: accepted ------------------------------------------

@test "tarforge hardlink-to-outward-symlink: import accepts; the victim keeps its mode" {
  import_accepts hardlink-to-outward-symlink
  assert_equal "$(readlink "$LAYER/sym")" "$VICTIM/hello"
  [ -f "$LAYER/hard" ] && [ ! -L "$LAYER/hard" ] || fail "hard is not a regular file"
  assert_equal "$(cat "$LAYER/hard")" "overwrite?"
  assert_equal "$(stat -c %a "$VICTIM/hello")" "644"
}

@test "tarforge link-then-file: import accepts; f keeps its content" {
  import_accepts link-then-file
  assert_equal "$(cat "$LAYER/f")" "original"
  assert_equal "$(cat "$LAYER/h")" "new"
}

@test "tarforge chmod-through-symlink: import accepts; nothing reaches the victim" {
  import_accepts chmod-through-symlink
  [ -f "$LAYER/s" ] && [ ! -L "$LAYER/s" ] || fail "s is not a regular file"
  [ -p "$LAYER/s2" ] || fail "s2 is not a fifo"
  [ -d "$LAYER/s3" ] && [ ! -L "$LAYER/s3" ] || fail "s3 is not a directory"
  assert_equal "$(stat -c %a "$VICTIM")" "755"
}

@test "tarforge devices: import accepts char, block and fifo nodes" {
  requires root
  import_accepts devices
  [ -c "$LAYER/dev/null" ] || fail "dev/null is not a char device"
  assert_equal "$(stat -c '%t:%T' "$LAYER/dev/null")" "1:3"
  [ -b "$LAYER/dev/loop0" ] || fail "dev/loop0 is not a block device"
  assert_equal "$(stat -c '%t:%T' "$LAYER/dev/loop0")" "7:0"
  [ -p "$LAYER/dev/fifo" ] || fail "dev/fifo is not a fifo"
}

@test "tarforge kaniko-abs-hardlink: import accepts h => /etc/f resolved in the layer" {
  import_accepts kaniko-abs-hardlink
  assert_equal "$(stat -c %i "$LAYER/h")" "$(stat -c %i "$LAYER/etc/f")"
  assert_equal "$(cat "$LAYER/h")" "shared"
}

@test "tarforge abs-name: import accepts /etc/abs as etc/abs" {
  import_accepts abs-name
  assert_equal "$(cat "$LAYER/etc/abs")" "abs"
}

@test "tarforge pax-longname: import accepts 300-byte names and link targets" {
  import_accepts pax-longname
  p=$(printf 'p%.0s' {1..99})
  assert_equal "$(cat "$LAYER/$p/$p/$p")" "pax"
  assert_equal "$(readlink "$LAYER/link")" "$(printf 't%.0s' {1..300})"
}

@test "tarforge gnu-longname: import accepts GNU long names and link targets" {
  import_accepts gnu-longname
  g=$(printf 'g%.0s' {1..99})
  assert_equal "$(cat "$LAYER/$g/$g/$g")" "gnu"
  assert_equal "$(readlink "$LAYER/link")" "$(printf 't%.0s' {1..300})"
}

@test "tarforge gzip-multimember: import accepts a pigz-style stream" {
  import_accepts gzip-multimember
  assert_equal "$(cat "$LAYER/a")" "first"
  assert_equal "$(cat "$LAYER/b")" "second"
}

@test "tarforge zstd: import accepts a zstd stream" {
  requires zstd
  import_accepts zstd
  assert_equal "$(cat "$LAYER/f")" "zstd"
}

@test "tarforge gzip-bomb: import of 1 GiB of zeros streams (bounded memory, CVE-2017-14992)" {
  forge gzip-bomb "$WORLD/case.tar"
  run /usr/bin/time -f 'maxrss=%MkB' "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" import "$WORLD/case.tar" ok:latest
  assert_success
  rss=$(sed -n 's/^maxrss=\([0-9]*\)kB$/\1/p' <<<"$output")
  [ "$rss" -lt 131072 ] || fail "import used ${rss} kB of memory for a streamed layer"
  LAYER=$(layer_dir ok:latest)
  assert_equal "$(stat -c %s "$LAYER/zeros")" "1073741824"
  run berth rmi ok:latest
  assert_success
}

# ---- tarforge's save archives: legal tarballs for import, refused by load ----------

@test "tarforge save-traversal-config: load rejects Config ../../../../tmp/x; import takes it as files" {
  load_rejects save-traversal-config
  import_accepts save-traversal-config
  [ -f "$LAYER/manifest.json" ] || fail "no manifest.json in the imported layer"
}

@test "tarforge save-traversal-layer: load rejects Layers ../../../../tmp/x/layer.tar; import takes it as files" {
  load_rejects save-traversal-layer
  import_accepts save-traversal-layer
  [ -f "$LAYER/c.json" ] || fail "no c.json in the imported layer"
}

@test "tarforge save-bad-tag: load rejects RepoTags ../../evil:latest; import takes it as files" {
  load_rejects save-bad-tag
  import_accepts save-bad-tag
}

@test "tarforge save-short-id: load rejects a 63-character id in repositories; import takes it as files" {
  load_rejects save-short-id
  import_accepts save-short-id
  [ -f "$LAYER/repositories" ] || fail "no repositories in the imported layer"
}

# ---- archforge through load -----------------------------------------------------

@test "archforge valid: the forged archives are otherwise well-formed (docker and OCI)" {
  archforge valid "$WORLD/ok.tar"
  run berth load -i "$WORLD/ok.tar"
  assert_success
  assert_output "Loaded image: forged:ok"
  run cat "$(layer_dir forged:ok)/hello"
  assert_output "hello from the forged layer"
}

@test "archforge valid-oci: the OCI variant loads too" {
  archforge valid-oci "$WORLD/ok.tar"
  run berth load -i "$WORLD/ok.tar"
  assert_success
  assert_output "Loaded image: forged:ok"
}

@test "archforge config-dotdot: load rejects Config ../../x" { archforge_rejects config-dotdot; }
@test "archforge layer-dotdot: load rejects Layers [../../x]" { archforge_rejects layer-dotdot; }
@test "archforge config-abs: load rejects an absolute Config with a valid config there" { archforge_rejects config-abs; }
@test "archforge layer-abs: load rejects an absolute layer with a valid layer there" { archforge_rejects layer-abs; }
@test "archforge config-symlink: load rejects a config member that links out of the archive" { archforge_rejects config-symlink; }
@test "archforge layer-symlink: load rejects a layer member that links out of the archive" { archforge_rejects layer-symlink; }
@test "archforge diffid-mismatch: load rejects a layer whose digest is not the diff_id" {
  archforge_rejects diffid-mismatch
  [[ $stderr == *diff* ]] || fail "the error does not say what mismatched: $stderr"
}
@test "archforge layer-count-mismatch: load rejects two diff_ids for one layer" { archforge_rejects layer-count-mismatch; }
@test "archforge evil-tag: load rejects RepoTags [../evil:latest]" {
  archforge_rejects evil-tag
  [[ $stderr == *"invalid reference format"* ]] || fail "stderr: $stderr"
}
@test "archforge uppercase-tag: load rejects RepoTags [Evil:latest]" { archforge_rejects uppercase-tag; }
@test "archforge missing-layer: load rejects a manifest naming an absent layer" { archforge_rejects missing-layer; }
@test "archforge missing-config: load rejects a manifest naming an absent config" { archforge_rejects missing-config; }
@test "archforge manifest-not-json: load rejects a manifest.json that is not JSON" { archforge_rejects manifest-not-json; }
@test "archforge manifest-wrong-type: load rejects a manifest.json object" { archforge_rejects manifest-wrong-type; }
@test "archforge config-not-json: load rejects a config that is not JSON" { archforge_rejects config-not-json; }
@test "archforge layer-traversal: load rejects a layer with ../victim/x" { archforge_rejects layer-traversal; }
@test "archforge layer-truncated-gzip: load rejects a cut gzip layer" { archforge_rejects layer-truncated-gzip; }
@test "archforge no-manifest: load rejects a tarball that is no image archive" { archforge_rejects no-manifest; }
@test "archforge truncated: load rejects an archive cut in half" { archforge_rejects truncated; }
@test "archforge oci-digest-dotdot: load rejects an index digest sha256:../../../../x" { archforge_rejects oci-digest-dotdot; }
@test "archforge oci-digest-short: load rejects a 63-digit digest" { archforge_rejects oci-digest-short; }
@test "archforge oci-blob-tampered: load rejects a blob that does not match its digest" { archforge_rejects oci-blob-tampered; }
@test "archforge oci-bad-ref: load rejects an image named ../evil:latest" { archforge_rejects oci-bad-ref; }

# ---- not archives at all --------------------------------------------------------

@test "a non-tar file: import and load reject it" {
  head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/junk"
  printf 'this is a text file, not a tarball\n' >"$BATS_TEST_TMPDIR/text"
  rejects import "$BATS_TEST_TMPDIR/junk"
  rejects import "$BATS_TEST_TMPDIR/text"
  rejects load "$BATS_TEST_TMPDIR/junk"
  rejects load "$BATS_TEST_TMPDIR/text"
}

@test "an empty file: import and load reject it" {
  : >"$BATS_TEST_TMPDIR/empty"
  rejects import "$BATS_TEST_TMPDIR/empty"
  rejects load "$BATS_TEST_TMPDIR/empty"
}

@test "empty stdin: import - and load reject it" {
  before=$(tree_state "$WORLD")
  run --separate-stderr berth import - evil:latest </dev/null
  assert_failure 1
  assert_clear_error
  run --separate-stderr berth load </dev/null
  assert_failure 1
  assert_clear_error
  assert_same_state "$before" "$(tree_state "$WORLD")"
}

@test "a truncated gzip import: rejected, nothing stored" {
  make_rootfs_tar "$BATS_TEST_TMPDIR/r.tar" a=1 b=2
  head -c 1000000 /dev/urandom >"$BATS_TEST_TMPDIR/rand"
  tar -C "$BATS_TEST_TMPDIR" -rf "$BATS_TEST_TMPDIR/r.tar" rand
  gzip -c "$BATS_TEST_TMPDIR/r.tar" | head -c 500000 >"$BATS_TEST_TMPDIR/cut.tar.gz"
  rm "$BATS_TEST_TMPDIR/r.tar" "$BATS_TEST_TMPDIR/rand"
  rejects import "$BATS_TEST_TMPDIR/cut.tar.gz"
}

# Headers tarfile will not write (tests/helpers/paxforge.py), from a review.
paxforge() { /usr/bin/python3 "$BERTH_SRC/tests/helpers/paxforge.py" "$1" "$BATS_TEST_TMPDIR/$1.tar"; }

@test "paxforge pax-chain: a second PAX header replaces the first; the entry is the one tar lists" {
  paxforge pax-chain
  run berth import "$BATS_TEST_TMPDIR/pax-chain.tar" chain:1
  assert_success
  dir=$(berth image inspect -f '{{.GraphDriver.Data.LowerDir}}' chain:1)
  assert_equal "$(ls "$dir")" "good"
}

@test "paxforge size-overflow, pax-length-overflow, xattr-flood: refused, nothing stored" {
  for c in size-overflow pax-length-overflow xattr-flood; do
    paxforge "$c"
    before=$(tree_state "$TEST_ROOT")
    run --separate-stderr berth import "$BATS_TEST_TMPDIR/$c.tar"
    [ "$status" -eq 1 ] || fail "$c: exit $status, output $output"
    [[ $stderr == Error:* ]] || fail "$c: stderr $stderr"
    assert_same_state "$before" "$(tree_state "$TEST_ROOT")"
  done
}
