/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pull, push, login, logout, search: docker's flags, output and messages.
 * Progress is docker's: one line per layer, redrawn in place on a terminal
 * (with a bar for transfers), plain status lines otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/units.h"
#include "cli.h"
#include "output.h"

/* ---- progress ---- */

struct progress_view {
  FILE *out;
  bool tty, quiet;
  char **ids; /* the lines drawn so far on a terminal, by id */
  size_t n;
};

static void view_clear(struct progress_view *v)
{
  for (size_t i = 0; i < v->n; i++)
    free(v->ids[i]);
  free(v->ids);
}

/* "[=====>     ]  12.3MB/45.6MB", as docker's JSONProgress draws it. */
static void progress_bar(const struct berth_progress *p, char *buf, size_t len)
{
  char cur[32], tot[32], bar[53];
  int n = p->total > 0 ? (int)(50 * p->current / p->total) : 0;
  if (n > 50)
    n = 50;
  memset(bar, ' ', sizeof(bar));
  bar[0] = '[';
  memset(bar + 1, '=', (size_t)n);
  if (n < 50)
    bar[1 + n] = '>';
  bar[51] = ']';
  bar[52] = '\0';
  berth_human_size(p->current, cur, sizeof(cur));
  berth_human_size(p->total, tot, sizeof(tot));
  snprintf(buf, len, "%s %8s/%s", bar, cur, tot);
}

static void on_progress(const struct berth_progress *p, void *arg)
{
  struct progress_view *v = arg;
  char bar[128] = "";
  size_t i;
  if (v->quiet)
    return;
  if (!v->tty) {
    /* Transfers in flight are a terminal's business. */
    if (p->total > 0 && strcmp(p->status, "Resuming download") != 0)
      return;
    if (p->id)
      fprintf(v->out, "%s: %s\n", p->id, p->status);
    else
      fprintf(v->out, "%s\n", p->status);
    fflush(v->out);
    return;
  }
  if (p->total > 0)
    progress_bar(p, bar, sizeof(bar));
  if (!p->id) {
    fprintf(v->out, "%s\n", p->status);
    fflush(v->out);
    return;
  }
  for (i = 0; i < v->n && strcmp(v->ids[i], p->id) != 0; i++)
    ;
  if (i == v->n) {
    if (!(v->ids = realloc(v->ids, (v->n + 1) * sizeof(char *))) || !(v->ids[v->n++] = strdup(p->id)))
      abort();
    fprintf(v->out, "%s: %s %s\n", p->id, p->status, bar);
  } else {
    size_t up = v->n - i;
    fprintf(v->out, "\033[%zuA\r\033[2K%s: %s %s\033[%zuB\r", up, p->id, p->status, bar, up);
  }
  fflush(v->out);
}

int cli_pull(struct berth_engine *e, const char *name, const char *platform, bool quiet, FILE *out,
             char **ret_reference, berth_error_t *err)
{
  struct progress_view v = {.out = out, .tty = isatty(fileno(out)) == 1, .quiet = quiet};
  struct berth_pull_opts opts = {.platform = platform, .progress = on_progress, .progress_arg = &v};
  struct berth_pull_result res;
  int rc = berth_image_pull(e, name, &opts, &res, err);
  view_clear(&v);
  if (rc < 0)
    return -1;
  if (!quiet) {
    fprintf(out, "Digest: %s\n", res.digest);
    fprintf(out, "Status: %s for %s\n", res.up_to_date ? "Image is up to date" : "Downloaded newer image", name);
  }
  if (ret_reference)
    *ret_reference = res.reference;
  else
    free(res.reference);
  return 0;
}

/* Pull and print the reference pulled, as `docker pull` ends. */
static int pull_print(struct berth_engine *e, const char *name, const char *platform, bool quiet,
                      berth_error_t *err)
{
  cleanup_free char *ref = NULL;
  if (cli_pull(e, name, platform, quiet, stdout, &ref, err) < 0)
    return -1;
  printf("%s\n", ref);
  return 0;
}

/* "busybox" pulls "busybox:latest": docker says so first. */
static bool needs_default_tag(const char *name)
{
  const char *slash = strrchr(name, '/');
  return !strchr(name, '@') && !strchr(slash ? slash : name, ':');
}

char *cli_with_default_tag(const char *name)
{
  char *s;
  if (!needs_default_tag(name))
    return strdup(name);
  if (asprintf(&s, "%s:latest", name) < 0)
    abort();
  return s;
}

