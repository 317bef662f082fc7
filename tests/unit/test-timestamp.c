/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/base/timestamp.c against the table of moby's api/types/time
 * timestamp_test.go (TestGetTimestamp), run with the local zone set to UTC
 * as that table assumes, plus the local zone and formatting. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <time.h>

#include "base/timestamp.h"

#define NOW (1700000000LL * 1000000000LL + 123456789LL)

static void utc(void)
{
  setenv("TZ", "UTC", 1);
  tzset();
}

static int64_t parse(const char *s, bool *ok)
{
  berth_error_t err = NULL;
  int64_t ns = -1;
  *ok = berth_parse_docker_timestamp(s, NOW, &ns, &err) == 0;
  berth_error_release(&err);
  return ns;
}

Test(timestamp, docker_get_timestamp_table, .init = utc)
{
  static const struct {
    const char *in;
    long long sec, nsec;
    bool ok;
  } cases[] = {
      {"2006-01-02T15:04:05.999999999+07:00", 1136189045, 999999999, true},
      {"2006-01-02T15:04:05.999999999Z", 1136214245, 999999999, true},
      {"2006-01-02T15:04:05.999999999", 1136214245, 999999999, true},
      {"2006-01-02T15:04:05Z", 1136214245, 0, true},
      {"2006-01-02T15:04:05", 1136214245, 0, true},
      {"2006-01-02T15:04:0Z", 0, 0, false},
      {"2006-01-02T15:04:0", 0, 0, false},
      {"2006-01-02T15:04Z", 1136214240, 0, true},
      {"2006-01-02T15:04+00:00", 1136214240, 0, true},
      {"2006-01-02T15:04-00:00", 1136214240, 0, true},
      {"2006-01-02T15:04", 1136214240, 0, true},
      {"2006-01-02T15:0Z", 0, 0, false},
      {"2006-01-02T15:0", 0, 0, false},
      {"2006-01-02T15Z", 1136214000, 0, true},
      {"2006-01-02T15+00:00", 1136214000, 0, true},
      {"2006-01-02T15-00:00", 1136214000, 0, true},
      {"2006-01-02T15", 1136214000, 0, true},
      {"2006-01-02T1Z", 1136163600, 0, true},
      {"2006-01-02T1", 1136163600, 0, true},
      {"2006-01-02TZ", 0, 0, false},
      {"2006-01-02T", 0, 0, false},
      {"2006-01-02+00:00", 1136160000, 0, true},
      {"2006-01-02-00:00", 1136160000, 0, true},
      {"2006-01-02-00:01", 1136160060, 0, true},
      {"2006-01-02Z", 1136160000, 0, true},
      {"2006-01-02", 1136160000, 0, true},
      {"2015-05-13T20:39:09Z", 1431549549, 0, true},
      {"1136073600", 1136073600, 0, true},
      {"1136073600.000000001", 1136073600, 1, true},
      {"1136073600.5", 1136073600, 500000000, true},
      {"invalid", 0, 0, false},
      {"", 0, 0, false},
      {"2006-13-02", 0, 0, false},
      {"2006-02-30", 0, 0, false},
      {"2006-01-02T24:00", 0, 0, false},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    bool ok;
    int64_t ns = parse(cases[i].in, &ok);
    cr_expect_eq(ok, cases[i].ok, "%s: ok %d", cases[i].in, ok);
    if (ok && cases[i].ok)
      cr_expect_eq(ns, cases[i].sec * 1000000000LL + cases[i].nsec, "%s: %lld", cases[i].in, (long long)ns);
  }
}

Test(timestamp, durations_count_back_from_now_in_whole_seconds, .init = utc)
{
  bool ok;
  cr_expect_eq(parse("1m", &ok), (1700000000LL - 60) * 1000000000LL);
  cr_expect_eq(parse("1.5h", &ok), (1700000000LL - 5400) * 1000000000LL);
  cr_expect_eq(parse("1h30m", &ok), (1700000000LL - 5400) * 1000000000LL);
  cr_expect_eq(parse("-10s", &ok), (1700000000LL + 10) * 1000000000LL);
  /* "0" is not a duration but a Unix time */
  cr_expect_eq(parse("0", &ok), 0);
  cr_expect(ok);
}

Test(timestamp, a_time_without_zone_is_local)
{
  bool ok;
  setenv("TZ", "EST5", 1); /* UTC-5, no daylight saving */
  tzset();
  cr_expect_eq(parse("2006-01-02T15:04:05", &ok), (1136214245LL + 5 * 3600) * 1000000000LL);
  cr_expect_eq(parse("2006-01-02T15:04:05Z", &ok), 1136214245LL * 1000000000LL);
}

Test(timestamp, errors_read_like_go)
{
  berth_error_t err = NULL;
  int64_t ns;
  cr_assert_lt(berth_parse_docker_timestamp("2006-13-01", NOW, &ns, &err), 0);
  cr_expect_str_eq(err->msg, "parsing time \"2006-13-01\": month out of range");
  berth_error_release(&err);
  cr_assert_lt(berth_parse_docker_timestamp("yesterday", NOW, &ns, &err), 0);
  cr_expect_str_eq(err->msg, "failed to parse value as time or duration: \"yesterday\"");
  berth_error_release(&err);
}

Test(timestamp, rfc3339_nano_fixed)
{
  char out[64];
  setenv("TZ", "EST5", 1);
  tzset();
  berth_format_rfc3339_fixed(1136214245LL * 1000000000LL + 5, true, out);
  cr_expect_str_eq(out, "2006-01-02T15:04:05.000000005Z");
  berth_format_rfc3339_fixed(1136214245LL * 1000000000LL, false, out);
  cr_expect_str_eq(out, "2006-01-02T10:04:05.000000000-05:00");
}
