/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `load`: docker-archive and OCI layout archives into the store (archive.h).
 * Three phases, so that a bad archive changes nothing: plan (read and
 * validate every document, resolve every path), stage (unpack and verify
 * every missing layer into staging directories), commit (blobs, layers,
 * images, then names under the store lock). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "image/archive-internal.h"
#include "image/archive.h"
#include "image/image.h"
#include "oci/image-spec.h"
#include "oci/reference.h"

#define MAX_LAYOUT_FILE (64 * 1024)

struct load_layer {
  struct berth_archive_file file;
  char blob[BERTH_DIGEST_STR_LEN]; /* expected digest of the file, "" when the archive does not say */
  char diff_id[BERTH_DIGEST_STR_LEN];
  char chain_id[BERTH_DIGEST_STR_LEN];
};

struct load_image {
  char id[BERTH_DIGEST_STR_LEN];
  char *config;
  size_t config_len;
  char *manifest; /* OCI: the manifest as archived, kept when its blobs all end up stored */
  size_t manifest_len;
  struct load_layer *layers;
  size_t n_layers;
  json_t *tags; /* normalized references */
};

struct staged_layer {
  struct berth_archive_staged st;
  char parent[BERTH_DIGEST_STR_LEN];
};

struct load_ctx {
  struct berth_store *s;
  struct berth_archive_in *a;
  struct load_image *images;
  size_t n, cap;
  struct staged_layer *staged;
  size_t n_staged;
  json_t *staged_chains; /* chain ids staged so far */
  size_t layer_refs;     /* layers listed by all images */
  size_t config_bytes;   /* configs held in memory until commit */
};

/* Configs are kept in memory until every layer is in: bound their total so a
 * small, well-compressed archive cannot ask for gigabytes. */
#define MAX_CONFIG_BYTES ((size_t)64 << 20)

static void load_image_clear(struct load_image *img)
{
  free(img->config);
  free(img->manifest);
  free(img->layers);
  json_decref(img->tags);
  memset(img, 0, sizeof(*img));
}

static void load_ctx_clear(struct load_ctx *c)
{
  for (size_t i = 0; i < c->n_staged; i++)
    berth_archive_staged_discard(c->s, &c->staged[i].st);
  free(c->staged);
  for (size_t i = 0; i < c->n; i++)
    load_image_clear(&c->images[i]);
  free(c->images);
  json_decref(c->staged_chains);
  berth_archive_in_free(c->a);
}

/* ---- names ---- */

static void add_unique(json_t *arr, const char *s)
{
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) if (strcmp(json_string_value(v), s) == 0) return;
  json_array_append_new(arr, json_string(s));
}

/* A name to tag the image with: a docker reference.  RepoTags (`strict`)
 * must carry a tag and no digest, as docker requires; an OCI annotation
 * without a tag gets "latest", and its digest, if any, is dropped (a pure
 * digest reference names nothing to tag). */
static int add_name(json_t *tags, const char *name, bool strict, const char *where, berth_error_t *err)
{
  struct berth_reference r = {0};
  cleanup_free char *norm = NULL;
  if (berth_reference_parse(name, &r, err) < 0)
    return berth_error_prefix(err, "%s: invalid image name `%s`", where, name);
  if (strict && (r.digest || !r.tag)) {
    berth_reference_clear(&r);
    return berth_error_set_plain(err, EINVAL, "%s: invalid tag `%s`: a reference with a tag and no digest is required",
                                 where, name);
  }
  if (r.digest && !r.tag) {
    berth_reference_clear(&r);
    return 0;
  }
  free(r.digest);
  r.digest = NULL;
  berth_reference_with_default_tag(&r);
  norm = berth_reference_string(&r);
  berth_reference_clear(&r);
  add_unique(tags, norm);
  return 0;
}

