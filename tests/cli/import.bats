#!/usr/bin/env bats
# berth import / image import: sources, compression, --change, --message.

load helpers

# A root filesystem with files, a subdirectory, a symlink, a hard link, odd
# modes and owners, and an empty directory; tarred as $1.
make_tree() {
  SRC=$BATS_TEST_TMPDIR/src
  mkdir -p "$SRC/etc" "$SRC/usr/bin" "$SRC/empty" "$SRC/tmp"
  echo "root:x:0:0:root:/root:/bin/sh" >"$SRC/etc/passwd"
  printf 'binary\0data' >"$SRC/usr/bin/tool"
  chmod 0755 "$SRC/usr/bin/tool"
  ln "$SRC/usr/bin/tool" "$SRC/usr/bin/tool-link"
  ln -s ../usr/bin/tool "$SRC/etc/tool"
  echo secret >"$SRC/etc/shadow"
  chmod 0640 "$SRC/etc/shadow"
  chown 0:42 "$SRC/etc/shadow"
  chmod 1777 "$SRC/tmp"
  echo owned >"$SRC/owned"
  chown 1000:1000 "$SRC/owned"
  tar --numeric-owner -C "$SRC" -cf "$1" .
}

# path type mode uid:gid size link of every entry: the tree's metadata.
listing() {
  (cd "$1" && find . -mindepth 1 -printf '%p %y %m %U:%G %l\n' | LC_ALL=C sort)
}

@test "import FILE REF: prints the id, the image lists under REF" {
  make_rootfs_tar "$BATS_TEST_TMPDIR/r.tar" hello=hi
  run --separate-stderr berth import "$BATS_TEST_TMPDIR/r.tar" imp:1
  assert_success
  assert_equal "$stderr" ""
  assert_output --regexp '^sha256:[0-9a-f]{64}$'
  id=$output
  run berth images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  assert_output "imp:1 ${id:7:12}"
  run berth image import "$BATS_TEST_TMPDIR/r.tar" imp:2
  assert_success
  run berth images --format '{{.Repository}}:{{.Tag}}' imp:2
  assert_output "imp:2"
}

@test "import: the layer holds exactly the tarball's files, modes, owners and links" {
  make_tree "$BATS_TEST_TMPDIR/tree.tar"
  run berth import "$BATS_TEST_TMPDIR/tree.tar" tree:1
  assert_success
  dir=$(layer_dir tree:1)
  assert_equal "$(listing "$dir")" "$(listing "$SRC")"
  run diff -r --no-dereference "$SRC" "$dir"
  assert_success
  assert_equal "$(stat -c %i "$dir/usr/bin/tool")" "$(stat -c %i "$dir/usr/bin/tool-link")"
}

@test "import: the diff id is the digest of the tarball; Size counts its files" {
  make_tree "$BATS_TEST_TMPDIR/tree.tar"
  run berth import "$BATS_TEST_TMPDIR/tree.tar" tree:1
  assert_success
  run berth image inspect -f '{{json .RootFS.Layers}}' tree:1
  assert_output "[\"sha256:$(sha256sum <"$BATS_TEST_TMPDIR/tree.tar" | cut -d' ' -f1)\"]"
  dir=$(layer_dir tree:1)
  size=$(find "$dir" ! -type d -printf '%i %s\n' | sort -u -k1,1 | awk '{ s += $2 } END { print s + 0 }')
  run berth image inspect -f '{{.Size}}' tree:1
  assert_output "$size"
}

@test "import -: reads the tarball from stdin" {
  make_rootfs_tar "$BATS_TEST_TMPDIR/r.tar" hello=hi sub/f=x
  run berth import - stdin:1 <"$BATS_TEST_TMPDIR/r.tar"
  assert_success
  id=$output
  run berth import "$BATS_TEST_TMPDIR/r.tar" file:1
  assert_success
  # Same content, same second or not: the layers are one.
  assert_equal "$(berth image inspect -f '{{json .RootFS}}' stdin:1)" "$(berth image inspect -f '{{json .RootFS}}' file:1)"
  assert_equal "$(cat "$(layer_dir stdin:1)/sub/f")" "x"
}

