/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The monitor's json-file writer: docker's escaping (table, including invalid
 * UTF-8 and control characters), entry format and times, line splitting at
 * 16 KiB with the first piece's time, partial lines at end of stream, sizes,
 * and rotation keeping max-file files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "monitor.h"

static char dir[64];
static int dfd = -1;
static int64_t clock_ns;

static int64_t fake_now(void)
{
  clock_ns += 1000; /* every call is a new microsecond */
  return clock_ns;
}

static void setup(void)
{
  snprintf(dir, sizeof(dir), "/tmp/berth-test-log-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq(dfd, 0);
  clock_ns = 1764511200000000000LL; /* 2025-11-30T14:00:00Z */
}

static void teardown(void)
{
  berth_error_t err = NULL;
  cr_expect_eq(berth_rm_rf_at(AT_FDCWD, dir, &err), 0);
  close(dfd);
}

TestSuite(log, .init = setup, .fini = teardown);

static char *escape(const void *in, size_t len)
{
  size_t pos = 0, n = berth_log_escape(in, len, &pos, NULL, 0);
  char *out = calloc(1, n + 1);
  size_t pos2 = 0;
  cr_assert_eq(pos, len);
  cr_assert_eq(berth_log_escape(in, len, &pos2, out, n + 6), n);
  cr_assert_eq(pos2, len);
  return out;
}

static void expect_escape(const char *in, size_t len, const char *want)
{
  cleanup_free char *got = escape(in, len);
  cr_expect_str_eq(got, want, "escape of %zu bytes", len);
}
#define EXPECT_ESCAPE(lit, want) expect_escape(lit, sizeof(lit) - 1, want)

Test(log, escape_table_matches_docker)
{
  EXPECT_ESCAPE("plain text 123", "plain text 123");
  EXPECT_ESCAPE("a\"b\\c", "a\\\"b\\\\c");
  EXPECT_ESCAPE("line\n", "line\\n");
  EXPECT_ESCAPE("cr\r", "cr\\r");
  EXPECT_ESCAPE("tab\t", "tab\\u0009"); /* docker's writer has no \t short form */
  EXPECT_ESCAPE("\x01\x1b[0m\x7f", "\\u0001\\u001b[0m\x7f");
  EXPECT_ESCAPE("<a href=\"x\">&amp;</a>", "\\u003ca href=\\\"x\\\"\\u003e\\u0026amp;\\u003c/a\\u003e");
  EXPECT_ESCAPE("nul\0x", "nul\\u0000x");
  EXPECT_ESCAPE("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3");
  EXPECT_ESCAPE("\xe2\x80\xa8\xe2\x80\xa9", "\\u2028\\u2029");
}

Test(log, escape_replaces_each_invalid_utf8_byte)
{
  EXPECT_ESCAPE("\xff", "\\ufffd");
  EXPECT_ESCAPE("a\x80z", "a\\ufffdz");                 /* lone continuation byte */
  EXPECT_ESCAPE("\xc3", "\\ufffd");                     /* cut short at the end */
  EXPECT_ESCAPE("\xc3(", "\\ufffd(");                   /* bad continuation */
  EXPECT_ESCAPE("\xc0\xaf", "\\ufffd\\ufffd");          /* overlong '/' */
  EXPECT_ESCAPE("\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd"); /* overlong 3-byte */
  EXPECT_ESCAPE("\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd"); /* surrogate U+D800 */
  EXPECT_ESCAPE("\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"); /* past U+10FFFF */
  EXPECT_ESCAPE("\xe2\x82", "\\ufffd\\ufffd");          /* truncated euro sign */
  EXPECT_ESCAPE("\xef\xbf\xbd", "\xef\xbf\xbd");        /* a real U+FFFD stays as is */
}

Test(log, escape_in_small_rooms_matches_whole)
{
  const char in[] = "x\xe2\x82\xac<\n\xff\xf0\x9f\x90\xb3\"y\x01";
  cleanup_free char *whole = escape(in, sizeof(in) - 1);
  for (size_t room = 6; room < 20; room++) {
    char out[256] = "";
    size_t pos = 0, o = 0;
    while (pos < sizeof(in) - 1) {
      size_t before = pos;
      o += berth_log_escape((const uint8_t *)in, sizeof(in) - 1, &pos, out + o, room);
      cr_assert_gt(pos, before, "progress with room %zu", room);
    }
    cr_expect_str_eq(out, whole, "room %zu", room);
  }
}

Test(log, time_is_rfc3339nano)
{
  char t[64];
  berth_log_time(1764511200123456789LL, t);
  cr_expect_str_eq(t, "2025-11-30T14:00:00.123456789Z");
  berth_log_time(1764511200120000000LL, t);
  cr_expect_str_eq(t, "2025-11-30T14:00:00.12Z");
  berth_log_time(1764511200000000000LL, t);
  cr_expect_str_eq(t, "2025-11-30T14:00:00Z");
}

/* ---- the file ---- */

static struct berth_logfile open_log(uint64_t max_size, int max_file)
{
  struct berth_logfile l;
  berth_error_t err = NULL;
  cr_assert_eq(berth_logfile_open(&l, dfd, "c1-json.log", max_size, max_file, &err), 0, "%s",
               err ? err->msg : "");
  l.now = fake_now;
  return l;
}

static void feed(struct berth_logfile *l, enum berth_log_stream s, const void *data, size_t len)
{
  berth_error_t err = NULL;
  cr_assert_eq(berth_logfile_feed(l, s, data, len, &err), 0, "%s", err ? err->msg : "");
}
#define FEED(l, s, lit) feed(l, s, lit, sizeof(lit) - 1)

static char *slurp(const char *name)
{
  char *buf = NULL;
  size_t len = 0;
  berth_error_t err = NULL;
  if (berth_read_file_at(dfd, name, &buf, &len, &err) < 0) {
    berth_error_release(&err);
    return NULL;
  }
  return buf;
}

/* The entries of a file as parsed JSON objects (NULL-terminated array). */
static json_t **entries(const char *name, size_t *ret_n)
{
  cleanup_free char *buf = slurp(name);
  json_t **v = calloc(4096, sizeof(*v));
  size_t n = 0;
  cr_assert_not_null(buf, "%s missing", name);
  for (char *line = buf, *nl; *line; line = nl + 1) {
    nl = strchr(line, '\n');
    cr_assert_not_null(nl, "every entry ends with a newline");
    berth_error_t err = NULL;
    v[n] = berth_json_loadb(line, (size_t)(nl - line), "entry", &err);
    cr_assert_not_null(v[n], "%.*s", (int)(nl - line), line);
    n++;
    cr_assert_lt(n, 4096);
  }
  *ret_n = n;
  return v;
}

static void free_entries(json_t **v)
{
  for (size_t i = 0; v[i]; i++)
    json_decref(v[i]);
  free(v);
}

Test(log, one_entry_per_line_in_docker_format)
{
  struct berth_logfile l = open_log(0, 1);
  berth_error_t err = NULL;
  FEED(&l, BERTH_LOG_STDOUT, "hello\nwor");
  FEED(&l, BERTH_LOG_STDERR, "oops\n");
  FEED(&l, BERTH_LOG_STDOUT, "ld\n\n<tab>\there \"quoted\"\n");
  cleanup_free char *raw = slurp("c1-json.log");
  cr_expect_str_eq(raw,
                   "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2025-11-30T14:00:00.000001Z\"}\n"
                   "{\"log\":\"oops\\n\",\"stream\":\"stderr\",\"time\":\"2025-11-30T14:00:00.000002Z\"}\n"
                   "{\"log\":\"world\\n\",\"stream\":\"stdout\",\"time\":\"2025-11-30T14:00:00.000003Z\"}\n"
                   "{\"log\":\"\\n\",\"stream\":\"stdout\",\"time\":\"2025-11-30T14:00:00.000004Z\"}\n"
                   "{\"log\":\"\\u003ctab\\u003e\\u0009here \\\"quoted\\\"\\n\",\"stream\":\"stdout\","
                   "\"time\":\"2025-11-30T14:00:00.000005Z\"}\n");
  struct stat st;
  cr_assert_eq(fstat(l.fd, &st), 0);
  cr_expect_eq((uint64_t)st.st_size, l.size, "size is tracked");
  cr_expect_eq(st.st_mode & 0777, 0640);
  cr_assert_eq(berth_logfile_flush(&l, BERTH_LOG_STDOUT, &err), 0);
  berth_logfile_close(&l);
}

Test(log, partial_line_is_written_at_end_of_stream_without_newline)
{
  struct berth_logfile l = open_log(0, 1);
  berth_error_t err = NULL;
  size_t n;
  FEED(&l, BERTH_LOG_STDOUT, "$ prompt");
  cleanup_free char *before = slurp("c1-json.log");
  cr_expect_str_empty(before, "nothing until the line ends");
  cr_assert_eq(berth_logfile_flush(&l, BERTH_LOG_STDOUT, &err), 0);
  cr_assert_eq(berth_logfile_flush(&l, BERTH_LOG_STDERR, &err), 0, "an empty stream writes nothing");
  json_t **v = entries("c1-json.log", &n);
  cr_assert_eq(n, 1);
  cr_expect_str_eq(berth_json_str(v[0], "log"), "$ prompt");
  free_entries(v);
  berth_logfile_close(&l);
}

static uint8_t *pattern(size_t len)
{
  uint8_t *p = malloc(len + 1);
  for (size_t i = 0; i < len; i++)
    p[i] = (uint8_t)('a' + i % 26);
  p[len] = '\n';
  return p;
}

Test(log, long_line_is_split_at_16k_with_first_time)
{
  struct berth_logfile l = open_log(0, 1);
  const size_t len = 2 * BERTH_LOG_LINE_MAX + 100;
  cleanup_free uint8_t *p = pattern(len);
  size_t n;
  /* in odd-sized pieces, as reads deliver it */
  for (size_t off = 0; off < len + 1; off += 3001)
    feed(&l, BERTH_LOG_STDOUT, p + off, len + 1 - off < 3001 ? len + 1 - off : 3001);
  FEED(&l, BERTH_LOG_STDOUT, "next\n");
  json_t **v = entries("c1-json.log", &n);
  cr_assert_eq(n, 4);
  cr_expect_eq(strlen(berth_json_str(v[0], "log")), BERTH_LOG_LINE_MAX);
  cr_expect_eq(strlen(berth_json_str(v[1], "log")), BERTH_LOG_LINE_MAX);
  cr_expect_eq(memcmp(berth_json_str(v[1], "log"), p + BERTH_LOG_LINE_MAX, BERTH_LOG_LINE_MAX), 0);
  cr_expect_eq(strlen(berth_json_str(v[2], "log")), 101, "the rest, with its newline");
  cr_expect_eq(berth_json_str(v[2], "log")[100], '\n');
  cr_expect_str_eq(berth_json_str(v[0], "time"), berth_json_str(v[1], "time"), "pieces share a time");
  cr_expect_str_eq(berth_json_str(v[0], "time"), berth_json_str(v[2], "time"));
  cr_expect_str_neq(berth_json_str(v[3], "time"), berth_json_str(v[2], "time"), "the next line has its own");
  cr_expect_str_eq(berth_json_str(v[3], "log"), "next\n");
  free_entries(v);
  berth_logfile_close(&l);
}

Test(log, line_of_exactly_16k_ends_with_an_empty_piece)
{
  struct berth_logfile l = open_log(0, 1);
  cleanup_free uint8_t *p = pattern(BERTH_LOG_LINE_MAX);
  cleanup_free uint8_t *q = pattern(BERTH_LOG_LINE_MAX - 1);
  size_t n;
  feed(&l, BERTH_LOG_STDOUT, p, BERTH_LOG_LINE_MAX + 1);
  feed(&l, BERTH_LOG_STDERR, q, BERTH_LOG_LINE_MAX);
  json_t **v = entries("c1-json.log", &n);
  cr_assert_eq(n, 3);
  cr_expect_eq(strlen(berth_json_str(v[0], "log")), BERTH_LOG_LINE_MAX);
  cr_expect_str_eq(berth_json_str(v[1], "log"), "\n", "as docker's copier does");
  cr_expect_eq(strlen(berth_json_str(v[2], "log")), BERTH_LOG_LINE_MAX, "16383 bytes and the newline: one entry");
  cr_expect_str_eq(berth_json_str(v[2], "stream"), "stderr");
  free_entries(v);
  berth_logfile_close(&l);
}

Test(log, entries_decode_back_to_the_output)
{
  struct berth_logfile l = open_log(0, 1);
  uint8_t all[256];
  size_t n;
  for (int i = 0; i < 128; i++)
    all[i] = (uint8_t)(i == '\n' ? ' ' : i);
  memcpy(all + 128, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xb3\n", 10);
  feed(&l, BERTH_LOG_STDOUT, all, 138);
  cleanup_free char *raw = slurp("c1-json.log");
  json_error_t je;
  cleanup_json json_t *v = json_loads(raw, JSON_ALLOW_NUL, &je); /* "\u0000" is valid JSON */
  cr_assert_not_null(v, "%s", je.text);
  json_t *log = json_object_get(v, "log");
  cr_assert_eq(json_string_length(log), 138);
  cr_expect_eq(memcmp(json_string_value(log), all, 138), 0);
  (void)n;
  berth_logfile_close(&l);
}

static off_t file_size(const char *name)
{
  struct stat st;
  if (fstatat(dfd, name, &st, 0) < 0)
    return -1;
  return st.st_size;
}

Test(log, rotation_keeps_max_file_files_below_max_size)
{
  /* each entry is 72 bytes ("line NNN\n" + envelope), so 3 fit in 250 */
  struct berth_logfile l = open_log(250, 3);
  char line[32];
  size_t n_cur, n_1, n_2;
  for (int i = 0; i < 100; i++) {
    int len = snprintf(line, sizeof(line), "line %03d\n", i);
    feed(&l, BERTH_LOG_STDOUT, line, (size_t)len);
    cr_assert_leq(file_size("c1-json.log"), 250);
  }
  cr_expect_lt(file_size("c1-json.log.3"), 0, "max-file 3: the live file and two rotated ones");
  cr_expect_leq(file_size("c1-json.log.1"), 250);
  cr_expect_leq(file_size("c1-json.log.2"), 250);
  json_t **cur = entries("c1-json.log", &n_cur), **one = entries("c1-json.log.1", &n_1),
         **two = entries("c1-json.log.2", &n_2);
  cr_expect_eq(n_1, 3);
  cr_expect_eq(n_2, 3);
  /* newest in the live file; .1 holds the ones just before, .2 the older */
  cr_expect_str_eq(berth_json_str(cur[n_cur - 1], "log"), "line 099\n");
  int first_cur = atoi(berth_json_str(cur[0], "log") + 5);
  cr_expect_str_eq(berth_json_str(one[n_1 - 1], "log") + 5, (snprintf(line, sizeof(line), "%03d\n", first_cur - 1), line));
  int first_one = atoi(berth_json_str(one[0], "log") + 5);
  cr_expect_str_eq(berth_json_str(two[n_2 - 1], "log") + 5, (snprintf(line, sizeof(line), "%03d\n", first_one - 1), line));
  cr_expect_eq((uint64_t)file_size("c1-json.log"), l.size);
  free_entries(cur), free_entries(one), free_entries(two);
  berth_logfile_close(&l);
}

Test(log, max_file_one_truncates_in_place)
{
  struct berth_logfile l = open_log(200, 1);
  size_t n;
  for (int i = 0; i < 20; i++)
    FEED(&l, BERTH_LOG_STDERR, "some error text\n");
  cr_expect_lt(file_size("c1-json.log.1"), 0);
  cr_expect_leq(file_size("c1-json.log"), 200);
  json_t **v = entries("c1-json.log", &n);
  cr_expect_geq(n, 1);
  free_entries(v);
  berth_logfile_close(&l);
}

Test(log, reopening_appends)
{
  struct berth_logfile l = open_log(0, 1);
  size_t n;
  FEED(&l, BERTH_LOG_STDOUT, "first run\n");
  berth_logfile_close(&l);
  l = open_log(0, 1);
  cr_expect_gt(l.size, 0, "size picked up from the file");
  FEED(&l, BERTH_LOG_STDOUT, "second run\n");
  json_t **v = entries("c1-json.log", &n);
  cr_assert_eq(n, 2);
  cr_expect_str_eq(berth_json_str(v[1], "log"), "second run\n");
  free_entries(v);
  berth_logfile_close(&l);
}

Test(log, huge_entry_larger_than_max_size_still_goes_in_one_file)
{
  struct berth_logfile l = open_log(100, 2);
  cleanup_free uint8_t *p = pattern(500);
  size_t n;
  FEED(&l, BERTH_LOG_STDOUT, "small\n");
  feed(&l, BERTH_LOG_STDOUT, p, 501);
  json_t **v = entries("c1-json.log", &n);
  cr_expect_eq(n, 1);
  cr_expect_eq(strlen(berth_json_str(v[0], "log")), 501);
  free_entries(v);
  v = entries("c1-json.log.1", &n);
  cr_expect_str_eq(berth_json_str(v[0], "log"), "small\n");
  free_entries(v);
  berth_logfile_close(&l);
}

Test(log, attrs_go_between_stream_and_time_and_count_in_the_size)
{
  struct berth_logfile l = open_log(0, 1);
  l.attrs = strdup("\"attrs\":{\"env1\":\"a\",\"team\":\"x\"},");
  FEED(&l, BERTH_LOG_STDERR, "hi\n");
  cleanup_free char *raw = slurp("c1-json.log");
  cr_expect_str_eq(raw, "{\"log\":\"hi\\n\",\"stream\":\"stderr\",\"attrs\":{\"env1\":\"a\",\"team\":\"x\"},"
                        "\"time\":\"2025-11-30T14:00:00.000001Z\"}\n");
  cr_expect_eq(l.size, strlen(raw));
  berth_logfile_close(&l);
}
