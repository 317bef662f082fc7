/* SPDX-License-Identifier: GPL-2.0-or-later */
/* build: docker's classic builder's command line. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "cli.h"
#include "output.h"

/* All of stdin. */
static char *slurp(int fd, size_t *ret_len)
{
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  ssize_t n;
  if (!buf)
    abort();
  while ((n = read(fd, buf + len, cap - len)) > 0) {
    len += (size_t)n;
    if (len == cap && !(buf = realloc(buf, cap *= 2)))
      abort();
  }
  *ret_len = len;
  return buf;
}

static bool looks_like_archive(const char *buf, size_t len)
{
  const unsigned char *u = (const unsigned char *)buf;
  return (len >= 2 && u[0] == 0x1f && u[1] == 0x8b) || (len >= 4 && !memcmp(buf, "\x28\xb5\x2f\xfd", 4)) ||
         (len >= 262 && !memcmp(buf + 257, "ustar", 5));
}

int cmd_build(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  cleanup_strv char **tags = NULL, **build_args = NULL, **labels = NULL, **secrets = NULL, **ssh = NULL;
  const char *file = NULL, *target = NULL, *iidfile = NULL, *network = NULL, *progress = "auto";
  bool no_cache = false, quiet = false, pull = false, rm = true, force_rm = false, done;
  const struct cli_flag flags[] = {
      {"build-arg", 0, CLI_STRV, &build_args, "list", "Set build-time variables", false},
      {"file", 'f', CLI_STRING, &file, "string", "Name of the Dockerfile (Default is 'PATH/Dockerfile')", false},
      {"force-rm", 0, CLI_BOOL, &force_rm, NULL, "Always remove intermediate containers", false},
      {"iidfile", 0, CLI_STRING, &iidfile, "string", "Write the image ID to the file", false},
      {"label", 0, CLI_STRV, &labels, "list", "Set metadata for an image", false},
      {"network", 0, CLI_STRING, &network, "string",
       "Set the networking mode for the RUN instructions during build (default \"default\")", false},
      {"no-cache", 0, CLI_BOOL, &no_cache, NULL, "Do not use cache when building the image", false},
      {"progress", 0, CLI_STRING, &progress, "string", "Set type of progress output (auto, plain, tty)", false},
      {"pull", 0, CLI_BOOL, &pull, NULL, "Always attempt to pull a newer version of the image", false},
      {"quiet", 'q', CLI_BOOL, &quiet, NULL, "Suppress the build output and print image ID on success", false},
      {"rm", 0, CLI_BOOL, &rm, NULL, "Remove intermediate containers after a successful build (default true)", false},
      {"secret", 0, CLI_STRV, &secrets, "stringArray", "Secret to expose to the build", false},
      {"ssh", 0, CLI_STRV, &ssh, "stringArray",
       "SSH agent socket to expose to the build (format: default|<id>[=<socket>])", false},
      {"tag", 't', CLI_STRV, &tags, "list", "Name and optionally a tag in the \"name:tag\" format", false},
      {"target", 0, CLI_STRING, &target, "string", "Set the target build stage to build", false},
      END_FLAGS,
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_free char *id = NULL, *stdin_buf = NULL;
  cleanup_close int tar = -1;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 1, 1)))
    return rc;
  if (strcmp(progress, "auto") != 0 && strcmp(progress, "plain") != 0 && strcmp(progress, "tty") != 0)
    return cli_failf(CLI_EXIT_USAGE, "invalid progress type: %s", progress);
  struct berth_build_opts o = {.context = argv[0], .context_tar = -1, .dockerfile = file, .tags = tags,
                               .build_args = build_args, .labels = labels, .target = target, .network = network, .secrets = secrets, .ssh = ssh,
                               .no_cache = no_cache, .quiet = quiet, .pull = pull,
                               .tty = !strcmp(progress, "tty") || (!strcmp(progress, "auto") && isatty(1))};
  size_t len = 0;
  if (!strcmp(argv[0], "-")) {
    if (file && !strcmp(file, "-"))
      return cli_failf(CLI_EXIT_USAGE, "invalid argument: can't use stdin for both build context and dockerfile");
    stdin_buf = slurp(0, &len);
    o.context = NULL;
    if (looks_like_archive(stdin_buf, len)) {
      tar = memfd_create("berth-build-context", MFD_CLOEXEC);
      if (tar < 0 || berth_write_all(tar, stdin_buf, len) < 0 || lseek(tar, 0, SEEK_SET) < 0)
        return cli_fail_errno(CLI_EXIT_ERROR, errno, "read the context");
      o.context_tar = tar;
    } else {
      o.dockerfile_text = stdin_buf;
      o.dockerfile_len = len;
    }
  } else if (file && !strcmp(file, "-")) {
    stdin_buf = slurp(0, &len);
    o.dockerfile_text = stdin_buf;
    o.dockerfile_len = len;
  }
  if ((rc = cli_engine(cli, &e)))
    return rc;
  if (berth_image_build(e, &o, &id, &err) < 0) {
    fprintf(stderr, "%s\n", err->msg);
    berth_error_release(&err);
    return CLI_EXIT_ERROR;
  }
  if (quiet)
    printf("%s\n", id);
  if (iidfile) {
    cleanup_close int fd = open(iidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || berth_write_all(fd, id, strlen(id)) < 0)
      return cli_fail_errno(CLI_EXIT_ERROR, errno, "write %s", iidfile);
  }
  return 0;
}

int cmd_builder_prune(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool all = false, force = false, done;
  const struct cli_flag flags[] = {
      {"all", 'a', CLI_BOOL, &all, NULL, "Remove all unused build cache, not just dangling ones", false},
      {"force", 'f', CLI_BOOL, &force, NULL, "Do not prompt for confirmation", false},
      END_FLAGS,
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_json json_t *res = NULL;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 0, 0)))
    return rc;
  if (!force && !cli_confirm(all ? "WARNING! This will remove all build cache." : "WARNING! This will remove all dangling build cache."))
    return 0;
  if ((rc = cli_engine(cli, &e)))
    return rc;
  if (!(res = berth_builder_prune(e, all, &err)))
    return cli_fail(&err, CLI_EXIT_ERROR);
  return cli_print_prune(res);
}
