/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cp and export: docker's client and daemon halves of `docker cp` in one
 * process.  The source is archived by berth_tar_write() from an fd into a
 * pipe and berth_tar_apply() unpacks it beneath the destination directory's
 * fd in the other thread, so both directions get the tar rules (hard links,
 * xattrs, modes, directory times) and docker's byte count for free.
 *
 * Container paths are resolved by resolve() below: RESOLVE_IN_ROOT done one
 * component at a time with O_PATH|O_NOFOLLOW opens on the previous fd, ".."
 * popping back to the fd it came from, absolute symlink targets restarting
 * at the root.  So nothing the container does to its tree (symlinks to "/",
 * "..", renames racing the copy: CVE-2018-15664, CVE-2019-18466,
 * CVE-2021-41089) can make us open anything outside its root, and what was
 * resolved is what gets copied: every later step works on the fds, never
 * on a path string again.  Unlike openat2() this also yields the directory
 * a dangling final symlink points into and the canonical name docker
 * reports.  Host paths are the user's own and resolved normally. */
#define BERTH_LOG_DOMAIN "copy"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/openat2.h>

#include <berth/log.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "engine/engine-internal.h"
#include "engine/events.h"
#include "image/tar.h"

#define MAX_SYMLINKS 40
#define USER_DB_MAX (1 << 20)

/* ---- resolving container paths ------------------------------------------- */

struct resolved {
  int fd;      /* O_PATH fd of the object, -1 when it does not exist */
  int parent;  /* O_PATH fd of the directory that holds (or would hold) it */
  char *leaf;  /* its name in parent; NULL for the root itself */
  char *canon; /* its symlink-free path in the container, "/a/b" */
  struct stat st;
};

static void resolved_clear(struct resolved *r)
{
  close_and_reset(&r->fd);
  close_and_reset(&r->parent);
  free(r->leaf);
  free(r->canon);
  *r = (struct resolved){.fd = -1, .parent = -1};
}

struct stack {
  int fds[PATH_MAX / 2]; /* fds[0] is the root, borrowed */
  size_t canon_len[PATH_MAX / 2];
  size_t n;
  char canon[PATH_MAX];
};

static void stack_pop_to(struct stack *s, size_t n)
{
  while (s->n > n) {
    s->n--;
    (void)close(s->fds[s->n]);
    s->canon[s->canon_len[s->n]] = '\0';
  }
}

static int stack_push(struct stack *s, int fd, const char *name)
{
  size_t len = strlen(s->canon);
  if (s->n == sizeof s->fds / sizeof *s->fds || len + strlen(name) + 2 > sizeof s->canon) {
    (void)close(fd);
    errno = ENAMETOOLONG;
    return -1;
  }
  s->fds[s->n] = fd;
  s->canon_len[s->n] = len;
  s->n++;
  snprintf(s->canon + len, sizeof s->canon - len, "/%s", name);
  return 0;
}

/* The rest of the path after the component ending at *p: is there another? */
static bool is_last_component(const char *p)
{
  for (; *p; p++)
    if (*p != '/' && !(p[0] == '.' && (p[1] == '/' || p[1] == '\0')))
      return false;
  return true;
}

/* A symlink met at `name` in `dir`: replace *rest by its target followed by
 * what remained, popping to the root for an absolute target.  Links in
 * procfs are magic (RESOLVE_NO_MAGICLINKS): never followed. */