/* OCI: podman and docker name an image after "io.containerd.image.name" (a
 * full reference); "org.opencontainers.image.ref.name" is a tag alone per the
 * image spec (docker and skopeo write "latest"), which names no repository,
 * unless it holds a reference (skopeo's oci-archive:FILE:busybox:latest). */
static int add_oci_names(json_t *tags, const json_t *annotations, berth_error_t *err)
{
  const char *full = berth_json_str(annotations, "io.containerd.image.name");
  const char *ref = berth_json_str(annotations, "org.opencontainers.image.ref.name");
  if (full)
    return add_name(tags, full, false, "index.json: annotation io.containerd.image.name", err);
  if (!ref || (berth_reference_tag_is_valid(ref) && !strchr(ref, ':') && !strchr(ref, '/')))
    return 0;
  return add_name(tags, ref, false, "index.json: annotation org.opencontainers.image.ref.name", err);
}

/* ---- reading documents from the archive ---- */

/* Paths under blobs/ must be content-addressed names: "blobs/sha256/<64 hex>". */
static int blob_path_digest(const char *path, char digest[BERTH_DIGEST_STR_LEN], berth_error_t *err)
{
  digest[0] = '\0';
  if (!berth_path_is_clean_relative(path))
    return berth_error_set_plain(err, EINVAL, "archive path `%s` is not a clean relative path", path);
  if (strncmp(path, "blobs/", 6) != 0)
    return 0;
  if (strncmp(path, "blobs/sha256/", 13) != 0 || !berth_hex64_is_valid(path + 13))
    return berth_error_set_plain(err, EINVAL, "invalid blob path `%s`: expected blobs/sha256/<64 hex digits>", path);
  snprintf(digest, BERTH_DIGEST_STR_LEN, "sha256:%s", path + 13);
  return 0;
}

static int check_digest(const char *what, const char *buf, size_t len, const char *expected, berth_error_t *err)
{
  char got[BERTH_DIGEST_STR_LEN];
  berth_sha256_buf(buf, len, got);
  if (strcmp(got, expected) != 0)
    return berth_error_set_plain(err, EINVAL, "%s: digest mismatch: expected `%s`, got `%s`", what, expected, got);
  return 0;
}

static int read_path(struct load_ctx *c, const char *path, size_t max, char **ret_buf, size_t *ret_len,
                     berth_error_t *err)
{
  struct berth_archive_file f;
  char digest[BERTH_DIGEST_STR_LEN];
  if (blob_path_digest(path, digest, err) < 0 || berth_archive_in_find(c->a, path, &f, err) < 0 ||
      berth_archive_in_read_file(c->a, &f, max, ret_buf, ret_len, err) < 0)
    return -1;
  if (digest[0] && check_digest(path, *ret_buf, *ret_len, digest, err) < 0) {
    free(steal_ptr(ret_buf));
    return -1;
  }
  return 0;
}

/* A blob an OCI descriptor names: present, of the stated size and digest. */
static int read_blob(struct load_ctx *c, const struct berth_descriptor *d, size_t max, char **ret_buf, size_t *ret_len,
                     berth_error_t *err)
{
  cleanup_free char *path = NULL;
  struct berth_archive_file f;
  if (asprintf(&path, "blobs/sha256/%s", berth_digest_hex(d->digest)) < 0)
    abort();
  if (berth_archive_in_find(c->a, path, &f, err) < 0)
    return -1;
  if (f.size != d->size)
    return berth_error_set_plain(err, EINVAL, "blob `%s` has %lld bytes, its descriptor says %lld", d->digest,
                                 (long long)f.size, (long long)d->size);
  if (berth_archive_in_read_file(c->a, &f, max, ret_buf, ret_len, err) < 0)
    return -1;
  if (check_digest(path, *ret_buf, *ret_len, d->digest, err) < 0) {
    free(steal_ptr(ret_buf));
    return -1;
  }
  return 0;
}

/* ---- images ---- */

/* Validate the config against the layers, compute ids, and add the image (or
 * merge its names into the same image seen before).  Takes over *img. */
