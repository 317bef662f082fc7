#!/usr/bin/env bats
# Published ports: every -p form, -P with EXPOSE and --expose, udp, port,
# ps PORTS, a taken port, rules gone after stop, rm and a crash.
load network-helpers

# A free TCP port on the host (the kernel's choice).
free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])'
}

web() { # NAME [run flags...]: busybox httpd serving /etc on 80
  local name=$1
  shift
  berth run -d --name "$name" "$@" busybox httpd -f -p 80 -h /etc >/dev/null
}

get() { wget -qO- "http://$1/hostname"; }

# get, retried while the server starts (5 s at most).
wait_get() {
  local i
  for i in $(seq 50); do
    get "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  get "$1"
}

# The maps' elements that point at a container's address.
rules_for() {
  nft list map ip berth ports_any 2>/dev/null | grep -F " $1 " || true
  nft list map ip berth ports_ip 2>/dev/null | grep -F " $1 " || true
}

@test "port: -p hostPort:containerPort answers on 127.0.0.1, the host's address and from another container" {
  bootstrap_busybox
  local p host
  p=$(free_port) host=$(host_addr)
  web w1 -p "$p:80"
  local name
  name=$(berth inspect -f '{{.Config.Hostname}}' w1)
  run wait_get "127.0.0.1:$p"
  assert_output "$name"
  run get "$host:$p"
  assert_output "$name"
  run berth run --rm busybox wget -qO- "http://$host:$p/hostname"
  assert_output "$name"
  run berth port w1
  assert_output "80/tcp -> 0.0.0.0:$p"
  run berth port w1 80
  assert_output "0.0.0.0:$p"
  run berth port w1 81
  assert_failure
  assert_output --partial "No public port '81/tcp' published for w1"
  run berth ps --format '{{.Names}} {{.Ports}}'
  assert_output "w1 0.0.0.0:$p->80/tcp"
}

@test "port: -p ip:hostPort:containerPort binds only that address; ip::port and a bare port pick a free one" {
  bootstrap_busybox
  local p
  p=$(free_port)
  web w1 -p "127.0.0.1:$p:80" -p 127.0.0.1::80 -p 80
  local name
  name=$(berth inspect -f '{{.Config.Hostname}}' w1)
  run wait_get "127.0.0.1:$p"
  assert_output "$name"
  run get "$(host_addr):$p"
  assert_failure
  local p2 p3
  p2=$(berth inspect -f '{{(index (index .NetworkSettings.Ports "80/tcp") 1).HostPort}}' w1)
  p3=$(berth inspect -f '{{(index (index .NetworkSettings.Ports "80/tcp") 2).HostPort}}' w1)
  [ "$p2" -gt 0 ] && [ "$p3" -gt 0 ] && [ "$p2" != "$p3" ]
  run get "127.0.0.1:$p2"
  assert_output "$name"
  run get "$(host_addr):$p3"
  assert_output "$name"
  run berth inspect -f '{{json .HostConfig.PortBindings}}' w1
  assert_output '{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"'"$p"'"},{"HostIp":"127.0.0.1","HostPort":""},{"HostIp":"","HostPort":""}]}'
}

@test "port: ranges map one to one" {
  bootstrap_busybox
  local p
  p=$(free_port)
  berth run -d --name w1 -p "$p-$((p + 1)):8000-8001" busybox \
    sh -c 'mkdir /w && echo second >/w/hostname && httpd -p 8000 -h /etc && httpd -f -p 8001 -h /w' >/dev/null
  run wait_get "127.0.0.1:$p"
  assert_output "$(berth inspect -f '{{.Config.Hostname}}' w1)"
  run wait_get "127.0.0.1:$((p + 1))"
  assert_output second
  run berth port w1
  assert_output "8000/tcp -> 0.0.0.0:$p
8001/tcp -> 0.0.0.0:$((p + 1))"
}

@test "port: udp" {
  make_probe_image probe
  local p
  p=$(free_port)
  berth run -d --name u1 -p "$p:53/udp" probe berth-probe udp-echo 53 >/dev/null
  run berth port u1
  assert_output "53/udp -> 0.0.0.0:$p"
  run "$PYTHON" - "$p" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.2)
