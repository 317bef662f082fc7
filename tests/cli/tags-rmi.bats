#!/usr/bin/env bats
# berth tag, berth rmi / image rm / image remove, berth image prune.

load helpers

setup() {
  berth_setup
  requires busybox
}

# The image's first layer (chain id = diff id for a one-layer image).
first_layer() { berth image inspect -f '{{index .RootFS.Layers 0}}' "$1"; }

# ---- tag ---------------------------------------------------------------------

@test "tag: the new name lists with the same id; no output" {
  bootstrap_busybox
  run --separate-stderr berth tag busybox myrepo/bb:v1
  assert_success
  assert_equal "$output$stderr" ""
  run berth images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  assert_line "busybox:latest ${BUSYBOX_ID:7:12}"
  assert_line "myrepo/bb:v1 ${BUSYBOX_ID:7:12}"
  assert_equal "$(image_id myrepo/bb:v1)" "$BUSYBOX_ID"
  run berth image inspect -f '{{json .RepoTags}}' busybox
  run jq -e 'sort == ["busybox:latest","myrepo/bb:v1"]' <<<"$output"
  assert_success
}

@test "tag: a missing tag means latest; source by short id, full id and digest-less name" {
  bootstrap_busybox
  run berth tag busybox mybox
  assert_success
  run berth tag "${BUSYBOX_ID:7:12}" byshort:1
  assert_success
  run berth tag "$BUSYBOX_ID" byfull:1
  assert_success
  run berth image tag docker.io/library/busybox:latest viaimage:1
  assert_success
  run berth images --format '{{.Repository}}:{{.Tag}}'
  for t in mybox:latest byshort:1 byfull:1 viaimage:1; do
    assert_line "$t"
  done
}

@test "tag: retagging moves the tag and leaves the old image dangling" {
  bootstrap_busybox
  import_files app:1 -- a=1
  old=$IMPORTED_ID
  run berth tag busybox app:1
  assert_success
  assert_equal "$(image_id app:1)" "$BUSYBOX_ID"
  run berth images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  assert_line "<none>:<none> ${old:7:12}"
  assert_line "app:1 ${BUSYBOX_ID:7:12}"
  run berth images -q -f dangling=true
  assert_output "${old:7:12}"
}

@test "tag: a digest reference as target is refused, exit 1" {
  bootstrap_busybox
  before=$(tree_state "$TEST_ROOT")
  run --separate-stderr berth tag busybox "myrepo@sha256:$(printf 'a%.0s' {1..64})"
  assert_failure 1
  assert_equal "$output" ""
  [[ $stderr =~ refusing\ to\ create\ a\ tag\ with\ a\ digest\ reference$ ]] || fail "stderr: $stderr"
  assert_same_state "$before" "$(tree_state "$TEST_ROOT")"
}

@test "tag: an invalid reference is 'invalid reference format', exit 1" {
  bootstrap_busybox
  before=$(tree_state "$TEST_ROOT")
  for bad in 'a:b:c' '../evil' 'a b' ':tag' 'x:-bad' "repo:$(printf 't%.0s' {1..129})"; do
    run --separate-stderr berth tag busybox "$bad"
    [ "$status" -eq 1 ] || fail "tag '$bad': exit $status"
    [[ $stderr == *"\"$bad\" is not a valid repository/tag: invalid reference format" ]] ||
      fail "tag '$bad': stderr '$stderr'"
  done
  assert_same_state "$before" "$(tree_state "$TEST_ROOT")"
}

@test "tag: an uppercase repository is refused with docker's text" {
  bootstrap_busybox
  run --separate-stderr berth tag busybox Foo
  assert_failure 1
  [[ $stderr == *'"Foo" is not a valid repository/tag: invalid reference format: repository name (library/Foo) must be lowercase' ]] ||
    fail "stderr: $stderr"
  run berth images -q
  assert_output "${BUSYBOX_ID:7:12}"
}

@test "tag: a missing source is 'No such image', exit 1" {
  run --separate-stderr berth tag nosuch other:1
  assert_failure 1
  [[ $stderr =~ ^Error:\ No\ such\ image:\ nosuch(:latest)?$ ]] || fail "stderr: $stderr"
}

# ---- rmi -----------------------------------------------------------------------

@test "rmi: the last tag untags and deletes image and layer" {
  bootstrap_busybox
  layer=$(first_layer busybox)
  run --separate-stderr berth rmi busybox
  assert_success
  assert_equal "$stderr" ""
  assert_equal "${lines[0]}" "Untagged: busybox:latest"
  assert_equal "${lines[1]}" "Deleted: $BUSYBOX_ID"
  assert_line "Deleted: $layer"
  run berth images -q
  assert_output ""
}

@test "rmi: one of several tags only untags" {
  bootstrap_busybox
  berth tag busybox other:1
  run berth rmi other:1
  assert_success
  assert_output "Untagged: other:1"
  run berth images --format '{{.Repository}}:{{.Tag}}'
  assert_output "busybox:latest"
}

