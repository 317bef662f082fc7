#!/usr/bin/env bats
# User-defined networks: create/ls/inspect/rm/prune, names and aliases
# between members, isolation between networks, --internal, live
# connect/disconnect, --ip, --mac-address.
load network-helpers

# A /24 for this test's networks that no other test uses at the same time.
subnet() { echo "10.$((200 + RANDOM % 50)).$((RANDOM % 250)).0/24"; }

@test "network create/ls/inspect/rm: docker's columns and objects; the bridge and chains go with rm" {
  local sn id br
  sn=$(subnet)
  id=$(berth network create --subnet "$sn" --label team=a nt1)
  [ ${#id} -eq 64 ]
  run berth network ls
  assert_success
  assert_line --index 0 --regexp '^NETWORK ID +NAME +DRIVER +SCOPE$'
  assert_line --regexp "^${id:0:12} +nt1 +bridge +local$"
  assert_line --regexp '^[0-9a-f]{12} +bridge +bridge +local$'
  assert_line --regexp '^[0-9a-f]{12} +host +host +local$'
  assert_line --regexp '^[0-9a-f]{12} +none +null +local$'
  run berth network ls -q --filter name=nt1
  assert_output "${id:0:12}"
  run berth network ls --filter label=team=a --format '{{.Name}} {{.Labels}}'
  assert_output "nt1 team=a"
  run berth network inspect -f '{{.Name}} {{.Driver}} {{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}} {{.Internal}}' nt1
  assert_output "nt1 bridge $sn ${sn%.0/24}.1 false"
  br=$(berth network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' nt1)
  run ip -4 -o addr show "$br"
  assert_output --partial "${sn%.0/24}.1/24"
  run nft list chain ip berth "nat-${id:0:12}"
  assert_success
  run berth network create nt1
  assert_failure
  assert_output --partial "network with name nt1 already exists"
  run berth network create --subnet "$sn" nt2
  assert_failure
  assert_output --partial "Pool overlaps"
  run berth network rm nt1
  assert_output nt1
  run ip link show "$br"
  assert_failure
  run nft list chain ip berth "nat-${id:0:12}"
  assert_failure
  run berth network rm nt1
  assert_failure
  assert_output --partial "network nt1 not found"
  run berth network rm bridge
  assert_failure
  assert_output --partial "bridge is a pre-defined network and cannot be removed"
}

@test "network: members resolve each other by name and alias; other networks cannot reach them" {
  bootstrap_busybox
  berth network create --subnet "$(subnet)" na >/dev/null
  berth network create --subnet "$(subnet)" nb >/dev/null
  berth run -d --name web --network na --network-alias www busybox httpd -f -p 80 -h /etc >/dev/null
  run berth run --rm --network na busybox wget -qO- http://web/hostname
  assert_success
  assert_output "$(berth inspect -f '{{.Config.Hostname}}' web)"
  run berth run --rm --network na busybox wget -qO- http://www/hostname
  assert_output "$(berth inspect -f '{{.Config.Hostname}}' web)"
  # a member that comes later is known to the earlier ones
  berth run -d --name late --network na busybox sleep 1000 >/dev/null
  run berth exec web ping -c 1 -W 5 late
  assert_success
  # not across networks, neither by name nor by address
  local ip
  ip=$(berth inspect -f '{{.NetworkSettings.Networks.na.IPAddress}}' web)
  run berth run --rm --network nb busybox ping -c 1 -W 1 web
  assert_failure
  run berth run --rm --network nb busybox ping -c 1 -W 1 "$ip"
  assert_failure
  run berth run --rm busybox ping -c 1 -W 1 "$ip"
  assert_failure
  # gone from the others' hosts once stopped
  berth stop -t 0 late
  run berth exec web grep -w late /etc/hosts
  assert_failure
}

@test "network create --internal: no route out, no NAT, nothing forwarded off its bridge" {
  bootstrap_busybox
  local sn id
  sn=$(subnet)
  id=$(berth network create --internal --subnet "$sn" ni)
  run berth run --rm --network ni busybox ip route
  assert_output "$sn dev eth0 scope link  src ${sn%.0/24}.2 "
  run berth run --rm --network ni busybox ping -c 1 -W 1 "$(host_addr)"
  assert_failure
  run nft list chain ip berth "nat-${id:0:12}"
  refute_output --partial masquerade
  run nft list chain ip berth "fwd-${id:0:12}"
  assert_output --partial "oifname != \"$(berth network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' ni)\" drop"
  run berth network inspect -f '{{.Internal}}' ni
  assert_output true
}

@test "network connect/disconnect: live, with --alias and --ip; inspect follows" {
  bootstrap_busybox
  local sn
  sn=$(subnet)
  berth network create --subnet "$sn" nc1 >/dev/null
  berth run -d --name a1 --network nc1 busybox sleep 1000 >/dev/null
  berth run -d --name b1 busybox sleep 1000 >/dev/null
  berth network connect --alias bee --ip "${sn%.0/24}.50" nc1 b1
  run berth exec b1 ip -4 -o addr show eth1
  assert_output --partial "inet ${sn%.0/24}.50/24"
  run berth exec a1 ping -c 1 -W 5 bee
  assert_success
  run berth exec b1 ping -c 1 -W 5 a1
  assert_success
  run berth inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}' b1
  assert_output --regexp "^bridge=[0-9.]+ nc1=${sn%.0/24}\.50 $"
  run berth network inspect -f '{{range .Containers}}{{.Name}} {{end}}' nc1
  assert_output --partial a1
  assert_output --partial b1
  run berth network connect nc1 b1
  assert_failure
  assert_output --partial "endpoint with name b1 already exists in network nc1"
  run berth network rm nc1
  assert_failure
  assert_output --partial "has active endpoints"
  berth network disconnect nc1 b1
  run berth exec b1 ls /sys/class/net
  assert_output "eth0
lo"
  run berth exec a1 grep -w bee /etc/hosts
  assert_failure
  run berth network disconnect nc1 b1
  assert_failure
  assert_output --partial "is not connected to network nc1"
  # a stopped container is connected at its next start
  berth stop -t 0 b1
  berth network connect nc1 b1
  berth start b1
  run berth exec b1 ls /sys/class/net
  assert_output "eth0
eth1
lo"
  run berth events --since 5m --until "$(date +%s.%N)" --filter type=network --format '{{.Action}} {{.Actor.Attributes.name}}'
  assert_output "create nc1
connect nc1
disconnect nc1
connect nc1"
}

@test "run --ip, --mac-address on a user network; refused on the default bridge like docker" {
  bootstrap_busybox
  local sn
  sn=$(subnet)
  berth network create --subnet "$sn" nip >/dev/null
  run berth run --rm --network nip --ip "${sn%.0/24}.77" --mac-address 92:d0:c6:0a:29:33 busybox \
    sh -c 'ip -4 -o addr show eth0; cat /sys/class/net/eth0/address'
  assert_success
  assert_line --partial "inet ${sn%.0/24}.77/24"
  assert_line 92:d0:c6:0a:29:33
  run berth run --rm --ip 10.1.2.3 busybox true
  assert_failure 125
  assert_output --partial "user specified IP address is supported on user defined networks only"
  run berth run --rm --network-alias x busybox true
  assert_failure 125
  assert_output --partial "network-scoped alias is supported only for containers in user defined networks"
  run berth run --rm --network nip --ip 10.1.2.3 busybox true
  assert_failure 125
  assert_output --partial "no configured subnet contains IP address 10.1.2.3"
}

@test "network prune removes the networks no live container uses" {
  bootstrap_busybox
  berth network create --subnet "$(subnet)" keep >/dev/null
  berth network create --subnet "$(subnet)" drop >/dev/null
  berth run -d --network keep busybox sleep 1000 >/dev/null
  run berth network prune -f
  assert_success
  assert_output "Deleted Networks:
drop"
  run berth network ls --format '{{.Name}}'
  assert_output "bridge
host
keep
none"
  # ls filters: one key's values any, keys all; dangling, type, id
  berth network create --subnet "$(subnet)" --label tier=db spare >/dev/null
  run berth network ls --filter dangling=true --format '{{.Name}}'
  assert_output spare
  run berth network ls --filter type=custom --filter name=ke --filter name=sp --format '{{.Name}}'
  assert_output "keep
spare"
  run berth network ls --filter type=builtin --filter driver=null --format '{{.Name}}'
  assert_output none
  run berth network ls -q --filter "id=$(berth network inspect -f '{{.Id}}' keep | cut -c1-5)"
  assert_output "$(berth network inspect -f '{{.Id}}' keep | cut -c1-12)"
  run berth network ls --filter type=other
  assert_failure
  assert_output --partial "invalid filter: 'type'='other'"
  # prune filters: label!, label and until
  run berth network prune -f --filter label!=tier=db
  assert_output ""
  run berth network prune -f --filter until=1h
  assert_output ""
  run berth network prune -f --filter label=tier
  assert_output "Deleted Networks:
spare"
  run berth network prune -f --filter bogus=1
  assert_failure
  assert_output --partial "invalid filter 'bogus'"
}
