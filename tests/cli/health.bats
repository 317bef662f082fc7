#!/usr/bin/env bats
# Healthchecks against real containers: the run flags and the image's
# HEALTHCHECK merged as docker merges them, probes run by the monitor into the
# container, State.Health (Status, FailingStreak, the last 5 probes), ps
# STATUS and the health filter, health_status events, timeouts, the start
# period, stop/start and pause, and the monitor's memory over many probes.  Every wait is on a state
# the containers reach (bounded polling), never on a duration.

load helpers

setup() {
  container_setup
  make_probe_image probe
}

teardown() { container_teardown; }

# Poll (up to 20 s) until the shell condition holds.
wait_until() {
  local i
  for i in $(seq 200); do
    eval "$1" && return 0
    sleep 0.1
  done
  echo "timed out waiting for: $1" >&2
  return 1
}

health() { berth inspect -f "{{.State.Health.$2}}" "$1"; }
log_len() { berth inspect -f '{{len .State.Health.Log}}' "$1"; }
log_entry() { berth inspect -f "{{(index .State.Health.Log $2).$3}}" "$1"; }

# ---- run flags ------------------------------------------------------------------

@test "health: starting until the first probe, then healthy; State.Health, ps STATUS and Config like docker" {
  run berth run -d --name waiting --health-cmd 'echo ok' --health-interval 1h probe sleep 1000
  assert_success
  run berth inspect -f '{{.State.Health.Status}} {{.State.Health.FailingStreak}} {{len .State.Health.Log}}' waiting
  assert_output 'starting 0 0'
  run berth ps --format '{{.Names}} {{.Status}}' -f name=waiting
  assert_output --regexp '^waiting Up .* \(health: starting\)$'

  run berth run -d --name ctr --health-cmd 'echo ok' --health-interval 100ms --health-timeout 5s --health-retries 2 \
    --health-start-period 1s --health-start-interval 200ms probe sleep 1000
  assert_success
  wait_for_inspect ctr '{{.State.Health.Status}}' healthy
  run berth inspect -f '{{json .Config.Healthcheck}}' ctr
  assert_output '{"Interval":100000000,"Retries":2,"StartInterval":200000000,"StartPeriod":1000000000,"Test":["CMD-SHELL","echo ok"],"Timeout":5000000000}'
  [ "$(health ctr FailingStreak)" = 0 ]
  [ "$(log_entry ctr 0 ExitCode)" = 0 ]
  [ "$(berth inspect -f '{{printf "%q" (index .State.Health.Log 0).Output}}' ctr)" = '"ok\n"' ]
  log_entry ctr 0 Start | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$'
  log_entry ctr 0 End | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$'
  run berth ps --format '{{.Names}} {{.Status}}' -f name=ctr
  assert_output --regexp '^ctr Up .* \(healthy\)$'
  # the raw inspect: Health last in State, docker's key order
  run berth inspect ctr
  assert_output --regexp '"FinishedAt": "[^"]*",
            "Health": \{
                "Status": "healthy",
                "FailingStreak": 0,
                "Log": \[
                    \{
                        "Start": "[^"]*",
                        "End": "[^"]*",
                        "ExitCode": 0,
                        "Output": "ok\\n"'
}

@test "health: unhealthy once --health-retries probes failed in a row; FailingStreak, the last 5 probes, events" {
  run berth run -d --name ctr --health-cmd 'echo failing >&2; exit 3' --health-interval 100ms --health-retries 3 \
    probe sleep 1000
  assert_success
  # every snapshot is consistent: starting below 3 failures, unhealthy from 3
  local snap status streak i
  for i in $(seq 200); do
    snap=$(berth inspect -f '{{.State.Health.Status}} {{.State.Health.FailingStreak}}' ctr)
    status=${snap% *} streak=${snap#* }
    if [ "$streak" -lt 3 ]; then [ "$status" = starting ] || fail "$snap"; else [ "$status" = unhealthy ] || fail "$snap"; fi
    [ "$status" = unhealthy ] && break
    sleep 0.05
  done
  [ "$status" = unhealthy ]
  wait_until '[ "$(health ctr FailingStreak)" -ge 7 ]'
  [ "$(log_len ctr)" = 5 ]
  for i in 0 1 2 3 4; do
    [ "$(log_entry ctr $i ExitCode)" = 3 ]
    [ "$(berth inspect -f "{{printf \"%q\" (index .State.Health.Log $i).Output}}" ctr)" = '"failing\n"' ]
  done
  run berth ps --format '{{.Status}}' -f name=ctr
  assert_output --regexp '^Up .* \(unhealthy\)$'
  # a passing probe makes it healthy again with the streak reset
  run berth run -d --name ctr2 --health-cmd 'test -e /tmp/ok' --health-interval 100ms --health-retries 1 probe sleep 1000
  wait_for_inspect ctr2 '{{.State.Health.Status}}' unhealthy
  berth exec ctr2 touch /tmp/ok
  wait_for_inspect ctr2 '{{.State.Health.Status}}' healthy
  [ "$(health ctr2 FailingStreak)" = 0 ]
  # each change of status is an event, as docker's
  run berth events --since 0 --until "$(date +%s.%N)" -f container=ctr2 -f event=health_status --format '{{.Action}}'
  assert_output $'health_status: unhealthy\nhealth_status: healthy'
}

@test "health: a probe past --health-timeout is killed and logged with exit -1 and docker's message" {
  run berth run -d --name ctr --health-cmd 'echo $$ >>/tmp/pids; echo started; exec sleep 1000' \
    --health-timeout 200ms --health-interval 100ms --health-retries 2 probe sleep 2000
  assert_success
  wait_for_inspect ctr '{{.State.Health.Status}}' unhealthy
  [ "$(log_entry ctr 0 ExitCode)" = -1 ]
  run berth inspect -f '{{printf "%q" (index .State.Health.Log 0).Output}}' ctr
  assert_output '"Health check exceeded timeout (200ms): started\n"'
  # the first probe's process is gone
  local pid
  pid=$(berth exec ctr head -1 /tmp/pids)
  [ -n "$pid" ]
  run berth exec ctr test -e /proc/$pid
  assert_failure 1
}

@test "health: failures in the start period are not counted; --health-start-interval paces the probes meanwhile" {
  run berth run -d --name ctr --health-cmd 'exit 1' --health-retries 1 --health-interval 1h \
    --health-start-period 2h --health-start-interval 100ms probe sleep 1000
  assert_success
  wait_until '[ "$(log_len ctr)" -ge 3 ]'
  run berth inspect -f '{{.State.Health.Status}} {{.State.Health.FailingStreak}} {{(index .State.Health.Log 0).ExitCode}}' ctr
  assert_output 'starting 0 1'
  # past a short start period the same failure counts
  run berth run -d --name ctr2 --health-cmd 'exit 1' --health-retries 1 --health-interval 100ms \
    --health-start-period 300ms --health-start-interval 100ms probe sleep 1000
  wait_for_inspect ctr2 '{{.State.Health.Status}}' unhealthy
}

@test "health: probe output keeps its first 4096 bytes then '...'; a command that cannot start logs runc's error" {
  run berth run -d --name ctr --health-cmd 'head -c 5000 /dev/zero | tr "\0" a' --health-interval 100ms probe sleep 1000
  assert_success
  wait_for_inspect ctr '{{.State.Health.Status}}' healthy
  run berth inspect -f '{{len (index .State.Health.Log 0).Output}}' ctr
  assert_output 4099
  berth inspect -f '{{(index .State.Health.Log 0).Output}}' ctr | grep -qx 'a\{4096\}\.\.\.'

  tar -C "$BATS_TEST_TMPDIR/rootfs-probe" -c . | berth import -c 'HEALTHCHECK --interval=100ms --retries=1 CMD ["nosuch"]' - bad
  run berth run -d --name bad1 bad sleep 1000
  assert_success
  wait_for_inspect bad1 '{{.State.Health.Status}}' unhealthy
  [ "$(log_entry bad1 0 ExitCode)" = -1 ]
  run log_entry bad1 0 Output
  assert_output 'OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH: unknown'
}

@test "health: docker's errors for bad durations, negative values and --no-healthcheck with --health-*" {
  run berth run --health-interval xx probe true
  assert_failure 125
  assert_output --partial 'invalid argument "xx" for "--health-interval" flag: time: invalid duration "xx"'
  run berth run --health-timeout=-1s probe true
  assert_failure 125
  assert_output --partial 'berth: --health-timeout cannot be negative'
  run berth create --health-retries=-2 probe true
  assert_failure 125
  assert_output --partial 'berth: --health-retries cannot be negative'
  run berth run --health-start-period 500us probe true
  assert_failure 125
  assert_output --partial 'berth: Error response from daemon: StartPeriod in Healthcheck cannot be less than 1ms'
  run berth create --health-interval 10us probe true
  assert_failure 125
  assert_output --partial 'Interval in Healthcheck cannot be less than 1ms'
  run berth run --no-healthcheck --health-cmd true probe true
  assert_failure 125
  assert_output --partial 'berth: --no-healthcheck conflicts with --health-* options'
  run berth ps -aq
  assert_output ''
}

# ---- the image's HEALTHCHECK --------------------------------------------------

@test "health: HEALTHCHECK of the image (import -c), flags merged over it, --no-healthcheck and NONE disable it" {
  local rootfs=$BATS_TEST_TMPDIR/rootfs-probe
  tar -C "$rootfs" -c . | berth import -c 'HEALTHCHECK --interval=100ms --retries=1 CMD exit 1' - sick
  run berth image inspect -f '{{json .Config.Healthcheck}}' sick
  assert_output '{"Interval":100000000,"Retries":1,"Test":["CMD-SHELL","exit 1"]}'
  tar -C "$rootfs" -c . | berth import -c 'HEALTHCHECK --interval=100ms CMD ["true"]' - fine
  run berth image inspect -f '{{json .Config.Healthcheck.Test}}' fine
  assert_output '["CMD","true"]'
  tar -C "$rootfs" -c . | berth import -c 'HEALTHCHECK NONE' - nohc

  run berth run -d --name sick sick sleep 1000
  wait_for_inspect sick '{{.State.Health.Status}}' unhealthy
  run berth run -d --name fine fine sleep 1000
  wait_for_inspect fine '{{.State.Health.Status}}' healthy
  # the flag's command over the image's interval (100 ms, else 30 s)
  run berth run -d --name cured --health-cmd true sick sleep 1000
  wait_for_inspect cured '{{.State.Health.Status}}' healthy
  run berth inspect -f '{{json .Config.Healthcheck}}' cured
  assert_output '{"Interval":100000000,"Retries":1,"Test":["CMD-SHELL","true"]}'
  # --no-healthcheck: Test NONE, no State.Health, no "(...)" in STATUS
  run berth run -d --name off --no-healthcheck sick sleep 1000
  run berth inspect -f '{{json .Config.Healthcheck}}' off
  assert_output '{"Interval":100000000,"Retries":1,"Test":["NONE"]}'
  run berth inspect -f '{{.State.Health}}' off
  assert_failure 1
  assert_output --partial 'map has no entry for key "Health"'
  run berth ps --format '{{.Status}}' -f name=off
  assert_output --regexp '^Up [^(]*$'
  run berth run -d --name none nohc sleep 1000
  run berth inspect -f '{{json .State}}' none
  refute_output --partial Health

  run berth import -c 'HEALTHCHECK --interval=10us CMD true' - x </dev/null
  assert_failure
  assert_output --partial 'Interval "interval" cannot be less than 1ms'
  run berth import -c 'HEALTHCHECK CMD' - x </dev/null
  assert_failure
  assert_output --partial 'missing command after HEALTHCHECK CMD'
  run berth import -c 'HEALTHCHECK GET /' - x </dev/null
  assert_failure
  assert_output --partial 'Unknown type "GET" in HEALTHCHECK (try CMD)'
}

# ---- ps, stop/start, pause -------------------------------------------------------

@test "health: ps -f health=starting|healthy|unhealthy|none and docker's error for other values" {
  berth run -d --name starting --health-cmd true --health-interval 1h probe sleep 1000 >/dev/null
  berth run -d --name healthy --health-cmd true --health-interval 100ms probe sleep 1000 >/dev/null
  berth run -d --name unhealthy --health-cmd false --health-interval 100ms --health-retries 1 probe sleep 1000 >/dev/null
  berth run -d --name none probe sleep 1000 >/dev/null
  wait_for_inspect healthy '{{.State.Health.Status}}' healthy
  wait_for_inspect unhealthy '{{.State.Health.Status}}' unhealthy
  local s
  for s in starting healthy unhealthy none; do
    run berth ps --format '{{.Names}}' -f health=$s
    assert_output $s
  done
  run berth ps --format '{{.Names}}' -f health=healthy -f health=none
  assert_output $'none\nhealthy'
  run berth ps -f health=sick
  assert_failure 1
  assert_output --partial 'Unrecognised filter value for health: sick'
}

@test "health: a stopped container reads unhealthy; start makes it starting again and keeps the log" {
  run berth run -d --name ctr --health-cmd 'if [ -e /tmp/hold ]; then exec sleep 1000; fi; exit 1' \
    --health-interval 100ms --health-retries 1 probe sleep 1000
  assert_success
  wait_until '[ "$(log_len ctr)" -ge 2 ]'
  berth exec ctr touch /tmp/hold
  berth stop -t 0 ctr >/dev/null
  local n
  n=$(log_len ctr)
  run berth inspect -f '{{.State.Status}} {{.State.Health.Status}}' ctr
  assert_output 'exited unhealthy'
  run berth ps -a --format '{{.Status}}' -f health=unhealthy
  assert_output --regexp '^Exited '
  berth start ctr >/dev/null
  # the first probe now waits on /tmp/hold (30 s timeout): starting, streak 0
  run berth inspect -f '{{.State.Health.Status}} {{.State.Health.FailingStreak}}' ctr
  assert_output 'starting 0'
  [ "$(log_len ctr)" = "$n" ]
}

@test "health: a paused container reads unhealthy, and healthy again once unpaused" {
  run berth run -d --name ctr --health-cmd true --health-interval 100ms --health-timeout 1s probe sleep 1000
  assert_success
  wait_for_inspect ctr '{{.State.Health.Status}}' healthy
  run berth pause ctr
  assert_success
  wait_for_inspect ctr '{{.State.Health.Status}}' unhealthy
  run berth ps --format '{{.Status}}' -f name=ctr
  assert_output --regexp '^Up .* \(Paused\)$'
  run berth unpause ctr
  assert_success
  wait_for_inspect ctr '{{.State.Health.Status}}' healthy
}

# ---- the monitor's memory ---------------------------------------------------------

@test "health: the monitor's VmRSS does not grow over 150 probes" {
  [ -z "${ASAN_OPTIONS:-}" ] || skip "under ASan freed memory stays resident in its quarantine"
  run berth run -d --name ctr --health-cmd 'echo probe >>/tmp/count; head -c 6000 /dev/zero' --health-interval 5ms \
    probe sleep 1000
  assert_success
  local id=$output mpid rss0 rss1
  mpid=$(sed -n 's/.*"MonitorPid": *\([0-9]*\).*/\1/p' "$TEST_ROOT/containers/$id/state.json")
  [ -n "$mpid" ]
  probes() { berth exec ctr sh -c 'wc -l </tmp/count 2>/dev/null || echo 0'; }
  # from the 80th probe on: the first ones touch pages once (code, the
  # log's and the health file's first writes), as the flake of one run showed
  wait_until '[ "$(probes)" -ge 80 ]'
  rss0=$(awk '/^VmRSS/ {print $2}' /proc/$mpid/status)
  wait_until '[ "$(probes)" -ge 230 ]'
  rss1=$(awk '/^VmRSS/ {print $2}' /proc/$mpid/status)
  echo "VmRSS after 80 probes: $rss0 kB, after 230: $rss1 kB"
  [ $((rss1 - rss0)) -le 16 ]
  [ "$(health ctr Status)" = healthy ]
  # the NUL bytes of its output read back as docker writes them
  run berth inspect ctr
  assert_output --partial '"Output": "\u0000\u0000'
}
