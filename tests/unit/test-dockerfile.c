/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Dockerfile parser and the builder's word expansion, against the
 * Dockerfile reference's examples and BuildKit's parser tests. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "build/build.h"
#include "build/dockerfile.h"

static struct berth_dockerfile *parse_ok(const char *text)
{
  struct berth_dockerfile *df = NULL;
  berth_error_t err = NULL;
  int r = berth_dockerfile_parse(text, strlen(text), &df, &err);
  cr_assert_eq(r, 0, "parse failed: %s", err ? err->msg : "");
  return df;
}

static void parse_fails(const char *text, const char *want)
{
  struct berth_dockerfile *df = NULL;
  berth_error_t err = NULL;
  cr_assert_eq(berth_dockerfile_parse(text, strlen(text), &df, &err), -1, "parsed: %s", text);
  cr_assert_str_eq(err->msg, want);
  berth_error_release(&err);
}

Test(dockerfile, instructions_comments_and_continuations)
{
  struct berth_dockerfile *df = parse_ok("# a comment\n"
                                         "\n"
                                         "from busybox AS base\n"
                                         "RUN echo one \\\n"
                                         "# a comment inside\n"
                                         "\n"
                                         "    two\n"
                                         "  CMD [\"sh\", \"-c\", \"echo hi\"]\r\n"
                                         "ENV A=1 B=\"two words\"\n");
  cr_assert_eq(df->n, 4);
  cr_assert_eq(df->escape, '\\');
  cr_assert_str_eq(df->ins[0].cmd, "from");
  cr_assert_str_eq(df->ins[0].args, "busybox AS base");
  cr_assert_eq(df->ins[0].line, 3);
  cr_assert_str_eq(df->ins[1].cmd, "run");
  cr_assert_str_eq(df->ins[1].args, "echo one     two");
  cr_assert_null(df->ins[1].json);
  cr_assert_eq(df->ins[2].line, 8);
  cr_assert_not_null(df->ins[2].json);
  cr_assert_str_eq(df->ins[2].json[2], "echo hi");
  cr_assert_null(df->ins[2].json[3]);
  cr_assert_str_eq(df->ins[3].original, "ENV A=1 B=\"two words\"");
  berth_dockerfile_free(df);
}

Test(dockerfile, directives)
{
  struct berth_dockerfile *df = parse_ok("# syntax=docker/dockerfile:1\n# ESCAPE = `\nFROM x\nRUN a `\n b\n");
  cr_assert_eq(df->escape, '`');
  cr_assert_str_eq(df->syntax, "docker/dockerfile:1");
  cr_assert_str_eq(df->ins[1].args, "a  b");
  berth_dockerfile_free(df);
  /* after a comment (or an unknown directive) they are comments */
  df = parse_ok("# hello\n# escape=`\nFROM x\nRUN a \\\n b\n");
  cr_assert_eq(df->escape, '\\');
  berth_dockerfile_free(df);
  df = parse_ok("# unknown=1\n# escape=`\nFROM x\n");
  cr_assert_eq(df->escape, '\\');
  berth_dockerfile_free(df);
  parse_fails("# escape=\\\n# escape=`\nFROM x\n", "dockerfile parse error on line 2: only one escape parser directive can be used");
  parse_fails("# escape=x\nFROM x\n", "dockerfile parse error on line 1: invalid escape token 'x' does not match ` or \\");
}

Test(dockerfile, flags_and_json)
{
  struct berth_dockerfile *df = parse_ok("FROM --platform=linux/amd64 x\n"
                                         "COPY --from=build --chown=1:2 --link [\"a b\", \"/c\"]\n"
                                         "RUN --mount=type=bind,source=\"a b\",target=/x --network=none -- ls\n"
                                         "RUN [not json\n");
  cr_assert_str_eq(berth_df_flag(&df->ins[0], "platform")->value, "linux/amd64");
  cr_assert_str_eq(df->ins[0].args, "x");
  cr_assert_str_eq(berth_df_flag(&df->ins[1], "from")->value, "build");
  cr_assert_null(berth_df_flag(&df->ins[1], "link")->value);
  cr_assert_str_eq(df->ins[1].json[0], "a b");
  cr_assert_str_eq(berth_df_flag(&df->ins[2], "mount")->value, "type=bind,source=a b,target=/x");
  cr_assert_str_eq(berth_df_flag(&df->ins[2], "network")->value, "none");
  cr_assert_str_eq(df->ins[2].args, "ls");
  cr_assert_null(df->ins[3].json);
  cr_assert_str_eq(df->ins[3].args, "[not json");
  berth_dockerfile_free(df);
}

