/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unpack a layer tarball beneath a root directory fd.
 *
 * Safety comes from construction, not from checks on strings: every entry's
 * parent directory is resolved to an fd with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) (or an O_NOFOLLOW walk, one
 * component at a time, when openat2 is missing), and the last component is
 * created and changed only with *at calls that do not follow it.  So no
 * entry, symlink or hard link in the archive can make us touch anything
 * outside the root (CVE-2014-6407, CVE-2014-9356, CVE-2021-32760,
 * CVE-2026-17106; security.md 1.C).  Names with `..` are refused outright,
 * as are parent paths through symlinks this layer created.
 *
 * Speed: parent fds are cached (a small LRU keyed by the parent path), file
 * data is written straight from the decompressor's buffers, and per-entry
 * syscalls that cannot change anything (chown to the creating uid/gid,
 * chmod to the mode open() already gave) are skipped.  Directory modes and
 * mtimes are applied at the end, children before parents, so that creating
 * entries cannot disturb them and read-only directories can still be
 * filled. */
#define BERTH_LOG_DOMAIN "tar"

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

#include <berth/log.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "image/tar.h"

#define DIRCACHE_SIZE 8
#define MAX_SYMLINKS 40

/* ---- string set / map (open addressing, insert and lookup only) ---------- */

struct strmap_slot {
  char *key;
  size_t val;
};

struct strmap {
  struct strmap_slot *slots;
  size_t cap, n;
};

