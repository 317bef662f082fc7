/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OCI / Docker schema 2 image documents: strict parsing and validation of
 * manifests, indexes (manifest lists) and image configs from untrusted bytes,
 * canonical serialisation, and platform selection from an index. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "oci/image-spec.h"

/* NULL when absent or JSON null: Go decoders treat null as "not set". */
static json_t *opt_get(const json_t *obj, const char *key)
{
  json_t *v = json_object_get(obj, key);
  return json_is_null(v) ? NULL : v;
}

/* ---------------------------------------------------------------- media types */

static const char *const manifest_types[] = {BERTH_MEDIA_OCI_MANIFEST, BERTH_MEDIA_DOCKER_MANIFEST, NULL};
static const char *const index_types[] = {BERTH_MEDIA_OCI_INDEX, BERTH_MEDIA_DOCKER_MANIFEST_LIST, NULL};
static const char *const config_types[] = {BERTH_MEDIA_OCI_CONFIG, BERTH_MEDIA_DOCKER_CONFIG, NULL};
static const char *const foreign_types[] = {BERTH_MEDIA_OCI_LAYER_ND, BERTH_MEDIA_OCI_LAYER_ND_GZIP,
                                            BERTH_MEDIA_OCI_LAYER_ND_ZSTD, BERTH_MEDIA_DOCKER_LAYER_FOREIGN,
                                            BERTH_MEDIA_DOCKER_LAYER_FOREIGN_GZIP, NULL};
static const char *const layer_types[] = {
    BERTH_MEDIA_OCI_LAYER,        BERTH_MEDIA_OCI_LAYER_GZIP,        BERTH_MEDIA_OCI_LAYER_ZSTD,
    BERTH_MEDIA_OCI_LAYER_ND,     BERTH_MEDIA_OCI_LAYER_ND_GZIP,     BERTH_MEDIA_OCI_LAYER_ND_ZSTD,
    BERTH_MEDIA_DOCKER_LAYER,     BERTH_MEDIA_DOCKER_LAYER_GZIP,     BERTH_MEDIA_DOCKER_LAYER_FOREIGN,
    BERTH_MEDIA_DOCKER_LAYER_FOREIGN_GZIP, NULL};

static bool in_list(const char *const *list, const char *s)
{
  if (!s)
    return false;
  for (; *list; list++)
    if (strcmp(*list, s) == 0)
      return true;
  return false;
}

bool berth_media_type_is_manifest(const char *media_type) { return in_list(manifest_types, media_type); }
bool berth_media_type_is_index(const char *media_type) { return in_list(index_types, media_type); }
bool berth_media_type_is_config(const char *media_type) { return in_list(config_types, media_type); }
bool berth_media_type_is_layer(const char *media_type) { return in_list(layer_types, media_type); }
bool berth_media_type_is_foreign_layer(const char *media_type) { return in_list(foreign_types, media_type); }

static bool has_suffix(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

enum berth_compression berth_layer_compression(const char *media_type)
{
  if (!berth_media_type_is_layer(media_type))
    return BERTH_COMPRESSION_NONE;
  if (has_suffix(media_type, "gzip"))
    return BERTH_COMPRESSION_GZIP;
  if (has_suffix(media_type, "zstd"))
    return BERTH_COMPRESSION_ZSTD;
  return BERTH_COMPRESSION_NONE;
}

static bool is_schema1(const char *media_type)
{
  return media_type &&
         (strcmp(media_type, BERTH_MEDIA_DOCKER_SCHEMA1) == 0 || strcmp(media_type, BERTH_MEDIA_DOCKER_SCHEMA1_SIGNED) == 0);
}

/* RFC 6838 as the image-spec restricts it:
 * [A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126} "/" same. */
static bool media_name_len(const char *s, size_t *ret_len)
{
  size_t i = 0;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')))
    return false;
  for (i = 1; s[i] && s[i] != '/'; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("!#$&^_.+-", c)))
      return false;
    if (i >= 127)
      return false;
  }
  *ret_len = i;
  return true;
}

static bool media_type_syntax_is_valid(const char *s)
{
  size_t n = 0;
  if (!s || !media_name_len(s, &n) || s[n] != '/')
    return false;
  s += n + 1;
  return media_name_len(s, &n) && s[n] == '\0';
}

/* ---------------------------------------------------------------- descriptors */

void berth_descriptor_clear(struct berth_descriptor *d)
{
  if (!d)
    return;
  free(d->media_type);
  berth_strv_free(d->urls);
  free(d->os);
  free(d->architecture);
  free(d->variant);
  json_decref(d->annotations);
  memset(d, 0, sizeof(*d));
}

/* An optional object whose values are all strings; *ret gets a new reference. */
static int parse_annotations(const json_t *obj, json_t **ret, berth_error_t *err)
{
  json_t *a = opt_get(obj, "annotations"), *v;
  const char *key;
  if (!a)
    return 0;
  if (!json_is_object(a))
    return berth_error_set_plain(err, EINVAL, "annotations must be an object");
  json_object_foreach(a, key, v)
  {
    if (!json_is_string(v))
      return berth_error_set_plain(err, EINVAL, "annotation `%.100s` must be a string", key);
  }
  *ret = json_incref(a);
  return 0;
}

static int check_string_array(const json_t *a, const char *what, berth_error_t *err)
{
  size_t i;
  json_t *v;
  if (!json_is_array(a))
    return berth_error_set_plain(err, EINVAL, "%s must be an array of strings", what);
  json_array_foreach(a, i, v)
  {
    if (!json_is_string(v))
      return berth_error_set_plain(err, EINVAL, "%s must be an array of strings", what);
  }
  return 0;
}

