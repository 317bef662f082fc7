/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Go's fmt on template values (fmt/print.go, format.go): Sprint, Sprintln
 * and Sprintf with every verb, flag, width, precision and argument index the
 * print functions can be given, and fmt's error forms ("%!d(string=x)"). */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template-internal.h"

#define FMT_MAX_NUM 1000000 /* Go's fmt tooLarge() */

struct pp {
  struct state *s;
  struct buf *b;
  bool minus, plus, sharp, space, zero, plus_v, sharp_v, wid_present, prec_present;
  int wid, prec;
  bool overflow; /* output would exceed the execution limit, or values nest too deeply */
};

static void pp_clear_flags(struct pp *p)
{
  p->minus = p->plus = p->sharp = p->space = p->zero = p->plus_v = p->sharp_v = false;
  p->wid_present = p->prec_present = false;
  p->wid = p->prec = 0;
}

static bool pp_full(struct pp *p)
{
  if (p->b->len > p->s->max_output)
    p->overflow = true;
  return p->overflow;
}

static void pp_write_padding(struct pp *p, int n)
{
  if (n <= 0 || pp_full(p))
    return;
  tpl_buf_addn(p->b, p->zero && !p->minus ? '0' : ' ', (size_t)n);
}

static void pp_pad(struct pp *p, const char *s, size_t n)
{
  int width;
  if (!p->wid_present || p->wid == 0) {
    tpl_buf_add(p->b, s, n);
    return;
  }
  width = p->wid - (int)(tpl_u8_count(s, n) > (size_t)INT_MAX ? INT_MAX : tpl_u8_count(s, n));
  if (!p->minus) {
    pp_write_padding(p, width);
    tpl_buf_add(p->b, s, n);
  } else {
    tpl_buf_add(p->b, s, n);
    pp_write_padding(p, width);
  }
}

static void pp_pads(struct pp *p, const char *s)
{
  pp_pad(p, s, strlen(s));
}

/* truncateString: precision counts runes. */
static size_t pp_truncate(const struct pp *p, const char *s, size_t n)
{
  size_t i = 0;
  if (!p->prec_present)
    return n;
  for (int k = 0; k < p->prec && i < n; k++) {
    uint32_t r;
    i += tpl_u8_decode((const unsigned char *)s + i, n - i, &r);
  }
  return i;
}

static void pp_fmt_q(struct pp *p, const char *s, size_t n)
{
  struct buf q = {0};
  n = pp_truncate(p, s, n);
  if (p->sharp && tpl_can_backquote(s, n)) {
    tpl_buf_addc(&q, '`');
    tpl_buf_add(&q, s, n);
    tpl_buf_addc(&q, '`');
  } else {
    tpl_go_quote(&q, s, n, p->plus);
  }
  pp_pad(p, q.p, q.len);
  tpl_buf_free(&q);
}

static void pp_fmt_sx(struct pp *p, const char *s, size_t n, bool upper)
{
  const char *digits = upper ? "0123456789ABCDEFX" : "0123456789abcdefx";
  size_t length = n, width;
  if (p->prec_present && (size_t)p->prec < length)
    length = (size_t)p->prec;
  width = 2 * length;
  if (width == 0) {
    if (p->wid_present)
      pp_write_padding(p, p->wid);
    return;
  }
  if (p->space) {
    if (p->sharp)
      width *= 2;
    width += length - 1;
  } else if (p->sharp) {
    width += 2;
  }
  if (p->wid_present && (size_t)p->wid > width && !p->minus)
    pp_write_padding(p, p->wid - (int)width);
  if (p->sharp) {
    tpl_buf_addc(p->b, '0');
    tpl_buf_addc(p->b, digits[16]);
  }
  for (size_t i = 0; i < length; i++) {
    unsigned char c = (unsigned char)s[i];
    if (p->space && i > 0) {
      tpl_buf_addc(p->b, ' ');
      if (p->sharp) {
        tpl_buf_addc(p->b, '0');
        tpl_buf_addc(p->b, digits[16]);
      }
    }
    tpl_buf_addc(p->b, digits[c >> 4]);
    tpl_buf_addc(p->b, digits[c & 15]);
  }
  if (p->wid_present && (size_t)p->wid > width && p->minus)
    pp_write_padding(p, p->wid - (int)width);
}

