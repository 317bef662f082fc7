/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth: the command table and global options.  Each command lives in the
 * cmd-*.c file of its group and calls the engine; nothing here touches the
 * store until a command needs it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "berth-config.h"
#include "cli.h"

static int cmd_help(struct cli *, const struct cli_command *, int, char **);

#define RUN_USAGE "[OPTIONS] IMAGE [COMMAND] [ARG...]"
#define EXEC_USAGE "[OPTIONS] CONTAINER COMMAND [ARG...]"
#define EXEC_SUMMARY "Execute a command in a running container"
#define CP_USAGE "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH"
#define CP_SUMMARY "Copy files/folders between a container and the local filesystem"
#define EXPORT_SUMMARY "Export a container's filesystem as a tar archive"
#define PS_ALIASES "berth container ls, berth container list, berth container ps, berth ps"

/* The commands docker has both in a group and at the top level ("berth
 * container attach" and "berth attach"), written once: the group they are
 * listed under in help is the argument. */
#define CMD_ATTACH(group)                                                                                             \
  {"attach", "[OPTIONS] CONTAINER", "Attach local standard input, output, and error streams to a running container",  \
  cmd_attach, NULL, "berth container attach, berth attach", group}
#define CMD_COMMIT(group)                                                                                             \
  {"commit", "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]", "Create a new image from a container's changes",               \
  cmd_commit, NULL, "berth container commit, berth commit", group}
#define CMD_CP(group) {"cp", CP_USAGE, CP_SUMMARY, cmd_cp, NULL, "berth container cp, berth cp", group}
#define CMD_CREATE(group)                                                                                            \
  {"create", RUN_USAGE, "Create a new container", cmd_create, NULL, "berth container create, berth create", group}
#define CMD_DIFF(group)                                                                                               \
  {"diff", "CONTAINER", "Inspect changes to files or directories on a container's filesystem",                        \
  cmd_diff, NULL, "berth container diff, berth diff", group}
#define CMD_EXEC(group) {"exec", EXEC_USAGE, EXEC_SUMMARY, cmd_exec, NULL, "berth container exec, berth exec", group}
#define CMD_EXPORT(group)                                                                                            \
  {"export", "[OPTIONS] CONTAINER", EXPORT_SUMMARY, cmd_export, NULL, "berth container export, berth export", group}
#define CMD_KILL(group)                                                                                               \
  {"kill", "[OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers",                               \
  cmd_kill, NULL, "berth container kill, berth kill", group}
#define CMD_LOGS(group)                                                                                               \
  {"logs", "[OPTIONS] CONTAINER", "Fetch the logs of a container",                                                    \
  cmd_logs, NULL, "berth container logs, berth logs", group}
#define CMD_PAUSE(group)                                                                                              \
  {"pause", "CONTAINER [CONTAINER...]", "Pause all processes within one or more containers",                          \
  cmd_pause, NULL, "berth container pause, berth pause", group}
#define CMD_PORT(group)                                                                                               \
  {"port", "CONTAINER [PRIVATE_PORT[/PROTO]]", "List port mappings or a specific mapping for the container",          \
  cmd_port, NULL, "berth container port, berth port", group}
#define CMD_RENAME(group)                                                                                             \
  {"rename", "CONTAINER NEW_NAME", "Rename a container",                                                              \
  cmd_rename, NULL, "berth container rename, berth rename", group}
#define CMD_RESTART(group)                                                                                            \
  {"restart", "[OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers",                                 \
  cmd_restart, NULL, "berth container restart, berth restart", group}
#define CMD_RM(group)                                                                                                 \
  {"rm", "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers",                                       \
  cmd_rm, NULL, "berth container rm, berth container remove, berth rm", group}
#define CMD_RUN(group)                                                                                                \
  {"run", RUN_USAGE, "Create and run a new container from an image",                                                  \
  cmd_run, NULL, "berth container run, berth run", group}
#define CMD_START(group)                                                                                              \
  {"start", "[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers",                             \
  cmd_start, NULL, "berth container start, berth start", group}
