#!/usr/bin/env bats
# security.md part E: Dockerfile builds.  RUN --mount escapes (a stage bind
# source of ../.., a cache id with ../, injected mount options, writes to a
# writable bind, mount targets and stubs through symlinks, a cache raced by
# a parallel build), context escapes, and a git URL ref taken as an option.
# VICTIM: a host directory the build must leave as it was.

load helpers

ITER=${BERTH_RACE_ITERATIONS:-200}

setup() {
  container_setup
  bootstrap_busybox
  C=$BATS_TEST_TMPDIR/ctx
  mkdir -p "$C"
  echo hello >"$C/hello.txt"
  make_victim
  mkdir "$VICTIM/sub"
  STATE=$(tree_state "$VICTIM")
}

teardown() {
  [ -z "${HTTP_PID:-}" ] || kill "$HTTP_PID" 2>/dev/null || true
  rm -f "/BREAKOUT-$$"
  container_teardown
}

dockerfile() { cat >"$C/Dockerfile"; }

@test "CVE-2024-1753: RUN --mount=type=bind,from=STAGE,source=/../../..,rw is the stage's root, never the host's" {
  dockerfile <<DF
FROM busybox AS base
RUN echo base > /in-base
FROM busybox
RUN --mount=type=bind,from=base,source=/../../..,target=/x,rw touch /x/BREAKOUT-$$ && cat /x/in-base
DF
  run berth build -t b1 "$C"
  assert_success
  assert_line base
  assert [ ! -e "/BREAKOUT-$$" ]
  # the write went to a copy that is gone with the step
  run berth run --rm b1 ls /x /BREAKOUT-$$
  assert_failure
  run find "$TEST_ROOT" -name "BREAKOUT-$$"
  assert_output ""
}

@test "CVE-2024-9675: a cache id with ../ names a cache of the store, never a host path" {
  local rel=../../../../../../../../..$VICTIM/cachedir
  printf 'FROM busybox\nRUN --mount=type=cache,id=%s,target=/c touch /c/made\n' "$rel" | dockerfile
  run berth build -q "$C"
  assert_success
  assert_same_state "$STATE" "$(tree_state "$VICTIM")"
  run find "$TEST_ROOT/build-cache-mounts" -name made
  assert_output --regexp "^$TEST_ROOT/build-cache-mounts/[0-9a-f]+/made$"
}

@test "CVE-2024-9407: unknown --mount keys (bind-propagation, options) are refused, as BuildKit does" {
  local opt
  for opt in bind-propagation=shared 'bind-propagation=rshared' 'options=rbind' 'foo'; do
    printf 'FROM busybox\nRUN --mount=type=bind,target=/c,%s true\n' "$opt" | dockerfile
    run berth build -q "$C"
    assert_failure 1
    assert_output "unexpected key '${opt%%=*}' in '$opt'"
  done
  printf 'FROM busybox\nRUN --mount=type=bind,target=/c,source true\n' | dockerfile
  run berth build -q "$C"
  assert_failure 1
  assert_output "invalid field 'source' must be a key=value pair"
  run berth ps -aq
  assert_output ""
}

@test "CVE-2025-4953: writes to a writable bind of the context are discarded, the context is unchanged" {
  cp -a "$VICTIM/." "$C/"
  dockerfile <<'DF'
FROM busybox
RUN --mount=type=bind,target=/c,rw sh -c 'echo changed > /c/hello; rm -r /c/sub; touch /c/new; cat /c/hello'
RUN --mount=type=bind,source=hello,target=/f,rw sh -c 'echo again > /f; cat /f'
RUN --mount=type=bind,target=/c sh -c 'cat /c/hello; touch /c/ro 2>/dev/null || echo read-only'
DF
  local before
  before=$(tree_state "$C")
  run berth build "$C"
  assert_success
  assert_line changed
  assert_line again
  assert_line "host data"
  assert_line read-only
  assert_same_state "$before" "$(tree_state "$C")"
  # the copies are gone with their steps
  run ls -A "$TEST_ROOT"
  refute_output --partial staging
}