static int parse_urls(const json_t *obj, char ***ret, berth_error_t *err)
{
  json_t *a = opt_get(obj, "urls"), *v;
  size_t i;
  char **urls;
  if (!a)
    return 0;
  if (check_string_array(a, "urls", err) < 0)
    return -1;
  urls = xcalloc(json_array_size(a) + 1, sizeof(char *));
  json_array_foreach(a, i, v) urls[i] = xstrdup(json_string_value(v));
  *ret = urls;
  return 0;
}

static int opt_string(const json_t *obj, const char *key, berth_error_t *err)
{
  json_t *v = opt_get(obj, key);
  if (v && !json_is_string(v))
    return berth_error_set_plain(err, EINVAL, "%s must be a string", key);
  return 0;
}

static int opt_string_array(const json_t *obj, const char *key, berth_error_t *err)
{
  json_t *v = opt_get(obj, key);
  return v ? check_string_array(v, key, err) : 0;
}

static int parse_platform(const json_t *obj, struct berth_descriptor *d, berth_error_t *err)
{
  json_t *p = opt_get(obj, "platform"), *os, *arch;
  if (!p)
    return 0;
  if (!json_is_object(p))
    return berth_error_set_plain(err, EINVAL, "platform must be an object");
  os = json_object_get(p, "os");
  arch = json_object_get(p, "architecture");
  if (!json_is_string(os) || !json_is_string(arch))
    return berth_error_set_plain(err, EINVAL, "platform must have string os and architecture");
  if (opt_string(p, "variant", err) < 0 || opt_string(p, "os.version", err) < 0 ||
      opt_string_array(p, "os.features", err) < 0 || opt_string_array(p, "features", err) < 0)
    return berth_error_prefix(err, "platform");
  d->os = xstrdup(json_string_value(os));
  d->architecture = xstrdup(json_string_value(arch));
  if (opt_get(p, "variant"))
    d->variant = xstrdup(json_string_value(json_object_get(p, "variant")));
  return 0;
}

static int parse_size(const json_t *obj, int64_t *ret, berth_error_t *err)
{
  json_t *v = json_object_get(obj, "size");
  json_int_t n;
  if (!json_is_integer(v))
    return berth_error_set_plain(err, EINVAL, "size must be an integer");
  n = json_integer_value(v);
  if (n < 0 || n > BERTH_OCI_MAX_BLOB_SIZE)
    return berth_error_set_plain(err, EINVAL, "size %lld out of range 0..2^53-1", (long long)n);
  *ret = (int64_t)n;
  return 0;
}

/* Fill *d from a descriptor object; *d may be half-built on failure. */
static int parse_descriptor(const json_t *j, struct berth_descriptor *d, berth_error_t *err)
{
  json_t *mt, *dg;
  if (!json_is_object(j))
    return berth_error_set_plain(err, EINVAL, "descriptor must be an object");
  mt = json_object_get(j, "mediaType");
  if (!json_is_string(mt) || !media_type_syntax_is_valid(json_string_value(mt)))
    return berth_error_set_plain(err, EINVAL, "mediaType must be a valid media type");
  d->media_type = xstrdup(json_string_value(mt));
  dg = json_object_get(j, "digest");
  if (!json_is_string(dg))
    return berth_error_set_plain(err, EINVAL, "digest must be a string");
  if (berth_digest_validate(json_string_value(dg), err) < 0)
    return -1;
  memcpy(d->digest, json_string_value(dg), BERTH_DIGEST_STR_LEN);
  if (parse_size(j, &d->size, err) < 0 || parse_urls(j, &d->urls, err) < 0 ||
      parse_annotations(j, &d->annotations, err) < 0 || parse_platform(j, d, err) < 0)
    return -1;
  if (opt_string(j, "data", err) < 0 || opt_string(j, "artifactType", err) < 0)
    return -1;
  return 0;
}

/* ---------------------------------------------------------------- documents */

static int doc_load(const char *buf, size_t len, size_t max, const char *what, json_t **ret, berth_error_t *err)
{
  json_t *j;
  if (!buf)
    return berth_error_set_plain(err, EINVAL, "parse %s: no data", what);
  if (len > max)
    return berth_error_set_plain(err, EFBIG, "%s too large (%zu bytes, limit %zu)", what, len, max);
  if (!(j = berth_json_loadb(buf, len, what, err)))
    return -1;
  if (!json_is_object(j)) {
    json_decref(j);
    return berth_error_set_plain(err, EINVAL, "parse %s: not a JSON object", what);
  }
  *ret = j;
  return 0;
}

static int check_schema_version(const json_t *j, berth_error_t *err)
{
  json_t *v = json_object_get(j, "schemaVersion");
  if (!json_is_integer(v))
    return berth_error_set_plain(err, EINVAL, "schemaVersion must be an integer");
  if (json_integer_value(v) == 1)
    return berth_error_set_plain(err, ENOTSUP, "docker schema 1 manifests are not supported");
  if (json_integer_value(v) != 2)
    return berth_error_set_plain(err, EINVAL, "unsupported schemaVersion %lld", (long long)json_integer_value(v));
  return 0;
}

/* mediaType of a manifest or index document: optional, but when present it
 * must be one of `expected`.  Returns the effective media type (borrowed). */
