/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image archives: `save` and `load`.
 *
 * Save writes one tar stream in either format:
 *  - BERTH_ARCHIVE_DOCKER: what docker 25+ writes, readable by every docker
 *    version, podman and skopeo: manifest.json
 *    ([{"Config":"blobs/sha256/<id>","RepoTags":["busybox:latest"],
 *    "Layers":["blobs/sha256/<diff id>",...]}]), `repositories`, and an OCI
 *    layout over the same blobs (oci-layout, index.json, an OCI manifest per
 *    image).  Layers are uncompressed tars named by their diff ids: a stored
 *    compressed blob is decompressed on the way (through an unlinked temp
 *    file, so that the tar header can carry its size) and its digest checked
 *    against the diff id.
 *  - BERTH_ARCHIVE_OCI: an OCI image layout as skopeo's `oci-archive:` writes
 *    it: blobs/sha256/<hex> holding manifests, configs and the layer blobs as
 *    stored (compressed or not), index.json whose manifests carry the
 *    annotations "org.opencontainers.image.ref.name" (the tag alone, which is
 *    what `skopeo ... oci-archive:FILE:TAG` looks up) and
 *    "io.containerd.image.name" (the full reference, which podman and docker
 *    name the loaded image after), and oci-layout.
 * Blobs come first and the JSON documents last (docker's order).  Every blob
 * written is hashed on the way and checked against its digest.  Output is
 * deterministic: same images and names, same bytes.
 *
 * Load reads a docker-archive (docker 25+ form, or the classic
 * `<id>/layer.tar` + `<id>.json` form written by docker < 25 and by skopeo)
 * or an OCI layout archive (oci-archive, or docker 25's when it has no
 * manifest.json), plain or compressed with gzip or zstd, from a stream that
 * need not be seekable.  Entries may come in any order: every regular file is
 * spooled into one unlinked temp file on the store's filesystem while the
 * index keeps only names, offsets and sizes (bounded: entry count, name
 * lengths, JSON documents of at most 16 MiB read on demand).  Then, before
 * anything enters the store, everything is validated: paths named by
 * manifest.json or index.json must be clean relative names of entries in the
 * archive (symlinks inside the archive are followed, but never out of it);
 * digests must be well formed; blobs under blobs/sha256/ must hash to their
 * names; configs must parse and validate; the layer count must equal the
 * number of diff ids; names must parse as docker references with a tag.  Each
 * missing layer is then unpacked into a staging directory, checking its blob
 * digest (when known) and its diff id; only when every layer of every image
 * has been staged are the blobs and layers committed and the images
 * registered and tagged.  A failure up to that point leaves the store exactly
 * as it was.  (A failure while committing, i.e. an I/O error, can leave
 * complete, verified layers that no image uses; the next garbage collection
 * removes them.)
 *
 * These functions may run concurrently with other store users; they take the
 * store lock only for their commits. */
#ifndef BERTH_IMAGE_ARCHIVE_H
#define BERTH_IMAGE_ARCHIVE_H

#include <stddef.h>

#include <jansson.h>

#include <berth/engine.h>
#include <berth/error.h>

#include "store/store.h"

struct berth_save_item {
  const char *id; /* image id "sha256:<64 hex>" */
  /* NULL-terminated full normalized references ("docker.io/library/busybox:latest")
   * to record as the image's RepoTags; NULL or empty when the image was asked
   * for by id.  References without a tag (digest references) are skipped, as
   * docker does. */
  char **refs;
};

/* Write the n images as one archive to out_fd (not closed; any kind of fd:
 * file, pipe, socket).  An image listed twice is written once with the union
 * of its references.  Returns 0, or -1 with err set (unknown image, missing
 * or corrupt blob or layer, write error); on failure out_fd has received a
 * partial archive that the caller must discard. */
int berth_archive_save(struct berth_store *s, const struct berth_save_item *items, size_t n,
                       enum berth_archive_format format, int out_fd, berth_error_t *err);

/* Load every image of the archive read from in_fd (read to the end of the
 * tar stream; not closed).  Returns a new JSON array of the lines docker
 * prints, in archive order: "Loaded image: busybox:latest" for each tag,
 * "Loaded image ID: sha256:<hex>" for an image without one, preceded by "The
 * image X already exists, renaming the old one with ID sha256:... to empty
 * string" when a tag moves.  On failure returns NULL with err set (EINVAL for
 * a malformed or hostile archive, naming the offending path or field). */
json_t *berth_archive_load(struct berth_store *s, int in_fd, berth_error_t *err);

#endif
