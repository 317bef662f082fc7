#!/usr/bin/env bats
# security.md part D against tests/helpers/fakereg.py, a registry on
# 127.0.0.1 serving crafted manifests and logging every request: digests
# checked before use, malformed and ambiguous documents refused cleanly,
# credentials never sent to a layer's foreign `urls`.

load helpers

FAKEREG=$BERTH_SRC/tests/helpers/fakereg.py

setup() {
  berth_setup
  export DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker-config
  REG_PIDS=()
  D=$BATS_TEST_TMPDIR/reg
  DIGEST=$("$PYTHON" "$FAKEREG" image "$D")
  fakereg_start REG "$D"
}

teardown() {
  local p
  for p in "${REG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  berth_teardown
}

# fakereg_start NAME DIR [USER:PASSWORD]: sets NAME to 127.0.0.1:PORT; the
# log of its requests is $BATS_TEST_TMPDIR/NAME.log
fakereg_start() {
  local portfile=$BATS_TEST_TMPDIR/$1.port i
  : >"$BATS_TEST_TMPDIR/$1.log"
  "$PYTHON" "$FAKEREG" serve "$portfile" "$2" "$BATS_TEST_TMPDIR/$1.log" ${3:+"$3"} &
  REG_PIDS+=($!)
  for i in $(seq 100); do [ -s "$portfile" ] && break; sleep 0.05; done
  [ -s "$portfile" ] || fail "fakereg did not start"
  printf -v "$1" '127.0.0.1:%s' "$(cat "$portfile")"
}

# put_manifest REF MEDIATYPE: the document on stdin served as manifest REF
put_manifest() {
  cat >"$D/manifests/${1//:/_}"
  printf '%s' "$2" >"$D/manifests/${1//:/_}.type"
}

# The valid manifest changed by a Python expression over m (its JSON).
edited() { "$PYTHON" -c 'import json, sys; m = json.load(open(sys.argv[1])); exec(sys.argv[2]); print(json.dumps(m))' "$D/manifests/latest" "$1"; }

V2=application/vnd.docker.distribution.manifest.v2+json

# A refused pull: exit 1 with an error line (never a crash), nothing stored.
assert_clean_refusal() {
  assert_failure 1
  assert_output --partial "Error"
  run berth images -q
  assert_output ""
}

@test "CVE-2024-3727: malformed digests are refused before any request" {
  local d
  for d in 'sha256:../../../x' "sha256:$(printf 'A%.0s' {1..64})" "sha256:$(printf 'a%.0s' {1..63})" \
           "sha256:$(printf 'a%.0s' {1..65})" 'sha512:abc' 'md5:d41d8cd98f00b204e9800998ecf8427e'; do
    run berth pull "$REG/x@$d"
    assert_clean_refusal
  done
  run cat "$BATS_TEST_TMPDIR/REG.log"
  assert_output ""
  # a manifest whose layer digest is malformed is refused before its blob is asked for
  edited 'm["layers"][0]["digest"] = "sha256:../../../../etc/passwd"' | put_manifest bad $V2
  run berth pull "$REG/x:bad"
  assert_clean_refusal
  run grep -c blobs "$BATS_TEST_TMPDIR/REG.log"
  assert_output 0
}

@test "CVE-2014-8179: a manifest that is not the requested digest, or has a key twice, is refused" {
  # the served manifest differs from the digest asked for
  edited 'm["x"] = 1' | put_manifest "$DIGEST" $V2
  run berth pull "$REG/x@$DIGEST"
  refute_output --partial "not found"
  assert_clean_refusal
  # a second "layers" after the first
  sed '$d' "$D/manifests/latest" | { cat; printf ',\n  "layers": []\n}\n'; } | put_manifest dup $V2
  run berth pull "$REG/x:dup"
  assert_clean_refusal
  # the genuine one by its digest
  put_manifest "$DIGEST" $V2 <"$D/manifests/latest"
  run berth pull "$REG/x@$DIGEST"
  assert_success
}

@test "CVE-2021-41190: a document with both manifests and layers is refused as an index and as a manifest" {
  local t
  for t in $V2 application/vnd.oci.image.manifest.v1+json application/vnd.oci.image.index.v1+json \
           application/vnd.docker.distribution.manifest.list.v2+json; do
    edited 'm.pop("mediaType"); m["manifests"] = [{"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": m["config"]["digest"], "size": m["config"]["size"], "platform": {"architecture": "amd64", "os": "linux"}}]' |
      put_manifest mixed "$t"
    run berth pull "$REG/x:mixed"
    assert_clean_refusal
  done
}

@test "CVE-2021-21285: malformed manifests give a clean error, never a crash" {
  local expr
  for expr in 'm["layers"] = None' 'm["layers"][0]["size"] = -1' 'm["layers"][0]["size"] = 2**63' \
              'm["config"] = None' 'm["layers"] = [None]' 'm["schemaVersion"] = "2"' \
              'm["annotations"] = {"a": "x" * (8 << 20)}'; do
    edited "$expr" | put_manifest bad $V2
    run berth pull "$REG/x:bad"
    assert_clean_refusal
  done
  # 100-deep nesting, not JSON, empty
  { printf '{"schemaVersion": 2, "x": '; printf '[%.0s' {1..100}; printf ']%.0s' {1..100}; printf '}'; } | put_manifest bad $V2
  run berth pull "$REG/x:bad"
  assert_clean_refusal
  printf 'not json' | put_manifest bad $V2
  run berth pull "$REG/x:bad"
  assert_clean_refusal
  : | put_manifest bad $V2
  run berth pull "$REG/x:bad"
  assert_clean_refusal
}

@test "CVE-2020-15157: a layer's foreign urls are never fetched, the credentials go only to the registry" {
  # an authenticating registry, and another host named in the layer's urls
  fakereg_start AUTH "$D" "user:s3cret"
  fakereg_start OTHER "$D"
  run berth login -u user --password-stdin "$AUTH" <<<"s3cret"
  assert_success
  edited "m[\"layers\"][0][\"mediaType\"] = \"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\"; m[\"layers\"][0][\"urls\"] = [\"http://$OTHER/v2/x/blobs/\" + m[\"layers\"][0][\"digest\"]]" |
    put_manifest foreign $V2
  run berth pull "$AUTH/x:foreign"
  assert_success
  # the layer came from the registry; the other host saw nothing
  run grep -c "^GET /v2/x/blobs/.* Basic " "$BATS_TEST_TMPDIR/AUTH.log"
  assert_output 2
  run cat "$BATS_TEST_TMPDIR/OTHER.log"
  assert_output ""
  run grep -c ' Basic ' "$BATS_TEST_TMPDIR/AUTH.log"
  refute_output 0
}
