/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.json: round trips, Docker's derived booleans and zero times, a
 * missing file reading as "created", and rejection of unknown statuses. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "runtime/state.h"

static int tmpdir(char path[64])
{
  int fd;
  snprintf(path, 64, "/tmp/berth-test-state-XXXXXX");
  cr_assert_not_null(mkdtemp(path));
  fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq(fd, 0);
  return fd;
}

static void rmtree(int dirfd, const char *path)
{
  (void)unlinkat(dirfd, "state.json", 0);
  close(dirfd);
  cr_expect_eq(rmdir(path), 0, "%s: %s", path, strerror(errno));
}

static json_t *read_raw(int dirfd)
{
  berth_error_t err = NULL;
  json_t *j = berth_json_load_at(dirfd, "state.json", &err);
  cr_assert_not_null(j, "%s", err ? err->msg : "");
  return j;
}

Test(state, missing_file_reads_as_created)
{
  char path[64];
  int dfd = tmpdir(path);
  struct berth_state st;
  berth_error_t err = NULL;
  memset(&st, 0x5a, sizeof(st));
  cr_assert_eq(berth_state_read_at(dfd, &st, &err), 0);
  cr_expect_eq(st.status, BERTH_STATUS_CREATED);
  cr_expect_eq(st.pid, 0);
  cr_expect_eq(st.exit_code, 0);
  cr_expect_eq(st.started_at, 0);
  cr_expect_str_empty(st.error);
  rmtree(dfd, path);
}

Test(state, round_trip_keeps_every_field)
{
  char path[64];
  int dfd = tmpdir(path);
  struct berth_state in = {.status = BERTH_STATUS_EXITED, .oom_killed = true, .pid = 0, .pid_start = 123456789ULL,
                           .monitor_pid = 4242, .exit_code = 137, .started_at = 1764511200123456789LL,
                           .finished_at = 1764511260000000001LL, .restart_count = 3};
  struct berth_state out;
  berth_error_t err = NULL;
  snprintf(in.error, sizeof(in.error), "exec: \"nope\": executable file not found in $PATH");
  cr_assert_eq(berth_state_write_at(dfd, &in, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq(berth_state_read_at(dfd, &out, &err), 0, "%s", err ? err->msg : "");
  cr_expect_eq(out.status, in.status);
  cr_expect_eq(out.oom_killed, true);
  cr_expect_eq(out.pid_start, in.pid_start);
  cr_expect_eq(out.monitor_pid, 4242);
  cr_expect_eq(out.exit_code, 137);
  cr_expect_eq(out.started_at, in.started_at);
  cr_expect_eq(out.finished_at, in.finished_at);
  cr_expect_eq(out.restart_count, 3);
  cr_expect_str_eq(out.error, in.error);
  rmtree(dfd, path);
}

Test(state, writes_docker_shape)
{
  char path[64];
  int dfd = tmpdir(path);
  struct berth_state in = {.status = BERTH_STATUS_RESTARTING, .started_at = 1764511200000000000LL};
  berth_error_t err = NULL;
  cleanup_json json_t *j = NULL;
  cr_assert_eq(berth_state_write_at(dfd, &in, &err), 0);
  j = read_raw(dfd);
  cr_expect_str_eq(berth_json_str(j, "Status"), "restarting");
  cr_expect(json_is_true(json_object_get(j, "Running")), "docker reports a restarting container as running");
  cr_expect(json_is_true(json_object_get(j, "Restarting")));
  cr_expect(json_is_false(json_object_get(j, "Paused")));
  cr_expect(json_is_false(json_object_get(j, "Dead")));
  cr_expect(json_is_false(json_object_get(j, "OOMKilled")));
  cr_expect_str_eq(berth_json_str(j, "StartedAt"), "2025-11-30T14:00:00Z");
  cr_expect_str_eq(berth_json_str(j, "FinishedAt"), "0001-01-01T00:00:00Z");
  cr_expect_str_eq(berth_json_str(j, "Error"), "");
  cr_expect_eq(json_object_size(j), 14);
  rmtree(dfd, path);
}

Test(state, exited_is_not_running)
{
  char path[64];
  int dfd = tmpdir(path);
  struct berth_state in = {.status = BERTH_STATUS_EXITED, .exit_code = 1};
  berth_error_t err = NULL;
  cleanup_json json_t *j = NULL;
  cr_assert_eq(berth_state_write_at(dfd, &in, &err), 0);
  j = read_raw(dfd);
  cr_expect(json_is_false(json_object_get(j, "Running")));
  cr_expect_eq(berth_json_int(j, "ExitCode", -1), 1);
  rmtree(dfd, path);
}

Test(state, rewrite_replaces_whole_file)
{
  char path[64];
  int dfd = tmpdir(path);
  struct berth_state a = {.status = BERTH_STATUS_RUNNING, .pid = 77}, b = {.status = BERTH_STATUS_EXITED}, out;
  berth_error_t err = NULL;
  snprintf(a.error, sizeof(a.error), "a fairly long error message that must not survive the next write");
  cr_assert_eq(berth_state_write_at(dfd, &a, &err), 0);
  cr_assert_eq(berth_state_write_at(dfd, &b, &err), 0);
  cr_assert_eq(berth_state_read_at(dfd, &out, &err), 0);
  cr_expect_eq(out.status, BERTH_STATUS_EXITED);
  cr_expect_eq(out.pid, 0);
  cr_expect_str_empty(out.error);
  rmtree(dfd, path);
}

Test(state, invalid_utf8_error_is_still_written)
{
  char path[64];
  int dfd = tmpdir(path);
  struct berth_state in = {.status = BERTH_STATUS_CREATED}, out;
  berth_error_t err = NULL;
  snprintf(in.error, sizeof(in.error), "open `/x\xff\xfe`");
  cr_assert_eq(berth_state_write_at(dfd, &in, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq(berth_state_read_at(dfd, &out, &err), 0);
  cr_expect_str_eq(out.error, "open `/x??`");
  rmtree(dfd, path);
}

/* Only a crash leaves a state that does not parse: it reads as a container
 * that ran with nobody left to say how it ended (no pid), which the engine
 * then records as exited. */
static void expect_lost(const char *doc)
{
  char path[64];
  int dfd = tmpdir(path);
  struct berth_state out = {.status = BERTH_STATUS_EXITED, .pid = 42};
  berth_error_t err = NULL;
  cr_assert_eq(berth_write_file_atomic(dfd, "state.json", doc, strlen(doc), 0644, &err), 0);
  cr_assert_eq(berth_state_read_at(dfd, &out, &err), 0, "must read: %s", doc);
  cr_expect_eq(out.status, BERTH_STATUS_RUNNING, "%s", doc);
  cr_expect_eq(out.pid, 0, "%s", doc);
  cr_expect_eq(out.exit_code, 0, "%s", doc);
  rmtree(dfd, path);
}

Test(state, a_document_that_does_not_parse_reads_as_a_lost_run)
{
  expect_lost("{\"Status\":\"sleeping\"}");
  expect_lost("{}");
  expect_lost("[1]");
  expect_lost("{\"Status\":\"exited\",\"StartedAt\":\"yesterday\"}");
  expect_lost("{\"Status\":");
  expect_lost("");
}

Test(state, status_names_round_trip)
{
  for (int s = BERTH_STATUS_CREATED; s <= BERTH_STATUS_DEAD; s++)
    cr_expect_eq(berth_status_from_name(berth_status_name((enum berth_status)s)), s);
  cr_expect_eq(berth_status_from_name("Running"), -1, "docker's words are lower case");
  cr_expect_eq(berth_status_from_name(NULL), -1);
}
