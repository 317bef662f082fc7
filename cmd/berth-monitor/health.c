/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Healthchecks, run by the monitor itself as docker's daemon runs them
 * (moby daemon/health.go): the probe is forked into the running container
 * exactly as an exec session (lib/runtime/exec-join.c: the container's
 * namespaces, cgroup, user, seccomp and capabilities), with no client, its
 * stdout and stderr on one pipe of which the first 4096 bytes are kept
 * ("..." marks the rest).  One timerfd schedules the probes and the probe's
 * timeout in the monitor's poll loop; a probe past its timeout is killed
 * and recorded with exit code -1.  The result moves the status (starting,
 * healthy, unhealthy) and the failing streak by docker's rules (failures in
 * the start period are not counted while starting) and joins a log of the
 * last 5; all of it is written to ROOT/containers/<id>/health.json, in the
 * shape of docker's State.Health, atomically after every probe.
 *
 * Memory is fixed once the healthcheck is set up: the log and the probe in
 * flight are fixed buffers of one block; the file is written from a
 * transient buffer. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define BERTH_LOG_DOMAIN "health"
#include <berth/log.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "monitor.h"
#include "oci/runtime-spec.h"
#include "runtime/runtime.h"

#define HEALTH_FILE "health.json"
#define LOG_MAX 5
/* the output, "..." and the timeout's message around it */
#define RESULT_MAX (BERTH_HEALTH_OUTPUT_MAX + 128)

enum { P_TIMER, P_SYNC, P_OUT };
enum status { ST_STARTING, ST_HEALTHY, ST_UNHEALTHY };
static const char *const status_names[] = {"starting", "healthy", "unhealthy"};

struct result {
  int64_t start, end; /* unix ns */
  int exit_code;
  size_t len;
  char out[RESULT_MAX];
};

struct berth_health {
  /* the healthcheck, from the spec */
  char **argv;
  int64_t interval, timeout, start_period, start_interval;
  int retries;
  int ctr_dfd, run_dfd; /* not owned */
  int timer_fd;
  void (*event)(void *data, const char *status);
  void *event_data;
  /* the container while it runs */
  const struct berth_runtime_container *c;
  int own_pidns;
  int64_t started_ns;
  /* State.Health */
  enum status status;
  int streak;
  size_t n_log, head; /* log[head] is the oldest */
  struct result log[LOG_MAX];
  /* the probe in flight (pid > 0) */
  pid_t pid;
  int sync_fd, out_fd, wstatus;
  bool reaped, timed_out, start_failed, truncated;
  struct result cur;
};

/* ---- setup ---- */

/* A positive integer annotation. */
static int annotation_int(const struct berth_spec *spec, const char *key, int64_t *ret, berth_error_t *err)
{
  const char *v = berth_spec_annotation(spec, key);
  char *end = NULL;
  long long n;
  if (!v)
    return berth_error_set_plain(err, EINVAL, "%s: missing", key);
  errno = 0;
  n = strtoll(v, &end, 10);
  if (errno || !*v || *end || n <= 0)
    return berth_error_set_plain(err, EINVAL, "%s: invalid value `%s`", key, v);
  *ret = n;
  return 0;
}

static char **parse_cmd(const char *text, berth_error_t *err)
{
  cleanup_json json_t *a = json_loads(text, 0, NULL);
  size_t n = json_array_size(a);
  char **argv;
  if (!json_is_array(a) || n == 0) {
    berth_error_set_plain(err, EINVAL, "berth.health.cmd: expected a JSON array of strings");
    return NULL;
  }
  if (!(argv = calloc(n + 1, sizeof(char *))))
    abort();
  for (size_t i = 0; i < n; i++) {
    const char *s = json_string_value(json_array_get(a, i));
    if (!s || !(argv[i] = strdup(s))) {
      berth_strv_free(argv);
      berth_error_set_plain(err, EINVAL, "berth.health.cmd: expected a JSON array of strings");
      return NULL;
    }
  }
  return argv;
}

