/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opening the engine, and the helpers every operation shares: image name
 * resolution and filter parsing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "cdi/cdi.h"
#include "engine/engine-internal.h"
#include "oci/reference.h"

static char **cdi_dirs(const char *const *given)
{
  const char *env = getenv("BERTH_CDI_SPEC_DIRS");
  cleanup_free char *copy = env && *env ? strdup(env) : NULL;
  char **out = calloc(64, sizeof *out);
  size_t n = 0;
  if (!out)
    abort();
  for (size_t i = 0; given && given[i] && n < 63; i++)
    out[n++] = strdup(given[i]);
  for (char *save = NULL, *d = !given && copy ? strtok_r(copy, ":", &save) : NULL; d && n < 63; d = strtok_r(NULL, ":", &save))
    out[n++] = strdup(d);
  for (size_t i = 0; !given && !copy && berth_cdi_default_dirs[i]; i++)
    out[n++] = strdup(berth_cdi_default_dirs[i]);
  for (size_t i = 0; i < n; i++)
    if (!out[i])
      abort();
  return out;
}

int berth_engine_open(const struct berth_engine_opts *opts, struct berth_engine **ret, berth_error_t *err)
{
  struct berth_engine *e = calloc(1, sizeof(*e));
  if (!e)
    abort();
  if (berth_store_open(opts->root ? opts->root : "/var/lib/berth", opts->runroot ? opts->runroot : "/run/berth",
                       &e->store, err) < 0) {
    free(e);
    return -1;
  }
  const char *cg = getenv("BERTH_CGROUP_PARENT");
  e->cgroup_parent = strdup(cg && *cg ? cg : "/berth");
  e->cdi_spec_dirs = cdi_dirs(opts->cdi_spec_dirs);
  *ret = e;
  return 0;
}

void berth_engine_free(struct berth_engine *e)
{
  if (!e)
    return;
  berth_store_free(e->store);
  free(e->cgroup_parent);
  berth_strv_free(e->cdi_spec_dirs);
  free(e);
}

char *berth_engine_normalize_ref(const char *name, berth_error_t *err)
{
  struct berth_reference r = {0};
  char *s;
  if (berth_reference_parse(name, &r, err) < 0)
    return NULL;
  berth_reference_with_default_tag(&r);
  s = berth_reference_string(&r);
  berth_reference_clear(&r);
  return s;
}

char *berth_engine_familiar(const char *full_ref)
{
  struct berth_reference r = {0};
  cleanup_error berth_error_t err = NULL;
  char *s;
  if (berth_reference_parse(full_ref, &r, &err) < 0)
    return strdup(full_ref);
  s = berth_reference_familiar_string(&r);
  berth_reference_clear(&r);
  return s;
}

const char *berth_engine_resolve_image(json_t *table, const char *name, berth_error_t *err)
{
  cleanup_error berth_error_t parse_err = NULL;
  cleanup_free char *normalized = berth_engine_normalize_ref(name, &parse_err);
  const char *id;
  if (!name || !*name) {
    berth_error_set_plain(err, EINVAL, "invalid reference format");
    return NULL;
  }
  id = berth_images_lookup(table, normalized, name, err);
  if (!id && !*err)
    berth_error_set_plain(err, ENOENT, "No such image: %s", name);
  return id;
}

char *berth_engine_tag_ref(const char *target, berth_error_t *err)
{
  struct berth_reference r = {0};
  char *s;
  if (berth_reference_parse(target, &r, err) < 0) {
    berth_error_prefix(err, "\"%s\" is not a valid repository/tag", target);
    return NULL;
  }
  if (r.digest) {
    berth_reference_clear(&r);
    berth_error_set_plain(err, EINVAL, "refusing to create a tag with a digest reference");
    return NULL;
  }
  berth_reference_with_default_tag(&r);
  s = berth_reference_string(&r);
  berth_reference_clear(&r);
  return s;
}

char *berth_engine_name_ref(json_t *table, const char *name, const char *id)
{
  cleanup_error berth_error_t ign = NULL;
  char *ref = berth_engine_normalize_ref(name, &ign);
  if (ref && berth_images_lookup(table, ref, "", &ign) == id && strcmp(id, name) != 0 &&
      strncmp(id + 7, name, strlen(name)) != 0)
    return ref;
  free(ref);
  return NULL;
}

json_t *berth_engine_parse_filters(char **filters, const char *const *allowed, berth_error_t *err)
{
  json_t *out = json_object();
  for (size_t i = 0; filters && filters[i]; i++) {
    const char *eq = strchr(filters[i], '=');
    cleanup_free char *key = NULL;
    bool ok = false;
    json_t *arr;
    if (!eq) {
      json_decref(out);
      berth_error_set_plain(err, EINVAL, "bad format of filter (expected name=value)");
      return NULL;
    }
    key = strndup(filters[i], (size_t)(eq - filters[i]));
    for (size_t k = 0; allowed[k]; k++)
      ok = ok || strcmp(allowed[k], key) == 0;
    if (!ok) {
      json_decref(out);
      berth_error_set_plain(err, EINVAL, "invalid filter '%s'", key);
      return NULL;
    }
    arr = json_object_get(out, key);
    if (!arr) {
      arr = json_array();
      json_object_set_new(out, key, arr);
    }
    json_array_append_new(arr, json_string(eq + 1));
  }
  return out;
}

bool berth_engine_label_matches(const json_t *labels, const char *want)
{
  const char *eq = strchr(want, '=');
  if (!eq)
    return json_object_get(labels, want) != NULL;
  cleanup_free char *key = strndup(want, (size_t)(eq - want));
  const char *v = berth_json_str(labels, key);
  return v && strcmp(v, eq + 1) == 0;
}
