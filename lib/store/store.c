/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opening the store, its lock, and the content-addressed blob directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/lock.h"
#include "store/store-internal.h"

static int open_dir(int dirfd, const char *path, berth_error_t *err)
{
  int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berth_error_set(err, errno, "open `%s`", path);
  return fd;
}

/* Interrupted writers leave ".NAME.tmp-<random>" files and ".staging-<random>" dirs;
 * they are never visible as objects, and the next opener removes them when no
 * one holds the store lock (so no writer is mid-way). */
static size_t clean_temp_entries(int dirfd)
{
  size_t cleaned = 0;
  cleanup_error berth_error_t err = NULL;
  int dupfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* not dup(): that shares the offset */
  DIR *d;
  struct dirent *de;
  if (dupfd < 0)
    return 0;
  if (!(d = fdopendir(dupfd))) {
    close(dupfd);
    return 0;
  }
  while ((de = readdir(d))) {
    if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (strstr(de->d_name, ".tmp-") || strncmp(de->d_name, ".staging-", 9) == 0 ||
        strncmp(de->d_name, ".removing-", 10) == 0) {
      (void)berth_rm_rf_at(dirfd, de->d_name, &err);
      berth_error_release(&err);
      cleaned++;
    }
  }
  closedir(d);
  return cleaned;
}

static int mkdirs(const char *root, berth_error_t *err)
{
  cleanup_free char *copy = strdup(root);
  if (!copy)
    abort();
  for (char *p = copy + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      if (mkdir(copy, 0711) < 0 && errno != EEXIST)
        return berth_error_set(err, errno, "mkdir `%s`", copy);
      *p = saved;
      if (!saved)
        break;
    }
  }
  return 0;
}

/* Every process with the store open holds a shared lock on users.lock for as
 * long as it has it open, and makes temp files only while holding it.  The
 * opener that gets it exclusively is alone, so every temp file and staging
 * directory it finds belongs to a writer that died: it removes them, then
 * keeps a shared lock like everyone else. */