@test "CVE-2024-23652: mount targets and their stubs through symlinks never reach the host" {
  # a target beneath a link to a host directory and to /etc
  dockerfile <<DF
FROM busybox
RUN ln -s $VICTIM /x && ln -s /etc /e
RUN --mount=type=tmpfs,target=/x/t --mount=type=bind,target=/e/ctx touch /x/t/new
DF
  run berth build -q "$C"
  assert_same_state "$STATE" "$(tree_state "$VICTIM")"
  assert [ ! -e /etc/ctx ]
  # a stub's parent moved away and replaced by a link to the host while the
  # step runs: removing the stub afterwards never follows the link
  dockerfile <<DF
FROM busybox
RUN --mount=type=tmpfs,target=/stub/sub sh -c 'mv /stub /moved && ln -s $VICTIM /stub'
DF
  run berth build -t stubbed "$C"
  assert_same_state "$STATE" "$(tree_state "$VICTIM")"
  run berth ps -aq
  assert_output ""
}

@test "CVE-2024-23651, CVE-2024-11218: a cache swapped by a parallel build never gets mounts or stubs outside the root ($ITER builds)" {
  make_probe_image probe
  local victim_mounts before
  before=$(awk -v v="$VICTIM" 'index($5, v) == 1' /proc/self/mountinfo)
  mkdir "$BATS_TEST_TMPDIR/swapctx"
  cat >"$BATS_TEST_TMPDIR/swapctx/Dockerfile" <<DF
FROM probe
RUN --mount=type=cache,id=shared,target=/c sh -c 'rm -rf /c/*; mkdir /c/d; ln -s $VICTIM /c/l; berth-probe swap /c/d /c/l & p=\$!; touch /c/ready; while [ ! -e /c/stop ] && [ ! -e /c/l/stop ] && [ ! -e /c/d/stop ]; do sleep 0.1; done; kill \$p'
DF
  berth build --no-cache -q "$BATS_TEST_TMPDIR/swapctx" >"$BATS_TEST_TMPDIR/swapper.log" 2>&1 &
  local swapper=$! i cache=""
  for i in $(seq 300); do
    cache=$(dirname "$(find "$TEST_ROOT/build-cache-mounts" -maxdepth 2 -name ready 2>/dev/null | head -1)")
    [ "$cache" != . ] && break
    sleep 0.1
  done
  [ "$cache" != . ] || fail "the swapping build never started: $(cat "$BATS_TEST_TMPDIR/swapper.log")"
  printf 'FROM probe\nRUN --mount=type=cache,id=shared,target=/c --mount=type=tmpfs,target=/c/d/t --mount=type=bind,target=/c/d/new/sub true\n' | dockerfile
  local ok=0
  for i in $(seq "$ITER"); do
    ! berth build --no-cache -q "$C" >/dev/null 2>&1 || ok=$((ok + 1))
  done
  echo "built $ok of $ITER" >&3
  touch "$cache/stop"
  wait "$swapper" || true
  victim_mounts=$(awk -v v="$VICTIM" 'index($5, v) == 1' /proc/self/mountinfo)
  assert_equal "$victim_mounts" "$before"
  assert_same_state "$STATE" "$(tree_state "$VICTIM")"
}

