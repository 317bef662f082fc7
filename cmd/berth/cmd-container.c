/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Container commands other than run/create: start, stop, restart, kill, rm,
 * wait, rename, attach, ps, container inspect and prune.  Each calls the
 * engine per name and reports like docker: names on stdout as they succeed,
 * errors on stderr, exit 1 when any failed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <berth/engine.h>

#include "attach-tty.h"
#include "base/cleanup.h"
#include "net/net.h"
#include "base/json.h"
#include "cli.h"
#include "output.h"
#include "run-flags.h"
#include "table.h"
#include "template.h"
#include "base/units.h"


/* ---- stop, restart, kill ---- */

enum lifecycle_op { OP_STOP, OP_RESTART, OP_KILL };

static int lifecycle(struct cli *cli, const struct cli_command *cmd, int argc, char **argv, enum lifecycle_op op)
{
  const char *signal = NULL;
  long timeout = CLI_RUN_UNSET, time_flag = CLI_RUN_UNSET;
  bool done;
  const struct cli_flag stop_flags[] = {
      {"signal", 's', CLI_STRING, &signal, "string", "Signal to send to the container", false},
      {"time", 0, CLI_INT, &time_flag, "int", "Seconds to wait before killing the container (deprecated)", true},
      {"timeout", 't', CLI_INT, &timeout, "int", "Seconds to wait before killing the container", false},
      END_FLAGS,
  };
  const struct cli_flag kill_flags[] = {
      {"signal", 's', CLI_STRING, &signal, "string", "Signal to send to the container", false},
      END_FLAGS,
  };
  struct berth_engine *e;
  int rc, status = 0;
  if ((rc = cli_parse_flags(cli, cmd, op == OP_KILL ? kill_flags : stop_flags, true, &argc, argv, &done)) || done)
    return rc;
  if (time_flag != CLI_RUN_UNSET) {
    fprintf(stderr, "Flag --time has been deprecated, use --timeout instead\n");
    if (timeout == CLI_RUN_UNSET)
      timeout = time_flag;
  }
  if ((rc = cli_require_args(cli, cmd, argc, 1, -1)) || (rc = cli_engine(cli, &e)))
    return rc;
  for (int i = 0; i < argc; i++) {
    berth_error_t err = NULL;
    int t = timeout == CLI_RUN_UNSET ? -1 : (int)timeout;
    int r = op == OP_STOP      ? berth_container_stop(e, argv[i], t, signal, &err)
            : op == OP_RESTART ? berth_container_restart(e, argv[i], t, signal, &err)
                               : berth_container_kill(e, argv[i], signal, &err);
    if (r < 0)
      status = cli_fail(&err, CLI_EXIT_ERROR);
    else
      printf("%s\n", argv[i]);
  }
  return status;
}

int cmd_stop(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  return lifecycle(cli, cmd, argc, argv, OP_STOP);
}

int cmd_restart(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  return lifecycle(cli, cmd, argc, argv, OP_RESTART);
}

int cmd_kill(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  return lifecycle(cli, cmd, argc, argv, OP_KILL);
}

/* ---- rm, wait, rename ---- */

int cmd_rm(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool force = false, volumes = false, link = false, done;
  const struct cli_flag flags[] = {
      {"force", 'f', CLI_BOOL, &force, NULL, "Force the removal of a running container (uses SIGKILL)", false},
      {"link", 'l', CLI_BOOL, &link, NULL, "Remove the specified link", false},
      {"volumes", 'v', CLI_BOOL, &volumes, NULL, "Remove anonymous volumes associated with the container", false},
      END_FLAGS,
  };
  struct berth_engine *e;
  int rc, status = 0;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 1, -1)))
    return rc;
  if (link)
    return cli_failf(CLI_EXIT_ERROR, "links are not supported");
  if ((rc = cli_engine(cli, &e)))
    return rc;
  for (int i = 0; i < argc; i++) {
    berth_error_t err = NULL;
    struct berth_rm_opts opts = {.force = force, .volumes = volumes};
    if (berth_container_remove(e, argv[i], &opts, &err) == 0) {
      printf("%s\n", argv[i]);
      continue;
    }
    /* docker rm -f: a container that is not there is not an error */
    if (force && err->code == ENOENT) {
      berth_error_release(&err);
      continue;
    }
    status = cli_fail(&err, CLI_EXIT_ERROR);
  }
  return status;
}

