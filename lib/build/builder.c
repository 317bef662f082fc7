/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `build`: a Dockerfile run on berth's own containers and store, with the
 * classic builder's steps and output.
 *
 * Every step makes an image whose "parent" is the one before (hidden from
 * `images` unless -a, as docker's intermediate images are):
 * - config-only instructions change the config (config-edit.c) and record an
 *   empty-layer history line;
 * - RUN (build-run.c) runs a container of the current image with the
 *   stage's environment and build arguments, streams its output, and commits
 *   its writable layer;
 * - COPY and ADD (build-copy.c) lay their sources out in a staging directory
 *   (owned root:root unless --chown, modes from --chmod) and add it as a layer.
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


void bld_say(struct builder *b, const char *fmt, ...)
{
  va_list ap;
  if (b->opts->quiet || b->tty)
    return;
  va_start(ap, fmt);
  vfprintf(b->out, fmt, ap);
  va_end(ap);
  fflush(b->out);
}

const char *bld_short_id(const char *id)
{
  static char buf[13];
  snprintf(buf, sizeof buf, "%s", id && !strncmp(id, "sha256:", 7) ? id + 7 : id ? id : "");
  return buf;
}

void bld_strv_push(char ***v, char *s)
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
const char *bld_strv_get(char *const *v, const char *name)
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
char **bld_scope_vars(struct builder *b)
{
  char **v = NULL;
  json_t *env = json_object_get(json_object_get(b->image, "config"), "Env"), *e;
  size_t i;
  for (char **a = b->args; a && *a; a++)
    bld_strv_push(&v, strdup(*a));
  json_array_foreach(env, i, e) bld_strv_push(&v, strdup(json_string_value(e)));
  if (!v)
    v = calloc(1, sizeof *v);
  return v;
}

/* ARG NAME[=default] ...: each in scope with the build arg's value, else
 * the default (expanded), else a pre-FROM ARG's value of that name. */
static int arg_step(struct builder *b, const struct berth_df_instruction *in, char ***scope, berth_error_t *err)
{
  cleanup_strv char **vars = scope ? bld_scope_vars(b) : NULL;
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
      v = bld_strv_get(b->meta_args, name);
    else if (!given)
      v = def;
    char *entry = NULL;
    if (v && asprintf(&entry, "%s=%s", name, v) < 0)
      abort();
    if (entry)
      bld_strv_push(scope ? scope : &b->meta_args, entry);
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
int bld_register_step(struct builder *b, const char *created_by, const char *diff_id, berth_error_t *err)
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
int bld_use_image(struct builder *b, const char *id, berth_error_t *err)
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

char *bld_cache_key(struct builder *b, const char *what, const char *extra)
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
bool bld_cache_hit(struct builder *b, const char *key)
{
  cleanup_close int dir = b->opts->no_cache ? -1 : cache_dir(b);
  cleanup_free char *id = NULL;
  size_t len;
  cleanup_error berth_error_t ign = NULL;
  if (dir < 0 || berth_read_file_at(dir, key, &id, &len, &ign) < 0 || !berth_digest_is_valid(id))
    return false;
  if (bld_use_image(b, id, &ign) < 0)
    return false;
  bld_say(b, " ---> Using cache\n");
  b->cached = true;
  return true;
}

void bld_cache_put(struct builder *b, const char *key)
{
  cleanup_close int dir = cache_dir(b);
  cleanup_error berth_error_t ign = NULL;
  if (dir >= 0)
    (void)berth_write_file_replace(dir, key, b->id, strlen(b->id), 0600, &ign);
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
  bld_say(b, "Step %u/%u : %s%s\n", b->step, b->steps, upper, in->original + n);
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
    bld_say(b, "%s: %s\n", p->id, p->status);
  else
    bld_say(b, "%s\n", p->status);
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
      if (bld_use_image(b, b->stages[i].image_id, err) < 0)
        return -1;
      bld_say(b, " ---> %s\n", bld_short_id(b->id));
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
  if (bld_use_image(b, id, err) < 0)
    return -1;
  bld_say(b, " ---> %s\n", bld_short_id(b->id));
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
  bld_say(b, "# Executing %zu build trigger%s\n", json_array_size(triggers), json_array_size(triggers) > 1 ? "s" : "");
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
  cleanup_strv char **vars = bld_scope_vars(b);
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
  cleanup_free char *key = bld_cache_key(b, by, seen);
  if (bld_cache_hit(b, key))
    return 0;
  if (bld_register_step(b, by, NULL, err) < 0)
    return -1;
  bld_cache_put(b, key);
  return 0;
}

static int step_body(struct builder *b, const struct berth_df_instruction *in, berth_error_t *err)
{
  int r;
  if (!strcmp(in->cmd, "run"))
    r = bld_run_step(b, in, err);
  else if (!strcmp(in->cmd, "copy") || !strcmp(in->cmd, "add"))
    r = bld_copy_step(b, in, in->cmd[0] == 'a', err);
  else if (!strcmp(in->cmd, "arg"))
    r = arg_step(b, in, &b->args, err) < 0 ? -1 : record_step(b, in, NULL, err);
  else if (!strcmp(in->cmd, "from"))
    r = berth_error_set_plain(err, EINVAL, "FROM in the middle of a stage");
  else
    r = config_step(b, in, err);
  if (r < 0)
    return -1;
  bld_say(b, " ---> %s\n", bld_short_id(b->id));
  return 0;
}

static int step(struct builder *b, const struct berth_df_instruction *in, berth_error_t *err)
{
  say_step(b, in);
  int r = step_body(b, in, err);
  end_step(b, r == 0);
  return r;
}

/* Stage k uses ref (a stage name, or by_index also its number): that stage
 * is built too. */
static void need_stage(struct builder *b, size_t k, const char *ref, bool by_index)
{
  for (size_t d = 0; ref && d < k; d++) {
    char idx[24];
    snprintf(idx, sizeof idx, "%zu", d);
    if ((b->stages[d].name && !strcasecmp(b->stages[d].name, ref)) || (by_index && !strcmp(idx, ref)))
      b->stages[d].needed = true;
  }
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
      if (j == b->stages[k].first && from_words(b, in, &base, &name, NULL) == 0)
        need_stage(b, k, base, false);
      else if (f && f->value && (!strcmp(in->cmd, "copy") || !strcmp(in->cmd, "add")))
        need_stage(b, k, f->value, true);
      /* RUN --mount=...,from=STAGE */
      for (size_t m = 0; !strcmp(in->cmd, "run") && m < in->n_flags; m++) {
        const char *v = in->flags[m].value;
        if (strcmp(in->flags[m].name, "mount") != 0 || !v)
          continue;
        for (const char *p = v; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
          size_t n = strcspn(p, ",");
          if (n > 5 && !strncasecmp(p, "from=", 5)) {
            cleanup_free char *ref = NULL;
            if (asprintf(&ref, "%.*s", (int)(n - 5), p + 5) < 0)
              abort();
            need_stage(b, k, ref, true);
          }
        }
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
    bld_strv_push(&refs, ref);
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
    if (bld_register_step(&b, "/bin/sh -c #(nop) LABEL (--label)", NULL, err) < 0)
      goto out;
  }
  for (char **a = opts->build_args; a && *a; a++) {
    cleanup_free char *name = strndup(*a, strcspn(*a, "="));
    if (!json_object_get(b.used_args, name))
      bld_say(&b, "[Warning] One or more build-args [%s] were not consumed\n", name);
  }
  bld_say(&b, "Successfully built %s\n", bld_short_id(b.id));
  if (b.tty && !opts->quiet)
    fprintf(b.out, " => writing image %s\n", b.id);
  for (char **t = opts->tags; t && *t; t++) {
    if (berth_image_tag(e, b.id, *t, err) < 0)
      goto out;
    cleanup_free char *familiar = berth_engine_familiar(refs[t - opts->tags]);
    bld_say(&b, "Successfully tagged %s\n", familiar);
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
