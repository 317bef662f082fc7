/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Dockerfile-style config changes (`import --change`, later `commit --change`):
 * CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME,
 * WORKDIR. */
#include <ctype.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "image/image.h"

/* Split words honouring "double" and 'single' quotes and backslash escapes. */
static char **split_words(const char *s, berth_error_t *err)
{
  size_t n = 0, cap = 4;
  char **out = calloc(cap, sizeof(char *));
  char *word = malloc(strlen(s) + 1);
  if (!out || !word)
    abort();
  while (*s) {
    size_t w = 0;
    char quote = 0;
    while (isspace((unsigned char)*s))
      s++;
    if (!*s)
      break;
    while (*s && (quote || !isspace((unsigned char)*s))) {
      if (!quote && (*s == '"' || *s == '\'')) {
        quote = *s++;
        continue;
      }
      if (quote && *s == quote) {
        quote = 0;
        s++;
        continue;
      }
      if (*s == '\\' && s[1] && quote != '\'') {
        s++;
      }
      word[w++] = *s++;
    }
    if (quote) {
      free(word);
      berth_strv_free(out);
      berth_error_set_plain(err, EINVAL, "unmatched quote");
      return NULL;
    }
    word[w] = '\0';
    if (n + 2 > cap) {
      cap *= 2;
      out = realloc(out, cap * sizeof(char *));
      if (!out)
        abort();
    }
    out[n++] = strdup(word);
    out[n] = NULL;
  }
  free(word);
  return out;
}

/* CMD/ENTRYPOINT/VOLUME: a JSON array of strings, or the shell form. */
static json_t *exec_or_shell_form(const char *args, bool shell, berth_error_t *err)
{
  json_t *j;
  while (isspace((unsigned char)*args))
    args++;
  if (*args == '[' && (j = json_loads(args, 0, NULL))) {
    size_t i;
    json_t *v;
    json_array_foreach(j, i, v) if (!json_is_string(v))
    {
      json_decref(j);
      berth_error_set_plain(err, EINVAL, "`%s`: a JSON array must hold strings only", args);
      return NULL;
    }
    return j;
  }
  if (shell)
    return json_pack("[s, s, s]", "/bin/sh", "-c", args);
  {
    cleanup_strv char **words = split_words(args, err);
    if (!words)
      return NULL;
    j = json_array();
    for (size_t i = 0; words[i]; i++)
      json_array_append_new(j, json_string(words[i]));
    return j;
  }
}

static int set_env(json_t *cfg, const char *key, size_t klen, const char *value)
{
  json_t *env = json_object_get(cfg, "Env");
  size_t i;
  json_t *v;
  cleanup_free char *entry = NULL;
  if (asprintf(&entry, "%.*s=%s", (int)klen, key, value) < 0)
    abort();
  if (!json_is_array(env)) {
    env = json_array();
    json_object_set_new(cfg, "Env", env);
  }
  json_array_foreach(env, i, v)
  {
    const char *s = json_string_value(v);
    if (s && strncmp(s, key, klen) == 0 && s[klen] == '=')
      return json_array_set_new(env, i, json_string(entry));
  }
  return json_array_append_new(env, json_string(entry));
}

static json_t *get_object(json_t *cfg, const char *key)
{
  json_t *o = json_object_get(cfg, key);
  if (!json_is_object(o)) {
    o = json_object();
    json_object_set_new(cfg, key, o);
  }
  return o;
}

/* ENV and LABEL: "k=v k2=v2", or the legacy "k v with spaces". */
static int key_values(json_t *cfg, const char *args, bool env, const char *what, berth_error_t *err)
{
  cleanup_strv char **words = split_words(args, err);
  if (!words)
    return berth_error_prefix(err, "%s", what);
  if (!words[0])
    return berth_error_set_plain(err, EINVAL, "%s requires at least one argument", what);
  if (!strchr(words[0], '=')) {
    const char *rest = args;
    while (isspace((unsigned char)*rest))
      rest++;
    rest += strlen(words[0]);
    while (isspace((unsigned char)*rest))
      rest++;
    if (!words[1])
      return berth_error_set_plain(err, EINVAL, "%s must have two arguments", what);
    if (env)
      return set_env(cfg, words[0], strlen(words[0]), rest);
    return json_object_set_new(get_object(cfg, "Labels"), words[0], json_string(rest));
  }
  for (size_t i = 0; words[i]; i++) {
    char *eq = strchr(words[i], '=');
    if (!eq || eq == words[i])
      return berth_error_set_plain(err, EINVAL, "%s names can not be blank: `%s`", what, words[i]);
    if (env)
      set_env(cfg, words[i], (size_t)(eq - words[i]), eq + 1);
    else {
      *eq = '\0';
      json_object_set_new(get_object(cfg, "Labels"), words[i], json_string(eq + 1));
    }
  }
  return 0;
}

