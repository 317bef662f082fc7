/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Write a deterministic tar stream of a directory tree: layer diffs (commit,
 * build), export and cp.  Our own ustar+PAX writer rather than libarchive's,
 * so the bytes depend only on the tree (no locale conversion of names, no
 * atime/ctime, sorted PAX records, fixed PAX header names) and the stream can
 * be hashed and compressed as it is written.  Every file is opened beneath
 * its parent's fd with O_NOFOLLOW; symlinks are archived as symlinks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "image/tar.h"

#define BLOCK 512
#define OUT_BUF_SIZE (1u << 20)
#define PAX_HEADER_NAME "././@PaxHeader"

/* ---- output: hash the tar, compress, hash and write the result ------------ */

struct out {
  int fd;
  enum berth_compression comp;
  struct berth_sha256 *tar_hash, *out_hash;
  int64_t tar_size, written;
  unsigned char *buf;
  size_t len;
  z_stream z;
  bool z_ready;
  ZSTD_CCtx *zc;
};

static int out_flush(struct out *o, berth_error_t *err)
{
  if (!o->len)
    return 0;
  if (o->out_hash)
    berth_sha256_update(o->out_hash, o->buf, o->len);
  if (berth_write_all(o->fd, o->buf, o->len) < 0)
    return berth_error_set(err, errno, "write archive");
  o->written += (int64_t)o->len;
  o->len = 0;
  return 0;
}

static int out_plain(struct out *o, const void *data, size_t len, berth_error_t *err)
{
  if (o->len + len > OUT_BUF_SIZE && out_flush(o, err) < 0)
    return -1;
  if (len >= OUT_BUF_SIZE) {
    if (o->out_hash)
      berth_sha256_update(o->out_hash, data, len);
    if (berth_write_all(o->fd, data, len) < 0)
      return berth_error_set(err, errno, "write archive");
    o->written += (int64_t)len;
    return 0;
  }
  memcpy(o->buf + o->len, data, len);
  o->len += len;
  return 0;
}

static int out_gzip(struct out *o, const void *data, size_t len, int flush, berth_error_t *err)
{
  o->z.next_in = (unsigned char *)data;
  o->z.avail_in = (uInt)len;
  for (;;) {
    int r;
    if (o->len == OUT_BUF_SIZE && out_flush(o, err) < 0)
      return -1;
    o->z.next_out = o->buf + o->len;
    o->z.avail_out = (uInt)(OUT_BUF_SIZE - o->len);
    r = deflate(&o->z, flush);
    o->len = OUT_BUF_SIZE - o->z.avail_out;
    if (r == Z_STREAM_END)
      return 0;
    if (r != Z_OK && r != Z_BUF_ERROR)
      return berth_error_set(err, EIO, "gzip compression failed");
    if (o->z.avail_in == 0 && o->z.avail_out > 0 && flush == Z_NO_FLUSH)
      return 0;
  }
}

static int out_zstd(struct out *o, const void *data, size_t len, ZSTD_EndDirective mode, berth_error_t *err)
{
  ZSTD_inBuffer in = {data, len, 0};
  for (;;) {
    ZSTD_outBuffer ob;
    size_t r;
    if (o->len == OUT_BUF_SIZE && out_flush(o, err) < 0)
      return -1;
    ob = (ZSTD_outBuffer){o->buf, OUT_BUF_SIZE, o->len};
    r = ZSTD_compressStream2(o->zc, &ob, &in, mode);
    o->len = ob.pos;
    if (ZSTD_isError(r))
      return berth_error_set(err, EIO, "zstd compression failed: %s", ZSTD_getErrorName(r));
    if (mode == ZSTD_e_end ? r == 0 : in.pos == in.size)
      return 0;
  }
}

/* Append uncompressed tar bytes. */
static int out_write(struct out *o, const void *data, size_t len, berth_error_t *err)
{
  berth_sha256_update(o->tar_hash, data, len);
  o->tar_size += (int64_t)len;
  switch (o->comp) {
  case BERTH_COMPRESSION_NONE:
    return out_plain(o, data, len, err);
  case BERTH_COMPRESSION_GZIP:
    return out_gzip(o, data, len, Z_NO_FLUSH, err);
  case BERTH_COMPRESSION_ZSTD:
    return out_zstd(o, data, len, ZSTD_e_continue, err);
  }
  return berth_error_set_plain(err, EINVAL, "unknown compression");
}

