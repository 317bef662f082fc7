#!/usr/bin/env bash
# bench/import-load.sh [BUILD]: importing a ~200 MB root filesystem tarball
# of many files, and loading the same content as a docker-archive: berth
# against `tar -x` (the floor), podman, docker and umoci.
#
# The tarball is the first BENCH_ROOTFS_MB (200) MB of regular files of the
# host's /usr/share then /usr/lib, in path order, with their directories and
# symlinks: tens of thousands of small files, like a distribution image.  A
# .tar.gz of it and a one-image docker-archive of it (bench/mkarchive) are
# made next to it.  Everything is on the one tmpfs; each repetition of each
# engine starts from an empty store, and only the command itself is timed.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
if [ -n "${1:-}" ]; then BERTH=$(realpath -ms "$1/berth"); fi
export BERTH
bench_init "$@"

MB=${BENCH_ROOTFS_MB:-200}
# Runs of the engines that take several seconds a run.
SLOW=${BENCH_SLOW_RUNS:-3}
IN=$T/in

log "import-load: making a $MB MB rootfs tarball from /usr/share and /usr/lib"
LC_ALL=C find /usr/share /usr/lib -xdev \( -type f -o -type d -o -type l \) -printf '%y\t%s\t%P\t%H\n' |
  LC_ALL=C sort -t "$(printf '\t')" -k4,4r -k3,3 |
  awk -F'\t' -v max="$((MB * 1024 * 1024))" '
    { p = substr($4, 2) ($3 == "" ? "" : "/" $3) }
    done { next }
    $1 == "f" { if (s + $2 > max) { done = 1; next } s += $2 }
    { print p }' >"$IN/list"
tar -C / --no-recursion -cf "$IN/rootfs.tar" -T "$IN/list"
gzip -c "$IN/rootfs.tar" >"$IN/rootfs.tar.gz"
"$BENCH_LIB_DIR/mkarchive" "$IN/image.tar" bench/rootfs 1 "$IN/rootfs.tar"
ENTRIES=$(wc -l <"$IN/list")
FILES=$(tar -tvf "$IN/rootfs.tar" | grep -c '^[-h]')
TAR_MB=$(($(stat -c %s "$IN/rootfs.tar") / 1048576))
GZ_MB=$(($(stat -c %s "$IN/rootfs.tar.gz") / 1048576))
log "rootfs.tar: $TAR_MB MB, $ENTRIES entries ($FILES regular files); rootfs.tar.gz: $GZ_MB MB"

have_berth || log "no berth binary at $BERTH: berth rows skipped"
have dockerd && docker_start

X=$T/x
tar_reset() { rm -rf "$X" && mkdir "$X"; }
UMOCI=$T/umoci/layout
umoci_import() {
  umoci init --layout "$UMOCI" &&
    umoci new --image "$UMOCI:latest" &&
    umoci raw add-layer --image "$UMOCI:latest" "$1"
}
umoci_import_unpack() {
  umoci_import "$1" && umoci unpack --image "$UMOCI:latest" "$T/umoci/bundle"
}

# --- import of the plain tar ---------------------------------------------
bench_add import tar-x tar_reset "tar -xf $IN/rootfs.tar -C $X"
# Not an engine: one sha256 of the input (libcrypto, as berth uses), which
# every engine computes at least once on top of the extraction.
bench_add import "(sha256 of the tar)" : "openssl dgst -sha256 $IN/rootfs.tar"
have_berth && bench_add import berth berth_reset "berth import $IN/rootfs.tar bench/rootfs"
have podman && bench_add import podman pod_reset "pod import $IN/rootfs.tar bench/rootfs" "$SLOW"
have dockerd && bench_add import docker docker_reset "dock import $IN/rootfs.tar bench/rootfs" "$SLOW"
if have umoci; then
  bench_add import umoci umoci_reset "umoci_import_unpack $IN/rootfs.tar" "$SLOW"
  bench_add import "umoci (no unpack)" umoci_reset "umoci_import $IN/rootfs.tar" "$SLOW"
fi
bench_run
if have_berth; then
  # Not timed: berth's store (as its last run left it) holds all of it.
  got=$(find "$T"/berth/layers/*/ -mindepth 1 -type f -path '*/diff/*' | wc -l)
  [ "$got" -eq "$FILES" ] || log "warning: berth's layer holds $got files, the tar $FILES"
fi

# --- import of the .tar.gz -----------------------------------------------
bench_add import-gz tar-xz tar_reset "tar -xzf $IN/rootfs.tar.gz -C $X"
have_berth && bench_add import-gz berth berth_reset "berth import $IN/rootfs.tar.gz bench/rootfs"
have podman && bench_add import-gz podman pod_reset "pod import $IN/rootfs.tar.gz bench/rootfs" "$SLOW"
have dockerd && bench_add import-gz docker docker_reset "dock import $IN/rootfs.tar.gz bench/rootfs" "$SLOW"
bench_run

# --- load of a docker-archive of the same content ---------------------------
have_berth && bench_add load berth berth_reset "berth load -i $IN/image.tar"
have podman && bench_add load podman pod_reset "pod load -i $IN/image.tar" "$SLOW"
have dockerd && bench_add load docker docker_reset "dock load -i $IN/image.tar" "$SLOW"
bench_run

{
  echo "Input: rootfs.tar $TAR_MB MB, $ENTRIES entries ($FILES regular files) from the host's"
  echo "/usr/share and /usr/lib; rootfs.tar.gz $GZ_MB MB (gzip -6); image.tar the same"
  echo "tar as the one layer of a docker-archive.  dockerd storage driver: ${DOCKER_DRIVER:-none}."
  echo
  echo "### import rootfs.tar"
  echo
  bench_table import
  echo
  echo "### import rootfs.tar.gz"
  echo
  bench_table import-gz
  echo
  echo "### load image.tar (docker-archive)"
  echo
  bench_table load import tar-x
  echo
  echo "#### Commands (each row: the timed command; before each run, the engine's reset)"
  echo
  for c in import import-gz load; do bench_commands "$c"; done
  echo
  bench_functions berth berth_reset pod pod_reset dock docker_reset tar_reset \
    umoci_import umoci_import_unpack umoci_reset
  echo
} >"$T/report.md"
cat "$T/report.md"
if [ -n "${BENCH_REPORT:-}" ]; then cp "$T/report.md" "$BENCH_REPORT"; fi
