/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One CDI spec file: parsed (YAML or JSON), then checked field by field with
 * strict decoding (an unknown field rejects the file, as the reference's
 * strict unmarshalling does) and the version floor: a file may only use what
 * its cdiVersion has.  Numbers written as YAML scalars become integers here,
 * so that the document has one shape whatever the file's syntax. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "cdi/cdi.h"

#define V(a, b, c) ((a) * 10000 + (b) * 100 + (c))
#define V_MIN V(0, 3, 0)
#define V_CURRENT V(1, 1, 0)

struct check {
  const char *file;
  bool yaml;
  int need; /* the lowest version that has everything seen so far */
  berth_error_t *err;
};

__attribute__((format(printf, 3, 4))) static int bad(struct check *c, const char *field, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (field && *field)
    return berth_error_set_plain(c->err, EINVAL, "%s: %s: %s", c->file, field, msg);
  return berth_error_set_plain(c->err, EINVAL, "%s: %s", c->file, msg);
}

static void needs(struct check *c, int version)
{
  if (version > c->need)
    c->need = version;
}

static void join(char *out, size_t n, const char *parent, const char *key, long index)
{
  if (index >= 0)
    snprintf(out, n, "%s%s%s[%ld]", parent, *parent ? "." : "", key, index);
  else
    snprintf(out, n, "%s%s%s", parent, *parent ? "." : "", key);
}

static int only_keys(struct check *c, const json_t *o, const char *field, const char *const *allowed)
{
  const char *key;
  json_t *v;
  if (!json_is_object(o))
    return bad(c, field, "expected an object");
  json_object_foreach((json_t *)o, key, v)
  {
    bool known = false;
    for (const char *const *a = allowed; *a && !known; a++)
      known = strcmp(*a, key) == 0;
    if (!known)
      return bad(c, field, "unknown field `%s`", key);
  }
  return 0;
}

/* A string member; null is absent.  Returns 1 present, 0 absent, -1 bad. */
static int str_field(struct check *c, const json_t *o, const char *key, const char *parent, bool required,
                     const char **ret)
{
  char field[256];
  json_t *v = json_object_get(o, key);
  join(field, sizeof field, parent, key, -1);
  *ret = NULL;
  if (!v || json_is_null(v))
    return required ? bad(c, field, "required") : 0;
  if (!json_is_string(v))
    return bad(c, field, "expected a string");
  *ret = json_string_value(v);
  if (required && !**ret)
    return bad(c, field, "must not be empty");
  return 1;
}

/* YAML 1.1 integers as Go's yaml decoder reads them: decimal, 0x hex, 0o
 * or leading-0 octal, with a sign. */
static bool yaml_int(const char *s, long long *ret)
{
  int base = 10;
  const char *p = s + (*s == '-' || *s == '+');
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
    base = 16, p += 2;
  else if (p[0] == '0' && p[1] == 'o')
    base = 8, p += 2;
  else if (p[0] == '0' && p[1])
    base = 8, p += 1;
  if (!*p)
    return false;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(p, &end, base);
  if (errno || *end)
    return false;
  *ret = *s == '-' ? -v : v;
  return true;
}

/* An integer member in [min, max]; a YAML string becomes the integer. */
static int int_field(struct check *c, json_t *o, const char *key, const char *parent, long long min, long long max,
                     bool *ret_present)
{
  char field[256];
  json_t *v = json_object_get(o, key);
  long long n;
  join(field, sizeof field, parent, key, -1);
  *ret_present = false;
  if (!v || json_is_null(v))
    return 0;
  if (json_is_integer(v))
    n = json_integer_value(v);
  else if (c->yaml && json_is_string(v) && yaml_int(json_string_value(v), &n))
    json_object_set_new(o, key, json_integer(n));
  else
    return bad(c, field, "expected an integer");
  if (n < min || n > max)
    return bad(c, field, "%lld is out of range", n);
  *ret_present = true;
  return 0;
}

