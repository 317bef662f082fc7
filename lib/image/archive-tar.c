/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The outer tar stream of `save` and `load` (archive-internal.h): writing
 * ustar entries (PAX records where a field is too small) with data streamed
 * from the store, and reading an archive into one spool file with an index of
 * its entries, from which layers are staged and committed. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "image/archive-internal.h"
#include "image/decompress.h"
#include "image/tar.h"
#include "oci/image-spec.h"

#define BLOCK 512
#define COPY_BUF (1024 * 1024)
/* The largest size an 11-digit octal ustar field holds. */
#define USTAR_MAX_SIZE 077777777777LL
#define MAX_LINK_HOPS 40

/* ==== writing ============================================================ */

static int out_write(struct berth_archive_out *o, const void *buf, size_t len, berth_error_t *err)
{
  if (berth_write_all(o->fd, buf, len) < 0)
    return berth_error_set(err, errno, "write archive");
  o->written += (int64_t)len;
  return 0;
}

static int out_pad(struct berth_archive_out *o, berth_error_t *err)
{
  static const char zeros[BLOCK];
  size_t pad = (size_t)((BLOCK - o->written % BLOCK) % BLOCK);
  return pad ? out_write(o, zeros, pad, err) : 0;
}

static void octal(char *field, size_t width, uint64_t v)
{
  /* width - 1 zero-padded digits and a NUL, as Go and GNU tar write them */
  snprintf(field, width, "%0*llo", (int)width - 1, (unsigned long long)v);
}

/* "%d key=value\n" where the leading number counts the whole record. */
static void pax_append(char **buf, size_t *len, const char *key, const char *value)
{
  size_t body = strlen(key) + strlen(value) + 3, n = body + 1;
  char *rec = NULL;
  while ((size_t)snprintf(NULL, 0, "%zu", n) + body != n)
    n++;
  if (asprintf(&rec, "%zu %s=%s\n", n, key, value) < 0 || !(*buf = realloc(*buf, *len + n + 1)))
    abort();
  memcpy(*buf + *len, rec, n + 1);
  *len += n;
  free(rec);
}

static int write_header_block(struct berth_archive_out *o, const char *name, char type, int64_t size, mode_t mode,
                              berth_error_t *err)
{
  unsigned char blk[BLOCK];
  unsigned sum = 0;
  memset(blk, 0, sizeof(blk));
  memcpy(blk, name, strnlen(name, 100));
  octal((char *)blk + 100, 8, mode);
  octal((char *)blk + 108, 8, 0);
  octal((char *)blk + 116, 8, 0);
  octal((char *)blk + 124, 12, size <= USTAR_MAX_SIZE ? (uint64_t)size : 0);
  octal((char *)blk + 136, 12, 0);
  blk[156] = (unsigned char)type;
  memcpy(blk + 257,
         "ustar\0"
         "00",
         8);
  memset(blk + 148, ' ', 8);
  for (size_t i = 0; i < BLOCK; i++)
    sum += blk[i];
  snprintf((char *)blk + 148, 8, "%06o", sum);
  blk[155] = ' ';
  return out_write(o, blk, sizeof(blk), err);
}

/* One entry header; a PAX header carries a long name or a size beyond the
 * ustar field (neither happens for the names save writes, but layers can be
 * large). */
static int write_header(struct berth_archive_out *o, const char *name, char type, int64_t size, mode_t mode,
                        berth_error_t *err)
{
  cleanup_free char *pax = NULL;
  size_t pax_len = 0;
  if (strlen(name) > 100)
    pax_append(&pax, &pax_len, "path", name);
  if (size > USTAR_MAX_SIZE) {
    char num[32];
    snprintf(num, sizeof(num), "%lld", (long long)size);
    pax_append(&pax, &pax_len, "size", num);
  }
  if (pax) {
    if (write_header_block(o, "PaxHeaders.0/entry", 'x', (int64_t)pax_len, 0644, err) < 0 ||
        out_write(o, pax, pax_len, err) < 0 || out_pad(o, err) < 0)
      return -1;
  }
  return write_header_block(o, name, type, size, mode, err);
}

