/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image operations: list, inspect, history, tag, remove, prune, import. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "build/build.h"
#include "engine/engine-internal.h"
#include "engine/events.h"
#include "image/image.h"
#include "image/bootstrap.h"
#include "image/fetch.h"
#include "image/import.h"
#include "oci/reference.h"

static json_t *familiar_list(const json_t *arr)
{
  json_t *out = json_array(), *v;
  size_t i;
  json_array_foreach(arr, i, v)
  {
    char *f = berth_engine_familiar(json_string_value(v));
    json_array_append_new(out, json_string(f));
    free(f);
  }
  return out;
}

static json_t *image_summary(struct berth_engine *e, const char *id, const json_t *rec, berth_error_t *err)
{
  cleanup_json json_t *cfg = berth_image_config(e->store, id, err);
  json_t *labels;
  if (!cfg)
    return NULL;
  labels = json_object_get(json_object_get(cfg, "config"), "Labels");
  return json_pack("{s:s, s:s, s:o, s:o, s:I, s:I, s:i, s:I, s:o, s:i}", "Id", id, "ParentId", "", "RepoTags",
                   familiar_list(json_object_get(rec, "names")), "RepoDigests",
                   familiar_list(json_object_get(rec, "digests")), "Created",
                   (json_int_t)(berth_json_int(rec, "created", 0) / 1000000000LL), "Size",
                   (json_int_t)berth_json_int(rec, "size", 0), "SharedSize", -1, "VirtualSize",
                   (json_int_t)berth_json_int(rec, "size", 0), "Labels",
                   json_is_object(labels) ? json_incref(labels) : json_object(), "Containers", -1);
}

/* docker's reference filter: path.Match of the pattern against the familiar
 * "name:tag" and "name" of each tag; the fully qualified forms match too, so
 * `images docker.io/library/busybox:latest` finds busybox:latest. */
static bool reference_matches(const json_t *tags, const char *pattern)
{
  size_t i;
  json_t *v;
  json_array_foreach(tags, i, v)
  {
    const char *forms[4] = {json_string_value(v), NULL, NULL, NULL};
    cleanup_free char *repo = strdup(forms[0]), *full = NULL, *full_repo = NULL;
    cleanup_error berth_error_t ign = NULL;
    char *colon = strrchr(repo, ':');
    if (colon && !strchr(colon, '/'))
      *colon = '\0';
    forms[1] = repo;
    if ((full = berth_engine_normalize_ref(forms[0], &ign))) {
      full_repo = strdup(full);
      colon = strrchr(full_repo, ':');
      if (colon && !strchr(colon, '/'))
        *colon = '\0';
      forms[2] = full;
      forms[3] = full_repo;
    }
    for (size_t k = 0; k < 4; k++)
      if (forms[k] && fnmatch(pattern, forms[k], FNM_PATHNAME) == 0)
        return true;
  }
  return false;
}

static int64_t created_of(json_t *table, const char *name, berth_error_t *err)
{
  const char *id = berth_engine_resolve_image(table, name, err);
  if (!id)
    return -1;
  return berth_json_int(json_object_get(json_object_get(table, "images"), id), "created", 0);
}

struct list_filters {
  int dangling; /* -1 any, 0, 1 */
  int64_t before, since, until;
  json_t *labels, *references;
};

static int parse_list_filters(json_t *table, char **filters, struct list_filters *lf, json_t **owned, berth_error_t *err)
{
  static const char *const allowed[] = {"dangling", "label", "before", "since", "reference", "until", NULL};
  json_t *f = berth_engine_parse_filters(filters, allowed, err), *v;
  size_t i;
  *owned = f;
  lf->dangling = -1;
  lf->before = lf->until = INT64_MAX;
  lf->since = INT64_MIN;
  if (!f)
    return -1;
  json_array_foreach(json_object_get(f, "dangling"), i, v)
  {
    const char *s = json_string_value(v);
    if (!strcasecmp(s, "true") || !strcmp(s, "1"))
      lf->dangling = 1;
    else if (!strcasecmp(s, "false") || !strcmp(s, "0"))
      lf->dangling = 0;
    else
      return berth_error_set_plain(err, EINVAL, "invalid filter 'dangling=%s'", s);
  }
  json_array_foreach(json_object_get(f, "before"), i, v)
  {
    int64_t c = created_of(table, json_string_value(v), err);
    if (c < 0)
      return -1;
    lf->before = c < lf->before ? c : lf->before;
  }
  json_array_foreach(json_object_get(f, "since"), i, v)
  {
    int64_t c = created_of(table, json_string_value(v), err);
    if (c < 0)
      return -1;
    lf->since = c > lf->since ? c : lf->since;
  }
  json_array_foreach(json_object_get(f, "until"), i, v)
  {
    int64_t t;
    if (berth_parse_time_filter(json_string_value(v), &t, err) < 0)
      return -1;
    lf->until = t < lf->until ? t : lf->until;
  }
  lf->labels = json_object_get(f, "label");
  lf->references = json_object_get(f, "reference");
  return 0;
}

