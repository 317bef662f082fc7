# Helpers of the network*.bats files.  Every container test gets its own
# default bridge and subnet (container_setup in helpers.bash), so that it
# never disturbs a berth0 in use; teardown removes the bridges and berth's
# nftables chains of its networks.
load helpers

setup() { container_setup; }
teardown() { container_teardown; }

# The host's own (non-loopback) IPv4 address.
host_addr() {
  ip -4 -o addr show scope global | awk '{split($4, a, "/"); print a[1]; exit}'
}

ctr_ip() { berth inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }

# No link, address or route of these containers (full ids) is left in the host.
assert_no_net_leftovers() {
  local id i
  for id in "$@"; do
    # the kernel deletes the pair with the namespace, from a work queue
    for i in $(seq 100); do
      ip -o link show | grep -q "veth${id:0:10}" || break
      sleep 0.05
    done
    run ip -o link show
    refute_output --partial "veth${id:0:10}"
    run jq -r --arg id "$id" '.endpoints[$id] // empty' "$TEST_RUNROOT"/networks/*.json
    assert_output ""
  done
  run ip -o link show master "$BERTH_DEFAULT_BRIDGE"
  assert_output ""
}

# SIGKILL the monitors of this test's store and the given containers' inits
# at once, as a crash would, and wait until they are gone.
kill_everything() {
  local pids c p i
  for c in "$@"; do
    pids="$pids $(berth inspect -f '{{.State.Pid}}' "$c")"
  done
  pkill -KILL -f -- "--runroot $TEST_RUNROOT " || true
  kill -KILL $pids 2>/dev/null || true
  for p in $pids; do
    for i in $(seq 100); do
      [ -e "/proc/$p" ] || break
      sleep 0.05
    done
  done
}
