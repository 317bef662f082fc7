/* SPDX-License-Identifier: GPL-2.0-or-later */
/* docker events: recording into the journal (store/event-journal.c) and
 * reading it back, filtered with docker's rules (daemon/events/filter.go):
 * values of one key are alternatives, different keys must all match;
 * container=, and the other object keys, match the actor's id or name by
 * prefix; image= matches an image event's id or name, or a container's image,
 * with or without the tag; label= needs every label given; event= and type=
 * are exact. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BERTH_LOG_DOMAIN "events"
#include <berth/log.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "engine/engine-internal.h"
#include "engine/events.h"
#include "engine/logread.h"
#include "store/event-journal.h"

static void append(struct berth_engine *e, json_t *msg)
{
  berth_error_t err = NULL;
  if (berth_event_append(e->store->runroot_fd, msg, &err) < 0) {
    berth_debug("record an event, ignoring: %s", err->msg);
    berth_error_release(&err);
  }
  json_decref(msg);
}

void berth_event_container(struct berth_engine *e, const struct berth_ctr *c, const char *action, json_t *extra)
{
  json_t *attrs = berth_event_container_attrs(c->rec);
  if (extra)
    json_object_update(attrs, extra);
  json_decref(extra);
  append(e, berth_event_message("container", action, c->id, attrs, berth_now_ns()));
}

void berth_event_image(struct berth_engine *e, const char *action, const char *id, const char *name)
{
  append(e, berth_event_message("image", action, id, json_pack("{s:s}", "name", name), berth_now_ns()));
}

void berth_event_record(struct berth_engine *e, const char *type, const char *action, const char *id,
                        const json_t *attrs)
{
  struct berth_ctr c;
  if (strcmp(type, "container") == 0 && berth_ctr_load(e, id, &c, NULL) == 0) {
    berth_event_container(e, &c, action, attrs ? json_deep_copy(attrs) : NULL);
  } else {
    json_t *a = attrs ? json_deep_copy(attrs) : json_object();
    append(e, berth_event_message(type, action, id, a, berth_now_ns()));
  }
  if (strcmp(type, "container") == 0)
    berth_ctr_clear(&c);
}

/* ---- filters ---- */

static bool exact(const json_t *f, const char *key, const char *v)
{
  const json_t *vals = json_object_get(f, key), *x;
  size_t i;
  if (!vals)
    return true;
  json_array_foreach(vals, i, x) if (v && strcmp(json_string_value(x), v) == 0) return true;
  return false;
}

static bool fuzzy(const json_t *f, const char *key, const char *v)
{
  const json_t *vals = json_object_get(f, key), *x;
  size_t i;
  if (!vals)
    return true;
  json_array_foreach(vals, i, x) if (v && strncmp(v, json_string_value(x), strlen(json_string_value(x))) == 0)
      return true;
  return false;
}

/* container=, network=, ...: the actor's id or name, by prefix. */
static bool name_matches(const json_t *f, const char *type, const json_t *ev)
{
  const json_t *actor = json_object_get(ev, "Actor");
  const char *name = berth_json_str(json_object_get(actor, "Attributes"), "name");
  return fuzzy(f, type, berth_json_str(actor, "ID")) || fuzzy(f, type, name);
}

/* "busybox:latest" -> "busybox"; "x@sha256:..." -> "x". */
static char *strip_tag(const char *s)
{
  const char *at = strchr(s, '@'), *slash = strrchr(s, '/'), *colon = strrchr(s, ':');
  size_t n = at ? (size_t)(at - s) : colon && (!slash || colon > slash) ? (size_t)(colon - s) : strlen(s);
  return strndup(s, n);
}

static bool image_matches(const json_t *f, const json_t *ev)
{
  const json_t *actor = json_object_get(ev, "Actor");
  bool image_ev = strcmp(berth_json_str(ev, "Type") ? berth_json_str(ev, "Type") : "", "image") == 0;
  const char *id = berth_json_str(actor, "ID");
  const char *name = berth_json_str(json_object_get(actor, "Attributes"), image_ev ? "name" : "image");
  if (!json_object_get(f, "image"))
    return true;
  cleanup_free char *id_s = strip_tag(id ? id : ""), *name_s = strip_tag(name ? name : "");
  return exact(f, "image", id) || exact(f, "image", name ? name : "") || exact(f, "image", id_s) ||
         exact(f, "image", name_s);
}

