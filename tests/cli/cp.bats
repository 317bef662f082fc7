#!/usr/bin/env bats
# berth cp against real containers, running and stopped: docker's path rules
# (docs.docker.com "docker container cp"), links, ownership, tar streams,
# read-only roots and the "Successfully copied" summary.

load helpers

PTYRUN=$BERTH_SRC/tests/helpers/ptyrun.py

setup() {
  container_setup
  make_probe_image probe "data/file=content" "data/dir/inner=inner" "data/with space=spaced"
  H=$BATS_TEST_TMPDIR/host
  mkdir -p "$H"
}

teardown() { container_teardown; }

# A running container (c) and a stopped one (s) made from the probe image.
start_pair() {
  run berth run -d --name ctr probe sleep 1000
  assert_success
  run berth create --name stp probe sh
  assert_success
}

# Contents of PATH in container C (running or not) through a tar stream.
ctr_cat() { berth cp "$1:$2" - | tar -xO; }
# "uid/gid" of PATH in container C.
ctr_owner() { berth cp "$1:$2" - | tar -tv | awk '{print $2}'; }
# Run a container named C whose shell command SCRIPT prepares its files,
# and wait until it has (up to 20 s).
run_prepared() {
  local c=$1 script=$2 i
  shift 2
  run berth run -d --name "$c" "$@" probe sh -c "$script; touch /ready; exec sleep 1000"
  assert_success
  for i in $(seq 200); do
    berth cp "$c:/ready" - >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "container $c did not get ready"
}

@test "cp: argument forms and their errors are docker's" {
  run berth cp a b
  assert_failure 1
  assert_output "Error: must specify at least one container source"
  run berth cp a:x b:y
  assert_output "Error: copying between containers is not supported"
  run berth cp "" ctr:/x
  assert_output "Error: source can not be empty"
  run berth cp ctr:/x ""
  assert_output "Error: destination can not be empty"
  run berth cp onlyone
  assert_failure 1
  assert_line --index 0 --partial 'requires 2 arguments'
  run berth cp nosuch:/x "$H"
  assert_failure 1
  assert_output "Error: No such container: nosuch"
  # a local path with a colon is written ./name or /abs/name
  run berth cp ./a:b "$H"
  assert_output "Error: must specify at least one container source"
}

@test "cp: out of a running and a stopped container, by docker's rules" {
  start_pair
  for c in ctr stp; do
    d=$H/$c
    mkdir -p "$d/existing"
    # file -> new name; file -> existing dir keeps its name
    run berth cp $c:/data/file "$d/renamed"
    assert_success
    assert_equal "$(cat "$d/renamed")" content
    run berth cp $c:/data/file "$d/existing"
    assert_success
    assert_equal "$(cat "$d/existing/file")" content
    # file onto an existing file replaces it
    echo old >"$d/target"
    run berth cp $c:/data/file "$d/target"
    assert_success
    assert_equal "$(cat "$d/target")" content
    # dir -> new path: the new dir has its content; dir -> existing dir: copied into it
    run berth cp $c:/data/dir "$d/newdir"
    assert_success
    assert_equal "$(cat "$d/newdir/inner")" inner
    run berth cp $c:/data/dir "$d/existing"
    assert_success
    assert_equal "$(cat "$d/existing/dir/inner")" inner
    # dir/. -> existing dir: the content only
    mkdir "$d/content"
    run berth cp $c:/data/dir/. "$d/content"
    assert_success
    assert_equal "$(ls "$d/content")" inner
    # names with spaces
    run berth cp "$c:/data/with space" "$d/"
    assert_success
    assert_equal "$(cat "$d/with space")" spaced
    # errors
    run berth cp $c:/data/file "$d/missing/"
    assert_failure 1
    assert_output "Error: no such directory"
    run berth cp $c:/data/dir "$d/target"
    assert_output "Error: cannot copy directory"
    run berth cp $c:/data/file/ "$d/x"
    assert_output "Error: lstat /data/file/: not a directory"
    run berth cp $c:/nonexistent "$d/x"
    assert_output "Error: Could not find the file /nonexistent in container $c"
    run berth cp $c:/data/file "$d/no/such/dir"
    assert_output "Error: invalid output path: directory \"$d/no/such\" does not exist"
  done
}