int cmd_pull(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const char *platform = NULL;
  bool all_tags = false, quiet = false, trust = false;
  const struct cli_flag flags[] = {
      {"all-tags", 'a', CLI_BOOL, &all_tags, NULL, "Download all tagged images in the repository", false},
      {"disable-content-trust", 0, CLI_BOOL, &trust, NULL, "Skip image verification (default true)", false},
      {"platform", 0, CLI_STRING, &platform, "string", "Set platform if server is multi-platform capable", false},
      {"quiet", 'q', CLI_BOOL, &quiet, NULL, "Suppress verbose output", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  int rc;
  if (!cli_start(cli, cmd, flags, &argc, argv, 1, 1, &e, &rc))
    return rc;
  if (all_tags) {
    cleanup_strv char **tags = berth_image_remote_tags(e, argv[0], &err);
    if (!tags)
      return cli_fail(&err, CLI_EXIT_ERROR);
    for (size_t i = 0; tags[i]; i++) {
      cleanup_free char *ref = NULL;
      if (asprintf(&ref, "%s:%s", argv[0], tags[i]) < 0)
        abort();
      if (pull_print(e, ref, platform, quiet, &err) < 0)
        return cli_fail(&err, CLI_EXIT_ERROR);
    }
    return 0;
  }
  if (!quiet && needs_default_tag(argv[0]))
    printf("Using default tag: latest\n");
  {
    cleanup_free char *shown = cli_with_default_tag(argv[0]);
    if (pull_print(e, shown, platform, quiet, &err) < 0)
      return cli_fail(&err, CLI_EXIT_ERROR);
  }
  return 0;
}

/* ---- push ---- */

int cmd_push(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool all_tags = false, quiet = false, trust = false;
  const char *platform = NULL;
  const struct cli_flag flags[] = {
      {"all-tags", 'a', CLI_BOOL, &all_tags, NULL, "Push all tags of an image to the repository", false},
      {"disable-content-trust", 0, CLI_BOOL, &trust, NULL, "Skip image signing (default true)", false},
      {"platform", 0, CLI_STRING, &platform, "string", "Push a platform-specific manifest as a single-platform image",
       false},
      {"quiet", 'q', CLI_BOOL, &quiet, NULL, "Suppress verbose output", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  struct progress_view v = {.out = stdout, .tty = isatty(1) == 1};
  struct berth_push_opts opts = {.progress = on_progress, .progress_arg = &v};
  struct berth_engine *e;
  berth_error_t err = NULL;
  cleanup_free char *digest = NULL, *name = NULL;
  int64_t size = 0;
  int rc;
  if (!cli_start(cli, cmd, flags, &argc, argv, 1, 1, &e, &rc))
    return rc;
  v.quiet = quiet;
  name = cli_with_default_tag(argv[0]);
  if (!quiet) {
    const char *colon = strrchr(name, ':');
    printf("The push refers to repository [%.*s]\n", (int)(colon - name), name);
    fflush(stdout);
  }
  rc = berth_image_push(e, name, &opts, &digest, &size, &err);
  view_clear(&v);
  if (rc < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  if (quiet)
    printf("%s\n", name);
  else
    printf("%s: digest: %s size: %lld\n", strrchr(name, ':') + 1, digest, (long long)size);
  return 0;
}

/* ---- login / logout ---- */

static char *read_password_stdin(void)
{
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, stdin);
  if (n < 0) {
    free(line);
    return NULL;
  }
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = '\0';
  return line;
}

int cmd_login(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  const char *user = NULL, *password = NULL;
  bool password_stdin = false, done;
  const struct cli_flag flags[] = {
      {"password", 'p', CLI_STRING, &password, "string", "Password", false},
      {"password-stdin", 0, CLI_BOOL, &password_stdin, NULL, "Take the password from stdin", false},
      {"username", 'u', CLI_STRING, &user, "string", "Username", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  berth_error_t err = NULL;
  cleanup_free char *from_stdin = NULL;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 0, 1)))
    return rc;
  if (password && password_stdin)
    return cli_failf(CLI_EXIT_ERROR, "--password and --password-stdin are mutually exclusive");
  if (password_stdin) {
    if (!user)
      return cli_failf(CLI_EXIT_ERROR, "Must provide --username with --password-stdin");
    if (!(from_stdin = read_password_stdin()))
      return cli_failf(CLI_EXIT_ERROR, "Error: Password Required");
    password = from_stdin;
  } else if (password) {
    fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
  }
  if (!user || !password)
    return cli_failf(CLI_EXIT_ERROR, "Cannot perform an interactive login from a non TTY device");
  rc = berth_registry_login(argc ? argv[0] : NULL, user, password, &err);
  if (from_stdin)
    explicit_bzero(from_stdin, strlen(from_stdin));
  if (rc < 0)
    return cli_fail(&err, CLI_EXIT_ERROR);
  printf("Login Succeeded\n");
  return 0;
}

int cmd_logout(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool done;
  const struct cli_flag flags[] = {{NULL, 0, 0, NULL, NULL, NULL, false}};
  berth_error_t err = NULL;
  cleanup_free char *server = NULL;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done)
    return rc;
  if ((rc = cli_require_args(cli, cmd, argc, 0, 1)))
    return rc;
  server = berth_registry_server_name(argc ? argv[0] : NULL);
  if (berth_registry_logout(server, &err) < 0) {
    if (err->code != ENOENT)
      return cli_fail(&err, CLI_EXIT_ERROR);
    berth_error_release(&err);
    printf("Not logged in to %s\n", argc ? argv[0] : server);
    return 0;
  }
  printf("Removing login credentials for %s\n", argc ? argv[0] : server);
  return 0;
}

/* ---- search ---- */

static const struct cli_header search_headers[] = {
    {"Name", "NAME"},           {"Description", "DESCRIPTION"}, {"StarCount", "STARS"},
    {"IsOfficial", "OFFICIAL"}, {"IsAutomated", "AUTOMATED"},   {NULL, NULL},
};

struct search_filter {
  long stars;
  int official, automated; /* -1: any */
};

static int parse_search_filters(char **filters, struct search_filter *f)
{
  *f = (struct search_filter){0, -1, -1};
  for (size_t i = 0; filters && filters[i]; i++) {
    const char *eq = strchr(filters[i], '='), *val = eq ? eq + 1 : "";
    size_t klen = eq ? (size_t)(eq - filters[i]) : strlen(filters[i]);
    char *end;
    if (klen == 5 && strncmp(filters[i], "stars", 5) == 0) {
      f->stars = strtol(val, &end, 10);
      if (!*val || *end)
        return cli_failf(CLI_EXIT_ERROR, "invalid filter 'stars=%s'", val);
    } else if (klen == 11 && strncmp(filters[i], "is-official", 11) == 0) {
      if (strcmp(val, "true") && strcmp(val, "false"))
        return cli_failf(CLI_EXIT_ERROR, "invalid filter 'is-official=%s'", val);
      f->official = strcmp(val, "true") == 0;
    } else if (klen == 12 && strncmp(filters[i], "is-automated", 12) == 0) {
      if (strcmp(val, "true") && strcmp(val, "false"))
        return cli_failf(CLI_EXIT_ERROR, "invalid filter 'is-automated=%s'", val);
      f->automated = strcmp(val, "true") == 0;
    } else {
      return cli_failf(CLI_EXIT_ERROR, "invalid filter '%.*s'", (int)klen, filters[i]);
    }
  }
  return 0;
}

/* Description on one line, cut to 45 columns with "…" unless --no-trunc. */
static char *description(const char *d, bool no_trunc)
{
  char *s = strdup(d ? d : "");
  size_t n = 0, chars = 0;
  if (!s)
    abort();
  for (char *c = s; *c; c++)
    if (*c == '\n' || *c == '\r')
      *c = ' ';
  if (no_trunc)
    return s;
  for (const char *c = s; *c; c++)
    chars += ((unsigned char)*c & 0xc0) != 0x80;
  if (chars <= 45)
    return s;
  for (chars = 0; s[n] && chars < 45; n++)
    if (((unsigned char)s[n] & 0xc0) != 0x80 && ++chars == 45)
      break;
  s[n] = '\0';
  char *out;
  if (asprintf(&out, "%s…", s) < 0)
    abort();
  free(s);
  return out;
}

int cmd_search(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  char **filters = NULL;
  const char *format = NULL;
  long limit = 25;
  bool no_trunc = false, done;
  const struct cli_flag flags[] = {
      {"filter", 'f', CLI_STRV, &filters, "filter", "Filter output based on conditions provided", false},
      {"format", 0, CLI_STRING, &format, "string", "Pretty-print search using a Go template", false},
      {"limit", 0, CLI_INT, &limit, "int", "Max number of search results (default 25)", false},
      {"no-trunc", 0, CLI_BOOL, &no_trunc, NULL, "Don't truncate output", false},
      {NULL, 0, 0, NULL, NULL, NULL, false},
  };
  berth_error_t err = NULL;
  cleanup_strv char **filters_owned = NULL;
  cleanup_json json_t *results = NULL;
  json_t *rows = json_array(), *r;
  struct search_filter f;
  size_t i;
  int rc;
  if ((rc = cli_parse_flags(cli, cmd, flags, true, &argc, argv, &done)) || done) {
    json_decref(rows);
    return rc;
  }
  filters_owned = filters;
  if ((rc = cli_require_args(cli, cmd, argc, 1, 1)) || (rc = parse_search_filters(filters, &f))) {
    json_decref(rows);
    return rc;
  }
  if (!(results = berth_registry_search(argv[0], (int)limit, &err))) {
    json_decref(rows);
    return cli_fail(&err, CLI_EXIT_ERROR);
  }
  json_array_foreach(results, i, r)
  {
    json_int_t stars = berth_json_int(r, "star_count", 0);
    bool official = json_is_true(json_object_get(r, "is_official"));
    bool automated = json_is_true(json_object_get(r, "is_automated"));
    cleanup_free char *desc = description(berth_json_str(r, "description"), no_trunc);
    if (stars < f.stars || (f.official >= 0 && official != f.official) ||
        (f.automated >= 0 && automated != f.automated))
      continue;
    json_array_append_new(rows, json_pack("{s:s, s:s, s:o, s:s, s:s}", "Name", berth_json_str(r, "name"),
                                          "Description", desc, "StarCount", json_sprintf("%lld", (long long)stars),
                                          "IsOfficial", official ? "[OK]" : "", "IsAutomated",
                                          automated ? "[OK]" : ""));
  }
  rc = cli_output_rows(rows, format, "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}",
                       search_headers);
  json_decref(rows);
  return rc;
}

/* ---- manifest inspect ---- */

static void newline(FILE *f, int depth, const char *indent)
{
  fputc('\n', f);
  for (int i = 0; i < depth; i++)
    fputs(indent, f);
}

/* Go's json.Indent: the document's own tokens, re-indented ("{}" and "[]"
 * stay as they are). */
static void go_indent(FILE *f, const char *s, size_t n, const char *indent)
{
  int depth = 0;
  bool need = false, in_str = false, esc = false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (in_str) {
      fputc(c, f);
      if (esc)
        esc = false;
      else if (c == '\\')
        esc = true;
      else if (c == '"')
        in_str = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      continue;
    if (need && c != '}' && c != ']') {
      newline(f, depth, indent);
      need = false;
    }
    switch (c) {
    case '{':
    case '[':
      fputc(c, f);
      depth++;
      need = true;
      break;
    case '}':
    case ']':
      depth--;
      if (!need)
        newline(f, depth, indent);
      need = false;
      fputc(c, f);
      break;
    case ',':
      fputc(c, f);
      newline(f, depth, indent);
      break;
    case ':':
      fputs(": ", f);
      break;
    case '"':
      in_str = true;
      /* fall through */
    default:
      fputc(c, f);
    }
  }
  fputc('\n', f);
}

/* Go's json.MarshalIndent(v, "", "\t") of an object built in its struct
 * order: jansson's one-space indentation, each space a tab. */
static void print_tabbed(const json_t *v)
{
  cleanup_free char *text = json_dumps(v, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
  for (const char *line = text; line && *line;) {
    size_t len = strcspn(line, "\n"), sp = strspn(line, " ");
    for (size_t i = 0; i < sp && i < len; i++)
      putchar('\t');
    printf("%.*s\n", (int)(len - (sp < len ? sp : len)), line + (sp < len ? sp : len));
    line += len + (line[len] == '\n');
  }
}

int cmd_manifest_inspect(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
  bool insecure = false, verbose = false;
  const struct cli_flag flags[] = {
      {"insecure", 0, CLI_BOOL, &insecure, NULL, "Allow communication with an insecure registry", false},
      {"verbose", 'v', CLI_BOOL, &verbose, NULL, "Output additional info including layers and platform", false},
      END_FLAGS,
  };
  struct berth_engine *e;
  berth_error_t err = NULL;
  int rc;
  if (!cli_start(cli, cmd, flags, &argc, argv, 1, 1, &e, &rc))
    return rc;
  cleanup_json json_t *res = berth_manifest_inspect(e, argv[0], insecure, &err);
  if (!res) { /* docker prints this command's errors bare */
    fprintf(stderr, "%s\n", err->msg);
    berth_error_release(&err);
    return CLI_EXIT_ERROR;
  }
  bool list = json_is_true(json_object_get(res, "List"));
  if (verbose) {
    print_tabbed(list ? json_object_get(res, "Manifests") : json_array_get(json_object_get(res, "Manifests"), 0));
  } else if (list) { /* docker prints its rebuilt list as marshalled: three spaces */
    cleanup_free char *text = json_dumps(json_object_get(res, "Index"), JSON_INDENT(3) | JSON_PRESERVE_ORDER);
    printf("%s\n", text);
  } else {
    const char *raw = berth_json_str(res, "Raw");
    go_indent(stdout, raw, strlen(raw), "\t");
  }
  return 0;
}
