#!/usr/bin/env bats
# pull, run/create pulling, push: against Debian's docker-registry on
# 127.0.0.1 (registry-helpers.bash), with skopeo as the independent client.
load helpers
load registry-helpers

setup() { registry_test_setup none; }

teardown() { registry_test_teardown; }

@test "pull: an image skopeo pushed, with docker's plain progress lines; it runs" {
  seed_busybox "$REG_A/tools/busybox:1.0"
  want_id=$BUSYBOX_ID
  fresh_store
  run berth pull "$REG_A/tools/busybox:1.0"
  assert_success
  assert_line --index 0 "1.0: Pulling from $REG_A/tools/busybox"
  assert_line --regexp '^[0-9a-f]{12}: Pulling fs layer$'
  assert_line --regexp '^[0-9a-f]{12}: Verifying Checksum$'
  assert_line --regexp '^[0-9a-f]{12}: Download complete$'
  assert_line --regexp '^[0-9a-f]{12}: Pull complete$'
  assert_line --regexp '^Digest: sha256:[0-9a-f]{64}$'
  assert_line "Status: Downloaded newer image for $REG_A/tools/busybox:1.0"
  assert_line --index 7 "$REG_A/tools/busybox:1.0"
  refute_output --partial Downloading
  run berth image inspect -f '{{.Id}} {{index .RepoTags 0}}' "$REG_A/tools/busybox:1.0"
  assert_output "$want_id $REG_A/tools/busybox:1.0"
  run berth run --rm "$REG_A/tools/busybox:1.0" echo pulled
  assert_success
  assert_output pulled
}

@test "pull: the default tag, up to date the second time, nothing left in the partial dir" {
  seed_busybox "$REG_A/busybox:latest"
  fresh_store
  run berth pull "$REG_A/busybox"
  assert_success
  assert_line --index 0 "Using default tag: latest"
  assert_line --index 1 "latest: Pulling from $REG_A/busybox"
  run berth pull "$REG_A/busybox"
  assert_success
  assert_output --regexp "^Using default tag: latest
latest: Pulling from $REG_A/busybox
Digest: sha256:[0-9a-f]{64}
Status: Image is up to date for $REG_A/busybox:latest
$REG_A/busybox:latest$"
  run ls -A "$TEST_ROOT/registry/partial"
  assert_output ""
  run berth pull -q "$REG_A/busybox"
  assert_output "$REG_A/busybox:latest"
}

