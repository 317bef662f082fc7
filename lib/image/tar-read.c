/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strict streaming tar reader over a berth_reader: ustar, GNU and PAX headers
 * parsed by hand so that names stay raw bytes (no locale conversion), file
 * data is handed out zero-copy from the decompressor's buffers, and every
 * malformed field is an error.  The rules follow Go's archive/tar, which is
 * what docker uses, so that an archive means the same thing to both. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "image/tar.h"

#define BLOCK 512
/* PAX and GNU long-name headers larger than this are refused (Go: 1 MiB). */
#define MAX_META_SIZE (1 << 20)
#define MAX_ENTRY_SIZE ((int64_t)1 << 53) /* 8 PiB */

struct pax_state {
  char *path, *linkpath;
  bool has_size, has_uid, has_gid, has_mtime, has_devmajor, has_devminor;
  int64_t size, uid, gid;
  struct timespec mtime;
  int64_t devmajor, devminor;
  struct berth_tar_xattr *xattrs;
  size_t n_xattrs, cap_xattrs;
};

struct berth_tar_reader {
  struct berth_reader *src;
  int64_t remaining, padding;
  bool end;
  char *gnu_name, *gnu_link;
  struct pax_state pax;
  struct berth_tar_header hdr;
};

static void pax_clear(struct pax_state *p)
{
  for (size_t i = 0; i < p->n_xattrs; i++) {
    free(p->xattrs[i].name);
    free(p->xattrs[i].value);
  }
  free(p->xattrs);
  free(p->path);
  free(p->linkpath);
  memset(p, 0, sizeof(*p));
}

static void entry_clear(struct berth_tar_reader *t)
{
  free(t->hdr.name);
  free(t->hdr.linkname);
  memset(&t->hdr, 0, sizeof(t->hdr));
  pax_clear(&t->pax);
  free(t->gnu_name);
  free(t->gnu_link);
  t->gnu_name = t->gnu_link = NULL;
}

struct berth_tar_reader *berth_tar_reader_new(struct berth_reader *src)
{
  struct berth_tar_reader *t = calloc(1, sizeof(*t));
  if (!t)
    abort();
  t->src = src;
  return t;
}

void berth_tar_reader_free(struct berth_tar_reader *t)
{
  if (!t)
    return;
  entry_clear(t);
  free(t);
}

/* 1: a full block; 0: clean end of input before its first byte; -1: error. */
static int read_block(struct berth_tar_reader *t, unsigned char *blk, berth_error_t *err)
{
  size_t have = 0;
  while (have < BLOCK) {
    const void *p;
    ssize_t n = berth_reader_next(t->src, BLOCK - have, &p, err);
    if (n < 0)
      return -1;
    if (n == 0) {
      if (have == 0)
        return 0;
      return berth_error_set_plain(err, EINVAL, "truncated tar header");
    }
    memcpy(blk + have, p, (size_t)n);
    have += (size_t)n;
  }
  return 1;
}

static int skip_bytes(struct berth_tar_reader *t, int64_t n, berth_error_t *err)
{
  if (n < 0)
    return berth_error_set_plain(err, EINVAL, "corrupt tar archive: negative skip");
  while (n > 0) {
    const void *p;
    ssize_t got = berth_reader_next(t->src, (size_t)n, &p, err);
    if (got < 0)
      return -1;
    if (got == 0)
      return berth_error_set_plain(err, EINVAL, "truncated tar archive");
    n -= got;
  }
  return 0;
}

/* Copy n bytes of entry data plus its padding into a fresh NUL-terminated buffer. */
static int read_meta(struct berth_tar_reader *t, int64_t n, char **ret, berth_error_t *err)
{
  cleanup_free char *buf = NULL;
  ssize_t got;
  if (n < 0 || n > MAX_META_SIZE)
    return berth_error_set_plain(err, EINVAL, "tar metadata header of %lld bytes is too large", (long long)n);
  buf = malloc((size_t)n + 1);
  if (!buf)
    abort();
  got = berth_reader_read(t->src, buf, (size_t)n, err);
  if (got < 0)
    return -1;
  if (got != n)
    return berth_error_set_plain(err, EINVAL, "truncated tar archive");
  buf[n] = '\0';
  if (skip_bytes(t, (BLOCK - n % BLOCK) % BLOCK, err) < 0)
    return -1;
  *ret = steal_ptr(&buf);
  return 0;
}