static uint64_t str_hash(const char *s, size_t len)
{
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

static struct strmap_slot *strmap_find(const struct strmap *m, const char *key, size_t len)
{
  size_t i;
  if (!m->cap)
    return NULL;
  for (i = str_hash(key, len) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    struct strmap_slot *s = &m->slots[i];
    if (!s->key || (strncmp(s->key, key, len) == 0 && s->key[len] == '\0'))
      return s;
  }
}

static bool strmap_get(const struct strmap *m, const char *key, size_t len, size_t *val)
{
  struct strmap_slot *s = strmap_find(m, key, len);
  if (!s || !s->key)
    return false;
  if (val)
    *val = s->val;
  return true;
}

static void strmap_put(struct strmap *m, const char *key, size_t len, size_t val)
{
  struct strmap_slot *s;
  if (2 * (m->n + 1) > m->cap) {
    struct strmap old = *m;
    m->cap = m->cap ? 2 * m->cap : 64;
    m->slots = calloc(m->cap, sizeof(*m->slots));
    if (!m->slots)
      abort();
    for (size_t i = 0; i < old.cap; i++)
      if (old.slots[i].key)
        *strmap_find(m, old.slots[i].key, strlen(old.slots[i].key)) = old.slots[i];
    free(old.slots);
  }
  s = strmap_find(m, key, len);
  if (!s->key) {
    s->key = strndup(key, len);
    if (!s->key)
      abort();
    m->n++;
  }
  s->val = val;
}

static void strmap_clear(struct strmap *m)
{
  for (size_t i = 0; i < m->cap; i++)
    free(m->slots[i].key);
  free(m->slots);
  memset(m, 0, sizeof(*m));
}

/* ---- apply state ---------------------------------------------------------- */

struct dircache_entry {
  char *path;  /* lexical parent path as named in the archive */
  char *canon; /* the same directory without symlinks (differs only in apply mode) */
  int fd;      /* O_PATH directory fd */
  bool sgid;   /* new entries inherit the directory's group */
};

struct dir_meta {
  char *path; /* canonical */
  dev_t dev;
  ino_t ino;
  mode_t mode;
  struct timespec mtime;
};

struct apply {
  int root;
  bool overlay, chown, ignore_ownership, plain;
  bool force_owner;
  uid_t owner_uid;
  gid_t owner_gid;
  uid_t euid;
  gid_t egid;
  mode_t umask;
  /* open()/mknod() with `mode & 0777` yields exactly that mode minus the
   * umask, unless a default ACL is inherited; then every entry gets chmod. */
  bool umask_known;
  bool acl_seen;
  bool root_sgid;
  struct dircache_entry cache[DIRCACHE_SIZE];
  unsigned cache_next;
  bool cache_stale; /* a directory was removed: drop cached fds before the next lookup */
  struct dir_meta *dirs;
  size_t ndirs, cap_dirs;
  struct strmap dir_index;      /* canonical path -> index in dirs */
  struct strmap layer_symlinks; /* apply mode: canonical paths of symlinks this layer made */
  struct strmap unpacked;       /* apply mode: canonical paths this layer created */
  int64_t content_size;
};

/* Resolved parent directory of an entry.  `fd` is borrowed (from the cache
 * or the root) and stays valid until the next resolve_dir() call. */
struct parent {
  int fd;
  const char *canon;
  bool sgid;
};

/* Set once openat2() was found missing (ENOSYS, or EPERM from a seccomp
 * profile that does not know it); then only the walk is used. */
static int openat2_unavailable; /* accessed with __atomic builtins */

static void cache_flush(struct apply *a)
{
  for (unsigned i = 0; i < DIRCACHE_SIZE; i++) {
    struct dircache_entry *c = &a->cache[i];
    if (c->fd >= 0)
      (void)close(c->fd);
    free(c->path);
    free(c->canon);
    c->path = c->canon = NULL;
    c->fd = -1;
  }
  a->cache_stale = false;
}

static struct dircache_entry *cache_lookup(struct apply *a, const char *path)
{
  for (unsigned i = 0; i < DIRCACHE_SIZE; i++)
    if (a->cache[i].path && strcmp(a->cache[i].path, path) == 0)
      return &a->cache[i];
  return NULL;
}

/* Take ownership of fd and canon. */
static struct dircache_entry *cache_insert(struct apply *a, const char *path, char *canon, int fd, bool sgid)
{
  struct dircache_entry *c = &a->cache[a->cache_next];
  a->cache_next = (a->cache_next + 1) % DIRCACHE_SIZE;
  if (c->fd >= 0)
    (void)close(c->fd);
  free(c->path);
  free(c->canon);
  c->path = strdup(path);
  if (!c->path)
    abort();
  c->canon = canon;
  c->fd = fd;
  c->sgid = sgid;
  return c;
}

static char *path_join(const char *dir, const char *name)
{
  char *s = NULL;
  if (!*dir)
    s = strdup(name);
  else if (asprintf(&s, "%s/%s", dir, name) < 0)
    s = NULL;
  if (!s)
    abort();
  return s;
}

static void mark_unpacked(struct apply *a, const char *canon_dir, const char *name)
{
  cleanup_free char *p = NULL;
  if (a->overlay)
    return;
  p = path_join(canon_dir, name);
  strmap_put(&a->unpacked, p, strlen(p), 0);
}

/* ---- path resolution -------------------------------------------------------- */

struct walk {
  int *fds; /* fds[0] is the root (borrowed); the others are owned */
  size_t n, cap;
  char *canon; /* components of fds[1..n-1] joined by '/' */
  size_t *canon_len; /* canon length before component i was pushed */
};

static void walk_push(struct walk *w, int fd, const char *name)
{
  size_t len = strlen(w->canon);
  if (w->n == w->cap) {
    w->cap = w->cap ? 2 * w->cap : 16;
    w->fds = realloc(w->fds, w->cap * sizeof(*w->fds));
    w->canon_len = realloc(w->canon_len, w->cap * sizeof(*w->canon_len));
    if (!w->fds || !w->canon_len)
      abort();
  }
  w->fds[w->n] = fd;
  w->canon_len[w->n] = len;
  w->n++;
  if (fd < 0) /* the root: no name */
    return;
  w->canon = realloc(w->canon, len + strlen(name) + 2);
  if (!w->canon)
    abort();
  if (len)
    w->canon[len++] = '/';
  strcpy(w->canon + len, name);
}

static void walk_pop(struct walk *w)
{
  if (w->n <= 1)
    return;
  w->n--;
  (void)close(w->fds[w->n]);
  if (w->canon)
    w->canon[w->canon_len[w->n]] = '\0';
}

static void walk_free(struct walk *w)
{
  while (w->n > 1)
    walk_pop(w);
  free(w->fds);
  free(w->canon);
  free(w->canon_len);
}

/* Open directory `name` below dirfd with O_NOFOLLOW, creating it (0755)
 * when missing and `create` is set.  Returns the fd, or -1 with errno. */
static int walk_open(struct apply *a, struct walk *w, int dirfd, const char *name, bool create)
{
  int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 || errno != ENOENT || !create)
    return fd;
  if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
    return -1;
  mark_unpacked(a, w->canon, name);
  return openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* `name` below dirfd is not a directory we could open.  If it is a symlink
 * we may follow, replace it and the rest of the path `after` by its target
 * followed by `after` in *rest.  An absolute target restarts at the root:
 * this is RESOLVE_IN_ROOT done by hand. */
static int walk_symlink(struct apply *a, struct walk *w, int dirfd, const char *name, const char *after,
                        bool follow, char **rest, berth_error_t *err)
{
  char target[PATH_MAX + 1];
  struct stat st;
  char *joined = NULL;
  ssize_t n;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return berth_error_set(err, errno, "stat `%s`", name);
  if (!S_ISLNK(st.st_mode))
    return berth_error_set(err, ENOTDIR, "parent path component `%s` is not a directory", name);
  if (follow) {
    cleanup_free char *link = path_join(w->canon, name);
    follow = !strmap_get(&a->layer_symlinks, link, strlen(link), NULL);
  }
  if (!follow)
    return berth_error_set(err, ELOOP, "path passes through a symlink");
  n = readlinkat(dirfd, name, target, PATH_MAX);
  if (n < 0)
    return berth_error_set(err, errno, "read symlink `%s`", name);
  target[n] = '\0';
  if (target[0] == '/')
    while (w->n > 1)
      walk_pop(w);
  if (asprintf(&joined, "%s/%s", target, after) < 0)
    abort();
  free(*rest);
  *rest = joined;
  return 0;
}

/* Resolve directory `path` beneath the root one component at a time with
 * O_NOFOLLOW.  create: make missing directories (0755).  follow: follow
 * symlinks that this layer did not create, confined to the root the way
 * RESOLVE_IN_ROOT does (an absolute target or `..` never leaves it).
 * Returns an owned O_PATH fd and the canonical (symlink-free) path. */
static int walk_dir(struct apply *a, const char *path, bool create, bool follow, int *ret_fd,
                    char **ret_canon, berth_error_t *err)
{
  struct walk w = {.canon = strdup("")};
  cleanup_free char *rest = strdup(path);
  int nlinks = 0, r = -1;
  char *p = rest;
  if (!rest || !w.canon)
    abort();
  walk_push(&w, -1, NULL);
  while (*p) {
    char *name = p, *slash = strchr(p, '/');
    int fd, top = w.n > 1 ? w.fds[w.n - 1] : a->root;
    p = slash ? slash + 1 : p + strlen(p);
    if (slash)
      *slash = '\0';
    if (!*name || strcmp(name, ".") == 0)
      continue;
    if (strcmp(name, "..") == 0) { /* only from symlink targets */
      walk_pop(&w);
      continue;
    }
    fd = walk_open(a, &w, top, name, create);
    if (fd >= 0) {
      walk_push(&w, fd, name);
      continue;
    }
    if (errno != ENOTDIR && errno != ELOOP) {
      berth_error_set(err, errno, "open directory `%s`", name);
      goto out;
    }
    if (++nlinks > MAX_SYMLINKS) {
      berth_error_set(err, ELOOP, "too many symlinks");
      goto out;
    }
    {
      cleanup_free char *after = strdup(p);
      if (!after)
        abort();
      if (walk_symlink(a, &w, top, name, after, follow, &rest, err) < 0)
        goto out;
      p = rest;
    }
  }
  *ret_fd = w.n > 1 ? w.fds[--w.n] : openat(a->root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*ret_fd < 0) {
    berth_error_set(err, errno, "open layer root");
    goto out;
  }
  *ret_canon = steal_ptr(&w.canon);
  r = 0;
out:
  walk_free(&w);
  return r;
}

static int openat2_dir(int root, const char *path)
{
  struct open_how how = {
      .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  long fd;
  for (int tries = 0; tries < 4; tries++) {
    fd = syscall(SYS_openat2, root, path, &how, sizeof(how));
    if (fd >= 0 || errno != EAGAIN)
      break;
  }
  return (int)fd;
}

static bool is_dir_sgid(int fd)
{
  struct stat st;
  return fstat(fd, &st) == 0 && (st.st_mode & S_ISGID);
}

/* Resolve the directory `path` ("" is the root) for creating entries in it. */
static int resolve_dir(struct apply *a, const char *path, bool create, struct parent *ret, berth_error_t *err)
{
  struct dircache_entry *c;
  char *canon = NULL;
  int fd = -1;
  if (a->cache_stale)
    cache_flush(a);
  if (!*path) {
    *ret = (struct parent){a->root, "", a->root_sgid};
    return 0;
  }
  c = cache_lookup(a, path);
  if (c) {
    *ret = (struct parent){c->fd, c->canon, c->sgid};
    return 0;
  }
  if (!__atomic_load_n(&openat2_unavailable, __ATOMIC_RELAXED)) {
    fd = openat2_dir(a->root, path);
    if (fd < 0 && (errno == ENOSYS || errno == EPERM))
      __atomic_store_n(&openat2_unavailable, 1, __ATOMIC_RELAXED);
    else if (fd < 0 && errno == ELOOP && a->overlay)
      return berth_error_set(err, ELOOP, "path passes through a symlink");
    else if (fd < 0 && errno == ENOTDIR)
      return berth_error_set(err, ENOTDIR, "parent path is not a directory");
    else if (fd < 0 && errno == ENOENT && !create)
      return berth_error_set(err, ENOENT, "parent directory missing");
    else if (fd < 0 && errno != ENOENT && errno != ELOOP && errno != EAGAIN && errno != EXDEV)
      return berth_error_set(err, errno, "open parent directory");
  }
  if (fd >= 0) {
    canon = strdup(path);
    if (!canon)
      abort();
  } else if (walk_dir(a, path, create, !a->overlay, &fd, &canon, err) < 0) {
    return -1;
  }
  c = cache_insert(a, path, canon, fd, a->chown && is_dir_sgid(fd));
  *ret = (struct parent){c->fd, c->canon, c->sgid};
  return 0;
}

/* ---- names ------------------------------------------------------------------ */

/* Printable form of an archive name for error messages. */
static char *quote_name(const char *s)
{
  size_t cap = 4 * 200 + 8, n = 0;
  char *q = malloc(cap);
  if (!q)
    abort();
  for (; *s && n < 4 * 200; s++) {
    unsigned char c = (unsigned char)*s;
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '`')
      q[n++] = (char)c;
    else
      n += (size_t)snprintf(q + n, cap - n, "\\x%02x", c);
  }
  if (*s)
    n += (size_t)snprintf(q + n, cap - n, "...");
  q[n] = '\0';
  return q;
}

/* Clean an archive name into "a/b/c": drop leading "/", empty and "."
 * components; refuse "..".  "" means the root itself. */
static int clean_name(const char *name, char **ret, berth_error_t *err)
{
  size_t len = strlen(name), n = 0;
  cleanup_free char *out = NULL;
  const char *p = name;
  if (len >= PATH_MAX)
    return berth_error_set(err, ENAMETOOLONG, "name too long");
  out = malloc(len + 1);
  if (!out)
    abort();
  while (*p) {
    const char *slash = strchr(p, '/');
    size_t clen = slash ? (size_t)(slash - p) : strlen(p);
    if (clen == 2 && p[0] == '.' && p[1] == '.')
      return berth_error_set_plain(err, EINVAL, "path escapes the layer root");
    if (clen > 0 && !(clen == 1 && p[0] == '.')) {
      if (n)
        out[n++] = '/';
      memcpy(out + n, p, clen);
      n += clen;
    }
    p += clen;
    if (*p == '/')
      p++;
  }
  out[n] = '\0';
  *ret = steal_ptr(&out);
  return 0;
}

/* Split "a/b/c" in place into parent "a/b" and leaf "c" (parent "" for the root). */
static void split_path(char *path, char **parent, char **leaf)
{
  char *slash = strrchr(path, '/');
  if (!slash) {
    *parent = path + strlen(path); /* "" */
    *leaf = path;
  } else {
    *slash = '\0';
    *parent = path;
    *leaf = slash + 1;
  }
}

/* ---- creating and replacing -------------------------------------------------- */

/* Remove `name` in dirfd whatever it is, never following it. */
static int remove_at(struct apply *a, int dirfd, const char *name, berth_error_t *err)
{
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT)
      return 0;
    return berth_error_set(err, errno, "stat existing `%s`", name);
  }
  if (a->plain && S_ISDIR(st.st_mode))
    return berth_error_set_plain(err, EISDIR, "cannot overwrite directory `%s` with non-directory", name);
  if (!S_ISDIR(st.st_mode)) {
    if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
      return berth_error_set(err, errno, "remove existing `%s`", name);
    return 0;
  }
  a->cache_stale = true;
  return berth_rm_rf_at(dirfd, name, err);
}

