/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef BERTH_BASE_RANDOM_H
#define BERTH_BASE_RANDOM_H

#include <stddef.h>

/* size - 1 random lower-case hex digits (getrandom) and a NUL: ids, names. */
void berth_random_hex(char *out, size_t size);

#endif