/* docker's reference filter also narrows the image's tags to the matching ones. */
static bool summary_passes(json_t *sum, int64_t created_ns, const struct list_filters *lf)
{
  json_t *tags = json_object_get(sum, "RepoTags"), *v;
  size_t i;
  bool dangling = json_array_size(tags) == 0;
  if (lf->dangling >= 0 && dangling != (lf->dangling == 1))
    return false;
  if (created_ns >= lf->before || created_ns <= lf->since || created_ns > lf->until)
    return false;
  json_array_foreach(lf->labels, i, v) if (!berth_engine_label_matches(json_object_get(sum, "Labels"), json_string_value(v))) return false;
  if (json_array_size(lf->references)) {
    json_t *kept = json_array(), *tag;
    size_t k;
    json_array_foreach(tags, k, tag)
    {
      cleanup_json json_t *one = json_pack("[O]", tag);
      bool any = false;
      json_array_foreach(lf->references, i, v) any = any || reference_matches(one, json_string_value(v));
      if (any)
        json_array_append(kept, tag);
    }
    json_object_set_new(sum, "RepoTags", kept);
    if (json_array_size(kept) == 0)
      return false;
  }
  return true;
}

static int cmp_created_desc(const void *a, const void *b)
{
  json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "Created"));
  json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "Created"));
  return x < y ? 1 : x > y ? -1 : 0;
}

json_t *berth_image_list(struct berth_engine *e, const struct berth_image_list_opts *opts, berth_error_t *err)
{
  cleanup_json json_t *table = berth_images_load(e->store, err);
  cleanup_json json_t *owned = NULL;
  struct list_filters lf = {0};
  json_t *out, *rec;
  const char *id;
  json_t **items;
  size_t n = 0;
  if (!table || parse_list_filters(table, opts->filters, &lf, &owned, err) < 0)
    return NULL;
  if (opts->reference) {
    if (!lf.references) {
      lf.references = json_array();
      json_object_set_new(owned, "reference", lf.references);
    }
    json_array_append_new(lf.references, json_string(opts->reference));
  }
  items = calloc(json_object_size(json_object_get(table, "images")) + 1, sizeof(json_t *));
  if (!items)
    abort();
  /* docker hides the intermediate images of builds (untagged parents) without -a */
  cleanup_json json_t *parents = json_object();
  json_object_foreach(json_object_get(table, "images"), id, rec)
  {
    if (berth_json_str(rec, "parent"))
      json_object_set_new(parents, berth_json_str(rec, "parent"), json_true());
  }
  json_object_foreach(json_object_get(table, "images"), id, rec)
  {
    if (!opts->all && json_object_get(parents, id) && !json_array_size(json_object_get(rec, "names")))
      continue;
    json_t *sum = image_summary(e, id, rec, err);
    if (!sum) {
      while (n)
        json_decref(items[--n]);
      free(items);
      return NULL;
    }
    if (summary_passes(sum, berth_json_int(rec, "created", 0), &lf))
      items[n++] = sum;
    else
      json_decref(sum);
  }
  qsort(items, n, sizeof(json_t *), cmp_created_desc);
  out = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(out, items[i]);
  free(items);
  return out;
}