static bool skip_xattr(const char *name)
{
  /* overlayfs interprets these (opaque, redirect, metacopy, origin): only
   * we may set them, from whiteout markers. */
  return strncmp(name, "trusted.overlay.", 16) == 0 || strncmp(name, "user.overlay.", 13) == 0;
}

/* Set the entry's xattrs on fd, or on dirfd/name without following it (fd < 0). */
static int set_xattrs(const struct berth_tar_header *h, int fd, int dirfd, const char *name,
                      bool *acl_seen, berth_error_t *err)
{
  char proc[64 + NAME_MAX];
  if (fd < 0)
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", dirfd, name);
  for (size_t i = 0; i < h->n_xattrs; i++) {
    const struct berth_tar_xattr *x = &h->xattrs[i];
    int r;
    if (skip_xattr(x->name))
      continue;
    if (strcmp(x->name, "system.posix_acl_default") == 0)
      *acl_seen = true;
    r = fd >= 0 ? fsetxattr(fd, x->name, x->value, x->len, 0) : lsetxattr(proc, x->name, x->value, x->len, 0);
    if (r < 0 && (errno == ENOTSUP || errno == EPERM)) {
      berth_debug("ignoring xattr `%s` on `%s`: %s", x->name, name, strerror(errno));
      continue;
    }
    if (r < 0)
      return berth_error_set(err, errno, "set xattr `%s`", x->name);
  }
  return 0;
}

