/* SPDX-License-Identifier: GPL-2.0-or-later */
/* System commands: version, info, system df, system prune. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "base/timeutil.h"
#include "base/json.h"
#include "berth-config.h"
#include "cli.h"
#include "output.h"
#include "base/units.h"

#define BERTH_API_VERSION "1.43"

static const char *go_arch(const char *machine)
{
  if (!strcmp(machine, "x86_64"))
    return "amd64";
  if (!strcmp(machine, "aarch64"))
    return "arm64";
  return machine;
}

int cmd_version(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const char *format = NULL;
  bool done;
  const struct cli_flag flags[] = {
      {"format", 'f', CLI_STRING, &format, "string", CLI_INSPECT_FORMAT_HELP, false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct utsname u;
  cleanup_json json_t *v = NULL;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 0, 0)))
    return rc;
  uname(&u);
  /* berth is client and engine at once: both report the same build. */
  v = json_pack("{s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "Client", "Version", BERTH_VERSION,
                "ApiVersion", BERTH_API_VERSION, "Os", "linux", "Arch", go_arch(u.machine), "Context", "default",
                "Server", "Version", BERTH_VERSION, "ApiVersion", BERTH_API_VERSION, "MinAPIVersion", "1.24", "Os",
                "linux", "Arch", go_arch(u.machine), "KernelVersion", u.release);
  if (format)
    return cli_output_template(v, format, "version");
  printf("Client:\n Version:           %s\n API version:       %s\n OS/Arch:           linux/%s\n Context:           "
         "default\n\nServer: berth (daemonless)\n Engine:\n  Version:          %s\n  API version:      %s (minimum "
         "version 1.24)\n  OS/Arch:          linux/%s\n  Kernel:           %s\n",
         BERTH_VERSION, BERTH_API_VERSION, go_arch(u.machine), BERTH_VERSION, BERTH_API_VERSION, go_arch(u.machine),
         u.release);
  return 0;
}

/* docker 28's runtimes, CDI folders and discovered devices; warnings last, on stderr. */
static void print_devices(const json_t *info)
{
  const char *name;
  json_t *v;
  size_t i;
  printf(" Runtimes:");
  json_object_foreach((json_t *)json_object_get(info, "Runtimes"), name, v) printf(" %s", name);
  printf("\n Default Runtime: %s\n CDI spec directories:\n", berth_json_str(info, "DefaultRuntime"));
  json_array_foreach(json_object_get(info, "CDISpecDirs"), i, v) printf("  %s\n", json_string_value(v));
  if (json_array_size(json_object_get(info, "DiscoveredDevices")))
    printf(" Discovered Devices:\n");
  json_array_foreach(json_object_get(info, "DiscoveredDevices"), i, v)
      printf("  %s: %s\n", berth_json_str(v, "Source"), berth_json_str(v, "ID"));
  json_array_foreach(json_object_get(info, "Warnings"), i, v) fprintf(stderr, "WARNING: %s\n", json_string_value(v));
}

