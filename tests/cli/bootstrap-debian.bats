#!/usr/bin/env bats
# berth image bootstrap debian: debootstrap --variant=minbase from the host's
# Debian mirror.  Slow (minutes) and the one CLI test that uses the network,
# so it lives in a file of its own.

load helpers

@test "bootstrap debian: lists as debian:bookworm; the layer is a minbase root with apt" {
  requires root debootstrap net
  run --separate-stderr berth image bootstrap debian
  assert_success
  assert_output --regexp '^sha256:[0-9a-f]{64}$'
  id=$output
  run berth images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  assert_output "debian:bookworm ${id:7:12}"
  dir=$(layer_dir debian:bookworm)
  run cat "$dir/etc/debian_version"
  assert_success
  assert_output --regexp '^12\.'
  [ -x "$dir/usr/bin/apt-get" ] || fail "no usr/bin/apt-get in the layer"
  [ -x "$dir/bin/sh" ] || [ -x "$dir/usr/bin/sh" ] || fail "no sh in the layer"
  # debootstrap's leftovers and caches are not part of the image.
  [ ! -e "$dir/debootstrap" ] || fail "debootstrap/ left in the layer"
  [ -z "$(ls -A "$dir/var/cache/apt/archives" 2>/dev/null | grep -v -e '^partial$' -e '^lock$')" ] ||
    fail "downloaded .debs left in var/cache/apt/archives"
  run berth image inspect -f '{{.Os}} {{len .RootFS.Layers}}' debian:bookworm
  assert_output 'linux 1'
}
