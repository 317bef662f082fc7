/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The builder: what Dockerfile instructions do to an image. */
#ifndef BERTH_BUILD_BUILD_H
#define BERTH_BUILD_BUILD_H

#include <jansson.h>

#include <berth/error.h>

#include "build/dockerfile.h"

/* What expansions see: the Dockerfile's escape character and the variables
 * in scope ("K=V", later ones winning). */
struct berth_build_env {
  char escape;
  char *const *vars;
};

/* Apply a config-only instruction (CMD, ENTRYPOINT, ENV, EXPOSE,
 * HEALTHCHECK, LABEL, ONBUILD, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR) to
 * an image's "config" object, with docker's errors. */
int berth_build_apply(json_t *cfg, const struct berth_df_instruction *in, const struct berth_build_env *env,
                      berth_error_t *err);
/* `import --change` / `commit --change`: one such instruction as text,
 * expanded with the config's Env; "X is not a valid change command" for the
 * others. */
int berth_build_apply_change(json_t *cfg, const char *change, berth_error_t *err);
/* The words of s split at unquoted blanks, quotes and escapes kept for the
 * expansion that follows (NULL-terminated, caller frees). */
char **berth_build_raw_words(const char *s, char esc);
/* An absolute, clean path ("/a/./b/../c/" -> "/a/c"); caller frees. */
char *berth_build_clean_path(const char *path);

/* .dockerignore */
struct berth_ignore;
/* The patterns of a .dockerignore text; EINVAL for a bare "!". */
struct berth_ignore *berth_ignore_parse(const char *text, berth_error_t *err);
void berth_ignore_free(struct berth_ignore *ig);
/* Is the context path (relative, "a/b") ignored? */
bool berth_ignore_matches(const struct berth_ignore *ig, const char *path);
/* Everything of the context (an fd on its directory) that is ignored, as
 * sorted relative paths; a directory ignored whole is one entry. */
char **berth_ignore_walk(const struct berth_ignore *ig, int context, berth_error_t *err);

#endif
