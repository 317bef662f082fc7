#!/usr/bin/env bats
# berth events: what the CLI and the monitors record in the journal
# (RUNROOT/events/journal.log), read back with docker's filters, time bounds
# and formats, and streamed live.

load helpers

setup() {
  container_setup
  bootstrap_busybox
  T0=$(date +%s.%N)
}

teardown() {
  [ -z "${EV_PID:-}" ] || kill "$EV_PID" 2>/dev/null || true
  container_teardown
}

# The events recorded since the test started, up to now (a duration such as
# 0s would count in whole seconds, as docker's client does).
past() { berth events --since "$T0" --until "$(date +%s.%N)" "$@"; }
short() { past --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}' "$@"; }

# Start `berth events ARGS` in the background, its output in $BATS_TEST_TMPDIR/ev.
events_bg() {
  "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" events "$@" >"$BATS_TEST_TMPDIR/ev" 2>&1 &
  EV_PID=$!
}

@test "events -f streams a run's create, attach, start, die, destroy live, in order" {
  # --since the test's start: nothing is missed while the stream sets up
  events_bg --since "$T0" --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}'
  run berth run --rm --name live busybox sh -c 'exit 4'
  assert_failure 4
  wait_for_line "$BATS_TEST_TMPDIR/ev" 'destroy'
  run cat "$BATS_TEST_TMPDIR/ev"
  assert_output "container create live <no value>
container attach live <no value>
container start live <no value>
container die live 4
container destroy live <no value>"
  # it keeps streaming until interrupted
  run berth run -d --name later busybox true
  wait_for_line "$BATS_TEST_TMPDIR/ev" 'die later 0'
  kill -TERM "$EV_PID"
  st=0
  wait "$EV_PID" || st=$?
  EV_PID=
  assert_equal "$st" 143
}

@test "events: docker's default line, --format json and the template fields" {
  run berth run -d --name fmt --label team=blue busybox true
  id=$output
  wait_for_inspect fmt '{{.State.Status}}' exited
  run past -f event=create
  assert_output --regexp "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}(Z|[+-][0-9]{2}:[0-9]{2}) container create $id \(image=busybox, name=fmt, team=blue\)$"
  # docker prints the local time
  run env TZ=UTC-5 "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" events --since "$T0" --until "$(date +%s.%N)" -f event=create
  assert_output --regexp "^[0-9T:.-]{29}\+05:00 container create "
  run past --format json -f event=start
  assert_output --regexp "^\{\"status\":\"start\",\"id\":\"$id\",\"from\":\"busybox\",\"Type\":\"container\",\"Action\":\"start\",\"Actor\":\{\"ID\":\"$id\",\"Attributes\":\{\"image\":\"busybox\",\"name\":\"fmt\",\"team\":\"blue\"\}\},\"scope\":\"local\",\"time\":[0-9]+,\"timeNano\":[0-9]+\}$"
  run past --format '{{json .}}' -f event=start
  json=$output
  run past --format '{{.Status}}|{{.ID}}|{{.From}}|{{.Type}}|{{.Action}}|{{.Actor.ID}}|{{.Scope}}|{{.Actor.Attributes.team}}|{{index .Actor.Attributes "image"}}|{{.Actor.Attributes.nope}}' -f event=start
  assert_output "start|$id|busybox|container|start|$id|local|blue|busybox|<no value>"
  run past --format '{{.Time}} {{.TimeNano}}' -f event=start
  read -r t tn <<<"$output"
  assert_equal "\"time\":$t,\"timeNano\":$tn}" "$(grep -o '"time":.*' <<<"$json")"
  assert_equal "$t" "$((tn / 1000000000))"
  # a template that does not work on an event: docker's message and 64
  run berth events --format '{{.Nope}}'
  assert_failure 64
  assert_output 'Error parsing format: template: :1:2: executing "" at <.Nope>: can'"'"'t evaluate field Nope in type events.Message'
}

@test "events -f: container=, event=, type=, image=, label= with docker's rules" {
  run berth run -d --name alpha --label tier=web --label x=1 busybox true
  run berth run -d --name beta --label tier=db busybox true
  run berth tag busybox mybox:1
  wait_for_inspect alpha '{{.State.Status}}' exited
  wait_for_inspect beta '{{.State.Status}}' exited
  run short -f container=alpha
  assert_output $'container create alpha\ncontainer start alpha\ncontainer die alpha'
  # by id prefix; two values of one key are alternatives
  aid=$(berth inspect -f '{{.Id}}' alpha)
  run short -f container="${aid:0:8}" -f event=die
  assert_output 'container die alpha'
  run short -f event=create -f event=die -f container=beta
  assert_output $'container create beta\ncontainer die beta'
  run short -f type=image
  assert_output 'image tag mybox:1'
  # image= matches containers of the image and the image's own events, with or without tag
  run short -f image=busybox -f event=create
  assert_output $'container create alpha\ncontainer create beta'
  run short -f image=mybox
  assert_output 'image tag mybox:1'
  # label=: every one given must match
  run short -f label=tier -f event=create
  assert_output $'container create alpha\ncontainer create beta'
  run short -f label=tier=web -f label=x=1 -f event=create
  assert_output 'container create alpha'
  run short -f label=tier=web -f label=x=2
  assert_output ''
  run berth events -f bogus=1 --until 0s
  assert_failure 1
  assert_output "Error: invalid filter 'bogus'"
  run berth events -f nonsense --until 0s
  assert_failure 125
  assert_output --partial 'bad format of filter (expected name=value)'
}

