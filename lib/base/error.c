/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The error object: creation, prefixing, release and printing. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <berth/error.h>

int berth_error_setv(berth_error_t *err, int code, const char *fmt, va_list ap)
{
  struct berth_error *e;
  if (!err)
    return -1;
  if (*err) /* keep the first error */
    return -1;
  e = calloc(1, sizeof(*e));
  if (!e)
    abort();
  e->code = code;
  if (vasprintf(&e->msg, fmt, ap) < 0)
    abort();
  *err = e;
  return -1;
}

int berth_error_set(berth_error_t *err, int code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  berth_error_setv(err, code, fmt, ap);
  va_end(ap);
  return -1;
}

int berth_error_set_plain(berth_error_t *err, int code, const char *fmt, ...)
{
  va_list ap;
  bool fresh = err && !*err;
  va_start(ap, fmt);
  berth_error_setv(err, code, fmt, ap);
  va_end(ap);
  if (fresh && *err)
    (*err)->plain = true;
  return -1;
}

int berth_error_prefix(berth_error_t *err, const char *fmt, ...)
{
  char *prefix = NULL, *msg = NULL;
  va_list ap;
  if (!err || !*err)
    return -1;
  va_start(ap, fmt);
  if (vasprintf(&prefix, fmt, ap) < 0)
    abort();
  va_end(ap);
  if (asprintf(&msg, "%s: %s", prefix, (*err)->msg) < 0)
    abort();
  free(prefix);
  free((*err)->msg);
  (*err)->msg = msg;
  return -1;
}

void berth_error_release(berth_error_t *err)
{
  if (!err || !*err)
    return;
  free((*err)->msg);
  free(*err);
  *err = NULL;
}

char *berth_error_string(const struct berth_error *e)
{
  char *s = NULL;
  if (!e)
    return strdup("unknown error");
  if (e->code > 0 && !e->plain) {
    /* Go (and so docker) prints system errors in lower case:
     * "open /x: no such file or directory". */
    const char *text = strerror(e->code);
    if (asprintf(&s, "%s: %c%s", e->msg, tolower((unsigned char)text[0]), text + 1) < 0)
      abort();
  } else if (!(s = strdup(e->msg)))
    abort();
  return s;
}
