/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image commands: images, tag, rmi, image prune, image inspect, history,
 * import, save, load, image bootstrap. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "cli.h"
#include "output.h"
#include "base/units.h"


/* ---- images ---- */

static const struct cli_header image_headers[] = {
    {"ID", "IMAGE ID"},       {"Repository", "REPOSITORY"},    {"Tag", "TAG"},
    {"Digest", "DIGEST"},     {"CreatedSince", "CREATED"},     {"CreatedAt", "CREATED AT"},
    {"Size", "SIZE"},         {"Containers", "CONTAINERS"},    {"SharedSize", "SHARED SIZE"},
    {"UniqueSize", "UNIQUE SIZE"}, {"VirtualSize", "VIRTUAL SIZE"}, {NULL, NULL},
};

static void split_repo_tag(const char *s, char **repo, char **tag)
{
  const char *colon = strrchr(s, ':');
  if (colon && !strchr(colon, '/')) {
    *repo = strndup(s, (size_t)(colon - s));
    *tag = strdup(colon + 1);
  } else {
    *repo = strdup(s);
    *tag = strdup("<none>");
  }
}

static json_t *image_row(const json_t *img, const char *repo, const char *tag, const char *digest, bool no_trunc)
{
  char size[32], vsize[32], id[80], created_at[64], since[64];
  const char *full = berth_json_str(img, "Id");
  time_t created = (time_t)berth_json_int(img, "Created", 0);
  berth_human_size(berth_json_int(img, "Size", 0), size, sizeof(size));
  berth_human_size_prec((double)berth_json_int(img, "Size", 0), 4, vsize, sizeof(vsize));
  snprintf(id, sizeof(id), "%s", no_trunc ? full : full + 7);
  if (!no_trunc)
    id[12] = '\0';
  cli_format_time(created, created_at, sizeof(created_at));
  cli_format_since(created, since, sizeof(since));
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id, "Repository", repo, "Tag", tag,
                   "Digest", digest, "CreatedSince", since, "CreatedAt", created_at, "Size", size, "Containers", "N/A",
                   "SharedSize", "N/A", "UniqueSize", "N/A", "VirtualSize", vsize);
}

/* One row per tag (docker's table), digests matched to their repository. */
static void image_rows(json_t *rows, const json_t *img, bool no_trunc)
{
  json_t *tags = json_object_get(img, "RepoTags"), *dgs = json_object_get(img, "RepoDigests"), *v;
  size_t i;
  if (json_array_size(tags) == 0) {
    cleanup_free char *repo = NULL, *dg = NULL;
    const char *first = json_string_value(json_array_get(dgs, 0));
    if (first) {
      const char *at = strchr(first, '@');
      repo = strndup(first, (size_t)(at - first));
      dg = strdup(at + 1);
    }
    json_array_append_new(rows, image_row(img, repo ? repo : "<none>", "<none>", dg ? dg : "<none>", no_trunc));
    return;
  }
  json_array_foreach(tags, i, v)
  {
    cleanup_free char *repo = NULL, *tag = NULL;
    const char *digest = "<none>";
    size_t k;
    json_t *d;
    split_repo_tag(json_string_value(v), &repo, &tag);
    json_array_foreach(dgs, k, d)
    {
      const char *s = json_string_value(d), *at = strchr(s, '@');
      if (at && strlen(repo) == (size_t)(at - s) && strncmp(s, repo, (size_t)(at - s)) == 0)
        digest = at + 1;
    }
    json_array_append_new(rows, image_row(img, repo, tag, digest, no_trunc));
  }
}

int cmd_images(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool all = false, quiet = false, no_trunc = false, digests = false, done;
  const char *format = NULL;
  cleanup_strv char **filters = NULL;
  const struct cli_flag flags[] = {
      {"all", 'a', CLI_BOOL, &all, NULL, "Show all images (default hides intermediate images)", false},
      {"digests", 0, CLI_BOOL, &digests, NULL, "Show digests", false},
      {"filter", 'f', CLI_STRV, &filters, "filter", "Filter output based on conditions provided", false},
      {"format", 0, CLI_STRING, &format, "string", CLI_FORMAT_HELP, false},
      {"no-trunc", 0, CLI_BOOL, &no_trunc, NULL, "Don't truncate output", false},
      {"quiet", 'q', CLI_BOOL, &quiet, NULL, "Only show image IDs", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_json json_t *list = NULL, *rows = json_array();
  struct berth_image_list_opts opts = {0};
  int rc;
  json_t *img;
  size_t i;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 0, 1)) || (rc = cli_check_filters(cli, filters, "-f, --filter")))
    return rc;
  if ((rc = cli_engine(cli, &e)))
    return rc;
  opts.all = all;
  opts.reference = argc ? argv[0] : NULL;
  opts.filters = filters;
  if (!(list = berth_image_list(e, &opts, &err)))
    return cli_fail(&err, CLI_EXIT_ERROR);
  json_array_foreach(list, i, img) image_rows(rows, img, no_trunc);
  if (quiet) {
    /* One id per row, repeated for each tag, as docker prints them. */
    json_array_foreach(rows, i, img) printf("%s\n", berth_json_str(img, "ID"));
    return 0;
  }
  return cli_output_rows(rows, format,
                         digests ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
                                 : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
                         image_headers);
}

