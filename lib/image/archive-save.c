/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `save`: images of the store as a docker-archive (docker 25+ layout) or an
 * OCI archive (archive.h).  This file gathers the images and writes the JSON
 * documents; archive-tar.c moves the bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "image/archive-internal.h"
#include "image/archive.h"
#include "image/image.h"
#include "oci/image-spec.h"
#include "oci/reference.h"

struct save_image {
  char id[BERTH_DIGEST_STR_LEN];
  char *config;
  size_t config_len;
  json_t *cfg;
  struct berth_layer *layers;
  size_t n_layers;
  json_t *refs; /* normalized tagged references, no duplicates */
};

struct save_ctx {
  struct berth_store *s;
  struct berth_archive_out out;
  struct save_image *images;
  size_t n;
  json_t *written;  /* blob hex -> size, for blobs already in the archive */
  json_t *index;    /* index.json "manifests" */
  json_t *manifest; /* docker manifest.json */
  json_t *repos;    /* docker `repositories` */
  json_t *table;    /* image table (OCI format: the stored manifests) */
};

static void save_ctx_clear(struct save_ctx *c)
{
  for (size_t i = 0; i < c->n; i++) {
    free(c->images[i].config);
    json_decref(c->images[i].cfg);
    free(c->images[i].layers);
    json_decref(c->images[i].refs);
  }
  free(c->images);
  json_decref(c->written);
  json_decref(c->index);
  json_decref(c->manifest);
  json_decref(c->repos);
  json_decref(c->table);
}

static char *dump(const json_t *j)
{
  /* Insertion order, compact: the field order docker's Go structs give. */
  char *s = json_dumps(j, JSON_COMPACT);
  if (!s)
    abort();
  return s;
}

static char *blob_name(const char *digest)
{
  char *n = NULL;
  if (asprintf(&n, "blobs/sha256/%s", berth_digest_hex(digest)) < 0)
    abort();
  return n;
}

static json_t *blob_name_json(const char *digest)
{
  cleanup_free char *n = blob_name(digest);
  return json_string(n);
}

/* ---- gathering ---- */

static int add_refs(struct save_image *img, char **refs, berth_error_t *err)
{
  for (size_t i = 0; refs && refs[i]; i++) {
    struct berth_reference r = {0};
    cleanup_free char *norm = NULL;
    size_t k;
    json_t *v;
    bool dup = false;
    if (berth_reference_parse(refs[i], &r, err) < 0)
      return berth_error_prefix(err, "reference `%s`", refs[i]);
    if (!r.tag) {
      berth_reference_clear(&r); /* a digest reference names no tag to record */
      continue;
    }
    norm = berth_reference_string(&r);
    berth_reference_clear(&r);
    json_array_foreach(img->refs, k, v) dup = dup || strcmp(json_string_value(v), norm) == 0;
    if (!dup)
      json_array_append_new(img->refs, json_string(norm));
  }
  return 0;
}

static int gather(struct save_ctx *c, const struct berth_save_item *items, size_t n, berth_error_t *err)
{
  if (!(c->images = calloc(n ? n : 1, sizeof(*c->images))))
    abort();
  for (size_t i = 0; i < n; i++) {
    struct save_image *img = NULL;
    if (!items[i].id || berth_digest_validate(items[i].id, err) < 0)
      return items[i].id ? berth_error_prefix(err, "save") : berth_error_set_plain(err, EINVAL, "save: no image id");
    for (size_t k = 0; k < c->n && !img; k++)
      if (strcmp(c->images[k].id, items[i].id) == 0)
        img = &c->images[k];
    if (!img) {
      img = &c->images[c->n++];
      snprintf(img->id, sizeof(img->id), "%s", items[i].id);
      img->refs = json_array();
    }
    if (add_refs(img, items[i].refs, err) < 0)
      return berth_error_prefix(err, "save");
  }
  return 0;
}