static int finish_image(struct load_ctx *c, struct load_image *img, berth_error_t *err)
{
  cleanup_json json_t *cfg = berth_image_config_parse(img->config, img->config_len, err);
  cleanup_strv char **diff_ids = NULL;
  size_t n_diff = 0;
  if (!cfg)
    return berth_error_prefix(err, "image config");
  if (!(diff_ids = berth_image_config_diff_ids(cfg)))
    return berth_error_set_plain(err, EINVAL, "image config: invalid rootfs.diff_ids");
  while (diff_ids[n_diff])
    n_diff++;
  if (n_diff != img->n_layers)
    return berth_error_set_plain(err, EINVAL, "the image has %zu layers but its config lists %zu diff ids",
                                 img->n_layers, n_diff);
  c->config_bytes += img->config_len;
  if (c->config_bytes > MAX_CONFIG_BYTES)
    return berth_error_set_plain(err, EFBIG, "the archive's image configs exceed %zu MiB in all",
                                 MAX_CONFIG_BYTES >> 20);
  berth_sha256_buf(img->config, img->config_len, img->id);
  for (size_t i = 0; i < n_diff; i++) {
    snprintf(img->layers[i].diff_id, BERTH_DIGEST_STR_LEN, "%s", diff_ids[i]);
    berth_chain_id(i ? img->layers[i - 1].chain_id : NULL, diff_ids[i], img->layers[i].chain_id);
  }
  for (size_t i = 0; i < c->n; i++) {
    size_t k;
    json_t *v;
    if (strcmp(c->images[i].id, img->id) != 0)
      continue;
    json_array_foreach(img->tags, k, v) add_unique(c->images[i].tags, json_string_value(v));
    load_image_clear(img);
    return 0;
  }
  if (c->n == c->cap) {
    c->cap = c->cap ? c->cap * 2 : 4;
    if (!(c->images = realloc(c->images, c->cap * sizeof(*c->images))))
      abort();
  }
  c->images[c->n++] = *img;
  memset(img, 0, sizeof(*img));
  return 0;
}

static int alloc_layers(struct load_ctx *c, struct load_image *img, size_t n, berth_error_t *err)
{
  if (n > BERTH_OCI_MAX_LAYERS)
    return berth_error_set_plain(err, EINVAL, "the image has more than %d layers", BERTH_OCI_MAX_LAYERS);
  c->layer_refs += n;
  if (c->layer_refs > BERTH_ARCHIVE_MAX_LAYER_REFS)
    return berth_error_set_plain(err, EFBIG, "the archive lists more than %d layers in all",
                                 BERTH_ARCHIVE_MAX_LAYER_REFS);
  if (!(img->layers = calloc(n + 1, sizeof(*img->layers))))
    abort();
  img->n_layers = n;
  return 0;
}

/* ---- docker-archive: manifest.json ---- */

static int docker_tags(struct load_image *img, const json_t *tags, berth_error_t *err)
{
  size_t i;
  json_t *v;
  if (tags && !json_is_null(tags) && !json_is_array(tags))
    return berth_error_set_plain(err, EINVAL, "RepoTags is not an array");
  json_array_foreach(tags, i, v)
  {
    if (!json_is_string(v))
      return berth_error_set_plain(err, EINVAL, "RepoTags holds a non-string");
    if (add_name(img->tags, json_string_value(v), true, "RepoTags", err) < 0)
      return -1;
  }
  return 0;
}

static int docker_layers(struct load_ctx *c, struct load_image *img, const json_t *layers, berth_error_t *err)
{
  size_t i;
  json_t *v;
  if (layers && !json_is_null(layers) && !json_is_array(layers))
    return berth_error_set_plain(err, EINVAL, "Layers is not an array");
  if (alloc_layers(c, img, json_array_size(layers), err) < 0)
    return -1;
  json_array_foreach(layers, i, v)
  {
    struct load_layer *l = &img->layers[i];
    if (!json_is_string(v))
      return berth_error_set_plain(err, EINVAL, "Layers holds a non-string");
    if (blob_path_digest(json_string_value(v), l->blob, err) < 0 ||
        berth_archive_in_find(c->a, json_string_value(v), &l->file, err) < 0)
      return berth_error_prefix(err, "layer %zu", i);
  }
  return 0;
}

