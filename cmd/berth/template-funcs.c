/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The template functions: Go's builtins (text/template/funcs.go: and, or,
 * not, len, index, slice, print, printf, println, html, js, urlquery, call,
 * eq, ne, lt, le, gt, ge) and docker's (docker/cli templates.go: json, split,
 * join, title, lower, upper, pad, truncate), with the header variants docker
 * uses for table headings, and encoding/json for the json function. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template-internal.h"

/* ======================================================================
 * encoding/json, as docker's json function (SetEscapeHTML(false))
 * ====================================================================== */

/* encoding/json's float64 encoding. */
static void json_float(struct buf *b, double v)
{
  double a = fabs(v);
  size_t start = b->len;
  char fmtc = (a != 0 && (a < 1e-6 || a >= 1e21)) ? 'e' : 'f';
  tpl_go_format_float(b, v, fmtc, -1);
  if (fmtc == 'e') {
    size_t n = b->len - start;
    char *p = b->p + start;
    /* clean up e-09 to e-9 */
    if (n >= 4 && p[n - 4] == 'e' && p[n - 3] == '-' && p[n - 2] == '0') {
      p[n - 2] = p[n - 1];
      b->len--;
      b->p[b->len] = '\0';
    }
  }
}

static void json_string_out(struct buf *b, const char *s, size_t n)
{
  tpl_buf_addc(b, '"');
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
      if (c >= 0x20 && c != '"' && c != '\\') {
        tpl_buf_addc(b, (char)c);
      } else {
        switch (c) {
        case '"': tpl_buf_adds(b, "\\\""); break;
        case '\\': tpl_buf_adds(b, "\\\\"); break;
        case '\b': tpl_buf_adds(b, "\\b"); break;
        case '\f': tpl_buf_adds(b, "\\f"); break;
        case '\n': tpl_buf_adds(b, "\\n"); break;
        case '\r': tpl_buf_adds(b, "\\r"); break;
        case '\t': tpl_buf_adds(b, "\\t"); break;
        default: tpl_buf_addf(b, "\\u00%c%c", tpl_lower_hex[c >> 4], tpl_lower_hex[c & 15]); break;
        }
      }
      i++;
      continue;
    }
    {
      uint32_t r;
      size_t w = tpl_u8_decode((const unsigned char *)s + i, n - i, &r);
      if (w == 1 && r == RUNE_ERROR)
        tpl_buf_adds(b, "\\ufffd");
      else if (r == 0x2028 || r == 0x2029)
        tpl_buf_addf(b, "\\u%04x", (unsigned)r);
      else
        tpl_buf_add(b, s + i, w);
      i += w;
    }
  }
  tpl_buf_addc(b, '"');
}

static bool json_encode(struct state *s, struct buf *b, struct val v, int depth)
{
  if (depth > MAX_VALUE_DEPTH || b->len > s->max_output)
    return false;
  if (tpl_is_nil(v)) {
    tpl_buf_adds(b, "null");
    return true;
  }
  switch (json_typeof(v.j)) {
  case JSON_TRUE:
    tpl_buf_adds(b, "true");
    return true;
  case JSON_FALSE:
    tpl_buf_adds(b, "false");
    return true;
  case JSON_INTEGER:
    tpl_buf_addf(b, "%lld", (long long)json_integer_value(v.j));
    return true;
  case JSON_REAL:
    json_float(b, json_real_value(v.j));
    return true;
  case JSON_STRING:
    json_string_out(b, json_string_value(v.j), json_string_length(v.j));
    return true;
  case JSON_ARRAY:
    tpl_buf_addc(b, '[');
    for (size_t i = 0; i < json_array_size(v.j); i++) {
      if (i)
        tpl_buf_addc(b, ',');
      if (!json_encode(s, b, (struct val){json_array_get(v.j, i), false}, depth + 1))
        return false;
    }
    tpl_buf_addc(b, ']');
    return true;
  case JSON_OBJECT: {
    size_t n;
    struct member *m = tpl_object_members(v.j, !tpl_is_struct(s, v), &n);
    bool ok = true;
    tpl_buf_addc(b, '{');
    for (size_t i = 0; i < n && ok; i++) {
      if (i)
        tpl_buf_addc(b, ',');
      json_string_out(b, m[i].key, m[i].len);
      tpl_buf_addc(b, ':');
      ok = json_encode(s, b, tpl_member_val(s, m[i].key, m[i].v), depth + 1);
    }
    tpl_buf_addc(b, '}');
    free(m);
    return ok;
  }
  case JSON_NULL:
  default:
    tpl_buf_adds(b, "null");
    return true;
  }
}