Test(dockerfile, heredocs)
{
  struct berth_dockerfile *df = parse_ok("FROM x\n"
                                         "RUN <<EOF\n"
                                         "echo $HOME\n"
                                         "# not a comment here\n"
                                         "EOF\n"
                                         "COPY <<-\"A\" <<B /dst/\n"
                                         "\t\tliteral $X\n"
                                         "\tA\n"
                                         "second\n"
                                         "B\n"
                                         "RUN cat <<'Q' > /f && echo 2<<<x\n"
                                         "q\n"
                                         "Q\n"
                                         "CMD true\n");
  cr_assert_eq(df->n, 5);
  cr_assert_eq(df->ins[1].n_heredocs, 1);
  cr_assert_str_eq(df->ins[1].heredocs[0].name, "EOF");
  cr_assert_str_eq(df->ins[1].heredocs[0].content, "echo $HOME\n# not a comment here\n");
  cr_assert(df->ins[1].heredocs[0].expand);
  cr_assert_eq(df->ins[2].n_heredocs, 2);
  cr_assert_str_eq(df->ins[2].heredocs[0].content, "literal $X\n");
  cr_assert_not(df->ins[2].heredocs[0].expand);
  cr_assert_str_eq(df->ins[2].heredocs[1].content, "second\n");
  cr_assert_eq(df->ins[3].n_heredocs, 1);
  cr_assert_str_eq(df->ins[3].heredocs[0].content, "q\n");
  cr_assert_eq(df->ins[4].line, 14);
  berth_dockerfile_free(df);
  parse_fails("FROM x\nRUN <<EOF\nnever closed\n", "dockerfile parse error on line 2: unterminated heredoc EOF");
}

Test(dockerfile, errors_name_the_line)
{
  parse_fails("FROM x\n\nFOO bar\n", "dockerfile parse error on line 3: unknown instruction: FOO");
  parse_fails("FROM x\nRUN\n", "dockerfile parse error on line 2: RUN requires at least one argument");
  parse_fails("# only a comment\n\n", "the Dockerfile cannot be empty");
  parse_fails("", "the Dockerfile cannot be empty");
}

static char *expand(const char *w, char *const *env)
{
  berth_error_t err = NULL;
  char *s = berth_shell_expand(w, '\\', env, &err);
  cr_assert_not_null(s, "expand %s: %s", w, err ? err->msg : "");
  return s;
}

