/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the files of lib/registry. */
#ifndef BERTH_REGISTRY_INTERNAL_H
#define BERTH_REGISTRY_INTERNAL_H

#include <stddef.h>

/* Standard base64 with padding; caller frees. */
char *berth_base64_encode(const void *data, size_t len);
/* NULL on invalid input; *ret_len gets the decoded length (a NUL follows). */
char *berth_base64_decode(const char *s, size_t *ret_len);

#endif