static int follow_link(struct stack *s, int dir, int link, const char *after, char **rest, int *nlinks)
{
  char target[PATH_MAX];
  struct statfs sfs;
  char *joined = NULL;
  ssize_t n;
  if (++*nlinks > MAX_SYMLINKS || (fstatfs(dir, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC)) {
    errno = ELOOP;
    return -1;
  }
  n = readlinkat(link, "", target, sizeof target - 1);
  if (n < 0)
    return -1;
  target[n] = '\0';
  if (target[0] == '/')
    stack_pop_to(s, 1);
  if (asprintf(&joined, "%s/%s", target, after) < 0)
    abort();
  free(*rest);
  *rest = joined;
  return 0;
}

static void resolved_set(struct resolved *r, struct stack *s, int fd, const char *leaf)
{
  r->fd = fd;
  r->parent = fcntl(s->fds[s->n - 1], F_DUPFD_CLOEXEC, 3);
  r->leaf = leaf ? strdup(leaf) : NULL;
  if (asprintf(&r->canon, "%s/%s", s->canon, leaf ? leaf : "") < 0 || (leaf && !r->leaf))
    abort();
  if (!leaf && strlen(r->canon) > 1) /* "/a/b/" -> "/a/b" */
    r->canon[strlen(r->canon) - 1] = '\0';
}

/* Resolve `path` beneath root.  follow: follow a symlink in the last
 * component too.  A missing last component is not an error (r->fd is -1);
 * a missing parent is ENOENT, a parent that is not a directory ENOTDIR
 * (errno set, -1 returned).  The root itself: r->leaf NULL, r->parent the
 * root. */
static int resolve(int root, const char *path, bool follow, struct resolved *r)
{
  struct stack *s = calloc(1, sizeof *s);
  cleanup_free char *rest = strdup(path);
  int nlinks = 0, ret = -1;
  char *p;
  *r = (struct resolved){.fd = -1, .parent = -1};
  if (!s || !rest)
    abort();
  s->fds[0] = root;
  s->n = 1;
  p = rest;
  for (;;) {
    char *name = p, *slash;
    int fd;
    struct stat st;
    while (*name == '/')
      name++;
    if (!*name) {
      /* the root, or a directory reached by ".." */
      fd = s->n > 1 ? fcntl(s->fds[s->n - 1], F_DUPFD_CLOEXEC, 3) : openat(root, ".", O_PATH | O_CLOEXEC);
      if (fd < 0 || fstat(fd, &r->st) < 0)
        goto out;
      if (s->n > 1) {
        cleanup_free char *leaf = strdup(strrchr(s->canon, '/') + 1);
        int top = s->fds[--s->n];
        s->canon[s->canon_len[s->n]] = '\0';
        resolved_set(r, s, fd, leaf);
        (void)close(top);
      } else {
        resolved_set(r, s, fd, NULL);
      }
      ret = 0;
      goto out;
    }
    slash = strchr(name, '/');
    p = slash ? slash + 1 : name + strlen(name);
    if (slash)
      *slash = '\0';
    if (strcmp(name, ".") == 0)
      continue;
    if (strcmp(name, "..") == 0) {
      stack_pop_to(s, s->n > 1 ? s->n - 1 : 1);
      continue;
    }
    bool last = is_last_component(p);
    fd = openat(s->fds[s->n - 1], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT && last) {
        resolved_set(r, s, -1, name);
        ret = 0;
      }
      goto out;
    }
    if (fstat(fd, &st) < 0) {
      (void)close(fd);
      goto out;
    }
    if (S_ISLNK(st.st_mode) && (!last || follow)) {
      cleanup_free char *after = strdup(p);
      int e = follow_link(s, s->fds[s->n - 1], fd, after ? after : "", &rest, &nlinks);
      (void)close(fd);
      if (e < 0)
        goto out;
      p = rest;
      continue;
    }
    if (last) {
      r->st = st;
      resolved_set(r, s, fd, name);
      ret = 0;
      goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
      (void)close(fd);
      errno = ENOTDIR;
      goto out;
    }
    if (stack_push(s, fd, name) < 0)
      goto out;
  }
out:;
  int saved = errno;
  stack_pop_to(s, 1);
  free(s);
  if (ret == 0 && r->parent < 0)
    abort();
  errno = saved;
  return ret;
}

/* ---- docker's path rules (moby/go-archive copy.go) ------------------------- */

static bool has_trailing_slash(const char *p)
{
  size_t n = strlen(p);
  return n > 0 && p[n - 1] == '/';
}

