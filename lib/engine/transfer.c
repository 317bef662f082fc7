/* SPDX-License-Identifier: GPL-2.0-or-later */
/* save and load: resolve what the user named, then hand over to the archive
 * writer and reader of lib/image. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "engine/engine-internal.h"
#include "engine/events.h"
#include "image/archive.h"

/* Group the requested names by image: {id: [refs...]} in request order. */
static json_t *group_by_image(json_t *table, char **names, berth_error_t *err)
{
  json_t *groups = json_object();
  for (size_t i = 0; names[i]; i++) {
    cleanup_free char *ref = NULL;
    const char *id = berth_engine_resolve_image(table, names[i], err);
    json_t *refs;
    if (!id) {
      json_decref(groups);
      return NULL;
    }
    refs = json_object_get(groups, id);
    if (!refs) {
      refs = json_array();
      json_object_set_new(groups, id, refs);
    }
    /* Named by a tag: record that tag.  Named by id or digest: no tag (docker). */
    ref = berth_engine_name_ref(table, names[i], id);
    if (ref && !strchr(ref, '@'))
      json_array_append_new(refs, json_string(ref));
  }
  return groups;
}

int berth_image_save(struct berth_engine *e, char **names, enum berth_archive_format format, int fd,
                     berth_error_t *err)
{
  cleanup_json json_t *table = berth_images_load(e->store, err);
  cleanup_json json_t *groups = NULL;
  struct berth_save_item *items = NULL;
  const char *id;
  json_t *refs;
  size_t n = 0;
  int r;
  if (!table || !(groups = group_by_image(table, names, err)))
    return -1;
  items = calloc(json_object_size(groups) + 1, sizeof(*items));
  if (!items)
    abort();
  json_object_foreach(groups, id, refs)
  {
    size_t k;
    json_t *v;
    items[n].id = id;
    items[n].refs = calloc(json_array_size(refs) + 1, sizeof(char *));
    if (!items[n].refs)
      abort();
    json_array_foreach(refs, k, v) items[n].refs[k] = (char *)json_string_value(v);
    n++;
  }
  r = berth_archive_save(e->store, items, n, format, fd, err);
  for (size_t i = 0; i < n; i++) {
    if (r == 0)
      berth_event_image(e, "save", items[i].id, items[i].id);
    free(items[i].refs);
  }
  free(items);
  return r;
}

json_t *berth_image_load(struct berth_engine *e, int fd, berth_error_t *err)
{
  json_t *loaded = berth_archive_load(e->store, fd, err), *v;
  cleanup_json json_t *table = loaded ? berth_images_load(e->store, NULL) : NULL;
  size_t i;
  /* "Loaded image: REF" or "Loaded image ID: ID": one load event per image */
  json_array_foreach(loaded, i, v) {
    const char *line = json_string_value(v), *colon = line ? strstr(line, ": ") : NULL;
    const char *id = colon && table ? berth_engine_resolve_image(table, colon + 2, NULL) : NULL;
    if (id)
      berth_event_image(e, "load", id, id);
  }
  return loaded;
}