static const char *doc_media_type(const json_t *j, const char *const *expected, berth_error_t *err)
{
  json_t *v = opt_get(j, "mediaType");
  const char *mt;
  if (!v)
    return expected[0];
  if (!json_is_string(v)) {
    berth_error_set_plain(err, EINVAL, "mediaType must be a string");
    return NULL;
  }
  mt = json_string_value(v);
  if (in_list(expected, mt))
    return mt;
  if (is_schema1(mt))
    berth_error_set_plain(err, ENOTSUP, "docker schema 1 manifests are not supported");
  else if (berth_media_type_is_manifest(mt) || berth_media_type_is_index(mt))
    berth_error_set_plain(err, EINVAL, "unexpected media type `%s`", mt);
  else
    berth_error_set_plain(err, EINVAL, "unsupported media type `%.128s`", mt);
  return NULL;
}

static int parse_config_descriptor(const json_t *j, const char *manifest_type, struct berth_descriptor *d,
                                   berth_error_t *err)
{
  bool docker = strcmp(manifest_type, BERTH_MEDIA_DOCKER_MANIFEST) == 0;
  const char *want = docker ? BERTH_MEDIA_DOCKER_CONFIG : BERTH_MEDIA_OCI_CONFIG;
  json_t *c = json_object_get(j, "config");
  if (!c)
    return berth_error_set_plain(err, EINVAL, "config is missing");
  if (parse_descriptor(c, d, err) < 0)
    return berth_error_prefix(err, "config");
  if (strcmp(d->media_type, want) == 0)
    return 0;
  if (berth_media_type_is_config(d->media_type))
    return berth_error_set_plain(err, EINVAL, "config media type `%s` does not match manifest media type `%s`",
                           d->media_type, manifest_type);
  return berth_error_set_plain(err, EINVAL, "config media type `%.128s` is not an image config", d->media_type);
}

static int parse_layers(const json_t *j, struct berth_manifest *m, berth_error_t *err)
{
  json_t *a = json_object_get(j, "layers"), *v;
  size_t i;
  if (!json_is_array(a))
    return berth_error_set_plain(err, EINVAL, "layers must be an array");
  if (json_array_size(a) > BERTH_OCI_MAX_LAYERS)
    return berth_error_set_plain(err, EINVAL, "too many layers (%zu, limit %d)", json_array_size(a), BERTH_OCI_MAX_LAYERS);
  m->layers = xcalloc(json_array_size(a), sizeof(*m->layers));
  json_array_foreach(a, i, v)
  {
    struct berth_descriptor *d = &m->layers[i];
    m->n_layers = i + 1;
    if (parse_descriptor(v, d, err) < 0)
      return berth_error_prefix(err, "layers[%zu]", i);
    if (!berth_media_type_is_layer(d->media_type))
      return berth_error_set_plain(err, EINVAL, "layers[%zu]: unsupported layer media type `%.128s`", i, d->media_type);
  }
  return 0;
}

static int manifest_from_json(const json_t *j, struct berth_manifest *m, berth_error_t *err)
{
  const char *mt;
  /* CVE-2021-41190: a manifest must not also read as an index. */
  if (json_object_get(j, "manifests"))
    return berth_error_set_plain(err, EINVAL, "ambiguous document: a manifest must not have \"manifests\"");
  if (check_schema_version(j, err) < 0 || !(mt = doc_media_type(j, manifest_types, err)))
    return -1;
  m->schema_version = 2;
  m->media_type = xstrdup(mt);
  if (parse_config_descriptor(j, m->media_type, &m->config, err) < 0 || parse_layers(j, m, err) < 0)
    return -1;
  return parse_annotations(j, &m->annotations, err);
}

int berth_manifest_parse(const char *buf, size_t len, struct berth_manifest *ret, berth_error_t *err)
{
  cleanup_json json_t *j = NULL;
  struct berth_manifest m = {0};
  memset(ret, 0, sizeof(*ret));
  if (doc_load(buf, len, BERTH_OCI_MAX_MANIFEST_SIZE, "manifest", &j, err) < 0)
    return -1;
  if (manifest_from_json(j, &m, err) < 0) {
    berth_manifest_clear(&m);
    return berth_error_prefix(err, "invalid manifest");
  }
  *ret = m;
  return 0;
}

static int index_from_json(const json_t *j, struct berth_index *idx, berth_error_t *err)
{
  json_t *a, *v;
  const char *mt;
  size_t i;
  if (json_object_get(j, "layers") || json_object_get(j, "config"))
    return berth_error_set_plain(err, EINVAL, "ambiguous document: an index must not have \"layers\" or \"config\"");
  if (check_schema_version(j, err) < 0 || !(mt = doc_media_type(j, index_types, err)))
    return -1;
  idx->schema_version = 2;
  idx->media_type = xstrdup(mt);
  a = json_object_get(j, "manifests");
  if (!json_is_array(a))
    return berth_error_set_plain(err, EINVAL, "manifests must be an array");
  if (json_array_size(a) > BERTH_OCI_MAX_MANIFESTS)
    return berth_error_set_plain(err, EINVAL, "too many manifests (%zu, limit %d)", json_array_size(a),
                           BERTH_OCI_MAX_MANIFESTS);
  idx->manifests = xcalloc(json_array_size(a), sizeof(*idx->manifests));
  json_array_foreach(a, i, v)
  {
    idx->n_manifests = i + 1;
    if (parse_descriptor(v, &idx->manifests[i], err) < 0)
      return berth_error_prefix(err, "manifests[%zu]", i);
  }
  return parse_annotations(j, &idx->annotations, err);
}

