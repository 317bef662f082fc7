/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `ps`: ContainerSummary objects, docker's filters, newest first. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "engine/engine-internal.h"
#include "engine/networks.h"


static bool any_value(const json_t *values, bool (*ok)(const struct berth_ctr *, const char *), const struct berth_ctr *c)
{
  if (!values)
    return true;
  size_t i;
  json_t *v;
  json_array_foreach(values, i, v) if (ok(c, json_string_value(v))) return true;
  return false;
}

static bool status_ok(const struct berth_ctr *c, const char *v)
{
  return strcmp(berth_status_name(c->st.status), v) == 0;
}
static bool name_ok(const struct berth_ctr *c, const char *v)
{
  return strstr(berth_ctr_name(c), v) != NULL;
}
static bool id_ok(const struct berth_ctr *c, const char *v)
{
  return strncmp(c->id, v, strlen(v)) == 0;
}
static bool exited_ok(const struct berth_ctr *c, const char *v)
{
  return c->st.status == BERTH_STATUS_EXITED && atoi(v) == c->st.exit_code;
}
static bool ancestor_ok(const struct berth_ctr *c, const char *v)
{
  const char *img = berth_json_str(c->rec, "Image");
  const char *given = berth_json_str(json_object_get(c->rec, "Config"), "Image");
  if (img && (strcmp(img, v) == 0 || (strncmp(v, "sha256:", 7) != 0 && strncmp(img + 7, v, strlen(v)) == 0)))
    return true;
  if (!given)
    return false;
  if (strcmp(given, v) == 0)
    return true;
  /* "busybox" matches "busybox:latest" and the other way round */
  size_t n = strlen(v);
  return (strncmp(given, v, n) == 0 && strcmp(given + n, ":latest") == 0) ||
         (strncmp(given, v, strlen(given)) == 0 && strcmp(v + strlen(given), ":latest") == 0);
}

static bool health_ok(const struct berth_ctr *c, const char *v)
{
  return strcmp(berth_ctr_health_status(c), v) == 0;
}

/* volume=NAME|PATH: a mount of that volume name, host source or destination. */
static bool volume_ok(const struct berth_ctr *c, const char *v)
{
  const json_t *m;
  size_t i;
  json_array_foreach(json_object_get(c->rec, "Mounts"), i, m)
  {
    const char *name = berth_json_str(m, "Name"), *src = berth_json_str(m, "Source"), *dst = berth_json_str(m, "Destination");
    if ((name && !strcmp(name, v)) || (src && !strcmp(src, v)) || (dst && !strcmp(dst, v)))
      return true;
  }
  return false;
}

/* network=NAME (resolved from names and ids before the walk: _network) */
static bool network_ok(const struct berth_ctr *c, const char *v)
{
  const json_t *nets = json_object_get(json_object_get(c->rec, "NetworkSettings"), "Networks");
  const char *mode = berth_json_str(json_object_get(c->rec, "HostConfig"), "NetworkMode");
  if (json_object_size(nets))
    return json_object_get(nets, v) != NULL;
  return mode && (!strcmp(mode, v) || (!strcmp(mode, "default") && !strcmp(v, "bridge")));
}

