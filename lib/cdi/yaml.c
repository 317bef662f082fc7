/* SPDX-License-Identifier: GPL-2.0-or-later */
/* YAML to JSON values with libyaml's event parser.  Scalars stay strings:
 * the schema (spec.c) decides which fields are numbers, the way Go's
 * sigs.k8s.io/yaml decodes into typed fields.  A document nests at most
 * MAX_DEPTH levels; duplicate keys, anchors and aliases are refused. */
#include <errno.h>
#include <string.h>

#include <yaml.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "cdi/cdi.h"

#define MAX_DEPTH 64

struct loader {
  yaml_parser_t parser;
  berth_error_t *err;
};

static int fail(struct loader *l, const yaml_mark_t *mark, const char *what)
{
  return berth_error_set_plain(l->err, EINVAL, "line %zu column %zu: %s", mark->line + 1, mark->column + 1, what);
}

static int next_event(struct loader *l, yaml_event_t *ev)
{
  if (yaml_parser_parse(&l->parser, ev))
    return 0;
  const char *p = l->parser.problem ? l->parser.problem : "invalid YAML";
  return berth_error_set_plain(l->err, EINVAL, "line %zu column %zu: %s", l->parser.problem_mark.line + 1,
                               l->parser.problem_mark.column + 1, p);
}

static json_t *scalar(const yaml_event_t *ev)
{
  const char *v = (const char *)ev->data.scalar.value;
  size_t n = ev->data.scalar.length;
  if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
      (n == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0))
    return json_null();
  return json_stringn(v, n);
}

static json_t *node(struct loader *l, yaml_event_t *ev, int depth);

/* The events after a start event up to its end, into a mapping or sequence. */
static json_t *collection(struct loader *l, yaml_event_t *start, int depth)
{
  bool map = start->type == YAML_MAPPING_START_EVENT;
  yaml_event_type_t end = map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
  cleanup_json json_t *out = map ? json_object() : json_array();
  if (depth > MAX_DEPTH)
    return fail(l, &start->start_mark, "nested too deeply"), NULL;
  for (;;) {
    yaml_event_t ev;
    if (next_event(l, &ev) < 0)
      return NULL;
    if (ev.type == end) {
      yaml_event_delete(&ev);
      return steal_ptr(&out);
    }
    if (!map) {
      json_t *v = node(l, &ev, depth + 1);
      if (!v)
        return NULL;
      json_array_append_new(out, v);
      continue;
    }
    if (ev.type != YAML_SCALAR_EVENT) {
      fail(l, &ev.start_mark, "a mapping key must be a plain string");
      yaml_event_delete(&ev);
      return NULL;
    }
    cleanup_free char *key = strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
    yaml_mark_t mark = ev.start_mark;
    yaml_event_delete(&ev);
    if (!key || json_object_get(out, key))
      return fail(l, &mark, "duplicate key"), NULL;
    if (next_event(l, &ev) < 0)
      return NULL;
    json_t *v = node(l, &ev, depth + 1);
    if (!v)
      return NULL;
    json_object_set_new(out, key, v);
  }
}

/* Takes ownership of the event. */
static json_t *node(struct loader *l, yaml_event_t *ev, int depth)
{
  json_t *out = NULL;
  if (ev->type == YAML_SCALAR_EVENT && !ev->data.scalar.anchor)
    out = scalar(ev);
  else if ((ev->type == YAML_MAPPING_START_EVENT && !ev->data.mapping_start.anchor) ||
           (ev->type == YAML_SEQUENCE_START_EVENT && !ev->data.sequence_start.anchor))
    out = collection(l, ev, depth);
  else if (ev->type == YAML_ALIAS_EVENT || ev->type == YAML_SCALAR_EVENT || ev->type == YAML_MAPPING_START_EVENT ||
           ev->type == YAML_SEQUENCE_START_EVENT)
    fail(l, &ev->start_mark, "anchors and aliases are not supported");
  else
    fail(l, &ev->start_mark, "unexpected YAML event");
  yaml_event_delete(ev);
  return out;
}

json_t *berth_cdi_yaml_load(const char *text, size_t len, berth_error_t *err)
{
  struct loader l = {.err = err};
  yaml_event_t ev;
  json_t *doc = NULL;
  if (!yaml_parser_initialize(&l.parser))
    return berth_error_set(err, ENOMEM, "YAML parser"), NULL;
  yaml_parser_set_input_string(&l.parser, (const unsigned char *)text, len);
  /* stream start, document start, the root node, document end */
  for (int i = 0; i < 2; i++) {
    if (next_event(&l, &ev) < 0)
      goto out;
    bool ok = ev.type == (i == 0 ? YAML_STREAM_START_EVENT : YAML_DOCUMENT_START_EVENT);
    yaml_event_delete(&ev);
    if (!ok) {
      berth_error_set_plain(err, EINVAL, "empty document");
      goto out;
    }
  }
  if (next_event(&l, &ev) < 0)
    goto out;
  doc = node(&l, &ev, 0);
  if (doc) {
    if (next_event(&l, &ev) < 0)
      goto bad;
    yaml_event_type_t t = ev.type;
    yaml_event_delete(&ev);
    if (t != YAML_DOCUMENT_END_EVENT || next_event(&l, &ev) < 0)
      goto bad;
    t = ev.type;
    yaml_event_delete(&ev);
    if (t != YAML_STREAM_END_EVENT) {
      berth_error_set_plain(err, EINVAL, "more than one YAML document");
      goto bad;
    }
  }
out:
  yaml_parser_delete(&l.parser);
  return doc;
bad:
  if (!*err)
    berth_error_set_plain(err, EINVAL, "trailing content after the document");
  json_decref(doc);
  doc = NULL;
  goto out;
}