@test "rmi: several at once, and the aliases image rm / image remove" {
  bootstrap_busybox
  import_files a:1 -- a=1
  a=$IMPORTED_ID
  import_files b:1 -- b=1
  b=$IMPORTED_ID
  import_files c:1 -- c=1
  c=$IMPORTED_ID
  run berth rmi a:1 b:1
  assert_success
  assert_line "Untagged: a:1"
  assert_line "Deleted: $a"
  assert_line "Untagged: b:1"
  assert_line "Deleted: $b"
  run berth image rm c:1
  assert_success
  assert_line "Deleted: $c"
  run berth image remove busybox
  assert_success
  assert_line "Deleted: $BUSYBOX_ID"
  run berth images -q
  assert_output ""
}

@test "rmi: by short id (one tag)" {
  bootstrap_busybox
  run berth rmi "${BUSYBOX_ID:7:12}"
  assert_success
  assert_line "Untagged: busybox:latest"
  assert_line "Deleted: $BUSYBOX_ID"
  run berth images -q
  assert_output ""
}

@test "rmi: by id, two tags even in one repository need -f (moby's isSingleReference)" {
  bootstrap_busybox
  berth tag busybox busybox:v2
  run --separate-stderr berth rmi "${BUSYBOX_ID:7:12}"
  assert_failure 1
  assert_equal "$stderr" "Error: conflict: unable to delete ${BUSYBOX_ID:7:12} (must be forced) - image is referenced in multiple repositories"
  run berth rmi -f "${BUSYBOX_ID:7:12}"
  assert_success
  assert_line "Untagged: busybox:latest"
  assert_line "Untagged: busybox:v2"
  assert_line "Deleted: $BUSYBOX_ID"
}

@test "rmi: by id, an image in two repositories needs -f (conflict, exit 1)" {
  bootstrap_busybox
  berth tag busybox other:1
  before=$(tree_state "$TEST_ROOT")
  run --separate-stderr berth rmi "${BUSYBOX_ID:7:12}"
  assert_failure 1
  assert_equal "$output" ""
  assert_equal "$stderr" "Error: conflict: unable to delete ${BUSYBOX_ID:7:12} (must be forced) - image is referenced in multiple repositories"
  assert_same_state "$before" "$(tree_state "$TEST_ROOT")"
  run berth rmi -f "${BUSYBOX_ID:7:12}"
  assert_success
  assert_line "Untagged: busybox:latest"
  assert_line "Untagged: other:1"
  assert_line "Deleted: $BUSYBOX_ID"
  run berth images -q
  assert_output ""
}

@test "rmi: a missing image is an error, exit 1, and the others are still removed" {
  bootstrap_busybox
  import_files a:1 -- a=1
  run --separate-stderr berth rmi nosuch busybox a:1
  assert_failure 1
  assert_equal "$stderr" "Error: No such image: nosuch"
  assert_line "Untagged: busybox:latest"
  assert_line "Deleted: $BUSYBOX_ID"
  assert_line "Untagged: a:1"
  run berth images -q
  assert_output ""
  run --separate-stderr berth rmi nosuch:2 other:3
  assert_failure 1
  assert_equal "$output" ""
  assert_equal "$stderr" "Error: No such image: nosuch:2
Error: No such image: other:3"
}

@test "rmi: an image shared by another image's layer keeps the layer" {
  bootstrap_busybox
  layer=$(first_layer busybox)
  # The very layer tarball, imported with another config: two images, one layer.
  berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox
  tar -xOf "$BATS_TEST_TMPDIR/bb.tar" "blobs/sha256/${layer#sha256:}" >"$BATS_TEST_TMPDIR/layer.tar"
  run berth import -c 'CMD ["ls"]' "$BATS_TEST_TMPDIR/layer.tar" two:1
  assert_success
  assert_equal "$(first_layer two:1)" "$layer"
  run berth rmi busybox
  assert_success
  refute_line "Deleted: $layer"
  run berth image inspect -f '{{.GraphDriver.Data.LowerDir}}' two:1
  assert_success
  [ -d "$output" ] || fail "two:1's layer dir '$output' is gone"
  [ -f "$output/bin/busybox" ] || fail "two:1's layer lost bin/busybox"
}

@test "rmi: no layer or blob outlives the images (no orphan files)" {
  run berth images
  assert_success
  empty=$(store_files)
  bootstrap_busybox
  berth tag busybox other:1
  import_files a:1 -c 'LABEL x=y' -- a=1 d/b=2
  import_files "" -- c=3
  dangling=$IMPORTED_ID
  [ "$(store_files)" != "$empty" ] || fail "nothing was stored"
  run berth rmi -f busybox other:1 a:1 "$dangling"
  assert_success
  assert_equal "$(store_files)" "$empty"
  run berth images -a -q
  assert_output ""
}

# ---- image prune -----------------------------------------------------------------