static int out_init(struct out *o, int fd, const struct berth_tar_write_opts *opts, berth_error_t *err)
{
  int level = opts ? opts->compression_level : 0;
  memset(o, 0, sizeof(*o));
  o->fd = fd;
  o->comp = opts ? opts->compression : BERTH_COMPRESSION_NONE;
  o->tar_hash = opts && opts->no_digest ? NULL : berth_sha256_new();
  /* Uncompressed output is the tar itself: hash it once. */
  if (o->comp != BERTH_COMPRESSION_NONE && o->tar_hash)
    o->out_hash = berth_sha256_new();
  o->buf = malloc(OUT_BUF_SIZE);
  if (!o->buf)
    abort();
  switch (o->comp) {
  case BERTH_COMPRESSION_NONE:
    break;
  case BERTH_COMPRESSION_GZIP:
    if (deflateInit2(&o->z, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
      return berth_error_set_plain(err, EINVAL, "initialise gzip compression");
    o->z_ready = true;
    break;
  case BERTH_COMPRESSION_ZSTD:
    o->zc = ZSTD_createCCtx();
    if (!o->zc)
      abort();
    if (level && ZSTD_isError(ZSTD_CCtx_setParameter(o->zc, ZSTD_c_compressionLevel, level)))
      return berth_error_set_plain(err, EINVAL, "invalid zstd level %d", level);
    break;
  default:
    return berth_error_set_plain(err, EINVAL, "unknown compression %d", (int)o->comp);
  }
  return 0;
}

static int out_finish(struct out *o, berth_error_t *err)
{
  if (o->comp == BERTH_COMPRESSION_GZIP && out_gzip(o, NULL, 0, Z_FINISH, err) < 0)
    return -1;
  if (o->comp == BERTH_COMPRESSION_ZSTD && out_zstd(o, NULL, 0, ZSTD_e_end, err) < 0)
    return -1;
  return out_flush(o, err);
}

static void out_free(struct out *o)
{
  if (o->z_ready)
    deflateEnd(&o->z);
  ZSTD_freeCCtx(o->zc);
  berth_sha256_free(o->tar_hash);
  berth_sha256_free(o->out_hash);
  free(o->buf);
}

/* ---- headers ------------------------------------------------------------------ */

struct xattr {
  char *name;
  char *value;
  size_t len;
};

struct entry {
  char *name;           /* archive name; directories end in '/' */
  char type;            /* '0' '1' '2' '3' '4' '5' '6' */
  const char *linkname; /* hard link or symlink target, else "" */
  mode_t mode;
  int64_t uid, gid, size, mtime;
  uint32_t devmajor, devminor;
  struct xattr *xattrs;
  size_t n_xattrs;
};

static void put_octal(unsigned char *f, size_t width, int64_t v)
{
  char tmp[24];
  snprintf(tmp, sizeof(tmp), "%0*llo", (int)(width - 1), (unsigned long long)v);
  memcpy(f, tmp, width - 1);
  f[width - 1] = '\0';
}

static bool fits_octal(int64_t v, size_t width)
{
  return v >= 0 && (width - 1 >= 21 || v < ((int64_t)1 << (3 * (width - 1))));
}

/* ustar prefix/name split as in Go's splitUSTARPath. */
static bool split_ustar(const char *name, size_t *prefix_len)
{
  size_t length = strlen(name), i;
  const char *slash = NULL;
  if (length > 155 + 1)
    length = 155 + 1;
  else if (name[length - 1] == '/')
    length--;
  for (i = 0; i < length; i++)
    if (name[i] == '/')
      slash = name + i;
  if (!slash || slash == name)
    return false;
  i = (size_t)(slash - name);
  if (strlen(name) - i - 1 > 100 || strlen(name) - i - 1 == 0 || i > 155)
    return false;
  *prefix_len = i;
  return true;
}

static void pax_add(char **buf, size_t *len, const char *key, const char *value, size_t vlen)
{
  size_t base = strlen(key) + vlen + 3, n = base, digits = 0;
  char tmp[24];
  /* The length counts its own digits. */
  for (;;) {
    size_t d = (size_t)snprintf(tmp, sizeof(tmp), "%zu", n);
    if (d == digits)
      break;
    digits = d;
    n = base + digits;
  }
  *buf = realloc(*buf, *len + n);
  if (!*buf)
    abort();
  snprintf(*buf + *len, n, "%zu %s=", n, key);
  memcpy(*buf + *len + digits + 1 + strlen(key) + 1, value, vlen);
  (*buf)[*len + n - 1] = '\n';
  *len += n;
}

static void pax_add_num(char **buf, size_t *len, const char *key, int64_t v)
{
  char tmp[24];
  int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
  pax_add(buf, len, key, tmp, (size_t)n);
}

static void fill_block(unsigned char *blk, const char *name, size_t name_len, const struct entry *e,
                       char type, int64_t size)
{
  size_t prefix_len = 0;
  unsigned sum = 0;
  memset(blk, 0, BLOCK);
  if (name_len > 100 && split_ustar(name, &prefix_len)) {
    memcpy(blk + 345, name, prefix_len);
    memcpy(blk, name + prefix_len + 1, name_len - prefix_len - 1);
  } else {
    memcpy(blk, name, name_len > 100 ? 100 : name_len);
  }
  put_octal(blk + 100, 8, e ? (int64_t)(e->mode & 07777) : 0644);
  put_octal(blk + 108, 8, e && fits_octal(e->uid, 8) ? e->uid : 0);
  put_octal(blk + 116, 8, e && fits_octal(e->gid, 8) ? e->gid : 0);
  put_octal(blk + 124, 12, fits_octal(size, 12) ? size : 0);
  put_octal(blk + 136, 12, e && fits_octal(e->mtime, 12) ? e->mtime : 0);
  blk[156] = (unsigned char)type;
  if (e && strlen(e->linkname) <= 100)
    memcpy(blk + 157, e->linkname, strlen(e->linkname));
  memcpy(blk + 257, "ustar\0" "00", 8);
  if (e && (type == '3' || type == '4')) {
    put_octal(blk + 329, 8, e->devmajor);
    put_octal(blk + 337, 8, e->devminor);
  }
  memset(blk + 148, ' ', 8);
  for (size_t i = 0; i < BLOCK; i++)
    sum += blk[i];
  snprintf((char *)blk + 148, 8, "%06o", sum);
  blk[155] = ' ';
}

int berth_tar_simple_header(unsigned char *blk, const char *name, char type, mode_t mode, int64_t size,
                            const char *link, int64_t mtime, berth_error_t *err)
{
  size_t prefix_len;
  struct entry e = {.type = type, .linkname = link ? link : "", .mode = mode, .size = size, .mtime = mtime};
  if ((strlen(name) > 100 && !split_ustar(name, &prefix_len)) || strlen(e.linkname) > 100 ||
      !fits_octal(size, 12) || !fits_octal(mtime, 12))
    return berth_error_set_plain(err, EINVAL, "tar entry `%s` does not fit a plain ustar header", name);
  fill_block(blk, name, strlen(name), &e, type, size);
  return 0;
}

static int write_padded(struct out *o, const void *data, size_t len, berth_error_t *err)
{
  static const unsigned char zeros[BLOCK];
  if (out_write(o, data, len, err) < 0)
    return -1;
  if (len % BLOCK)
    return out_write(o, zeros, BLOCK - len % BLOCK, err);
  return 0;
}

static int write_header(struct out *o, const struct entry *e, berth_error_t *err)
{
  unsigned char blk[BLOCK];
  size_t name_len = strlen(e->name), prefix_len, pax_len = 0;
  cleanup_free char *pax = NULL;
  if (name_len > 100 && !split_ustar(e->name, &prefix_len))
    pax_add(&pax, &pax_len, "path", e->name, name_len);
  if (strlen(e->linkname) > 100)
    pax_add(&pax, &pax_len, "linkpath", e->linkname, strlen(e->linkname));
  if (!fits_octal(e->size, 12))
    pax_add_num(&pax, &pax_len, "size", e->size);
  if (!fits_octal(e->uid, 8))
    pax_add_num(&pax, &pax_len, "uid", e->uid);
  if (!fits_octal(e->gid, 8))
    pax_add_num(&pax, &pax_len, "gid", e->gid);
  if (!fits_octal(e->mtime, 12))
    pax_add_num(&pax, &pax_len, "mtime", e->mtime);
  for (size_t i = 0; i < e->n_xattrs; i++) {
    cleanup_free char *key = NULL;
    if (asprintf(&key, "SCHILY.xattr.%s", e->xattrs[i].name) < 0)
      abort();
    pax_add(&pax, &pax_len, key, e->xattrs[i].value, e->xattrs[i].len);
  }
  if (pax_len) {
    fill_block(blk, PAX_HEADER_NAME, strlen(PAX_HEADER_NAME), NULL, 'x', (int64_t)pax_len);
    if (out_write(o, blk, BLOCK, err) < 0 || write_padded(o, pax, pax_len, err) < 0)
      return -1;
  }
  fill_block(blk, e->name, name_len, e, e->type, e->size);
  return out_write(o, blk, BLOCK, err);
}

/* ---- xattrs ------------------------------------------------------------------- */

static void xattrs_free(struct xattr *x, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(x[i].name);
    free(x[i].value);
  }
  free(x);
}

static int cmp_xattr(const void *a, const void *b)
{
  return strcmp(((const struct xattr *)a)->name, ((const struct xattr *)b)->name);
}

static bool keep_xattr(const char *name, bool overlay)
{
  if (strcmp(name, "security.selinux") == 0)
    return false;
  if (overlay && (strncmp(name, "trusted.overlay.", 16) == 0 || strncmp(name, "user.overlay.", 13) == 0))
    return false;
  return true;
}

/* List xattrs of fd, or of `proc` (a /proc/self/fd/N/NAME path, not followed). */
static ssize_t xlist(int fd, const char *proc, char *buf, size_t len)
{
  return fd >= 0 ? flistxattr(fd, buf, len) : llistxattr(proc, buf, len);
}

static ssize_t xget(int fd, const char *proc, const char *name, void *buf, size_t len)
{
  return fd >= 0 ? fgetxattr(fd, name, buf, len) : lgetxattr(proc, name, buf, len);
}

static int read_xattrs(int fd, int pfd, const char *leaf, bool overlay, struct entry *e, berth_error_t *err)
{
  char proc[64 + NAME_MAX];
  cleanup_free char *names = NULL;
  ssize_t len;
  if (fd < 0 && !*leaf) /* the archived object is pfd itself, an O_PATH fd */
    return 0;
  if (fd < 0)
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", pfd, leaf);
  len = xlist(fd, proc, NULL, 0);
  if (len < 0 && (errno == ENOTSUP || errno == EPERM))
    return 0;
  if (len < 0)
    return berth_error_set(err, errno, "list xattrs of `%s`", leaf);
  if (len == 0)
    return 0;
  names = malloc((size_t)len);
  if (!names)
    abort();
  len = xlist(fd, proc, names, (size_t)len);
  if (len < 0)
    return berth_error_set(err, errno, "list xattrs of `%s`", leaf);
  for (char *n = names; n < names + len; n += strlen(n) + 1) {
    struct xattr x = {0};
    ssize_t vlen;
    if (!keep_xattr(n, overlay))
      continue;
    vlen = xget(fd, proc, n, NULL, 0);
    if (vlen < 0 && errno == ENODATA)
      continue;
    if (vlen < 0)
      return berth_error_set(err, errno, "read xattr `%s` of `%s`", n, leaf);
    x.value = malloc((size_t)vlen + 1);
    x.name = strdup(n);
    if (!x.value || !x.name)
      abort();
    vlen = xget(fd, proc, n, x.value, (size_t)vlen);
    if (vlen < 0) {
      free(x.name);
      free(x.value);
      return berth_error_set(err, errno, "read xattr `%s` of `%s`", n, leaf);
    }
    x.len = (size_t)vlen;
    e->xattrs = realloc(e->xattrs, (e->n_xattrs + 1) * sizeof(*e->xattrs));
    if (!e->xattrs)
      abort();
    e->xattrs[e->n_xattrs++] = x;
  }
  if (e->n_xattrs > 1)
    qsort(e->xattrs, e->n_xattrs, sizeof(*e->xattrs), cmp_xattr);
  return 0;
}

/* ---- walking -------------------------------------------------------------------- */

struct inode_name {
  dev_t dev;
  ino_t ino;
  char *name;
};

struct writer {
  struct out out;
  bool overlay;
  const char *const *exclude;
  struct inode_name *links; /* open addressing, for hard links */
  size_t links_cap, links_n;
  unsigned char *buf;
  int64_t content_size;
};

static struct inode_name *link_slot(struct writer *w, dev_t dev, ino_t ino)
{
  size_t i = (size_t)((ino * 0x9e3779b97f4a7c15ull) ^ dev) & (w->links_cap - 1);
  while (w->links[i].name && !(w->links[i].dev == dev && w->links[i].ino == ino))
    i = (i + 1) & (w->links_cap - 1);
  return &w->links[i];
}

/* The first name seen for a multiply linked inode, or NULL after recording `name`. */
static const char *link_seen(struct writer *w, const struct stat *st, const char *name)
{
  struct inode_name *s;
  if (2 * (w->links_n + 1) > w->links_cap) {
    struct inode_name *old = w->links;
    size_t old_cap = w->links_cap;
    w->links_cap = old_cap ? 2 * old_cap : 64;
    w->links = calloc(w->links_cap, sizeof(*w->links));
    if (!w->links)
      abort();
    for (size_t i = 0; i < old_cap; i++)
      if (old[i].name)
        *link_slot(w, old[i].dev, old[i].ino) = old[i];
    free(old);
  }
  s = link_slot(w, st->st_dev, st->st_ino);
  if (s->name)
    return s->name;
  s->dev = st->st_dev;
  s->ino = st->st_ino;
  s->name = strdup(name);
  if (!s->name)
    abort();
  w->links_n++;
  return NULL;
}

static void entry_from_stat(struct entry *e, const struct stat *st)
{
  e->mode = st->st_mode & 07777;
  e->uid = st->st_uid;
  e->gid = st->st_gid;
  e->mtime = st->st_mtim.tv_sec;
  e->linkname = "";
}

static int copy_file_data(struct writer *w, int fd, int64_t size, const char *name, berth_error_t *err)
{
  int64_t done = 0;
  static const unsigned char zeros[BLOCK];
  while (done < size) {
    size_t want = size - done > OUT_BUF_SIZE ? OUT_BUF_SIZE : (size_t)(size - done);
    ssize_t n = read(fd, w->buf, want);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return berth_error_set(err, errno, "read `%s`", name);
    if (n == 0) { /* shrank while we read it: pad to the size in the header */
      memset(w->buf, 0, want);
      n = (ssize_t)want;
    }
    if (out_write(&w->out, w->buf, (size_t)n, err) < 0)
      return -1;
    done += n;
  }
  if (size % BLOCK)
    return out_write(&w->out, zeros, BLOCK - (size_t)(size % BLOCK), err);
  return 0;
}

static int emit_tree(struct writer *w, int dfd, const char *prefix, berth_error_t *err);

/* Open pfd/leaf for reading, never following it; leaf "" reopens pfd itself
 * (an O_PATH fd of our own, so its /proc link is safe to follow). */
static int open_leaf(int pfd, const char *leaf, int flags)
{
  char proc[64];
  if (*leaf)
    return openat(pfd, leaf, flags | O_NOFOLLOW | O_CLOEXEC);
  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
  return open(proc, flags | O_CLOEXEC);
}

static int emit_regular(struct writer *w, int pfd, const char *leaf, struct entry *e, berth_error_t *err)
{
  cleanup_close int fd = open_leaf(pfd, leaf, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  struct stat st;
  const char *first;
  if (fd < 0 || fstat(fd, &st) < 0)
    return berth_error_set(err, errno, "open `%s`", e->name);
  if (!S_ISREG(st.st_mode))
    return berth_error_set(err, EAGAIN, "`%s` changed while it was archived", e->name);
  entry_from_stat(e, &st);
  if (st.st_nlink > 1 && (first = link_seen(w, &st, e->name))) {
    e->type = '1';
    e->linkname = first;
    e->size = 0;
    return write_header(&w->out, e, err);
  }
  e->type = '0';
  e->size = st.st_size;
  if (read_xattrs(fd, -1, leaf, w->overlay, e, err) < 0 || write_header(&w->out, e, err) < 0 ||
      copy_file_data(w, fd, st.st_size, e->name, err) < 0)
    return -1;
  w->content_size += st.st_size;
  return 0;
}

static bool is_opaque(int fd)
{
  char v[2];
  return fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y';
}

static int emit_dir(struct writer *w, int pfd, const char *leaf, struct entry *e, berth_error_t *err)
{
  cleanup_close int fd = open_leaf(pfd, *leaf ? leaf : ".", O_RDONLY | O_DIRECTORY);
  cleanup_free char *prefix = NULL;
  size_t len = strlen(e->name);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return berth_error_set(err, errno, "open directory `%s`", e->name);
  entry_from_stat(e, &st);
  e->type = '5';
  e->size = 0;
  /* a name that already ends in "/" (the root "/") gets no second one */
  if (asprintf(&prefix, "%s%s", e->name, len && e->name[len - 1] == '/' ? "" : "/") < 0)
    abort();
  free(e->name);
  e->name = strdup(prefix);
  if (!e->name)
    abort();
  if (read_xattrs(fd, -1, leaf, w->overlay, e, err) < 0 || write_header(&w->out, e, err) < 0)
    return -1;
  if (w->overlay && is_opaque(fd)) {
    struct entry wh = {.type = '0', .linkname = "", .mode = e->mode & 0777, .uid = e->uid,
                       .gid = e->gid, .mtime = e->mtime};
    int r;
    if (asprintf(&wh.name, "%s.wh..wh..opq", prefix) < 0)
      abort();
    r = write_header(&w->out, &wh, err);
    free(wh.name);
    if (r < 0)
      return -1;
  }
  return emit_tree(w, fd, prefix, err);
}

/* Archive pfd/leaf under the name `name`. */
static int emit_entry(struct writer *w, int pfd, const char *leaf, const char *name, berth_error_t *err)
{
  struct entry e = {0};
  struct stat st;
  char target[PATH_MAX + 1];
  ssize_t n;
  int r = -1;
  for (const char *const *x = w->exclude; x && *x; x++)
    if (strcmp(*x, name) == 0)
      return 0;
  if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW | (*leaf ? 0 : AT_EMPTY_PATH)) < 0) {
    if (errno == ENOENT && *leaf) /* removed since we listed the directory */
      return 0;
    return berth_error_set(err, errno, "stat `%s`", name);
  }
  e.name = strdup(name);
  if (!e.name)
    abort();
  entry_from_stat(&e, &st);
  switch (st.st_mode & S_IFMT) {
  case S_IFREG:
    r = emit_regular(w, pfd, leaf, &e, err);
    break;
  case S_IFDIR:
    r = emit_dir(w, pfd, leaf, &e, err);
    break;
  case S_IFLNK:
    n = readlinkat(pfd, leaf, target, PATH_MAX);
    if (n < 0) {
      r = berth_error_set(err, errno, "read symlink `%s`", name);
      break;
    }
    target[n] = '\0';
    e.type = '2';
    e.linkname = target;
    if (st.st_nlink > 1 && (e.linkname = link_seen(w, &st, name)))
      e.type = '1';
    else
      e.linkname = target;
    if (e.type == '2')
      w->content_size += n;
    r = read_xattrs(-1, pfd, leaf, w->overlay, &e, err);
    if (r == 0)
      r = write_header(&w->out, &e, err);
    break;
  case S_IFCHR:
  case S_IFBLK:
  case S_IFIFO:
    e.type = S_ISCHR(st.st_mode) ? '3' : S_ISBLK(st.st_mode) ? '4' : '6';
    e.devmajor = major(st.st_rdev);
    e.devminor = minor(st.st_rdev);
    if (w->overlay && S_ISCHR(st.st_mode) && st.st_rdev == 0) {
      /* overlayfs whiteout -> ".wh.NAME" */
      const char *slash = strrchr(name, '/');
      free(e.name);
      if (asprintf(&e.name, "%.*s.wh.%s", slash ? (int)(slash - name + 1) : 0, name,
                   slash ? slash + 1 : name) < 0)
        abort();
      e.type = '0';
      e.mode &= 0777;
      e.devmajor = e.devminor = 0;
      r = write_header(&w->out, &e, err);
      break;
    }
    if (st.st_nlink > 1 && (e.linkname = link_seen(w, &st, name)))
      e.type = '1';
    else
      e.linkname = "";
    r = read_xattrs(-1, pfd, leaf, w->overlay, &e, err);
    if (r == 0)
      r = write_header(&w->out, &e, err);
    break;
  default: /* sockets: docker skips them too */
    r = 0;
    break;
  }
  free(e.name);
  xattrs_free(e.xattrs, e.n_xattrs);
  return r;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Emit the children of dfd, sorted, named prefix + child. */
static int emit_tree(struct writer *w, int dfd, const char *prefix, berth_error_t *err)
{
  cleanup_strv char **names = NULL;
  size_t n = 0;
  if (!(names = berth_dir_names(dfd, &n, err)))
    return berth_error_prefix(err, "`%s`", prefix);
  if (n)
    qsort(names, n, sizeof(*names), cmp_str);
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *name = NULL;
    if (asprintf(&name, "%s%s", prefix, names[i]) < 0)
      abort();
    if (emit_entry(w, dfd, names[i], name, err) < 0)
      return -1;
  }
  return 0;
}