Test(shell_word, expansion_rules)
{
  char *env[] = {"A=aa", "EMPTY=", "SP=x y", "A=override", NULL};
  static const char *const cases[][2] = {
      {"$A", "override"},
      {"${A}b", "overrideb"},
      {"pre$A.post", "preoverride.post"},
      {"'$A'", "$A"},
      {"\"$A $SP\"", "override x y"},
      {"\\$A", "$A"},
      {"\"\\$A \\\" \\x\"", "$A \" \\x"},
      {"${UNSET:-def}", "def"},
      {"${EMPTY:-def}", "def"},
      {"${EMPTY-def}", ""},
      {"${UNSET-def}", "def"},
      {"${A:+alt}", "alt"},
      {"${EMPTY:+alt}", ""},
      {"${EMPTY+alt}", "alt"},
      {"${UNSET:-${A}x}", "overridex"},
      {"${UNSET:-'q'}", "q"},
      {"$", "$"},
      {"a$-b", "a$-b"},
      {"$UNSET", ""},
      {"no\\ space", "no space"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cleanup_free char *got = expand(cases[i][0], env);
    cr_expect_str_eq(got, cases[i][1], "%s", cases[i][0]);
  }
}

Test(shell_word, errors)
{
  char *env[] = {"EMPTY=", NULL};
  static const char *const cases[][2] = {
      {"${EMPTY:?must be set}", "EMPTY: must be set"},
      {"${UNSET?}", "UNSET: is not allowed to be unset"},
      {"${A%b}", "unsupported modifier (%) in substitution"},
      {"${}", "bad substitution"},
      {"${A", "missing '}'"},
      {"'open", "unexpected end of statement while looking for matching single-quote"},
      {"\"open", "unexpected end of statement while looking for matching double-quote"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    berth_error_t err = NULL;
    cr_expect_null(berth_shell_expand(cases[i][0], '\\', env, &err), "%s", cases[i][0]);
    cr_expect_str_eq(err ? err->msg : "", cases[i][1], "%s", cases[i][0]);
    berth_error_release(&err);
  }
  /* ${EMPTY?} is set: no error */
  cleanup_free char *ok = expand("${EMPTY?x}", env);
  cr_assert_str_eq(ok, "");
}

Test(shell_word, words)
{
  char *env[] = {"SP=x y", NULL};
  berth_error_t err = NULL;
  cleanup_strv char **w = berth_shell_words("  a \"b c\" '' $SP d\\ e `x", '\\', env, &err);
  cr_assert_not_null(w);
  const char *want[] = {"a", "b c", "", "x y", "d e", "`x", NULL};
  for (size_t i = 0; want[i]; i++)
    cr_expect_str_eq(w[i], want[i]);
  cr_assert_null(w[6]);
  /* the backtick as escape character */
  cleanup_strv char **b = berth_shell_words("C:\\dir `$SP", '`', env, &err);
  cr_assert_str_eq(b[0], "C:\\dir");
  cr_assert_str_eq(b[1], "$SP");
}

static json_t *apply(const char *const *changes)
{
  json_t *cfg = json_pack("{s:[s]}", "Env", "HOME=/root");
  for (size_t i = 0; changes[i]; i++) {
    berth_error_t err = NULL;
    cr_assert_eq(berth_build_apply_change(cfg, changes[i], &err), 0, "%s: %s", changes[i], err ? err->msg : "");
  }
  return cfg;
}

Test(config_edit, changes_as_docker_applies_them)
{
  const char *const changes[] = {"ENV A=1 B=${A:-unset} C=\"$HOME x\"",
                                 "env D from $A",
                                 "LABEL \"k k\"=v x=$B",
                                 "CMD echo $HOME",
                                 "ENTRYPOINT [\"/e\"]",
                                 "WORKDIR /a/b",
                                 "WORKDIR ../c/./d/",
                                 "EXPOSE 80 53/UDP 1000-1001",
                                 "USER ${A}:0",
                                 "VOLUME /v $HOME",
                                 "HEALTHCHECK --interval=5s --retries=3 CMD [\"true\"]",
                                 "ONBUILD RUN echo hi",
                                 NULL};
  cleanup_json json_t *cfg = apply(changes);
  cleanup_free char *got = json_dumps(cfg, JSON_SORT_KEYS | JSON_COMPACT);
  cr_assert_str_eq(got, "{\"Cmd\":[\"/bin/sh\",\"-c\",\"echo $HOME\"],\"Entrypoint\":[\"/e\"],"
                        "\"Env\":[\"HOME=/root\",\"A=1\",\"B=unset\",\"C=/root x\",\"D=from 1\"],"
                        "\"ExposedPorts\":{\"1000/tcp\":{},\"1001/tcp\":{},\"53/udp\":{},\"80/tcp\":{}},"
                        "\"Healthcheck\":{\"Interval\":5000000000,\"Retries\":3,\"Test\":[\"CMD\",\"true\"]},"
                        "\"Labels\":{\"k k\":\"v\",\"x\":\"unset\"},\"OnBuild\":[\"RUN echo hi\"],"
                        "\"User\":\"1:0\",\"Volumes\":{\"/root\":{},\"/v\":{}},"
                        "\"WorkingDir\":\"/a/c/d\"}");
}

Test(config_edit, shell_sets_the_shell_form)
{
  struct berth_dockerfile *df = parse_ok("SHELL [\"/bin/bash\", \"-c\"]\nCMD echo hi\nSHELL echo\n");
  cleanup_json json_t *cfg = json_object();
  struct berth_build_env env = {.escape = '\\'};
  berth_error_t err = NULL;
  cr_assert_eq(berth_build_apply(cfg, &df->ins[0], &env, &err), 0);
  cr_assert_eq(berth_build_apply(cfg, &df->ins[1], &env, &err), 0);
  cleanup_free char *got = json_dumps(json_object_get(cfg, "Cmd"), JSON_COMPACT);
  cr_assert_str_eq(got, "[\"/bin/bash\",\"-c\",\"echo hi\"]");
  cr_assert_eq(berth_build_apply(cfg, &df->ins[2], &env, &err), -1);
  cr_assert_str_eq(err->msg, "SHELL requires the arguments to be in JSON form");
  berth_error_release(&err);
  berth_dockerfile_free(df);
}

Test(config_edit, errors)
{
  static const char *const cases[][2] = {
      {"RUN echo", "RUN is not a valid change command"},
      {"bogus x", "BOGUS is not a valid change command"},
      {"ENV", "dockerfile parse error on line 1: ENV requires at least one argument"},
      {"ENV A", "ENV must have two arguments"},
      {"ENV A=1 B", "Syntax error - can't find = in \"B\". Must be of the form: name=value"},
      {"LABEL =v", "LABEL names can not be blank"},
      {"EXPOSE notaport", "invalid containerPort: notaport"},
      {"ONBUILD ONBUILD RUN x", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"},
      {"ONBUILD FROM x", "FROM isn't allowed as an ONBUILD trigger"},
      {"HEALTHCHECK --bogus=1 CMD x", "Unknown flag: bogus"},
      {"HEALTHCHECK NONE x", "HEALTHCHECK NONE takes no arguments"},
      {"USER ${X:?needed}", "X: needed"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cleanup_json json_t *cfg = json_object();
    berth_error_t err = NULL;
    cr_expect_eq(berth_build_apply_change(cfg, cases[i][0], &err), -1, "%s", cases[i][0]);
    cr_expect_str_eq(err ? err->msg : "", cases[i][1], "%s", cases[i][0]);
    berth_error_release(&err);
  }
}

Test(dockerignore, docker_documentation_examples)
{
  berth_error_t err = NULL;
  struct berth_ignore *ig = berth_ignore_parse("# comment\n"
                                               "*/temp*\n"
                                               "*/*/temp*\n"
                                               "temp?\n"
                                               "**/*.go\n"
                                               "/node_modules/\n"
                                               "*.md\n"
                                               "!README.md\n"
                                               "  docs/./old/../draft  \r\n",
                                               &err);
  cr_assert_not_null(ig);
  static const struct {
    const char *path;
    bool ignored;
  } cases[] = {
      {"somedir/temporary.txt", true}, {"somedir/temp", true},  {"somedir/subdir/temporary.txt", true},
      {"temporary.txt", false},        {"tempa", true},         {"tempab", false},
      {"main.go", true},               {"a/b/c/x.go", true},    {"node_modules/x/y.js", true},
      {"src/node_modules", false},     {"CHANGES.md", true},    {"README.md", false},
      {"docs/draft/x", true},          {"docs/other", false},   {"Dockerfile", false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    cr_expect_eq(berth_ignore_matches(ig, cases[i].path), cases[i].ignored, "%s", cases[i].path);
  berth_ignore_free(ig);
  cr_assert_null(berth_ignore_parse("a\n!\n", &err));
  cr_assert_str_eq(err->msg, "illegal exclusion pattern: \"!\"");
  berth_error_release(&err);
}