static bool labels_match(const json_t *f, const json_t *attrs)
{
  const json_t *vals = json_object_get(f, "label"), *x;
  size_t i;
  json_array_foreach(vals, i, x) {
    const char *want = json_string_value(x), *eq = strchr(want, '=');
    cleanup_free char *k = eq ? strndup(want, (size_t)(eq - want)) : strdup(want);
    const char *have = berth_json_str(attrs, k);
    if (!have || (eq && strcmp(have, eq + 1) != 0))
      return false;
  }
  return true;
}

static bool event_matches(const json_t *f, const json_t *ev)
{
  static const char *const named[] = {"daemon", "container", "plugin", "volume", "network",
                                      "node",   "service",   "secret", "config"};
  const char *action = berth_json_str(ev, "Action");
  const json_t *events = json_object_get(f, "event"), *x;
  bool fuzzy_event = false;
  size_t i;
  json_array_foreach(events, i, x) {
    const char *v = json_string_value(x);
    fuzzy_event = fuzzy_event || !strcmp(v, "health_status") || !strcmp(v, "exec_create") || !strcmp(v, "exec_start");
  }
  if (!(fuzzy_event ? fuzzy(f, "event", action) : exact(f, "event", action)) ||
      !exact(f, "type", berth_json_str(ev, "Type")) || !exact(f, "scope", berth_json_str(ev, "scope")))
    return false;
  for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++)
    if (!name_matches(f, named[k], ev))
      return false;
  return image_matches(f, ev) && labels_match(f, json_object_get(json_object_get(ev, "Actor"), "Attributes"));
}

/* ---- reading ---- */

struct events_ctx {
  const struct berth_events_opts *o;
  json_t *filters;
  berth_event_fn fn;
  void *data;
};

static int on_event(void *data, char *line, size_t len, berth_error_t *err)
{
  struct events_ctx *c = data;
  cleanup_json json_t *ev = json_loadb(line, len, 0, NULL);
  json_int_t t = berth_json_int(ev, "timeNano", 0);
  if (!json_is_object(ev) || (c->o->since && t < c->o->since) || (c->o->until && t > c->o->until) ||
      !event_matches(c->filters, ev))
    return 0;
  return c->fn(c->data, ev, err) < 0 ? -1 : 0;
}

static void idle(void *data)
{
  struct events_ctx *c = data;
  berth_error_t err = NULL;
  if (c->fn(c->data, NULL, &err) < 0)
    berth_error_release(&err);
}

int berth_events(struct berth_engine *e, const struct berth_events_opts *opts, berth_event_fn fn, void *data,
                 berth_error_t *err)
{
  static const char *const allowed[] = {"config", "container", "daemon", "event", "image", "label", "network",
                                        "node",   "plugin",    "scope",  "secret", "service", "type",  "volume", NULL};
  cleanup_json json_t *filters = berth_engine_parse_filters(opts->filters, allowed, err);
  struct events_ctx c = {.o = opts, .filters = filters, .fn = fn, .data = data};
  struct berth_logfollow follow = {.extra_fd = -1, .deadline_ns = opts->until, .idle = idle, .data = &c};
  struct berth_logread r;
  cleanup_close int dirfd = -1;
  int rc;
  if (!filters)
    return -1;
  if (mkdirat(e->store->runroot_fd, BERTH_EVENT_DIR, 0700) < 0 && errno != EEXIST)
    return berth_error_set(err, errno, "create `%s`", BERTH_EVENT_DIR);
  dirfd = openat(e->store->runroot_fd, BERTH_EVENT_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dirfd < 0)
    return berth_error_set(err, errno, "open `%s`", BERTH_EVENT_DIR);
  /* without --since only what happens from now on */
  if (berth_logread_open(&r, dirfd, BERTH_EVENT_JOURNAL, opts->since ? -1 : 0, err) < 0)
    return -1;
  bool live = !opts->until || opts->until > berth_now_ns();
  rc = berth_logread_run(&r, on_event, &c, live ? &follow : NULL, err);
  berth_logread_clear(&r);
  return rc;
}
