#!/usr/bin/env bats
# Published ports: every -p form, -P with EXPOSE and --expose, udp, port,
# ps PORTS, IPv6 (::1 and the host's address, forwarded by the monitor), a
# taken port, ports held while the container runs, rules gone after stop, rm
# and a crash.
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

# Does the host listen on IPv6 (::1)?  Then a port published on every
# address is docker's two bindings, 0.0.0.0 and [::].
host_ipv6() { "$PYTHON" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; }

# The host's own global IPv6 address, if it has one.
host_addr6() { ip -6 -o addr show scope global | awk '{split($4, a, "/"); print a[1]; exit}'; }

# docker port's lines for container port $1 published on host port $2 on
# every address.
any_lines() {
  printf '%s -> 0.0.0.0:%s\n' "$1" "$2"
  if host_ipv6; then printf '%s -> [::]:%s\n' "$1" "$2"; fi
}

# Send SIZE random bytes to HOST PORT (a tcp-echo), end our side, read the
# echo to its end: "ok" when every byte came back in order.
echo_roundtrip() {
  "$PYTHON" - "$@" <<'PY'
import hashlib, os, socket, sys, threading, time
host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = os.urandom(size)
for _ in range(50):  # until the server is up
    try:
        s = socket.create_connection((host, port), timeout=10)
        break
    except OSError:
        time.sleep(0.1)
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send)
t.start()
got = bytearray()
while chunk := s.recv(1 << 20):
    got += chunk
t.join()
print("ok" if hashlib.sha256(got).digest() == hashlib.sha256(data).digest() else "got %d of %d bytes" % (len(got), size))
PY
}

# Send TEXT to a udp-echo at HOST PORT until it answers (5 s at most): the answer.
udp_ask() {
  "$PYTHON" - "$@" <<'PY'
import socket, sys
host, port, text = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.1)
for _ in range(50):  # until the server is up
    s.sendto(text, (host, port))
    try:
        print(s.recv(100).decode())
        break
    except socket.timeout:
        pass
PY
}

# Can a program bind HOST PORT (tcp, with SO_REUSEADDR as servers do)?
bindable() {
  "$PYTHON" - "$1" "$2" <<'PY'
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if fam == socket.AF_INET6:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen()
PY
}

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
  assert_output "$(any_lines 80/tcp "$p")"
  run berth port w1 80
  assert_output "$(any_lines 80/tcp "$p" | sed 's/.* -> //')"
  run berth port w1 81
  assert_failure
  assert_output --partial "No public port '81/tcp' published for w1"
  run berth ps --format '{{.Names}} {{.Ports}}'
  if host_ipv6; then
    assert_output "w1 0.0.0.0:$p->80/tcp, [::]:$p->80/tcp"
  else
    assert_output "w1 0.0.0.0:$p->80/tcp"
  fi
}

@test "port: IPv6: ::1 and the host's IPv6 address answer through the monitor (tcp with half-close, udp)" {
  host_ipv6 || skip "the host has no IPv6"
  make_probe_image probe
  local p u p6 h6
  p=$(free_port) u=$(free_port) p6=$(free_port)
  berth run -d --name e1 -p "$p:7" -p "$u:53/udp" -p "[::1]:$p6:7" probe \
    sh -c 'berth-probe tcp-echo 7 & exec berth-probe udp-echo 53' >/dev/null
  run berth port e1
  assert_output "7/tcp -> 0.0.0.0:$p
7/tcp -> [::]:$p
7/tcp -> [::1]:$p6
53/udp -> 0.0.0.0:$u
53/udp -> [::]:$u"
  # 16 MiB both ways at once, then each side's end of input passed on
  run echo_roundtrip ::1 "$p" 16777216
  assert_output ok
  run echo_roundtrip 127.0.0.1 "$p" 1048576
  assert_output ok
  run echo_roundtrip ::1 "$p6" 0
  assert_output ok
  h6=$(host_addr6)
  if [ -n "$h6" ]; then
    run echo_roundtrip "$h6" "$p" 65536
    assert_output ok
  fi
  # bound to ::1 only: nothing on IPv4 for that port
  run "$PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $p6), timeout=2)"
  assert_failure
  run udp_ask ::1 "$u" hello-udp6
  assert_output "echo:hello-udp6"
}

@test "port: a published port is held while its container runs (restarts included) and free once it stops" {
  make_probe_image probe
  local p
  p=$(free_port)
  berth run -d --name h1 --restart always -p "$p:7" probe sh -c 'berth-probe tcp-echo 7 & sleep 1; exit 3' >/dev/null
  run bindable 0.0.0.0 "$p"
  assert_failure
  assert_output --partial "Address already in use"
  if host_ipv6; then
    run bindable :: "$p"
    assert_failure
  fi
  # across a restart by the policy, still held, and answering again
  local i
  for i in $(seq 100); do
    [ "$(berth inspect -f '{{.RestartCount}}' h1)" != 0 ] && break
    sleep 0.1
  done
  run bindable 0.0.0.0 "$p"
  assert_failure
  run echo_roundtrip 127.0.0.1 "$p" 1000
  assert_output ok
  berth stop -t 0 h1 >/dev/null
  run bindable 0.0.0.0 "$p"
  assert_success
  if host_ipv6; then
    run bindable :: "$p"
    assert_success
  fi
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
  assert_output "$(any_lines 8000/tcp "$p")
$(any_lines 8001/tcp $((p + 1)))"
}

