/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `build`: a Dockerfile run on berth's own containers and store, with the
 * classic builder's steps and output.
 *
 * Every step makes an image whose "parent" is the one before (hidden from
 * `images` unless -a, as docker's intermediate images are):
 * - config-only instructions change the config (config-edit.c) and record an
 *   empty-layer history line;
 * - RUN runs a container of the current image with the stage's environment
 *   and build arguments, streams its output, and commits its writable layer;
 * - COPY and ADD lay their sources out in a staging directory (owned
 *   root:root unless --chown, modes from --chmod) and add it as a layer.
 * A step is taken from the cache when the cache index (ROOT/build-cache/,
 * written only by builds) maps its key to an image that still exists: the
 * parent image, the instruction with its expanded arguments and the build
 * arguments it sees, and for COPY/ADD the content, names and modes of the
 * sources.  An image the build did not make is never a cache hit
 * (CVE-2024-24557). */
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
#include "base/fs.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "base/units.h"
#include "build/build.h"
#include "engine/engine-internal.h"
#include "engine/events.h"
#include "engine/rwlayer.h"
#include "image/fetch.h"
#include "image/image.h"
#include "image/import.h"
#include "image/tar.h"

struct stage {
  const char *name; /* AS name, or NULL */
  size_t first, end; /* its instructions: [first, end), first is the FROM */
  char *image_id;    /* its result once built */
  bool needed;
};

struct builder {
  struct berth_engine *e;
  const struct berth_build_opts *opts;
  struct berth_dockerfile *df;
  struct stage *stages;
  size_t n_stages;
  int context; /* O_PATH directory fd of the context, -1 without one */
  char **ignored; /* what .dockerignore leaves out of it: sorted relative paths */
  char **meta_args; /* ARGs before the first FROM, "K=V" */
  json_t *used_args; /* build args some ARG consumed */
  unsigned step, steps;
  FILE *out;
  /* the compact terminal view: a line a step, rewritten when it ends; a
   * RUN's output kept and shown only when it fails */
  bool tty;
  char *line;       /* the step's line */
  int64_t started;  /* when the step began, ns */
  bool cached;      /* the step came from the cache */
  char *captured;   /* a RUN's output */
  size_t captured_len;
  FILE *capture;
  /* the stage being built */
  json_t *image;  /* its current image config (docker's image JSON) */
  char *id;       /* its current image id, NULL for scratch */
  char **args;    /* its ARGs in scope, "K=V" */
};

static void say(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct builder *b, const char *fmt, ...)
{
  va_list ap;
  if (b->opts->quiet || b->tty)
    return;
  va_start(ap, fmt);
  vfprintf(b->out, fmt, ap);
  va_end(ap);
  fflush(b->out);
}

static const char *short_id(const char *id)
{
  static char buf[13];
  snprintf(buf, sizeof buf, "%s", id && !strncmp(id, "sha256:", 7) ? id + 7 : id ? id : "");
  return buf;
}

static void strv_push(char ***v, char *s)
{
  size_t n = 0;
  while (*v && (*v)[n])
    n++;
  *v = realloc(*v, (n + 2) * sizeof **v);
  if (!*v)
    abort();
  (*v)[n] = s;
  (*v)[n + 1] = NULL;
}

/* "K=V" of name in v, or NULL. */
static const char *strv_get(char *const *v, const char *name)
{
  size_t n = strlen(name);
  const char *found = NULL;
  for (; v && *v; v++)
    if (!strncmp(*v, name, n) && (*v)[n] == '=')
      found = *v + n + 1;
  return found;
}

/* The value a --build-arg gives name: "K=V", or "K" alone taking the
 * caller's environment. */
static const char *build_arg(struct builder *b, const char *name, bool *given)
{
  size_t n = strlen(name);
  *given = false;
  for (char **a = b->opts->build_args; a && *a; a++) {
    if (strncmp(*a, name, n) != 0 || ((*a)[n] != '=' && (*a)[n] != '\0'))
      continue;
    *given = true;
    json_object_set_new(b->used_args, name, json_true());
    return (*a)[n] == '=' ? *a + n + 1 : getenv(name);
  }
  return NULL;
}

/* ---- the stage's variables ---- */

/* What expansions see: the ARGs, then the config's Env (ENV wins). */
static char **scope_vars(struct builder *b)
{
  char **v = NULL;
  json_t *env = json_object_get(json_object_get(b->image, "config"), "Env"), *e;
  size_t i;
  for (char **a = b->args; a && *a; a++)
    strv_push(&v, strdup(*a));
  json_array_foreach(env, i, e) strv_push(&v, strdup(json_string_value(e)));
  if (!v)
    v = calloc(1, sizeof *v);
  return v;
}

/* ARG NAME[=default] ...: each in scope with the build arg's value, else
 * the default (expanded), else a pre-FROM ARG's value of that name. */
static int arg_step(struct builder *b, const struct berth_df_instruction *in, char ***scope, berth_error_t *err)
{
  cleanup_strv char **vars = scope ? scope_vars(b) : NULL;
  /* each NAME[=default] word; a default is expanded (and unquoted) */
  cleanup_strv char **raw = berth_build_raw_words(in->args, b->df->escape);
  for (char **w = raw; w && *w; w++) {
    char *eq = strchr(*w, '=');
    cleanup_free char *name = eq ? strndup(*w, (size_t)(eq - *w)) : strdup(*w), *def = NULL;
    if (!*name)
      return berth_error_set_plain(err, EINVAL, "ARG names can not be blank");
    if (eq && !(def = berth_shell_expand(eq + 1, b->df->escape, scope ? vars : b->meta_args, err)))
      return -1;
    bool given;
    const char *v = build_arg(b, name, &given);
    if (!given && !def && scope)
      v = strv_get(b->meta_args, name);
    else if (!given)
      v = def;
    char *entry = NULL;
    if (v && asprintf(&entry, "%s=%s", name, v) < 0)
      abort();
    if (entry)
      strv_push(scope ? scope : &b->meta_args, entry);
  }
  return 0;
}

/* ---- images of the steps ---- */

static json_t *scratch_image(void)
{
  char created[64];
  berth_format_rfc3339(berth_now_ns(), created);
  return json_pack("{s:s, s:s, s:s, s:{}, s:{s:s, s:[]}, s:[]}", "architecture", berth_host_arch(), "os", "linux",
                   "created", created, "config", "rootfs", "type", "layers", "diff_ids", "history");
}

/* The step's image: the current one with `diff_id` (NULL: an empty layer)
 * and a history line. */
static int register_step(struct builder *b, const char *created_by, const char *diff_id, berth_error_t *err)
{
  char created[64];
  berth_format_rfc3339(berth_now_ns(), created);
  json_t *h = json_pack("{s:s, s:s}", "created", created, "created_by", created_by);
  if (!diff_id)
    json_object_set_new(h, "empty_layer", json_true());
  else
    json_array_append_new(json_object_get(json_object_get(b->image, "rootfs"), "diff_ids"), json_string(diff_id));
  json_array_append_new(json_object_get(b->image, "history"), h);
  json_object_set_new(b->image, "created", json_string(created));
  struct berth_image_register_opts ro = {.parent = b->id};
  char *id = NULL;
  if (berth_image_register(b->e->store, b->image, &ro, &id, err) < 0)
    return -1;
  free(b->id);
  b->id = id;
  return 0;
}

/* Make the step's image current: load its config. */
static int use_image(struct builder *b, const char *id, berth_error_t *err)
{
  json_t *cfg = berth_image_config(b->e->store, id, err);
  if (!cfg)
    return -1;
  json_decref(b->image);
  b->image = cfg;
  free(b->id);
  b->id = strdup(id);
  if (!json_is_object(json_object_get(b->image, "config")))
    json_object_set_new(b->image, "config", json_object());
  if (!json_is_array(json_object_get(b->image, "history")))
    json_object_set_new(b->image, "history", json_array());
  return 0;
}

/* ---- the cache ---- */

static char *cache_key(struct builder *b, const char *what, const char *extra)
{
  char d[BERTH_DIGEST_STR_LEN];
  cleanup_free char *text = NULL;
  if (asprintf(&text, "%s\n%s\n%s", b->id ? b->id : "scratch", what, extra ? extra : "") < 0)
    abort();
  berth_sha256_buf(text, strlen(text), d);
  return strdup(berth_digest_hex(d));
}

static int cache_dir(struct builder *b)
{
  if (berth_mkdir_p(b->e->store->root_fd, "build-cache", 0700, NULL) < 0)
    return -1;
  return openat(b->e->store->root_fd, "build-cache", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* The image cached for key, if it is still there: made current. */
static bool cache_hit(struct builder *b, const char *key)
{
  cleanup_close int dir = b->opts->no_cache ? -1 : cache_dir(b);
  cleanup_free char *id = NULL;
  size_t len;
  cleanup_error berth_error_t ign = NULL;
  if (dir < 0 || berth_read_file_at(dir, key, &id, &len, &ign) < 0 || !berth_digest_is_valid(id))
    return false;
  if (use_image(b, id, &ign) < 0)
    return false;
  say(b, " ---> Using cache\n");
  b->cached = true;
  return true;
}

static void cache_put(struct builder *b, const char *key)
{
  cleanup_close int dir = cache_dir(b);
  cleanup_error berth_error_t ign = NULL;
  if (dir >= 0)
    (void)berth_write_file_replace(dir, key, b->id, strlen(b->id), 0600, &ign);
}

/* ---- COPY and ADD ---- */

/* Is the context path rel, or a directory above it, left out by .dockerignore? */
static bool is_ignored(char *const *ignored, const char *rel)
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
static int hash_tree(int fd, const char *name, char *const *ignored, const char *rel, struct berth_sha256 *h,
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
      if (child_rel && is_ignored(ignored, child_rel))
        continue;
      cleanup_close int child = openat(dir, names[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0 || hash_tree(child, names[i], ignored, child_rel, h, err) < 0)
        return child < 0 ? berth_error_set(err, errno, "open %s/%s", name, names[i]) : -1;
    }
  }
  return 0;
}

/* A source path inside the context: clean, relative, never above it
 * (docker: "forbidden path outside the build context"). */
static char *context_path(const char *src, berth_error_t *err)
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
  cleanup_free char *rel = context_path(arg, err);
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
    if (ignored && *path && is_ignored(ignored, path)) {
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

/* The root COPY --from reads: an earlier stage's image or any image, as a
 * container's read-only view (created, never started; removed after). */
struct from_root {
  char *ctr;
  struct berth_ctr c;
  struct berth_ctr_rootfs root;
};

static int open_from(struct builder *b, const char *from, struct from_root *fr, berth_error_t *err)
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

static void close_from(struct builder *b, struct from_root *fr)
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
  int r = open_from(b, b->id, &fr, err);
  if (r == 0)
    r = berth_root_user(fr.root.fd, v, &cs->uid, &cs->gid, err);
  if (r == 0 && !strchr(v, ':'))
    cs->gid = (gid_t)cs->uid;
  close_from(b, &fr);
  return r;
}

static int copy_step(struct builder *b, const struct berth_df_instruction *in, bool add, berth_error_t *err)
{
  struct copy_spec cs = {.add = add};
  const char *what = add ? "ADD" : "COPY";
  const struct berth_df_flag *from = berth_df_flag(in, "from");
  cleanup_strv char **vars = scope_vars(b), **words = NULL;
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
      strv_push(&words, w);
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
  if (from && open_from(b, from->value, &fr, err) < 0)
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
        r = hash_tree(srcs[k].fd, srcs[k].name, from ? NULL : b->ignored, srcs[k].rel, h, err);
    }
  }
  berth_sha256_final(h, content);
  if (r < 0)
    goto out;
  dest_dir |= n > 2 || n_srcs > 1;
  if (asprintf(&by, "/bin/sh -c #(nop) %s %s:%s in %s ", what, n_srcs == 1 && srcs[0].is_dir ? "dir" : "file",
               berth_digest_hex(content), target) < 0)
    abort();
  key = cache_key(b, by, NULL);
  if (cache_hit(b, key))
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
    r = register_step(b, by, diff_id, err);
  if (r == 0)
    cache_put(b, key);
out:
  if (stage >= 0)
    (void)berth_rm_rf_at(b->e->store->root_fd, stage_name, NULL);
  sources_free(srcs, n_srcs);
  if (from)
    close_from(b, &fr);
  return r;
}