static int load_image(struct save_ctx *c, struct save_image *img, berth_error_t *err)
{
  char got[BERTH_DIGEST_STR_LEN];
  cleanup_strv char **diff_ids = NULL;
  cleanup_strv char **chains = NULL;
  if (berth_blob_read(c->s, img->id, &img->config, &img->config_len, err) < 0)
    return berth_error_prefix(err, "image `%s`", img->id);
  berth_sha256_buf(img->config, img->config_len, got);
  if (strcmp(got, img->id) != 0)
    return berth_error_set_plain(err, EIO, "image `%s`: its config is corrupt (hashes to `%s`)", img->id, got);
  if (!(img->cfg = berth_image_config_parse(img->config, img->config_len, err)))
    return berth_error_prefix(err, "image `%s`", img->id);
  diff_ids = berth_image_config_diff_ids(img->cfg);
  chains = berth_image_chain_ids(img->cfg);
  if (!diff_ids || !chains)
    return berth_error_set_plain(err, EINVAL, "image `%s`: invalid rootfs", img->id);
  while (chains[img->n_layers])
    img->n_layers++;
  if (!(img->layers = calloc(img->n_layers + 1, sizeof(*img->layers))))
    abort();
  for (size_t i = 0; i < img->n_layers; i++) {
    if (berth_layer_get(c->s, chains[i], &img->layers[i], err) < 0)
      return berth_error_prefix(err, "image `%s`", img->id);
    if (strcmp(img->layers[i].diff_id, diff_ids[i]) != 0)
      return berth_error_set_plain(err, EIO, "image `%s`: layer `%s` has diff id `%s`, its config says `%s`", img->id,
                                   chains[i], img->layers[i].diff_id, diff_ids[i]);
  }
  return 0;
}

/* ---- documents ---- */

static json_t *descriptor(const char *media_type, const char *digest, int64_t size)
{
  return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest, "size", (json_int_t)size);
}

static char *make_manifest(const struct save_image *img, json_t *layers)
{
  cleanup_json json_t *m =
      json_pack("{s:i, s:s, s:o, s:O}", "schemaVersion", 2, "mediaType", BERTH_MEDIA_OCI_MANIFEST, "config",
                descriptor(BERTH_MEDIA_OCI_CONFIG, img->id, (int64_t)img->config_len), "layers", layers);
  return dump(m);
}

/* index.json entries: one per reference (docker 25 and skopeo name images
 * this way), or one without a name for an image saved by id. */
static void add_index_entries(struct save_ctx *c, const struct save_image *img, const char *manifest_digest,
                              size_t manifest_len)
{
  json_t *platform = json_pack("{s:s, s:s}", "architecture", berth_json_str(img->cfg, "architecture"), "os",
                               berth_json_str(img->cfg, "os"));
  size_t i;
  json_t *v;
  if (berth_json_str(img->cfg, "variant"))
    json_object_set_new(platform, "variant", json_string(berth_json_str(img->cfg, "variant")));
  if (json_array_size(img->refs) == 0) {
    json_t *d = descriptor(BERTH_MEDIA_OCI_MANIFEST, manifest_digest, (int64_t)manifest_len);
    json_object_set(d, "platform", platform);
    json_array_append_new(c->index, d);
  }
  json_array_foreach(img->refs, i, v)
  {
    struct berth_reference r = {0};
    json_t *d = descriptor(BERTH_MEDIA_OCI_MANIFEST, manifest_digest, (int64_t)manifest_len);
    (void)berth_reference_parse(json_string_value(v), &r, NULL); /* parsed before */
    json_object_set(d, "platform", platform);
    json_object_set_new(d, "annotations",
                        json_pack("{s:s, s:s}", "io.containerd.image.name", json_string_value(v),
                                  "org.opencontainers.image.ref.name", r.tag));
    json_array_append_new(c->index, d);
    berth_reference_clear(&r);
  }
  json_decref(platform);
}

/* manifest.json item and `repositories` entries of a docker-archive. */
static void add_docker_entry(struct save_ctx *c, const struct save_image *img, json_t *layer_paths)
{
  json_t *tags = json_array_size(img->refs) ? json_array() : json_null();
  cleanup_free char *config = blob_name(img->id);
  size_t i;
  json_t *v;
  json_array_foreach(img->refs, i, v)
  {
    struct berth_reference r = {0};
    cleanup_free char *familiar = NULL;
    cleanup_free char *repo = NULL;
    json_t *tagmap;
    (void)berth_reference_parse(json_string_value(v), &r, NULL);
    familiar = berth_reference_familiar_string(&r);
    repo = berth_reference_familiar_repository(&r);
    json_array_append_new(tags, json_string(familiar));
    if (img->n_layers) {
      if (!(tagmap = json_object_get(c->repos, repo)))
        json_object_set_new(c->repos, repo, tagmap = json_object());
      json_object_set_new(tagmap, r.tag, json_string(berth_digest_hex(img->layers[img->n_layers - 1].diff_id)));
    }
    berth_reference_clear(&r);
  }
  json_array_append_new(c->manifest,
                        json_pack("{s:s, s:o, s:O}", "Config", config, "RepoTags", tags, "Layers", layer_paths));
}

static bool is_written(struct save_ctx *c, const char *digest, int64_t *ret_size)
{
  json_t *v = json_object_get(c->written, berth_digest_hex(digest));
  if (v && ret_size)
    *ret_size = json_integer_value(v);
  return v != NULL;
}

