/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JSON helpers on top of jansson: strict loading with clear errors, atomic dumps. */
#ifndef BERTH_JSON_H
#define BERTH_JSON_H

#include <stddef.h>

#include <jansson.h>

#include <berth/error.h>

#include "base/cleanup.h"

static inline void berth_json_decrefp(json_t **j) { json_decref(*j); }
#define cleanup_json __attribute__((cleanup(berth_json_decrefp)))

/* Parse untrusted JSON: rejects duplicate keys, limits depth by jansson's own cap.
 * `what` names the document in the error. */
json_t *berth_json_loadb(const char *buf, size_t len, const char *what, berth_error_t *err);
json_t *berth_json_load_at(int dirfd, const char *path, berth_error_t *err);
/* Serialise compactly with sorted keys; caller frees. */
char *berth_json_dumps(const json_t *j);
int berth_json_write_atomic(int dirfd, const char *name, const json_t *j, berth_error_t *err);
/* berth_write_file_replace of the document: atomic, not durable. */
int berth_json_write_replace(int dirfd, const char *name, const json_t *j, berth_error_t *err);
/* Typed getters: NULL / default when absent or of another type. */
const char *berth_json_str(const json_t *obj, const char *key);
/* A NULL-terminated list of strings (may be NULL) as a JSON array. */
json_t *berth_json_strv(char *const *v);
/* Set "K=V" in the array env, replacing an entry with the same key; a bare
 * "K" removes it (moby's ReplaceOrAppendEnvValues). */
void berth_json_env_set(json_t *env, const char *kv);
json_int_t berth_json_int(const json_t *obj, const char *key, json_int_t dflt);

#endif
