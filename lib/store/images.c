/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The image table (ROOT/images.json) and garbage collection of layers and
 * blobs that no image refers to. */
#include <dirent.h>
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

json_t *berth_images_load(struct berth_store *s, berth_error_t *err)
{
  json_t *t, *images;
  if (faccessat(s->root_fd, "images.json", F_OK, 0) < 0 && errno == ENOENT)
    return json_pack("{s:{}}", "images");
  if (!(t = berth_json_load_at(s->root_fd, "images.json", err)))
    return NULL;
  images = json_object_get(t, "images");
  if (!json_is_object(images)) {
    json_decref(t);
    berth_error_set_plain(err, EINVAL, "images.json: no image table");
    return NULL;
  }
  return t;
}

int berth_images_save(struct berth_store *s, const json_t *table, berth_error_t *err)
{
  if (berth_json_write_atomic(s->root_fd, "images.json", table, err) < 0)
    return berth_error_prefix(err, "save image table");
  return 0;
}

static void strv_json_remove(json_t *arr, const char *value)
{
  for (size_t i = 0; i < json_array_size(arr);) {
    const char *v = json_string_value(json_array_get(arr, i));
    if (v && strcmp(v, value) == 0)
      json_array_remove(arr, i);
    else
      i++;
  }
}

static json_t *get_array(json_t *obj, const char *key)
{
  json_t *a = json_object_get(obj, key);
  if (!json_is_array(a)) {
    a = json_array();
    json_object_set_new(obj, key, a);
  }
  return a;
}

void berth_images_set_name(json_t *table, const char *id, const char *name)
{
  json_t *images = json_object_get(table, "images");
  const char *key;
  json_t *img;
  /* A digest reference lives in "digests", a tag in "names". */
  const char *field = strchr(name, '@') ? "digests" : "names";
  json_object_foreach(images, key, img) strv_json_remove(get_array(img, field), name);
  img = json_object_get(images, id);
  if (img)
    json_array_append_new(get_array(img, field), json_string(name));
}

static bool has_string(const json_t *arr, const char *s)
{
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) return true;
  return false;
}

static bool is_hex_prefix(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > BERTH_DIGEST_HEX_LEN)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

const char *berth_images_name_owner(const json_t *table, const char *name)
{
  const char *field = strchr(name, '@') ? "digests" : "names", *key;
  json_t *img;
  json_object_foreach(json_object_get(table, "images"), key, img) if (has_string(json_object_get(img, field), name))
      return key;
  return NULL;
}

const char *berth_images_lookup(json_t *table, const char *normalized_ref, const char *user_input,
                                berth_error_t *err)
{
  json_t *images = json_object_get(table, "images");
  const char *key, *found = NULL;
  json_t *img;
  const char *prefix = user_input;
  if (normalized_ref) {
    const char *owner = berth_images_name_owner(table, normalized_ref);
    if (owner)
      return owner;
    if (strchr(normalized_ref, '@')) {
      /* "repo@sha256:x" also designates the image whose id is x when the
       * repository holds a tag for it (docker accepts image IDs this way). */
      const char *dg = strchr(normalized_ref, '@') + 1;
      json_object_foreach(images, key, img) if (strcmp(key, dg) == 0) return key;
    }
  }
  if (strncmp(prefix, "sha256:", 7) == 0)
    prefix += 7;
  if (!is_hex_prefix(prefix))
    return NULL;
  json_object_foreach(images, key, img)
  {
    if (!berth_digest_is_valid(key) || strncmp(key + 7, prefix, strlen(prefix)) != 0)
      continue;
    if (found) {
      berth_error_set_plain(err, EINVAL, "ambiguous image id prefix `%s`", user_input);
      return NULL;
    }
    found = key;
  }
  return found;
}

/* ---- garbage collection ---- */

static void keep_layer_chain(struct berth_store *s, json_t *keep_layers, json_t *keep_blobs, const char *top)
{
  char chain[BERTH_DIGEST_STR_LEN];
  snprintf(chain, sizeof(chain), "%s", top ? top : "");
  while (chain[0] && !json_object_get(keep_layers, chain)) {
    struct berth_layer l;
    cleanup_error berth_error_t err = NULL;
    json_object_set_new(keep_layers, chain, json_true());
    if (berth_layer_get(s, chain, &l, &err) < 0)
      return;
    if (l.blob[0])
      json_object_set_new(keep_blobs, l.blob, json_true());
    memcpy(chain, l.parent, sizeof(chain));
  }
}

