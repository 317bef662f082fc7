/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef BERTH_STORE_INTERNAL_H
#define BERTH_STORE_INTERNAL_H
#include <sys/file.h>
#include "store/store.h"
/* containers.c: drop name links whose container does not exist. */
void berth_container_store_clean_names(struct berth_store *s);
#endif
