/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The log reader (lib/engine/logread.c) against the monitor's writer
 * (cmd/berth-monitor/log.c) rotating underneath it: every line once and in
 * order whether the reader keeps up, lags behind many rotations, opens while
 * the writer rotates or follows a writer that rotates every few lines; a tail
 * across files; a reader that fell more than max-file behind skips what was
 * deleted and nothing else. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "engine/logread.h"
#include "monitor.h"

#define NAME "c-json.log"

static char dir[64];
static int dfd = -1;

static void setup(void)
{
  snprintf(dir, sizeof(dir), "/tmp/berth-test-logread-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq(dfd, 0);
}

static void teardown(void)
{
  berth_error_t err = NULL;
  cr_expect_eq(berth_rm_rf_at(AT_FDCWD, dir, &err), 0);
  close(dfd);
}

TestSuite(logread, .init = setup, .fini = teardown);

struct writer {
  struct berth_logfile log;
  long next, last; /* writes lines next..last */
  pthread_t thread;
};

static void writer_open(struct writer *w, uint64_t max_size, int max_file)
{
  berth_error_t err = NULL;
  cr_assert_eq(berth_logfile_open(&w->log, dfd, NAME, max_size, max_file, &err), 0, "%s", err ? err->msg : "");
  w->next = 1;
}

/* Lines w->next..upto, "N\n" each. */
static void write_lines(struct writer *w, long upto)
{
  berth_error_t err = NULL;
  for (; w->next <= upto; w->next++) {
    char line[32];
    int n = snprintf(line, sizeof(line), "%ld\n", w->next);
    if (berth_logfile_feed(&w->log, BERTH_LOG_STDOUT, line, (size_t)n, &err) < 0) {
      fprintf(stderr, "write line %ld: %s\n", w->next, err->msg); /* maybe in the writer thread */
      abort();
    }
  }
}

static void *writer_run(void *data)
{
  struct writer *w = data;
  write_lines(w, w->last);
  /* the reader's follow ends at this file */
  close(openat(dfd, "done", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  return NULL;
}

struct reader {
  long want;        /* the next line expected */
  bool may_skip;    /* lines deleted before they were read may be missing */
  long skipped;
  long resumed; /* the first line after the skip */
  long bad_got;     /* first line out of order (0: none) */
  long bad_want;
  struct writer *w; /* when line 1 is read, write the rest (a reader stopped meanwhile) */
};

static int on_line(void *data, char *line, size_t len, berth_error_t *err)
{
  struct reader *rd = data;
  cleanup_json json_t *entry = json_loadb(line, len, 0, NULL);
  const char *log = berth_json_str(entry, "log");
  long got = log ? strtol(log, NULL, 10) : -1;
  (void)err;
  if (got > rd->want && rd->may_skip) {
    rd->skipped += got - rd->want;
    rd->want = rd->resumed = got;
  }
  if (got != rd->want) {
    rd->bad_got = got, rd->bad_want = rd->want;
    return 1;
  }
  rd->want++;
  if (got == 1 && rd->w)
    writer_run(rd->w);
  return 0;
}

/* The follow ends once the writer is done (name NULL: look). */
static bool saw_done(void *data, const char *name)
{
  (void)data;
  return name ? strcmp(name, "done") == 0 : faccessat(dfd, "done", F_OK, 0) == 0;
}

static void read_log(struct reader *rd, long tail, bool follow)
{
  struct berth_logread r;
  berth_error_t err = NULL;
  struct berth_logfollow f = {.check = saw_done, .extra_fd = -1, .deadline_ns = berth_now_ns() + 120000000000LL,
                              .data = rd};
  cr_assert_eq(berth_logread_open(&r, dfd, NAME, tail, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq(berth_logread_run(&r, on_line, rd, follow ? &f : NULL, &err), 0, "%s", err ? err->msg : "");
  berth_logread_clear(&r);
  cr_expect_eq(rd->bad_got, 0, "line %ld where %ld was due", rd->bad_got, rd->bad_want);
}

static int count_rotated(void)
{
  char name[64];
  for (int n = 0;; n++) {
    snprintf(name, sizeof(name), NAME ".%d", n + 1);
    if (faccessat(dfd, name, F_OK, 0) < 0)
      return n;
  }
}

Test(logread, a_writer_rotating_every_few_lines_while_followed)
{
  /* about 75 bytes an entry: a rotation every 5 lines, while the reader
   * opens (it starts at the oldest file there) and follows */
  struct writer w = {.last = 2000};
  struct reader rd = {.want = 1};
  writer_open(&w, 400, 500);
  cr_assert_eq(pthread_create(&w.thread, NULL, writer_run, &w), 0);
  read_log(&rd, -1, true);
  pthread_join(w.thread, NULL);
  cr_expect_eq(rd.want, w.last + 1, "read up to %ld", rd.want - 1);
  cr_expect_gt(count_rotated(), 300);
  berth_logfile_close(&w.log);
}

Test(logread, a_reader_stopped_for_many_rotations_catches_up)
{
  struct writer w = {.last = 6000};
  struct reader rd = {.want = 1, .w = &w};
  writer_open(&w, 3000, 200);
  write_lines(&w, 1);
  read_log(&rd, -1, true);
  cr_expect_eq(rd.want, w.last + 1, "read up to %ld", rd.want - 1);
  cr_expect_gt(count_rotated(), 50);
  berth_logfile_close(&w.log);
}

/* The number on the first line of NAME.i. */
static long first_line_of(int i)
{
  char name[64], line[256] = "";
  snprintf(name, sizeof(name), NAME ".%d", i);
  cleanup_close int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
  cr_assert_gt(read(fd, line, sizeof(line) - 1), 0);
  *strchr(line, '\n') = '\0';
  cleanup_json json_t *entry = json_loads(line, 0, NULL);
  return strtol(berth_json_str(entry, "log"), NULL, 10);
}

Test(logread, a_reader_stopped_past_max_file_skips_only_the_deleted_lines)
{
  struct writer w = {.last = 6000};
  struct reader rd = {.want = 1, .w = &w, .may_skip = true};
  writer_open(&w, 3000, 5);
  write_lines(&w, 1);
  read_log(&rd, -1, true);
  cr_expect_eq(rd.want, w.last + 1, "read up to %ld", rd.want - 1);
  /* it finished the deleted file it held, then went on with the oldest kept */
  cr_expect_eq(count_rotated(), 4);
  cr_expect_eq(rd.resumed, first_line_of(4));
  cr_expect_gt(rd.skipped, 5000);
  berth_logfile_close(&w.log);
}

Test(logread, a_tail_across_rotated_files)
{
  struct writer w = {.last = 1000};
  writer_open(&w, 400, 1000);
  write_lines(&w, w.last);
  struct reader rd = {.want = 701};
  read_log(&rd, 300, false);
  cr_expect_eq(rd.want, 1001);
  struct reader all = {.want = 1};
  read_log(&all, 5000, false);
  cr_expect_eq(all.want, 1001);
  struct reader none = {.want = 1001};
  read_log(&none, 0, false);
  cr_expect_eq(none.want, 1001);
  berth_logfile_close(&w.log);
}
