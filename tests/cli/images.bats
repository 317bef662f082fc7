#!/usr/bin/env bats
# berth image bootstrap busybox, and berth images / image ls / image list.

load helpers

HEADER="REPOSITORY   TAG       IMAGE ID       CREATED        SIZE"
# With no rows, each column is just its label plus 3 (at least 10 wide).
EMPTY_HEADER="REPOSITORY   TAG       IMAGE ID   CREATED   SIZE"

setup() {
  berth_setup
  requires busybox
}

# CREATED is the time since each image was made, so two listings may differ
# by when they ran.  Run "$@" (setting variables) between two looks at every
# image's CREATED, again until both looks agree: CREATED only ever moves on,
# so it held all along.  The images used are months old (the bootstrap's
# busybox binary): a look that straddles a change is a rare first try.
with_created_still() {
  local before i
  for i in 1 2 3; do
    before=$(berth images -a --format '{{.ID}} {{.CreatedSince}}')
    "$@"
    [ "$before" = "$(berth images -a --format '{{.ID}} {{.CreatedSince}}')" ] && return 0
  done
  fail "CREATED changed during each of 3 tries"
}

# ---- image bootstrap busybox ------------------------------------------------

@test "bootstrap busybox: prints the image id, lists as busybox:latest" {
  run --separate-stderr berth image bootstrap busybox
  assert_success
  assert_output --regexp '^sha256:[0-9a-f]{64}$'
  id=$output
  run berth images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  assert_success
  assert_output "busybox:latest ${id:7:12}"
  assert_equal "$(image_id busybox)" "$id"
}

@test "bootstrap busybox REF: names the image REF (default tag latest)" {
  bootstrap_busybox mybox:1.0
  bootstrap_busybox other/box
  run berth images --format '{{.Repository}}:{{.Tag}}'
  assert_success
  assert_line "mybox:1.0"
  assert_line "other/box:latest"
  refute_line "busybox:latest"
}

@test "bootstrap busybox: the layer has the applets, sh a hard link of busybox, root in passwd, /tmp 1777" {
  bootstrap_busybox
  dir=$(layer_dir busybox)
  [ -d "$dir" ] || fail "LowerDir '$dir' is not a directory"
  [ -f "$dir/bin/busybox" ] && [ -x "$dir/bin/busybox" ] || fail "no executable bin/busybox"
  assert_equal "$(stat -c %i "$dir/bin/sh")" "$(stat -c %i "$dir/bin/busybox")"
  for applet in ls cat echo mkdir rm sleep; do
    found=
    for d in bin sbin usr/bin usr/sbin; do
      [ -e "$dir/$d/$applet" ] && found=$d
    done
    [ -n "$found" ] || fail "no applet $applet"
    assert_equal "$(stat -c %i "$dir/$found/$applet")" "$(stat -c %i "$dir/bin/busybox")"
  done
  run grep -E '^root:[^:]*:0:0:' "$dir/etc/passwd"
  assert_success
  [ -f "$dir/etc/group" ] || fail "no etc/group"
  assert_equal "$(stat -c %a "$dir/tmp")" "1777"
  # The binary is the host's busybox, byte for byte.
  assert_equal "$(sha256sum <"$dir/bin/busybox")" "$(sha256sum <"$(command -v busybox)")"
}

@test "bootstrap busybox: Cmd [sh], a PATH, linux on the host's architecture" {
  bootstrap_busybox
  run berth image inspect -f '{{json .Config.Cmd}}|{{.Os}}' busybox
  assert_success
  assert_output '["sh"]|linux'
  run berth image inspect busybox
  assert_success
  run jq -e '.[0].Config.Env | any(startswith("PATH="))' <<<"$output"
  assert_success
}

@test "bootstrap busybox is reproducible: twice, and in another store, gives the same id" {
  bootstrap_busybox
  first=$BUSYBOX_ID
  bootstrap_busybox
  assert_equal "$BUSYBOX_ID" "$first"
  run berth images -q
  assert_output "${first:7:12}"
  run berth2 image bootstrap busybox
  assert_success
  assert_equal "$output" "$first"
}

@test "bootstrap of an unknown kind fails, exit 1, nothing stored" {
  run --separate-stderr berth image bootstrap alpine
  assert_failure 1
  assert_equal "$output" ""
  [[ $stderr == Error:*alpine* ]] || fail "stderr: $stderr"
  run berth images -q
  assert_output ""
}