/* ======================================================================
 * Template functions (text/template/funcs.go, docker/cli templates.go)
 * ====================================================================== */

static int fn_not(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  *ret = tpl_v_bool(!tpl_truth(s, argv[0]));
  return 0;
}

static int fn_len(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  struct val v = argv[0];
  if (tpl_is_missing(v)) {
    tpl_buf_adds(msg, "reflect: call of reflect.Value.Type on zero Value");
    return -1;
  }
  switch (json_typeof(v.j)) {
  case JSON_STRING:
    *ret = tpl_v_int(s, (int64_t)json_string_length(v.j));
    return 0;
  case JSON_ARRAY:
    *ret = tpl_v_int(s, (int64_t)json_array_size(v.j));
    return 0;
  case JSON_OBJECT:
    *ret = tpl_v_int(s, (int64_t)json_object_size(v.j));
    return 0;
  case JSON_NULL: /* a nil slice or map */
    *ret = tpl_v_int(s, 0);
    return 0;
  case JSON_INTEGER:
  case JSON_REAL:
  case JSON_TRUE:
  case JSON_FALSE:
  default:
    tpl_buf_addf(msg, "len of type %s", tpl_type_name(s, v));
    return -1;
  }
}

static bool index_arg(struct state *s, struct val idx, size_t cap, int64_t *ret, struct buf *msg)
{
  if (tpl_is_nil(idx)) {
    tpl_buf_adds(msg, "cannot index slice/array with nil");
    return false;
  }
  if (!json_is_integer(idx.j)) {
    tpl_buf_addf(msg, "cannot index slice/array with type %s", tpl_type_name(s, idx));
    return false;
  }
  *ret = json_integer_value(idx.j);
  if (*ret < 0 || (uint64_t)*ret > cap) {
    tpl_buf_addf(msg, "index out of range: %lld", (long long)*ret);
    return false;
  }
  return true;
}

/* The zero value of a typed map's elements, guessed from its members:
 * "" for string maps (labels) and for empty or nil ones. */
static struct val zero_member(struct state *s, json_t *obj)
{
  void *it = obj && json_is_object(obj) ? json_object_iter(obj) : NULL;
  json_t *first = it ? json_object_iter_value(it) : NULL;
  if (s->opts->missing != BERTH_TEMPLATE_STRUCT)
    return tpl_missing_val;
  if (!first || json_is_string(first))
    return tpl_v_str(s, "", 0);
  switch (json_typeof(first)) {
  case JSON_INTEGER:
    return tpl_v_int(s, 0);
  case JSON_REAL:
    return (struct val){tpl_keep(s, json_real(0)), false};
  case JSON_TRUE:
  case JSON_FALSE:
    return tpl_v_bool(false);
  case JSON_OBJECT:
  case JSON_ARRAY:
  case JSON_STRING:
  case JSON_NULL:
  default:
    return tpl_v_null();
  }
}

static int fn_index(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  struct val item = argv[0];
  bool typed = s->opts->missing == BERTH_TEMPLATE_STRUCT;
  if (tpl_is_missing(item) || (json_is_null(item.j) && !(item.map && typed))) {
    tpl_buf_adds(msg, "index of untyped nil");
    return -1;
  }
  for (size_t i = 1; i < argc; i++) {
    struct val idx = argv[i];
    int64_t x;
    if (json_is_null(item.j)) { /* a nil map of a typed struct */
      if (idx.j && json_is_string(idx.j)) {
        item = zero_member(s, NULL);
        if (tpl_is_missing(item))
          break;
        continue;
      }
      tpl_buf_adds(msg, "index of nil pointer");
      return -1;
    }
    switch (json_typeof(item.j)) {
    case JSON_ARRAY:
      if (!index_arg(s, idx, json_array_size(item.j), &x, msg))
        return -1;
      if ((size_t)x == json_array_size(item.j)) {
        tpl_buf_adds(msg, "reflect: slice index out of range");
        return -1;
      }
      item = (struct val){json_array_get(item.j, (size_t)x), false};
      break;
    case JSON_STRING:
      if (!index_arg(s, idx, json_string_length(item.j), &x, msg))
        return -1;
      if ((size_t)x == json_string_length(item.j)) {
        tpl_buf_adds(msg, "reflect: string index out of range");
        return -1;
      }
      item = tpl_v_int(s, (unsigned char)json_string_value(item.j)[x]);
      break;
    case JSON_OBJECT: {
      json_t *m;
      if (tpl_is_nil(idx)) {
        tpl_buf_adds(msg, "value is nil; should be of type string");
        return -1;
      }
      if (!json_is_string(idx.j)) {
        tpl_buf_addf(msg, "value has type %s; should be string", tpl_type_name(s, idx));
        return -1;
      }
      m = json_object_getn(item.j, json_string_value(idx.j), json_string_length(idx.j));
      if (m)
        item = tpl_member_val(s, json_string_value(idx.j), m);
      else
        item = zero_member(s, item.j);
      if (tpl_is_missing(item)) {
        *ret = item;
        return 0;
      }
      break;
    }
    case JSON_INTEGER:
    case JSON_REAL:
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_NULL:
    default:
      tpl_buf_addf(msg, "can't index item of type %s", tpl_type_name(s, item));
      return -1;
    }
  }
  *ret = item;
  return 0;
}