bool berth_ctr_matches(const struct berth_ctr *c, const json_t *f)
{
  const json_t *labels = json_object_get(json_object_get(c->rec, "Config"), "Labels");
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(f, "label"), i, v) if (!berth_engine_label_matches(labels, json_string_value(v))) return false;
  json_array_foreach(json_object_get(f, "label!"), i, v) if (berth_engine_label_matches(labels, json_string_value(v))) return false;
  json_array_foreach(json_object_get(f, "until"), i, v)
  {
    int64_t until, created;
    if (berth_parse_time_filter(json_string_value(v), &until, NULL) < 0 ||
        berth_parse_rfc3339(berth_json_str(c->rec, "Created"), &created, NULL) < 0 || created >= until)
      return false;
  }
  if (json_object_get(f, "_before") || json_object_get(f, "_since")) {
    int64_t created = 0;
    (void)berth_parse_rfc3339(berth_json_str(c->rec, "Created"), &created, NULL);
    if ((json_object_get(f, "_before") && created >= berth_json_int(f, "_before", 0)) ||
        (json_object_get(f, "_since") && created <= berth_json_int(f, "_since", 0)))
      return false;
  }
  return any_value(json_object_get(f, "volume"), volume_ok, c) && any_value(json_object_get(f, "_network"), network_ok, c) &&
         any_value(json_object_get(f, "status"), status_ok, c) && any_value(json_object_get(f, "name"), name_ok, c) &&
         any_value(json_object_get(f, "id"), id_ok, c) && any_value(json_object_get(f, "exited"), exited_ok, c) &&
         any_value(json_object_get(f, "ancestor"), ancestor_ok, c) && any_value(json_object_get(f, "health"), health_ok, c);
}

static json_t *summary(const struct berth_ctr *c)
{
  const json_t *cfg = json_object_get(c->rec, "Config");
  const json_t *labels = json_object_get(cfg, "Labels");
  cleanup_free char *status = berth_ctr_status_text(c);
  cleanup_free char *command = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&command, &len);
  fputs(berth_json_str(c->rec, "Path") ? berth_json_str(c->rec, "Path") : "", m);
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(c->rec, "Args"), i, v) fprintf(m, " %s", json_string_value(v));
  fclose(m);
  int64_t created = 0;
  (void)berth_parse_rfc3339(berth_json_str(c->rec, "Created"), &created, NULL);
  const char *net = berth_json_str(json_object_get(c->rec, "HostConfig"), "NetworkMode");
  json_t *s = json_pack("{s:s, s:[s], s:s, s:s, s:s, s:I, s:[], s:O, s:s, s:s, s:{s:s}, s:{s:{}}, s:[]}", "Id", c->id,
                        "Names", berth_ctr_name(c), "Image", berth_json_str(cfg, "Image") ? berth_json_str(cfg, "Image") : "",
                        "ImageID", berth_json_str(c->rec, "Image"), "Command", command,
                        "Created", (json_int_t)(created / 1000000000LL), "Ports", "Labels",
                        json_is_object(labels) ? labels : json_object(), "State", berth_status_name(c->st.status),
                        "Status", status, "HostConfig", "NetworkMode", net ? net : "none", "NetworkSettings",
                        "Networks", "Mounts");
  if (json_is_array(json_object_get(c->rec, "Mounts")))
    json_object_set(s, "Mounts", json_object_get(c->rec, "Mounts"));
  /* order by the full creation time: many containers share a second */
  json_object_set_new(s, "_created_ns", json_integer(created));
  return s;
}

static int by_created_desc(const void *a, const void *b)
{
  const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
  int64_t cx = berth_json_int(x, "_created_ns", 0), cy = berth_json_int(y, "_created_ns", 0);
  if (cx != cy)
    return cx < cy ? 1 : -1;
  return strcmp(berth_json_str(y, "Id"), berth_json_str(x, "Id"));
}

struct loader {
  struct berth_engine *e;
  char **ids;
  size_t begin, end;
  const json_t *filters;
  bool all;
  json_t **items; /* items[i] for ids[i], NULL when left out */
};

static void *load_range(void *arg)
{
  struct loader *l = arg;
  for (size_t i = l->begin; i < l->end; i++) {
    struct berth_ctr c;
    cleanup_error berth_error_t err = NULL;
    if (berth_ctr_load_summary(l->e, l->ids[i], &c, &err) == 0 && (l->all || berth_ctr_is_active(&c)) &&
        berth_ctr_matches(&c, l->filters)) {
      l->items[i] = summary(&c);
      json_object_set_new(json_object_get(l->items[i], "NetworkSettings"), "Networks",
                          berth_ctr_net_list_networks(&c));
    }
    berth_ctr_clear(&c);
  }
  return NULL;
}

