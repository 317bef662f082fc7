/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI runtime config (config.json) parser: validates a jansson document
 * once, in the parent, into struct berth_spec.  Every field is type-checked
 * and bounded (strings at most 1 MiB, arrays at most 65536 entries: the
 * CVE-2021-43784 lesson is to bound everything that crosses a trust line), and
 * errors name the field: "mounts[2].destination: expected an absolute path".
 * Also the capability and rlimit name tables the engine shares. */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "base/xalloc.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "oci/runtime-spec.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define MAX_STRING (1u << 20)
#define MAX_ARRAY 65536
#define MAX_CONFIG_SIZE (16u << 20)
#define MAX_SECCOMP_ARGS 6

/* ---------------------------------------------------------------- name tables */

static const char *const cap_names[] = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",          "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",           "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
#define N_CAPS ((int)(sizeof(cap_names) / sizeof(cap_names[0])))

int berth_cap_from_name(const char *name)
{
  if (!name)
    return -1;
  if (strncasecmp(name, "CAP_", 4) == 0)
    name += 4;
  for (int i = 0; i < N_CAPS; i++)
    if (strcasecmp(cap_names[i] + 4, name) == 0)
      return i;
  return -1;
}

const char *berth_cap_name(int cap) { return cap >= 0 && cap < N_CAPS ? cap_names[cap] : NULL; }

