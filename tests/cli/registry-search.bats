#!/usr/bin/env bats
# search (the v1 search API through a local endpoint, the catalog where a
# registry has none) and interrupted pulls resumed with Range requests.
load helpers
load registry-helpers

setup() { registry_test_setup none; }

teardown() { registry_test_teardown; }

seed_names() {
  seed_busybox "$REG_A/library/busybox:latest"
  skopeo_ copy -q --dest-tls-verify=false "docker-archive:$BATS_TEST_TMPDIR/bb.tar" "docker://$REG_A/tools/busybox:1"
  skopeo_ copy -q --dest-tls-verify=false "docker-archive:$BATS_TEST_TMPDIR/bb.tar" "docker://$REG_A/other/alpine:1"
}

@test "search: the v1 search API, docker's table, truncation, --no-trunc, --limit, --filter, --format" {
  seed_names
  proxy_start S "$REG_A" search
  run berth search "$REG_S/busybox"
  assert_success
  assert_output "NAME              DESCRIPTION                                     STARS     OFFICIAL
library/busybox   The library/busybox image, described at some…   15        [OK]
tools/busybox     The tools/busybox image, described at some l…   13        "
  grep -q '^GET /v1/search?q=busybox&n=25 ' "$BATS_TEST_TMPDIR/proxy-S.log"
  run berth search --no-trunc --format '{{.Name}}|{{.Description}}|{{.IsOfficial}}|{{.IsAutomated}}' "$REG_S/alpine"
  assert_output "other/alpine|The other/alpine image, described at some length for truncation||"
  run berth search --limit 1 --format '{{.Name}}' "$REG_S/busybox"
  assert_output "library/busybox"
  run berth search -f is-official=true --format '{{.Name}}' "$REG_S/busybox"
  assert_output "library/busybox"
  run berth search -f stars=14 -f is-automated=false --format '{{.Name}} {{.StarCount}}' "$REG_S/box"
  assert_output "library/busybox 15"
  run berth search -f color=red "$REG_S/box"
  assert_failure 1
  assert_output --partial "invalid filter 'color'"
  run berth search --limit 0 "$REG_S/box"
  assert_failure 1
  assert_output --partial "limit 0 is outside the range of [1, 100]"
}

@test "search: a registry without the search API is searched through its catalog" {
  seed_names
  run berth search "$REG_A/busybox"
  assert_success
  assert_output "NAME                              DESCRIPTION   STARS     OFFICIAL
$REG_A/library/busybox                 0         
$REG_A/tools/busybox                   0         "
  run berth search --format '{{.Name}}' "$REG_A/nothing-like-it"
  assert_success
  assert_output ""
}

@test "pull: an interrupted download is resumed with a Range request" {
  seed_busybox "$REG_A/bb:1"
  proxy_start C "$REG_A" cut
  fresh_store
  run berth pull "$REG_C/bb:1"
  assert_failure
  run store_content
  assert_output ""
  run berth images -q
  assert_output ""
  partial=$(ls "$TEST_ROOT/registry/partial")
  [ -n "$partial" ]
  have=$(stat -c %s "$TEST_ROOT/registry/partial/$partial")
  [ "$have" -gt 0 ]
  run berth pull "$REG_C/bb:1"
  assert_success
  assert_line --regexp '^[0-9a-f]{12}: Resuming download$'
  grep -q "^GET /v2/bb/blobs/sha256:$partial - bytes=$have-\$" "$BATS_TEST_TMPDIR/proxy-C.log"
  run berth image inspect -f '{{.Id}}' "$REG_C/bb:1"
  assert_output "$BUSYBOX_ID"
  run ls -A "$TEST_ROOT/registry/partial"
  assert_output ""
  run berth run --rm "$REG_C/bb:1" echo resumed
  assert_output resumed
}
