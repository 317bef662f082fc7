#!/usr/bin/env bats
# CDI devices (issue 8, docs/gpu.md): --device VENDOR/CLASS=NAME applies the
# spec's and the device's containerEdits exactly as written: device nodes
# (made with mknod in the test's folder) with the host's major/minor and the
# device cgroup's access, env, mounts, additional gids, and the five OCI
# hooks with the container's state on stdin; the folders' priority; bad
# specs and unknown devices refused with the file and field named.

load helpers

setup() {
  container_setup
  make_probe_image img
  CDI="$BATS_TEST_TMPDIR/cdi"
  HOST="$BATS_TEST_TMPDIR/host"
  mkdir -p "$CDI" "$HOST/lib"
  # 195 is NVIDIA's major: no driver behind it here, so an open the device
  # cgroup allows fails with ENXIO and one it denies with EPERM
  mknod "$HOST/card0" c 195 7
  mknod "$HOST/card1" c 195 8
  chmod 0640 "$HOST/card0"
  echo lib-content >"$HOST/lib/libvendor.so.1"
}
teardown() { container_teardown; }

cdi() { berth --cdi-spec-dir "$CDI" "$@"; }

spec() { # FILE TEXT
  printf '%s\n' "$2" >"$CDI/$1"
}

@test "cdi: device nodes, env, mounts and gids land as the spec says" {
  spec vendor.yaml "cdiVersion: 0.7.0
kind: vendor.com/card
containerEdits:
  env: [VENDOR_SPEC=1, SHARED=spec]
  mounts:
  - {hostPath: $HOST/lib, containerPath: /usr/lib/vendor, options: [ro, nosuid, nodev, rbind]}
devices:
- name: \"0\"
  containerEdits:
    env: [SHARED=device, CARD=0]
    deviceNodes:
    - {path: /dev/card0, hostPath: $HOST/card0}
    - {path: /dev/vendor/ctl, hostPath: $HOST/card1, fileMode: 0600, uid: 12, gid: 34}
    additionalGids: [0, 4242]"
  run cdi run --rm --device vendor.com/card=0 img sh -c '
    env | grep -E "^(VENDOR_SPEC|SHARED|CARD)=" | sort
    stat -c "%n %F %t:%T %a %u:%g" /dev/card0 /dev/vendor/ctl
    cat /usr/lib/vendor/libvendor.so.1
    grep -E "^Groups:" /proc/self/status
    (echo x >/usr/lib/vendor/new) 2>/dev/null || echo read-only
    grep " /usr/lib/vendor " /proc/self/mounts | grep -o "ro,nosuid,nodev"'
  assert_success
  assert_output "CARD=0
SHARED=device
VENDOR_SPEC=1
/dev/card0 character special file c3:7 640 0:0
/dev/vendor/ctl character special file c3:8 600 12:34
lib-content
Groups:	4242 
read-only
ro,nosuid,nodev"
}

@test "cdi: the device cgroup allows each node with the spec's permissions, none with \"none\"" {
  spec vendor.json '{"cdiVersion":"0.5.0","kind":"vendor.com/card","devices":[
    {"name":"open","containerEdits":{"deviceNodes":[{"path":"/dev/card0","hostPath":"'"$HOST"'/card0"}]}},
    {"name":"closed","containerEdits":{"deviceNodes":[{"path":"/dev/card1","hostPath":"'"$HOST"'/card1","permissions":"none"}]}},
    {"name":"readonly","containerEdits":{"deviceNodes":[{"path":"/dev/card0","hostPath":"'"$HOST"'/card0","permissions":"r"}]}}]}'
  run cdi run --rm --device vendor.com/card=open --device vendor.com/card=closed img sh -c \
    'cat /dev/card0; cat /dev/card1; true'
  assert_success
  assert_line "cat: can't open '/dev/card0': No such device or address"
  assert_line "cat: can't open '/dev/card1': Operation not permitted"
  run cdi run --rm --device vendor.com/card=readonly img sh -c 'cat /dev/card0; echo x >/dev/card0; true'
  assert_line "cat: can't open '/dev/card0': No such device or address"
  assert_line --regexp "can't create /dev/card0: Operation not permitted"
  # without the device, the same node made by hand stays closed
  run berth run --rm img sh -c 'mknod /dev/x c 195 7 && cat /dev/x; true'
  assert_line "cat: can't open '/dev/x': Operation not permitted"
}

