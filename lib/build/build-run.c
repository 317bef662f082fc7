/* SPDX-License-Identifier: GPL-2.0-or-later */
/* RUN (see builder.c): a container of the current image with the stage's
 * environment and RUN's mounts, its writable layer committed. */
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

/* The command of RUN: the exec form, or the stage's shell with the line. */
static json_t *run_command(struct builder *b, const struct berth_df_instruction *in, const char *script)
{
  if (in->json)
    return berth_json_strv(in->json);
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
      bld_strv_push(&fields, strndup(p, n));
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

/* The agent socket of --ssh ID (ID, or ID=SOCKET; "default" alone is the
 * client's $SSH_AUTH_SOCK); NULL with ENOENT when none was forwarded. */
static char *ssh_socket(struct builder *b, const char *id, berth_error_t *err)
{
  for (char **s = b->opts->ssh; s && *s; s++) {
    size_t n = strcspn(*s, "=");
    if (strlen(id) != n || strncmp(*s, id, n) != 0)
      continue;
    const char *path = (*s)[n] ? *s + n + 1 : strcmp(id, "default") == 0 ? getenv("SSH_AUTH_SOCK") : NULL;
    struct stat st;
    if (!path || !*path)
      return berth_error_set_plain(err, EINVAL, "--ssh %s: no socket given (and no $SSH_AUTH_SOCK)", *s), NULL;
    if (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
      return berth_error_set_plain(err, EINVAL,
                                   "--ssh %s: %s is not an agent socket (keys are not read: ssh-add them to an agent)",
                                   *s, path),
             NULL;
    return realpath(path, NULL);
  }
  berth_error_set_plain(err, ENOENT, "no SSH key %s forwarded from the client (build --ssh %s)", id, id);
  return NULL;
}

/* A secret's content for env= (1 MiB at most, kept as it is). */
static char *secret_text(const char *file, berth_error_t *err)
{
  char *text = NULL;
  size_t len = 0;
  if (berth_read_file_at(AT_FDCWD, file, &text, &len, err) < 0)
    return NULL;
  if (len > (1 << 20) || memchr(text, '\0', len)) {
    free(text);
    return berth_error_set_plain(err, EINVAL, "secret %s: not text of 1 MiB at most, cannot be an environment variable",
                                 file),
           NULL;
  }
  return text;
}

/* A copy of the tree at src in a staging dir of the store (its name
 * returned; the copy is its "src"): what a bind of a stage, an image or a
 * writable bind of the context mounts, so that writes to it are discarded
 * with the step (BuildKit's "written data will be discarded"). */
static char *stage_copy(struct builder *b, int src, berth_error_t *err)
{
  char rnd[17], *name = NULL;
  int64_t bytes;
  berth_random_hex(rnd, sizeof rnd);
  if (asprintf(&name, ".staging-build-mount-%s", rnd) < 0)
    abort();
  cleanup_close int dir = mkdirat(b->e->store->root_fd, name, 0700) < 0
                              ? -1 : openat(b->e->store->root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct berth_tar_apply_opts ao = {.plain = true};
  int r = dir < 0 ? berth_error_set(err, errno, "RUN --mount: staging")
                  : berth_copy_tree(src, "src", dir, &ao, NULL, &bytes, err);
  if (r < 0) {
    (void)berth_rm_rf_at(b->e->store->root_fd, name, NULL);
    free(name);
    name = NULL;
  }
  return name;
}

/* A copy of `source` of a stage's (or an image's) filesystem (see
 * stage_copy), hashed into h for the cache. */
static char *stage_from(struct builder *b, const char *from, const char *source, struct berth_sha256 *h,
                        berth_error_t *err)
{
  struct from_root fr = {.root = {.fd = -1, .lock_fd = -1}, .c = {.dirfd = -1}};
  char *name = NULL;
  int r = bld_open_from(b, from, &fr, err);
  cleanup_close int src = r < 0 ? -1 : berth_open_in_root(fr.root.fd, source, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (r == 0 && src < 0)
    r = berth_error_set_plain(err, ENOENT, "RUN --mount: %s not found in %s", source, from);
  if (r == 0) {
    const char *image = berth_json_str(fr.c.rec, "Image");
    berth_sha256_update(h, image, strlen(image));
    r = bld_hash_tree(src, source, NULL, NULL, h, err);
  }
  if (r == 0)
    name = stage_copy(b, src, err);
  bld_close_from(b, &fr);
  return name;
}

/* The bind source of a staged copy. */
static char *staged_source(struct builder *b, char ***staged, char *dir)
{
  char *path = NULL;
  bld_strv_push(staged, dir);
  if (asprintf(&path, "%s/%s/src", b->e->store->root, dir) < 0)
    abort();
  return path;
}

static bool key_in(const char *const *keys, const char *field, size_t n)
{
  for (; *keys; keys++)
    if (strlen(*keys) == n && !strncasecmp(field, *keys, n))
      return true;
  return false;
}

/* BuildKit's keys of a --mount, and those it also takes without a value:
 * any other is an error, never passed on as a mount option. */
static int check_mount_keys(char *const *kv, berth_error_t *err)
{
  static const char *const valued[] = {"type", "from", "source", "src", "target", "dst", "destination", "id",
                                       "sharing", "mode", "uid", "gid", "size", "tmpfs-size", "env", NULL};
  static const char *const flags[] = {"readonly", "ro", "readwrite", "rw", "required", NULL};
  for (char *const *f = kv; f && *f; f++) {
    size_t n = strcspn(*f, "=");
    bool flag = key_in(flags, *f, n);
    if (!flag && !key_in(valued, *f, n))
      return berth_error_set_plain(err, EINVAL, "unexpected key '%.*s' in '%s'", (int)n, *f, *f);
    if (!flag && !(*f)[n])
      return berth_error_set_plain(err, EINVAL, "invalid field '%s' must be a key=value pair", *f);
  }
  return 0;
}

/* The step's mounts: those that are part of its cache key in `mounts`;
 * secrets and SSH agents, which are not (BuildKit's rule), in `volatile`,
 * with the variables they set in `env`. */
static int run_mounts(struct builder *b, const struct berth_df_instruction *in, json_t *mounts, json_t *volatile_mounts,
                      json_t *env, char ***staged, struct berth_sha256 *h, berth_error_t *err)
{
  unsigned n_ssh = 0;
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
      bld_strv_push(&kv, strndup(p, n));
      p += n + (p[n] == ',');
    }
    if (check_mount_keys(kv, err) < 0)
      return -1;
    const char *type = mount_field(kv, (const char *const[]){"type", NULL});
    const char *target = mount_field(kv, (const char *const[]){"target", "dst", "destination", NULL});
    const char *source = mount_field(kv, (const char *const[]){"source", "src", NULL});
    bool rw = mount_flag(kv, (const char *const[]){"rw", "readwrite", NULL});
    if (!type)
      type = "bind";
    if (!strcmp(type, "secret")) {
      const char *id = mount_field(kv, (const char *const[]){"id", NULL});
      const char *var = mount_field(kv, (const char *const[]){"env", NULL});
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
      if (var) { /* as an environment variable, and a file only when a target is given too */
        cleanup_free char *text = secret_text(file, err), *kvs = NULL;
        if (!text || asprintf(&kvs, "%s=%s", var, text) < 0)
          return -1;
        json_array_append_new(env, json_string(kvs));
        if (!target)
          continue;
      }
      if (asprintf(&dst, "/run/secrets/%s", id) < 0)
        abort();
      json_array_append_new(volatile_mounts, json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source", file,
                                                       "Target", target ? target : dst, "ReadOnly", true));
      continue;
    }
    if (!strcmp(type, "ssh")) { /* the client's agent socket, and SSH_AUTH_SOCK naming it */
      const char *id = mount_field(kv, (const char *const[]){"id", NULL});
      cleanup_free char *sock = ssh_socket(b, id ? id : "default", err), *dst = NULL;
      if (!sock) {
        if ((*err)->code != ENOENT || mount_flag(kv, (const char *const[]){"required", NULL}))
          return -1;
        berth_error_release(err);
        continue;
      }
      if (!target && asprintf(&dst, "/run/buildkit/ssh_agent.%u", n_ssh) < 0)
        abort();
      n_ssh++;
      json_array_append_new(volatile_mounts, json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source", sock,
                                                       "Target", target ? target : dst, "ReadOnly", false));
      cleanup_free char *var = NULL;
      if (asprintf(&var, "SSH_AUTH_SOCK=%s", target ? target : dst) < 0)
        abort();
      json_array_append_new(env, json_string(var));
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
      cleanup_free char *path = staged_source(b, staged, dir);
      json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source", path, "Target", target,
                                              "ReadOnly", !rw));
    } else {
      if (b->context < 0)
        return berth_error_set_plain(err, EINVAL, "RUN --mount=type=bind: no build context");
      /* resolved inside the context, as a COPY source is */
      cleanup_free char *rel = bld_context_path(source ? source : ".", err);
      if (!rel)
        return -1;
      cleanup_close int fd = berth_open_in_root(b->context, rel, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
      char proc[64], path[PATH_MAX];
      snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
      ssize_t n = fd < 0 ? -1 : readlink(proc, path, sizeof path - 1);
      if (n < 0 || bld_is_ignored(b->ignored, rel))
        return berth_error_set_plain(err, ENOENT, "RUN --mount: %s not found in the build context", source ? source : ".");
      path[n] = '\0';
      if (bld_hash_tree(fd, rel, b->ignored, rel, h, err) < 0)
        return -1;
      /* writable: a copy, the context itself is never written */
      cleanup_free char *copy = NULL;
      if (rw) {
        char *dir = stage_copy(b, fd, err);
        if (!dir)
          return -1;
        copy = staged_source(b, staged, dir);
      }
      json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source", copy ? copy : path,
                                              "Target", target, "ReadOnly", !rw));
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
        bld_strv_push(ret, strdup(path + 1));
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
  /* a here-document alone is the script; after a command (`python3 <<EOF`),
   * the shell gets the line and the documents as written, as BuildKit does */
  cleanup_free char *with_docs = NULL;
  const char *script = in->n_heredocs && !strncmp(in->args, "<<", 2) ? in->heredocs[0].content : in->args;
  if (in->n_heredocs && script == in->args) {
    size_t len = 0;
    FILE *m = open_memstream(&with_docs, &len);
    if (!m)
      abort();
    fprintf(m, "%s\n", in->args);
    for (size_t h = 0; h < in->n_heredocs; h++)
      fprintf(m, "%s%s\n", in->heredocs[h].content, in->heredocs[h].name);
    fclose(m);
    script = with_docs;
  }
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
  cleanup_json json_t *mounts = json_array(), *volatile_mounts = json_array();
  struct berth_sha256 *h = berth_sha256_new();
  char mounted[BERTH_DIGEST_STR_LEN];
  int mr = run_mounts(b, in, mounts, volatile_mounts, env, staged, h, err);
  berth_sha256_final(h, mounted);
  if (mr < 0)
    return -1;
  cleanup_free char *mtext = berth_json_dumps(mounts), *extra = NULL;
  json_array_extend(mounts, volatile_mounts);
  if (asprintf(&extra, "%s\n%s\n%s", by, mtext, mounted) < 0)
    abort();
  cleanup_free char *key = bld_cache_key(b, "run", extra);
  if (bld_cache_hit(b, key))
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
  bld_say(b, " ---> Running in %s\n", bld_short_id(ctr));
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
  bld_say(b, "Removing intermediate container %s\n", bld_short_id(ctr));
  if (r < 0)
    return -1;
  /* the committed image's parent is the step before */
  if (bld_use_image(b, id, err) < 0)
    return -1;
  bld_cache_put(b, key);
  return 0;
}

int bld_run_step(struct builder *b, const struct berth_df_instruction *in, berth_error_t *err)
{
  char **staged = NULL;
  int r = run_with_mounts(b, in, &staged, err);
  for (char **d = staged; d && *d; d++)
    (void)berth_rm_rf_at(b->e->store->root_fd, *d, NULL);
  berth_strv_free(staged);
  return r;
}