/* The last component is "." ("dir/." is the content of dir). */
static bool names_current_dir(const char *p)
{
  size_t n = strlen(p);
  return (n == 1 && p[0] == '.') || (n >= 2 && p[n - 1] == '.' && p[n - 2] == '/');
}

static bool asserts_directory(const char *p)
{
  return has_trailing_slash(p) || names_current_dir(p);
}

/* The container path as an absolute clean path that keeps a trailing "/"
 * or "/." (docker's PreserveTrailingDotOrSeparator(Join("/", path), path)). */
static char *container_abs(const char *path)
{
  cleanup_free char *rooted = NULL, *clean = NULL;
  char *out = NULL;
  size_t n = strlen(path);
  if (asprintf(&rooted, "/%s", path) < 0)
    abort();
  clean = berth_path_abs(rooted);
  bool root = strcmp(clean, "/") == 0;
  const char *tail = names_current_dir(path) ? (root ? "." : "/.") : n && path[n - 1] == '/' && !root ? "/" : "";
  if (asprintf(&out, "%s%s", clean, tail) < 0)
    abort();
  return out;
}

/* The archive name docker gives the source: its base name, "." for
 * "dir/.", "/" for the root. */
static char *source_base(const char *path)
{
  cleanup_free char *clean = berth_path_abs(path);
  const char *slash = strrchr(clean, '/');
  if (names_current_dir(path))
    return strdup(".");
  return strdup(slash[1] ? slash + 1 : "/");
}

/* Where an archive of a source named `top` lands: in the existing directory
 * dst (keeping `top`), or in dst's parent renamed to dst's name.  Sets
 * *ret_rename to the name the archive's top entry must get (NULL: keep). */
static int place(bool src_is_dir, bool dst_exists, bool dst_is_dir, const char *dst_path, bool *ret_into_dst,
                 berth_error_t *err)
{
  if (dst_exists && dst_is_dir) {
    *ret_into_dst = true;
    return 0;
  }
  if (dst_exists && src_is_dir)
    return berth_error_set_plain(err, EISDIR, "cannot copy directory");
  if (!dst_exists && !src_is_dir && asserts_directory(dst_path))
    return berth_error_set_plain(err, ENOENT, "no such directory");
  *ret_into_dst = false;
  return 0;
}

/* ---- the pipe between archiver and extractor ------------------------------- */

struct writer_job {
  int src;             /* the object to archive (O_PATH) */
  const char *name;    /* its name in the archive */
  const char *const *exclude; /* archive names left out */
  int out;             /* write end, closed by the job */
  int64_t bytes;
  berth_error_t err;
};

static void *writer_main(void *arg)
{
  struct writer_job *j = arg;
  struct berth_tar_write_opts opts = {.source_is_dirfd = true, .rename = j->name, .no_digest = true,
                                      .exclude = j->exclude};
  struct berth_tar_write_result res;
  sigset_t pipe_set;
  /* the extractor may stop reading: EPIPE for this thread, not a signal */
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
  if (berth_tar_write(j->src, j->out, &opts, &res, &j->err) == 0)
    j->bytes = res.tar_size;
  close_and_reset(&j->out);
  return NULL;
}

int berth_copy_tree(int src, const char *name, int dst_dir, const struct berth_tar_apply_opts *apply,
                    const char *const *exclude, int64_t *ret_bytes, berth_error_t *err)
{
  int fds[2];
  pthread_t t;
  struct writer_job job = {.src = src, .name = name, .exclude = exclude};
  struct berth_tar_apply_opts opts = *apply;
  int r;
  if (pipe2(fds, O_CLOEXEC) < 0)
    return berth_error_set(err, errno, "pipe");
  (void)fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
  job.out = fds[1];
  if ((r = pthread_create(&t, NULL, writer_main, &job)) != 0) {
    (void)close(fds[0]);
    (void)close(fds[1]);
    return berth_error_set(err, r, "start the archiver");
  }
  opts.tee_fd = -1;
  opts.no_thread = true;
  opts.no_digest = true;
  r = berth_tar_apply(fds[0], dst_dir, &opts, NULL, err);
  (void)close(fds[0]);
  pthread_join(t, NULL);
  if (job.err && (r == 0 || job.err->code != EPIPE)) {
    /* the archiver's failure explains the extractor's truncated input */
    berth_error_release(err);
    *err = job.err;
    return -1;
  }
  berth_error_release(&job.err);
  if (r < 0)
    return -1;
  *ret_bytes = job.bytes;
  return 0;
}