static void pp_fmt_integer(struct pp *p, uint64_t u, unsigned base, bool is_signed, int verb, bool upper)
{
  const char *digits = upper ? "0123456789ABCDEFX" : "0123456789abcdefx";
  bool negative = is_signed && (int64_t)u < 0;
  char tmp[80];
  struct buf big = {0};
  char *buf = tmp;
  size_t size = sizeof(tmp), i;
  int prec = 0;
  bool old_zero;
  if (negative)
    u = 0 - u;
  if (p->wid_present || p->prec_present) {
    size_t need = 3 + (size_t)p->wid + (size_t)p->prec + 70;
    if (need > size) {
      tpl_buf_reserve(&big, need);
      buf = big.p;
      size = need;
    }
  }
  if (p->prec_present) {
    prec = p->prec;
    if (prec == 0 && u == 0) {
      old_zero = p->zero;
      p->zero = false;
      pp_write_padding(p, p->wid);
      p->zero = old_zero;
      tpl_buf_free(&big);
      return;
    }
  } else if (p->zero && !p->minus && p->wid_present) {
    prec = p->wid;
    if (negative || p->plus || p->space)
      prec--;
  }
  i = size;
  do {
    buf[--i] = digits[u % base];
    u /= base;
  } while (u > 0);
  while (i > 0 && prec > (int)(size - i))
    buf[--i] = '0';
  if (p->sharp) {
    if (base == 2) {
      buf[--i] = 'b';
      buf[--i] = '0';
    } else if (base == 8) {
      if (buf[i] != '0')
        buf[--i] = '0';
    } else if (base == 16) {
      buf[--i] = digits[16];
      buf[--i] = '0';
    }
  }
  if (verb == 'O') {
    buf[--i] = 'o';
    buf[--i] = '0';
  }
  if (negative)
    buf[--i] = '-';
  else if (p->plus)
    buf[--i] = '+';
  else if (p->space)
    buf[--i] = ' ';
  old_zero = p->zero;
  p->zero = false;
  pp_pad(p, buf + i, size - i);
  p->zero = old_zero;
  tpl_buf_free(&big);
}

static void pp_fmt_unicode(struct pp *p, uint64_t u)
{
  struct buf t = {0};
  int prec = 4;
  bool old_zero;
  if (p->prec_present && p->prec > 4)
    prec = p->prec;
  tpl_buf_addf(&t, "U+%0*llX", prec, (unsigned long long)u);
  if (p->sharp && u <= 0x10ffff && tpl_uni_is_print((uint32_t)u)) {
    tpl_buf_adds(&t, " '");
    tpl_buf_add_rune(&t, (uint32_t)u);
    tpl_buf_addc(&t, '\'');
  }
  old_zero = p->zero;
  p->zero = false;
  pp_pad(p, t.p, t.len);
  p->zero = old_zero;
  tpl_buf_free(&t);
}

static void pp_fmt_float(struct pp *p, double v, int verb, int prec)
{
  struct buf num = {0};
  char fmtc = verb == 'F' ? 'f' : (char)verb;
  size_t start;
  if (p->prec_present)
    prec = p->prec;
  tpl_buf_addc(&num, '+');
  start = num.len;
  tpl_go_format_float(&num, v, fmtc, prec);
  if (num.p[start] == '-' || num.p[start] == '+')
    memmove(num.p, num.p + 1, --num.len);
  if (p->space && num.p[0] == '+' && !p->plus)
    num.p[0] = ' ';
  if (num.p[1] == 'I' || num.p[1] == 'N') {
    bool old_zero = p->zero;
    const char *s = num.p;
    size_t n = num.len;
    p->zero = false;
    if (num.p[1] == 'N' && !p->space && !p->plus) {
      s++;
      n--;
    }
    pp_pad(p, s, n);
    p->zero = old_zero;
    tpl_buf_free(&num);
    return;
  }
  if (p->sharp && verb != 'b') {
    int digits = 0;
    struct buf tail = {0};
    bool has_point = false, saw_nonzero = false;
    size_t i;
    if (verb == 'v' || verb == 'g' || verb == 'G' || verb == 'x')
      digits = prec == -1 ? 6 : prec;
    for (i = 1; i < num.len; i++) {
      char c = num.p[i];
      if (c == '.') {
        has_point = true;
      } else if (c == 'p' || c == 'P' || ((c == 'e' || c == 'E') && verb != 'x' && verb != 'X')) {
        tpl_buf_add(&tail, num.p + i, num.len - i);
        num.len = i;
        break;
      } else {
        if (c != '0')
          saw_nonzero = true;
        if (saw_nonzero)
          digits--;
      }
    }
    if (!has_point) {
      if (num.len == 2 && num.p[1] == '0')
        digits--;
      tpl_buf_addc(&num, '.');
    }
    while (digits-- > 0)
      tpl_buf_addc(&num, '0');
    tpl_buf_add(&num, tail.p ? tail.p : "", tail.len);
    tpl_buf_free(&tail);
  }
  if (p->plus || num.p[0] != '+') {
    if (p->zero && !p->minus && p->wid_present && p->wid > (int)num.len) {
      tpl_buf_addc(p->b, num.p[0]);
      pp_write_padding(p, p->wid - (int)num.len);
      tpl_buf_add(p->b, num.p + 1, num.len - 1);
    } else {
      pp_pad(p, num.p, num.len);
    }
  } else {
    pp_pad(p, num.p + 1, num.len - 1);
  }
  tpl_buf_free(&num);
}