/* Open the parent of `source` beneath dirfd; symlinks in it stay inside dirfd. */
static int open_source_parent(int dirfd, const char *source, char **ret_leaf, berth_error_t *err)
{
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  cleanup_free char *copy = strdup(source);
  const char *parent = ".";
  char *slash;
  long fd;
  if (!copy)
    abort();
  if (!berth_path_is_clean_relative(source))
    return berth_error_set_plain(err, EINVAL, "archive `%s`: not a clean relative path", source);
  slash = strrchr(copy, '/');
  if (slash) {
    *slash = '\0';
    parent = copy;
  }
  fd = syscall(SYS_openat2, dirfd, parent, &how, sizeof(how));
  if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
    /* No openat2: walk without following anything. */
    fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    for (char *p = slash ? copy : NULL, *next; fd >= 0 && p; p = next) {
      long nfd;
      next = strchr(p, '/');
      if (next)
        *next++ = '\0';
      nfd = openat((int)fd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (nfd < 0) {
        int e = errno;
        (void)close((int)fd);
        errno = e;
      } else {
        (void)close((int)fd);
      }
      fd = nfd;
    }
  }
  if (fd < 0)
    return berth_error_set(err, errno, "open parent of `%s`", source);
  *ret_leaf = strdup(slash ? source + (slash - copy) + 1 : source);
  if (!*ret_leaf)
    abort();
  return (int)fd;
}