/* ---- the container side ---------------------------------------------------- */

static int load_and_open(struct berth_engine *e, const char *name, enum berth_rootfs_mode mode, struct berth_ctr *c,
                         struct berth_ctr_rootfs *root, berth_error_t *err)
{
  *root = (struct berth_ctr_rootfs){.fd = -1, .lock_fd = -1};
  if (berth_ctr_load(e, name, c, err) < 0)
    return -1;
  return berth_ctr_open_rootfs(e, c, mode, root, err);
}

static int not_found(const char *path, const char *name, berth_error_t *err)
{
  return berth_error_set_plain(err, ENOENT, "Could not find the file %s in container %s", path, name);
}

int berth_container_copy_out(struct berth_engine *e, const char *name, const char *path,
                             const struct berth_copy_opts *opts, const char *dest, int out_fd, int64_t *ret_bytes,
                             berth_error_t *err)
{
  struct berth_ctr c = {.dirfd = -1};
  struct berth_ctr_rootfs root;
  struct resolved src = {.fd = -1, .parent = -1};
  cleanup_free char *abs = NULL, *base = NULL, *newname = NULL;
  int64_t bytes = 0;
  int r = -1;
  abs = container_abs(path);
  if (load_and_open(e, name, BERTH_ROOTFS_VIEW, &c, &root, err) < 0)
    goto out;
  /* "dir/" and "dir/." follow a final symlink, as lstat does; -L always */
  if (resolve(root.fd, abs, asserts_directory(abs) || (opts && opts->follow_link), &src) < 0) {
    if (errno == ENOENT)
      not_found(path, name, err);
    else
      berth_error_set(err, errno, "lstat %s", abs);
    goto out;
  }
  if (src.fd < 0) {
    not_found(path, name, err);
    goto out;
  }
  if (asserts_directory(abs) && !S_ISDIR(src.st.st_mode)) {
    berth_error_set(err, ENOTDIR, "lstat %s", abs);
    goto out;
  }
  base = source_base(abs);
  if (!dest) {
    struct berth_tar_write_opts wopts = {.source_is_dirfd = true, .rename = base, .no_digest = true};
    struct berth_tar_write_result wres;
    r = berth_tar_write(src.fd, out_fd, &wopts, &wres, err);
    bytes = r == 0 ? wres.tar_size : 0;
    goto out;
  }
  {
    /* the host side: CopyInfoDestinationPath, then PrepareArchiveCopy */
    struct stat dst_st;
    bool exists = stat(dest, &dst_st) == 0, into_dst;
    cleanup_free char *dir = strdup(dest);
    cleanup_close int dirfd = -1;
    struct berth_tar_apply_opts aopts = {.ignore_ownership = true, .plain = true};
    if (!exists && errno != ENOENT) {
      berth_error_set(err, errno, "stat %s", dest);
      goto out;
    }
    if (place(S_ISDIR(src.st.st_mode), exists, exists && S_ISDIR(dst_st.st_mode), dest, &into_dst, err) < 0)
      goto out;
    if (!into_dst) {
      cleanup_free char *clean = berth_path_abs(dest);
      char *slash = strrchr(clean, '/');
      newname = strdup(slash + 1);
      *slash = '\0';
      free(dir);
      dir = strdup(*clean ? clean : "/");
    }
    dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
      berth_error_set(err, errno, "stat %s", dir);
      goto out;
    }
    r = berth_copy_tree(src.fd, newname ? newname : base, dirfd, &aopts, NULL, &bytes, err);
  }
