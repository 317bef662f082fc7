/* SPDX-License-Identifier: GPL-2.0-or-later */
/* See logread.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/timeutil.h"
#include "engine/logread.h"

#define CHUNK 65536
#define MAX_ROTATED 1000

static int open_rotated(struct berth_logread *r, int i)
{
  char name[PATH_MAX];
  if (i == 0)
    snprintf(name, sizeof(name), "%s", r->name);
  else
    snprintf(name, sizeof(name), "%s.%d", r->name, i);
  return openat(r->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

static void push_fd(struct berth_logread *r, int fd)
{
  r->fds = realloc(r->fds, (r->n_fds + 1) * sizeof(int));
  if (!r->fds)
    abort();
  r->fds[r->n_fds++] = fd;
}

static ino_t ino_of(int fd)
{
  struct stat st;
  return fd >= 0 && fstat(fd, &st) == 0 ? st.st_ino : 0;
}

/* Where the last *need complete lines of fd start.  Returns 1 with *ret_off
 * when the file holds them, else 0 with *need lowered by the lines it has. */
static int tail_offset(int fd, long *need, off_t *ret_off, berth_error_t *err)
{
  struct stat st;
  cleanup_free char *buf = malloc(CHUNK);
  long seen = 0;
  if (!buf)
    abort();
  if (fstat(fd, &st) < 0)
    return berth_error_set(err, errno, "stat log");
  for (off_t end = st.st_size; end > 0;) {
    off_t start = end > CHUNK ? end - CHUNK : 0;
    ssize_t n = TEMP_FAILURE_RETRY(pread(fd, buf, (size_t)(end - start), start));
    if (n < 0)
      return berth_error_set(err, errno, "read log");
    for (ssize_t i = n - 1; i >= 0; i--) {
      if (buf[i] != '\n')
        continue;
      if (seen == *need) {
        *ret_off = start + i + 1;
        return 1;
      }
      seen++;
    }
    end = start;
  }
  *need -= seen;
  *ret_off = 0;
  return 0;
}

int berth_logread_open(struct berth_logread *r, int dirfd, const char *name, long tail, berth_error_t *err)
{
  int older[MAX_ROTATED];
  int n = 0, fd;
  *r = (struct berth_logread){.dirfd = dirfd};
  if (!(r->name = strdup(name)))
    abort();
  while (n < MAX_ROTATED && (fd = open_rotated(r, n + 1)) >= 0)
    older[n++] = fd;
  while (n > 0)
    push_fd(r, older[--n]);
  fd = open_rotated(r, 0);
  if (fd < 0 && errno != ENOENT) {
    int e = errno;
    berth_logread_clear(r);
    return berth_error_set(err, e, "open `%s`", name);
  }
  if (fd >= 0)
    push_fd(r, fd);
  r->live_ino = ino_of(fd);
  if (tail < 0 || r->n_fds == 0)
    return 0;
  r->at = r->n_fds - 1;
  for (size_t i = r->n_fds; i-- > 0;) {
    int found = tail_offset(r->fds[i], &tail, &r->off, err);
    if (found < 0) {
      berth_logread_clear(r);
      return -1;
    }
    r->at = i;
    if (found)
      break;
  }
  return 0;
}

void berth_logread_clear(struct berth_logread *r)
{
  for (size_t i = 0; i < r->n_fds; i++)
    close_and_reset(&r->fds[i]);
  free(r->fds);
  free(r->name);
  free(r->buf);
  *r = (struct berth_logread){.dirfd = -1};
}

/* Hand out the complete lines of buf[0..len); keep a partial one. */
static int split_lines(struct berth_logread *r, berth_logread_line_fn fn, void *data, berth_error_t *err)
{
  size_t start = 0;
  char *nl;
  int rc = 0;
  while (rc == 0 && (nl = memchr(r->buf + start, '\n', r->len - start))) {
    size_t n = (size_t)(nl - (r->buf + start));
    rc = fn(data, r->buf + start, n, err);
    start += n + 1;
  }
  memmove(r->buf, r->buf + start, r->len - start);
  r->len -= start;
  return rc;
}

/* Read fds[at] to its end. */
static int read_file(struct berth_logread *r, berth_logread_line_fn fn, void *data, berth_error_t *err)
{
  int fd = r->fds[r->at];
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_size < r->off) {
    r->off = 0; /* truncated in place (max-file 1) */
    r->len = 0;
  }
  for (;;) {
    if (r->cap - r->len < CHUNK) {
      r->cap = r->len + 2 * CHUNK;
      if (!(r->buf = realloc(r->buf, r->cap)))
        abort();
    }
    ssize_t n = TEMP_FAILURE_RETRY(pread(fd, r->buf + r->len, r->cap - r->len, r->off));
    if (n < 0)
      return berth_error_set(err, errno, "read `%s`", r->name);
    if (n == 0)
      return 0;
    r->off += n;
    r->len += (size_t)n;
    int rc = split_lines(r, fn, data, err);
    if (rc != 0)
      return rc;
  }
}

