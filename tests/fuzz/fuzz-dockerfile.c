/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the Dockerfile parser and the builder's word expansion.
 * Every accepted Dockerfile has instructions with a known lower-case name,
 * arguments, and lines that only grow; each argument string then goes
 * through both expansions, which either succeed or say why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "build/dockerfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
  if (!ok)
    abort();
}

static void expand_all(const char *s, char escape)
{
  char *env[] = {"A=1", "EMPTY=", "SP=a b", NULL};
  berth_error_t err = NULL;
  char *w = berth_shell_expand(s, escape, env, &err);
  check(w || (err && err->msg[0]));
  free(w);
  berth_error_release(&err);
  char **words = berth_shell_words(s, escape, env, &err);
  check(words || (err && err->msg[0]));
  berth_strv_free(words);
  berth_error_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct berth_dockerfile *df = NULL;
  berth_error_t err = NULL;
  /* the expander takes C strings: stop at a NUL as a file read would not */
  cleanup_free char *text = strndup((const char *)data, size);
  if (berth_dockerfile_parse(text, strlen(text), &df, &err) < 0) {
    check(err && err->msg[0]);
    berth_error_release(&err);
    return 0;
  }
  unsigned last = 0;
  check(df->n > 0 && (df->escape == '\\' || df->escape == '`'));
  for (size_t i = 0; i < df->n; i++) {
    const struct berth_df_instruction *in = &df->ins[i];
    check(in->cmd && in->args && in->original && in->line > last);
    for (const char *c = in->cmd; *c; c++)
      check(*c >= 'a' && *c <= 'z');
    last = in->line;
    expand_all(in->args, df->escape);
    for (size_t k = 0; k < in->n_flags; k++)
      check(in->flags[k].name != NULL);
    for (size_t k = 0; k < in->n_heredocs; k++)
      check(in->heredocs[k].name[0] && in->heredocs[k].content);
  }
  berth_dockerfile_free(df);
  return 0;
}
