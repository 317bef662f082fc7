#!/usr/bin/env bash
# bench/cp.sh [BUILD]: `cp` of a 1 GB tree (BENCH_CP_MB) into and out of a
# container: berth cp against podman cp, with `tar -c | tar -x` between two
# directories of the same tmpfs as the floor.
#
# The tree is generated once: half of it in 8 big files, half in many 16 kB
# files under 100 directories (random bytes, so nothing is sparse).  Each
# engine gets a stopped container of the same one-file image, and the tree
# copied into it once (untimed) as the source of the "out" rows.  "in" copies
# the host tree to /dst of the container, "out" its /src to a host directory;
# before each run (untimed) the destination is removed: on the host, or in
# the container's upper directory (the container is stopped, so nothing
# has it mounted).  Everything is on one tmpfs.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
if [ -n "${1:-}" ]; then BERTH=$(realpath -ms "$1/berth"); fi
export BERTH
bench_init "$@"

MB=${BENCH_CP_MB:-1024}
RUNS=${BENCH_CP_RUNS:-5}

log "cp: generating a $MB MB tree"
/usr/bin/python3 - "$T/in/tree" "$MB" <<'PY'
import os, sys
root, mb = sys.argv[1], int(sys.argv[2])
half = mb * (1 << 20) // 2
rand = os.urandom(1 << 20)
big = 8
os.makedirs(root + "/big")
for i in range(big):
    with open("%s/big/file%d" % (root, i), "wb") as f:
        left = half // big
        while left > 0:
            f.write(rand[:min(left, len(rand))])
            left -= len(rand)
small = 16384
for i in range(half // small):
    d = "%s/small/d%02d" % (root, i % 100)
    if i < 100:
        os.makedirs(d)
    with open("%s/f%06d" % (d, i), "wb") as f:
        off = (i * 977) % (len(rand) - small)
        f.write(rand[off:off + small])
PY
FILES=$(find "$T/in/tree" -type f | wc -l)

# A one-file root filesystem for the images.
mkdir -p "$T/in/rootfs"
echo bench >"$T/in/rootfs/hello"
tar -C "$T/in/rootfs" -cf "$T/in/rootfs.tar" .

ENGINES=()
if have_berth; then
  berth_reset
  quiet berth import "$T/in/rootfs.tar" bench-cp:latest
  quiet berth create --name cpb bench-cp:latest /hello
  quiet berth cp "$T/in/tree" cpb:/src
  BERTH_UPPER=$T/berth/containers/$(berth inspect -f '{{.Id}}' cpb)/upper
  ENGINES+=(berth)
fi
if have podman; then
  pod_reset
  quiet pod import "$T/in/rootfs.tar" bench-cp:latest
  quiet pod create --name cpp bench-cp:latest /hello
  quiet pod cp "$T/in/tree" cpp:/src
  POD_UPPER=$(pod inspect -f '{{.GraphDriver.Data.UpperDir}}' cpp)
  ENGINES+=(podman)
fi

# the floor: the same bytes through tar, between two directories of the tmpfs
tar_copy() { tar -C "$1" -c "$2" | tar -C "$3" -x; }

bench_add in tar "rm -rf $T/out-tar; mkdir $T/out-tar" "tar_copy $T/in tree $T/out-tar" "$RUNS"
for e in "${ENGINES[@]}"; do
  case $e in
  berth) bench_add in berth "rm -rf $BERTH_UPPER/dst" "berth cp $T/in/tree cpb:/dst" "$RUNS" ;;
  podman) bench_add in podman "rm -rf $POD_UPPER/dst" "pod cp $T/in/tree cpp:/dst" "$RUNS" ;;
  esac
done
bench_run
rm -rf "$T/out-tar" "${BERTH_UPPER:-/nonexistent}/dst" "${POD_UPPER:-/nonexistent}/dst"

bench_add out tar "rm -rf $T/out-tar; mkdir $T/out-tar" "tar_copy $T/in tree $T/out-tar" "$RUNS"
for e in "${ENGINES[@]}"; do
  case $e in
  berth) bench_add out berth "rm -rf $T/out-berth" "berth cp cpb:/src $T/out-berth" "$RUNS" ;;
  podman) bench_add out podman "rm -rf $T/out-podman" "pod cp cpp:/src $T/out-podman" "$RUNS" ;;
  esac
done
bench_run

{
  echo "A generated tree of $MB MB: $FILES files (8 big files holding half of it,"
  echo "16 kB files under 100 directories the other half).  Stopped containers of a"
  echo "one-file image; the \"out\" source is the tree copied into them beforehand."
  echo "The floor is \`tar -c | tar -x\` of the same tree between two directories of"
  echo "the tmpfs.  Target: berth within 1.3x of it."
  echo
  echo "### into a container"
  echo
  bench_table in
  echo
  echo "### out of a container"
  echo
  bench_table out
  echo
  echo "#### Commands"
  echo
  bench_commands in
  bench_commands out
  echo
  bench_functions berth pod tar_copy
  echo
} >"$T/report.md"
cat "$T/report.md"
if [ -n "${BENCH_REPORT:-}" ]; then cp "$T/report.md" "$BENCH_REPORT"; fi