static int fn_slice(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  struct val item = argv[0];
  size_t cap, idx[3];
  bool is_string;
  if (tpl_is_nil(item)) {
    tpl_buf_adds(msg, "slice of untyped nil");
    return -1;
  }
  if (argc - 1 > 3) {
    tpl_buf_addf(msg, "too many slice indexes: %zu", argc - 1);
    return -1;
  }
  is_string = json_is_string(item.j);
  if (is_string) {
    if (argc - 1 == 3) {
      tpl_buf_adds(msg, "cannot 3-index slice a string");
      return -1;
    }
    cap = json_string_length(item.j);
  } else if (json_is_array(item.j)) {
    cap = json_array_size(item.j);
  } else {
    tpl_buf_addf(msg, "can't slice item of type %s", tpl_type_name(s, item));
    return -1;
  }
  idx[0] = 0;
  idx[1] = cap;
  idx[2] = cap;
  for (size_t i = 1; i < argc; i++) {
    int64_t x;
    if (!index_arg(s, argv[i], cap, &x, msg))
      return -1;
    idx[i - 1] = (size_t)x;
  }
  if (idx[0] > idx[1]) {
    tpl_buf_addf(msg, "invalid slice index: %zu > %zu", idx[0], idx[1]);
    return -1;
  }
  if (argc - 1 == 3 && idx[1] > idx[2]) {
    tpl_buf_addf(msg, "invalid slice index: %zu > %zu", idx[1], idx[2]);
    return -1;
  }
  if (is_string) {
    *ret = tpl_v_str(s, json_string_value(item.j) + idx[0], idx[1] - idx[0]);
  } else {
    json_t *a = json_array();
    for (size_t i = idx[0]; i < idx[1]; i++)
      (void)json_array_append(a, json_array_get(item.j, i));
    *ret = (struct val){tpl_keep(s, a), false};
  }
  return 0;
}

enum bkind { K_INVALID, K_BOOL, K_INT, K_FLOAT, K_STRING };

static enum bkind basic_kind(struct val v)
{
  if (tpl_is_nil(v))
    return K_INVALID;
  switch (json_typeof(v.j)) {
  case JSON_TRUE:
  case JSON_FALSE:
    return K_BOOL;
  case JSON_INTEGER:
    return K_INT;
  case JSON_REAL:
    return K_FLOAT;
  case JSON_STRING:
    return K_STRING;
  case JSON_OBJECT:
  case JSON_ARRAY:
  case JSON_NULL:
  default:
    return K_INVALID;
  }
}

static int str_cmp(json_t *a, json_t *b)
{
  size_t na = json_string_length(a), nb = json_string_length(b);
  int c = memcmp(json_string_value(a), json_string_value(b), na < nb ? na : nb);
  if (c)
    return c;
  return na < nb ? -1 : na > nb;
}