int berth_archive_out_dir(struct berth_archive_out *o, const char *name, berth_error_t *err)
{
  cleanup_free char *n = NULL;
  if (asprintf(&n, "%s/", name) < 0)
    abort();
  return write_header(o, n, BERTH_TAR_DIR, 0, 0755, err);
}

int berth_archive_out_file(struct berth_archive_out *o, const char *name, const void *data, size_t len,
                           berth_error_t *err)
{
  if (write_header(o, name, BERTH_TAR_REG, (int64_t)len, 0644, err) < 0 || out_write(o, data, len, err) < 0)
    return -1;
  return out_pad(o, err);
}

/* Copy exactly `size` bytes of `in` (from its current offset) into the
 * archive, hashing them into h when h is set. */
static int copy_in(struct berth_archive_out *o, int in, int64_t size, struct berth_sha256 *h, berth_error_t *err)
{
  cleanup_free char *buf = NULL;
  if (!h) {
    /* Already verified (our own temp file): let the kernel move the bytes. */
    while (size > 0) {
      ssize_t n = sendfile(o->fd, in, NULL, size > COPY_BUF * 8 ? COPY_BUF * 8 : (size_t)size);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EINVAL || errno == ENOSYS))
        break; /* fall back to read/write below */
      if (n < 0)
        return berth_error_set(err, errno, "write archive");
      if (n == 0)
        return berth_error_set_plain(err, EIO, "write archive: input file shrank");
      size -= n;
      o->written += n;
    }
  }
  if (size > 0 && !(buf = malloc(COPY_BUF)))
    abort();
  while (size > 0) {
    ssize_t n = read(in, buf, size > COPY_BUF ? COPY_BUF : (size_t)size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return berth_error_set(err, errno, "read blob");
    if (n == 0)
      return berth_error_set_plain(err, EIO, "read blob: file shrank while it was archived");
    if (h)
      berth_sha256_update(h, buf, (size_t)n);
    if (out_write(o, buf, (size_t)n, err) < 0)
      return -1;
    size -= n;
  }
  return 0;
}

int berth_archive_out_blob(struct berth_archive_out *o, struct berth_store *s, const char *name, const char *digest,
                           int64_t *ret_size, berth_error_t *err)
{
  cleanup_close int fd = berth_blob_open(s, digest, err);
  struct berth_sha256 *h;
  char got[BERTH_DIGEST_STR_LEN];
  struct stat st;
  if (fd < 0)
    return -1;
  if (fstat(fd, &st) < 0)
    return berth_error_set(err, errno, "stat blob `%s`", digest);
  if (write_header(o, name, BERTH_TAR_REG, st.st_size, 0644, err) < 0)
    return -1;
  h = berth_sha256_new();
  if (copy_in(o, fd, st.st_size, h, err) < 0) {
    berth_sha256_free(h);
    return -1;
  }
  berth_sha256_final(h, got);
  if (strcmp(got, digest) != 0)
    return berth_error_set_plain(err, EIO, "blob `%s` is corrupt: its content hashes to `%s`", digest, got);
  *ret_size = st.st_size;
  return out_pad(o, err);
}

/* Stream an uncompressed stored blob straight into the archive; the reader
 * hashes it for the diff id check. */
static int layer_plain(struct berth_archive_out *o, struct berth_reader *r, const void *first, size_t first_len,
                       int64_t size, const char *name, berth_error_t *err)
{
  const void *p;
  ssize_t n;
  int64_t done = (int64_t)first_len;
  if (write_header(o, name, BERTH_TAR_REG, size, 0644, err) < 0 || out_write(o, first, first_len, err) < 0)
    return -1;
  while ((n = berth_reader_next(r, SIZE_MAX, &p, err)) > 0) {
    done += n;
    if (done > size)
      return berth_error_set_plain(err, EIO, "layer blob grew while it was archived");
    if (out_write(o, p, (size_t)n, err) < 0)
      return -1;
  }
  if (n < 0)
    return -1;
  if (done != size)
    return berth_error_set_plain(err, EIO, "layer blob shrank while it was archived");
  return 0;
}