/* The image's config object in docker's ContainerConfig shape and order. */
static json_t *docker_config(const json_t *c)
{
  static const struct {
    const char *key;
    int kind; /* 0 string, 1 bool, 2 null */
  } fields[] = {{"Hostname", 0},   {"Domainname", 0},   {"User", 0},       {"AttachStdin", 1}, {"AttachStdout", 1},
                {"AttachStderr", 1}, {"ExposedPorts", 3}, {"Tty", 1},        {"OpenStdin", 1},   {"StdinOnce", 1},
                {"Env", 2},        {"Cmd", 2},          {"Healthcheck", 3}, {"ArgsEscaped", 3}, {"Image", 0},
                {"Volumes", 2},    {"WorkingDir", 0},   {"Entrypoint", 2}, {"OnBuild", 2},     {"Labels", 2},
                {"StopSignal", 3}};
  json_t *out = json_object(), *v;
  const char *key;
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
    v = json_object_get(c, fields[i].key);
    if (v)
      json_object_set(out, fields[i].key, v);
    else if (fields[i].kind == 0)
      json_object_set_new(out, fields[i].key, json_string(""));
    else if (fields[i].kind == 1)
      json_object_set_new(out, fields[i].key, json_false());
    else if (fields[i].kind == 2)
      json_object_set_new(out, fields[i].key, json_null());
  }
  json_object_foreach((json_t *)c, key, v) if (!json_object_get(out, key)) json_object_set(out, key, v);
  return out;
}

json_t *berth_image_inspect(struct berth_engine *e, const char *name, berth_error_t *err)
{
  cleanup_json json_t *table = berth_images_load(e->store, err);
  cleanup_json json_t *cfg = NULL;
  cleanup_strv char **chains = NULL;
  json_t *rec, *diff_ids, *out;
  const char *id;
  cleanup_free char *lower = NULL;
  char tagged[64] = "";
  if (!table || !(id = berth_engine_resolve_image(table, name, err)))
    return NULL;
  rec = json_object_get(json_object_get(table, "images"), id);
  if (!(cfg = berth_image_config(e->store, id, err)))
    return NULL;
  diff_ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
  chains = berth_image_chain_ids(cfg);
  /* overlay lowerdirs: top layer first */
  for (size_t i = 0; chains[i]; i++) {
    cleanup_free char *p = berth_layer_diff_path(e->store, chains[i]);
    char *joined = NULL;
    if (asprintf(&joined, "%s%s%s", p, lower ? ":" : "", lower ? lower : "") < 0)
      abort();
    free(lower);
    lower = joined;
  }
  if (berth_json_int(rec, "tagged", 0))
    berth_format_rfc3339(berth_json_int(rec, "tagged", 0), tagged);
  out = json_pack("{s:s, s:o, s:o, s:s, s:s, s:s?, s:s, s:s, s:o, s:s, s:s, s:I, s:{s:{s:s?}, s:s}, s:{s:s, s:o}, "
                  "s:{s:s}}",
                  "Id", id, "RepoTags", familiar_list(json_object_get(rec, "names")), "RepoDigests",
                  familiar_list(json_object_get(rec, "digests")), "Parent", "", "Comment",
                  berth_json_str(cfg, "comment") ? berth_json_str(cfg, "comment") : "", "Created",
                  berth_json_str(cfg, "created"), "DockerVersion", "", "Author",
                  berth_json_str(cfg, "author") ? berth_json_str(cfg, "author") : "", "Config",
                  docker_config(json_object_get(cfg, "config")), "Architecture",
                  berth_json_str(cfg, "architecture") ? berth_json_str(cfg, "architecture") : "", "Os",
                  berth_json_str(cfg, "os") ? berth_json_str(cfg, "os") : "", "Size",
                  (json_int_t)berth_json_int(rec, "size", 0), "GraphDriver", "Data", "LowerDir", lower, "Name",
                  "overlay", "RootFS", "Type", "layers", "Layers", diff_ids ? json_incref(diff_ids) : json_array(), "Metadata",
                  "LastTagTime", tagged[0] ? tagged : "0001-01-01T00:00:00Z");
  if (!out)
    berth_error_set_plain(err, EINVAL, "inspect `%s`: malformed image config", name);
  else if (berth_json_str(cfg, "variant"))
    json_object_set_new(out, "Variant", json_string(berth_json_str(cfg, "variant")));
  return out;
}