/* ---- RUN ---- */

static int print_output(void *data, int stream, const void *buf, size_t len, berth_error_t *err)
{
  struct builder *b = data;
  (void)stream;
  (void)err;
  if (buf && b->tty && b->capture)
    fwrite(buf, 1, len, b->capture);
  else if (buf && !b->opts->quiet && !b->tty)
    fwrite(buf, 1, len, b->out);
  if (!buf && !b->tty)
    fflush(b->out);
  return 0;
}

static json_t *strv_json(char *const *v)
{
  json_t *a = json_array();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

/* The command of RUN: the exec form, or the stage's shell with the line. */
static json_t *run_command(struct builder *b, const struct berth_df_instruction *in, const char *script)
{
  if (in->json)
    return strv_json(in->json);
  json_t *shell = json_object_get(json_object_get(b->image, "config"), "Shell");
  json_t *cmd = json_array_size(shell) ? json_deep_copy(shell) : json_pack("[s,s]", "/bin/sh", "-c");
  json_array_append_new(cmd, json_string(script));
  return cmd;
}

static char *join_words(const json_t *a)
{
  char *out = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&out, &len);
  json_t *v;
  size_t i;
  json_array_foreach(a, i, v) fprintf(m, "%s%s", i ? " " : "", json_string_value(v));
  fclose(m);
  return out;
}