static int hold_users_lock(struct berth_store *s, berth_error_t *err)
{
  /* store.lock exists from the first open on, so that taking it never
   * changes the store. */
  int fd = openat(s->root_fd, "store.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return berth_error_set(err, errno, "open `store.lock`");
  close(fd);
  s->users_lock_fd = openat(s->root_fd, "users.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (s->users_lock_fd < 0)
    return berth_error_set(err, errno, "open `users.lock`");
  if (flock(s->users_lock_fd, LOCK_EX | LOCK_NB) == 0) {
    clean_temp_entries(s->blobs_fd);
    clean_temp_entries(s->layers_fd);
    clean_temp_entries(s->root_fd);
    /* a name dangles only after a create or rm died midway, which leaves
     * its staging or removing directory behind */
    if (clean_temp_entries(s->containers_fd) > 0)
      berth_container_store_clean_names(s);
    clean_temp_entries(s->volumes_fd);
  }
  if (TEMP_FAILURE_RETRY(flock(s->users_lock_fd, LOCK_SH)) < 0)
    return berth_error_set(err, errno, "lock `users.lock`");
  return 0;
}

int berth_store_open(const char *root, const char *runroot, struct berth_store **ret, berth_error_t *err)
{
  struct berth_store *s;
  if (!root || root[0] != '/')
    return berth_error_set_plain(err, EINVAL, "store root `%s` must be an absolute path", root ? root : "");
  if (!runroot || runroot[0] != '/')
    return berth_error_set_plain(err, EINVAL, "run root `%s` must be an absolute path", runroot ? runroot : "");
  if (mkdirs(root, err) < 0 || mkdirs(runroot, err) < 0)
    return berth_error_prefix(err, "open store");
  s = calloc(1, sizeof(*s));
  if (!s)
    abort();
  s->root_fd = s->runroot_fd = s->blobs_fd = s->layers_fd = s->users_lock_fd = s->lease_fd = -1;
  s->containers_fd = s->names_fd = s->run_containers_fd = s->volumes_fd = -1;
  s->root = strdup(root);
  s->runroot = strdup(runroot);
  if ((s->root_fd = open_dir(AT_FDCWD, root, err)) < 0 ||
      berth_mkdir_p(s->root_fd, "blobs/sha256", 0700, err) < 0 ||
      berth_mkdir_p(s->root_fd, "layers", 0700, err) < 0 ||
      berth_mkdir_p(s->root_fd, "containers", 0700, err) < 0 ||
      (s->runroot_fd = open_dir(AT_FDCWD, runroot, err)) < 0 ||
      berth_mkdir_p(s->runroot_fd, "leases", 0700, err) < 0 ||
      (s->blobs_fd = open_dir(s->root_fd, "blobs/sha256", err)) < 0 ||
      (s->layers_fd = open_dir(s->root_fd, "layers", err)) < 0 ||
      berth_mkdir_p(s->root_fd, "names", 0700, err) < 0 ||
      berth_mkdir_p(s->runroot_fd, "containers", 0700, err) < 0 ||
      (s->containers_fd = open_dir(s->root_fd, "containers", err)) < 0 ||
      (s->names_fd = open_dir(s->root_fd, "names", err)) < 0 ||
      (s->run_containers_fd = open_dir(s->runroot_fd, "containers", err)) < 0 ||
      berth_mkdir_p(s->root_fd, "volumes", 0700, err) < 0 || (s->volumes_fd = open_dir(s->root_fd, "volumes", err)) < 0) {
    berth_store_free(s);
    return berth_error_prefix(err, "open store `%s`", root);
  }
  if (hold_users_lock(s, err) < 0) {
    berth_store_free(s);
    return berth_error_prefix(err, "open store `%s`", root);
  }
  *ret = s;
  return 0;
}

void berth_store_free(struct berth_store *s)
{
  if (!s)
    return;
  close_and_reset(&s->blobs_fd);
  close_and_reset(&s->layers_fd);
  close_and_reset(&s->containers_fd);
  close_and_reset(&s->names_fd);
  close_and_reset(&s->run_containers_fd);
  close_and_reset(&s->volumes_fd);
  if (s->lease_fd >= 0 && s->lease_name) {
    char path[96];
    snprintf(path, sizeof(path), "leases/%s", s->lease_name);
    (void)unlinkat(s->runroot_fd, path, 0);
  }
  close_and_reset(&s->lease_fd);
  close_and_reset(&s->runroot_fd);
  free(s->lease_name);
  close_and_reset(&s->root_fd);
  close_and_reset(&s->users_lock_fd);
  free(s->root);
  free(s->runroot);
  free(s);
}

int berth_store_lock(struct berth_store *s, berth_error_t *err)
{
  return berth_lock_at(s->root_fd, "store.lock", true, err);
}

/* ---- leases ---- */

static int open_lease(struct berth_store *s, berth_error_t *err)
{
  char path[96];
  unsigned long long r = 0;
  if (getentropy(&r, sizeof(r)) < 0)
    r = (unsigned long long)random();
  if (asprintf(&s->lease_name, "%d-%llx.lease", (int)getpid(), r) < 0)
    abort();
  snprintf(path, sizeof(path), "leases/%s", s->lease_name);
  s->lease_fd = openat(s->runroot_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (s->lease_fd < 0)
    return berth_error_set(err, errno, "create lease");
  if (flock(s->lease_fd, LOCK_EX) < 0)
    return berth_error_set(err, errno, "lock lease");
  return 0;
}

int berth_store_lease(struct berth_store *s, const char *digest, berth_error_t *err)
{
  char line[BERTH_DIGEST_STR_LEN + 1];
  cleanup_close int lock = -1;
  if (berth_digest_validate(digest, err) < 0)
    return -1;
  if (s->lease_fd < 0 && open_lease(s, err) < 0)
    return -1;
  /* Shared: serialised against a collection (exclusive), not other writers. */
  if ((lock = berth_lock_at(s->root_fd, "store.lock", false, err)) < 0)
    return -1;
  snprintf(line, sizeof(line), "%s\n", digest);
  if (berth_write_all(s->lease_fd, line, strlen(line)) < 0)
    return berth_error_set(err, errno, "write lease");
  return 0;
}

/* ---- blobs ---- */

struct berth_blob_writer {
  struct berth_store *store;
  int fd;
  char *tmp;
  struct berth_sha256 *hash; /* hashes what goes through berth_blob_writer_write */
  bool raw_fd_used;
};

int berth_blob_writer_new(struct berth_store *s, struct berth_blob_writer **ret, berth_error_t *err)
{
  struct berth_blob_writer *w = calloc(1, sizeof(*w));
  if (!w)
    abort();
  w->store = s;
  w->fd = berth_tmpfile_at(s->blobs_fd, "blob", 0444, &w->tmp, err);
  if (w->fd < 0) {
    free(w);
    return -1;
  }
  w->hash = berth_sha256_new();
  *ret = w;
  return 0;
}

int berth_blob_writer_fd(const struct berth_blob_writer *w)
{
  ((struct berth_blob_writer *)w)->raw_fd_used = true;
  return w->fd;
}

int berth_blob_writer_write(struct berth_blob_writer *w, const void *buf, size_t len, berth_error_t *err)
{
  berth_sha256_update(w->hash, buf, len);
  if (berth_write_all(w->fd, buf, len) < 0)
    return berth_error_set(err, errno, "write blob");
  return 0;
}

int berth_blob_writer_commit(struct berth_blob_writer *w, const char *expected, const char *trusted_digest,
                             char out_digest[BERTH_DIGEST_STR_LEN], berth_error_t *err)
{
  char digest[BERTH_DIGEST_STR_LEN];
  if (trusted_digest) {
    if (berth_digest_validate(trusted_digest, err) < 0)
      return -1;
    snprintf(digest, sizeof(digest), "%s", trusted_digest);
  } else {
    if (w->raw_fd_used)
      return berth_error_set_plain(err, EINVAL, "commit blob: data written through the fd needs a digest");
    berth_sha256_final(w->hash, digest);
    w->hash = NULL;
  }
  if (expected && strcmp(expected, digest) != 0)
    return berth_error_set_plain(err, EINVAL, "blob digest mismatch: expected `%s`, got `%s`", expected, digest);
  if (berth_store_lease(w->store, digest, err) < 0)
    return -1;
  if (berth_commit_tmpfile(w->fd, w->store->blobs_fd, w->tmp, berth_digest_hex(digest), err) < 0)
    return -1;
  free(w->tmp);
  w->tmp = NULL;
  if (out_digest)
    memcpy(out_digest, digest, BERTH_DIGEST_STR_LEN);
  return 0;
}

void berth_blob_writer_free(struct berth_blob_writer *w)
{
  if (!w)
    return;
  if (w->tmp)
    (void)unlinkat(w->store->blobs_fd, w->tmp, 0);
  close_and_reset(&w->fd);
  berth_sha256_free(w->hash);
  free(w->tmp);
  free(w);
}

int berth_blob_put(struct berth_store *s, const void *data, size_t len, char out_digest[BERTH_DIGEST_STR_LEN],
                   berth_error_t *err)
{
  char digest[BERTH_DIGEST_STR_LEN];
  berth_sha256_buf(data, len, digest);
  if (berth_store_lease(s, digest, err) < 0)
    return -1;
  if (berth_blob_exists(s, digest)) {
    memcpy(out_digest, digest, sizeof(digest));
    return 0;
  }
  if (berth_write_file_atomic(s->blobs_fd, berth_digest_hex(digest), data, len, 0444, err) < 0)
    return berth_error_prefix(err, "store blob");
  memcpy(out_digest, digest, sizeof(digest));
  return 0;
}

bool berth_blob_exists(struct berth_store *s, const char *digest)
{
  return berth_digest_is_valid(digest) && faccessat(s->blobs_fd, berth_digest_hex(digest), F_OK, 0) == 0;
}

int berth_blob_open(struct berth_store *s, const char *digest, berth_error_t *err)
{
  int fd;
  if (berth_digest_validate(digest, err) < 0)
    return -1;
  fd = openat(s->blobs_fd, berth_digest_hex(digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return berth_error_set(err, errno, "open blob `%s`", digest);
  return fd;
}

int berth_blob_read(struct berth_store *s, const char *digest, char **ret_buf, size_t *ret_len, berth_error_t *err)
{
  if (berth_digest_validate(digest, err) < 0)
    return -1;
  if (berth_read_file_at(s->blobs_fd, berth_digest_hex(digest), ret_buf, ret_len, err) < 0)
    return berth_error_prefix(err, "read blob");
  return 0;
}

int berth_blob_stat(struct berth_store *s, const char *digest, int64_t *ret_size, berth_error_t *err)
{
  struct stat st;
  if (berth_digest_validate(digest, err) < 0)
    return -1;
  if (fstatat(s->blobs_fd, berth_digest_hex(digest), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return berth_error_set(err, errno, "stat blob `%s`", digest);
  *ret_size = st.st_size;
  return 0;
}

int berth_blob_remove(struct berth_store *s, const char *digest, berth_error_t *err)
{
  if (berth_digest_validate(digest, err) < 0)
    return -1;
  if (unlinkat(s->blobs_fd, berth_digest_hex(digest), 0) < 0 && errno != ENOENT)
    return berth_error_set(err, errno, "remove blob `%s`", digest);
  return 0;
}