static int sweep(int dirfd, json_t *keep, bool dirs, int64_t *freed, json_t *removed, berth_error_t *err)
{
  int dupfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* not dup(): that shares the offset */
  DIR *d;
  struct dirent *de;
  if (dupfd < 0 || !(d = fdopendir(dupfd))) {
    if (dupfd >= 0)
      close(dupfd);
    return berth_error_set(err, errno, "read store directory");
  }
  while ((de = readdir(d))) {
    char digest[BERTH_DIGEST_STR_LEN];
    if (!berth_hex64_is_valid(de->d_name))
      continue;
    snprintf(digest, sizeof(digest), "sha256:%.64s", de->d_name);
    if (json_object_get(keep, digest))
      continue;
    if (dirs) {
      off_t sz = 0;
      char path[BERTH_DIGEST_STR_LEN + 8];
      snprintf(path, sizeof(path), "%.64s/diff", de->d_name);
      cleanup_error berth_error_t ign = NULL;
      if (berth_du_at(dirfd, path, &sz, &ign) == 0)
        *freed += sz;
      /* Rename first so a half-removed layer is never seen as a layer. */
      char tmp[BERTH_DIGEST_STR_LEN + 16];
      snprintf(tmp, sizeof(tmp), ".staging-gc-%.12s", de->d_name);
      if (renameat(dirfd, de->d_name, dirfd, tmp) < 0 || berth_rm_rf_at(dirfd, tmp, err) < 0) {
        closedir(d);
        return err && *err ? -1 : berth_error_set(err, errno, "remove layer `%s`", de->d_name);
      }
      if (removed)
        json_array_append_new(removed, json_string(digest));
    } else {
      struct stat st;
      if (fstatat(dirfd, de->d_name, &st, 0) == 0)
        *freed += st.st_size;
      (void)unlinkat(dirfd, de->d_name, 0);
    }
  }
  closedir(d);
  return 0;
}

/* Add what live leases name to both keep sets; remove dead writers' leases. */
static void keep_leased(struct berth_store *s, json_t *keep_layers, json_t *keep_blobs)
{
  cleanup_error berth_error_t ign = NULL;
  cleanup_close int dfd = openat(s->runroot_fd, "leases", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_strv char **names = dfd >= 0 ? berth_dir_names(dfd, NULL, &ign) : NULL;
  for (size_t i = 0; names && names[i]; i++) {
    cleanup_close int fd = openat(dfd, names[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    char buf[BERTH_DIGEST_STR_LEN];
    if (fd < 0)
      continue;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) { /* its writer is gone */
      (void)unlinkat(dfd, names[i], 0);
      continue;
    }
    /* One "sha256:<hex>\n" per line: fixed-size records. */
    while (TEMP_FAILURE_RETRY(read(fd, buf, sizeof(buf))) == (ssize_t)sizeof(buf)) {
      buf[BERTH_DIGEST_STR_LEN - 1] = '\0';
      if (!berth_digest_is_valid(buf))
        break;
      keep_layer_chain(s, keep_layers, keep_blobs, buf); /* a layer: it, its parents, their tars */
      json_object_set_new(keep_blobs, buf, json_true());
    }
  }
}

int berth_store_gc(struct berth_store *s, const json_t *table, int64_t *ret_freed, json_t *removed_layers,
                   berth_error_t *err)
{
  cleanup_json json_t *keep_layers = json_object();
  cleanup_json json_t *keep_blobs = json_object();
  json_t *images = json_object_get(table, "images");
  const char *id;
  json_t *img;
  int64_t freed = 0;
  json_object_foreach(images, id, img)
  {
    size_t i;
    json_t *v;
    const char *manifest = berth_json_str(img, "manifest");
    json_object_set_new(keep_blobs, id, json_true());
    if (manifest)
      json_object_set_new(keep_blobs, manifest, json_true());
    json_array_foreach(json_object_get(img, "layers"), i, v)
        keep_layer_chain(s, keep_layers, keep_blobs, json_string_value(v));
  }
  keep_leased(s, keep_layers, keep_blobs);
  if (sweep(s->layers_fd, keep_layers, true, &freed, removed_layers, err) < 0 ||
      sweep(s->blobs_fd, keep_blobs, false, &freed, NULL, err) < 0)
    return berth_error_prefix(err, "garbage-collect store");
  if (ret_freed)
    *ret_freed = freed;
  return 0;
}