@test "cp: into a running and a stopped container, by docker's rules" {
  start_pair
  printf 'hostfile' >"$H/f"
  mkdir -p "$H/tree/sub" && printf 'deep' >"$H/tree/sub/x" && printf 'spaced' >"$H/tree/a b"
  printf 'colon' >"$H/a:b"
  for c in ctr stp; do
    run berth cp "$H/f" $c:/data/renamed
    assert_success
    run berth cp "$H/f" $c:/data/dir
    assert_success
    run berth cp "$H/f" $c:/data/file
    assert_success
    run berth cp "$H/tree" $c:/newtree
    assert_success
    run berth cp "$H/tree" $c:/data/dir
    assert_success
    run berth cp "$H/tree/." $c:/data
    assert_success
    (cd "$H" && berth cp ./a:b $c:/data/)
    # errors
    run berth cp "$H/f" $c:/data/missing/
    assert_failure 1
    assert_output "Error: no such directory"
    run berth cp "$H/tree" $c:/data/file
    assert_output "Error: cannot copy directory"
    run berth cp "$H/f" $c:/no/such/f
    assert_output "Error: Could not find the file /no/such in container $c"
    run berth cp "$H/nonexistent" $c:/data
    assert_output "Error: lstat $H/nonexistent: no such file or directory"
  done
  run berth start stp
  assert_success
  for c in ctr stp; do
    for f in /data/renamed /data/dir/f /data/file /newtree/sub/x /data/dir/tree/sub/x "/data/a b" /data/sub/x /data/a:b; do
      printf '%s ' "$(ctr_cat $c "$f")"
    done >"$H/seen"
    assert_equal "$(cat "$H/seen")" "hostfile hostfile hostfile deep deep spaced deep colon "
  done
}

@test "cp: symlinks are copied as links, -L and a trailing / follow them" {
  run_prepared ctr 'ln -s /etc /data/etclink; ln -s file /data/rel; ln -s /tmp /data/tmplink'
  # a link out of the container's root comes out as a link (CVE-2019-18466)
  run berth cp ctr:/data/etclink "$H/out"
  assert_success
  assert [ -L "$H/out" ]
  assert_equal "$(readlink "$H/out")" /etc
  run berth cp ctr:/data/rel "$H/rel"
  assert_equal "$(readlink "$H/rel")" file
  # -L: the target, under the link's name
  run berth cp -L ctr:/data/rel "$H/followed"
  assert_success
  assert [ -f "$H/followed" ]
  assert_equal "$(cat "$H/followed")" content
  # "link/": the directory it points to, inside the container
  run berth cp ctr:/data/etclink/ "$H/etc-copy"
  assert_success
  assert_equal "$(cat "$H/etc-copy/passwd")" "$(ctr_cat ctr /etc/passwd)"
  # into a symlinked directory: its target in the container gets the file
  echo in >"$H/in"
  run berth cp "$H/in" ctr:/data/tmplink
  assert_success
  assert_equal "$(ctr_cat ctr /tmp/in)" in
}

@test "cp: ownership: kept going in (as docker), -a uses the container's user, the caller's coming out" {
  run berth run -d --name ctr probe sleep 1000
  assert_success
  run berth run -d --name usr --user nobody probe sleep 1000
  assert_success
  run berth run -d --name num --user 2375:777 probe sleep 1000
  assert_success
  echo f >"$H/owned" && chown 1234:4321 "$H/owned"
  run berth cp "$H/owned" ctr:/tmp/
  assert_success
  assert_equal "$(ctr_owner ctr /tmp/owned)" 1234/4321
  # -a: the container's configured user, looked up in its own /etc/passwd
  run berth cp -a "$H/owned" usr:/tmp/
  assert_success
  assert_equal "$(ctr_owner usr /tmp/owned)" 65534/65534
  run berth cp -a "$H/owned" num:/tmp/
  assert_success
  assert_equal "$(ctr_owner num /tmp/owned)" 2375/777
  # out: files belong to whoever ran cp
  run berth cp ctr:/tmp/owned "$H/back"
  assert_success
  assert_equal "$(stat -c %u:%g "$H/back")" "$(id -u):$(id -g)"
}

@test "cp: - streams a tar out and extracts one in" {
  start_pair
  run bash -c "'$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' cp ctr:/data - | tar -t | sort"
  assert_success
  assert_output "data/
data/dir/
data/dir/inner
data/file
data/with space"
  run bash -c "'$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' cp ctr:/data/dir/. - | tar -t | sort"
  assert_output "./
./inner"
  mkdir -p "$H/t/d" && echo streamed >"$H/t/d/x" && echo gz >"$H/t/g"
  tar -C "$H/t" -c d | berth cp - ctr:/data
  tar -C "$H/t" -cz g | berth cp - stp:/data
  assert_equal "$(ctr_cat ctr /data/d/x)" streamed
  assert_equal "$(ctr_cat stp /data/g)" gz
  run berth cp - ctr:/data/file </dev/null
  assert_failure 1
  assert_output 'Error: destination "ctr:/data/file" must be a directory'
  # a .wh. name is an ordinary file here, not a whiteout
  touch "$H/t/.wh.file"
  tar -C "$H/t" -c .wh.file | berth cp - ctr:/data
  assert_equal "$(ctr_cat ctr /data/.wh.file)" ""
  assert_equal "$(ctr_cat ctr /data/file)" content
}

@test "cp: hard links and modes survive the trip out" {
  run_prepared ctr 'mkdir /h; echo x > /h/a; ln /h/a /h/b; chmod 4750 /h/a'
  run berth cp ctr:/h "$H/h"
  assert_success
  assert_equal "$(stat -c %i "$H/h/a")" "$(stat -c %i "$H/h/b")"
  assert_equal "$(stat -c %a "$H/h/a")" 4750
}