static void mark_written(struct save_ctx *c, const char *digest, int64_t size)
{
  json_object_set_new(c->written, berth_digest_hex(digest), json_integer(size));
}

/* A small JSON blob (config, manifest), once. */
static int put_json_blob(struct save_ctx *c, const char *data, size_t len, char digest[BERTH_DIGEST_STR_LEN],
                         berth_error_t *err)
{
  cleanup_free char *name = NULL;
  berth_sha256_buf(data, len, digest);
  if (is_written(c, digest, NULL))
    return 0;
  name = blob_name(digest);
  if (berth_archive_out_file(&c->out, name, data, len, err) < 0)
    return -1;
  mark_written(c, digest, (int64_t)len);
  return 0;
}

/* The layer as an uncompressed tar named by its diff id (docker format, and
 * OCI for layers without a stored blob). */
static int put_layer_tar(struct save_ctx *c, const struct berth_layer *l, int64_t *ret_size, berth_error_t *err)
{
  cleanup_free char *name = NULL;
  if (is_written(c, l->diff_id, ret_size))
    return 0;
  name = blob_name(l->diff_id);
  if (berth_archive_out_layer_tar(&c->out, c->s, l, name, ret_size, err) < 0)
    return berth_error_prefix(err, "save layer `%s`", l->diff_id);
  mark_written(c, l->diff_id, *ret_size);
  return 0;
}

static int write_docker_image(struct save_ctx *c, struct save_image *img, berth_error_t *err)
{
  json_t *layers = json_array();
  json_t *paths = json_array();
  cleanup_free char *manifest = NULL;
  char digest[BERTH_DIGEST_STR_LEN];
  for (size_t i = 0; i < img->n_layers; i++) {
    int64_t size = 0;
    if (put_layer_tar(c, &img->layers[i], &size, err) < 0) {
      json_decref(layers);
      json_decref(paths);
      return -1;
    }
    json_array_append_new(layers, descriptor(BERTH_MEDIA_OCI_LAYER, img->layers[i].diff_id, size));
    json_array_append_new(paths, blob_name_json(img->layers[i].diff_id));
  }
  manifest = make_manifest(img, layers);
  json_decref(layers);
  if (put_json_blob(c, img->config, img->config_len, digest, err) < 0 ||
      put_json_blob(c, manifest, strlen(manifest), digest, err) < 0) {
    json_decref(paths);
    return -1;
  }
  add_index_entries(c, img, digest, strlen(manifest));
  add_docker_entry(c, img, paths);
  json_decref(paths);
  return 0;
}

