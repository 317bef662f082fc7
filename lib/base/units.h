/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sizes, durations and numbers the way docker prints and parses them: the
 * docker/go-units helpers (HumanSizeWithPrecision, BytesSize, HumanDuration,
 * RAMInBytes, FromHumanSize), Go's time.ParseDuration and strconv.ParseFloat.
 * Everything here is locale-independent ("." is always the decimal point)
 * and thread-safe; nothing keeps memory the caller must free. */
#ifndef BERTH_UNITS_H
#define BERTH_UNITS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <berth/error.h>

/* Big enough for every string the formatting functions below produce. */
#define BERTH_UNITS_BUFSZ 48

/* go-units HumanSizeWithPrecision(bytes, 3), decimal units, as docker's SIZE
 * columns: "0B", "523kB", "4.27MB", "1.23GB".  Writes a NUL-terminated string
 * (truncated to `len`) and returns buf. */
char *berth_human_size(int64_t bytes, char *buf, size_t len);
/* HumanSizeWithPrecision with any precision; HumanSize is precision 4. */
char *berth_human_size_prec(double bytes, int precision, char *buf, size_t len);
/* go-units BytesSize, binary units: "1KiB", "3.42GiB" (precision 4). */
char *berth_bytes_size(double bytes, char *buf, size_t len);

/* go-units HumanDuration of a whole number of seconds: "Less than a second",
 * "1 second", "45 seconds", "About a minute", "5 minutes", "About an hour",
 * "3 hours", "2 days", "2 weeks", "3 months", "2 years".  Returns buf. */
char *berth_human_duration(int64_t seconds, char *buf, size_t len);
/* HumanDuration + " ago", docker's CREATED column: "2 hours ago". */
char *berth_human_ago(int64_t seconds, char *buf, size_t len);

/* go-units RAMInBytes: binary multiples, case-insensitive, optional "b"/"ib":
 * "512k" = 524288, "10m", "1.5g", "32KiB", "2 GB".  Fractions are truncated.
 * EINVAL on syntax errors, negative sizes and sizes that overflow int64. */
int berth_parse_size(const char *s, int64_t *ret, berth_error_t *err);
/* go-units FromHumanSize: the same syntax with decimal multiples ("32k" = 32000). */
int berth_parse_human_size(const char *s, int64_t *ret, berth_error_t *err);

/* Go's time.ParseDuration: "300ms", "-1.5h", "2h45m", units ns us µs μs ms s m h;
 * "0" needs no unit.  Result in nanoseconds; EINVAL on syntax errors and overflow. */
int berth_parse_duration(const char *s, int64_t *ret_ns, berth_error_t *err);

/* Go's strconv.ParseFloat(s[:n], 64): decimal and hexadecimal ("0x1p-2")
 * literals, underscores between digits, "inf"/"infinity"/"nan".  Returns 0,
 * or -1 on a syntax error and -2 when the value overflows (±Inf in *ret). */
/* Go strconv's underscoreOK: in a number literal (sign and base prefix
 * allowed), underscores stand only between digits or right after the prefix. */
bool berth_go_underscores_ok(const char *s, size_t n);
int berth_go_parse_float(const char *s, size_t n, double *ret);
/* snprintf in the "C" locale, whatever the process locale is. */
int berth_snprintf_c(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int berth_vsnprintf_c(char *buf, size_t len, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

#endif
