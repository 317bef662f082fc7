/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Timestamps as Docker writes them: RFC 3339 with nanoseconds, UTC. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"

int64_t berth_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t berth_monotonic_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void berth_format_rfc3339(int64_t ns, char out[64])
{
  time_t sec = (time_t)(ns / 1000000000LL);
  long frac = (long)(ns % 1000000000LL);
  struct tm tm;
  if (frac < 0) {
    frac += 1000000000L;
    sec--;
  }
  gmtime_r(&sec, &tm);
  if (frac)
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  else
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int berth_parse_rfc3339(const char *s, int64_t *ret_ns, berth_error_t *err)
{
  struct tm tm = {0};
  const char *p;
  int64_t frac = 0, off = 0;
  if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
    return berth_error_set_plain(err, EINVAL, "invalid timestamp `%s`", s ? s : "");
  if (*p == '.') {
    int digits = 0;
    for (p++; isdigit((unsigned char)*p); p++, digits++)
      if (digits < 9)
        frac = frac * 10 + (*p - '0');
    if (digits == 0)
      return berth_error_set_plain(err, EINVAL, "invalid timestamp `%s`", s);
    for (; digits < 9; digits++)
      frac *= 10;
  }
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
             p[3] == ':' && isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
    int hh = (p[1] - '0') * 10 + (p[2] - '0'), mm = (p[4] - '0') * 10 + (p[5] - '0');
    off = (int64_t)(hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
    p += 6;
  } else {
    return berth_error_set_plain(err, EINVAL, "invalid timestamp `%s`", s);
  }
  if (*p)
    return berth_error_set_plain(err, EINVAL, "invalid timestamp `%s`", s);
  {
    /* Outside what int64 nanoseconds hold (Go's zero time, year 1, among
     * them): saturate rather than overflow. */
    int64_t sec = (int64_t)timegm(&tm) - off;
    if (sec <= INT64_MIN / 1000000000LL + 1) {
      *ret_ns = INT64_MIN;
      return 0;
    }
    if (sec >= INT64_MAX / 1000000000LL - 1) {
      *ret_ns = INT64_MAX;
      return 0;
    }
  }
  *ret_ns = ((int64_t)timegm(&tm) - off) * 1000000000LL + frac;
  return 0;
}

int berth_parse_go_duration(const char *s, int64_t *ret_ns, berth_error_t *err)
{
  static const struct {
    const char *unit;
    double ns;
  } units[] = {{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  const char *p = s;
  double total = 0;
  bool neg = false;
  if (!s || !*s)
    return berth_error_set_plain(err, EINVAL, "time: invalid duration \"%s\"", s ? s : "");
  if (*p == '-' || *p == '+')
    neg = *p++ == '-';
  if (strcmp(p, "0") == 0) {
    *ret_ns = 0;
    return 0;
  }
  while (*p) {
    char *end;
    double v = strtod(p, &end);
    size_t best = 0, idx = 0;
    if (end == p || (!isdigit((unsigned char)*p) && *p != '.'))
      return berth_error_set_plain(err, EINVAL, "time: invalid duration \"%s\"", s);
    p = end;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
      size_t n = strlen(units[i].unit);
      if (strncmp(p, units[i].unit, n) == 0 && n > best) {
        best = n;
        idx = i;
      }
    }
    if (!best)
      return berth_error_set_plain(err, EINVAL, "time: missing unit in duration \"%s\"", s);
    total += v * units[idx].ns;
    p += best;
  }
  *ret_ns = (int64_t)(neg ? -total : total);
  return 0;
}

int berth_parse_time_filter(const char *s, int64_t *ret_ns, berth_error_t *err)
{
  struct tm tm = {0};
  const char *p;
  int64_t d;
  berth_error_t ign __attribute__((cleanup(berth_error_release))) = NULL;
  if (!s || !*s)
    return berth_error_set_plain(err, EINVAL, "invalid time filter: empty value");
  if (berth_parse_go_duration(s, &d, &ign) == 0) {
    *ret_ns = berth_now_ns() - d;
    return 0;
  }
  {
    char *end;
    double secs = strtod(s, &end);
    if (end != s && *end == '\0' && isdigit((unsigned char)s[0])) {
      *ret_ns = (int64_t)(secs * 1e9);
      return 0;
    }
  }
  if (berth_parse_rfc3339(s, ret_ns, &ign) == 0)
    return 0;
  if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) && *p == '\0') {
    *ret_ns = (int64_t)timegm(&tm) * 1000000000LL;
    return 0;
  }
  memset(&tm, 0, sizeof(tm));
  if ((p = strptime(s, "%Y-%m-%d", &tm)) && *p == '\0') {
    *ret_ns = (int64_t)timegm(&tm) * 1000000000LL;
    return 0;
  }
  return berth_error_set_plain(err, EINVAL, "invalid time filter `%s`: expected a duration, a unix timestamp or a date",
                         s);
}
