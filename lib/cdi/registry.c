/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The CDI spec folders: every *.json and *.yaml file directly in each folder
 * (sorted by name, no recursion), the later folder of the list with the
 * higher priority.  A device named in two files: the higher priority wins;
 * two files of the same priority: the device is dropped as a conflict.  A
 * bad file is recorded with its error and skipped; the others still load. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BERTH_LOG_DOMAIN "cdi"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include <berth/log.h>
#include "cdi/cdi.h"

const char *const berth_cdi_default_dirs[] = {"/etc/cdi", "/var/run/cdi", NULL};

#define SPEC_MAX (4 << 20)

static void add_error(struct berth_cdi_registry *reg, char *msg)
{
  char **n = realloc(reg->errors, (reg->n_errors + 1) * sizeof *n);
  if (!n || !msg)
    abort();
  reg->errors = n;
  reg->errors[reg->n_errors++] = msg;
  berth_debug("%s", msg);
}

static int by_name_then_priority(const void *a, const void *b)
{
  const struct berth_cdi_device *x = a, *y = b;
  int r = strcmp(x->name, y->name);
  return r ? r : y->priority - x->priority;
}

static void devices_clear(struct berth_cdi_registry *reg)
{
  for (size_t i = 0; i < reg->n_devices; i++)
    free(reg->devices[i].name);
  free(reg->devices);
  reg->devices = NULL;
  reg->n_devices = 0;
}

static void conflict(struct berth_cdi_registry *reg, const struct berth_cdi_device *a, const struct berth_cdi_device *b)
{
  char *msg = NULL;
  if (asprintf(&msg, "%s: conflicting device `%s` (also in %s), dropped", b->path, a->name, a->path) < 0)
    abort();
  add_error(reg, msg);
}

/* Every device of every spec, then one per name by the rules above. */
static void rebuild(struct berth_cdi_registry *reg)
{
  size_t n = 0;
  devices_clear(reg);
  for (size_t i = 0; i < reg->n_specs; i++)
    n += json_array_size(json_object_get(reg->specs[i], "devices"));
  struct berth_cdi_device *all = calloc(n ? n : 1, sizeof *all);
  if (!all)
    abort();
  n = 0;
  for (size_t i = 0; i < reg->n_specs; i++) {
    const char *kind = berth_json_str(reg->specs[i], "kind");
    json_t *d;
    size_t k;
    json_array_foreach(json_object_get(reg->specs[i], "devices"), k, d)
    {
      struct berth_cdi_device *dev = &all[n++];
      if (asprintf(&dev->name, "%s=%s", kind, berth_json_str(d, "name")) < 0)
        abort();
      *dev = (struct berth_cdi_device){.name = dev->name, .spec = reg->specs[i], .path = reg->paths[i],
                                       .edits = json_object_get(d, "containerEdits"), .priority = reg->priorities[i]};
    }
  }
  qsort(all, n, sizeof *all, by_name_then_priority);
  size_t out = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    bool clash = false;
    for (; j < n && strcmp(all[j].name, all[i].name) == 0; j++)
      if (all[j].priority == all[i].priority) {
        clash = true;
        conflict(reg, &all[i], &all[j]);
      }
    if (clash) {
      for (size_t k = i; k < j; k++)
        free(all[k].name);
    } else {
      all[out++] = all[i];
      for (size_t k = i + 1; k < j; k++)
        free(all[k].name);
    }
    i = j;
  }
  reg->devices = all;
  reg->n_devices = out;
}

static void append_spec(struct berth_cdi_registry *reg, json_t *doc, const char *path, int priority)
{
  json_t **s = realloc(reg->specs, (reg->n_specs + 1) * sizeof *s);
  char **p = s ? realloc(reg->paths, (reg->n_specs + 1) * sizeof *p) : NULL;
  int *prio = p ? realloc(reg->priorities, (reg->n_specs + 1) * sizeof *prio) : NULL;
  if (!s || !p || !prio)
    abort();
  reg->specs = s;
  reg->paths = p;
  reg->priorities = prio;
  reg->specs[reg->n_specs] = doc;
  reg->priorities[reg->n_specs] = priority;
  if (!(reg->paths[reg->n_specs++] = strdup(path)))
    abort();
}