/* The fields of a manifest.json item besides RepoTags and Layers. */
static int docker_item_check(const json_t *item, berth_error_t *err)
{
  const json_t *parent = json_object_get(item, "Parent");
  const json_t *sources = json_object_get(item, "LayerSources");
  if (!json_is_object(item))
    return berth_error_set_plain(err, EINVAL, "not an object");
  if (!berth_json_str(item, "Config"))
    return berth_error_set_plain(err, EINVAL, "no Config");
  if (parent && !json_is_null(parent) && !berth_digest_is_valid(json_string_value(parent) ?: ""))
    return berth_error_set_plain(err, EINVAL, "invalid Parent: a sha256 digest is required");
  if (sources && !json_is_null(sources) && !json_is_object(sources))
    return berth_error_set_plain(err, EINVAL, "LayerSources is not an object");
  return 0;
}

static int plan_docker_item(struct load_ctx *c, const json_t *item, berth_error_t *err)
{
  struct load_image img = {.tags = json_array()};
  int r = docker_item_check(item, err);
  if (r == 0)
    r = docker_tags(&img, json_object_get(item, "RepoTags"), err);
  if (r == 0)
    r = docker_layers(c, &img, json_object_get(item, "Layers"), err);
  if (r == 0 &&
      read_path(c, berth_json_str(item, "Config"), BERTH_OCI_MAX_CONFIG_SIZE, &img.config, &img.config_len, err) < 0)
    r = berth_error_prefix(err, "config");
  if (r == 0)
    r = finish_image(c, &img, err);
  load_image_clear(&img);
  return r;
}

/* The legacy `repositories` file ({"repo": {"tag": "<v1 id>"}}) is not used,
 * but a hostile one is refused rather than ignored (CVE-2014-9358: ids that
 * older engines turned into paths). */
static int check_repositories(struct load_ctx *c, berth_error_t *err)
{
  struct berth_archive_file f;
  cleanup_free char *buf = NULL;
  cleanup_json json_t *j = NULL;
  size_t len = 0;
  const char *repo, *tag;
  json_t *tags, *id;
  if (berth_archive_in_find(c->a, "repositories", &f, NULL) < 0)
    return 0;
  if (berth_archive_in_read_file(c->a, &f, BERTH_ARCHIVE_MAX_JSON, &buf, &len, err) < 0 ||
      !(j = berth_json_loadb(buf, len, "repositories", err)))
    return -1;
  if (!json_is_object(j))
    return berth_error_set_plain(err, EINVAL, "repositories: not an object");
  json_object_foreach(j, repo, tags)
  {
    struct berth_reference r = {0};
    if (berth_reference_parse(repo, &r, err) < 0)
      return berth_error_prefix(err, "repositories: invalid repository `%s`", repo);
    berth_reference_clear(&r);
    if (!json_is_object(tags))
      return berth_error_set_plain(err, EINVAL, "repositories: `%s` is not an object", repo);
    json_object_foreach(tags, tag, id)
    {
      if (!berth_reference_tag_is_valid(tag))
        return berth_error_set_plain(err, EINVAL, "repositories: invalid tag `%s`", tag);
      if (!json_is_string(id) || !berth_hex64_is_valid(json_string_value(id)))
        return berth_error_set_plain(err, EINVAL, "repositories: `%s:%s`: invalid image id: 64 hex digits required",
                                     repo, tag);
    }
  }
  return 0;
}