/* NAME is not the file we read any more: queue the files written after it
 * (found by inode among the rotated ones), then the live one. */
static void follow_rotation(struct berth_logread *r, ino_t cur)
{
  int k = 0, fd;
  for (int i = 1; i <= MAX_ROTATED && (fd = open_rotated(r, i)) >= 0; i++) {
    ino_t ino = ino_of(fd);
    (void)close(fd);
    if (ino == cur) {
      k = i;
      break;
    }
  }
  for (int i = k - 1; i >= 1; i--)
    if ((fd = open_rotated(r, i)) >= 0)
      push_fd(r, fd);
  if ((fd = open_rotated(r, 0)) >= 0)
    push_fd(r, fd);
  r->live_ino = ino_of(fd);
}

/* Everything there is now, across rotations when following. */
static int read_available(struct berth_logread *r, berth_logread_line_fn fn, void *data, bool follow,
                          berth_error_t *err)
{
  for (;;) {
    int rc = r->at < r->n_fds ? read_file(r, fn, data, err) : 0;
    if (rc != 0)
      return rc;
    if (r->at + 1 < r->n_fds) {
      close_and_reset(&r->fds[r->at]); /* done with it */
      r->at++, r->off = 0, r->len = 0;
      continue;
    }
    if (!follow)
      return 0;
    struct stat st;
    bool exists = fstatat(r->dirfd, r->name, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && st.st_ino == r->live_ino)
      return 0;
    if (!exists && r->live_ino == 0)
      return 0;
    /* rotated (or created): finish the old file, it gets no more lines */
    if (r->at < r->n_fds && (rc = read_file(r, fn, data, err)) != 0)
      return rc;
    size_t before = r->n_fds;
    follow_rotation(r, r->live_ino);
    if (r->n_fds == before)
      return 0; /* renamed away, the new one not created yet */
    if (r->at < before)
      close_and_reset(&r->fds[r->at]);
    r->at = before, r->off = 0, r->len = 0;
  }
}

static int watch_dir(int dirfd)
{
  char path[64];
  int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd);
  if (fd >= 0 && inotify_add_watch(fd, path, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) < 0)
    close_and_reset(&fd);
  return fd;
}

/* Is `name` NAME or one of its rotations? */
static bool is_ours(const struct berth_logread *r, const char *name)
{
  size_t n = strlen(r->name);
  return strncmp(name, r->name, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

/* Drain the inotify queue; true when the follower's check says to end. */
static bool dir_events(struct berth_logread *r, int ino, const struct berth_logfollow *f)
{
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  bool end = false;
  ssize_t n;
  while ((n = read(ino, buf, sizeof(buf))) > 0) {
    for (char *p = buf; p < buf + n;) {
      const struct inotify_event *ev = (const struct inotify_event *)p;
      if (ev->len && !is_ours(r, ev->name) && f->check && f->check(f->data, ev->name))
        end = true;
      p += sizeof(*ev) + ev->len;
    }
  }
  return end;
}

int berth_logread_run(struct berth_logread *r, berth_logread_line_fn fn, void *data,
                      const struct berth_logfollow *f, berth_error_t *err)
{
  cleanup_close int ino = -1;
  int extra = f ? f->extra_fd : -1;
  bool end = false;
  if (!f)
    return read_available(r, fn, data, false, err) < 0 ? -1 : 0;
  if ((ino = watch_dir(r->dirfd)) < 0)
    return berth_error_set(err, errno, "watch `%s`", r->name);
  end = f->check && f->check(f->data, NULL);
  for (;;) {
    int rc = read_available(r, fn, data, true, err);
    if (rc != 0)
      return rc < 0 ? -1 : 0;
    int64_t now = berth_now_ns();
    if (end || (f->deadline_ns && now >= f->deadline_ns))
      return 0;
    if (f->idle)
      f->idle(f->data);
    struct pollfd p[2] = {{.fd = ino, .events = POLLIN}, {.fd = extra, .events = POLLIN}};
    int64_t left = f->deadline_ns ? (f->deadline_ns - now) / 1000000 + 1 : -1;
    if (poll(p, 2, left > INT32_MAX ? INT32_MAX : (int)left) < 0 && errno != EINTR)
      return berth_error_set(err, errno, "poll");
    if (p[0].revents)
      end = dir_events(r, ino, f) || end;
    if (p[1].revents) {
      extra = -1;
      end = (f->check && f->check(f->data, NULL)) || end;
    }
  }
}
