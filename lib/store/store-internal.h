/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef BERTH_STORE_INTERNAL_H
#define BERTH_STORE_INTERNAL_H
#include <sys/file.h>
#include "store/store.h"
#endif
