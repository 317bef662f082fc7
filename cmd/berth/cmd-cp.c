/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cp and export: docker's client side of them (argument forms, local paths,
 * output checks, the "Successfully copied" summary); the engine does the
 * copying. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/units.h"
#include "cli.h"

/* "CONTAINER:PATH" or a local path: an absolute path, or one whose part
 * before ":" starts with ".", is local (docker's splitCpArg). */
static const char *split_arg(char *arg, const char **ret_path)
{
  char *colon = strchr(arg, ':');
  *ret_path = arg;
  if (arg[0] == '/' || !colon || arg[0] == '.')
    return NULL;
  *colon = '\0';
  *ret_path = colon + 1;
  return arg;
}

static bool names_current_dir(const char *p)
{
  size_t n = strlen(p);
  return (n == 1 && p[0] == '.') || (n >= 2 && p[n - 1] == '.' && p[n - 2] == '/');
}

/* Absolute, cleaned, with a trailing "/" or "/." kept (docker's
 * resolveLocalPath). */
static char *local_path(const char *p)
{
  cleanup_free char *abs = berth_path_abs(p);
  char *out = NULL;
  size_t n = strlen(p);
  if (!abs)
    return NULL;
  bool root = strcmp(abs, "/") == 0;
  const char *dot = names_current_dir(p) && !names_current_dir(abs) ? (root ? "." : "/.") : "";
  const char *slash = !*dot && n && p[n - 1] == '/' && !root ? "/" : "";
  if (asprintf(&out, "%s%s%s", abs, dot, slash) < 0)
    abort();
  return out;
}

/* docker's ValidateOutputPath for cp and export. */
static int validate_output(const char *path, const char *prefix)
{
  cleanup_free char *clean = berth_path_abs(path);
  struct stat st;
  if (!clean)
    return cli_fail_errno(CLI_EXIT_ERROR, errno, "%sgetwd", prefix);
  char *slash = strrchr(clean, '/');
  if (slash != clean) {
    *slash = '\0';
    if (stat(clean, &st) < 0 && errno == ENOENT)
      return cli_failf(CLI_EXIT_ERROR, "%sinvalid output path: directory \"%s\" does not exist", prefix, clean);
  }
  if (stat(path, &st) < 0) {
    if (errno == ENOENT)
      return 0;
    return cli_fail_errno(CLI_EXIT_ERROR, errno, "%sstat %s", prefix, path);
  }
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
    return cli_failf(CLI_EXIT_ERROR, "%sinvalid output path: \"%s\" must be a directory or a regular file: got a device",
                     prefix, path);
  return 0;
}

/* docker shows progress only on a terminal stderr (these are its escapes:
 * save the cursor, later restore it and erase the line), and its summary
 * whenever it is not quiet. */
static bool progress_start(bool quiet)
{
  if (quiet || !isatty(2))
    return false;
  fputs("\0337Preparing to copy...", stderr);
  return true;
}

static void progress_end(bool shown, bool summary, int64_t bytes, const char *prefix, const char *dest)
{
  char size[32];
  if (shown)
    fputs("\0338\033[2K", stderr);
  if (summary)
    fprintf(stderr, "Successfully copied %s to %s%s\n", berth_human_size(bytes, size, sizeof size), prefix, dest);
}

static int copy_from(struct berth_engine *e, const char *ctr, const char *path, const char *dest,
                     const struct berth_copy_opts *opts, bool quiet)
{
  berth_error_t err = NULL;
  cleanup_free char *abs = NULL;
  int64_t bytes = 0;
  int rc;
  if (strcmp(dest, "-") != 0) {
    if (!(abs = local_path(dest)))
      return cli_fail_errno(CLI_EXIT_ERROR, errno, "getwd");
    if ((rc = validate_output(abs, "")))
      return rc;
  }
  if (!abs)
    return berth_container_copy_out(e, ctr, path, opts, NULL, 1, NULL, &err) < 0 ? cli_fail(&err, CLI_EXIT_ERROR) : 0;
  bool shown = progress_start(quiet);
  rc = berth_container_copy_out(e, ctr, path, opts, abs, -1, &bytes, &err);
  progress_end(shown, !quiet && rc == 0, bytes, "", abs);
  return rc < 0 ? cli_fail(&err, CLI_EXIT_ERROR) : 0;
}

