/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Growable byte buffers (struct buf) and the arena the parse tree lives in
 * (struct arena), for the template engine (template-internal.h). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template-internal.h"
#include "base/units.h"

void tpl_buf_reserve(struct buf *b, size_t extra)
{
  size_t need, c;
  if (extra > SIZE_MAX - b->len - 1)
    abort();
  need = b->len + extra + 1;
  if (need <= b->cap)
    return;
  c = b->cap ? b->cap : 64;
  while (c < need)
    c = c > SIZE_MAX / 2 ? need : c * 2;
  b->p = realloc(b->p, c);
  if (!b->p)
    abort();
  b->cap = c;
}

void tpl_buf_add(struct buf *b, const void *s, size_t n)
{
  tpl_buf_reserve(b, n);
  if (n)
    memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void tpl_buf_adds(struct buf *b, const char *s)
{
  tpl_buf_add(b, s, strlen(s));
}

void tpl_buf_addc(struct buf *b, char c)
{
  tpl_buf_add(b, &c, 1);
}

void tpl_buf_addn(struct buf *b, char c, size_t n)
{
  tpl_buf_reserve(b, n);
  memset(b->p + b->len, c, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void tpl_buf_addf(struct buf *b, const char *fmt, ...)
{
  char small[256];
  va_list ap;
  int n;
  /* one pass for the usual short piece; a measured second one otherwise */
  va_start(ap, fmt);
  n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    abort();
  tpl_buf_reserve(b, (size_t)n);
  if ((size_t)n < sizeof small) {
    memcpy(b->p + b->len, small, (size_t)n + 1);
  } else {
    va_start(ap, fmt);
    (void)vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  b->len += (size_t)n;
}

/* tpl_buf_addf in the "C" locale, for floating point. */
void tpl_buf_addf_c(struct buf *b, const char *fmt, ...)
{
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = berth_vsnprintf_c(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    abort();
  tpl_buf_reserve(b, (size_t)n);
  va_start(ap, fmt);
  (void)berth_vsnprintf_c(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void tpl_buf_free(struct buf *b)
{
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

/* Make b->p a NUL-terminated string, even when nothing was added. */
void tpl_buf_terminate(struct buf *b)
{
  tpl_buf_reserve(b, 0);
  b->p[b->len] = '\0';
}

char *tpl_buf_steal(struct buf *b)
{
  char *p;
  tpl_buf_terminate(b);
  p = b->p;
  b->p = NULL;
  b->len = b->cap = 0;
  return p;
}

struct chunk {
  struct chunk *next;
  size_t used, size;
  max_align_t data[];
};

void *tpl_arena_alloc(struct arena *a, size_t n)
{
  void *p;
  n = (n + 15) & ~(size_t)15;
  if (!a->head || a->head->size - a->head->used < n) {
    size_t sz = n > 8192 ? n : 8192;
    struct chunk *c = malloc(sizeof(*c) + sz);
    if (!c)
      abort();
    c->size = sz;
    c->used = 0;
    c->next = a->head;
    a->head = c;
  }
  p = (char *)a->head->data + a->head->used;
  a->head->used += n;
  memset(p, 0, n);
  return p;
}

char *tpl_arena_strndup(struct arena *a, const char *s, size_t n)
{
  char *p = tpl_arena_alloc(a, n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void tpl_arena_free(struct arena *a)
{
  while (a->head) {
    struct chunk *next = a->head->next;
    free(a->head);
    a->head = next;
  }
}