/* Decompress the rest of a compressed blob into tmp. */
static int layer_inflate(struct berth_reader *r, const void *first, size_t first_len, int tmp, berth_error_t *err)
{
  const void *p = first;
  ssize_t n = (ssize_t)first_len;
  do {
    if (berth_write_all(tmp, p, (size_t)n) < 0)
      return berth_error_set(err, errno, "write temporary file");
  } while ((n = berth_reader_next(r, SIZE_MAX, &p, err)) > 0);
  return n < 0 ? -1 : 0;
}

static int layer_from_blob(struct berth_archive_out *o, struct berth_store *s, const struct berth_layer *l,
                           const char *name, int64_t *ret_size, berth_error_t *err)
{
  cleanup_close int fd = berth_blob_open(s, l->blob, err);
  cleanup_close int tmp = -1;
  struct berth_reader *r = NULL;
  struct berth_reader_result res;
  const void *first = "";
  ssize_t n;
  struct stat st;
  int ret = -1;

  if (fd < 0)
    return -1;
  if (fstat(fd, &st) < 0)
    return berth_error_set(err, errno, "stat blob `%s`", l->blob);
  if (berth_reader_new(fd, NULL, &r, err) < 0)
    return -1;
  if ((n = berth_reader_next(r, SIZE_MAX, &first, err)) < 0)
    goto out;
  if (berth_reader_compression(r) == BERTH_COMPRESSION_NONE) {
    if (layer_plain(o, r, first, (size_t)n, st.st_size, name, err) < 0)
      goto out;
  } else {
    if ((tmp = berth_tmpfile_unlinked(s->root_fd, err)) < 0 || layer_inflate(r, first, (size_t)n, tmp, err) < 0)
      goto out;
  }
  if (berth_reader_finish(r, &res, err) < 0)
    goto out;
  if (strcmp(res.data_digest, l->diff_id) != 0) {
    berth_error_set_plain(err, EIO, "layer `%s`: blob `%s` uncompresses to `%s`, not its diff id `%s`", l->chain_id,
                          l->blob, res.data_digest, l->diff_id);
    goto out;
  }
  if (tmp >= 0) {
    /* Verified before a byte of it is written: stream the temp copy. */
    if (lseek(tmp, 0, SEEK_SET) < 0) {
      berth_error_set(err, errno, "rewind temporary file");
      goto out;
    }
    if (write_header(o, name, BERTH_TAR_REG, res.data_size, 0644, err) < 0 ||
        copy_in(o, tmp, res.data_size, NULL, err) < 0)
      goto out;
  }
  *ret_size = res.data_size;
  ret = 0;
out:
  berth_reader_free(r);
  return ret;
}

/* No stored blob (or a lost one): write the unpacked layer afresh; berth_tar_write
 * is deterministic, so a layer berth made itself gets its diff id back. */
static int layer_from_diff(struct berth_archive_out *o, struct berth_store *s, const struct berth_layer *l,
                           const char *name, int64_t *ret_size, berth_error_t *err)
{
  cleanup_close int dir = berth_layer_open_diff(s, l->chain_id, err);
  cleanup_close int tmp = -1;
  struct berth_tar_write_opts wo = {.compression = BERTH_COMPRESSION_NONE, .overlay_whiteouts = true};
  struct berth_tar_write_result res;
  if (dir < 0 || (tmp = berth_tmpfile_unlinked(s->root_fd, err)) < 0)
    return -1;
  if (berth_tar_write(dir, tmp, &wo, &res, err) < 0)
    return berth_error_prefix(err, "layer `%s`", l->chain_id);
  if (strcmp(res.diff_id, l->diff_id) != 0)
    return berth_error_set_plain(err, EIO,
                                 "layer `%s` has no stored tar and its content archives to `%s`, not its diff id `%s`",
                                 l->chain_id, res.diff_id, l->diff_id);
  if (lseek(tmp, 0, SEEK_SET) < 0)
    return berth_error_set(err, errno, "rewind temporary file");
  if (write_header(o, name, BERTH_TAR_REG, res.tar_size, 0644, err) < 0 || copy_in(o, tmp, res.tar_size, NULL, err) < 0)
    return -1;
  *ret_size = res.tar_size;
  return 0;
}

