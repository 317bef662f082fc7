#!/usr/bin/env bats
# Volumes with real containers: -v in its three forms, --mount, --tmpfs,
# --volumes-from, VOLUME in the image, pre-population from the image, rm -v,
# `volume create/ls/inspect/rm/prune`, and what inspect and system df show.
# Docker's documentation ("Volumes", "docker volume", "docker run -v") is the
# reference for every behaviour checked here.

load helpers

setup() {
  container_setup
  # /data in the image holds files owned by 1000, as an application's would
  make_probe_image probe "data/seed=from-image" "data/sub/deep=deep"
  H=$BATS_TEST_TMPDIR/host
  mkdir -p "$H"
}

teardown() { container_teardown; }

# The probe image plus VOLUME /vol (with content) and /data owned by uid 1000.
make_volume_image() {
  local dir=$BATS_TEST_TMPDIR/rootfs-probe
  mkdir -p "$dir/vol" && echo in-vol >"$dir/vol/f"
  chown -R 1000:1000 "$dir/data" && chmod 0750 "$dir/data"
  tar -C "$dir" -c . | berth import --change 'CMD ["sh"]' --change 'VOLUME ["/vol"]' - probe-vol >/dev/null
}

@test "volumes: a named volume outlives its containers; data written in one is read in another" {
  run berth run --name ww -v shared:/store probe sh -c 'echo hello >/store/greeting'
  assert_success
  run berth rm ww
  assert_success
  run berth run --rm -v shared:/store probe cat /store/greeting
  assert_success
  assert_output hello
  # created on first use, listed, and its data is under its mount point
  run berth volume ls -q
  assert_output shared
  run berth volume inspect -f '{{.Mountpoint}}' shared
  assert_output "$TEST_ROOT/volumes/shared/_data"
  assert_equal "$(cat "$TEST_ROOT/volumes/shared/_data/greeting")" hello
}

@test "volumes: ro is enforced for named volumes, binds and --mount readonly (EROFS)" {
  mkdir -p "$H/bind"
  run berth volume create vv
  assert_success
  run berth run --rm -v vv:/a:ro -v "$H/bind:/b:ro" --mount type=volume,src=vv,dst=/c,readonly probe \
    sh -c 'for d in /a /b /c; do touch $d/x 2>&1; done; exit 0'
  assert_success
  assert_line "touch: /a/x: Read-only file system"
  assert_line "touch: /b/x: Read-only file system"
  assert_line "touch: /c/x: Read-only file system"
  # and rw is the default
  run berth run --rm -v vv:/a -v "$H/bind:/b" probe sh -c 'touch /a/x /b/x'
  assert_success
  [ -e "$H/bind/x" ] && [ -e "$TEST_ROOT/volumes/vv/_data/x" ]
}

@test "volumes: -v creates a missing host directory, --mount refuses it; bad specs are docker's errors" {
  run berth run --rm -v "$H/new/deeper:/n" probe sh -c 'echo made >/n/f'
  assert_success
  assert_equal "$(cat "$H/new/deeper/f")" made
  # a source that cannot be made says where and why
  run berth run --rm -v /proc/berth-nonexistent/x:/n probe true
  assert_failure 125
  assert_output --partial "error while creating mount source path '/proc/berth-nonexistent/x'"
  assert_output --partial "o such file or directory"
  run berth create --mount "type=bind,src=$H/absent,dst=/n" probe true
  assert_failure 125
  assert_output --partial "invalid mount config for type \"bind\": bind source path does not exist: $H/absent"
  run berth create -v 'bad$name:/x' probe true
  assert_failure 125
  assert_output --partial "\"bad\$name\" includes invalid characters for a local volume name"
  run berth create -v /a:/b:bogus probe true
  assert_failure 125
  assert_output --partial "invalid mode: bogus"
  run berth create -v v:/x probe true
  assert_failure 125
  assert_output --partial "create v: volume name is too short, names should be at least two alphanumeric characters"
  run berth create -v vv:relative probe true
  assert_failure 125
  assert_output --partial "mount path must be absolute"
  run berth create -v vv:/x -v ww:/x probe true
  assert_failure 125
  assert_output --partial "Duplicate mount point: /x"
  run berth create --mount type=tmpfs,src=x,dst=/t probe true
  assert_failure 125
  assert_output --partial "field Source must not be specified"
  run berth create --mount type=volume,src=vv probe true
  assert_failure 125
  assert_output --partial "target is required"
  run berth create --mount type=bind,dst=/t,volume-nocopy probe true
  assert_failure 125
  assert_output --partial "cannot mix 'volume-*' options with mount type 'bind'"
  run berth create --mount type=volume,dst=/t,nonsense=1 probe true
  assert_failure 125
  assert_output --partial "unexpected key 'nonsense'"
  # nothing was made by the failed creates
  run berth ps -aq
  assert_output ""
  run berth volume ls -q
  assert_output ""
}

