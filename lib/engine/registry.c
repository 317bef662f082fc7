/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pull and push (lib/registry) on the engine's store. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "engine/engine-internal.h"
#include "engine/events.h"
#include "oci/reference.h"
#include "registry/registry.h"

static void reference_clearp(struct berth_reference *r) { berth_reference_clear(r); }
#define cleanup_reference __attribute__((cleanup(reference_clearp)))

int berth_image_pull(struct berth_engine *e, const char *name, const struct berth_pull_opts *opts,
                     struct berth_pull_result *ret, berth_error_t *err)
{
  cleanup_reference struct berth_reference ref = {0};
  if (berth_reference_parse(name, &ref, err) < 0)
    return -1;
  berth_reference_with_default_tag(&ref);
  if (berth_registry_pull(e->store, &ref, opts, ret, err) < 0)
    return -1;
  berth_event_image(e, "pull", ret->id, ret->reference);
  return 0;
}

char **berth_image_remote_tags(struct berth_engine *e, const char *name, berth_error_t *err)
{
  cleanup_reference struct berth_reference ref = {0};
  (void)e;
  if (berth_reference_parse(name, &ref, err) < 0)
    return NULL;
  if (ref.tag || ref.digest) {
    berth_error_set_plain(err, EINVAL, "tag can't be used with --all-tags/-a");
    return NULL;
  }
  return berth_registry_tags(&ref, err);
}

json_t *berth_manifest_inspect(struct berth_engine *e, const char *name, bool insecure, berth_error_t *err)
{
  cleanup_reference struct berth_reference ref = {0};
  (void)e;
  if (berth_reference_parse(name, &ref, err) < 0)
    return NULL;
  berth_reference_with_default_tag(&ref);
  return berth_registry_inspect(&ref, insecure, err);
}

/* Repositories of the same registry the image has digests from: candidates
 * for cross-repository mounts. */
static char **mount_sources(const json_t *rec, const struct berth_reference *to)
{
  json_t *digests = json_object_get(rec, "digests"), *v;
  char **out = calloc(json_array_size(digests) + 1, sizeof(char *));
  size_t i, n = 0;
  if (!out)
    abort();
  json_array_foreach(digests, i, v)
  {
    struct berth_reference r = {0};
    if (berth_reference_parse(json_string_value(v) ?: "", &r, NULL) == 0 && strcmp(r.domain, to->domain) == 0 &&
        strcmp(r.path, to->path) != 0)
      out[n++] = strdup(r.path);
    berth_reference_clear(&r);
  }
  return out;
}

int berth_image_push(struct berth_engine *e, const char *name, const struct berth_push_opts *opts, char **ret_digest,
                     int64_t *ret_size, berth_error_t *err)
{
  cleanup_reference struct berth_reference ref = {0};
  cleanup_json json_t *table = NULL;
  cleanup_strv char **sources = NULL;
  cleanup_free char *full = NULL, *id = NULL;
  const char *found;
  if (berth_reference_parse(name, &ref, err) < 0)
    return -1;
  if (ref.digest)
    return berth_error_set_plain(err, EINVAL, "cannot push a digest reference");
  berth_reference_with_default_tag(&ref);
  full = berth_reference_string(&ref);
  if (!(table = berth_images_load(e->store, err)))
    return -1;
  if (!(found = berth_images_lookup(table, full, "", err))) {
    cleanup_free char *fam = berth_reference_familiar_string(&ref);
    if (!*err)
      berth_error_set_plain(err, ENOENT, "An image does not exist locally with the tag: %s", fam);
    return -1;
  }
  id = strdup(found);
  sources = mount_sources(json_object_get(json_object_get(table, "images"), id), &ref);
  if (berth_registry_push(e->store, id, &ref, sources, opts, ret_digest, ret_size, err) < 0)
    return -1;
  berth_event_image(e, "push", id, full);
  return 0;
}
