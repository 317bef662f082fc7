/* SPDX-License-Identifier: GPL-2.0-or-later */
/* docker-style flag parsing (pflag rules: --name=value, --name value, -x value,
 * -xvalue, grouped short booleans -aq, "--" ends flags), help and usage errors. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "cli.h"

static const struct cli_flag help_flag = {"help", 0, CLI_BOOL, NULL, NULL, "Print usage", false};

/* docker 28's shape: the message, the usage line, a pointer to --help. */
static const struct cli_command *current_cmd;

static void usage_error(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void usage_error(struct cli *cli, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  if (current_cmd)
    fprintf(stderr, "\n\nUsage:  %s %s\n", cli->path, current_cmd->usage);
  fprintf(stderr, "\nRun '%s --help' for more information\n", cli->path);
}

static const struct cli_flag *find_long(const struct cli_flag *flags, const char *name, size_t n)
{
  for (const struct cli_flag *f = flags; f && f->name; f++)
    if (strlen(f->name) == n && strncmp(f->name, name, n) == 0)
      return f;
  if (n == 4 && strncmp(name, "help", 4) == 0)
    return &help_flag;
  return NULL;
}

static const struct cli_flag *find_short(const struct cli_flag *flags, char c)
{
  for (const struct cli_flag *f = flags; f && f->name; f++)
    if (f->shorthand == c)
      return f;
  return NULL;
}

static int strv_append(char ***strv, const char *value)
{
  size_t n = 0;
  while (*strv && (*strv)[n])
    n++;
  *strv = realloc(*strv, (n + 2) * sizeof(char *));
  if (!*strv || !((*strv)[n] = strdup(value)))
    abort();
  (*strv)[n + 1] = NULL;
  return 0;
}

static bool parse_bool(const char *v, bool *out)
{
  if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "t") || !strcmp(v, "T") || !strcmp(v, "TRUE") ||
      !strcmp(v, "True"))
    *out = true;
  else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "f") || !strcmp(v, "F") || !strcmp(v, "FALSE") ||
           !strcmp(v, "False"))
    *out = false;
  else
    return false;
  return true;
}

/* Store a value; returns 0, or -1 after printing a usage error. */
static int set_flag(struct cli *cli, const struct cli_flag *f, const char *shown, const char *value)
{
  switch (f->type) {
  case CLI_BOOL: {
    bool b = true;
    if (value && !parse_bool(value, &b)) {
      usage_error(cli, "invalid argument \"%s\" for \"%s\" flag: strconv.ParseBool: parsing \"%s\": invalid syntax",
                  value, shown, value);
      return -1;
    }
    if (f->target)
      *(bool *)f->target = b;
    return 0;
  }
  case CLI_STRING:
    *(const char **)f->target = value;
    return 0;
  case CLI_STRV:
    return strv_append((char ***)f->target, value);
  case CLI_INT: {
    char *end = NULL;
    long v;
    errno = 0;
    v = strtol(value, &end, 0);
    if (errno || !end || *end || !*value) {
      usage_error(cli, "invalid argument \"%s\" for \"%s\" flag: strconv.ParseInt: parsing \"%s\": invalid syntax",
                  value, shown, value);
      return -1;
    }
    *(long *)f->target = v;
    return 0;
  }
  }
  return 0;
}

static int parse_long(struct cli *cli, const struct cli_flag *flags, char **argv, int argc, int *i, bool *help)
{
  const char *arg = argv[*i] + 2;
  const char *eq = strchr(arg, '=');
  size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
  const struct cli_flag *f = find_long(flags, arg, n);
  char shown[128];
  snprintf(shown, sizeof(shown), "--%.*s", (int)n, arg);
  if (!f) {
    usage_error(cli, "unknown flag: %s", shown);
    return -1;
  }
  if (f == &help_flag) {
    *help = true;
    return 0;
  }
  if (f->type == CLI_BOOL)
    return set_flag(cli, f, shown, eq ? eq + 1 : NULL);
  if (eq)
    return set_flag(cli, f, shown, eq + 1);
  if (*i + 1 >= argc) {
    usage_error(cli, "flag needs an argument: %s", shown);
    return -1;
  }
  return set_flag(cli, f, shown, argv[++*i]);
}

static int parse_short(struct cli *cli, const struct cli_flag *flags, char **argv, int argc, int *i, bool *help)
{
  const char *arg = argv[*i] + 1;
  for (size_t k = 0; arg[k]; k++) {
    const struct cli_flag *f = find_short(flags, arg[k]);
    char shown[32];
    if (!f && arg[k] == 'h') {
      *help = true;
      return 0;
    }
    if (!f) {
      usage_error(cli, "unknown shorthand flag: '%c' in -%s", arg[k], arg);
      return -1;
    }
    snprintf(shown, sizeof(shown), "-%c, --%s", arg[k], f->name);
    if (f->type == CLI_BOOL) {
      if (arg[k + 1] == '=')
        return set_flag(cli, f, shown, arg + k + 2);
      if (set_flag(cli, f, shown, NULL) < 0)
        return -1;
      continue;
    }
    if (arg[k + 1])
      return set_flag(cli, f, shown, arg[k + 1] == '=' ? arg + k + 2 : arg + k + 1);
    if (*i + 1 >= argc) {
      usage_error(cli, "flag needs an argument: '%c' in -%s", arg[k], arg);
      return -1;
    }
    return set_flag(cli, f, shown, argv[++*i]);
  }
  return 0;
}