/* ---- RUN --mount ---- */

/* key=value fields of a --mount, BuildKit's names and aliases. */
static const char *mount_field(char *const *kv, const char *const *keys)
{
  const char *found = NULL;
  for (char *const *f = kv; f && *f; f++)
    for (const char *const *k = keys; *k; k++) {
      size_t n = strlen(*k);
      if (!strncmp(*f, *k, n) && ((*f)[n] == '=' || (*f)[n] == '\0'))
        found = (*f)[n] == '=' ? *f + n + 1 : "";
    }
  return found;
}

static bool mount_flag(char *const *kv, const char *const *keys)
{
  const char *v = mount_field(kv, keys);
  return v && (!*v || !strcasecmp(v, "true"));
}

/* The directory that keeps a cache mount's content between builds. */
static char *cache_mount_dir(struct builder *b, const char *id, unsigned uid, unsigned gid, unsigned mode,
                             berth_error_t *err)
{
  char d[BERTH_DIGEST_STR_LEN], rel[128];
  berth_sha256_buf(id, strlen(id), d);
  snprintf(rel, sizeof rel, "build-cache-mounts/%.32s", berth_digest_hex(d));
  if (berth_mkdir_p(b->e->store->root_fd, "build-cache-mounts", 0700, err) < 0)
    return NULL;
  if (mkdirat(b->e->store->root_fd, rel, mode) == 0) {
    if (fchownat(b->e->store->root_fd, rel, uid, gid, 0) < 0 || fchmodat(b->e->store->root_fd, rel, mode, 0) < 0) {
      berth_error_set(err, errno, "cache mount %s", id);
      return NULL;
    }
  } else if (errno != EEXIST) {
    berth_error_set(err, errno, "cache mount %s", id);
    return NULL;
  }
  char *path = NULL;
  if (asprintf(&path, "%s/%s", b->e->store->root, rel) < 0)
    abort();
  return path;
}

/* A secret of --secret id=ID,src=PATH|env=VAR: the file to bind. */
static char *secret_file(struct builder *b, const char *id, berth_error_t *err)
{
  for (char **s = b->opts->secrets; s && *s; s++) {
    cleanup_strv char **fields = NULL;
    for (char *p = *s; *p;) {
      size_t n = strcspn(p, ",");
      strv_push(&fields, strndup(p, n));
      p += n + (p[n] == ',');
    }
    const char *sid = mount_field(fields, (const char *const[]){"id", NULL});
    const char *src = mount_field(fields, (const char *const[]){"src", "source", NULL});
    if (!sid || strcmp(sid, id) != 0 || !src)
      continue;
    return realpath(src, NULL);
  }
  berth_error_set_plain(err, ENOENT, "secret %s not found", id);
  return NULL;
}

/* RUN's --mount flags as HostConfig.Mounts, and what the cache must see of
 * them (a bind's content). */
/* A copy of `source` of a stage's (or an image's) filesystem, made in a
 * staging dir of the store (its name returned; the copy is its "src"),
 * hashed into h for the cache. */
