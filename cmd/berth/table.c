/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Elastic tabstops for table output, behaving like Go's text/tabwriter in
 * docker/cli's fork (cell widths in terminal columns).  The text is buffered
 * whole; flush splits it into lines of cells, computes each column block's
 * width and writes the padded result. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "table.h"

#define ESCAPE_BYTE 0xff

struct berth_table {
  size_t minwidth, padding;
  char padchar;
  char *text;
  size_t len, cap;
};

struct tcell {
  size_t off, size;  /* bytes in the cell buffer */
  size_t width;      /* terminal columns */
  size_t colw;       /* column width including padding; set by layout */
};

struct tline {
  struct tcell *cells;
  size_t n, cap;
  bool section_end; /* ended by '\f': every column block ends here */
};

struct layout {
  char *buf; /* cell text, tabs and line breaks removed */
  size_t len, cap;
  struct tline *lines;
  size_t n, cap_lines;
};

static void *xrealloc(void *p, size_t n)
{
  p = realloc(p, n ? n : 1);
  if (!p)
    abort();
  return p;
}

static void grow(char **p, size_t *cap, size_t need)
{
  size_t c = *cap ? *cap : 64;
  if (need <= *cap)
    return;
  while (c < need) {
    if (c > SIZE_MAX / 2)
      abort();
    c *= 2;
  }
  *p = xrealloc(*p, c);
  *cap = c;
}

struct berth_table *berth_table_new_full(size_t minwidth, size_t padding, char padchar)
{
  struct berth_table *t = calloc(1, sizeof(*t));
  if (!t)
    abort();
  t->minwidth = minwidth;
  t->padding = padding;
  t->padchar = padchar;
  return t;
}

struct berth_table *berth_table_new(void)
{
  return berth_table_new_full(10, 3, ' ');
}

void berth_table_free(struct berth_table *t)
{
  if (!t)
    return;
  free(t->text);
  free(t);
}

void berth_table_write(struct berth_table *t, const char *text, size_t len)
{
  if (!len)
    return;
  if (len > SIZE_MAX - t->len)
    abort();
  grow(&t->text, &t->cap, t->len + len);
  memcpy(t->text + t->len, text, len);
  t->len += len;
}

void berth_table_puts(struct berth_table *t, const char *text)
{
  berth_table_write(t, text, strlen(text));
}

void berth_table_add_row(struct berth_table *t, const char *const *cells, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      berth_table_write(t, "\t", 1);
    berth_table_puts(t, cells[i] ? cells[i] : "");
  }
  berth_table_write(t, "\n", 1);
}

/* ---- display width (go-runewidth, default non-East-Asian condition) ---- */

struct range {
  uint32_t lo, hi;
};

static const struct range zero_width[] = {
    {0x0300, 0x036F},   {0x0483, 0x0489},   {0x0591, 0x05BD},   {0x05BF, 0x05BF},   {0x05C1, 0x05C2},
    {0x05C4, 0x05C5},   {0x05C7, 0x05C7},   {0x0610, 0x061A},   {0x064B, 0x065F},   {0x0670, 0x0670},
    {0x06D6, 0x06DC},   {0x06DF, 0x06E4},   {0x06E7, 0x06E8},   {0x06EA, 0x06ED},   {0x0711, 0x0711},
    {0x0730, 0x074A},   {0x07A6, 0x07B0},   {0x07EB, 0x07F3},   {0x0816, 0x082D},   {0x0859, 0x085B},
    {0x08D3, 0x0903},   {0x093A, 0x093C},   {0x093E, 0x094F},   {0x0951, 0x0957},   {0x0962, 0x0963},
    {0x0981, 0x0983},   {0x09BC, 0x09BC},   {0x09BE, 0x09CD},   {0x0A01, 0x0A03},   {0x0A3C, 0x0A51},
    {0x0A81, 0x0A83},   {0x0ABC, 0x0ACD},   {0x0B01, 0x0B03},   {0x0B3C, 0x0B57},   {0x0BBE, 0x0BCD},
    {0x0C00, 0x0C04},   {0x0C3E, 0x0C56},   {0x0CBC, 0x0CD6},   {0x0D00, 0x0D03},   {0x0D3B, 0x0D4D},
    {0x0E31, 0x0E31},   {0x0E34, 0x0E3A},   {0x0E47, 0x0E4E},   {0x0EB1, 0x0EB1},   {0x0EB4, 0x0EBC},
    {0x0EC8, 0x0ECD},   {0x0F18, 0x0F19},   {0x0F35, 0x0F39},   {0x0F71, 0x0F84},   {0x102B, 0x103E},
    {0x1160, 0x11FF},   {0x135D, 0x135F},   {0x1712, 0x1714},   {0x17B4, 0x17D3},   {0x180B, 0x180F},
    {0x1AB0, 0x1AFF},   {0x1B00, 0x1B04},   {0x1DC0, 0x1DFF},   {0x200B, 0x200F},   {0x2028, 0x202E},
    {0x2060, 0x206F},   {0x20D0, 0x20F0},   {0x2CEF, 0x2CF1},   {0x2DE0, 0x2DFF},   {0x302A, 0x302F},
    {0x3099, 0x309A},   {0xA66F, 0xA67D},   {0xA69E, 0xA69F},   {0xA8E0, 0xA8F1},   {0xFB1E, 0xFB1E},
    {0xFE00, 0xFE0F},   {0xFE20, 0xFE2F},   {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x1F3FB, 0x1F3FF},
    {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xE0100, 0xE01EF},
};