@test "port: udp" {
  make_probe_image probe
  local p
  p=$(free_port)
  berth run -d --name u1 -p "$p:53/udp" probe berth-probe udp-echo 53 >/dev/null
  run berth port u1
  assert_output "$(any_lines 53/udp "$p")"
  run udp_ask 127.0.0.1 "$p" hello-udp
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
  if host_ipv6; then # taken on IPv6 only
    "$PYTHON" -c "import socket,time; s=socket.socket(socket.AF_INET6); s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1); s.bind(('::', $p)); s.listen(); time.sleep(30)" &
    holder=$!
    sleep 0.5
    run berth run --rm -p "$p:80" busybox true
    assert_failure 125
    assert_output --partial "Bind for [::]:$p failed: port is already allocated"
    kill $holder
    wait $holder 2>/dev/null || true
  fi
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
  assert_line --index 0 --regexp '^0\.0\.0\.0:[1-9][0-9]*$'
  refute_output --partial ":0"
  if host_ipv6; then # the same free port on both
    assert_line --index 1 "[::]:${lines[0]#0.0.0.0:}"
  fi
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

@test "port: ps PORTS groups runs of ports as the docker CLI does" {
  bootstrap_busybox
  local p q
  p=$(free_port) q=$(free_port)
  while [ "$q" -le $((p + 1)) ] && [ "$p" -le $((q + 1)) ]; do q=$(free_port); done
  [ "$p" -lt "$q" ] || { local t=$p; p=$q q=$t; }
  berth run -d --name g1 -p "$p-$((p + 1)):$p-$((p + 1))" -p "$q:80" --expose 90-91 -p "127.0.0.1:$q:$q/udp" \
    busybox sleep 1000 >/dev/null
  # sorted by container port; published on their own numbers: one run per
  # address, exposed only: one run, in the order each first came; the rest
  # one by one, after them (checked against docker 28's CLI)
  local want="90-91/tcp, 0.0.0.0:$p-$((p + 1))->$p-$((p + 1))/tcp"
  host_ipv6 && want="$want, [::]:$p-$((p + 1))->$p-$((p + 1))/tcp"
  want="$want, 127.0.0.1:$q->$q/udp, 0.0.0.0:$q->80/tcp"
  host_ipv6 && want="$want, [::]:$q->80/tcp"
  run berth ps --format '{{.Ports}}'
  assert_output "$want"
}

@test "port: the setting \"ip\" (daemon.json's) is the host address of ports published without one" {
  bootstrap_busybox
  local p
  p=$(free_port)
  export BERTH_CONFIG=$BATS_TEST_TMPDIR/config.json
  echo '{"ip": "127.0.0.1"}' >"$BERTH_CONFIG"
  web w1 -p "$p:80"
  run berth port w1
  assert_output "80/tcp -> 127.0.0.1:$p"
  run wait_get "127.0.0.1:$p"
  assert_output "$(berth inspect -f '{{.Config.Hostname}}' w1)"
  run get "$(host_addr):$p"
  assert_failure
  # an address given still wins
  run berth run -d --name w2 -p "$(host_addr)::80" busybox sleep 1000
  assert_success
  run berth port w2 80
  assert_output --regexp "^$(host_addr):[1-9][0-9]*$"
  # bad settings are an error at run, naming the file
  echo '{"ip": "localhost"}' >"$BERTH_CONFIG"
  run berth run --rm -p 80 busybox true
  assert_failure 125
  assert_output --partial "$BERTH_CONFIG: \"ip\" is not an IP address"
  echo '{"ip": ' >"$BERTH_CONFIG"
  run berth run --rm -p 80 busybox true
  assert_failure 125
  assert_output --partial "$BERTH_CONFIG: line"
}

@test "ps -f: before, since, volume, network, publish (host port), expose (container port)" {
  bootstrap_busybox
  local p
  p=$(free_port)
  berth network create --subnet "10.$((200 + RANDOM % 50)).$((RANDOM % 250)).0/24" fnet >/dev/null
  berth run -d --name f1 -p "$p:80" busybox sleep 1000 >/dev/null
  berth run -d --name f2 --expose 9000 -v fvol:/data busybox sleep 1000 >/dev/null
  berth run -d --name f3 --network fnet busybox sleep 1000 >/dev/null
  check() { # FILTER NAMES...
    local f=$1
    shift
    run berth ps --filter "$f" --format '{{.Names}}'
    assert_success
    assert_equal "$(echo $output)" "$*"
  }
  check before=f3 f2 f1
  check since=f1 f3 f2
  check volume=fvol f2
  check volume=/data f2
  check network=fnet f3
  check "network=$(berth network inspect -f '{{.Id}}' fnet | cut -c1-12)" f3
  check network=bridge f2 f1
  check "publish=$p" f1
  check "publish=$((p - 1))-$((p + 1))/tcp" f1
  check publish=80
  check expose=80 f1
  check expose=9000 f2
  check expose=9000/udp
  run berth ps --filter publish=abc
  assert_failure
  assert_output --partial "invalid filter 'publish=abc'"
  run berth ps --filter before=nosuch
  assert_failure
  assert_output --partial "No such container: nosuch"
  berth rm -f f3 >/dev/null
  berth network rm fnet >/dev/null
}

