/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Docker's create-time merge of an image's config into the container's
 * Config (moby daemon/create.go merge()): what the request leaves unset comes
 * from the image. */
#include <errno.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "engine/spec.h"

/* A strslice (array of strings, or one string) as an array; NULL for absent
 * or null, an error for anything else. */
static int strslice(const json_t *obj, const char *key, json_t **ret, berth_error_t *err)
{
  json_t *v = json_object_get(obj, key), *e;
  size_t i;
  *ret = NULL;
  if (!v || json_is_null(v))
    return 0;
  if (json_is_string(v)) {
    *ret = json_pack("[s]", json_string_value(v));
    return 0;
  }
  if (!json_is_array(v))
    return berth_error_set_plain(err, EINVAL, "%s: expected an array of strings", key);
  json_array_foreach(v, i, e)
  {
    if (!json_is_string(e))
      return berth_error_set_plain(err, EINVAL, "%s: expected an array of strings", key);
  }
  *ret = json_deep_copy(v);
  return 0;
}

static bool is_empty(const json_t *v)
{
  return !v || json_is_null(v) || (json_is_string(v) && !json_string_value(v)[0]) ||
         (json_is_array(v) && json_array_size(v) == 0) || (json_is_object(v) && json_object_size(v) == 0);
}

/* Copy image[key] into out[key] when the request left it empty. */
static void inherit(json_t *out, const json_t *image, const char *key)
{
  json_t *v = json_object_get(image, key);
  if (is_empty(json_object_get(out, key)) && !is_empty(v))
    json_object_set_new(out, key, json_deep_copy(v));
}

/* Add the image's keys that the request's object lacks. */
static void union_objects(json_t *out, const json_t *image, const char *key)
{
  json_t *img = json_object_get(image, key), *mine = json_object_get(out, key);
  if (!json_is_object(img))
    return;
  if (!json_is_object(mine)) {
    json_object_set_new(out, key, json_deep_copy(img));
    return;
  }
  json_object_update_missing(mine, img);
}

static bool env_has_key(const json_t *env, const char *kv)
{
  size_t klen = strcspn(kv, "="), i;
  json_t *v;
  json_array_foreach(env, i, v)
  {
    const char *s = json_string_value(v);
    if (s && strncmp(s, kv, klen) == 0 && (s[klen] == '=' || s[klen] == '\0'))
      return true;
  }
  return false;
}

/* The request's entries, then the image's whose key the request does not
 * set (moby's order). */
static void merge_env(json_t *out, const json_t *image)
{
  json_t *mine = json_object_get(out, "Env"), *img = json_object_get(image, "Env"), *v;
  size_t i;
  if (!json_is_array(img))
    return;
  if (!json_is_array(mine)) {
    json_object_set_new(out, "Env", json_deep_copy(img));
    return;
  }
  json_array_foreach(img, i, v)
  {
    if (json_is_string(v) && !env_has_key(mine, json_string_value(v)))
      json_array_append_new(mine, json_string(json_string_value(v)));
  }
}

/* Entrypoint and Cmd.  An explicit [""] Entrypoint (--entrypoint "") clears
 * the image's; a given Entrypoint keeps the image's Cmd out. */
static int merge_command(json_t *out, const json_t *image, berth_error_t *err)
{
  cleanup_json json_t *ep = NULL, *cmd = NULL, *img_ep = NULL, *img_cmd = NULL;
  if (strslice(out, "Entrypoint", &ep, err) < 0 || strslice(out, "Cmd", &cmd, err) < 0 ||
      strslice(image, "Entrypoint", &img_ep, err) < 0 || strslice(image, "Cmd", &img_cmd, err) < 0)
    return -1;
  if (ep && json_array_size(ep) == 1 && !json_string_value(json_array_get(ep, 0))[0])
    json_array_clear(ep);
  if (!ep || json_array_size(ep) == 0) {
    if ((!cmd || json_array_size(cmd) == 0) && img_cmd) {
      json_decref(cmd);
      cmd = json_incref(img_cmd);
      if (json_object_get(image, "ArgsEscaped"))
        json_object_set(out, "ArgsEscaped", json_object_get(image, "ArgsEscaped"));
    }
    if (!ep && img_ep)
      ep = json_incref(img_ep);
  }
  json_object_set(out, "Entrypoint", ep ? ep : json_null());
  json_object_set(out, "Cmd", cmd ? cmd : json_null());
  return 0;
}

/* Field by field: the request's test and durations win where set. */
static void merge_healthcheck(json_t *out, const json_t *image)
{
  static const char *const fields[] = {"Test", "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries", NULL};
  json_t *img = json_object_get(image, "Healthcheck"), *mine = json_object_get(out, "Healthcheck");
  if (!json_is_object(img))
    return;
  if (!json_is_object(mine)) {
    json_object_set_new(out, "Healthcheck", json_deep_copy(img));
    return;
  }
  for (const char *const *f = fields; *f; f++) {
    json_t *v = json_object_get(mine, *f);
    if (is_empty(v) || (json_is_integer(v) && json_integer_value(v) == 0))
      inherit(mine, img, *f);
  }
}

json_t *berth_config_merge(const json_t *request, const json_t *image_config, berth_error_t *err)
{
  cleanup_json json_t *out = NULL;
  if (request && !json_is_object(request)) {
    berth_error_set_plain(err, EINVAL, "container config: expected an object");
    return NULL;
  }
  if (image_config && !json_is_object(image_config))
    image_config = NULL;
  out = request ? json_deep_copy(request) : json_object();
  if (merge_command(out, image_config, err) < 0)
    return NULL;
  merge_env(out, image_config);
  inherit(out, image_config, "User");
  inherit(out, image_config, "WorkingDir");
  inherit(out, image_config, "StopSignal");
  union_objects(out, image_config, "ExposedPorts");
  union_objects(out, image_config, "Volumes");
  if (!json_is_object(json_object_get(out, "Labels")))
    json_object_set_new(out, "Labels", json_object());
  union_objects(out, image_config, "Labels");
  merge_healthcheck(out, image_config);
  json_object_del(out, "OnBuild");
  return steal_ptr(&out);
}