/* eq arg1 arg2...: arg1 == arg2 || arg1 == arg3 ... (-1 on error) */
static int compare_eq(struct state *s, struct val a, struct val *others, size_t n, struct buf *msg)
{
  enum bkind k1 = basic_kind(a);
  if (n == 0) {
    tpl_buf_adds(msg, "missing argument for comparison");
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    struct val b = others[i];
    enum bkind k2 = basic_kind(b);
    bool t = false;
    if (k1 != k2) {
      if (!tpl_is_nil(a) && !tpl_is_nil(b)) {
        tpl_buf_addf(msg, "incompatible types for comparison: %s and %s", tpl_type_name(s, a), tpl_type_name(s, b));
        return -1;
      }
    } else {
      switch (k1) {
      case K_BOOL: t = json_is_true(a.j) == json_is_true(b.j); break;
      case K_INT: t = json_integer_value(a.j) == json_integer_value(b.j); break;
      case K_FLOAT: t = json_real_value(a.j) == json_real_value(b.j); break;
      case K_STRING: t = str_cmp(a.j, b.j) == 0; break;
      case K_INVALID:
      default:
        if (!tpl_is_nil(a) && !tpl_is_nil(b) && json_typeof(a.j) != json_typeof(b.j)) {
          tpl_buf_adds(msg, "non-comparable types ");
          tpl_value_with_verb(s, msg, a, 's', NULL);
          tpl_buf_addf(msg, ": %s, %s: ", tpl_type_name(s, a), tpl_type_name(s, b));
          tpl_value_with_verb(s, msg, b, 'v', NULL);
          return -1;
        }
        if (tpl_is_nil(a) || tpl_is_nil(b)) {
          t = tpl_is_nil(a) == tpl_is_nil(b);
        } else if (tpl_is_struct(s, a) && tpl_is_struct(s, b)) {
          t = json_equal(a.j, b.j);
        } else {
          tpl_buf_adds(msg, "non-comparable type ");
          tpl_value_with_verb(s, msg, b, 's', NULL);
          tpl_buf_addf(msg, ": %s", tpl_type_name(s, b));
          return -1;
        }
        break;
      }
    }
    if (t)
      return 1;
  }
  return 0;
}

/* lt: -1 on error, else 0/1. */
static int compare_lt(struct state *s, struct val a, struct val b, struct buf *msg)
{
  enum bkind k1 = basic_kind(a), k2 = basic_kind(b);
  if (k1 == K_INVALID || k2 == K_INVALID) {
    tpl_buf_adds(msg, "invalid type for comparison");
    return -1;
  }
  if (k1 != k2) {
    tpl_buf_addf(msg, "incompatible types for comparison: %s and %s", tpl_type_name(s, a), tpl_type_name(s, b));
    return -1;
  }
  switch (k1) {
  case K_INT: return json_integer_value(a.j) < json_integer_value(b.j);
  case K_FLOAT: return json_real_value(a.j) < json_real_value(b.j);
  case K_STRING: return str_cmp(a.j, b.j) < 0;
  case K_BOOL:
  case K_INVALID:
  default:
    tpl_buf_adds(msg, "invalid type for comparison");
    return -1;
  }
}

static int fn_eq(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  int r = compare_eq(s, argv[0], argv + 1, argc - 1, msg);
  if (r < 0)
    return -1;
  *ret = tpl_v_bool(r);
  return 0;
}

static int fn_ne(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  int r = compare_eq(s, argv[0], argv + 1, 1, msg);
  if (r < 0)
    return -1;
  *ret = tpl_v_bool(!r);
  return 0;
}

/* le, gt and ge are lt and eq composed, as in Go's text/template: `negate`
 * turns lt into ge and le into gt. */
static int compare_fn(struct state *s, struct val *argv, bool or_equal, bool negate, struct val *ret,
                      struct buf *msg)
{
  int r = compare_lt(s, argv[0], argv[1], msg);
  if (r == 0 && or_equal)
    r = compare_eq(s, argv[0], argv + 1, 1, msg);
  if (r < 0)
    return -1;
  *ret = tpl_v_bool(negate ? !r : r);
  return 0;
}

static int fn_lt(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  return compare_fn(s, argv, false, false, ret, msg);
}

static int fn_le(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  return compare_fn(s, argv, true, false, ret, msg);
}

static int fn_gt(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  return compare_fn(s, argv, true, true, ret, msg);
}

static int fn_ge(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  return compare_fn(s, argv, false, true, ret, msg);
}

static int result_string(struct state *s, struct buf *b, bool overflow, struct val *ret, struct buf *msg)
{
  if (overflow || b->len > s->max_output) {
    tpl_buf_free(b);
    tpl_buf_addf(msg, "result exceeds %zu bytes", s->max_output);
    return -1;
  }
  *ret = tpl_v_str(s, b->p, b->len);
  tpl_buf_free(b);
  return 0;
}

