#!/usr/bin/env bats
# berth build with real builds from the busybox image (no network inside
# RUN): docker's classic builder's steps and output, the cache, multi-stage
# builds, COPY/ADD rules, here-documents and the errors.

load helpers

setup() {
  container_setup
  bootstrap_busybox
  C=$BATS_TEST_TMPDIR/ctx
  mkdir -p "$C/sub"
  echo hello >"$C/hello.txt"
  echo inner >"$C/sub/inner"
}

teardown() {
  # the registry of the pull test, when it failed before stopping it
  if declare -F registry_teardown >/dev/null; then registry_teardown; fi
  container_teardown
}

dockerfile() { cat >"$C/Dockerfile"; }

@test "build: the classic builder's steps; the image runs with what the Dockerfile made" {
  dockerfile <<'DF'
# a comment
FROM busybox
ARG GREETING=hi
ENV APP=/app \
    MODE=test
WORKDIR $APP
COPY hello.txt .
COPY sub /app/sub/
RUN echo "$GREETING $MODE from $(pwd)" > out.txt && cat out.txt hello.txt sub/inner
EXPOSE 8080/tcp
LABEL version=1 "with space"="a b"
USER 1000:1000
ENTRYPOINT ["cat"]
CMD ["/app/out.txt"]
DF
  run berth build -t myimg:1 -t myimg:latest "$C"
  assert_success
  assert_line --index 0 "Step 1/12 : FROM busybox"
  assert_line --index 1 " ---> ${BUSYBOX_ID:7:12}"
  assert_line "Step 7/12 : RUN echo \"\$GREETING \$MODE from \$(pwd)\" > out.txt && cat out.txt hello.txt sub/inner"
  assert_line "hi test from /app"
  assert_line --regexp '^ ---> Running in [0-9a-f]{12}$'
  assert_line --regexp '^Removing intermediate container [0-9a-f]{12}$'
  assert_line --regexp '^Successfully built [0-9a-f]{12}$'
  assert_line "Successfully tagged myimg:1"
  assert_line "Successfully tagged myimg:latest"
  run berth run --rm myimg:1
  assert_success
  assert_output "hi test from /app"
  run berth image inspect -f '{{.Config.WorkingDir}} {{.Config.User}} {{json .Config.Entrypoint}} {{json .Config.ExposedPorts}} {{index .Config.Labels "with space"}}' myimg:1
  assert_output '/app 1000:1000 ["cat"] {"8080/tcp":{}} a b'
  run berth run --rm --entrypoint sh myimg:1 -c 'stat -c "%u:%g %a" /app/hello.txt /app/sub/inner; echo $APP $GREETING.'
  assert_output "0:0 644
0:0 644
/app ."
  # the intermediate images are hidden, as docker's are: busybox and two tags
  run berth images -q
  assert_equal "${#lines[@]}" 3
  run berth images -aq
  [ "${#lines[@]}" -gt 5 ]
  # one history line for each step
  base=$(berth history -q busybox | wc -l)
  run berth history -q myimg:1
  assert_equal "${#lines[@]}" $((base + 11))
}

@test "build: a rebuild is all cache; a changed source, build arg or --no-cache rebuilds from there on" {
  dockerfile <<'DF'
FROM busybox
ARG V=1
RUN echo "run $V"
COPY hello.txt /h
RUN cat /h
DF
  run berth build -q "$C"
  assert_success
  first=$output
  run berth build "$C"
  assert_success
  assert_equal "$(grep -c 'Using cache' <<<"$output")" 4
  refute_line "run 1"
  assert_line "Successfully built ${first:7:12}"
  # a changed source: the COPY and what follows run again
  echo changed >"$C/hello.txt"
  run berth build "$C"
  assert_equal "$(grep -c 'Using cache' <<<"$output")" 2
  assert_line changed
  # a build arg the RUN sees
  run berth build --build-arg V=2 "$C"
  assert_line "run 2"
  # an unused build arg is docker's warning
  run berth build --build-arg NOPE=1 "$C"
  assert_line "[Warning] One or more build-args [NOPE] were not consumed"
  run berth build --no-cache "$C"
  refute_line " ---> Using cache"
  assert_line "run 1"
}

