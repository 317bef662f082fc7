/* SPDX-License-Identifier: GPL-2.0-or-later */
/* docker logs: read the container's json-file log (written by its monitor,
 * cmd/berth-monitor/log.c) across its rotated files with logread.c, filter
 * by time, and format each entry as docker's daemon does: "[TIME ][ATTRS ]LOG"
 * with TIME in RFC3339NanoFixed and ATTRS the entry's attrs as sorted
 * k=v,k=v (query-escaped).  -f follows while the container runs and ends with
 * the run: the monitor writes the last entries before it records the exit in
 * state.json, and a change of that file is what ends the follow. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BERTH_LOG_DOMAIN "logs"
#include <berth/log.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timestamp.h"
#include "base/timeutil.h"
#include "engine/engine-internal.h"
#include "engine/logread.h"
#include "engine/logs.h"

struct logs_ctx {
  struct berth_engine *e;
  const struct berth_logs_opts *o;
  berth_output_fn out;
  void *data;
  char *id;
  int64_t started_at; /* of the run being followed */
  char *line;         /* the formatted entry */
  size_t cap;
  berth_error_t out_err;
};

/* Go's url.QueryEscape. */
static void query_escape(FILE *f, const char *s)
{
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-_.~", *p))
      fputc(*p, f);
    else if (*p == ' ')
      fputc('+', f);
    else
      fprintf(f, "%%%02X", *p);
  }
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* "k=v,k2=v2" sorted by key, then a space (just the space when none). */
static void write_attrs(FILE *f, const json_t *attrs)
{
  size_t n = json_object_size(attrs), i = 0;
  cleanup_free const char **keys = calloc(n + 1, sizeof(char *));
  const char *k;
  json_t *v;
  if (!keys)
    abort();
  json_object_foreach((json_t *)attrs, k, v) keys[i++] = k;
  qsort(keys, n, sizeof(char *), cmp_str);
  for (i = 0; i < n; i++) {
    const char *s = json_string_value(json_object_get(attrs, keys[i]));
    if (i)
      fputc(',', f);
    query_escape(f, keys[i]);
    fputc('=', f);
    query_escape(f, s ? s : "");
  }
  fputc(' ', f);
}

static int emit(struct logs_ctx *c, int stream, int64_t ts, const json_t *attrs, const char *log, size_t len,
                berth_error_t *err)
{
  size_t n = 0;
  FILE *f = open_memstream(&c->line, &n);
  char when[64];
  if (!f)
    abort();
  if (c->o->timestamps) {
    berth_format_rfc3339_fixed(ts, true, when);
    fprintf(f, "%s ", when);
  }
  if (c->o->details)
    write_attrs(f, attrs);
  fwrite(log, 1, len, f);
  fclose(f);
  int rc = c->out(c->data, stream, c->line, n, err);
  free(c->line);
  c->line = NULL;
  return rc < 0 ? -1 : 0;
}

static int on_line(void *data, char *line, size_t len, berth_error_t *err)
{
  struct logs_ctx *c = data;
  json_error_t jerr;
  cleanup_json json_t *entry = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
  int64_t ts = 0;
  const char *time_s = berth_json_str(entry, "time"), *stream = berth_json_str(entry, "stream");
  json_t *log = json_object_get(entry, "log");
  if (!json_is_string(log) || !time_s || berth_parse_rfc3339(time_s, &ts, NULL) < 0) {
    berth_debug("skipping a log line that is not a json-file entry: %s", jerr.text);
    return 0;
  }
  if (c->o->since && ts < c->o->since)
    return 0;
  if (c->o->until && ts > c->o->until)
    return 1;
  return emit(c, stream && strcmp(stream, "stderr") == 0 ? 2 : 1, ts, json_object_get(entry, "attrs"),
              json_string_value(log), json_string_length(log), err);
}

/* Still the run we follow?  Reloading also notices a monitor that died. */
static bool run_ended(void *data, const char *name)
{
  struct logs_ctx *c = data;
  struct berth_ctr ctr;
  bool ended = true;
  if (name && strcmp(name, "state.json") != 0)
    return false;
  if (berth_ctr_load_id(c->e, c->id, &ctr, NULL) == 0)
    ended = (ctr.st.status != BERTH_STATUS_RUNNING && ctr.st.status != BERTH_STATUS_PAUSED) ||
            ctr.st.started_at != c->started_at;
  berth_ctr_clear(&ctr);
  return ended;
}