static const struct range double_width[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},   {0x23F0, 0x23F0},
    {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},   {0x2648, 0x2653},   {0x267F, 0x267F},
    {0x2693, 0x2693},   {0x26A1, 0x26A1},   {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},
    {0x26CE, 0x26CE},   {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},   {0x2728, 0x2728},
    {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},   {0x2757, 0x2757},   {0x2795, 0x2797},
    {0x27B0, 0x27B0},   {0x27BF, 0x27BF},   {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},
    {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
    {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},
    {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4}, {0x17000, 0x18CFF}, {0x1AFF0, 0x1B2FF},
    {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F202},
    {0x1F210, 0x1F23B}, {0x1F240, 0x1F248}, {0x1F250, 0x1F251}, {0x1F260, 0x1F265}, {0x1F300, 0x1F320},
    {0x1F32D, 0x1F335}, {0x1F337, 0x1F37C}, {0x1F37E, 0x1F393}, {0x1F3A0, 0x1F3CA}, {0x1F3CF, 0x1F3D3},
    {0x1F3E0, 0x1F3F0}, {0x1F3F4, 0x1F3F4}, {0x1F3F8, 0x1F3FA}, {0x1F400, 0x1F43E}, {0x1F440, 0x1F440},
    {0x1F442, 0x1F4FC}, {0x1F4FF, 0x1F53D}, {0x1F54B, 0x1F54E}, {0x1F550, 0x1F567}, {0x1F57A, 0x1F57A},
    {0x1F595, 0x1F596}, {0x1F5A4, 0x1F5A4}, {0x1F5FB, 0x1F64F}, {0x1F680, 0x1F6C5}, {0x1F6CC, 0x1F6CC},
    {0x1F6D0, 0x1F6D2}, {0x1F6D5, 0x1F6D7}, {0x1F6DC, 0x1F6DF}, {0x1F6EB, 0x1F6EC}, {0x1F6F4, 0x1F6FC},
    {0x1F7E0, 0x1F7EB}, {0x1F7F0, 0x1F7F0}, {0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945}, {0x1F947, 0x1F9FF},
    {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

static bool in_ranges(uint32_t r, const struct range *t, size_t n)
{
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (r < t[mid].lo)
      hi = mid;
    else if (r > t[mid].hi)
      lo = mid + 1;
    else
      return true;
  }
  return false;
}

/* Decode one UTF-8 sequence as Go does: an invalid or truncated sequence is
 * U+FFFD of length 1.  Returns the length (>= 1). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *r)
{
  unsigned char c = s[0];
  size_t len;
  uint32_t v, min;
  if (c < 0x80) {
    *r = c;
    return 1;
  }
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2, v = c & 0x1f, min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3, v = c & 0x0f, min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4, v = c & 0x07, min = 0x10000;
  } else {
    *r = 0xfffd;
    return 1;
  }
  if (n < len)
    goto bad;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      goto bad;
    v = (v << 6) | (s[i] & 0x3f);
  }
  if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
    goto bad;
  *r = v;
  return len;
bad:
  *r = 0xfffd;
  return 1;
}

static size_t rune_width(uint32_t r)
{
  if (r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0xad)
    return 0;
  if (r < 0x300)
    return 1;
  if (in_ranges(r, zero_width, sizeof(zero_width) / sizeof(zero_width[0])))
    return 0;
  if (in_ranges(r, double_width, sizeof(double_width) / sizeof(double_width[0])))
    return 2;
  return 1;
}

size_t berth_text_width(const char *s, size_t len)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t w = 0, i = 0;
  bool after_zwj = false, odd_flag = false;
  while (i < len) {
    uint32_t r;
    i += utf8_next(p + i, len - i, &r);
    /* Grapheme clusters count once: a character joined by ZWJ and the
     * second regional indicator of a flag add nothing. */
    if (after_zwj) {
      after_zwj = false;
      continue;
    }
    if (r == 0x200d) {
      after_zwj = true;
      continue;
    }
    if (r >= 0x1f1e6 && r <= 0x1f1ff) {
      odd_flag = !odd_flag;
      if (!odd_flag)
        continue;
      w += 1;
      continue;
    }
    odd_flag = false;
    w += rune_width(r);
  }
  return w;
}

