/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd/berth/units.c against the tables of docker/go-units' size_test.go and
 * duration_test.go and Go's time.ParseDuration tests, through units.h (linked
 * against berth_cli_util). */
#include <criterion/criterion.h>
#include <locale.h>
#include <math.h>

#include "base/cleanup.h"
#include "base/units.h"

#define KB 1000.0
#define MB (1000.0 * KB)
#define GB (1000.0 * MB)
#define TB (1000.0 * GB)
#define PB (1000.0 * TB)
#define KiB 1024LL
#define MiB (1024LL * KiB)
#define GiB (1024LL * MiB)
#define TiB (1024LL * GiB)
#define PiB (1024LL * TiB)

static const char *human(double n, int prec)
{
  static char buf[BERTH_UNITS_BUFSZ];
  return berth_human_size_prec(n, prec, buf, sizeof(buf));
}

Test(units, human_size_matches_go_units_precision_4)
{
  cr_assert_str_eq(human(1000, 4), "1kB");
  cr_assert_str_eq(human(1024, 4), "1.024kB");
  cr_assert_str_eq(human(1000000, 4), "1MB");
  cr_assert_str_eq(human(1048576, 4), "1.049MB");
  cr_assert_str_eq(human(2 * MB, 4), "2MB");
  cr_assert_str_eq(human(3.42 * GB, 4), "3.42GB");
  cr_assert_str_eq(human(5.372 * TB, 4), "5.372TB");
  cr_assert_str_eq(human(2.22 * PB, 4), "2.22PB");
  cr_assert_str_eq(human(10000000000000 * PB, 4), "1e+04YB");
}

Test(units, human_size_is_docker_size_column)
{
  char buf[BERTH_UNITS_BUFSZ];
  cr_assert_str_eq(berth_human_size(0, buf, sizeof(buf)), "0B");
  cr_assert_str_eq(berth_human_size(999, buf, sizeof(buf)), "999B");
  cr_assert_str_eq(berth_human_size(1000, buf, sizeof(buf)), "1kB");
  cr_assert_str_eq(berth_human_size(523000, buf, sizeof(buf)), "523kB");
  cr_assert_str_eq(berth_human_size(4270000, buf, sizeof(buf)), "4.27MB");
  cr_assert_str_eq(berth_human_size(7838056, buf, sizeof(buf)), "7.84MB");
  cr_assert_str_eq(berth_human_size(1234567890, buf, sizeof(buf)), "1.23GB");
  /* %.3g rounds 999.999 to 1e+03, and docker prints that too */
  cr_assert_str_eq(berth_human_size(999999, buf, sizeof(buf)), "1e+03kB");
  cr_assert_str_eq(berth_human_size(INT64_MAX, buf, sizeof(buf)), "9.22EB");
}

Test(units, human_size_truncates_to_buffer)
{
  char buf[4];
  cr_assert_str_eq(berth_human_size(4270000, buf, sizeof(buf)), "4.2");
}

Test(units, bytes_size_matches_go_units)
{
  char buf[BERTH_UNITS_BUFSZ];
  cr_assert_str_eq(berth_bytes_size(1024, buf, sizeof(buf)), "1KiB");
  cr_assert_str_eq(berth_bytes_size(1024 * 1024, buf, sizeof(buf)), "1MiB");
  cr_assert_str_eq(berth_bytes_size(2.0 * MiB, buf, sizeof(buf)), "2MiB");
  cr_assert_str_eq(berth_bytes_size(3.42 * GiB, buf, sizeof(buf)), "3.42GiB");
  cr_assert_str_eq(berth_bytes_size(5.372 * TiB, buf, sizeof(buf)), "5.372TiB");
  cr_assert_str_eq(berth_bytes_size(2.22 * PiB, buf, sizeof(buf)), "2.22PiB");
  cr_assert_str_eq(berth_bytes_size((double)KiB * KiB * KiB * KiB * KiB * PiB, buf, sizeof(buf)), "1.049e+06YiB");
}