json_t *berth_image_history(struct berth_engine *e, const char *name, berth_error_t *err)
{
  cleanup_json json_t *table = berth_images_load(e->store, err);
  cleanup_json json_t *cfg = NULL;
  cleanup_strv char **chains = NULL;
  json_t *out, *hist, *h, *rec;
  const char *id;
  size_t i, layer = 0;
  if (!table || !(id = berth_engine_resolve_image(table, name, err)))
    return NULL;
  rec = json_object_get(json_object_get(table, "images"), id);
  if (!(cfg = berth_image_config(e->store, id, err)))
    return NULL;
  chains = berth_image_chain_ids(cfg);
  hist = json_object_get(cfg, "history");
  out = json_array();
  json_array_foreach(hist, i, h)
  {
    int64_t created = 0, size = 0;
    cleanup_error berth_error_t ign = NULL;
    const char *c = berth_json_str(h, "created");
    if (c)
      (void)berth_parse_rfc3339(c, &created, &ign);
    if (!json_is_true(json_object_get(h, "empty_layer")) && chains[layer]) {
      struct berth_layer l;
      if (berth_layer_get(e->store, chains[layer], &l, &ign) == 0)
        size = l.size;
      layer++;
    }
    json_array_insert_new(out, 0,
                          json_pack("{s:s, s:I, s:s, s:[], s:I, s:s}", "Id", "<missing>", "Created",
                                    (json_int_t)(created / 1000000000LL), "CreatedBy",
                                    berth_json_str(h, "created_by") ? berth_json_str(h, "created_by") : "", "Tags",
                                    "Size", (json_int_t)size, "Comment",
                                    berth_json_str(h, "comment") ? berth_json_str(h, "comment") : ""));
  }
  if (json_array_size(out) == 0)
    json_array_append_new(out, json_pack("{s:s, s:I, s:s, s:[], s:I, s:s}", "Id", id, "Created",
                                         (json_int_t)(berth_json_int(rec, "created", 0) / 1000000000LL), "CreatedBy",
                                         "", "Tags", "Size", (json_int_t)berth_json_int(rec, "size", 0), "Comment",
                                         ""));
  json_object_set_new(json_array_get(out, 0), "Id", json_string(id));
  json_object_set_new(json_array_get(out, 0), "Tags", familiar_list(json_object_get(rec, "names")));
  return out;
}

int berth_image_tag(struct berth_engine *e, const char *source, const char *target, berth_error_t *err)
{
  cleanup_free char *ref = NULL;
  cleanup_json json_t *table = NULL;
  cleanup_close int lock = -1;
  const char *id;
  if (!(ref = berth_engine_tag_ref(target, err)))
    return -1;
  if ((lock = berth_store_lock(e->store, err)) < 0 || !(table = berth_images_load(e->store, err)))
    return -1;
  if (!(id = berth_engine_resolve_image(table, source, err)))
    return -1;
  berth_images_set_name(table, id, ref);
  json_object_set_new(json_object_get(json_object_get(table, "images"), id), "tagged",
                      json_integer(berth_now_ns()));
  if (berth_images_save(e->store, table, err) < 0)
    return -1;
  cleanup_free char *familiar = berth_engine_familiar(ref);
  berth_event_image(e, "tag", id, familiar);
  return 0;
}

static void report_add(json_t *report, const char *key, const char *value)
{
  if (report)
    json_array_append_new(report, json_pack("{s:s}", key, value));
}

/* Delete an image record and collect what nothing uses any more. */
static int delete_image(struct berth_engine *e, json_t *table, const char *id, json_t *report, berth_error_t *err)
{
  cleanup_free char *idcopy = strdup(id);
  json_t *rec = json_object_get(json_object_get(table, "images"), id);
  json_t *v;
  size_t i;
  json_array_foreach(json_object_get(rec, "names"), i, v)
  {
    cleanup_free char *f = berth_engine_familiar(json_string_value(v));
    report_add(report, "Untagged", f);
  }
  json_array_foreach(json_object_get(rec, "digests"), i, v)
  {
    cleanup_free char *f = berth_engine_familiar(json_string_value(v));
    report_add(report, "Untagged", f);
  }
  size_t untagged = json_array_size(json_object_get(rec, "names")) + json_array_size(json_object_get(rec, "digests"));
  json_object_del(json_object_get(table, "images"), idcopy);
  if (berth_images_save(e->store, table, err) < 0)
    return -1;
  report_add(report, "Deleted", idcopy);
  for (i = 0; i < untagged; i++)
    berth_event_image(e, "untag", idcopy, idcopy);
  berth_event_image(e, "delete", idcopy, idcopy);
  return 0;
}

