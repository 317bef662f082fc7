/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Human-readable sizes and durations, after docker/go-units, plus Go's
 * ParseDuration and ParseFloat.  The CLI uses them for SIZE/CREATED columns,
 * --memory style flags and until= filters; the template engine uses the float
 * parser for number literals. */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/units.h"

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
  c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static locale_t get_c_locale(void)
{
  (void)pthread_once(&c_locale_once, c_locale_init);
  return c_locale;
}

int berth_vsnprintf_c(char *buf, size_t len, const char *fmt, va_list ap)
{
  locale_t loc = get_c_locale(), old = (locale_t)0;
  int n;
  if (loc)
    old = uselocale(loc);
  n = vsnprintf(buf, len, fmt, ap);
  if (loc)
    (void)uselocale(old);
  return n;
}

int berth_snprintf_c(char *buf, size_t len, const char *fmt, ...)
{
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = berth_vsnprintf_c(buf, len, fmt, ap);
  va_end(ap);
  return n;
}

/* ---- sizes ---- */

static const char *const decimal_abbrs[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
static const char *const binary_abbrs[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};

/* go-units getSizeAndUnit + fmt "%.*g%s". */
static char *custom_size(double size, double base, const char *const *abbrs, int precision, char *buf, size_t len)
{
  size_t i = 0;
  if (!buf || len == 0)
    return buf;
  while (size >= base && i < 8) {
    size /= base;
    i++;
  }
  if (isnan(size))
    (void)berth_snprintf_c(buf, len, "NaN%s", abbrs[i]);
  else if (isinf(size))
    (void)berth_snprintf_c(buf, len, "%sInf%s", size < 0 ? "-" : "+", abbrs[i]);
  else
    (void)berth_snprintf_c(buf, len, "%.*g%s", precision, size, abbrs[i]);
  return buf;
}

char *berth_human_size_prec(double bytes, int precision, char *buf, size_t len)
{
  return custom_size(bytes, 1000.0, decimal_abbrs, precision, buf, len);
}

char *berth_human_size(int64_t bytes, char *buf, size_t len)
{
  return berth_human_size_prec((double)bytes, 3, buf, len);
}

char *berth_bytes_size(double bytes, char *buf, size_t len)
{
  return custom_size(bytes, 1024.0, binary_abbrs, 4, buf, len);
}

/* ---- durations ---- */

char *berth_human_duration(int64_t seconds, char *buf, size_t len)
{
  int64_t minutes = seconds / 60, hours;
  if (!buf || len == 0)
    return buf;
  /* int(d.Hours() + 0.5): round half up on whole seconds. */
  hours = seconds >= 0 ? (seconds + 1800) / 3600 : 0;
  if (seconds < 1)
    (void)snprintf(buf, len, "Less than a second");
  else if (seconds == 1)
    (void)snprintf(buf, len, "1 second");
  else if (seconds < 60)
    (void)snprintf(buf, len, "%lld seconds", (long long)seconds);
  else if (minutes == 1)
    (void)snprintf(buf, len, "About a minute");
  else if (minutes < 60)
    (void)snprintf(buf, len, "%lld minutes", (long long)minutes);
  else if (hours == 1)
    (void)snprintf(buf, len, "About an hour");
  else if (hours < 48)
    (void)snprintf(buf, len, "%lld hours", (long long)hours);
  else if (hours < 24 * 7 * 2)
    (void)snprintf(buf, len, "%lld days", (long long)(hours / 24));
  else if (hours < 24 * 30 * 2)
    (void)snprintf(buf, len, "%lld weeks", (long long)(hours / 24 / 7));
  else if (hours < 24 * 365 * 2)
    (void)snprintf(buf, len, "%lld months", (long long)(hours / 24 / 30));
  else /* years use the truncated hours, as go-units does */
    (void)snprintf(buf, len, "%lld years", (long long)(seconds / 3600 / 24 / 365));
  return buf;
}

char *berth_human_ago(int64_t seconds, char *buf, size_t len)
{
  static const char suffix[] = " ago";
  size_t n;
  if (!buf || len == 0)
    return buf;
  n = strlen(berth_human_duration(seconds, buf, len));
  for (size_t i = 0; suffix[i] && n + 1 < len; i++)
    buf[n++] = suffix[i];
  buf[n] = '\0';
  return buf;
}

/* ---- Go float syntax ---- */

static char lower_ascii(char c)
{
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static bool is_hex_digit(char c)
{
  return is_digit(c) || (lower_ascii(c) >= 'a' && lower_ascii(c) <= 'f');
}

static bool equal_fold(const char *s, size_t n, const char *word)
{
  if (strlen(word) != n)
    return false;
  for (size_t i = 0; i < n; i++)
    if (lower_ascii(s[i]) != word[i])
      return false;
  return true;
}

bool berth_go_underscores_ok(const char *s, size_t n)
{
  char saw = '^';
  size_t i = 0;
  bool hex = false;
  if (n >= 1 && (s[0] == '-' || s[0] == '+')) {
    s++;
    n--;
  }
  if (n >= 2 && s[0] == '0' && strchr("box", lower_ascii(s[1])) && lower_ascii(s[1])) {
    i = 2;
    saw = '0';
    hex = lower_ascii(s[1]) == 'x';
  }
  for (; i < n; i++) {
    if (is_digit(s[i]) || (hex && is_hex_digit(s[i]))) {
      saw = '0';
      continue;
    }
    if (s[i] == '_') {
      if (saw != '0')
        return false;
      saw = '_';
      continue;
    }
    if (saw == '_')
      return false;
    saw = '!';
  }
  return saw != '_';
}

/* Check the digits of a (sign-less, underscore-free) Go float literal. */
static bool float_syntax_ok(const char *s, size_t n)
{
  size_t i = 0, digits = 0;
  bool hex = false;
  if (n >= 2 && s[0] == '0' && lower_ascii(s[1]) == 'x') {
    hex = true;
    i = 2;
  }
  for (; i < n && (hex ? is_hex_digit(s[i]) : is_digit(s[i])); i++)
    digits++;
  if (i < n && s[i] == '.')
    for (i++; i < n && (hex ? is_hex_digit(s[i]) : is_digit(s[i])); i++)
      digits++;
  if (digits == 0)
    return false;
  if (i < n && lower_ascii(s[i]) == (hex ? 'p' : 'e')) {
    size_t exp_digits = 0;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
      i++;
    for (; i < n && is_digit(s[i]); i++)
      exp_digits++;
    if (exp_digits == 0)
      return false;
  } else if (hex) {
    return false; /* a hexadecimal mantissa requires a 'p' exponent */
  }
  return i == n;
}

int berth_go_parse_float(const char *s, size_t n, double *ret)
{
  cleanup_free char *copy = NULL;
  const char *body;
  size_t len = 0, sign = 0;
  double v;
  if (n == 0)
    return -1;
  if (s[0] == '+' || s[0] == '-')
    sign = 1;
  body = s + sign;
  if (equal_fold(body, n - sign, "inf") || equal_fold(body, n - sign, "infinity")) {
    *ret = s[0] == '-' ? -INFINITY : INFINITY;
    return 0;
  }
  if (!sign && equal_fold(s, n, "nan")) {
    *ret = NAN;
    return 0;
  }
  if (memchr(s, '_', n) && !berth_go_underscores_ok(s, n))
    return -1;
  copy = malloc(n + 1);
  if (!copy)
    abort();
  for (size_t i = 0; i < n; i++)
    if (s[i] != '_')
      copy[len++] = s[i];
  copy[len] = '\0';
  if (!float_syntax_ok(copy + sign, len - sign))
    return -1;
  v = strtod_l(copy, NULL, get_c_locale());
  *ret = v;
  return isinf(v) ? -2 : 0;
}

/* ---- size parsing ---- */

static int parse_size(const char *s, const int64_t *mult, int64_t *ret, berth_error_t *err)
{
  static const char units[] = "kmgtp";
  const char *sep = NULL, *sfx;
  char lsfx[4] = {0};
  size_t num_len, sfx_len;
  double size;
  for (const char *p = s; *p; p++)
    if (strchr("0123456789. ", *p))
      sep = p;
  if (!sep)
    return berth_error_set_plain(err, EINVAL, "invalid size `%s`", s);
  num_len = (size_t)(sep - s) + (*sep == ' ' ? 0 : 1);
  sfx = sep + 1;
  if (berth_go_parse_float(s, num_len, &size) < 0 || isnan(size) || size < 0)
    return berth_error_set_plain(err, EINVAL, "invalid size `%s`", s);
  sfx_len = strlen(sfx);
  if (sfx_len > 3)
    return berth_error_set_plain(err, EINVAL, "invalid suffix `%s` in size `%s`", sfx, s);
  for (size_t i = 0; i < sfx_len; i++)
    lsfx[i] = lower_ascii(sfx[i]);
  if (sfx_len > 0 && lsfx[0] == 'b') {
    if (sfx_len > 1)
      return berth_error_set_plain(err, EINVAL, "invalid suffix `%s` in size `%s`", sfx, s);
  } else if (sfx_len > 0) {
    const char *u = strchr(units, lsfx[0]);
    if (!u || !*u || (sfx_len == 2 && lsfx[1] != 'b') || (sfx_len == 3 && strcmp(lsfx + 1, "ib") != 0))
      return berth_error_set_plain(err, EINVAL, "invalid suffix `%s` in size `%s`", sfx, s);
    size *= (double)mult[u - units];
  }
  if (size >= 9223372036854775808.0)
    return berth_error_set(err, ERANGE, "size `%s` is too large", s);
  *ret = (int64_t)size;
  return 0;
}

int berth_parse_size(const char *s, int64_t *ret, berth_error_t *err)
{
  static const int64_t binary[] = {1LL << 10, 1LL << 20, 1LL << 30, 1LL << 40, 1LL << 50};
  return parse_size(s ? s : "", binary, ret, err);
}

int berth_parse_human_size(const char *s, int64_t *ret, berth_error_t *err)
{
  static const int64_t decimal[] = {1000LL, 1000000LL, 1000000000LL, 1000000000000LL, 1000000000000000LL};
  return parse_size(s ? s : "", decimal, ret, err);
}

/* ---- Go durations ---- */

#define DURATION_LIMIT (1ULL << 63)

/* Go's leadingInt: digits into *x; false on overflow past 1<<63. */
static bool leading_int(const char **s, uint64_t *x)
{
  uint64_t v = 0;
  for (; is_digit(**s); (*s)++) {
    if (v > DURATION_LIMIT / 10)
      return false;
    v = v * 10 + (uint64_t)(**s - '0');
    if (v > DURATION_LIMIT)
      return false;
  }
  *x = v;
  return true;
}

/* Go's leadingFraction: value and scale of the digits after the point;
 * digits past what fits are consumed and ignored. */
static void leading_fraction(const char **s, uint64_t *x, double *scale)
{
  bool overflow = false;
  *x = 0;
  *scale = 1;
  for (; is_digit(**s); (*s)++) {
    uint64_t y;
    if (overflow)
      continue;
    if (*x > (DURATION_LIMIT - 1) / 10) {
      overflow = true;
      continue;
    }
    y = *x * 10 + (uint64_t)(**s - '0');
    if (y > DURATION_LIMIT) {
      overflow = true;
      continue;
    }
    *x = y;
    *scale *= 10;
  }
}

static bool duration_unit(const char *u, size_t n, uint64_t *ret)
{
  static const struct {
    const char *name;
    uint64_t ns;
  } units[] = {
      {"ns", 1ULL},         {"us", 1000ULL},          {"\xc2\xb5s", 1000ULL}, /* U+00B5 */
      {"\xce\xbcs", 1000ULL}, /* U+03BC */ {"ms", 1000000ULL}, {"s", 1000000000ULL},
      {"m", 60000000000ULL}, {"h", 3600000000000ULL},
  };
  for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
    if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0) {
      *ret = units[i].ns;
      return true;
    }
  return false;
}

int berth_parse_duration(const char *s, int64_t *ret_ns, berth_error_t *err)
{
  const char *p = s ? s : "", *orig = p;
  uint64_t d = 0;
  bool neg = false;
  if (*p == '-' || *p == '+')
    neg = *p++ == '-';
  if (strcmp(p, "0") == 0) {
    *ret_ns = 0;
    return 0;
  }
  if (!*p)
    return berth_error_set_plain(err, EINVAL, "invalid duration `%s`", orig);
  while (*p) {
    uint64_t v = 0, f = 0, unit;
    double scale = 1;
    const char *start, *u;
    bool pre, post = false;
    if (!(*p == '.' || is_digit(*p)))
      return berth_error_set_plain(err, EINVAL, "invalid duration `%s`", orig);
    start = p;
    if (!leading_int(&p, &v))
      return berth_error_set_plain(err, EINVAL, "invalid duration `%s`", orig);
    pre = p != start;
    if (*p == '.') {
      const char *frac = ++p;
      leading_fraction(&p, &f, &scale);
      post = p != frac;
    }
    if (!pre && !post)
      return berth_error_set_plain(err, EINVAL, "invalid duration `%s`", orig);
    u = p;
    while (*p && *p != '.' && !is_digit(*p))
      p++;
    if (p == u)
      return berth_error_set_plain(err, EINVAL, "missing unit in duration `%s`", orig);
    if (!duration_unit(u, (size_t)(p - u), &unit))
      return berth_error_set_plain(err, EINVAL, "unknown unit `%.*s` in duration `%s`", (int)(p - u), u, orig);
    if (v > DURATION_LIMIT / unit)
      return berth_error_set_plain(err, EINVAL, "invalid duration `%s`", orig);
    v *= unit;
    if (f > 0) {
      /* float64 keeps fractions of hours nanosecond-accurate, as in Go */
      v += (uint64_t)((double)f * ((double)unit / scale));
      if (v > DURATION_LIMIT)
        return berth_error_set_plain(err, EINVAL, "invalid duration `%s`", orig);
    }
    d += v;
    if (d > DURATION_LIMIT)
      return berth_error_set_plain(err, EINVAL, "invalid duration `%s`", orig);
  }
  if (neg) {
    *ret_ns = d == DURATION_LIMIT ? INT64_MIN : -(int64_t)d;
    return 0;
  }
  if (d > (uint64_t)INT64_MAX)
    return berth_error_set_plain(err, EINVAL, "invalid duration `%s`", orig);
  *ret_ns = (int64_t)d;
  return 0;
}