@test "build: a failing RUN stops the build with its exit code and tags nothing" {
  printf 'FROM busybox\nRUN echo before; exit 3\nRUN echo never\n' | dockerfile
  run --separate-stderr berth build -t broken "$C"
  assert_failure 1
  assert_equal "$stderr" "The command '/bin/sh -c echo before; exit 3' returned a non-zero code: 3"
  assert_line before
  refute_line never
  run berth images -q broken
  assert_output ""
  run berth ps -aq
  assert_output ""
}

@test "build: multi-stage with COPY --from, --target builds only what it needs" {
  dockerfile <<'DF'
FROM busybox AS base
RUN echo base > /base

FROM base AS unused
RUN echo never-built

FROM busybox AS final
COPY --from=base /base /copied
COPY --from=0 /base /by-index
RUN cat /copied /by-index
DF
  run berth build -t ms "$C"
  assert_success
  refute_line never-built
  assert_line "Step 1/6 : FROM busybox AS base"
  run berth run --rm ms cat /copied
  assert_output base
  run berth build --target unused -t ms-unused "$C"
  assert_success
  assert_line never-built
  run berth build --target nosuch "$C"
  assert_failure 1
  assert_output 'target stage "nosuch" could not be found'
}

@test "build: here-documents for RUN (alone, or as a command's input) and COPY, expanded unless quoted" {
  dockerfile <<'DF'
FROM busybox
ENV WHO=world
RUN <<EOF
echo "hello $WHO" > /greeting
EOF
COPY <<-A <<"B" /docs/
	expanded $WHO
	A
literal $WHO
B
RUN cat > /piped <<-EOF && tr a-z A-Z <<'SHOUT' >> /piped
	tabs cut, $WHO expanded by the shell
	EOF
not $WHO
SHOUT
DF
  run berth build -t heredoc "$C"
  assert_success
  run berth run --rm heredoc sh -c 'cat /greeting /docs/A /docs/B /piped'
  assert_output "hello world
expanded world
literal \$WHO
tabs cut, world expanded by the shell
NOT \$WHO"
}

@test "build: ADD unpacks a local tarball, COPY --chown and --chmod, wildcards" {
  mkdir -p "$BATS_TEST_TMPDIR/t/dir" && echo packed >"$BATS_TEST_TMPDIR/t/dir/f"
  tar -C "$BATS_TEST_TMPDIR/t" -czf "$C/files.tar.gz" dir
  echo a >"$C/a.conf" && echo b >"$C/b.conf"
  dockerfile <<'DF'
FROM busybox
ADD files.tar.gz /unpacked/
COPY --chown=1000:100 --chmod=600 hello.txt /owned
COPY --chown=nobody hello.txt /by-name
COPY --chown=root:nogroup hello.txt /by-group
COPY *.conf /conf/
DF
  mkdir -p "$BATS_TEST_TMPDIR/www" && echo fetched >"$BATS_TEST_TMPDIR/www/remote.txt"
  port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$BATS_TEST_TMPDIR/www" "$port" >/dev/null 2>&1 &
  server=$!
  for i in $(seq 50); do curl -fs "http://127.0.0.1:$port/remote.txt" >/dev/null && break; sleep 0.1; done
  echo "ADD http://127.0.0.1:$port/remote.txt /fetched/" >>"$C/Dockerfile"
  run berth build -t adds "$C"
  kill "$server"
  assert_success
  run berth run --rm adds sh -c 'cat /unpacked/dir/f; stat -c "%u:%g %a" /owned /by-name /by-group; ls /conf; cat /fetched/remote.txt'
  assert_output "packed
1000:100 600
65534:65534 644
0:65534 644
a.conf
b.conf
fetched"
}

@test "build: the context is never left: ../ sources are refused, links are copied as links (CVE-2020-10696)" {
  echo secret >"$BATS_TEST_TMPDIR/outside"
  ln -s "$BATS_TEST_TMPDIR/outside" "$C/link"
  printf 'FROM busybox\nCOPY ../outside /x\n' | dockerfile
  run berth build "$C"
  assert_failure 1
  assert_output --partial "forbidden path outside the build context: ../outside"
  # a link to outside resolves inside the context: there is nothing there
  printf 'FROM busybox\nCOPY link /x\n' | dockerfile
  run berth build "$C"
  assert_failure 1
  assert_output --partial "file not found in build context"
  # inside a copied directory a link stays a link
  ln -s "$BATS_TEST_TMPDIR/outside" "$C/sub/link"
  printf 'FROM busybox\nCOPY sub /s\n' | dockerfile
  run berth build -t links "$C"
  assert_success
  run berth run --rm links readlink /s/link
  assert_output "$BATS_TEST_TMPDIR/outside"
}

