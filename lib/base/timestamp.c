/* SPDX-License-Identifier: GPL-2.0-or-later */
/* docker's --since/--until parsing (see timestamp.h).  The layout is chosen
 * from the value's shape exactly as GetTimestamp chooses it, then the value is
 * parsed against it with Go's time.Parse rules for those layouts: four-digit
 * year, two-digit month, day, minute and second, one- or two-digit hour, a
 * fraction after the seconds of any length, and "Z" or "+hh:mm" for a zone. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/timeutil.h"
#include "base/timestamp.h"

struct layout {
  const char *text;  /* Go's layout, for messages */
  int time_parts;    /* -1: a date only; 1: hour; 2: hour:minute; 3: hour:minute:second */
  bool zone;         /* "Z07:00" at the end */
};

struct parsed {
  int year, month, day, hour, min, sec;
  long nsec;
  int zone_off; /* seconds east of UTC */
};

static int elem_error(const char *value, const struct layout *l, const char *rest, const char *elem,
                      berth_error_t *err)
{
  return berth_error_set_plain(err, EINVAL, "parsing time \"%s\" as \"%s\": cannot parse \"%s\" as \"%s\"", value,
                               l->text, rest, elem);
}

/* n digits exactly (fixed) or one-or-two (not fixed, n == 2). */
static bool digits(const char **p, int n, bool fixed, int *ret)
{
  int v = 0, i = 0;
  for (; i < n && isdigit((unsigned char)(*p)[i]); i++)
    v = v * 10 + ((*p)[i] - '0');
  if (i == 0 || (fixed && i < n))
    return false;
  *p += i;
  *ret = v;
  return true;
}

static bool lit(const char **p, char c)
{
  if (**p != c)
    return false;
  (*p)++;
  return true;
}

static int days_in(int year, int month)
{
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : d[month - 1];
}

static void fraction(const char **p, long *ret)
{
  int n = 0;
  long v = 0;
  if (!((**p == '.' || **p == ',') && isdigit((unsigned char)(*p)[1])))
    return;
  for ((*p)++; isdigit((unsigned char)**p); (*p)++, n++)
    if (n < 9)
      v = v * 10 + (**p - '0');
  for (; n < 9; n++)
    v *= 10;
  *ret = v;
}

static int parse_zone(const char **p, const char *value, const struct layout *l, int *ret, berth_error_t *err)
{
  const char *s = *p;
  int hh, mm;
  if (lit(p, 'Z')) {
    *ret = 0;
    return 0;
  }
  if ((*s != '+' && *s != '-') || !(s++, digits(&s, 2, true, &hh)) || !lit(&s, ':') || !digits(&s, 2, true, &mm))
    return elem_error(value, l, *p, "Z07:00", err);
  *ret = (hh * 3600 + mm * 60) * (**p == '-' ? -1 : 1);
  *p = s;
  return 0;
}

static int parse_layout(const char *value, const struct layout *l, struct parsed *t, berth_error_t *err)
{
  const char *p = value;
  *t = (struct parsed){.month = 1, .day = 1};
  if (!digits(&p, 4, true, &t->year))
    return elem_error(value, l, p, "2006", err);
  if (!lit(&p, '-') || !digits(&p, 2, true, &t->month))
    return elem_error(value, l, p, *p == '-' ? "01" : "-", err);
  if (!lit(&p, '-') || !digits(&p, 2, true, &t->day))
    return elem_error(value, l, p, *p == '-' ? "02" : "-", err);
  if (l->time_parts > 0) {
    if (!lit(&p, 'T'))
      return elem_error(value, l, p, "T", err);
    if (!digits(&p, 2, false, &t->hour))
      return elem_error(value, l, p, "15", err);
    if (l->time_parts > 1 && (!lit(&p, ':') || !digits(&p, 2, true, &t->min)))
      return elem_error(value, l, p, *p == ':' ? "04" : ":", err);
    if (l->time_parts > 2 && (!lit(&p, ':') || !digits(&p, 2, true, &t->sec)))
      return elem_error(value, l, p, *p == ':' ? "05" : ":", err);
    if (l->time_parts > 2)
      fraction(&p, &t->nsec);
  }
  if (l->zone && parse_zone(&p, value, l, &t->zone_off, err) < 0)
    return -1;
  if (*p)
    return berth_error_set_plain(err, EINVAL, "parsing time \"%s\": extra text: \"%s\"", value, p);
  const char *range = t->month < 1 || t->month > 12            ? "month"
                      : t->day < 1 || t->day > days_in(t->year, t->month) ? "day"
                      : t->hour > 23                                ? "hour"
                      : t->min > 59                                 ? "minute"
                      : t->sec > 59                                 ? "second"
                                                                    : NULL;
  if (range)
    return berth_error_set_plain(err, EINVAL, "parsing time \"%s\": %s out of range", value, range);
  return 0;
}