static void pp_print_value(struct pp *p, struct val v, int verb, int depth);

/* badVerb: "%!d(string=foo)", "%!d(<nil>)". */
static void pp_bad_verb(struct pp *p, int verb, struct val v)
{
  tpl_buf_adds(p->b, "%!");
  tpl_buf_add_rune(p->b, (uint32_t)verb);
  tpl_buf_addc(p->b, '(');
  if (tpl_is_nil(v)) {
    tpl_buf_adds(p->b, "<nil>");
  } else {
    tpl_buf_adds(p->b, tpl_type_name(p->s, v));
    tpl_buf_addc(p->b, '=');
    pp_print_value(p, v, 'v', 0);
  }
  tpl_buf_addc(p->b, ')');
}

static void pp_print_int(struct pp *p, struct val v, int verb)
{
  uint64_t u = (uint64_t)json_integer_value(v.j);
  switch (verb) {
  case 'v':
  case 'd': pp_fmt_integer(p, u, 10, true, verb, false); break;
  case 'b': pp_fmt_integer(p, u, 2, true, verb, false); break;
  case 'o':
  case 'O': pp_fmt_integer(p, u, 8, true, verb, false); break;
  case 'x': pp_fmt_integer(p, u, 16, true, verb, false); break;
  case 'X': pp_fmt_integer(p, u, 16, true, verb, true); break;
  case 'c': {
    struct buf t = {0};
    tpl_buf_add_rune(&t, u > 0x10ffff ? RUNE_ERROR : (uint32_t)u);
    pp_pad(p, t.p, t.len);
    tpl_buf_free(&t);
    break;
  }
  case 'q': {
    struct buf t = {0};
    tpl_go_quote_rune(&t, u > 0x10ffff ? RUNE_ERROR : (uint32_t)u, p->plus);
    pp_pad(p, t.p, t.len);
    tpl_buf_free(&t);
    break;
  }
  case 'U': pp_fmt_unicode(p, u); break;
  default: pp_bad_verb(p, verb, v); break;
  }
}

static void pp_print_string(struct pp *p, struct val v, int verb)
{
  const char *s = json_string_value(v.j);
  size_t n = json_string_length(v.j);
  switch (verb) {
  case 'v':
    if (p->sharp_v) {
      pp_fmt_q(p, s, n);
      break;
    }
    /* fallthrough */
  case 's':
    pp_pad(p, s, pp_truncate(p, s, n));
    break;
  case 'x':
  case 'X':
    pp_fmt_sx(p, s, n, verb == 'X');
    break;
  case 'q':
    pp_fmt_q(p, s, n);
    break;
  default:
    pp_bad_verb(p, verb, v);
    break;
  }
}

static void pp_print_float(struct pp *p, struct val v, int verb)
{
  double f = json_real_value(v.j);
  switch (verb) {
  case 'v': pp_fmt_float(p, f, 'g', -1); break;
  case 'b': case 'g': case 'G': case 'x': case 'X': pp_fmt_float(p, f, verb, -1); break;
  case 'f': case 'e': case 'E': case 'F': pp_fmt_float(p, f, verb, 6); break;
  default: pp_bad_verb(p, verb, v); break;
  }
}