/* The log an earlier run left (docker keeps it across restarts). */
static void load_log(struct berth_health *h)
{
  cleanup_free char *buf = NULL;
  cleanup_json json_t *j = NULL;
  size_t i, len = 0;
  json_t *e;
  if (berth_read_file_at(h->ctr_dfd, HEALTH_FILE, &buf, &len, NULL) < 0)
    return;
  j = json_loadb(buf, len, JSON_ALLOW_NUL, NULL); /* outputs may hold NUL bytes */
  json_array_foreach(json_object_get(j, "Log"), i, e)
  {
    struct result *r = &h->log[(h->head + h->n_log) % LOG_MAX];
    const json_t *out = json_object_get(e, "Output");
    const char *start = json_string_value(json_object_get(e, "Start"));
    const char *end = json_string_value(json_object_get(e, "End"));
    if (h->n_log == LOG_MAX)
      break;
    *r = (struct result){.exit_code = (int)json_integer_value(json_object_get(e, "ExitCode"))};
    (void)(start && berth_parse_rfc3339(start, &r->start, NULL));
    (void)(end && berth_parse_rfc3339(end, &r->end, NULL));
    r->len = json_string_length(out) < RESULT_MAX ? json_string_length(out) : RESULT_MAX;
    memcpy(r->out, json_is_string(out) ? json_string_value(out) : "", r->len);
    h->n_log++;
  }
}

