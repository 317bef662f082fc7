/* SPDX-License-Identifier: GPL-2.0-or-later */
/* COPY and ADD (see builder.c): sources resolved in the context (or a stage),
 * .dockerignore honoured, laid out in a staging dir that becomes the layer. */
#define BERTH_LOG_DOMAIN "build"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <berth/engine.h>
#include <berth/log.h>

#include "base/cleanup.h"
#include "base/digest.h"
#include "base/random.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "base/units.h"
#include "build/build-internal.h"
#include "engine/engine-internal.h"
#include "engine/events.h"
#include "engine/rwlayer.h"
#include "image/fetch.h"
#include "image/image.h"
#include "image/import.h"
#include "image/tar.h"

/* ---- COPY and ADD ---- */

/* Is the context path rel, or a directory above it, left out by .dockerignore? */
bool bld_is_ignored(char *const *ignored, const char *rel)
{
  for (char *const *p = ignored; p && *p; p++) {
    size_t n = strlen(*p);
    if (!strncmp(*p, rel, n) && (rel[n] == '\0' || rel[n] == '/'))
      return true;
  }
  return false;
}



static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* What a source's content is, for the cache: names, types, modes, sizes,
 * contents and link targets, depth first in name order. */
int bld_hash_tree(int fd, const char *name, char *const *ignored, const char *rel, struct berth_sha256 *h,
                     berth_error_t *err)
{
  struct stat st;
  char proc[64], head[PATH_MAX + 64];
  if (fstat(fd, &st) < 0)
    return berth_error_set(err, errno, "stat %s", name);
  int n = snprintf(head, sizeof head, "%s%c%o%c%lld%c", name, 0, (unsigned)st.st_mode, 0, (long long)st.st_size, 0);
  berth_sha256_update(h, head, (size_t)n);
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t len = readlinkat(fd, "", target, sizeof target);
    if (len > 0)
      berth_sha256_update(h, target, (size_t)len);
  } else if (S_ISREG(st.st_mode)) {
    cleanup_close int in = open(proc, O_RDONLY | O_CLOEXEC);
    char buf[65536];
    ssize_t r;
    if (in < 0)
      return berth_error_set(err, errno, "open %s", name);
    while ((r = read(in, buf, sizeof buf)) > 0)
      berth_sha256_update(h, buf, (size_t)r);
    if (r < 0)
      return berth_error_set(err, errno, "read %s", name);
  } else if (S_ISDIR(st.st_mode)) {
    cleanup_close int dir = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    size_t k = 0;
    cleanup_strv char **names = dir >= 0 ? berth_dir_names(dir, &k, err) : NULL;
    if (!names)
      return dir < 0 ? berth_error_set(err, errno, "open %s", name) : -1;
    qsort(names, k, sizeof *names, cmp_names);
    for (size_t i = 0; i < k; i++) {
      cleanup_free char *child_rel = NULL;
      if (rel && asprintf(&child_rel, "%s%s%s", rel, *rel ? "/" : "", names[i]) < 0)
        abort();
      if (child_rel && bld_is_ignored(ignored, child_rel))
        continue;
      cleanup_close int child = openat(dir, names[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0 || bld_hash_tree(child, names[i], ignored, child_rel, h, err) < 0)
        return child < 0 ? berth_error_set(err, errno, "open %s/%s", name, names[i]) : -1;
    }
  }
  return 0;
}

/* A source path inside the context: clean, relative, never above it
 * (docker: "forbidden path outside the build context"). */
char *bld_context_path(const char *src, berth_error_t *err)
{
  int depth = 0;
  for (const char *p = src; *p;) {
    while (*p == '/')
      p++;
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.')
      depth--;
    else if (n && !(n == 1 && p[0] == '.'))
      depth++;
    if (depth < 0) {
      berth_error_set_plain(err, EINVAL, "forbidden path outside the build context: %s", src);
      return NULL;
    }
    p += n;
  }
  cleanup_free char *abs = NULL;
  if (asprintf(&abs, "/%s", src) < 0)
    abort();
  char *clean = berth_build_clean_path(abs);
  memmove(clean, clean + 1, strlen(clean));
  return clean;
}