@test "build: Dockerfile errors name the line; bad instructions and options are refused" {
  check() { # DOCKERFILE-TEXT EXPECTED-ERROR
    printf '%b' "$1" | dockerfile
    run berth build -q "$C"
    assert_failure 1
    assert_output "$2"
  }
  check 'FROM busybox\n\nFOO bar\n' "dockerfile parse error on line 3: unknown instruction: FOO"
  check 'FROM busybox\nCOPY onlyone\n' \
    "COPY requires at least two arguments, but only one was provided. Destination could not be determined."
  check 'RUN echo\n' "dockerfile parse error on line 1: run before FROM"
  check 'FROM busybox AS 1bad\n' \
    "dockerfile parse error on line 1: invalid name for build stage: \"1bad\", name can't start with a number or contain symbols"
  check 'FROM busybox\nCOPY --bogus=1 a b\n' "unknown flag: bogus"
  check 'FROM busybox\nENV A\n' "ENV must have two arguments"
  check 'FROM busybox\nUSER ${U:?must be set}\n' "U: must be set"
  # a base image neither in the store nor in its registry (nothing listens there)
  printf 'FROM 127.0.0.1:1/nosuch\n' | dockerfile
  run berth build -q "$C"
  assert_failure 1
  assert_output --partial "127.0.0.1:1"
  run berth build -f nosuch "$C"
  assert_output "Cannot locate specified Dockerfile: nosuch"
  run berth build -t 'Bad:Tag' "$C"
  assert_failure 1
  run berth ps -aq
  assert_output ""
}

@test "build: a Dockerfile alone on stdin, a context as a tar on stdin, -f elsewhere, --iidfile, --label" {
  run bash -c "printf 'FROM busybox\nRUN echo from-stdin\n' | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' build -t s1 -"
  assert_success
  assert_line from-stdin
  printf 'FROM busybox\nCOPY hello.txt /\n' >"$C/Other.dockerfile"
  run bash -c "tar -C '$C' -c . | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' build -f Other.dockerfile -t s2 -"
  assert_success
  run berth run --rm s2 cat /hello.txt
  assert_output hello
  run berth build -f "$C/Other.dockerfile" --iidfile "$BATS_TEST_TMPDIR/iid" --label team=a -q "$C"
  assert_success
  assert_equal "$(cat "$BATS_TEST_TMPDIR/iid")" "$output"
  run berth image inspect -f '{{.Config.Labels.team}}' "$output"
  assert_output a
  # nothing of the stdin context is left in the store
  run ls -A "$TEST_ROOT"
  refute_output --partial staging
}

@test "build: .dockerignore leaves files out of COPY, with ** and ! exceptions; Dockerfile.dockerignore wins" {
  mkdir -p "$C/node_modules/pkg" "$C/src/deep" "$C/docs"
  echo m >"$C/node_modules/pkg/index.js"
  echo g >"$C/src/main.go" && echo g >"$C/src/deep/x.go" && echo keep >"$C/src/deep/keep.txt"
  echo r >"$C/README.md" && echo c >"$C/CHANGES.md" && echo s >"$C/secret.key"
  printf '# ignore\nnode_modules\n**/*.go\n*.md\n!README.md\nsecret.key\n' >"$C/.dockerignore"
  printf 'FROM busybox\nCOPY . /ctx\nRUN cd /ctx && find . -type f | sort\n' | dockerfile
  run berth build -t ign "$C"
  assert_success
  assert_line ./README.md
  assert_line ./src/deep/keep.txt
  assert_line ./Dockerfile
  refute_line --partial node_modules
  refute_line --partial .go
  refute_line ./CHANGES.md
  refute_line ./secret.key
  # naming an ignored file is docker's error
  printf 'FROM busybox\nCOPY secret.key /\n' | dockerfile
  run berth build -q "$C"
  assert_failure 1
  assert_output --partial "excluded by .dockerignore"
  # a change to an ignored file does not bust the cache
  printf 'FROM busybox\nCOPY . /ctx\n' | dockerfile
  run berth build -q "$C"
  assert_success
  echo changed >"$C/secret.key"
  run berth build "$C"
  assert_line " ---> Using cache"
  # the Dockerfile's own ignore file is used instead of .dockerignore
  printf 'FROM busybox\nCOPY . /ctx\nRUN ls /ctx\n' >"$C/Other"
  printf 'src\n' >"$C/Other.dockerignore"
  run berth build -f Other -t ign2 "$C"
  assert_success
  refute_line src
  assert_line secret.key
}