/* Collect unused layers and blobs; report removed layers as docker does. */
static int collect(struct berth_engine *e, json_t *table, int64_t *freed, json_t *report, berth_error_t *err)
{
  cleanup_json json_t *removed = json_array();
  json_t *v;
  size_t i;
  int64_t f = 0;
  if (berth_store_gc(e->store, table, &f, removed, err) < 0)
    return -1;
  json_array_foreach(removed, i, v) report_add(report, "Deleted", json_string_value(v));
  if (freed)
    *freed += f;
  return 0;
}

/* The containers that use images: {image id: {"any": container id,
 * "running": container id of a running one, if any}}. */
static json_t *image_users(struct berth_engine *e)
{
  json_t *users = json_object();
  cleanup_strv char **ids = berth_container_store_ids(e->store, NULL, NULL);
  for (char **p = ids; p && *p; p++) {
    struct berth_ctr c;
    if (berth_ctr_load_id(e, *p, &c, NULL) == 0) {
      const char *img = berth_json_str(c.rec, "Image");
      json_t *u = img ? json_object_get(users, img) : NULL;
      if (img && !u)
        json_object_set_new(users, img, u = json_object());
      if (u && !json_object_get(u, "any"))
        json_object_set_new(u, "any", json_string(c.id));
      if (u && berth_ctr_is_active(&c) && !json_object_get(u, "running"))
        json_object_set_new(u, "running", json_string(c.id));
    }
    berth_ctr_clear(&c);
  }
  return users;
}

/* rmi -f of an image a container uses: docker untags it and keeps it (the
 * container's layers are its layers), so it stays, dangling, until pruned
 * after the container is gone. */
static int untag_all(struct berth_engine *e, json_t *table, const char *id, json_t *report, berth_error_t *err)
{
  json_t *rec = json_object_get(json_object_get(table, "images"), id);
  const char *keys[] = {"names", "digests"};
  for (size_t k = 0; k < 2; k++) {
    json_t *arr = json_object_get(rec, keys[k]), *v;
    size_t i;
    json_array_foreach(arr, i, v)
    {
      cleanup_free char *f = berth_engine_familiar(json_string_value(v));
      report_add(report, "Untagged", f);
      berth_event_image(e, "untag", id, id);
    }
    json_object_set_new(rec, keys[k], json_array());
  }
  return berth_images_save(e->store, table, err);
}

/* docker's conflicts with containers; 1 when an untag is all there is to do. */
static int container_conflict(json_t *users, const char *name, const char *id, bool by_ref, bool force,
                              berth_error_t *err)
{
  json_t *u = json_object_get(users, id);
  const char *any = berth_json_str(u, "any"), *running = berth_json_str(u, "running");
  if (!any)
    return 0;
  if (by_ref && !force)
    return berth_error_set_plain(err, EBUSY,
                                 "conflict: unable to remove repository reference \"%s\" (must force) - container "
                                 "%.12s is using its referenced image %.12s",
                                 name, any, id + 7);
  if (by_ref)
    return 1;
  if (running)
    return berth_error_set_plain(err, EBUSY,
                                 "conflict: unable to delete %.12s (cannot be forced) - image is being used by "
                                 "running container %.12s",
                                 id + 7, running);
  if (!force)
    return berth_error_set_plain(err, EBUSY,
                                 "conflict: unable to delete %.12s (must be forced) - image is being used by "
                                 "stopped container %.12s",
                                 id + 7, any);
  return 1;
}