@test "import: tar, tar.gz and tar.zst of one tree give one layer" {
  requires zstd
  make_tree "$BATS_TEST_TMPDIR/tree.tar"
  gzip -k "$BATS_TEST_TMPDIR/tree.tar"
  zstd -q "$BATS_TEST_TMPDIR/tree.tar" -o "$BATS_TEST_TMPDIR/tree.tar.zst"
  for ext in tar tar.gz tar.zst; do
    run berth import "$BATS_TEST_TMPDIR/tree.$ext" "t:${ext//./-}"
    assert_success
  done
  want=$(berth image inspect -f '{{json .RootFS.Layers}}' t:tar)
  assert_equal "$(berth image inspect -f '{{json .RootFS.Layers}}' t:tar-gz)" "$want"
  assert_equal "$(berth image inspect -f '{{json .RootFS.Layers}}' t:tar-zst)" "$want"
  assert_equal "$(listing "$(layer_dir t:tar-zst)")" "$(listing "$SRC")"
  # Compressed from stdin too.
  run berth import - t:stdin-gz <"$BATS_TEST_TMPDIR/tree.tar.gz"
  assert_success
  assert_equal "$(berth image inspect -f '{{json .RootFS.Layers}}' t:stdin-gz)" "$want"
}

@test "import without REPOSITORY: a dangling image" {
  make_rootfs_tar "$BATS_TEST_TMPDIR/r.tar" hello=hi
  run berth import "$BATS_TEST_TMPDIR/r.tar"
  assert_success
  id=$output
  run berth images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  assert_output "<none>:<none> ${id:7:12}"
  run berth image inspect -f '{{json .RepoTags}}' "$id"
  assert_output "[]"
}

@test "import -c CMD and ENTRYPOINT: JSON and shell forms" {
  import_files c:1 -c 'CMD ["x", "y"]' -c 'ENTRYPOINT ["/e"]' -- a=1
  run berth image inspect -f '{{json .Config.Cmd}}|{{json .Config.Entrypoint}}' c:1
  assert_output '["x","y"]|["/e"]'
  import_files c:2 -c 'CMD echo hi there' -c 'ENTRYPOINT /bin/run -v' -- a=1
  run berth image inspect -f '{{json .Config.Cmd}}|{{json .Config.Entrypoint}}' c:2
  assert_output '["/bin/sh","-c","echo hi there"]|["/bin/sh","-c","/bin/run -v"]'
}

@test "import -c ENV, LABEL: both the = and the space forms" {
  import_files e:1 -c 'ENV A=b' -c 'ENV C d e' -c 'ENV F="g h" I=j' -c 'LABEL k=v' -c 'LABEL "x y"="z w" n=1' -- a=1
  run berth image inspect -f '{{json .Config.Env}}' e:1
  assert_output '["A=b","C=d e","F=g h","I=j"]'
  run berth image inspect -f '{{json .Config.Labels}}' e:1
  run jq -e '. == {"k":"v","x y":"z w","n":"1"}' <<<"$output"
  assert_success
}

@test "import -c EXPOSE, USER, VOLUME, WORKDIR" {
  import_files x:1 -c 'EXPOSE 80' -c 'EXPOSE 53/udp 8080/tcp' -c 'USER nobody:nogroup' -c 'VOLUME /v' \
    -c 'VOLUME ["/a", "/b"]' -c 'WORKDIR /w' -c 'WORKDIR sub' -- a=1
  run berth image inspect -f '{{json .Config.ExposedPorts}}' x:1
  run jq -e '. == {"80/tcp":{},"53/udp":{},"8080/tcp":{}}' <<<"$output"
  assert_success
  run berth image inspect -f '{{json .Config.Volumes}}' x:1
  run jq -e '. == {"/v":{},"/a":{},"/b":{}}' <<<"$output"
  assert_success
  run berth image inspect -f '{{.Config.User}}|{{.Config.WorkingDir}}' x:1
  assert_output "nobody:nogroup|/w/sub"
}

@test "import --change: long form, several at once, lowercase instruction" {
  import_files l:1 --change 'cmd ["a"]' --change='USER u' -- a=1
  run berth image inspect -f '{{json .Config.Cmd}}|{{.Config.User}}' l:1
  assert_output '["a"]|u'
}

@test "import -m: the message is the history COMMENT and the image Comment" {
  import_files m:1 -m "imported for a test" -- a=1
  run berth history --format '{{.Comment}}' m:1
  assert_output "imported for a test"
  run berth history m:1
  assert_line --index 1 --regexp '   imported for a test$'
  run berth image inspect -f '{{.Comment}}' m:1
  assert_output "imported for a test"
}

