/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unpacked layers, keyed by chain id: ROOT/layers/<hex>/{diff/,layer.json}.
 * A layer is built in a ".staging-*" directory and renamed into place in one
 * step, so a layer directory that exists is always complete. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "store/store-internal.h"

void berth_chain_id(const char *parent_chain, const char *diff_id, char out[BERTH_DIGEST_STR_LEN])
{
  char buf[2 * BERTH_DIGEST_STR_LEN + 2];
  if (!parent_chain || !*parent_chain) {
    memcpy(out, diff_id, BERTH_DIGEST_STR_LEN);
    return;
  }
  snprintf(buf, sizeof(buf), "%s %s", parent_chain, diff_id);
  berth_sha256_buf(buf, strlen(buf), out);
}

int berth_layer_stage(struct berth_store *s, char **ret_staging, int *ret_diff_fd, berth_error_t *err)
{
  static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (int attempt = 0; attempt < 100; attempt++) {
    char name[32];
    unsigned long long r = 0;
    int fd;
    if (getentropy(&r, sizeof(r)) < 0)
      r = (unsigned long long)random();
    strcpy(name, ".staging-");
    for (int i = 0; i < 12; i++, r /= 36)
      name[9 + i] = chars[r % 36];
    name[21] = '\0';
    if (mkdirat(s->layers_fd, name, 0700) < 0) {
      if (errno == EEXIST)
        continue;
      return berth_error_set(err, errno, "create layer staging directory");
    }
    fd = openat(s->layers_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || mkdirat(fd, "diff", 0755) < 0) {
      int e = errno;
      if (fd >= 0)
        close(fd);
      (void)unlinkat(s->layers_fd, name, AT_REMOVEDIR);
      return berth_error_set(err, e, "create layer staging directory");
    }
    *ret_diff_fd = openat(fd, "diff", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(fd);
    if (*ret_diff_fd < 0)
      return berth_error_set(err, errno, "open layer staging directory");
    *ret_staging = strdup(name);
    return 0;
  }
  return berth_error_set(err, EEXIST, "create layer staging directory");
}

void berth_layer_discard(struct berth_store *s, const char *staging)
{
  cleanup_error berth_error_t err = NULL;
  if (staging)
    (void)berth_rm_rf_at(s->layers_fd, staging, &err);
}

static json_t *layer_to_json(const struct berth_layer *l)
{
  json_t *j = json_pack("{s:s, s:s, s:I}", "chain_id", l->chain_id, "diff_id", l->diff_id, "size", (json_int_t)l->size);
  if (l->parent[0])
    json_object_set_new(j, "parent", json_string(l->parent));
  if (l->blob[0]) {
    json_object_set_new(j, "blob", json_string(l->blob));
    json_object_set_new(j, "blob_size", json_integer(l->blob_size));
    json_object_set_new(j, "media_type", json_string(l->media_type));
  }
  return j;
}

int berth_layer_commit(struct berth_store *s, const char *staging, struct berth_layer *l, berth_error_t *err)
{
  cleanup_close int sfd = -1;
  cleanup_close int lock = -1;
  cleanup_json json_t *meta = NULL;
  const char *hex;
  if (berth_digest_validate(l->diff_id, err) < 0 || (l->parent[0] && berth_digest_validate(l->parent, err) < 0))
    return berth_error_prefix(err, "commit layer");
  berth_chain_id(l->parent, l->diff_id, l->chain_id);
  hex = berth_digest_hex(l->chain_id);
  sfd = openat(s->layers_fd, staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sfd < 0)
    return berth_error_set(err, errno, "open layer staging directory");
  meta = layer_to_json(l);
  if (berth_json_write_atomic(sfd, "layer.json", meta, err) < 0)
    return berth_error_prefix(err, "commit layer");
  /* Leased before the exclusive lock (leasing takes it shared). */
  if (berth_store_lease(s, l->chain_id, err) < 0 || (l->parent[0] && berth_store_lease(s, l->parent, err) < 0))
    return -1;
  if ((lock = berth_store_lock(s, err)) < 0)
    return -1;
  if (l->parent[0] && !berth_layer_exists(s, l->parent))
    return berth_error_set_plain(err, ENOENT, "commit layer: parent layer `%s` is missing", l->parent);
  if (renameat(s->layers_fd, staging, s->layers_fd, hex) < 0) {
    if (errno == EEXIST || errno == ENOTEMPTY) {
      berth_layer_discard(s, staging);
      return 0;
    }
    return berth_error_set(err, errno, "commit layer `%s`", l->chain_id);
  }
  return berth_fsync_dir(s->layers_fd, err);
}

bool berth_layer_exists(struct berth_store *s, const char *chain_id)
{
  char path[BERTH_DIGEST_STR_LEN + 16];
  if (!berth_digest_is_valid(chain_id))
    return false;
  snprintf(path, sizeof(path), "%s/layer.json", berth_digest_hex(chain_id));
  return faccessat(s->layers_fd, path, F_OK, 0) == 0;
}

static void copy_field(char *dst, size_t n, const json_t *j, const char *key)
{
  const char *v = berth_json_str(j, key);
  snprintf(dst, n, "%s", v ? v : "");
}

int berth_layer_get(struct berth_store *s, const char *chain_id, struct berth_layer *ret, berth_error_t *err)
{
  char path[BERTH_DIGEST_STR_LEN + 16];
  cleanup_json json_t *j = NULL;
  if (berth_digest_validate(chain_id, err) < 0)
    return -1;
  snprintf(path, sizeof(path), "%s/layer.json", berth_digest_hex(chain_id));
  if (!(j = berth_json_load_at(s->layers_fd, path, err)))
    return berth_error_prefix(err, "layer `%s`", chain_id);
  memset(ret, 0, sizeof(*ret));
  copy_field(ret->chain_id, sizeof(ret->chain_id), j, "chain_id");
  copy_field(ret->diff_id, sizeof(ret->diff_id), j, "diff_id");
  copy_field(ret->parent, sizeof(ret->parent), j, "parent");
  copy_field(ret->blob, sizeof(ret->blob), j, "blob");
  copy_field(ret->media_type, sizeof(ret->media_type), j, "media_type");
  ret->size = berth_json_int(j, "size", 0);
  ret->blob_size = berth_json_int(j, "blob_size", 0);
  if (strcmp(ret->chain_id, chain_id) != 0 || !berth_digest_is_valid(ret->diff_id) ||
      (ret->blob[0] && !berth_digest_is_valid(ret->blob)))
    return berth_error_set_plain(err, EINVAL, "layer `%s`: corrupt metadata", chain_id);
  return 0;
}

int berth_layer_open_diff(struct berth_store *s, const char *chain_id, berth_error_t *err)
{
  char path[BERTH_DIGEST_STR_LEN + 16];
  int fd;
  if (berth_digest_validate(chain_id, err) < 0)
    return -1;
  snprintf(path, sizeof(path), "%s/diff", berth_digest_hex(chain_id));
  fd = openat(s->layers_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return berth_error_set(err, errno, "open layer `%s`", chain_id);
  return fd;
}

char *berth_layer_diff_path(struct berth_store *s, const char *chain_id)
{
  char *p = NULL;
  if (asprintf(&p, "%s/layers/%s/diff", s->root, berth_digest_hex(chain_id)) < 0)
    abort();
  return p;
}