int cli_parse_flags(struct cli *cli, const struct cli_command *cmd, const struct cli_flag *flags, bool interspersed,
                    int *argc, char **argv, bool *ret_done)
{
  int n = *argc, out = 0;
  bool help = false, only_args = false;
  *ret_done = false;
  current_cmd = cmd;
  for (int i = 0; i < n; i++) {
    const char *a = argv[i];
    if (only_args || a[0] != '-' || a[1] == '\0') {
      argv[out++] = argv[i];
      if (!interspersed)
        only_args = true;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_args = true;
      continue;
    }
    if ((a[1] == '-' ? parse_long(cli, flags, argv, n, &i, &help) : parse_short(cli, flags, argv, n, &i, &help)) < 0)
      return CLI_EXIT_USAGE;
  }
  *argc = out;
  argv[out] = NULL;
  if (help) {
    cli_print_help(cli, cmd, flags, stdout);
    *ret_done = true;
  }
  return 0;
}

int cli_check_filters(struct cli *cli, char **filters, const char *shown)
{
  for (size_t i = 0; filters && filters[i]; i++)
    if (!strchr(filters[i], '=')) {
      usage_error(cli, "invalid argument \"%s\" for \"%s\" flag: bad format of filter (expected name=value)",
                  filters[i], shown);
      return CLI_EXIT_USAGE;
    }
  return 0;
}

int cli_require_args(struct cli *cli, const struct cli_command *cmd, int argc, int min, int max)
{
  const char *pointer = "Run";
  char what[64];
  if (min == max && argc != min) {
    if (min == 0)
      snprintf(what, sizeof(what), "accepts no arguments");
    else
      snprintf(what, sizeof(what), "requires %d argument%s", min, min == 1 ? "" : "s");
  } else if (argc < min) {
    snprintf(what, sizeof(what), "requires at least %d argument%s", min, min == 1 ? "" : "s");
    pointer = "See";
  } else if (max >= 0 && argc > max) {
    snprintf(what, sizeof(what), "requires at most %d argument%s", max, max == 1 ? "" : "s");
    pointer = "See";
  } else {
    return 0;
  }
  fprintf(stderr, "berth: '%s' %s\n\nUsage:  %s %s\n\n%s '%s --help' for more information\n", cli->path, what,
          cli->path, cmd->usage, pointer, cli->path);
  return CLI_EXIT_ERROR;
}

static void flag_label(const struct cli_flag *f, char *buf, size_t n)
{
  if (f->shorthand)
    snprintf(buf, n, "  -%c, --%s%s%s", f->shorthand, f->name, f->metavar ? " " : "", f->metavar ? f->metavar : "");
  else
    snprintf(buf, n, "      --%s%s%s", f->name, f->metavar ? " " : "", f->metavar ? f->metavar : "");
}

void cli_print_help(struct cli *cli, const struct cli_command *cmd, const struct cli_flag *flags, FILE *out)
{
  size_t width = 0;
  char label[160];
  fprintf(out, "Usage:  %s %s\n\n%s\n", cli->path, cmd->usage, cmd->summary);
  if (cmd->aliases)
    fprintf(out, "\nAliases:\n  %s\n", cmd->aliases);
  if (!flags || !flags->name)
    return;
  for (const struct cli_flag *f = flags; f->name; f++) {
    flag_label(f, label, sizeof(label));
    if (!f->hidden && strlen(label) > width)
      width = strlen(label);
  }
  fprintf(out, "\nOptions:\n");
  for (const struct cli_flag *f = flags; f->name; f++) {
    if (f->hidden)
      continue;
    flag_label(f, label, sizeof(label));
    fprintf(out, "%-*s   %s\n", (int)width, label, f->help);
  }
}

int cli_fail(berth_error_t *err, int code)
{
  cleanup_free char *s = berth_error_string(err ? *err : NULL);
  fprintf(stderr, "Error: %s\n", s);
  berth_error_release(err);
  return code;
}

int cli_fail_errno(int code, int errnum, const char *fmt, ...)
{
  va_list ap;
  const char *text = strerror(errnum);
  fputs("Error: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, ": %c%s\n", tolower((unsigned char)text[0]), text + 1);
  return code;
}

int cli_failf(int code, const char *fmt, ...)
{
  va_list ap;
  fputs("Error: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return code;
}