#define CMD_STATS(group)                                                                                              \
  {"stats", "[OPTIONS] [CONTAINER...]", "Display a live stream of container(s) resource usage statistics",            \
  cmd_stats, NULL, "berth container stats, berth stats", group}
#define CMD_STOP(group)                                                                                               \
  {"stop", "[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers",                               \
  cmd_stop, NULL, "berth container stop, berth stop", group}
#define CMD_TOP(group)                                                                                                \
  {"top", "CONTAINER [ps OPTIONS]", "Display the running processes of a container",                                   \
  cmd_top, NULL, "berth container top, berth top", group}
#define CMD_UNPAUSE(group)                                                                                            \
  {"unpause", "CONTAINER [CONTAINER...]", "Unpause all processes within one or more containers",                      \
  cmd_unpause, NULL, "berth container unpause, berth unpause", group}
#define CMD_UPDATE(group)                                                                                             \
  {"update", "[OPTIONS] CONTAINER [CONTAINER...]", "Update configuration of one or more containers",                  \
  cmd_update, NULL, "berth container update, berth update", group}
#define CMD_WAIT(group)                                                                                               \
  {"wait", "CONTAINER [CONTAINER...]", "Block until one or more containers stop, then print their exit codes",        \
  cmd_wait, NULL, "berth container wait, berth wait", group}
#define CMD_NULL(group) {NULL, NULL, NULL, NULL, NULL, NULL, group}
#define CMD_BUILD(group)                                                                                              \
  {"build", "[OPTIONS] PATH | -", "Build an image from a Dockerfile",                                                 \
  cmd_build, NULL, "berth image build, berth build", group}
#define CMD_HISTORY(group)                                                                                            \
  {"history", "[OPTIONS] IMAGE", "Show the history of an image",                                                      \
  cmd_history, NULL, "berth image history, berth history", group}
#define CMD_IMPORT(group)                                                                                             \
  {"import", "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",                                                               \
   "Import the contents from a tarball to create a filesystem image", cmd_import, NULL,                              \
   "berth image import, berth import", group}
#define CMD_LOAD(group)                                                                                               \
  {"load", "[OPTIONS]", "Load an image from a tar archive or STDIN",                                                  \
  cmd_load, NULL, "berth image load, berth load", group}
#define CMD_PULL(group)                                                                                               \
  {"pull", "[OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry",                                       \
  cmd_pull, NULL, "berth image pull, berth pull", group}
#define CMD_PUSH(group)                                                                                               \
  {"push", "[OPTIONS] NAME[:TAG]", "Upload an image to a registry",                                                   \
  cmd_push, NULL, "berth image push, berth push", group}
#define CMD_SAVE(group)                                                                                               \
  {"save", "[OPTIONS] IMAGE [IMAGE...]", "Save one or more images to a tar archive (streamed to STDOUT by default)",  \
  cmd_save, NULL, "berth image save, berth save", group}
#define CMD_TAG(group)                                                                                                \
  {"tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",           \
  cmd_tag, NULL, "berth image tag, berth tag", group}
#define CMD_EVENTS(group)                                                                                             \
  {"events", "[OPTIONS]", "Get real time events from the server",                                                     \
  cmd_events, NULL, "berth system events, berth events", group}
#define CMD_INFO(group)                                                                                              \
  {"info", "[OPTIONS]", "Display system-wide information", cmd_info, NULL, "berth system info, berth info", group}

static const struct cli_command image_commands[] = {
    CMD_BUILD(NULL),
    {"bootstrap", "[OPTIONS] busybox|debian [REPOSITORY[:TAG]]", "Make a base image from the host, without a registry",
     cmd_image_bootstrap, NULL, NULL, NULL},
    CMD_HISTORY(NULL),
    CMD_IMPORT(NULL),
    {"inspect", "[OPTIONS] IMAGE [IMAGE...]", "Display detailed information on one or more images", cmd_image_inspect,
     NULL, NULL, NULL},
    CMD_LOAD(NULL),
    {"ls", "[OPTIONS] [REPOSITORY[:TAG]]", "List images", cmd_images, NULL,
     "berth image ls, berth image list, berth images", NULL},
    {"prune", "[OPTIONS]", "Remove unused images", cmd_image_prune, NULL, NULL, NULL},
    CMD_PULL(NULL),
    CMD_PUSH(NULL),
    {"rm", "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", cmd_rmi, NULL,
     "berth image rm, berth image remove, berth rmi", NULL},
    CMD_SAVE(NULL),
    CMD_TAG(NULL),
    CMD_NULL(NULL),
};

