/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Images as the store keeps them: registering an image from its config and
 * unpacked layers, and reading an image's config back. */
#ifndef BERTH_IMAGE_H
#define BERTH_IMAGE_H

#include <jansson.h>

#include <berth/error.h>

#include "base/digest.h"
#include "store/store.h"

struct berth_image_register_opts {
  const char *reference;   /* full normalized reference to tag, or NULL */
  const char *repo_digest; /* "repo@sha256:..." to record, or NULL */
  const char *manifest;    /* the image's manifest bytes as pulled/loaded, or NULL to generate an OCI manifest */
  size_t manifest_len;
  const char *parent; /* the image a build step made this one from, or NULL */
};

/* Store `config` as a blob (its digest is the image id), check that every
 * layer of rootfs.diff_ids is unpacked, store or generate the manifest, and
 * add the image to the table (under the store lock).  *ret_id is caller-owned. */
int berth_image_register(struct berth_store *s, const json_t *config, const struct berth_image_register_opts *opts,
                         char **ret_id, berth_error_t *err);
/* Variant taking the exact config bytes (as loaded or pulled: the id is their digest). */
int berth_image_register_raw(struct berth_store *s, const char *config, size_t config_len,
                             const struct berth_image_register_opts *opts, char **ret_id, berth_error_t *err);
/* The image's config blob, parsed. */
json_t *berth_image_config(struct berth_store *s, const char *id, berth_error_t *err);
/* Chain ids of the image's layers, bottom first (NULL-terminated, caller frees). */
char **berth_image_chain_ids(const json_t *config);
/* The host platform: GOARCH-style architecture name ("amd64", "arm64", ...). */
const char *berth_host_arch(void);

#endif
