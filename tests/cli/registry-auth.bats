#!/usr/bin/env bats
# Registry auth: htpasswd basic auth and bearer tokens (a local token
# endpoint), login/logout in a docker-compatible config.json, credentials
# never printed and never sent to another host.
load helpers
load registry-helpers

setup() {
  registry_test_setup
  export DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker-config
}

teardown() { registry_test_teardown; }

@test "basic auth: anonymous access refused, wrong credentials refused, login stores docker's config.json" {
  registry_start A htpasswd
  bootstrap_busybox
  berth tag busybox:latest "$REG_A/bb:1"
  run berth push "$REG_A/bb:1"
  assert_failure 1
  assert_output --partial "unauthorized"
  run berth login -u "$REG_USER" --password-stdin "$REG_A" <<<"wrong-password"
  assert_failure 1
  assert_output --partial "unauthorized"
  refute_output --partial wrong-password
  [ ! -e "$DOCKER_CONFIG/config.json" ]
  run berth login -u "$REG_USER" --password-stdin "$REG_A" <<<"$REG_PASSWORD"
  assert_success
  assert_output "Login Succeeded"
  run stat -c %a "$DOCKER_CONFIG/config.json"
  assert_output 600
  # docker's format: auths[host].auth = base64(user:password).
  run jq -r --arg h "$REG_A" '.auths[$h].auth' "$DOCKER_CONFIG/config.json"
  assert_output "$(printf '%s:%s' "$REG_USER" "$REG_PASSWORD" | base64 -w0)"
  run berth push "$REG_A/bb:1"
  assert_success
  refute_output --partial "$REG_PASSWORD"
  fresh_store
  run berth pull "$REG_A/bb:1"
  assert_success
  run berth logout "$REG_A"
  assert_output "Removing login credentials for $REG_A"
  run jq -r --arg h "$REG_A" '.auths[$h]' "$DOCKER_CONFIG/config.json"
  assert_output null
  run berth logout "$REG_A"
  assert_output "Not logged in to $REG_A"
  run berth pull "$REG_A/bb:1"
  assert_failure
  assert_output --partial "unauthorized"
}

@test "login: docker's flag rules; -p warns; credentials docker wrote are used" {
  registry_start A htpasswd
  run berth login -u "$REG_USER" "$REG_A" </dev/null
  assert_failure 1
  run berth login --password-stdin "$REG_A" <<<"$REG_PASSWORD"
  assert_failure 1
  assert_output --partial "Must provide --username with --password-stdin"
  run --separate-stderr berth login -u "$REG_USER" -p "$REG_PASSWORD" "$REG_A"
  assert_success
  assert_output "Login Succeeded"
  [[ "$stderr" == *"WARNING! Using --password via the CLI is insecure. Use --password-stdin."* ]]
  # docker login writes the same file: replace ours with a docker-style one
  # (scheme in the key, other fields kept).
  auth=$(printf '%s:%s' "$REG_USER" "$REG_PASSWORD" | base64 -w0)
  printf '{"auths":{"http://%s":{"auth":"%s"}},"currentContext":"default"}' "$REG_A" "$auth" >"$DOCKER_CONFIG/config.json"
  bootstrap_busybox
  berth tag busybox:latest "$REG_A/bb:1"
  run berth push "$REG_A/bb:1"
  assert_success
  run berth logout "$REG_A"
  assert_success
  run jq -r .currentContext "$DOCKER_CONFIG/config.json"
  assert_output default
}

@test "bearer tokens: anonymous pull, push needs a login, one token per scope" {
  registry_start A token
  bootstrap_busybox
  berth tag busybox:latest "$REG_A/bb:1"
  run berth push "$REG_A/bb:1"
  assert_failure 1
  assert_output --partial "unauthorized"
  run berth login -u "$REG_USER" --password-stdin "$REG_A" <<<"not-it"
  assert_failure 1
  run berth login -u "$REG_USER" --password-stdin "$REG_A" <<<"$REG_PASSWORD"
  assert_success
  : >"$BATS_TEST_TMPDIR/reg-A/token.log"
  run berth push "$REG_A/bb:1"
  assert_success
  # Every request of the push shared one token: the endpoint was asked once.
  run wc -l <"$BATS_TEST_TMPDIR/reg-A/token.log"
  assert_output 1
  run cat "$BATS_TEST_TMPDIR/reg-A/token.log"
  assert_output "Basic $(printf '%s:%s' "$REG_USER" "$REG_PASSWORD" | base64 -w0)"
  berth logout "$REG_A"
  : >"$BATS_TEST_TMPDIR/reg-A/token.log"
  fresh_store
  run berth pull "$REG_A/bb:1"
  assert_success
  # One anonymous token request ("-": no Authorization).
  run cat "$BATS_TEST_TMPDIR/reg-A/token.log"
  assert_equal "$output" "-"
  run berth run --rm "$REG_A/bb:1" echo ok
  assert_output --partial ok
}

@test "CVE-2020-15157: credentials are not sent to a host a blob redirect points at" {
  registry_start A htpasswd
  # B serves the same storage without auth, behind a logging proxy (the
  # "other host"); F fronts A and redirects blob downloads to that proxy.
  registry_start B none "$BATS_TEST_TMPDIR/reg-A/storage"
  proxy_start OTHER "$REG_B" plain
  proxy_start F "$REG_A" redirect "$REG_OTHER"
  bootstrap_busybox
  berth login -u "$REG_USER" --password-stdin "$REG_F" <<<"$REG_PASSWORD"
  berth tag busybox:latest "$REG_F/bb:1"
  berth push "$REG_F/bb:1"
  fresh_store
  run berth pull "$REG_F/bb:1"
  assert_success
  # The front saw the credentials; the other host got the blob requests and none of them.
  run grep -c ' Basic ' "$BATS_TEST_TMPDIR/proxy-F.log"
  refute_output 0
  run grep -c '^GET /v2/bb/blobs/sha256:' "$BATS_TEST_TMPDIR/proxy-OTHER.log"
  refute_output 0
  run grep -c -v ' - -$\| - bytes' "$BATS_TEST_TMPDIR/proxy-OTHER.log"
  assert_output 0
}
