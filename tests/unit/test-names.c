/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/engine/names.c: docker-style random names. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/names.h"

static bool all_lower(const char *s, const char *end)
{
  if (s == end)
    return false;
  for (; s < end; s++)
    if (!islower((unsigned char)*s))
      return false;
  return true;
}

Test(names, adjective_underscore_surname)
{
  for (int i = 0; i < 200; i++) {
    char *n = berth_name_generate(0);
    const char *us = strchr(n, '_');
    cr_assert(us, "%s", n);
    cr_assert(all_lower(n, us) && all_lower(us + 1, n + strlen(n)), "%s", n);
    free(n);
  }
}

Test(names, retries_append_one_digit)
{
  for (int i = 0; i < 200; i++) {
    char *n = berth_name_generate(3);
    size_t len = strlen(n);
    cr_assert(isdigit((unsigned char)n[len - 1]) && !isdigit((unsigned char)n[len - 2]), "%s", n);
    free(n);
  }
}

Test(names, names_vary)
{
  char *a = berth_name_generate(0);
  bool differs = false;
  for (int i = 0; i < 50 && !differs; i++) {
    char *b = berth_name_generate(0);
    differs = strcmp(a, b) != 0;
    free(b);
  }
  free(a);
  cr_assert(differs);
}

Test(names, never_boring_wozniak)
{
  /* 110 x 160 pairs: a million draws all but surely hit every pair */
  for (int i = 0; i < 1000000; i++) {
    char *n = berth_name_generate(0);
    cr_assert_str_neq(n, "boring_wozniak");
    free(n);
  }
}