int berth_cdi_registry_add(struct berth_cdi_registry *reg, json_t *doc, const char *path, int priority,
                           berth_error_t *err)
{
  if (!json_is_object(doc))
    return berth_error_set_plain(err, EINVAL, "%s: not a CDI spec", path);
  append_spec(reg, json_incref(doc), path, priority);
  rebuild(reg);
  return 0;
}

static bool is_spec_file(const char *name)
{
  const char *dot = strrchr(name, '.');
  return name[0] != '.' && dot && (strcmp(dot, ".json") == 0 || strcmp(dot, ".yaml") == 0);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void load_file(struct berth_cdi_registry *reg, int dfd, const char *dir, const char *name, int priority)
{
  cleanup_free char *path = NULL, *text = NULL;
  cleanup_error berth_error_t err = NULL;
  struct stat st;
  size_t len = 0;
  if (asprintf(&path, "%s/%s", dir, name) < 0)
    abort();
  if (fstatat(dfd, name, &st, 0) < 0 || !S_ISREG(st.st_mode))
    return; /* gone meanwhile, or not a file */
  if (st.st_size > SPEC_MAX) {
    char *msg = NULL;
    if (asprintf(&msg, "%s: larger than %d bytes", path, SPEC_MAX) < 0)
      abort();
    add_error(reg, msg);
    return;
  }
  if (berth_read_file_at(dfd, name, &text, &len, &err) < 0) {
    add_error(reg, berth_error_string(err));
    return;
  }
  json_t *doc = berth_cdi_spec_parse(text, len, path, &err);
  if (!doc) {
    add_error(reg, berth_error_string(err));
    return;
  }
  append_spec(reg, doc, path, priority);
}

static void load_dir(struct berth_cdi_registry *reg, const char *dir, int priority)
{
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_error berth_error_t err = NULL;
  if (dfd < 0) {
    if (errno != ENOENT)
      berth_debug("open CDI spec folder `%s`, skipping: %s", dir, strerror(errno));
    return;
  }
  size_t n = 0;
  cleanup_strv char **names = berth_dir_names(dfd, &n, &err);
  if (!names)
    return;
  qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++)
    if (is_spec_file(names[i]))
      load_file(reg, dfd, dir, names[i], priority);
}

struct berth_cdi_registry *berth_cdi_registry_load(const char *const *dirs)
{
  struct berth_cdi_registry *reg = calloc(1, sizeof *reg);
  if (!reg)
    abort();
  for (int i = 0; dirs && dirs[i]; i++)
    load_dir(reg, dirs[i], i);
  rebuild(reg);
  return reg;
}

const struct berth_cdi_device *berth_cdi_registry_find(const struct berth_cdi_registry *reg, const char *name)
{
  struct berth_cdi_device key = {.name = (char *)name};
  size_t lo = 0, hi = reg->n_devices;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int r = strcmp(key.name, reg->devices[mid].name);
    if (r == 0)
      return &reg->devices[mid];
    if (r < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

bool berth_cdi_registry_has_kind(const struct berth_cdi_registry *reg, const char *kind)
{
  size_t n = strlen(kind);
  for (size_t i = 0; i < reg->n_devices; i++)
    if (strncmp(reg->devices[i].name, kind, n) == 0 && reg->devices[i].name[n] == '=')
      return true;
  return false;
}

void berth_cdi_registry_free(struct berth_cdi_registry *reg)
{
  if (!reg)
    return;
  devices_clear(reg);
  for (size_t i = 0; i < reg->n_specs; i++) {
    json_decref(reg->specs[i]);
    free(reg->paths[i]);
  }
  for (size_t i = 0; i < reg->n_errors; i++)
    free(reg->errors[i]);
  free(reg->specs);
  free(reg->paths);
  free(reg->priorities);
  free(reg->errors);
  free(reg);
}