struct source {
  int fd;      /* O_PATH, resolved in its root */
  char *name;  /* its base name */
  char *rel;   /* its path in the context ("" for the context itself), NULL for another root */
  bool is_dir;
};

static void sources_free(struct source *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    close_and_reset(&s[i].fd);
    free(s[i].name);
    free(s[i].rel);
  }
  free(s);
}

static bool has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

/* The archive names of what is ignored below the source, for its copy
 * named `name` ("." for a directory's content). */
static char **excludes_for(char *const *ignored, const struct source *src, const char *name)
{
  char **out = NULL;
  size_t len = src->rel ? strlen(src->rel) : 0, n = 0;
  for (char *const *p = ignored; src->rel && p && *p; p++) {
    if (len && (strncmp(*p, src->rel, len) != 0 || (*p)[len] != '/'))
      continue;
    out = realloc(out, (n + 2) * sizeof *out);
    if (!out)
      abort();
    if (asprintf(&out[n++], "%s/%s", name, *p + len + (len ? 1 : 0)) < 0)
      abort();
    out[n] = NULL;
  }
  return out;
}

/* The sources one COPY argument names in root (wildcards in the last
 * component matched against the directory's names). */
static int add_sources(int root, char *const *ignored, const char *arg, struct source **list, size_t *n,
                       berth_error_t *err)
{
  cleanup_free char *rel = bld_context_path(arg, err);
  if (!rel)
    return -1;
  char *slash = strrchr(rel, '/');
  const char *leaf = slash ? slash + 1 : rel;
  cleanup_free char *dir = slash ? strndup(rel, (size_t)(slash - rel)) : strdup("");
  cleanup_strv char **names = NULL;
  size_t k = 0;
  if (has_glob(leaf)) {
    cleanup_close int d = berth_open_in_root(root, dir, O_RDONLY | O_DIRECTORY, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (d < 0 || !(names = berth_dir_names(d, &k, err)))
      return d < 0 ? berth_error_set_plain(err, ENOENT, "no source files were specified") : -1;
    qsort(names, k, sizeof *names, cmp_names);
  }
  size_t matched = 0;
  for (size_t i = 0; i < (names ? k : 1); i++) {
    const char *name = names ? names[i] : leaf;
    if (names && fnmatch(leaf, name, FNM_PERIOD) != 0)
      continue;
    cleanup_free char *path = NULL;
    if (asprintf(&path, "%s%s%s", dir, *dir ? "/" : "", name) < 0)
      abort();
    if (ignored && *path && bld_is_ignored(ignored, path)) {
      if (names)
        continue;
      return berth_error_set_plain(err, ENOENT,
                                   "COPY failed: file not found in build context or excluded by .dockerignore: stat "
                                   "%s: file does not exist",
                                   arg);
    }
    int fd = berth_open_in_root(root, path, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
      if (fd >= 0)
        close(fd);
      return berth_error_set_plain(err, ENOENT,
                                   "COPY failed: file not found in build context or excluded by .dockerignore: stat "
                                   "%s: file does not exist",
                                   arg);
    }
    *list = realloc(*list, (*n + 1) * sizeof **list);
    if (!*list)
      abort();
    (*list)[(*n)++] = (struct source){fd, strdup(*name ? name : "."), ignored ? strdup(path) : NULL,
                                      S_ISDIR(st.st_mode)};
    matched++;
  }
  if (!matched)
    return berth_error_set_plain(err, ENOENT, "COPY failed: no source files were specified");
  return 0;
}

/* chmod every entry below (and including) name in dir. */
static void chmod_tree(int dir, const char *name, mode_t mode)
{
  struct stat st;
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISLNK(st.st_mode))
    return;
  (void)fchmodat(dir, name, mode, 0);
  if (!S_ISDIR(st.st_mode))
    return;
  cleanup_close int d = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_strv char **names = d >= 0 ? berth_dir_names(d, NULL, NULL) : NULL;
  for (char **p = names; p && *p; p++)
    chmod_tree(d, *p, mode);
}

