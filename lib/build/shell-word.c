/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The builder's word expansion (BuildKit's shell.Lex ProcessWord and
 * ProcessWords, the rules of the Dockerfile reference's "Environment
 * replacement"): single quotes keep everything, double quotes keep all but
 * $ expansions and the escapes \" \$ and \\ (with `escape` as the escape
 * character), unquoted the escape character takes the next one literally.
 * Variables: $NAME, ${NAME} and the modifiers :- - :+ + :? ?. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "build/dockerfile.h"

struct buf {
  char *s;
  size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2;
    b->s = realloc(b->s, b->cap);
    if (!b->s)
      abort();
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void buf_addc(struct buf *b, char c) { buf_add(b, &c, 1); }

static char *buf_take(struct buf *b)
{
  if (!b->s)
    buf_add(b, "", 0);
  char *s = b->s;
  *b = (struct buf){0};
  return s;
}

struct lexer {
  const char *p;
  char escape;
  char *const *env;
  berth_error_t *err;
  /* words mode: the words made so far, the one being made */
  bool words;
  char **out;
  size_t n_out;
  struct buf word;
  bool in_word;
};

static const char *lookup(char *const *env, const char *name, size_t n)
{
  const char *found = NULL;
  for (char *const *e = env; e && *e; e++)
    if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
      found = *e + n + 1;
  return found;
}

static bool is_name_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int fail(struct lexer *l, const char *msg)
{
  return berth_error_set_plain(l->err, EINVAL, "%s", msg);
}

static int process(struct lexer *l, struct buf *out, char stop);

/* After a '$': a name, or ${...}; appends the value to out. */
static int dollar(struct lexer *l, struct buf *out)
{
  if (*l->p != '{') {
    const char *name = l->p;
    while (is_name_char(*l->p))
      l->p++;
    if (l->p == name) {
      buf_addc(out, '$');
      return 0;
    }
    const char *v = lookup(l->env, name, (size_t)(l->p - name));
    if (v)
      buf_add(out, v, strlen(v));
    return 0;
  }
  l->p++;
  const char *name = l->p;
  while (is_name_char(*l->p))
    l->p++;
  size_t n = (size_t)(l->p - name);
  if (!n)
    return fail(l, *l->p ? "bad substitution" : "missing '}'");
  const char *v = lookup(l->env, name, n);
  if (*l->p == '}') {
    l->p++;
    if (v)
      buf_add(out, v, strlen(v));
    return 0;
  }
  bool colon = *l->p == ':';
  if (colon)
    l->p++;
  char mod = *l->p;
  if (!mod)
    return fail(l, "missing '}'");
  if (mod != '-' && mod != '+' && mod != '?') {
    char msg[96];
    snprintf(msg, sizeof msg, "unsupported modifier (%c) in substitution", mod ? mod : ' ');
    return fail(l, msg);
  }
  l->p++;
  /* the word after the modifier is itself expanded, up to the '}' */
  struct buf word = {0};
  bool saved_words = l->words;
  l->words = false;
  int r = process(l, &word, '}');
  l->words = saved_words;
  cleanup_free char *w = buf_take(&word);
  if (r < 0)
    return -1;
  if (*l->p != '}')
    return fail(l, "missing '}'");
  l->p++;
  bool unset = !v || (colon && !*v);
  if (mod == '-') {
    const char *s = unset ? w : v;
    buf_add(out, s, strlen(s));
  } else if (mod == '+') {
    if (!unset)
      buf_add(out, w, strlen(w));
  } else if (unset) {
    return berth_error_set_plain(l->err, EINVAL, "%.*s: %s", (int)n, name, *w ? w : "is not allowed to be unset");
  } else {
    buf_add(out, v, strlen(v));
  }
  return 0;
}

/* words mode: a blank outside quotes ends the word being made */
static void end_word(struct lexer *l)
{
  if (!l->in_word)
    return;
  l->out = realloc(l->out, (l->n_out + 2) * sizeof *l->out);
  if (!l->out)
    abort();
  l->out[l->n_out++] = buf_take(&l->word);
  l->out[l->n_out] = NULL;
  l->in_word = false;
}

static int process(struct lexer *l, struct buf *out, char stop)
{
  while (*l->p && *l->p != stop) {
    char c = *l->p++;
    if (l->words && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
      end_word(l);
      continue;
    }
    l->in_word = true;
    if (c == '\'') {
      const char *end = strchr(l->p, '\'');
      if (!end)
        return fail(l, "unexpected end of statement while looking for matching single-quote");
      buf_add(out, l->p, (size_t)(end - l->p));
      l->p = end + 1;
    } else if (c == '"') {
      for (;;) {
        char d = *l->p++;
        if (!d)
          return fail(l, "unexpected end of statement while looking for matching double-quote");
        if (d == '"')
          break;
        if (d == '$') {
          if (dollar(l, out) < 0)
            return -1;
        } else if (d == l->escape && (*l->p == '"' || *l->p == '$' || *l->p == l->escape)) {
          buf_addc(out, *l->p++);
        } else {
          buf_addc(out, d);
        }
      }
    } else if (c == '$') {
      if (dollar(l, out) < 0)
        return -1;
    } else if (c == l->escape) {
      if (*l->p)
        buf_addc(out, *l->p++);
    } else {
      buf_addc(out, c);
    }
  }
  return 0;
}

char *berth_shell_expand(const char *word, char escape, char *const *env, berth_error_t *err)
{
  struct lexer l = {.p = word, .escape = escape, .env = env, .err = err};
  struct buf out = {0};
  if (process(&l, &out, '\0') < 0) {
    free(out.s);
    return NULL;
  }
  return buf_take(&out);
}

char **berth_shell_words(const char *text, char escape, char *const *env, berth_error_t *err)
{
  struct lexer l = {.p = text, .escape = escape, .env = env, .err = err, .words = true};
  if (process(&l, &l.word, '\0') < 0) {
    free(l.word.s);
    berth_strv_free(l.out);
    return NULL;
  }
  end_word(&l);
  if (!l.out) {
    l.out = calloc(1, sizeof *l.out);
    if (!l.out)
      abort();
  }
  return l.out;
}
