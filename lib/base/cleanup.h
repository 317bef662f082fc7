/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cleanup attributes and ownership helpers (style.md section 5). */
#ifndef BERTH_CLEANUP_H
#define BERTH_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <berth/error.h>

#define BERTH_DEFINE_CLEANUP(type, fn)                                          \
  static inline void fn##_cleanup(type *p) { fn(*p); }

static inline void berth_freep(void *p) { free(*(void **)p); }
static inline void berth_closep(int *fd)
{
  if (*fd >= 0) {
    int saved = errno;
    (void)close(*fd);
    errno = saved;
  }
}
static inline void berth_fclosep(FILE **f)
{
  if (*f)
    (void)fclose(*f);
}
static inline void berth_closedirp(DIR **d)
{
  if (*d)
    (void)closedir(*d);
}
static inline void berth_strv_free(char **v)
{
  if (!v)
    return;
  for (char **p = v; *p; p++)
    free(*p);
  free(v);
}
static inline void berth_strvp(char ***v) { berth_strv_free(*v); }
static inline void berth_errorp(berth_error_t *e) { berth_error_release(e); }
static inline void berth_pidp(pid_t *pid)
{
  if (*pid > 0) {
    (void)kill(*pid, SIGKILL);
    while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
      ;
  }
}

#define cleanup_free __attribute__((cleanup(berth_freep)))
#define cleanup_close __attribute__((cleanup(berth_closep)))
#define cleanup_fclose __attribute__((cleanup(berth_fclosep)))
#define cleanup_dir __attribute__((cleanup(berth_closedirp)))
#define cleanup_strv __attribute__((cleanup(berth_strvp)))
#define cleanup_error __attribute__((cleanup(berth_errorp)))
#define cleanup_pid __attribute__((cleanup(berth_pidp)))

/* Hand ownership out: return the value and reset the source. */
#define steal_ptr(pp)                                                           \
  ({                                                                           \
    __typeof__(*(pp)) steal_tmp_ = *(pp);                                       \
    *(pp) = NULL;                                                              \
    steal_tmp_;                                                                \
  })
static inline int steal_fd(int *fd)
{
  int r = *fd;
  *fd = -1;
  return r;
}
static inline void close_and_reset(int *fd)
{
  if (*fd >= 0) {
    (void)close(*fd);
    *fd = -1;
  }
}

#ifndef TEMP_FAILURE_RETRY
#define TEMP_FAILURE_RETRY(expr)                                                \
  ({                                                                           \
    long tfr_r_;                                                               \
    do                                                                         \
      tfr_r_ = (long)(expr);                                                   \
    while (tfr_r_ == -1L && errno == EINTR);                                   \
    tfr_r_;                                                                    \
  })
#endif

#endif
