/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Timestamps as Docker writes them: RFC 3339 with nanoseconds, UTC. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/timeutil.h"

int64_t berth_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
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
    return berth_error_set(err, EINVAL, "invalid timestamp `%s`", s ? s : "");
  if (*p == '.') {
    int digits = 0;
    for (p++; isdigit((unsigned char)*p); p++, digits++)
      if (digits < 9)
        frac = frac * 10 + (*p - '0');
    if (digits == 0)
      return berth_error_set(err, EINVAL, "invalid timestamp `%s`", s);
    for (; digits < 9; digits++)
      frac *= 10;
  }
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int hh, mm;
    if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
      return berth_error_set(err, EINVAL, "invalid timestamp `%s`", s);
    off = (int64_t)(hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
    p += 6;
  } else {
    return berth_error_set(err, EINVAL, "invalid timestamp `%s`", s);
  }
  if (*p)
    return berth_error_set(err, EINVAL, "invalid timestamp `%s`", s);
  *ret_ns = ((int64_t)timegm(&tm) - off) * 1000000000LL + frac;
  return 0;
}