static int expose(json_t *cfg, const char *args, berth_error_t *err)
{
  cleanup_strv char **words = split_words(args, err);
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
    if (*end || lo < 1 || hi > 65535 || hi < lo ||
        (strcasecmp(proto, "tcp") && strcasecmp(proto, "udp") && strcasecmp(proto, "sctp")))
      return berth_error_set_plain(err, EINVAL, "invalid containerPort: %s", words[i]);
    for (long p = lo; p <= hi; p++) {
      char key[32];
      snprintf(key, sizeof(key), "%ld/%s", p, proto);
      for (char *c = key; *c; c++)
        *c = (char)tolower((unsigned char)*c);
      json_object_set_new(get_object(cfg, "ExposedPorts"), key, json_object());
    }
  }
  return 0;
}

static bool is_string_array(const json_t *a)
{
  size_t i;
  json_t *v;
  if (!json_is_array(a))
    return false;
  json_array_foreach(a, i, v) if (!json_is_string(v)) return false;
  return true;
}

/* A HEALTHCHECK flag's value into hc (buildkit's parseOptInterval and the
 * --retries rules); zero values stay out, as docker omits them. */
static int health_flag(json_t *hc, const char *name, size_t nlen, const char *value, berth_error_t *err)
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
  for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
    if (strlen(flags[i].flag) == nlen && strncmp(flags[i].flag, name, nlen) == 0)
      break;
  if (i == sizeof(flags) / sizeof(flags[0]))
    return berth_error_set_plain(err, EINVAL, "Unknown flag: %.*s", (int)nlen, name);
  if (!*value)
    return 0;
  if (strcmp(flags[i].key, "Retries") == 0) {
    char *end = NULL;
    errno = 0;
    v = strtoll(value, &end, 10);
    if (errno || *end || v > INT32_MAX || v < INT32_MIN)
      return berth_error_set_plain(err, EINVAL, "strconv.ParseInt: parsing \"%s\": %s", value,
                                   errno || !*end ? "value out of range" : "invalid syntax");
    if (v < 0)
      return berth_error_set_plain(err, EINVAL, "--retries cannot be negative (%lld)", (long long)v);
  } else {
    if (berth_parse_go_duration(value, &v, err) < 0)
      return -1;
    if (v != 0 && v < 1000000)
      return berth_error_set_plain(err, EINVAL, "Interval \"%s\" cannot be less than 1ms", flags[i].flag);
  }
  if (v != 0)
    json_object_set_new(hc, flags[i].key, json_integer(v));
  return 0;
}

/* HEALTHCHECK [--interval=D --timeout=D --start-period=D --start-interval=D
 * --retries=N] CMD command, or HEALTHCHECK NONE (buildkit's parseHealthcheck):
 * the JSON form is ["CMD", ...], the shell form ["CMD-SHELL", "the line"]. */
