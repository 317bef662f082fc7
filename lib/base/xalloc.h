/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Allocation that cannot fail: out of memory aborts, as everywhere in berth
 * where an allocation failure has no better answer. */
#ifndef BERTH_XALLOC_H
#define BERTH_XALLOC_H

#include <stdlib.h>
#include <string.h>

static inline char *xstrdup(const char *s)
{
  char *r = strdup(s);
  if (!r)
    abort();
  return r;
}

static inline void *xcalloc(size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size);
  if (!p)
    abort();
  return p;
}

static inline void *xreallocarray(void *p, size_t n, size_t size)
{
  p = reallocarray(p, n ? n : 1, size);
  if (!p)
    abort();
  return p;
}

#endif
