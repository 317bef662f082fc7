#!/usr/bin/env bash
# bench/net.sh [BUILD]: container networking, side by side in one run:
#   tput   one TCP stream of BENCH_NET_MB (1024) MB into a container (busybox
#          nc -> cat >/dev/null): through a published port on 127.0.0.1, on
#          ::1 (berth: forwarded by the container's monitor, as IPv6 cannot
#          be DNATed to the container's IPv4 address) and on the host's
#          address, and straight to the container's address; berth and
#          podman (its ::1 row only where podman answers there)
#   conn   BENCH_NET_CONNS (500) sequential HTTP/1.0 requests (busybox httpd)
#          over fresh connections, the same paths
#   run    `run --rm busybox true` on the default bridge against
#          `--network none`: berth and podman
# docker is not measured here: the bench's private dockerd runs with
# --bridge=none --iptables=false so as to leave the host's firewall alone,
# and it has no published ports that way.
# berth uses a bridge and subnet of its own (BERTH_DEFAULT_BRIDGE/SUBNET) and
# removes them at the end; podman makes and removes its own (10.88.0.0/16,
# podman's default and berth's: a berth0 left on the host breaks podman's
# rows, so the bench refuses to run beside one).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_containers "$@"

MB=${BENCH_NET_MB:-1024}
CONNS=${BENCH_NET_CONNS:-500}
RUNS=${BENCH_NET_RUNS:-7}
RUN_RUNS=${BENCH_RUN_RUNS:-21}
SLOW=${BENCH_SLOW_RUNS:-7}
export BERTH_DEFAULT_BRIDGE=berthbench0 BERTH_DEFAULT_SUBNET=10.199.77.0/24
if ip link show berth0 >/dev/null 2>&1 && have podman; then
  die "a berth0 bridge exists (10.88.0.0/16, podman's default subnet too): remove it first (ip link del berth0)"
fi
HOST=$(ip -4 -o addr show scope global | awk '{split($4, a, "/"); print a[1]; exit}')

net_cleanup() {
  local id
  id=$(jq -r .Id "$T/berth/networks/bridge.json" 2>/dev/null || true)
  berth rm -f bt bh >/dev/null 2>&1 || true
  have podman && pod rm -f pt >/dev/null 2>&1 || true
  if [ -n "$id" ]; then
    nft delete chain ip berth "nat-${id:0:12}" 2>/dev/null || true
    nft delete chain ip berth "fwd-${id:0:12}" 2>/dev/null || true
    nft delete element ip berth bridges "{ \"$BERTH_DEFAULT_BRIDGE\" }" 2>/dev/null || true
  fi
  ip link del "$BERTH_DEFAULT_BRIDGE" 2>/dev/null || true
  bench_cleanup
}
trap net_cleanup EXIT

# The clients: one stream of MB megabytes; N request/answer connections.
cat >"$T/bin/tput.py" <<'PY'
import socket, sys
host, port, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port))
buf = b"\0" * (1 << 20)
for _ in range(mb):
    s.sendall(buf)
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
PY
cat >"$T/bin/conn.py" <<'PY'
import socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
req = b"GET /hostname HTTP/1.0\r\n\r\n"
for _ in range(n):
    s = socket.create_connection((host, port))
    s.sendall(req)
    while s.recv(65536):
        pass
    s.close()
PY
PY=$(command -v /usr/bin/python3 || command -v python3)
tput() { "$PY" "$T/bin/tput.py" "$1" "$2" "$MB"; }
conn() { "$PY" "$T/bin/conn.py" "$1" "$2" "$CONNS"; }
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])'; }
wait_port() { # HOST PORT: until something answers there (10 s at most)
  local i
  for i in $(seq 100); do
    "$PY" -c "import socket; socket.create_connection(('$1', $2), 1).close()" 2>/dev/null && return 0
    sleep 0.1
  done
  die "nothing answers on $1:$2"
}

# In the container: a sink on 5001 (a fresh `cat` per connection) and httpd on 80.
SERVE='printf "#!/bin/sh\nexec cat >/dev/null\n" >/sink && chmod +x /sink && httpd -p 80 -h /etc && exec nc -ll -p 5001 -e /sink'

log "net: busybox image for every engine"
quiet berth image bootstrap busybox
ENGINES=(berth)
if have podman; then
  berth save busybox >"$T/in/busybox.tar"
  quiet pod load -i "$T/in/busybox.tar"
  ENGINES+=(podman)
fi

BT=$(free_port) BH=$(free_port)
quiet berth run -d --name bt -p "$BT:5001" -p "$BH:80" busybox sh -c "$SERVE"
BIP=$(berth inspect -f '{{.NetworkSettings.IPAddress}}' bt)
wait_port 127.0.0.1 "$BT"
wait_port "$BIP" 80
if have podman; then
  PT=$(free_port) PH=$(free_port)
  quiet pod run -d --name pt $POD_LIMITS -p "$PT:5001" -p "$PH:80" busybox sh -c "$SERVE"
  PIP=$(pod inspect -f '{{.NetworkSettings.IPAddress}}' pt)
  wait_port 127.0.0.1 "$PT"
  wait_port "$PIP" 80
  if "$PY" -c "import socket; socket.create_connection(('::1', $PT), 2).close()" 2>/dev/null; then
    POD6=1
  else
    log "net: podman does not answer on [::1]:$PT (no row for it)"
  fi