/* Field helpers: NUL-terminated or full-width strings, numbers as in Go. */
static char *field_str(const unsigned char *f, size_t len)
{
  size_t n = strnlen((const char *)f, len);
  char *s = strndup((const char *)f, n);
  if (!s)
    abort();
  return s;
}

static int parse_numeric(const unsigned char *f, size_t len, int64_t *out)
{
  if (len > 0 && (f[0] & 0x80)) {
    /* GNU base-256; negative numbers are two's complement (-a-1 == ~a). */
    unsigned char inv = (f[0] & 0x40) ? 0xff : 0;
    uint64_t x = 0;
    for (size_t i = 0; i < len; i++) {
      unsigned char c = f[i] ^ inv;
      if (i == 0)
        c &= 0x7f;
      if (x >> 56)
        return -1;
      x = x << 8 | c;
    }
    if (x >> 63)
      return -1;
    *out = inv ? ~(int64_t)x : (int64_t)x;
    return 0;
  }
  /* Octal, padded with spaces or NULs on either side. */
  while (len > 0 && (f[0] == ' ' || f[0] == '\0'))
    f++, len--;
  while (len > 0 && (f[len - 1] == ' ' || f[len - 1] == '\0'))
    len--;
  *out = 0;
  for (size_t i = 0; i < len; i++) {
    if (f[i] < '0' || f[i] > '7')
      return -1;
    if (*out >> 60)
      return -1;
    *out = *out * 8 + (f[i] - '0');
  }
  return 0;
}

/* The checksum is the sum of the header bytes with the checksum field read
 * as spaces; some old writers summed signed chars, which Go accepts too. */
static bool checksum_ok(const unsigned char *blk)
{
  int64_t want, high = 0;
  uint64_t usum = 8 * ' ';
  if (parse_numeric(blk + 148, 8, &want) < 0)
    return false;
  for (size_t i = 0; i < 148; i++)
    usum += blk[i];
  for (size_t i = 156; i < BLOCK; i++)
    usum += blk[i];
  if (want == (int64_t)usum)
    return true;
  for (size_t i = 0; i < BLOCK; i++)
    high += (i < 148 || i >= 156) && blk[i] >= 0x80;
  return want == (int64_t)usum - 256 * high;
}

static bool is_zero_block(const unsigned char *blk)
{
  for (size_t i = 0; i < BLOCK; i++)
    if (blk[i])
      return false;
  return true;
}

static int parse_decimal(const char *s, int64_t *out)
{
  int64_t v = 0;
  if (!*s)
    return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
      return -1;
    v = v * 10 + (*s - '0');
  }
  *out = v;
  return 0;
}

/* "[-]SECONDS[.FRACTION]" */
static int parse_pax_time(const char *s, struct timespec *ts)
{
  bool neg = *s == '-';
  int64_t sec = 0, nsec = 0;
  const char *dot;
  cleanup_free char *whole = NULL;
  if (neg)
    s++;
  dot = strchr(s, '.');
  whole = strndup(s, dot ? (size_t)(dot - s) : strlen(s));
  if (!whole)
    abort();
  if (parse_decimal(whole, &sec) < 0)
    return -1;
  if (dot) {
    int digits = 0;
    for (const char *p = dot + 1; *p; p++) {
      if (*p < '0' || *p > '9')
        return -1;
      if (digits++ < 9)
        nsec = nsec * 10 + (*p - '0');
    }
    for (; digits < 9; digits++)
      nsec *= 10;
  }
  if (neg && nsec) {
    sec = -sec - 1;
    nsec = 1000000000 - nsec;
  } else if (neg) {
    sec = -sec;
  }
  ts->tv_sec = (time_t)sec;
  ts->tv_nsec = (long)nsec;
  return 0;
}

/* More than any real layer carries; keeps the linear name search bounded. */
#define MAX_XATTRS 256

