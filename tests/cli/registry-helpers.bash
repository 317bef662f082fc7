# Registry fixtures: Debian's docker-registry on 127.0.0.1 (a free port, its
# own storage under the test's tmpdir), without auth, with htpasswd basic
# auth, or behind a bearer-token challenge served by tests/helpers/regserver.py;
# and regserver.py proxies in front of it.  Everything started here is
# recorded in $REG_PIDS and killed by registry_teardown.
REGSERVER=$BERTH_SRC/tests/helpers/regserver.py
REG_USER=berthuser
REG_PASSWORD='s3cret-Pa55'

requires_registry() {
  command -v docker-registry >/dev/null || skip "requires docker-registry"
}

# The registry suites' setup and teardown: docker-registry and skopeo, the
# test's own store, and registry A when AUTH is given
# (registry_test_setup [none|htpasswd|token]); the registries and proxies
# started, then the store.
registry_test_setup() {
  requires_registry
  requires skopeo
  berth_setup
  [ -z "${1:-}" ] || registry_start A "$1"
}

registry_test_teardown() {
  registry_teardown
  berth_teardown
}

# A second, empty store for the test (the pulling side).
fresh_store() {
  export TEST_ROOT=$BATS_TEST_TMPDIR/pull-root TEST_RUNROOT=$BATS_TEST_TMPDIR/pull-run
  mkdir -p "$TEST_ROOT" "$TEST_RUNROOT"
}

# A port nothing listens on now.
free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait (bounded by attempts, not time) for a file to appear.
wait_for_file() {
  local i
  for i in $(seq 1 200); do
    [ -s "$1" ] && return 0
    sleep 0.05
  done
  echo "timed out waiting for $1" >&2
  return 1
}

# registry_start NAME none|htpasswd|token [STORAGE [ADDRESS]]: sets
# REG_<NAME> to "ADDRESS:PORT" (ADDRESS 127.0.0.1 by default); the
# registry's files are in $BATS_TEST_TMPDIR/reg-NAME.
registry_start() {
  local name=$1 auth=$2 dir=$BATS_TEST_TMPDIR/reg-$1 port i
  local storage=${3:-$dir/storage} addr=${4:-127.0.0.1}
  mkdir -p "$dir" "$storage"
  port=$(free_port)
  {
    cat <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $storage
  delete:
    enabled: true
http:
  addr: $addr:$port
  secret: berth-test
YAML
    case "$auth" in
      htpasswd)
        "$PYTHON" -c 'import crypt, sys; print(sys.argv[1] + ":" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
          "$REG_USER" "$REG_PASSWORD" >"$dir/htpasswd" 2>/dev/null
        printf 'auth:\n  htpasswd:\n    realm: berth-test\n    path: %s\n' "$dir/htpasswd"
        ;;
      token)
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/token.key" -out "$dir/token.crt" -days 2 \
          -subj /CN=berth-test-token >/dev/null 2>&1
        "$PYTHON" "$REGSERVER" token "$dir/token.port" "$dir/token.key" "$dir/token.crt" \
          "$REG_USER:$REG_PASSWORD" "$dir/token.log" 2>>"$dir/token.err" &
        REG_PIDS="${REG_PIDS:-} $!"
        wait_for_file "$dir/token.port"
        printf 'auth:\n  token:\n    realm: http://127.0.0.1:%s/token\n    service: berth-test\n    issuer: berth-test-issuer\n    rootcertbundle: %s\n' \
          "$(cat "$dir/token.port")" "$dir/token.crt"
        ;;
    esac
  } >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  REG_PIDS="${REG_PIDS:-} $!"
  for i in $(seq 1 200); do
    curl -s -o /dev/null "http://$addr:$port/v2/" && break
    sleep 0.05
  done
  printf -v "REG_$name" '%s' "$addr:$port"
  export "REG_$name"
}

# proxy_start NAME UPSTREAM MODE [SECOND]: REG_<NAME> is the proxy's address;
# its request log is $BATS_TEST_TMPDIR/proxy-NAME.log.
proxy_start() {
  local name=$1 dir=$BATS_TEST_TMPDIR
  "$PYTHON" "$REGSERVER" proxy "$dir/proxy-$name.port" "$2" "$3" "$dir/proxy-$name.log" "${4:-}" \
    2>>"$dir/proxy-$name.err" &
  REG_PIDS="${REG_PIDS:-} $!"
  touch "$dir/proxy-$name.log"
  wait_for_file "$dir/proxy-$name.port"
  printf -v "REG_$name" '%s' "127.0.0.1:$(cat "$dir/proxy-$name.port")"
  export "REG_$name"
}

registry_teardown() {
  local p
  for p in ${REG_PIDS:-}; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  REG_PIDS=
}

# skopeo against the test registries (plain http).
skopeo_() {
  skopeo --insecure-policy "$@"
}

# Put the busybox image into the registry as REF (host/path:tag) with skopeo.
seed_busybox() {
  bootstrap_busybox
  berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox:latest
  skopeo_ copy -q --dest-tls-verify=false "docker-archive:$BATS_TEST_TMPDIR/bb.tar" "docker://$1"
}

# Blob and layer files of the test's store (to prove nothing was committed).
store_content() {
  (cd "$TEST_ROOT" && find blobs layers -mindepth 2 -maxdepth 2 ! -name '.*' 2>/dev/null | sort)
}

# The blob file of DIGEST in a registry's storage.
registry_blob_file() {
  local hex=${2#sha256:}
  echo "$BATS_TEST_TMPDIR/reg-$1/storage/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}

# An OCI layout in DIR holding, under the tag "latest", an index of the
# busybox image for linux/amd64 and the same layers with a config that says
# linux/arm64/v8.
make_multiarch_layout() {
  local dir=$1
  bootstrap_busybox
  berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox:latest
  skopeo_ copy -q "docker-archive:$BATS_TEST_TMPDIR/bb.tar" "oci:$dir:single"
  "$PYTHON" - "$dir" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
def put(obj):
    b = json.dumps(obj, separators=(",", ":")).encode()
    h = hashlib.sha256(b).hexdigest()
    open(os.path.join(d, "blobs", "sha256", h), "wb").write(b)
    return "sha256:" + h, len(b)
def get(digest):
    return json.load(open(os.path.join(d, "blobs", "sha256", digest[7:])))
idx = json.load(open(os.path.join(d, "index.json")))
m1 = idx["manifests"][0]
man = get(m1["digest"])
cfg = get(man["config"]["digest"])
cfg["architecture"], cfg["variant"] = "arm64", "v8"
cdig, csize = put(cfg)
man2 = dict(man, config=dict(man["config"], digest=cdig, size=csize))
mdig, msize = put(man2)
ents = [dict(mediaType=man.get("mediaType", "application/vnd.oci.image.manifest.v1+json"), digest=m1["digest"],
             size=m1["size"], platform={"os": "linux", "architecture": "amd64"}),
        dict(mediaType=man.get("mediaType", "application/vnd.oci.image.manifest.v1+json"), digest=mdig, size=msize,
             platform={"os": "linux", "architecture": "arm64", "variant": "v8"})]
ldig, lsize = put({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": ents})
idx["manifests"] = [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": ldig, "size": lsize,
                     "annotations": {"org.opencontainers.image.ref.name": "latest"}}]
json.dump(idx, open(os.path.join(d, "index.json"), "w"))
print(cdig)
PY
}

# The image id (config digest) skopeo sees for REF in a test registry.
skopeo_image_id() {
  echo "sha256:$(skopeo_ inspect --config --raw --tls-verify=false "docker://$1" | sha256sum | cut -d' ' -f1)"
}
