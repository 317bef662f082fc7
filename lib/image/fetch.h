/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Download a URL into a file descriptor (`import URL`). */
#ifndef BERTH_FETCH_H
#define BERTH_FETCH_H

#include <berth/error.h>

/* GET an http or https URL (following redirects) and write the body to out_fd. */
int berth_fetch_url(const char *url, int out_fd, berth_error_t *err);

#endif
