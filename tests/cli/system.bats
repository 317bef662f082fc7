#!/usr/bin/env bats
# berth system df, system df -v, system prune.

load helpers

setup() {
  berth_setup
  requires busybox
}

DF_HEADER="TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE"

image_size() { berth image inspect -f '{{.Size}}' "$1"; }

@test "system df: docker's four rows on an empty store" {
  run --separate-stderr berth system df
  assert_success
  assert_equal "$stderr" ""
  assert_output "$DF_HEADER
Images          0         0         0B        0B
Containers      0         0         0B        0B
Local Volumes   0         0         0B        0B
Build Cache     0         0         0B        0B"
}

# berth's df tells what the images really occupy: each layer once, its
# unpacked content and its stored tar, plus configs and manifests (docker
# counts unpacked content only, as it keeps nothing else).
@test "system df: images count once however many tags; size is what the store holds" {
  bootstrap_busybox
  berth tag busybox other:1
  berth tag busybox other:2
  import_files imp:1 -- a=hello b/c=world
  size=$(store_image_bytes)
  [ "$size" -gt $(( $(image_size busybox) + $(image_size imp:1) )) ] || fail "df size $size below the content size"
  run berth system df
  assert_success
  assert_equal "${lines[0]}" "$DF_HEADER"
  assert_equal "${lines[1]}" "$(printf '%-16s%-10s%-10s%-10s%s' Images 2 0 "$(human_size4 $size)" "$(human_size4 $size) (100%)")"
  assert_table_aligned "$output" TYPE TOTAL ACTIVE SIZE RECLAIMABLE
}

@test "system df: two images on one layer count the layer once" {
  bootstrap_busybox
  layer=$(berth image inspect -f '{{index .RootFS.Layers 0}}' busybox)
  berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox
  tar -xOf "$BATS_TEST_TMPDIR/bb.tar" "blobs/sha256/${layer#sha256:}" >"$BATS_TEST_TMPDIR/layer.tar"
  run berth import -c 'CMD ["ls"]' "$BATS_TEST_TMPDIR/layer.tar" same:1
  assert_success
  assert_equal "$(berth image inspect -f '{{json .RootFS.Layers}}' same:1)" "[\"$layer\"]"
  size=$(store_image_bytes)
  [ "$size" -lt $(( 3 * $(image_size busybox) )) ] || fail "the shared layer counted twice: $size"
  run berth system df --format '{{.Type}}|{{.TotalCount}}|{{.Size}}'
  assert_line "Images|2|$(human_size4 "$size")"
}

@test "system df --format: docker's fields; json gives one object per row" {
  bootstrap_busybox
  size=$(human_size4 "$(store_image_bytes)")
  run berth system df --format '{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}'
  assert_success
  assert_output "Images|1|0|$size|$size (100%)
Containers|0|0|0B|0B
Local Volumes|0|0|0B|0B
Build Cache|0|0|0B|0B"
  run berth system df --format 'table {{.Type}}\t{{.Size}}'
  assert_equal "${lines[0]}" "TYPE            SIZE"
  for fmt in json '{{json .}}'; do
    run berth system df --format "$fmt"
    assert_success
    assert_equal "${#lines[@]}" 4
    run jq -e -s --arg s "$size" 'map(.Type) == ["Images","Containers","Local Volumes","Build Cache"]
      and .[0].Size == $s and .[0].TotalCount == "1" and .[0].Active == "0"
      and .[0].Reclaimable == ($s + " (100%)")' <<<"$output"
    assert_success
  done
}

@test "system df -v: one row per image with shared and unique sizes, then the other sections" {
  bootstrap_busybox
  berth tag busybox other:1
  import_files imp:1 -- a=hello
  run --separate-stderr berth system df -v
  assert_success
  assert_equal "${lines[0]}" "Images space usage:"
  [[ ${lines[1]} =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED\ +SIZE\ +SHARED\ SIZE\ +UNIQUE\ SIZE\ +CONTAINERS$ ]] ||
    fail "header: ${lines[1]}"
  # One row per image, under its first tag; SIZE has 3 digits, the others 4.
  bb=$(human_size "$(image_size busybox)")
  bb4=$(human_size4 "$(image_size busybox)")
  assert_line --regexp "^(busybox +latest|other +1) +${BUSYBOX_ID:7:12} +.* +$bb +0B +$bb4 +0$"
  assert_equal "$(grep -c " ${BUSYBOX_ID:7:12} " <<<"$output")" 1
  assert_line --regexp "^imp +1 +${IMPORTED_ID:7:12} +"
  assert_line "Containers space usage:"
  assert_line --regexp '^CONTAINER ID +IMAGE +COMMAND +LOCAL VOLUMES +SIZE +CREATED +STATUS +NAMES$'
  assert_line "Local Volumes space usage:"
  assert_line --regexp '^VOLUME NAME +LINKS +SIZE$'
  assert_line "Build cache usage: 0B"
  # The images table is a table of its own.
  table=$(sed -n '2,/^$/p' <<<"$output" | sed '/^$/d')
  assert_table_aligned "$table" REPOSITORY TAG "IMAGE ID" CREATED SIZE "SHARED SIZE" "UNIQUE SIZE" CONTAINERS
}

