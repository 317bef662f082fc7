/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One log sink for the library and programs (style.md section 6). The library
 * logs at debug and trace only; programs print errors themselves. */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

#include <berth/error.h>

enum berth_log_level {
  BERTH_LOG_ERROR,
  BERTH_LOG_WARN,
  BERTH_LOG_INFO,
  BERTH_LOG_DEBUG,
  BERTH_LOG_TRACE,
};

typedef void (*berth_log_handler_fn)(enum berth_log_level level, const char *domain, const char *msg,
                                     void *arg);

BERTH_PUBLIC void berth_log_set_handler(berth_log_handler_fn fn, void *arg);
BERTH_PUBLIC void berth_log_set_level(enum berth_log_level max);
BERTH_PUBLIC void berth_log_write(enum berth_log_level level, const char *domain, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifndef BERTH_LOG_DOMAIN
#define BERTH_LOG_DOMAIN "berth"
#endif
#define berth_debug(...) berth_log_write(BERTH_LOG_DEBUG, BERTH_LOG_DOMAIN, __VA_ARGS__)
#define berth_trace(...) berth_log_write(BERTH_LOG_TRACE, BERTH_LOG_DOMAIN, __VA_ARGS__)
#define berth_warn(...) berth_log_write(BERTH_LOG_WARN, BERTH_LOG_DOMAIN, __VA_ARGS__)

#endif
