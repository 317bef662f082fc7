/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Values of an execution: JSON seen as Go values.  An object is a Go map
 * or a Go struct (enum berth_template_missing and map_fields decide), which
 * sets its truth, its type name and what a missing key does.  Temporary values
 * are kept in a pool that the executor releases after each action and loop
 * iteration. */
#include <stdlib.h>
#include <string.h>

#include "template-internal.h"

const char *const berth_template_docker_map_fields[] = {
    "Labels", "Options", "DriverOpts", "Networks", "Ports",       "ExposedPorts", "Volumes",
    "Data",   "Sysctls", "StorageOpt", "Tmpfs",    "Annotations", "Containers",   NULL,
};

const struct val tpl_missing_val = {NULL, false};

json_t *tpl_keep(struct state *s, json_t *j)
{
  if (!j)
    abort();
  if (s->npool == s->cap_pool) {
    s->cap_pool = s->cap_pool ? s->cap_pool * 2 : 64;
    s->pool = realloc(s->pool, s->cap_pool * sizeof(*s->pool));
    if (!s->pool)
      abort();
  }
  s->pool[s->npool++] = j;
  return j;
}

void tpl_release_pool(struct state *s, size_t mark)
{
  while (s->npool > mark)
    json_decref(s->pool[--s->npool]);
}

struct val tpl_v_str(struct state *s, const char *p, size_t n)
{
  return (struct val){tpl_keep(s, json_stringn_nocheck(p ? p : "", n)), false};
}

struct val tpl_v_int(struct state *s, int64_t i)
{
  return (struct val){tpl_keep(s, json_integer(i)), false};
}

struct val tpl_v_bool(bool b)
{
  return (struct val){b ? json_true() : json_false(), false};
}

struct val tpl_v_null(void)
{
  return (struct val){json_null(), false};
}

bool tpl_is_missing(struct val v)
{
  return v.j == NULL;
}

/* Go's indirectInterface: null (a nil interface) is invalid too. */
bool tpl_is_nil(struct val v)
{
  return !v.j || json_is_null(v.j);
}

static bool in_map_fields(const struct state *s, const char *key)
{
  for (size_t i = 0; s->map_fields[i]; i++)
    if (strcmp(s->map_fields[i], key) == 0)
      return true;
  return false;
}

/* The value of member `key`: a map when every object is, or when the key is
 * one of the map-typed members. */
struct val tpl_member_val(const struct state *s, const char *key, json_t *j)
{
  return (struct val){j, s->opts->missing != BERTH_TEMPLATE_STRUCT || in_map_fields(s, key)};
}

bool tpl_is_struct(const struct state *s, struct val v)
{
  return v.j && json_is_object(v.j) && !v.map && s->opts->missing == BERTH_TEMPLATE_STRUCT;
}

const char *tpl_type_name(const struct state *s, struct val v)
{
  if (!v.j)
    return "<nil>";
  switch (json_typeof(v.j)) {
  case JSON_OBJECT:
    if (tpl_is_struct(s, v) && v.j == s->root && s->opts->type_name)
      return s->opts->type_name;
    return "map[string]interface {}";
  case JSON_ARRAY:
    return "[]interface {}";
  case JSON_STRING:
    return "string";
  case JSON_INTEGER:
    return "int";
  case JSON_REAL:
    return "float64";
  case JSON_TRUE:
  case JSON_FALSE:
    return "bool";
  case JSON_NULL:
  default:
    return "interface {}";
  }
}

bool tpl_truth(const struct state *s, struct val v)
{
  if (!v.j)
    return false;
  switch (json_typeof(v.j)) {
  case JSON_OBJECT:
    return tpl_is_struct(s, v) || json_object_size(v.j) > 0;
  case JSON_ARRAY:
    return json_array_size(v.j) > 0;
  case JSON_STRING:
    return json_string_length(v.j) > 0;
  case JSON_INTEGER:
    return json_integer_value(v.j) != 0;
  case JSON_REAL:
    return json_real_value(v.j) != 0;
  case JSON_TRUE:
    return true;
  case JSON_FALSE:
  case JSON_NULL:
  default:
    return false;
  }
}

static int member_cmp(const void *a, const void *b)
{
  const struct member *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->key, y->key, n);
  if (c)
    return c;
  return x->len < y->len ? -1 : x->len > y->len;
}

struct member *tpl_object_members(json_t *obj, bool sorted, size_t *ret_n)
{
  size_t n = json_object_size(obj), i = 0;
  struct member *m = malloc((n ? n : 1) * sizeof(*m));
  if (!m)
    abort();
  for (void *it = json_object_iter(obj); it && i < n; it = json_object_iter_next(obj, it), i++) {
    m[i].key = json_object_iter_key(it);
    m[i].len = json_object_iter_key_len(it);
    m[i].v = json_object_iter_value(it);
  }
  if (sorted && i > 1)
    qsort(m, i, sizeof(*m), member_cmp);
  *ret_n = i;
  return m;
}