out:
  if (r == 0)
    berth_event_container(e, &c, "archive-path", NULL);
  if (ret_bytes)
    *ret_bytes = bytes;
  resolved_clear(&src);
  berth_ctr_rootfs_close(&root);
  berth_ctr_clear(&c);
  return r;
}

/* ---- copying in: the container's user for -a -------------------------------- */

/* A regular file of the container, at most 1 MiB (CVE-2024-9676); NULL and
 * errno ENOENT when it does not exist. */
static char *read_ctr_file(int root, const char *path)
{
  struct resolved r;
  cleanup_free char *buf = NULL;
  if (resolve(root, path, true, &r) < 0 || r.fd < 0) {
    resolved_clear(&r);
    errno = ENOENT;
    return NULL;
  }
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", r.fd);
  cleanup_close int fd = S_ISREG(r.st.st_mode) && r.st.st_size <= USER_DB_MAX
                             ? open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) : -1;
  resolved_clear(&r);
  if (fd < 0)
    return NULL;
  buf = calloc(1, USER_DB_MAX + 1);
  if (!buf)
    abort();
  if (read(fd, buf, USER_DB_MAX) < 0)
    return NULL;
  return steal_ptr(&buf);
}

static bool parse_id(const char *s, size_t len, unsigned long *ret)
{
  char *end;
  if (!len || len > 10 || s[0] < '0' || s[0] > '9')
    return false;
  *ret = strtoul(s, &end, 10);
  return end == s + len && *ret < UINT32_MAX;
}

/* The line of passwd/group text whose name (or, by_id, whose id) matches:
 * its third and fourth fields (uid and gid; a group's gid and member list). */
static bool db_lookup(const char *db, const char *key, size_t len, bool by_id, unsigned long *ret_id,
                      unsigned long *ret_gid)
{
  for (const char *line = db; line && *line;) {
    const char *f[4] = {line}, *eol = strchrnul(line, '\n');
    size_t nf = 1;
    for (const char *p = line; p < eol && nf < 4; p++)
      if (*p == ':')
        f[nf++] = p + 1;
    const char *match = by_id ? f[2] : f[0];
    unsigned long id, gid = 0;
    if (nf >= 3 && strcspn(match, ":\n") == len && strncmp(match, key, len) == 0 &&
        parse_id(f[2], strcspn(f[2], ":\n"), &id) && (nf < 4 || !ret_gid || parse_id(f[3], strcspn(f[3], ":\n"), &gid))) {
      *ret_id = id;
      if (ret_gid)
        *ret_gid = gid;
      return true;
    }
    line = *eol ? eol + 1 : eol;
  }
  return false;
}

/* Config.User ("user", "uid", "user:group", "uid:gid", ":gid") as ids, read
 * from the container's own /etc/passwd and /etc/group. */
int berth_root_user(int root, const char *user, uid_t *ret_uid, gid_t *ret_gid, berth_error_t *err)
{
  const char *colon = strchr(user, ':');
  size_t ulen = colon ? (size_t)(colon - user) : strlen(user);
  cleanup_free char *passwd = read_ctr_file(root, "/etc/passwd"), *group = NULL;
  unsigned long uid = 0, gid = 0, id;
  if (ulen) {
    bool numeric = parse_id(user, ulen, &id);
    if (db_lookup(passwd, user, ulen, numeric, &uid, &gid))
      ;
    else if (numeric)
      uid = id;
    else
      return berth_error_set_plain(err, EINVAL, "unable to find user %.*s: no matching entries in passwd file",
                                   (int)ulen, user);
  }
  if (colon && colon[1]) {
    const char *g = colon + 1;
    group = read_ctr_file(root, "/etc/group");
    if (!parse_id(g, strlen(g), &gid) && !db_lookup(group, g, strlen(g), false, &gid, NULL))
      return berth_error_set_plain(err, EINVAL, "unable to find group %s: no matching entries in group file", g);
  } else if (colon) {
    gid = 0;
  }
  *ret_uid = (uid_t)uid;
  *ret_gid = (gid_t)gid;
  return 0;
}