static void pp_print_composite(struct pp *p, struct val v, int verb, int depth)
{
  if (depth > MAX_VALUE_DEPTH) {
    p->overflow = true;
    return;
  }
  if (json_is_array(v.j)) {
    size_t n = json_array_size(v.j);
    if (p->sharp_v)
      tpl_buf_adds(p->b, "[]interface {}{");
    else
      tpl_buf_addc(p->b, '[');
    for (size_t i = 0; i < n && !pp_full(p); i++) {
      if (i > 0)
        tpl_buf_adds(p->b, p->sharp_v ? ", " : " ");
      pp_print_value(p, (struct val){json_array_get(v.j, i), false}, verb, depth + 1);
    }
    tpl_buf_addc(p->b, p->sharp_v ? '}' : ']');
  } else if (tpl_is_struct(p->s, v)) {
    size_t n;
    struct member *m = tpl_object_members(v.j, false, &n);
    if (p->sharp_v)
      tpl_buf_adds(p->b, tpl_type_name(p->s, v));
    tpl_buf_addc(p->b, '{');
    for (size_t i = 0; i < n && !pp_full(p); i++) {
      if (i > 0)
        tpl_buf_adds(p->b, p->sharp_v ? ", " : " ");
      if (p->plus_v || p->sharp_v) {
        tpl_buf_add(p->b, m[i].key, m[i].len);
        tpl_buf_addc(p->b, ':');
      }
      pp_print_value(p, tpl_member_val(p->s, m[i].key, m[i].v), verb, depth + 1);
    }
    tpl_buf_addc(p->b, '}');
    free(m);
  } else {
    size_t n;
    struct member *m = tpl_object_members(v.j, true, &n);
    tpl_buf_adds(p->b, p->sharp_v ? "map[string]interface {}{" : "map[");
    for (size_t i = 0; i < n && !pp_full(p); i++) {
      json_t *key = json_stringn_nocheck(m[i].key, m[i].len);
      if (i > 0)
        tpl_buf_adds(p->b, p->sharp_v ? ", " : " ");
      pp_print_value(p, (struct val){key, false}, verb, depth + 1);
      json_decref(key);
      tpl_buf_addc(p->b, ':');
      pp_print_value(p, tpl_member_val(p->s, m[i].key, m[i].v), verb, depth + 1);
    }
    tpl_buf_addc(p->b, p->sharp_v ? '}' : ']');
    free(m);
  }
}

/* printValue for an element of a composite (an interface{} in Go) or printArg
 * at depth 0. */
static void pp_print_value(struct pp *p, struct val v, int verb, int depth)
{
  if (tpl_is_nil(v)) {
    if (depth == 0) {
      if (verb == 'v')
        pp_pads(p, "<nil>");
      else
        pp_bad_verb(p, verb, v);
    } else {
      tpl_buf_adds(p->b, p->sharp_v ? "interface {}(nil)" : "<nil>");
    }
    return;
  }
  switch (json_typeof(v.j)) {
  case JSON_TRUE:
  case JSON_FALSE:
    if (verb == 't' || verb == 'v')
      pp_pads(p, json_is_true(v.j) ? "true" : "false");
    else
      pp_bad_verb(p, verb, v);
    break;
  case JSON_INTEGER:
    pp_print_int(p, v, verb);
    break;
  case JSON_REAL:
    pp_print_float(p, v, verb);
    break;
  case JSON_STRING:
    pp_print_string(p, v, verb);
    break;
  case JSON_ARRAY:
  case JSON_OBJECT:
    pp_print_composite(p, v, verb, depth);
    break;
  case JSON_NULL:
  default:
    break;
  }
}

/* printArg. */
static void pp_print_arg(struct pp *p, struct val v, int verb)
{
  if (verb == 'T') {
    const char *t = tpl_is_nil(v) ? "<nil>" : tpl_type_name(p->s, v);
    pp_pad(p, t, pp_truncate(p, t, strlen(t)));
    return;
  }
  if (verb == 'p' && !tpl_is_nil(v)) {
    pp_bad_verb(p, verb, v);
    return;
  }
  pp_print_value(p, v, verb, 0);
}

