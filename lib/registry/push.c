/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `push`: the image's blobs the registry lacks (HEAD first, then a
 * cross-repository mount from a repository the image came from, else a
 * monolithic upload), its config, then its manifest under the tag. */
#define BERTH_LOG_DOMAIN "registry"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "oci/image-spec.h"
#include "registry/client.h"
#include "registry/registry.h"

struct push_ctx {
  struct berth_store *s;
  struct berth_registry *reg;
  struct berth_http *h;
  const struct berth_reference *ref;
  char *scope;
  char **sources;
  const struct berth_push_opts *opts;
};

static void progress(struct push_ctx *c, const char *id, const char *status)
{
  struct berth_progress p = {.id = id, .status = status};
  if (c->opts && c->opts->progress)
    c->opts->progress(&p, c->opts->progress_arg);
}

static int request(struct push_ctx *c, struct berth_http_request *req, const char *url,
                   struct berth_http_response *resp, berth_error_t *err)
{
  req->url = url;
  return berth_registry_do(c->reg, c->h, c->scope, req, resp, err);
}

/* An upload Location, made absolute. */
static char *absolute(struct push_ctx *c, const char *loc)
{
  char *out;
  if (strncmp(loc, "http://", 7) == 0 || strncmp(loc, "https://", 8) == 0)
    return strdup(loc);
  if (asprintf(&out, "%s%s", c->reg->base, loc) < 0)
    abort();
  return out;
}

static int blob_exists(struct push_ctx *c, const char *digest, bool *ret, berth_error_t *err)
{
  cleanup_free char *url = NULL;
  struct berth_http_request req = {.method = "HEAD", .body_fd = -1};
  struct berth_http_response resp;
  if (asprintf(&url, "%s/v2/%s/blobs/%s", c->reg->base, c->ref->path, digest) < 0)
    abort();
  if (request(c, &req, url, &resp, err) < 0)
    return -1;
  *ret = resp.status == 200;
  berth_http_response_clear(&resp);
  return 0;
}

/* POST an upload, asking to mount the blob from `from` when given: 1 when
 * mounted, 0 with *ret_location for an upload. */
static int start_upload(struct push_ctx *c, const char *digest, const char *from, char **ret_location,
                        berth_error_t *err)
{
  cleanup_free char *url = NULL;
  struct berth_http_request req = {.method = "POST", .body = "", .body_fd = -1};
  struct berth_http_response resp;
  int rc = -1;
  if ((from ? asprintf(&url, "%s/v2/%s/blobs/uploads/?mount=%s&from=%s", c->reg->base, c->ref->path, digest, from)
            : asprintf(&url, "%s/v2/%s/blobs/uploads/", c->reg->base, c->ref->path)) < 0)
    abort();
  if (request(c, &req, url, &resp, err) < 0)
    return -1;
  if (resp.status == 201 && from)
    rc = 1;
  else if (resp.status == 202 && resp.location) {
    *ret_location = absolute(c, resp.location);
    rc = 0;
  } else
    berth_registry_status_error(&resp, "start upload", err);
  berth_http_response_clear(&resp);
  return rc;
}

static int upload(struct push_ctx *c, const char *location, const char *digest, berth_error_t *err)
{
  cleanup_free char *url = NULL;
  cleanup_close int fd = berth_blob_open(c->s, digest, err);
  static const char *const hdrs[] = {"Content-Type: application/octet-stream", NULL};
  struct berth_http_request req = {.method = "PUT", .headers = hdrs};
  struct berth_http_response resp;
  int64_t size;
  int rc = 0;
  if (fd < 0 || berth_blob_stat(c->s, digest, &size, err) < 0)
    return -1;
  if (asprintf(&url, "%s%sdigest=%s", location, strchr(location, '?') ? "&" : "?", digest) < 0)
    abort();
  req.body_fd = fd;
  req.body_len = (size_t)size;
  if (request(c, &req, url, &resp, err) < 0)
    return -1;
  if (resp.status != 201 && resp.status != 204)
    rc = berth_registry_status_error(&resp, "upload blob", err);
  berth_http_response_clear(&resp);
  return rc;
}