static const struct {
  const char *name; /* without "RLIMIT_", lower case as docker spells it */
  int resource;
} rlimits[] = {
    {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

int berth_rlimit_from_name(const char *name)
{
  if (!name)
    return -1;
  if (strncasecmp(name, "RLIMIT_", 7) == 0)
    name += 7;
  for (size_t i = 0; i < sizeof(rlimits) / sizeof(rlimits[0]); i++)
    if (strcasecmp(rlimits[i].name, name) == 0)
      return rlimits[i].resource;
  return -1;
}

/* ---------------------------------------------------------------- typed field access */

/* "parent.key: message", or "key: message" at the top level. */
__attribute__((format(printf, 4, 5))) static int field_error(berth_error_t *err, const char *parent, const char *key,
                                                             const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    abort();
  va_end(ap);
  return berth_error_set_plain(err, EINVAL, "%s%s%s: %s", parent, *parent && *key ? "." : "", key, msg);
}

/* NULL when absent or JSON null. */
static json_t *opt_get(const json_t *obj, const char *key)
{
  json_t *v = json_object_get(obj, key);
  return json_is_null(v) ? NULL : v;
}

static bool string_is_sane(const json_t *v)
{
  size_t len = json_string_length(v);
  return len <= MAX_STRING && strlen(json_string_value(v)) == len;
}

static int check_string(const json_t *v, const char *parent, const char *key, berth_error_t *err)
{
  if (!json_is_string(v))
    return field_error(err, parent, key, "expected a string");
  if (!string_is_sane(v))
    return field_error(err, parent, key, "string too long or containing NUL");
  return 0;
}

static int opt_str(const json_t *obj, const char *parent, const char *key, char **ret, berth_error_t *err)
{
  json_t *v = opt_get(obj, key);
  if (!v)
    return 0;
  if (check_string(v, parent, key, err) < 0)
    return -1;
  *ret = xstrdup(json_string_value(v));
  return 0;
}

static int req_str(const json_t *obj, const char *parent, const char *key, char **ret, berth_error_t *err)
{
  if (!opt_get(obj, key))
    return field_error(err, parent, key, "required");
  return opt_str(obj, parent, key, ret, err);
}

static int opt_bool(const json_t *obj, const char *parent, const char *key, bool *ret, berth_error_t *err)
{
  json_t *v = opt_get(obj, key);
  if (!v)
    return 0;
  if (!json_is_boolean(v))
    return field_error(err, parent, key, "expected a boolean");
  *ret = json_is_true(v);
  return 0;
}

static int int_in_range(const json_t *v, const char *parent, const char *key, int64_t min, int64_t max, int64_t *ret,
                        berth_error_t *err)
{
  json_int_t n;
  if (!json_is_integer(v))
    return field_error(err, parent, key, "expected an integer");
  n = json_integer_value(v);
  if (n < min || n > max)
    return field_error(err, parent, key, "%lld out of range [%lld, %lld]", (long long)n, (long long)min,
                       (long long)max);
  *ret = n;
  return 0;
}

static int opt_int(const json_t *obj, const char *parent, const char *key, int64_t min, int64_t max, int64_t *ret,
                   berth_error_t *err)
{
  json_t *v = opt_get(obj, key);
  return v ? int_in_range(v, parent, key, min, max, ret, err) : 0;
}

static int opt_u32(const json_t *obj, const char *parent, const char *key, uint32_t *ret, bool *ret_has,
                   berth_error_t *err)
{
  int64_t n = 0;
  json_t *v = opt_get(obj, key);
  if (!v)
    return 0;
  if (int_in_range(v, parent, key, 0, UINT32_MAX, &n, err) < 0)
    return -1;
  *ret = (uint32_t)n;
  if (ret_has)
    *ret_has = true;
  return 0;
}

static int opt_array(const json_t *obj, const char *parent, const char *key, json_t **ret, berth_error_t *err)
{
  json_t *v = opt_get(obj, key);
  *ret = NULL;
  if (!v)
    return 0;
  if (!json_is_array(v))
    return field_error(err, parent, key, "expected an array");
  if (json_array_size(v) > MAX_ARRAY)
    return field_error(err, parent, key, "more than %d entries", MAX_ARRAY);
  *ret = v;
  return 0;
}

static int opt_object(const json_t *obj, const char *parent, const char *key, json_t **ret, berth_error_t *err)
{
  json_t *v = opt_get(obj, key);
  *ret = NULL;
  if (!v)
    return 0;
  if (!json_is_object(v))
    return field_error(err, parent, key, "expected an object");
  if (json_object_size(v) > MAX_ARRAY)
    return field_error(err, parent, key, "more than %d entries", MAX_ARRAY);
  *ret = v;
  return 0;
}

/* A string array into a NULL-terminated vector, empty (never NULL) when absent. */
static int opt_strv(const json_t *obj, const char *parent, const char *key, char ***ret, berth_error_t *err)
{
  json_t *a = NULL, *v;
  cleanup_strv char **strv = NULL;
  size_t i;
  if (opt_array(obj, parent, key, &a, err) < 0)
    return -1;
  strv = xcalloc(json_array_size(a) + 1, sizeof(char *));
  json_array_foreach(a, i, v)
  {
    if (!json_is_string(v))
      return field_error(err, parent, key, "expected an array of strings");
    if (!string_is_sane(v))
      return field_error(err, parent, key, "string too long or containing NUL");
    strv[i] = xstrdup(json_string_value(v));
  }
  *ret = steal_ptr(&strv);
  return 0;
}

/* "parent.key[i]" for the elements of an array of objects. */
static void element_path(char *buf, size_t size, const char *parent, const char *key, size_t i)
{
  (void)snprintf(buf, size, "%s%s%s[%zu]", parent, *parent ? "." : "", key, i);
}

/* Absolute, with no ".." component; made clean (no "//", "/./", trailing "/"). */
static char *clean_absolute_path(const char *path)
{
  cleanup_free char *out = NULL;
  size_t n = 0;
  if (path[0] != '/')
    return NULL;
  out = xcalloc(strlen(path) + 2, 1);
  for (const char *p = path; *p;) {
    size_t len;
    while (*p == '/')
      p++;
    len = strcspn(p, "/");
    if (len == 2 && p[0] == '.' && p[1] == '.')
      return NULL;
    if (len > 0 && !(len == 1 && p[0] == '.')) {
      out[n++] = '/';
      memcpy(out + n, p, len);
      n += len;
    }
    p += len;
  }
  if (n == 0)
    out[n++] = '/';
  out[n] = '\0';
  return steal_ptr(&out);
}

static int req_clean_path(const json_t *obj, const char *parent, const char *key, char **ret, berth_error_t *err)
{
  cleanup_free char *raw = NULL;
  if (req_str(obj, parent, key, &raw, err) < 0)
    return -1;
  if (!(*ret = clean_absolute_path(raw)))
    return field_error(err, parent, key, "expected an absolute path without \"..\": `%.200s`", raw);
  return 0;
}

static int clean_path_strv(const json_t *obj, const char *parent, const char *key, char ***ret, berth_error_t *err)
{
  if (opt_strv(obj, parent, key, ret, err) < 0)
    return -1;
  for (char **p = *ret; *p; p++) {
    char *clean = clean_absolute_path(*p);
    if (!clean)
      return field_error(err, parent, key, "expected absolute paths without \"..\": `%.200s`", *p);
    free(*p);
    *p = clean;
  }
  return 0;
}

/* ---------------------------------------------------------------- process */

static int parse_user(const json_t *proc, struct berth_spec_user *u, berth_error_t *err)
{
  json_t *user = NULL, *gids = NULL, *v;
  size_t i;
  if (opt_object(proc, "process", "user", &user, err) < 0)
    return -1;
  if (!user)
    return 0;
  if (opt_u32(user, "process.user", "uid", &u->uid, NULL, err) < 0 ||
      opt_u32(user, "process.user", "gid", &u->gid, NULL, err) < 0 ||
      opt_u32(user, "process.user", "umask", &u->umask, &u->has_umask, err) < 0 ||
      opt_array(user, "process.user", "additionalGids", &gids, err) < 0)
    return -1;
  if (u->has_umask && u->umask > 0777)
    return field_error(err, "process.user", "umask", "%o is not a file mode mask", u->umask);
  u->additional_gids = xcalloc(json_array_size(gids), sizeof(uint32_t));
  json_array_foreach(gids, i, v)
  {
    int64_t n = 0;
    if (int_in_range(v, "process.user", "additionalGids", 0, UINT32_MAX, &n, err) < 0)
      return -1;
    u->additional_gids[u->n_additional_gids++] = (uint32_t)n;
  }
  return 0;
}

static int parse_args_env(const json_t *proc, struct berth_spec_process *p, berth_error_t *err)
{
  if (!opt_get(proc, "args"))
    return field_error(err, "process", "args", "required");
  if (opt_strv(proc, "process", "args", &p->args, err) < 0)
    return -1;
  if (!p->args[0])
    return field_error(err, "process", "args", "must not be empty");
  if (opt_strv(proc, "process", "env", &p->env, err) < 0)
    return -1;
  /* runc refuses these too: execve() would pass them on as garbage. */
  for (char **e = p->env; *e; e++)
    if (!strchr(*e, '=') || **e == '=')
      return field_error(err, "process", "env", "expected KEY=VALUE: `%.200s`", *e);
  return 0;
}

static int parse_cap_set(const json_t *caps, const char *key, uint64_t *ret, berth_error_t *err)
{
  cleanup_strv char **names = NULL;
  if (opt_strv(caps, "process.capabilities", key, &names, err) < 0)
    return -1;
  for (char **n = names; *n; n++) {
    int cap = berth_cap_from_name(*n);
    if (cap < 0)
      return field_error(err, "process.capabilities", key, "unknown capability `%.100s`", *n);
    *ret |= UINT64_C(1) << cap;
  }
  return 0;
}

static int parse_caps(const json_t *proc, struct berth_spec_caps *c, berth_error_t *err)
{
  json_t *caps = NULL;
  if (opt_object(proc, "process", "capabilities", &caps, err) < 0)
    return -1;
  if (!caps)
    return 0;
  if (parse_cap_set(caps, "bounding", &c->bounding, err) < 0 ||
      parse_cap_set(caps, "effective", &c->effective, err) < 0 ||
      parse_cap_set(caps, "inheritable", &c->inheritable, err) < 0 ||
      parse_cap_set(caps, "permitted", &c->permitted, err) < 0 ||
      parse_cap_set(caps, "ambient", &c->ambient, err) < 0)
    return -1;
  return 0;
}

/* A uint64 rlimit value.  jansson cannot hold 2^64-1 (RLIM_INFINITY), so -1
 * stands for it, as in docker's Ulimits. */
static int rlimit_value(const json_t *o, const char *path, const char *key, uint64_t *ret, berth_error_t *err)
{
  int64_t n = 0;
  if (!opt_get(o, key))
    return field_error(err, path, key, "required");
  if (opt_int(o, path, key, -1, INT64_MAX, &n, err) < 0)
    return -1;
  *ret = n == -1 ? (uint64_t)RLIM_INFINITY : (uint64_t)n;
  return 0;
}

static int parse_rlimit(const json_t *o, const char *path, struct berth_spec_rlimit *rl, berth_error_t *err)
{
  cleanup_free char *type = NULL;
  if (!json_is_object(o))
    return field_error(err, path, "", "expected an object");
  if (req_str(o, path, "type", &type, err) < 0)
    return -1;
  if ((rl->resource = berth_rlimit_from_name(type)) < 0)
    return field_error(err, path, "type", "unknown rlimit `%.100s`", type);
  if (rlimit_value(o, path, "soft", &rl->soft, err) < 0 || rlimit_value(o, path, "hard", &rl->hard, err) < 0)
    return -1;
  if (rl->soft > rl->hard)
    return field_error(err, path, "soft", "greater than the hard limit");
  return 0;
}

static int parse_rlimits(const json_t *proc, struct berth_spec_process *p, berth_error_t *err)
{
  json_t *a = NULL, *v;
  size_t i;
  char path[64];
  if (opt_array(proc, "process", "rlimits", &a, err) < 0)
    return -1;
  p->rlimits = xcalloc(json_array_size(a), sizeof(*p->rlimits));
  json_array_foreach(a, i, v)
  {
    element_path(path, sizeof(path), "process", "rlimits", i);
    if (parse_rlimit(v, path, &p->rlimits[i], err) < 0)
      return -1;
    p->n_rlimits++;
    for (size_t j = 0; j < i; j++)
      if (p->rlimits[j].resource == p->rlimits[i].resource)
        return field_error(err, path, "type", "duplicate rlimit");
  }
  return 0;
}

static int parse_console_size(const json_t *proc, struct berth_spec_process *p, berth_error_t *err)
{
  json_t *cs = NULL;
  int64_t h = 0, w = 0;
  if (opt_object(proc, "process", "consoleSize", &cs, err) < 0)
    return -1;
  if (opt_int(cs, "process.consoleSize", "height", 0, UINT16_MAX, &h, err) < 0 ||
      opt_int(cs, "process.consoleSize", "width", 0, UINT16_MAX, &w, err) < 0)
    return -1;
  p->console_rows = (uint16_t)h;
  p->console_cols = (uint16_t)w;
  return 0;
}

static int parse_process(const json_t *doc, struct berth_spec_process *p, berth_error_t *err)
{
  json_t *proc = NULL;
  int64_t oom = 0;
  if (opt_object(doc, "", "process", &proc, err) < 0)
    return -1;
  if (!proc)
    return field_error(err, "", "process", "required");
  if (opt_bool(proc, "process", "terminal", &p->terminal, err) < 0 || parse_console_size(proc, p, err) < 0 ||
      parse_user(proc, &p->user, err) < 0 || parse_args_env(proc, p, err) < 0)
    return -1;
  if (req_str(proc, "process", "cwd", &p->cwd, err) < 0)
    return -1;
  if (p->cwd[0] != '/')
    return field_error(err, "process", "cwd", "expected an absolute path: `%.200s`", p->cwd);
  if (parse_caps(proc, &p->caps, err) < 0 || parse_rlimits(proc, p, err) < 0 ||
      opt_bool(proc, "process", "noNewPrivileges", &p->no_new_privileges, err) < 0)
    return -1;
  if (opt_get(proc, "oomScoreAdj")) {
    if (opt_int(proc, "process", "oomScoreAdj", -1000, 1000, &oom, err) < 0)
      return -1;
    p->has_oom_score_adj = true;
    p->oom_score_adj = (int)oom;
  }
  return 0;
}

/* ---------------------------------------------------------------- root, mounts */

static int parse_root(const json_t *doc, const char *bundle, struct berth_spec *spec, berth_error_t *err)
{
  json_t *root = NULL;
  cleanup_free char *path = NULL;
  if (opt_object(doc, "", "root", &root, err) < 0)
    return -1;
  if (!root)
    return field_error(err, "", "root", "required");
  if (req_str(root, "root", "path", &path, err) < 0 || opt_bool(root, "root", "readonly", &spec->root_readonly, err) < 0)
    return -1;
  if (!path[0])
    return field_error(err, "root", "path", "must not be empty");
  if (path[0] == '/') {
    spec->root_path = steal_ptr(&path);
    return 0;
  }
  if (!bundle)
    return field_error(err, "root", "path", "relative path `%.200s` without a bundle directory", path);
  if (asprintf(&spec->root_path, "%s/%s", bundle, path) < 0)
    abort();
  return 0;
}

static int parse_mount(const json_t *o, const char *path, struct berth_spec_mount *m, berth_error_t *err)
{
  if (!json_is_object(o))
    return field_error(err, path, "", "expected an object");
  if (req_clean_path(o, path, "destination", &m->destination, err) < 0 || opt_str(o, path, "type", &m->type, err) < 0 ||
      opt_str(o, path, "source", &m->source, err) < 0 || opt_strv(o, path, "options", &m->options, err) < 0)
    return -1;
  return 0;
}

static int parse_mounts(const json_t *doc, struct berth_spec *spec, berth_error_t *err)
{
  json_t *a = NULL, *v;
  size_t i;
  char path[64];
  if (opt_array(doc, "", "mounts", &a, err) < 0)
    return -1;
  spec->mounts = xcalloc(json_array_size(a), sizeof(*spec->mounts));
  json_array_foreach(a, i, v)
  {
    element_path(path, sizeof(path), "", "mounts", i);
    spec->n_mounts++;
    if (parse_mount(v, path, &spec->mounts[i], err) < 0)
      return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- hooks */

static int parse_hook(const json_t *o, const char *path, struct berth_spec_hook *h, berth_error_t *err)
{
  int64_t timeout = 0;
  if (!json_is_object(o))
    return field_error(err, path, "", "expected an object");
  if (req_str(o, path, "path", &h->path, err) < 0)
    return -1;
  if (h->path[0] != '/')
    return field_error(err, path, "path", "expected an absolute path: `%.200s`", h->path);
  if (opt_strv(o, path, "args", &h->args, err) < 0 || opt_strv(o, path, "env", &h->env, err) < 0)
    return -1;
  if (opt_get(o, "timeout") && opt_int(o, path, "timeout", 1, INT32_MAX, &timeout, err) < 0)
    return -1;
  h->timeout = (int)timeout;
  return 0;
}

/* Appends hooks[key] to *list (so the deprecated prestart can run ahead of createRuntime, as runc does). */
static int parse_hook_list(const json_t *hooks, const char *key, struct berth_spec_hook **list, size_t *n,
                           berth_error_t *err)
{
  json_t *a = NULL, *v;
  size_t i;
  char path[64];
  if (opt_array(hooks, "hooks", key, &a, err) < 0)
    return -1;
  if (!a)
    return 0;
  *list = realloc(*list, (*n + json_array_size(a) + 1) * sizeof(**list));
  if (!*list)
    abort();
  json_array_foreach(a, i, v)
  {
    struct berth_spec_hook *h = &(*list)[(*n)++];
    memset(h, 0, sizeof(*h));
    element_path(path, sizeof(path), "hooks", key, i);
    if (parse_hook(v, path, h, err) < 0)
      return -1;
  }
  return 0;
}

static int parse_hooks(const json_t *doc, struct berth_spec_hooks *h, berth_error_t *err)
{
  json_t *hooks = NULL;
  if (opt_object(doc, "", "hooks", &hooks, err) < 0)
    return -1;
  if (!hooks)
    return 0;
  if (parse_hook_list(hooks, "prestart", &h->create_runtime, &h->n_create_runtime, err) < 0 ||
      parse_hook_list(hooks, "createRuntime", &h->create_runtime, &h->n_create_runtime, err) < 0 ||
      parse_hook_list(hooks, "createContainer", &h->create_container, &h->n_create_container, err) < 0 ||
      parse_hook_list(hooks, "startContainer", &h->start_container, &h->n_start_container, err) < 0 ||
      parse_hook_list(hooks, "poststart", &h->poststart, &h->n_poststart, err) < 0 ||
      parse_hook_list(hooks, "poststop", &h->poststop, &h->n_poststop, err) < 0)
    return -1;
  return 0;
}

static int parse_annotations(const json_t *doc, struct berth_spec *spec, berth_error_t *err)
{
  json_t *a = NULL, *v;
  const char *key;
  if (opt_object(doc, "", "annotations", &a, err) < 0)
    return -1;
  json_object_foreach(a, key, v)
  {
    if (strlen(key) > MAX_STRING || !json_is_string(v) || !string_is_sane(v))
      return field_error(err, "", "annotations", "expected an object of strings (key `%.100s`)", key);
  }
  spec->annotations = a ? json_deep_copy(a) : json_object();
  if (!spec->annotations)
    abort();
  return 0;
}

/* ---------------------------------------------------------------- linux: namespaces, devices */

static const struct {
  const char *name;
  int flag;
} ns_types[] = {
    {"pid", CLONE_NEWPID}, {"network", CLONE_NEWNET},   {"mount", CLONE_NEWNS},     {"ipc", CLONE_NEWIPC},
    {"uts", CLONE_NEWUTS}, {"user", CLONE_NEWUSER},     {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

static int ns_type(const char *name)
{
  for (size_t i = 0; i < sizeof(ns_types) / sizeof(ns_types[0]); i++)
    if (strcmp(ns_types[i].name, name) == 0)
      return ns_types[i].flag;
  return -1;
}

static int parse_namespace(const json_t *o, const char *path, struct berth_spec_namespace *ns, berth_error_t *err)
{
  cleanup_free char *type = NULL;
  if (!json_is_object(o))
    return field_error(err, path, "", "expected an object");
  if (req_str(o, path, "type", &type, err) < 0 || opt_str(o, path, "path", &ns->path, err) < 0)
    return -1;
  if ((ns->type = ns_type(type)) < 0)
    return field_error(err, path, "type", "unknown namespace type `%.100s`", type);
  if (ns->path && ns->path[0] != '/')
    return field_error(err, path, "path", "expected an absolute path: `%.200s`", ns->path);
  return 0;
}

static int parse_namespaces(const json_t *lnx, struct berth_spec *spec, berth_error_t *err)
{
  json_t *a = NULL, *v;
  size_t i;
  char path[64];
  if (opt_array(lnx, "linux", "namespaces", &a, err) < 0)
    return -1;
  spec->namespaces = xcalloc(json_array_size(a), sizeof(*spec->namespaces));
  json_array_foreach(a, i, v)
  {
    element_path(path, sizeof(path), "linux", "namespaces", i);
    spec->n_namespaces++;
    if (parse_namespace(v, path, &spec->namespaces[i], err) < 0)
      return -1;
    for (size_t j = 0; j < i; j++)
      if (spec->namespaces[j].type == spec->namespaces[i].type)
        return field_error(err, path, "type", "duplicate namespace");
  }
  return 0;
}

static int parse_device(const json_t *o, const char *path, struct berth_spec_device *d, berth_error_t *err)
{
  cleanup_free char *type = NULL;
  if (!json_is_object(o))
    return field_error(err, path, "", "expected an object");
  if (req_clean_path(o, path, "path", &d->path, err) < 0 || req_str(o, path, "type", &type, err) < 0)
    return -1;
  if (strlen(type) != 1 || !strchr("cbup", type[0]))
    return field_error(err, path, "type", "expected one of c, b, u, p: `%.20s`", type);
  d->type = type[0];
  if (d->type != 'p' && (!opt_get(o, "major") || !opt_get(o, "minor")))
    return field_error(err, path, "major", "major and minor are required for type %c", d->type);
  if (opt_int(o, path, "major", 0, UINT32_MAX, &d->major, err) < 0 ||
      opt_int(o, path, "minor", 0, UINT32_MAX, &d->minor, err) < 0 ||
      opt_u32(o, path, "fileMode", &d->mode, &d->has_mode, err) < 0 ||
      opt_u32(o, path, "uid", &d->uid, &d->has_uid, err) < 0 || opt_u32(o, path, "gid", &d->gid, &d->has_gid, err) < 0)
    return -1;
  if (d->has_mode && d->mode > 07777)
    return field_error(err, path, "fileMode", "%o is not a permission mode", d->mode);
  return 0;
}

static int parse_devices(const json_t *lnx, struct berth_spec *spec, berth_error_t *err)
{
  json_t *a = NULL, *v;
  size_t i;
  char path[64];
  if (opt_array(lnx, "linux", "devices", &a, err) < 0)
    return -1;
  spec->devices = xcalloc(json_array_size(a), sizeof(*spec->devices));
  json_array_foreach(a, i, v)
  {
    element_path(path, sizeof(path), "linux", "devices", i);
    spec->n_devices++;
    if (parse_device(v, path, &spec->devices[i], err) < 0)
      return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- linux.resources */

static int parse_device_rule(const json_t *o, const char *path, struct berth_spec_device_rule *r, berth_error_t *err)
{
  cleanup_free char *type = NULL, *access = NULL;
  if (!json_is_object(o))
    return field_error(err, path, "", "expected an object");
  if (!json_is_boolean(json_object_get(o, "allow")))
    return field_error(err, path, "allow", "required boolean");
  r->allow = json_is_true(json_object_get(o, "allow"));
  r->major = r->minor = -1;
  if (opt_str(o, path, "type", &type, err) < 0 || opt_str(o, path, "access", &access, err) < 0 ||
      opt_int(o, path, "major", -1, UINT32_MAX, &r->major, err) < 0 ||
      opt_int(o, path, "minor", -1, UINT32_MAX, &r->minor, err) < 0)
    return -1;
  r->type = type ? type[0] : 'a';
  if (type && (strlen(type) != 1 || !strchr("acb", type[0])))
    return field_error(err, path, "type", "expected one of a, c, b: `%.20s`", type);
  if (!access)
    access = xstrdup("rwm");
  if (strlen(access) > 3 || strspn(access, "rwm") != strlen(access))
    return field_error(err, path, "access", "expected a subset of \"rwm\": `%.20s`", access);
  strcpy(r->access, access);
  return 0;
}

static int parse_device_rules(const json_t *res, struct berth_spec_resources *r, berth_error_t *err)
{
  json_t *a = NULL, *v;
  size_t i;
  char path[64];
  if (opt_array(res, "linux.resources", "devices", &a, err) < 0)
    return -1;
  r->devices = xcalloc(json_array_size(a), sizeof(*r->devices));
  json_array_foreach(a, i, v)
  {
    element_path(path, sizeof(path), "linux.resources", "devices", i);
    if (parse_device_rule(v, path, &r->devices[i], err) < 0)
      return -1;
    r->n_devices++;
  }
  return 0;
}

static int parse_memory(const json_t *res, struct berth_spec_resources *r, berth_error_t *err)
{
  const char *p = "linux.resources.memory";
  json_t *m = NULL;
  if (opt_object(res, "linux.resources", "memory", &m, err) < 0)
    return -1;
  if (opt_int(m, p, "limit", -1, INT64_MAX, &r->memory_limit, err) < 0 ||
      opt_int(m, p, "reservation", -1, INT64_MAX, &r->memory_reservation, err) < 0 ||
      opt_int(m, p, "swap", -1, INT64_MAX, &r->memory_swap, err) < 0 ||
      opt_int(m, p, "swappiness", 0, 100, &r->memory_swappiness, err) < 0 ||
      opt_bool(m, p, "disableOOMKiller", &r->disable_oom_killer, err) < 0)
    return -1;
  return 0;
}

static bool cpuset_is_valid(const char *s)
{
  /* "0-3,8,10-11": what cpuset.cpus and cpuset.mems accept. */
  return s[0] == '\0' || (strspn(s, "0123456789,-") == strlen(s) && s[0] != ',' && s[0] != '-');
}

static int parse_cpu(const json_t *res, struct berth_spec_resources *r, berth_error_t *err)
{
  const char *p = "linux.resources.cpu";
  json_t *c = NULL;
  if (opt_object(res, "linux.resources", "cpu", &c, err) < 0)
    return -1;
  if (opt_int(c, p, "shares", 0, INT64_MAX, &r->cpu_shares, err) < 0 ||
      opt_int(c, p, "quota", -1, INT64_MAX, &r->cpu_quota, err) < 0 ||
      opt_int(c, p, "period", 0, INT64_MAX, &r->cpu_period, err) < 0 ||
      opt_str(c, p, "cpus", &r->cpuset_cpus, err) < 0 || opt_str(c, p, "mems", &r->cpuset_mems, err) < 0)
    return -1;
  if (r->cpuset_cpus && !cpuset_is_valid(r->cpuset_cpus))
    return field_error(err, p, "cpus", "invalid cpu list `%.100s`", r->cpuset_cpus);
  if (r->cpuset_mems && !cpuset_is_valid(r->cpuset_mems))
    return field_error(err, p, "mems", "invalid node list `%.100s`", r->cpuset_mems);
  return 0;
}

/* linux.resources.blockIO: weight and the four throttle lists. */
static int parse_block_io(const json_t *res, struct berth_spec_resources *r, berth_error_t *err)
{
  static const char *const lists[BERTH_THROTTLE_N] = {"throttleReadBpsDevice", "throttleWriteBpsDevice",
                                                      "throttleReadIOPSDevice", "throttleWriteIOPSDevice"};
  const char *p = "linux.resources.blockIO";
  json_t *bio = NULL, *a, *v;
  size_t i;
  char path[96];
  if (opt_object(res, "linux.resources", "blockIO", &bio, err) < 0 ||
      opt_int(bio, p, "weight", 10, 1000, &r->blkio_weight, err) < 0)
    return -1;
  for (int k = 0; k < BERTH_THROTTLE_N; k++) {
    a = NULL;
    if (opt_array(bio, p, lists[k], &a, err) < 0)
      return -1;
    r->throttle[k] = xcalloc(json_array_size(a) + 1, sizeof(*r->throttle[k]));
    json_array_foreach(a, i, v)
    {
      struct berth_spec_throttle *t = &r->throttle[k][i];
      element_path(path, sizeof(path), p, lists[k], i);
      t->major = t->minor = t->rate = BERTH_SPEC_UNSET;
      if (opt_int(v, path, "major", 0, UINT32_MAX, &t->major, err) < 0 ||
          opt_int(v, path, "minor", 0, UINT32_MAX, &t->minor, err) < 0 ||
          opt_int(v, path, "rate", 0, INT64_MAX, &t->rate, err) < 0)
        return -1;
      if (t->major == BERTH_SPEC_UNSET || t->minor == BERTH_SPEC_UNSET || t->rate == BERTH_SPEC_UNSET)
        return field_error(err, path, "major", "major, minor and rate are required");
      r->n_throttle[k]++;
    }
  }
  return 0;
}

static int parse_resources(const json_t *lnx, struct berth_spec_resources *r, berth_error_t *err)
{
  json_t *res = NULL, *pids = NULL;
  if (opt_object(lnx, "linux", "resources", &res, err) < 0)
    return -1;
  if (parse_memory(res, r, err) < 0 || parse_cpu(res, r, err) < 0 ||
      opt_object(res, "linux.resources", "pids", &pids, err) < 0 ||
      opt_int(pids, "linux.resources.pids", "limit", -1, INT64_MAX, &r->pids_limit, err) < 0 ||
      parse_block_io(res, r, err) < 0)
    return -1;
  return parse_device_rules(res, r, err);
}

/* ---------------------------------------------------------------- linux.seccomp */

static const char *const seccomp_actions[] = {
    [BERTH_SECCOMP_ACT_KILL] = "SCMP_ACT_KILL",   [BERTH_SECCOMP_ACT_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
    [BERTH_SECCOMP_ACT_KILL_THREAD] = "SCMP_ACT_KILL_THREAD", [BERTH_SECCOMP_ACT_TRAP] = "SCMP_ACT_TRAP",
    [BERTH_SECCOMP_ACT_ERRNO] = "SCMP_ACT_ERRNO", [BERTH_SECCOMP_ACT_TRACE] = "SCMP_ACT_TRACE",
    [BERTH_SECCOMP_ACT_ALLOW] = "SCMP_ACT_ALLOW", [BERTH_SECCOMP_ACT_LOG] = "SCMP_ACT_LOG",
};
static const char *const seccomp_ops[] = {
    [BERTH_SECCOMP_OP_NE] = "SCMP_CMP_NE", [BERTH_SECCOMP_OP_LT] = "SCMP_CMP_LT",
    [BERTH_SECCOMP_OP_LE] = "SCMP_CMP_LE", [BERTH_SECCOMP_OP_EQ] = "SCMP_CMP_EQ",
    [BERTH_SECCOMP_OP_GE] = "SCMP_CMP_GE", [BERTH_SECCOMP_OP_GT] = "SCMP_CMP_GT",
    [BERTH_SECCOMP_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

/* Index of `name` in a table whose entry 0 is unused; -1 if absent. */
static int table_index(const char *const *table, size_t n, const char *name)
{
  for (size_t i = 1; i < n; i++)
    if (table[i] && strcmp(table[i], name) == 0)
      return (int)i;
  return -1;
}

static int seccomp_action(const json_t *o, const char *path, const char *key, enum berth_seccomp_action *ret,
                          berth_error_t *err)
{
  cleanup_free char *name = NULL;
  int a;
  if (req_str(o, path, key, &name, err) < 0)
    return -1;
  if ((a = table_index(seccomp_actions, sizeof(seccomp_actions) / sizeof(seccomp_actions[0]), name)) < 0)
    return field_error(err, path, key, "unknown seccomp action `%.100s`", name);
  *ret = (enum berth_seccomp_action)a;
  return 0;
}

static int seccomp_value(const json_t *o, const char *path, const char *key, uint64_t *ret, berth_error_t *err)
{
  int64_t n = 0;
  if (opt_int(o, path, key, 0, INT64_MAX, &n, err) < 0)
    return -1;
  *ret = (uint64_t)n;
  return 0;
}

static int parse_seccomp_arg(const json_t *o, const char *path, struct berth_seccomp_arg *a, berth_error_t *err)
{
  cleanup_free char *op = NULL;
  int64_t index = 0;
  int n;
  if (!json_is_object(o))
    return field_error(err, path, "", "expected an object");
  if (!opt_get(o, "index"))
    return field_error(err, path, "index", "required");
  if (opt_int(o, path, "index", 0, MAX_SECCOMP_ARGS - 1, &index, err) < 0 ||
      seccomp_value(o, path, "value", &a->value, err) < 0 ||
      seccomp_value(o, path, "valueTwo", &a->value_two, err) < 0 || req_str(o, path, "op", &op, err) < 0)
    return -1;
  if ((n = table_index(seccomp_ops, sizeof(seccomp_ops) / sizeof(seccomp_ops[0]), op)) < 0)
    return field_error(err, path, "op", "unknown seccomp operator `%.100s`", op);
  a->index = (uint32_t)index;
  a->op = (enum berth_seccomp_op)n;
  return 0;
}

static int parse_seccomp_args(const json_t *o, const char *path, struct berth_seccomp_rule *r, berth_error_t *err)
{
  json_t *a = NULL, *v;
  size_t i;
  char apath[128];
  if (opt_array(o, path, "args", &a, err) < 0)
    return -1;
  if (json_array_size(a) > MAX_SECCOMP_ARGS)
    return field_error(err, path, "args", "more than %d arguments", MAX_SECCOMP_ARGS);
  r->args = xcalloc(json_array_size(a), sizeof(*r->args));
  json_array_foreach(a, i, v)
  {
    element_path(apath, sizeof(apath), path, "args", i);
    if (parse_seccomp_arg(v, apath, &r->args[i], err) < 0)
      return -1;
    r->n_args++;
  }
  return 0;
}

static int parse_seccomp_rule(const json_t *o, const char *path, struct berth_seccomp_rule *r, berth_error_t *err)
{
  if (!json_is_object(o))
    return field_error(err, path, "", "expected an object");
  if (opt_strv(o, path, "names", &r->names, err) < 0)
    return -1;
  if (!r->names[0])
    return field_error(err, path, "names", "must not be empty");
  if (seccomp_action(o, path, "action", &r->action, err) < 0 ||
      opt_u32(o, path, "errnoRet", &r->errno_ret, &r->has_errno, err) < 0)
    return -1;
  return parse_seccomp_args(o, path, r, err);
}

static int parse_seccomp_rules(const json_t *sc, struct berth_spec_seccomp *s, berth_error_t *err)
{
  json_t *a = NULL, *v;
  size_t i;
  char path[64];
  if (opt_array(sc, "linux.seccomp", "syscalls", &a, err) < 0)
    return -1;
  s->rules = xcalloc(json_array_size(a), sizeof(*s->rules));
  json_array_foreach(a, i, v)
  {
    element_path(path, sizeof(path), "linux.seccomp", "syscalls", i);
    s->n_rules++;
    if (parse_seccomp_rule(v, path, &s->rules[i], err) < 0)
      return -1;
  }
  return 0;
}

static int parse_seccomp(const json_t *lnx, struct berth_spec *spec, berth_error_t *err)
{
  const char *p = "linux.seccomp";
  json_t *sc = NULL;
  struct berth_spec_seccomp *s;
  if (opt_object(lnx, "linux", "seccomp", &sc, err) < 0)
    return -1;
  if (!sc)
    return 0;
  s = spec->seccomp = xcalloc(1, sizeof(*s));
  if (seccomp_action(sc, p, "defaultAction", &s->default_action, err) < 0 ||
      opt_u32(sc, p, "defaultErrnoRet", &s->default_errno, &s->has_default_errno, err) < 0 ||
      opt_strv(sc, p, "architectures", &s->architectures, err) < 0 || opt_strv(sc, p, "flags", &s->flags, err) < 0)
    return -1;
  return parse_seccomp_rules(sc, s, err);
}

/* ---------------------------------------------------------------- linux: the rest */

static int parse_sysctls(const json_t *lnx, struct berth_spec *spec, berth_error_t *err)
{
  json_t *o = NULL, *v;
  const char *key;
  if (opt_object(lnx, "linux", "sysctl", &o, err) < 0)
    return -1;
  spec->sysctls = xcalloc(json_object_size(o), sizeof(*spec->sysctls));
  json_object_foreach(o, key, v)
  {
    /* A key becomes a path under /proc/sys: no way out of it. */
    if (!key[0] || strstr(key, "..") || key[0] == '.' || key[0] == '/' || strlen(key) > 4096)
      return field_error(err, "linux", "sysctl", "invalid key `%.100s`", key);
    if (check_string(v, "linux.sysctl", key, err) < 0)
      return -1;
    spec->sysctls[spec->n_sysctls].key = xstrdup(key);
    spec->sysctls[spec->n_sysctls++].value = xstrdup(json_string_value(v));
  }
  return 0;
}

static int parse_propagation(const json_t *lnx, struct berth_spec *spec, berth_error_t *err)
{
  static const char *const modes[] = {"shared", "slave",    "private",    "rshared", "rslave",
                                      "rprivate", "unbindable", "runbindable", NULL};
  if (opt_str(lnx, "linux", "rootfsPropagation", &spec->rootfs_propagation, err) < 0)
    return -1;
  if (!spec->rootfs_propagation)
    return 0;
  for (const char *const *m = modes; *m; m++)
    if (strcmp(*m, spec->rootfs_propagation) == 0)
      return 0;
  return field_error(err, "linux", "rootfsPropagation", "unknown propagation `%.100s`", spec->rootfs_propagation);
}

static int parse_linux(const json_t *doc, struct berth_spec *spec, berth_error_t *err)
{
  json_t *lnx = NULL;
  if (opt_object(doc, "", "linux", &lnx, err) < 0)
    return -1;
  if (parse_namespaces(lnx, spec, err) < 0 || parse_devices(lnx, spec, err) < 0 ||
      parse_resources(lnx, &spec->resources, err) < 0 ||
      opt_str(lnx, "linux", "cgroupsPath", &spec->cgroups_path, err) < 0 ||
      clean_path_strv(lnx, "linux", "maskedPaths", &spec->masked_paths, err) < 0 ||
      clean_path_strv(lnx, "linux", "readonlyPaths", &spec->readonly_paths, err) < 0 ||
      parse_propagation(lnx, spec, err) < 0 || parse_sysctls(lnx, spec, err) < 0)
    return -1;
  return parse_seccomp(lnx, spec, err);
}

/* ---------------------------------------------------------------- entry points */

static int parse_version(const json_t *doc, struct berth_spec *spec, berth_error_t *err)
{
  if (req_str(doc, "", "ociVersion", &spec->oci_version, err) < 0)
    return -1;
  if (strncmp(spec->oci_version, "1.", 2) != 0)
    return field_error(err, "", "ociVersion", "unsupported version `%.40s`", spec->oci_version);
  return 0;
}

static void resources_init(struct berth_spec_resources *r)
{
  r->memory_limit = r->memory_reservation = r->memory_swap = r->memory_swappiness = BERTH_SPEC_UNSET;
  r->cpu_shares = r->cpu_quota = r->cpu_period = r->pids_limit = r->blkio_weight = BERTH_SPEC_UNSET;
}

struct berth_spec *berth_spec_parse(const json_t *doc, const char *bundle, berth_error_t *err)
{
  struct berth_spec *spec = NULL;
  if (!json_is_object(doc)) {
    berth_error_set_plain(err, EINVAL, "config.json: expected an object");
    return NULL;
  }
  spec = xcalloc(1, sizeof(*spec));
  resources_init(&spec->resources);
  if (parse_version(doc, spec, err) < 0 || parse_process(doc, &spec->process, err) < 0 ||
      parse_root(doc, bundle, spec, err) < 0 || opt_str(doc, "", "hostname", &spec->hostname, err) < 0 ||
      parse_mounts(doc, spec, err) < 0 || parse_linux(doc, spec, err) < 0 || parse_hooks(doc, &spec->hooks, err) < 0 ||
      parse_annotations(doc, spec, err) < 0) {
    berth_spec_free(spec);
    return NULL;
  }
  return spec;
}

struct berth_spec *berth_spec_load_at(int dirfd, const char *path, const char *bundle, berth_error_t *err)
{
  cleanup_free char *buf = NULL;
  cleanup_json json_t *doc = NULL;
  size_t len = 0;
  struct berth_spec *spec;
  if (berth_read_file_at(dirfd, path, &buf, &len, err) < 0)
    return NULL;
  if (len > MAX_CONFIG_SIZE) {
    berth_error_set_plain(err, EFBIG, "`%s`: larger than %u bytes", path, MAX_CONFIG_SIZE);
    return NULL;
  }
  if (!(doc = berth_json_loadb(buf, len, path, err)))
    return NULL;
  if (!(spec = berth_spec_parse(doc, bundle, err)))
    berth_error_prefix(err, "`%s`", path);
  return spec;
}

const char *berth_spec_annotation(const struct berth_spec *spec, const char *key)
{
  return spec ? berth_json_str(spec->annotations, key) : NULL;
}

/* ---------------------------------------------------------------- free */

static void hooks_free(struct berth_spec_hook *h, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(h[i].path);
    berth_strv_free(h[i].args);
    berth_strv_free(h[i].env);
  }
  free(h);
}

static void seccomp_free(struct berth_spec_seccomp *s)
{
  if (!s)
    return;
  for (size_t i = 0; i < s->n_rules; i++) {
    berth_strv_free(s->rules[i].names);
    free(s->rules[i].args);
  }
  free(s->rules);
  berth_strv_free(s->architectures);
  berth_strv_free(s->flags);
  free(s);
}

static void process_free(struct berth_spec_process *p)
{
  free(p->user.additional_gids);
  berth_strv_free(p->args);
  berth_strv_free(p->env);
  free(p->cwd);
  free(p->rlimits);
}

static void linux_free(struct berth_spec *spec)
{
  for (size_t i = 0; i < spec->n_namespaces; i++)
    free(spec->namespaces[i].path);
  free(spec->namespaces);
  for (size_t i = 0; i < spec->n_devices; i++)
    free(spec->devices[i].path);
  free(spec->devices);
  free(spec->resources.cpuset_cpus);
  free(spec->resources.cpuset_mems);
  free(spec->resources.devices);
  for (int k = 0; k < BERTH_THROTTLE_N; k++)
    free(spec->resources.throttle[k]);
  free(spec->cgroups_path);
  berth_strv_free(spec->masked_paths);
  berth_strv_free(spec->readonly_paths);
  free(spec->rootfs_propagation);
  for (size_t i = 0; i < spec->n_sysctls; i++) {
    free(spec->sysctls[i].key);
    free(spec->sysctls[i].value);
  }
  free(spec->sysctls);
  seccomp_free(spec->seccomp);
}

void berth_spec_free(struct berth_spec *spec)
{
  if (!spec)
    return;
  free(spec->oci_version);
  process_free(&spec->process);
  free(spec->root_path);
  free(spec->hostname);
  for (size_t i = 0; i < spec->n_mounts; i++) {
    free(spec->mounts[i].destination);
    free(spec->mounts[i].type);
    free(spec->mounts[i].source);
    berth_strv_free(spec->mounts[i].options);
  }
  free(spec->mounts);
  linux_free(spec);
  hooks_free(spec->hooks.create_runtime, spec->hooks.n_create_runtime);
  hooks_free(spec->hooks.create_container, spec->hooks.n_create_container);
  hooks_free(spec->hooks.start_container, spec->hooks.n_start_container);
  hooks_free(spec->hooks.poststart, spec->hooks.n_poststart);
  hooks_free(spec->hooks.poststop, spec->hooks.n_poststop);
  json_decref(spec->annotations);
  free(spec);
}