@test "image prune -f: removes dangling images only" {
  bootstrap_busybox
  import_files "" -- a=1
  dangling=$IMPORTED_ID
  run --separate-stderr berth image prune -f
  assert_success
  assert_equal "$stderr" ""
  assert_equal "${lines[0]}" "Deleted Images:"
  assert_line "deleted: $dangling"
  refute_line --partial "$BUSYBOX_ID"
  assert_line --regexp '^Total reclaimed space: [0-9.]+[kMG]?B$'
  run berth images -a -q
  assert_output "${BUSYBOX_ID:7:12}"
}

@test "image prune -f with nothing to prune: only the total, 0B" {
  bootstrap_busybox
  run berth image prune -f
  assert_success
  assert_output "Total reclaimed space: 0B"
}

@test "image prune -a -f: removes every image no container uses, and their files" {
  run berth images
  empty=$(store_files)
  bootstrap_busybox
  import_files a:1 -- a=1
  a=$IMPORTED_ID
  import_files "" -- b=1
  b=$IMPORTED_ID
  run berth image prune -a -f
  assert_success
  assert_equal "${lines[0]}" "Deleted Images:"
  assert_line "untagged: busybox:latest"
  assert_line "deleted: $BUSYBOX_ID"
  assert_line "untagged: a:1"
  assert_line "deleted: $a"
  assert_line "deleted: $b"
  assert_line --regexp '^Total reclaimed space: [0-9.]+[kMG]?B$'
  run berth images -a -q
  assert_output ""
  assert_equal "$(store_files)" "$empty"
}

@test "image prune: the reclaimed space is what the images held, what system df called reclaimable" {
  bootstrap_busybox
  import_files "" -- a=1
  size=$(store_image_bytes)
  run berth system df --format '{{.Type}}|{{.Reclaimable}}'
  assert_success
  assert_line "Images|$(human_size4 $size) (100%)"
  run berth image prune -a -f
  assert_success
  assert_line "Total reclaimed space: $(human_size4 $size)"
}

@test "image prune without -f asks; 'n' keeps everything, exit 0" {
  bootstrap_busybox
  import_files "" -- a=1
  before=$(tree_state "$TEST_ROOT")
  run --separate-stderr berth image prune <<<"n"
  assert_success
  assert_equal "$output" "WARNING! This will remove all dangling images.
Are you sure you want to continue? [y/N] "
  assert_same_state "$before" "$(tree_state "$TEST_ROOT")"
  # No answer at all is no.
  run berth image prune </dev/null
  assert_success
  assert_same_state "$before" "$(tree_state "$TEST_ROOT")"
}

@test "image prune without -f asks; 'y' prunes" {
  bootstrap_busybox
  import_files "" -- a=1
  run berth image prune <<<"y"
  assert_success
  assert_line --index 0 --partial "WARNING! This will remove all dangling images."
  assert_line "deleted: $IMPORTED_ID"
  assert_line --regexp '^Total reclaimed space: '
  run berth images -a -q
  assert_output "${BUSYBOX_ID:7:12}"
}

@test "image prune -a without -f warns about all unused images" {
  bootstrap_busybox
  run berth image prune -a <<<"n"
  assert_success
  assert_output "WARNING! This will remove all images without at least one container associated to them.
Are you sure you want to continue? [y/N] "
  run berth images -q
  assert_output "${BUSYBOX_ID:7:12}"
}

@test "image prune --filter label=...: only matching images" {
  bootstrap_busybox
  import_files keep:1 -c 'LABEL keep=yes' -- a=1
  import_files drop:1 -c 'LABEL drop=yes' -- a=2
  drop=$IMPORTED_ID
  run berth image prune -a -f --filter label=drop=yes
  assert_success
  assert_line "deleted: $drop"
  run berth images --format '{{.Repository}}'
  assert_equal "$(sort <<<"$output")" "busybox
keep"
}

@test "prune racing imports never leaves an image without its layers or blobs" {
  bootstrap_busybox
  for i in $(seq 1 8); do
    make_rootfs_tar "$BATS_TEST_TMPDIR/r$i.tar" "f$i=$i"
  done
  (for _ in $(seq 1 15); do berth image prune -a -f >/dev/null 2>&1; done) &
  pruner=$!
  for i in $(seq 1 8); do
    berth import "$BATS_TEST_TMPDIR/r$i.tar" "race:$i" >/dev/null 2>&1 &
  done
  wait
  # Every image the table still lists is whole: it saves and its layer is there.
  for ref in $(berth images --format '{{.Repository}}:{{.Tag}}'); do
    run berth save -o "$BATS_TEST_TMPDIR/s.tar" "$ref"
    assert_success
    dir=$(berth image inspect -f '{{.GraphDriver.Data.LowerDir}}' "$ref")
    [ -d "$dir" ] || fail "$ref: layer dir $dir missing"
  done
  run berth images -q -a
  assert_success
}
