#!/usr/bin/env bats
# The default bridge network: addresses, routes, /etc files, --network modes,
# cleanup after rm and after everything was killed.
load network-helpers

@test "run: the default network gives eth0 an address on the bridge, a route and /etc/hosts" {
  bootstrap_busybox
  run berth run --name c1 --hostname box busybox sh -c 'ip -4 -o addr show eth0; ip route; cat /etc/hosts; ls /sys/class/net'
  assert_success
  local net=${BERTH_DEFAULT_SUBNET%.0/24}
  assert_line --regexp "eth0 +inet $net\.[0-9]+/24 "
  assert_line --regexp "^default via $net\.1 dev eth0"
  assert_line --regexp "^$net\.[0-9]+	box$"
  assert_line "127.0.0.1	localhost"
  assert_line eth0
  assert_line lo
  run berth inspect -f '{{.HostConfig.NetworkMode}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}' c1
  assert_output "bridge bridge"
  # the bridge exists with the gateway's address
  run ip -4 -o addr show "$BERTH_DEFAULT_BRIDGE"
  assert_output --partial "inet $net.1/24"
}

@test "run: inspect shows the address while it runs, none once stopped; rm -f leaves nothing" {
  bootstrap_busybox
  berth run -d --name c1 busybox sleep 1000
  local id ip mac
  id=$(berth inspect -f '{{.Id}}' c1)
  ip=$(berth inspect -f '{{.NetworkSettings.IPAddress}}' c1)
  [[ $ip == ${BERTH_DEFAULT_SUBNET%.0/24}.* ]]
  run berth inspect -f '{{.NetworkSettings.Networks.bridge.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.IPPrefixLen}}' c1
  assert_output "$ip ${BERTH_DEFAULT_SUBNET%.0/24}.1 24"
  mac=$(berth exec c1 cat /sys/class/net/eth0/address)
  run berth inspect -f '{{.NetworkSettings.MacAddress}}' c1
  assert_output "$mac"
  run ip -o link show "veth${id:0:10}0"
  assert_success
  assert_output --partial "master $BERTH_DEFAULT_BRIDGE"
  berth stop -t 0 c1
  run berth inspect -f '[{{.NetworkSettings.IPAddress}}]' c1
  assert_output "[]"
  assert_no_net_leftovers "$id"
  berth start c1
  berth rm -f c1
  assert_no_net_leftovers "$id"
}

@test "run: containers reach each other, the host and the gateway; the host reaches them" {
  bootstrap_busybox
  berth run -d --name web busybox httpd -f -p 80 -h /etc
  local ip
  ip=$(ctr_ip web)
  run berth run --rm busybox wget -qO- "http://$ip/hostname"
  assert_success
  assert_output "$(berth inspect -f '{{.Config.Hostname}}' web)"
  run wget -qO- "http://$ip/hostname"
  assert_output "$(berth inspect -f '{{.Config.Hostname}}' web)"
  run berth run --rm busybox ping -c 1 -W 5 "$(host_addr)"
  assert_success
  run berth run --rm busybox ping -c 1 -W 5 "${BERTH_DEFAULT_SUBNET%.0/24}.1"
  assert_success
}

@test "run: outbound traffic is masqueraded by berth's own table" {
  bootstrap_busybox
  berth run --rm busybox true
  local id
  id=$(jq -r .Id "$TEST_ROOT/networks/bridge.json")
  run nft list chain ip berth "nat-${id:0:12}"
  assert_success
  assert_output --partial "ip saddr $BERTH_DEFAULT_SUBNET oifname != \"$BERTH_DEFAULT_BRIDGE\" masquerade"
  run cat /proc/sys/net/ipv4/ip_forward
  assert_output 1
}

@test "run: /etc/resolv.conf has the host's resolvers without the loopback ones" {
  bootstrap_busybox
  run berth run --rm busybox cat /etc/resolv.conf
  assert_success
  refute_output --regexp 'nameserver (127\.|::1)'
  local want
  want=$(grep -E '^nameserver' /etc/resolv.conf | grep -vE 'nameserver (127\.|::1)' || true)
  [ -z "$want" ] || assert_output --partial "$want"
}