/* Make sure the registry has the blob; `id` names it in progress (NULL: quiet). */
static int push_blob(struct push_ctx *c, const char *digest, const char *id, berth_error_t *err)
{
  cleanup_free char *location = NULL;
  bool exists = false;
  if (blob_exists(c, digest, &exists, err) < 0)
    return -1;
  if (exists) {
    if (id)
      progress(c, id, "Layer already exists");
    return 0;
  }
  for (size_t i = 0; c->sources && c->sources[i]; i++) {
    int m = start_upload(c, digest, c->sources[i], &location, err);
    if (m < 0)
      return -1;
    if (m == 1) {
      cleanup_free char *msg = NULL;
      if (asprintf(&msg, "Mounted from %s", c->sources[i]) < 0)
        abort();
      if (id)
        progress(c, id, msg);
      return 0;
    }
    break; /* a refused mount has started an upload: use it */
  }
  if (!location && start_upload(c, digest, NULL, &location, err) < 0)
    return -1;
  if (id)
    progress(c, id, "Pushing");
  if (upload(c, location, digest, err) < 0)
    return -1;
  if (id)
    progress(c, id, "Pushed");
  return 0;
}

static int put_manifest(struct push_ctx *c, const char *buf, size_t len, const char *media_type, berth_error_t *err)
{
  cleanup_free char *url = NULL, *ct = NULL;
  const char *hdrs[] = {NULL, NULL};
  struct berth_http_request req = {.method = "PUT", .body = buf, .body_len = len, .body_fd = -1};
  struct berth_http_response resp;
  int rc = 0;
  if (asprintf(&url, "%s/v2/%s/manifests/%s", c->reg->base, c->ref->path, c->ref->tag) < 0 ||
      asprintf(&ct, "Content-Type: %s", media_type) < 0)
    abort();
  hdrs[0] = ct;
  req.headers = hdrs;
  if (request(c, &req, url, &resp, err) < 0)
    return -1;
  if (resp.status != 201 && resp.status != 200)
    rc = berth_registry_status_error(&resp, "put manifest", err);
  berth_http_response_clear(&resp);
  return rc;
}

static int build_scope(struct push_ctx *c)
{
  if (asprintf(&c->scope, "repository:%s:pull,push", c->ref->path) < 0)
    abort();
  for (size_t i = 0; c->sources && c->sources[i]; i++) {
    char *prev = c->scope;
    if (asprintf(&c->scope, "%s repository:%s:pull", prev, c->sources[i]) < 0)
      abort();
    free(prev);
  }
  return 0;
}

static int push_image(struct push_ctx *c, const char *id, char **ret_digest, int64_t *ret_size, berth_error_t *err)
{
  cleanup_json json_t *table = berth_images_load(c->s, err);
  const char *mdigest = berth_json_str(json_object_get(json_object_get(table, "images"), id), "manifest");
  cleanup_free char *buf = NULL;
  size_t len = 0;
  struct berth_manifest m = {0};
  char digest[BERTH_DIGEST_STR_LEN];
  int rc = -1;
  if (!table)
    return -1;
  if (!mdigest || berth_blob_read(c->s, mdigest, &buf, &len, err) < 0 || berth_manifest_parse(buf, len, &m, err) < 0)
    return mdigest ? berth_error_prefix(err, "image manifest")
                   : berth_error_set_plain(err, ENOENT, "image `%s` has no manifest", id);
  for (size_t pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < m.n_layers; i++) {
      char short_id[13];
      snprintf(short_id, sizeof(short_id), "%.12s", berth_digest_hex(m.layers[i].digest));
      if (pass == 0)
        progress(c, short_id, "Preparing");
      else if (push_blob(c, m.layers[i].digest, short_id, err) < 0)
        goto out;
    }
  if (push_blob(c, m.config.digest, NULL, err) < 0 || put_manifest(c, buf, len, m.media_type, err) < 0)
    goto out;
  berth_sha256_buf(buf, len, digest);
  *ret_digest = strdup(digest);
  *ret_size = (int64_t)len;
  rc = 0;
out:
  berth_manifest_clear(&m);
  return rc;
}

int berth_registry_push(struct berth_store *s, const char *id, const struct berth_reference *ref, char **sources,
                        const struct berth_push_opts *opts, char **ret_digest, int64_t *ret_size, berth_error_t *err)
{
  struct push_ctx c = {.s = s, .ref = ref, .sources = sources, .opts = opts};
  int rc = -1;
  build_scope(&c);
  if (berth_http_new(&c.h, err) == 0 && berth_registry_open(ref->domain, NULL, c.h, &c.reg, err) == 0)
    rc = push_image(&c, id, ret_digest, ret_size, err);
  berth_http_free(c.h);
  berth_registry_free(c.reg);
  free(c.scope);
  return rc;
}
