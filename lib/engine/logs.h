/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the spec builder needs from logs.c. */
#ifndef BERTH_ENGINE_LOGS_H
#define BERTH_ENGINE_LOGS_H

#include <jansson.h>

/* The "attrs" docker's json-file driver adds to every entry (its
 * ExtraAttributes): the container labels named by the log-opt labels= (comma
 * list) or matched by labels-regex=, and the environment variables named by
 * env= or matched by env-regex=.  Compact JSON with sorted keys, or NULL when
 * there are none (or a regex does not compile). */
char *berth_log_attrs_json(const json_t *log_opts, const json_t *labels, const json_t *env);

#endif