@test "pull: by digest, recorded in RepoDigests; a wrong digest is refused" {
  seed_busybox "$REG_A/busybox:latest"
  digest=$(skopeo_ inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_A/busybox:latest")
  fresh_store
  run berth pull "$REG_A/busybox@$digest"
  assert_success
  assert_line --index 0 "$digest: Pulling from $REG_A/busybox"
  assert_line "Digest: $digest"
  assert_line "$REG_A/busybox@$digest"
  run berth image inspect -f '{{index .RepoDigests 0}} {{len .RepoTags}}' "$REG_A/busybox@$digest"
  assert_output "$REG_A/busybox@$digest 0"
  run berth pull "$REG_A/busybox@sha256:$(printf '%064d' 0)"
  assert_failure
  assert_output --partial "manifest for $REG_A/busybox@sha256:$(printf '%064d' 0) not found"
}

@test "pull: an unknown tag or repository fails with the registry's message" {
  run berth pull "$REG_A/nothing:here"
  assert_failure 1
  assert_output --partial "manifest for $REG_A/nothing:here not found: manifest unknown"
  run berth pull "INVALID//x"
  assert_failure
  assert_output --partial "invalid reference format"
}

@test "pull: a multi-platform index gives the host's image, --platform another one" {
  make_multiarch_layout "$BATS_TEST_TMPDIR/layout" >"$BATS_TEST_TMPDIR/arm-config"
  arm_config=$(tail -1 "$BATS_TEST_TMPDIR/arm-config")
  skopeo_ copy -q --all --dest-tls-verify=false "oci:$BATS_TEST_TMPDIR/layout:latest" "docker://$REG_A/multi:latest"
  index_digest=$(skopeo_ inspect --raw --tls-verify=false "docker://$REG_A/multi:latest" | sha256sum | cut -d' ' -f1)
  amd_config=$(skopeo_ --override-arch amd64 inspect --config --raw --tls-verify=false "docker://$REG_A/multi:latest" |
    sha256sum | cut -d' ' -f1)
  fresh_store
  run berth pull "$REG_A/multi:latest"
  assert_success
  assert_line "Digest: sha256:$index_digest"
  run berth image inspect -f '{{.Id}} {{.Architecture}} {{index .RepoDigests 0}}' "$REG_A/multi:latest"
  assert_output "sha256:$amd_config amd64 $REG_A/multi@sha256:$index_digest"
  run berth pull --platform linux/arm64 "$REG_A/multi:latest"
  assert_success
  run berth image inspect -f '{{.Id}} {{.Architecture}}' "$REG_A/multi:latest"
  assert_output "$arm_config arm64"
  run berth pull --platform linux/s390x "$REG_A/multi:latest"
  assert_failure
  assert_output --partial "no matching manifest for linux/s390x"
  run berth pull --platform linux/arm64 "$REG_A/multi@sha256:$index_digest"
  assert_success
}

@test "pull: zstd and uncompressed layers" {
  bootstrap_busybox
  berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox:latest
  skopeo_ copy -q --dest-tls-verify=false --dest-compress-format zstd "docker-archive:$BATS_TEST_TMPDIR/bb.tar" \
    "oci:$BATS_TEST_TMPDIR/z:zstd"
  skopeo_ copy -q --dest-tls-verify=false "oci:$BATS_TEST_TMPDIR/z:zstd" "docker://$REG_A/bb:zstd"
  skopeo_ copy -q --dest-tls-verify=false --dest-decompress "docker-archive:$BATS_TEST_TMPDIR/bb.tar" \
    "docker://$REG_A/bb:plain"
  run skopeo_ inspect --raw --tls-verify=false "docker://$REG_A/bb:zstd"
  assert_output --partial "tar+zstd"
  fresh_store
  run berth pull "$REG_A/bb:zstd"
  assert_success
  run berth pull "$REG_A/bb:plain"
  assert_success
  for t in zstd plain; do
    want=$(skopeo_image_id "$REG_A/bb:$t")
    run berth image inspect -f '{{.Id}}' "$REG_A/bb:$t"
    assert_output "$want"
  done
  run berth run --rm "$REG_A/bb:zstd" cat /etc/passwd
  assert_success
}

@test "pull: a tampered layer blob is rejected and nothing is committed (CVE-2014-8179)" {
  seed_busybox "$REG_A/busybox:latest"
  layer=$(skopeo_ inspect --tls-verify=false --format '{{index .Layers 0}}' "docker://$REG_A/busybox:latest")
  f=$(registry_blob_file A "$layer")
  # Change the gzip header's mtime: still a valid gzip of the same tar, so
  # only the digest can tell.
  printf '\x01' | dd of="$f" bs=1 seek=4 conv=notrunc status=none
  fresh_store
  run berth pull "$REG_A/busybox:latest"
  assert_failure
  assert_output --partial "digest mismatch"
  run store_content
  assert_output ""
  run berth images -q
  assert_output ""
  run ls -A "$TEST_ROOT/registry/partial"
  assert_output ""
}

@test "pull: a tampered manifest is rejected by tag and by digest (CVE-2014-8179)" {
  seed_busybox "$REG_A/busybox:latest"
  digest=$(skopeo_ inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_A/busybox:latest")
  f=$(registry_blob_file A "$digest")
  printf ' ' >>"$f"
  fresh_store
  run berth pull "$REG_A/busybox:latest"
  assert_failure
  assert_output --partial "manifest verification failed"
  run berth pull "$REG_A/busybox@$digest"
  assert_failure
  assert_output --partial "manifest verification failed for digest $digest"
  run store_content
  assert_output ""
}

@test "pull: a layer whose config diff id does not match is rejected" {
  seed_busybox "$REG_A/busybox:latest"
  skopeo_ copy -q --src-tls-verify=false "docker://$REG_A/busybox:latest" "oci:$BATS_TEST_TMPDIR/l:x"
  "$PYTHON" - "$BATS_TEST_TMPDIR/l" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
blob = lambda dg: os.path.join(d, "blobs", "sha256", dg[7:])
idx = json.load(open(os.path.join(d, "index.json")))
m = json.load(open(blob(idx["manifests"][0]["digest"])))
c = json.load(open(blob(m["config"]["digest"])))
c["rootfs"]["diff_ids"] = ["sha256:" + "ab" * 32]
b = json.dumps(c).encode()
h = hashlib.sha256(b).hexdigest()
open(os.path.join(d, "blobs", "sha256", h), "wb").write(b)
m["config"].update(digest="sha256:" + h, size=len(b))
b = json.dumps(m).encode()
h = hashlib.sha256(b).hexdigest()
open(os.path.join(d, "blobs", "sha256", h), "wb").write(b)
idx["manifests"][0].update(digest="sha256:" + h, size=len(b))
json.dump(idx, open(os.path.join(d, "index.json"), "w"))
PY
  skopeo_ copy -q --dest-tls-verify=false "oci:$BATS_TEST_TMPDIR/l:x" "docker://$REG_A/bad:diffid"
  fresh_store
  run berth pull "$REG_A/bad:diffid"
  assert_failure
  assert_output --partial "diff id mismatch"
  run store_content
  assert_output ""
}

@test "run and create pull a missing image; --pull never and always" {
  seed_busybox "$REG_A/busybox:latest"
  fresh_store
  run berth create --pull never "$REG_A/busybox" true
  assert_failure 125
  assert_output --partial "No such image: $REG_A/busybox"
  run berth run --rm "$REG_A/busybox" echo ran
  assert_success
  assert_line --index 0 "Unable to find image '$REG_A/busybox:latest' locally"
  assert_line "Status: Downloaded newer image for $REG_A/busybox:latest"
  assert_line ran
  run --separate-stderr berth run --rm "$REG_A/busybox" echo again
  assert_output again
  assert_equal "$stderr" ""
  run --separate-stderr berth run --rm --pull always "$REG_A/busybox" echo always
  assert_output always
  [[ "$stderr" == *"Status: Image is up to date for $REG_A/busybox:latest"* ]]
  run berth run --rm --pull sometimes "$REG_A/busybox" true
  assert_failure 125
  assert_output --partial "invalid pull option: 'sometimes'"
  run berth create --pull never "$REG_A/busybox" true
  assert_success
  berth rm "$output"
}

@test "push: round trip through the registry, read back by skopeo and by another store" {
  bootstrap_busybox
  berth tag busybox:latest "$REG_A/mine/bb:v1"
  run berth push "$REG_A/mine/bb:v1"
  assert_success
  assert_line --index 0 "The push refers to repository [$REG_A/mine/bb]"
  assert_line --regexp '^[0-9a-f]{12}: Preparing$'
  assert_line --regexp '^[0-9a-f]{12}: Pushing$'
  assert_line --regexp '^[0-9a-f]{12}: Pushed$'
  assert_line --regexp "^v1: digest: sha256:[0-9a-f]{64} size: [0-9]+$"
  digest=$(echo "$output" | sed -n 's/^v1: digest: \(sha256:[0-9a-f]*\) .*/\1/p')
  run skopeo_ inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_A/mine/bb:v1"
  assert_output "$digest"
  run skopeo_image_id "$REG_A/mine/bb:v1"
  assert_output "$BUSYBOX_ID"
  skopeo_ copy -q --src-tls-verify=false "docker://$REG_A/mine/bb:v1" "docker-archive:$BATS_TEST_TMPDIR/back.tar"
  run berth2 load -i "$BATS_TEST_TMPDIR/back.tar"
  assert_success
  fresh_store
  run berth pull "$REG_A/mine/bb:v1"
  assert_success
  assert_line "Digest: $digest"
  run berth image inspect -f '{{.Id}}' "$REG_A/mine/bb:v1"
  assert_output "$BUSYBOX_ID"
}

@test "push: blobs the registry has are not sent again; another repository mounts them" {
  bootstrap_busybox
  berth tag busybox:latest "$REG_A/a/bb:1"
  berth push "$REG_A/a/bb:1"
  run berth push "$REG_A/a/bb:1"
  assert_success
  assert_line --regexp '^[0-9a-f]{12}: Layer already exists$'
  refute_line --regexp 'Pushed$'
  # An image pulled from a/bb, pushed to b/bb: mounted, not uploaded.
  fresh_store
  berth pull -q "$REG_A/a/bb:1"
  berth tag "$REG_A/a/bb:1" "$REG_A/b/bb:1"
  run berth push "$REG_A/b/bb:1"
  assert_success
  assert_line --regexp '^[0-9a-f]{12}: Mounted from a/bb$'
  run skopeo_image_id "$REG_A/b/bb:1"
  assert_output "$BUSYBOX_ID"
}

@test "push: an image that does not exist, and a digest reference, are refused" {
  run berth push "$REG_A/none:1"
  assert_failure 1
  assert_output --partial "An image does not exist locally with the tag: $REG_A/none"
  run berth push "$REG_A/none@sha256:$(printf '%064d' 0)"
  assert_failure 1
}

@test "pull: a blob longer than its descriptor is cut off and rejected" {
  seed_busybox "$REG_A/busybox:latest"
  layer=$(skopeo_ inspect --tls-verify=false --format '{{index .Layers 0}}' "docker://$REG_A/busybox:latest")
  head -c 100000 /dev/zero >>"$(registry_blob_file A "$layer")"
  fresh_store
  run berth pull "$REG_A/busybox:latest"
  assert_failure
  assert_output --partial "is longer than its descriptor"
  run store_content
  assert_output ""
  run ls -A "$TEST_ROOT/registry/partial"
  assert_output ""
}

@test "pull: on a terminal, layer lines are redrawn in place with a progress bar" {
  seed_busybox "$REG_A/busybox:latest"
  fresh_store
  run "$PYTHON" "$BERTH_SRC/tests/helpers/ptyrun.py" --cols 120 'expect:Pull complete' -- \
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" pull "$REG_A/busybox:latest"
  assert_success
  assert_output --regexp 'Downloading \[=+>? *\] +[0-9.]+[kM]B/[0-9.]+[kM]B'
  assert_output --partial $'\e[1A'
  assert_line 'ptyrun: exit 0'
}

@test "pull: two pulls of one image at once share the download and both succeed" {
  seed_busybox "$REG_A/busybox:latest"
  fresh_store
  berth pull -q "$REG_A/busybox:latest" >"$BATS_TEST_TMPDIR/one" 2>&1 &
  pid=$!
  run berth pull -q "$REG_A/busybox:latest"
  assert_success
  wait "$pid"
  run cat "$BATS_TEST_TMPDIR/one"
  assert_output "$REG_A/busybox:latest"
  run berth images -q
  assert_output "${BUSYBOX_ID:7:12}"
  run ls -A "$TEST_ROOT/registry/partial"
  assert_output ""
}

@test "pull -a: every tag of a repository" {
  seed_busybox "$REG_A/bb:one"
  skopeo_ copy -q --dest-tls-verify=false "docker-archive:$BATS_TEST_TMPDIR/bb.tar" "docker://$REG_A/bb:two"
  fresh_store
  run berth pull -a "$REG_A/bb"
  assert_success
  assert_line "$REG_A/bb:one"
  assert_line "$REG_A/bb:two"
  run berth images --format '{{.Tag}}' "$REG_A/bb"
  assert_output "one
two"
  run berth pull -a "$REG_A/bb:one"
  assert_failure
  assert_output --partial "tag can't be used with --all-tags/-a"
}

@test "pull: plain http only for loopback and registries berth's config marks insecure (CVE-2014-5277)" {
  ip=$(hostname -I 2>/dev/null | awk '{print $1}')
  [ -n "$ip" ] || skip "the host has no address besides loopback"
  seed_busybox "$REG_A/busybox:latest"
  registry_start H none "$BATS_TEST_TMPDIR/reg-A/storage" "$ip"
  fresh_store
  export BERTH_CONFIG=$BATS_TEST_TMPDIR/berth-config.json
  run berth pull "$REG_H/busybox:latest"
  assert_failure
  assert_output --partial "https://$REG_H/v2/"
  printf '{"insecure-registries": ["%s"]}\n' "$REG_H" >"$BERTH_CONFIG"
  run berth pull "$REG_H/busybox:latest"
  assert_success
  assert_line "Status: Downloaded newer image for $REG_H/busybox:latest"
}

@test "manifest inspect: byte for byte the docker CLI's, for OCI and docker manifests and a list, with and without -v" {
  command -v docker >/dev/null || skip "requires the docker client"
  seed_busybox "$REG_A/m/bb:oci"
  skopeo_ copy -q --src-tls-verify=false --dest-tls-verify=false --format v2s2 "docker://$REG_A/m/bb:oci" \
    "docker://$REG_A/m/bb:v2"
  # a list, made and pushed by the docker client itself (its own config dir)
  export DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker-config
  docker manifest create --insecure "$REG_A/m/bb:list" "$REG_A/m/bb:oci" >/dev/null
  docker manifest push --insecure --purge "$REG_A/m/bb:list" >/dev/null
  local ref v
  for ref in oci v2 list; do
    for v in "" -v; do
      run docker manifest inspect --insecure $v "$REG_A/m/bb:$ref"
      assert_success
      local want=$output
      run berth manifest inspect $v "$REG_A/m/bb:$ref"
      assert_success
      assert_equal "$output" "$want"
    done
  done
  run berth manifest inspect "$REG_A/m/bb:nope"
  assert_failure 1
  assert_output "no such manifest: $REG_A/m/bb:nope"
}