/* Reading a thousand records is parsing and system calls, one container at a
 * time: spread over the CPUs (each thread fills its own slots). */
static void load_all(struct berth_engine *e, char **ids, size_t n, const json_t *f, bool all, json_t **items)
{
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  size_t nt = n < 128 ? 1 : (size_t)(cpus < 1 ? 1 : cpus > 4 ? 4 : cpus);
  struct loader l[4];
  pthread_t t[4];
  bool started[4] = {false};
  for (size_t i = 0; i < nt; i++) {
    l[i] = (struct loader){e, ids, n * i / nt, n * (i + 1) / nt, f, all, items};
    if (i > 0)
      started[i] = pthread_create(&t[i], NULL, load_range, &l[i]) == 0;
  }
  load_range(&l[0]);
  for (size_t i = 1; i < nt; i++) {
    if (started[i])
      pthread_join(t[i], NULL);
    else
      load_range(&l[i]);
  }
}

/* docker accepts only its four words. */
static int check_health_filter(const json_t *f, berth_error_t *err)
{
  static const char *const words[] = {"starting", "healthy", "unhealthy", "none"};
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(f, "health"), i, v)
  {
    bool ok = false;
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
      ok = ok || strcmp(words[k], json_string_value(v)) == 0;
    if (!ok)
      return berth_error_set_plain(err, EINVAL, "Unrecognised filter value for health: %s", json_string_value(v));
  }
  return 0;
}

/* before=/since= a container (its creation time), network= a network's name
 * or id: resolved once, into _before, _since and _network; publish= and
 * expose= ports ("80", "80/udp", "8000-8080/tcp") into _publish/_expose
 * [[lo, hi, proto]]. */
static int resolve_filters(struct berth_engine *e, json_t *f, berth_error_t *err)
{
  static const char *const refs[] = {"before", "since"};
  static const char *const ports[] = {"publish", "expose"};
  size_t i;
  json_t *v;
  for (size_t k = 0; k < 2; k++)
    json_array_foreach(json_object_get(f, refs[k]), i, v)
    {
      struct berth_ctr c;
      int64_t created = 0;
      if (berth_ctr_load(e, json_string_value(v), &c, err) < 0)
        return -1;
      (void)berth_parse_rfc3339(berth_json_str(c.rec, "Created"), &created, NULL);
      berth_ctr_clear(&c);
      char key[16];
      snprintf(key, sizeof key, "_%s", refs[k]);
      int64_t have = berth_json_int(f, key, k == 0 ? INT64_MAX : INT64_MIN);
      json_object_set_new(f, key, json_integer(k == 0 ? (created < have ? created : have) : (created > have ? created : have)));
    }
  json_array_foreach(json_object_get(f, "network"), i, v)
  {
    cleanup_json json_t *net = berth_net_load(e, json_string_value(v), NULL);
    json_t *names = json_object_get(f, "_network");
    if (!names)
      json_object_set_new(f, "_network", names = json_array());
    json_array_append_new(names, json_string(net ? berth_json_str(net, "Name") : json_string_value(v)));
  }
  for (size_t k = 0; k < 2; k++)
    json_array_foreach(json_object_get(f, ports[k]), i, v)
    {
      const char *s = json_string_value(v);
      char proto[8] = "tcp";
      unsigned lo = 0, hi = 0;
      int end = 0;
      if (sscanf(s, "%u%n", &lo, &end) != 1)
        return berth_error_set_plain(err, EINVAL, "invalid filter '%s=%s'", ports[k], s);
      hi = lo;
      if (s[end] == '-') {
        int more = 0;
        if (sscanf(s + end + 1, "%u%n", &hi, &more) != 1)
          return berth_error_set_plain(err, EINVAL, "invalid filter '%s=%s'", ports[k], s);
        end += 1 + more;
      }
      if ((s[end] == '/' && sscanf(s + end + 1, "%7[a-z]", proto) != 1) || (s[end] && s[end] != '/') ||
          hi < lo || hi > 65535 || (s[end] == '/' && strlen(s + end + 1) != strlen(proto)))
        return berth_error_set_plain(err, EINVAL, "invalid filter '%s=%s'", ports[k], s);
      char key[16];
      snprintf(key, sizeof key, "_%s", ports[k]);
      json_t *list = json_object_get(f, key);
      if (!list)
        json_object_set_new(f, key, list = json_array());
      json_array_append_new(list, json_pack("[i, i, s]", (int)lo, (int)hi, proto));
    }
  return 0;
}