int cmd_wait(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const struct cli_flag flags[] = {END_FLAGS};
  struct berth_engine *e;
  int rc, status = 0;
  if (!cli_start(cli, cmd, flags, &argc, argv, 1, -1, &e, &rc))
    return rc;
  for (int i = 0; i < argc; i++) {
    berth_error_t err = NULL;
    int code = 0;
    if (berth_container_wait(e, argv[i], "not-running", &code, &err) < 0)
      status = cli_fail(&err, CLI_EXIT_ERROR);
    else
      printf("%d\n", code);
    fflush(stdout);
  }
  return status;
}

int cmd_rename(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const struct cli_flag flags[] = {END_FLAGS};
  struct berth_engine *e;
  berth_error_t err = NULL;
  bool done;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 2, 2)))
    return rc;
  if (!*argv[0] || !*argv[1])
    return cli_failf(CLI_EXIT_ERROR, "Neither old nor new names may be empty");
  if ((rc = cli_engine(cli, &e)))
    return rc;
  if (berth_container_rename(e, argv[0], argv[1], &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  return 0;
}

/* ---- attach and start ---- */

static int parse_keys(const char *spec, unsigned char *keys, int cap, int *ret_n)
{
  berth_error_t err = NULL;
  *ret_n = 0;
  if (!spec || !*spec)
    return 0;
  if ((*ret_n = cli_parse_detach_keys(spec, keys, cap, &err)) < 0) {
    int rc = cli_failf(CLI_EXIT_ERROR, "Invalid detach keys (%s) provided: %s", spec, err->msg);
    berth_error_release(&err);
    return rc;
  }
  return 0;
}

/* Attach to `name` and relay; *ret_detached tells a detach from an exit.
 * Returns the container's exit code, or an error exit code after printing. */
static int attach_and_relay(struct cli *cli, struct berth_engine *e, const char *name,
                            const struct berth_attach_opts *ao, struct cli_relay_opts *ro, bool *ret_detached)
{
  berth_error_t err = NULL;
  struct cli_relay_result res;
  cleanup_close int fd = -1;
  cleanup_free char *error = NULL;
  (void)cli;
  *ret_detached = false;
  if (berth_container_attach(e, name, ao, &fd, &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  ro->stdin = ao->stdin;
  ro->stdout = ao->stdout;
  ro->stderr = ao->stderr;
  ro->engine = e;
  ro->container = name;
  if (cli_attach_relay(fd, ro, &res, &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  error = res.error;
  *ret_detached = res.detached;
  if (res.detached)
    return 0;
  if (error)
    return cli_failf(res.exit_code == 126 || res.exit_code == 127 ? res.exit_code : CLI_EXIT_ERROR, "%s", error);
  return res.exit_code;
}

int cmd_attach(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool no_stdin = false, sig_proxy = true, done, tty = false, open_stdin = false, detached;
  const char *detach_keys = NULL;
  const struct cli_flag flags[] = {
      {"detach-keys", 0, CLI_STRING, &detach_keys, "string", "Override the key sequence for detaching a container",
       false},
      {"no-stdin", 0, CLI_BOOL, &no_stdin, NULL, "Do not attach STDIN", false},
      {"sig-proxy", 0, CLI_BOOL, &sig_proxy, NULL, "Proxy all received signals to the process (default true)",
       false},
      END_FLAGS,
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  unsigned char keys[32];
  struct cli_relay_opts ro = {0};
  struct berth_attach_opts ao = {.stdout = true, .stderr = true};
  int rc, n_keys;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 1, 1)) || (rc = parse_keys(detach_keys, keys, 32, &n_keys)) ||
      (rc = cli_engine(cli, &e)))
    return rc;
  if (berth_container_tty(e, argv[0], &tty, &open_stdin, &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  ao.stdin = !no_stdin && open_stdin;
  if (ao.stdin && tty && !isatty(STDIN_FILENO)) {
    fprintf(stderr, "the input device is not a TTY\n");
    return CLI_EXIT_ERROR;
  }
  ro = (struct cli_relay_opts){.tty = tty, .sig_proxy = sig_proxy, .detach_keys = keys, .n_detach_keys = n_keys};
  rc = attach_and_relay(cli, e, argv[0], &ao, &ro, &detached);
  if (detached) {
    /* docker attach reports the detach as its error */
    fprintf(stderr, "read escape sequence\n");
    return CLI_EXIT_ERROR;
  }
  return rc;
}

static int start_attached(struct cli *cli, struct berth_engine *e, const char *name, bool interactive,
                          const unsigned char *keys, int n_keys)
{
  berth_error_t err = NULL;
  bool tty = false, open_stdin = false, detached;
  struct berth_start_opts so = {.wait_for_attach = true};
  struct berth_attach_opts ao = {.stdout = true, .stderr = true, .start = true};
  struct cli_relay_opts ro;
  if (berth_container_tty(e, name, &tty, &open_stdin, &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  ao.stdin = interactive && open_stdin;
  if (ao.stdin && tty && !isatty(STDIN_FILENO)) {
    fprintf(stderr, "the input device is not a TTY\n");
    return CLI_EXIT_ERROR;
  }
  if (berth_container_start(e, name, &so, &err) < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  ro = (struct cli_relay_opts){.tty = tty, .sig_proxy = true, .detach_keys = keys, .n_detach_keys = n_keys};
  return attach_and_relay(cli, e, name, &ao, &ro, &detached);
}

int cmd_start(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool attach = false, interactive = false, done;
  const char *detach_keys = NULL;
  const struct cli_flag flags[] = {
      {"attach", 'a', CLI_BOOL, &attach, NULL, "Attach STDOUT/STDERR and forward signals", false},
      {"detach-keys", 0, CLI_STRING, &detach_keys, "string", "Override the key sequence for detaching a container",
       false},
      {"interactive", 'i', CLI_BOOL, &interactive, NULL, "Attach container's STDIN", false},
      END_FLAGS,
  };
  struct berth_engine *e;
  unsigned char keys[32];
  int rc, n_keys, failed = 0;
  cleanup_free char *names = NULL;
  size_t names_len = 0;
  FILE *list;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 1, -1)) || (rc = parse_keys(detach_keys, keys, 32, &n_keys)))
    return rc;
  if ((attach || interactive) && argc > 1)
    return cli_failf(CLI_EXIT_ERROR, "you cannot start and attach multiple containers at once");
  if ((rc = cli_engine(cli, &e)))
    return rc;
  if (attach || interactive)
    return start_attached(cli, e, argv[0], interactive, keys, n_keys);
  list = open_memstream(&names, &names_len);
  if (!list)
    abort();
  for (int i = 0; i < argc; i++) {
    berth_error_t err = NULL;
    struct berth_start_opts so = {.wait_for_attach = false};
    if (berth_container_start(e, argv[i], &so, &err) < 0) {
      cleanup_free char *s = berth_error_string(err);
      berth_error_release(&err);
      fprintf(stderr, "Error: %s\n", s);
      fprintf(list, "%s%s", failed++ ? ", " : "", argv[i]);
      continue;
    }
    printf("%s\n", argv[i]);
  }
  fclose(list);
  if (failed)
    return cli_failf(CLI_EXIT_ERROR, "failed to start containers: %s", names);
  return 0;
}

/* ---- ps ---- */

static const struct cli_header ps_headers[] = {
    {"ID", "CONTAINER ID"},   {"Image", "IMAGE"},     {"Command", "COMMAND"},   {"CreatedAt", "CREATED AT"},
    {"RunningFor", "CREATED"}, {"Ports", "PORTS"},    {"State", "STATE"},       {"Status", "STATUS"},
    {"Size", "SIZE"},         {"Names", "NAMES"},     {"Labels", "LABELS"},     {"Label", "LABEL"},
    {"Mounts", "MOUNTS"},     {"Networks", "NETWORKS"}, {"LocalVolumes", "LOCAL VOLUMES"}, {NULL, NULL},
};

/* docker's formatter.Ellipsis: at most `width` terminal columns, the last
 * one an ellipsis when cut. */
static char *ellipsis(const char *s, size_t width)
{
  size_t len = strlen(s), used = 0, i = 0;
  char *out;
  if (berth_text_width(s, len) <= width)
    return strdup(s);
  while (i < len) {
    size_t n = 1, w;
    unsigned char c = (unsigned char)s[i];
    if (c >= 0xc0)
      n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if (i + n > len)
      n = len - i;
    w = berth_text_width(s + i, n);
    if (used + w > width - 1)
      break;
    used += w;
    i += n;
  }
  out = malloc(i + 4);
  if (!out)
    abort();
  memcpy(out, s, i);
  memcpy(out + i, "\xe2\x80\xa6", 4);
  return out;
}

/* Go's strconv.Quote for the text docker shows (UTF-8 kept as it is). */
static char *go_quote(const char *s)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  if (!f)
    abort();
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    const char *esc = NULL;
    switch (*p) {
    case '"': esc = "\\\""; break;
    case '\\': esc = "\\\\"; break;
    case '\a': esc = "\\a"; break;
    case '\b': esc = "\\b"; break;
    case '\f': esc = "\\f"; break;
    case '\n': esc = "\\n"; break;
    case '\r': esc = "\\r"; break;
    case '\t': esc = "\\t"; break;
    case '\v': esc = "\\v"; break;
    default: break;
    }
    if (esc)
      fputs(esc, f);
    else if (*p < 0x20 || *p == 0x7f)
      fprintf(f, "\\x%02x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
  fclose(f);
  return out;
}

static char *short_id(const char *id, bool trunc)
{
  if (strncmp(id, "sha256:", 7) == 0)
    id += 7;
  return trunc ? strndup(id, 12) : strdup(id);
}

static char *join_names(const json_t *names, bool trunc)
{
  char *out = NULL;
  size_t len = 0, i;
  json_t *v;
  bool first = true;
  FILE *f = open_memstream(&out, &len);
  if (!f)
    abort();
  json_array_foreach(names, i, v)
  {
    const char *n = json_string_value(v);
    if (!n)
      continue;
    if (*n == '/')
      n++;
    /* truncated output hides link names ("/other/alias") as docker does */
    if (trunc && strchr(n, '/'))
      continue;
    fprintf(f, "%s%s", first ? "" : ",", n);
    first = false;
  }
  fclose(f);
  return out;
}

static char *join_labels(const json_t *labels)
{
  const char **keys;
  size_t n = json_object_size(labels), k = 0, len = 0;
  const char *key;
  json_t *v;
  char *out = NULL;
  FILE *f = open_memstream(&out, &len);
  if (!f || !(keys = calloc(n + 1, sizeof(*keys))))
    abort();
  json_object_foreach((json_t *)labels, key, v) keys[k++] = key;
  qsort(keys, k, sizeof(*keys), (int (*)(const void *, const void *))strcmp);
  for (size_t i = 0; i < k; i++)
    fprintf(f, "%s%s=%s", i ? "," : "", keys[i], json_string_value(json_object_get(labels, keys[i])));
  free(keys);
  fclose(f);
  return out;
}

static char *join_mounts(const json_t *mounts, bool trunc, int *ret_local)
{
  char *out = NULL;
  size_t len = 0, i;
  json_t *m;
  FILE *f = open_memstream(&out, &len);
  if (!f)
    abort();
  *ret_local = 0;
  json_array_foreach(mounts, i, m)
  {
    const char *name = berth_json_str(m, "Name");
    cleanup_free char *shown = NULL;
    if (!name || !*name)
      name = berth_json_str(m, "Source");
    shown = trunc ? ellipsis(name ? name : "", 15) : strdup(name ? name : "");
    fprintf(f, "%s%s", i ? "," : "", shown);
    if (berth_json_str(m, "Driver") && strcmp(berth_json_str(m, "Driver"), "local") == 0)
      (*ret_local)++;
  }
  fclose(f);
  return out;
}

/* docker's PORTS (the CLI's DisplayablePorts): the ports sorted; those
 * published on the same number as in the container, and those only exposed,
 * grouped into runs per address and protocol ("0.0.0.0:8000-8001->8000-8001/tcp",
 * "80-81/tcp"); then the others one by one ("[::]:8080->80/tcp"). */
struct port_row {
  const char *ip, *type; /* ip NULL: exposed only */
  long long priv, pub;
};

static int cmp_port_rows(const void *x, const void *y)
{
  const struct port_row *a = x, *b = y;
  int c;
  if (a->priv != b->priv)
    return a->priv < b->priv ? -1 : 1;
  if ((c = strcmp(a->ip ? a->ip : "", b->ip ? b->ip : "")))
    return c;
  if (a->pub != b->pub)
    return a->pub < b->pub ? -1 : 1;
  return strcmp(a->type, b->type);
}

static void port_item(FILE *f, bool *any, const char *ip, const char *type, long long first, long long last)
{
  char range[48], hp[80];
  snprintf(range, sizeof range, first == last ? "%lld" : "%lld-%lld", first, last);
  fputs(*any ? ", " : "", f);
  *any = true;
  if (ip)
    fprintf(f, "%s->", berth_net_join_host_port(ip, range, hp));
  fprintf(f, "%s/%s", range, type);
}

static char *ports_text(const json_t *summary)
{
  const json_t *ports = json_object_get(summary, "Ports"), *p;
  size_t n = json_array_size(ports), ng = 0, i;
  cleanup_free struct port_row *rows = calloc(n + 1, sizeof *rows), *groups = calloc(n + 1, sizeof *groups);
  char *out = NULL, *maps = NULL;
  size_t len = 0, mlen = 0;
  bool any = false, any_map = false;
  FILE *f = open_memstream(&out, &len), *mf = open_memstream(&maps, &mlen);
  if (!rows || !groups || !f || !mf)
    abort();
  json_array_foreach(ports, i, p)
  {
    rows[i] = (struct port_row){berth_json_str(p, "IP"), berth_json_str(p, "Type"), berth_json_int(p, "PrivatePort", 0),
                                berth_json_int(p, "PublicPort", 0)};
    if (!rows[i].type)
      rows[i].type = "tcp";
  }
  qsort(rows, n, sizeof *rows, cmp_port_rows);
  for (i = 0; i < n; i++) {
    const struct port_row *r = &rows[i];
    if (r->ip && r->pub != r->priv) {
      char hp[80], pub[24];
      snprintf(pub, sizeof pub, "%lld", r->pub);
      fprintf(mf, "%s%s->%lld/%s", any_map ? ", " : "", berth_net_join_host_port(r->ip, pub, hp), r->priv, r->type);
      any_map = true;
      continue;
    }
    struct port_row *g = groups;
    while (g < groups + ng && (strcmp(g->type, r->type) != 0 || (g->ip == NULL) != (r->ip == NULL) ||
                               (g->ip && strcmp(g->ip, r->ip) != 0)))
      g++;
    if (g == groups + ng) { /* first of its address and protocol: priv and pub are its run */
      groups[ng++] = (struct port_row){r->ip, r->type, r->priv, r->priv};
    } else if (r->priv == g->pub + 1) {
      g->pub = r->priv;
    } else {
      port_item(f, &any, g->ip, g->type, g->priv, g->pub);
      g->priv = g->pub = r->priv;
    }
  }
  for (i = 0; i < ng; i++)
    port_item(f, &any, groups[i].ip, groups[i].type, groups[i].priv, groups[i].pub);
  fclose(mf);
  fprintf(f, "%s%s", any && any_map ? ", " : "", maps);
  free(maps);
  fclose(f);
  return out;
}

static char *network_names(const json_t *summary)
{
  json_t *nets = json_object_get(json_object_get(summary, "NetworkSettings"), "Networks");
  const char **keys, *key;
  json_t *v;
  size_t n = json_object_size(nets), k = 0, len = 0;
  char *out = NULL;
  FILE *f = open_memstream(&out, &len);
  if (!f || !(keys = calloc(n + 1, sizeof(*keys))))
    abort();
  json_object_foreach(nets, key, v) keys[k++] = key;
  qsort(keys, k, sizeof(*keys), (int (*)(const void *, const void *))strcmp);
  for (size_t i = 0; i < k; i++)
    fprintf(f, "%s%s", i ? "," : "", keys[i]);
  free(keys);
  fclose(f);
  return out;
}

static char *image_name(const char *image, bool trunc)
{
  const char *at;
  if (!trunc)
    return strdup(image);
  if (strncmp(image, "sha256:", 7) == 0)
    return strndup(image + 7, 12);
  at = strchr(image, '@');
  return at ? strndup(image, (size_t)(at - image)) : strdup(image);
}

/* One row of docker's ContainerContext, members in the order its JSON
 * output has them (sorted). */
json_t *cli_container_row(const json_t *c, bool trunc)
{
  char created_at[64], running_for[64], srw[BERTH_UNITS_BUFSZ], sv[BERTH_UNITS_BUFSZ], size[2 * BERTH_UNITS_BUFSZ + 16];
  time_t created = (time_t)berth_json_int(c, "Created", 0);
  json_int_t size_rw = berth_json_int(c, "SizeRw", 0), size_root = berth_json_int(c, "SizeRootFs", 0);
  const char *cmd = berth_json_str(c, "Command");
  cleanup_free char *id = short_id(berth_json_str(c, "Id") ? berth_json_str(c, "Id") : "", trunc);
  cleanup_free char *cut = trunc ? ellipsis(cmd ? cmd : "", 20) : strdup(cmd ? cmd : "");
  cleanup_free char *quoted = go_quote(cut);
  cleanup_free char *names = join_names(json_object_get(c, "Names"), trunc);
  cleanup_free char *labels = join_labels(json_object_get(c, "Labels"));
  cleanup_free char *nets = network_names(c), *ports = ports_text(c);
  cleanup_free char *image = image_name(berth_json_str(c, "Image") ? berth_json_str(c, "Image") : "", trunc);
  cleanup_free char *mounts = NULL;
  char local_volumes[16];
  int local = 0;
  mounts = join_mounts(json_object_get(c, "Mounts"), trunc, &local);
  snprintf(local_volumes, sizeof(local_volumes), "%d", local);
  cli_format_time(created, created_at, sizeof(created_at));
  cli_format_since(created, running_for, sizeof(running_for));
  berth_human_size(size_rw, srw, sizeof(srw));
  berth_human_size(size_root, sv, sizeof(sv));
  if (size_root > 0)
    snprintf(size, sizeof(size), "%s (virtual %s)", srw, sv);
  else
    snprintf(size, sizeof(size), "%s", srw);
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Command", quoted,
                   "CreatedAt", created_at, "ID", id, "Image", image, "Labels", labels, "LocalVolumes",
                   local_volumes, "Mounts", mounts, "Names",
                   names, "Networks", nets, "Ports", ports, "RunningFor", running_for, "Size", size, "State",
                   berth_json_str(c, "State") ? berth_json_str(c, "State") : "", "Status",
                   berth_json_str(c, "Status") ? berth_json_str(c, "Status") : "");
}

struct ps_method_data {
  json_t *rows, *list;
};

/* {{.Label "key"}}: the value of one label of the row's container. */
static int ps_method(void *data, const char *name, json_t *receiver, json_t *const *args, size_t nargs, json_t **ret,
                     berth_error_t *err)
{
  struct ps_method_data *d = data;
  json_t *row;
  size_t i;
  if (strcmp(name, "Label") != 0)
    return 0;
  if (nargs != 1 || !json_is_string(args[0]))
    return berth_error_set_plain(err, EINVAL, "wrong number of args for Label: want 1 got %zu", nargs);
  json_array_foreach(d->rows, i, row) if (row == receiver)
  {
    json_t *v = json_object_get(json_object_get(json_array_get(d->list, i), "Labels"), json_string_value(args[0]));
    *ret = json_string(json_is_string(v) ? json_string_value(v) : "");
    return 1;
  }
  *ret = json_string("LABEL"); /* the header row */
  return 1;
}

static int ps_output(json_t *list, json_t *rows, const char *format, bool size)
{
  struct ps_method_data md = {rows, list};
  const struct berth_template_opts opts = {.missing = BERTH_TEMPLATE_STRUCT,
                                           .type_name = "*formatter.ContainerContext",
                                           .method = ps_method,
                                           .method_data = &md};
  const char *table = size ? "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}"
                           : "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
  return cli_output_rows_opts(rows, format, table, ps_headers, &opts);
}

int cmd_ps(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool all = false, latest = false, no_trunc = false, quiet = false, size = false, done;
  long last = -1;
  const char *format = NULL;
  cleanup_strv char **filters = NULL;
  const struct cli_flag flags[] = {
      {"all", 'a', CLI_BOOL, &all, NULL, "Show all containers (default shows just running)", false},
      {"filter", 'f', CLI_STRV, &filters, "filter", "Filter output based on conditions provided", false},
      {"format", 0, CLI_STRING, &format, "string", CLI_FORMAT_HELP, false},
      {"last", 'n', CLI_INT, &last, "int", "Show n last created containers (includes all states) (default -1)",
       false},
      {"latest", 'l', CLI_BOOL, &latest, NULL, "Show the latest created container (includes all states)", false},
      {"no-trunc", 0, CLI_BOOL, &no_trunc, NULL, "Don't truncate output", false},
      {"quiet", 'q', CLI_BOOL, &quiet, NULL, "Only display container IDs", false},
      {"size", 's', CLI_BOOL, &size, NULL, "Display total file sizes", false},
      END_FLAGS,
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_json json_t *list = NULL, *rows = json_array();
  struct berth_container_list_opts opts = {0};
  json_t *c;
  size_t i;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 0, 0)) || (rc = cli_check_filters(cli, filters, "-f, --filter")) ||
      (rc = cli_engine(cli, &e)))
    return rc;
  opts.all = all;
  opts.limit = (int)last;
  opts.latest = latest;
  /* docker asks for sizes when the format shows them */
  opts.size = size || (format && strstr(format, ".Size"));
  opts.filters = filters;
  if (!(list = berth_container_list(e, &opts, &err)))
    return cli_fail(&err, CLI_EXIT_ERROR);
  if (quiet && (!format || !*format)) {
    json_array_foreach(list, i, c)
    {
      const char *id = berth_json_str(c, "Id");
      printf("%.*s\n", no_trunc ? 64 : 12, id ? id : "");
    }
    return 0;
  }
  json_array_foreach(list, i, c) json_array_append_new(rows, cli_container_row(c, !no_trunc));
  return ps_output(list, rows, format, size);
}

/* ---- inspect, prune ---- */

int cli_inspect_containers(struct cli *cli, char **names, int n, const char *format, bool size)
{
  return cli_inspect_each(cli, names, n, format, size, berth_container_inspect);
}

int cmd_container_inspect(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const char *format = NULL;
  bool size = false, done;
  const struct cli_flag flags[] = {
      {"format", 'f', CLI_STRING, &format, "string", CLI_INSPECT_FORMAT_HELP, false},
      {"size", 's', CLI_BOOL, &size, NULL, "Display total file sizes", false},
      END_FLAGS,
  };
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 1, -1)))
    return rc;
  return cli_inspect_containers(cli, argv, argc, format, size);
}

int cmd_container_prune(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool force = false, done;
  cleanup_strv char **filters = NULL;
  const struct cli_flag flags[] = {
      {"filter", 0, CLI_STRV, &filters, "filter", "Provide filter values (e.g. \"until=<timestamp>\")", false},
      {"force", 'f', CLI_BOOL, &force, NULL, "Do not prompt for confirmation", false},
      END_FLAGS,
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_json json_t *res = NULL;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 0, 0)) || (rc = cli_check_filters(cli, filters, "--filter")))
    return rc;
  if (!force && !cli_confirm("WARNING! This will remove all stopped containers."))
    return 0;
  if ((rc = cli_engine(cli, &e)))
    return rc;
  if (!(res = berth_container_prune(e, filters, &err)))
    return cli_fail(&err, CLI_EXIT_ERROR);
  return cli_print_prune(res);
}