static const struct cli_command builder_commands[] = {
    {"build", "[OPTIONS] PATH | -", "Build an image from a Dockerfile", cmd_build, NULL, NULL, NULL},
    {"prune", "[OPTIONS]", "Remove build cache", cmd_builder_prune, NULL, NULL, NULL},
    CMD_NULL(NULL),
};

static const struct cli_command manifest_commands[] = {
    {"inspect", "[OPTIONS] MANIFEST", "Display an image manifest, or manifest list", cmd_manifest_inspect, NULL, NULL,
     NULL},
    CMD_NULL(NULL),
};

static const struct cli_command network_commands[] = {
    {"connect", "[OPTIONS] NETWORK CONTAINER", "Connect a container to a network", cmd_network_connect, NULL, NULL,
     NULL},
    {"create", "[OPTIONS] NETWORK", "Create a network", cmd_network_create, NULL, NULL, NULL},
    {"disconnect", "[OPTIONS] NETWORK CONTAINER", "Disconnect a container from a network", cmd_network_disconnect,
     NULL, NULL, NULL},
    {"inspect", "[OPTIONS] NETWORK [NETWORK...]", "Display detailed information on one or more networks",
     cmd_network_inspect, NULL, NULL, NULL},
    {"ls", "[OPTIONS]", "List networks", cmd_network_ls, NULL, "berth network ls, berth network list", NULL},
    {"prune", "[OPTIONS]", "Remove all unused networks", cmd_network_prune, NULL, NULL, NULL},
    {"rm", "NETWORK [NETWORK...]", "Remove one or more networks", cmd_network_rm, NULL,
     "berth network rm, berth network remove", NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const struct cli_command system_commands[] = {
    {"boot", "", "Start the containers whose restart policy asks for it (run once at boot)", cmd_system_boot, NULL,
     NULL, NULL},
    {"df", "[OPTIONS]", "Show berth disk usage", cmd_system_df, NULL, NULL, NULL},
    CMD_EVENTS(NULL),
    CMD_INFO(NULL),
    {"prune", "[OPTIONS]", "Remove unused data", cmd_system_prune, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const struct cli_command volume_commands[] = {
    {"create", "[OPTIONS] [VOLUME]", "Create a volume", cmd_volume_create, NULL, NULL, NULL},
    {"inspect", "[OPTIONS] VOLUME [VOLUME...]", "Display detailed information on one or more volumes",
     cmd_volume_inspect, NULL, NULL, NULL},
    {"ls", "[OPTIONS]", "List volumes", cmd_volume_ls, NULL, "berth volume ls, berth volume list", NULL},
    {"prune", "[OPTIONS]", "Remove unused local volumes", cmd_volume_prune, NULL, NULL, NULL},
    {"rm", "[OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes", cmd_volume_rm, NULL,
     "berth volume rm, berth volume remove", NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const struct cli_command container_commands[] = {
    CMD_ATTACH(NULL),
    CMD_COMMIT(NULL),
    CMD_CP(NULL),
    CMD_CREATE(NULL),
    CMD_DIFF(NULL),
    CMD_EXEC(NULL),
    CMD_EXPORT(NULL),
    {"inspect", "[OPTIONS] CONTAINER [CONTAINER...]", "Display detailed information on one or more containers",
     cmd_container_inspect, NULL, NULL, NULL},
    CMD_KILL(NULL),
    CMD_LOGS(NULL),
    {"ls", "[OPTIONS]", "List containers", cmd_ps, NULL, PS_ALIASES, NULL},
    CMD_PAUSE(NULL),
    CMD_PORT(NULL),
    {"prune", "[OPTIONS]", "Remove all stopped containers", cmd_container_prune, NULL, NULL, NULL},
    CMD_RENAME(NULL),
    CMD_RESTART(NULL),
    CMD_RM(NULL),
    CMD_RUN(NULL),
    CMD_START(NULL),
    CMD_STATS(NULL),
    CMD_STOP(NULL),
    CMD_TOP(NULL),
    CMD_UNPAUSE(NULL),
    CMD_UPDATE(NULL),
    CMD_WAIT(NULL),
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const struct cli_command commands[] = {
    CMD_RUN("common"),
    CMD_EXEC("common"),
    {"ps", "[OPTIONS]", "List containers", cmd_ps, NULL, PS_ALIASES, "common"},
    {"images", "[OPTIONS] [REPOSITORY[:TAG]]", "List images", cmd_images, NULL,
     "berth image ls, berth image list, berth images", "common"},
    CMD_BUILD("common"),
    CMD_INFO("common"),
    {"builder", "COMMAND", "Manage builds", NULL, builder_commands, NULL, "management"},
    {"login", "[OPTIONS] [SERVER]", "Authenticate to a registry", cmd_login, NULL, NULL, "common"},
    {"logout", "[SERVER]", "Log out from a registry", cmd_logout, NULL, NULL, "common"},
    CMD_PULL("common"),
    CMD_PUSH("common"),
    {"search", "[OPTIONS] TERM", "Search Docker Hub for images", cmd_search, NULL, NULL, "common"},
    {"container", "COMMAND", "Manage containers", NULL, container_commands, NULL, "management"},
    {"image", "COMMAND", "Manage images", NULL, image_commands, NULL, "management"},
    {"manifest", "COMMAND", "Manage Docker image manifests and manifest lists", NULL, manifest_commands, NULL,
     "management"},
    {"network", "COMMAND", "Manage networks", NULL, network_commands, NULL, "management"},
    {"system", "COMMAND", "Manage berth", NULL, system_commands, NULL, "management"},
    {"volume", "COMMAND", "Manage volumes", NULL, volume_commands, NULL, "management"},
    CMD_ATTACH(NULL),
    CMD_COMMIT(NULL),
    CMD_CP(NULL),
    CMD_CREATE(NULL),
    CMD_DIFF(NULL),
    CMD_EVENTS(NULL),
    CMD_EXPORT(NULL),
    {"help", "[command]", "Help about any command", cmd_help, NULL, NULL, NULL},
    CMD_HISTORY(NULL),
    CMD_IMPORT(NULL),
    {"inspect", "[OPTIONS] NAME|ID [NAME|ID...]", "Return low-level information on berth objects", cmd_inspect, NULL,
     NULL, NULL},
    CMD_KILL(NULL),
    CMD_LOAD(NULL),
    CMD_PAUSE(NULL),
    CMD_PORT(NULL),
    CMD_LOGS(NULL),
    CMD_RENAME(NULL),
    CMD_RESTART(NULL),
    CMD_RM(NULL),
    {"rmi", "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", cmd_rmi, NULL,
     "berth image rm, berth image remove, berth rmi", NULL},
    CMD_SAVE(NULL),
    CMD_START(NULL),
    CMD_STATS(NULL),
    CMD_STOP(NULL),
    CMD_TAG(NULL),
    CMD_TOP(NULL),
    CMD_UNPAUSE(NULL),
    CMD_UPDATE(NULL),
    {"version", "[OPTIONS]", "Show the berth version information", cmd_version, NULL, NULL, "common"},
    CMD_WAIT(NULL),
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const struct cli_command root_command = {"berth", "[OPTIONS] COMMAND",
                                                "A daemonless, Docker-compatible container engine", NULL, commands,
                                                NULL, NULL};

/* Other names a subcommand answers to (docker's cobra aliases). */
static const struct {
  const char *alias, *name;
} subcommand_aliases[] = {{"list", "ls"}, {"remove", "rm"}, {"ps", "ls"}};

static const struct cli_command *find_command(const struct cli_command *table, const char *name)
{
  for (size_t i = 0; table != commands && i < sizeof(subcommand_aliases) / sizeof(subcommand_aliases[0]); i++)
    if (strcmp(name, subcommand_aliases[i].alias) == 0)
      name = subcommand_aliases[i].name;
  for (const struct cli_command *c = table; c && c->name; c++)
    if (strcmp(c->name, name) == 0)
      return c;
  return NULL;
}

static void print_group(const struct cli_command *table, const char *title, const char *group, FILE *out)
{
  bool any = false;
  for (const struct cli_command *c = table; c->name; c++) {
    bool in = group ? (c->group && strcmp(c->group, group) == 0) : !c->group;
    if (!in)
      continue;
    if (!any)
      fprintf(out, "\n%s:\n", title);
    any = true;
    fprintf(out, "  %-11s %s\n", c->name, c->summary);
  }
}

static void print_command_list(struct cli *cli, const struct cli_command *cmd, FILE *out)
{
  fprintf(out, "Usage:  %s %s\n\n%s\n", cli->path, cmd->usage, cmd->summary);
  if (cmd == &root_command) {
    print_group(cmd->subcommands, "Common Commands", "common", out);
    print_group(cmd->subcommands, "Management Commands", "management", out);
    print_group(cmd->subcommands, "Commands", NULL, out);
    fprintf(out, "\nGlobal Options:\n"
                 "      --root string      Storage root (default \"/var/lib/berth\", or $BERTH_ROOT)\n"
                 "      --runroot string   Run state root (default \"/run/berth\", or $BERTH_RUNROOT)\n"
                 "      --cdi-spec-dir     CDI spec folder, repeatable (default /etc/cdi and /var/run/cdi,\n"
                 "                         or $BERTH_CDI_SPEC_DIRS, colon-separated)\n"
                 "  -D, --debug            Enable debug output\n"
                 "  -v, --version          Print version information and quit\n");
  } else {
    print_group(cmd->subcommands, "Commands", NULL, out);
  }
  fprintf(out, "\nRun '%s COMMAND --help' for more information on a command.\n", cli->path);
}

static void path_push(struct cli *cli, const char *name)
{
  size_t n = strlen(cli->path);
  snprintf(cli->path + n, sizeof(cli->path) - n, " %s", name);
}

/* Descend through group commands; returns the exit code. */
static int dispatch(struct cli *cli, const struct cli_command *table_cmd, int argc, char **argv)
{
  const struct cli_command *c;
  if (argc == 0 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
    print_command_list(cli, table_cmd, stdout);
    return 0;
  }
  c = find_command(table_cmd->subcommands, argv[0]);
  if (!c) {
    if (argv[0][0] == '-') {
      fprintf(stderr, "unknown flag: %s\n\nUsage:  %s %s\n\nRun '%s --help' for more information\n", argv[0],
              cli->path, table_cmd == &root_command ? "[OPTIONS] COMMAND [ARG...]" : "COMMAND", cli->path);
      return CLI_EXIT_USAGE;
    }
    fprintf(stderr, "berth: unknown command: %s %s\n\n", cli->path, argv[0]);
    if (table_cmd != &root_command)
      fprintf(stderr, "Usage:  %s\n\n", cli->path);
    fprintf(stderr, "Run '%s --help' for more information\n", cli->path);
    return CLI_EXIT_ERROR;
  }
  path_push(cli, c->name);
  if (c->subcommands)
    return dispatch(cli, c, argc - 1, argv + 1);
  return c->fn(cli, c, argc - 1, argv + 1);
}

static int cmd_help(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const struct cli_command *table = &root_command;
  char *help_argv[] = {(char *)"--help", NULL};
  const struct cli_flag flags[] = {{NULL, 0, 0, NULL, NULL, NULL, false}};
  bool done;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  snprintf(cli->path, sizeof(cli->path), "berth");
  for (int i = 0; i < argc; i++) {
    const struct cli_command *c = find_command(table->subcommands, argv[i]);
    if (!c)
      return cli_failf(CLI_EXIT_ERROR, "unknown help topic: %s", argv[i]);
    path_push(cli, c->name);
    table = c;
    if (!c->subcommands)
      return c->fn(cli, c, 1, help_argv);
  }
  print_command_list(cli, table, stdout);
  return 0;
}

int cli_engine(struct cli *cli, struct berth_engine **ret)
{
  berth_error_t err = NULL;
  if (!cli->engine) {
    struct berth_engine_opts opts = {.root = cli->root, .runroot = cli->runroot,
                                     .cdi_spec_dirs = cli->cdi_spec_dirs[0] ? cli->cdi_spec_dirs : NULL};
    if (berth_engine_open(&opts, &cli->engine, &err) < 0)
      return cli_fail(&err, CLI_EXIT_ERROR);
  }
  *ret = cli->engine;
  return 0;
}

bool cli_start(struct cli *cli, const struct cli_command *cmd, const struct cli_flag *flags, int *argc, char **argv,
               int min, int max, struct berth_engine **e, int *rc)
{
  bool done = false;
  return !(*rc = cli_parse_flags(cli, cmd, flags, true, argc, argv, &done)) && !done &&
         !(*rc = cli_require_args(cli, cmd, *argc, min, max)) && !(*rc = cli_engine(cli, e));
}

/* Deep trees are walked with one fd per level (safe *at() resolution), so
 * use the hard limit on open files as Go programs (docker, podman) do. */
static void raise_nofile_limit(void)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
}

int main(int argc, char **argv)
{
  struct cli cli = {.root = getenv("BERTH_ROOT"), .runroot = getenv("BERTH_RUNROOT")};
  int i, rc, n_cdi = 0;
  snprintf(cli.path, sizeof(cli.path), "berth");
  if (!cli.root || !*cli.root)
    cli.root = "/var/lib/berth";
  if (!cli.runroot || !*cli.runroot)
    cli.runroot = "/run/berth";
  for (i = 1; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--root") || !strcmp(a, "--runroot")) {
      if (i + 1 >= argc)
        return fprintf(stderr, "flag needs an argument: %s\n\nUsage:  berth [OPTIONS] COMMAND [ARG...]\n\nRun 'berth --help' for more information\n", a), CLI_EXIT_USAGE;
      *(a[2] == 'r' && a[3] == 'o' ? &cli.root : &cli.runroot) = argv[++i];
    } else if (!strcmp(a, "--cdi-spec-dir") || !strncmp(a, "--cdi-spec-dir=", 15)) {
      if (!a[14] && i + 1 >= argc)
        return fprintf(stderr, "flag needs an argument: %s\n\nUsage:  berth [OPTIONS] COMMAND [ARG...]\n\nRun 'berth --help' for more information\n", a), CLI_EXIT_USAGE;
      if (n_cdi < 32)
        cli.cdi_spec_dirs[n_cdi++] = a[14] ? a + 15 : argv[++i];
    } else if (!strncmp(a, "--root=", 7)) {
      cli.root = a + 7;
    } else if (!strncmp(a, "--runroot=", 10)) {
      cli.runroot = a + 10;
    } else if (!strcmp(a, "-D") || !strcmp(a, "--debug")) {
      cli.debug = true;
    } else if (!strcmp(a, "-v") || !strcmp(a, "--version")) {
      printf("berth version %s\n", BERTH_VERSION);
      return 0;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      break;
    } else {
      fprintf(stderr, "unknown flag: %s\n\nUsage:  berth [OPTIONS] COMMAND [ARG...]\n\nRun 'berth --help' for more "
                      "information\n",
              a);
      return CLI_EXIT_USAGE;
    }
  }
  if (cli.debug)
    berth_log_set_level(BERTH_LOG_DEBUG);
  raise_nofile_limit();
  rc = dispatch(&cli, &root_command, argc - i, argv + i);
  berth_engine_free(cli.engine);
  if (fflush(stdout) != 0 && rc == 0)
    rc = CLI_EXIT_ERROR;
  return rc;
}