int berth_index_parse(const char *buf, size_t len, struct berth_index *ret, berth_error_t *err)
{
  cleanup_json json_t *j = NULL;
  struct berth_index idx = {0};
  memset(ret, 0, sizeof(*ret));
  if (doc_load(buf, len, BERTH_OCI_MAX_MANIFEST_SIZE, "index", &j, err) < 0)
    return -1;
  if (index_from_json(j, &idx, err) < 0) {
    berth_index_clear(&idx);
    return berth_error_prefix(err, "invalid index");
  }
  *ret = idx;
  return 0;
}

static int detect_from_json(const json_t *j, enum berth_oci_kind *ret, berth_error_t *err)
{
  bool has_manifests = json_object_get(j, "manifests") != NULL;
  bool has_image = json_object_get(j, "layers") || json_object_get(j, "config");
  json_t *v = opt_get(j, "mediaType");
  const char *mt;
  if (has_manifests && has_image)
    return berth_error_set_plain(err, EINVAL, "ambiguous document: both \"manifests\" and \"layers\"/\"config\"");
  if (!v) {
    if (json_integer_value(json_object_get(j, "schemaVersion")) == 1)
      return berth_error_set_plain(err, ENOTSUP, "docker schema 1 manifests are not supported");
    if (!has_manifests && !has_image)
      return berth_error_set_plain(err, EINVAL, "neither a manifest nor an index");
    *ret = has_manifests ? BERTH_OCI_KIND_INDEX : BERTH_OCI_KIND_MANIFEST;
    return 0;
  }
  if (!json_is_string(v))
    return berth_error_set_plain(err, EINVAL, "mediaType must be a string");
  mt = json_string_value(v);
  if (berth_media_type_is_manifest(mt) && !has_manifests)
    *ret = BERTH_OCI_KIND_MANIFEST;
  else if (berth_media_type_is_index(mt) && !has_image)
    *ret = BERTH_OCI_KIND_INDEX;
  else if (is_schema1(mt))
    return berth_error_set_plain(err, ENOTSUP, "docker schema 1 manifests are not supported");
  else if (berth_media_type_is_manifest(mt) || berth_media_type_is_index(mt))
    return berth_error_set_plain(err, EINVAL, "media type `%s` does not match the document's fields", mt);
  else
    return berth_error_set_plain(err, EINVAL, "unsupported media type `%.128s`", mt);
  return 0;
}

int berth_oci_detect_kind(const char *buf, size_t len, enum berth_oci_kind *ret, berth_error_t *err)
{
  cleanup_json json_t *j = NULL;
  if (doc_load(buf, len, BERTH_OCI_MAX_MANIFEST_SIZE, "manifest", &j, err) < 0)
    return -1;
  if (detect_from_json(j, ret, err) < 0)
    return berth_error_prefix(err, "invalid manifest");
  return 0;
}

void berth_manifest_clear(struct berth_manifest *m)
{
  if (!m)
    return;
  free(m->media_type);
  berth_descriptor_clear(&m->config);
  for (size_t i = 0; i < m->n_layers; i++)
    berth_descriptor_clear(&m->layers[i]);
  free(m->layers);
  json_decref(m->annotations);
  memset(m, 0, sizeof(*m));
}

void berth_index_clear(struct berth_index *idx)
{
  if (!idx)
    return;
  free(idx->media_type);
  for (size_t i = 0; i < idx->n_manifests; i++)
    berth_descriptor_clear(&idx->manifests[i]);
  free(idx->manifests);
  json_decref(idx->annotations);
  memset(idx, 0, sizeof(*idx));
}

/* ---------------------------------------------------------------- serialising */

/* Our documents hold only strings jansson accepted or constants; a NULL here
 * means out-of-memory or a caller-built string that is not UTF-8: both bugs. */
static void set_new(json_t *obj, const char *key, json_t *v)
{
  if (!v || json_object_set_new(obj, key, v) < 0)
    abort();
}

static void set_str(json_t *obj, const char *key, const char *s)
{
  if (s)
    set_new(obj, key, json_string(s));
}

static json_t *descriptor_to_json(const struct berth_descriptor *d)
{
  json_t *o = json_object();
  if (!o)
    abort();
  set_str(o, "mediaType", d->media_type);
  set_str(o, "digest", d->digest);
  set_new(o, "size", json_integer(d->size));
  if (d->urls) {
    json_t *a = json_array();
    for (char **u = d->urls; a && *u; u++)
      if (json_array_append_new(a, json_string(*u)) < 0)
        abort();
    set_new(o, "urls", a);
  }
  if (d->annotations)
    set_new(o, "annotations", json_deep_copy(d->annotations));
  if (d->os || d->architecture) {
    json_t *p = json_object();
    if (!p)
      abort();
    set_str(p, "architecture", d->architecture ? d->architecture : "");
    set_str(p, "os", d->os ? d->os : "");
    set_str(p, "variant", d->variant);
    set_new(o, "platform", p);
  }
  return o;
}

static json_t *descriptors_to_json(const struct berth_descriptor *d, size_t n)
{
  json_t *a = json_array();
  if (!a)
    abort();
  for (size_t i = 0; i < n; i++)
    if (json_array_append_new(a, descriptor_to_json(&d[i])) < 0)
      abort();
  return a;
}