@test "system df: containers listed in -v; the build cache is RUN --mount=type=cache's content" {
  bootstrap_busybox
  berth run --name wrote busybox sh -c 'printf 12345 >/f' >/dev/null
  printf 'FROM busybox\nRUN --mount=type=cache,target=/c dd if=/dev/zero of=/c/blob bs=1024 count=200\n' \
    >"$BATS_TEST_TMPDIR/Dockerfile"
  berth build -q -t cached "$BATS_TEST_TMPDIR" >/dev/null
  run --separate-stderr berth system df --format '{{.Type}} {{.TotalCount}} {{.Active}}'
  assert_line "Build Cache 1 0"
  run --separate-stderr berth system df -v
  assert_success
  assert_line --regexp "^$(berth inspect -f '{{.Id}}' wrote | cut -c1-12) +busybox +\"sh -c printf 12345 …\" +0 +5B +.* ago +Exited \(0\) .* +wrote$"
  # 200 KiB and the directory itself: 4 significant digits as docker's units
  assert_line --regexp '^Build cache usage: 20[0-9]\.[0-9]kB$'
  assert_line --regexp '^CACHE ID +CACHE TYPE +SIZE +CREATED +LAST USED +USAGE +SHARED$'
  assert_line --regexp '^[0-9a-f]{12} +exec.cachemount +20[0-9]\.[0-9]kB +.* ago +.* ago +0 +false$'
  # builder prune -a takes it away
  berth builder prune -a -f >/dev/null
  run --separate-stderr berth system df --format '{{.Type}} {{.TotalCount}} {{.Size}}'
  assert_line "Build Cache 0 0B"
}

@test "system prune -f: removes dangling images, keeps tagged ones" {
  bootstrap_busybox
  import_files "" -- a=1
  dangling=$IMPORTED_ID
  run --separate-stderr berth system prune -f
  assert_success
  assert_equal "$stderr" ""
  assert_line "Deleted Images:"
  assert_line "deleted: $dangling"
  assert_line --regexp '^Total reclaimed space: [0-9.]+[kMG]?B$'
  run berth images -a -q --no-trunc
  assert_output "$BUSYBOX_ID"
}

@test "system prune -f with nothing to remove: 'Total reclaimed space: 0B'" {
  bootstrap_busybox
  run berth system prune -f
  assert_success
  assert_output "Total reclaimed space: 0B"
}

@test "system prune -a -f: removes every unused image" {
  bootstrap_busybox
  import_files imp:1 -- a=1
  run berth system prune -a -f
  assert_success
  assert_line "untagged: busybox:latest"
  assert_line "deleted: $BUSYBOX_ID"
  assert_line "untagged: imp:1"
  run berth images -a -q
  assert_output ""
}

@test "system prune without -f asks; 'n' keeps everything, exit 0" {
  bootstrap_busybox
  import_files "" -- a=1
  before=$(tree_state "$TEST_ROOT")
  run --separate-stderr berth system prune <<<"n"
  assert_success
  assert_equal "$output" "WARNING! This will remove:
  - all stopped containers
  - all networks not used by at least one container
  - all dangling images
  - unused build cache

Are you sure you want to continue? [y/N] "
  assert_same_state "$before" "$(tree_state "$TEST_ROOT")"
}

@test "system prune -a without -f warns about all images without a container" {
  bootstrap_busybox
  run berth system prune -a <<<"n"
  assert_success
  assert_line "  - all images without at least one container associated to them"
  run berth images -q
  assert_output "${BUSYBOX_ID:7:12}"
}

@test "system prune: 'y' prunes" {
  bootstrap_busybox
  import_files "" -- a=1
  run berth system prune <<<"y"
  assert_success
  assert_line "deleted: $IMPORTED_ID"
  run berth images -a -q --no-trunc
  assert_output "$BUSYBOX_ID"
}