/* publish= matches a host port of the ps Ports, expose= a container port:
 * any one of them (moby's includeContainerInList). */
static bool ports_pass(const json_t *item, const json_t *f)
{
  const json_t *pub = json_object_get(f, "_publish"), *exp = json_object_get(f, "_expose"), *p, *r;
  size_t i, k;
  if (!pub && !exp)
    return true;
  json_array_foreach(json_object_get(item, "Ports"), i, p)
  {
    const char *type = berth_json_str(p, "Type");
    for (int which = 0; which < 2; which++) {
      json_int_t port = berth_json_int(p, which ? "PrivatePort" : "PublicPort", 0);
      json_array_foreach(which ? exp : pub, k, r)
      {
        if (port && port >= json_integer_value(json_array_get(r, 0)) &&
            port <= json_integer_value(json_array_get(r, 1)) && type &&
            !strcmp(type, json_string_value(json_array_get(r, 2))))
          return true;
      }
    }
  }
  return false;
}

json_t *berth_container_list(struct berth_engine *e, const struct berth_container_list_opts *opts, berth_error_t *err)
{
  static const char *const allowed[] = {"status",  "name",    "id",     "label",   "label!",  "ancestor", "exited",
                                        "until",   "health",  "before", "since",   "volume",  "network",  "publish",
                                        "expose",  NULL};
  cleanup_json json_t *f = berth_engine_parse_filters(opts->filters, allowed, err);
  if (!f || check_health_filter(f, err) < 0 || resolve_filters(e, f, err) < 0)
    return NULL;
  berth_net_reconcile(e); /* what a crash left on the networks goes now */
  size_t n = 0;
  cleanup_strv char **ids = berth_container_store_ids(e->store, &n, err);
  if (!ids)
    return NULL;
  bool all = opts->all || opts->latest || opts->limit > 0 || json_object_get(f, "status") || json_object_get(f, "exited");
  json_t **items = calloc(n + 1, sizeof *items);
  if (!items)
    abort();
  load_all(e, ids, n, f, all, items);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (items[i])
      items[k++] = items[i];
  qsort(items, k, sizeof *items, by_created_desc);
  size_t limit = opts->latest ? 1 : opts->limit > 0 ? (size_t)opts->limit : k, taken = 0;
  json_t *out = json_array();
  cleanup_json json_t *allocs = json_object(); /* each network's allocations, read once */
  for (size_t i = 0; i < k; i++) {
    json_object_del(items[i], "_created_ns");
    if (taken < limit) {
      json_object_set_new(items[i], "Ports", berth_net_list_ports(e, items[i], allocs));
      if (!ports_pass(items[i], f)) {
        json_decref(items[i]);
        continue;
      }
      taken++;
      if (opts->size) {
        struct berth_ctr c;
        if (berth_ctr_load_id(e, berth_json_str(items[i], "Id"), &c, NULL) == 0) {
          int64_t rw, rootfs;
          berth_ctr_size(e, &c, &rw, &rootfs);
          json_object_set_new(items[i], "SizeRw", json_integer(rw));
          json_object_set_new(items[i], "SizeRootFs", json_integer(rootfs));
        }
        berth_ctr_clear(&c);
      }
      json_array_append(out, items[i]);
    }
    json_decref(items[i]);
  }
  free(items);
  return out;
}