static int copy_to(struct berth_engine *e, const char *src, const char *ctr, const char *path,
                   const struct berth_copy_opts *opts, bool quiet)
{
  berth_error_t err = NULL;
  cleanup_free char *abs = NULL, *shown = NULL, *prefix = NULL;
  int64_t bytes = 0;
  int rc;
  if (strcmp(src, "-") != 0 && !(abs = local_path(src)))
    return cli_fail_errno(CLI_EXIT_ERROR, errno, "getwd");
  bool progress = progress_start(quiet);
  rc = berth_container_copy_in(e, ctr, abs, 0, path, opts, &bytes, &shown, &err);
  if (asprintf(&prefix, "%s:", ctr) < 0)
    abort();
  /* docker counts the bytes it sent: none for a stream from stdin */
  progress_end(progress, !quiet && rc == 0, bytes, prefix, shown);
  return rc < 0 ? cli_fail(&err, CLI_EXIT_ERROR) : 0;
}

int cmd_cp(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  struct berth_copy_opts opts = {0};
  bool quiet = false, done;
  const struct cli_flag flags[] = {
      {"archive", 'a', CLI_BOOL, &opts.archive, NULL, "Archive mode (copy all uid/gid information)", false},
      {"follow-link", 'L', CLI_BOOL, &opts.follow_link, NULL, "Always follow symbol link in SRC_PATH", false},
      {"quiet", 'q', CLI_BOOL, &quiet, NULL,
       "Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached",
       false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  const char *src_path, *dst_path, *src_ctr, *dst_ctr;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 2, 2)))
    return rc;
  if (!*argv[0])
    return cli_failf(CLI_EXIT_ERROR, "source can not be empty");
  if (!*argv[1])
    return cli_failf(CLI_EXIT_ERROR, "destination can not be empty");
  /* docker: quiet unless stdout is a terminal */
  if (!quiet)
    quiet = !isatty(1);
  src_ctr = split_arg(argv[0], &src_path);
  dst_ctr = split_arg(argv[1], &dst_path);
  if (src_ctr && dst_ctr)
    return cli_failf(CLI_EXIT_ERROR, "copying between containers is not supported");
  if (!src_ctr && !dst_ctr)
    return cli_failf(CLI_EXIT_ERROR, "must specify at least one container source");
  if ((rc = cli_engine(cli, &e)))
    return rc;
  if (src_ctr)
    return copy_from(e, src_ctr, src_path, dst_path, &opts, quiet);
  return copy_to(e, src_path, dst_ctr, dst_path, &opts, quiet);
}

int cmd_export(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const char *output = NULL;
  bool done;
  const struct cli_flag flags[] = {
      {"output", 'o', CLI_STRING, &output, "string", "Write to a file, instead of STDOUT", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_free char *tmp = NULL, *abs = NULL;
  cleanup_close int dirfd = -1, fd = -1;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 1, 1)))
    return rc;
  if (!output && isatty(1))
    return cli_failf(CLI_EXIT_ERROR, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  if (output && (rc = validate_output(output, "failed to export container: ")))
    return rc;
  if ((rc = cli_engine(cli, &e)))
    return rc;
  if (!output)
    return berth_container_export(e, argv[0], 1, &err) < 0 ? cli_fail(&err, CLI_EXIT_ERROR) : 0;
  /* docker's CopyToFile: a temp file beside the target, renamed at the end */
  if (!(abs = berth_path_abs(output)))
    return cli_fail_errno(CLI_EXIT_ERROR, errno, "getwd");
  *strrchr(abs, '/') = '\0';
  dirfd = open(*abs ? abs : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return cli_fail_errno(CLI_EXIT_ERROR, errno, "open %s", output);
  fd = berth_tmpfile_at(dirfd, "berth-export", 0600, &tmp, &err);
  if (fd < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  if (berth_container_export(e, argv[0], fd, &err) < 0 ||
      berth_commit_tmpfile(fd, dirfd, tmp, strrchr(output, '/') ? strrchr(output, '/') + 1 : output, &err) < 0) {
    (void)unlinkat(dirfd, tmp, 0);
    return cli_fail(&err, CLI_EXIT_ERROR);
  }
  return 0;
}