static int fn_print(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  struct buf b = {0};
  bool overflow;
  tpl_do_print(s, &b, argv, argc, false, &overflow);
  return result_string(s, &b, overflow, ret, msg);
}

static int fn_println(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  struct buf b = {0};
  bool overflow;
  tpl_do_print(s, &b, argv, argc, true, &overflow);
  return result_string(s, &b, overflow, ret, msg);
}

static int fn_printf(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  struct buf b = {0};
  bool overflow;
  tpl_do_printf(s, &b, json_string_value(argv[0].j), json_string_length(argv[0].j), argv + 1, argc - 1, &overflow);
  return result_string(s, &b, overflow, ret, msg);
}

/* evalArgs: Sprint of the arguments, a nil interface printed "<no value>"
 * (a null is a nil pointer of a typed struct in struct mode: "<nil>"). */
static void eval_args_string(struct state *s, struct buf *b, struct val *argv, size_t argc, bool *overflow)
{
  struct val *copy;
  if (argc == 1 && argv[0].j && json_is_string(argv[0].j)) {
    tpl_buf_add(b, json_string_value(argv[0].j), json_string_length(argv[0].j));
    *overflow = false;
    return;
  }
  copy = calloc(argc ? argc : 1, sizeof(*copy));
  if (!copy)
    abort();
  for (size_t i = 0; i < argc; i++) {
    bool no_value = tpl_is_missing(argv[i]) || (json_is_null(argv[i].j) && s->opts->missing != BERTH_TEMPLATE_STRUCT);
    copy[i] = no_value ? tpl_v_str(s, "<no value>", 10) : argv[i];
  }
  tpl_do_print(s, b, copy, argc, false, overflow);
  free(copy);
}

static int fn_html(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  struct buf in = {0}, out = {0};
  bool overflow;
  eval_args_string(s, &in, argv, argc, &overflow);
  for (size_t i = 0; i < in.len; i++) {
    switch (in.p[i]) {
    case '\0': tpl_buf_adds(&out, "\xef\xbf\xbd"); break;
    case '"': tpl_buf_adds(&out, "&#34;"); break;
    case '\'': tpl_buf_adds(&out, "&#39;"); break;
    case '&': tpl_buf_adds(&out, "&amp;"); break;
    case '<': tpl_buf_adds(&out, "&lt;"); break;
    case '>': tpl_buf_adds(&out, "&gt;"); break;
    default: tpl_buf_addc(&out, in.p[i]); break;
    }
  }
  tpl_buf_free(&in);
  return result_string(s, &out, overflow, ret, msg);
}

static int fn_js(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  struct buf in = {0}, out = {0};
  bool overflow;
  eval_args_string(s, &in, argv, argc, &overflow);
  for (size_t i = 0; i < in.len;) {
    unsigned char c = (unsigned char)in.p[i];
    if (c < 0x80) {
      switch (c) {
      case '\\': tpl_buf_adds(&out, "\\\\"); break;
      case '\'': tpl_buf_adds(&out, "\\'"); break;
      case '"': tpl_buf_adds(&out, "\\\""); break;
      case '<': tpl_buf_adds(&out, "\\u003C"); break;
      case '>': tpl_buf_adds(&out, "\\u003E"); break;
      case '&': tpl_buf_adds(&out, "\\u0026"); break;
      case '=': tpl_buf_adds(&out, "\\u003D"); break;
      default:
        if (c < ' ')
          tpl_buf_addf(&out, "\\u00%02X", c);
        else
          tpl_buf_addc(&out, (char)c);
        break;
      }
      i++;
    } else {
      uint32_t r;
      size_t w = tpl_u8_decode((const unsigned char *)in.p + i, in.len - i, &r);
      if (tpl_uni_is_print(r))
        tpl_buf_add(&out, in.p + i, w);
      else
        tpl_buf_addf(&out, "\\u%04X", (unsigned)r);
      i += w;
    }
  }
  tpl_buf_free(&in);
  return result_string(s, &out, overflow, ret, msg);
}