int berth_archive_out_layer_tar(struct berth_archive_out *o, struct berth_store *s, const struct berth_layer *l,
                                const char *name, int64_t *ret_size, berth_error_t *err)
{
  int r;
  if (l->blob[0] && berth_blob_exists(s, l->blob))
    r = layer_from_blob(o, s, l, name, ret_size, err);
  else
    r = layer_from_diff(o, s, l, name, ret_size, err);
  if (r < 0)
    return -1;
  return out_pad(o, err);
}

int berth_archive_out_end(struct berth_archive_out *o, berth_error_t *err)
{
  static const char zeros[2 * BLOCK];
  return out_write(o, zeros, sizeof(zeros), err);
}

/* ==== reading ============================================================ */

struct entry {
  char *name;
  char *link; /* symlink target as stored, or "/"-prefixed hard link target; NULL for files */
  int64_t offset, size;
};

struct berth_archive_in {
  int spool_fd;
  int64_t spool_size;
  struct entry *entries;
  size_t n, cap;
  size_t name_bytes;
  json_t *by_name; /* name -> index into entries */
};

void berth_archive_in_free(struct berth_archive_in *a)
{
  if (!a)
    return;
  for (size_t i = 0; i < a->n; i++) {
    free(a->entries[i].name);
    free(a->entries[i].link);
  }
  free(a->entries);
  json_decref(a->by_name);
  close_and_reset(&a->spool_fd);
  free(a);
}

/* Normalize a path lexically: drop a leading "/", empty and "." components;
 * refuse "..".  Returns NULL for a name that leaves the root. */
static char *normalize(const char *raw)
{
  size_t len = strlen(raw);
  char *out = malloc(len + 1), *o = out;
  const char *p = raw;
  if (!out)
    abort();
  while (*p) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 2 && p[0] == '.' && p[1] == '.') {
      free(out);
      return NULL;
    }
    if (n > 0 && !(n == 1 && p[0] == '.')) {
      if (o != out)
        *o++ = '/';
      memcpy(o, p, n);
      o += n;
    }
    p += n;
    if (*p == '/')
      p++;
  }
  *o = '\0';
  return out;
}

static int add_entry(struct berth_archive_in *a, char *name, char *link, int64_t size, berth_error_t *err)
{
  json_t *prev = json_object_get(a->by_name, name);
  struct entry *e;
  if (prev) {
    /* A later entry of the same name replaces the earlier one. */
    e = &a->entries[json_integer_value(prev)];
    free(e->link);
    free(name);
  } else {
    if (a->n >= BERTH_ARCHIVE_MAX_ENTRIES)
      return berth_error_set_plain(err, EFBIG, "archive has more than %d entries", BERTH_ARCHIVE_MAX_ENTRIES);
    a->name_bytes += strlen(name) + 1;
    if (a->name_bytes > BERTH_ARCHIVE_MAX_NAME_BYTES)
      return berth_error_set_plain(err, EFBIG, "archive entry names exceed %d bytes in all",
                                   BERTH_ARCHIVE_MAX_NAME_BYTES);
    if (a->n == a->cap) {
      a->cap = a->cap ? a->cap * 2 : 64;
      if (!(a->entries = realloc(a->entries, a->cap * sizeof(*a->entries))))
        abort();
    }
    e = &a->entries[a->n];
    e->name = name;
    /* names are raw bytes, not necessarily UTF-8 */
    json_object_set_new_nocheck(a->by_name, name, json_integer((json_int_t)a->n));
    a->n++;
  }
  e->link = link;
  e->offset = a->spool_size;
  e->size = size;
  return 0;
}