@test "import -c with an invalid instruction: 'X is not a valid change command', exit 1, nothing stored" {
  make_rootfs_tar "$BATS_TEST_TMPDIR/r.tar" hello=hi
  run berth images
  before=$(tree_state "$TEST_ROOT")
  for change in 'BOGUS x' 'RUN echo hi' 'FROM scratch' 'COPY a b' 'ADD a b'; do
    run --separate-stderr berth import -c "$change" "$BATS_TEST_TMPDIR/r.tar" bad:1
    [ "$status" -eq 1 ] || fail "-c '$change': exit $status"
    [ "$stderr" = "Error: ${change%% *} is not a valid change command" ] || fail "-c '$change': stderr '$stderr'"
    [ -z "$output" ] || fail "-c '$change': stdout '$output'"
  done
  assert_same_state "$before" "$(tree_state "$TEST_ROOT")"
}

@test "import -c with a malformed value fails, exit 1, nothing stored" {
  make_rootfs_tar "$BATS_TEST_TMPDIR/r.tar" hello=hi
  run berth images
  before=$(tree_state "$TEST_ROOT")
  for change in 'ENV' 'EXPOSE notaport' 'LABEL' 'ENV A'; do
    run --separate-stderr berth import -c "$change" "$BATS_TEST_TMPDIR/r.tar" bad:1
    [ "$status" -eq 1 ] || fail "-c '$change': exit $status"
    [[ $stderr == Error:* ]] || fail "-c '$change': stderr '$stderr'"
  done
  assert_same_state "$before" "$(tree_state "$TEST_ROOT")"
}

@test "import of a missing file: exit 1, docker's open error" {
  run --separate-stderr berth import "$BATS_TEST_TMPDIR/nope.tar"
  assert_failure 1
  [[ $stderr == *"open $BATS_TEST_TMPDIR/nope.tar: no such file or directory" ]] || fail "stderr: $stderr"
}

@test "import with an invalid REPOSITORY: exit 1, nothing stored" {
  make_rootfs_tar "$BATS_TEST_TMPDIR/r.tar" hello=hi
  run berth images
  before=$(tree_state "$TEST_ROOT")
  run --separate-stderr berth import "$BATS_TEST_TMPDIR/r.tar" Bad/Name
  assert_failure 1
  [[ $stderr == *"invalid reference format"* ]] || fail "stderr: $stderr"
  assert_same_state "$before" "$(tree_state "$TEST_ROOT")"
}

@test "import: the config records the platform, created time and no parent" {
  start=$(date -u +%s)
  import_files p:1 -- a=1
  run berth image inspect -f '{{.Os}} {{.Parent}}|{{.Created}}' p:1
  assert_success
  [[ $output == "linux |"* ]] || fail "got: $output"
  created=$(date -d "${output#*|}" +%s)
  [ "$created" -ge "$((start - 1))" ] && [ "$created" -le "$(($(date -u +%s) + 1))" ] || fail "Created ${output#*|}"
}

@test "import: ten at once into one store all land; nothing half-written stays behind" {
  for i in $(seq 1 10); do
    make_rootfs_tar "$BATS_TEST_TMPDIR/i$i.tar" "f$i=$i"
  done
  for i in $(seq 1 10); do
    berth import "$BATS_TEST_TMPDIR/i$i.tar" "par:$i" >"$BATS_TEST_TMPDIR/out$i" 2>&1 &
  done
  wait
  for i in $(seq 1 10); do
    run cat "$BATS_TEST_TMPDIR/out$i"
    assert_output --regexp '^sha256:[0-9a-f]{64}$'
  done
  run berth images -q --filter reference='par'
  assert_equal "${#lines[@]}" 10
  run find "$TEST_ROOT" -name '.*tmp-*' -o -name '.staging-*'
  assert_output ""
}

@test "store: leftovers of a writer that died are removed by the next command" {
  bootstrap_busybox
  mkdir -p "$TEST_ROOT/layers/.staging-deadbeef0000/diff"
  echo partial >"$TEST_ROOT/blobs/sha256/.blob.tmp-abcdefabcdef"
  echo partial >"$TEST_ROOT/.images.json.tmp-abcdefabcdef"
  run berth images -q
  assert_success
  run find "$TEST_ROOT" -name '.*tmp-*' -o -name '.staging-*'
  assert_output ""
}