static int write_all_entries(struct writer *w, int dirfd, const struct berth_tar_write_opts *opts,
                             berth_error_t *err)
{
  static const unsigned char zeros[2 * BLOCK];
  if (opts && opts->source_is_dirfd) {
    if (emit_entry(w, dirfd, "", opts->rename, err) < 0)
      return -1;
  } else if (!opts || !opts->source) {
    if (emit_tree(w, dirfd, "", err) < 0)
      return -1;
  } else {
    cleanup_free char *leaf = NULL;
    cleanup_close int pfd = open_source_parent(dirfd, opts->source, &leaf, err);
    if (pfd < 0)
      return -1;
    if (emit_entry(w, pfd, leaf, opts->rename ? opts->rename : leaf, err) < 0)
      return -1;
  }
  return out_write(&w->out, zeros, sizeof(zeros), err);
}

int berth_tar_write(int dirfd, int out_fd, const struct berth_tar_write_opts *opts,
                    struct berth_tar_write_result *res, berth_error_t *err)
{
  struct writer w = {.overlay = opts && opts->overlay_whiteouts, .exclude = opts ? opts->exclude : NULL};
  int r;
  w.buf = malloc(OUT_BUF_SIZE);
  if (!w.buf)
    abort();
  r = out_init(&w.out, out_fd, opts, err);
  if (r == 0)
    r = write_all_entries(&w, dirfd, opts, err);
  if (r == 0)
    r = out_finish(&w.out, err);
  if (r == 0 && res) {
    berth_sha256_final(w.out.tar_hash, res->diff_id);
    if (w.out.out_hash)
      berth_sha256_final(w.out.out_hash, res->digest);
    else
      memcpy(res->digest, res->diff_id, sizeof(res->digest));
    w.out.tar_hash = w.out.out_hash = NULL;
    res->tar_size = w.out.tar_size;
    res->written_size = w.out.written;
    res->content_size = w.content_size;
  }
  out_free(&w.out);
  for (size_t i = 0; i < w.links_cap; i++)
    free(w.links[i].name);
  free(w.links);
  free(w.buf);
  if (r < 0)
    return berth_error_prefix(err, "write archive");
  return 0;
}
