/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Base images made from the host, with no registry. */
#ifndef BERTH_BOOTSTRAP_H
#define BERTH_BOOTSTRAP_H

#include "store/store.h"

int berth_bootstrap_busybox(struct berth_store *s, const char *busybox_path, const char *reference, char **ret_id,
                            berth_error_t *err);
int berth_bootstrap_debian(struct berth_store *s, const char *suite, const char *mirror, const char *reference,
                           char **ret_id, berth_error_t *err);

#endif
