/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared pieces of save and load (archive.h): the outer tar stream, written
 * (struct berth_archive_out) or read into a spool (struct berth_archive_in),
 * and layers moved between that stream and the store.  These live in
 * archive-tar.c, the one archive file that uses the tar and decompression
 * code; archive-save.c and archive-load.c handle the image documents.  Not
 * thread-safe per object. */
#ifndef BERTH_IMAGE_ARCHIVE_INTERNAL_H
#define BERTH_IMAGE_ARCHIVE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <berth/error.h>

#include "base/digest.h"
#include "store/store.h"

/* Bounds on what a loaded archive may hold. */
#define BERTH_ARCHIVE_MAX_ENTRIES 100000
#define BERTH_ARCHIVE_MAX_NAME 4096
#define BERTH_ARCHIVE_MAX_NAME_BYTES (16 * 1024 * 1024)
#define BERTH_ARCHIVE_MAX_JSON (16 * 1024 * 1024)
#define BERTH_ARCHIVE_MAX_IMAGES 1000
/* Layers all images of one archive may list together: each distinct chain is
 * unpacked, and a small archive could otherwise ask for a million unpacks. */
#define BERTH_ARCHIVE_MAX_LAYER_REFS 20000

/* ---- writing (save) ---- */

struct berth_archive_out {
  int fd;
  int64_t written;
};

/* A directory entry "NAME/" (mode 0755). */
int berth_archive_out_dir(struct berth_archive_out *o, const char *name, berth_error_t *err);
/* A regular file (mode 0644) with `len` bytes of `data`. */
int berth_archive_out_file(struct berth_archive_out *o, const char *name, const void *data, size_t len,
                           berth_error_t *err);
/* The stored blob `digest` as entry NAME, byte for byte, checked against its
 * digest on the way; *ret_size gets its size. */
int berth_archive_out_blob(struct berth_archive_out *o, struct berth_store *s, const char *name, const char *digest,
                           int64_t *ret_size, berth_error_t *err);
/* The layer as an uncompressed tar named NAME whose sha256 must be the
 * layer's diff id: the stored blob as is when it is an uncompressed tar,
 * decompressed through an unlinked temp file when it is compressed, or
 * written afresh from the unpacked layer when there is no stored blob.
 * *ret_size gets the tar's size. */
int berth_archive_out_layer_tar(struct berth_archive_out *o, struct berth_store *s, const struct berth_layer *l,
                                const char *name, int64_t *ret_size, berth_error_t *err);
/* The end-of-archive marker (two zero blocks). */
int berth_archive_out_end(struct berth_archive_out *o, berth_error_t *err);

/* ---- reading (load) ---- */

struct berth_archive_in;

/* A regular file of the archive, as spooled. */
struct berth_archive_file {
  const char *name; /* the entry's own (normalized) name; points into the archive index */
  int64_t offset, size;
};

/* Read the tar stream (plain, gzip or zstd) from in_fd to its end, spooling
 * every regular file into an unlinked temp file in the store's root.  Entry
 * names are normalized ("./a//b" is "a/b", a leading "/" is dropped); a name
 * with a ".." component is refused.  Later entries replace earlier ones of the
 * same name (as extracting would).  *ret is released with
 * berth_archive_in_free(). */
int berth_archive_in_read(struct berth_store *s, int in_fd, struct berth_archive_in **ret, berth_error_t *err);
void berth_archive_in_free(struct berth_archive_in *a);
/* Find the regular file a manifest path names.  `path` must be a clean
 * relative path (EINVAL otherwise); symlinks and hard links in the archive
 * are followed while they stay inside it (EINVAL when they leave it or loop);
 * ENOENT when there is no such file. */
int berth_archive_in_find(const struct berth_archive_in *a, const char *path, struct berth_archive_file *ret,
                          berth_error_t *err);
/* Read a whole file of at most `max` bytes (EFBIG beyond) into a
 * NUL-terminated buffer owned by the caller. */
int berth_archive_in_read_file(const struct berth_archive_in *a, const struct berth_archive_file *f, size_t max,
                               char **ret_buf, size_t *ret_len, berth_error_t *err);

/* A layer unpacked into a staging directory of the store, not yet committed. */
struct berth_archive_staged {
  char *staging;                   /* layers/.staging-*, NULL once committed or discarded */
  struct berth_archive_file file;  /* where its bytes are in the spool */
  char blob[BERTH_DIGEST_STR_LEN]; /* sha256 of those bytes */
  char diff_id[BERTH_DIGEST_STR_LEN];
  const char *media_type;  /* OCI layer type for the detected compression */
  int64_t blob_size, size; /* raw bytes; unpacked content bytes */
};

/* Unpack the file as a layer tar (plain, gzip or zstd) into a new staging
 * directory, checking its digest against expected_blob (when not NULL) and
 * its uncompressed digest against expected_diff_id.  On failure nothing is
 * left in the store. */
int berth_archive_in_stage(struct berth_store *s, const struct berth_archive_in *a, const struct berth_archive_file *f,
                           const char *expected_blob, const char *expected_diff_id, struct berth_archive_staged *ret,
                           berth_error_t *err);
/* Store the layer's bytes as a blob (unless present) and commit the layer
 * over parent_chain (NULL for a base layer); ret may be NULL. */
int berth_archive_in_commit(struct berth_store *s, const struct berth_archive_in *a, struct berth_archive_staged *st,
                            const char *parent_chain, struct berth_layer *ret, berth_error_t *err);
/* Remove the staging directory if still there; accepts an empty value. */
void berth_archive_staged_discard(struct berth_store *s, struct berth_archive_staged *st);

#endif
