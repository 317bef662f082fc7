#!/usr/bin/env bash
# bench/images-list.sh [BUILD]: `images` with 1000 images in the store, berth
# against podman and docker.
#
# The 1000 images are distinct: each has its own one-file layer and its own
# config (label n=N).  (Sharing one layer would be cheaper to make, but podman
# compares the history of every pair of images with the same top layer when
# it lists them: quadratic, minutes for 1000, not what a real store shows.)  They are written once, by bench/mkarchive, as
# one docker-archive holding all 1000, which each engine loads with its own
# `load` (untimed), so every store holds the same images with the same tags.
# Then the median wall time of `images` and of `images -q` (BENCH_LIST_RUNS
# runs each, after BENCH_WARMUP untimed ones).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
if [ -n "${1:-}" ]; then BERTH=$(realpath -ms "$1/berth"); fi
export BERTH
bench_init "$@"

N=${BENCH_IMAGES:-1000}
RUNS=${BENCH_LIST_RUNS:-21}

log "images-list: $N images in one docker-archive"
"$BENCH_LIB_DIR/mkarchive" "$T/in/many.tar" bench/many "$N"

count_is() {
  local got
  got=$("${@:2}" | sort -u | wc -l)
  [ "$got" -eq "$1" ] || die "$2: expected $1 images, listed $got"
}

ENGINES=()
LOADS=""
# load_many ENGINE FUNC: load the archive, timed once for the record, the
# milliseconds in $T/load-ENGINE.ms.
load_many() {
  local t0
  t0=$(now_us)
  quiet "$2" load -i "$T/in/many.tar"
  echo $((($(now_us) - t0) / 1000)) >"$T/load-$1.ms"
}
# loaded ENGINE FUNC: check that all N images are listed, note the load time.
loaded() {
  local ms
  ms=$(cat "$T/load-$1.ms")
  log "$1 load of $N images: $ms ms"
  LOADS="${LOADS:+$LOADS, }$1 $((ms / 1000)).$(printf %03d $((ms % 1000))) s"
  count_is "$N" "$2" images -q --no-trunc
  ENGINES+=("$1")
}
if have_berth; then
  berth_reset
  load_many berth berth
  loaded berth berth
else
  log "no berth binary at $BERTH: berth rows skipped"
fi
# podman and docker take minutes to load 1000 images: side by side.
pids=()
if have podman; then
  pod_reset
  load_many podman pod &
  pids+=($!)
fi
if have dockerd; then
  docker_start
  load_many docker dock &
  pids+=($!)
fi
for p in "${pids[@]}"; do wait "$p" || die "a load failed"; done
if have podman; then loaded podman pod; fi
if have dockerd; then loaded docker dock; fi

# podman 4.3 takes ~20 s a listing here (see below): fewer runs, no warmup.
SLOW=${BENCH_SLOW_RUNS:-3}
list_rows() { # CASE ARGS
  local e
  for e in "${ENGINES[@]}"; do
    case $e in
    berth) bench_add "$1" berth : "berth images$2" "$RUNS" ;;
    podman) bench_add "$1" podman : "pod images$2" "$SLOW" 0 ;;
    docker) bench_add "$1" docker : "dock images$2" "$RUNS" ;;
    esac
  done
  bench_run
}
list_rows images ""
list_rows images-q " -q"

{
  echo "$N distinct images (each its own one-file layer and config), written once by"
  echo "bench/mkarchive as one docker-archive and loaded (untimed) by each engine's own"
  echo "\`load\`.  Load times, for the record: $LOADS (podman and docker loading side"
  echo "by side, so theirs only indicative)."
  echo
  echo "### images: $N images"
  echo
  bench_table images
  echo
  echo "### images -q: $N images"
  echo
  bench_table images-q
  echo
  echo "#### Commands"
  echo
  bench_commands images
  bench_commands images-q
  echo
  bench_functions berth pod dock
  echo
} >"$T/report.md"
cat "$T/report.md"
if [ -n "${BENCH_REPORT:-}" ]; then cp "$T/report.md" "$BENCH_REPORT"; fi