static int fn_urlquery(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  struct buf in = {0}, out = {0};
  bool overflow;
  eval_args_string(s, &in, argv, argc, &overflow);
  for (size_t i = 0; i < in.len; i++) {
    unsigned char c = (unsigned char)in.p[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~')
      tpl_buf_addc(&out, (char)c);
    else if (c == ' ')
      tpl_buf_addc(&out, '+');
    else
      tpl_buf_addf(&out, "%%%02X", c);
  }
  tpl_buf_free(&in);
  return result_string(s, &out, overflow, ret, msg);
}

static int fn_call(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  if (tpl_is_nil(argv[0]))
    tpl_buf_adds(msg, "call of nil");
  else
    tpl_buf_addf(msg, "non-function of type %s", tpl_type_name(s, argv[0]));
  return -1;
}

static int fn_json(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  struct buf b = {0};
  bool ok = json_encode(s, &b, argv[0], 0);
  return result_string(s, &b, !ok, ret, msg);
}

static int fn_split(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  const char *str = json_string_value(argv[0].j), *sep = json_string_value(argv[1].j);
  size_t n = json_string_length(argv[0].j), sn = json_string_length(argv[1].j), start = 0;
  json_t *a = tpl_keep(s, json_array());
  if (sn == 0) {
    for (size_t i = 0; i < n;) {
      uint32_t r;
      size_t w = tpl_u8_decode((const unsigned char *)str + i, n - i, &r);
      (void)json_array_append_new(a, json_stringn_nocheck(str + i, w));
      i += w;
    }
  } else {
    for (size_t i = 0; i + sn <= n;) {
      if (memcmp(str + i, sep, sn) == 0) {
        (void)json_array_append_new(a, json_stringn_nocheck(str + start, i - start));
        i += sn;
        start = i;
      } else {
        i++;
      }
    }
    (void)json_array_append_new(a, json_stringn_nocheck(str + start, n - start));
  }
  *ret = (struct val){a, false};
  return 0;
}

static int fn_join(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  struct buf b = {0};
  json_t *list = argv[0].j;
  size_t n = list && json_is_array(list) ? json_array_size(list) : 0;
  for (size_t i = 0; i < n && b.len <= s->max_output; i++) {
    json_t *e = json_array_get(list, i);
    if (i)
      tpl_buf_add(&b, json_string_value(argv[1].j), json_string_length(argv[1].j));
    tpl_buf_add(&b, json_string_value(e), json_string_length(e));
  }
  return result_string(s, &b, false, ret, msg);
}

/* strings.Map with a case mapping: invalid bytes become U+FFFD unless the
 * string is ASCII. */
static int map_runes(struct state *s, struct val in, uint32_t (*f)(uint32_t), bool title, struct val *ret,
                     struct buf *msg)
{
  const char *str = json_string_value(in.j);
  size_t n = json_string_length(in.j);
  struct buf b = {0};
  uint32_t prev = ' ';
  for (size_t i = 0; i < n;) {
    uint32_t r;
    size_t w = tpl_u8_decode((const unsigned char *)str + i, n - i, &r);
    if (title) {
      bool sep;
      if (prev < 0x80)
        sep = !((prev >= '0' && prev <= '9') || (prev >= 'a' && prev <= 'z') || (prev >= 'A' && prev <= 'Z') ||
                prev == '_');
      else
        sep = !(tpl_uni_is_letter(prev) || tpl_uni_is_digit(prev)) && tpl_uni_is_space(prev);
      tpl_buf_add_rune(&b, sep ? tpl_uni_upper(r) : r);
      prev = r;
    } else {
      tpl_buf_add_rune(&b, f(r));
    }
    i += w;
  }
  return result_string(s, &b, false, ret, msg);
}

static int fn_lower(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  return map_runes(s, argv[0], tpl_uni_lower, false, ret, msg);
}

static int fn_upper(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  return map_runes(s, argv[0], tpl_uni_upper, false, ret, msg);
}

static int fn_title(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  return map_runes(s, argv[0], tpl_uni_upper, true, ret, msg);
}

static int fn_pad(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  size_t n = json_string_length(argv[0].j);
  json_int_t pre = json_integer_value(argv[1].j), post = json_integer_value(argv[2].j);
  struct buf b = {0};
  if (n == 0) {
    *ret = argv[0];
    return 0;
  }
  if (pre < 0 || post < 0) {
    tpl_buf_adds(msg, "strings: negative Repeat count");
    return -1;
  }
  if ((uint64_t)pre > s->max_output || (uint64_t)post > s->max_output || n + (size_t)pre + (size_t)post > s->max_output) {
    tpl_buf_addf(msg, "result exceeds %zu bytes", s->max_output);
    return -1;
  }
  tpl_buf_addn(&b, ' ', (size_t)pre);
  tpl_buf_add(&b, json_string_value(argv[0].j), n);
  tpl_buf_addn(&b, ' ', (size_t)post);
  return result_string(s, &b, false, ret, msg);
}

static int fn_truncate(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  size_t n = json_string_length(argv[0].j);
  json_int_t len = json_integer_value(argv[1].j);
  if (len > 0 && n < (uint64_t)len) {
    *ret = argv[0];
    return 0;
  }
  if (len < 0) {
    tpl_buf_addf(msg, "runtime error: slice bounds out of range [:%lld]", (long long)len);
    return -1;
  }
  *ret = tpl_v_str(s, json_string_value(argv[0].j), (size_t)len);
  return 0;
}

/* docker's HeaderFunctions: the column title passes through unchanged. */
static int fn_header_identity(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg)
{
  *ret = argv[0];
  return 0;
}

#define F1(t) {t, A_UNTYPED, A_UNTYPED}
#define F2(t, u) {t, u, A_UNTYPED}

static const struct func funcs_common[] = {
    {"and", NULL, 2, true, F2(A_VALUE, A_VALUE)},
    {"or", NULL, 2, true, F2(A_VALUE, A_VALUE)},
    {"call", fn_call, 2, true, F2(A_VALUE, A_VALUE)},
    {"html", fn_html, 1, true, F1(A_ANY)},
    {"js", fn_js, 1, true, F1(A_ANY)},
    {"urlquery", fn_urlquery, 1, true, F1(A_ANY)},
    {"index", fn_index, 2, true, F2(A_VALUE, A_VALUE)},
    {"slice", fn_slice, 2, true, F2(A_VALUE, A_VALUE)},
    {"len", fn_len, 1, false, F1(A_VALUE)},
    {"not", fn_not, 1, false, F1(A_VALUE)},
    {"print", fn_print, 1, true, F1(A_ANY)},
    {"printf", fn_printf, 2, true, F2(A_STRING, A_ANY)},
    {"println", fn_println, 1, true, F1(A_ANY)},
    {"eq", fn_eq, 2, true, F2(A_VALUE, A_VALUE)},
    {"ne", fn_ne, 2, false, F2(A_VALUE, A_VALUE)},
    {"lt", fn_lt, 2, false, F2(A_VALUE, A_VALUE)},
    {"le", fn_le, 2, false, F2(A_VALUE, A_VALUE)},
    {"gt", fn_gt, 2, false, F2(A_VALUE, A_VALUE)},
    {"ge", fn_ge, 2, false, F2(A_VALUE, A_VALUE)},
    {"pad", fn_pad, 3, false, {A_STRING, A_INT, A_INT}},
    {NULL, NULL, 0, false, F1(A_UNTYPED)},
};

const struct func tpl_funcs_docker[] = {
    {"json", fn_json, 1, false, F1(A_ANY)},
    {"split", fn_split, 2, false, F2(A_STRING, A_STRING)},
    {"join", fn_join, 2, false, F2(A_STRINGS, A_STRING)},
    {"title", fn_title, 1, false, F1(A_STRING)},
    {"lower", fn_lower, 1, false, F1(A_STRING)},
    {"upper", fn_upper, 1, false, F1(A_STRING)},
    {"truncate", fn_truncate, 2, false, F2(A_STRING, A_INT)},
    {NULL, NULL, 0, false, F1(A_UNTYPED)},
};

const struct func tpl_funcs_header[] = {
    {"json", fn_header_identity, 1, false, F1(A_STRING)},
    {"split", fn_header_identity, 2, false, F2(A_STRING, A_STRING)},
    {"join", fn_header_identity, 2, false, F2(A_STRING, A_STRING)},
    {"title", fn_header_identity, 1, false, F1(A_STRING)},
    {"lower", fn_header_identity, 1, false, F1(A_STRING)},
    {"upper", fn_header_identity, 1, false, F1(A_STRING)},
    {"truncate", fn_header_identity, 2, false, F2(A_STRING, A_INT)},
    {NULL, NULL, 0, false, F1(A_UNTYPED)},
};

const struct func *tpl_find_function(const struct state *s, const char *name)
{
  for (const struct func *f = s->funcs; f->name; f++)
    if (strcmp(f->name, name) == 0)
      return f;
  for (const struct func *f = funcs_common; f->name; f++)
    if (strcmp(f->name, name) == 0)
      return f;
  return NULL;
}
