#!/usr/bin/env bats
# berth image inspect, berth inspect (images), berth history.

load helpers

setup() {
  berth_setup
  requires busybox
}

RFC3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'

host_arch() {
  case "$(uname -m)" in
    x86_64) echo amd64 ;;
    aarch64) echo arm64 ;;
    armv7l | armv6l) echo arm ;;
    i?86) echo 386 ;;
    *) uname -m ;;
  esac
}

# ---- image inspect ---------------------------------------------------------------

@test "image inspect: docker's JSON shape" {
  bootstrap_busybox
  run --separate-stderr berth image inspect busybox
  assert_success
  assert_equal "$stderr" ""
  json=$output
  run jq -e --arg id "$BUSYBOX_ID" --arg arch "$(host_arch)" --arg re "$RFC3339" '
    type == "array" and length == 1 and (.[0] |
      .Id == $id
      and .RepoTags == ["busybox:latest"]
      and .RepoDigests == []
      and (.Created | test($re))
      and .Config.Cmd == ["sh"]
      and (.Config.Env | type) == "array"
      and .Architecture == $arch
      and .Os == "linux"
      and (.Size | type) == "number" and .Size > 1000
      and .RootFS.Type == "layers"
      and (.RootFS.Layers | length) == 1
      and (.RootFS.Layers[0] | test("^sha256:[0-9a-f]{64}$"))
      and .GraphDriver.Name == "overlay"
      and (.GraphDriver.Data.LowerDir | type) == "string"
      and (.Metadata.LastTagTime | test($re))
      and has("Parent") and has("Comment") and has("Author") and has("DockerVersion"))' <<<"$json"
  assert_success
}

