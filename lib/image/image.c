/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Registering images in the store and reading their configs back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "image/image.h"
#include "oci/image-spec.h"

const char *berth_host_arch(void)
{
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "386";
#elif defined(__arm__)
  return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "unknown";
#endif
}

char **berth_image_chain_ids(const json_t *config)
{
  json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
  size_t n = json_array_size(diff_ids), i;
  char **out = calloc(n + 1, sizeof(char *));
  char chain[BERTH_DIGEST_STR_LEN] = "";
  json_t *v;
  if (!out)
    abort();
  json_array_foreach(diff_ids, i, v)
  {
    char next[BERTH_DIGEST_STR_LEN];
    berth_chain_id(i ? chain : NULL, json_string_value(v), next);
    memcpy(chain, next, sizeof(chain));
    out[i] = strdup(chain);
  }
  return out;
}

json_t *berth_image_config(struct berth_store *s, const char *id, berth_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0;
  if (berth_blob_read(s, id, &buf, &len, err) < 0)
    return NULL;
  return berth_json_loadb(buf, len, "image config", err);
}

/* An OCI manifest for an image whose layers are all in the store. */
static char *make_manifest(struct berth_store *s, const char *config_digest, size_t config_len, char **chains,
                           berth_error_t *err)
{
  cleanup_json json_t *m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[]}", "schemaVersion", 2, "mediaType",
                                     "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
                                     "application/vnd.oci.image.config.v1+json", "digest", config_digest, "size",
                                     (json_int_t)config_len, "layers");
  json_t *layers = json_object_get(m, "layers");
  for (size_t i = 0; chains[i]; i++) {
    struct berth_layer l;
    if (berth_layer_get(s, chains[i], &l, err) < 0)
      return NULL;
    if (!l.blob[0]) {
      berth_error_set_plain(err, ENOENT, "layer `%s` has no stored tar", l.chain_id);
      return NULL;
    }
    json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType", l.media_type, "digest", l.blob, "size",
                                            (json_int_t)l.blob_size));
  }
  return json_dumps(m, JSON_COMPACT);
}

static int64_t image_size(struct berth_store *s, char **chains, berth_error_t *err)
{
  int64_t total = 0;
  for (size_t i = 0; chains[i]; i++) {
    struct berth_layer l;
    if (berth_layer_get(s, chains[i], &l, err) < 0)
      return -1;
    total += l.size;
  }
  return total;
}

int berth_image_register_raw(struct berth_store *s, const char *config, size_t config_len,
                             const struct berth_image_register_opts *opts, char **ret_id, berth_error_t *err)
{
  cleanup_json json_t *cfg = berth_json_loadb(config, config_len, "image config", err);
  cleanup_json json_t *table = NULL;
  cleanup_strv char **chains = NULL;
  cleanup_free char *manifest = NULL;
  cleanup_close int lock = -1;
  char id[BERTH_DIGEST_STR_LEN], manifest_digest[BERTH_DIGEST_STR_LEN];
  const char *created;
  int64_t created_ns = 0, size;
  json_t *rec, *layers_json;

  if (!cfg || berth_image_config_validate(cfg, err) < 0)
    return berth_error_prefix(err, "register image");
  chains = berth_image_chain_ids(cfg);
  for (size_t i = 0; chains[i]; i++)
    if (berth_store_lease(s, chains[i], err) < 0)
      return -1;
  for (size_t i = 0; chains[i]; i++)
    if (!berth_layer_exists(s, chains[i]))
      return berth_error_set_plain(err, ENOENT, "register image: layer `%s` is not in the store", chains[i]);
  if ((size = image_size(s, chains, err)) < 0)
    return -1;
  if (berth_blob_put(s, config, config_len, id, err) < 0)
    return -1;
  if (!opts->manifest) {
    if (!(manifest = make_manifest(s, id, config_len, chains, err)))
      return berth_error_prefix(err, "register image");
  }
  if (berth_blob_put(s, opts->manifest ? opts->manifest : manifest,
                     opts->manifest ? opts->manifest_len : strlen(manifest), manifest_digest, err) < 0)
    return -1;
  created = berth_json_str(cfg, "created");
  if (created) {
    cleanup_error berth_error_t ignored = NULL;
    (void)berth_parse_rfc3339(created, &created_ns, &ignored);
  }

  if ((lock = berth_store_lock(s, err)) < 0)
    return -1;
  if (!(table = berth_images_load(s, err)))
    return -1;
  rec = json_object_get(json_object_get(table, "images"), id);
  if (!rec) {
    rec = json_pack("{s:[], s:[], s:I}", "names", "digests", "added", (json_int_t)berth_now_ns());
    json_object_set_new(json_object_get(table, "images"), id, rec);
  }
  layers_json = json_array();
  for (size_t i = 0; chains[i]; i++)
    json_array_append_new(layers_json, json_string(chains[i]));
  json_object_set_new(rec, "layers", layers_json);
  json_object_set_new(rec, "manifest", json_string(manifest_digest));
  json_object_set_new(rec, "size", json_integer(size));
  json_object_set_new(rec, "created", json_integer(created_ns));
  if (opts->reference) {
    berth_images_set_name(table, id, opts->reference);
    json_object_set_new(rec, "tagged", json_integer(berth_now_ns()));
  }
  if (opts->repo_digest)
    berth_images_set_name(table, id, opts->repo_digest);
  if (opts->parent)
    json_object_set_new(rec, "parent", json_string(opts->parent));
  if (berth_images_save(s, table, err) < 0)
    return -1;
  if (!(*ret_id = strdup(id)))
    abort();
  return 0;
}

int berth_image_register(struct berth_store *s, const json_t *config, const struct berth_image_register_opts *opts,
                         char **ret_id, berth_error_t *err)
{
  cleanup_free char *bytes = berth_json_dumps(config);
  return berth_image_register_raw(s, bytes, strlen(bytes), opts, ret_id, err);
}
