/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The log sink: a handler and a level; text on stderr by default. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <berth/log.h>

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

static void stderr_handler(enum berth_log_level level, const char *domain, const char *msg, void *arg)
{
  (void)arg;
  fprintf(stderr, "%s[%s]: %s\n", level_names[level], domain, msg);
}

static berth_log_handler_fn handler = stderr_handler;
static void *handler_arg;
static enum berth_log_level max_level = BERTH_LOG_WARN;

void berth_log_set_handler(berth_log_handler_fn fn, void *arg)
{
  handler = fn ? fn : stderr_handler;
  handler_arg = arg;
}

void berth_log_set_level(enum berth_log_level max) { max_level = max; }

void berth_log_write(enum berth_log_level level, const char *domain, const char *fmt, ...)
{
  char *msg = NULL;
  va_list ap;
  if (level > max_level)
    return;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  if (msg)
    handler(level, domain, msg, handler_arg);
  free(msg);
}
