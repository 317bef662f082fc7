/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The parts of Go's strconv the template engine needs: Quote, QuoteRune
 * and CanBackquote (with fmt's %#U), UnquoteChar, ParseInt and ParseUint with
 * base 0, and AppendFloat. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template-internal.h"
#include "base/units.h"

/* ======================================================================
 * Go quoting (strconv.Quote, QuoteRune, CanBackquote) and %#U
 * ====================================================================== */

const char tpl_lower_hex[] = "0123456789abcdef";

static void quote_rune_into(struct buf *b, uint32_t r, size_t width, unsigned char raw, char quote, bool ascii)
{
  if (width == 1 && r == RUNE_ERROR) {
    tpl_buf_adds(b, "\\x");
    tpl_buf_addc(b, tpl_lower_hex[raw >> 4]);
    tpl_buf_addc(b, tpl_lower_hex[raw & 15]);
    return;
  }
  if (r == (uint32_t)quote || r == '\\') {
    tpl_buf_addc(b, '\\');
    tpl_buf_addc(b, (char)r);
    return;
  }
  if (ascii ? (r < 0x80 && tpl_uni_is_print(r)) : tpl_uni_is_print(r)) {
    tpl_buf_add_rune(b, r);
    return;
  }
  switch (r) {
  case '\a': tpl_buf_adds(b, "\\a"); return;
  case '\b': tpl_buf_adds(b, "\\b"); return;
  case '\f': tpl_buf_adds(b, "\\f"); return;
  case '\n': tpl_buf_adds(b, "\\n"); return;
  case '\r': tpl_buf_adds(b, "\\r"); return;
  case '\t': tpl_buf_adds(b, "\\t"); return;
  case '\v': tpl_buf_adds(b, "\\v"); return;
  default: break;
  }
  if (r < ' ' || r == 0x7f)
    tpl_buf_addf(b, "\\x%02x", (unsigned)r);
  else if (!tpl_u8_valid_rune(r))
    tpl_buf_adds(b, "\\ufffd");
  else if (r < 0x10000)
    tpl_buf_addf(b, "\\u%04x", (unsigned)r);
  else
    tpl_buf_addf(b, "\\U%08x", (unsigned)r);
}

void tpl_go_quote(struct buf *b, const char *s, size_t n, bool ascii)
{
  tpl_buf_addc(b, '"');
  for (size_t i = 0; i < n;) {
    uint32_t r;
    size_t w = tpl_u8_decode((const unsigned char *)s + i, n - i, &r);
    quote_rune_into(b, r, w, (unsigned char)s[i], '"', ascii);
    i += w;
  }
  tpl_buf_addc(b, '"');
}

void tpl_go_quote_rune(struct buf *b, uint32_t r, bool ascii)
{
  if (!tpl_u8_valid_rune(r))
    r = RUNE_ERROR;
  tpl_buf_addc(b, '\'');
  quote_rune_into(b, r, 0, 0, '\'', ascii);
  tpl_buf_addc(b, '\'');
}

bool tpl_can_backquote(const char *s, size_t n)
{
  for (size_t i = 0; i < n;) {
    uint32_t r;
    size_t w = tpl_u8_decode((const unsigned char *)s + i, n - i, &r);
    if (w == 1 && r == RUNE_ERROR)
      return false;
    if (r == 0xfeff || r == '`' || (r < ' ' && r != '\t') || r == 0x7f)
      return false;
    i += w;
  }
  return true;
}

/* fmt's %#U: "U+0041 'A'" (the quoted rune only when printable). */
void tpl_sharp_unicode(struct buf *b, uint32_t r)
{
  tpl_buf_addf(b, "U+%04X", (unsigned)r);
  if (tpl_u8_valid_rune(r) && tpl_uni_is_print(r)) {
    tpl_buf_adds(b, " '");
    tpl_buf_add_rune(b, r);
    tpl_buf_addc(b, '\'');
  }
}

/* fmt's %.10q...: the first ten runes, quoted, then "...". */
void tpl_quote_truncated(struct buf *b, const char *s, size_t n, size_t runes)
{
  size_t i = 0;
  for (size_t k = 0; k < runes && i < n; k++) {
    uint32_t r;
    i += tpl_u8_decode((const unsigned char *)s + i, n - i, &r);
  }
  tpl_go_quote(b, s, i, false);
}

/* ======================================================================
 * Unquoting and integer syntax (strconv.UnquoteChar, ParseUint, ParseInt)
 * ====================================================================== */

static int hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Go's strconv.UnquoteChar.  Returns bytes consumed, 0 on a syntax error. */
size_t tpl_unquote_char(const char *s, size_t n, char quote, uint32_t *value, bool *multibyte)
{
  unsigned char c = (unsigned char)s[0];
  size_t w;
  *multibyte = false;
  if (c == (unsigned char)quote)
    return 0;
  if (c >= 0x80) {
    w = tpl_u8_decode((const unsigned char *)s, n, value);
    *multibyte = true;
    return w;
  }
  if (c != '\\') {
    *value = c;
    return 1;
  }
  if (n <= 1)
    return 0;
  c = (unsigned char)s[1];
  switch (c) {
  case 'a': *value = '\a'; return 2;
  case 'b': *value = '\b'; return 2;
  case 'f': *value = '\f'; return 2;
  case 'n': *value = '\n'; return 2;
  case 'r': *value = '\r'; return 2;
  case 't': *value = '\t'; return 2;
  case 'v': *value = '\v'; return 2;
  case '\\': *value = '\\'; return 2;
  case '\'':
  case '"':
    if (c != (unsigned char)quote)
      return 0;
    *value = c;
    return 2;
  case 'x':
  case 'u':
  case 'U': {
    size_t digits = c == 'x' ? 2 : c == 'u' ? 4 : 8;
    uint32_t v = 0;
    if (n < 2 + digits)
      return 0;
    for (size_t i = 0; i < digits; i++) {
      int h = hex_value(s[2 + i]);
      if (h < 0)
        return 0;
      v = (v << 4) | (uint32_t)h;
    }
    if (c != 'x') {
      if (!tpl_u8_valid_rune(v))
        return 0;
      *multibyte = true;
    }
    *value = v;
    return 2 + digits;
  }
  default:
    if (c >= '0' && c <= '7') {
      uint32_t v = c - '0';
      if (n < 4)
        return 0;
      for (size_t i = 2; i < 4; i++) {
        if (s[i] < '0' || s[i] > '7')
          return 0;
        v = (v << 3) | (uint32_t)(s[i] - '0');
      }
      if (v > 255)
        return 0;
      *value = v;
      return 4;
    }
    return 0;
  }
}

/* strconv.ParseUint(s, 0, 64).  0 ok, -1 syntax, -2 range. */
int tpl_parse_uint0(const char *s, size_t n, uint64_t *ret)
{
  const char *s0 = s;
  size_t n0 = n;
  unsigned base = 10;
  uint64_t v = 0;
  bool underscores = false;
  if (n == 0)
    return -1;
  if (s[0] == '0') {
    char c = n >= 3 ? (char)(s[1] | 0x20) : 0;
    if (c == 'b' || c == 'o' || c == 'x') {
      base = c == 'b' ? 2 : c == 'o' ? 8 : 16;
      s += 2;
      n -= 2;
    } else {
      base = 8;
      s++;
      n--;
    }
  }
  for (size_t i = 0; i < n; i++) {
    int d;
    if (s[i] == '_') {
      underscores = true;
      continue;
    }
    d = hex_value(s[i]);
    if (d < 0 || (unsigned)d >= base)
      return -1;
    if (v > (UINT64_MAX - (unsigned)d) / base)
      return -2;
    v = v * base + (unsigned)d;
  }
  if (underscores && !berth_go_underscores_ok(s0, n0))
    return -1;
  *ret = v;
  return 0;
}

int tpl_parse_int0(const char *s, size_t n, int64_t *ret)
{
  bool neg = false;
  uint64_t u;
  int rc;
  if (n > 0 && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s++;
    n--;
  }
  rc = tpl_parse_uint0(s, n, &u);
  if (rc < 0)
    return rc;
  if (!neg && u > (uint64_t)INT64_MAX)
    return -2;
  if (neg && u > (uint64_t)INT64_MAX + 1)
    return -2;
  *ret = neg ? (int64_t)(0 - u) : (int64_t)u;
  return 0;
}

bool tpl_contains_any(const char *s, size_t n, const char *set)
{
  for (size_t i = 0; i < n; i++)
    if (strchr(set, s[i]))
      return true;
  return false;
}

/* ======================================================================
 * Floats as Go formats them (strconv.AppendFloat)
 * ====================================================================== */

/* Shortest decimal digits that round-trip: d[0..nd), value 0.d * 10^dp. */
static void shortest_digits(double v, char d[24], int *nd, int *dp)
{
  char tmp[40];
  const char *e;
  int n = 0;
  v = fabs(v);
  if (v == 0) {
    *nd = 0;
    *dp = 0;
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    double back;
    (void)berth_snprintf_c(tmp, sizeof(tmp), "%.*e", prec - 1, v);
    if (berth_go_parse_float(tmp, strlen(tmp), &back) == 0 && back == v)
      break;
  }
  for (const char *c = tmp; *c && *c != 'e'; c++)
    if (*c >= '0' && *c <= '9' && n < 23)
      d[n++] = *c;
  while (n > 1 && d[n - 1] == '0')
    n--;
  e = strchr(tmp, 'e');
  *nd = n;
  *dp = (e ? atoi(e + 1) : 0) + 1;
}

static void go_fmt_e(struct buf *b, bool neg, const char *d, int nd, int dp, int prec, char fmtc)
{
  int exp = nd == 0 ? 0 : dp - 1, i, m;
  if (neg)
    tpl_buf_addc(b, '-');
  tpl_buf_addc(b, nd ? d[0] : '0');
  if (prec > 0) {
    tpl_buf_addc(b, '.');
    m = nd < prec + 1 ? nd : prec + 1;
    for (i = 1; i < m; i++)
      tpl_buf_addc(b, d[i]);
    for (; i <= prec; i++)
      tpl_buf_addc(b, '0');
  }
  tpl_buf_addc(b, fmtc);
  tpl_buf_addc(b, exp < 0 ? '-' : '+');
  if (exp < 0)
    exp = -exp;
  tpl_buf_addf(b, exp < 10 ? "0%d" : "%d", exp);
}

static void go_fmt_f(struct buf *b, bool neg, const char *d, int nd, int dp, int prec)
{
  if (neg)
    tpl_buf_addc(b, '-');
  if (dp > 0) {
    int m = nd < dp ? nd : dp;
    tpl_buf_add(b, d, (size_t)m);
    for (; m < dp; m++)
      tpl_buf_addc(b, '0');
  } else {
    tpl_buf_addc(b, '0');
  }
  if (prec > 0) {
    tpl_buf_addc(b, '.');
    for (int i = 1; i <= prec; i++) {
      int j = dp + i - 1;
      tpl_buf_addc(b, j >= 0 && j < nd ? d[j] : '0');
    }
  }
}

/* Go's %x on floats: C's %a with a two-digit exponent. */
static void go_fmt_hexfloat(struct buf *b, double v, int prec, bool upper)
{
  char tmp[64];
  char *p;
  if (prec >= 0)
    (void)berth_snprintf_c(tmp, sizeof(tmp), upper ? "%.*A" : "%.*a", prec > 40 ? 40 : prec, v);
  else
    (void)berth_snprintf_c(tmp, sizeof(tmp), upper ? "%A" : "%a", v);
  p = strchr(tmp, upper ? 'P' : 'p');
  if (!p) {
    tpl_buf_adds(b, tmp);
    return;
  }
  tpl_buf_add(b, tmp, (size_t)(p - tmp) + 2);
  if (strlen(p + 2) < 2)
    tpl_buf_addc(b, '0');
  tpl_buf_adds(b, p + 2);
}

/* strconv.AppendFloat(v, fmtc, prec, 64). */
void tpl_go_format_float(struct buf *b, double v, char fmtc, int prec)
{
  char d[24];
  int nd, dp;
  bool neg = signbit(v) != 0;
  if (isnan(v)) {
    tpl_buf_adds(b, "NaN");
    return;
  }
  if (isinf(v)) {
    tpl_buf_adds(b, neg ? "-Inf" : "+Inf");
    return;
  }
  if (fmtc == 'x' || fmtc == 'X') {
    go_fmt_hexfloat(b, v, prec, fmtc == 'X');
    return;
  }
  if (fmtc == 'b') {
    uint64_t bits;
    int64_t exp;
    memcpy(&bits, &v, sizeof(bits));
    exp = (int64_t)((bits >> 52) & 0x7ff);
    bits &= (1ULL << 52) - 1;
    if (exp == 0)
      exp++;
    else
      bits |= 1ULL << 52;
    exp += -1023 - 52;
    if (neg)
      tpl_buf_addc(b, '-');
    tpl_buf_addf(b, "%llup%c%lld", (unsigned long long)bits, exp >= 0 ? '+' : '-', (long long)llabs(exp));
    return;
  }
  if (prec >= 0) {
    /* C's correctly rounded %e/%f/%g are Go's for an explicit precision */
    if (fmtc == 'e')
      tpl_buf_addf_c(b, "%.*e", prec, v);
    else if (fmtc == 'E')
      tpl_buf_addf_c(b, "%.*E", prec, v);
    else if (fmtc == 'f')
      tpl_buf_addf_c(b, "%.*f", prec, v);
    else if (fmtc == 'G')
      tpl_buf_addf_c(b, "%.*G", prec, v);
    else
      tpl_buf_addf_c(b, "%.*g", prec, v);
    return;
  }
  shortest_digits(v, d, &nd, &dp);
  switch (fmtc) {
  case 'e':
  case 'E':
    go_fmt_e(b, neg, d, nd, dp, nd > 0 ? nd - 1 : 0, fmtc);
    return;
  case 'f':
    go_fmt_f(b, neg, d, nd, dp, nd - dp > 0 ? nd - dp : 0);
    return;
  default: {
    int exp = dp - 1;
    if (nd == 0)
      exp = 0;
    if (exp < -4 || exp >= 6)
      go_fmt_e(b, neg, d, nd, dp, nd > 0 ? nd - 1 : 0, fmtc == 'G' ? 'E' : 'e');
    else
      go_fmt_f(b, neg, d, nd, dp, nd - dp > 0 ? nd - dp : 0);
    return;
  }
  }
}