static int plan_docker(struct load_ctx *c, berth_error_t *err)
{
  cleanup_free char *buf = NULL;
  cleanup_json json_t *j = NULL;
  size_t len = 0, i;
  json_t *item;
  if (check_repositories(c, err) < 0 || read_path(c, "manifest.json", BERTH_ARCHIVE_MAX_JSON, &buf, &len, err) < 0 ||
      !(j = berth_json_loadb(buf, len, "manifest.json", err)))
    return -1;
  if (!json_is_array(j) || json_array_size(j) == 0)
    return berth_error_set_plain(err, EINVAL, "manifest.json: expected a non-empty array of images");
  if (json_array_size(j) > BERTH_ARCHIVE_MAX_IMAGES)
    return berth_error_set_plain(err, EINVAL, "manifest.json: more than %d images", BERTH_ARCHIVE_MAX_IMAGES);
  json_array_foreach(j, i, item) if (plan_docker_item(c, item, err) <
                                     0) return berth_error_prefix(err, "manifest.json: image %zu", i);
  return 0;
}

/* ---- OCI layout: oci-layout, index.json, blobs/ ---- */

static int check_layout(struct load_ctx *c, berth_error_t *err)
{
  cleanup_free char *buf = NULL;
  cleanup_json json_t *j = NULL;
  size_t len = 0;
  if (read_path(c, "oci-layout", MAX_LAYOUT_FILE, &buf, &len, err) < 0 ||
      !(j = berth_json_loadb(buf, len, "oci-layout", err)))
    return -1;
  if (!berth_json_str(j, "imageLayoutVersion"))
    return berth_error_set_plain(err, EINVAL, "oci-layout: no imageLayoutVersion");
  return 0;
}

static int oci_layers(struct load_ctx *c, struct load_image *img, const struct berth_manifest *m, berth_error_t *err)
{
  if (alloc_layers(c, img, m->n_layers, err) < 0)
    return -1;
  for (size_t i = 0; i < m->n_layers; i++) {
    const struct berth_descriptor *d = &m->layers[i];
    struct load_layer *l = &img->layers[i];
    cleanup_free char *path = NULL;
    if (!berth_media_type_is_layer(d->media_type))
      return berth_error_set_plain(err, EINVAL, "layer %zu: unsupported media type `%s`", i, d->media_type);
    if (asprintf(&path, "blobs/sha256/%s", berth_digest_hex(d->digest)) < 0)
      abort();
    if (berth_archive_in_find(c->a, path, &l->file, err) < 0)
      return berth_error_prefix(err, "layer %zu%s", i, d->urls ? " (foreign layers are not fetched)" : "");
    if (l->file.size != d->size)
      return berth_error_set_plain(err, EINVAL, "layer %zu: blob `%s` has %lld bytes, its descriptor says %lld", i,
                                   d->digest, (long long)l->file.size, (long long)d->size);
    memcpy(l->blob, d->digest, BERTH_DIGEST_STR_LEN);
  }
  return 0;
}

static int plan_oci_manifest(struct load_ctx *c, const struct berth_descriptor *md, const json_t *annotations,
                             berth_error_t *err)
{
  struct load_image img = {.tags = json_array()};
  struct berth_manifest m = {0};
  int r = -1;
  if (read_blob(c, md, BERTH_OCI_MAX_MANIFEST_SIZE, &img.manifest, &img.manifest_len, err) < 0 ||
      berth_manifest_parse(img.manifest, img.manifest_len, &m, err) < 0)
    berth_error_prefix(err, "manifest `%s`", md->digest);
  else if (!berth_media_type_is_config(m.config.media_type))
    berth_error_set_plain(err, EINVAL, "manifest `%s` is not an image: config media type `%s`", md->digest,
                          m.config.media_type);
  else if (read_blob(c, &m.config, BERTH_OCI_MAX_CONFIG_SIZE, &img.config, &img.config_len, err) < 0)
    berth_error_prefix(err, "manifest `%s`: config", md->digest);
  else if (oci_layers(c, &img, &m, err) < 0 || add_oci_names(img.tags, annotations, err) < 0 ||
           finish_image(c, &img, err) < 0)
    berth_error_prefix(err, "manifest `%s`", md->digest);
  else
    r = 0;
  berth_manifest_clear(&m);
  load_image_clear(&img);
  return r;
}

