/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading a line-oriented file that one or more writers append to and rotate
 * the way docker's LogFile does: NAME is the live file, NAME.1 the one before
 * it, ... NAME.N the oldest.  Used for a container's json-file log and for the
 * event journal.
 *
 * A writer renames the files while we read, so a file is known by its inode
 * and its place found again each time: its neighbour is opened by name between
 * two looks that find it at the same place (logread.c, open_neighbour), and
 * an open file is kept to the end of what it holds, whatever its name by then.
 *
 * berth_logread_open opens the newest file and older ones as far back as the
 * last `tail` lines go, found by reading backwards from the end, so a tail of
 * a large log costs only what it shows.  berth_logread_run hands out complete
 * lines oldest first; with `follow` it then waits (inotify on the directory)
 * for more, crossing rotations: once NAME is no longer the newest file it
 * holds, it reads that one to its end and goes on with the one rotated after
 * it.  A reader that fell more than max-file rotations behind goes on with
 * the oldest file there is (the lines in between are gone). */
#ifndef BERTH_ENGINE_LOGREAD_H
#define BERTH_ENGINE_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <berth/error.h>

struct berth_logread {
  int dirfd; /* borrowed */
  char *name;
  int *fds; /* oldest first; fds[at] is being read */
  size_t n_fds, at;
  off_t off; /* read position in fds[at] */
  ino_t newest_ino; /* of fds[n_fds - 1]; 0: none yet */
  char *buf;      /* a line being assembled */
  size_t len, cap;
};

/* A complete line, without its "\n" (the buffer may be changed); return
 * 1 to stop reading, 0 to go on, <0 on error. */
typedef int (*berth_logread_line_fn)(void *data, char *line, size_t len, berth_error_t *err);

struct berth_logfollow {
  /* Something in the directory changed: `name` is the file (never NAME or
   * its rotations), or NULL for the first call, made once the watch is in
   * place, and when extra_fd became readable.  Return true to end, after the
   * lines written so far have been read. */
  bool (*check)(void *data, const char *name);
  int extra_fd;        /* polled once (-1: none), e.g. a pidfd */
  int64_t deadline_ns; /* end at this time (0: never) */
  void (*idle)(void *data); /* before every wait (flush output) */
  void *data;
};

/* tail < 0: from the start of the oldest file.  A missing NAME is empty. */
int berth_logread_open(struct berth_logread *r, int dirfd, const char *name, long tail, berth_error_t *err);
/* Read to the end (follow NULL), or follow until follow->check or the
 * deadline ends it. */
int berth_logread_run(struct berth_logread *r, berth_logread_line_fn fn, void *data,
                      const struct berth_logfollow *follow, berth_error_t *err);
void berth_logread_clear(struct berth_logread *r);

#endif