static int pax_set_xattr(struct pax_state *p, const char *name, const char *value, size_t len, berth_error_t *err)
{
  struct berth_tar_xattr *x = NULL;
  for (size_t i = 0; i < p->n_xattrs && !x; i++)
    if (strcmp(p->xattrs[i].name, name) == 0)
      x = &p->xattrs[i];
  if (!x) {
    if (p->n_xattrs >= MAX_XATTRS)
      return berth_error_set_plain(err, EINVAL, "more than %d extended attributes on one tar entry", MAX_XATTRS);
    if (p->n_xattrs == p->cap_xattrs) {
      p->cap_xattrs = p->cap_xattrs ? 2 * p->cap_xattrs : 4;
      p->xattrs = realloc(p->xattrs, p->cap_xattrs * sizeof(*p->xattrs));
      if (!p->xattrs)
        abort();
    }
    x = &p->xattrs[p->n_xattrs++];
    x->name = strdup(name);
    if (!x->name)
      abort();
  } else {
    free(x->value);
  }
  x->value = malloc(len + 1);
  if (!x->value)
    abort();
  memcpy(x->value, value, len);
  x->value[len] = '\0';
  x->len = len;
  return 0;
}

static int set_string(char **dst, const char *v, size_t vlen)
{
  free(*dst);
  *dst = NULL;
  if (vlen == 0) /* an empty value unsets the keyword */
    return 0;
  if (memchr(v, '\0', vlen))
    return -1;
  *dst = strndup(v, vlen);
  if (!*dst)
    abort();
  return 0;
}

static int pax_number(const char *v, size_t vlen, bool *has, int64_t *out)
{
  char buf[32];
  if (vlen == 0) {
    *has = false;
    return 0;
  }
  if (vlen >= sizeof(buf))
    return -1;
  memcpy(buf, v, vlen);
  buf[vlen] = '\0';
  if (parse_decimal(buf, out) < 0)
    return -1;
  *has = true;
  return 0;
}

/* Apply one "key=value" record to the pending entry state. */
static int pax_record(struct pax_state *p, const char *key, const char *v, size_t vlen, berth_error_t *err)
{
  int r = 0;
  if (strcmp(key, "path") == 0)
    r = set_string(&p->path, v, vlen);
  else if (strcmp(key, "linkpath") == 0)
    r = set_string(&p->linkpath, v, vlen);
  else if (strcmp(key, "size") == 0)
    r = pax_number(v, vlen, &p->has_size, &p->size);
  else if (strcmp(key, "uid") == 0)
    r = pax_number(v, vlen, &p->has_uid, &p->uid);
  else if (strcmp(key, "gid") == 0)
    r = pax_number(v, vlen, &p->has_gid, &p->gid);
  else if (strcmp(key, "SCHILY.devmajor") == 0)
    r = pax_number(v, vlen, &p->has_devmajor, &p->devmajor);
  else if (strcmp(key, "SCHILY.devminor") == 0)
    r = pax_number(v, vlen, &p->has_devminor, &p->devminor);
  else if (strcmp(key, "mtime") == 0) {
    char buf[64];
    p->has_mtime = false;
    if (vlen > 0) {
      if (vlen >= sizeof(buf))
        r = -1;
      else {
        memcpy(buf, v, vlen);
        buf[vlen] = '\0';
        r = parse_pax_time(buf, &p->mtime);
        p->has_mtime = r == 0;
      }
    }
  } else if (strncmp(key, "SCHILY.xattr.", 13) == 0) {
    if (key[13] == '\0')
      r = -1;
    else if (pax_set_xattr(p, key + 13, v, vlen, err) < 0)
      return -1;
  } else if (strncmp(key, "GNU.sparse.", 11) == 0) {
    return berth_error_set_plain(err, ENOTSUP, "sparse files are not supported");
  }
  /* Everything else (atime, ctime, uname, gname, comment, charset,
   * hdrcharset, LIBARCHIVE.*, vendor keys) does not change what we unpack. */
  if (r < 0)
    return berth_error_set_plain(err, EINVAL, "invalid PAX record `%.64s`", key);
  return 0;
}

/* Parse "%d %s=%s\n" records; `global` records are validated, then ignored. */
static int parse_pax(struct berth_tar_reader *t, const char *data, size_t len, bool global,
                     berth_error_t *err)
{
  struct pax_state scratch = {0};
  struct pax_state *p = global ? &scratch : &t->pax;
  int r = 0;
  while (len > 0 && r == 0) {
    size_t i = 0, n = 0;
    const char *rec, *eq;
    cleanup_free char *key = NULL;
    while (i < len && i < 20 && data[i] >= '0' && data[i] <= '9' && n <= len)
      n = n * 10 + (size_t)(data[i++] - '0');
    if (i == 0 || n > len || i >= len || data[i] != ' ' || n <= i + 1 || n > len || data[n - 1] != '\n') {
      r = berth_error_set_plain(err, EINVAL, "malformed PAX header");
      break;
    }
    rec = data + i + 1;
    eq = memchr(rec, '=', (size_t)(data + n - 1 - rec));
    if (!eq || eq == rec || memchr(rec, '\0', (size_t)(eq - rec))) {
      r = berth_error_set_plain(err, EINVAL, "malformed PAX header");
      break;
    }
    key = strndup(rec, (size_t)(eq - rec));
    if (!key)
      abort();
    r = pax_record(p, key, eq + 1, (size_t)(data + n - 1 - (eq + 1)), err);
    data += n;
    len -= n;
  }
  pax_clear(&scratch);
  return r;
}