static int spool_data(struct berth_archive_in *a, struct berth_tar_reader *t, berth_error_t *err)
{
  const void *p;
  ssize_t n;
  while ((n = berth_tar_reader_data(t, SIZE_MAX, &p, err)) > 0) {
    if (berth_write_all(a->spool_fd, p, (size_t)n) < 0)
      return berth_error_set(err, errno, "write temporary file");
    a->spool_size += n;
  }
  return n < 0 ? -1 : 0;
}

static int read_entry(struct berth_archive_in *a, struct berth_tar_reader *t, const struct berth_tar_header *h,
                      berth_error_t *err)
{
  char *name, *link = NULL;
  if (strlen(h->name) > BERTH_ARCHIVE_MAX_NAME)
    return berth_error_set_plain(err, EINVAL, "archive entry name of %zu bytes is too long", strlen(h->name));
  if (!(name = normalize(h->name)))
    return berth_error_set_plain(err, EINVAL, "archive entry `%s` leaves the archive", h->name);
  if (!*name || (h->type != BERTH_TAR_REG && h->type != BERTH_TAR_SYMLINK && h->type != BERTH_TAR_LINK)) {
    free(name); /* directories and special files play no part in an image archive */
    return 0;
  }
  if (h->type == BERTH_TAR_SYMLINK)
    link = strdup(h->linkname);
  else if (h->type == BERTH_TAR_LINK && asprintf(&link, "/%s", h->linkname) < 0)
    link = NULL; /* hard link targets are archive paths: resolve them from the root */
  if (h->type != BERTH_TAR_REG && !link)
    abort();
  if (add_entry(a, name, link, h->type == BERTH_TAR_REG ? h->size : 0, err) < 0) {
    free(name);
    free(link);
    return -1;
  }
  return h->type == BERTH_TAR_REG ? spool_data(a, t, err) : 0;
}

static int read_entries(struct berth_archive_in *a, int in_fd, berth_error_t *err)
{
  struct berth_reader *r = NULL;
  struct berth_tar_reader *t = NULL;
  const struct berth_tar_header *h;
  int ret;
  if (berth_reader_new(in_fd, NULL, &r, err) < 0)
    return -1;
  t = berth_tar_reader_new(r);
  while ((ret = berth_tar_reader_next(t, &h, err)) > 0)
    if (read_entry(a, t, h, err) < 0) {
      ret = -1;
      break;
    }
  berth_tar_reader_free(t);
  berth_reader_free(r);
  return ret;
}

int berth_archive_in_read(struct berth_store *s, int in_fd, struct berth_archive_in **ret, berth_error_t *err)
{
  struct berth_archive_in *a = calloc(1, sizeof(*a));
  if (!a)
    abort();
  a->by_name = json_object();
  a->spool_fd = berth_tmpfile_unlinked(s->root_fd, err);
  if (a->spool_fd < 0 || read_entries(a, in_fd, err) < 0) {
    berth_archive_in_free(a);
    return berth_error_prefix(err, "read archive");
  }
  *ret = a;
  return 0;
}

/* ---- path resolution inside the archive ---- */

static const struct entry *lookup(const struct berth_archive_in *a, const char *name)
{
  json_t *v = json_object_get(a->by_name, name);
  return v ? &a->entries[json_integer_value(v)] : NULL;
}

/* Where the link at `link_name` (target `target`) points, lexically, as an
 * archive path; NULL when it climbs above the archive root.  An absolute
 * target is taken from the root (as docker's FollowSymlinkInScope does). */
static char *link_destination(const char *link_name, const char *target)
{
  cleanup_free char *joined = NULL;
  char *out, *o;
  const char *p;
  if (target[0] == '/') {
    joined = strdup(target);
  } else {
    const char *slash = strrchr(link_name, '/');
    if (asprintf(&joined, "%.*s/%s", slash ? (int)(slash - link_name) : 0, link_name, target) < 0)
      joined = NULL;
  }
  if (!joined || !(out = malloc(strlen(joined) + 1)))
    abort();
  o = out;
  for (p = joined; *p;) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 2 && p[0] == '.' && p[1] == '.') {
      char *up = o > out ? memrchr(out, '/', (size_t)(o - out)) : NULL;
      if (o == out) {
        free(out);
        return NULL;
      }
      o = up ? up : out;
    } else if (n > 0 && !(n == 1 && p[0] == '.')) {
      if (o != out)
        *o++ = '/';
      memcpy(o, p, n);
      o += n;
    }
    p += n;
    if (*p == '/')
      p++;
  }
  *o = '\0';
  return out;
}