static bool need_chown(const struct apply *a, const struct berth_tar_header *h, bool parent_sgid)
{
  return a->chown && ((uid_t)h->uid != a->euid || (gid_t)h->gid != a->egid || parent_sgid);
}

/* Would open/mknod with `h->mode & 0777` leave something other than h->mode? */
static bool need_chmod(const struct apply *a, const struct berth_tar_header *h)
{
  return (h->mode & 07000) || !a->umask_known || a->acl_seen || (h->mode & a->umask);
}

static int check_ids(const struct berth_tar_header *h, berth_error_t *err)
{
  if (h->uid >= UINT32_MAX || h->gid >= UINT32_MAX)
    return berth_error_set_plain(err, EINVAL, "invalid owner %lld:%lld", (long long)h->uid, (long long)h->gid);
  return 0;
}

/* Owner, mode, xattrs and times of a regular file open for writing. */
static int finish_file(struct apply *a, int fd, const struct berth_tar_header *h, bool parent_sgid,
                       const char *leaf, berth_error_t *err)
{
  struct timespec ts[2] = {h->mtime, h->mtime};
  if (need_chown(a, h, parent_sgid) && fchown(fd, (uid_t)h->uid, (gid_t)h->gid) < 0)
    return berth_error_set(err, errno, "chown");
  /* After chown, which clears suid/sgid; before xattrs, since chown also
   * drops security.capability. */
  if (need_chmod(a, h) && fchmod(fd, h->mode) < 0)
    return berth_error_set(err, errno, "chmod");
  if (set_xattrs(h, fd, -1, leaf, &a->acl_seen, err) < 0)
    return -1;
  if (futimens(fd, ts) < 0)
    return berth_error_set(err, errno, "set times");
  return 0;
}