static int annotations(struct check *c, const json_t *o, const char *parent)
{
  char field[256];
  json_t *a = json_object_get(o, "annotations"), *v;
  const char *k;
  join(field, sizeof field, parent, "annotations", -1);
  if (!a || json_is_null(a))
    return 0;
  needs(c, V(0, 6, 0));
  if (!json_is_object(a))
    return bad(c, field, "expected a map of strings");
  json_object_foreach(a, k, v)
  {
    if (!json_is_string(v))
      return bad(c, field, "value of `%s` is not a string", k);
  }
  return 0;
}

/* The list member `key` of o (absent: empty), each element checked by fn;
 * `what` ("a list") is what it is expected to be when it is not a list. */
static int list_of(struct check *c, json_t *o, const char *key, const char *parent, const char *what,
                   int (*fn)(struct check *, json_t *, const char *))
{
  char field[256];
  json_t *a = json_object_get(o, key), *v;
  size_t i;
  join(field, sizeof field, parent, key, -1);
  if (!a || json_is_null(a))
    return 0;
  if (!json_is_array(a))
    return bad(c, field, "expected %s", what);
  json_array_foreach(a, i, v)
  {
    join(field, sizeof field, parent, key, (long)i);
    if (fn(c, v, field) < 0)
      return -1;
  }
  return 0;
}

static int each(struct check *c, json_t *o, const char *key, const char *parent,
                int (*fn)(struct check *, json_t *, const char *))
{
  return list_of(c, o, key, parent, "a list", fn);
}

static int string_entry(struct check *c, json_t *v, const char *field)
{
  return json_is_string(v) ? 0 : bad(c, field, "expected a string");
}

static int strv_field(struct check *c, json_t *o, const char *key, const char *parent)
{
  return list_of(c, o, key, parent, "a list of strings", string_entry);
}

static int env_entry(struct check *c, json_t *v, const char *field)
{
  if (string_entry(c, v, field) < 0)
    return -1;
  const char *s = json_string_value(v);
  if (!strchr(s, '=') || s[0] == '=')
    return bad(c, field, "`%s` is not KEY=VALUE", s);
  return 0;
}

static int abs_path(struct check *c, const char *field, const char *p)
{
  if (p[0] != '/')
    return bad(c, field, "`%s` is not an absolute path", p);
  return 0;
}

static int device_node(struct check *c, json_t *v, const char *field)
{
  static const char *const keys[] = {"path", "hostPath", "type", "major", "minor", "fileMode", "permissions", "uid",
                                     "gid", NULL};
  const char *path, *host, *type, *perms;
  char sub[288];
  bool set;
  if (only_keys(c, v, field, keys) < 0 || str_field(c, v, "path", field, true, &path) < 0 ||
      str_field(c, v, "hostPath", field, false, &host) < 0 || str_field(c, v, "type", field, false, &type) < 0 ||
      str_field(c, v, "permissions", field, false, &perms) < 0)
    return -1;
  join(sub, sizeof sub, field, "path", -1);
  if (abs_path(c, sub, path) < 0)
    return -1;
  if (host) {
    needs(c, V(0, 5, 0));
    join(sub, sizeof sub, field, "hostPath", -1);
    if (abs_path(c, sub, host) < 0)
      return -1;
  }
  join(sub, sizeof sub, field, "type", -1);
  if (type && *type && strcmp(type, "c") && strcmp(type, "b") && strcmp(type, "p") && strcmp(type, "u"))
    return bad(c, sub, "unknown device type `%s` (c, b or p)", type);
  join(sub, sizeof sub, field, "permissions", -1);
  if (perms && *perms && strcmp(perms, "none") && (strspn(perms, "rwm") != strlen(perms) || strlen(perms) > 3))
    return bad(c, sub, "`%s` is not a combination of r, w and m (or none)", perms);
  if (int_field(c, v, "major", field, 0, UINT32_MAX, &set) < 0 || int_field(c, v, "minor", field, 0, UINT32_MAX, &set) < 0 ||
      int_field(c, v, "fileMode", field, 0, 07777, &set) < 0 || int_field(c, v, "uid", field, 0, UINT32_MAX, &set) < 0 ||
      int_field(c, v, "gid", field, 0, UINT32_MAX, &set) < 0)
    return -1;
  return 0;
}