@test "build: RUN --mount=type=bind|cache|tmpfs|secret and --network as BuildKit takes them" {
  echo s3cr3t >"$BATS_TEST_TMPDIR/token"
  dockerfile <<'DF'
FROM busybox
RUN --mount=type=bind,source=sub,target=/src cat /src/inner && ! touch /src/x 2>/dev/null
RUN --mount=type=cache,target=/cache,id=c1 sh -c 'echo run >> /cache/log; wc -l < /cache/log'
RUN --mount=type=tmpfs,target=/scratch,size=1m sh -c 'grep " /scratch " /proc/mounts | grep -q tmpfs && echo tmpfs-ok'
RUN --mount=type=secret,id=token cat /run/secrets/token
RUN --mount=type=secret,id=token,target=/t ls /run/secrets 2>&1; cat /t
RUN --network=none sh -c 'ls /sys/class/net'
RUN --mount=type=bind,from=busybox,source=/etc,target=/other-etc grep -c root /other-etc/passwd
DF
  run berth build --secret id=token,src="$BATS_TEST_TMPDIR/token" -t mounts "$C"
  assert_success
  assert_line inner
  assert_line 1
  assert_line tmpfs-ok
  assert_line s3cr3t
  assert_line lo
  assert_line 1
  run ls -A "$TEST_ROOT"
  refute_output --partial staging
  # nothing of the mounts stays in the image
  run berth run --rm mounts sh -c 'ls /src /cache /scratch /run/secrets 2>&1 | grep -c "No such file"'
  assert_output 4
  # the cache mount keeps its content for the next build that runs
  run berth build --no-cache --secret id=token,src="$BATS_TEST_TMPDIR/token" "$C"
  assert_line 2
  # a required secret that was not given
  printf 'FROM busybox\nRUN --mount=type=secret,id=nope,required=true true\n' | dockerfile
  run berth build -q "$C"
  assert_failure 1
  assert_output "secret nope not found"
}