@test "volumes: --mount tmpfs with size and mode, --tmpfs, and --read-only with writable volumes" {
  run berth run --rm --read-only -v rwvol:/rw --mount type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770 \
    --tmpfs /scratch probe sh -c 'touch /rw/ok /t/ok /scratch/ok && stat -c %a /t && grep " /t " /proc/mounts; touch /root/no'
  assert_failure 1
  assert_line 1770
  assert_line --partial "size=1024k"
  assert_line "touch: /root/no: Read-only file system"
}

@test "volumes: a new volume is filled from the image (owner and mode too), once, and not with nocopy" {
  make_volume_image
  run berth run --rm -v filled:/data probe-vol sh -c 'cat /data/seed /data/sub/deep; stat -c "%u %a" /data'
  assert_success
  assert_output "from-imagedeep1000 750"
  # not empty any more: a second image's content does not go in
  run berth run --rm -v filled:/vol probe-vol ls /vol
  assert_success
  assert_output --partial seed
  refute_output --partial f
  # nocopy, and a bind, are left as they are
  run berth run --rm -v empty:/data:nocopy -v "$H:/vol" probe-vol sh -c 'ls -A /data /vol'
  assert_success
  assert_output "/data:

/vol:"
}

@test "volumes: VOLUME of the image and -v /path make anonymous volumes, filled from the image" {
  make_volume_image
  run berth create --name c1 -v /extra probe-vol sh
  assert_success
  run berth inspect -f '{{range .Mounts}}{{.Type}} {{.Destination}} {{.Mode}} {{.RW}} {{len .Name}}{{println}}{{end}}' c1
  assert_success
  assert_line "volume /vol  true 64"
  assert_line "volume /extra  true 64"
  name=$(berth inspect -f '{{range .Mounts}}{{if eq .Destination "/vol"}}{{.Name}}{{end}}{{end}}' c1)
  assert_equal "$(cat "$TEST_ROOT/volumes/$name/_data/f")" in-vol
  run berth volume inspect -f '{{json .Labels}}' "$name"
  assert_output '{"com.docker.volume.anonymous":""}'
}

@test "volumes: anonymous volumes go with rm -v and --rm only; named ones stay" {
  run berth create --name keep -v /anon -v named:/n probe sh
  assert_success
  run berth create --name drop -v /anon -v named2:/n probe sh
  assert_success
  keep=$(berth inspect -f '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}' keep)
  drop=$(berth inspect -f '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}' drop)
  run berth rm keep
  assert_success
  run berth rm -v drop
  assert_success
  run berth volume ls -q
  assert_line "$keep"
  refute_line "$drop"
  assert_line named
  assert_line named2
  # --rm removes the anonymous volume of the run too
  run berth run --rm -v /gone probe sh -c 'touch /gone/x'
  assert_success
  run berth volume ls -q
  assert_equal "$(echo "$output" | wc -l)" 3
}

