/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The template lexer, after Go's text/template/parse/lex.go: the same
 * items, trim markers, comments and error messages.  It runs over the whole
 * source at once and leaves the items in an array for the parser. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template-internal.h"

#define RUNE_EOF 0xffffffffu

enum lstate { LS_TEXT, LS_INSIDE, LS_DONE };

static bool lex_is_space(uint32_t r)
{
  return r == ' ' || r == '\t' || r == '\r' || r == '\n';
}

static bool lex_is_alnum(uint32_t r)
{
  return r == '_' || tpl_uni_is_letter(r) || tpl_uni_is_digit(r);
}

static int lex_line_at(struct lexer *l, size_t pos)
{
  if (pos < l->line_pos) {
    l->line_pos = 0;
    l->line = 1;
  }
  for (; l->line_pos < pos && l->line_pos < l->n; l->line_pos++)
    if (l->in[l->line_pos] == '\n')
      l->line++;
  return l->line;
}

static void lex_push(struct lexer *l, enum item_type t, size_t pos, size_t len, const char *msg)
{
  if (l->nitems == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 64;
    l->items = realloc(l->items, l->cap * sizeof(*l->items));
    if (!l->items)
      abort();
  }
  l->items[l->nitems++] = (struct item){t, pos, len, lex_line_at(l, pos), msg};
}

static enum lstate lex_emit(struct lexer *l, enum item_type t)
{
  lex_push(l, t, l->start, l->pos - l->start, NULL);
  l->start = l->pos;
  return LS_INSIDE;
}

static void lex_ignore(struct lexer *l)
{
  l->start = l->pos;
}

static enum lstate lex_error(struct lexer *l, struct buf *msg)
{
  l->msg = tpl_buf_steal(msg);
  lex_push(l, I_ERROR, l->start, 0, l->msg);
  return LS_DONE;
}

static enum lstate lex_errorf(struct lexer *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static enum lstate lex_errorf(struct lexer *l, const char *fmt, ...)
{
  struct buf b = {0};
  va_list ap;
  char *s = NULL;
  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0)
    abort();
  va_end(ap);
  tpl_buf_adds(&b, s);
  free(s);
  return lex_error(l, &b);
}

static enum lstate lex_bad_char(struct lexer *l, const char *what, uint32_t r)
{
  struct buf b = {0};
  tpl_buf_adds(&b, what);
  tpl_sharp_unicode(&b, r);
  return lex_error(l, &b);
}

static uint32_t lex_next(struct lexer *l)
{
  uint32_t r;
  if (l->pos >= l->n) {
    l->width = 0;
    return RUNE_EOF;
  }
  l->width = tpl_u8_decode((const unsigned char *)l->in + l->pos, l->n - l->pos, &r);
  l->pos += l->width;
  return r;
}

static void lex_backup(struct lexer *l)
{
  l->pos -= l->width;
  l->width = 0;
}

static uint32_t lex_peek(struct lexer *l)
{
  uint32_t r = lex_next(l);
  lex_backup(l);
  return r;
}

static bool lex_accept(struct lexer *l, const char *valid)
{
  uint32_t r = lex_next(l);
  if (r != RUNE_EOF && r < 0x80 && r && strchr(valid, (int)r))
    return true;
  lex_backup(l);
  return false;
}

static void lex_accept_run(struct lexer *l, const char *valid)
{
  while (lex_accept(l, valid))
    ;
}

static bool lex_has_prefix(const struct lexer *l, size_t pos, const char *p)
{
  size_t n = strlen(p);
  return pos <= l->n && l->n - pos >= n && memcmp(l->in + pos, p, n) == 0;
}

static bool lex_left_trim_marker(const struct lexer *l, size_t pos)
{
  return pos + 2 <= l->n && l->in[pos] == '-' && lex_is_space((unsigned char)l->in[pos + 1]);
}

static bool lex_right_trim_marker(const struct lexer *l, size_t pos)
{
  return pos + 2 <= l->n && lex_is_space((unsigned char)l->in[pos]) && l->in[pos + 1] == '-';
}

static void lex_at_right_delim(const struct lexer *l, bool *delim, bool *trim)
{
  *delim = *trim = false;
  if (lex_has_prefix(l, l->pos, "}}"))
    *delim = true;
  else if (lex_right_trim_marker(l, l->pos) && lex_has_prefix(l, l->pos + 2, "}}"))
    *delim = *trim = true;
}

static size_t lex_left_trim_length(const struct lexer *l, size_t pos)
{
  size_t i = pos;
  while (i < l->n && lex_is_space((unsigned char)l->in[i]))
    i++;
  return i - pos;
}