static int mount(struct check *c, json_t *v, const char *field)
{
  static const char *const keys[] = {"hostPath", "containerPath", "type", "options", NULL};
  const char *host, *ctr, *type;
  char sub[288];
  if (only_keys(c, v, field, keys) < 0 || str_field(c, v, "hostPath", field, true, &host) < 0 ||
      str_field(c, v, "containerPath", field, true, &ctr) < 0 || str_field(c, v, "type", field, false, &type) < 0 ||
      strv_field(c, v, "options", field) < 0)
    return -1;
  if (type)
    needs(c, V(0, 4, 0));
  join(sub, sizeof sub, field, "containerPath", -1);
  return abs_path(c, sub, ctr);
}

static int hook(struct check *c, json_t *v, const char *field)
{
  static const char *const keys[] = {"hookName", "path", "args", "env", "timeout", NULL};
  static const char *const names[] = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
                                      "poststop", NULL};
  const char *name, *path;
  char sub[288];
  bool set;
  if (only_keys(c, v, field, keys) < 0 || str_field(c, v, "hookName", field, true, &name) < 0 ||
      str_field(c, v, "path", field, true, &path) < 0 || strv_field(c, v, "args", field) < 0 ||
      each(c, v, "env", field, env_entry) < 0 || int_field(c, v, "timeout", field, 1, INT32_MAX, &set) < 0)
    return -1;
  bool known = false;
  for (const char *const *n = names; *n && !known; n++)
    known = strcmp(*n, name) == 0;
  join(sub, sizeof sub, field, "hookName", -1);
  if (!known)
    return bad(c, sub, "unknown hook `%s`", name);
  join(sub, sizeof sub, field, "path", -1);
  return abs_path(c, sub, path);
}

/* additionalGids: integers, YAML strings converted in a new list. */
static int gids(struct check *c, json_t *edits, const char *parent)
{
  char field[256];
  json_t *a = json_object_get(edits, "additionalGids"), *v;
  size_t i;
  if (!a || json_is_null(a))
    return 0;
  needs(c, V(0, 7, 0));
  join(field, sizeof field, parent, "additionalGids", -1);
  if (!json_is_array(a))
    return bad(c, field, "expected a list of integers");
  json_t *out = json_array();
  json_array_foreach(a, i, v)
  {
    long long n = 0;
    join(field, sizeof field, parent, "additionalGids", (long)i);
    bool ok = json_is_integer(v) ? (n = json_integer_value(v), true)
                                 : c->yaml && json_is_string(v) && yaml_int(json_string_value(v), &n);
    if (!ok || n < 0 || n > UINT32_MAX) {
      json_decref(out);
      return ok ? bad(c, field, "%lld is out of range", n) : bad(c, field, "expected an integer");
    }
    json_array_append_new(out, json_integer(n));
  }
  json_object_set_new(edits, "additionalGids", out);
  return 0;
}

static int intel_rdt(struct check *c, json_t *edits, const char *parent)
{
  static const char *const keys[] = {"closID", "l3CacheSchema", "memBwSchema", "schemata", "enableMonitoring", NULL};
  char field[256];
  const char *s;
  json_t *r = json_object_get(edits, "intelRdt");
  if (!r || json_is_null(r))
    return 0;
  needs(c, V(0, 7, 0));
  join(field, sizeof field, parent, "intelRdt", -1);
  if (only_keys(c, r, field, keys) < 0 || str_field(c, r, "closID", field, false, &s) < 0 ||
      str_field(c, r, "l3CacheSchema", field, false, &s) < 0 || str_field(c, r, "memBwSchema", field, false, &s) < 0 ||
      strv_field(c, r, "schemata", field) < 0)
    return -1;
  if (json_object_get(r, "schemata") || json_object_get(r, "enableMonitoring"))
    needs(c, V(1, 1, 0));
  return 0;
}

