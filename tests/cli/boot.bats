#!/usr/bin/env bats
# system boot: after the host restarts (simulated: every monitor and init
# killed, the run dir emptied as a reboot empties /run), the containers
# whose restart policy asks for it start again, as dockerd's start does.
load network-helpers

@test "system boot: always, unless-stopped unless stopped by a user, on-failure after a failure; nothing else" {
  bootstrap_busybox
  berth run -d --name always1 --restart always busybox sleep 1000 >/dev/null
  berth run -d --name always-stopped --restart always busybox sleep 1000 >/dev/null
  berth run -d --name unless1 --restart unless-stopped busybox sleep 1000 >/dev/null
  berth run -d --name unless-stopped --restart unless-stopped busybox sleep 1000 >/dev/null
  berth run -d --name unless-killed --restart unless-stopped busybox sleep 1000 >/dev/null
  berth run -d --name onfail1 --restart on-failure:2 busybox sleep 1000 >/dev/null
  berth run -d --name onfail-ok --restart on-failure busybox true >/dev/null
  berth run -d --name plain busybox sleep 1000 >/dev/null
  berth create --name never --restart always busybox sleep 1000 >/dev/null
  berth stop -t 0 always-stopped unless-stopped >/dev/null
  berth kill unless-killed >/dev/null
  berth wait onfail-ok >/dev/null
  # a user's stop, and a start after it, is forgotten at the next start
  berth run -d --name unless-restarted --restart unless-stopped busybox sleep 1000 >/dev/null
  berth stop -t 0 unless-restarted >/dev/null
  berth start unless-restarted >/dev/null

  kill_everything always1 unless1 onfail1 plain unless-restarted
  berth ps -a >/dev/null # the crash is recorded: exited (255)
  find "$TEST_RUNROOT" -mindepth 1 -delete

  run berth system boot
  assert_success
  run sort <<<"$output"
  assert_output "always-stopped
always1
onfail1
unless-restarted
unless1"
  run berth ps --format '{{.Names}}'
  assert_equal "$(sort <<<"$output")" "always-stopped
always1
onfail1
unless-restarted
unless1"
  run berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' plain never unless-stopped onfail-ok
  assert_output "exited 255
created 0
exited 137
exited 0"
  # once more: what runs is left alone
  run berth system boot
  assert_success
  assert_output ""
}