/* The same for a symlink, device or fifo at dirfd/leaf, never following it. */
static int finish_node(struct apply *a, int dirfd, const char *leaf, const struct berth_tar_header *h,
                       bool parent_sgid, berth_error_t *err)
{
  struct timespec ts[2] = {h->mtime, h->mtime};
  if (need_chown(a, h, parent_sgid) &&
      fchownat(dirfd, leaf, (uid_t)h->uid, (gid_t)h->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return berth_error_set(err, errno, "chown");
  if (h->type != BERTH_TAR_SYMLINK && need_chmod(a, h) &&
      fchmodat(dirfd, leaf, h->mode, AT_SYMLINK_NOFOLLOW) < 0)
    return berth_error_set(err, errno, "chmod");
  if (set_xattrs(h, -1, dirfd, leaf, &a->acl_seen, err) < 0)
    return -1;
  if (utimensat(dirfd, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return berth_error_set(err, errno, "set times");
  return 0;
}

static int write_data(struct berth_tar_reader *t, int fd, berth_error_t *err)
{
  for (;;) {
    const void *buf;
    ssize_t n = berth_tar_reader_data(t, SIZE_MAX, &buf, err);
    if (n < 0)
      return -1;
    if (n == 0)
      return 0;
    if (berth_write_all(fd, buf, (size_t)n) < 0)
      return berth_error_set(err, errno, "write");
  }
}

static int apply_regular(struct apply *a, struct berth_tar_reader *t, const struct berth_tar_header *h,
                         char *parent, char *leaf, berth_error_t *err)
{
  struct parent p;
  cleanup_close int fd = -1;
  if (resolve_dir(a, parent, true, &p, err) < 0)
    return -1;
  for (int tries = 0; fd < 0; tries++) {
    fd = openat(p.fd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, h->mode & 0777);
    if (fd >= 0)
      break;
    if (errno != EEXIST || tries > 0)
      return berth_error_set(err, errno, "create file");
    if (remove_at(a, p.fd, leaf, err) < 0)
      return -1;
  }
  if (write_data(t, fd, err) < 0 || finish_file(a, fd, h, p.sgid, leaf, err) < 0)
    return -1;
  if (close(steal_fd(&fd)) < 0 && errno != EINTR)
    return berth_error_set(err, errno, "close file");
  mark_unpacked(a, p.canon, leaf);
  a->content_size += h->size;
  return 0;
}

static void record_dir(struct apply *a, const char *canon, const struct stat *st, const struct berth_tar_header *h)
{
  size_t idx, len = strlen(canon);
  struct dir_meta *d;
  if (!strmap_get(&a->dir_index, canon, len, &idx)) {
    if (a->ndirs == a->cap_dirs) {
      a->cap_dirs = a->cap_dirs ? 2 * a->cap_dirs : 64;
      a->dirs = realloc(a->dirs, a->cap_dirs * sizeof(*a->dirs));
      if (!a->dirs)
        abort();
    }
    idx = a->ndirs++;
    a->dirs[idx].path = strdup(canon);
    if (!a->dirs[idx].path)
      abort();
    strmap_put(&a->dir_index, canon, len, idx);
  }
  d = &a->dirs[idx];
  d->dev = st->st_dev;
  d->ino = st->st_ino;
  d->mode = h->mode;
  d->mtime = h->mtime;
}

static int apply_dir(struct apply *a, const struct berth_tar_header *h, const char *path, char *parent,
                     char *leaf, berth_error_t *err)
{
  struct parent p;
  struct stat st;
  cleanup_close int fd = -1;
  cleanup_free char *canon = NULL;
  if (resolve_dir(a, parent, true, &p, err) < 0)
    return -1;
  /* Owner rwx until the final mode is applied at the end. */
  if (mkdirat(p.fd, leaf, 0700) < 0) {
    if (errno != EEXIST)
      return berth_error_set(err, errno, "create directory");
    if (fstatat(p.fd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
      return berth_error_set(err, errno, "stat existing");
    if (!S_ISDIR(st.st_mode) && a->plain)
      return berth_error_set_plain(err, ENOTDIR, "cannot overwrite non-directory `%s` with directory", leaf);
    if (!S_ISDIR(st.st_mode)) {
      if (remove_at(a, p.fd, leaf, err) < 0)
        return -1;
      if (mkdirat(p.fd, leaf, 0700) < 0)
        return berth_error_set(err, errno, "create directory");
    }
  }
  fd = openat(p.fd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) < 0)
    return berth_error_set(err, errno, "open directory");
  if (a->chown && ((uid_t)h->uid != st.st_uid || (gid_t)h->gid != st.st_gid) &&
      fchown(fd, (uid_t)h->uid, (gid_t)h->gid) < 0)
    return berth_error_set(err, errno, "chown");
  if (set_xattrs(h, fd, -1, leaf, &a->acl_seen, err) < 0)
    return -1;
  canon = path_join(p.canon, leaf);
  record_dir(a, canon, &st, h);
  mark_unpacked(a, p.canon, leaf);
  /* The next entries most likely live in this directory. */
  if (a->cache_stale)
    cache_flush(a);
  if (!cache_lookup(a, path))
    cache_insert(a, path, steal_ptr(&canon), steal_fd(&fd), a->chown && (st.st_mode & S_ISGID));
  return 0;
}

static int apply_symlink(struct apply *a, const struct berth_tar_header *h, char *parent, char *leaf,
                         berth_error_t *err)
{
  struct parent p;
  if (!*h->linkname)
    return berth_error_set_plain(err, EINVAL, "empty symlink target");
  if (resolve_dir(a, parent, true, &p, err) < 0)
    return -1;
  for (int tries = 0;; tries++) {
    if (symlinkat(h->linkname, p.fd, leaf) == 0)
      break;
    if (errno != EEXIST || tries > 0)
      return berth_error_set(err, errno, "create symlink");
    if (remove_at(a, p.fd, leaf, err) < 0)
      return -1;
  }
  if (finish_node(a, p.fd, leaf, h, p.sgid, err) < 0)
    return -1;
  if (!a->overlay) {
    cleanup_free char *canon = path_join(p.canon, leaf);
    strmap_put(&a->layer_symlinks, canon, strlen(canon), 0);
  }
  mark_unpacked(a, p.canon, leaf);
  a->content_size += (int64_t)strlen(h->linkname);
  return 0;
}

static int apply_node(struct apply *a, const struct berth_tar_header *h, char *parent, char *leaf,
                      berth_error_t *err)
{
  struct parent p;
  mode_t type = h->type == BERTH_TAR_CHAR ? S_IFCHR : h->type == BERTH_TAR_BLOCK ? S_IFBLK : S_IFIFO;
  dev_t dev = type == S_IFIFO ? 0 : makedev(h->devmajor, h->devminor);
  if (resolve_dir(a, parent, true, &p, err) < 0)
    return -1;
  for (int tries = 0;; tries++) {
    if (mknodat(p.fd, leaf, type | (h->mode & 0777), dev) == 0)
      break;
    if (errno == EPERM && a->ignore_ownership && type != S_IFIFO) {
      berth_debug("cannot create device node `%s` without privileges, ignoring", leaf);
      return 0;
    }
    if (errno != EEXIST || tries > 0)
      return berth_error_set(err, errno, "create %s", type == S_IFIFO ? "fifo" : "device node");
    if (remove_at(a, p.fd, leaf, err) < 0)
      return -1;
  }
  if (finish_node(a, p.fd, leaf, h, p.sgid, err) < 0)
    return -1;
  mark_unpacked(a, p.canon, leaf);
  return 0;
}

static int apply_hardlink(struct apply *a, const struct berth_tar_header *h, const char *path, char *parent,
                          char *leaf, berth_error_t *err)
{
  cleanup_free char *target = NULL;
  cleanup_close int tfd = -1;
  char *tparent, *tleaf;
  struct parent p;
  struct stat st;
  if (clean_name(h->linkname, &target, err) < 0)
    return berth_error_prefix(err, "hard link target");
  if (!*target)
    return berth_error_set_plain(err, EINVAL, "hard link to the layer root");
  if (strcmp(target, path) == 0)
    return berth_error_set_plain(err, EINVAL, "hard link to itself");
  split_path(target, &tparent, &tleaf);
  if (resolve_dir(a, tparent, false, &p, err) < 0)
    return berth_error_prefix(err, "hard link target");
  tfd = fcntl(p.fd, F_DUPFD_CLOEXEC, 3);
  if (tfd < 0)
    return berth_error_set(err, errno, "dup");
  if (fstatat(tfd, tleaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return berth_error_set(err, errno, "hard link target");
  if (S_ISDIR(st.st_mode))
    return berth_error_set(err, EPERM, "hard link to a directory");
  if (resolve_dir(a, parent, true, &p, err) < 0)
    return -1;
  for (int tries = 0;; tries++) {
    if (linkat(tfd, tleaf, p.fd, leaf, 0) == 0)
      break;
    if (errno != EEXIST || tries > 0)
      return berth_error_set(err, errno, "create hard link");
    if (remove_at(a, p.fd, leaf, err) < 0)
      return -1;
  }
  if (!a->overlay && S_ISLNK(st.st_mode)) {
    cleanup_free char *canon = path_join(p.canon, leaf);
    strmap_put(&a->layer_symlinks, canon, strlen(canon), 0);
  }
  mark_unpacked(a, p.canon, leaf);
  return 0;
}

/* ---- whiteouts ------------------------------------------------------------------ */

/* Apply mode: remove everything under dir (canonical path `canon`) that this
 * layer did not create, descending into the directories it did. */
static int opaque_clear(struct apply *a, int dir, const char *canon, berth_error_t *err)
{
  cleanup_close int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_strv char **names = NULL;
  size_t n = 0;
  if (fd < 0)
    return berth_error_set(err, errno, "open directory");
  if (!(names = berth_dir_names(fd, &n, err)))
    return -1;
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *child = path_join(canon, names[i]);
    struct stat st;
    if (!strmap_get(&a->unpacked, child, strlen(child), NULL)) {
      if (remove_at(a, fd, names[i], err) < 0)
        return -1;
      continue;
    }
    if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
      cleanup_close int cfd = openat(fd, names[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (cfd < 0)
        return berth_error_set(err, errno, "open `%s`", names[i]);
      if (opaque_clear(a, cfd, child, err) < 0)
        return -1;
    }
  }
  return 0;
}

static int apply_opaque(struct apply *a, char *parent, berth_error_t *err)
{
  struct parent p;
  cleanup_close int fd = -1;
  if (resolve_dir(a, parent, true, &p, err) < 0)
    return -1;
  if (!a->overlay)
    return opaque_clear(a, p.fd, p.canon, err);
  fd = openat(p.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berth_error_set(err, errno, "open directory");
  if (fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
    return berth_error_set(err, errno, "mark directory opaque");
  return 0;
}

static int apply_whiteout(struct apply *a, const struct berth_tar_header *h, char *parent, char *leaf,
                          berth_error_t *err)
{
  const char *victim = leaf + 4;
  struct parent p;
  if (strcmp(leaf, ".wh..wh..opq") == 0)
    return apply_opaque(a, parent, err);
  if (strncmp(leaf, ".wh..wh.", 8) == 0) {
    /* aufs metadata (.wh..wh.plnk, .wh..wh.aufs): docker skips it too. */
    berth_debug("skipping aufs metadata entry `%s`", leaf);
    return 0;
  }
  if (!*victim || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0)
    return berth_error_set_plain(err, EINVAL, "invalid whiteout name");
  if (a->overlay) {
    struct berth_tar_header wh = *h;
    wh.type = BERTH_TAR_CHAR;
    wh.mode = 0;
    wh.devmajor = wh.devminor = 0;
    wh.xattrs = NULL;
    wh.n_xattrs = 0;
    return apply_node(a, &wh, parent, (char *)victim, err);
  }
  if (resolve_dir(a, parent, false, &p, err) < 0) {
    if ((*err)->code != ENOENT)
      return -1;
    berth_error_release(err); /* nothing there to delete */
    return 0;
  }
  return remove_at(a, p.fd, victim, err);
}

/* ---- driver ------------------------------------------------------------------ */

static int apply_entry(struct apply *a, struct berth_tar_reader *t, const struct berth_tar_header *h,
                       berth_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_free char *split = NULL;
  struct berth_tar_header owned;
  char *parent, *leaf;
  if (clean_name(h->name, &path, err) < 0 || check_ids(h, err) < 0)
    return -1;
  if (a->force_owner) {
    owned = *h;
    owned.uid = a->owner_uid;
    owned.gid = a->owner_gid;
    h = &owned;
  }
  if (!*path) {
    if (h->type == BERTH_TAR_DIR)
      return 0; /* "./": docker leaves the root alone too */
    return berth_error_set_plain(err, EINVAL, "entry would replace the layer root");
  }
  if (strncmp(path, ".wh..wh.", 8) == 0 && strcmp(path, ".wh..wh..opq") != 0) {
    /* aufs metadata at the top (.wh..wh.plnk/, .wh..wh.aufs): docker skips it. */
    berth_debug("skipping aufs metadata entry `%s`", path);
    return 0;
  }
  split = strdup(path);
  if (!split)
    abort();
  split_path(split, &parent, &leaf);
  if (!a->plain && strncmp(leaf, ".wh.", 4) == 0)
    return apply_whiteout(a, h, parent, leaf, err);
  switch (h->type) {
  case BERTH_TAR_REG:
    return apply_regular(a, t, h, parent, leaf, err);
  case BERTH_TAR_DIR:
    return apply_dir(a, h, path, parent, leaf, err);
  case BERTH_TAR_SYMLINK:
    return apply_symlink(a, h, parent, leaf, err);
  case BERTH_TAR_LINK:
    return apply_hardlink(a, h, path, parent, leaf, err);
  case BERTH_TAR_CHAR:
  case BERTH_TAR_BLOCK:
  case BERTH_TAR_FIFO:
    return apply_node(a, h, parent, leaf, err);
  }
  return berth_error_set_plain(err, ENOTSUP, "unsupported entry type");
}

/* Directory modes and mtimes, children before parents.  A directory that a
 * later entry replaced or removed is skipped. */
static int finish_dirs(struct apply *a, berth_error_t *err)
{
  for (size_t i = a->ndirs; i-- > 0;) {
    struct dir_meta *d = &a->dirs[i];
    cleanup_free char *path = strdup(d->path);
    cleanup_close int fd = -1;
    struct timespec ts[2] = {d->mtime, d->mtime};
    char *parent, *leaf;
    struct parent p;
    struct stat st;
    if (!path)
      abort();
    split_path(path, &parent, &leaf);
    if (resolve_dir(a, parent, false, &p, err) < 0) {
      int code = (*err)->code;
      if (code != ENOENT && code != ENOTDIR && code != ELOOP)
        return berth_error_prefix(err, "directory `%s`", d->path);
      berth_error_release(err);
      continue;
    }
    fd = openat(p.fd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
      continue;
    if (fd < 0 || fstat(fd, &st) < 0)
      return berth_error_set(err, errno, "open directory `%s`", d->path);
    if (st.st_dev != d->dev || st.st_ino != d->ino)
      continue;
    if ((st.st_mode & 07777) != d->mode && fchmod(fd, d->mode) < 0)
      return berth_error_set(err, errno, "chmod directory `%s`", d->path);
    if (futimens(fd, ts) < 0)
      return berth_error_set(err, errno, "set times of directory `%s`", d->path);
  }
  return 0;
}

static bool has_default_acl(int dirfd)
{
  char proc[64];
  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
  return getxattr(proc, "system.posix_acl_default", NULL, 0) > 0;
}

static void read_umask(struct apply *a)
{
  cleanup_free char *buf = NULL;
  const char *p;
  if (berth_read_file_at(AT_FDCWD, "/proc/self/status", &buf, NULL, NULL) < 0)
    return;
  p = strstr(buf, "\nUmask:");
  if (!p)
    return;
  a->umask = (mode_t)strtoul(p + 7, NULL, 8);
  a->umask_known = true;
}

static void apply_init(struct apply *a, int root, const struct berth_tar_apply_opts *opts)
{
  memset(a, 0, sizeof(*a));
  a->root = root;
  a->overlay = opts && opts->overlay_whiteouts;
  a->ignore_ownership = opts && opts->ignore_ownership;
  a->chown = !a->ignore_ownership;
  a->plain = opts && opts->plain;
  a->force_owner = opts && opts->force_owner && a->chown;
  if (a->force_owner) {
    a->owner_uid = opts->owner_uid;
    a->owner_gid = opts->owner_gid;
  }
  a->euid = geteuid();
  a->egid = getegid();
  a->root_sgid = a->chown && is_dir_sgid(root);
  /* A tree we apply onto may hold default ACLs from earlier layers; a fresh
   * one inherits them only from the root. */
  if (!a->overlay || has_default_acl(root))
    a->acl_seen = true;
  for (unsigned i = 0; i < DIRCACHE_SIZE; i++)
    a->cache[i].fd = -1;
  read_umask(a);
}

static void apply_free(struct apply *a)
{
  cache_flush(a);
  for (size_t i = 0; i < a->ndirs; i++)
    free(a->dirs[i].path);
  free(a->dirs);
  strmap_clear(&a->dir_index);
  strmap_clear(&a->layer_symlinks);
  strmap_clear(&a->unpacked);
}

static int apply_stream(struct apply *a, struct berth_tar_reader *t, berth_error_t *err)
{
  cleanup_free char *last = NULL;
  const struct berth_tar_header *h;
  int r;
  while ((r = berth_tar_reader_next(t, &h, err)) > 0) {
    if (apply_entry(a, t, h, err) < 0) {
      cleanup_free char *q = quote_name(h->name);
      return berth_error_prefix(err, "entry `%s`", q);
    }
    free(last);
    last = strdup(h->name);
  }
  if (r < 0 && last) {
    cleanup_free char *q = quote_name(last);
    return berth_error_prefix(err, "after entry `%s`", q);
  }
  if (r < 0)
    return -1;
  return finish_dirs(a, err);
}

int berth_tar_apply(int input_fd, int root_dirfd, const struct berth_tar_apply_opts *opts,
                    struct berth_tar_apply_result *res, berth_error_t *err)
{
  struct berth_reader_opts ropts = {
      .tee_fd = opts ? opts->tee_fd : -1,
      .max_size = opts ? opts->max_size : 0,
      .no_thread = opts && opts->no_thread,
      .no_digest = opts && opts->no_digest,
  };
  struct berth_reader *reader = NULL;
  struct berth_tar_reader *t = NULL;
  struct berth_reader_result rr;
  struct apply a;
  int r;
  if (berth_reader_new(input_fd, &ropts, &reader, err) < 0)
    return berth_error_prefix(err, "unpack layer");
  t = berth_tar_reader_new(reader);
  apply_init(&a, root_dirfd, opts);
  r = apply_stream(&a, t, err);
  if (r == 0)
    r = berth_reader_finish(reader, &rr, err);
  if (r == 0 && res) {
    memcpy(res->raw_digest, rr.raw_digest, sizeof(res->raw_digest));
    memcpy(res->diff_id, rr.data_digest, sizeof(res->diff_id));
    res->raw_size = rr.raw_size;
    res->tar_size = rr.data_size;
    res->content_size = a.content_size;
    res->compression = rr.compression;
  }
  apply_free(&a);
  berth_tar_reader_free(t);
  berth_reader_free(reader);
  if (r < 0)
    return berth_error_prefix(err, "unpack layer");
  return 0;
}