/* ---- splitting text into lines and cells ---- */

static void layout_add(struct layout *L, const char *s, size_t n)
{
  if (n == 0)
    return;
  grow(&L->buf, &L->cap, L->len + n);
  memcpy(L->buf + L->len, s, n);
  L->len += n;
}

static struct tline *layout_line(struct layout *L)
{
  return &L->lines[L->n - 1];
}

static void layout_new_line(struct layout *L)
{
  if (L->n == L->cap_lines) {
    L->cap_lines = L->cap_lines ? L->cap_lines * 2 : 16;
    L->lines = xrealloc(L->lines, L->cap_lines * sizeof(*L->lines));
  }
  memset(&L->lines[L->n++], 0, sizeof(struct tline));
}

static void line_add_cell(struct tline *l, const struct tcell *c)
{
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 8;
    l->cells = xrealloc(l->cells, l->cap * sizeof(*l->cells));
  }
  l->cells[l->n++] = *c;
}

static void layout_free(struct layout *L)
{
  for (size_t i = 0; i < L->n; i++)
    free(L->lines[i].cells);
  free(L->lines);
  free(L->buf);
}

/* Width of the cell text added since `from`. */
static size_t layout_width_since(const struct layout *L, size_t from)
{
  return L->len > from ? berth_text_width(L->buf + from, L->len - from) : 0;
}

/* tabwriter's Write: cells end at \t \v \n \f outside escapes; escaped text
 * counts its width without the two escape bytes. */
static void split_cells(const struct berth_table *t, struct layout *L)
{
  struct tcell cell = {0};
  size_t n = 0, wpos = 0; /* start of unconsumed input; start of unmeasured cell text */
  bool escaped = false;
  layout_new_line(L);
  cell.off = 0;
  for (size_t i = 0; i < t->len; i++) {
    unsigned char ch = (unsigned char)t->text[i];
    size_t w;
    if (escaped) {
      if (ch == ESCAPE_BYTE) {
        layout_add(L, t->text + n, i + 1 - n);
        cell.size += i + 1 - n;
        n = i + 1;
        w = layout_width_since(L, wpos);
        /* don't count the escape bytes (a ZWJ before the last one can make
         * the segment narrower than two columns) */
        cell.width = cell.width + w >= 2 ? cell.width + w - 2 : 0;
        wpos = L->len;
        escaped = false;
      }
      continue;
    }
    if (ch == ESCAPE_BYTE || ch == '\t' || ch == '\v' || ch == '\n' || ch == '\f') {
      layout_add(L, t->text + n, i - n);
      cell.size += i - n;
      cell.width += layout_width_since(L, wpos);
      wpos = L->len;
      n = ch == ESCAPE_BYTE ? i : i + 1;
      if (ch == ESCAPE_BYTE) {
        escaped = true;
        continue;
      }
      line_add_cell(layout_line(L), &cell);
      memset(&cell, 0, sizeof(cell));
      cell.off = L->len;
      if (ch == '\n' || ch == '\f') {
        layout_line(L)->section_end = ch == '\f';
        layout_new_line(L);
      }
    }
  }
  if (t->len > n) {
    layout_add(L, t->text + n, t->len - n);
    cell.size += t->len - n;
  }
  if (cell.size > 0) {
    size_t w = layout_width_since(L, wpos);
    /* an unterminated escape still drops two columns, as tabwriter's Flush does */
    cell.width = escaped ? (cell.width + w >= 2 ? cell.width + w - 2 : 0) : cell.width + w;
    line_add_cell(layout_line(L), &cell);
  }
}