static enum lstate lex_comment(struct lexer *l)
{
  const char *end;
  bool delim, trim;
  l->pos += 2;
  end = memmem(l->in + l->pos, l->n - l->pos, "*/", 2);
  if (!end)
    return lex_errorf(l, "unclosed comment");
  l->pos = (size_t)(end - l->in) + 2;
  lex_at_right_delim(l, &delim, &trim);
  if (!delim)
    return lex_errorf(l, "comment ends before closing delimiter");
  if (trim)
    l->pos += 2;
  l->pos += 2;
  if (trim)
    l->pos += lex_left_trim_length(l, l->pos);
  lex_ignore(l);
  return LS_TEXT;
}

static enum lstate lex_left_delim(struct lexer *l)
{
  size_t after;
  l->pos += 2;
  after = lex_left_trim_marker(l, l->pos) ? 2 : 0;
  if (lex_has_prefix(l, l->pos + after, "/*")) {
    l->pos += after;
    lex_ignore(l);
    return lex_comment(l);
  }
  lex_emit(l, I_LDELIM);
  l->pos += after;
  lex_ignore(l);
  l->paren_depth = 0;
  return LS_INSIDE;
}

static enum lstate lex_text(struct lexer *l)
{
  const char *x = memmem(l->in + l->pos, l->n - l->pos, "{{", 2);
  if (x) {
    size_t at = (size_t)(x - l->in), trim = 0;
    if (at > l->pos) {
      if (lex_left_trim_marker(l, at + 2))
        while (at - trim > l->start && lex_is_space((unsigned char)l->in[at - trim - 1]))
          trim++;
      l->pos = at - trim;
      if (l->pos > l->start)
        lex_push(l, I_TEXT, l->start, l->pos - l->start, NULL);
      l->pos = at;
      lex_ignore(l);
    }
    return lex_left_delim(l);
  }
  l->pos = l->n;
  if (l->pos > l->start)
    lex_push(l, I_TEXT, l->start, l->pos - l->start, NULL);
  l->start = l->pos;
  lex_push(l, I_EOF, l->pos, 0, NULL);
  return LS_DONE;
}

static enum lstate lex_right_delim(struct lexer *l)
{
  bool delim, trim;
  lex_at_right_delim(l, &delim, &trim);
  if (trim) {
    l->pos += 2;
    lex_ignore(l);
  }
  l->pos += 2;
  lex_emit(l, I_RDELIM);
  if (trim) {
    l->pos += lex_left_trim_length(l, l->pos);
    lex_ignore(l);
  }
  return LS_TEXT;
}

static enum lstate lex_space(struct lexer *l)
{
  size_t spaces = 0;
  while (lex_is_space(lex_peek(l))) {
    (void)lex_next(l);
    spaces++;
  }
  /* a trim-marked closing delimiter has a minus after a space */
  if (lex_right_trim_marker(l, l->pos - 1) && lex_has_prefix(l, l->pos + 1, "}}")) {
    l->pos--;
    if (spaces == 1)
      return lex_right_delim(l);
  }
  return lex_emit(l, I_SPACE);
}

static bool lex_at_terminator(struct lexer *l)
{
  uint32_t r = lex_peek(l);
  if (lex_is_space(r))
    return true;
  switch (r) {
  case RUNE_EOF: case '.': case ',': case '|': case ':': case ')': case '(': case '}':
    return true;
  default:
    return false;
  }
}

static const struct {
  const char *word;
  enum item_type type;
} lex_keywords[] = {
    {"block", I_BLOCK}, {"break", I_BREAK}, {"continue", I_CONTINUE}, {"define", I_DEFINE},
    {"else", I_ELSE},   {"end", I_END},     {"if", I_IF},             {"range", I_RANGE},
    {"nil", I_NIL},     {"template", I_TEMPLATE}, {"with", I_WITH},
};

static enum lstate lex_identifier(struct lexer *l)
{
  uint32_t r;
  size_t n;
  const char *word = l->in + l->start;
  while (lex_is_alnum(r = lex_next(l)))
    ;
  lex_backup(l);
  if (!lex_at_terminator(l))
    return lex_bad_char(l, "bad character ", r);
  n = l->pos - l->start;
  for (size_t i = 0; i < sizeof(lex_keywords) / sizeof(lex_keywords[0]); i++)
    if (strlen(lex_keywords[i].word) == n && memcmp(lex_keywords[i].word, word, n) == 0)
      return lex_emit(l, lex_keywords[i].type);
  if ((n == 4 && memcmp(word, "true", 4) == 0) || (n == 5 && memcmp(word, "false", 5) == 0))
    return lex_emit(l, I_BOOL);
  return lex_emit(l, I_IDENT);
}

static enum lstate lex_field_or_variable(struct lexer *l, enum item_type t)
{
  uint32_t r;
  if (lex_at_terminator(l))
    return lex_emit(l, t == I_VARIABLE ? I_VARIABLE : I_DOT);
  while (lex_is_alnum(r = lex_next(l)))
    ;
  lex_backup(l);
  if (!lex_at_terminator(l))
    return lex_bad_char(l, "bad character ", r);
  return lex_emit(l, t);
}