fi

# ---- throughput and connection rate -----------------------------------------
bench_add tput "berth direct" : "tput $BIP 5001" "$RUNS"
bench_add tput "berth 127.0.0.1:port" : "tput 127.0.0.1 $BT" "$RUNS"
bench_add tput "berth [::1]:port" : "tput ::1 $BT" "$RUNS"
bench_add tput "berth $HOST:port" : "tput $HOST $BT" "$RUNS"
if have podman; then
  bench_add tput "podman direct" : "tput $PIP 5001" "$RUNS"
  bench_add tput "podman 127.0.0.1:port" : "tput 127.0.0.1 $PT" "$RUNS"
  if [ -n "${POD6:-}" ]; then bench_add tput "podman [::1]:port" : "tput ::1 $PT" "$RUNS"; fi
  bench_add tput "podman $HOST:port" : "tput $HOST $PT" "$RUNS"
fi
bench_run
bench_add conn "berth direct" : "conn $BIP 80" "$RUNS"
bench_add conn "berth 127.0.0.1:port" : "conn 127.0.0.1 $BH" "$RUNS"
bench_add conn "berth [::1]:port" : "conn ::1 $BH" "$RUNS"
bench_add conn "berth $HOST:port" : "conn $HOST $BH" "$RUNS"
if have podman; then
  bench_add conn "podman direct" : "conn $PIP 80" "$RUNS"
  bench_add conn "podman 127.0.0.1:port" : "conn 127.0.0.1 $PH" "$RUNS"
  if [ -n "${POD6:-}" ]; then bench_add conn "podman [::1]:port" : "conn ::1 $PH" "$RUNS"; fi
  bench_add conn "podman $HOST:port" : "conn $HOST $PH" "$RUNS"
fi
bench_run
berth rm -f bt >/dev/null
have podman && pod rm -f pt >/dev/null

# ---- run --rm: the bridge against no network ------------------------------------
SETTLE="sleep 0.3"
bench_add run "berth none" "$SETTLE" "berth run --rm --network none busybox true" "$RUN_RUNS"
bench_add run "berth bridge" "$SETTLE" "berth run --rm busybox true" "$RUN_RUNS"
if have podman; then
  bench_add run "podman none" "$SETTLE" "pod run --rm --network none $POD_LIMITS busybox true" "$SLOW"
  bench_add run "podman bridge" "$SETTLE" "pod run --rm $POD_LIMITS busybox true" "$SLOW"
fi
bench_run

# rate_table CASE UNIT SCALE: each row's rate (SCALE / median) and its share
# of the same engine's "direct" row.
rate_table() {
  awk -F'\t' -v c="$1" -v unit="$2" -v scale="$3" '
    $1 == c { n++; e[n] = $2; m[n] = $3; r[n] = $6; split($2, w, " "); eng[n] = w[1]
              if (w[2] == "direct") direct[w[1]] = $3 }
    END {
      print "| engine, path | median s | runs | " unit " | % of direct |"
      print "| --- | ---: | ---: | ---: | ---: |"
      for (i = 1; i <= n; i++)
        printf "| %s | %.3f | %d | %.0f | %.0f%% |\n", e[i], m[i], r[i], scale / m[i], 100 * direct[eng[i]] / m[i]
    }' "$BENCH_RESULTS"
}

# run_table: each engine's bridge run against its run without a network.
run_table() {
  awk -F'\t' '
    $1 == "run" { n++; e[n] = $2; m[n] = $3; lo[n] = $4; r[n] = $6; split($2, w, " ")
                  if (w[2] == "none") none[w[1]] = $3; eng[n] = w[1] }
    END {
      print "| engine, network | median s | min s | runs | added by the bridge (ms) |"
      print "| --- | ---: | ---: | ---: | ---: |"
      for (i = 1; i <= n; i++)
        printf "| %s | %.4f | %.4f | %d | %s |\n", e[i], m[i], lo[i], r[i],
               e[i] ~ / none$/ ? "-" : sprintf("%.1f", 1000 * (m[i] - none[eng[i]]))
    }' "$BENCH_RESULTS"
}

{
  echo "### TCP throughput: one stream of $MB MB into a container"
  echo
  echo "The target is a published port at 90% or more of the container's own address."
  echo
  rate_table tput "MB/s" "$MB"
  echo
  echo "### Connection rate: $CONNS sequential HTTP/1.0 requests, one connection each"
  echo
  rate_table conn "connections/s" "$CONNS"
  echo
  echo "### run --rm busybox true: the default bridge against --network none"
  echo
  echo "The target is the bridge adding under 5 ms to berth's run."
  echo
  run_table
  echo
  echo "#### Commands"
  echo
  bench_commands tput
  bench_commands conn
  bench_commands run
  echo
  bench_functions berth pod tput conn
  echo
} >"$T/report.md"
cat "$T/report.md"
if [ -n "${BENCH_REPORT:-}" ]; then cp "$T/report.md" "$BENCH_REPORT"; fi