@test "volumes: --volumes-from inherits a bind, a named and an anonymous volume, :ro makes them read-only" {
  mkdir -p "$H/b"
  run berth run --name src -v "$H/b:/bind" -v nv:/named -v /anon probe \
    sh -c 'echo b >/bind/f; echo n >/named/f; echo a >/anon/f'
  assert_success
  run berth run --rm --volumes-from src probe sh -c 'cat /bind/f /named/f /anon/f; echo more >>/anon/f'
  assert_success
  assert_output "b
n
a"
  run berth run --rm --volumes-from src:ro probe sh -c 'cat /anon/f; touch /bind/x /named/x /anon/x 2>&1; true'
  assert_line more
  assert_line "touch: /bind/x: Read-only file system"
  assert_line "touch: /named/x: Read-only file system"
  assert_line "touch: /anon/x: Read-only file system"
  # inspect of the inheriting container shows the same sources
  run berth create --name heir --volumes-from src probe sh
  assert_success
  assert_equal "$(berth inspect -f '{{range .Mounts}}{{.Source}} {{end}}' heir)" \
    "$(berth inspect -f '{{range .Mounts}}{{.Source}} {{end}}' src)"
  # rm -v of the heir keeps the anonymous volume its source still uses
  anon=$(berth inspect -f '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}' src)
  run berth rm -v heir
  assert_success
  run berth volume inspect -f '{{.Name}}' "$anon"
  assert_output "$anon"
  run berth create --volumes-from nosuch probe sh
  assert_failure 125
  assert_output --partial "No such container: nosuch"
}

@test "volumes: a volume in use is not removed, even with -f; rm -f of a missing one is quiet" {
  run berth create --name user -v busy:/b probe sh
  assert_success
  run berth volume rm busy
  assert_failure 1
  assert_output "Error: remove busy: volume is in use - [$(berth inspect -f '{{.Id}}' user)]"
  run berth volume rm -f busy
  assert_failure 1
  run berth volume rm nosuch
  assert_failure 1
  assert_output "Error: get nosuch: no such volume"
  run berth volume rm -f nosuch
  assert_success
  run berth rm user
  run berth volume rm busy
  assert_success
  assert_output busy
}

@test "volumes: prune takes unused anonymous volumes, -a every unused one, filters by label" {
  run berth volume create named-unused
  run berth volume create --label team=a labelled
  run berth create --name holder -v /held -v named-used:/u probe sh
  run berth run --name anonrun -v /loose probe true
  loose=$(berth inspect -f '{{range .Mounts}}{{.Name}}{{end}}' anonrun)
  held=$(berth inspect -f '{{range .Mounts}}{{if eq .Destination "/held"}}{{.Name}}{{end}}{{end}}' holder)
  run berth rm anonrun
  run berth volume prune -f
  assert_success
  assert_output "Deleted Volumes:
$loose

Total reclaimed space: 0B"
  run berth volume prune -af --filter label=team=a
  assert_success
  assert_line labelled
  refute_line named-unused
  run berth volume prune -af
  assert_success
  assert_line named-unused
  run berth volume ls -q
  assert_output "$held
named-used"
}

@test "volumes: create, ls with filters and formats, inspect fields as docker prints them" {
  run berth volume create --label a=1 --label b mine
  assert_success
  assert_output mine
  run berth volume create mine
  assert_success
  assert_output mine
  run berth volume create --name other
  assert_output other
  run berth volume create -d nosuchdriver x
  assert_failure 1
  assert_output --partial 'plugin "nosuchdriver" not found'
  run berth volume create
  assert_success
  assert_regex "$output" '^[0-9a-f]{64}$'
  run berth volume ls
  assert_line --index 0 "DRIVER    VOLUME NAME"
  assert_line "local     mine"
  run berth volume ls -q -f label=a=1
  assert_output mine
  run berth volume ls -q -f name=oth
  assert_output other
  run berth create --name cc -v mine:/m probe sh
  run berth volume ls -q -f dangling=false
  assert_output mine
  run berth volume ls --format '{{.Name}}:{{.Driver}}:{{.Labels}}' -f name=mine
  assert_output "mine:local:a=1,b="
  run berth volume ls -f bogus=1
  assert_failure 1
  run berth volume inspect mine
  assert_success
  echo "$output" | jq -e '.[0] | (.Name == "mine") and (.Driver == "local") and (.Scope == "local") and
    (.Labels == {"a": "1", "b": ""}) and (.Options == {}) and (.CreatedAt | test("^[0-9-]+T[0-9:]+(Z|[+-][0-9:]+)$")) and
    (.Mountpoint | endswith("/volumes/mine/_data")) and (keys | length == 7)'
  # made by a container: no labels, no options, as docker keeps them
  run berth create -v implicit:/i probe sh
  run berth volume inspect -f '{{json .Labels}} {{json .Options}}' implicit
  assert_output "null null"
  # the container's Mounts entry, and ps's MOUNTS column
  run berth inspect -f '{{json .Mounts}}' cc
  echo "$output" | jq -e --arg src "$TEST_ROOT/volumes/mine/_data" '.[0] == {"Type": "volume", "Name": "mine",
    "Source": $src, "Destination": "/m", "Driver": "local", "Mode": "z", "RW": true, "Propagation": ""}'
  run berth ps -a --format '{{.Mounts}}' -f name=cc
  assert_output mine
}