char *berth_manifest_to_json(const struct berth_manifest *m)
{
  cleanup_json json_t *o = json_object();
  if (!o)
    abort();
  set_new(o, "schemaVersion", json_integer(2));
  set_str(o, "mediaType", m->media_type);
  set_new(o, "config", descriptor_to_json(&m->config));
  set_new(o, "layers", descriptors_to_json(m->layers, m->n_layers));
  if (m->annotations)
    set_new(o, "annotations", json_deep_copy(m->annotations));
  return berth_json_dumps(o);
}

char *berth_index_to_json(const struct berth_index *idx)
{
  cleanup_json json_t *o = json_object();
  if (!o)
    abort();
  set_new(o, "schemaVersion", json_integer(2));
  set_str(o, "mediaType", idx->media_type);
  set_new(o, "manifests", descriptors_to_json(idx->manifests, idx->n_manifests));
  if (idx->annotations)
    set_new(o, "annotations", json_deep_copy(idx->annotations));
  return berth_json_dumps(o);
}

/* ---------------------------------------------------------------- image config */

static bool all_digits(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

static int num(const char *s, size_t n)
{
  int v = 0;
  for (size_t i = 0; i < n; i++)
    v = v * 10 + (s[i] - '0');
  return v;
}

/* RFC 3339 as Go's time.Time decodes it: YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm),
 * with field ranges checked (day against the month, leap years included). */
static bool rfc3339_is_valid(const char *s)
{
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int year, month, day;
  size_t n = strlen(s), i = 19;
  if (n < 20 || !all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) || s[7] != '-' || !all_digits(s + 8, 2) ||
      s[10] != 'T' || !all_digits(s + 11, 2) || s[13] != ':' || !all_digits(s + 14, 2) || s[16] != ':' ||
      !all_digits(s + 17, 2))
    return false;
  year = num(s, 4);
  month = num(s + 5, 2);
  day = num(s + 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > mdays[month - 1] || num(s + 11, 2) > 23 || num(s + 14, 2) > 59 ||
      num(s + 17, 2) > 59)
    return false;
  if (month == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
    return false;
  if (s[i] == '.') {
    size_t start = ++i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++;
    if (i == start)
      return false;
  }
  if (s[i] == 'Z')
    return i + 1 == n;
  if ((s[i] != '+' && s[i] != '-') || n - i != 6 || !all_digits(s + i + 1, 2) || s[i + 3] != ':' ||
      !all_digits(s + i + 4, 2))
    return false;
  return num(s + i + 1, 2) <= 23 && num(s + i + 4, 2) <= 59;
}

enum field_type {
  F_STRING,
  F_BOOL,
  F_INT,
  F_STRV,     /* array of strings */
  F_STRSLICE, /* docker's StrSlice: a string or an array of strings */
  F_STRMAP,   /* object of strings */
  F_SET,      /* object whose values are {} (or null) */
  F_TIME,     /* RFC 3339 string */
  F_HEALTH,
};

struct field_rule {
  const char *key;
  enum field_type type;
};

static const struct field_rule health_rules[] = {
    {"Test", F_STRV},        {"Interval", F_INT}, {"Timeout", F_INT}, {"StartPeriod", F_INT},
    {"StartInterval", F_INT}, {"Retries", F_INT}, {NULL, F_STRING},
};

/* docker's container.Config and the OCI ImageConfig (a subset of it). */
static const struct field_rule container_rules[] = {
    {"Hostname", F_STRING},   {"Domainname", F_STRING},   {"User", F_STRING},
    {"AttachStdin", F_BOOL},  {"AttachStdout", F_BOOL},   {"AttachStderr", F_BOOL},
    {"ExposedPorts", F_SET},  {"Tty", F_BOOL},            {"OpenStdin", F_BOOL},
    {"StdinOnce", F_BOOL},    {"Env", F_STRV},            {"Cmd", F_STRSLICE},
    {"Healthcheck", F_HEALTH}, {"ArgsEscaped", F_BOOL},   {"Image", F_STRING},
    {"Volumes", F_SET},       {"WorkingDir", F_STRING},   {"Entrypoint", F_STRSLICE},
    {"NetworkDisabled", F_BOOL}, {"MacAddress", F_STRING}, {"OnBuild", F_STRV},
    {"Labels", F_STRMAP},     {"StopSignal", F_STRING},   {"StopTimeout", F_INT},
    {"Shell", F_STRSLICE},    {NULL, F_STRING},
};

static const struct field_rule history_rules[] = {
    {"created", F_TIME}, {"created_by", F_STRING}, {"author", F_STRING},
    {"comment", F_STRING}, {"empty_layer", F_BOOL}, {NULL, F_STRING},
};

static const struct field_rule top_rules[] = {
    {"variant", F_STRING},     {"os.version", F_STRING}, {"os.features", F_STRV},
    {"author", F_STRING},      {"created", F_TIME},      {"comment", F_STRING},
    {"container", F_STRING},   {"docker_version", F_STRING}, {"parent", F_STRING},
    {"id", F_STRING},          {"size", F_INT},          {NULL, F_STRING},
};

static int check_rules(const json_t *obj, const struct field_rule *rules, berth_error_t *err);

static bool set_is_valid(const json_t *v)
{
  const char *key;
  json_t *e;
  if (!json_is_object(v))
    return false;
  json_object_foreach((json_t *)v, key, e)
  {
    if (!json_is_object(e) && !json_is_null(e))
      return false;
  }
  return true;
}

static bool strmap_is_valid(const json_t *v)
{
  const char *key;
  json_t *e;
  if (!json_is_object(v))
    return false;
  json_object_foreach((json_t *)v, key, e)
  {
    if (!json_is_string(e))
      return false;
  }
  return true;
}

static int check_field(const json_t *v, const struct field_rule *r, berth_error_t *err)
{
  bool ok = false;
  switch (r->type) {
  case F_STRING:
    ok = json_is_string(v);
    break;
  case F_BOOL:
    ok = json_is_boolean(v);
    break;
  case F_INT:
    ok = json_is_integer(v);
    break;
  case F_STRV:
    ok = check_string_array(v, r->key, NULL) == 0;
    break;
  case F_STRSLICE:
    ok = json_is_string(v) || check_string_array(v, r->key, NULL) == 0;
    break;
  case F_STRMAP:
    ok = strmap_is_valid(v);
    break;
  case F_SET:
    ok = set_is_valid(v);
    break;
  case F_TIME:
    if (json_is_string(v) && !rfc3339_is_valid(json_string_value(v)))
      return berth_error_set_plain(err, EINVAL, "%s `%.64s` is not an RFC 3339 time", r->key, json_string_value(v));
    ok = json_is_string(v);
    break;
  case F_HEALTH:
    if (!json_is_object(v))
      break;
    if (check_rules(v, health_rules, err) < 0)
      return berth_error_prefix(err, "%s", r->key);
    return 0;
  }
  if (!ok)
    return berth_error_set_plain(err, EINVAL, "%s has the wrong type", r->key);
  return 0;
}

static int check_rules(const json_t *obj, const struct field_rule *rules, berth_error_t *err)
{
  for (const struct field_rule *r = rules; r->key; r++) {
    json_t *v = opt_get(obj, r->key);
    if (v && check_field(v, r, err) < 0)
      return -1;
  }
  return 0;
}

static int check_container_config(const json_t *config, const char *key, berth_error_t *err)
{
  json_t *c = opt_get(config, key);
  if (!c)
    return 0;
  if (!json_is_object(c))
    return berth_error_set_plain(err, EINVAL, "%s must be an object", key);
  if (check_rules(c, container_rules, err) < 0)
    return berth_error_prefix(err, "%s", key);
  return 0;
}

static int check_rootfs(const json_t *config, berth_error_t *err)
{
  json_t *r = json_object_get(config, "rootfs"), *ids, *v;
  size_t i;
  if (!json_is_object(r))
    return berth_error_set_plain(err, EINVAL, "rootfs must be an object");
  if (!json_is_string(json_object_get(r, "type")) || strcmp(json_string_value(json_object_get(r, "type")), "layers"))
    return berth_error_set_plain(err, EINVAL, "rootfs.type must be \"layers\"");
  ids = opt_get(r, "diff_ids");
  if (!ids)
    return 0;
  if (!json_is_array(ids))
    return berth_error_set_plain(err, EINVAL, "rootfs.diff_ids must be an array");
  if (json_array_size(ids) > BERTH_OCI_MAX_LAYERS)
    return berth_error_set_plain(err, EINVAL, "too many layers (%zu, limit %d)", json_array_size(ids), BERTH_OCI_MAX_LAYERS);
  json_array_foreach(ids, i, v)
  {
    if (!json_is_string(v))
      return berth_error_set_plain(err, EINVAL, "rootfs.diff_ids[%zu] must be a string", i);
    if (berth_digest_validate(json_string_value(v), err) < 0)
      return berth_error_prefix(err, "rootfs.diff_ids[%zu]", i);
  }
  return 0;
}

static int check_history(const json_t *config, berth_error_t *err)
{
  json_t *h = opt_get(config, "history"), *v;
  size_t i;
  if (!h)
    return 0;
  if (!json_is_array(h))
    return berth_error_set_plain(err, EINVAL, "history must be an array");
  json_array_foreach(h, i, v)
  {
    if (!json_is_object(v))
      return berth_error_set_plain(err, EINVAL, "history[%zu] must be an object", i);
    if (check_rules(v, history_rules, err) < 0)
      return berth_error_prefix(err, "history[%zu]", i);
  }
  return 0;
}

static int config_check(const json_t *config, berth_error_t *err)
{
  const char *arch, *os;
  if (!json_is_object(config))
    return berth_error_set_plain(err, EINVAL, "not a JSON object");
  arch = berth_json_str(config, "architecture");
  os = berth_json_str(config, "os");
  if (!arch || !*arch)
    return berth_error_set_plain(err, EINVAL, "architecture must be a non-empty string");
  if (!os || !*os)
    return berth_error_set_plain(err, EINVAL, "os must be a non-empty string");
  if (check_rules(config, top_rules, err) < 0 || check_container_config(config, "config", err) < 0 ||
      check_container_config(config, "container_config", err) < 0 || check_rootfs(config, err) < 0)
    return -1;
  return check_history(config, err);
}

int berth_image_config_validate(const json_t *config, berth_error_t *err)
{
  if (config_check(config, err) < 0)
    return berth_error_prefix(err, "invalid image config");
  return 0;
}

json_t *berth_image_config_parse(const char *buf, size_t len, berth_error_t *err)
{
  json_t *j = NULL;
  if (doc_load(buf, len, BERTH_OCI_MAX_CONFIG_SIZE, "image config", &j, err) < 0)
    return NULL;
  if (berth_image_config_validate(j, err) < 0) {
    json_decref(j);
    return NULL;
  }
  return j;
}

char **berth_image_config_diff_ids(const json_t *config)
{
  json_t *rootfs = opt_get(config, "rootfs"), *ids = opt_get(rootfs, "diff_ids"), *v;
  char **r;
  size_t i;
  if (!json_is_object(config) || (rootfs && !json_is_object(rootfs)) ||
      (ids && (!json_is_array(ids) || json_array_size(ids) > BERTH_OCI_MAX_LAYERS)))
    return NULL;
  r = xcalloc(json_array_size(ids) + 1, sizeof(char *));
  json_array_foreach(ids, i, v)
  {
    if (!berth_digest_is_valid(json_string_value(v))) {
      berth_strv_free(r);
      return NULL;
    }
    r[i] = xstrdup(json_string_value(v));
  }
  return r;
}

/* ---------------------------------------------------------------- platforms */

static const char *const known_os[] = {"aix",    "android", "darwin", "dragonfly", "freebsd", "hurd",
                                       "illumos", "ios",    "js",     "linux",     "nacl",    "netbsd",
                                       "openbsd", "plan9",  "solaris", "wasip1",   "windows", "zos",
                                       NULL};
static const char *const known_arch[] = {
    "386",      "amd64",     "amd64p32", "arm",   "armbe",   "arm64", "arm64be", "ppc64",   "ppc64le",
    "loong64",  "mips",      "mipsle",   "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc", "riscv",
    "riscv64",  "s390",      "s390x",    "sparc", "sparc64", "wasm",  NULL};

static char *lower_dup(const char *s)
{
  char *r = xstrdup(s ? s : "");
  for (char *p = r; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  return r;
}

static bool streq(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : "") == 0; }

/* containerd's normalizeArch: the canonical architecture and variant
 * (borrowed strings; the variant may be the input itself or NULL). */
static const char *normalize_arch(const char *arch, const char *v, const char **ret_variant)
{
  *ret_variant = v;
  if (streq(arch, "i386")) {
    *ret_variant = NULL;
    return "386";
  }
  if (streq(arch, "x86_64") || streq(arch, "x86-64") || streq(arch, "amd64")) {
    if (streq(v, "v1"))
      *ret_variant = NULL;
    return "amd64";
  }
  if (streq(arch, "aarch64") || streq(arch, "arm64")) {
    if (streq(v, "8") || streq(v, "v8") || streq(v, "v8.0"))
      *ret_variant = NULL;
    return "arm64";
  }
  if (streq(arch, "armhf") || streq(arch, "armel")) {
    *ret_variant = streq(arch, "armhf") ? "v7" : "v6";
    return "arm";
  }
  if (streq(arch, "arm")) {
    if (streq(v, "") || streq(v, "7"))
      *ret_variant = "v7";
    else if (streq(v, "5") || streq(v, "6") || streq(v, "8"))
      *ret_variant = streq(v, "5") ? "v5" : streq(v, "6") ? "v6" : "v8";
  }
  return arch;
}

/* Normalize owned fields in place (containerd's Normalize). */
static void normalize(struct berth_platform *p)
{
  char *arch = p->architecture, *v = p->variant;
  const char *nv = NULL, *na = normalize_arch(arch, v, &nv);
  if (p->os && strcmp(p->os, "macos") == 0) {
    free(p->os);
    p->os = xstrdup("darwin");
  }
  p->architecture = xstrdup(na ? na : "");
  p->variant = nv && *nv ? xstrdup(nv) : NULL;
  free(arch);
  free(v);
}

/* A normalized copy of a candidate platform. */
static void platform_make(struct berth_platform *p, const char *os, const char *arch, const char *variant)
{
  p->os = lower_dup(os);
  p->architecture = lower_dup(arch);
  p->variant = variant && *variant ? lower_dup(variant) : NULL;
  normalize(p);
}

void berth_platform_clear(struct berth_platform *p)
{
  if (!p)
    return;
  free(steal_ptr(&p->os));
  free(steal_ptr(&p->architecture));
  free(steal_ptr(&p->variant));
}

void berth_platform_host(struct berth_platform *ret)
{
  const char *arch = "unknown", *variant = NULL;
#if defined(__x86_64__)
  arch = "amd64";
#elif defined(__aarch64__)
  arch = "arm64";
#elif defined(__arm__)
  arch = "arm";
#if defined(__ARM_ARCH) && __ARM_ARCH >= 7
  variant = "v7";
#elif defined(__ARM_ARCH) && __ARM_ARCH == 6
  variant = "v6";
#else
  variant = "v5";
#endif
#elif defined(__i386__)
  arch = "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  arch = "ppc64le";
#elif defined(__powerpc64__)
  arch = "ppc64";
#elif defined(__s390x__)
  arch = "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  arch = "riscv64";
#elif defined(__mips64) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  arch = "mips64le";
#elif defined(__mips64)
  arch = "mips64";
#elif defined(__loongarch64)
  arch = "loong64";
#endif
  platform_make(ret, "linux", arch, variant);
}

static bool component_is_valid(const char *s, size_t n)
{
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
          s[i] == '_' || s[i] == '-'))
      return false;
  return true;
}