@test "CVE-2020-10696: context links are copied as links, ../ sources refused, ADD URL names come from the URL" {
  mkdir "$C/sub"
  ln -s /etc/shadow "$C/sub/a"
  ln -s ../../.. "$C/sub/b"
  ln -s /etc/shadow "$C/a"
  # named, a link resolves inside the context (docker's rule): nothing there
  printf 'FROM busybox\nCOPY a /x/\n' | dockerfile
  run berth build -q "$C"
  assert_failure 1
  assert_output --partial "file not found in build context"
  # inside a copied directory, links are links
  printf 'FROM busybox\nCOPY sub /x/\n' | dockerfile
  run berth build -t links "$C"
  assert_success
  run berth run --rm links sh -c 'readlink /x/a; readlink /x/b; ls /x | wc -l'
  assert_output $'/etc/shadow\n../../..\n2'
  printf 'FROM busybox\nCOPY ../x /x\n' | dockerfile
  run berth build -q "$C"
  assert_failure 1
  assert_output --partial "forbidden path outside the build context"
  # a remote file whose Content-Disposition points out: named after the URL
  mkdir "$BATS_TEST_TMPDIR/www"
  echo served >"$BATS_TEST_TMPDIR/www/payload"
  "$PYTHON" - "$BATS_TEST_TMPDIR/www" "$BATS_TEST_TMPDIR/port" <<'PY' &
import http.server, os, sys
os.chdir(sys.argv[1])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = open("payload", "rb").read()
        self.send_response(200)
        self.send_header("Content-Disposition", 'attachment; filename="../../../x-evil"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[2] + ".tmp", "w").write(str(s.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
s.serve_forever()
PY
  HTTP_PID=$!
  local i
  for i in $(seq 100); do [ -s "$BATS_TEST_TMPDIR/port" ] && break; sleep 0.1; done
  local url=http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")
  printf 'FROM busybox\nADD %s/files/got /dst/\n' "$url" | dockerfile
  run berth build -t added "$C"
  assert_success
  run berth run --rm added sh -c "cat /dst/got; ls /dst; ls / | grep -c evil"
  assert_line --index 0 served
  assert_line --index 1 got
  assert_line --index 2 0
}

@test "CVE-2019-13139: a git URL whose ref is an option never reaches git" {
  mkdir "$BATS_TEST_TMPDIR/bin"
  printf '#!/bin/sh\necho "$@" >> %s/git.log\n' "$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/bin/git"
  chmod +x "$BATS_TEST_TMPDIR/bin/git"
  local url
  for url in "https://127.0.0.1:1/r.git#--upload-pack=touch $BATS_TEST_TMPDIR/pwn:" \
             "git@127.0.0.1:r.git#--upload-pack=touch $BATS_TEST_TMPDIR/pwn" \
             "git://127.0.0.1:1/r#-uhelp"; do
    PATH=$BATS_TEST_TMPDIR/bin:$PATH run berth build "$url"
    assert_failure
    assert [ ! -e "$BATS_TEST_TMPDIR/pwn" ]
  done
  # berth builds no git URL yet, so git never runs; a git context must
  # put the ref after "--" and refuse refs starting with "-"
  assert [ ! -e "$BATS_TEST_TMPDIR/git.log" ]
}

@test "CVE-2014-6407, CVE-2014-9356, CVE-2021-32760, CVE-2026-17106: ADD of tarforge's escaping tarballs never writes outside the image" {
  local name out=()
  for name in dotdot abs-dotdot bare-dotdot inner-dotdot sibling-prefix symlink-escape symlink-abs-escape \
              escape-absolute-chain hardlink-escape hardlink-abs-escape hardlink-through-symlink \
              whiteout-under-symlink opaque-under-symlink chmod-through-symlink hardlink-to-outward-symlink; do
    "$PYTHON" "$TARFORGE" "$name" "$C/evil.tar" --victim "$VICTIM"
    printf 'FROM busybox\nADD evil.tar /x/\n' | dockerfile
    run berth build -q "$C"
    out+=("$name: $status")
    assert_same_state "$STATE" "$(tree_state "$VICTIM")"
  done
  echo "${out[*]}" >&3
  # nothing climbed out of a layer or staging directory of the store
  run find "$TEST_ROOT" "$BATS_TEST_TMPDIR" -name victim -not -path "$VICTIM" -o -name dest-evil
  assert_output ""
}