@test "volumes: files a non-root user writes keep its uid; system df counts volumes" {
  make_volume_image
  run berth run --rm -u 1000 -v appdata:/data probe-vol sh -c 'echo mine >/data/by-user'
  assert_success
  assert_equal "$(stat -c %u "$TEST_ROOT/volumes/appdata/_data/by-user")" 1000
  run berth system df --format '{{.Type}} {{.TotalCount}} {{.Active}}'
  assert_line "Local Volumes 1 0"
}

@test "volumes: the local driver's options mount a tmpfs on the volume, shared by its containers, gone with it" {
  run berth volume create -o type=tmpfs -o device=tmpfs -o o=size=1m,uid=1000,noexec tv
  assert_success
  run berth run --rm -v tv:/t probe sh -c 'grep " /t " /proc/mounts; echo kept > /t/f'
  assert_success
  assert_output --partial "tmpfs /t tmpfs rw,noexec"
  assert_output --partial "size=1024k,uid=1000"
  run berth run --rm -v tv:/t probe cat /t/f
  assert_output kept
  run berth volume rm tv
  assert_success
  run grep -c " $TEST_ROOT/volumes/" /proc/self/mountinfo
  assert_output 0
  run berth volume create -o foo=bar bad
  assert_failure 1
  assert_output 'Error: create bad: invalid option key: "foo"'
  run berth volume create -o device=tmpfs bad
  assert_output 'Error: create bad: missing required option: "type"'
}

@test "volumes: system prune --volumes removes stopped containers, then the anonymous volumes they freed" {
  run berth run --name stopped -v /anon -v keepme:/k probe true
  assert_success
  anon=$(berth inspect -f '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}' stopped)
  id=$(berth inspect -f '{{.Id}}' stopped)
  run berth system prune -f
  assert_success
  assert_line "Deleted Containers:"
  refute_line "Deleted Volumes:"
  run berth volume ls -q
  assert_line "$anon"
  run berth system prune -f --volumes
  assert_success
  assert_output "Deleted Volumes:
$anon

Total reclaimed space: 0B"
  run berth volume ls -q
  assert_output keepme
  run berth ps -aq
  assert_output ""
  [ -n "$id" ]
}

@test "volumes: cp into and out of a stopped container reaches its volumes and binds, as docker's does" {
  mkdir -p "$H/b" && echo from-host >"$H/b/f"
  echo copied >"$H/in"
  run berth create --name st -v cpvol:/data -v "$H/b:/bind:ro" probe sh
  assert_success
  # never started: the mount points are made as the start would make them
  run berth cp "$H/in" st:/data/in
  assert_success
  assert_equal "$(cat "$TEST_ROOT/volumes/cpvol/_data/in")" copied
  run berth cp st:/bind/f -
  assert_output --partial from-host
  run berth cp "$H/in" st:/bind/
  assert_failure 1
  assert_output "Error: mounted volume is marked read-only"
  # and once it ran, the same
  run berth start -a st
  run berth cp st:/data/in "$H/out"
  assert_success
  assert_equal "$(cat "$H/out")" copied
  run grep -c " $BATS_TEST_TMPDIR" /proc/self/mountinfo
  assert_output 0
}
