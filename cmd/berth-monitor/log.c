/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The json-file log: one entry per output line in docker's format,
 *   {"log":"hi\n","stream":"stdout","time":"2026-11-30T14:00:00.123456789Z"}
 * split like docker's copier (a line longer than 16 KiB becomes several
 * entries, all but the last without "\n", all with the first piece's time),
 * escaped like docker's jsonlog writer, and rotated like its LogFile
 * (<name> -> <name>.1 -> ... -> <name>.<max_file-1>).  Entries carry the
 * driver's extra attributes ("attrs", docker's log-opt labels/env) when the
 * container has any.  The file write is the
 * monitor's only blocking write; an entry is streamed through a fixed buffer,
 * so memory does not depend on line length. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/timeutil.h"
#include "monitor.h"

#define OUT_BUF 8192
#define TAIL_MAX 128

static const char hexdigits[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at in[0..len), 0 if invalid (Go's
 * utf8.DecodeRune rules: no overlongs, no surrogates, nothing past U+10FFFF). */
static size_t utf8_seq(const uint8_t *in, size_t len, uint32_t *ret_cp)
{
  uint8_t b = in[0], lo = 0x80, hi = 0xbf;
  size_t n;
  uint32_t cp;
  if (b >= 0xc2 && b <= 0xdf) {
    n = 2, cp = b & 0x1f;
  } else if (b >= 0xe0 && b <= 0xef) {
    n = 3, cp = b & 0x0f;
    if (b == 0xe0)
      lo = 0xa0;
    else if (b == 0xed)
      hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4, cp = b & 0x07;
    if (b == 0xf0)
      lo = 0x90;
    else if (b == 0xf4)
      hi = 0x8f;
  } else {
    return 0;
  }
  if (len < n || in[1] < lo || in[1] > hi)
    return 0;
  for (size_t i = 1; i < n; i++) {
    if ((in[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (in[i] & 0x3f);
  }
  *ret_cp = cp;
  return n;
}

static size_t put(char *out, size_t at, const char *s, size_t n)
{
  if (out)
    memcpy(out + at, s, n);
  return at + n;
}

size_t berth_log_escape(const uint8_t *in, size_t len, size_t *pos, char *out, size_t room)
{
  size_t o = 0, i = *pos;
  while (i < len && (!out || room - o >= 6)) {
    uint8_t b = in[i];
    char esc[6] = {'\\', 'u', '0', '0', 0, 0};
    if (b < 0x80) {
      if (b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&') {
        o = put(out, o, (const char *)&b, 1);
      } else if (b == '\\' || b == '"' || b == '\n' || b == '\r') {
        esc[1] = b == '\n' ? 'n' : b == '\r' ? 'r' : (char)b;
        o = put(out, o, esc, 2);
      } else {
        esc[4] = hexdigits[b >> 4], esc[5] = hexdigits[b & 0xf];
        o = put(out, o, esc, 6);
      }
      i++;
      continue;
    }
    uint32_t cp = 0;
    size_t n = utf8_seq(in + i, len - i, &cp);
    if (n == 0) {
      o = put(out, o, "\\ufffd", 6);
      n = 1;
    } else if (cp == 0x2028 || cp == 0x2029) {
      o = put(out, o, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
    } else {
      o = put(out, o, (const char *)in + i, n);
    }
    i += n;
  }
  *pos = i;
  return o;
}

void berth_log_time(int64_t ns, char out[64])
{
  char *dot, *end;
  berth_format_rfc3339(ns, out);
  dot = strchr(out, '.');
  if (!dot)
    return;
  end = strchr(dot, 'Z');
  while (end > dot + 1 && end[-1] == '0')
    end--;
  if (end == dot + 1)
    end = dot;
  memmove(end, "Z", 2);
}

static int open_file(struct berth_logfile *l, int extra_flags, berth_error_t *err)
{
  struct stat st;
  l->fd = openat(l->dirfd, l->name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | extra_flags, 0640);
  if (l->fd < 0)
    return berth_error_set(err, errno, "open log `%s`", l->name);
  if (fstat(l->fd, &st) < 0)
    return berth_error_set(err, errno, "stat log `%s`", l->name);
  l->size = (uint64_t)st.st_size;
  return 0;
}

int berth_logfile_open(struct berth_logfile *l, int dirfd, const char *name, uint64_t max_size, int max_file,
                       berth_error_t *err)
{
  memset(l, 0, sizeof(*l));
  l->fd = -1;
  l->dirfd = dirfd;
  l->max_size = max_size;
  l->max_file = max_file < 1 ? 1 : max_file;
  l->now = berth_now_ns;
  l->name = strdup(name);
  if (!l->name)
    abort();
  return open_file(l, 0, err);
}

static int rotate(struct berth_logfile *l, berth_error_t *err)
{
  char from[PATH_MAX], to[PATH_MAX];
  if (l->max_file < 2) {
    if (ftruncate(l->fd, 0) < 0)
      return berth_error_set(err, errno, "truncate log `%s`", l->name);
    l->size = 0;
    return 0;
  }
  for (int i = l->max_file - 1; i >= 1; i--) {
    if (i == 1)
      snprintf(from, sizeof(from), "%s", l->name);
    else
      snprintf(from, sizeof(from), "%s.%d", l->name, i - 1);
    snprintf(to, sizeof(to), "%s.%d", l->name, i);
    if (renameat(l->dirfd, from, l->dirfd, to) < 0 && errno != ENOENT)
      return berth_error_set(err, errno, "rotate log `%s`", from);
  }
  close_and_reset(&l->fd);
  return open_file(l, O_TRUNC, err);
}

static int flush_out(struct berth_logfile *l, const char *out, size_t *o, berth_error_t *err)
{
  if (berth_write_all(l->fd, out, *o) < 0)
    return berth_error_set(err, errno, "write log `%s`", l->name);
  *o = 0;
  return 0;
}

/* Write one entry: measure it, rotate if it would take the file past
 * max_size, then stream it out through a fixed buffer. */
static int write_entry(struct berth_logfile *l, enum berth_log_stream s, const uint8_t *line, size_t len,
                       bool newline, int64_t ts, berth_error_t *err)
{
  const char *stream = s == BERTH_LOG_STDOUT ? "stdout" : "stderr";
  char tail[TAIL_MAX], time_str[64], out[OUT_BUF + 2 + TAIL_MAX];
  size_t pos = 0, tail_len, total, o;
  berth_log_time(ts, time_str);
  tail_len = (size_t)snprintf(tail, sizeof(tail), "\"time\":\"%s\"}\n", time_str);
  size_t attrs_len = l->attrs ? strlen(l->attrs) : 0;
  char head[48];
  size_t head_len = (size_t)snprintf(head, sizeof(head), "\",\"stream\":\"%s\",", stream);
  total = 8 + berth_log_escape(line, len, &pos, NULL, 0) + (newline ? 2 : 0) + head_len + attrs_len + tail_len;
  if (l->max_size && l->size > 0 && l->size + total > l->max_size && rotate(l, err) < 0)
    return -1;
  o = put(out, 0, "{\"log\":\"", 8);
  pos = 0;
  for (;;) {
    o += berth_log_escape(line, len, &pos, out + o, OUT_BUF - o);
    if (pos == len)
      break;
    if (flush_out(l, out, &o, err) < 0)
      return -1;
  }
  /* the slack past OUT_BUF holds the rest of the entry, attrs aside */
  if (newline)
    o = put(out, o, "\\n", 2);
  o = put(out, o, head, head_len);
  if (attrs_len) {
    if (flush_out(l, out, &o, err) < 0)
      return -1;
    if (berth_write_all(l->fd, l->attrs, attrs_len) < 0)
      return berth_error_set(err, errno, "write log `%s`", l->name);
  }
  o = put(out, o, tail, tail_len);
  if (flush_out(l, out, &o, err) < 0)
    return -1;
  l->size += total;
  return 0;
}

/* A complete piece of a line: either the end of a line (newline) or a
 * BERTH_LOG_LINE_MAX chunk of a longer one. */
static int emit(struct berth_logfile *l, enum berth_log_stream s, const uint8_t *data, size_t len, bool newline,
                berth_error_t *err)
{
  struct berth_log_line *ln = &l->line[s];
  int64_t ts = ln->partial_ts ? ln->partial_ts : l->now();
  if (!newline && !ln->partial_ts)
    ln->partial_ts = ts;
  if (newline)
    ln->partial_ts = 0;
  return write_entry(l, s, data, len, newline, ts, err);
}

int berth_logfile_feed(struct berth_logfile *l, enum berth_log_stream s, const void *data, size_t len,
                       berth_error_t *err)
{
  struct berth_log_line *ln = &l->line[s];
  const uint8_t *p = data;
  int ret = 0;
  while (len > 0) {
    const uint8_t *nl = memchr(p, '\n', len);
    size_t seg = nl ? (size_t)(nl - p) : len;
    if (ln->len == 0 && nl && seg <= BERTH_LOG_LINE_MAX - 1) {
      /* a whole line in the input: no copy */
      if (emit(l, s, p, seg, true, err) < 0)
        ret = -1;
      p += seg + 1, len -= seg + 1;
      continue;
    }
    size_t take = seg < BERTH_LOG_LINE_MAX - ln->len ? seg : BERTH_LOG_LINE_MAX - ln->len;
    if (!ln->buf && !(ln->buf = malloc(BERTH_LOG_LINE_MAX)))
      abort();
    memcpy(ln->buf + ln->len, p, take);
    ln->len += take, p += take, len -= take;
    if (ln->len == BERTH_LOG_LINE_MAX) {
      if (emit(l, s, ln->buf, ln->len, false, err) < 0)
        ret = -1;
      ln->len = 0;
    } else if (nl && take == seg) {
      if (emit(l, s, ln->buf, ln->len, true, err) < 0)
        ret = -1;
      ln->len = 0;
      p++, len--;
    }
  }
  return ret;
}

int berth_logfile_flush(struct berth_logfile *l, enum berth_log_stream s, berth_error_t *err)
{
  struct berth_log_line *ln = &l->line[s];
  int ret = 0;
  if (ln->len > 0)
    ret = emit(l, s, ln->buf, ln->len, false, err);
  ln->len = 0;
  ln->partial_ts = 0;
  return ret;
}

void berth_logfile_close(struct berth_logfile *l)
{
  close_and_reset(&l->fd);
  for (size_t i = 0; i < 2; i++) {
    free(l->line[i].buf);
    l->line[i].buf = NULL;
    l->line[i].len = 0;
  }
  free(l->name);
  l->name = NULL;
  free(l->attrs);
  l->attrs = NULL;
}