@test "events: stop, kill with its signal, restart, rename with oldName, attach" {
  run berth run -d --name ev busybox sh -c 'trap "exit 5" TERM; while :; do sleep 0.1; done'
  run berth kill -s USR1 ev
  run berth stop ev
  run berth start ev
  run berth restart -t 1 ev
  run berth rename ev ev2
  run berth rm -f ev2
  run past --format '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.signal}}{{.Actor.Attributes.exitCode}}{{.Actor.Attributes.oldName}}'
  assert_output "create ev <no value><no value><no value>
start ev <no value><no value><no value>
kill ev 10<no value><no value>
kill ev 15<no value><no value>
die ev <no value>5<no value>
stop ev <no value><no value><no value>
start ev <no value><no value><no value>
kill ev 15<no value><no value>
die ev <no value>5<no value>
stop ev <no value><no value><no value>
start ev <no value><no value><no value>
restart ev <no value><no value><no value>
rename ev2 <no value><no value>/ev
kill ev2 9<no value><no value>
die ev2 <no value>137<no value>
destroy ev2 <no value><no value><no value>"
}

@test "events: pause, unpause, update, top" {
  run berth run -d --name pu busybox sleep 1000
  run berth pause pu
  assert_success
  run berth top pu
  assert_success
  run berth unpause pu
  assert_success
  run berth update --cpu-shares 512 pu
  assert_success
  # refused ones record nothing
  run berth unpause pu
  assert_failure
  run berth rm -f pu
  run short -f event=pause -f event=unpause -f event=update -f event=top
  assert_output "container pause pu
container top pu
container unpause pu
container update pu"
}

@test "events: exec_create, exec_start, exec_die with the exec's ID and exit code" {
  run berth run -d --name ex busybox sleep 1000
  run berth exec ex sh -c 'exit 3'
  assert_failure 3
  run berth exec ex true
  assert_success
  run berth exec -d ex sh -c 'exit 4'
  assert_success
  local i
  for i in $(seq 100); do
    [ "$(past -f event=exec_die | wc -l)" -eq 3 ] && break
    sleep 0.1
  done
  run berth rm -f ex
  run past -f container=ex --format '{{.Action}}|{{.Actor.Attributes.exitCode}}|{{.Actor.Attributes.name}}' \
    -f event=exec_create -f event=exec_start -f event=exec_die
  assert_output "exec_create: sh -c exit 3|<no value>|ex
exec_start: sh -c exit 3|<no value>|ex
exec_die|3|ex
exec_create: true |<no value>|ex
exec_start: true |<no value>|ex
exec_die|0|ex
exec_create: sh -c exit 4|<no value>|ex
exec_start: sh -c exit 4|<no value>|ex
exec_die|4|ex"
  # one ID per exec, docker's 64 hex digits, on its three events
  run past -f event=exec_create -f event=exec_start -f event=exec_die --format '{{.Actor.Attributes.execID}}'
  assert_equal "${#lines[@]}" 9
  for i in 0 3 6; do
    [[ ${lines[i]} =~ ^[0-9a-f]{64}$ ]] || fail "exec ID ${lines[i]}"
    assert_equal "${lines[i + 1]}" "${lines[i]}"
    assert_equal "${lines[i + 2]}" "${lines[i]}"
  done
  [ "${lines[0]}" != "${lines[3]}" ] && [ "${lines[3]}" != "${lines[6]}" ] || fail "IDs repeat: $output"
}

@test "events: commit (paused, with its tag), cp both ways as archive-path and extract-to-dir, export" {
  run berth run -d --name cm busybox sh -c 'echo hi >/hi; sleep 1000'
  wait_for_inspect cm '{{.State.Status}}' running
  run berth commit -m "a message" cm snap:1
  assert_success
  img=$output
  run berth commit --pause=false cm
  assert_success
  img2=$output
  run berth cp cm:/etc/hostname "$BATS_TEST_TMPDIR/h"
  assert_success
  run berth cp cm:/etc/hostname -
  assert_success
  run berth cp "$BATS_TEST_TMPDIR/h" cm:/tmp/
  assert_success
  run berth cp "$BATS_TEST_TMPDIR/nosuch" cm:/tmp/
  assert_failure
  run berth export -o "$BATS_TEST_TMPDIR/out.tar" cm
  assert_success
  run berth rm -f cm
  run past --format '{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}' -f event=pause -f event=unpause \
    -f event=tag -f event=commit -f event=archive-path -f event=extract-to-dir -f event=export
  assert_output --regexp "^container pause [0-9a-f]{64} cm
image tag $img snap:1
container commit [0-9a-f]{64} cm
container unpause [0-9a-f]{64} cm
container commit [0-9a-f]{64} cm
container archive-path [0-9a-f]{64} cm
container archive-path [0-9a-f]{64} cm
container extract-to-dir [0-9a-f]{64} cm
container export [0-9a-f]{64} cm$"
  run past -f event=commit --format '{{.Actor.Attributes.comment}}|{{.Actor.Attributes.imageID}}|{{.Actor.Attributes.imageRef}}|{{.Actor.Attributes.image}}'
  assert_output "a message|$img|snap:1|busybox
|$img2||busybox"
}