# ---- images: the table ------------------------------------------------------

@test "images: exact header on an empty store" {
  for cmd in images "image ls" "image list"; do
    # shellcheck disable=SC2086
    run --separate-stderr berth $cmd
    assert_success
    assert_equal "$stderr" ""
    assert_output "$EMPTY_HEADER"
  done
}

@test "images: exact header with images" {
  bootstrap_busybox
  import_files "" -- a=1
  run berth images
  assert_success
  assert_equal "${lines[0]%% CREATED*}" "${HEADER%% CREATED*}"
  assert_table_aligned "$output" REPOSITORY TAG "IMAGE ID" CREATED SIZE
}

@test "images: one row per tag, docker's spacing" {
  bootstrap_busybox
  list() {
    created=$(berth images --format '{{.CreatedSince}}')
    run berth images
  }
  with_created_still list
  assert_success
  # CREATED is as wide as "6 months ago" or wider; build the row tabwriter-style.
  w=$(( ${#created} + 3 > 15 ? ${#created} + 3 : 15 ))
  hdr=$(printf '%-13s%-10s%-15s%-*s%s' REPOSITORY TAG "IMAGE ID" "$w" CREATED SIZE)
  row=$(printf '%-13s%-10s%-15s%-*s%s' busybox latest "${BUSYBOX_ID:7:12}" "$w" "$created" \
    "$(human_size "$(berth image inspect -f '{{.Size}}' busybox)")")
  assert_equal "${lines[0]}" "$hdr"
  assert_equal "${lines[1]}" "$row"
  assert_equal "${#lines[@]}" 2
}

@test "images: columns widen to the longest cell plus 3" {
  bootstrap_busybox
  long=registry.example.com:5000/a-rather-long/repository-name
  run berth tag busybox "$long:a-long-tag-name"
  assert_success
  run berth images
  assert_success
  assert_equal "${#lines[@]}" 3
  assert_table_aligned "$output" REPOSITORY TAG "IMAGE ID" CREATED SIZE
  [[ ${lines[0]} == "REPOSITORY$(printf '%*s' $((${#long} + 3 - 10)) '')TAG$(printf '%*s' $((15 + 3 - 3)) '')IMAGE ID"* ]] ||
    fail "header: '${lines[0]}'"
  assert_line --regexp "^$long   a-long-tag-name   ${BUSYBOX_ID:7:12}   "
}

@test "images, image ls, image list give the same rows" {
  bootstrap_busybox
  berth tag busybox imp:1
  list() {
    want=$(berth images)
    ls=$(berth image ls)
    list=$(berth image list)
  }
  with_created_still list
  assert_equal "$(wc -l <<<"$want")" 3
  assert_equal "$ls" "$want"
  assert_equal "$list" "$want"
}

@test "images: dangling images show as <none> <none>" {
  bootstrap_busybox
  import_files "" -- a=1
  run berth images
  assert_success
  assert_line --regexp "^<none> +<none> +${IMPORTED_ID:7:12} +"
  assert_table_aligned "$output" REPOSITORY TAG "IMAGE ID" CREATED SIZE
  run berth images --format '{{.Repository}}|{{.Tag}}|{{.Digest}}' "--filter=dangling=true"
  assert_output "<none>|<none>|<none>"
}

@test "images -a: shows every image (no intermediates exist)" {
  bootstrap_busybox
  import_files "" -- a=1
  run berth images -a -q
  assert_success
  assert_line "${BUSYBOX_ID:7:12}"
  assert_line "${IMPORTED_ID:7:12}"
  assert_equal "${#lines[@]}" 2
}

@test "images -q: one short id per row (docker repeats an id for each of its tags)" {
  bootstrap_busybox
  import_files imp:1 -- a=1
  run berth images -q
  assert_success
  for l in "${lines[@]}"; do
    [[ $l =~ ^[0-9a-f]{12}$ ]] || fail "not a short id: '$l'"
  done
  assert_equal "$(printf '%s\n' "${lines[@]}" | sort -u)" "$(printf '%s\n%s\n' "${BUSYBOX_ID:7:12}" "${IMPORTED_ID:7:12}" | sort)"
  run berth tag busybox second:tag
  run berth images -q
  assert_equal "${#lines[@]}" "$(($(berth images | wc -l) - 1))"
  run berth images -q --no-trunc imp
  assert_output "$IMPORTED_ID"
}

@test "images --no-trunc: full sha256 ids" {
  bootstrap_busybox
  run berth images --no-trunc
  assert_success
  assert_line --index 0 --regexp '^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$'
  assert_line --index 1 --regexp "^busybox +latest +$BUSYBOX_ID +"
  assert_table_aligned "$output" REPOSITORY TAG "IMAGE ID" CREATED SIZE
}

@test "images --digests: a DIGEST column, <none> for local images" {
  bootstrap_busybox
  run berth images --digests
  assert_success
  assert_equal "${lines[0]%% CREATED*}" "REPOSITORY   TAG       DIGEST    IMAGE ID      "
  assert_line --index 1 --regexp "^busybox +latest +<none> +${BUSYBOX_ID:7:12} +"
  assert_table_aligned "$output" REPOSITORY TAG DIGEST "IMAGE ID" CREATED SIZE
}

@test "images REPOSITORY[:TAG]: the positional argument filters" {
  bootstrap_busybox
  berth tag busybox busybox:v2
  import_files imp:1 -- a=1
  run berth images --format '{{.Repository}}:{{.Tag}}' busybox
  assert_success
  assert_equal "$(sort <<<"$output")" "busybox:latest
busybox:v2"
  run berth images --format '{{.Repository}}:{{.Tag}}' busybox:v2
  assert_output "busybox:v2"
  run berth images --format '{{.Repository}}:{{.Tag}}' docker.io/library/busybox:latest
  assert_output "busybox:latest"
  run berth images nosuch
  assert_success
  assert_output "$EMPTY_HEADER"
}

# ---- images --filter ---------------------------------------------------------

@test "images -f dangling=true|false" {
  bootstrap_busybox
  import_files "" -- a=1
  run berth images -q -f dangling=true
  assert_output "${IMPORTED_ID:7:12}"
  run berth images -q -f dangling=false
  assert_output "${BUSYBOX_ID:7:12}"
}

@test "images -f reference=PATTERN: glob on the name, and on name:tag" {
  bootstrap_busybox
  berth tag busybox busybox:v2
  berth tag busybox other/busy:1
  import_files imp:1 -- a=1
  run berth images --format '{{.Repository}}:{{.Tag}}' -f 'reference=busy*'
  assert_success
  assert_equal "$(sort <<<"$output")" "busybox:latest
busybox:v2"
  run berth images --format '{{.Repository}}:{{.Tag}}' -f 'reference=*:v2'
  assert_output "busybox:v2"
  run berth images --format '{{.Repository}}:{{.Tag}}' -f 'reference=*/busy*'
  assert_output "other/busy:1"
  run berth images --format '{{.Repository}}:{{.Tag}}' -f 'reference=imp' -f 'reference=nosuch'
  assert_output "imp:1"
}

@test "images -f before= and since=: by creation time of the named image" {
  bootstrap_busybox
  sleep 1.1 # creation times are in seconds; keep the imports after busybox
  import_files new:1 -- a=1
  run berth images -q -f before=new:1
  assert_output "${BUSYBOX_ID:7:12}"
  run berth images -q -f since=busybox
  assert_output "${IMPORTED_ID:7:12}"
  run berth images -q -f "since=${BUSYBOX_ID:7:12}"
  assert_output "${IMPORTED_ID:7:12}"
  run berth images -q -f before=busybox
  assert_output ""
  run --separate-stderr berth images -q -f before=nosuch
  assert_failure 1
  [[ $stderr =~ No\ such\ image:\ nosuch ]] || fail "stderr: $stderr"
}

@test "images -f label=KEY and label=KEY=VALUE" {
  bootstrap_busybox
  import_files l1:1 -c 'LABEL k=v' -- a=1
  l1=$IMPORTED_ID
  import_files l2:1 -c 'LABEL k=w other=x' -- a=2
  l2=$IMPORTED_ID
  run berth images --format '{{.Repository}}' -f label=k
  assert_equal "$(sort <<<"$output")" "l1
l2"
  run berth images --format '{{.Repository}}' -f label=k=v
  assert_output "l1"
  run berth images --format '{{.Repository}}' -f label=other
  assert_output "l2"
  run berth images --format '{{.Repository}}' -f label=k=v -f label=other
  assert_output ""
  run berth images --format '{{.Repository}}' -f label=nope
  assert_output ""
}

@test "images -f until=: timestamps and durations" {
  bootstrap_busybox
  bb_created=$(date -d "$(berth image inspect -f '{{.Created}}' busybox)" +%s)
  [ $(($(date +%s) - bb_created)) -gt 10 ] || skip "the host's busybox binary is younger than 10 s"
  import_files new:1 -- a=1
  run berth images -q -f "until=$((bb_created + 1))"
  assert_success
  assert_output "${BUSYBOX_ID:7:12}"
  run berth images -q -f until=5s
  assert_success
  assert_output "${BUSYBOX_ID:7:12}"
  run berth images -q -f "until=$(date -u -d @$((bb_created - 1)) +%Y-%m-%dT%H:%M:%SZ)"
  assert_output ""
}

@test "images: an invalid filter is an error, exit 1" {
  run --separate-stderr berth images -f bogus=1
  assert_failure 1
  assert_equal "$output" ""
  assert_equal "$stderr" "Error: invalid filter 'bogus'"
  run --separate-stderr berth images -f dangling=maybe
  assert_failure 1
  [[ $stderr =~ ^Error:\ .*dangling ]] || fail "stderr: $stderr"
}

@test "images -f without '=': a flag error, exit 125 (docker)" {
  run --separate-stderr berth images -f foo
  assert_failure 125
  assert_equal "${stderr%%$'\n'*}" 'invalid argument "foo" for "-f, --filter" flag: bad format of filter (expected name=value)'
}

# ---- images --format ---------------------------------------------------------

@test "images --format '{{.Repository}}:{{.Tag}}'" {
  bootstrap_busybox
  berth tag busybox b:2
  run berth images --format '{{.Repository}}:{{.Tag}}'
  assert_success
  assert_equal "$(sort <<<"$output")" "b:2
busybox:latest"
}

@test "images --format '{{json .}}' and --format json: one JSON object per row, docker's keys" {
  bootstrap_busybox
  import_files "" -- a=1
  for fmt in '{{json .}}' json; do
    run --separate-stderr berth images --format "$fmt"
    assert_success
    assert_equal "${#lines[@]}" 2
    for l in "${lines[@]}"; do
      run jq -e -c 'keys' <<<"$l"
      assert_success
      assert_output '["Containers","CreatedAt","CreatedSince","Digest","ID","Repository","SharedSize","Size","Tag","UniqueSize","VirtualSize"]'
    done
    run berth images --format "$fmt" busybox
    size=$(berth image inspect -f '{{.Size}}' busybox)
    run jq -e --arg id "${BUSYBOX_ID:7:12}" --arg s3 "$(human_size "$size")" --arg s4 "$(human_size4 "$size")" '
      .ID == $id and .Repository == "busybox" and .Tag == "latest"
      and .Digest == "<none>" and .Size == $s3 and .VirtualSize == $s4 and .Containers == "N/A"
      and (.CreatedAt | test("^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} [+-][0-9]{4} [A-Z]+$"))' <<<"$output"
    assert_success
  done
}

@test "images --format 'table {{.ID}}\\t{{.Size}}': a header from the fields" {
  run berth images --format 'table {{.ID}}\t{{.Size}}'
  assert_success
  assert_output "IMAGE ID   SIZE"
  bootstrap_busybox
  run berth images --format 'table {{.ID}}\t{{.Size}}'
  assert_success
  assert_equal "${lines[0]}" "IMAGE ID       SIZE"
  assert_equal "${lines[1]}" "${BUSYBOX_ID:7:12}   $(human_size "$(berth image inspect -f '{{.Size}}' busybox)")"
}

@test "images --format with a template error: 'template parsing error', exit 1" {
  run --separate-stderr berth images --format '{{.Nope'
  assert_failure 1
  [[ $stderr == *"template parsing error"* ]] || fail "stderr: $stderr"
  bootstrap_busybox
  run --separate-stderr berth images --format '{{.NoSuchField}}'
  assert_failure 1
  [[ $stderr == *"NoSuchField"* ]] || fail "stderr: $stderr"
}