static void pp_init(struct pp *p, struct state *s, struct buf *b)
{
  memset(p, 0, sizeof(*p));
  p->s = s;
  p->b = b;
}

/* fmt.Sprint: spaces between operands when neither is a string. */
void tpl_do_print(struct state *s, struct buf *b, struct val *argv, size_t argc, bool ln, bool *overflow)
{
  struct pp p;
  bool prev_string = false;
  pp_init(&p, s, b);
  for (size_t i = 0; i < argc && !pp_full(&p); i++) {
    bool is_string = argv[i].j && json_is_string(argv[i].j);
    if (i > 0 && (ln || (!is_string && !prev_string)))
      tpl_buf_addc(b, ' ');
    pp_print_arg(&p, argv[i], 'v');
    prev_string = is_string;
  }
  if (ln)
    tpl_buf_addc(b, '\n');
  *overflow = p.overflow;
}

static int pp_parsenum(const char *f, size_t start, size_t end, int *num, bool *isnum, size_t *newi)
{
  size_t i = start;
  *num = 0;
  *isnum = false;
  if (start >= end) {
    *newi = end;
    return 0;
  }
  for (; i < end && f[i] >= '0' && f[i] <= '9'; i++) {
    if (*num > FMT_MAX_NUM) {
      *num = 0;
      *isnum = false;
      *newi = end;
      return 0;
    }
    *num = *num * 10 + (f[i] - '0');
    *isnum = true;
  }
  *newi = i;
  return 0;
}

struct printf_state {
  size_t argnum;
  bool reordered, good_argnum;
};

static bool pp_arg_number(struct pp *p, struct printf_state *ps, const char *f, size_t *i, size_t end, size_t nargs)
{
  size_t j;
  if (*i >= end || f[*i] != '[')
    return false;
  ps->reordered = true;
  if (end - *i < 3) {
    (*i)++;
    ps->good_argnum = false;
    return false;
  }
  for (j = *i + 1; j < end; j++) {
    if (f[j] == ']') {
      int width;
      bool ok;
      size_t newi;
      (void)pp_parsenum(f, *i + 1, j, &width, &ok, &newi);
      if (!ok || newi != j) {
        *i = j + 1;
        ps->good_argnum = false;
        return false;
      }
      *i = j + 1;
      if (width - 1 >= 0 && (size_t)(width - 1) < nargs) {
        ps->argnum = (size_t)(width - 1);
        return true;
      }
      ps->good_argnum = false;
      return true;
    }
  }
  (*i)++;
  ps->good_argnum = false;
  return false;
}

static bool pp_int_from_arg(struct val *argv, size_t argc, size_t *argnum, int *num)
{
  bool is_int = false;
  *num = 0;
  if (*argnum < argc) {
    struct val v = argv[*argnum];
    if (v.j && json_is_integer(v.j)) {
      json_int_t n = json_integer_value(v.j);
      if (n >= INT_MIN && n <= INT_MAX) {
        *num = (int)n;
        is_int = true;
      }
    }
    (*argnum)++;
    if (*num > FMT_MAX_NUM || *num < -FMT_MAX_NUM) {
      *num = 0;
      is_int = false;
    }
  }
  return is_int;
}

/* The flags of one verb: # 0 + - space. */
static void pp_parse_flags(struct pp *p, const char *f, size_t *i, size_t end)
{
  pp_clear_flags(p);
  for (; *i < end; (*i)++) {
    char c = f[*i];
    if (c == '#') {
      p->sharp = true;
    } else if (c == '0') {
      p->zero = !p->minus;
    } else if (c == '+') {
      p->plus = true;
    } else if (c == '-') {
      p->minus = true;
      p->zero = false;
    } else if (c == ' ') {
      p->space = true;
    } else {
      break;
    }
  }
}