static int64_t to_ns(const struct parsed *t)
{
  struct tm tm = {.tm_year = t->year - 1900, .tm_mon = t->month - 1, .tm_mday = t->day, .tm_hour = t->hour,
                  .tm_min = t->min, .tm_sec = t->sec};
  return ((int64_t)timegm(&tm) - t->zone_off) * 1000000000LL + t->nsec;
}

/* GetTimestamp's choice of layout. */
static void choose_layout(const char *v, bool local, struct layout *l)
{
  int colons = 0;
  for (const char *p = v; *p; p++)
    colons += *p == ':';
  l->zone = !local;
  if (strchr(v, '.')) {
    l->time_parts = 3;
    l->text = local ? "2006-01-02T15:04:05.999999999" : "2006-01-02T15:04:05.999999999Z07:00";
  } else if (strchr(v, 'T')) {
    if (!local && !strpbrk(v, "zZ") && colons > 0)
      colons--; /* the zone offset's colon */
    l->time_parts = colons == 0 ? 1 : colons == 1 ? 2 : 3;
    static const char *const layouts[2][3] = {
        {"2006-01-02T15Z07:00", "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05Z07:00"},
        {"2006-01-02T15", "2006-01-02T15:04", "2006-01-02T15:04:05"},
    };
    l->text = layouts[local][l->time_parts - 1];
  } else {
    l->time_parts = -1;
    l->text = local ? "2006-01-02" : "2006-01-02Z07:00";
  }
}

/* strconv.ParseInt: optional sign, decimal digits, no overflow. */
static bool parse_int(const char *s, size_t n, long long *ret)
{
  char buf[32], *end;
  if (n == 0 || n >= sizeof(buf))
    return false;
  memcpy(buf, s, n);
  buf[n] = '\0';
  if (!isdigit((unsigned char)buf[buf[0] == '+' || buf[0] == '-']))
    return false;
  errno = 0;
  *ret = strtoll(buf, &end, 10);
  return !errno && *end == '\0';
}

/* "sec[.frac]" as the daemon's ParseTimestamps reads it. */
static bool unix_timestamp(const char *v, int64_t *ret_ns)
{
  const char *dot = strchr(v, '.');
  long long sec, frac = 0;
  if (!parse_int(v, dot ? (size_t)(dot - v) : strlen(v), &sec))
    return false;
  if (dot) {
    size_t n = strlen(dot + 1);
    if (!parse_int(dot + 1, n, &frac))
      return false;
    for (; n < 9; n++)
      frac *= 10;
    for (; n > 9; n--)
      frac /= 10;
  }
  *ret_ns = (int64_t)sec * 1000000000LL + frac;
  return true;
}

static long local_offset(int64_t now_ns)
{
  time_t now = (time_t)(now_ns / 1000000000LL);
  struct tm tm;
  localtime_r(&now, &tm);
  return tm.tm_gmtoff;
}

int berth_parse_docker_timestamp(const char *value, int64_t now_ns, int64_t *ret_ns, berth_error_t *err)
{
  berth_error_t ign __attribute__((cleanup(berth_error_release))) = NULL;
  struct layout l;
  struct parsed t;
  int64_t d;
  int dashes = 0;
  if (strcmp(value, "0") != 0 && berth_parse_go_duration(value, &d, &ign) == 0) {
    int64_t at = now_ns - d;
    /* time.Unix(): whole seconds, rounded down */
    *ret_ns = (at / 1000000000LL - (at % 1000000000LL < 0)) * 1000000000LL;
    return 0;
  }
  for (const char *p = value; *p; p++)
    dashes += *p == '-';
  bool local = !strpbrk(value, "zZ+") && dashes != 3;
  choose_layout(value, local, &l);
  if (parse_layout(value, &l, &t, strchr(value, '-') ? err : &ign) == 0) {
    if (local)
      t.zone_off = (int)local_offset(now_ns);
    *ret_ns = to_ns(&t);
    return 0;
  }
  if (strchr(value, '-'))
    return -1; /* an RFC 3339 time that does not parse: that error */
  if (!unix_timestamp(value, ret_ns))
    return berth_error_set_plain(err, EINVAL, "failed to parse value as time or duration: \"%s\"", value);
  return 0;
}

void berth_format_rfc3339_fixed(int64_t ns, bool utc, char out[64])
{
  time_t sec = (time_t)(ns / 1000000000LL);
  long frac = (long)(ns % 1000000000LL);
  struct tm tm;
  char zone[40] = "Z";
  if (frac < 0) {
    frac += 1000000000L;
    sec--;
  }
  if (utc) {
    gmtime_r(&sec, &tm);
  } else {
    localtime_r(&sec, &tm);
    long off = tm.tm_gmtoff;
    if (off)
      snprintf(zone, sizeof(zone), "%c%02ld:%02ld", off < 0 ? '-' : '+', labs(off) / 3600, labs(off) % 3600 / 60);
  }
  snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%09ld%s", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, frac, zone);
}