int berth_image_remove(struct berth_engine *e, const char *name, bool force, bool noprune, json_t *report,
                       berth_error_t *err)
{
  cleanup_close int lock = -1;
  cleanup_json json_t *table = NULL;
  cleanup_free char *ref = NULL;
  const char *id;
  json_t *rec, *names, *digests;
  if ((lock = berth_store_lock(e->store, err)) < 0 || !(table = berth_images_load(e->store, err)))
    return -1;
  if (!(id = berth_engine_resolve_image(table, name, err)))
    return -1;
  rec = json_object_get(json_object_get(table, "images"), id);
  names = json_object_get(rec, "names");
  digests = json_object_get(rec, "digests");
  ref = berth_engine_name_ref(table, name, id);
  if (ref && json_array_size(names) + json_array_size(digests) > 1) {
    /* Untag only: the image keeps its other names. */
    cleanup_free char *f = berth_engine_familiar(ref);
    berth_images_set_name(table, "", ref);
    report_add(report, "Untagged", f);
    if (berth_images_save(e->store, table, err) < 0)
      return -1;
    berth_event_image(e, "untag", id, id);
    return 0;
  }
  cleanup_json json_t *users = image_users(e);
  json_t *u = json_object_get(users, id);
  if (!ref && berth_json_str(u, "running"))
    return container_conflict(users, name, id, false, force, err);
  if (!ref && json_array_size(names) > 1 && !force) {
    char short_id[13];
    snprintf(short_id, sizeof(short_id), "%.12s", id + 7);
    return berth_error_set_plain(err, EBUSY,
                           "conflict: unable to delete %s (must be forced) - image is referenced in multiple "
                           "repositories",
                           short_id);
  }
  int conflict = container_conflict(users, name, id, ref != NULL, force, err);
  if (conflict < 0)
    return -1;
  if (conflict > 0)
    return untag_all(e, table, id, report, err);
  if (delete_image(e, table, id, report, err) < 0)
    return -1;
  /* --no-prune keeps untagged parent images; berth records no parent images
   * (builds bring them), so only this image's own layers are collected. */
  (void)noprune;
  return collect(e, table, NULL, report, err);
}

/* build_cache: only the images builds made (with a parent, or a parent). */
static json_t *prune(struct berth_engine *e, bool all, bool build_cache, char **filters, berth_error_t *err)
{
  static const char *const allowed[] = {"until", "label", "label!", "dangling", NULL};
  cleanup_close int lock = -1;
  cleanup_json json_t *table = NULL;
  cleanup_json json_t *f = berth_engine_parse_filters(filters, allowed, err);
  cleanup_json json_t *ids = json_array(), *users = NULL, *parents = NULL;
  json_t *deleted = json_array(), *rec, *v;
  const char *id;
  int64_t until = INT64_MAX, freed = 0;
  size_t i;
  if (!f)
    goto fail;
  json_array_foreach(json_object_get(f, "until"), i, v)
  {
    if (berth_parse_time_filter(json_string_value(v), &until, err) < 0)
      goto fail;
  }
  json_array_foreach(json_object_get(f, "dangling"), i, v)
  {
    const char *s = json_string_value(v);
    if (!strcasecmp(s, "false") || !strcmp(s, "0"))
      all = true;
    else if (strcasecmp(s, "true") && strcmp(s, "1")) {
      berth_error_set_plain(err, EINVAL, "invalid filter 'dangling=%s'", s);
      goto fail;
    }
  }
  if ((lock = berth_store_lock(e->store, err)) < 0 || !(table = berth_images_load(e->store, err)))
    goto fail;
  users = image_users(e);
  parents = json_object();
  json_object_foreach(json_object_get(table, "images"), id, rec)
  {
    if (berth_json_str(rec, "parent"))
      json_object_set_new(parents, berth_json_str(rec, "parent"), json_true());
  }
  json_object_foreach(json_object_get(table, "images"), id, rec)
  {
    /* an image a container uses is neither unused nor dangling (docker) */
    bool match = !json_object_get(users, id) && (all || json_array_size(json_object_get(rec, "names")) == 0);
    if (build_cache)
      match = match && (berth_json_str(rec, "parent") || json_object_get(parents, id));
    if (berth_json_int(rec, "created", 0) > until)
      match = false;
    if (match && (json_array_size(json_object_get(f, "label")) || json_array_size(json_object_get(f, "label!")))) {
      cleanup_json json_t *cfg = berth_image_config(e->store, id, err);
      json_t *labels;
      if (!cfg)
        goto fail;
      labels = json_object_get(json_object_get(cfg, "config"), "Labels");
      json_array_foreach(json_object_get(f, "label"), i, v) match = match && berth_engine_label_matches(labels, json_string_value(v));
      json_array_foreach(json_object_get(f, "label!"), i, v) match = match && !berth_engine_label_matches(labels, json_string_value(v));
    }
    if (match)
      json_array_append_new(ids, json_string(id));
  }
  json_array_foreach(ids, i, v) if (delete_image(e, table, json_string_value(v), deleted, err) < 0) goto fail;
  if (collect(e, table, &freed, deleted, err) < 0)
    goto fail;
  return json_pack("{s:o, s:I}", "ImagesDeleted", deleted, "SpaceReclaimed", (json_int_t)freed);
fail:
  json_decref(deleted);
  return NULL;
}

