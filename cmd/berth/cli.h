/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The CLI's shared pieces: the command table entry, docker-style flag parsing
 * and help, error printing with docker's exit codes. */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include <berth/error.h>

struct berth_engine;

enum cli_flag_type { CLI_BOOL, CLI_STRING, CLI_STRV, CLI_INT };

struct cli_flag {
  const char *name;  /* long name without "--" */
  char shorthand;    /* 0 when none */
  enum cli_flag_type type;
  void *target;      /* bool*, const char**, char***(strv, appended), long* */
  const char *metavar; /* "string", "filter", "list" ... as docker shows; NULL for bools */
  const char *help;
  bool hidden;
};
/* The end of a flag table. */
#define END_FLAGS {NULL, 0, 0, NULL, NULL, NULL, false}


struct cli_command;
struct cli;
typedef int (*cli_fn)(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);

struct cli_command {
  const char *name;
  const char *usage;   /* "[OPTIONS] IMAGE [IMAGE...]" */
  const char *summary; /* one line */
  cli_fn fn;
  const struct cli_command *subcommands; /* NULL-name terminated; for groups like `image` */
  const char *aliases;                    /* shown under "Aliases:" */
  const char *group;                      /* "common", "management" or NULL for others, for --help */
};

struct cli {
  const char *root;
  const char *runroot;
  const char *cdi_spec_dirs[33]; /* --cdi-spec-dir, NULL-terminated; none given: the engine's default */
  bool debug;
  char path[128]; /* "berth image ls": used in usage and errors */
  struct berth_engine *engine;
};

/* Exit codes, docker's. */
#define CLI_EXIT_USAGE 125 /* bad flags, and engine failures for run */
#define CLI_EXIT_ERROR 1
#define CLI_EXIT_TEMPLATE 64 /* a --format that does not parse (inspect, version, info) */

/* Parse flags of `cmd`: on --help prints help and returns 0 with *ret_done set.
 * Positional arguments are left in argv[0..*ret_argc).  With interspersed false,
 * parsing stops at the first positional (as for run/exec). */
int cli_parse_flags(struct cli *cli, const struct cli_command *cmd, const struct cli_flag *flags, bool interspersed,
                    int *argc, char **argv, bool *ret_done);
/* docker's "requires exactly/at least/at most N argument(s)" checks; print and
 * return CLI_EXIT_ERROR (1) on mismatch, 0 when fine. */