@test "image inspect: Size is the layer's size; the layer dir is under the store" {
  bootstrap_busybox
  size=$(berth image inspect -f '{{.Size}}' busybox)
  dir=$(layer_dir busybox)
  [[ $dir == "$TEST_ROOT"/* ]] || fail "LowerDir $dir is not under $TEST_ROOT"
  # docker's layer size (moby's directory.Size): every non-directory's lstat
  # size, each inode once.
  du=$(find "$dir" ! -type d -printf '%i %s\n' | sort -u -k1,1 | awk '{ s += $2 } END { print s + 0 }')
  assert_equal "$size" "$du"
}

@test "image inspect: LastTagTime is set by tag, zero for an untagged import" {
  bootstrap_busybox
  t0=$(berth image inspect -f '{{.Metadata.LastTagTime}}' busybox)
  sleep 1.1
  berth tag busybox again:1
  t1=$(berth image inspect -f '{{.Metadata.LastTagTime}}' busybox)
  [[ "$t1" > "$t0" ]] || fail "LastTagTime did not move: $t0 -> $t1"
  import_files "" -- a=1
  run berth image inspect -f '{{json .Metadata.LastTagTime}}|{{json .RepoTags}}' "$IMPORTED_ID"
  assert_output '"0001-01-01T00:00:00Z"|[]'
}

@test "image inspect -f '{{.Id}}', '{{json .Config}}', '{{.Config.Cmd}}'" {
  bootstrap_busybox
  run --separate-stderr berth image inspect -f '{{.Id}}' busybox
  assert_success
  assert_output "$BUSYBOX_ID"
  run berth image inspect -f '{{json .Config}}' busybox
  assert_success
  run jq -e '.Cmd == ["sh"] and has("Env") and has("Entrypoint") and has("WorkingDir") and has("Labels")' <<<"$output"
  assert_success
  run berth image inspect -f '{{.Config.Cmd}}' busybox
  assert_output "[sh]"
  run berth image inspect --format '{{.Os}}/{{.Architecture}} {{len .RootFS.Layers}}' busybox
  assert_output "linux/$(host_arch) 1"
}

@test "image inspect --format json: the default output (an array), compact" {
  bootstrap_busybox
  want=$(berth image inspect busybox)
  run berth image inspect --format json busybox
  assert_success
  assert_equal "${#lines[@]}" 1
  assert_equal "$(jq -S . <<<"$output")" "$(jq -S . <<<"$want")"
}

@test "image inspect: several images give an array of N, in argument order" {
  bootstrap_busybox
  import_files imp:1 -- a=1
  run berth image inspect busybox imp:1 "${BUSYBOX_ID:7:12}"
  assert_success
  run jq -r 'length, .[].Id' <<<"$output"
  assert_output "3
$BUSYBOX_ID
$IMPORTED_ID
$BUSYBOX_ID"
  run berth image inspect -f '{{.Id}}' busybox imp:1
  assert_output "$BUSYBOX_ID
$IMPORTED_ID"
}

@test "image inspect: by name, normalized name, short id, full id, sha256-less id" {
  bootstrap_busybox
  for ref in busybox busybox:latest docker.io/library/busybox:latest library/busybox \
    "${BUSYBOX_ID:7:12}" "$BUSYBOX_ID" "${BUSYBOX_ID:7}"; do
    run berth image inspect -f '{{.Id}}' "$ref"
    [ "$status" -eq 0 ] && [ "$output" = "$BUSYBOX_ID" ] || fail "inspect $ref: $status $output"
  done
}

@test "image inspect of a missing image: 'Error: No such image: x', exit 1" {
  run --separate-stderr berth image inspect nosuch
  assert_failure 1
  assert_equal "$stderr" "Error: No such image: nosuch"
  assert_output "[]"
}

@test "inspect of a missing object: 'Error: No such object: x', exit 1" {
  run --separate-stderr berth inspect nosuch
  assert_failure 1
  assert_equal "$stderr" "Error: No such object: nosuch"
  assert_output "[]"
}

@test "inspect: one present and one missing prints the present one, then fails" {
  bootstrap_busybox
  run --separate-stderr berth inspect busybox nosuch
  assert_failure 1
  assert_equal "$stderr" "Error: No such object: nosuch"
  run jq -r 'length, .[0].Id' <<<"$output"
  assert_output "1
$BUSYBOX_ID"
}

@test "inspect IMAGE gives what image inspect gives" {
  bootstrap_busybox
  want=$(berth image inspect busybox)
  run berth inspect busybox
  assert_success
  assert_equal "$(jq -S . <<<"$output")" "$(jq -S . <<<"$want")"
  run berth inspect --type image -f '{{.Id}}' busybox
  assert_success
  assert_output "$BUSYBOX_ID"
}

@test "inspect: a template that does not parse is 'template parsing error', exit 64 (docker's)" {
  bootstrap_busybox
  for cmd in inspect "image inspect"; do
    # shellcheck disable=SC2086
    run --separate-stderr berth $cmd -f '{{' busybox
    assert_failure 64
    assert_equal "$output" ""
    assert_equal "$stderr" "template parsing error: template: :1: unclosed action"
  done
}

@test "inspect: a template that fails to execute is an error, exit 1" {
  bootstrap_busybox
  run --separate-stderr berth image inspect -f '{{.Config.Cmd.Nope}}' busybox
  assert_failure 1
  [[ $stderr == *"Nope"* ]] || fail "stderr: $stderr"
}

# ---- history -----------------------------------------------------------------------

@test "history: columns IMAGE CREATED CREATED BY SIZE COMMENT" {
  bootstrap_busybox
  run --separate-stderr berth history busybox
  assert_success
  assert_equal "$stderr" ""
  assert_equal "${#lines[@]}" 2
  [[ ${lines[0]} =~ ^IMAGE\ {10}CREATED\ +CREATED\ BY\ +SIZE\ +COMMENT$ ]] || fail "header: ${lines[0]}"
  assert_table_aligned "$output" IMAGE CREATED "CREATED BY" SIZE
  [[ ${lines[1]} == "${BUSYBOX_ID:7:12}   "* ]] || fail "row: ${lines[1]}"
  assert_line --index 1 --regexp "   $(human_size "$(berth image inspect -f '{{.Size}}' busybox)") +\$"
}

@test "history: CREATED BY is cut at 45 characters with an ellipsis; --no-trunc shows all" {
  bootstrap_busybox
  created_by=$(berth history --no-trunc --format '{{.CreatedBy}}' busybox)
  [ "${#created_by}" -gt 45 ] || skip "the bootstrap's CREATED BY is short ('$created_by')"
  run berth history --format '{{.CreatedBy}}' busybox
  assert_output "${created_by:0:44}…"
  run berth history --no-trunc busybox
  assert_success
  assert_line --index 1 --regexp "^$BUSYBOX_ID +.* +$(sed 's/[][().*+?^$|\\]/\\&/g' <<<"$created_by") +[0-9.]+[kMG]?B +\$"
}

@test "history -q: the image id only" {
  bootstrap_busybox
  run --separate-stderr berth history -q busybox
  assert_success
  assert_output "${BUSYBOX_ID:7:12}"
  run berth history -q --no-trunc busybox
  assert_output "$BUSYBOX_ID"
}

@test "history -H=false: RFC 3339 dates and sizes in bytes" {
  bootstrap_busybox
  size=$(berth image inspect -f '{{.Size}}' busybox)
  created=$(berth image inspect -f '{{.Created}}' busybox)
  run berth history -H=false busybox
  assert_success
  assert_table_aligned "$output" IMAGE CREATED "CREATED BY" SIZE
  read -r id date _ <<<"${lines[1]}"
  assert_equal "$id" "${BUSYBOX_ID:7:12}"
  [[ $date =~ $RFC3339 ]] || fail "CREATED '$date' is not RFC 3339"
  assert_equal "$(date -d "$date" +%s)" "$(date -d "$created" +%s)"
  assert_line --index 1 --regexp "   $size +\$"
  run berth history --human=false --format '{{.Size}}|{{.CreatedAt}}' busybox
  assert_output "$size|$date"
}

@test "history --format: ID, CreatedSince, CreatedAt, CreatedBy, Size, Comment; json" {
  bootstrap_busybox
  import_files imp:1 -m "a message" -- a=1
  run berth history --format '{{.ID}}|{{.Comment}}' imp:1
  assert_success
  assert_output "${IMPORTED_ID:7:12}|a message"
  run berth history --format '{{.CreatedSince}}' imp:1
  assert_output --regexp '^(Less than a second|[0-9]+ seconds?) ago$'
  run berth history --format json busybox
  assert_success
  run jq -e -c 'keys' <<<"$output"
  assert_output '["Comment","CreatedAt","CreatedBy","CreatedSince","ID","Size"]'
  run berth history --format 'table {{.ID}}\t{{.Comment}}' imp:1
  assert_equal "${lines[0]}" "IMAGE          COMMENT"
  assert_equal "${lines[1]}" "${IMPORTED_ID:7:12}   a message"
}

@test "history of a missing image: 'Error: No such image: x', exit 1" {
  run --separate-stderr berth history nosuch
  assert_failure 1
  assert_equal "$output" ""
  [[ $stderr =~ ^Error:\ No\ such\ image:\ nosuch(:latest)?$ ]] || fail "stderr: $stderr"
}

@test "history and image history are the same command" {
  bootstrap_busybox
  want=$(berth history --no-trunc -H=false busybox)
  run berth image history --no-trunc -H=false busybox
  assert_output "$want"
}
