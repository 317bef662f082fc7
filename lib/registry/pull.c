/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `pull`: manifest (or index, then the platform's manifest), config, then
 * the missing layers, several at once, each unpacked while it downloads (no
 * second pass).  Every document and blob is checked against its digest and
 * size, and nothing enters the store before all of them passed: layers are
 * unpacked into staging directories and their blobs kept in partial files
 * (ROOT/registry/partial/<hex>) that are renamed into the blob store at
 * commit.  A partial file left by an interrupted pull is resumed with a
 * Range request; one whose bytes prove wrong is deleted. */
#define BERTH_LOG_DOMAIN "registry"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <berth/log.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "image/image.h"
#include "image/tar.h"
#include "oci/image-spec.h"
#include "registry/client.h"
#include "registry/registry.h"

#define MAX_PARALLEL 6

static const char *const manifest_accept[] = {
    "Accept: " BERTH_MEDIA_OCI_INDEX ", " BERTH_MEDIA_DOCKER_MANIFEST_LIST ", " BERTH_MEDIA_OCI_MANIFEST
    ", " BERTH_MEDIA_DOCKER_MANIFEST,
    NULL};

struct pull_layer {
  const struct berth_descriptor *d;
  char diff_id[BERTH_DIGEST_STR_LEN], chain_id[BERTH_DIGEST_STR_LEN];
  char short_id[13];
  bool present; /* the layer is already in the store */
  bool from_blob; /* unpacked from a blob already stored */
  char *staging;
  int partial_fd;
  struct berth_tar_apply_result res;
  berth_error_t err;
};

struct pull_ctx {
  struct berth_store *s;
  struct berth_registry *reg;
  const struct berth_reference *ref;
  char *scope;
  const struct berth_pull_opts *opts;
  pthread_mutex_t lock; /* progress calls and `next` */
  struct pull_layer *layers;
  size_t n, next;
  int partial_dirfd;
};

static void progress(struct pull_ctx *c, const char *id, const char *status, int64_t cur, int64_t total)
{
  struct berth_progress p = {.id = id, .status = status, .current = cur, .total = total};
  if (!c->opts || !c->opts->progress)
    return;
  pthread_mutex_lock(&c->lock);
  c->opts->progress(&p, c->opts->progress_arg);
  pthread_mutex_unlock(&c->lock);
}

/* ---- documents ---- */

int berth_registry_fetch_small(struct berth_registry *reg, struct berth_http *h, const struct berth_reference *repo,
                               const char *scope, const char *kind, const char *ref, size_t max,
                               struct berth_http_response *resp, berth_error_t *err)
{
  cleanup_free char *url = NULL;
  struct berth_http_request req = {.body_fd = -1, .max_body = max};
  if (asprintf(&url, "%s/v2/%s/%s/%s", reg->base, repo->path, kind, ref) < 0)
    abort();
  req.url = url;
  req.headers = strcmp(kind, "manifests") == 0 ? manifest_accept : NULL;
  if (berth_registry_do(reg, h, scope, &req, resp, err) < 0)
    return -1;
  if (resp->status != 200) {
    int rc;
    cleanup_free char *what = NULL;
    cleanup_free char *name = berth_reference_familiar_repository(repo);
    if (strcmp(kind, "manifests") == 0 && asprintf(&what, "manifest for %s%s%s not found", name,
                                                   berth_digest_is_valid(ref) ? "@" : ":", ref) < 0)
      abort();
    if (!what && asprintf(&what, "blob %s", ref) < 0)
      abort();
    rc = berth_registry_status_error(resp, resp->status == 404 ? what : kind, err);
    berth_http_response_clear(resp);
    return rc;
  }
  return 0;
}

int berth_registry_check_doc(const struct berth_http_response *resp, const char *want_digest, int64_t want_size,
                     char got[BERTH_DIGEST_STR_LEN], berth_error_t *err)
{
  berth_sha256_buf(resp->body ? resp->body : "", resp->body_len, got);
  if (want_size >= 0 && (int64_t)resp->body_len != want_size)
    return berth_error_set_plain(err, EINVAL, "`%s`: %zu bytes, expected %lld", want_digest, resp->body_len,
                                 (long long)want_size);
  if (want_digest && strcmp(got, want_digest) != 0)
    return berth_error_set_plain(err, EINVAL, "manifest verification failed for digest %s: got %s", want_digest, got);
  if (!want_digest && resp->docker_digest && strcmp(resp->docker_digest, got) != 0)
    return berth_error_set_plain(err, EINVAL, "manifest verification failed: the registry says %s, the content is %s",
                                 resp->docker_digest, got);
  return 0;
}

/* The document's mediaType must agree with the Content-Type it came with
 * (CVE-2021-41190). */
static int check_media_type(const struct berth_http_response *resp, const char *doc_type, berth_error_t *err)
{
  size_t n;
  const char *ct = resp->content_type;
  if (!ct || !doc_type)
    return 0;
  n = strcspn(ct, "; ");
  if ((berth_media_type_is_manifest(doc_type) || berth_media_type_is_index(doc_type)) &&
      (strncmp(ct, doc_type, n) != 0 || strlen(doc_type) != n) &&
      (berth_media_type_is_manifest(ct) || berth_media_type_is_index(ct) || strncmp(ct, "application/vnd.", 16) == 0))
    return berth_error_set_plain(err, EINVAL, "manifest: media type `%s` but served as `%.*s`", doc_type, (int)n, ct);
  return 0;
}

/* ---- one layer: download, unpack, verify ---- */

struct download {
  struct pull_ctx *c;
  struct pull_layer *l;
  struct berth_http *h;
  int out_fd;       /* the pipe to the unpacker */
  int64_t have;     /* bytes of the blob in the partial file */
  int64_t skip;     /* bytes of the body to drop (a 200 answer to a Range request) */
  int64_t last_report;
  bool started;
  berth_error_t err;
};

static int download_sink(long status, const void *buf, size_t len, void *arg)
{
  struct download *d = arg;
  const char *p = buf;
  if (!d->started) {
    /* A server that ignores Range sends the whole blob again. */
    d->started = true;
    if (status == 200)
      d->skip = d->have;
  }
  if (d->skip > 0) {
    size_t drop = (int64_t)len < d->skip ? len : (size_t)d->skip;
    d->skip -= (int64_t)drop;
    p += drop;
    len -= drop;
  }
  if (len == 0)
    return 0;
  if (d->have + (int64_t)len > d->l->d->size) {
    berth_error_set_plain(&d->err, EINVAL, "blob %s is longer than its descriptor's %lld bytes", d->l->d->digest,
                          (long long)d->l->d->size);
    return -1;
  }
  for (size_t off = 0; off < len;) {
    ssize_t w = pwrite(d->l->partial_fd, p + off, len - off, d->have + (off_t)off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      berth_error_set(&d->err, errno, "write the download");
      return -1;
    }
    off += (size_t)w;
  }
  d->have += (int64_t)len;
  if (berth_write_all(d->out_fd, p, len) < 0) {
    berth_error_set(&d->err, errno, "feed the unpacker");
    return -1;
  }
  if (d->have - d->last_report >= (512 << 10) || d->have == d->l->d->size) {
    d->last_report = d->have;
    progress(d->c, d->l->short_id, "Downloading", d->have, d->l->d->size);
  }
  return 0;
}

/* Replay what an earlier try left in the partial file. */
static int replay_partial(struct download *d)
{
  char buf[1 << 16];
  for (int64_t off = 0; off < d->have;) {
    ssize_t n = pread(d->l->partial_fd, buf, sizeof(buf), off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return berth_error_set(&d->err, n < 0 ? errno : EIO, "read the partial download");
    if (n > d->have - off)
      n = (ssize_t)(d->have - off);
    if (berth_write_all(d->out_fd, buf, (size_t)n) < 0)
      return berth_error_set(&d->err, errno, "feed the unpacker");
    off += n;
  }
  return 0;
}

static void *download_thread(void *arg)
{
  struct download *d = arg;
  struct berth_http_request req = {.body_fd = -1, .sink = download_sink, .sink_arg = d};
  struct berth_http_response resp;
  cleanup_free char *url = NULL;
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
  if (d->have > 0 && replay_partial(d) < 0)
    goto out;
  if (d->have == d->l->d->size)
    goto out;
  if (asprintf(&url, "%s/v2/%s/blobs/%s", d->c->reg->base, d->c->ref->path, d->l->d->digest) < 0)
    abort();
  req.url = url;
  req.range_from = d->have;
  req.max_body = 1 << 20;
  if (berth_registry_do(d->c->reg, d->h, d->c->scope, &req, &resp, &d->err) < 0)
    goto out; /* the transport's error, or the sink's */
  if (resp.status != 200 && resp.status != 206)
    berth_registry_status_error(&resp, "download blob", &d->err);
  else if (d->have != d->l->d->size && !d->err)
    berth_error_set_plain(&d->err, EIO, "download blob %s: %lld of %lld bytes", d->l->d->digest, (long long)d->have,
                          (long long)d->l->d->size);
  berth_http_response_clear(&resp);
out:
  close_and_reset(&d->out_fd);
  return NULL;
}

/* Open and lock the partial file of the layer's blob.  Another pull of the
 * same blob holds the lock until it has renamed the file into the blob
 * store or deleted it: then the file we hold is no longer the one at that
 * name, and we start over (finding the blob stored, or a fresh file). */
static int open_partial(struct pull_ctx *c, struct pull_layer *l, int64_t *ret_have, berth_error_t *err)
{
  const char *hex = berth_digest_hex(l->d->digest);
  struct stat st, at;
  for (;;) {
    l->partial_fd = openat(c->partial_dirfd, hex, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (l->partial_fd < 0 || flock(l->partial_fd, LOCK_EX) < 0 || fstat(l->partial_fd, &st) < 0)
      return berth_error_set(err, errno, "open the download of `%s`", l->d->digest);
    if (fstatat(c->partial_dirfd, hex, &at, AT_SYMLINK_NOFOLLOW) == 0 && at.st_ino == st.st_ino &&
        at.st_dev == st.st_dev)
      break;
    close_and_reset(&l->partial_fd);
  }
  *ret_have = st.st_size;
  if (st.st_size > l->d->size) {
    if (ftruncate(l->partial_fd, 0) < 0)
      return berth_error_set(err, errno, "truncate the download of `%s`", l->d->digest);
    *ret_have = 0;
  }
  return 0;
}

static void drop_partial(struct pull_ctx *c, struct pull_layer *l)
{
  (void)unlinkat(c->partial_dirfd, berth_digest_hex(l->d->digest), 0);
  close_and_reset(&l->partial_fd);
}

/* Download (or replay and resume) the blob through a pipe into the unpacker. */
static int unpack_download(struct pull_ctx *c, struct berth_http *h, struct pull_layer *l, int64_t have, int diff_fd,
                           const struct berth_tar_apply_opts *opts, berth_error_t *err)
{
  struct download d = {.c = c, .l = l, .h = h, .out_fd = -1, .have = have};
  int p[2];
  pthread_t t;
  int rc;
  if (d.have > 0)
    progress(c, l->short_id, "Resuming download", d.have, l->d->size);
  if (pipe2(p, O_CLOEXEC) < 0)
    return berth_error_set(err, errno, "pipe");
  (void)fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
  d.out_fd = p[1];
  if ((rc = pthread_create(&t, NULL, download_thread, &d)) != 0) {
    close(p[0]);
    close(p[1]);
    return berth_error_set(err, rc, "start a download");
  }
  rc = berth_tar_apply(p[0], diff_fd, opts, &l->res, err);
  close(p[0]); /* a downloader still writing gets EPIPE */
  pthread_join(t, NULL);
  if (d.err) {
    if (rc < 0)
      berth_error_release(err);
    *err = steal_ptr(&d.err);
    berth_error_prefix(err, "layer %s", l->short_id);
    /* Bytes the registry sent that cannot be the blob are not kept for a resume. */
    if ((*err)->code == EINVAL)
      drop_partial(c, l);
    return -1;
  }
  if (rc < 0 && d.have == l->d->size)
    drop_partial(c, l); /* all of it came, and it is not a layer */
  return rc;
}

static int verify_layer(struct pull_ctx *c, struct pull_layer *l, berth_error_t *err)
{
  if (l->res.raw_size != l->d->size || strcmp(l->res.raw_digest, l->d->digest) != 0) {
    if (!l->from_blob)
      drop_partial(c, l);
    return berth_error_set_plain(err, EINVAL, "layer %s: digest mismatch: expected `%s` (%lld bytes), got `%s` (%lld bytes)",
                                 l->short_id, l->d->digest, (long long)l->d->size, l->res.raw_digest,
                                 (long long)l->res.raw_size);
  }
  if (strcmp(l->res.diff_id, l->diff_id) != 0)
    return berth_error_set_plain(err, EINVAL, "layer %s: diff id mismatch: the config says `%s`, the layer is `%s`",
                                 l->short_id, l->diff_id, l->res.diff_id);
  return 0;
}

static int finish_layer(struct pull_ctx *c, struct pull_layer *l, berth_error_t *err)
{
  progress(c, l->short_id, "Verifying Checksum", 0, 0);
  if (verify_layer(c, l, err) < 0)
    return -1;
  progress(c, l->short_id, "Download complete", 0, 0);
  return 0;
}

static int stage_layer(struct pull_ctx *c, struct berth_http *h, struct pull_layer *l, berth_error_t *err)
{
  struct berth_tar_apply_opts opts = {.tee_fd = -1, .overlay_whiteouts = true};
  cleanup_close int diff_fd = -1;
  int rc;
  if (berth_store_lease(c->s, l->d->digest, err) < 0 || berth_layer_stage(c->s, &l->staging, &diff_fd, err) < 0)
    return -1;
  if (!berth_blob_exists(c->s, l->d->digest)) {
    int64_t have = 0;
    if (open_partial(c, l, &have, err) < 0)
      return -1;
    if (!berth_blob_exists(c->s, l->d->digest)) {
      rc = unpack_download(c, h, l, have, diff_fd, &opts, err);
      return rc < 0 ? -1 : finish_layer(c, l, err);
    }
    drop_partial(c, l); /* another pull stored the blob while we waited for its file */
  }
  cleanup_close int blob = berth_blob_open(c->s, l->d->digest, err);
  l->from_blob = true;
  rc = blob < 0 ? -1 : berth_tar_apply(blob, diff_fd, &opts, &l->res, err);
  return rc < 0 ? -1 : finish_layer(c, l, err);
}

static void *layer_worker(void *arg)
{
  struct pull_ctx *c = arg;
  struct berth_http *h = NULL;
  berth_error_t herr = NULL;
  int hrc = berth_http_new(&h, &herr);
  for (;;) {
    struct pull_layer *l = NULL;
    pthread_mutex_lock(&c->lock);
    while (c->next < c->n && c->layers[c->next].present)
      c->next++;
    if (c->next < c->n)
      l = &c->layers[c->next++];
    pthread_mutex_unlock(&c->lock);
    if (!l)
      break;
    if (hrc < 0) {
      l->err = herr;
      herr = NULL;
      if (!l->err)
        berth_error_set_plain(&l->err, EIO, "no HTTP client");
      continue;
    }
    (void)stage_layer(c, h, l, &l->err);
  }
  berth_error_release(&herr);
  berth_http_free(h);
  return NULL;
}

static int stage_all(struct pull_ctx *c, berth_error_t *err)
{
  pthread_t threads[MAX_PARALLEL];
  size_t missing = 0, n_threads = 0;
  for (size_t i = 0; i < c->n; i++)
    missing += !c->layers[i].present;
  for (size_t i = 0; i < missing && i < MAX_PARALLEL; i++) {
    int rc = pthread_create(&threads[n_threads], NULL, layer_worker, c);
    if (rc != 0) {
      if (n_threads)
        break;
      return berth_error_set(err, rc, "start a download thread");
    }
    n_threads++;
  }
  for (size_t i = 0; i < n_threads; i++)
    pthread_join(threads[i], NULL);
  for (size_t i = 0; i < c->n; i++)
    if (c->layers[i].err) {
      *err = steal_ptr(&c->layers[i].err);
      return -1;
    }
  return 0;
}

/* ---- commit ---- */

/* Move the verified download into the blob store. */
static int commit_blob(struct pull_ctx *c, struct pull_layer *l, berth_error_t *err)
{
  const char *hex = berth_digest_hex(l->d->digest);
  if (berth_blob_exists(c->s, l->d->digest)) {
    drop_partial(c, l);
    return 0;
  }
  if (fchmod(l->partial_fd, 0444) < 0 || fsync(l->partial_fd) < 0)
    return berth_error_set(err, errno, "store blob `%s`", l->d->digest);
  if (renameat(c->partial_dirfd, hex, c->s->blobs_fd, hex) < 0)
    return berth_error_set(err, errno, "store blob `%s`", l->d->digest);
  close_and_reset(&l->partial_fd);
  return berth_fsync_dir(c->s->blobs_fd, err);
}

static int commit_layers(struct pull_ctx *c, berth_error_t *err)
{
  for (size_t i = 0; i < c->n; i++) {
    struct pull_layer *l = &c->layers[i];
    struct berth_layer bl = {0};
    if (l->present)
      continue;
    if (!l->from_blob && commit_blob(c, l, err) < 0)
      return -1;
    memcpy(bl.diff_id, l->diff_id, sizeof(bl.diff_id));
    memcpy(bl.blob, l->d->digest, sizeof(bl.blob));
    if (i > 0)
      memcpy(bl.parent, c->layers[i - 1].chain_id, sizeof(bl.parent));
    snprintf(bl.media_type, sizeof(bl.media_type), "%s", berth_layer_media_type(l->res.compression));
    bl.blob_size = l->res.raw_size;
    bl.size = l->res.content_size;
    if (berth_layer_commit(c->s, l->staging, &bl, err) < 0)
      return -1;
    free(steal_ptr(&l->staging));
    progress(c, l->short_id, "Pull complete", 0, 0);
  }
  return 0;
}

/* ---- documents to layers ---- */

struct pulled {
  char *manifest, *config; /* the image's manifest and config, as fetched */
  size_t manifest_len, config_len;
  char digest[BERTH_DIGEST_STR_LEN]; /* of the top-level document (index or manifest) */
  struct berth_manifest m;
};

static void pulled_clear(struct pulled *p)
{
  free(p->manifest);
  free(p->config);
  berth_manifest_clear(&p->m);
}

/* From an index, the manifest for the platform wanted. */
static int resolve_index(struct pull_ctx *c, struct berth_http *h, struct berth_http_response *resp,
                         const struct berth_platform *want, berth_error_t *err)
{
  struct berth_index idx = {0};
  const struct berth_descriptor *sel;
  cleanup_free char *digest = NULL;
  int64_t size;
  char got[BERTH_DIGEST_STR_LEN];
  if (berth_index_parse(resp->body, resp->body_len, &idx, err) < 0 ||
      check_media_type(resp, idx.media_type, err) < 0) {
    berth_index_clear(&idx);
    return berth_error_prefix(err, "manifest list");
  }
  sel = berth_index_select(&idx, want, err);
  if (sel) {
    digest = strdup(sel->digest);
    size = sel->size;
  }
  berth_index_clear(&idx);
  if (!sel)
    return -1;
  berth_http_response_clear(resp);
  if (berth_registry_fetch_small(c->reg, h, c->ref, c->scope, "manifests", digest, BERTH_OCI_MAX_MANIFEST_SIZE, resp, err) < 0)
    return -1;
  return berth_registry_check_doc(resp, digest, size, got, err);
}

static int fetch_documents(struct pull_ctx *c, struct berth_http *h, const struct berth_platform *want,
                           struct pulled *p, berth_error_t *err)
{
  struct berth_http_response resp;
  const char *ref = c->ref->digest ? c->ref->digest : c->ref->tag;
  enum berth_oci_kind kind;
  cleanup_free char *from = NULL;
  char got[BERTH_DIGEST_STR_LEN];
  if (berth_registry_fetch_small(c->reg, h, c->ref, c->scope, "manifests", ref, BERTH_OCI_MAX_MANIFEST_SIZE, &resp, err) < 0)
    return -1;
  if (berth_registry_check_doc(&resp, c->ref->digest, -1, p->digest, err) < 0 ||
      berth_oci_detect_kind(resp.body, resp.body_len, &kind, err) < 0)
    goto fail;
  from = berth_reference_familiar_repository(c->ref);
  {
    cleanup_free char *msg = NULL;
    if (asprintf(&msg, "Pulling from %s", from) < 0)
      abort();
    progress(c, ref, msg, 0, 0);
  }
  if (kind == BERTH_OCI_KIND_INDEX && resolve_index(c, h, &resp, want, err) < 0)
    goto fail;
  if (berth_manifest_parse(resp.body, resp.body_len, &p->m, err) < 0 ||
      check_media_type(&resp, p->m.media_type, err) < 0)
    goto fail;
  if (!berth_media_type_is_config(p->m.config.media_type)) {
    berth_error_set_plain(err, EINVAL, "not an image: config media type `%s`", p->m.config.media_type);
    goto fail;
  }
  p->manifest = steal_ptr(&resp.body);
  p->manifest_len = resp.body_len;
  berth_http_response_clear(&resp);
  if (berth_registry_fetch_small(c->reg, h, c->ref, c->scope, "blobs", p->m.config.digest, BERTH_OCI_MAX_CONFIG_SIZE, &resp, err) < 0)
    return berth_error_prefix(err, "image config");
  if (berth_registry_check_doc(&resp, p->m.config.digest, p->m.config.size, got, err) < 0) {
    berth_error_prefix(err, "image config");
    goto fail;
  }
  p->config = steal_ptr(&resp.body);
  p->config_len = resp.body_len;
  berth_http_response_clear(&resp);
  return 0;
fail:
  berth_http_response_clear(&resp);
  return -1;
}

/* The config's platform must be the one asked for (an image without an
 * index says so only in its config). */
static int check_platform(const json_t *cfg, const struct berth_platform *want, bool asked, berth_error_t *err)
{
  const char *os = berth_json_str(cfg, "os"), *arch = berth_json_str(cfg, "architecture");
  if (!asked || berth_platform_is_compatible(want, os ? os : "", arch ? arch : "", berth_json_str(cfg, "variant")))
    return 0;
  cleanup_free char *w = berth_platform_string(want);
  return berth_error_set_plain(err, EINVAL,
                               "image was found but does not match the specified platform: wanted %s, actual: %s/%s", w,
                               os ? os : "", arch ? arch : "");
}

/* cfg: the image config, parsed (from p->config) */
static int plan_layers(struct pull_ctx *c, struct pulled *p, const json_t *cfg, berth_error_t *err)
{
  cleanup_strv char **diff_ids = NULL;
  size_t n = 0;
  diff_ids = berth_image_config_diff_ids(cfg);
  while (diff_ids && diff_ids[n])
    n++;
  if (!diff_ids || n != p->m.n_layers)
    return berth_error_set_plain(err, EINVAL, "the manifest lists %zu layers but the config %zu diff ids",
                                 p->m.n_layers, n);
  if (!(c->layers = calloc(n + 1, sizeof(*c->layers))))
    abort();
  c->n = n;
  for (size_t i = 0; i < n; i++) {
    struct pull_layer *l = &c->layers[i];
    l->d = &p->m.layers[i];
    l->partial_fd = -1;
    if (!berth_media_type_is_layer(l->d->media_type))
      return berth_error_set_plain(err, EINVAL, "layer %zu: unsupported media type `%s`", i, l->d->media_type);
    snprintf(l->diff_id, sizeof(l->diff_id), "%s", diff_ids[i]);
    berth_chain_id(i ? c->layers[i - 1].chain_id : NULL, diff_ids[i], l->chain_id);
    snprintf(l->short_id, sizeof(l->short_id), "%.12s", berth_digest_hex(l->d->digest));
    if (berth_store_lease(c->s, l->chain_id, err) < 0)
      return -1;
    l->present = berth_layer_exists(c->s, l->chain_id);
  }
  return 0;
}

static bool all_present(const struct pull_ctx *c)
{
  for (size_t i = 0; i < c->n; i++)
    if (!c->layers[i].present)
      return false;
  return true;
}

static void pull_ctx_clear(struct pull_ctx *c)
{
  for (size_t i = 0; i < c->n; i++) {
    struct pull_layer *l = &c->layers[i];
    if (l->staging)
      berth_layer_discard(c->s, l->staging);
    free(l->staging);
    close_and_reset(&l->partial_fd);
    berth_error_release(&l->err);
  }
  free(c->layers);
  free(c->scope);
  close_and_reset(&c->partial_dirfd);
  berth_registry_free(c->reg);
  pthread_mutex_destroy(&c->lock);
}

static int open_partial_dir(struct berth_store *s, berth_error_t *err)
{
  int fd;
  if (berth_mkdir_p(s->root_fd, "registry/partial", 0700, err) < 0)
    return -1;
  fd = openat(s->root_fd, "registry/partial", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berth_error_set(err, errno, "open `registry/partial`");
  return fd;
}

static int register_image(struct pull_ctx *c, struct pulled *p, struct berth_pull_result *ret, berth_error_t *err)
{
  cleanup_free char *repo = berth_reference_repository(c->ref), *repo_digest = NULL;
  cleanup_free char *id = NULL;
  char before[BERTH_DIGEST_STR_LEN] = ""; /* the image the name pointed at: "up to date" */
  struct berth_image_register_opts o = {.manifest = p->manifest, .manifest_len = p->manifest_len};
  if (asprintf(&repo_digest, "%s@%s", repo, p->digest) < 0)
    abort();
  ret->reference = berth_reference_string(c->ref);
  if (!c->ref->digest) {
    o.reference = ret->reference;
    cleanup_json json_t *table = berth_images_load(c->s, NULL);
    const char *old = table ? berth_images_name_owner(table, ret->reference) : NULL;
    snprintf(before, sizeof before, "%s", old ? old : "");
  }
  o.repo_digest = repo_digest;
  if (berth_image_register_raw(c->s, p->config, p->config_len, &o, &id, err) < 0)
    return -1;
  snprintf(ret->id, sizeof(ret->id), "%s", id);
  snprintf(ret->digest, sizeof(ret->digest), "%s", p->digest);
  ret->up_to_date = c->ref->digest ? false : strcmp(before, id) == 0;
  return 0;
}

int berth_registry_pull(struct berth_store *s, const struct berth_reference *ref, const struct berth_pull_opts *opts,
                        struct berth_pull_result *ret, berth_error_t *err)
{
  struct pull_ctx c = {.s = s, .ref = ref, .opts = opts, .partial_dirfd = -1};
  struct pulled p = {0};
  struct berth_platform want = {0};
  struct berth_http *h = NULL;
  bool asked = opts && opts->platform && *opts->platform;
  int rc = -1;
  memset(ret, 0, sizeof(*ret));
  pthread_mutex_init(&c.lock, NULL);
  if (asked ? berth_platform_parse(opts->platform, &want, err) < 0 : (berth_platform_host(&want), 0))
    goto out;
  if (asprintf(&c.scope, "repository:%s:pull", ref->path) < 0)
    abort();
  if ((c.partial_dirfd = open_partial_dir(s, err)) < 0 || berth_http_new(&h, err) < 0 ||
      berth_registry_open(ref->domain, NULL, h, &c.reg, err) < 0 || fetch_documents(&c, h, &want, &p, err) < 0)
    goto out;
  {
    /* parsed once: the platform check and the layer plan */
    cleanup_json json_t *cfg = berth_image_config_parse(p.config, p.config_len, err);
    if (!cfg || check_platform(cfg, &want, asked, err) < 0 || plan_layers(&c, &p, cfg, err) < 0)
      goto out;
  }
  /* An image already here in full gets no layer lines (docker's "up to date"). */
  if (!all_present(&c) || !berth_blob_exists(s, p.m.config.digest))
    for (size_t i = 0; i < c.n; i++)
      progress(&c, c.layers[i].short_id, c.layers[i].present ? "Already exists" : "Pulling fs layer", 0, 0);
  if (stage_all(&c, err) < 0 || commit_layers(&c, err) < 0 || register_image(&c, &p, ret, err) < 0)
    goto out;
  rc = 0;
out:
  if (rc < 0) {
    free(ret->reference);
    ret->reference = NULL;
  }
  berth_http_free(h);
  berth_platform_clear(&want);
  pulled_clear(&p);
  pull_ctx_clear(&c);
  return rc;
}

char **berth_registry_tags(const struct berth_reference *ref, berth_error_t *err)
{
  struct berth_registry *reg = NULL;
  struct berth_http *h = NULL;
  cleanup_free char *scope = NULL, *url = NULL;
  struct berth_registry_get g = {.what = "list tags", .doc = "tag list"};
  cleanup_json json_t *j = NULL;
  char **out = NULL;
  size_t i;
  json_t *v;
  if (asprintf(&scope, "repository:%s:pull", ref->path) < 0)
    abort();
  if (berth_http_new(&h, err) < 0 || berth_registry_open(ref->domain, NULL, h, &reg, err) < 0)
    goto out;
  if (asprintf(&url, "%s/v2/%s/tags/list", reg->base, ref->path) < 0)
    abort();
  g.url = url;
  g.scope = scope;
  if (berth_registry_get_json(reg, h, &g, &j, NULL, err) < 0)
    goto out;
  if (!(out = calloc(json_array_size(json_object_get(j, "tags")) + 1, sizeof(char *))))
    abort();
  size_t k = 0;
  json_array_foreach(json_object_get(j, "tags"), i, v) if (berth_reference_tag_is_valid(json_string_value(v) ?: ""))
      out[k++] = strdup(json_string_value(v));
out:
  berth_http_free(h);
  berth_registry_free(reg);
  return out;
}