static int configure(struct berth_health *h, const struct berth_spec *spec, const char *cmd, berth_error_t *err)
{
  int64_t retries;
  if ((h->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
    return berth_error_set(err, errno, "timerfd_create");
  if (!(h->argv = parse_cmd(cmd, err)) || annotation_int(spec, "berth.health.interval", &h->interval, err) < 0 ||
      annotation_int(spec, "berth.health.timeout", &h->timeout, err) < 0 ||
      annotation_int(spec, "berth.health.start-interval", &h->start_interval, err) < 0 ||
      annotation_int(spec, "berth.health.retries", &retries, err) < 0)
    return -1;
  if (retries > INT32_MAX)
    return berth_error_set_plain(err, EINVAL, "berth.health.retries: out of range");
  h->retries = (int)retries;
  /* a start period of 0 has no annotation */
  if (berth_spec_annotation(spec, "berth.health.start-period"))
    return annotation_int(spec, "berth.health.start-period", &h->start_period, err);
  return 0;
}

struct berth_health *berth_health_new(const struct berth_spec *spec, int ctr_dfd, int run_dfd,
                                      void (*event)(void *data, const char *status), void *data,
                                      berth_error_t *err)
{
  const char *cmd = berth_spec_annotation(spec, "berth.health.cmd");
  struct berth_health *h;
  if (!cmd)
    return NULL;
  if (!(h = calloc(1, sizeof(*h))))
    abort();
  h->ctr_dfd = ctr_dfd, h->run_dfd = run_dfd;
  h->event = event, h->event_data = data;
  h->pid = -1;
  h->timer_fd = h->sync_fd = h->out_fd = h->own_pidns = -1;
  if (configure(h, spec, cmd, err) < 0) {
    berth_health_free(h);
    return NULL;
  }
  load_log(h);
  return h;
}

void berth_health_free(struct berth_health *h)
{
  if (!h)
    return;
  berth_health_stop(h);
  close_and_reset(&h->timer_fd);
  berth_strv_free(h->argv);
  free(h);
}

/* ---- health.json ---- */

static void put_string(FILE *f, const char *s, size_t len)
{
  char buf[1536];
  size_t pos = 0;
  fputc('"', f);
  while (pos < len)
    fwrite(buf, 1, berth_log_escape((const uint8_t *)s, len, &pos, buf, sizeof(buf)), f);
  fputc('"', f);
}

static void save(struct berth_health *h)
{
  cleanup_free char *doc = NULL;
  size_t len = 0;
  berth_error_t err = NULL;
  FILE *f = open_memstream(&doc, &len);
  if (!f)
    abort();
  fprintf(f, "{\"Status\":\"%s\",\"FailingStreak\":%d,\"Log\":[", status_names[h->status], h->streak);
  for (size_t i = 0; i < h->n_log; i++) {
    const struct result *r = &h->log[(h->head + i) % LOG_MAX];
    char start[64], end[64];
    berth_log_time(r->start, start);
    berth_log_time(r->end, end);
    fprintf(f, "%s{\"Start\":\"%s\",\"End\":\"%s\",\"ExitCode\":%d,\"Output\":", i ? "," : "", start, end,
            r->exit_code);
    put_string(f, r->out, r->len);
    fputc('}', f);
  }
  fputs("]}\n", f);
  if (fclose(f) != 0)
    abort();
  if (berth_write_file_replace(h->ctr_dfd, HEALTH_FILE, doc, len, 0644, &err) < 0) {
    berth_warn("write %s, ignoring: %s", HEALTH_FILE, err->msg);
    berth_error_release(&err);
  }
}

/* ---- scheduling ---- */

static void arm(struct berth_health *h, int64_t ns)
{
  struct itimerspec its = {0};
  if (ns < 1)
    ns = 1; /* zero would disarm */
  its.it_value.tv_sec = ns / 1000000000LL;
  its.it_value.tv_nsec = ns % 1000000000LL;
  (void)timerfd_settime(h->timer_fd, 0, &its, NULL);
}

static void disarm(struct berth_health *h)
{
  struct itimerspec its = {0};
  (void)timerfd_settime(h->timer_fd, 0, &its, NULL);
}

/* docker's getInterval: the start interval while starting in the start
 * period, and never past the end of the start period. */
static int64_t next_interval(const struct berth_health *h)
{
  int64_t elapsed = berth_now_ns() - h->started_ns;
  if (elapsed >= h->start_period)
    return h->interval;
  if (h->start_period - elapsed < h->interval)
    return h->start_period - elapsed;
  return h->status == ST_STARTING ? h->start_interval : h->interval;
}

void berth_health_start(struct berth_health *h, const struct berth_runtime_container *c, int own_pidns,
                        int64_t started_ns)
{
  if (!h)
    return;
  h->c = c;
  h->own_pidns = own_pidns;
  h->started_ns = started_ns;
  h->status = ST_STARTING;
  h->streak = 0;
  save(h);
  arm(h, next_interval(h));
}

/* ---- one probe ---- */

static void close_probe(struct berth_health *h)
{
  close_and_reset(&h->sync_fd);
  close_and_reset(&h->out_fd);
  h->pid = -1;
  h->reaped = h->timed_out = h->start_failed = h->truncated = false;
}

static void fail_start(struct berth_health *h, const struct berth_error *e)
{
  cleanup_free char *msg = berth_error_string(e);
  int n = snprintf(h->cur.out, sizeof(h->cur.out),
                   "OCI runtime exec failed: exec failed: unable to start container process: %s: unknown", msg);
  h->cur.len = n < 0 ? 0 : (size_t)n >= sizeof(h->cur.out) ? sizeof(h->cur.out) - 1 : (size_t)n;
  h->start_failed = true;
}

/* The probe's output: the first BERTH_HEALTH_OUTPUT_MAX bytes are kept. */
static void read_output(struct berth_health *h)
{
  char buf[4096];
  while (h->out_fd >= 0) {
    ssize_t n = TEMP_FAILURE_RETRY(read(h->out_fd, buf, sizeof(buf)));
    if (n < 0 && errno == EAGAIN)
      return;
    if (n <= 0) {
      close_and_reset(&h->out_fd);
      return;
    }
    size_t keep = BERTH_HEALTH_OUTPUT_MAX - h->cur.len;
    if ((size_t)n < keep)
      keep = (size_t)n;
    memcpy(h->cur.out + h->cur.len, buf, keep);
    h->cur.len += keep;
    h->truncated = h->truncated || keep < (size_t)n;
  }
}

/* The child's report: EOF once the command runs, or why it did not start. */
static void read_sync(struct berth_health *h)
{
  cleanup_error berth_error_t err = NULL;
  int console = -1;
  int r = berth_runtime_exec_status(h->sync_fd, &console, &err);
  close_and_reset(&console);
  if (r == 0)
    return;
  if (r < 0)
    fail_start(h, err);
  close_and_reset(&h->sync_fd);
}

static void start_probe(struct berth_health *h)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_exec_process p = {.argv = h->argv};
  int out[2] = {-1, -1};
  h->cur = (struct result){.start = berth_now_ns()};
  if (pipe2(out, O_CLOEXEC) < 0) {
    berth_error_set(&err, errno, "make the probe's pipe");
  } else {
    struct berth_runtime_io io = {.stdin_fd = -1, .stdout_fd = out[1], .stderr_fd = out[1]};
    h->pid = berth_runtime_exec(h->c, h->run_dfd, h->own_pidns, &p, &io, &h->sync_fd, &err);
    close_and_reset(&out[1]);
    h->out_fd = out[0];
  }
  if (err) {
    close_and_reset(&h->out_fd);
    h->pid = -1;
    fail_start(h, err);
    return;
  }
  (void)fcntl(h->out_fd, F_SETFL, O_NONBLOCK);
  (void)fcntl(h->sync_fd, F_SETFL, O_NONBLOCK);
  arm(h, h->timeout);
}

/* ".5" for frac 500 of 1000 (digits 3); "" for 0. */
static void fraction(int64_t frac, int digits, char out[16])
{
  int n = snprintf(out, 16, ".%0*lld", digits, (long long)frac);
  while (n > 1 && out[n - 1] == '0')
    out[--n] = '\0';
  if (n == 1)
    out[0] = '\0';
}

/* Go's time.Duration.String() for a positive duration: "30s", "1m30s",
 * "1h0m0s", "500ms", "1.5s". */
static void go_duration(int64_t ns, char out[48])
{
  char frac[16];
  if (ns < 1000000000LL) {
    int digits = ns < 1000 ? 0 : ns < 1000000 ? 3 : 6;
    int64_t div = digits == 0 ? 1 : digits == 3 ? 1000 : 1000000;
    fraction(ns % div, digits, frac);
    snprintf(out, 48, "%lld%s%s", (long long)(ns / div), frac, digits == 0 ? "ns" : digits == 3 ? "µs" : "ms");
    return;
  }
  int64_t h = ns / 3600000000000LL, m = ns / 60000000000LL % 60, sec = ns / 1000000000LL % 60;
  fraction(ns % 1000000000LL, 9, frac);
  if (h)
    snprintf(out, 48, "%lldh%lldm%lld%ss", (long long)h, (long long)m, (long long)sec, frac);
  else if (m)
    snprintf(out, 48, "%lldm%lld%ss", (long long)m, (long long)sec, frac);
  else
    snprintf(out, 48, "%lld%ss", (long long)sec, frac);
}

/* The output as docker records it, in place. */
static void finish_output(struct berth_health *h)
{
  struct result *r = &h->cur;
  if (h->start_failed)
    return;
  if (h->truncated) {
    memcpy(r->out + r->len, "...", 3);
    r->len += 3;
  }
  if (h->timed_out) {
    char prefix[96], d[48];
    go_duration(h->timeout, d);
    int n = snprintf(prefix, sizeof(prefix), "Health check exceeded timeout (%s)%s", d, r->len ? ": " : "");
    memmove(r->out + n, r->out, r->len);
    memcpy(r->out, prefix, (size_t)n);
    r->len += (size_t)n;
  }
}

/* moby's handleProbeResult. */
static void record(struct berth_health *h)
{
  struct result *r = &h->cur;
  enum status old = h->status;
  r->end = berth_now_ns();
  r->exit_code = h->start_failed || h->timed_out ? -1 : berth_runtime_exit_code(h->wstatus);
  finish_output(h);
  if (h->n_log == LOG_MAX)
    h->head = (h->head + 1) % LOG_MAX;
  else
    h->n_log++;
  h->log[(h->head + h->n_log - 1) % LOG_MAX] = *r;
  if (r->exit_code == 0) {
    h->streak = 0;
    h->status = ST_HEALTHY;
  } else if (h->status != ST_STARTING || r->start - h->started_ns >= h->start_period) {
    if (++h->streak >= h->retries)
      h->status = ST_UNHEALTHY;
  }
  save(h);
  if (h->status != old && h->event)
    h->event(h->event_data, status_names[h->status]);
}

/* Reaped (or never started): collect what is left, record, schedule the next. */
static void probe_done(struct berth_health *h)
{
  if (h->sync_fd >= 0)
    read_sync(h); /* the child is gone: this does not block */
  read_output(h);
  record(h);
  close_probe(h);
  arm(h, next_interval(h));
}

static bool is_paused(const struct berth_health *h)
{
  return faccessat(h->run_dfd, "paused", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static void timer_fired(struct berth_health *h)
{
  uint64_t ticks;
  /* none when the timer was set again since poll saw it fire */
  if (TEMP_FAILURE_RETRY(read(h->timer_fd, &ticks, sizeof(ticks))) != (ssize_t)sizeof(ticks))
    return;
  if (!h->c)
    return;
  bool paused = is_paused(h);
  /* docker stops probing a paused container and calls it unhealthy (a
   * probe caught by the freeze runs into its timeout) */
  if (paused && h->status != ST_UNHEALTHY) {
    h->status = ST_UNHEALTHY;
    save(h);
  }
  if (h->pid > 0) {
    /* past its timeout: killed; recorded once reaped */
    h->timed_out = true;
    (void)kill(h->pid, SIGKILL);
    return;
  }
  if (paused) {
    arm(h, h->interval);
    return;
  }
  start_probe(h);
  if (h->start_failed)
    probe_done(h);
}

size_t berth_health_pollfds(struct berth_health *h, struct pollfd *p)
{
  if (!h)
    return 0;
  p[P_TIMER] = (struct pollfd){.fd = h->timer_fd, .events = POLLIN};
  p[P_SYNC] = (struct pollfd){.fd = h->sync_fd, .events = POLLIN};
  p[P_OUT] = (struct pollfd){.fd = h->out_fd, .events = POLLIN};
  return BERTH_HEALTH_POLLFDS;
}

void berth_health_service(struct berth_health *h, const struct pollfd *p, size_t n)
{
  if (!h || n < BERTH_HEALTH_POLLFDS)
    return;
  if (h->sync_fd >= 0 && (p[P_SYNC].revents & (POLLIN | POLLHUP | POLLERR)))
    read_sync(h);
  if (h->out_fd >= 0 && (p[P_OUT].revents & (POLLIN | POLLHUP | POLLERR)))
    read_output(h);
  if (h->pid > 0 && h->reaped)
    probe_done(h);
  if (p[P_TIMER].revents & POLLIN)
    timer_fired(h);
}

bool berth_health_reaped(struct berth_health *h, pid_t pid, int wstatus)
{
  if (!h || h->pid <= 0 || pid != h->pid)
    return false;
  h->wstatus = wstatus;
  h->reaped = true;
  return true;
}

void berth_health_stop(struct berth_health *h)
{
  if (!h || !h->c)
    return;
  if (h->pid > 0 && !h->reaped) {
    (void)kill(h->pid, SIGKILL);
    while (waitpid(h->pid, &h->wstatus, 0) < 0 && errno == EINTR)
      ;
  }
  close_probe(h);
  disarm(h);
  h->c = NULL;
  /* docker: unhealthy once the monitor has stopped */
  h->status = ST_UNHEALTHY;
  save(h);
}
