/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the builder's files (builder.c: stages, steps and the cache;
 * build-copy.c: COPY and ADD; build-run.c: RUN) share. */
#ifndef BERTH_BUILD_INTERNAL_H
#define BERTH_BUILD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include <berth/engine.h>

#include "base/digest.h"
#include "build/build.h"
#include "engine/engine-internal.h"

struct stage {
  const char *name; /* AS name, or NULL */
  size_t first, end; /* its instructions: [first, end), first is the FROM */
  char *image_id;    /* its result once built */
  bool needed;
};

struct builder {
  struct berth_engine *e;
  const struct berth_build_opts *opts;
  struct berth_dockerfile *df;
  struct stage *stages;
  size_t n_stages;
  int context; /* O_PATH directory fd of the context, -1 without one */
  char **ignored; /* what .dockerignore leaves out of it: sorted relative paths */
  char **meta_args; /* ARGs before the first FROM, "K=V" */
  json_t *used_args; /* build args some ARG consumed */
  unsigned step, steps;
  FILE *out;
  /* the compact terminal view: a line a step, rewritten when it ends; a
   * RUN's output kept and shown only when it fails */
  bool tty;
  char *line;       /* the step's line */
  int64_t started;  /* when the step began, ns */
  bool cached;      /* the step came from the cache */
  char *captured;   /* a RUN's output */
  size_t captured_len;
  FILE *capture;
  /* the stage being built */
  json_t *image;  /* its current image config (docker's image JSON) */
  char *id;       /* its current image id, NULL for scratch */
  char **args;    /* its ARGs in scope, "K=V" */
};

/* The root COPY --from reads: an earlier stage's image or any image, as a
 * container's read-only view (created, never started; removed after). */
struct from_root {
  char *ctr;
  struct berth_ctr c;
  struct berth_ctr_rootfs root;
};

/* builder.c */
void bld_say(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *bld_short_id(const char *id);
void bld_strv_push(char ***v, char *s);
const char *bld_strv_get(char *const *v, const char *name);
char **bld_scope_vars(struct builder *b);
char *bld_cache_key(struct builder *b, const char *what, const char *extra);
bool bld_cache_hit(struct builder *b, const char *key);
void bld_cache_put(struct builder *b, const char *key);
int bld_register_step(struct builder *b, const char *created_by, const char *diff_id, berth_error_t *err);
int bld_use_image(struct builder *b, const char *id, berth_error_t *err);

/* build-copy.c */
int bld_copy_step(struct builder *b, const struct berth_df_instruction *in, bool add, berth_error_t *err);
int bld_hash_tree(int fd, const char *name, char *const *ignored, const char *rel, struct berth_sha256 *h,
                  berth_error_t *err);
bool bld_is_ignored(char *const *ignored, const char *rel);
char *bld_context_path(const char *src, berth_error_t *err);
int bld_open_from(struct builder *b, const char *from, struct from_root *fr, berth_error_t *err);
void bld_close_from(struct builder *b, struct from_root *fr);

/* build-run.c */
int bld_run_step(struct builder *b, const struct berth_df_instruction *in, berth_error_t *err);

#endif