@test "events: image tag, untag, delete, import, save, load" {
  run berth tag busybox copy:1
  run berth rmi copy:1
  tar -C "$BATS_TEST_TMPDIR" -cf "$BATS_TEST_TMPDIR/empty.tar" --files-from /dev/null
  run berth import "$BATS_TEST_TMPDIR/empty.tar" imp:1
  imp=$output
  run berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox
  run berth rmi imp:1
  run berth load -i "$BATS_TEST_TMPDIR/bb.tar"
  bb=$(berth image inspect -f '{{.Id}}' busybox)
  run past --format '{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}'
  assert_output "image tag $bb copy:1
image untag $bb $bb
image import $imp $imp
image save $bb $bb
image untag $imp $imp
image delete $imp $imp
image load $bb $bb"
}

@test "events --since/--until: RFC 3339, Unix times, durations; --until ends the stream" {
  run berth create --name one busybox true
  mid=$(date +%s.%N)
  run berth create --name two busybox true
  run berth events --since "$mid" --until "$(date +%s.%N)" --format '{{.Actor.Attributes.name}}'
  assert_output two
  run berth events --since "$T0" --until "$mid" --format '{{.Actor.Attributes.name}}'
  assert_output one
  run berth events --since 1h --until "$(date +%s.%N)" --format '{{.Action}} {{.Actor.Attributes.name}}'
  assert_output $'create one\ncreate two'
  rfc=$(date -u -d "@$mid" +%Y-%m-%dT%H:%M:%S.%NZ)
  run berth events --since "$T0" --until "$rfc" --format '{{.Actor.Attributes.name}}'
  assert_output one
  run berth events --since 1h --until 30m
  assert_output ''
  # an --until a moment ahead (a negative duration): streams what comes, then returns by itself
  events_bg --since "$T0" --until -3s --format '{{.Action}} {{.Actor.Attributes.name}}'
  run berth create --name three busybox true
  wait "$EV_PID"
  EV_PID=
  run cat "$BATS_TEST_TMPDIR/ev"
  assert_line 'create three'
  run berth events --since later
  assert_failure 1
  assert_output 'Error: invalid value for "since": failed to parse value as time or duration: "later"'
}

@test "events: the journal is bounded (rotated past 1 MiB) and concurrent writers never interleave" {
  mkdir -p "$TEST_RUNROOT/events"
  # a journal just at its limit, of old events
  "$PYTHON" - "$TEST_RUNROOT/events/journal.log" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    i = 0
    while f.tell() < (1 << 20):
        t = 1000000000 + i
        f.write(json.dumps({"Type": "image", "Action": "tag", "Actor": {"ID": "old-%d" % i, "Attributes": {}},
                            "scope": "local", "time": t, "timeNano": t * 10**9}, separators=(",", ":")) + "\n")
        i += 1
PY
  old=$(wc -l <"$TEST_RUNROOT/events/journal.log")
  for i in $(seq 20); do berth tag busybox "par:$i" & done
  wait
  [ -e "$TEST_RUNROOT/events/journal.log.1" ] || fail "not rotated"
  [ "$(stat -c %s "$TEST_RUNROOT/events/journal.log")" -lt 1048576 ]
  # every line of both files is one whole event
  cat "$TEST_RUNROOT/events/journal.log.1" "$TEST_RUNROOT/events/journal.log" | jq -c . >/dev/null
  run berth events --since 0 --until "$(date +%s.%N)" --format '{{.Actor.Attributes.name}}'
  assert_equal "$(grep -c '^par:' <<<"$output")" 20
  assert_equal "${#lines[@]}" "$((old + 20))"
  # the next rotation drops the oldest file: never more than two
  cp "$TEST_RUNROOT/events/journal.log.1" "$TEST_RUNROOT/events/journal.log"
  run berth tag busybox last:1
  run ls "$TEST_RUNROOT/events"
  assert_output $'journal.lock\njournal.log.1'
  run berth tag busybox next:1
  run ls "$TEST_RUNROOT/events"
  assert_output $'journal.lock\njournal.log\njournal.log.1'
  run berth events --since 0 --until "$(date +%s.%N)" --format '{{.Actor.Attributes.name}}'
  assert_line --index $((${#lines[@]} - 2)) 'last:1'
  assert_line --index $((${#lines[@]} - 1)) 'next:1'
}
