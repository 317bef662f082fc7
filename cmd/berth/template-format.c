/* SPDX-License-Identifier: GPL-2.0-or-later */
/* docker's formatter on top of the template engine: the "table" and
 * "json" format words, preFormat, and berth_formatter, which executes a
 * format per row and writes the rows, aligned under a header for tables. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "table.h"
#include "template-internal.h"

bool berth_template_is_table(const char *format)
{
  return format && strncmp(format, "table", 5) == 0;
}

bool berth_template_is_json(const char *format)
{
  return format && strcmp(format, "json") == 0;
}

char *berth_template_preformat(const char *format)
{
  const char *f = format ? format : "";
  struct buf b = {0};
  size_t start = 0, end;
  if (berth_template_is_table(format))
    f = format + 5;
  else if (berth_template_is_json(f))
    f = "{{json .}}";
  end = strlen(f);
  while (start < end && f[start] == ' ')
    start++;
  while (end > start && f[end - 1] == ' ')
    end--;
  for (size_t i = start; i < end; i++) {
    if (f[i] == '\\' && i + 1 < end && (f[i + 1] == 't' || f[i + 1] == 'n')) {
      tpl_buf_addc(&b, f[i + 1] == 't' ? '\t' : '\n');
      i++;
    } else {
      tpl_buf_addc(&b, f[i]);
    }
  }
  return tpl_buf_steal(&b);
}

struct berth_formatter {
  struct berth_template *t;
  struct berth_template_opts opts;
  bool table;
  struct buf rows;
};

int berth_formatter_new(const char *format, const struct berth_template_opts *opts, struct berth_formatter **ret,
                        berth_error_t *err)
{
  cleanup_free char *pre = berth_template_preformat(format);
  struct berth_formatter *f = calloc(1, sizeof(*f));
  if (!f)
    abort();
  if (berth_template_parse(pre, &f->t, err) < 0) {
    free(f);
    return berth_error_prefix(err, "template parsing error");
  }
  if (opts)
    f->opts = *opts;
  f->table = berth_template_is_table(format);
  *ret = f;
  return 0;
}

bool berth_formatter_is_table(const struct berth_formatter *f)
{
  return f->table;
}

int berth_formatter_add(struct berth_formatter *f, json_t *row, berth_error_t *err)
{
  size_t mark = f->rows.len;
  if (tpl_exec_tree(f->t, row, &f->opts, false, &f->rows, err) < 0) {
    f->rows.len = mark;
    if (f->rows.p)
      f->rows.p[mark] = '\0';
    return berth_error_prefix(err, "template parsing error");
  }
  tpl_buf_addc(&f->rows, '\n');
  return 0;
}

int berth_formatter_write(struct berth_formatter *f, json_t *header, FILE *out, berth_error_t *err)
{
  int rc = 0;
  if (f->table) {
    struct berth_table *tb = berth_table_new();
    struct buf h = {0};
    berth_error_t ignored = NULL;
    if (header) {
      /* docker ignores header errors and keeps what was printed before them */
      (void)tpl_exec_tree(f->t, header, &f->opts, true, &h, &ignored);
      berth_error_release(&ignored);
      berth_table_write(tb, h.p ? h.p : "", h.len);
      berth_table_write(tb, "\n", 1);
    }
    berth_table_write(tb, f->rows.p ? f->rows.p : "", f->rows.len);
    rc = berth_table_flush(tb, out, err);
    berth_table_free(tb);
    tpl_buf_free(&h);
  } else if (f->rows.len > 0 && fwrite(f->rows.p, 1, f->rows.len, out) != f->rows.len) {
    rc = berth_error_set(err, errno ? errno : EIO, "write formatted output");
  }
  f->rows.len = 0;
  if (f->rows.p)
    f->rows.p[0] = '\0';
  return rc;
}

void berth_formatter_free(struct berth_formatter *f)
{
  if (!f)
    return;
  berth_template_free(f->t);
  tpl_buf_free(&f->rows);
  free(f);
}