/* ---- tag, rmi, prune ---- */

int cmd_tag(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const struct cli_flag flags[] = {{NULL, 0, 0, NULL, NULL, NULL, false}};
  struct berth_engine *e;
  berth_error_t err = NULL;
  int rc;
  if (!cli_start(cli, cmd, flags, &argc, argv, 2, 2, &e, &rc))
    return rc;
  if (berth_image_tag(e, argv[0], argv[1], &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  return 0;
}

int cmd_rmi(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool force = false, noprune = false;
  const struct cli_flag flags[] = {
      {"force", 'f', CLI_BOOL, &force, NULL, "Force removal of the image", false},
      {"no-prune", 0, CLI_BOOL, &noprune, NULL, "Do not delete untagged parents", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  int rc, status = 0;
  if (!cli_start(cli, cmd, flags, &argc, argv, 1, -1, &e, &rc))
    return rc;
  for (int i = 0; i < argc; i++) {
    berth_error_t err = NULL;
    cleanup_json json_t *report = json_array();
    int r = berth_image_remove(e, argv[i], force, noprune, report, &err);
    cli_print_report(report);
    if (r < 0)
      status = cli_fail(&err, CLI_EXIT_ERROR);
  }
  return status;
}

int cmd_image_prune(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool all = false, force = false, done;
  cleanup_strv char **filters = NULL;
  const struct cli_flag flags[] = {
      {"all", 'a', CLI_BOOL, &all, NULL, "Remove all unused images, not just dangling ones", false},
      {"filter", 0, CLI_STRV, &filters, "filter", "Provide filter values (e.g. \"until=<timestamp>\")", false},
      {"force", 'f', CLI_BOOL, &force, NULL, "Do not prompt for confirmation", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_json json_t *res = NULL;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 0, 0)) || (rc = cli_check_filters(cli, filters, "--filter")))
    return rc;
  if (!force && !cli_confirm(all ? "WARNING! This will remove all images without at least one container associated to "
                               "them."
                             : "WARNING! This will remove all dangling images."))
    return 0;
  if ((rc = cli_engine(cli, &e)))
    return rc;
  if (!(res = berth_image_prune(e, all, filters, &err)))
    return cli_fail(&err, CLI_EXIT_ERROR);
  return cli_print_prune(res);
}

/* ---- inspect, history ---- */

static json_t *get_image(struct berth_engine *e, const char *name, bool size, berth_error_t *err)
{
  (void)size;
  return berth_image_inspect(e, name, err);
}

/* docker inspect without --type: a container of that name or id, else an
 * image, else "No such object". */
static json_t *get_any(struct berth_engine *e, const char *name, bool size, berth_error_t *err)
{
  json_t *j = berth_container_inspect(e, name, size, err);
  if (j || (*err)->code != ENOENT)
    return j;
  berth_error_release(err);
  if ((j = berth_image_inspect(e, name, err)) || (*err)->code != ENOENT)
    return j;
  berth_error_release(err);
  if ((j = cli_get_volume(e, name, false, err)) || (*err)->code != ENOENT)
    return j;
  berth_error_release(err);
  berth_error_set_plain(err, ENOENT, "No such object: %s", name);
  return NULL;
}

int cmd_image_inspect(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const char *format = NULL;
  bool done;
  const struct cli_flag flags[] = {
      {"format", 'f', CLI_STRING, &format, "string", CLI_INSPECT_FORMAT_HELP, false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 1, -1)))
    return rc;
  return cli_inspect_each(cli, argv, argc, format, false, get_image);
}

int cmd_inspect(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const char *format = NULL, *type = NULL;
  bool size = false, done;
  const struct cli_flag flags[] = {
      {"format", 'f', CLI_STRING, &format, "string", CLI_INSPECT_FORMAT_HELP, false},
      {"size", 's', CLI_BOOL, &size, NULL, "Display total file sizes if the type is container", false},
      {"type", 0, CLI_STRING, &type, "string", "Only inspect objects of the given type", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 1, -1)))
    return rc;
  if (type && strcmp(type, "image") != 0 && strcmp(type, "container") != 0 && strcmp(type, "volume") != 0) {
    fprintf(stderr, "unknown type: \"%s\": must be one of \"container\", \"image\", \"volume\"\n", type);
    return CLI_EXIT_ERROR;
  }
  if (type && strcmp(type, "volume") == 0)
    return cli_inspect_each(cli, argv, argc, format, false, cli_get_volume);
  if (type && strcmp(type, "image") == 0)
    return cli_inspect_each(cli, argv, argc, format, false, get_image);
  if (type)
    return cli_inspect_containers(cli, argv, argc, format, size);
  return cli_inspect_each(cli, argv, argc, format, size, get_any);
}

static const struct cli_header history_headers[] = {
    {"ID", "IMAGE"},   {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"}, {"CreatedBy", "CREATED BY"},
    {"Size", "SIZE"}, {"Comment", "COMMENT"},      {NULL, NULL},
};

int cmd_history(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool human = true, no_trunc = false, quiet = false;
  const char *format = NULL;
  const struct cli_flag flags[] = {
      {"format", 0, CLI_STRING, &format, "string", CLI_FORMAT_HELP, false},
      {"human", 'H', CLI_BOOL, &human, NULL, "Print sizes and dates in human readable format (default true)", false},
      {"no-trunc", 0, CLI_BOOL, &no_trunc, NULL, "Don't truncate output", false},
      {"quiet", 'q', CLI_BOOL, &quiet, NULL, "Only show image IDs", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_json json_t *hist = NULL, *rows = json_array();
  json_t *h;
  size_t i;
  int rc;
  if (!cli_start(cli, cmd, flags, &argc, argv, 1, 1, &e, &rc))
    return rc;
  if (!(hist = berth_image_history(e, argv[0], &err)))
    return cli_fail(&err, CLI_EXIT_ERROR);
  json_array_foreach(hist, i, h)
  {
    const char *id = berth_json_str(h, "Id");
    char idbuf[80], size[32], since[64], at[64];
    cleanup_free char *by = strdup(berth_json_str(h, "CreatedBy"));
    time_t created = (time_t)berth_json_int(h, "Created", 0);
    snprintf(idbuf, sizeof(idbuf), "%s", strncmp(id, "sha256:", 7) == 0 && !no_trunc ? id + 7 : id);
    if (!no_trunc && strncmp(id, "sha256:", 7) == 0)
      idbuf[12] = '\0';
    if (quiet) {
      printf("%s\n", idbuf);
      continue;
    }
    if (human) {
      berth_human_size(berth_json_int(h, "Size", 0), size, sizeof(size));
      cli_format_since(created, since, sizeof(since));
      cli_format_time_rfc3339(created, at, sizeof(at));
    } else {
      snprintf(size, sizeof(size), "%lld", (long long)berth_json_int(h, "Size", 0));
      cli_format_time_rfc3339(created, since, sizeof(since));
      snprintf(at, sizeof(at), "%s", since);
    }
    if (!no_trunc && strlen(by) > 45)
      strcpy(by + 44, "…");
    json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", idbuf, "CreatedSince", since,
                                          "CreatedAt", at, "CreatedBy", by, "Size", size, "Comment",
                                          berth_json_str(h, "Comment")));
  }
  if (quiet)
    return 0;
  return cli_output_rows(rows, format,
                         "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
                         history_headers);
}

/* ---- import, save, load, bootstrap ---- */

int cmd_import(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  cleanup_strv char **changes = NULL;
  const char *message = NULL, *platform = NULL;
  const struct cli_flag flags[] = {
      {"change", 'c', CLI_STRV, &changes, "list", "Apply Dockerfile instruction to the created image", false},
      {"message", 'm', CLI_STRING, &message, "string", "Set commit message for imported image", false},
      {"platform", 0, CLI_STRING, &platform, "string", "Set platform if server is multi-platform capable", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_close int fd = -1;
  cleanup_free char *id = NULL;
  struct berth_import_opts opts = {0};
  int rc;
  if (!cli_start(cli, cmd, flags, &argc, argv, 1, 2, &e, &rc))
    return rc;
  if (strcmp(argv[0], "-") == 0)
    fd = dup(0);
  else if (strstr(argv[0], "://"))
    opts.url = argv[0];
  else
    fd = open(argv[0], O_RDONLY | O_CLOEXEC);
  if (fd < 0 && !opts.url)
    return cli_fail_errno(CLI_EXIT_ERROR, errno, "open %s", argv[0]);
  opts.reference = argc > 1 ? argv[1] : NULL;
  opts.changes = changes;
  opts.message = message;
  opts.platform = platform;
  if (berth_image_import(e, fd, &opts, &id, &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  printf("%s\n", id);
  return 0;
}

int cmd_save(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const char *output = NULL, *format = "docker-archive";
  bool done;
  const struct cli_flag flags[] = {
      {"output", 'o', CLI_STRING, &output, "string", "Write to a file, instead of STDOUT", false},
      {"format", 0, CLI_STRING, &format, "string", "Archive format: docker-archive (default) or oci-archive", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_close int fd = -1;
  cleanup_free char *tmp = NULL;
  enum berth_archive_format fmt;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 1, -1)))
    return rc;
  if (!strcmp(format, "docker-archive") || !strcmp(format, "docker"))
    fmt = BERTH_ARCHIVE_DOCKER;
  else if (!strcmp(format, "oci-archive") || !strcmp(format, "oci"))
    fmt = BERTH_ARCHIVE_OCI;
  else
    return cli_failf(CLI_EXIT_ERROR, "unknown archive format `%s`: use docker-archive or oci-archive", format);
  if (!output && isatty(1))
    return cli_failf(CLI_EXIT_ERROR, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  if ((rc = cli_engine(cli, &e)))
    return rc;
  if (output) {
    /* Write beside the target and rename at the end: no half-written archive. */
    if (asprintf(&tmp, "%s.berth-tmp-%d", output, (int)getpid()) < 0)
      abort();
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
      return cli_fail_errno(CLI_EXIT_ERROR, errno, "open %s", output);
  } else {
    fd = dup(1);
  }
  if (berth_image_save(e, argv, fmt, fd, &err) < 0) {
    if (tmp)
      unlink(tmp);
    return cli_fail(&err, CLI_EXIT_ERROR);
  }
  if (tmp && (fsync(fd) < 0 || rename(tmp, output) < 0)) {
    int saved = errno;
    unlink(tmp);
    return cli_fail_errno(CLI_EXIT_ERROR, saved, "write %s", output);
  }
  return 0;
}

int cmd_load(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const char *input = NULL;
  bool quiet = false, done;
  const struct cli_flag flags[] = {
      {"input", 'i', CLI_STRING, &input, "string", "Read from tar archive file, instead of STDIN", false},
      {"quiet", 'q', CLI_BOOL, &quiet, NULL, "Suppress the load output", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_close int fd = -1;
  cleanup_json json_t *loaded = NULL;
  json_t *v;
  size_t i;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 0, 0)))
    return rc;
  if (!input && isatty(0))
    return cli_failf(CLI_EXIT_ERROR, "requested load from stdin, but stdin is empty");
  fd = input ? open(input, O_RDONLY | O_CLOEXEC) : dup(0);
  if (fd < 0)
    return cli_fail_errno(CLI_EXIT_ERROR, errno, "open %s", input);
  if ((rc = cli_engine(cli, &e)))
    return rc;
  if (!(loaded = berth_image_load(e, fd, &err)))
    return cli_fail(&err, CLI_EXIT_ERROR);
  /* -q hides progress (there is none yet); docker prints the result anyway. */
  (void)quiet;
  json_array_foreach(loaded, i, v) printf("%s\n", json_string_value(v));
  return 0;
}

int cmd_image_bootstrap(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  struct berth_bootstrap_opts opts = {0};
  bool done;
  const struct cli_flag flags[] = {
      {"busybox", 0, CLI_STRING, &opts.busybox, "path", "Static busybox binary to use (default: from PATH)", false},
      {"suite", 0, CLI_STRING, &opts.suite, "string", "Debian suite (default \"bookworm\")", false},
      {"mirror", 0, CLI_STRING, &opts.mirror, "url", "Debian mirror (default: the host's)", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_free char *id = NULL;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 1, 2)))
    return rc;
  if (!strcmp(argv[0], "busybox"))
    opts.kind = BERTH_BOOTSTRAP_BUSYBOX;
  else if (!strcmp(argv[0], "debian"))
    opts.kind = BERTH_BOOTSTRAP_DEBIAN;
  else
    return cli_failf(CLI_EXIT_ERROR, "unknown bootstrap image `%s`: use busybox or debian", argv[0]);
  opts.reference = argc > 1 ? argv[1] : NULL;
  if ((rc = cli_engine(cli, &e)))
    return rc;
  if (berth_image_bootstrap(e, &opts, &id, &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  printf("%s\n", id);
  return 0;
}