@test "cp: read-only roots and volumes refuse writes with docker's words, tmpfs and rw volumes take them" {
  mkdir -p "$H/ro" "$H/rw"
  run berth run -d --name ctr --read-only --tmpfs /scratch -v "$H/ro:/ro:ro" -v "$H/rw:/rw" probe sleep 1000
  assert_success
  echo f >"$H/f"
  run berth cp "$H/f" ctr:/tmp/
  assert_failure 1
  assert_output "Error: container rootfs is marked read-only"
  run berth cp "$H/f" ctr:/ro/
  assert_output "Error: mounted volume is marked read-only"
  run berth cp "$H/f" ctr:/rw/
  assert_success
  assert_equal "$(cat "$H/rw/f")" f
  run berth cp "$H/f" ctr:/scratch/
  assert_success
  assert_equal "$(ctr_cat ctr /scratch/f)" f
  # stopped: the layers are read-only too
  run berth create --name stp --read-only probe sh
  run berth cp "$H/f" stp:/tmp/
  assert_output "Error: container rootfs is marked read-only"
}

@test "cp: the summary is printed when stdout is a terminal, as docker 28 does" {
  run berth run -d --name ctr probe sleep 1000
  assert_success
  printf 'hello' >"$H/f"
  # not a terminal: quiet
  run berth cp "$H/f" ctr:/tmp/
  assert_success
  assert_output ""
  # stdout a terminal, stderr a file: the summary alone (2 kB of tar for 5 bytes)
  run "$PYTHON" "$PTYRUN" -- sh -c "'$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' cp '$H/f' ctr:/tmp/ 2>'$H/err1'; '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' cp ctr:/tmp/f '$H/back' 2>'$H/err2'; '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' cp -q ctr:/tmp/f '$H/q' 2>'$H/err3'"
  assert_success
  assert_equal "$(cat "$H/err1")" "Successfully copied 2.05kB to ctr:/tmp/"
  assert_equal "$(cat "$H/err2")" "Successfully copied 2.05kB to $H/back"
  assert_equal "$(cat "$H/err3")" ""
  # a stream from stdin counts nothing, like docker's
  tar -C "$H" -c f >"$H/f.tar"
  run "$PYTHON" "$PTYRUN" -- sh -c "'$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' cp - ctr:/tmp <'$H/f.tar' 2>'$H/err4'"
  assert_equal "$(cat "$H/err4")" "Successfully copied 0B to ctr:/tmp"
}

@test "cp: a stopped container's root is never mounted on the host and its changes show when it starts" {
  run berth create --name stp probe cat /data/new
  assert_success
  echo fresh >"$H/new"
  run berth cp "$H/new" stp:/data/new
  assert_success
  run berth cp stp:/data/new "$H/back"
  assert_success
  assert_equal "$(cat "$H/back")" fresh
  run grep -c " $TEST_ROOT" /proc/self/mountinfo
  assert_output 0
  run berth start -a stp
  assert_success
  assert_output fresh
}

# A stopped container takes new entries straight into its upper dir; what
# the image had under the same names must stay hidden as the overlay hides it.
@test "cp: into a stopped container, deleted image content stays deleted (whiteouts, opaque dirs, committed layers)" {
  mkdir -p "$H/new/sub" && printf 'mine' >"$H/new/sub/x"
  # a whiteout in the upper dir, an opaque directory, and a whiteout in a lower layer
  run berth run --name gone probe sh -c 'rm -rf /data'
  assert_success
  run berth run --name opq probe sh -c 'rm -rf /data && mkdir /data'
  assert_success
  run berth commit gone probe-gone
  assert_success
  run berth create --name low probe-gone sh
  assert_success
  run berth cp "$H/new" gone:/data
  assert_success
  run berth cp "$H/new" opq:/data/dir
  assert_success
  run berth cp "$H/new" low:/data
  assert_success
  run berth cp "$H/new" low:/fresh
  assert_success
  for spec in gone:/data opq:/data/dir low:/data low:/fresh; do
    printf '%s: %s\n' "$spec" "$(berth cp "$spec" - | tar -t | sort | tr '\n' ' ')"
  done >"$H/seen"
  run cat "$H/seen"
  assert_output - <<OUT
gone:/data: data/ data/sub/ data/sub/x 
opq:/data/dir: dir/ dir/sub/ dir/sub/x 
low:/data: data/ data/sub/ data/sub/x 
low:/fresh: fresh/ fresh/sub/ fresh/sub/x 
OUT
  # and the containers see the same in their own root when they run
  run berth start -a low
  assert_success
  for c in gone opq low; do
    run berth commit $c probe-$c
    assert_success
    run berth run --rm probe-$c find /data
    assert_success
    printf '%s: %s\n' $c "$(echo "$output" | sort | tr '\n' ' ')"
  done >"$H/seen"
  run cat "$H/seen"
  assert_output - <<OUT
gone: /data /data/sub /data/sub/x 
opq: /data /data/dir /data/dir/sub /data/dir/sub/x 
low: /data /data/sub /data/sub/x 
OUT
}
