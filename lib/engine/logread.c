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
#define RETRIES 100

/* NAME (i 0) or NAME.i */
static void rotated_name(const struct berth_logread *r, int i, char name[PATH_MAX])
{
  if (i == 0)
    snprintf(name, PATH_MAX, "%s", r->name);
  else
    snprintf(name, PATH_MAX, "%s.%d", r->name, i);
}

static int open_rotated(const struct berth_logread *r, int i)
{
  char name[PATH_MAX];
  rotated_name(r, i, name);
  return openat(r->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

/* The inode at that name; 0 when there is none. */
static ino_t ino_at(const struct berth_logread *r, int i)
{
  char name[PATH_MAX];
  struct stat st;
  rotated_name(r, i, name);
  return fstatat(r->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st.st_ino : 0;
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

/* Where the file `ino` is now, looking from index `from` up (a rotation only
 * ever moves a file up); -1 when not found.  One missing name is the gap a
 * rotation under way leaves, two in a row end the search. */
static int index_of(const struct berth_logread *r, ino_t ino, int from)
{
  int missing = 0;
  for (int i = from; i <= MAX_ROTATED && missing < 2; i++) {
    ino_t at = ino_at(r, i);
    if (at == ino)
      return i;
    missing = at ? 0 : missing + 1;
  }
  return -1;
}

/* Open the file next to the one with inode `ino` (at index *k or above):
 * step -1 the one written after it, +1 the one before.  A writer may rotate
 * meanwhile, so the neighbour is opened between two looks that find `ino` at
 * the same index: the two names were side by side at that moment, and the
 * order of names is the order of files at every moment.  Returns the fd and
 * its index in *k, or -1 with errno ENOENT (none, or not yet), EAGAIN (they
 * moved: look again) or why the open failed. */
static int open_neighbour(const struct berth_logread *r, ino_t ino, int step, int *k)
{
  int i = index_of(r, ino, *k), fd;
  if (i < 0) {
    errno = EAGAIN;
    return -1;
  }
  if (i + step < 0) {
    errno = ENOENT;
    return -1;
  }
  if ((fd = open_rotated(r, i + step)) < 0) {
    /* an older file past the gap of a rotation under way */
    if (errno == ENOENT && step > 0 && ino_at(r, i + 2 * step))
      errno = EAGAIN;
    return -1;
  }
  if (ino_at(r, i) != ino) {
    (void)close(fd);
    errno = EAGAIN;
    return -1;
  }
  *k = i + step;
  return fd;
}

/* open_neighbour, again while a rotation moves the files (a bounded number
 * of times: the writer may keep rotating, and what is not found now is
 * looked for at the next change of the directory). */
static int open_neighbour_retry(const struct berth_logread *r, ino_t ino, int step, int *k)
{
  int fd = -1;
  for (int tries = 0; tries < RETRIES; tries++)
    if ((fd = open_neighbour(r, ino, step, k)) >= 0 || errno != EAGAIN)
      break;
  return fd;
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

/* The newest file: NAME, or NAME.1 while a rotation has yet to create NAME;
 * its index in *k.  -1 with errno ENOENT when there is none. */
static int open_newest(const struct berth_logread *r, int *k)
{
  int fd = open_rotated(r, *k = 0);
  if (fd < 0 && errno == ENOENT)
    fd = open_rotated(r, *k = 1);
  return fd;
}

/* The oldest file there is; -1 with errno ENOENT when there is none. */
static int open_oldest(const struct berth_logread *r)
{
  int k, older, fd = open_newest(r, &k);
  while (fd >= 0 && (older = open_neighbour_retry(r, ino_of(fd), 1, &k)) >= 0) {
    (void)close(fd);
    fd = older;
  }
  if (fd >= 0 && errno != ENOENT && errno != EAGAIN)
    close_and_reset(&fd);
  return fd;
}

int berth_logread_open(struct berth_logread *r, int dirfd, const char *name, long tail, berth_error_t *err)
{
  int k, fd;
  *r = (struct berth_logread){.dirfd = dirfd};
  if (!(r->name = strdup(name)))
    abort();
  if ((fd = open_newest(r, &k)) < 0)
    goto out;
  push_fd(r, fd);
  r->newest_ino = ino_of(fd);
  /* then older files, newest first, as far back as the tail goes */
  for (;;) {
    int found = tail >= 0 ? tail_offset(fd, &tail, &r->off, err) : 0;
    if (found < 0) {
      berth_logread_clear(r);
      return -1;
    }
    if (found || (fd = open_neighbour_retry(r, ino_of(fd), 1, &k)) < 0)
      break;
    push_fd(r, fd);
  }
  for (size_t i = 0; i < r->n_fds / 2; i++) { /* oldest first */
    int t = r->fds[i];
    r->fds[i] = r->fds[r->n_fds - 1 - i];
    r->fds[r->n_fds - 1 - i] = t;
  }
out:
  if (fd < 0 && errno != ENOENT && errno != EAGAIN) {
    int e = errno;
    berth_logread_clear(r);
    return berth_error_set(err, e, "open `%s`", name);
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

/* Is NAME no longer the newest file we hold (or there at last)? */
static bool is_rotated(const struct berth_logread *r)
{
  struct stat st;
  if (fstatat(r->dirfd, r->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return r->newest_ino != 0;
  return st.st_ino != r->newest_ino;
}

/* Queue the file after the newest we hold: the one rotated after it, found
 * by inode, or the oldest there is when ours is gone (there was none, or it
 * was deleted past max-file while we lagged behind: its successors went
 * with it).  Returns 1 when queued, 0 when there is none yet. */
static int queue_next(struct berth_logread *r, berth_error_t *err)
{
  struct stat st;
  int k = 0, fd;
  if (r->n_fds && fstat(r->fds[r->n_fds - 1], &st) == 0 && st.st_nlink > 0)
    fd = open_neighbour_retry(r, r->newest_ino, -1, &k);
  else
    fd = open_oldest(r);
  if (fd < 0)
    return errno == ENOENT || errno == EAGAIN ? 0 : berth_error_set(err, errno, "open `%s`", r->name);
  push_fd(r, fd);
  r->newest_ino = ino_of(fd);
  return 1;
}

/* Everything there is now, across rotations when following: a file is left
 * only once read to its end, and once it can get no more lines. */
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
    if (!follow || !is_rotated(r))
      return 0;
    /* the writer has left it: what it wrote before is all there is */
    if (r->at < r->n_fds && (rc = read_file(r, fn, data, err)) != 0)
      return rc;
    if ((rc = queue_next(r, err)) <= 0)
      return rc;
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
      /* after an overflow (events lost), anything may have changed */
      bool lost = ev->mask & IN_Q_OVERFLOW, other = ev->len && !is_ours(r, ev->name);
      if ((lost || other) && f->check && f->check(f->data, lost ? NULL : ev->name))
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