static int platform_parse_one(const char *part, struct berth_platform *ret, berth_error_t *err)
{
  struct berth_platform p = {0};
  cleanup_free char *os = lower_dup(part);
  if (in_list(known_os, os) || strcmp(os, "macos") == 0) {
    berth_platform_host(ret);
    free(ret->os);
    ret->os = steal_ptr(&os);
    normalize(ret);
    return 0;
  }
  platform_make(&p, "linux", part, NULL);
  if (!in_list(known_arch, p.architecture)) {
    berth_platform_clear(&p);
    return berth_error_set_plain(err, EINVAL, "\"%.64s\": unknown operating system or architecture", part);
  }
  *ret = p;
  return 0;
}

int berth_platform_parse(const char *s, struct berth_platform *ret, berth_error_t *err)
{
  const char *parts[3] = {NULL, NULL, NULL};
  cleanup_free char *copy = NULL;
  size_t n = 0;
  memset(ret, 0, sizeof(*ret));
  if (!s || strlen(s) > 256)
    return berth_error_set_plain(err, EINVAL, "invalid platform");
  copy = xstrdup(s);
  for (char *p = copy, *slash;; p = slash + 1) {
    slash = strchr(p, '/');
    if (n == 3)
      return berth_error_set_plain(err, EINVAL, "\"%s\": cannot parse platform specifier", s);
    parts[n++] = p;
    if (slash)
      *slash = '\0';
    if (!component_is_valid(p, strlen(p)))
      return berth_error_set_plain(err, EINVAL, "\"%s\" is an invalid component of \"%s\"", p, s);
    if (!slash)
      break;
  }
  if (n == 1)
    return platform_parse_one(parts[0], ret, err);
  platform_make(ret, parts[0], parts[1], parts[2]);
  return 0;
}