static const char *dur(int64_t seconds)
{
  static char buf[BERTH_UNITS_BUFSZ];
  return berth_human_duration(seconds, buf, sizeof(buf));
}

#define MIN 60LL
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define WEEK (7 * DAY)
#define MONTH (30 * DAY)
#define YEAR (365 * DAY)

Test(units, human_duration_seconds_and_minutes)
{
  cr_assert_str_eq(dur(0), "Less than a second");
  cr_assert_str_eq(dur(-5), "Less than a second");
  cr_assert_str_eq(dur(1), "1 second");
  cr_assert_str_eq(dur(45), "45 seconds");
  cr_assert_str_eq(dur(46), "46 seconds");
  cr_assert_str_eq(dur(59), "59 seconds");
  cr_assert_str_eq(dur(60), "About a minute");
  cr_assert_str_eq(dur(3 * MIN), "3 minutes");
  cr_assert_str_eq(dur(35 * MIN), "35 minutes");
  cr_assert_str_eq(dur(35 * MIN + 40), "35 minutes");
  cr_assert_str_eq(dur(45 * MIN), "45 minutes");
  cr_assert_str_eq(dur(45 * MIN + 40), "45 minutes");
  cr_assert_str_eq(dur(46 * MIN), "46 minutes");
  cr_assert_str_eq(dur(59 * MIN), "59 minutes");
}

Test(units, human_duration_hours_round_half_up)
{
  cr_assert_str_eq(dur(HOUR), "About an hour");
  cr_assert_str_eq(dur(HOUR + 29 * MIN), "About an hour");
  cr_assert_str_eq(dur(HOUR + 31 * MIN), "2 hours");
  cr_assert_str_eq(dur(HOUR + 59 * MIN), "2 hours");
  cr_assert_str_eq(dur(3 * HOUR), "3 hours");
  cr_assert_str_eq(dur(3 * HOUR + 29 * MIN), "3 hours");
  cr_assert_str_eq(dur(3 * HOUR + 31 * MIN), "4 hours");
  cr_assert_str_eq(dur(3 * HOUR + 59 * MIN), "4 hours");
  cr_assert_str_eq(dur(3 * HOUR + 60 * MIN), "4 hours");
  cr_assert_str_eq(dur(24 * HOUR), "24 hours");
  cr_assert_str_eq(dur(DAY + 12 * HOUR), "36 hours");
}

Test(units, human_duration_days_to_years)
{
  cr_assert_str_eq(dur(2 * DAY), "2 days");
  cr_assert_str_eq(dur(7 * DAY), "7 days");
  cr_assert_str_eq(dur(13 * DAY + 5 * HOUR), "13 days");
  cr_assert_str_eq(dur(2 * WEEK), "2 weeks");
  cr_assert_str_eq(dur(2 * WEEK + 4 * DAY), "2 weeks");
  cr_assert_str_eq(dur(3 * WEEK), "3 weeks");
  cr_assert_str_eq(dur(4 * WEEK), "4 weeks");
  cr_assert_str_eq(dur(4 * WEEK + 3 * DAY), "4 weeks");
  cr_assert_str_eq(dur(MONTH), "4 weeks");
  cr_assert_str_eq(dur(MONTH + 2 * WEEK), "6 weeks");
  cr_assert_str_eq(dur(2 * MONTH), "2 months");
  cr_assert_str_eq(dur(2 * MONTH + 2 * WEEK), "2 months");
  cr_assert_str_eq(dur(3 * MONTH), "3 months");
  cr_assert_str_eq(dur(3 * MONTH + WEEK), "3 months");
  cr_assert_str_eq(dur(5 * MONTH + 2 * WEEK), "5 months");
  cr_assert_str_eq(dur(13 * MONTH), "13 months");
  cr_assert_str_eq(dur(23 * MONTH), "23 months");
  cr_assert_str_eq(dur(24 * MONTH), "24 months");
  cr_assert_str_eq(dur(24 * MONTH + 2 * WEEK), "2 years");
  cr_assert_str_eq(dur(3 * YEAR + 2 * MONTH), "3 years");
}

