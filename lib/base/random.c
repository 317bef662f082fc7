/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Random ids, apart from digest.c (libcrypto) so that the monitor links it. */
#include <stdlib.h>
#include <sys/random.h>

#include "base/random.h"

void berth_random_hex(char *out, size_t size)
{
  unsigned char raw[64];
  size_t n = size / 2 + 1;
  if (size == 0)
    return;
  if (n > sizeof raw || getrandom(raw, n, 0) != (ssize_t)n)
    abort();
  for (size_t i = 0; i + 1 < size; i++)
    out[i] = "0123456789abcdef"[(raw[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
  out[size - 1] = '\0';
}
