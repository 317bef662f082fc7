#!/usr/bin/env bats
# The container lifecycle against real containers: create, start, stop,
# restart, kill, rm, wait, rename, container prune, ps, inspect, names,
# --cidfile, --rm, concurrent names, images used by containers, system df, and
# the truth after a monitor is SIGKILLed or the machine "reboots".

load helpers

setup() {
  container_setup
  bootstrap_busybox
}

teardown() { container_teardown; }

PS_HEADER="CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES"

# run_trapping NAME SIG CODE [RUN FLAGS]: a container whose shell exits CODE
# on SIG, once its trap is set (waited for: a signal that came before would
# be ignored, the container's init having no default action for it).
run_trapping() {
  local name=$1 sig=$2 code=$3
  shift 3
  berth run -d --name "$name" "$@" busybox sh -c "trap 'exit $code' $sig; touch /dev/shm/trapped; while :; do sleep 0.1; done" >/dev/null
  wait_in_container "$name" /dev/shm/trapped
}

# The container directories below this test's cgroup parent, in every
# hierarchy (none once all its containers are gone).
container_cgroups() {
  local line rel base dir
  while IFS= read -r line; do
    rel=${line#*:*:}
    for base in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
      dir="${base%/}${rel%/}/$BERTH_CGROUP_PARENT"
      [ -d "$dir" ] && find "$dir" -mindepth 1 -maxdepth 1 -type d
    done
  done </proc/self/cgroup | sort -u
}

monitor_pids() { pgrep -f -- "berth-monitor --root $TEST_ROOT --runroot $TEST_RUNROOT " || true; }

# Nothing of any container is left: records, names, run dirs, monitors, cgroups.
assert_nothing_left() {
  local i
  assert_equal "$(ls -A "$TEST_ROOT/containers")" ""
  assert_equal "$(ls -A "$TEST_ROOT/names")" ""
  assert_equal "$(ls -A "$TEST_RUNROOT/containers" 2>/dev/null)" ""
  # a monitor is on its way out once the removal is through (slowly under ASan)
  for i in $(seq 100); do [ -z "$(monitor_pids)" ] && break; sleep 0.1; done
  assert_equal "$(monitor_pids)" ""
  assert_equal "$(container_cgroups)" ""
}

# Wait (up to 20 s) until pid is gone.
wait_pid_gone() {
  local i
  for i in $(seq 200); do
    [ -d "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ] || return 0
    sleep 0.1
  done
  fail "pid $1 still alive"
}

# ---- create, start ------------------------------------------------------------

@test "create: prints the full id; Created in ps -a, absent from ps" {
  run --separate-stderr berth create --name c1 busybox echo hello
  assert_success
  assert_output --regexp '^[0-9a-f]{64}$'
  id=$output
  assert_equal "$(berth inspect -f '{{.Id}} {{.State.Status}} {{.State.Running}} {{.State.Pid}}' c1)" "$id created false 0"
  run berth ps -a --format '{{.ID}} {{.Names}} {{.Status}} {{.State}}'
  assert_output "${id:0:12} c1 Created created"
  run berth ps -q
  assert_output ""
}

@test "start: runs a created container; start of a running one is a no-op" {
  berth create --name c1 busybox sleep 60
  run --separate-stderr berth start c1
  assert_success
  assert_output c1
  wait_for_inspect c1 '{{.State.Status}}' running
  pid=$(berth inspect -f '{{.State.Pid}}' c1)
  [ "$pid" -gt 0 ] && [ -d "/proc/$pid" ] || fail "no init process ($pid)"
  started=$(berth inspect -f '{{.State.StartedAt}}' c1)
  run --separate-stderr berth start c1
  assert_success
  assert_output c1
  assert_equal "$(berth inspect -f '{{.State.Pid}} {{.State.StartedAt}}' c1)" "$pid $started"
  run berth ps --format '{{.Names}} {{.State}}'
  assert_output "c1 running"
}

@test "start: several at once; a missing one fails the command, the others start" {
  berth create --name c1 busybox sleep 60
  berth create --name c2 busybox sleep 60
  run --separate-stderr berth start c1 nosuch c2
  assert_failure 1
  assert_output "c1
c2"
  [[ $stderr == *"No such container: nosuch"* ]] || fail "stderr: $stderr"
  [[ $stderr == *"failed to start containers: nosuch"* ]] || fail "stderr: $stderr"
  wait_for_inspect c1 '{{.State.Status}}' running
  wait_for_inspect c2 '{{.State.Status}}' running
}

# ---- stop, restart, kill ------------------------------------------------------

@test "stop: SIGTERM reaches the command, its exit code is recorded" {
  run_trapping c1 TERM 7
  run --separate-stderr berth stop c1
  assert_success
  assert_output c1
  assert_equal "$(berth inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}} {{.State.Running}}' c1)" \
    "exited 7 0 false"
  run berth ps -a --format '{{.Status}}'
  assert_output --regexp '^Exited \(7\) '
  # stopping a stopped container is no error
  run --separate-stderr berth stop c1
  assert_success
  assert_output c1
}

@test "stop -t: a command ignoring SIGTERM is killed after the timeout (exit 137)" {
  berth run -d --name c1 busybox sleep 600
  pid=$(berth inspect -f '{{.State.Pid}}' c1)
  run --separate-stderr berth stop -t 1 c1
  assert_success
  assert_output c1
  assert_equal "$(berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' c1)" "exited 137"
  wait_pid_gone "$pid"
  run --separate-stderr berth stop --time 0 nosuch
  assert_failure 1
  assert_equal "$stderr" "Flag --time has been deprecated, use --timeout instead
Error: No such container: nosuch"
}

@test "stop: --stop-signal of run and stop -s are the signals sent" {
  run_trapping c1 USR1 8 --stop-signal USR1
  assert_equal "$(berth inspect -f '{{.Config.StopSignal}}' c1)" USR1
  run berth stop c1
  assert_success
  assert_equal "$(berth inspect -f '{{.State.ExitCode}}' c1)" 8
  run_trapping c2 HUP 9
  run berth stop -s SIGHUP c2
  assert_success
  assert_equal "$(berth inspect -f '{{.State.ExitCode}}' c2)" 9
}

@test "stop: --stop-timeout of run is the default timeout" {
  berth run -d --name c1 --stop-timeout 1 busybox sleep 600
  assert_equal "$(berth inspect -f '{{.Config.StopTimeout}}' c1)" 1
  # 1 s against the default 10 s: a stop that ignored it runs into the bound
  run timeout 9 "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" stop c1
  assert_success
  assert_equal "$(berth inspect -f '{{.State.ExitCode}}' c1)" 137
}

@test "restart: a running container gets a new process; an exited one starts" {
  run_trapping c1 TERM 0
  pid=$(berth inspect -f '{{.State.Pid}}' c1)
  run --separate-stderr berth restart c1
  assert_success
  assert_output c1
  wait_for_inspect c1 '{{.State.Status}}' running
  pid2=$(berth inspect -f '{{.State.Pid}}' c1)
  [ "$pid2" -gt 0 ] && [ "$pid2" != "$pid" ] || fail "pid $pid -> $pid2"
  berth run --name c2 busybox true
  run berth restart -t 1 c2
  assert_success
  wait_for_inspect c2 '{{.State.Status}}' exited
  run berth restart nosuch
  assert_failure 1
  assert_output --partial "No such container: nosuch"
}

@test "kill: SIGKILL by default (137); -s sends the signal; not running is docker's error" {
  berth run -d --name c1 busybox sleep 600
  run --separate-stderr berth kill c1
  assert_success
  assert_output c1
  wait_for_inspect c1 '{{.State.Status}} {{.State.ExitCode}}' "exited 137"
  run_trapping c2 USR2 5
  run berth kill -s USR2 c2
  assert_success
  wait_for_inspect c2 '{{.State.Status}} {{.State.ExitCode}}' "exited 5"
  run_trapping c3 TERM 6
  run berth kill --signal 15 c3
  assert_success
  wait_for_inspect c3 '{{.State.ExitCode}}' 6
  id=$(berth inspect -f '{{.Id}}' c1)
  run --separate-stderr berth kill c1
  assert_failure 1
  assert_equal "$stderr" "Error: cannot kill container: c1: container $id is not running"
  berth run -d --name c4 busybox sleep 600
  run --separate-stderr berth kill -s NOPE c4
  assert_failure 1
  assert_equal "$stderr" "Error: Invalid signal: NOPE"
  assert_equal "$(berth inspect -f '{{.State.Status}}' c4)" running
}

# ---- rm, wait, rename -----------------------------------------------------------

@test "rm: several; a running one is refused like docker, the rest go; -f removes it" {
  berth create --name ca busybox true
  berth run --name cb busybox true
  berth run -d --name up busybox sleep 600
  pid=$(berth inspect -f '{{.State.Pid}}' up)
  run --separate-stderr berth rm ca up cb
  assert_failure 1
  assert_output "ca
cb"
  assert_equal "$stderr" 'Error: cannot remove container "/up": container is running: stop the container before removing or force remove'
  run berth ps -a --format '{{.Names}}'
  assert_output up
  run --separate-stderr berth rm nosuch
  assert_failure 1
  assert_equal "$stderr" "Error: No such container: nosuch"
  run --separate-stderr berth rm -f up nosuch
  assert_success
  assert_output up
  wait_pid_gone "$pid"
  assert_nothing_left
}

@test "wait: prints each container's exit code, several at once" {
  berth run -d --name ca busybox sh -c 'sleep 1; exit 3'
  berth run -d --name cb busybox sh -c 'exit 4'
  berth create --name cc busybox true
  berth start cc
  run --separate-stderr berth wait ca cb cc
  assert_success
  assert_output "3
4
0"
  # an exited container answers at once, again
  run berth wait ca
  assert_output 3
  run --separate-stderr berth wait ca nosuch
  assert_failure 1
  assert_output 3
  assert_equal "$stderr" "Error: No such container: nosuch"
}

@test "rename: a new name; conflicts, invalid and same names refused like docker" {
  id=$(berth create --name old busybox true)
  other=$(berth create --name taken busybox true)
  run --separate-stderr berth rename old new
  assert_success
  assert_output ""
  assert_equal "$(berth inspect -f '{{.Name}} {{.Id}}' new)" "/new $id"
  run berth inspect old
  assert_failure
  run --separate-stderr berth rename new taken
  assert_failure 1
  assert_equal "$stderr" "Error: Error when allocating new name: Conflict. The container name \"/taken\" is already in use by container \"$other\". You have to remove (or rename) that container to be able to reuse that name."
  run --separate-stderr berth rename new 'bad name'
  assert_failure 1
  assert_equal "$stderr" "Error: Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
  run --separate-stderr berth rename new new
  assert_failure 1
  assert_equal "$stderr" "Error: Renaming a container with the same name as its current name"
  # the old name is free again, the new one holds
  run berth create --name old busybox true
  assert_success
  run berth create --name new busybox true
  assert_failure
}

# ---- container prune --------------------------------------------------------------

@test "container prune: removes stopped containers only, docker's report; --filter" {
  a=$(berth create --name ca --label keep=yes busybox true)
  b=$(berth create --name cb busybox true)
  berth run --name cc busybox sh -c 'echo data > /file'
  c=$(berth inspect -f '{{.Id}}' cc)
  berth run -d --name up busybox sleep 600
  run --separate-stderr berth container prune -f --filter label!=keep
  assert_success
  assert_line --index 0 "Deleted Containers:"
  assert_equal "$(sed -n '2,3p' <<<"$output" | sort)" "$(printf '%s\n' "$b" "$c" | sort)"
  assert_line --index 3 --regexp '^Total reclaimed space: [0-9.]+k?B$'
  assert_equal "${#lines[@]}" 4
  run berth ps -a --format '{{.Names}}'
  assert_output "up
ca"
  run berth container prune --force --filter label=keep=yes
  assert_success
  assert_output "Deleted Containers:
$a

Total reclaimed space: 0B"
  run berth container prune -f
  assert_success
  assert_output "Total reclaimed space: 0B"
  assert_equal "$(berth ps -aq)" "$(berth ps -q)"
}

# ---- ps ------------------------------------------------------------------------------

@test "ps: docker's columns and cells; -a, --no-trunc, -q" {
  id=$(berth run -d --name up busybox sleep 600)
  run berth run --name ex busybox sh -c 'exit 2'
  assert_failure 2
  created=$(berth create --name cr busybox echo a-fairly-long-argument-list)
  run --separate-stderr berth ps
  assert_success
  assert_line --index 0 --regexp '^CONTAINER ID   IMAGE     COMMAND +CREATED +STATUS +PORTS     NAMES$'
  assert_equal "${#lines[@]}" 2
  [[ ${lines[1]} =~ ^${id:0:12}\ +busybox\ +\"sleep\ 600\"\ +.*(ago|second).*\ +Up\ .*\ +up$ ]] || fail "row: ${lines[1]}"
  assert_table_aligned "$output" "CONTAINER ID" IMAGE COMMAND CREATED STATUS NAMES
  run berth ps -a
  assert_success
  assert_equal "${#lines[@]}" 4
  assert_table_aligned "$output" "CONTAINER ID" IMAGE COMMAND CREATED STATUS NAMES
  # newest first; the command quoted and cut to 20 columns with an ellipsis
  [[ ${lines[1]} == "${created:0:12}   busybox   \"echo a-fairly-long-…\"   "* ]] || fail "row: ${lines[1]}"
  [[ ${lines[1]} =~ \ Created\ +cr$ ]] || fail "row: ${lines[1]}"
  [[ ${lines[2]} =~ \ Exited\ \(2\)\ .*\ ago\ +ex$ ]] || fail "row: ${lines[2]}"
  run berth ps -a --no-trunc
  assert_line --index 1 --regexp "^$created +busybox +\"echo a-fairly-long-argument-list\" "
  run berth ps -q
  assert_output "${id:0:12}"
  run berth ps -aq --no-trunc
  assert_output "$created
$(berth inspect -f '{{.Id}}' ex)
$id"
  # no containers: the bare header, each column its label plus padding
  berth rm -f up ex cr >/dev/null
  run berth ps -a
  assert_output "$PS_HEADER"
}

@test "ps: -l, -n N (all states), -s sizes" {
  berth run --name first busybox true
  berth run --name second busybox sh -c 'head -c 100000 /dev/zero > /blob'
  berth create --name third busybox true
  run berth ps -l --format '{{.Names}}'
  assert_output third
  run berth ps -n 2 --format '{{.Names}}'
  assert_output "third
second"
  run berth ps --last 5 --format '{{.Names}}'
  assert_output "third
second
first"
  run berth ps -a -s
  assert_success
  assert_line --index 0 --regexp '^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES +SIZE$'
  assert_line --index 2 --regexp ' second +100kB \(virtual [0-9.]+MB\)$'
  assert_line --index 1 --regexp ' third +0B \(virtual [0-9.]+MB\)$'
  assert_table_aligned "$output" "CONTAINER ID" IMAGE COMMAND CREATED STATUS NAMES SIZE
}

@test "ps -f: status, name, id, label, ancestor, exited; filters combine" {
  up=$(berth run -d --name web-1 --label tier=front busybox sleep 600)
  run berth run --name job-1 --label tier=back busybox sh -c 'exit 3'
  assert_failure 3
  ex=$(berth inspect -f '{{.Id}}' job-1)
  berth run --name job-2 busybox true
  ok=$(berth inspect -f '{{.Id}}' job-2)
  cr=$(berth create --name web-2 --label tier=front busybox true)
  ids() { berth ps -a --no-trunc -q "$@" | sort | tr '\n' ' '; }
  sorted() { printf '%s\n' "$@" | sort | tr '\n' ' '; }
  assert_equal "$(ids -f status=running)" "$(sorted "$up")"
  assert_equal "$(ids -f status=exited)" "$(sorted "$ex" "$ok")"
  assert_equal "$(ids -f status=created)" "$(sorted "$cr")"
  assert_equal "$(ids -f status=created -f status=running)" "$(sorted "$cr" "$up")"
  assert_equal "$(ids -f name=web)" "$(sorted "$up" "$cr")"
  assert_equal "$(ids -f id=${ex:0:10})" "$(sorted "$ex")"
  assert_equal "$(ids -f label=tier)" "$(sorted "$up" "$ex" "$cr")"
  assert_equal "$(ids -f label=tier=front)" "$(sorted "$up" "$cr")"
  assert_equal "$(ids -f ancestor=busybox)" "$(sorted "$up" "$ex" "$ok" "$cr")"
  assert_equal "$(ids -f ancestor=busybox:latest)" "$(sorted "$up" "$ex" "$ok" "$cr")"
  assert_equal "$(ids -f ancestor=$BUSYBOX_ID)" "$(sorted "$up" "$ex" "$ok" "$cr")"
  assert_equal "$(ids -f ancestor=other)" ""
  assert_equal "$(ids -f exited=3)" "$(sorted "$ex")"
  assert_equal "$(ids -f exited=0)" "$(sorted "$ok")"
  assert_equal "$(ids -f label=tier=front -f status=created)" "$(sorted "$cr")"
  # without -a, status filters still see stopped containers (docker)
  run berth ps -q --no-trunc -f exited=3
  assert_output "$ex"
  run --separate-stderr berth ps -f bogus=1
  assert_failure
  [[ $stderr == *"invalid filter 'bogus'"* ]] || fail "stderr: $stderr"
}

@test "ps --format: a template, table with a template, json" {
  id=$(berth run -d --name c1 --label a=b busybox sleep 600)
  run berth ps --format '{{.ID}}|{{.Names}}|{{.Image}}|{{.Command}}|{{.State}}|{{.Label "a"}}|{{.Labels}}'
  assert_success
  assert_output "${id:0:12}|c1|busybox|\"sleep 600\"|running|b|a=b"
  run berth ps --format 'table {{.ID}}\t{{.Names}}\t{{.State}}'
  assert_success
  assert_output "CONTAINER ID   NAMES     STATE
${id:0:12}   c1        running"
  run berth ps --no-trunc --format '{{.ID}}'
  assert_output "$id"
  run berth ps --format json
  assert_success
  "$PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["Names"]=="c1" and d["State"]=="running", d' "$output"
}

# ---- inspect, names -------------------------------------------------------------------

@test "inspect: docker's ContainerJSON shape, State of a running then an exited container" {
  id=$(berth run -d --name c1 --label x=y busybox sleep 600)
  run --separate-stderr berth inspect c1
  assert_success
  "$PYTHON" - "$output" "$id" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert isinstance(d, list) and len(d) == 1, d
c = d[0]
for k in ("Id", "Created", "Path", "Args", "State", "Image", "Name", "RestartCount", "Driver", "Platform",
          "HostConfig", "GraphDriver", "Mounts", "Config", "NetworkSettings", "ResolvConfPath", "HostnamePath",
          "HostsPath", "LogPath"):
    assert k in c, "missing " + k
assert c["Id"] == sys.argv[2], c["Id"]
assert c["Name"] == "/c1", c["Name"]
assert c["Path"] == "sleep" and c["Args"] == ["600"], (c["Path"], c["Args"])
assert c["Image"].startswith("sha256:") and len(c["Image"]) == 71, c["Image"]
s = c["State"]
for k in ("Status", "Running", "Paused", "Restarting", "OOMKilled", "Dead", "Pid", "ExitCode", "Error",
          "StartedAt", "FinishedAt"):
    assert k in s, "State lacks " + k
assert s["Status"] == "running" and s["Running"] is True and s["Paused"] is False and s["OOMKilled"] is False, s
assert s["Pid"] > 0 and s["ExitCode"] == 0 and s["Error"] == "", s
assert s["StartedAt"] != "0001-01-01T00:00:00Z" and s["FinishedAt"] == "0001-01-01T00:00:00Z", s
assert c["Config"]["Image"] == "busybox" and c["Config"]["Cmd"] == ["sleep", "600"], c["Config"]
assert c["Config"]["Labels"] == {"x": "y"}, c["Config"]["Labels"]
assert "HostConfig" not in c["Config"] and "NetworkingConfig" not in c["Config"], sorted(c["Config"])
assert isinstance(c["HostConfig"], dict) and "RestartPolicy" in c["HostConfig"], c["HostConfig"]
assert isinstance(c["Mounts"], list) and isinstance(c["NetworkSettings"], dict), c
assert "Networks" in c["NetworkSettings"], c["NetworkSettings"]
PY
  pid=$(berth inspect -f '{{.State.Pid}}' c1)
  [ -d "/proc/$pid" ] || fail "State.Pid $pid is no process"
  assert_equal "$(readlink /proc/$pid/ns/pid)" "$(readlink /proc/$pid/ns/pid)"
  [ "$(readlink /proc/$pid/ns/pid)" != "$(readlink /proc/self/ns/pid)" ] || fail "init shares our pid namespace"
  assert_equal "$(berth inspect --type container -f '{{.Name}}' c1)" /c1
  assert_equal "$(berth container inspect -f '{{.Name}} {{.State.Running}}' "${id:0:8}")" "/c1 true"
  berth stop -t 0 c1
  run berth inspect -f '{{.State.Status}} {{.State.Running}} {{.State.Pid}} {{.State.ExitCode}}' c1
  assert_output "exited false 0 137"
  finished=$(berth inspect -f '{{.State.FinishedAt}}' c1)
  [[ $finished =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T ]] || fail "FinishedAt $finished"
  run --separate-stderr berth inspect --type container nosuch
  assert_failure 1
  assert_equal "$stderr" "Error: No such container: nosuch"
}

@test "names: generated as adjective_surname, unique; validated like docker" {
  for i in 1 2 3; do berth create busybox true >/dev/null; done
  run berth ps -a --format '{{.Names}}'
  assert_equal "${#lines[@]}" 3
  for n in "${lines[@]}"; do
    [[ $n =~ ^[a-z]+_[a-z]+[0-9]?$ ]] || fail "generated name '$n'"
  done
  assert_equal "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" 3
  for bad in 'a' '-x' '.x' 'a b' 'a/b' 'é'; do
    run --separate-stderr berth create --name "$bad" busybox true
    assert_failure 125
    [[ $stderr == *"Invalid container name ($bad), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"* ]] ||
      fail "name '$bad': $stderr"
  done
  run berth create --name /slashed busybox true
  assert_success
  assert_equal "$(berth inspect -f '{{.Name}}' slashed)" /slashed
  assert_equal "$(ls -A "$TEST_ROOT/containers" | wc -l)" 4
}

# ---- run -d, --cidfile, --rm, --name ---------------------------------------------------

@test "run -d: prints the full id; a command that ends shows Exited in ps -a" {
  run --separate-stderr berth run -d --name c1 busybox echo done
  assert_success
  assert_output --regexp '^[0-9a-f]{64}$'
  id=$output
  wait_for_inspect c1 '{{.State.Status}}' exited
  run berth ps -a --format '{{.ID}} {{.Status}}'
  assert_output --regexp "^${id:0:12} Exited \(0\) .* ago$"
  run berth ps -q
  assert_output ""
}

@test "run --cidfile: writes the id; an existing file is refused before anything is created" {
  run berth run -d --cidfile "$BATS_TEST_TMPDIR/cid" --name c1 busybox true
  assert_success
  assert_equal "$(cat "$BATS_TEST_TMPDIR/cid")" "$output"
  run --separate-stderr berth run -d --cidfile "$BATS_TEST_TMPDIR/cid" --name second busybox true
  assert_failure 125
  [[ $stderr == *"ID file found, make sure the other container isn't running or delete $BATS_TEST_TMPDIR/cid"* ]] ||
    fail "stderr: $stderr"
  run berth inspect second
  assert_failure
  run berth create --cidfile "$BATS_TEST_TMPDIR/cid2" --name c3 busybox true
  assert_success
  assert_equal "$(cat "$BATS_TEST_TMPDIR/cid2")" "$output"
}

@test "run --rm: the container and all it had are gone after it ends" {
  run --separate-stderr berth run --rm --name gone busybox sh -c 'echo out; exit 3'
  assert_failure 3
  assert_output out
  assert_equal "$(berth ps -aq)" ""
  assert_nothing_left
  # -d --rm: gone once its command ends
  id=$(berth run -d --rm busybox true)
  # the monitor exits once its `rm` is through
  for i in $(seq 200); do [ -z "$(berth ps -aq)$(monitor_pids)" ] && break; sleep 0.1; done
  assert_equal "$(berth ps -aq)" ""
  assert_nothing_left
}

@test "run --name: a taken name is docker's conflict, exit 125, nothing created" {
  id=$(berth run -d --name same busybox sleep 600)
  run --separate-stderr berth run --name same busybox true
  assert_failure 125
  [[ $stderr == *"Conflict. The container name \"/same\" is already in use by container \"$id\". You have to remove (or rename) that container to be able to reuse that name."* ]] ||
    fail "stderr: $stderr"
  run --separate-stderr berth create --name same busybox true
  assert_failure 125
  assert_equal "$(ls -A "$TEST_ROOT/containers")" "$id"
}

@test "run --name: 20 concurrent runs of one name make one container, 19 conflicts, leak nothing" {
  for i in $(seq 20); do
    (rc=0
      "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run --name same -d busybox sleep 600 \
        >"$BATS_TEST_TMPDIR/out.$i" 2>"$BATS_TEST_TMPDIR/err.$i" || rc=$?
      echo $rc >"$BATS_TEST_TMPDIR/rc.$i") &
  done
  wait
  ok=0 conflict=0
  for i in $(seq 20); do
    rc=$(cat "$BATS_TEST_TMPDIR/rc.$i")
    if [ "$rc" = 0 ]; then
      ok=$((ok + 1))
      id=$(cat "$BATS_TEST_TMPDIR/out.$i")
    else
      assert_equal "$rc" 125
      grep -q 'Conflict. The container name "/same" is already in use by container' "$BATS_TEST_TMPDIR/err.$i" ||
        fail "run $i: $(cat "$BATS_TEST_TMPDIR/err.$i")"
      conflict=$((conflict + 1))
    fi
  done
  assert_equal "$ok $conflict" "1 19"
  assert_equal "$(ls -A "$TEST_ROOT/containers")" "$id"
  assert_equal "$(ls -A "$TEST_ROOT/names")" same
  assert_equal "$(ls -A "$TEST_RUNROOT/containers")" "$id"
  assert_equal "$(monitor_pids | wc -l)" 1
  assert_equal "$(container_cgroups | xargs -rn1 basename | sort -u)" "$id"
  assert_equal "$(berth ps --format '{{.Names}} {{.State}}')" "same running"
  berth rm -f same
  assert_nothing_left
}

# ---- images used by containers ------------------------------------------------------------

@test "rmi: an image a container uses is refused like docker; -f untags and keeps it" {
  cid=$(berth create --name c1 busybox true)
  layers=$(layer_dir busybox)
  run --separate-stderr berth rmi busybox
  assert_failure 1
  assert_equal "$stderr" "Error: conflict: unable to remove repository reference \"busybox\" (must force) - container ${cid:0:12} is using its referenced image ${BUSYBOX_ID:7:12}"
  run --separate-stderr berth rmi "$BUSYBOX_ID"
  assert_failure 1
  assert_equal "$stderr" "Error: conflict: unable to delete ${BUSYBOX_ID:7:12} (must be forced) - image is being used by stopped container ${cid:0:12}"
  assert_equal "$(image_id busybox)" "$BUSYBOX_ID"
  run --separate-stderr berth rmi -f busybox
  assert_success
  assert_output "Untagged: busybox:latest"
  run berth images -a --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  assert_output "<none>:<none> ${BUSYBOX_ID:7:12}"
  [ -d "${layers%%:*}" ] || fail "the layers went with the tag"
  # the container still runs from them
  run berth start -a c1
  assert_success
  # neither image prune nor prune -a takes it while the container is there
  run berth image prune -f
  assert_success
  run berth image prune -af
  assert_success
  assert_equal "$(berth images -aq --no-trunc)" "$BUSYBOX_ID"
  berth rm c1
  run berth image prune -f
  assert_success
  assert_line "deleted: $BUSYBOX_ID"
  assert_equal "$(berth images -aq)" ""
  [ ! -e "${layers%%:*}" ] || fail "the layers outlived the image"
}

@test "rmi: a running container's image cannot be deleted by id even with -f" {
  cid=$(berth run -d busybox sleep 600)
  run --separate-stderr berth rmi -f "${BUSYBOX_ID:7:12}"
  assert_failure 1
  assert_equal "$stderr" "Error: conflict: unable to delete ${BUSYBOX_ID:7:12} (cannot be forced) - image is being used by running container ${cid:0:12}"
  assert_equal "$(image_id busybox)" "$BUSYBOX_ID"
}

@test "system df: counts containers, running ones as active, their writable layers" {
  berth run -d --name up busybox sleep 600
  berth run --name wr busybox sh -c 'head -c 200000 /dev/zero > /blob'
  berth create --name cr busybox true
  run berth system df --format '{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}}'
  assert_success
  assert_line "Containers 3 1 200kB"
  assert_line --regexp '^Images 1 1 '
}

# ---- crash and reboot truth ---------------------------------------------------------------

@test "monitor SIGKILLed: the container runs on; ps, inspect, stop, start, kill, rm tell the truth" {
  id=$(berth run -d --name c1 busybox sleep 600)
  pid=$(berth inspect -f '{{.State.Pid}}' c1)
  mon=$(pgrep -f "berth-monitor.*$id")
  [ -n "$mon" ] || fail "no monitor for $id"
  kill -KILL $mon
  wait_pid_gone "$mon"
  run berth ps --format '{{.Names}} {{.State}}'
  assert_output "c1 running"
  assert_equal "$(berth inspect -f '{{.State.Status}} {{.State.Pid}}' c1)" "running $pid"
  [ -d "/proc/$pid" ] || fail "the container died with its monitor"
  run berth stop -t 1 c1
  assert_success
  wait_pid_gone "$pid"
  # nobody recorded its exit: docker's 255
  assert_equal "$(berth inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}' c1)" "exited 255 0"
  run berth ps -a --format '{{.Status}}'
  assert_output --regexp '^Exited \(255\) '
  assert_equal "$(container_cgroups)" ""
  # start works again, with a new monitor that records the exit
  run berth start c1
  assert_success
  wait_for_inspect c1 '{{.State.Status}}' running
  pid=$(berth inspect -f '{{.State.Pid}}' c1)
  run berth kill c1
  assert_success
  wait_for_inspect c1 '{{.State.Status}} {{.State.ExitCode}}' "exited 137"
  # kill and rm -f of a container whose monitor died
  berth start c1
  wait_for_inspect c1 '{{.State.Status}}' running
  pid=$(berth inspect -f '{{.State.Pid}}' c1)
  kill -KILL "$(pgrep -f "berth-monitor.*$id")"
  run berth kill c1
  assert_success
  wait_pid_gone "$pid"
  wait_for_inspect c1 '{{.State.Status}} {{.State.ExitCode}}' "exited 255"
  berth start c1
  wait_for_inspect c1 '{{.State.Status}}' running
  pid=$(berth inspect -f '{{.State.Pid}}' c1)
  kill -KILL "$(pgrep -f "berth-monitor.*$id")"
  run berth rm c1
  assert_failure 1
  run berth rm -f c1
  assert_success
  wait_pid_gone "$pid"
  assert_nothing_left
}

@test "monitor SIGKILLed after the container exited: Exited (255), wait returns" {
  id=$(berth run -d --name c1 busybox sleep 600)
  pid=$(berth inspect -f '{{.State.Pid}}' c1)
  kill -KILL "$(pgrep -f "berth-monitor.*$id")"
  kill -KILL "$pid"
  wait_pid_gone "$pid"
  run berth wait c1
  assert_success
  assert_output 255
  assert_equal "$(berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' c1)" "exited 255"
  assert_equal "$(container_cgroups)" ""
}

@test "reboot (run dir cleared): every command works, running containers read Exited (255), start works" {
  up=$(berth run -d --name up busybox sleep 600)
  run berth run --name done busybox sh -c 'exit 3'
  assert_failure 3
  berth create --name fresh busybox true
  pid=$(berth inspect -f '{{.State.Pid}}' up)
  kill -KILL $(monitor_pids)
  kill -KILL "$pid"
  wait_pid_gone "$pid"
  rm -rf "${TEST_RUNROOT:?}"/*
  run berth ps -a --format '{{.Names}} {{.Status}}'
  assert_success
  assert_line --regexp '^up Exited \(255\) '
  assert_line --regexp '^done Exited \(3\) '
  assert_line 'fresh Created'
  assert_equal "$(berth inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}' up)" "exited 255 0"
  run berth stop up
  assert_success
  run berth kill up
  assert_failure 1
  run berth wait up done
  assert_output "255
3"
  run berth start up fresh
  assert_success
  wait_for_inspect up '{{.State.Status}}' running
  wait_for_inspect fresh '{{.State.Status}}' exited
  run berth restart -t 0 up
  assert_success
  wait_for_inspect up '{{.State.Status}}' running
  run berth rename done finished
  assert_success
  run berth container prune -f
  assert_success
  run berth ps -a --format '{{.Names}}'
  assert_output up
  run berth rm -f up
  assert_success
  assert_equal "$(berth ps -aq)" ""
}

@test "crash: a state file left empty or torn reads Exited (255); the container starts and is removed" {
  # state.json is written atomically but not fsynced: a crash may leave it
  # old, or empty on filesystems that do not order the rename after the data
  berth create --name empty busybox true
  berth create --name torn busybox true
  : >"$TEST_ROOT/containers/$(berth inspect -f '{{.Id}}' empty)/state.json"
  printf '{"Status":"runn' >"$TEST_ROOT/containers/$(berth inspect -f '{{.Id}}' torn)/state.json"
  run berth ps -a --format '{{.Names}} {{.Status}}'
  assert_success
  assert_line --regexp '^empty Exited \(255\) '
  assert_line --regexp '^torn Exited \(255\) '
  assert_equal "$(berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' torn)" "exited 255"
  run berth start -a empty
  assert_success
  assert_equal "$(berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' empty)" "exited 0"
  run berth rm empty torn
  assert_success
  assert_equal "$(berth ps -aq)" ""
}

@test "crash: a --rm container's record torn by a crash goes with rm -f, and its name with it" {
  # a --rm container's record is not fsynced: a crash may leave it empty
  run berth create --rm --name torn busybox true
  assert_success
  id=$output
  : >"$TEST_ROOT/containers/$id/config.json"
  : >"$TEST_ROOT/containers/$id/summary.json"
  assert_equal "$(berth ps -aq)" ""
  run berth create --name torn busybox true
  assert_failure
  assert_output --partial "is already in use by container \"$id\""
  run berth rm -f "${id:0:12}"
  assert_success
  assert_equal "$(ls -A "$TEST_ROOT/containers")$(ls -A "$TEST_ROOT/names")" ""
  run berth create --name torn busybox true
  assert_success
}