Test(units, human_ago_is_created_column)
{
  char buf[BERTH_UNITS_BUFSZ];
  cr_assert_str_eq(berth_human_ago(2 * HOUR, buf, sizeof(buf)), "2 hours ago");
  cr_assert_str_eq(berth_human_ago(10, buf, sizeof(buf)), "10 seconds ago");
  cr_assert_str_eq(berth_human_ago(0, buf, sizeof(buf)), "Less than a second ago");
}

static void size_ok(int (*fn)(const char *, int64_t *, berth_error_t *), const char *s, int64_t want)
{
  cleanup_error berth_error_t err = NULL;
  int64_t got = -1;
  cr_assert_eq(fn(s, &got, &err), 0, "`%s`: %s", s, err ? err->msg : "");
  cr_assert_eq(got, want, "`%s`: got %lld want %lld", s, (long long)got, (long long)want);
}

static void size_bad(int (*fn)(const char *, int64_t *, berth_error_t *), const char *s)
{
  cleanup_error berth_error_t err = NULL;
  int64_t got = -1;
  cr_assert_lt(fn(s, &got, &err), 0, "`%s` parsed as %lld", s, (long long)got);
  cr_assert_not_null(err);
  cr_assert(err->code == EINVAL || err->code == ERANGE);
}

Test(units, ram_in_bytes_accepts_go_units_forms)
{
  size_ok(berth_parse_size, "32", 32);
  size_ok(berth_parse_size, "32b", 32);
  size_ok(berth_parse_size, "32B", 32);
  size_ok(berth_parse_size, "32k", 32 * KiB);
  size_ok(berth_parse_size, "32K", 32 * KiB);
  size_ok(berth_parse_size, "32kb", 32 * KiB);
  size_ok(berth_parse_size, "32Kb", 32 * KiB);
  size_ok(berth_parse_size, "32Kib", 32 * KiB);
  size_ok(berth_parse_size, "32KIB", 32 * KiB);
  size_ok(berth_parse_size, "32Mb", 32 * MiB);
  size_ok(berth_parse_size, "32Gb", 32 * GiB);
  size_ok(berth_parse_size, "32Tb", 32 * TiB);
  size_ok(berth_parse_size, "32Pb", 32 * PiB);
  size_ok(berth_parse_size, "32PB", 32 * PiB);
  size_ok(berth_parse_size, "32P", 32 * PiB);
  size_ok(berth_parse_size, "32.3", 32);
  size_ok(berth_parse_size, "32.3 mb", (int64_t)(32.3 * MiB));
  size_ok(berth_parse_size, "0.3MB", (int64_t)(0.3 * MiB));
  size_ok(berth_parse_size, "10m", 10 * MiB);
  size_ok(berth_parse_size, "1.5g", 3 * GiB / 2);
  size_ok(berth_parse_size, "512k", 512 * KiB);
}

Test(units, ram_in_bytes_rejects_bad_sizes)
{
  size_bad(berth_parse_size, "");
  size_bad(berth_parse_size, "hello");
  size_bad(berth_parse_size, "-32");
  size_bad(berth_parse_size, " 32 ");
  size_bad(berth_parse_size, "32m b");
  size_bad(berth_parse_size, "32bm");
  size_bad(berth_parse_size, "32x");
  size_bad(berth_parse_size, "32kibx");
  size_bad(berth_parse_size, "32ki");
  size_bad(berth_parse_size, "1.2.3k");
  size_bad(berth_parse_size, "99999999P");
}