/* A nested index (a multi-platform image): the host's manifest. */
static int plan_oci_index(struct load_ctx *c, const struct berth_descriptor *d, berth_error_t *err)
{
  cleanup_free char *buf = NULL;
  struct berth_index idx = {0};
  const struct berth_descriptor *sel;
  size_t len = 0;
  int r = -1;
  if (read_blob(c, d, BERTH_OCI_MAX_MANIFEST_SIZE, &buf, &len, err) < 0 || berth_index_parse(buf, len, &idx, err) < 0)
    return berth_error_prefix(err, "index `%s`", d->digest);
  if ((sel = berth_index_select(&idx, NULL, err)))
    r = plan_oci_manifest(c, sel, d->annotations, err);
  else
    berth_error_prefix(err, "index `%s`", d->digest);
  berth_index_clear(&idx);
  return r;
}

static int plan_oci(struct load_ctx *c, berth_error_t *err)
{
  cleanup_free char *buf = NULL;
  struct berth_index idx = {0};
  size_t len = 0;
  int r = 0;
  if (check_layout(c, err) < 0 || read_path(c, "index.json", BERTH_OCI_MAX_MANIFEST_SIZE, &buf, &len, err) < 0 ||
      berth_index_parse(buf, len, &idx, err) < 0)
    return berth_error_prefix(err, "OCI layout");
  for (size_t i = 0; i < idx.n_manifests && r == 0; i++) {
    const struct berth_descriptor *d = &idx.manifests[i];
    /* Other artifacts (signatures, attestations) may sit beside images. */
    if (berth_media_type_is_index(d->media_type))
      r = plan_oci_index(c, d, err);
    else if (berth_media_type_is_manifest(d->media_type))
      r = plan_oci_manifest(c, d, d->annotations, err);
    if (r < 0)
      berth_error_prefix(err, "index.json: entry %zu", i);
  }
  berth_index_clear(&idx);
  if (r == 0 && c->n == 0)
    r = berth_error_set_plain(err, EINVAL, "index.json lists no images");
  return r;
}

static int plan(struct load_ctx *c, berth_error_t *err)
{
  struct berth_archive_file f;
  cleanup_error berth_error_t missing = NULL;
  if (berth_archive_in_find(c->a, "manifest.json", &f, &missing) == 0)
    return plan_docker(c, err);
  if (missing->code != ENOENT) {
    *err = steal_ptr(&missing);
    return -1;
  }
  if (berth_archive_in_find(c->a, "index.json", &f, NULL) < 0 &&
      berth_archive_in_find(c->a, "oci-layout", &f, NULL) < 0)
    return berth_error_set_plain(err, EINVAL, "not an image archive: no manifest.json, index.json or oci-layout");
  return plan_oci(c, err);
}

/* ---- stage and commit ---- */

static int stage_all(struct load_ctx *c, berth_error_t *err)
{
  size_t total = 0;
  for (size_t i = 0; i < c->n; i++)
    total += c->images[i].n_layers;
  if (!(c->staged = calloc(total + 1, sizeof(*c->staged))))
    abort();
  c->staged_chains = json_object();
  for (size_t i = 0; i < c->n; i++) {
    const struct load_image *img = &c->images[i];
    for (size_t k = 0; k < img->n_layers; k++) {
      const struct load_layer *l = &img->layers[k];
      struct staged_layer *sl = &c->staged[c->n_staged];
      /* Leased first, so that a collection cannot take a layer we reuse. */
      if (berth_store_lease(c->s, l->chain_id, err) < 0)
        return -1;
      if (json_object_get(c->staged_chains, l->chain_id) || berth_layer_exists(c->s, l->chain_id))
        continue;
      if (berth_archive_in_stage(c->s, c->a, &l->file, l->blob[0] ? l->blob : NULL, l->diff_id, &sl->st, err) < 0)
        return -1;
      snprintf(sl->parent, sizeof(sl->parent), "%s", k ? img->layers[k - 1].chain_id : "");
      c->n_staged++;
      json_object_set_new(c->staged_chains, l->chain_id, json_true());
    }
  }
  return 0;
}