static bool is_archive(int fd)
{
  char proc[64];
  unsigned char head[512];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  cleanup_close int in = open(proc, O_RDONLY | O_CLOEXEC);
  ssize_t n = in >= 0 ? pread(in, head, sizeof head, 0) : -1;
  if (n >= 4 && ((head[0] == 0x1f && head[1] == 0x8b) || !memcmp(head, "\x28\xb5\x2f\xfd", 4)))
    return true;
  return n == 512 && !memcmp(head + 257, "ustar", 5);
}

struct copy_spec {
  bool add;
  const char *chown; /* --chown's user[:group], resolved in the stage's image */
  uid_t uid;
  gid_t gid;
  mode_t mode; /* 0: keep */
};

static int parse_copy_flags(const struct berth_df_instruction *in, struct copy_spec *cs, berth_error_t *err)
{
  for (size_t i = 0; i < in->n_flags; i++) {
    const struct berth_df_flag *f = &in->flags[i];
    const char *v = f->value ? f->value : "";
    char *end;
    if (!strcmp(f->name, "chown")) {
      cs->chown = v;
    } else if (!strcmp(f->name, "chmod")) {
      unsigned long m = strtoul(v, &end, 8);
      if (!*v || *end || m > 07777)
        return berth_error_set_plain(err, EINVAL, "invalid chmod parameter: %s", v);
      cs->mode = (mode_t)m;
    } else if (strcmp(f->name, "from") != 0 && strcmp(f->name, "link") != 0 && !(cs->add && !strcmp(f->name, "checksum"))) {
      return berth_error_set_plain(err, EINVAL, "unknown flag: %s", f->name);
    }
  }
  return 0;
}

/* The directory of the staging root that gets `target`'s last component:
 * its parents made root-owned 0755 (as docker makes missing ones). */
