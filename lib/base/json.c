/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JSON helpers on top of jansson: strict loading with clear errors, atomic dumps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "base/json.h"

json_t *berth_json_loadb(const char *buf, size_t len, const char *what, berth_error_t *err)
{
  json_error_t je;
  json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!j) {
    berth_error_set_plain(err, EINVAL, "parse %s: %s (line %d, column %d)", what, je.text, je.line, je.column);
    return NULL;
  }
  return j;
}

json_t *berth_json_load_at(int dirfd, const char *path, berth_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0;
  if (berth_read_file_at(dirfd, path, &buf, &len, err) < 0)
    return NULL;
  return berth_json_loadb(buf, len, path, err);
}

char *berth_json_dumps(const json_t *j)
{
  char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
  if (!s)
    abort();
  return s;
}

int berth_json_write_atomic(int dirfd, const char *name, const json_t *j, berth_error_t *err)
{
  cleanup_free char *s = berth_json_dumps(j);
  return berth_write_file_atomic(dirfd, name, s, strlen(s), 0644, err);
}

int berth_json_write_replace(int dirfd, const char *name, const json_t *j, berth_error_t *err)
{
  cleanup_free char *s = berth_json_dumps(j);
  return berth_write_file_replace(dirfd, name, s, strlen(s), 0644, err);
}

const char *berth_json_str(const json_t *obj, const char *key)
{
  json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

json_int_t berth_json_int(const json_t *obj, const char *key, json_int_t dflt)
{
  json_t *v = json_object_get(obj, key);
  return json_is_integer(v) ? json_integer_value(v) : dflt;
}

void berth_json_env_set(json_t *env, const char *kv)
{
  size_t klen = strcspn(kv, "="), i;
  json_t *v;
  json_array_foreach(env, i, v)
  {
    const char *s = json_string_value(v);
    if (s && strncmp(s, kv, klen) == 0 && s[klen] == '=') {
      if (kv[klen] == '=')
        json_array_set_new(env, i, json_string(kv));
      else
        json_array_remove(env, i);
      return;
    }
  }
  if (kv[klen] == '=' && klen > 0)
    json_array_append_new(env, json_string(kv));
}

json_t *berth_json_strv(char *const *v)
{
  json_t *a = json_array();
  for (; v && *v; v++)
    json_array_append_new(a, json_string(*v));
  return a;
}
