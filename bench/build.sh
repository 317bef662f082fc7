#!/usr/bin/env bash
# bench/build.sh [BUILD]: `build` of the same contexts side by side: berth,
# podman build, buildah bud, docker's classic builder and BuildKit (where
# dockerd runs here).  A 3-step and a 20-step Dockerfile on busybox, each
# cold (--no-cache), fully cached, and rebuilt after one COPY source changed
# (the file changes before every timed run: the steps after it run again).
# Every RUN runs with --network none.  Targets (issue 9): a fully cached
# rebuild under 50 ms, a cold build faster than buildah's.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_containers "$@"
RUNS=${BENCH_BUILD_RUNS:-7}

log "build: busybox image and two contexts"
quiet berth image bootstrap busybox
berth save busybox >"$T/in/busybox.tar"
mk_context() { # DIR STEPS
  local dir=$1 n=$2 i
  mkdir -p "$dir"
  echo data >"$dir/data.txt"
  echo changing >"$dir/changing.txt"
  {
    echo "FROM busybox"
    if [ "$n" -eq 3 ]; then
      echo "COPY changing.txt /changing.txt"
      echo "RUN cat /changing.txt > /out"
    else
      for i in $(seq 1 18); do
        case $((i % 3)) in
        0) echo "ENV V$i=$i" ;;
        1) echo "RUN echo $i > /f$i" ;;
        2) echo "COPY data.txt /d$i" ;;
        esac
      done
      echo "COPY changing.txt /changing.txt"
    fi
  } >"$dir/Dockerfile"
}
mk_context "$T/in/ctx3" 3
mk_context "$T/in/ctx20" 20
# the changing source gets new content before every timed run
bump() { date +%s%N >"$1/changing.txt"; }

bah() {
  buildah --root "$T/podman" --runroot "$T/podman-run" --storage-driver overlay "$@"
}

ENGINES=(berth)
have podman && { quiet pod load -i "$T/in/busybox.tar"; ENGINES+=(podman); }
have buildah && have podman && ENGINES+=(buildah)
if have dockerd; then
  docker_start
  quiet dock load -i "$T/in/busybox.tar"
  ENGINES+=(docker-classic docker-buildkit)
fi

build_cmd() { # ENGINE CONTEXT [EXTRA]
  local e=$1 ctx=$2 extra=${3:-}
  case $e in
  berth) echo "berth build -q --network none $extra -t b:latest $ctx" ;;
  podman) echo "pod build -q --network none $POD_LIMITS $extra -t b:latest $ctx" ;;
  buildah) echo "bah bud -q --network none $POD_LIMITS $extra -t b:latest $ctx" ;;
  docker-classic) echo "DOCKER_BUILDKIT=0 dock build -q --network none $extra -t b:latest $ctx" ;;
  docker-buildkit) echo "DOCKER_BUILDKIT=1 dock build -q --network none $extra -t b:latest $ctx" ;;
  esac
}

for n in 3 20; do
  ctx=$T/in/ctx$n
  for e in "${ENGINES[@]}"; do
    bench_add "cold$n" "$e" "bump $ctx" "$(build_cmd "$e" "$ctx" --no-cache)" "$RUNS"
  done
  bench_run
  for e in "${ENGINES[@]}"; do
    bench_add "cached$n" "$e" : "$(build_cmd "$e" "$ctx")" "$RUNS"
  done
  bench_run
  for e in "${ENGINES[@]}"; do
    bench_add "changed$n" "$e" "bump $ctx" "$(build_cmd "$e" "$ctx")" "$RUNS"
  done
  bench_run
done

{
  echo "A 3-step Dockerfile (FROM busybox, COPY a file, RUN cat it) and a"
  echo "20-step one (18 ENV, RUN and COPY steps, then COPY of the file that"
  echo "changes).  Every RUN with --network none; each engine's store holds"
  echo "busybox beforehand."
  for n in 3 20; do
    echo
    echo "### $n steps, cold (--no-cache)"
    echo
    bench_table "cold$n"
    echo
    echo "### $n steps, fully cached"
    echo
    bench_table "cached$n"
    echo
    echo "### $n steps, one COPY source changed"
    echo
    bench_table "changed$n"
  done
  echo
  echo "#### Commands"
  echo
  bench_commands cold3
  bench_commands cached3
  echo
  bench_functions berth pod bah dock bump
  echo
} >"$T/report.md"
cat "$T/report.md"
if [ -n "${BENCH_REPORT:-}" ]; then cp "$T/report.md" "$BENCH_REPORT"; fi