static int staging_parent(int stage, const char *target, char **ret_leaf, berth_error_t *err)
{
  cleanup_free char *copy = strdup(target + 1);
  char *slash = strrchr(copy, '/');
  *ret_leaf = strdup(slash ? slash + 1 : copy);
  if (slash) {
    *slash = '\0';
    if (berth_mkdir_p(stage, copy, 0755, err) < 0)
      return -1;
    return openat(stage, copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  return openat(stage, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Lay one source out at target (an absolute path) in the staging root. */
static int stage_source(int stage, const struct source *src, const char *target, const struct copy_spec *cs,
                        char *const *ignored, berth_error_t *err)
{
  struct berth_tar_apply_opts ao = {.plain = true, .force_owner = true, .owner_uid = cs->uid, .owner_gid = cs->gid};
  int64_t bytes;
  cleanup_free char *leaf = NULL;
  if (src->is_dir || (cs->add && is_archive(src->fd))) {
    /* a directory's content, or an archive's, goes into target */
    if (strcmp(target, "/") != 0 && berth_mkdir_p(stage, target + 1, 0755, err) < 0)
      return -1;
    cleanup_close int dir = openat(stage, strcmp(target, "/") ? target + 1 : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
      return berth_error_set(err, errno, "staging %s", target);
    if (src->is_dir) {
      cleanup_strv char **ex = excludes_for(ignored, src, ".");
      if (berth_copy_tree(src->fd, ".", dir, &ao, (const char *const *)ex, &bytes, err) < 0)
        return -1;
      if (cs->mode) {
        cleanup_strv char **names = berth_dir_names(dir, NULL, NULL);
        for (char **p = names; p && *p; p++)
          chmod_tree(dir, *p, cs->mode);
      }
      return 0;
    }
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", src->fd);
    cleanup_close int in = open(proc, O_RDONLY | O_CLOEXEC);
    ao.tee_fd = -1;
    ao.no_digest = true;
    return in < 0 ? berth_error_set(err, errno, "open %s", src->name) : berth_tar_apply(in, dir, &ao, NULL, err);
  }
  cleanup_close int parent = staging_parent(stage, target, &leaf, err);
  if (parent < 0)
    return -1;
  cleanup_strv char **ex = excludes_for(ignored, src, leaf);
  if (berth_copy_tree(src->fd, leaf, parent, &ao, (const char *const *)ex, &bytes, err) < 0)
    return -1;
  if (cs->mode)
    chmod_tree(parent, leaf, cs->mode);
  return 0;
}

/* A file with `content` at target in the staging root (here-documents). */
static int stage_text(int stage, const char *target, const char *content, const struct copy_spec *cs,
                      berth_error_t *err)
{
  cleanup_free char *leaf = NULL;
  cleanup_close int parent = staging_parent(stage, target, &leaf, err);
  if (parent < 0)
    return -1;
  cleanup_close int fd = openat(parent, leaf, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                                cs->mode ? cs->mode : 0644);
  if (fd < 0 || berth_write_all(fd, content, strlen(content)) < 0 || fchown(fd, cs->uid, cs->gid) < 0 ||
      (cs->mode && fchmod(fd, cs->mode) < 0))
    return berth_error_set(err, errno, "staging %s", target);
  return 0;
}

/* The staging root as a layer over the current image's. */
static int staged_layer(struct builder *b, int stage, char diff_id[BERTH_DIGEST_STR_LEN], berth_error_t *err)
{
  cleanup_strv char **chains = berth_image_chain_ids(b->image);
  size_t n = 0;
  struct berth_tar_write_opts wo = {.no_digest = true};
  struct berth_layer l;
  while (chains && chains[n])
    n++;
  if (berth_layer_from_tree(b->e->store, stage, &wo, n ? chains[n - 1] : NULL, &l, err) < 0)
    return -1;
  snprintf(diff_id, BERTH_DIGEST_STR_LEN, "%s", l.diff_id);
  return 0;
}


int bld_open_from(struct builder *b, const char *from, struct from_root *fr, berth_error_t *err)
{
  const char *image = from;
  char *end;
  unsigned long idx = strtoul(from, &end, 10);
  for (size_t i = 0; i < b->n_stages; i++)
    if ((b->stages[i].name && !strcasecmp(b->stages[i].name, from)) || (!*end && end != from && idx == i))
      image = b->stages[i].image_id;
  if (!image)
    return berth_error_set_plain(err, EINVAL, "COPY --from=%s: the stage has no image (FROM scratch)", from);
  cleanup_json json_t *body = json_pack("{s:s, s:[s]}", "Image", image, "Cmd", "true");
  if (berth_container_create(b->e, NULL, body, &fr->ctr, NULL, err) < 0)
    return -1;
  if (berth_ctr_load_id(b->e, fr->ctr, &fr->c, err) < 0)
    return -1;
  return berth_ctr_open_rootfs(b->e, &fr->c, BERTH_ROOTFS_IMAGE, &fr->root, err);
}

void bld_close_from(struct builder *b, struct from_root *fr)
{
  cleanup_error berth_error_t ign = NULL;
  struct berth_rm_opts rm = {.force = true, .volumes = true};
  berth_ctr_rootfs_close(&fr->root);
  berth_ctr_clear(&fr->c);
  if (fr->ctr)
    (void)berth_container_remove(b->e, fr->ctr, &rm, &ign);
  free(fr->ctr);
}

/* A here-document COPY/ADD names as "<<NAME", or NULL. */
static const struct berth_df_heredoc *heredoc_of(const struct berth_df_instruction *in, const char *word)
{
  if (strncmp(word, "<<", 2) != 0)
    return NULL;
  for (size_t k = 0; k < in->n_heredocs; k++)
    if (strstr(word, in->heredocs[k].name))
      return &in->heredocs[k];
  return NULL;
}

static bool is_url(const char *w) { return !strncmp(w, "http://", 7) || !strncmp(w, "https://", 8); }

/* target itself, or target/name when the destination is a directory */
static char *place(const char *target, bool dest_dir, const char *name)
{
  char *t = NULL;
  if (asprintf(&t, "%s%s%s", target, dest_dir && strcmp(target, "/") ? "/" : "", dest_dir ? name : "") < 0)
    abort();
  return t;
}

/* --chown: numbers as they are, names from the stage's own /etc/passwd and
 * /etc/group; a user without a group gets the gid of the uid's number, as
 * the Dockerfile reference says. */
static int chown_ids(struct builder *b, const char *spec, struct copy_spec *cs, char *const *vars, berth_error_t *err)
{
  cleanup_free char *v = berth_shell_expand(spec, b->df->escape, vars, err);
  char *end;
  if (!v)
    return -1;
  unsigned long u = strtoul(v, &end, 10), g = u;
  if (end != v && *end == ':' && end[1])
    g = strtoul(end + 1, &end, 10);
  if (end != v && !*end) {
    cs->uid = (uid_t)u;
    cs->gid = (gid_t)g;
    return 0;
  }
  if (!b->id)
    return berth_error_set_plain(err, EINVAL, "--chown=%s: a stage FROM scratch has no /etc/passwd to look names up in", v);
  struct from_root fr = {.root = {.fd = -1, .lock_fd = -1}, .c = {.dirfd = -1}};
  int r = bld_open_from(b, b->id, &fr, err);
  if (r == 0)
    r = berth_root_user(fr.root.fd, v, &cs->uid, &cs->gid, err);
  if (r == 0 && !strchr(v, ':'))
    cs->gid = (gid_t)cs->uid;
  bld_close_from(b, &fr);
  return r;
}

int bld_copy_step(struct builder *b, const struct berth_df_instruction *in, bool add, berth_error_t *err)
{
  struct copy_spec cs = {.add = add};
  const char *what = add ? "ADD" : "COPY";
  const struct berth_df_flag *from = berth_df_flag(in, "from");
  cleanup_strv char **vars = bld_scope_vars(b), **words = NULL;
  struct from_root fr = {.root = {.fd = -1, .lock_fd = -1}, .c = {.dirfd = -1}};
  struct source *srcs = NULL;
  size_t n_srcs = 0, n = 0;
  int r = -1, root = b->context;
  char rnd[17], stage_name[64] = "", diff_id[BERTH_DIGEST_STR_LEN], content[BERTH_DIGEST_STR_LEN];
  cleanup_close int stage = -1;
  cleanup_free size_t *first = NULL;
  cleanup_free char *joined = NULL, *target = NULL, *by = NULL, *key = NULL;
  if (parse_copy_flags(in, &cs, err) < 0 || (cs.chown && chown_ids(b, cs.chown, &cs, vars, err) < 0))
    return -1;
  if (in->json) {
    for (char **j = in->json; *j; j++) {
      char *w = berth_shell_expand(*j, b->df->escape, vars, err);
      if (!w)
        return -1;
      bld_strv_push(&words, w);
    }
  } else if (!(words = berth_shell_words(in->args, b->df->escape, vars, err))) {
    return -1;
  }
  while (words && words[n])
    n++;
  if (n < 2)
    return berth_error_set_plain(err, EINVAL,
                                 "%s requires at least two arguments, but only one was provided. Destination could "
                                 "not be determined.",
                                 what);
  if (from && (!from->value || !*from->value))
    return berth_error_set_plain(err, EINVAL, "%s --from requires a value", what);
  /* the destination, relative to WORKDIR; a directory when it ends in '/'
   * (or "/.") or takes several sources */
  const char *dest = words[n - 1], *wd = berth_json_str(json_object_get(b->image, "config"), "WorkingDir");
  size_t dl = strlen(dest);
  bool dest_dir = dest[dl - 1] == '/' || (dest[dl - 1] == '.' && (dl == 1 || dest[dl - 2] == '/'));
  if (asprintf(&joined, "%s/%s", dest[0] == '/' || !wd ? "" : wd, dest) < 0)
    abort();
  target = berth_build_clean_path(joined);
  if (from && bld_open_from(b, from->value, &fr, err) < 0)
    goto out;
  if (from)
    root = fr.root.fd;
  /* the sources, and what the cache sees of them */
  first = calloc(n, sizeof *first);
  struct berth_sha256 *h = berth_sha256_new();
  char head[PATH_MAX + 160];
  int hl = snprintf(head, sizeof head, "%s %s %u:%u %o %s", what, target, cs.uid, cs.gid, cs.mode,
                    from ? berth_json_str(fr.c.rec, "Image") : "");
  berth_sha256_update(h, head, (size_t)hl);
  r = 0;
  for (size_t i = 0; r == 0 && i + 1 < n; i++) {
    const struct berth_df_heredoc *doc = heredoc_of(in, words[i]);
    first[i] = n_srcs;
    if (doc) {
      berth_sha256_update(h, doc->name, strlen(doc->name) + 1);
      berth_sha256_update(h, doc->content, strlen(doc->content) + 1);
    } else if (add && is_url(words[i])) {
      berth_sha256_update(h, words[i], strlen(words[i]) + 1);
    } else if (root < 0) {
      r = berth_error_set_plain(err, EINVAL, "%s failed: no build context (the Dockerfile came alone on stdin)", what);
    } else if ((r = add_sources(root, from ? NULL : b->ignored, words[i], &srcs, &n_srcs, err)) == 0) {
      for (size_t k = first[i]; r == 0 && k < n_srcs; k++)
        r = bld_hash_tree(srcs[k].fd, srcs[k].name, from ? NULL : b->ignored, srcs[k].rel, h, err);
    }
  }
  berth_sha256_final(h, content);
  if (r < 0)
    goto out;
  dest_dir |= n > 2 || n_srcs > 1;
  if (asprintf(&by, "/bin/sh -c #(nop) %s %s:%s in %s ", what, n_srcs == 1 && srcs[0].is_dir ? "dir" : "file",
               berth_digest_hex(content), target) < 0)
    abort();
  key = bld_cache_key(b, by, NULL);
  if (bld_cache_hit(b, key))
    goto out;
  /* lay the sources out under a staging root, then add it as a layer */
  berth_random_hex(rnd, sizeof rnd);
  snprintf(stage_name, sizeof stage_name, ".staging-build-%s", rnd);
  if (mkdirat(b->e->store->root_fd, stage_name, 0755) < 0 ||
      (stage = openat(b->e->store->root_fd, stage_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
    r = berth_error_set(err, errno, "%s: staging", what);
    goto out;
  }
  for (size_t i = 0; r == 0 && i + 1 < n; i++) {
    const struct berth_df_heredoc *doc = heredoc_of(in, words[i]);
    size_t end = i + 2 < n ? first[i + 1] : n_srcs;
    if (doc) {
      cleanup_free char *t = place(target, dest_dir, doc->name);
      cleanup_free char *text = doc->expand ? berth_shell_expand(doc->content, b->df->escape, vars, err) : NULL;
      r = doc->expand && !text ? -1 : stage_text(stage, t, text ? text : doc->content, &cs, err);
    } else if (add && is_url(words[i])) {
      cleanup_free char *t = place(target, dest_dir, strrchr(words[i], '/') + 1), *leaf = NULL;
      cleanup_close int parent = staging_parent(stage, t, &leaf, err);
      cleanup_close int fd = parent < 0 ? -1 : openat(parent, leaf, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
                                                       cs.mode ? cs.mode : 0600);
      if (fd < 0)
        r = parent < 0 ? -1 : berth_error_set(err, errno, "ADD %s", words[i]);
      else if (berth_fetch_url(words[i], fd, err) < 0 || fchown(fd, cs.uid, cs.gid) < 0)
        r = -1;
    } else {
      for (size_t k = first[i]; r == 0 && k < end; k++) {
        /* a directory's content, and an archive ADD unpacks, go into the destination */
        bool whole = !srcs[k].is_dir && !(add && is_archive(srcs[k].fd));
        cleanup_free char *t = place(target, dest_dir && whole, srcs[k].name);
        r = stage_source(stage, &srcs[k], t, &cs, b->ignored, err);
      }
    }
  }
  if (r == 0)
    r = staged_layer(b, stage, diff_id, err);
  if (r == 0)
    r = bld_register_step(b, by, diff_id, err);
  if (r == 0)
    bld_cache_put(b, key);
out:
  if (stage >= 0)
    (void)berth_rm_rf_at(b->e->store->root_fd, stage_name, NULL);
  sources_free(srcs, n_srcs);
  if (from)
    bld_close_from(b, &fr);
  return r;
}

