/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The instructions that only change an image's config (CMD, ENTRYPOINT,
 * ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, SHELL, STOPSIGNAL, USER,
 * VOLUME, WORKDIR), as BuildKit's dispatchers apply them: the builder's
 * steps, and `import --change` / `commit --change`, which docker parses as
 * Dockerfile lines expanded with the config's own Env. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "build/build.h"

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* The words of s split at unquoted blanks, quotes and escapes kept for the
 * expansion that follows (BuildKit's parseWords). */
char **berth_build_raw_words(const char *s, char esc)
{
  size_t n = 0;
  char **out = calloc(strlen(s) / 2 + 2, sizeof *out);
  if (!out)
    abort();
  while (*s) {
    while (is_blank(*s))
      s++;
    if (!*s)
      break;
    const char *start = s;
    char quote = 0;
    for (; *s && (quote || !is_blank(*s)); s++) {
      if (*s == esc && s[1] && quote != '\'')
        s++;
      else if (quote && *s == quote)
        quote = 0;
      else if (!quote && (*s == '"' || *s == '\''))
        quote = *s;
    }
    out[n++] = strndup(start, (size_t)(s - start));
  }
  return out;
}

static json_t *object_in(json_t *cfg, const char *key)
{
  json_t *o = json_object_get(cfg, key);
  if (!json_is_object(o))
    json_object_set_new(cfg, key, o = json_object());
  return o;
}

static void set_env(json_t *cfg, const char *key, const char *value)
{
  json_t *env = json_object_get(cfg, "Env");
  cleanup_free char *entry = NULL;
  if (asprintf(&entry, "%s=%s", key, value) < 0)
    abort();
  if (!json_is_array(env))
    json_object_set_new(cfg, "Env", env = json_array());
  berth_json_env_set(env, entry);
}

/* ENV and LABEL: "k=v k2=v2", or the legacy "k v with spaces"; names and
 * values expanded with the environment before the instruction. */
static int name_values(json_t *cfg, const char *what, const char *args, const struct berth_build_env *env,
                       berth_error_t *err)
{
  cleanup_strv char **words = berth_build_raw_words(args, env->escape);
  bool is_env = !strcmp(what, "ENV");
  if (!words[0])
    return berth_error_set_plain(err, EINVAL, "%s requires at least one argument", what);
  if (!strchr(words[0], '=')) {
    if (!words[1])
      return berth_error_set_plain(err, EINVAL, "%s must have two arguments", what);
    const char *rest = strstr(args, words[0]) + strlen(words[0]);
    while (is_blank(*rest))
      rest++;
    cleanup_free char *k = berth_shell_expand(words[0], env->escape, env->vars, err);
    cleanup_free char *v = k ? berth_shell_expand(rest, env->escape, env->vars, err) : NULL;
    if (!v)
      return -1;
    if (is_env)
      set_env(cfg, k, v);
    else
      json_object_set_new(object_in(cfg, "Labels"), k, json_string(v));
    return 0;
  }
  for (size_t i = 0; words[i]; i++) {
    char *eq = strchr(words[i], '=');
    if (!eq)
      return berth_error_set_plain(err, EINVAL, "Syntax error - can't find = in \"%s\". Must be of the form: name=value",
                                   words[i]);
    *eq = '\0';
    cleanup_free char *k = berth_shell_expand(words[i], env->escape, env->vars, err);
    cleanup_free char *v = k ? berth_shell_expand(eq + 1, env->escape, env->vars, err) : NULL;
    if (!v)
      return -1;
    if (!*k)
      return berth_error_set_plain(err, EINVAL, "%s names can not be blank", what);
    if (is_env)
      set_env(cfg, k, v);
    else
      json_object_set_new(object_in(cfg, "Labels"), k, json_string(v));
  }
  return 0;
}

static int expose(json_t *cfg, const char *args, const struct berth_build_env *env, berth_error_t *err)
{
  cleanup_strv char **words = berth_shell_words(args, env->escape, env->vars, err);
  if (!words)
    return -1;
  for (size_t i = 0; words[i]; i++) {
    char *slash = strchr(words[i], '/');
    const char *proto = slash ? slash + 1 : "tcp";
    char *end;
    long lo, hi;
    if (slash)
      *slash = '\0';
    lo = strtol(words[i], &end, 10);
    hi = lo;
    if (*end == '-')
      hi = strtol(end + 1, &end, 10);
    if (end == words[i] || *end || lo < 1 || hi > 65535 || hi < lo ||
        (strcasecmp(proto, "tcp") && strcasecmp(proto, "udp") && strcasecmp(proto, "sctp")))
      return berth_error_set_plain(err, EINVAL, "invalid containerPort: %s", words[i]);
    for (long p = lo; p <= hi; p++) {
      char key[32];
      snprintf(key, sizeof key, "%ld/%s", p, proto);
      for (char *c = key; *c; c++)
        *c = (char)tolower((unsigned char)*c);
      json_object_set_new(object_in(cfg, "ExposedPorts"), key, json_object());
    }
  }
  return 0;
}

/* A HEALTHCHECK flag's value into hc (BuildKit's parseOptInterval and the
 * --retries rules); zero values stay out, as docker omits them. */
static int health_flag(json_t *hc, const struct berth_df_flag *f, berth_error_t *err)
{
  static const struct {
    const char *flag, *key;
  } flags[] = {{"interval", "Interval"},
               {"timeout", "Timeout"},
               {"start-period", "StartPeriod"},
               {"start-interval", "StartInterval"},
               {"retries", "Retries"}};
  int64_t v = 0;
  size_t i;
  for (i = 0; i < sizeof flags / sizeof *flags; i++)
    if (!strcmp(flags[i].flag, f->name))
      break;
  if (i == sizeof flags / sizeof *flags)
    return berth_error_set_plain(err, EINVAL, "Unknown flag: %s", f->name);
  if (!f->value)
    return berth_error_set_plain(err, EINVAL, "Missing a value on flag: %s", f->name);
  if (!*f->value)
    return 0;
  if (!strcmp(flags[i].key, "Retries")) {
    char *end = NULL;
    errno = 0;
    v = strtoll(f->value, &end, 10);
    if (errno || *end || v > INT32_MAX || v < INT32_MIN)
      return berth_error_set_plain(err, EINVAL, "strconv.ParseInt: parsing \"%s\": %s", f->value,
                                   errno || !*end ? "value out of range" : "invalid syntax");
    if (v < 0)
      return berth_error_set_plain(err, EINVAL, "--retries cannot be negative (%lld)", (long long)v);
  } else {
    if (berth_parse_go_duration(f->value, &v, err) < 0)
      return -1;
    if (v != 0 && v < 1000000)
      return berth_error_set_plain(err, EINVAL, "Interval \"%s\" cannot be less than 1ms", flags[i].flag);
  }
  if (v != 0)
    json_object_set_new(hc, flags[i].key, json_integer(v));
  return 0;
}

/* HEALTHCHECK [flags] CMD command | NONE: the JSON form is ["CMD", ...],
 * the shell form ["CMD-SHELL", "the line"]. */
static int healthcheck(json_t *cfg, const struct berth_df_instruction *in, berth_error_t *err)
{
  cleanup_json json_t *hc = json_object();
  const char *p = in->args;
  size_t n = strcspn(p, " \t");
  const char *rest = p + n;
  while (is_blank(*rest))
    rest++;
  if (n == 4 && !strncasecmp(p, "NONE", 4)) {
    if (*rest || in->n_flags)
      return berth_error_set_plain(err, EINVAL, "HEALTHCHECK NONE takes no arguments");
    return json_object_set_new(cfg, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
  }
  if (n != 3 || strncasecmp(p, "CMD", 3) != 0)
    return berth_error_set_plain(err, EINVAL, "Unknown type \"%.*s\" in HEALTHCHECK (try CMD)", (int)n, p);
  for (size_t i = 0; i < in->n_flags; i++)
    if (health_flag(hc, &in->flags[i], err) < 0)
      return -1;
  json_t *words = *rest == '[' ? json_loads(rest, 0, NULL) : NULL;
  bool strings = json_is_array(words);
  size_t i;
  json_t *v;
  json_array_foreach(words, i, v) strings &= json_is_string(v);
  if (words && !strings) {
    json_decref(words);
    words = NULL;
  }
  if (words && json_array_size(words) > 0) {
    json_array_insert_new(words, 0, json_string("CMD"));
    json_object_set_new(hc, "Test", words);
  } else if (*rest && !words) {
    json_object_set_new(hc, "Test", json_pack("[s,s]", "CMD-SHELL", rest));
  } else {
    json_decref(words);
    return berth_error_set_plain(err, EINVAL, "missing command after HEALTHCHECK CMD");
  }
  return json_object_set(cfg, "Healthcheck", hc);
}

/* CMD, ENTRYPOINT: the exec form as written, the shell form under the
 * config's SHELL (default /bin/sh -c). */
static json_t *command(const json_t *cfg, const struct berth_df_instruction *in)
{
  if (in->json)
    return berth_json_strv(in->json);
  json_t *shell = json_object_get(cfg, "Shell");
  json_t *cmd = json_array_size(shell) ? json_deep_copy(shell) : json_pack("[s,s]", "/bin/sh", "-c");
  json_array_append_new(cmd, json_string(in->args));
  return cmd;
}

static int one_word(const char *what, const struct berth_df_instruction *in, const struct berth_build_env *env,
                    char **ret, berth_error_t *err)
{
  *ret = berth_shell_expand(in->args, env->escape, env->vars, err);
  if (!*ret)
    return -1;
  if (!**ret)
    return berth_error_set_plain(err, EINVAL, "%s requires exactly one argument", what);
  return 0;
}

/* WORKDIR: a relative path continues the previous one; cleaned. */
static int workdir(json_t *cfg, const struct berth_df_instruction *in, const struct berth_build_env *env,
                   berth_error_t *err)
{
  cleanup_free char *dir = NULL, *joined = NULL;
  if (one_word("WORKDIR", in, env, &dir, err) < 0)
    return -1;
  const char *prev = berth_json_str(cfg, "WorkingDir");
  if (asprintf(&joined, "%s/%s", dir[0] == '/' || !prev ? "" : prev, dir) < 0)
    abort();
  cleanup_free char *clean = berth_build_clean_path(joined);
  return json_object_set_new(cfg, "WorkingDir", json_string(clean));
}

static int volume(json_t *cfg, const struct berth_df_instruction *in, const struct berth_build_env *env,
                  berth_error_t *err)
{
  cleanup_strv char **words = in->json ? NULL : berth_shell_words(in->args, env->escape, env->vars, err);
  char *const *list = in->json ? in->json : words;
  if (!list)
    return -1;
  if (!list[0])
    return berth_error_set_plain(err, EINVAL, "VOLUME requires at least one argument");
  for (size_t i = 0; list[i]; i++) {
    if (!*list[i])
      return berth_error_set_plain(err, EINVAL, "VOLUME specified can not be an empty string");
    json_object_set_new(object_in(cfg, "Volumes"), list[i], json_object());
  }
  return 0;
}

static int onbuild(json_t *cfg, const struct berth_df_instruction *in, berth_error_t *err)
{
  size_t n = strcspn(in->args, " \t");
  if (n == 7 && !strncasecmp(in->args, "ONBUILD", 7))
    return berth_error_set_plain(err, EINVAL, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if ((n == 4 && !strncasecmp(in->args, "FROM", 4)) || (n == 10 && !strncasecmp(in->args, "MAINTAINER", 10)))
    return berth_error_set_plain(err, EINVAL, "%.*s isn't allowed as an ONBUILD trigger", (int)n, in->args);
  json_t *ob = json_object_get(cfg, "OnBuild");
  if (!json_is_array(ob))
    json_object_set_new(cfg, "OnBuild", ob = json_array());
  return json_array_append_new(ob, json_string(in->args));
}

int berth_build_apply(json_t *cfg, const struct berth_df_instruction *in, const struct berth_build_env *env,
                      berth_error_t *err)
{
  const char *c = in->cmd;
  cleanup_free char *word = NULL;
  if (!strcmp(c, "cmd") || !strcmp(c, "entrypoint"))
    return json_object_set_new(cfg, c[0] == 'c' ? "Cmd" : "Entrypoint", command(cfg, in));
  if (!strcmp(c, "env"))
    return name_values(cfg, "ENV", in->args, env, err);
  if (!strcmp(c, "label"))
    return name_values(cfg, "LABEL", in->args, env, err);
  if (!strcmp(c, "expose"))
    return expose(cfg, in->args, env, err);
  if (!strcmp(c, "healthcheck"))
    return healthcheck(cfg, in, err);
  if (!strcmp(c, "onbuild"))
    return onbuild(cfg, in, err);
  if (!strcmp(c, "workdir"))
    return workdir(cfg, in, env, err);
  if (!strcmp(c, "volume"))
    return volume(cfg, in, env, err);
  if (!strcmp(c, "user") || !strcmp(c, "stopsignal")) {
    if (one_word(c[0] == 'u' ? "USER" : "STOPSIGNAL", in, env, &word, err) < 0)
      return -1;
    return json_object_set_new(cfg, c[0] == 'u' ? "User" : "StopSignal", json_string(word));
  }
  if (!strcmp(c, "shell")) {
    if (!in->json || !in->json[0])
      return berth_error_set_plain(err, EINVAL, "SHELL requires the arguments to be in JSON form");
    return json_object_set_new(cfg, "Shell", berth_json_strv(in->json));
  }
  return berth_error_set_plain(err, EINVAL, "%s does not change the image config", c);
}

char *berth_build_clean_path(const char *path)
{
  size_t len = strlen(path);
  char *out = malloc(len + 2), *o = out;
  if (!out)
    abort();
  *o++ = '/';
  for (const char *p = path; *p;) {
    while (*p == '/')
      p++;
    size_t n = strcspn(p, "/");
    if (n == 0 || (n == 1 && p[0] == '.')) {
    } else if (n == 2 && p[0] == '.' && p[1] == '.') {
      while (o > out + 1 && o[-1] != '/')
        o--;
      if (o > out + 1)
        o--;
    } else {
      if (o > out + 1)
        *o++ = '/';
      memcpy(o, p, n);
      o += n;
    }
    p += n;
  }
  *o = '\0';
  return out;
}

/* docker's commit --change (moby's validCommitCommands) */
static const char *const change_commands[] = {"cmd",    "entrypoint", "env",  "expose", "healthcheck", "label",
                                              "onbuild", "stopsignal", "user", "volume", "workdir",    NULL};

int berth_build_apply_change(json_t *cfg, const char *change, berth_error_t *err)
{
  cleanup_json json_t *utf8 = json_string(change);
  if (!utf8)
    return berth_error_set_plain(err, EINVAL, "change `%.40s` is not valid UTF-8", change);
  const char *p = change;
  while (is_blank(*p))
    p++;
  size_t n = strcspn(p, " \t\r\n");
  bool valid = false;
  for (const char *const *k = change_commands; *k; k++)
    valid |= strlen(*k) == n && !strncasecmp(*k, p, n);
  if (!valid) {
    char cmd[32];
    snprintf(cmd, sizeof cmd, "%.*s", (int)(n < sizeof cmd ? n : sizeof cmd - 1), p);
    for (char *c = cmd; *c; c++)
      *c = (char)toupper((unsigned char)*c);
    return berth_error_set_plain(err, EINVAL, "%s is not a valid change command", *cmd ? cmd : change);
  }
  struct berth_dockerfile *df = NULL;
  if (berth_dockerfile_parse(change, strlen(change), &df, err) < 0)
    return -1;
  /* expanded with the config's own Env, as docker's commit does */
  json_t *envj = json_object_get(cfg, "Env"), *v;
  size_t i, k = 0;
  /* copies: ENV replaces the config's entries as it goes */
  cleanup_strv char **vars = calloc(json_array_size(envj) + 1, sizeof *vars);
  if (!vars)
    abort();
  json_array_foreach(envj, i, v) if (json_string_value(v)) vars[k++] = strdup(json_string_value(v));
  struct berth_build_env env = {.escape = df->escape, .vars = vars};
  int r = 0;
  for (i = 0; r == 0 && i < df->n; i++)
    r = berth_build_apply(cfg, &df->ins[i], &env, err);
  berth_dockerfile_free(df);
  return r;
}