static char *stage_from(struct builder *b, const char *from, const char *source, struct berth_sha256 *h,
                        berth_error_t *err)
{
  struct from_root fr = {.root = {.fd = -1, .lock_fd = -1}, .c = {.dirfd = -1}};
  char rnd[17], *name = NULL;
  int64_t bytes;
  int r = open_from(b, from, &fr, err);
  cleanup_close int src = r < 0 ? -1 : berth_open_in_root(fr.root.fd, source, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (r == 0 && src < 0)
    r = berth_error_set_plain(err, ENOENT, "RUN --mount: %s not found in %s", source, from);
  if (r == 0) {
    const char *image = berth_json_str(fr.c.rec, "Image");
    berth_sha256_update(h, image, strlen(image));
    r = hash_tree(src, source, NULL, NULL, h, err);
  }
  if (r == 0) {
    berth_random_hex(rnd, sizeof rnd);
    if (asprintf(&name, ".staging-build-mount-%s", rnd) < 0)
      abort();
    cleanup_close int dir = mkdirat(b->e->store->root_fd, name, 0700) < 0
                                ? -1 : openat(b->e->store->root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct berth_tar_apply_opts ao = {.plain = true};
    if (dir < 0)
      r = berth_error_set(err, errno, "RUN --mount: staging");
    else
      r = berth_copy_tree(src, "src", dir, &ao, NULL, &bytes, err);
  }
  close_from(b, &fr);
  if (r < 0 && name) {
    (void)berth_rm_rf_at(b->e->store->root_fd, name, NULL);
    free(name);
    name = NULL;
  }
  return name;
}

static int run_mounts(struct builder *b, const struct berth_df_instruction *in, json_t *mounts, char ***staged,
                      struct berth_sha256 *h,
                      berth_error_t *err)
{
  for (size_t i = 0; i < in->n_flags; i++) {
    const struct berth_df_flag *f = &in->flags[i];
    if (!strcmp(f->name, "network") || !strcmp(f->name, "security")) {
      if (!strcmp(f->name, "security") && f->value && strcmp(f->value, "sandbox") != 0)
        return berth_error_set_plain(err, ENOTSUP, "RUN --security=%s is not supported", f->value);
      continue;
    }
    if (strcmp(f->name, "mount") != 0)
      return berth_error_set_plain(err, EINVAL, "unknown flag: %s", f->name);
    cleanup_strv char **kv = NULL;
    for (const char *p = f->value ? f->value : ""; *p;) {
      size_t n = strcspn(p, ",");
      strv_push(&kv, strndup(p, n));
      p += n + (p[n] == ',');
    }
    const char *type = mount_field(kv, (const char *const[]){"type", NULL});
    const char *target = mount_field(kv, (const char *const[]){"target", "dst", "destination", NULL});
    const char *source = mount_field(kv, (const char *const[]){"source", "src", NULL});
    bool rw = mount_flag(kv, (const char *const[]){"rw", "readwrite", NULL});
    if (!type)
      type = "bind";
    if (!strcmp(type, "secret")) {
      const char *id = mount_field(kv, (const char *const[]){"id", NULL});
      if (!id && target)
        id = strrchr(target, '/') + 1;
      if (!id || !*id)
        return berth_error_set_plain(err, EINVAL, "RUN --mount=type=secret needs an id");
      cleanup_free char *file = secret_file(b, id, err), *dst = NULL;
      if (!file) {
        if (mount_flag(kv, (const char *const[]){"required", NULL}))
          return -1;
        berth_error_release(err);
        continue;
      }
      if (asprintf(&dst, "/run/secrets/%s", id) < 0)
        abort();
      json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source", file, "Target",
                                              target ? target : dst, "ReadOnly", true));
      continue;
    }
    if (strcmp(type, "bind") != 0 && strcmp(type, "cache") != 0 && strcmp(type, "tmpfs") != 0)
      return berth_error_set_plain(err, ENOTSUP, "RUN --mount=type=%s is not supported", type);
    if (!target || target[0] != '/')
      return berth_error_set_plain(err, EINVAL, "RUN --mount=%s: an absolute target is required", f->value);
    if (!strcmp(type, "tmpfs")) {
      int64_t size = 0;
      const char *sz = mount_field(kv, (const char *const[]){"size", "tmpfs-size", NULL});
      if (sz && berth_parse_size(sz, &size, err) < 0)
        return -1;
      json_array_append_new(mounts, json_pack("{s:s, s:s, s:{s:I}}", "Type", "tmpfs", "Target", target,
                                              "TmpfsOptions", "SizeBytes", (json_int_t)size));
    } else if (!strcmp(type, "cache")) {
      const char *id = mount_field(kv, (const char *const[]){"id", NULL}), *mode = mount_field(kv, (const char *const[]){"mode", NULL});
      const char *uid = mount_field(kv, (const char *const[]){"uid", NULL}), *gid = mount_field(kv, (const char *const[]){"gid", NULL});
      if (mount_field(kv, (const char *const[]){"from", NULL}))
        return berth_error_set_plain(err, ENOTSUP, "RUN --mount=type=cache,from= is not supported yet");
      cleanup_free char *dir = cache_mount_dir(b, id ? id : target, uid ? (unsigned)strtoul(uid, NULL, 10) : 0,
                                               gid ? (unsigned)strtoul(gid, NULL, 10) : 0,
                                               mode ? (unsigned)strtoul(mode, NULL, 8) : 0755, err);
      if (!dir)
        return -1;
      json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source", dir, "Target", target,
                                              "ReadOnly", mount_flag(kv, (const char *const[]){"ro", "readonly", NULL})));
    } else if (mount_field(kv, (const char *const[]){"from", NULL})) {
      /* from a stage or an image: a copy of the source, gone after the step */
      const char *from = mount_field(kv, (const char *const[]){"from", NULL});
      char *dir = stage_from(b, from, source ? source : "/", h, err);
      if (!dir)
        return -1;
      strv_push(staged, dir);
      cleanup_free char *path = NULL;
      if (asprintf(&path, "%s/%s/src", b->e->store->root, dir) < 0)
        abort();
      json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source", path, "Target", target,
                                              "ReadOnly", !rw));
    } else {
      if (b->context < 0)
        return berth_error_set_plain(err, EINVAL, "RUN --mount=type=bind: no build context");
      /* resolved inside the context, as a COPY source is */
      cleanup_free char *rel = context_path(source ? source : ".", err);
      if (!rel)
        return -1;
      cleanup_close int fd = berth_open_in_root(b->context, rel, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
      char proc[64], path[PATH_MAX];
      snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
      ssize_t n = fd < 0 ? -1 : readlink(proc, path, sizeof path - 1);
      if (n < 0 || is_ignored(b->ignored, rel))
        return berth_error_set_plain(err, ENOENT, "RUN --mount: %s not found in the build context", source ? source : ".");
      path[n] = '\0';
      if (hash_tree(fd, rel, b->ignored, rel, h, err) < 0)
        return -1;
      json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source", path, "Target", target,
                                              "ReadOnly", !rw));
    }
  }
  return 0;
}

/* The mount points RUN's mounts need that the image lacks: the topmost
 * missing directory of each, which the runtime will make (BuildKit's mount
 * stubs: they are not part of the step's layer). */
