#!/usr/bin/env bats
# berth save / load, round trips between stores, and interop with skopeo
# and umoci in both directions.

load helpers

setup() {
  berth_setup
  requires busybox
  bootstrap_busybox
  BB_LAYERS=$(berth image inspect -f '{{json .RootFS.Layers}}' busybox)
}

skopeo() { command skopeo --insecure-policy "$@"; }

# Run berth with a terminal as stdin and stdout; sets status and output.
berth_tty() {
  local cmd
  cmd=$(printf '%q ' "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" "$@")
  run script -qec "$cmd" /dev/null
  output=${output//$'\r'/}
}

# ---- save -------------------------------------------------------------------------

@test "save -o: a docker archive (manifest.json) that is also an OCI layout" {
  run --separate-stderr berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox
  assert_success
  assert_equal "$output$stderr" ""
  run tar -tf "$BATS_TEST_TMPDIR/bb.tar"
  assert_success
  assert_line manifest.json
  assert_line index.json
  assert_line oci-layout
  run tar -xOf "$BATS_TEST_TMPDIR/bb.tar" manifest.json
  run jq -e --arg id "${BUSYBOX_ID#sha256:}" 'length == 1 and .[0].RepoTags == ["busybox:latest"]
    and (.[0].Config | endswith($id)) and (.[0].Layers | length) == 1' <<<"$output"
  assert_success
  # The config in the archive is the image's config, byte for byte.
  cfg=$(tar -xOf "$BATS_TEST_TMPDIR/bb.tar" manifest.json | jq -r '.[0].Config')
  assert_equal "sha256:$(tar -xOf "$BATS_TEST_TMPDIR/bb.tar" "$cfg" | sha256sum | cut -d' ' -f1)" "$BUSYBOX_ID"
}

@test "save to a redirected stdout writes the same archive as -o" {
  berth save -o "$BATS_TEST_TMPDIR/a.tar" busybox
  berth save busybox >"$BATS_TEST_TMPDIR/b.tar"
  cmp "$BATS_TEST_TMPDIR/a.tar" "$BATS_TEST_TMPDIR/b.tar"
  berth image save busybox >"$BATS_TEST_TMPDIR/c.tar"
  cmp "$BATS_TEST_TMPDIR/a.tar" "$BATS_TEST_TMPDIR/c.tar"
}

@test "save refuses to write to a terminal, exit 1" {
  requires script
  berth_tty save busybox
  assert_failure 1
  assert_output --partial "cowardly refusing to save to a terminal. Use the -o flag or redirect"
}

@test "save of a missing image: 'No such image', exit 1, no archive left" {
  run --separate-stderr berth save -o "$BATS_TEST_TMPDIR/x.tar" nosuch
  assert_failure 1
  [[ $stderr =~ ^Error:\ No\ such\ image:\ nosuch(:latest)?$ ]] || fail "stderr: $stderr"
  [ ! -e "$BATS_TEST_TMPDIR/x.tar" ] || fail "x.tar was left behind"
  run --separate-stderr berth save -o "$BATS_TEST_TMPDIR/x.tar" busybox nosuch
  assert_failure 1
  [ ! -e "$BATS_TEST_TMPDIR/x.tar" ] || fail "x.tar was left behind"
}

@test "save -o into a missing directory: an error, exit 1" {
  run --separate-stderr berth save -o "$BATS_TEST_TMPDIR/no/such/dir/x.tar" busybox
  assert_failure 1
  [[ $stderr == Error:* ]] || fail "stderr: $stderr"
}

@test "save of several images: one archive, every tag; load restores them all" {
  import_files imp:1 -c 'CMD ["x"]' -- a=1
  imp=$IMPORTED_ID
  berth tag busybox busybox:v2
  run berth save -o "$BATS_TEST_TMPDIR/all.tar" busybox:latest busybox:v2 imp:1
  assert_success
  run tar -xOf "$BATS_TEST_TMPDIR/all.tar" manifest.json
  run jq -e -c '[.[].RepoTags | sort] | sort' <<<"$output"
  assert_output '[["busybox:latest","busybox:v2"],["imp:1"]]'
  run berth2 load -i "$BATS_TEST_TMPDIR/all.tar"
  assert_success
  assert_line "Loaded image: busybox:latest"
  assert_line "Loaded image: busybox:v2"
  assert_line "Loaded image: imp:1"
  assert_equal "$(berth2 image inspect -f '{{.Id}}' busybox:v2)" "$BUSYBOX_ID"
  assert_equal "$(berth2 image inspect -f '{{.Id}}' imp:1)" "$imp"
  assert_equal "$(berth2 images -q --no-trunc | sort -u)" "$(printf '%s\n' "$BUSYBOX_ID" "$imp" | sort)"
}

@test "save by id: no RepoTags; load prints 'Loaded image ID:'" {
  run berth save -o "$BATS_TEST_TMPDIR/id.tar" "${BUSYBOX_ID:7:12}"
  assert_success
  run tar -xOf "$BATS_TEST_TMPDIR/id.tar" manifest.json
  run jq -e '(.[0].RepoTags // []) == []' <<<"$output"
  assert_success
  run berth2 load -i "$BATS_TEST_TMPDIR/id.tar"
  assert_success
  assert_output "Loaded image ID: $BUSYBOX_ID"
  run berth2 images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  assert_output "<none>:<none> ${BUSYBOX_ID:7:12}"
}

@test "save --format oci-archive: an OCI layout with the name annotated" {
  run berth save --format oci-archive -o "$BATS_TEST_TMPDIR/oci.tar" busybox
  assert_success
  run tar -tf "$BATS_TEST_TMPDIR/oci.tar"
  assert_line index.json
  assert_line oci-layout
  run tar -xOf "$BATS_TEST_TMPDIR/oci.tar" oci-layout
  run jq -e '.imageLayoutVersion == "1.0.0"' <<<"$output"
  assert_success
  run tar -xOf "$BATS_TEST_TMPDIR/oci.tar" index.json
  run jq -e '.schemaVersion == 2 and (.manifests | length) == 1
    and .manifests[0].mediaType == "application/vnd.oci.image.manifest.v1+json"
    and (.manifests[0].annotations["io.containerd.image.name"] == "docker.io/library/busybox:latest")
    and (.manifests[0].annotations["org.opencontainers.image.ref.name"] == "latest")' <<<"$output"
  assert_success
  run berth2 load -i "$BATS_TEST_TMPDIR/oci.tar"
  assert_success
  assert_output "Loaded image: busybox:latest"
  assert_equal "$(berth2 image inspect -f '{{.Id}}' busybox)" "$BUSYBOX_ID"
}

# ---- load -------------------------------------------------------------------------

@test "load -i and from stdin: the same id in a second store; -q prints the result only" {
  berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox
  run --separate-stderr berth2 load -i "$BATS_TEST_TMPDIR/bb.tar"
  assert_success
  assert_output "Loaded image: busybox:latest"
  assert_equal "$(berth2 image inspect -f '{{.Id}}|{{json .RootFS.Layers}}' busybox)" "$BUSYBOX_ID|$BB_LAYERS"
  assert_equal "$(berth2 image inspect -f '{{json .Config}}' busybox)" "$(berth image inspect -f '{{json .Config}}' busybox)"
  berth2 rmi busybox
  run --separate-stderr berth2 load <"$BATS_TEST_TMPDIR/bb.tar"
  assert_success
  assert_output "Loaded image: busybox:latest"
  berth2 rmi busybox
  run --separate-stderr berth2 image load -q --input "$BATS_TEST_TMPDIR/bb.tar"
  assert_success
  assert_equal "$stderr" ""
  assert_output "Loaded image: busybox:latest"
  assert_equal "$(berth2 image inspect -f '{{.Id}}' busybox)" "$BUSYBOX_ID"
}

@test "load: the layer is the same content as the original" {
  berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox
  berth2 load -i "$BATS_TEST_TMPDIR/bb.tar"
  a=$(layer_dir busybox)
  b=$(berth2 image inspect -f '{{.GraphDriver.Data.LowerDir}}' busybox)
  assert_same_state "$(tree_state "$a")" "$(tree_state "$b")"
}

@test "load twice: idempotent, nothing duplicated" {
  berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox
  berth2 load -i "$BATS_TEST_TMPDIR/bb.tar"
  state=$(tree_state "$BATS_TEST_TMPDIR/root2" | grep -v -e '^images.json ' -e '^store.lock ')
  run berth2 load -i "$BATS_TEST_TMPDIR/bb.tar"
  assert_success
  assert_output "Loaded image: busybox:latest"
  assert_same_state "$state" "$(tree_state "$BATS_TEST_TMPDIR/root2" | grep -v -e "^images.json " -e "^store.lock ")"
  run berth2 images -q
  assert_output "${BUSYBOX_ID:7:12}"
}

@test "load moves an existing tag and says so; the old image is left dangling" {
  berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox
  run berth2 import - busybox:latest < <(tar -cf - -C "$BATS_TEST_TMPDIR" bb.tar)
  assert_success
  old=$output
  run berth2 load -i "$BATS_TEST_TMPDIR/bb.tar"
  assert_success
  assert_line "The image busybox:latest already exists, renaming the old one with ID $old to empty string"
  assert_line "Loaded image: busybox:latest"
  assert_equal "$(berth2 image inspect -f '{{.Id}}' busybox)" "$BUSYBOX_ID"
  run berth2 images -q --no-trunc -f dangling=true
  assert_output "$old"
}

@test "load from a terminal: 'requested load from stdin, but stdin is empty', exit 1" {
  requires script
  berth_tty load
  assert_failure 1
  assert_output --partial "requested load from stdin, but stdin is empty"
}

@test "load -i of a missing file: exit 1" {
  run --separate-stderr berth load -i "$BATS_TEST_TMPDIR/nope.tar"
  assert_failure 1
  [[ $stderr == *"$BATS_TEST_TMPDIR/nope.tar"*"no such file or directory" ]] || fail "stderr: $stderr"
}

# ---- skopeo and umoci read what berth writes ---------------------------------------

@test "skopeo inspects berth's docker archive: config digest = id, layers = RootFS.Layers" {
  requires skopeo
  berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox
  run skopeo inspect "docker-archive:$BATS_TEST_TMPDIR/bb.tar"
  assert_success
  assert_equal "$(jq -c .Layers <<<"$output")" "$BB_LAYERS"
  assert_equal "$(jq -r '.Os + "/" + .Architecture' <<<"$output")" "linux/$(berth image inspect -f '{{.Architecture}}' busybox)"
  run skopeo inspect --config "docker-archive:$BATS_TEST_TMPDIR/bb.tar"
  assert_success
  assert_equal "$(jq -c .rootfs.diff_ids <<<"$output")" "$BB_LAYERS"
  assert_equal "$(jq -c .config.Cmd <<<"$output")" '["sh"]'
  run skopeo inspect --raw "docker-archive:$BATS_TEST_TMPDIR/bb.tar"
  assert_success
  assert_equal "$(jq -r .config.digest <<<"$output")" "$BUSYBOX_ID"
}

@test "skopeo inspects berth's OCI archive: config digest = id, layers = RootFS.Layers" {
  requires skopeo
  berth save --format oci-archive -o "$BATS_TEST_TMPDIR/oci.tar" busybox
  run skopeo inspect "oci-archive:$BATS_TEST_TMPDIR/oci.tar"
  assert_success
  assert_equal "$(jq -c .Layers <<<"$output")" "$BB_LAYERS"
  run skopeo inspect --config "oci-archive:$BATS_TEST_TMPDIR/oci.tar"
  assert_success
  assert_equal "$(jq -c .rootfs.diff_ids <<<"$output")" "$BB_LAYERS"
  run skopeo inspect --raw "oci-archive:$BATS_TEST_TMPDIR/oci.tar"
  assert_equal "$(jq -r .config.digest <<<"$output")" "$BUSYBOX_ID"
  # The default archive is an OCI layout as well.
  berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox
  run skopeo inspect --config "oci-archive:$BATS_TEST_TMPDIR/bb.tar"
  assert_success
  assert_equal "$(jq -c .rootfs.diff_ids <<<"$output")" "$BB_LAYERS"
}

@test "skopeo copies berth's archives to an OCI layout; umoci unpacks it" {
  requires skopeo umoci
  berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox
  run skopeo copy "docker-archive:$BATS_TEST_TMPDIR/bb.tar" "oci:$BATS_TEST_TMPDIR/from-docker:busybox:latest"
  assert_success
  berth save --format oci-archive -o "$BATS_TEST_TMPDIR/oci.tar" busybox
  run skopeo copy "oci-archive:$BATS_TEST_TMPDIR/oci.tar" "oci:$BATS_TEST_TMPDIR/layout:busybox:latest"
  assert_success
  run skopeo inspect --raw "oci:$BATS_TEST_TMPDIR/layout:busybox:latest"
  assert_equal "$(jq -r .config.digest <<<"$output")" "$BUSYBOX_ID"
  run umoci unpack --image "$BATS_TEST_TMPDIR/layout:busybox:latest" "$BATS_TEST_TMPDIR/bundle"
  assert_success
  rootfs=$BATS_TEST_TMPDIR/bundle/rootfs
  assert_equal "$(sha256sum <"$rootfs/bin/busybox")" "$(sha256sum <"$(layer_dir busybox)/bin/busybox")"
  assert_equal "$(stat -c %i "$rootfs/bin/sh")" "$(stat -c %i "$rootfs/bin/busybox")"
  assert_equal "$(stat -c %a "$rootfs/tmp")" "1777"
}

# ---- berth reads what skopeo writes --------------------------------------------------

@test "skopeo's docker-archive loads into berth with its tag, id and diff ids" {
  requires skopeo
  berth save --format oci-archive -o "$BATS_TEST_TMPDIR/oci.tar" busybox
  skopeo copy "oci-archive:$BATS_TEST_TMPDIR/oci.tar" "oci:$BATS_TEST_TMPDIR/layout:busybox:latest"
  run skopeo copy "oci:$BATS_TEST_TMPDIR/layout:busybox:latest" "docker-archive:$BATS_TEST_TMPDIR/sk.tar:busybox:latest"
  assert_success
  run berth2 load -i "$BATS_TEST_TMPDIR/sk.tar"
  assert_success
  assert_output "Loaded image: busybox:latest"
  assert_equal "$(berth2 image inspect -f '{{.Id}}|{{json .RootFS.Layers}}' busybox)" "$BUSYBOX_ID|$BB_LAYERS"
}

@test "skopeo's oci-archive loads into berth with its tag, id and diff ids" {
  requires skopeo
  berth save --format oci-archive -o "$BATS_TEST_TMPDIR/oci.tar" busybox
  skopeo copy "oci-archive:$BATS_TEST_TMPDIR/oci.tar" "oci:$BATS_TEST_TMPDIR/layout:busybox:latest"
  run skopeo copy "oci:$BATS_TEST_TMPDIR/layout:busybox:latest" "oci-archive:$BATS_TEST_TMPDIR/sko.tar:busybox:latest"
  assert_success
  run berth2 load -i "$BATS_TEST_TMPDIR/sko.tar"
  assert_success
  assert_output "Loaded image: busybox:latest"
  assert_equal "$(berth2 image inspect -f '{{.Id}}|{{json .RootFS.Layers}}' busybox)" "$BUSYBOX_ID|$BB_LAYERS"
}

@test "skopeo's oci-archive with gzip layers loads into berth; the diff ids are the uncompressed ones" {
  requires skopeo
  berth save --format oci-archive -o "$BATS_TEST_TMPDIR/oci.tar" busybox
  run skopeo copy --dest-compress "oci-archive:$BATS_TEST_TMPDIR/oci.tar" "oci-archive:$BATS_TEST_TMPDIR/gz.tar:busybox:gz"
  assert_success
  run skopeo inspect --raw "oci-archive:$BATS_TEST_TMPDIR/gz.tar"
  [[ $(jq -r '.layers[0].mediaType' <<<"$output") == *gzip ]] || fail "skopeo did not compress: $output"
  run berth2 load -i "$BATS_TEST_TMPDIR/gz.tar"
  assert_success
  assert_output "Loaded image: busybox:gz"
  assert_equal "$(berth2 image inspect -f '{{.Id}}|{{json .RootFS.Layers}}' busybox:gz)" "$BUSYBOX_ID|$BB_LAYERS"
  a=$(layer_dir busybox)
  b=$(berth2 image inspect -f '{{.GraphDriver.Data.LowerDir}}' busybox:gz)
  assert_same_state "$(tree_state "$a")" "$(tree_state "$b")"
}

@test "skopeo's conversion of berth's docker archive (a re-encoded config) loads with skopeo's id" {
  requires skopeo
  berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox
  skopeo copy "docker-archive:$BATS_TEST_TMPDIR/bb.tar" "oci:$BATS_TEST_TMPDIR/layout:busybox:conv"
  run skopeo copy "oci:$BATS_TEST_TMPDIR/layout:busybox:conv" "docker-archive:$BATS_TEST_TMPDIR/conv.tar:busybox:conv"
  assert_success
  want=$(skopeo inspect --raw "docker-archive:$BATS_TEST_TMPDIR/conv.tar" | jq -r .config.digest)
  run berth2 load -i "$BATS_TEST_TMPDIR/conv.tar"
  assert_success
  assert_output "Loaded image: busybox:conv"
  assert_equal "$(berth2 image inspect -f '{{.Id}}|{{json .RootFS.Layers}}|{{json .Config.Cmd}}' busybox:conv)" "$want|$BB_LAYERS|[\"sh\"]"
}