int cmd_info(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const char *format = NULL;
  const struct cli_flag flags[] = {
      {"format", 'f', CLI_STRING, &format, "string", CLI_INSPECT_FORMAT_HELP, false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_json json_t *info = NULL;
  char mem[32];
  int rc;
  if (!cli_start(cli, cmd, flags, &argc, argv, 0, 0, &e, &rc))
    return rc;
  if (!(info = berth_system_info(e, &err)))
    return cli_fail(&err, CLI_EXIT_ERROR);
  if (format)
    return cli_output_template(info, format, NULL);
  berth_bytes_size((double)berth_json_int(info, "MemTotal", 0), mem, sizeof(mem));
  printf("Client:\n Version:    %s\n Context:    default\n Debug Mode: %s\n\n", BERTH_VERSION,
         cli->debug ? "true" : "false");
  printf("Server:\n Containers: %lld\n  Running: %lld\n  Paused: %lld\n  Stopped: %lld\n Images: %lld\n",
         (long long)berth_json_int(info, "Containers", 0), (long long)berth_json_int(info, "ContainersRunning", 0),
         (long long)berth_json_int(info, "ContainersPaused", 0),
         (long long)berth_json_int(info, "ContainersStopped", 0), (long long)berth_json_int(info, "Images", 0));
  printf(" Server Version: %s\n Storage Driver: %s\n  Supports d_type: true\n Logging Driver: json-file\n Cgroup "
         "Driver: %s\n Cgroup Version: %s\n Kernel Version: %s\n Operating System: %s\n OSType: linux\n "
         "Architecture: %s\n CPUs: %lld\n Total Memory: %s\n Name: %s\n Docker Root Dir: %s\n Run Root: %s\n",
         berth_json_str(info, "ServerVersion"), berth_json_str(info, "Driver"), berth_json_str(info, "CgroupDriver"),
         berth_json_str(info, "CgroupVersion"), berth_json_str(info, "KernelVersion"),
         berth_json_str(info, "OperatingSystem"), berth_json_str(info, "Architecture"),
         (long long)berth_json_int(info, "NCPU", 0), mem, berth_json_str(info, "Name"),
         berth_json_str(info, "DockerRootDir"), berth_json_str(info, "RunRoot"));
  print_devices(info);
  return 0;
}

static const struct cli_header df_headers[] = {
    {"Type", "TYPE"}, {"TotalCount", "TOTAL"}, {"Active", "ACTIVE"}, {"Size", "SIZE"}, {"Reclaimable", "RECLAIMABLE"},
    {NULL, NULL},
};

static json_t *df_row(const char *type, size_t total, size_t active, int64_t size, int64_t reclaimable)
{
  char s[32], r[32], rr[48];
  /* docker's df uses units.HumanSize: four significant digits */
  berth_human_size_prec((double)size, 4, s, sizeof(s));
  berth_human_size_prec((double)reclaimable, 4, r, sizeof(r));
  if (size > 0)
    snprintf(rr, sizeof(rr), "%s (%d%%)", r, (int)(reclaimable * 100 / size));
  else
    snprintf(rr, sizeof(rr), "%s", r);
  char t[24], a[24];
  snprintf(t, sizeof(t), "%zu", total);
  snprintf(a, sizeof(a), "%zu", active);
  return json_pack("{s:s, s:s, s:s, s:s, s:s}", "Type", type, "TotalCount", t, "Active", a, "Size", s,
                   "Reclaimable", rr);
}

/* docker-cli's rule: running, paused and restarting containers are active;
 * the writable layers of the others are reclaimable. */
static json_t *containers_row(const json_t *containers)
{
  size_t i, active = 0;
  int64_t size = 0, reclaimable = 0;
  json_t *c;
  json_array_foreach(containers, i, c)
  {
    const char *state = berth_json_str(c, "State");
    int64_t rw = berth_json_int(c, "SizeRw", 0);
    bool up = state && (!strcmp(state, "running") || !strcmp(state, "paused") || !strcmp(state, "restarting"));
    active += up;
    size += rw;
    reclaimable += up ? 0 : rw;
  }
  return df_row("Containers", json_array_size(containers), active, size, reclaimable);
}

/* docker-cli's rule: a volume with a container is active; the others'
 * content is reclaimable. */
static json_t *volumes_row(const json_t *volumes)
{
  size_t i, active = 0;
  int64_t size = 0, reclaimable = 0;
  json_t *v;
  json_array_foreach(volumes, i, v)
  {
    const json_t *u = json_object_get(v, "UsageData");
    int64_t sz = berth_json_int(u, "Size", 0);
    bool used = berth_json_int(u, "RefCount", 0) > 0;
    active += used;
    size += sz;
    reclaimable += used ? 0 : sz;
  }
  return df_row("Local Volumes", json_array_size(volumes), active, size, reclaimable);
}

/* docker-cli's rule: cache records not in use are reclaimable. */
static json_t *build_cache_row(const json_t *cache)
{
  size_t i, active = 0;
  int64_t size = 0, reclaimable = 0;
  json_t *b;
  json_array_foreach(cache, i, b)
  {
    bool used = json_is_true(json_object_get(b, "InUse"));
    int64_t sz = berth_json_int(b, "Size", 0);
    active += used;
    size += sz;
    reclaimable += used ? 0 : sz;
  }
  return df_row("Build Cache", json_array_size(cache), active, size, reclaimable);
}

static time_t rfc3339_seconds(const char *s)
{
  int64_t ns = 0;
  return s && berth_parse_rfc3339(s, &ns, NULL) == 0 ? (time_t)(ns / 1000000000) : 0;
}

static int df_verbose(const json_t *df)
{
  static const struct cli_header hdr[] = {
      {"Repository", "REPOSITORY"}, {"Tag", "TAG"},           {"ID", "IMAGE ID"},          {"CreatedSince", "CREATED"},
      {"Size", "SIZE"},             {"SharedSize", "SHARED SIZE"}, {"UniqueSize", "UNIQUE SIZE"}, {"Containers", "CONTAINERS"},
      {NULL, NULL},
  };
  cleanup_json json_t *rows = json_array();
  json_t *img;
  size_t i;
  json_array_foreach(json_object_get(df, "Images"), i, img)
  {
    json_t *tags = json_object_get(img, "RepoTags");
    const char *first = json_string_value(json_array_get(tags, 0));
    cleanup_free char *repo = NULL;
    const char *tag = "<none>";
    char id[16], size[32], shared[32], unique[32], since[64];
    int64_t sz = berth_json_int(img, "Size", 0), sh = berth_json_int(img, "SharedSize", 0);
    if (first) {
      const char *colon = strrchr(first, ':');
      repo = colon && !strchr(colon, '/') ? strndup(first, (size_t)(colon - first)) : strdup(first);
      tag = colon && !strchr(colon, '/') ? colon + 1 : "<none>";
    }
    snprintf(id, sizeof(id), "%.12s", berth_json_str(img, "Id") + 7);
    berth_human_size(sz, size, sizeof(size));
    berth_human_size_prec((double)sh, 4, shared, sizeof(shared));
    berth_human_size_prec((double)(sz - sh), 4, unique, sizeof(unique));
    cli_format_since((time_t)berth_json_int(img, "Created", 0), since, sizeof(since));
    char containers[24];
    snprintf(containers, sizeof(containers), "%lld", (long long)berth_json_int(img, "Containers", 0));
    json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Repository",
                                          repo ? repo : "<none>", "Tag", tag, "ID", id, "CreatedSince", since, "Size",
                                          size, "SharedSize", shared, "UniqueSize", unique, "Containers", containers));
  }
  printf("Images space usage:\n\n");
  if (cli_output_rows(rows, NULL,
                      "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{."
                      "UniqueSize}}\t{{.Containers}}",
                      hdr) != 0)
    return CLI_EXIT_ERROR;
  printf("\nContainers space usage:\n\n");
  static const struct cli_header chdr[] = {{"ID", "CONTAINER ID"}, {"Image", "IMAGE"}, {"Command", "COMMAND"},
                                           {"LocalVolumes", "LOCAL VOLUMES"}, {"Size", "SIZE"},
                                           {"RunningFor", "CREATED"}, {"Status", "STATUS"}, {"Names", "NAMES"},
                                           {NULL, NULL}};
  cleanup_json json_t *crows = json_array();
  json_array_foreach(json_object_get(df, "Containers"), i, img)
  {
    cleanup_json json_t *rw_only = json_deep_copy(img); /* the size of its own layer, no "(virtual ...)" */
    json_object_del(rw_only, "SizeRootFs");
    json_array_append_new(crows, cli_container_row(rw_only, true));
  }
  if (cli_output_rows(crows, NULL,
                      "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{."
                      "Status}}\t{{.Names}}",
                      chdr) != 0)
    return CLI_EXIT_ERROR;
  printf("\nLocal Volumes space usage:\n\n");
  static const struct cli_header vhdr[] = {{"Name", "VOLUME NAME"}, {"Links", "LINKS"}, {"Size", "SIZE"}, {NULL, NULL}};
  cleanup_json json_t *vrows = json_array();
  json_t *v;
  json_array_foreach(json_object_get(df, "Volumes"), i, v)
  {
    const json_t *u = json_object_get(v, "UsageData");
    char links[24], size[32];
    snprintf(links, sizeof links, "%lld", (long long)berth_json_int(u, "RefCount", 0));
    berth_human_size_prec((double)berth_json_int(u, "Size", 0), 4, size, sizeof size);
    json_array_append_new(vrows, json_pack("{s:s, s:s, s:s}", "Name", berth_json_str(v, "Name"), "Links", links,
                                           "Size", size));
  }
  if (cli_output_rows(vrows, NULL, "table {{.Name}}\t{{.Links}}\t{{.Size}}", vhdr) != 0)
    return CLI_EXIT_ERROR;
  static const struct cli_header bhdr[] = {{"ID", "CACHE ID"},     {"Type", "CACHE TYPE"}, {"Size", "SIZE"},
                                           {"Created", "CREATED"}, {"Used", "LAST USED"},  {"Usage", "USAGE"},
                                           {"Shared", "SHARED"},   {NULL, NULL}};
  cleanup_json json_t *brows = json_array();
  int64_t cache_total = 0;
  json_array_foreach(json_object_get(df, "BuildCache"), i, v)
  {
    char size[32], created[64], used[64], usage[24];
    cache_total += berth_json_int(v, "Size", 0);
    berth_human_size_prec((double)berth_json_int(v, "Size", 0), 4, size, sizeof size);
    cli_format_since(rfc3339_seconds(berth_json_str(v, "CreatedAt")), created, sizeof created);
    cli_format_since(rfc3339_seconds(berth_json_str(v, "LastUsedAt")), used, sizeof used);
    snprintf(usage, sizeof usage, "%lld", (long long)berth_json_int(v, "UsageCount", 0));
    json_array_append_new(brows, json_pack("{s:s%, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", berth_json_str(v, "ID"),
                                           (size_t)12, "Type", berth_json_str(v, "Type"), "Size", size, "Created",
                                           created, "Used", used, "Usage", usage, "Shared",
                                           json_is_true(json_object_get(v, "Shared")) ? "true" : "false"));
  }
  char total[32];
  berth_human_size_prec((double)cache_total, 4, total, sizeof total);
  printf("\nBuild cache usage: %s\n\n", total);
  return cli_output_rows(brows, NULL,
                         "table {{.ID}}\t{{.Type}}\t{{.Size}}\t{{.Created}}\t{{.Used}}\t{{.Usage}}\t{{.Shared}}", bhdr);
}

