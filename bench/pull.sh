#!/usr/bin/env bash
# bench/pull.sh [BUILD]: pulling a ~500 MB image of several gzip layers from
# a local registry (Debian's docker-registry on 127.0.0.1, on the bench
# tmpfs): berth against podman, docker and skopeo copy + umoci unpack, each
# from an empty store, and the floor: decompressing the layers (gzip -d, one
# process per layer, on the cores there are).
#
# The image is the first BENCH_PULL_MB (500) MB of regular files of the
# host's /usr/share then /usr/lib, in path order, split into
# BENCH_PULL_LAYERS (5) layers of about equal size, each gzip -6; pushed
# once with skopeo.  Only the pull itself is timed.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
if [ -n "${1:-}" ]; then BERTH=$(realpath -ms "$1/berth"); fi
export BERTH
bench_init "$@"

MB=${BENCH_PULL_MB:-500}
LAYERS=${BENCH_PULL_LAYERS:-5}
SLOW=${BENCH_SLOW_RUNS:-3}
IN=$T/in
have docker-registry || die "requires docker-registry"
have skopeo || die "requires skopeo"

log "pull: making a $MB MB image of $LAYERS layers from /usr/share and /usr/lib"
LC_ALL=C find /usr/share /usr/lib -xdev \( -type f -o -type d -o -type l \) -printf '%y\t%s\t%P\t%H\n' |
  LC_ALL=C sort -t "$(printf '\t')" -k4,4r -k3,3 |
  awk -F'\t' -v max="$((MB * 1024 * 1024))" -v n="$LAYERS" -v dir="$IN" '
    { p = substr($4, 2) ($3 == "" ? "" : "/" $3) }
    done { next }
    $1 == "f" { if (s + $2 > max) { done = 1; next } s += $2 }
    { print p > (dir "/list." int(s * n / (max + 1))) }'
for ((i = 0; i < LAYERS; i++)); do
  (tar -C / --no-recursion -cf - -T "$IN/list.$i" | gzip -6 >"$IN/layer$i.tar.gz") &
done
wait
python3 - "$IN" "$LAYERS" <<'PY'
import hashlib, json, os, shutil, sys, zlib
d, n = sys.argv[1], int(sys.argv[2])
lay = os.path.join(d, "layout")
os.makedirs(os.path.join(lay, "blobs", "sha256"))
def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for c in iter(lambda: f.read(1 << 20), b""):
            h.update(c)
    return h.hexdigest()
def diff_id(path):
    h, z = hashlib.sha256(), zlib.decompressobj(31)
    with open(path, "rb") as f:
        for c in iter(lambda: f.read(1 << 20), b""):
            h.update(z.decompress(c))
    return "sha256:" + h.hexdigest()
def put(b):
    h = hashlib.sha256(b).hexdigest()
    open(os.path.join(lay, "blobs", "sha256", h), "wb").write(b)
    return {"digest": "sha256:" + h, "size": len(b)}
layers, diffs = [], []
for i in range(n):
    p = os.path.join(d, "layer%d.tar.gz" % i)
    h = sha(p)
    diffs.append(diff_id(p))
    shutil.copy(p, os.path.join(lay, "blobs", "sha256", h))
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + h,
                   "size": os.path.getsize(p)})
cfg = {"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
       "config": {"Cmd": ["/bin/sh"]}, "rootfs": {"type": "layers", "diff_ids": diffs}}
c = put(json.dumps(cfg).encode())
c["mediaType"] = "application/vnd.oci.image.config.v1+json"
m = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": c, "layers": layers}).encode())
m.update(mediaType="application/vnd.oci.image.manifest.v1+json",
         annotations={"org.opencontainers.image.ref.name": "latest"})
json.dump({"schemaVersion": 2, "manifests": [m]}, open(os.path.join(lay, "index.json"), "w"))
open(os.path.join(lay, "oci-layout"), "w").write('{"imageLayoutVersion": "1.0.0"}')
PY

# The registry: on the tmpfs, plain http on loopback.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T/registry"
cat >"$T/registry.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $T/registry
http:
  addr: 127.0.0.1:$PORT
YAML
docker-registry serve "$T/registry.yml" >"$T/registry.log" 2>&1 &
REG_PID=$!
trap 'kill $REG_PID 2>/dev/null || true; bench_cleanup' EXIT
for ((i = 0; i < 200; i++)); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/v2/" && break
  sleep 0.05
done
REF=127.0.0.1:$PORT/bench/big:latest
quiet skopeo --insecure-policy copy --dest-tls-verify=false "oci:$IN/layout:latest" "docker://$REF"
GZ_MB=$(du -cm "$IN"/layer*.tar.gz | tail -1 | cut -f1)
TAR_MB=0
for ((i = 0; i < LAYERS; i++)); do
  TAR_MB=$((TAR_MB + $(gzip -dc "$IN/layer$i.tar.gz" | wc -c) / 1048576))
done
log "image: $LAYERS layers, $TAR_MB MB of tar, $GZ_MB MB compressed"

have_berth || log "no berth binary at $BERTH: berth rows skipped"
have dockerd && docker_start

UMOCI=$T/umoci
skopeo_umoci() {
  mkdir -p "$UMOCI" &&
    skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$REF" "oci:$UMOCI/layout:latest" &&
    umoci unpack --image "$UMOCI/layout:latest" "$UMOCI/bundle"
}
# The floor: every layer decompressed, one gzip per layer, all at once.
gunzip_all() {
  local f pids=()
  for f in "$IN"/layer*.tar.gz; do
    gzip -dc "$f" >/dev/null &
    pids+=($!)
  done
  wait "${pids[@]}"
}

bench_add pull "(gzip -d of the layers, in parallel)" : gunzip_all
have_berth && bench_add pull berth berth_reset "berth pull -q $REF" "$SLOW"
have podman && bench_add pull podman pod_reset "pod pull -q --tls-verify=false $REF" "$SLOW"
have dockerd && bench_add pull docker docker_reset "dock pull -q $REF" "$SLOW"
have umoci && bench_add pull "skopeo+umoci" umoci_reset skopeo_umoci "$SLOW"
bench_run

{
  echo "Image: $LAYERS gzip layers, $TAR_MB MB of tar ($GZ_MB MB compressed), from the host's"
  echo "/usr/share and /usr/lib, served by docker-registry on 127.0.0.1 from the bench tmpfs."
  echo "$(nproc) CPUs.  dockerd storage driver: ${DOCKER_DRIVER:-none}."
  echo
  bench_table pull
  echo
  echo "#### Commands (each row: the timed command; before each run, the engine's reset)"
  echo
  bench_commands pull
  echo
  bench_functions berth berth_reset pod pod_reset dock docker_reset skopeo_umoci umoci_reset gunzip_all
  echo
} >"$T/report.md"
cat "$T/report.md"
if [ -n "${BENCH_REPORT:-}" ]; then cp "$T/report.md" "$BENCH_REPORT"; fi