static char *join_prefix(const unsigned char *blk, size_t prefix_len)
{
  cleanup_free char *prefix = field_str(blk + 345, prefix_len);
  cleanup_free char *name = field_str(blk, 100);
  char *s = NULL;
  if (!*prefix)
    return steal_ptr(&name);
  if (asprintf(&s, "%s/%s", prefix, name) < 0)
    abort();
  return s;
}

static int numeric_field(const unsigned char *blk, size_t off, size_t len, const char *what,
                         bool allow_negative, int64_t *out, berth_error_t *err)
{
  if (parse_numeric(blk + off, len, out) < 0 || (!allow_negative && *out < 0))
    return berth_error_set_plain(err, EINVAL, "invalid %s in tar header", what);
  return 0;
}

/* Turn the header block plus pending GNU/PAX state into t->hdr. */
static int build_entry(struct berth_tar_reader *t, const unsigned char *blk, berth_error_t *err)
{
  struct berth_tar_header *h = &t->hdr;
  struct pax_state *p = &t->pax;
  bool ustar = memcmp(blk + 257, "ustar\0", 6) == 0;
  bool star = ustar && memcmp(blk + 508, "tar\0", 4) == 0;
  int64_t mode, mtime, dmaj = 0, dmin = 0;
  char type = (char)blk[156];

  if (numeric_field(blk, 100, 8, "mode", false, &mode, err) < 0 ||
      numeric_field(blk, 108, 8, "uid", false, &h->uid, err) < 0 ||
      numeric_field(blk, 116, 8, "gid", false, &h->gid, err) < 0 ||
      numeric_field(blk, 124, 12, "size", false, &h->size, err) < 0 ||
      numeric_field(blk, 136, 12, "mtime", true, &mtime, err) < 0)
    return -1;
  if (ustar || memcmp(blk + 257, "ustar ", 6) == 0) {
    if (numeric_field(blk, 329, 8, "device major", false, &dmaj, err) < 0 ||
        numeric_field(blk, 337, 8, "device minor", false, &dmin, err) < 0)
      return -1;
  }
  h->mode = (uint32_t)(mode & 07777);
  h->mtime.tv_sec = (time_t)mtime;
  h->mtime.tv_nsec = 0;

  if (t->gnu_name)
    h->name = steal_ptr(&t->gnu_name);
  else if (p->path)
    h->name = steal_ptr(&p->path);
  else
    h->name = ustar ? join_prefix(blk, star ? 131 : 155) : field_str(blk, 100);
  if (t->gnu_link)
    h->linkname = steal_ptr(&t->gnu_link);
  else if (p->linkpath)
    h->linkname = steal_ptr(&p->linkpath);
  else
    h->linkname = field_str(blk + 157, 100);

  if (p->has_size)
    h->size = p->size;
  if (p->has_uid)
    h->uid = p->uid;
  if (p->has_gid)
    h->gid = p->gid;
  if (p->has_mtime)
    h->mtime = p->mtime;
  if (p->has_devmajor)
    dmaj = p->devmajor;
  if (p->has_devminor)
    dmin = p->devminor;
  if (dmaj > UINT32_MAX || dmin > UINT32_MAX)
    return berth_error_set_plain(err, EINVAL, "invalid device number in tar header");
  h->devmajor = (uint32_t)dmaj;
  h->devminor = (uint32_t)dmin;
  h->xattrs = p->xattrs;
  h->n_xattrs = p->n_xattrs;

  switch (type) {
  case '\0':
    h->type = (*h->name && h->name[strlen(h->name) - 1] == '/') ? BERTH_TAR_DIR : BERTH_TAR_REG;
    break;
  case '0':
  case '7':
    h->type = BERTH_TAR_REG;
    break;
  case '1':
  case '2':
  case '3':
  case '4':
  case '5':
  case '6':
    h->type = (enum berth_tar_type)type;
    break;
  case 'S':
    return berth_error_set_plain(err, ENOTSUP, "sparse files are not supported");
  default:
    if (type >= ' ' && type <= '~')
      return berth_error_set_plain(err, ENOTSUP, "unsupported tar entry type '%c'", type);
    return berth_error_set_plain(err, ENOTSUP, "unsupported tar entry type 0x%02x", (unsigned char)type);
  }
  /* Only regular files carry data (Go's isHeaderOnlyType). */
  if (h->type != BERTH_TAR_REG)
    h->size = 0;
  /* Size plus padding must stay far from int64 overflow (CVE-2017-14992
   * class: a size near INT64_MAX once wrapped the skip and hid entries). */
  if (h->size < 0 || h->size > MAX_ENTRY_SIZE)
    return berth_error_set_plain(err, EFBIG, "tar entry `%s`: size %lld is out of range", h->name,
                                 (long long)h->size);
  t->remaining = h->size;
  t->padding = (BLOCK - h->size % BLOCK) % BLOCK;
  return 0;
}