static int healthcheck(json_t *cfg, const char *args, berth_error_t *err)
{
  cleanup_json json_t *hc = json_object(), *words = NULL;
  const char *p = args;
  size_t n;
  while (p[0] == '-' && p[1] == '-') {
    cleanup_free char *value = NULL;
    size_t len = strcspn(p, " \t");
    const char *eq = memchr(p, '=', len);
    if (!eq)
      return berth_error_set_plain(err, EINVAL, "Missing a value on flag: %.*s", (int)len - 2, p + 2);
    value = strndup(eq + 1, (size_t)(p + len - eq - 1));
    if (health_flag(hc, p + 2, (size_t)(eq - p - 2), value, err) < 0)
      return -1;
    for (p += len; isspace((unsigned char)*p); p++)
      ;
  }
  if (!*p)
    return berth_error_set_plain(err, EINVAL, "HEALTHCHECK requires at least one argument");
  n = strcspn(p, " \t");
  const char *rest = p + n;
  while (isspace((unsigned char)*rest))
    rest++;
  if (n == 4 && strncasecmp(p, "NONE", 4) == 0) {
    if (*rest)
      return berth_error_set_plain(err, EINVAL, "HEALTHCHECK NONE takes no arguments");
    return json_object_set_new(cfg, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
  }
  if (n != 3 || strncasecmp(p, "CMD", 3) != 0)
    return berth_error_set_plain(err, EINVAL, "Unknown type \"%.*s\" in HEALTHCHECK (try CMD)", (int)n, p);
  /* the JSON form when the rest parses as an array of strings, else the shell form */
  words = *rest == '[' ? json_loads(rest, 0, NULL) : NULL;
  if (words && !is_string_array(words)) {
    json_decref(words);
    words = NULL;
  }
  if (words && json_array_size(words) > 0) {
    json_array_insert_new(words, 0, json_string("CMD"));
    json_object_set(hc, "Test", words);
  } else if (*rest && !words) {
    json_object_set_new(hc, "Test", json_pack("[s,s]", "CMD-SHELL", rest));
  } else {
    return berth_error_set_plain(err, EINVAL, "missing command after HEALTHCHECK CMD");
  }
  return json_object_set(cfg, "Healthcheck", hc);
}

int berth_image_apply_change(json_t *cfg, const char *change, berth_error_t *err)
{
  cleanup_json json_t *utf8 = json_string(change);
  const char *p = change;
  char cmd[16];
  size_t n = 0;
  json_t *v;
  if (!utf8)
    return berth_error_set_plain(err, EINVAL, "change `%.40s` is not valid UTF-8", change);
  while (isspace((unsigned char)*p))
    p++;
  while (*p && !isspace((unsigned char)*p) && n < sizeof(cmd) - 1)
    cmd[n++] = (char)toupper((unsigned char)*p++);
  cmd[n] = '\0';
  while (isspace((unsigned char)*p))
    p++;
  if (!strcmp(cmd, "CMD") || !strcmp(cmd, "ENTRYPOINT")) {
    if (!(v = exec_or_shell_form(p, true, err)))
      return berth_error_prefix(err, "%s", cmd);
    return json_object_set_new(cfg, cmd[0] == 'C' ? "Cmd" : "Entrypoint", v);
  }
  if (!strcmp(cmd, "ENV"))
    return key_values(cfg, p, true, "ENV", err);
  if (!strcmp(cmd, "HEALTHCHECK"))
    return healthcheck(cfg, p, err);
  if (!strcmp(cmd, "LABEL"))
    return key_values(cfg, p, false, "LABEL", err);
  if (!strcmp(cmd, "EXPOSE"))
    return expose(cfg, p, err);
  if (!strcmp(cmd, "WORKDIR") && *p && *p != '/') {
    /* A relative WORKDIR continues the previous one (docker). */
    const char *prev = berth_json_str(cfg, "WorkingDir");
    cleanup_free char *joined = NULL;
    size_t plen = prev ? strlen(prev) : 0;
    if (asprintf(&joined, "%s%s%s", prev && *prev ? prev : "", plen && prev[plen - 1] == '/' ? "" : "/", p) < 0)
      abort();
    return json_object_set_new(cfg, "WorkingDir", json_string(joined));
  }
  if (!strcmp(cmd, "USER") || !strcmp(cmd, "WORKDIR") || !strcmp(cmd, "STOPSIGNAL")) {
    if (!*p)
      return berth_error_set_plain(err, EINVAL, "%s requires exactly one argument", cmd);
    return json_object_set_new(cfg, !strcmp(cmd, "USER") ? "User" : cmd[0] == 'W' ? "WorkingDir" : "StopSignal",
                               json_string(p));
  }
  if (!strcmp(cmd, "VOLUME")) {
    size_t i;
    if (!(v = exec_or_shell_form(p, false, err)))
      return berth_error_prefix(err, "VOLUME");
    json_t *vol, *vols = get_object(cfg, "Volumes");
    json_array_foreach(v, i, vol) json_object_set_new(vols, json_string_value(vol), json_object());
    json_decref(v);
    return 0;
  }
  if (!strcmp(cmd, "ONBUILD")) {
    json_t *ob = json_object_get(cfg, "OnBuild");
    if (!json_is_array(ob)) {
      ob = json_array();
      json_object_set_new(cfg, "OnBuild", ob);
    }
    return json_array_append_new(ob, json_string(p));
  }
  return berth_error_set_plain(err, EINVAL, "%s is not a valid change command", cmd[0] ? cmd : change);
}