/* Keep the archived OCI manifest only when the store holds every blob it
 * names (a layer that was already present may be stored in another form). */
static bool manifest_blobs_stored(struct load_ctx *c, const struct load_image *img)
{
  if (!img->manifest)
    return false;
  for (size_t i = 0; i < img->n_layers; i++)
    if (!berth_blob_exists(c->s, img->layers[i].blob))
      return false;
  return true;
}

static int commit_all(struct load_ctx *c, berth_error_t *err)
{
  for (size_t i = 0; i < c->n_staged; i++) {
    struct staged_layer *sl = &c->staged[i];
    if (berth_archive_in_commit(c->s, c->a, &sl->st, sl->parent[0] ? sl->parent : NULL, NULL, err) < 0)
      return -1;
  }
  for (size_t i = 0; i < c->n; i++) {
    struct load_image *img = &c->images[i];
    struct berth_image_register_opts opts = {0};
    cleanup_free char *id = NULL;
    if (manifest_blobs_stored(c, img)) {
      opts.manifest = img->manifest;
      opts.manifest_len = img->manifest_len;
    }
    if (berth_image_register_raw(c->s, img->config, img->config_len, &opts, &id, err) < 0)
      return -1;
  }
  return 0;
}

static char *familiar(const char *ref)
{
  struct berth_reference r = {0};
  char *s;
  if (berth_reference_parse(ref, &r, NULL) < 0)
    return strdup(ref);
  s = berth_reference_familiar_string(&r);
  berth_reference_clear(&r);
  return s;
}

static void tag_image(json_t *table, const struct load_image *img, json_t *lines)
{
  size_t i;
  json_t *v;
  json_array_foreach(img->tags, i, v)
  {
    const char *name = json_string_value(v);
    const char *old = berth_images_name_owner(table, name);
    cleanup_free char *fam = familiar(name);
    if (old && strcmp(old, img->id) != 0)
      json_array_append_new(lines, json_sprintf("The image %s already exists, renaming the old one with ID %s to "
                                                "empty string",
                                                fam, old));
    berth_images_set_name(table, img->id, name);
    json_object_set_new(json_object_get(json_object_get(table, "images"), img->id), "tagged",
                        json_integer(berth_now_ns()));
    json_array_append_new(lines, json_sprintf("Loaded image: %s", fam));
  }
  if (json_array_size(img->tags) == 0)
    json_array_append_new(lines, json_sprintf("Loaded image ID: %s", img->id));
}

static json_t *apply_names(struct load_ctx *c, berth_error_t *err)
{
  cleanup_close int lock = berth_store_lock(c->s, err);
  cleanup_json json_t *table = NULL;
  cleanup_json json_t *lines = json_array();
  if (lock < 0 || !(table = berth_images_load(c->s, err)))
    return NULL;
  for (size_t i = 0; i < c->n; i++)
    tag_image(table, &c->images[i], lines);
  if (berth_images_save(c->s, table, err) < 0)
    return NULL;
  return steal_ptr(&lines);
}

json_t *berth_archive_load(struct berth_store *s, int in_fd, berth_error_t *err)
{
  struct load_ctx c = {.s = s};
  json_t *lines = NULL;
  if (berth_archive_in_read(s, in_fd, &c.a, err) == 0 && plan(&c, err) == 0 && stage_all(&c, err) == 0 &&
      commit_all(&c, err) == 0)
    lines = apply_names(&c, err);
  if (!lines)
    berth_error_prefix(err, "load");
  load_ctx_clear(&c);
  return lines;
}