Test(units, from_human_size_uses_decimal_units)
{
  size_ok(berth_parse_human_size, "32", 32);
  size_ok(berth_parse_human_size, "32b", 32);
  size_ok(berth_parse_human_size, "32B", 32);
  size_ok(berth_parse_human_size, "32k", 32000);
  size_ok(berth_parse_human_size, "32K", 32000);
  size_ok(berth_parse_human_size, "32kb", 32000);
  size_ok(berth_parse_human_size, "32Kb", 32000);
  size_ok(berth_parse_human_size, "32Mb", 32000000);
  size_ok(berth_parse_human_size, "32Gb", 32000000000LL);
  size_ok(berth_parse_human_size, "32Tb", 32000000000000LL);
  size_ok(berth_parse_human_size, "32Pb", 32000000000000000LL);
  size_ok(berth_parse_human_size, "32.5kB", 32500);
  size_ok(berth_parse_human_size, "32.5 kB", 32500);
  size_ok(berth_parse_human_size, "32.5 B", 32);
  size_ok(berth_parse_human_size, "0.3 K", 300);
  size_ok(berth_parse_human_size, ".3kB", 300); /* strconv.ParseFloat accepts ".3" */
  size_ok(berth_parse_human_size, "1_000k", 1000000);
  size_ok(berth_parse_human_size, "1e3", 1000);
  size_bad(berth_parse_human_size, "");
  size_bad(berth_parse_human_size, "hello");
  size_bad(berth_parse_human_size, "-32");
  size_bad(berth_parse_human_size, " 32 ");
  size_bad(berth_parse_human_size, "32m b");
  size_bad(berth_parse_human_size, "32bm");
  size_bad(berth_parse_human_size, "1__0");
}

static void duration_ok(const char *s, int64_t want)
{
  cleanup_error berth_error_t err = NULL;
  int64_t got = 0;
  cr_assert_eq(berth_parse_duration(s, &got, &err), 0, "`%s`: %s", s, err ? err->msg : "");
  cr_assert_eq(got, want, "`%s`: got %lld want %lld", s, (long long)got, (long long)want);
}

static void duration_bad(const char *s)
{
  cleanup_error berth_error_t err = NULL;
  int64_t got = 0;
  cr_assert_lt(berth_parse_duration(s, &got, &err), 0, "`%s` parsed as %lld", s, (long long)got);
  cr_assert_eq(err->code, EINVAL);
}

#define NS 1LL
#define US 1000LL
#define MS 1000000LL
#define SEC 1000000000LL

Test(units, parse_duration_matches_go)
{
  duration_ok("0", 0);
  duration_ok("5s", 5 * SEC);
  duration_ok("30s", 30 * SEC);
  duration_ok("1478s", 1478 * SEC);
  duration_ok("-5s", -5 * SEC);
  duration_ok("+5s", 5 * SEC);
  duration_ok("-0", 0);
  duration_ok("+0", 0);
  duration_ok("5.0s", 5 * SEC);
  duration_ok("5.6s", 5 * SEC + 600 * MS);
  duration_ok("5.s", 5 * SEC);
  duration_ok(".5s", 500 * MS);
  duration_ok("1.0s", SEC);
  duration_ok("1.00s", SEC);
  duration_ok("1.004s", SEC + 4 * MS);
  duration_ok("1.0040s", SEC + 4 * MS);
  duration_ok("100.00100s", 100 * SEC + MS);
  duration_ok("10ns", 10 * NS);
  duration_ok("11us", 11 * US);
  duration_ok("12\xc2\xb5s", 12 * US);
  duration_ok("12\xce\xbcs", 12 * US);
  duration_ok("13ms", 13 * MS);
  duration_ok("14s", 14 * SEC);
  duration_ok("15m", 15 * 60 * SEC);
  duration_ok("16h", 16 * 3600 * SEC);
  duration_ok("3h30m", (3 * 3600 + 30 * 60) * SEC);
  duration_ok("10.5s4m", 4 * 60 * SEC + 10 * SEC + 500 * MS);
  duration_ok("-2m3.4s", -(2 * 60 * SEC + 3 * SEC + 400 * MS));
  duration_ok("1h2m3s4ms5us6ns", 3600 * SEC + 2 * 60 * SEC + 3 * SEC + 4 * MS + 5 * US + 6 * NS);
  duration_ok("39h9m14.425s", (39 * 3600 + 9 * 60 + 14) * SEC + 425 * MS);
  duration_ok("52763797000ns", 52763797000LL);
  duration_ok("0.3333333333333333333h", 20 * 60 * SEC);
  duration_ok("9007199254740993ns", 9007199254740993LL);
  duration_ok("9223372036854775807ns", INT64_MAX);
  duration_ok("9223372036854775.807us", INT64_MAX);
  duration_ok("9223372036s854ms775us807ns", INT64_MAX);
  duration_ok("-9223372036854775808ns", INT64_MIN);
  duration_ok("-9223372036854775.808us", INT64_MIN);
  duration_ok("0.100000000000000000000h", 6 * 60 * SEC);
  duration_ok("0.830103483285477580700h", 49 * 60 * SEC + 48 * SEC + 372539827);
  duration_ok("1.5h", 90 * 60 * SEC);
  duration_ok("500ms", 500 * MS);
  duration_ok("1h30m", 90 * 60 * SEC);
}

