/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth error values (style.md section 4): a heap object with an errno-like
 * code and a message.  Functions that can fail take `berth_error_t *err` last,
 * return a negative value (or NULL) and set exactly one error. */
#ifndef BERTH_ERROR_H
#define BERTH_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

#ifndef BERTH_PUBLIC
#define BERTH_PUBLIC __attribute__((visibility("default")))
#endif

struct berth_error {
  int code;   /* errno value, 0 when none applies */
  char *msg;
  bool plain; /* the message stands alone: print no strerror(code) after it */
};
typedef struct berth_error *berth_error_t;

/* Set *err (which must be NULL) and return -1.  `code` is an errno value or 0. */
BERTH_PUBLIC int berth_error_set(berth_error_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like berth_error_set for failures that are not a system call's: `code`
 * classifies them (ENOENT "No such image: x", EBUSY conflicts) for exit codes
 * and HTTP statuses, but strerror(code) is never printed after the message. */
BERTH_PUBLIC int berth_error_set_plain(berth_error_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
BERTH_PUBLIC int berth_error_setv(berth_error_t *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Prefix the message of an already set error: "prefix: old".  Returns -1. */
BERTH_PUBLIC int berth_error_prefix(berth_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Free the error and reset *err to NULL.  Accepts NULL and *err == NULL. */
BERTH_PUBLIC void berth_error_release(berth_error_t *err);
/* "msg: strerror(code)" (or "msg" when code is 0); caller frees. */
BERTH_PUBLIC char *berth_error_string(const struct berth_error *e);

#endif