/* One step: if a proper prefix of `path` or `path` itself is a link, return
 * the path with that prefix replaced by the link's destination (*changed);
 * otherwise the entry path names. */
static int resolve_step(const struct berth_archive_in *a, const char *orig, char **path, bool *changed,
                        const struct entry **ret, berth_error_t *err)
{
  size_t len = strlen(*path);
  *changed = false;
  for (size_t i = 0; i <= len; i++) {
    const struct entry *e;
    char saved;
    if ((*path)[i] != '/' && (*path)[i] != '\0')
      continue;
    saved = (*path)[i];
    (*path)[i] = '\0';
    e = lookup(a, *path);
    if (e && e->link) {
      cleanup_free char *dest = link_destination(*path, e->link);
      char *next = NULL;
      (*path)[i] = saved;
      if (!dest)
        return berth_error_set_plain(err, EINVAL, "archive path `%s` resolves outside the archive", orig);
      if (asprintf(&next, "%s%s", dest, *path + i) < 0)
        abort();
      free(*path);
      *path = normalize(next); /* never NULL: neither part holds ".." */
      free(next);
      if (!*path)
        abort();
      *changed = true;
      return 0;
    }
    (*path)[i] = saved;
    if (e && saved == '\0') {
      *ret = e;
      return 0;
    }
    if (e)
      break; /* a regular file used as a directory */
  }
  return berth_error_set_plain(err, ENOENT, "archive has no file `%s`", orig);
}

int berth_archive_in_find(const struct berth_archive_in *a, const char *path, struct berth_archive_file *ret,
                          berth_error_t *err)
{
  cleanup_free char *cur = NULL;
  const struct entry *e = NULL;
  if (!berth_path_is_clean_relative(path) || strlen(path) > BERTH_ARCHIVE_MAX_NAME)
    return berth_error_set_plain(err, EINVAL, "archive path `%s` is not a clean relative path", path);
  cur = strdup(path);
  if (!cur)
    abort();
  for (int hops = 0;; hops++) {
    bool changed;
    if (hops > MAX_LINK_HOPS)
      return berth_error_set_plain(err, ELOOP, "archive path `%s`: too many levels of links", path);
    if (!*cur)
      return berth_error_set_plain(err, EINVAL, "archive path `%s` names the archive root", path);
    if (resolve_step(a, path, &cur, &changed, &e, err) < 0)
      return -1;
    if (!changed)
      break;
  }
  ret->name = e->name;
  ret->offset = e->offset;
  ret->size = e->size;
  return 0;
}