for _ in range(50):  # until the server is up
    s.sendto(b"hello-udp", ("127.0.0.1", int(sys.argv[1])))
    try:
        print(s.recv(100).decode())
        break
    except socket.timeout:
        pass
PY
  assert_output "echo:hello-udp"
}

@test "port: -P publishes the image's EXPOSE and --expose on free ports" {
  make_probe_image exposing
  berth commit -c 'EXPOSE 80' "$(berth create exposing)" web:exp >/dev/null
  berth run -d --name w1 -P --expose 8080 web:exp httpd -f -p 80 -h /etc >/dev/null
  run berth inspect -f '{{range $k, $v := .NetworkSettings.Ports}}{{$k}} {{end}}' w1
  assert_output "80/tcp 8080/tcp "
  local p
  p=$(berth port w1 80)
  p=${p##*:}
  run wait_get "127.0.0.1:$p"
  assert_output "$(berth inspect -f '{{.Config.Hostname}}' w1)"
  # exposed without -P: listed, not published
  berth run -d --name w2 --expose 9000 exposing sleep 1000 >/dev/null
  run berth inspect -f '{{json .NetworkSettings.Ports}}' w2
  assert_output '{"9000/tcp":null}'
  run berth ps --filter name=w2 --format '{{.Ports}}'
  assert_output "9000/tcp"
}

@test "port: a port taken on the host or by another container is an error at run" {
  bootstrap_busybox
  local p
  p=$(free_port)
  "$PYTHON" -c "import socket,time; s=socket.socket(); s.bind(('0.0.0.0', $p)); s.listen(); time.sleep(30)" &
  local holder=$!
  sleep 0.5
  run berth run --rm -p "$p:80" busybox true
  assert_failure 125
  assert_output --partial "Bind for 0.0.0.0:$p failed: port is already allocated"
  kill $holder
  wait $holder 2>/dev/null || true
  web w1 -p "$p:80"
  run berth run --name w2 -p "$p:80" busybox true
  assert_failure 125
  assert_output --partial "driver failed programming external connectivity on endpoint w2: Bind for 0.0.0.0:$p failed: port is already allocated"
  # the failed one holds nothing: w1 still answers
  run wait_get "127.0.0.1:$p"
  assert_output "$(berth inspect -f '{{.Config.Hostname}}' w1)"
  # host port 0: a free one, as docker
  berth run -d --name w3 -p 0:80 busybox sleep 1000 >/dev/null
  run berth port w3 80
  assert_output --regexp '^0\.0\.0\.0:[1-9][0-9]*$'
  refute_output "0.0.0.0:0"
  run berth run --rm -p 80:99999 busybox true
  assert_failure 125
  assert_output --partial "invalid containerPort: 99999"
}

@test "port: rules go at stop, at rm -f, when the container exits, and after SIGKILL of everything" {
  bootstrap_busybox
  local p ip
  p=$(free_port)
  web w1 -p "$p:80"
  ip=$(ctr_ip w1)
  [ -n "$(rules_for "$ip")" ]
  berth stop -t 0 w1
  [ -z "$(rules_for "$ip")" ]
  berth start w1
  ip=$(ctr_ip w1)
  [ -n "$(rules_for "$ip")" ]
  berth rm -f w1
  [ -z "$(rules_for "$ip")" ]
  # exits by itself
  berth run -d --name w2 -p "$p:80" busybox sh -c 'sleep 1' >/dev/null
  ip=$(ctr_ip w2)
  berth wait w2
  [ -z "$(rules_for "$ip")" ]
  # everything killed: the next run takes the port over
  web w3 -p "$p:80"
  ip=$(ctr_ip w3)
  kill_everything w3
  [ -n "$(rules_for "$ip")" ]
  berth ps -a >/dev/null # the next command, whichever
  [ -z "$(rules_for "$ip")" ]
  run jq -r '.endpoints | length' "$TEST_RUNROOT/networks/bridge.json"
  assert_output 0
  web w4 -p "$p:80"
  run wait_get "127.0.0.1:$p"
  assert_output "$(berth inspect -f '{{.Config.Hostname}}' w4)"
}
