#!/usr/bin/env bats
# `pause` / `unpause` (the freezer) and `update` (cgroup limits and restart
# policy of a live or stopped container) against real containers.

load helpers

setup() {
  container_setup
  make_probe_image img
}

teardown() { container_teardown; }

# The container's directory in the v1 hierarchy of controller $1.
cg_dir() {
  local rel
  rel=$(awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup)
  echo "/sys/fs/cgroup/$1${rel%/}/$BERTH_CGROUP_PARENT/$2"
}

# A container counting in /tmp/n, one step at a time.
COUNTER='i=0; while :; do i=$((i + 1)); echo $i > /tmp/n.new; mv /tmp/n.new /tmp/n; sleep 0.05; done'
count() { cat "$TEST_ROOT/containers/$ID/upper/tmp/n" 2>/dev/null || echo 0; }
wait_count_above() {
  local i
  for i in $(seq 200); do [ "$(count)" -gt "$1" ] && return 0; sleep 0.1; done
  fail "the counter stays at $(count)"
}

@test "pause freezes the container (the counter stops), unpause resumes it; Paused in inspect and ps" {
  berth run -d --name c1 img sh -c "$COUNTER"
  ID=$(berth inspect -f '{{.Id}}' c1)
  wait_count_above 2
  run --separate-stderr berth pause c1
  assert_success
  assert_output c1
  assert_equal "$(cat "$(cg_dir freezer "$ID")/freezer.state")" FROZEN
  assert_equal "$(berth inspect -f '{{.State.Status}} {{.State.Running}} {{.State.Paused}}' c1)" "paused true true"
  run berth ps --format '{{.Status}} {{.State}}'
  assert_output --regexp '^Up .* \(Paused\) paused$'
  frozen=$(count)
  sleep 0.5
  assert_equal "$(count)" "$frozen"
  run --separate-stderr berth unpause c1
  assert_success
  assert_output c1
  assert_equal "$(cat "$(cg_dir freezer "$ID")/freezer.state")" THAWED
  wait_count_above "$frozen"
  assert_equal "$(berth inspect -f '{{.State.Status}} {{.State.Paused}}' c1)" "running false"
}

@test "pause / unpause: errors like docker's, other names still done" {
  berth run -d --name c1 img sleep 1000
  berth create --name c2 img true
  id1=$(berth inspect -f '{{.Id}}' c1)
  id2=$(berth inspect -f '{{.Id}}' c2)
  run --separate-stderr berth unpause c1
  assert_failure 1
  assert_equal "$stderr" "Error: Container $id1 is not paused"
  run --separate-stderr berth pause c2 c1 nosuch
  assert_failure 1
  assert_output c1
  [[ $stderr == *"Error: container $id2 is not running"* ]] || fail "stderr: $stderr"
  [[ $stderr == *"No such container: nosuch"* ]] || fail "stderr: $stderr"
  run --separate-stderr berth pause c1
  assert_failure 1
  assert_equal "$stderr" "Error: Container $id1 is already paused"
  run --separate-stderr berth start c1
  assert_failure
  [[ $stderr == *"cannot start a paused container, try unpause instead"* ]] || fail "stderr: $stderr"
}

@test "stop, kill and rm -f of a paused container work (the signal is delivered after a thaw)" {
  berth run -d --name s1 img sh -c "trap 'exit 7' TERM; touch /dev/shm/trapped; while :; do sleep 0.1; done"
  wait_in_container s1 /dev/shm/trapped
  berth run -d --name k1 img sleep 1000
  berth run -d --name r1 img sleep 1000
  berth pause s1 k1 r1
  run berth stop -t 20 s1
  assert_success
  assert_equal "$(berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' s1)" "exited 7"
  run berth kill k1
  assert_success
  wait_for_inspect k1 '{{.State.Status}}' exited
  assert_equal "$(berth inspect -f '{{.State.ExitCode}}' k1)" 137
  run berth rm -f r1
  assert_success
  run berth ps -a --format '{{.Names}}'
  refute_line r1
  # a later start is not paused
  berth start k1
  wait_for_inspect k1 '{{.State.Status}}' running
}