int berth_archive_in_read_file(const struct berth_archive_in *a, const struct berth_archive_file *f, size_t max,
                               char **ret_buf, size_t *ret_len, berth_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t done = 0;
  if (f->size < 0 || (uint64_t)f->size > max)
    return berth_error_set_plain(err, EFBIG, "archive file `%s` is larger than %zu bytes", f->name, max);
  if (!(buf = malloc((size_t)f->size + 1)))
    abort();
  while (done < (size_t)f->size) {
    ssize_t n = pread(a->spool_fd, buf + done, (size_t)f->size - done, f->offset + (off_t)done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return berth_error_set(err, n < 0 ? errno : EIO, "read archive file `%s`", f->name);
    done += (size_t)n;
  }
  buf[done] = '\0';
  *ret_buf = steal_ptr(&buf);
  *ret_len = done;
  return 0;
}

/* ---- layers out of the spool ---- */

/* Feeds one byte range of the spool into a pipe from a helper thread, so that
 * berth_tar_apply, which reads an fd to its end, sees just that range. */
struct feeder {
  int src, pipe_w;
  int64_t off, len;
  int error;
  pthread_t thread;
};

static void *feeder_run(void *arg)
{
  struct feeder *f = arg;
  bool use_splice = true;
  char *buf = NULL;
  while (f->len > 0) {
    size_t chunk = f->len > COPY_BUF ? COPY_BUF : (size_t)f->len;
    ssize_t n;
    if (use_splice) {
      loff_t off = f->off;
      n = splice(f->src, &off, f->pipe_w, NULL, chunk, SPLICE_F_MOVE);
      if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
        use_splice = false;
        continue;
      }
    } else {
      if (!buf && !(buf = malloc(COPY_BUF)))
        abort();
      n = pread(f->src, buf, chunk, f->off);
      if (n > 0 && berth_write_all(f->pipe_w, buf, (size_t)n) < 0)
        n = -1;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      /* EPIPE: the reader stopped early, which it reports itself. */
      f->error = n < 0 ? errno : EIO;
      break;
    }
    f->off += n;
    f->len -= n;
  }
  free(buf);
  close_and_reset(&f->pipe_w);
  return NULL;
}