char *berth_platform_string(const struct berth_platform *p)
{
  char *s = NULL;
  if (asprintf(&s, "%s/%s%s%s", p->os ? p->os : "", p->architecture ? p->architecture : "", p->variant ? "/" : "",
               p->variant ? p->variant : "") < 0)
    abort();
  return s;
}

/* "vN" -> N, else -1. */
static int variant_number(const char *v)
{
  int n = 0;
  if (!v || v[0] != 'v' || !v[1] || strlen(v) > 4)
    return -1;
  for (const char *p = v + 1; *p; p++) {
    if (*p < '0' || *p > '9')
      return -1;
    n = n * 10 + (*p - '0');
  }
  return n;
}

/* amd64 micro-architecture level: no variant is v1. */
static int amd64_level(const struct berth_platform *p) { return p->variant ? variant_number(p->variant) : 1; }

/* containerd platforms.Only: position of the (normalized) candidate in the
 * preference vector of `want`, or -1 when it cannot run there.  amd64/vN runs
 * amd64 vN..v1, then 386; arm64 runs arm/v8..v5; arm/vN runs arm vN..v5. */
static int platform_rank(const struct berth_platform *want, const struct berth_platform *c)
{
  int wv = variant_number(want->variant), cv = variant_number(c->variant);
  if (!streq(want->os, c->os))
    return -1;
  if (streq(want->architecture, c->architecture) && streq(want->variant, c->variant))
    return 0;
  if (streq(want->architecture, "amd64")) {
    int wl = amd64_level(want) > 1 ? amd64_level(want) : 1, cl = amd64_level(c);
    if (streq(c->architecture, "amd64"))
      return cl >= 1 && cl <= wl ? wl - cl : -1;
    return streq(c->architecture, "386") ? wl : -1;
  }
  if (streq(want->architecture, "arm64"))
    return streq(c->architecture, "arm") && cv >= 5 && cv <= 8 ? 1 + (8 - cv) : -1;
  if (streq(want->architecture, "arm") && streq(c->architecture, "arm") && wv > 5 && cv >= 5 && cv < wv)
    return wv - cv;
  return -1;
}