/* [n] argument index, width (digits or *) and .precision of one verb. */
static bool pp_parse_width_prec(struct pp *p, struct printf_state *ps, const char *f, size_t *i, size_t end,
                                struct val *argv, size_t argc)
{
  bool after_index = pp_arg_number(p, ps, f, i, end, argc);
  if (*i < end && f[*i] == '*') {
    (*i)++;
    p->wid_present = pp_int_from_arg(argv, argc, &ps->argnum, &p->wid);
    if (!p->wid_present)
      tpl_buf_adds(p->b, "%!(BADWIDTH)");
    if (p->wid < 0) {
      p->wid = -p->wid;
      p->minus = true;
      p->zero = false;
    }
    after_index = false;
  } else {
    (void)pp_parsenum(f, *i, end, &p->wid, &p->wid_present, i);
    if (after_index && p->wid_present)
      ps->good_argnum = false;
  }
  if (*i + 1 < end && f[*i] == '.') {
    (*i)++;
    if (after_index)
      ps->good_argnum = false;
    after_index = pp_arg_number(p, ps, f, i, end, argc);
    if (*i < end && f[*i] == '*') {
      (*i)++;
      p->prec_present = pp_int_from_arg(argv, argc, &ps->argnum, &p->prec);
      if (p->prec < 0) {
        p->prec = 0;
        p->prec_present = false;
      }
      if (!p->prec_present)
        tpl_buf_adds(p->b, "%!(BADPREC)");
      after_index = false;
    } else {
      (void)pp_parsenum(f, *i, end, &p->prec, &p->prec_present, i);
      if (!p->prec_present) {
        p->prec = 0;
        p->prec_present = true;
      }
    }
  }
  if (!after_index)
    after_index = pp_arg_number(p, ps, f, i, end, argc);
  return after_index;
}

static void pp_print_verb(struct pp *p, struct printf_state *ps, uint32_t verb, struct val *argv, size_t argc)
{
  if (verb == '%') {
    tpl_buf_addc(p->b, '%');
  } else if (!ps->good_argnum || ps->argnum >= argc) {
    tpl_buf_adds(p->b, "%!");
    tpl_buf_add_rune(p->b, verb);
    tpl_buf_adds(p->b, !ps->good_argnum ? "(BADINDEX)" : "(MISSING)");
  } else {
    if (verb == 'v') {
      p->sharp_v = p->sharp;
      p->sharp = false;
      p->plus_v = p->plus;
      p->plus = false;
    }
    pp_print_arg(p, argv[ps->argnum], (int)verb);
    ps->argnum++;
  }
}

/* "%!(EXTRA type=value, ...)" for arguments no verb used. */
static void pp_print_extra(struct pp *p, const struct printf_state *ps, struct val *argv, size_t argc)
{
  pp_clear_flags(p);
  tpl_buf_adds(p->b, "%!(EXTRA ");
  for (size_t k = ps->argnum; k < argc; k++) {
    if (k > ps->argnum)
      tpl_buf_adds(p->b, ", ");
    if (tpl_is_nil(argv[k])) {
      tpl_buf_adds(p->b, "<nil>");
    } else {
      tpl_buf_adds(p->b, tpl_type_name(p->s, argv[k]));
      tpl_buf_addc(p->b, '=');
      pp_print_arg(p, argv[k], 'v');
    }
  }
  tpl_buf_addc(p->b, ')');
}

/* fmt.Sprintf. */
void tpl_do_printf(struct state *s, struct buf *b, const char *f, size_t end, struct val *argv, size_t argc,
                   bool *overflow)
{
  struct pp p;
  struct printf_state ps = {0, false, true};
  pp_init(&p, s, b);
  for (size_t i = 0; i < end && !pp_full(&p);) {
    size_t lasti = i;
    uint32_t verb;
    ps.good_argnum = true;
    while (i < end && f[i] != '%')
      i++;
    if (i > lasti)
      tpl_buf_add(b, f + lasti, i - lasti);
    if (i >= end)
      break;
    i++;
    pp_parse_flags(&p, f, &i, end);
    (void)pp_parse_width_prec(&p, &ps, f, &i, end, argv, argc);
    if (i >= end) {
      tpl_buf_adds(b, "%!(NOVERB)");
      break;
    }
    i += tpl_u8_decode((const unsigned char *)f + i, end - i, &verb);
    pp_print_verb(&p, &ps, verb, argv, argc);
  }
  if (!ps.reordered && ps.argnum < argc && !pp_full(&p))
    pp_print_extra(&p, &ps, argv, argc);
  *overflow = p.overflow;
}

/* fmt.Sprintf("%<verb>", v). */
void tpl_value_with_verb(struct state *s, struct buf *b, struct val v, int verb, bool *overflow)
{
  struct pp p;
  pp_init(&p, s, b);
  pp_print_arg(&p, v, verb);
  if (overflow)
    *overflow = p.overflow;
}