static int net_device(struct check *c, json_t *v, const char *field)
{
  static const char *const keys[] = {"hostInterfaceName", "name", NULL};
  const char *s;
  if (only_keys(c, v, field, keys) < 0 || str_field(c, v, "hostInterfaceName", field, true, &s) < 0 ||
      str_field(c, v, "name", field, true, &s) < 0)
    return -1;
  return 0;
}

/* Returns 1 when the edits are empty. */
static int container_edits(struct check *c, json_t *e, const char *field)
{
  static const char *const keys[] = {"env", "deviceNodes", "hooks", "mounts", "intelRdt", "additionalGids", "netDevices",
                                     NULL};
  if (only_keys(c, e, field, keys) < 0 || each(c, e, "env", field, env_entry) < 0 ||
      each(c, e, "deviceNodes", field, device_node) < 0 || each(c, e, "mounts", field, mount) < 0 ||
      each(c, e, "hooks", field, hook) < 0 || gids(c, e, field) < 0 || intel_rdt(c, e, field) < 0 ||
      each(c, e, "netDevices", field, net_device) < 0)
    return -1;
  if (json_array_size(json_object_get(e, "netDevices")))
    needs(c, V(1, 1, 0));
  for (const char *const *k = keys; *k; k++) {
    json_t *v = json_object_get(e, *k);
    if (v && !json_is_null(v) && !(json_is_array(v) && json_array_size(v) == 0))
      return 0;
  }
  return 1;
}

static bool is_alpha(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }
static bool is_alnum(char ch) { return is_alpha(ch) || (ch >= '0' && ch <= '9'); }

/* vendor and class: a letter first, a letter or digit last, inner [A-Za-z0-9_.-]
 * (a class takes no dot, the vendor's domain does). */
static bool valid_part(const char *s, size_t n, const char *inner)
{
  if (n == 0 || !is_alpha(s[0]) || !is_alnum(s[n - 1]))
    return false;
  for (size_t i = 1; i + 1 < n; i++)
    if (!is_alnum(s[i]) && !strchr(inner, s[i]))
      return false;
  return true;
}

static bool valid_name(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
    return false;
  for (size_t i = 1; i + 1 < n; i++)
    if (!is_alnum(s[i]) && !strchr("_-.:", s[i]))
      return false;
  return true;
}

bool berth_cdi_parse_qualified(const char *s, char **ret_vendor, char **ret_class, char **ret_name)
{
  const char *slash = s ? strchr(s, '/') : NULL, *eq = slash ? strchr(slash, '=') : NULL;
  if (!slash || !eq || !valid_part(s, (size_t)(slash - s), "_.-") ||
      !valid_part(slash + 1, (size_t)(eq - slash - 1), "_.-") || !valid_name(eq + 1))
    return false;
  if (ret_vendor && !(*ret_vendor = strndup(s, (size_t)(slash - s))))
    abort();
  if (ret_class && !(*ret_class = strndup(slash + 1, (size_t)(eq - slash - 1))))
    abort();
  if (ret_name && !(*ret_name = strdup(eq + 1)))
    abort();
  return true;
}

static int kind(struct check *c, const char *k)
{
  const char *slash = strchr(k, '/');
  if (!slash || !valid_part(k, (size_t)(slash - k), "_.-") || !valid_part(slash + 1, strlen(slash + 1), "_.-"))
    return bad(c, "kind", "`%s` is not vendor/class", k);
  if (strchr(slash + 1, '.'))
    needs(c, V(0, 6, 0));
  return 0;
}

