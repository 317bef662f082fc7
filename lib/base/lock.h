/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Advisory locks on lock files (flock), released when the fd is closed. */
#ifndef BERTH_LOCK_H
#define BERTH_LOCK_H

#include <stdbool.h>

#include <berth/error.h>

/* Open (creating) dirfd/name and take an exclusive or shared flock, waiting.
 * Returns the fd holding the lock. */
int berth_lock_at(int dirfd, const char *name, bool exclusive, berth_error_t *err);

#endif
