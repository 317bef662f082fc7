/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OCI and Docker (schema 2) image documents: manifests, indexes / manifest
 * lists and image configs.  Every parser takes untrusted bytes and validates
 * them completely: bounded sizes and counts, strict types, no asserts, clear
 * errors (code EINVAL, EFBIG for oversized documents, ENOTSUP for formats we
 * do not pull such as docker schema 1).  Documents carrying both "manifests"
 * and "layers"/"config" are refused everywhere (CVE-2021-41190).  Platform
 * selection from an index follows containerd's platforms.Only ordering, which
 * docker uses.  All functions are thread-safe (no shared state). */
#ifndef BERTH_OCI_IMAGE_SPEC_H
#define BERTH_OCI_IMAGE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <berth/error.h>

#include "base/digest.h"

/* OCI image-spec media types. */
#define BERTH_MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define BERTH_MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define BERTH_MEDIA_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define BERTH_MEDIA_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define BERTH_MEDIA_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define BERTH_MEDIA_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define BERTH_MEDIA_OCI_LAYER_ND "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define BERTH_MEDIA_OCI_LAYER_ND_GZIP "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define BERTH_MEDIA_OCI_LAYER_ND_ZSTD "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
#define BERTH_MEDIA_OCI_EMPTY "application/vnd.oci.empty.v1+json"
/* Docker image manifest v2 schema 2 media types. */
#define BERTH_MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define BERTH_MEDIA_DOCKER_MANIFEST_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define BERTH_MEDIA_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define BERTH_MEDIA_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define BERTH_MEDIA_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define BERTH_MEDIA_DOCKER_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar"
#define BERTH_MEDIA_DOCKER_LAYER_FOREIGN_GZIP "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
/* Docker schema 1: recognised only to be refused with a clear error. */
#define BERTH_MEDIA_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define BERTH_MEDIA_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* Bounds on untrusted documents.  Registries cap manifests at 4 MiB
 * (distribution's maxManifestBodySize); configs are blobs, capped more
 * generously.  1000 layers is far above docker's overlay depth of 128, so no
 * image docker can run is refused, while a hostile manifest stays cheap; the
 * same cap applies to index entries and to rootfs.diff_ids. */
#define BERTH_OCI_MAX_MANIFEST_SIZE (4 * 1024 * 1024)
#define BERTH_OCI_MAX_CONFIG_SIZE (16 * 1024 * 1024)
#define BERTH_OCI_MAX_LAYERS 1000
#define BERTH_OCI_MAX_MANIFESTS 1000
/* Sizes are integers 0 .. 2^53-1: the range every JSON implementation keeps exact. */
#define BERTH_OCI_MAX_BLOB_SIZE ((int64_t)9007199254740991LL)

enum berth_oci_kind {
  BERTH_OCI_KIND_MANIFEST, /* OCI image manifest or docker schema 2 manifest */
  BERTH_OCI_KIND_INDEX,    /* OCI image index or docker manifest list */
};

#include "base/compression.h"

struct berth_descriptor {
  char *media_type;                   /* never NULL in a parsed descriptor */
  char digest[BERTH_DIGEST_STR_LEN];  /* "sha256:<64 hex>" */
  int64_t size;                       /* 0 .. BERTH_OCI_MAX_BLOB_SIZE */
  char **urls;                        /* NULL-terminated, NULL when absent (foreign layers) */
  char *os, *architecture, *variant;  /* "platform" of index entries; NULL when absent */
  json_t *annotations;                /* owned reference (object of strings), NULL when absent */
};

struct berth_manifest {
  int schema_version; /* always 2 */
  /* The document's mediaType, or BERTH_MEDIA_OCI_MANIFEST when it has none
   * (the field is optional in OCI); never NULL once parsed. */
  char *media_type;
  struct berth_descriptor config;
  size_t n_layers;
  struct berth_descriptor *layers; /* n_layers entries, base layer first */
  json_t *annotations;             /* owned reference, NULL when absent */
};

struct berth_index {
  int schema_version; /* always 2 */
  char *media_type;   /* as for manifests; BERTH_MEDIA_OCI_INDEX when absent */
  size_t n_manifests;
  struct berth_descriptor *manifests;
  json_t *annotations; /* owned reference, NULL when absent */
};

struct berth_platform {
  char *os;           /* "linux" */
  char *architecture; /* "amd64", "arm64", "arm", ... (normalized) */
  char *variant;      /* NULL or "v7", ... (normalized: arm64 "v8" and amd64 "v1" are NULL) */
};

/* ---- media types ---- */
bool berth_media_type_is_manifest(const char *media_type); /* OCI or docker image manifest */
bool berth_media_type_is_index(const char *media_type);    /* OCI index or docker manifest list */
bool berth_media_type_is_config(const char *media_type);   /* OCI or docker image config */
bool berth_media_type_is_layer(const char *media_type);    /* one of the layer types above */
/* Foreign (docker) and non-distributable (OCI) layers. */
bool berth_media_type_is_foreign_layer(const char *media_type);
/* Compression of a layer media type; NONE for unknown types. */
enum berth_compression berth_layer_compression(const char *media_type);
/* The OCI layer media type of a tar stream with that compression. */
const char *berth_layer_media_type(enum berth_compression c);

/* ---- documents ----
 * Parsers fill *ret (owned; release with the matching _clear) and return 0,
 * or set err and leave *ret empty.  `buf` need not be NUL-terminated. */
/* Which of the two a document is: by its mediaType, else by its fields;
 * refuses ambiguous documents with both "manifests" and "layers"/"config"
 * (CVE-2021-41190), schema 1 manifests (ENOTSUP) and unknown media types. */
int berth_oci_detect_kind(const char *buf, size_t len, enum berth_oci_kind *ret, berth_error_t *err);
int berth_manifest_parse(const char *buf, size_t len, struct berth_manifest *ret, berth_error_t *err);
int berth_index_parse(const char *buf, size_t len, struct berth_index *ret, berth_error_t *err);
/* Canonical JSON (compact, keys sorted) of a manifest or index built or
 * parsed by the above; caller frees.  Fields that are NULL are omitted.
 * Aborts on out-of-memory. */
char *berth_manifest_to_json(const struct berth_manifest *m);
char *berth_index_to_json(const struct berth_index *idx);
/* Accept NULL and half-built values; reset everything to empty. */
void berth_descriptor_clear(struct berth_descriptor *d);
void berth_manifest_clear(struct berth_manifest *m);
void berth_index_clear(struct berth_index *idx);

/* ---- image config (docker/OCI image config JSON) ---- */
/* Strict load of a config blob (size cap, duplicate keys refused) followed by
 * berth_image_config_validate; returns a new reference. */
json_t *berth_image_config_parse(const char *buf, size_t len, berth_error_t *err);
/* Validate: architecture and os non-empty strings; variant, os.version,
 * os.features, author typed; created RFC 3339; config object field types as
 * docker decodes them (Cmd/Entrypoint/Shell may be a string or an array of
 * strings, any field may be null); rootfs.type == "layers" and rootfs.diff_ids
 * sha256 digests (at most BERTH_OCI_MAX_LAYERS; absent means none); history
 * entries typed.  Unknown fields are allowed. */
int berth_image_config_validate(const json_t *config, berth_error_t *err);
/* rootfs.diff_ids as a NULL-terminated strv (caller frees with
 * berth_strv_free); empty when absent; NULL when `config` is not an object or
 * the list is not an array of valid digests within BERTH_OCI_MAX_LAYERS. */
char **berth_image_config_diff_ids(const json_t *config);

/* ---- platforms ---- */
/* The platform this binary runs on, normalized ("linux", "amd64", NULL). */
void berth_platform_host(struct berth_platform *ret);
/* Parse a --platform value: "os", "arch", "os/arch" or "os/arch/variant",
 * normalized (x86_64 -> amd64, aarch64 -> arm64, armhf -> arm/v7, ...);
 * missing parts come from the host. */
int berth_platform_parse(const char *s, struct berth_platform *ret, berth_error_t *err);
/* "linux/amd64", "linux/arm/v7"; caller frees. */
char *berth_platform_string(const struct berth_platform *p);
void berth_platform_clear(struct berth_platform *p);
/* True when an image for os/arch/variant runs on `want` (exact after
 * normalization, or a compatible older variant: arm64 runs arm/v8..v5, arm/v7
 * runs v6 and v5, amd64 runs 386). */
bool berth_platform_is_compatible(const struct berth_platform *want, const char *os, const char *arch,
                                  const char *variant);
/* Pick the manifest for `want` (NULL: the host) from an index: the most
 * specific compatible image manifest, first in document order on ties; failing
 * that, the first image manifest without a platform (the caller must then
 * check the config's os/architecture, as docker does).  Returns a pointer into
 * idx, or NULL with err (ENOENT) "no matching manifest for linux/amd64 in the
 * manifest list entries". */
const struct berth_descriptor *berth_index_select(const struct berth_index *idx, const struct berth_platform *want,
                                                  berth_error_t *err);

#endif