/* Column widths: the block of column c around line i is the longest run of
 * consecutive lines (within one section) that have a tab-terminated cell c;
 * its width is the widest such cell plus padding, at least minwidth. */
static void compute_widths(const struct berth_table *t, struct layout *L)
{
  size_t *start = NULL, *width = NULL, open = 0, ncols = 0;
  for (size_t i = 0; i <= L->n; i++) {
    bool end = i == L->n;
    size_t k = end || L->lines[i].n == 0 ? 0 : L->lines[i].n - 1;
    /* close blocks of columns this line lacks */
    for (size_t c = k; c < open; c++)
      for (size_t j = start[c]; j < i; j++)
        L->lines[j].cells[c].colw = width[c];
    if (end)
      break;
    if (k > ncols) {
      start = xrealloc(start, k * sizeof(*start));
      width = xrealloc(width, k * sizeof(*width));
      ncols = k;
    }
    for (size_t c = open; c < k; c++) {
      start[c] = i;
      width[c] = t->minwidth;
    }
    open = k;
    for (size_t c = 0; c < k; c++) {
      size_t w = L->lines[i].cells[c].width + t->padding;
      if (w > width[c])
        width[c] = w;
    }
    if (L->lines[i].section_end) {
      for (size_t c = 0; c < open; c++)
        for (size_t j = start[c]; j <= i; j++)
          L->lines[j].cells[c].colw = width[c];
      open = 0;
    }
  }
  free(start);
  free(width);
}

static void render(const struct berth_table *t, const struct layout *L, char **out, size_t *len, size_t *cap)
{
  for (size_t i = 0; i < L->n; i++) {
    const struct tline *l = &L->lines[i];
    for (size_t j = 0; j < l->n; j++) {
      const struct tcell *c = &l->cells[j];
      size_t pad = j + 1 < l->n && c->colw > c->width ? c->colw - c->width : 0;
      grow(out, cap, *len + c->size + pad + 1);
      if (c->size) {
        memcpy(*out + *len, L->buf + c->off, c->size);
        *len += c->size;
      }
      memset(*out + *len, t->padchar, pad);
      *len += pad;
    }
    if (i + 1 < L->n) {
      grow(out, cap, *len + 1);
      (*out)[(*len)++] = '\n';
    }
  }
}

static char *flush_to_buffer(struct berth_table *t, size_t *ret_len)
{
  struct layout L = {0};
  char *out = NULL;
  size_t len = 0, cap = 0;
  split_cells(t, &L);
  compute_widths(t, &L);
  render(t, &L, &out, &len, &cap);
  layout_free(&L);
  grow(&out, &cap, len + 1);
  out[len] = '\0';
  t->len = 0;
  *ret_len = len;
  return out;
}

char *berth_table_flush_string(struct berth_table *t, size_t *ret_len)
{
  size_t len;
  char *s = flush_to_buffer(t, &len);
  if (ret_len)
    *ret_len = len;
  return s;
}

int berth_table_flush(struct berth_table *t, FILE *out, berth_error_t *err)
{
  size_t len;
  cleanup_free char *s = flush_to_buffer(t, &len);
  if (len > 0 && fwrite(s, 1, len, out) != len)
    return berth_error_set(err, errno ? errno : EIO, "write table");
  return 0;
}
