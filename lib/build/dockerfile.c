/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Dockerfile parser (see dockerfile.h): BuildKit's rules.
 *
 * - Parser directives (# syntax=, # escape=, # check=) only before anything
 *   else: the first line that is not a known directive ends them; each at
 *   most once.
 * - Blank lines and comment lines (first non-blank character '#') are
 *   skipped, also between the continuation lines of an instruction.
 * - A line ending in the escape character (blanks after it allowed)
 *   continues on the next one; the escape character goes, the rest is kept.
 * - RUN, COPY and ADD take here-documents: <<WORD, <<-WORD (leading tabs
 *   stripped), <<"WORD" / <<'WORD' (no expansion); their bodies follow the
 *   instruction, in order, each up to a line that is its word.
 * - Leading --name[=value] words are builder flags (quotes in them go).
 * - Arguments that form a JSON array of strings are the exec form. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "build/dockerfile.h"

static const char *const instructions[] = {"add",     "arg",       "cmd",   "copy",       "entrypoint", "env",
                                           "expose",  "from",      "healthcheck", "label", "maintainer", "onbuild",
                                           "run",     "shell",     "stopsignal", "user", "volume",     "workdir",
                                           NULL};

struct line {
  const char *s;
  size_t len;
};

struct parser {
  struct line *lines;
  size_t n_lines;
  size_t i; /* next line */
  struct berth_dockerfile *df;
  berth_error_t *err;
};

static int parse_error(struct parser *p, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int parse_error(struct parser *p, unsigned line, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return berth_error_set_plain(p->err, EINVAL, "dockerfile parse error on line %u: %s", line, msg);
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static char *dup_n(const char *s, size_t n)
{
  char *d = strndup(s, n);
  if (!d)
    abort();
  return d;
}

/* ---- lines ---- */

static void split_lines(const char *text, size_t len, struct parser *p)
{
  size_t cap = 16;
  p->lines = malloc(cap * sizeof *p->lines);
  if (!p->lines)
    abort();
  /* a UTF-8 byte order mark is not part of the first line */
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
    text += 3;
    len -= 3;
  }
  for (size_t start = 0; start < len;) {
    const char *nl = memchr(text + start, '\n', len - start);
    size_t end = nl ? (size_t)(nl - text) : len, l = end - start;
    if (l && text[start + l - 1] == '\r')
      l--;
    if (p->n_lines == cap) {
      cap *= 2;
      p->lines = realloc(p->lines, cap * sizeof *p->lines);
      if (!p->lines)
        abort();
    }
    p->lines[p->n_lines++] = (struct line){text + start, l};
    start = end + 1;
  }
}

static struct line trim_left(struct line l)
{
  while (l.len && is_blank(*l.s)) {
    l.s++;
    l.len--;
  }
  return l;
}

static bool is_comment_or_blank(struct line l)
{
  l = trim_left(l);
  return !l.len || l.s[0] == '#';
}

/* ---- directives ---- */

static int directives(struct parser *p)
{
  bool seen_escape = false, seen_syntax = false, seen_check = false;
  p->df->escape = '\\';
  for (; p->i < p->n_lines; p->i++) {
    struct line l = trim_left(p->lines[p->i]);
    if (!l.len || l.s[0] != '#')
      return 0;
    /* #\s*key\s*=\s*value */
    size_t k = 1;
    while (k < l.len && is_blank(l.s[k]))
      k++;
    size_t key = k;
    while (k < l.len && (((l.s[k] | 0x20) >= 'a' && (l.s[k] | 0x20) <= 'z') || (k > key && l.s[k] >= '0' && l.s[k] <= '9')))
      k++;
    size_t key_len = k - key;
    while (k < l.len && is_blank(l.s[k]))
      k++;
    if (!key_len || k >= l.len || l.s[k] != '=')
      return 0;
    k++;
    while (k < l.len && is_blank(l.s[k]))
      k++;
    size_t vlen = l.len - k;
    while (vlen && is_blank(l.s[k + vlen - 1]))
      vlen--;
    cleanup_free char *name = dup_n(l.s + key, key_len), *value = dup_n(l.s + k, vlen);
    for (char *c = name; *c; c++)
      *c = (char)(*c | 0x20);
    unsigned line = (unsigned)p->i + 1;
    bool *seen = !strcmp(name, "escape") ? &seen_escape : !strcmp(name, "syntax") ? &seen_syntax
                                                          : !strcmp(name, "check") ? &seen_check : NULL;
    if (!seen)
      return 0; /* unknown: a comment, and the end of the directives */
    if (*seen)
      return parse_error(p, line, "only one %s parser directive can be used", name);
    *seen = true;
    if (!strcmp(name, "escape")) {
      if (strcmp(value, "\\") != 0 && strcmp(value, "`") != 0)
        return parse_error(p, line, "invalid escape token '%s' does not match ` or \\", value);
      p->df->escape = value[0];
    } else if (!strcmp(name, "syntax")) {
      p->df->syntax = steal_ptr(&value);
    }
  }
  return 0;
}

/* ---- one instruction ---- */

/* The logical line of the instruction starting at line p->i, continuation
 * lines joined (comment and blank lines between them skipped). */
static char *logical_line(struct parser *p)
{
  char esc = p->df->escape;
  char *out = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&out, &len);
  struct line l = trim_left(p->lines[p->i++]);
  for (;;) {
    size_t n = l.len;
    while (n && is_blank(l.s[n - 1]))
      n--;
    bool more = n && l.s[n - 1] == esc;
    fwrite(l.s, 1, more ? n - 1 : l.len, m);
    if (!more)
      break;
    while (p->i < p->n_lines && is_comment_or_blank(p->lines[p->i]))
      p->i++;
    if (p->i >= p->n_lines)
      break;
    l = p->lines[p->i++];
  }
  fclose(m);
  return out;
}

static void add_flag(struct berth_df_instruction *in, char *name, char *value)
{
  in->flags = realloc(in->flags, (in->n_flags + 1) * sizeof *in->flags);
  if (!in->flags)
    abort();
  in->flags[in->n_flags++] = (struct berth_df_flag){name, value};
}

/* Leading --flag words: quotes inside them are removed, the escape
 * character keeps the next one; "--" alone ends them.  Returns the rest. */
static const char *extract_flags(struct berth_df_instruction *in, const char *s, char esc)
{
  for (;;) {
    while (is_blank(*s))
      s++;
    if (strncmp(s, "--", 2) != 0)
      return s;
    if (s[2] == '\0' || is_blank(s[2]))
      return s + 2 + (s[2] != '\0');
    char *word = NULL;
    size_t wlen = 0;
    FILE *m = open_memstream(&word, &wlen);
    char quote = 0;
    const char *c = s + 2;
    for (; *c && (quote || !is_blank(*c)); c++) {
      if (quote && *c == quote)
        quote = 0;
      else if (!quote && (*c == '"' || *c == '\''))
        quote = *c;
      else if (*c == esc && c[1])
        fputc(*++c, m);
      else
        fputc(*c, m);
    }
    fclose(m);
    s = c;
    char *eq = strchr(word, '=');
    if (eq) {
      *eq = '\0';
      add_flag(in, dup_n(word, strlen(word)), dup_n(eq + 1, strlen(eq + 1)));
      free(word);
    } else {
      add_flag(in, word, NULL);
    }
  }
}

static char **json_form(const char *args)
{
  if (args[0] != '[')
    return NULL;
  json_t *j = json_loads(args, JSON_DECODE_ANY, NULL);
  if (!json_is_array(j)) {
    json_decref(j);
    return NULL;
  }
  char **out = calloc(json_array_size(j) + 1, sizeof *out);
  json_t *v;
  size_t i;
  if (!out)
    abort();
  json_array_foreach(j, i, v)
  {
    if (!json_is_string(v)) {
      berth_strv_free(out);
      json_decref(j);
      return NULL;
    }
    out[i] = dup_n(json_string_value(v), json_string_length(v));
  }
  json_decref(j);
  return out;
}

static bool takes_heredocs(const char *cmd)
{
  return !strcmp(cmd, "run") || !strcmp(cmd, "copy") || !strcmp(cmd, "add");
}

/* The here-document markers of args, in order (<<WORD, <<-WORD, quoted). */
static int heredoc_markers(struct parser *p, struct berth_df_instruction *in, unsigned line)
{
  const char *s = in->args;
  char quote = 0;
  for (; *s; s++) {
    if (quote) {
      if (*s == quote)
        quote = 0;
      continue;
    }
    if (*s == '"' || *s == '\'') {
      quote = *s;
      continue;
    }
    /* a word that starts with (an fd number and) << */
    const char *w = s;
    if (w != in->args && !is_blank(w[-1]))
      continue;
    while (*w >= '0' && *w <= '9')
      w++;
    if (strncmp(w, "<<", 2) != 0 || w[2] == '<')
      continue;
    w += 2;
    bool chomp = *w == '-';
    if (chomp)
      w++;
    char q = (*w == '"' || *w == '\'') ? *w++ : 0;
    const char *name = w;
    while (*w && !is_blank(*w) && *w != q && (q || (*w != '"' && *w != '\'')))
      w++;
    size_t n = (size_t)(w - name);
    if (q && *w != q)
      return parse_error(p, line, "unterminated quote in heredoc delimiter");
    if (!n)
      continue;
    in->heredocs = realloc(in->heredocs, (in->n_heredocs + 1) * sizeof *in->heredocs);
    if (!in->heredocs)
      abort();
    /* chomp stands in the content's place until the body is read */
    in->heredocs[in->n_heredocs++] = (struct berth_df_heredoc){dup_n(name, n), chomp ? strdup("-") : NULL, !q};
    s = q ? w : w - 1;
  }
  return 0;
}

static int heredoc_bodies(struct parser *p, struct berth_df_instruction *in, unsigned line)
{
  for (size_t h = 0; h < in->n_heredocs; h++) {
    struct berth_df_heredoc *d = &in->heredocs[h];
    bool chomp = d->content != NULL;
    free(d->content);
    char *body = NULL;
    size_t blen = 0;
    FILE *m = open_memstream(&body, &blen);
    bool closed = false;
    while (p->i < p->n_lines) {
      struct line l = p->lines[p->i++];
      if (chomp)
        while (l.len && l.s[0] == '\t') {
          l.s++;
          l.len--;
        }
      if (l.len == strlen(d->name) && memcmp(l.s, d->name, l.len) == 0) {
        closed = true;
        break;
      }
      fwrite(l.s, 1, l.len, m);
      fputc('\n', m);
    }
    fclose(m);
    d->content = body;
    if (!closed)
      return parse_error(p, line, "unterminated heredoc %s", d->name);
  }
  return 0;
}

static int instruction(struct parser *p)
{
  unsigned line = (unsigned)p->i + 1;
  cleanup_free char *text = logical_line(p);
  struct berth_dockerfile *df = p->df;
  size_t wlen = strcspn(text, " \t");
  df->ins = realloc(df->ins, (df->n + 1) * sizeof *df->ins);
  if (!df->ins)
    abort();
  struct berth_df_instruction *in = &df->ins[df->n++];
  *in = (struct berth_df_instruction){.cmd = dup_n(text, wlen), .line = line};
  for (char *c = in->cmd; *c; c++)
    *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
  bool known = false;
  for (const char *const *k = instructions; *k; k++)
    known |= !strcmp(*k, in->cmd);
  if (!known)
    return parse_error(p, line, "unknown instruction: %.*s", (int)wlen, text);
  const char *rest = extract_flags(in, text + wlen, df->escape);
  size_t rlen = strlen(rest);
  while (rlen && is_blank(rest[rlen - 1]))
    rlen--;
  in->args = dup_n(rest, rlen);
  in->original = steal_ptr(&text);
  if (takes_heredocs(in->cmd) && (heredoc_markers(p, in, line) < 0 || heredoc_bodies(p, in, line) < 0))
    return -1;
  in->json = json_form(in->args);
  if (!*in->args && !in->n_heredocs) {
    char upper[16];
    snprintf(upper, sizeof upper, "%s", in->cmd);
    for (char *c = upper; *c; c++)
      *c = (char)(*c - 32);
    return parse_error(p, line, "%s requires at least one argument", upper);
  }
  return 0;
}

int berth_dockerfile_parse(const char *text, size_t len, struct berth_dockerfile **ret, berth_error_t *err)
{
  struct parser p = {.err = err};
  p.df = calloc(1, sizeof *p.df);
  if (!p.df)
    abort();
  split_lines(text, len, &p);
  int r = directives(&p);
  while (r == 0 && p.i < p.n_lines) {
    if (is_comment_or_blank(p.lines[p.i])) {
      p.i++;
      continue;
    }
    r = instruction(&p);
  }
  free(p.lines);
  if (r == 0 && p.df->n == 0)
    r = berth_error_set_plain(err, EINVAL, "the Dockerfile cannot be empty");
  if (r < 0) {
    berth_dockerfile_free(p.df);
    return -1;
  }
  *ret = p.df;
  return 0;
}

void berth_dockerfile_free(struct berth_dockerfile *df)
{
  if (!df)
    return;
  for (size_t i = 0; i < df->n; i++) {
    struct berth_df_instruction *in = &df->ins[i];
    free(in->cmd);
    free(in->original);
    free(in->args);
    berth_strv_free(in->json);
    for (size_t k = 0; k < in->n_flags; k++) {
      free(in->flags[k].name);
      free(in->flags[k].value);
    }
    free(in->flags);
    for (size_t k = 0; k < in->n_heredocs; k++) {
      free(in->heredocs[k].name);
      free(in->heredocs[k].content);
    }
    free(in->heredocs);
  }
  free(df->ins);
  free(df->syntax);
  free(df);
}

const struct berth_df_flag *berth_df_flag(const struct berth_df_instruction *in, const char *name)
{
  const struct berth_df_flag *found = NULL;
  for (size_t i = 0; i < in->n_flags; i++)
    if (!strcmp(in->flags[i].name, name))
      found = &in->flags[i];
  return found;
}