bool berth_platform_is_compatible(const struct berth_platform *want, const char *os, const char *arch,
                                  const char *variant)
{
  struct berth_platform c = {0};
  int rank;
  if (!want || !os || !arch)
    return false;
  platform_make(&c, os, arch, variant);
  rank = platform_rank(want, &c);
  berth_platform_clear(&c);
  return rank >= 0;
}

const struct berth_descriptor *berth_index_select(const struct berth_index *idx, const struct berth_platform *want,
                                                  berth_error_t *err)
{
  struct berth_platform w = {0};
  const struct berth_descriptor *best = NULL, *fallback = NULL;
  int best_rank = -1;
  if (want)
    platform_make(&w, want->os, want->architecture, want->variant);
  else
    berth_platform_host(&w);
  for (size_t i = 0; i < idx->n_manifests; i++) {
    const struct berth_descriptor *d = &idx->manifests[i];
    struct berth_platform c = {0};
    int rank;
    if (!berth_media_type_is_manifest(d->media_type))
      continue;
    if (!d->os && !d->architecture) {
      fallback = fallback ? fallback : d;
      continue;
    }
    platform_make(&c, d->os, d->architecture, d->variant);
    rank = platform_rank(&w, &c);
    berth_platform_clear(&c);
    if (rank >= 0 && (best_rank < 0 || rank < best_rank)) {
      best = d;
      best_rank = rank;
    }
  }
  if (!best && !fallback) {
    cleanup_free char *s = berth_platform_string(&w);
    berth_error_set_plain(err, ENOENT, "no matching manifest for %s in the manifest list entries", s);
  }
  berth_platform_clear(&w);
  return best ? best : fallback;
}

const char *berth_layer_media_type(enum berth_compression c)
{
  switch (c) {
  case BERTH_COMPRESSION_GZIP:
    return BERTH_MEDIA_OCI_LAYER_GZIP;
  case BERTH_COMPRESSION_ZSTD:
    return BERTH_MEDIA_OCI_LAYER_ZSTD;
  case BERTH_COMPRESSION_NONE:
    break;
  }
  return BERTH_MEDIA_OCI_LAYER;
}