/* Layer media type of a stored blob, by its magic. */
static const char *sniff_layer_type(struct berth_store *s, const char *digest)
{
  unsigned char b[4] = {0};
  cleanup_error berth_error_t ign = NULL;
  cleanup_close int fd = berth_blob_open(s, digest, &ign);
  if (fd >= 0 && pread(fd, b, sizeof(b), 0) == (ssize_t)sizeof(b)) {
    if (b[0] == 0x1f && b[1] == 0x8b)
      return BERTH_MEDIA_OCI_LAYER_GZIP;
    if (b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
      return BERTH_MEDIA_OCI_LAYER_ZSTD;
  }
  return BERTH_MEDIA_OCI_LAYER;
}

/* The image's stored manifest when it is an OCI manifest for exactly these
 * config and layer blobs (keeps its digest stable across save and load);
 * NULL otherwise. */
static char *stored_manifest(struct save_ctx *c, const struct save_image *img, json_t *layers)
{
  const char *digest = berth_json_str(json_object_get(json_object_get(c->table, "images"), img->id), "manifest");
  cleanup_error berth_error_t ign = NULL;
  struct berth_manifest m = {0};
  char *buf = NULL;
  size_t len = 0;
  bool ok;
  if (!digest || berth_blob_read(c->s, digest, &buf, &len, &ign) < 0)
    return NULL;
  ok = berth_manifest_parse(buf, len, &m, &ign) == 0 && strcmp(m.media_type, BERTH_MEDIA_OCI_MANIFEST) == 0 &&
       strcmp(m.config.digest, img->id) == 0 && m.n_layers == json_array_size(layers);
  for (size_t i = 0; ok && i < m.n_layers; i++)
    ok = strcmp(m.layers[i].digest, berth_json_str(json_array_get(layers, i), "digest")) == 0 &&
         m.layers[i].size == berth_json_int(json_array_get(layers, i), "size", -1);
  berth_manifest_clear(&m);
  if (!ok) {
    free(buf);
    return NULL;
  }
  return buf;
}

static int put_oci_layer(struct save_ctx *c, const struct berth_layer *l, json_t *layers, berth_error_t *err)
{
  cleanup_free char *name = NULL;
  int64_t size = 0;
  if (!l->blob[0] || !berth_blob_exists(c->s, l->blob)) {
    if (put_layer_tar(c, l, &size, err) < 0)
      return -1;
    json_array_append_new(layers, descriptor(BERTH_MEDIA_OCI_LAYER, l->diff_id, size));
    return 0;
  }
  if (!is_written(c, l->blob, &size)) {
    name = blob_name(l->blob);
    if (berth_archive_out_blob(&c->out, c->s, name, l->blob, &size, err) < 0)
      return berth_error_prefix(err, "save layer `%s`", l->diff_id);
    mark_written(c, l->blob, size);
  }
  json_array_append_new(layers, descriptor(sniff_layer_type(c->s, l->blob), l->blob, size));
  return 0;
}

static int write_oci_image(struct save_ctx *c, struct save_image *img, berth_error_t *err)
{
  cleanup_json json_t *layers = json_array();
  cleanup_free char *manifest = NULL;
  char digest[BERTH_DIGEST_STR_LEN];
  for (size_t i = 0; i < img->n_layers; i++)
    if (put_oci_layer(c, &img->layers[i], layers, err) < 0)
      return -1;
  if (!(manifest = stored_manifest(c, img, layers)))
    manifest = make_manifest(img, layers);
  if (put_json_blob(c, img->config, img->config_len, digest, err) < 0 ||
      put_json_blob(c, manifest, strlen(manifest), digest, err) < 0)
    return -1;
  add_index_entries(c, img, digest, strlen(manifest));
  return 0;
}

static int write_top_file(struct save_ctx *c, const char *name, const json_t *j, berth_error_t *err)
{
  cleanup_free char *s = dump(j);
  return berth_archive_out_file(&c->out, name, s, strlen(s), err);
}

static int write_archive(struct save_ctx *c, enum berth_archive_format format, berth_error_t *err)
{
  cleanup_json json_t *index = NULL;
  cleanup_json json_t *layout = json_pack("{s:s}", "imageLayoutVersion", "1.0.0");
  if (berth_archive_out_dir(&c->out, "blobs", err) < 0 || berth_archive_out_dir(&c->out, "blobs/sha256", err) < 0)
    return -1;
  for (size_t i = 0; i < c->n; i++) {
    int r = format == BERTH_ARCHIVE_OCI ? write_oci_image(c, &c->images[i], err)
                                        : write_docker_image(c, &c->images[i], err);
    if (r < 0)
      return -1;
  }
  index = json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType", BERTH_MEDIA_OCI_INDEX, "manifests", c->index);
  /* The names docker's walk of its temp dir gives: lexical order. */
  if (write_top_file(c, "index.json", index, err) < 0)
    return -1;
  if (format == BERTH_ARCHIVE_DOCKER && write_top_file(c, "manifest.json", c->manifest, err) < 0)
    return -1;
  if (write_top_file(c, "oci-layout", layout, err) < 0)
    return -1;
  if (format == BERTH_ARCHIVE_DOCKER && json_object_size(c->repos) &&
      write_top_file(c, "repositories", c->repos, err) < 0)
    return -1;
  return berth_archive_out_end(&c->out, err);
}

int berth_archive_save(struct berth_store *s, const struct berth_save_item *items, size_t n,
                       enum berth_archive_format format, int out_fd, berth_error_t *err)
{
  struct save_ctx c = {.s = s, .out = {.fd = out_fd}};
  int r = -1;
  if (format != BERTH_ARCHIVE_DOCKER && format != BERTH_ARCHIVE_OCI)
    return berth_error_set_plain(err, EINVAL, "save: unknown archive format %d", (int)format);
  if (n == 0)
    return berth_error_set_plain(err, EINVAL, "save: no images given");
  c.written = json_object();
  c.index = json_array();
  c.manifest = json_array();
  c.repos = json_object();
  if (gather(&c, items, n, err) < 0)
    goto out;
  for (size_t i = 0; i < c.n; i++)
    if (load_image(&c, &c.images[i], err) < 0) {
      berth_error_prefix(err, "save");
      goto out;
    }
  if (format == BERTH_ARCHIVE_OCI && !(c.table = berth_images_load(s, err)))
    goto out;
  if (write_archive(&c, format, err) < 0) {
    berth_error_prefix(err, "save");
    goto out;
  }
  r = 0;
out:
  save_ctx_clear(&c);
  return r;
}
