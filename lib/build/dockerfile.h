/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Dockerfile language (docs.docker.com "Dockerfile reference", as
 * BuildKit's frontend parses it): parser directives, line continuations,
 * comments, here-documents, builder flags, shell and exec (JSON) forms; and
 * the word expansion the builder applies to instruction arguments
 * ($VAR, ${VAR}, ${VAR:-word}, ${VAR-word}, ${VAR:+word}, ${VAR+word},
 * ${VAR:?msg}, ${VAR?msg}, quotes and the escape character).
 *
 * Parsing is pure: text in, instructions out, no I/O.  What an instruction
 * means (stages, ARG scoping, COPY sources) is the builder's. */
#ifndef BERTH_BUILD_DOCKERFILE_H
#define BERTH_BUILD_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include <berth/error.h>

struct berth_df_heredoc {
  char *name;    /* the delimiter word */
  char *content; /* the body, every line ending in '\n' (tabs stripped for <<-) */
  bool expand;   /* an unquoted delimiter: the body gets variables expanded */
};

struct berth_df_flag {
  char *name;  /* without the leading "--" */
  char *value; /* NULL for a bare --name */
};

struct berth_df_instruction {
  char *cmd;      /* lower case: "from", "run", ... */
  char *original; /* the instruction as written, continuation lines joined */
  char *args;     /* what follows the instruction word and its flags */
  char **json;    /* the exec form when args is a JSON array of strings, else NULL */
  struct berth_df_flag *flags;
  size_t n_flags;
  struct berth_df_heredoc *heredocs;
  size_t n_heredocs;
  unsigned line; /* 1-based line of the instruction word */
};

struct berth_dockerfile {
  char escape;  /* '\\' or '`' (# escape=) */
  char *syntax; /* # syntax= value, or NULL */
  struct berth_df_instruction *ins;
  size_t n;
};

/* Parse a Dockerfile; errors are EINVAL "dockerfile parse error on line N:
 * ..." as BuildKit words them.  Free the result with berth_dockerfile_free. */
int berth_dockerfile_parse(const char *text, size_t len, struct berth_dockerfile **ret, berth_error_t *err);
void berth_dockerfile_free(struct berth_dockerfile *df);

/* The flag `name` of an instruction (its last occurrence), or NULL. */
const struct berth_df_flag *berth_df_flag(const struct berth_df_instruction *in, const char *name);

/* Expand one word: quotes removed, variables replaced from env ("K=V"
 * entries, later ones winning; NULL-terminated, may be NULL).  EINVAL with
 * the shell's words on a bad substitution or a ${VAR?msg} that fires. */
char *berth_shell_expand(const char *word, char escape, char *const *env, berth_error_t *err);
/* The same over a line split into words at unquoted blanks (an expansion's
 * value is never split); NULL-terminated, caller frees (berth_strv_free). */
char **berth_shell_words(const char *text, char escape, char *const *env, berth_error_t *err);

#endif