int cmd_system_df(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const char *format = NULL;
  bool verbose = false;
  const struct cli_flag flags[] = {
      {"format", 0, CLI_STRING, &format, "string", CLI_FORMAT_HELP, false},
      {"verbose", 'v', CLI_BOOL, &verbose, NULL, "Show detailed information on space usage", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_json json_t *df = NULL, *rows = json_array();
  json_t *images;
  size_t active = 0, i;
  json_t *img;
  int64_t layers;
  int rc;
  if (!cli_start(cli, cmd, flags, &argc, argv, 0, 0, &e, &rc))
    return rc;
  if (!(df = berth_system_df(e, &err)))
    return cli_fail(&err, CLI_EXIT_ERROR);
  if (verbose && !format)
    return df_verbose(df);
  images = json_object_get(df, "Images");
  layers = berth_json_int(df, "LayersSize", 0);
  /* docker-cli's rule: what the images in use hold alone is not reclaimable */
  int64_t used = 0;
  json_array_foreach(images, i, img) if (berth_json_int(img, "Containers", 0) > 0)
  {
    active++;
    used += berth_json_int(img, "Size", 0) - berth_json_int(img, "SharedSize", 0);
  }
  json_array_append_new(rows, df_row("Images", json_array_size(images), active, layers,
                                     layers - used > 0 ? layers - used : 0));
  json_array_append_new(rows, containers_row(json_object_get(df, "Containers")));
  json_array_append_new(rows, volumes_row(json_object_get(df, "Volumes")));
  json_array_append_new(rows, build_cache_row(json_object_get(df, "BuildCache")));
  return cli_output_rows(rows, format, "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                         df_headers);
}

/* berth's answer to dockerd's start: run once at boot (contrib/systemd/
 * berth-boot.service), it starts the containers with a restart policy that
 * asks for it; prints each one started, and the errors. */
int cmd_system_boot(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const struct cli_flag flags[] = {{NULL, 0, 0, NULL, NULL, NULL, false}};
  struct berth_engine *e;
  berth_error_t err = NULL;
  int rc;
  if (!cli_start(cli, cmd, flags, &argc, argv, 0, 0, &e, &rc))
    return rc;
  cleanup_json json_t *res = berth_containers_boot(e, &err);
  if (!res)
    return cli_fail(&err, CLI_EXIT_ERROR);
  size_t i;
  json_t *v;
  json_array_foreach(res, i, v)
  {
    const char *msg = berth_json_str(v, "Error");
    if (msg) {
      fprintf(stderr, "Error response from daemon: %s\n", msg);
      rc = CLI_EXIT_ERROR;
    } else {
      printf("%s\n", berth_json_str(v, "Name"));
    }
  }
  return rc;
}

int cmd_system_prune(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool all = false, force = false, volumes = false, done;
  cleanup_strv char **filters = NULL;
  const struct cli_flag flags[] = {
      {"all", 'a', CLI_BOOL, &all, NULL, "Remove all unused images not just dangling ones", false},
      {"filter", 0, CLI_STRV, &filters, "filter", "Provide filter values (e.g. \"label=<key>=<value>\")", false},
      {"force", 'f', CLI_BOOL, &force, NULL, "Do not prompt for confirmation", false},
      {"volumes", 0, CLI_BOOL, &volumes, NULL, "Prune anonymous volumes", false},
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
  if (!force) {
    char warning[512];
    snprintf(warning, sizeof(warning),
             "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one "
             "container\n%s  - %s\n  - unused build cache\n",
             volumes ? "  - all anonymous volumes not used by at least one container\n" : "",
             all ? "all images without at least one container associated to them" : "all dangling images");
    if (!cli_confirm(warning))
      return 0;
  }
  if ((rc = cli_engine(cli, &e)))
    return rc;
  if (!(res = berth_system_prune(e, all, volumes, filters, &err)))
    return cli_fail(&err, CLI_EXIT_ERROR);
  return cli_print_prune(res);
}