static enum lstate lex_quoted(struct lexer *l, char quote, const char *what)
{
  for (;;) {
    uint32_t r = lex_next(l);
    if (r == '\\') {
      r = lex_next(l);
      if (r != RUNE_EOF && r != '\n')
        continue;
    }
    if (r == RUNE_EOF || r == '\n')
      return lex_errorf(l, "%s", what);
    if (r == (uint32_t)quote)
      break;
  }
  return lex_emit(l, quote == '"' ? I_STRING : I_CHARCONST);
}

static enum lstate lex_raw_quote(struct lexer *l)
{
  for (;;) {
    uint32_t r = lex_next(l);
    if (r == RUNE_EOF)
      return lex_errorf(l, "unterminated raw quoted string");
    if (r == '`')
      break;
  }
  return lex_emit(l, I_RAWSTRING);
}

static bool lex_scan_number(struct lexer *l)
{
  const char *digits = "0123456789_";
  (void)lex_accept(l, "+-");
  if (lex_accept(l, "0")) {
    if (lex_accept(l, "xX"))
      digits = "0123456789abcdefABCDEF_";
    else if (lex_accept(l, "oO"))
      digits = "01234567_";
    else if (lex_accept(l, "bB"))
      digits = "01_";
  }
  lex_accept_run(l, digits);
  if (lex_accept(l, "."))
    lex_accept_run(l, digits);
  if (strlen(digits) == 11 && lex_accept(l, "eE")) {
    (void)lex_accept(l, "+-");
    lex_accept_run(l, "0123456789_");
  }
  if (strlen(digits) == 23 && lex_accept(l, "pP")) {
    (void)lex_accept(l, "+-");
    lex_accept_run(l, "0123456789_");
  }
  (void)lex_accept(l, "i");
  if (lex_is_alnum(lex_peek(l))) {
    (void)lex_next(l);
    return false;
  }
  return true;
}

static enum lstate lex_bad_number(struct lexer *l)
{
  struct buf b = {0};
  tpl_buf_adds(&b, "bad number syntax: ");
  tpl_go_quote(&b, l->in + l->start, l->pos - l->start, false);
  return lex_error(l, &b);
}

static enum lstate lex_number(struct lexer *l)
{
  uint32_t sign;
  if (!lex_scan_number(l))
    return lex_bad_number(l);
  sign = lex_peek(l);
  if (sign == '+' || sign == '-') {
    /* complex: 1+2i, no spaces, must end in 'i' */
    if (!lex_scan_number(l) || l->in[l->pos - 1] != 'i')
      return lex_bad_number(l);
    return lex_emit(l, I_COMPLEX);
  }
  return lex_emit(l, I_NUMBER);
}

static enum lstate lex_inside(struct lexer *l)
{
  bool delim, trim;
  uint32_t r;
  lex_at_right_delim(l, &delim, &trim);
  if (delim) {
    if (l->paren_depth == 0)
      return lex_right_delim(l);
    return lex_errorf(l, "unclosed left paren");
  }
  r = lex_next(l);
  if (r == RUNE_EOF)
    return lex_errorf(l, "unclosed action");
  if (lex_is_space(r)) {
    lex_backup(l);
    return lex_space(l);
  }
  switch (r) {
  case '=':
    return lex_emit(l, I_ASSIGN);
  case ':':
    if (lex_next(l) != '=')
      return lex_errorf(l, "expected :=");
    return lex_emit(l, I_DECLARE);
  case '|':
    return lex_emit(l, I_PIPE);
  case '"':
    return lex_quoted(l, '"', "unterminated quoted string");
  case '`':
    return lex_raw_quote(l);
  case '$':
    return lex_field_or_variable(l, I_VARIABLE);
  case '\'':
    return lex_quoted(l, '\'', "unterminated character constant");
  case '.':
    if (l->pos < l->n && (l->in[l->pos] < '0' || l->in[l->pos] > '9'))
      return lex_field_or_variable(l, I_FIELD);
    lex_backup(l);
    return lex_number(l);
  case '(':
    l->paren_depth++;
    return lex_emit(l, I_LPAREN);
  case ')':
    l->paren_depth--;
    if (l->paren_depth < 0)
      return lex_errorf(l, "unexpected right paren");
    return lex_emit(l, I_RPAREN);
  default:
    break;
  }
  if (r == '+' || r == '-' || (r >= '0' && r <= '9')) {
    lex_backup(l);
    return lex_number(l);
  }
  if (lex_is_alnum(r)) {
    lex_backup(l);
    return lex_identifier(l);
  }
  if (r >= 0x20 && r < 0x7f)
    return lex_emit(l, I_CHAR);
  return lex_bad_char(l, "unrecognized character in action: ", r);
}

void tpl_lex_run(struct lexer *l)
{
  enum lstate st = LS_TEXT;
  l->line = 1;
  while (st != LS_DONE)
    st = st == LS_TEXT ? lex_text(l) : lex_inside(l);
}

void tpl_lex_free(struct lexer *l)
{
  free(l->items);
  free(l->msg);
}