/* docker refuses writes to a read-only root or volume with these words. */
static int check_writable(const struct berth_ctr *c, int root, int dir, berth_error_t *err)
{
  struct statvfs vfs;
  struct statx a, b;
  bool on_root = statx(root, "", AT_EMPTY_PATH, STATX_MNT_ID, &a) == 0 &&
                 statx(dir, "", AT_EMPTY_PATH, STATX_MNT_ID, &b) == 0 && a.stx_mnt_id == b.stx_mnt_id;
  bool ro = fstatvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
  const json_t *hc = json_object_get(c->rec, "HostConfig");
  if (on_root && (ro || json_is_true(json_object_get(hc, "ReadonlyRootfs"))))
    return berth_error_set_plain(err, EROFS, "container rootfs is marked read-only");
  if (ro)
    return berth_error_set_plain(err, EROFS, "mounted volume is marked read-only");
  return 0;
}

/* The host source: docker's CopyInfoSourcePath.  *ret_fd is an O_PATH fd of
 * the object, *ret_base its name in the archive. */
static int open_host_source(const char *src, bool follow, int *ret_fd, char **ret_base, struct stat *ret_st,
                            berth_error_t *err)
{
  cleanup_free char *copy = strdup(src), *real = NULL;
  char *slash = strrchr(copy, '/');
  const char *leaf = slash + 1;
  int fd;
  *slash = '\0';
  if (follow || asserts_directory(src) || !*leaf) {
    /* follow everything: the object is the target */
    real = realpath(src, NULL);
    if (!real)
      return berth_error_set(err, errno, "lstat %s", src);
    fd = open(real, O_PATH | O_CLOEXEC);
  } else {
    cleanup_close int dir = open(*copy ? copy : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
      return berth_error_set(err, errno, "lstat %s", src);
    fd = openat(dir, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0 || fstat(fd, ret_st) < 0) {
    int e = errno;
    if (fd >= 0)
      (void)close(fd);
    return berth_error_set(err, e, "lstat %s", src);
  }
  *ret_fd = fd;
  *ret_base = source_base(src);
  return 0;
}

struct copy_in {
  struct berth_ctr c;
  struct berth_ctr_rootfs root;
  struct resolved dst;
  const char *name, *path;
  struct berth_tar_apply_opts apply;
};

/* Resolve the destination as docker's client does (stat, following a final
 * symlink) and prepare the extraction options. */
static int copy_in_prepare(struct berth_engine *e, struct copy_in *ci, const struct berth_copy_opts *opts,
                           berth_error_t *err)
{
  cleanup_free char *abs = NULL;
  const char *user;
  if (load_and_open(e, ci->name, BERTH_ROOTFS_WRITE, &ci->c, &ci->root, err) < 0)
    return -1;
  abs = container_abs(ci->path);
  if (resolve(ci->root.fd, abs, true, &ci->dst) < 0) {
    cleanup_free char *clean = berth_path_abs(abs);
    *strrchr(clean, '/') = '\0';
    if (errno == ENOENT)
      return not_found(*clean ? clean : "/", ci->name, err);
    return berth_error_set(err, errno, "resolve %s", abs);
  }
  if (ci->dst.fd >= 0 && (S_ISCHR(ci->dst.st.st_mode) || S_ISBLK(ci->dst.st.st_mode)))
    return berth_error_set_plain(err, EINVAL, "destination \"%s:%s\" must be a directory or a regular file: got a device",
                                 ci->name, ci->path);
  ci->apply = (struct berth_tar_apply_opts){.plain = true};
  user = berth_json_str(json_object_get(ci->c.rec, "Config"), "User");
  if (opts && opts->archive && user && *user) {
    ci->apply.force_owner = true;
    if (berth_root_user(ci->root.fd, user, &ci->apply.owner_uid, &ci->apply.owner_gid, err) < 0)
      return -1;
  }
  return 0;
}

static void copy_in_clear(struct copy_in *ci)
{
  resolved_clear(&ci->dst);
  berth_ctr_rootfs_close(&ci->root);
  berth_ctr_clear(&ci->c);
}

/* The directory of a stopped container's upper dir that may take a new
 * entry `name` directly, bypassing the overlay (writing through overlayfs
 * costs two to three times as much), or -1.  `dir` is the directory of the
 * merged view that gets it, `canon` its path.  That holds when the name
 * exists neither in the merged view nor in the upper dir and `canon` is a
 * real directory of the upper dir: then every layer below that has the name
 * is cut off by a whiteout or an opaque directory above it (the overlay's
 * lookup stops there), so the entry made in the upper dir, and everything
 * below it, is exactly what the overlay would have made and shows. */
static int upper_dir_for_new(struct berth_engine *e, const struct copy_in *ci, int dir, const char *canon,
                             const char *name)
{
  struct stat st;
  cleanup_free char *path = NULL;
  struct statx a, b;
  if (ci->root.live || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
      fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
    return -1;
  /* on the overlay itself, not in a volume or bind mounted on it */
  if (statx(ci->root.fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &a) < 0 ||
      statx(dir, "", AT_EMPTY_PATH, STATX_MNT_ID, &b) < 0 || a.stx_mnt_id != b.stx_mnt_id)
    return -1;
  if (asprintf(&path, "%s/containers/%s/upper", e->store->root, ci->c.id) < 0)
    abort();
  cleanup_close int upper = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (upper < 0)
    return -1;
  cleanup_close int fd = berth_open_in_root(upper, canon, O_PATH | O_DIRECTORY,
                                            RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV);
  if (fd < 0 || fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
    return -1;
  berth_debug("container %s: %s/%s made in the upper dir", ci->c.id, canon, name);
  return steal_fd(&fd);
}

/* Unpack into the directory `dir` (path `canon`) of the container: the
 * tar stream in_fd, or the host object src as `name`. */
static int extract_into(struct berth_engine *e, struct copy_in *ci, int dir, const char *canon, int src,
                        const char *name, int in_fd, int64_t *ret_bytes, berth_error_t *err)
{
  if (check_writable(&ci->c, ci->root.fd, dir, err) < 0)
    return -1;
  if (src < 0) {
    struct berth_tar_apply_opts opts = ci->apply;
    opts.tee_fd = -1;
    opts.no_digest = true;
    *ret_bytes = 0;
    return berth_tar_apply(in_fd, dir, &opts, NULL, err);
  }
  cleanup_close int upper = upper_dir_for_new(e, ci, dir, canon, name);
  if (upper >= 0) {
    /* the overlay must not be used once its upper dir changed under it
     * (`name` may be ci->dst.leaf: only the fds go) */
    close_and_reset(&ci->dst.fd);
    close_and_reset(&ci->dst.parent);
    close_and_reset(&ci->root.fd);
    return berth_copy_tree(src, name, upper, &ci->apply, NULL, ret_bytes, err);
  }
  return berth_copy_tree(src, name, dir, &ci->apply, NULL, ret_bytes, err);
}

int berth_container_copy_in(struct berth_engine *e, const char *name, const char *src, int in_fd, const char *path,
                            const struct berth_copy_opts *opts, int64_t *ret_bytes, char **ret_shown,
                            berth_error_t *err)
{
  struct copy_in ci = {.c = {.dirfd = -1}, .dst = {.fd = -1, .parent = -1}, .name = name, .path = path};
  cleanup_free char *base = NULL, *shown = NULL;
  cleanup_close int sfd = -1;
  struct stat sst;
  int64_t bytes = 0;
  bool into_dst, dst_dir;
  int r = -1;
  ci.root = (struct berth_ctr_rootfs){.fd = -1, .lock_fd = -1};
  if (copy_in_prepare(e, &ci, opts, err) < 0)
    goto out;
  dst_dir = ci.dst.fd >= 0 && S_ISDIR(ci.dst.st.st_mode);
  if (ret_shown) {
    /* docker names the link's target when the destination is a symlink */
    struct resolved lexical;
    cleanup_free char *abs = container_abs(path);
    bool link = resolve(ci.root.fd, abs, false, &lexical) == 0 && lexical.fd >= 0 && S_ISLNK(lexical.st.st_mode);
    resolved_clear(&lexical);
    shown = strdup(link ? ci.dst.canon : path);
  }
  if (!src) {
    if (!dst_dir) {
      berth_error_set_plain(err, ENOTDIR, "destination \"%s:%s\" must be a directory", name, path);
      goto out;
    }
    r = extract_into(e, &ci, ci.dst.fd, ci.dst.canon, -1, NULL, in_fd, &bytes, err);
  } else {
    if (open_host_source(src, opts && opts->follow_link, &sfd, &base, &sst, err) < 0 ||
        place(S_ISDIR(sst.st_mode), ci.dst.fd >= 0, dst_dir, path, &into_dst, err) < 0)
      goto out;
    if (into_dst) {
      r = extract_into(e, &ci, ci.dst.fd, ci.dst.canon, sfd, base, -1, &bytes, err);
    } else {
      cleanup_free char *parent = strndup(ci.dst.canon, (size_t)(strrchr(ci.dst.canon, '/') - ci.dst.canon));
      r = extract_into(e, &ci, ci.dst.parent, parent, sfd, ci.dst.leaf, -1, &bytes, err);
    }
  }
  if (r == 0 && ret_shown)
    *ret_shown = steal_ptr(&shown);
  if (r == 0)
    berth_event_container(e, &ci.c, "extract-to-dir", NULL);
out:
  if (ret_bytes)
    *ret_bytes = bytes;
  copy_in_clear(&ci);
  return r;
}

int berth_ctr_copy_image_dir(struct berth_engine *e, struct berth_ctr *c, const char *path, int dst_dir,
                              berth_error_t *err)
{
  struct berth_ctr_rootfs root;
  struct resolved src = {.fd = -1, .parent = -1};
  int64_t bytes;
  int r = berth_ctr_open_rootfs(e, c, BERTH_ROOTFS_IMAGE, &root, err);
  if (r < 0)
    return -1;
  /* the image's links lead where they would in the container */
  if (resolve(root.fd, path, true, &src) == 0 && src.fd >= 0 && S_ISDIR(src.st.st_mode)) {
    r = berth_copy_tree(src.fd, ".", dst_dir, &(struct berth_tar_apply_opts){.plain = true}, NULL, &bytes, err);
    /* the volume's root takes the directory's owner and mode (copyOwnership) */
    if (r == 0 && (fchown(dst_dir, src.st.st_uid, src.st.st_gid) < 0 || fchmod(dst_dir, src.st.st_mode & 07777) < 0))
      r = berth_error_set(err, errno, "chown the volume");
  }
  resolved_clear(&src);
  berth_ctr_rootfs_close(&root);
  return r;
}

int berth_container_export(struct berth_engine *e, const char *name, int out_fd, berth_error_t *err)
{
  struct berth_ctr c = {.dirfd = -1};
  struct berth_ctr_rootfs root;
  int r = load_and_open(e, name, BERTH_ROOTFS_IMAGE, &c, &root, err);
  if (r == 0)
    r = berth_tar_write(root.fd, out_fd, &(struct berth_tar_write_opts){.no_digest = true}, NULL, err);
  if (r == 0)
    berth_event_container(e, &c, "export", NULL);
  berth_ctr_rootfs_close(&root);
  berth_ctr_clear(&c);
  return r;
}