@test "update --memory on a running container: the cgroup and inspect agree" {
  berth run -d --name c1 --memory 64m img sleep 1000
  id=$(berth inspect -f '{{.Id}}' c1)
  assert_equal "$(cat "$(cg_dir memory "$id")/memory.limit_in_bytes")" $((64 << 20))
  run --separate-stderr berth update --memory 100m c1
  assert_success
  assert_output c1
  assert_equal "$(cat "$(cg_dir memory "$id")/memory.limit_in_bytes")" $((100 << 20))
  assert_equal "$(berth inspect -f '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}' c1)" "$((100 << 20)) $((128 << 20))"
  run berth update -m 200m --memory-swap 400m c1
  assert_success
  assert_equal "$(cat "$(cg_dir memory "$id")/memory.limit_in_bytes")" $((200 << 20))
  assert_equal "$(berth inspect -f '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}' c1)" "$((200 << 20)) $((400 << 20))"
}

@test "update: cpus, cpu-shares, cpuset-cpus and pids-limit reach the cgroup" {
  berth run -d --name c1 img sleep 1000
  id=$(berth inspect -f '{{.Id}}' c1)
  run berth update --cpus 0.5 --cpu-shares 512 --cpuset-cpus 0 --pids-limit 20 c1
  assert_success
  assert_equal "$(cat "$(cg_dir cpu "$id")/cpu.cfs_quota_us") $(cat "$(cg_dir cpu "$id")/cpu.cfs_period_us")" \
    "50000 100000"
  assert_equal "$(cat "$(cg_dir cpu "$id")/cpu.shares")" 512
  assert_equal "$(cat "$(cg_dir cpuset "$id")/cpuset.cpus")" 0
  assert_equal "$(cat "$(cg_dir pids "$id")/pids.max")" 20
  assert_equal "$(berth inspect -f '{{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.CpusetCpus}} {{.HostConfig.PidsLimit}}' c1)" \
    "500000000 512 0 20"
  run berth update --pids-limit -1 c1
  assert_success
  assert_equal "$(cat "$(cg_dir pids "$id")/pids.max")" max
}

@test "update of a stopped container: the next start has the new limits" {
  berth create --name c1 img sleep 1000
  run berth update --memory 80m --memory-swap 160m --pids-limit 30 c1
  assert_success
  berth start c1
  id=$(berth inspect -f '{{.Id}}' c1)
  assert_equal "$(cat "$(cg_dir memory "$id")/memory.limit_in_bytes")" $((80 << 20))
  assert_equal "$(cat "$(cg_dir pids "$id")/pids.max")" 30
}

@test "update --restart reaches the running container's monitor" {
  berth run -d --name c1 img sh -c "trap 'exit 3' TERM; touch /dev/shm/trapped; while :; do sleep 0.1; done"
  wait_in_container c1 /dev/shm/trapped
  run berth update --restart on-failure:2 c1
  assert_success
  assert_equal "$(berth inspect -f '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}' c1)" \
    "on-failure 2"
  # the command exits on its own (not a user stop): the monitor restarts it
  kill -TERM "$(berth inspect -f '{{.State.Pid}}' c1)"
  wait_for_inspect c1 '{{.RestartCount}}' 1
  wait_for_inspect c1 '{{.State.Status}}' running
  wait_in_container c1 /dev/shm/trapped # the restarted shell's trap is set (a new /dev/shm each run)
  run berth update --restart no c1
  assert_success
  kill -TERM "$(berth inspect -f '{{.State.Pid}}' c1)"
  wait_for_inspect c1 '{{.State.Status}}' exited
  assert_equal "$(berth inspect -f '{{.State.ExitCode}} {{.RestartCount}}' c1)" "3 1"
}

@test "update: errors like docker's, nothing changed" {
  berth run -d --name c1 img sleep 1000
  berth create --name rm1 --rm img true
  id=$(berth inspect -f '{{.Id}}' c1)
  run --separate-stderr berth update c1
  assert_failure 1
  assert_equal "$stderr" "Error: you must provide one or more flags when using this command"
  run --separate-stderr berth update --memory 100m c1
  assert_failure 1
  assert_equal "$stderr" "Error: Cannot update container $id: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time"
  run --separate-stderr berth update --memory 4m --memory-swap -1 c1
  assert_failure 1
  assert_equal "$stderr" "Error: Cannot update container $id: Minimum memory limit allowed is 6MB"
  run --separate-stderr berth update --restart always rm1
  assert_failure 1
  [[ $stderr == *"Restart policy cannot be updated because AutoRemove is enabled for the container"* ]] ||
    fail "stderr: $stderr"
  run --separate-stderr berth update --memory lots c1
  assert_failure 125
  run --separate-stderr berth update --pids-limit 5 nosuch
  assert_failure 1
  [[ $stderr == *"No such container: nosuch"* ]] || fail "stderr: $stderr"
  assert_equal "$(berth inspect -f '{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}' c1)" "0 no"
  assert_equal "$(cat "$(cg_dir pids "$id")/pids.max")" max
}
