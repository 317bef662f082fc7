/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unpacking layer streams into the store, and `import`. */
#ifndef BERTH_IMPORT_H
#define BERTH_IMPORT_H

#include <berth/engine.h>

#include "store/store.h"

/* Read a layer tar stream (plain, gzip or zstd) from fd: store it as a blob,
 * unpack it as a layer over `parent_chain` (NULL for a base layer), verify the
 * expected digests when given, and commit both atomically.  On failure nothing
 * stays in the store. */
int berth_layer_unpack(struct berth_store *s, int fd, const char *parent_chain, const char *expected_blob,
                       const char *expected_diff_id, struct berth_layer *ret, berth_error_t *err);
/* The tree at dirfd (berth_tar_write with opts) as a layer over
 * parent_chain, archived and unpacked through a pipe. */
struct berth_tar_write_opts;
int berth_layer_from_tree(struct berth_store *s, int dirfd, const struct berth_tar_write_opts *opts,
                          const char *parent_chain, struct berth_layer *ret, berth_error_t *err);
/* `import`: a root filesystem tarball as a one-layer image whose config's
 * "config" is container_config (may be NULL; opts->changes are the
 * caller's to apply). */
int berth_image_import_fd(struct berth_store *s, int fd, const struct berth_import_opts *opts,
                          const json_t *container_config, char **ret_id, berth_error_t *err);

#endif