static int parse_version(const char *s, int *ret)
{
  unsigned a, b, p;
  int end = 0;
  if (sscanf(s, "%u.%u.%u%n", &a, &b, &p, &end) != 3 || s[end] || a > 99 || b > 99 || p > 99)
    return -1;
  *ret = (int)V(a, b, p);
  return 0;
}

static int device(struct check *c, json_t *d, const char *field)
{
  static const char *const keys[] = {"name", "annotations", "containerEdits", NULL};
  const char *name;
  char sub[288];
  if (only_keys(c, d, field, keys) < 0 || str_field(c, d, "name", field, true, &name) < 0 || annotations(c, d, field) < 0)
    return -1;
  join(sub, sizeof sub, field, "name", -1);
  if (!valid_name(name))
    return bad(c, sub, "invalid device name `%s`", name);
  if (name[0] >= '0' && name[0] <= '9')
    needs(c, V(0, 5, 0));
  join(sub, sizeof sub, field, "containerEdits", -1);
  json_t *e = json_object_get(d, "containerEdits");
  if (!e || json_is_null(e))
    return bad(c, sub, "required");
  int empty = container_edits(c, e, sub);
  if (empty < 0)
    return -1;
  return empty ? bad(c, sub, "must not be empty") : 0;
}

static int check_spec(struct check *c, json_t *doc)
{
  static const char *const keys[] = {"cdiVersion", "kind", "annotations", "devices", "containerEdits", NULL};
  const char *version, *k;
  int v;
  if (only_keys(c, doc, "", keys) < 0 || str_field(c, doc, "cdiVersion", "", true, &version) < 0 ||
      str_field(c, doc, "kind", "", true, &k) < 0)
    return -1;
  if (parse_version(version, &v) < 0 || v < V_MIN || v > V_CURRENT)
    return bad(c, "cdiVersion", "unsupported version `%s` (0.3.0 to 1.1.0)", version);
  if (kind(c, k) < 0 || annotations(c, doc, "") < 0)
    return -1;
  json_t *edits = json_object_get(doc, "containerEdits");
  if (edits && !json_is_null(edits) && container_edits(c, edits, "containerEdits") < 0)
    return -1;
  json_t *devs = json_object_get(doc, "devices");
  if (!json_is_array(devs) || json_array_size(devs) == 0)
    return bad(c, "devices", devs ? "expected a non-empty list" : "required");
  if (each(c, doc, "devices", "", device) < 0)
    return -1;
  for (size_t i = 0; i < json_array_size(devs); i++)
    for (size_t j = 0; j < i; j++)
      if (json_equal(json_object_get(json_array_get(devs, i), "name"), json_object_get(json_array_get(devs, j), "name"))) {
        char field[64];
        snprintf(field, sizeof field, "devices[%zu].name", i);
        return bad(c, field, "duplicate device `%s`", berth_json_str(json_array_get(devs, i), "name"));
      }
  if (c->need > v) {
    char need[16];
    snprintf(need, sizeof need, "%d.%d.%d", c->need / 10000, c->need / 100 % 100, c->need % 100);
    return bad(c, "cdiVersion", "`%s` is too old for the fields used (they need %s)", version, need);
  }
  return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

json_t *berth_cdi_spec_parse(const char *text, size_t len, const char *path, berth_error_t *err)
{
  struct check c = {.file = path, .yaml = !ends_with(path, ".json"), .need = V_MIN, .err = err};
  cleanup_json json_t *doc = NULL;
  if (c.yaml) {
    doc = berth_cdi_yaml_load(text, len, err);
    if (!doc)
      return berth_error_prefix(err, "%s", path), NULL;
  } else {
    json_error_t je;
    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
      return berth_error_set_plain(err, EINVAL, "%s: line %d column %d: %s", path, je.line, je.column, je.text), NULL;
  }
  if (!json_is_object(doc))
    return bad(&c, "", "expected a mapping at the top"), NULL;
  if (check_spec(&c, doc) < 0)
    return NULL;
  return steal_ptr(&doc);
}