static void idle(void *data)
{
  struct logs_ctx *c = data;
  berth_error_t err = NULL;
  if (c->out(c->data, 1, NULL, 0, &err) < 0)
    berth_error_release(&err);
}

static int read_log(struct logs_ctx *c, int dirfd, bool follow, int pidfd, berth_error_t *err)
{
  struct berth_logread r;
  char name[128];
  struct berth_logfollow f = {.check = run_ended, .extra_fd = pidfd, .deadline_ns = c->o->until, .idle = idle,
                              .data = c};
  snprintf(name, sizeof(name), "%s-json.log", c->id);
  if (berth_logread_open(&r, dirfd, name, c->o->tail, err) < 0)
    return -1;
  int rc = berth_logread_run(&r, on_line, c, follow ? &f : NULL, err);
  berth_logread_clear(&r);
  return rc;
}

int berth_container_logs(struct berth_engine *e, const char *name, const struct berth_logs_opts *opts,
                         berth_output_fn out, void *data, berth_error_t *err)
{
  struct berth_ctr ctr;
  struct logs_ctx c = {.e = e, .o = opts, .out = out, .data = data};
  cleanup_close int pidfd = -1;
  int rc = -1;
  if (berth_ctr_load(e, name, &ctr, err) < 0)
    goto out;
  const char *driver = berth_json_str(json_object_get(json_object_get(ctr.rec, "HostConfig"), "LogConfig"), "Type");
  if (driver && strcmp(driver, "none") == 0) {
    berth_error_set_plain(err, ENOTSUP, "configured logging driver does not support reading");
    goto out;
  }
  bool running = ctr.st.status == BERTH_STATUS_RUNNING || ctr.st.status == BERTH_STATUS_PAUSED;
  bool follow = opts->follow && running && (!opts->until || opts->until > berth_now_ns());
  if (follow && ctr.st.pid > 0)
    pidfd = (int)syscall(SYS_pidfd_open, ctr.st.pid, 0);
  c.id = ctr.id;
  c.started_at = ctr.st.started_at;
  rc = read_log(&c, ctr.dirfd, follow, pidfd, err);
out:
  berth_ctr_clear(&ctr);
  return rc;
}

/* ---- attrs for the monitor (spec.c puts them in an annotation) ---- */

static void add_named(json_t *out, const char *list, const json_t *from)
{
  cleanup_free char *copy = strdup(list ? list : "");
  char *save = NULL;
  for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save))
    if (json_is_string(json_object_get(from, k)))
      json_object_set(out, k, json_object_get(from, k));
}

static int add_matching(json_t *out, const char *re_text, const json_t *from)
{
  regex_t re;
  const char *k;
  json_t *v;
  if (!re_text || !*re_text)
    return 0;
  if (regcomp(&re, re_text, REG_EXTENDED | REG_NOSUB) != 0)
    return -1;
  json_object_foreach((json_t *)from, k, v) if (json_is_string(v) && regexec(&re, k, 0, NULL, 0) == 0)
      json_object_set(out, k, v);
  regfree(&re);
  return 0;
}

char *berth_log_attrs_json(const json_t *log_opts, const json_t *labels, const json_t *env)
{
  cleanup_json json_t *out = json_object(), *envmap = json_object();
  json_t *v;
  size_t i;
  json_array_foreach(env, i, v) {
    const char *kv = json_string_value(v), *eq = kv ? strchr(kv, '=') : NULL;
    if (eq) {
      cleanup_free char *k = strndup(kv, (size_t)(eq - kv));
      json_object_set_new(envmap, k, json_string(eq + 1));
    }
  }
  add_named(out, berth_json_str(log_opts, "labels"), labels);
  if (add_matching(out, berth_json_str(log_opts, "labels-regex"), labels) < 0)
    return NULL;
  add_named(out, berth_json_str(log_opts, "env"), envmap);
  if (add_matching(out, berth_json_str(log_opts, "env-regex"), envmap) < 0)
    return NULL;
  return json_object_size(out) ? json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}