int cli_require_args(struct cli *cli, const struct cli_command *cmd, int argc, int min, int max);
/* --filter values must be name=value: a flag error (exit 125) otherwise. */
int cli_check_filters(struct cli *cli, char **filters, const char *shown);
void cli_print_help(struct cli *cli, const struct cli_command *cmd, const struct cli_flag *flags, FILE *out);
/* Print "Error: ..." for err and return `code`. */
int cli_fail(berth_error_t *err, int code);
int cli_failf(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "Error: <fmt>: <strerror(errnum) in lower case>", as Go prints system errors. */
int cli_fail_errno(int code, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Open the engine lazily (flag parsing and --help never touch the store). */
int cli_engine(struct cli *cli, struct berth_engine **ret);
/* A command's common start: its flags (interspersed with the arguments),
 * between min and max arguments (max -1: any), the engine.  false when the
 * command is over already (--help, or an error printed): return *rc. */
bool cli_start(struct cli *cli, const struct cli_command *cmd, const struct cli_flag *flags, int *argc, char **argv,
               int min, int max, struct berth_engine **e, int *rc);

/* Command implementations (one file per group). */
int cmd_images(struct cli *, const struct cli_command *, int, char **);
int cmd_tag(struct cli *, const struct cli_command *, int, char **);
int cmd_rmi(struct cli *, const struct cli_command *, int, char **);
int cmd_image_prune(struct cli *, const struct cli_command *, int, char **);
int cmd_image_inspect(struct cli *, const struct cli_command *, int, char **);
int cmd_inspect(struct cli *, const struct cli_command *, int, char **);
int cmd_history(struct cli *, const struct cli_command *, int, char **);
int cmd_import(struct cli *, const struct cli_command *, int, char **);
int cmd_save(struct cli *, const struct cli_command *, int, char **);
int cmd_load(struct cli *, const struct cli_command *, int, char **);
/* cmd-registry.c */
int cmd_pull(struct cli *, const struct cli_command *, int, char **);
int cmd_push(struct cli *, const struct cli_command *, int, char **);
int cmd_login(struct cli *, const struct cli_command *, int, char **);
int cmd_logout(struct cli *, const struct cli_command *, int, char **);
int cmd_search(struct cli *, const struct cli_command *, int, char **);
int cmd_manifest_inspect(struct cli *, const struct cli_command *, int, char **);
/* Pull NAME with docker's progress on `out` (none when quiet); the full
 * reference pulled goes to *ret_reference when not NULL (caller frees). */
int cli_pull(struct berth_engine *e, const char *name, const char *platform, bool quiet, FILE *out,
             char **ret_reference, berth_error_t *err);
/* NAME, or NAME:latest when it has neither tag nor digest (as docker shows it); caller frees. */
char *cli_with_default_tag(const char *name);
int cmd_image_bootstrap(struct cli *, const struct cli_command *, int, char **);
int cmd_system_df(struct cli *, const struct cli_command *, int, char **);
/* inspect's lookup of a volume (cmd-volume.c) */
json_t *cli_get_volume(struct berth_engine *e, const char *name, bool size, berth_error_t *err);
int cmd_build(struct cli *, const struct cli_command *, int, char **);
int cmd_builder_prune(struct cli *, const struct cli_command *, int, char **);
int cmd_volume_create(struct cli *, const struct cli_command *, int, char **);
int cmd_volume_inspect(struct cli *, const struct cli_command *, int, char **);
int cmd_volume_ls(struct cli *, const struct cli_command *, int, char **);
int cmd_volume_prune(struct cli *, const struct cli_command *, int, char **);
int cmd_volume_rm(struct cli *, const struct cli_command *, int, char **);
int cmd_system_prune(struct cli *, const struct cli_command *, int, char **);
int cmd_system_boot(struct cli *, const struct cli_command *, int, char **);
/* One row of docker's ContainerContext (ps, system df -v) for a container
 * summary of the list. */
json_t *cli_container_row(const json_t *c, bool trunc);
int cmd_info(struct cli *, const struct cli_command *, int, char **);
int cmd_version(struct cli *, const struct cli_command *, int, char **);
int cmd_run(struct cli *, const struct cli_command *, int, char **);
int cmd_create(struct cli *, const struct cli_command *, int, char **);
int cmd_start(struct cli *, const struct cli_command *, int, char **);
int cmd_stop(struct cli *, const struct cli_command *, int, char **);
int cmd_restart(struct cli *, const struct cli_command *, int, char **);
int cmd_kill(struct cli *, const struct cli_command *, int, char **);
int cmd_rm(struct cli *, const struct cli_command *, int, char **);
int cmd_wait(struct cli *, const struct cli_command *, int, char **);
int cmd_rename(struct cli *, const struct cli_command *, int, char **);
int cmd_attach(struct cli *, const struct cli_command *, int, char **);
int cmd_exec(struct cli *, const struct cli_command *, int, char **);
int cmd_logs(struct cli *, const struct cli_command *, int, char **);
int cmd_events(struct cli *, const struct cli_command *, int, char **);
int cmd_ps(struct cli *, const struct cli_command *, int, char **);
int cmd_container_inspect(struct cli *, const struct cli_command *, int, char **);
int cmd_container_prune(struct cli *, const struct cli_command *, int, char **);
int cmd_commit(struct cli *, const struct cli_command *, int, char **);
int cmd_diff(struct cli *, const struct cli_command *, int, char **);
int cmd_pause(struct cli *, const struct cli_command *, int, char **);
int cmd_unpause(struct cli *, const struct cli_command *, int, char **);
int cmd_update(struct cli *, const struct cli_command *, int, char **);
int cmd_top(struct cli *, const struct cli_command *, int, char **);
int cmd_port(struct cli *, const struct cli_command *, int, char **);
int cmd_network_create(struct cli *, const struct cli_command *, int, char **);
int cmd_network_inspect(struct cli *, const struct cli_command *, int, char **);
int cmd_network_ls(struct cli *, const struct cli_command *, int, char **);
int cmd_network_rm(struct cli *, const struct cli_command *, int, char **);
int cmd_network_prune(struct cli *, const struct cli_command *, int, char **);
int cmd_network_connect(struct cli *, const struct cli_command *, int, char **);
int cmd_network_disconnect(struct cli *, const struct cli_command *, int, char **);
int cmd_stats(struct cli *, const struct cli_command *, int, char **);
int cmd_cp(struct cli *, const struct cli_command *, int, char **);
int cmd_export(struct cli *, const struct cli_command *, int, char **);
/* Inspect containers by name or id (cmd-container.c); docker inspect uses it too. */
int cli_inspect_containers(struct cli *cli, char **names, int n, const char *format, bool size);

#endif