/* Start the feeder; returns the read end of its pipe. */
static int feeder_start(struct feeder *f, int src, const struct berth_archive_file *file, berth_error_t *err)
{
  int p[2];
  sigset_t block, old;
  int e;
  if (pipe2(p, O_CLOEXEC) < 0)
    return berth_error_set(err, errno, "create pipe");
  (void)fcntl(p[1], F_SETPIPE_SZ, COPY_BUF);
  *f = (struct feeder){.src = src, .pipe_w = p[1], .off = file->offset, .len = file->size};
  /* The thread inherits a blocked SIGPIPE: when the reader closes early, its
   * write fails with EPIPE instead of killing the process, and the pending
   * thread-directed signal is dropped when the thread exits. */
  sigemptyset(&block);
  sigaddset(&block, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  e = pthread_create(&f->thread, NULL, feeder_run, f);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (e != 0) {
    close(p[0]);
    close(p[1]);
    return berth_error_set(err, e, "start thread");
  }
  return p[0];
}

static int check_staged(const struct berth_tar_apply_result *res, const struct berth_archive_file *f,
                        const char *expected_blob, const char *expected_diff_id, berth_error_t *err)
{
  if (res->raw_size != f->size)
    return berth_error_set_plain(err, EIO, "layer `%s`: read %lld of %lld bytes", f->name, (long long)res->raw_size,
                                 (long long)f->size);
  if (expected_blob && strcmp(expected_blob, res->raw_digest) != 0)
    return berth_error_set_plain(err, EINVAL, "layer `%s`: digest mismatch: expected `%s`, got `%s`", f->name,
                                 expected_blob, res->raw_digest);
  if (expected_diff_id && strcmp(expected_diff_id, res->diff_id) != 0)
    return berth_error_set_plain(err, EINVAL, "layer `%s`: diff id mismatch: the config says `%s`, the layer is `%s`",
                                 f->name, expected_diff_id, res->diff_id);
  return 0;
}

int berth_archive_in_stage(struct berth_store *s, const struct berth_archive_in *a, const struct berth_archive_file *f,
                           const char *expected_blob, const char *expected_diff_id, struct berth_archive_staged *ret,
                           berth_error_t *err)
{
  cleanup_free char *staging = NULL;
  cleanup_close int diff_fd = -1;
  cleanup_close int pipe_r = -1;
  struct berth_tar_apply_opts opts = {.tee_fd = -1, .overlay_whiteouts = true};
  struct berth_tar_apply_result res;
  struct feeder feed;
  int r;

  if (berth_layer_stage(s, &staging, &diff_fd, err) < 0)
    return -1;
  if ((pipe_r = feeder_start(&feed, a->spool_fd, f, err)) < 0) {
    berth_layer_discard(s, staging);
    return -1;
  }
  memset(&res, 0, sizeof(res));
  r = berth_tar_apply(pipe_r, diff_fd, &opts, &res, err);
  close_and_reset(&pipe_r);
  pthread_join(feed.thread, NULL);
  if (r < 0)
    berth_error_prefix(err, "layer `%s`", f->name);
  else if (feed.error && feed.error != EPIPE)
    r = berth_error_set(err, feed.error, "layer `%s`: read temporary file", f->name);
  else
    r = check_staged(&res, f, expected_blob, expected_diff_id, err);
  if (r < 0) {
    berth_layer_discard(s, staging);
    return -1;
  }
  memset(ret, 0, sizeof(*ret));
  ret->staging = steal_ptr(&staging);
  ret->file = *f;
  memcpy(ret->blob, res.raw_digest, sizeof(ret->blob));
  memcpy(ret->diff_id, res.diff_id, sizeof(ret->diff_id));
  ret->media_type = berth_layer_media_type(res.compression);
  ret->blob_size = res.raw_size;
  ret->size = res.content_size;
  return 0;
}

void berth_archive_staged_discard(struct berth_store *s, struct berth_archive_staged *st)
{
  if (st->staging)
    berth_layer_discard(s, st->staging);
  free(st->staging);
  st->staging = NULL;
}

/* Copy a spool range into fd: in the kernel when it can, else read/write. */
static int copy_range(int src, int64_t off, int64_t len, int dst, berth_error_t *err)
{
  cleanup_free char *buf = NULL;
  bool in_kernel = true;
  while (len > 0) {
    size_t chunk = len > (1 << 30) ? (1 << 30) : (size_t)len;
    ssize_t n;
    if (in_kernel) {
      loff_t o = off;
      n = copy_file_range(src, &o, dst, NULL, chunk, 0);
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
        in_kernel = false;
        continue;
      }
    } else {
      if (!buf && !(buf = malloc(COPY_BUF)))
        abort();
      n = pread(src, buf, chunk > COPY_BUF ? COPY_BUF : chunk, off);
      if (n > 0 && berth_write_all(dst, buf, (size_t)n) < 0)
        return berth_error_set(err, errno, "write blob");
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return berth_error_set(err, n < 0 ? errno : EIO, "copy layer into the blob store");
    off += n;
    len -= n;
  }
  return 0;
}

static int store_blob(struct berth_store *s, const struct berth_archive_in *a, const struct berth_archive_staged *st,
                      berth_error_t *err)
{
  struct berth_blob_writer *w = NULL;
  int r;
  if (berth_store_lease(s, st->blob, err) < 0)
    return -1;
  if (berth_blob_exists(s, st->blob))
    return 0;
  if (berth_blob_writer_new(s, &w, err) < 0)
    return -1;
  /* The digest was computed by the unpack from exactly these spool bytes,
   * which only this process can reach (an unlinked file). */
  r = copy_range(a->spool_fd, st->file.offset, st->file.size, berth_blob_writer_fd(w), err);
  if (r == 0)
    r = berth_blob_writer_commit(w, NULL, st->blob, NULL, err);
  berth_blob_writer_free(w);
  return r;
}

int berth_archive_in_commit(struct berth_store *s, const struct berth_archive_in *a, struct berth_archive_staged *st,
                            const char *parent_chain, struct berth_layer *ret, berth_error_t *err)
{
  struct berth_layer l;
  memset(&l, 0, sizeof(l));
  if (store_blob(s, a, st, err) < 0)
    return berth_error_prefix(err, "layer `%s`", st->file.name);
  memcpy(l.diff_id, st->diff_id, sizeof(l.diff_id));
  memcpy(l.blob, st->blob, sizeof(l.blob));
  snprintf(l.parent, sizeof(l.parent), "%s", parent_chain ? parent_chain : "");
  snprintf(l.media_type, sizeof(l.media_type), "%s", st->media_type);
  l.blob_size = st->blob_size;
  l.size = st->size;
  if (berth_layer_commit(s, st->staging, &l, err) < 0)
    return berth_error_prefix(err, "layer `%s`", st->file.name);
  free(st->staging);
  st->staging = NULL;
  if (ret)
    *ret = l;
  return 0;
}