static int mount_stubs(struct builder *b, const char *ctr, const json_t *mounts, char ***ret, berth_error_t *err)
{
  struct berth_ctr c = {.dirfd = -1};
  struct berth_ctr_rootfs root = {.fd = -1, .lock_fd = -1};
  json_t *m;
  size_t i;
  int r = berth_ctr_load_id(b->e, ctr, &c, err);
  if (r == 0)
    r = berth_ctr_open_rootfs(b->e, &c, BERTH_ROOTFS_IMAGE, &root, err);
  json_array_foreach(mounts, i, m)
  {
    if (r < 0)
      break;
    cleanup_free char *path = berth_build_clean_path(berth_json_str(m, "Target"));
    for (char *p = path + 1;; p++) {
      if (*p != '/' && *p != '\0')
        continue;
      char saved = *p;
      *p = '\0';
      cleanup_close int fd = berth_open_in_root(root.fd, path, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
      if (fd < 0) {
        strv_push(ret, strdup(path + 1));
        break;
      }
      *p = saved;
      if (!saved)
        break;
    }
  }
  berth_ctr_rootfs_close(&root);
  berth_ctr_clear(&c);
  return r;
}

/* Remove a stub from the container's upper dir if nothing was put in it. */
static void remove_empty(int dir, const char *name)
{
  cleanup_close int d = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_strv char **names = d >= 0 ? berth_dir_names(d, NULL, NULL) : NULL;
  for (char **p = names; p && *p; p++)
    remove_empty(d, *p);
  if (d >= 0 && unlinkat(dir, name, AT_REMOVEDIR) < 0)
    return;
  if (d < 0) {
    struct stat st;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
      (void)unlinkat(dir, name, 0);
  }
}

static int remove_stubs(struct builder *b, const char *ctr, char *const *stubs, berth_error_t *err)
{
  struct berth_ctr c = {.dirfd = -1};
  if (berth_ctr_load_id(b->e, ctr, &c, err) < 0) {
    berth_ctr_clear(&c);
    return -1;
  }
  cleanup_close int upper = berth_ctr_open_upper(&c, err);
  berth_ctr_clear(&c);
  if (upper < 0)
    return -1;
  for (char *const *s = stubs; *s; s++)
    remove_empty(upper, *s);
  return 0;
}

/* RUN; the copies its mounts took (from= sources) are in *staged */
static int run_with_mounts(struct builder *b, const struct berth_df_instruction *in, char ***staged, berth_error_t *err)
{
  const json_t *cfg = json_object_get(b->image, "config");
  /* a here-document alone is the script; after a command, its stdin is not
   * supported yet */
  const char *script = in->n_heredocs && !strncmp(in->args, "<<", 2) ? in->heredocs[0].content : in->args;
  if (in->n_heredocs && script == in->args)
    return berth_error_set_plain(err, ENOTSUP, "RUN: a here-document after a command is not supported yet");
  if (!b->id)
    return berth_error_set_plain(err, EINVAL, "RUN: the stage has no filesystem (FROM scratch) to run a command in");
  cleanup_json json_t *cmd = run_command(b, in, script), *env = json_deep_copy(json_object_get(cfg, "Env"));
  cleanup_free char *line = join_words(cmd), *by = NULL, *argtext = NULL;
  /* the build args the command sees (ENV wins), in docker's "|N K=V ..."
   * history prefix */
  size_t nargs = 0;
  if (!env)
    env = json_array();
  char *buf = NULL;
  size_t blen = 0;
  FILE *m = open_memstream(&buf, &blen);
  for (char **a = b->args; a && *a; a++) {
    size_t k = strcspn(*a, "=") + 1, i;
    bool in_env = false;
    json_t *v;
    json_array_foreach(json_object_get(cfg, "Env"), i, v) in_env |= !strncmp(json_string_value(v), *a, k);
    if (in_env)
      continue;
    json_array_append_new(env, json_string(*a));
    fprintf(m, " %s", *a);
    nargs++;
  }
  fclose(m);
  argtext = buf;
  if ((nargs ? asprintf(&by, "|%zu%s %s", nargs, argtext, line) : asprintf(&by, "%s", line)) < 0)
    abort();
  /* the mounts, and the cache key over the command and them */
  cleanup_json json_t *mounts = json_array();
  struct berth_sha256 *h = berth_sha256_new();
  char mounted[BERTH_DIGEST_STR_LEN];
  int mr = run_mounts(b, in, mounts, staged, h, err);
  berth_sha256_final(h, mounted);
  if (mr < 0)
    return -1;
  cleanup_free char *mtext = berth_json_dumps(mounts), *extra = NULL;
  if (asprintf(&extra, "%s\n%s\n%s", by, mtext, mounted) < 0)
    abort();
  cleanup_free char *key = cache_key(b, "run", extra);
  if (cache_hit(b, key))
    return 0;
  const struct berth_df_flag *netf = berth_df_flag(in, "network");
  const char *net = netf && netf->value ? netf->value
                    : b->opts->network && *b->opts->network ? b->opts->network : "default";
  cleanup_json json_t *body = json_pack("{s:s, s:O, s:O, s:[s], s:s?, s:s?, s:{s:s, s:O}}", "Image", b->id, "Cmd", cmd,
                                        "Env", env, "Entrypoint", "", "WorkingDir", berth_json_str(cfg, "WorkingDir"),
                                        "User", berth_json_str(cfg, "User"), "HostConfig", "NetworkMode", net,
                                        "Mounts", mounts);
  cleanup_free char *ctr = NULL;
  cleanup_strv char **stubs = NULL;
  int code = 0, r;
  if (berth_container_create(b->e, NULL, body, &ctr, NULL, err) < 0)
    return -1;
  say(b, " ---> Running in %s\n", short_id(ctr));
  if (json_array_size(mounts) && mount_stubs(b, ctr, mounts, &stubs, err) < 0) {
    struct berth_rm_opts rm0 = {.force = true};
    cleanup_error berth_error_t ign0 = NULL;
    (void)berth_container_remove(b->e, ctr, &rm0, &ign0);
    return -1;
  }
  struct berth_logs_opts lo = {.follow = true, .tail = -1};
  r = berth_container_start(b->e, ctr, NULL, err);
  if (r == 0)
    r = berth_container_logs(b->e, ctr, &lo, print_output, b, err);
  if (r == 0)
    r = berth_container_wait(b->e, ctr, "not-running", &code, err);
  if (r == 0 && code != 0)
    r = berth_error_set_plain(err, EINVAL, "The command '%s' returned a non-zero code: %d", line, code);
  cleanup_free char *id = NULL;
  if (r == 0 && stubs)
    r = remove_stubs(b, ctr, stubs, err);
  if (r == 0)
    r = berth_ctr_commit_build(b->e, ctr, cfg, by, &id, err);
  struct berth_rm_opts rm = {.force = true, .volumes = true};
  cleanup_error berth_error_t ign = NULL;
  (void)berth_container_remove(b->e, ctr, &rm, &ign);
  say(b, "Removing intermediate container %s\n", short_id(ctr));
  if (r < 0)
    return -1;
  /* the committed image's parent is the step before */
  if (use_image(b, id, err) < 0)
    return -1;
  cache_put(b, key);
  return 0;
}

static int run_step(struct builder *b, const struct berth_df_instruction *in, berth_error_t *err)
{
  char **staged = NULL;
  int r = run_with_mounts(b, in, &staged, err);
  for (char **d = staged; d && *d; d++)
    (void)berth_rm_rf_at(b->e->store->root_fd, *d, NULL);
  berth_strv_free(staged);
  return r;
}

/* ---- stages and steps ---- */

static void say_step(struct builder *b, const struct berth_df_instruction *in)
{
  /* docker shows the instruction as written, its name upper-cased */
  size_t n = strcspn(in->original, " \t");
  cleanup_free char *upper = strndup(in->original, n);
  for (char *c = upper; *c; c++)
    *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
  b->step++;
  say(b, "Step %u/%u : %s%s\n", b->step, b->steps, upper, in->original + n);
  if (!b->tty || b->opts->quiet)
    return;
  /* the terminal's line: " => [N/M] INSTR args", cut to 72 columns */
  free(b->line);
  if (asprintf(&b->line, "[%u/%u] %s%s", b->step, b->steps, upper, in->original + n) < 0)
    abort();
  for (char *c = b->line; *c; c++)
    if (*c == '\n' || *c == '\t')
      *c = ' ';
  if (strlen(b->line) > 72)
    strcpy(b->line + 69, "...");
  b->started = berth_now_ns();
  b->cached = false;
  fprintf(b->out, " => %s", b->line);
  fflush(b->out);
  free(b->captured);
  b->captured = NULL;
  b->capture = open_memstream(&b->captured, &b->captured_len);
}

/* The terminal's line of the step, rewritten with how it ended; a failed
 * step's output follows it. */
static void end_step(struct builder *b, bool ok)
{
  if (!b->tty || b->opts->quiet || !b->line)
    return;
  if (b->capture)
    fclose(b->capture);
  b->capture = NULL;
  fprintf(b->out, "\r\033[K => %s%-76s %5.1fs%s\n", b->cached ? "CACHED " : "", b->line,
          (double)(berth_now_ns() - b->started) / 1e9, ok ? "" : " ERROR");
  if (!ok && b->captured && *b->captured)
    fputs(b->captured, b->out);
  fflush(b->out);
  free(b->line);
  b->line = NULL;
}

/* FROM [--platform=P] IMAGE [AS NAME]: the words of a FROM line. */
static int from_words(struct builder *b, const struct berth_df_instruction *in, char **ret_base, char **ret_name,
                      berth_error_t *err)
{
  cleanup_strv char **w = berth_shell_words(in->args, b->df->escape, b->meta_args, err);
  size_t n = 0;
  if (!w)
    return -1;
  while (w[n])
    n++;
  if (n != 1 && !(n == 3 && !strcasecmp(w[1], "AS")))
    return berth_error_set_plain(err, EINVAL, "FROM requires either one or three arguments");
  for (size_t i = 0; i < in->n_flags; i++)
    if (strcmp(in->flags[i].name, "platform") != 0)
      return berth_error_set_plain(err, EINVAL, "unknown flag: %s", in->flags[i].name);
  if (n == 3) {
    const char *name = w[2];
    bool ok = (name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z';
    for (const char *c = name; *c; c++)
      ok &= ((*c | 0x20) >= 'a' && (*c | 0x20) <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
            *c == '.';
    if (!ok)
      return berth_error_set_plain(err, EINVAL,
                                   "invalid name for build stage: \"%s\", name can't start with a number or contain "
                                   "symbols",
                                   name);
    *ret_name = strdup(name);
    for (char *c = *ret_name; *c; c++)
      *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
  }
  *ret_base = strdup(w[0]);
  return 0;
}

static int step_body(struct builder *b, const struct berth_df_instruction *in, berth_error_t *err);
static int run_triggers(struct builder *b, berth_error_t *err);

/* A pull's progress, as docker's classic builder passes it on: a line for
 * each layer's state. */
static void pull_progress(const struct berth_progress *p, void *arg)
{
  struct builder *b = arg;
  if (p->current && p->total && strcmp(p->status, "Downloading") == 0)
    return;
  if (p->id)
    say(b, "%s: %s\n", p->id, p->status);
  else
    say(b, "%s\n", p->status);
}

static int from_step(struct builder *b, size_t si, berth_error_t *err)
{
  const struct berth_df_instruction *in = &b->df->ins[b->stages[si].first];
  cleanup_free char *base = NULL, *name = NULL;
  say_step(b, in);
  if (from_words(b, in, &base, &name, err) < 0)
    return -1;
  berth_strv_free(b->args);
  b->args = NULL;
  free(b->id);
  b->id = NULL;
  json_decref(b->image);
  b->image = NULL;
  for (size_t i = 0; i < si; i++)
    if (b->stages[i].name && !strcasecmp(b->stages[i].name, base)) {
      if (!b->stages[i].image_id) {
        b->image = scratch_image();
        return 0;
      }
      if (use_image(b, b->stages[i].image_id, err) < 0)
        return -1;
      say(b, " ---> %s\n", short_id(b->id));
      return 0;
    }
  if (!strcasecmp(base, "scratch")) {
    b->image = scratch_image();
    return 0;
  }
  /* a base image the store lacks (or every one, with --pull) comes from its registry */
  cleanup_json json_t *table = berth_images_load(b->e->store, err);
  const char *id = table && !b->opts->pull ? berth_engine_resolve_image(table, base, err) : NULL;
  struct berth_pull_result pr = {0};
  if (!id && table && (b->opts->pull || (*err)->code == ENOENT)) {
    const struct berth_df_flag *platform = berth_df_flag(in, "platform");
    struct berth_pull_opts po = {.platform = platform ? platform->value : NULL, .progress = pull_progress,
                                 .progress_arg = b};
    berth_error_release(err);
    if (berth_image_pull(b->e, base, &po, &pr, err) < 0)
      return -1;
    free(pr.reference);
    id = pr.id;
  }
  if (!id)
    return -1;
  if (use_image(b, id, err) < 0)
    return -1;
  say(b, " ---> %s\n", short_id(b->id));
  return run_triggers(b, err);
}

static int record_step(struct builder *b, const struct berth_df_instruction *in, const char *extra, berth_error_t *err);

/* The base image's ONBUILD triggers run first, in order, and are not
 * passed on (docker's classic builder). */
static int run_triggers(struct builder *b, berth_error_t *err)
{
  json_t *cfg = json_object_get(b->image, "config");
  cleanup_json json_t *triggers = json_incref(json_object_get(cfg, "OnBuild"));
  json_t *t;
  size_t i;
  if (!json_array_size(triggers))
    return 0;
  json_object_set_new(cfg, "OnBuild", json_null());
  say(b, "# Executing %zu build trigger%s\n", json_array_size(triggers), json_array_size(triggers) > 1 ? "s" : "");
  json_array_foreach(triggers, i, t)
  {
    struct berth_dockerfile *df = NULL;
    const char *text = json_string_value(t) ? json_string_value(t) : "";
    int r = berth_dockerfile_parse(text, strlen(text), &df, err);
    if (r == 0 && (!strcmp(df->ins[0].cmd, "from") || !strcmp(df->ins[0].cmd, "onbuild")))
      r = berth_error_set_plain(err, EINVAL, "%s isn't allowed as an ONBUILD trigger", df->ins[0].cmd);
    if (r == 0)
      r = step_body(b, &df->ins[0], err);
    berth_dockerfile_free(df);
    if (r < 0)
      return berth_error_prefix(err, "ONBUILD trigger `%s`", text);
  }
  return 0;
}

/* A config-only step: applied, recorded with an empty layer. */
static int config_step(struct builder *b, const struct berth_df_instruction *in, berth_error_t *err)
{
  cleanup_strv char **vars = scope_vars(b);
  struct berth_build_env env = {.escape = b->df->escape, .vars = vars};
  json_t *cfg = json_object_get(b->image, "config");
  if (!strcmp(in->cmd, "entrypoint"))
    json_object_set_new(cfg, "Cmd", json_null()); /* an ENTRYPOINT resets the inherited CMD */
  if (!strcmp(in->cmd, "maintainer")) {
    cleanup_free char *who = berth_shell_expand(in->args, b->df->escape, vars, err);
    if (!who)
      return -1;
    json_object_set_new(b->image, "author", json_string(who));
  } else if (berth_build_apply(cfg, in, &env, err) < 0) {
    return -1;
  }
  return record_step(b, in, NULL, err);
}

/* The step's image with an empty layer; from the cache when the same
 * instruction gave the same config (and build args) over the same parent. */
static int record_step(struct builder *b, const struct berth_df_instruction *in, const char *extra, berth_error_t *err)
{
  cleanup_free char *cfgtext = berth_json_dumps(json_object_get(b->image, "config")), *by = NULL, *seen = NULL;
  size_t n = strcspn(in->original, " \t"), len = 0;
  cleanup_free char *upper = strndup(in->original, n);
  for (char *c = upper; *c; c++)
    *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
  if (asprintf(&by, "/bin/sh -c #(nop) %s%s", upper, in->original + n) < 0)
    abort();
  /* what the step's image depends on: its config and the build args in scope */
  FILE *m = open_memstream(&seen, &len);
  fprintf(m, "%s\n%s\n", cfgtext, extra ? extra : "");
  for (char **a = b->args; a && *a; a++)
    fprintf(m, "%s\n", *a);
  fclose(m);
  cleanup_free char *key = cache_key(b, by, seen);
  if (cache_hit(b, key))
    return 0;
  if (register_step(b, by, NULL, err) < 0)
    return -1;
  cache_put(b, key);
  return 0;
}

static int step_body(struct builder *b, const struct berth_df_instruction *in, berth_error_t *err)
{
  int r;
  if (!strcmp(in->cmd, "run"))
    r = run_step(b, in, err);
  else if (!strcmp(in->cmd, "copy") || !strcmp(in->cmd, "add"))
    r = copy_step(b, in, in->cmd[0] == 'a', err);
  else if (!strcmp(in->cmd, "arg"))
    r = arg_step(b, in, &b->args, err) < 0 ? -1 : record_step(b, in, NULL, err);
  else if (!strcmp(in->cmd, "from"))
    r = berth_error_set_plain(err, EINVAL, "FROM in the middle of a stage");
  else
    r = config_step(b, in, err);
  if (r < 0)
    return -1;
  say(b, " ---> %s\n", short_id(b->id));
  return 0;
}

static int step(struct builder *b, const struct berth_df_instruction *in, berth_error_t *err)
{
  say_step(b, in);
  int r = step_body(b, in, err);
  end_step(b, r == 0);
  return r;
}

/* Stages, global ARGs, the target and what it needs. */
static int plan(struct builder *b, berth_error_t *err)
{
  struct berth_dockerfile *df = b->df;
  size_t i = 0;
  for (; i < df->n && !strcmp(df->ins[i].cmd, "arg"); i++)
    if (arg_step(b, &df->ins[i], NULL, err) < 0)
      return -1;
  if (i == df->n)
    return berth_error_set_plain(err, EINVAL, "no build stage in current context");
  if (strcmp(df->ins[i].cmd, "from") != 0)
    return berth_error_set_plain(err, EINVAL, "dockerfile parse error on line %u: %s before FROM",
                                 df->ins[i].line, df->ins[i].cmd);
  for (; i < df->n; i++) {
    if (strcmp(df->ins[i].cmd, "from") != 0)
      continue;
    b->stages = realloc(b->stages, (b->n_stages + 1) * sizeof *b->stages);
    if (!b->stages)
      abort();
    struct stage *s = &b->stages[b->n_stages++];
    *s = (struct stage){.first = i, .end = df->n};
    if (b->n_stages > 1)
      s[-1].end = i;
    cleanup_free char *base = NULL, *name = NULL;
    if (from_words(b, &df->ins[i], &base, &name, err) < 0)
      return berth_error_prefix(err, "dockerfile parse error on line %u", df->ins[i].line);
    s->name = name ? name : NULL;
    name = NULL;
  }
  /* the target, then what it needs, back to front */
  size_t target = b->n_stages - 1;
  if (b->opts->target && *b->opts->target) {
    bool found = false;
    for (size_t k = 0; k < b->n_stages; k++)
      if (b->stages[k].name && !strcasecmp(b->stages[k].name, b->opts->target)) {
        target = k;
        found = true;
      }
    if (!found)
      return berth_error_set_plain(err, EINVAL, "target stage \"%s\" could not be found", b->opts->target);
  }
  b->stages[target].needed = true;
  for (size_t k = target + 1; k-- > 0;) {
    if (!b->stages[k].needed)
      continue;
    for (size_t j = b->stages[k].first; j < b->stages[k].end; j++) {
      const struct berth_df_instruction *in = &df->ins[j];
      const struct berth_df_flag *f = berth_df_flag(in, "from");
      cleanup_free char *base = NULL, *name = NULL;
      const char *ref = NULL;
      if (j == b->stages[k].first && from_words(b, in, &base, &name, NULL) == 0)
        ref = base;
      else if (f && f->value && (!strcmp(in->cmd, "copy") || !strcmp(in->cmd, "add")))
        ref = f->value;
      for (size_t d = 0; ref && d < k; d++) {
        char idx[24];
        snprintf(idx, sizeof idx, "%zu", d);
        if ((b->stages[d].name && !strcasecmp(b->stages[d].name, ref)) || (j != b->stages[k].first && !strcmp(idx, ref)))
          b->stages[d].needed = true;
      }
    }
  }
  for (size_t k = 0; k <= target; k++)
    if (b->stages[k].needed)
      b->steps += (unsigned)(b->stages[k].end - b->stages[k].first);
  return (int)target;
}

static int read_dockerfile(const struct berth_build_opts *o, int context, char **ret, size_t *ret_len,
                           berth_error_t *err)
{
  if (o->dockerfile_text) {
    *ret = strndup(o->dockerfile_text, o->dockerfile_len);
    *ret_len = o->dockerfile_len;
    return 0;
  }
  const char *path = o->dockerfile && *o->dockerfile ? o->dockerfile : "Dockerfile";
  int r = path[0] == '/' || context < 0 ? berth_read_file_at(AT_FDCWD, path, ret, ret_len, err)
                                         : berth_read_file_at(context, path, ret, ret_len, err);
  if (r < 0 && (*err)->code == ENOENT) {
    berth_error_release(err);
    return berth_error_set_plain(err, ENOENT, "Cannot locate specified Dockerfile: %s", path);
  }
  return r;
}

/* <Dockerfile>.dockerignore next to the Dockerfile, else the context's
 * .dockerignore: what it leaves out, found once. */
static int load_ignore(struct builder *b, berth_error_t *err)
{
  const char *df = b->opts->dockerfile && *b->opts->dockerfile && !b->opts->dockerfile_text ? b->opts->dockerfile
                                                                                              : "Dockerfile";
  cleanup_free char *specific = NULL, *text = NULL;
  size_t len;
  cleanup_error berth_error_t ign = NULL;
  if (b->context < 0)
    return 0;
  if (asprintf(&specific, "%s.dockerignore", df) < 0)
    abort();
  if (berth_read_file_at(df[0] == '/' ? AT_FDCWD : b->context, specific, &text, &len, &ign) < 0) {
    berth_error_release(&ign);
    if (berth_read_file_at(b->context, ".dockerignore", &text, &len, &ign) < 0)
      return 0;
  }
  struct berth_ignore *ig = berth_ignore_parse(text, err);
  if (!ig)
    return -1;
  b->ignored = berth_ignore_walk(ig, b->context, err);
  berth_ignore_free(ig);
  return b->ignored ? 0 : -1;
}

int berth_image_build(struct berth_engine *e, const struct berth_build_opts *opts, char **ret_id,
                      berth_error_t *err)
{
  struct builder b = {.e = e, .opts = opts, .context = -1, .out = opts->out ? opts->out : stdout, .tty = opts->tty};
  cleanup_free char *text = NULL;
  cleanup_strv char **refs = NULL;
  size_t len = 0;
  int r = -1, target;
  b.used_args = json_object();
  for (char **t = opts->tags; t && *t; t++) {
    char *ref = berth_engine_tag_ref(*t, err);
    if (!ref)
      goto out;
    strv_push(&refs, ref);
  }
  char ctx_name[64] = "";
  if (opts->context_tar >= 0) {
    /* a context on stdin: unpacked beneath the store's root, gone after */
    char rnd[17];
    struct berth_tar_apply_opts ao = {.tee_fd = -1, .plain = true, .no_digest = true};
    berth_random_hex(rnd, sizeof rnd);
    snprintf(ctx_name, sizeof ctx_name, ".staging-build-context-%s", rnd);
    if (mkdirat(e->store->root_fd, ctx_name, 0700) < 0 ||
        (b.context = openat(e->store->root_fd, ctx_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
      berth_error_set(err, errno, "unpack the context");
      goto out;
    }
    if (berth_tar_apply(opts->context_tar, b.context, &ao, NULL, err) < 0) {
      berth_error_prefix(err, "unpack the context");
      goto out;
    }
  } else if (opts->context && (b.context = open(opts->context, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
    berth_error_set(err, errno, "unable to prepare context: path \"%s\" not found", opts->context);
    goto out;
  }
  if (read_dockerfile(opts, b.context, &text, &len, err) < 0 || berth_dockerfile_parse(text, len, &b.df, err) < 0 ||
      load_ignore(&b, err) < 0 || (target = plan(&b, err)) < 0)
    goto out;
  for (size_t si = 0; si <= (size_t)target; si++) {
    if (!b.stages[si].needed)
      continue;
    r = from_step(&b, si, err);
    end_step(&b, r == 0);
    if (r < 0)
      goto out;
    r = -1;
    for (size_t j = b.stages[si].first + 1; j < b.stages[si].end; j++)
      if (step(&b, &b.df->ins[j], err) < 0)
        goto out;
    b.stages[si].image_id = b.id ? strdup(b.id) : NULL;
  }
  if (!b.id) {
    berth_error_set_plain(err, EINVAL, "No image was generated. Is your Dockerfile empty?");
    goto out;
  }
  if (opts->labels) {
    /* --label: the build's own last step */
    json_t *labels = json_object_get(json_object_get(b.image, "config"), "Labels");
    if (!json_is_object(labels))
      json_object_set_new(json_object_get(b.image, "config"), "Labels", labels = json_object());
    for (char **l = opts->labels; *l; l++) {
      const char *eq = strchr(*l, '=');
      cleanup_free char *k = eq ? strndup(*l, (size_t)(eq - *l)) : strdup(*l);
      json_object_set_new(labels, k, json_string(eq ? eq + 1 : ""));
    }
    if (register_step(&b, "/bin/sh -c #(nop) LABEL (--label)", NULL, err) < 0)
      goto out;
  }
  for (char **a = opts->build_args; a && *a; a++) {
    cleanup_free char *name = strndup(*a, strcspn(*a, "="));
    if (!json_object_get(b.used_args, name))
      say(&b, "[Warning] One or more build-args [%s] were not consumed\n", name);
  }
  say(&b, "Successfully built %s\n", short_id(b.id));
  if (b.tty && !opts->quiet)
    fprintf(b.out, " => writing image %s\n", b.id);
  for (char **t = opts->tags; t && *t; t++) {
    if (berth_image_tag(e, b.id, *t, err) < 0)
      goto out;
    cleanup_free char *familiar = berth_engine_familiar(refs[t - opts->tags]);
    say(&b, "Successfully tagged %s\n", familiar);
    if (b.tty && !opts->quiet)
      fprintf(b.out, " => naming to %s\n", refs[t - opts->tags]);
  }
  *ret_id = steal_ptr(&b.id);
  r = 0;
out:
  if (b.context >= 0)
    close(b.context);
  if (*ctx_name)
    (void)berth_rm_rf_at(e->store->root_fd, ctx_name, NULL);
  for (size_t i = 0; i < b.n_stages; i++) {
    free((char *)b.stages[i].name);
    free(b.stages[i].image_id);
  }
  free(b.stages);
  berth_dockerfile_free(b.df);
  berth_strv_free(b.meta_args);
  berth_strv_free(b.ignored);
  berth_strv_free(b.args);
  json_decref(b.used_args);
  json_decref(b.image);
  free(b.id);
  if (b.capture)
    fclose(b.capture);
  free(b.captured);
  free(b.line);
  return r;
}