json_t *berth_image_prune(struct berth_engine *e, bool all, char **filters, berth_error_t *err)
{
  return prune(e, all, false, filters, err);
}

json_t *berth_builder_prune(struct berth_engine *e, bool all, berth_error_t *err)
{
  /* the cache index first: nothing may point at what goes */
  if (berth_rm_rf_at(e->store->root_fd, "build-cache", err) < 0 ||
      (all && berth_rm_rf_at(e->store->root_fd, "build-cache-mounts", err) < 0))
    return NULL;
  return prune(e, false, true, NULL, err);
}

int berth_image_import(struct berth_engine *e, int fd, const struct berth_import_opts *opts, char **ret_id,
                       berth_error_t *err)
{
  struct berth_import_opts o = *opts;
  cleanup_free char *ref = NULL;
  cleanup_json json_t *cc = json_object();
  /* the changes are checked before anything is downloaded or unpacked */
  for (size_t i = 0; opts->changes && opts->changes[i]; i++)
    if (berth_build_apply_change(cc, opts->changes[i], err) < 0)
      return -1;
  if (opts->reference) {
    if (!(ref = berth_engine_tag_ref(opts->reference, err)))
      return -1;
    o.reference = ref;
  }
  if (opts->url) {
    cleanup_close int tmp = berth_tmpfile_unlinked(e->store->root_fd, err);
    cleanup_free char *comment = NULL;
    if (tmp < 0 || berth_fetch_url(opts->url, tmp, err) < 0 || lseek(tmp, 0, SEEK_SET) < 0)
      return berth_error_prefix(err, "import");
    if (!o.message || !*o.message) {
      if (asprintf(&comment, "Imported from %s", opts->url) < 0)
        abort();
      o.message = comment;
    }
    if (berth_image_import_fd(e->store, tmp, &o, cc, ret_id, err) < 0)
      return -1;
  } else if (berth_image_import_fd(e->store, fd, &o, cc, ret_id, err) < 0) {
    return -1;
  }
  berth_event_image(e, "import", *ret_id, *ret_id);
  return 0;
}

int berth_image_bootstrap(struct berth_engine *e, const struct berth_bootstrap_opts *opts, char **ret_id,
                          berth_error_t *err)
{
  bool debian = opts->kind == BERTH_BOOTSTRAP_DEBIAN;
  const char *suite = opts->suite ? opts->suite : "bookworm";
  cleanup_free char *dflt = NULL, *ref = NULL;
  if (!opts->reference && asprintf(&dflt, "%s", debian ? "debian:bookworm" : "busybox:latest") < 0)
    abort();
  if (!opts->reference && debian && strcmp(suite, "bookworm") != 0) {
    free(dflt);
    if (asprintf(&dflt, "debian:%s", suite) < 0)
      abort();
  }
  if (!(ref = berth_engine_tag_ref(opts->reference ? opts->reference : dflt, err)))
    return -1;
  if (debian)
    return berth_bootstrap_debian(e->store, suite, opts->mirror, ref, ret_id, err);
  return berth_bootstrap_busybox(e->store, opts->busybox, ref, ret_id, err);
}