/* The archive ends at two zero blocks, a zero block and end of input, or end
 * of input at a header boundary. */
static int handle_zero_block(struct berth_tar_reader *t, berth_error_t *err)
{
  unsigned char blk[BLOCK];
  int r = read_block(t, blk, err);
  if (r < 0)
    return -1;
  if (r > 0 && !is_zero_block(blk))
    return berth_error_set_plain(err, EINVAL, "invalid tar header after a zero block");
  t->end = true;
  return 0;
}

int berth_tar_reader_next(struct berth_tar_reader *t, const struct berth_tar_header **ret_hdr,
                          berth_error_t *err)
{
  unsigned char blk[BLOCK];
  if (t->end)
    return 0;
  if (skip_bytes(t, t->remaining + t->padding, err) < 0)
    return -1;
  t->remaining = t->padding = 0;
  entry_clear(t);
  for (;;) {
    int64_t size;
    char type;
    int r = read_block(t, blk, err);
    if (r < 0)
      return -1;
    if (r == 0) {
      if (t->gnu_name || t->gnu_link || t->pax.path || t->pax.n_xattrs)
        return berth_error_set_plain(err, EINVAL, "truncated tar archive: extended header without entry");
      t->end = true;
      return 0;
    }
    if (is_zero_block(blk)) {
      if (handle_zero_block(t, err) < 0)
        return -1;
      return 0;
    }
    if (!checksum_ok(blk))
      return berth_error_set_plain(err, EINVAL, "invalid tar header checksum");
    type = (char)blk[156];
    if (type != 'x' && type != 'g' && type != 'L' && type != 'K')
      break;
    if (numeric_field(blk, 124, 12, "size", false, &size, err) < 0)
      return -1;
    if (type == 'L' || type == 'K') {
      char **dst = type == 'L' ? &t->gnu_name : &t->gnu_link;
      free(*dst);
      *dst = NULL;
      if (read_meta(t, size, dst, err) < 0)
        return -1;
    } else {
      cleanup_free char *data = NULL;
      /* The last 'x' header before an entry is the one that counts, whole,
       * as with Go's archive/tar and GNU tar: never a merge of several. */
      if (type == 'x')
        pax_clear(&t->pax);
      if (read_meta(t, size, &data, err) < 0 || parse_pax(t, data, (size_t)size, type == 'g', err) < 0)
        return -1;
    }
  }
  if (build_entry(t, blk, err) < 0)
    return -1;
  *ret_hdr = &t->hdr;
  return 1;
}

ssize_t berth_tar_reader_data(struct berth_tar_reader *t, size_t max, const void **ret_buf,
                              berth_error_t *err)
{
  ssize_t n;
  if (t->remaining == 0 || max == 0)
    return 0;
  if ((uint64_t)max > (uint64_t)t->remaining)
    max = (size_t)t->remaining;
  n = berth_reader_next(t->src, max, ret_buf, err);
  if (n < 0)
    return -1;
  if (n == 0)
    return berth_error_set_plain(err, EINVAL, "truncated tar archive: entry data cut short");
  t->remaining -= n;
  return n;
}
