/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Timestamps as Docker writes them: RFC 3339 with nanoseconds, UTC. */
#ifndef BERTH_TIMEUTIL_H
#define BERTH_TIMEUTIL_H

#include <stdint.h>
#include <time.h>

#include <berth/error.h>

/* Nanoseconds since the epoch, from CLOCK_REALTIME. */
int64_t berth_now_ns(void);
/* Milliseconds from CLOCK_MONOTONIC, for deadlines. */
int64_t berth_monotonic_ms(void);
/* "2024-05-01T10:11:12.123456789Z"; out must hold 64 bytes. */
void berth_format_rfc3339(int64_t ns, char out[64]);
/* Parse RFC 3339 (with optional fraction and Z or +hh:mm offset) into ns since
 * the epoch. */
int berth_parse_rfc3339(const char *s, int64_t *ret_ns, berth_error_t *err);

/* A Go duration ("1h30m", "10s", "500ms", "1.5h"); ns. */
int berth_parse_go_duration(const char *s, int64_t *ret_ns, berth_error_t *err);
/* docker's time filters (until=, since=): a Go duration relative to now, unix
 * seconds with an optional fraction, an RFC 3339 time, or a date. */
int berth_parse_time_filter(const char *s, int64_t *ret_ns, berth_error_t *err);

#endif