Test(units, parse_duration_rejects_what_go_rejects)
{
  duration_bad("");
  duration_bad("3");
  duration_bad("-");
  duration_bad("s");
  duration_bad(".");
  duration_bad("-.");
  duration_bad(".s");
  duration_bad("+.s");
  duration_bad("1d");
  duration_bad("\x85\x85");
  duration_bad("\xff" "ff");
  duration_bad("hello \xff" "ff world");
  duration_bad("9223372036854775808ns");
  duration_bad("9223372036854775.808us");
  duration_bad("9223372036854ms775us808ns");
  duration_bad("-9223372036854775809ns");
  duration_bad("1h 2m");
  duration_bad("1e3s");
}

Test(units, parse_duration_names_the_unit)
{
  cleanup_error berth_error_t err = NULL;
  int64_t got;
  cr_assert_lt(berth_parse_duration("10x", &got, &err), 0);
  cr_assert_str_eq(err->msg, "unknown unit `x` in duration `10x`");
}

Test(units, go_parse_float_follows_strconv)
{
  double v;
  cr_assert_eq(berth_go_parse_float("1.5", 3, &v), 0);
  cr_assert_eq(v, 1.5);
  cr_assert_eq(berth_go_parse_float("0x1p-2", 6, &v), 0);
  cr_assert_eq(v, 0.25);
  cr_assert_eq(berth_go_parse_float("1_000.5", 7, &v), 0);
  cr_assert_eq(v, 1000.5);
  cr_assert_eq(berth_go_parse_float("-Inf", 4, &v), 0);
  cr_assert(isinf(v) && v < 0);
  cr_assert_eq(berth_go_parse_float("1e999", 5, &v), -2);
  cr_assert_eq(berth_go_parse_float("0x1.8", 5, &v), -1);
  cr_assert_eq(berth_go_parse_float("1e", 2, &v), -1);
  cr_assert_eq(berth_go_parse_float("_1", 2, &v), -1);
  cr_assert_eq(berth_go_parse_float(" 1", 2, &v), -1);
  cr_assert_eq(berth_go_parse_float("1,5", 3, &v), -1);
}

Test(units, formatting_ignores_the_process_locale)
{
  char buf[BERTH_UNITS_BUFSZ];
  /* any installed locale with a decimal comma; fine when none is */
  if (!setlocale(LC_ALL, "de_DE.UTF-8") && !setlocale(LC_ALL, "fr_FR.UTF-8"))
    cr_log_info("no decimal-comma locale installed; checking the C locale only");
  cr_assert_str_eq(berth_human_size(4270000, buf, sizeof(buf)), "4.27MB");
  size_ok(berth_parse_size, "1.5k", 1536);
  (void)setlocale(LC_ALL, "C");
}