@test "cdi: the five hooks run in their places with the state on stdin, their own args and env" {
  local hook="$BATS_TEST_TMPDIR/hook.sh" out="$BATS_TEST_TMPDIR/out"
  mkdir -p "$out"
  # a host hook: its state, args, env, and what it sees of the container's root
  cat >"$hook" <<EOS
#!/bin/sh
stage=\$1
cat >"$out/\$stage.state"
echo "\$*" >"$out/\$stage.args"
env | grep -v '^PWD=' | grep -v '^SHLVL=' | grep -v '^_=' | sort >"$out/\$stage.env"
root=\$(sed -n 's/.*"path": *"\([^"]*\)".*/\1/p' "\$(sed 's/.*"bundle":"\([^"]*\)".*/\1/' "$out/\$stage.state")/config.json" | head -1)
[ -e "\$root/bin/busybox" ] && echo yes >"$out/\$stage.sees-root" || true
EOS
  chmod +x "$hook"
  spec hooks.yaml "cdiVersion: 0.5.0
kind: vendor.com/hooks
devices:
- name: all
  containerEdits:
    hooks:
    - {hookName: createRuntime, path: $hook, args: [hook, createRuntime], env: [ONLY=this]}
    - {hookName: createContainer, path: $hook, args: [hook, createContainer]}
    - {hookName: startContainer, path: /bin/sh, args: [sh, -c, 'cat >/tmp/start.state; echo started >/tmp/started']}
    - {hookName: poststart, path: $hook, args: [hook, poststart]}
    - {hookName: poststop, path: $hook, args: [hook, poststop]}"
  run cdi run --name hooked --device vendor.com/hooks=all img sh -c 'cat /tmp/started; grep -o "\"status\":\"[a-z]*\"" /tmp/start.state'
  assert_success
  assert_output 'started
"status":"created"'
  id=$(berth inspect -f '{{.Id}}' hooked)
  for stage in createRuntime createContainer poststart poststop; do
    [ -s "$out/$stage.state" ] || fail "$stage did not run"
    grep -q "\"id\":\"$id\"" "$out/$stage.state"
    grep -q "\"bundle\":\"$TEST_RUNROOT/containers/$id\"" "$out/$stage.state"
    [ "$(cat "$out/$stage.args")" = "$stage" ]
  done
  grep -q '"status":"creating"' "$out/createRuntime.state"
  grep -q '"status":"creating"' "$out/createContainer.state"
  grep -q '"status":"running"' "$out/poststart.state"
  grep -q '"status":"stopped"' "$out/poststop.state"
  # exactly the hook's env: createRuntime's one variable, the others none
  [ "$(cat "$out/createRuntime.env")" = "ONLY=this" ]
  [ ! -s "$out/createContainer.env" ]
  # createContainer runs in the container's mount namespace, where its root is mounted
  [ -e "$out/createContainer.sees-root" ]
  [ ! -e "$out/createRuntime.sees-root" ]
}

@test "cdi: a failing hook fails the start with its output, and nothing keeps running" {
  spec hooks.yaml "cdiVersion: 0.5.0
kind: vendor.com/hooks
devices:
- name: bad
  containerEdits:
    hooks:
    - {hookName: createContainer, path: /bin/sh, args: [sh, -c, 'echo hook says no; exit 3']}"
  run cdi run --name failing --device vendor.com/hooks=bad img true
  assert_failure
  assert_output --partial 'error running createContainer hook #0 `/bin/sh`: exit status 3, output: hook says no'
  run berth inspect -f '{{.State.Running}}' failing
  assert_output false
}

@test "cdi: a later folder wins over an earlier one; BERTH_CDI_SPEC_DIRS names them too" {
  mkdir -p "$CDI/low" "$CDI/high"
  printf '{"cdiVersion":"0.3.0","kind":"vendor.com/x","devices":[{"name":"d","containerEdits":{"env":["FROM=low"]}},{"name":"low-only","containerEdits":{"env":["LOW=1"]}}]}' >"$CDI/low/a.json"
  printf 'cdiVersion: 0.3.0\nkind: vendor.com/x\ndevices:\n- name: d\n  containerEdits:\n    env: [FROM=high]\n' >"$CDI/high/b.yaml"
  run berth --cdi-spec-dir "$CDI/low" --cdi-spec-dir "$CDI/high" run --rm --device vendor.com/x=d --device vendor.com/x=low-only img sh -c 'echo $FROM $LOW'
  assert_output "high 1"
  BERTH_CDI_SPEC_DIRS="$CDI/high:$CDI/low" run berth run --rm --device vendor.com/x=d img sh -c 'echo $FROM'
  assert_output "low"
}

@test "cdi: a bad spec is named with its field; an unknown device fails before anything runs" {
  spec bad.yaml "cdiVersion: 0.5.0
kind: vendor.com/x
devices:
- name: d
  containerEdits:
    deviceNodes: [{path: /dev/x, major: twelve}]"
  run cdi run --rm --device vendor.com/x=d img true
  assert_failure 125
  assert_line "berth: Error response from daemon: CDI device injection failed: unresolvable CDI devices vendor.com/x=d (CDI spec errors: $CDI/bad.yaml: devices[0].containerEdits.deviceNodes[0].major: expected an integer)"
  spec bad.yaml "cdiVersion: 0.4.0
kind: vendor.com/x
devices:
- name: d
  containerEdits:
    deviceNodes: [{path: /dev/x, hostPath: /dev/null}]"
  run cdi run --rm --device vendor.com/x=d img true
  assert_output --partial "$CDI/bad.yaml: cdiVersion: \`0.4.0\` is too old for the fields used (they need 0.5.0)"
  rm "$CDI/bad.yaml"
  spec ok.json '{"cdiVersion":"0.5.0","kind":"vendor.com/x","devices":[{"name":"d","containerEdits":{"hooks":[{"hookName":"createRuntime","path":"/bin/touch","args":["touch","'"$BATS_TEST_TMPDIR"'/ran"]}]}}]}'
  run cdi run --name never --device vendor.com/x=d --device vendor.com/x=missing img true
  assert_failure 125
  assert_line "berth: Error response from daemon: CDI device injection failed: unresolvable CDI devices vendor.com/x=missing"
  [ ! -e "$BATS_TEST_TMPDIR/ran" ]
  run berth inspect -f '{{.State.Status}}' never
  assert_output created
}

@test "cdi: a node the spec leaves unowned belongs to a numeric --user; inspect shows the request" {
  spec v.yaml "cdiVersion: 0.5.0
kind: vendor.com/card
devices:
- name: a
  containerEdits:
    deviceNodes: [{path: /dev/card0, hostPath: $HOST/card0}]"
  run cdi run --rm --user 1000:2000 --device vendor.com/card=a --device /dev/null:/dev/mynull img stat -c '%u:%g' /dev/card0
  assert_success
  assert_output "1000:2000"
  cdi create --name cdi-c --device vendor.com/card=a --device /dev/null:/dev/mynull img >/dev/null
  run berth inspect -f '{{json .HostConfig.DeviceRequests}} {{len .HostConfig.Devices}} {{.HostConfig.Runtime}}' cdi-c
  assert_output '[{"Capabilities":null,"Count":0,"DeviceIDs":["vendor.com/card=a"],"Driver":"cdi","Options":null}] 1 runc'
}

@test "cdi: info lists the spec folders, the devices found and a warning per refused spec" {
  spec a.yaml 'cdiVersion: 0.5.0
kind: vendor.com/card
devices:
- {name: "0", containerEdits: {env: [A=1]}}
- {name: all, containerEdits: {env: [A=1]}}'
  spec broken.json '{"cdiVersion":"0.5.0","kind":"vendor.com/card","devices":[],"x":1}'
  run --separate-stderr cdi info
  assert_success
  assert_output --partial " CDI spec directories:
  $CDI
 Discovered Devices:
  cdi: vendor.com/card=0
  cdi: vendor.com/card=all"
  [ "$stderr" = "WARNING: CDI: $CDI/broken.json: unknown field \`x\`" ]
  run cdi info -f '{{json .CDISpecDirs}} {{json .DiscoveredDevices}}'
  assert_output "[\"$CDI\"] [{\"ID\":\"vendor.com/card=0\",\"Source\":\"cdi\"},{\"ID\":\"vendor.com/card=all\",\"Source\":\"cdi\"}]"
  BERTH_CDI_SPEC_DIRS= run berth info -f '{{json .CDISpecDirs}}'
  assert_output '["/etc/cdi","/var/run/cdi"]'
}

@test "cdi: a hook past its timeout is killed and fails the start; prestart runs as createRuntime" {
  spec hooks.yaml "cdiVersion: 0.5.0
kind: vendor.com/hooks
devices:
- name: slow
  containerEdits:
    hooks:
    - {hookName: createRuntime, path: /bin/sleep, args: [sleep, '600'], timeout: 1}
- name: old
  containerEdits:
    hooks:
    - {hookName: prestart, path: /bin/sh, args: [sh, -c, 'grep -o creating >$BATS_TEST_TMPDIR/prestart']}"
  run cdi run --rm --device vendor.com/hooks=slow img true
  assert_failure 125
  assert_output --partial 'error running createRuntime hook #0 `/bin/sleep`: timed out'
  run pgrep -f "^sleep 600$"
  assert_failure
  run cdi run --rm --device vendor.com/hooks=old img true
  assert_success
  [ "$(cat "$BATS_TEST_TMPDIR/prestart")" = creating ]
}