@test "run --network none|host|container:NAME|bridge" {
  bootstrap_busybox
  run berth run --rm --network none busybox ls /sys/class/net
  assert_output lo
  # lo is up, as docker's
  run berth run --rm --network none busybox sh -c 'ip -4 -o addr show lo; ping -c 1 -W 5 127.0.0.1 >/dev/null && echo pong'
  assert_line --partial "inet 127.0.0.1/8"
  assert_line pong
  run berth run --rm --network host busybox ls /sys/class/net
  assert_output "$(ls /sys/class/net)"
  berth run -d --name ca busybox sleep 1000
  run berth run --rm --network container:ca busybox ip -4 -o addr show eth0
  assert_success
  assert_output --partial "$(ctr_ip ca)/24"
  run berth run --rm --network bridge busybox ls /sys/class/net
  assert_output "eth0
lo"
  run berth run --rm --network nope busybox true
  assert_failure 125
  assert_output --partial "network nope not found"
}

@test "run: addresses are not reused while held, and after SIGKILL of everything the next run cleans up" {
  bootstrap_busybox
  berth run -d --name ca busybox sleep 1000
  berth run -d --name cb busybox sleep 1000
  local a b ida idb
  a=$(ctr_ip ca) b=$(ctr_ip cb)
  [ "$a" != "$b" ]
  ida=$(berth inspect -f '{{.Id}}' ca) idb=$(berth inspect -f '{{.Id}}' cb)
  # everything of the two dies at once: monitors and containers
  kill_everything ca cb
  berth run --rm busybox true
  assert_no_net_leftovers "$ida" "$idb"
  berth rm -f ca cb
}

@test "run --add-host (host-gateway too), --dns, --dns-search, --dns-option" {
  bootstrap_busybox
  run berth run --rm --add-host foo:1.2.3.4 --add-host gw:host-gateway --dns 9.9.9.9 --dns-search example.com \
    --dns-option ndots:2 busybox sh -c 'cat /etc/hosts /etc/resolv.conf'
  assert_success
  assert_line "1.2.3.4	foo"
  assert_line "${BERTH_DEFAULT_SUBNET%.0/24}.1	gw"
  assert_line "nameserver 9.9.9.9"
  assert_line "search example.com"
  assert_line "options ndots:2"
  refute_output --regexp "nameserver (127\.|10\.255)"
  run berth run --rm --network none --add-host foo:1.2.3.4 busybox cat /etc/hosts
  assert_line "1.2.3.4	foo"
  run berth run --rm --add-host bad busybox true
  assert_failure 125
  assert_output --partial 'bad format for add-host: "bad"'
  run berth inspect -f '{{json .HostConfig.ExtraHosts}}' "$(berth create --add-host a:1.1.1.1 busybox)"
  assert_output '["a:1.1.1.1"]'
}

@test "network: the default bridge's subnet is 10.88.0.0/16 unless an address of the host is in it (podman's default), or the setting \"bip\"" {
  # in a network namespace of the test's own, where lo has what we give it
  local inspect='{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}'
  run unshare -n env BERTH_DEFAULT_SUBNET= "$BERTH" --root "$TEST_ROOT/a" --runroot "$TEST_RUNROOT/a" \
    network inspect -f "$inspect" bridge
  assert_success
  assert_output "10.88.0.0/16 10.88.0.1"
  run unshare -n sh -c 'ip addr add 10.88.0.1/16 dev lo && ip addr add 10.89.7.1/24 dev lo &&
    BERTH_DEFAULT_SUBNET= "$0" --root "$1/b" --runroot "$2/b" network inspect -f "$3" bridge' \
    "$BERTH" "$TEST_ROOT" "$TEST_RUNROOT" "$inspect"
  assert_success
  assert_output "10.90.0.0/16 10.90.0.1"
  # docker's bip setting: the bridge's own address and prefix
  echo '{"bip": "10.231.5.1/24"}' >"$BATS_TEST_TMPDIR/config.json"
  run env BERTH_DEFAULT_SUBNET= BERTH_CONFIG="$BATS_TEST_TMPDIR/config.json" "$BERTH" --root "$TEST_ROOT/c" \
    --runroot "$TEST_RUNROOT/c" network inspect -f "$inspect" bridge
  assert_success
  assert_output "10.231.5.0/24 10.231.5.1"
  echo '{"bip": "10.231.5.0/24"}' >"$BATS_TEST_TMPDIR/config.json"
  run env BERTH_DEFAULT_SUBNET= BERTH_CONFIG="$BATS_TEST_TMPDIR/config.json" "$BERTH" --root "$TEST_ROOT/d" \
    --runroot "$TEST_RUNROOT/d" network inspect -f "$inspect" bridge
  assert_failure
  assert_output --partial '"bip" 10.231.5.0/24 is not an address and prefix such as 10.88.0.1/16'
}