@test "build: RUN --mount=type=ssh forwards an agent, secrets as env=, neither in the cache key" {
  make_probe_image probe
  local agent=$BATS_TEST_TMPDIR/agent.sock pid
  pid=$(ssh-agent -a "$agent" -s | sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p')
  ssh-keygen -q -t ed25519 -N '' -f "$BATS_TEST_TMPDIR/key"
  SSH_AUTH_SOCK=$agent ssh-add -q "$BATS_TEST_TMPDIR/key" 2>/dev/null
  printf 'tok3n' >"$BATS_TEST_TMPDIR/token"
  dockerfile <<'DF'
FROM probe
RUN --mount=type=ssh berth-probe ssh-agent-keys > /keys
RUN --mount=type=ssh,id=other,target=/run/other.sock sh -c 'test -S /run/other.sock && echo "$SSH_AUTH_SOCK" > /other'
RUN --mount=type=secret,id=token,env=TOKEN sh -c 'echo "$TOKEN" > /seen; test ! -e /run/secrets/token'
DF
  run env SSH_AUTH_SOCK="$agent" "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" build -q -t sshed \
    --ssh default --ssh "other=$agent" --secret id=token,src="$BATS_TEST_TMPDIR/token" "$C"
  assert_success
  run berth run --rm sshed sh -c 'cat /keys /other /seen; ls /run/buildkit 2>&1 | grep -c "No such file"'
  assert_output "1
/run/other.sock
tok3n
1"
  # another agent socket, and another secret's value: still the cached steps
  kill "$pid"
  pid=$(ssh-agent -a "$agent.2" -s | sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p')
  printf 'other' >"$BATS_TEST_TMPDIR/token"
  run env SSH_AUTH_SOCK="$agent.2" "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" build -t sshed2 \
    --ssh default --ssh "other=$agent.2" --secret id=token,src="$BATS_TEST_TMPDIR/token" "$C"
  assert_success
  assert_equal "$(grep -c 'Using cache' <<<"$output")" 3
  kill "$pid"
  # none forwarded: skipped, unless required; a key file is not an agent
  printf 'FROM busybox\nRUN --mount=type=ssh sh -c "echo \\${SSH_AUTH_SOCK:-none}"\n' | dockerfile
  run berth build "$C"
  assert_success
  assert_line none
  printf 'FROM busybox\nRUN --mount=type=ssh,required=true true\n' | dockerfile
  run berth build -q "$C"
  assert_failure 1
  assert_output --partial "no SSH key default forwarded from the client"
  run berth build -q --ssh "default=$BATS_TEST_TMPDIR/key" "$C"
  assert_failure 1
  assert_output --partial "is not an agent socket"
}

@test "build: ONBUILD triggers of the base image run first and are not passed on" {
  printf 'FROM busybox\nONBUILD RUN echo triggered > /t\nONBUILD COPY hello.txt /h\n' | dockerfile
  run berth build -t parent "$C"
  assert_success
  run berth image inspect -f '{{json .Config.OnBuild}}' parent
  assert_output '["RUN echo triggered > /t","COPY hello.txt /h"]'
  printf 'FROM parent\nRUN cat /t /h\n' | dockerfile
  run berth build -t child "$C"
  assert_success
  assert_line "# Executing 2 build triggers"
  assert_line triggered
  assert_line hello
  run berth image inspect -f '{{json .Config.OnBuild}}' child
  assert_output null
}

@test "build: builder prune removes the cache and the intermediate images, image prune the dangling ones" {
  printf 'FROM busybox\nENV A=1\nRUN echo one > /one\nCMD ["cat", "/one"]\n' | dockerfile
  run berth build -t keep "$C"
  assert_success
  before=$(berth images -aq | wc -l)
  run berth builder prune -f
  assert_success
  assert_line "Deleted Images:"
  assert_line --partial "Total reclaimed space:"
  # the tagged image and its layers stay, its intermediate steps go
  run berth images -aq
  assert_equal "${#lines[@]}" 2
  [ "$before" -gt 2 ]
  run berth run --rm keep
  assert_output one
  # nothing left to take from the cache
  run berth build "$C"
  refute_line " ---> Using cache"
  # a re-tag leaves the old image dangling, as docker does; image prune takes it
  printf 'FROM busybox\nENV A=2\n' | dockerfile
  run berth build -t keep "$C"
  run berth images -f dangling=true -q
  [ -n "$output" ]
  run berth image prune -f
  assert_success
  run berth images -f dangling=true -q
  assert_output ""
}

@test "build: a base image the store lacks is pulled from its registry, as with --pull" {
  load registry-helpers
  requires_registry
  requires skopeo
  registry_start A none
  seed_busybox "$REG_A/base/busybox:1"
  printf 'FROM %s/base/busybox:1\nRUN echo built-on-pulled\n' "$REG_A" | dockerfile
  run berth build -t pulled "$C"
  assert_success
  assert_line "1: Pulling from $REG_A/base/busybox"
  assert_line built-on-pulled
  run berth images --format '{{.Repository}}:{{.Tag}}'
  assert_line "$REG_A/base/busybox:1"
  run berth build --pull "$C"
  assert_success
  assert_line "1: Pulling from $REG_A/base/busybox"
}

@test "build: in a terminal, a compact view: a line a step, CACHED, a failing RUN's output shown" {
  printf 'FROM busybox\nRUN echo quiet-unless-failing\nCMD ["sh"]\n' | dockerfile
  run "$PYTHON" "$BERTH_SRC/tests/helpers/ptyrun.py" --timeout 60 -- \
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" build -t tty1 "$C"
  assert_success
  assert_line "ptyrun: exit 0"
  assert_line --regexp '=> \[2/3\] RUN echo quiet-unless-failing +[0-9.]+s$'
  refute_line quiet-unless-failing
  assert_line " => naming to docker.io/library/tty1:latest"
  run "$PYTHON" "$BERTH_SRC/tests/helpers/ptyrun.py" --timeout 60 -- \
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" build "$C"
  assert_line --regexp '=> CACHED \[2/3\] RUN'
  printf 'FROM busybox\nRUN echo shown-on-failure; exit 5\n' | dockerfile
  run "$PYTHON" "$BERTH_SRC/tests/helpers/ptyrun.py" --timeout 60 -- \
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" build "$C"
  assert_line --regexp 'exit 5 +[0-9.]+s ERROR$'
  assert_line shown-on-failure
  assert_line "ptyrun: exit 1"
  # --progress plain keeps the classic lines in a terminal
  run "$PYTHON" "$BERTH_SRC/tests/helpers/ptyrun.py" --timeout 60 -- \
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" build --progress plain "$C"
  assert_line "Step 2/2 : RUN echo shown-on-failure; exit 5"
}

@test "build: ARG scoping: before FROM only in FROM lines, imported by a bare ARG, per stage; the other instructions" {
  dockerfile <<'DF'
ARG BASE=busybox
ARG VERSION=1.0
FROM ${BASE} AS first
ARG VERSION
ARG LOCAL="only first"
RUN echo "first: version=$VERSION local=$LOCAL base=$BASE." > /first

FROM $BASE
COPY --from=first /first /first
RUN echo "second: version=$VERSION local=$LOCAL." > /second
SHELL ["/bin/sh", "-e", "-c"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s --retries=2 CMD ["true"]
VOLUME /data
MAINTAINER someone <someone@example.com>
USER nobody
DF
  run berth build --build-arg VERSION=2.0 -t scoped "$C"
  assert_success
  run berth run --rm scoped cat /first /second
  assert_output "first: version=2.0 local=only first base=.
second: version= local=."
  run berth image inspect -f '{{json .Config.Shell}} {{.Config.StopSignal}} {{.Config.Healthcheck.Retries}} {{json .Config.Volumes}} {{.Author}} {{.Config.User}}' scoped
  assert_output '["/bin/sh","-e","-c"] SIGINT 2 {"/data":{}} someone <someone@example.com> nobody'
  # a Dockerfile on stdin with a context folder
  run bash -c "printf 'FROM busybox\nCOPY hello.txt /\n' | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' build -f - -t fromstdin '$C'"
  assert_success
  run berth run --rm fromstdin cat /hello.txt
  assert_output hello
}

@test "build: FROM scratch with COPY, COPY --from an image, --link, build --network none" {
  cp "$(command -v busybox)" "$C/busybox"
  dockerfile <<'DF'
FROM scratch
COPY --link busybox /bin/busybox
COPY --from=busybox /etc/passwd /etc/passwd
CMD ["/bin/busybox", "cat", "/etc/passwd"]
DF
  run berth build -t fromscratch "$C"
  assert_success
  run berth run --rm fromscratch
  assert_success
  assert_line --partial "root:x:0:0"
  run berth image inspect -f '{{len .RootFS.Layers}}' fromscratch
  assert_output 2
  printf 'FROM busybox\nRUN ls /sys/class/net\n' | dockerfile
  run berth build --network none "$C"
  assert_success
  assert_line lo
  printf 'FROM scratch\nRUN true\n' | dockerfile
  run berth build -q "$C"
  assert_failure 1
  assert_output "RUN: the stage has no filesystem (FROM scratch) to run a command in"
}

@test "build: CVE-2024-24557: an image the build did not make is never a cache hit" {
  # an image made by commit over busybox with exactly the config a step makes
  run berth run --name maker busybox true
  run berth commit -c 'ENV A=1' maker lookalike
  assert_success
  printf 'FROM busybox\nENV A=1\n' | dockerfile
  run berth build "$C"
  assert_success
  refute_line " ---> Using cache"
  # and a cache entry whose image is gone is not used either
  run berth build -q "$C"
  id=$output
  run berth rmi -f "$id"
  run berth build "$C"
  refute_line " ---> Using cache"
}
