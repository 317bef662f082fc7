/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Column alignment for table output: Go's text/tabwriter as docker/cli uses it
 * (its fork measures cells in terminal columns, via go-runewidth), with
 * docker's settings NewWriter(out, 10, 1, 3, ' ', 0).
 *
 * Text is written in, cells end at '\t' (or '\v'), lines at '\n' (or '\f',
 * which also ends every column).  Tab-terminated cells of consecutive lines
 * form a column; each is padded to the column's widest cell plus 3, and to at
 * least 10.  The last cell of a line (the text after its last tab) is never
 * padded.  Text between two 0xff bytes is passed through unsplit.  Nothing is
 * written until berth_table_flush().
 *
 * Usage:
 *   struct berth_table *t = berth_table_new();
 *   berth_table_puts(t, "REPOSITORY\tTAG\tIMAGE ID\n");
 *   berth_table_puts(t, "alpine\tlatest\tabc123\n");
 *   berth_table_flush(t, stdout, &err);
 *   berth_table_free(t);
 * Not thread-safe; one table per output. */
#ifndef BERTH_TABLE_H
#define BERTH_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include <berth/error.h>

struct berth_table;

/* docker's settings: minwidth 10, padding 3, padded with spaces.  Aborts on
 * out-of-memory, like every allocation in the CLI. */
struct berth_table *berth_table_new(void);
/* Other settings (tabwriter's minwidth, padding and padchar).  A '\t'
 * padchar is repeated like any other: tabwriter's tab-stop padding is not
 * implemented. */
struct berth_table *berth_table_new_full(size_t minwidth, size_t padding, char padchar);
/* Append raw text (cells and lines as above); may contain NUL bytes. */
void berth_table_write(struct berth_table *t, const char *text, size_t len);
void berth_table_puts(struct berth_table *t, const char *text);
/* Append one line made of `n` cells: cells joined by '\t', then '\n'. */
void berth_table_add_row(struct berth_table *t, const char *const *cells, size_t n);
/* Format everything written so far to `out` and empty the table for reuse.
 * Fails (EIO or the errno of the write) only when writing fails. */
int berth_table_flush(struct berth_table *t, FILE *out, berth_error_t *err);
/* Same, into a new NUL-terminated string (caller frees); *ret_len if not NULL. */
char *berth_table_flush_string(struct berth_table *t, size_t *ret_len);
void berth_table_free(struct berth_table *t);

/* Width of UTF-8 text in terminal columns, as go-runewidth's StringWidth
 * counts it: East Asian wide and fullwidth characters 2, combining marks and
 * control characters 0, invalid bytes 1 each. */
size_t berth_text_width(const char *s, size_t len);

#endif
