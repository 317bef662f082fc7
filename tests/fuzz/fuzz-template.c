/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target for the --format engine: the input is a template, parsed and
 * executed on a fixed document in every missing-key mode, as a table header
 * and through the tabwriter; the same bytes also go through the size and
 * duration parsers.  Execution limits are small so that runaway loops end
 * quickly; everything allocated must be freed (LeakSanitizer). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "table.h"
#include "template.h"
#include "base/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char document_text[] =
    "{\"ID\":\"4b825dc642cb\",\"Names\":[\"web\",\"db\"],\"Image\":\"alpine:3.19\",\"Size\":7340032,"
    "\"Ratio\":0.25,\"Running\":true,\"Nil\":null,\"Empty\":\"\",\"Created\":1700000000,"
    "\"Labels\":{\"com.example.vendor\":\"ACME\",\"version\":\"1.0\",\"empty\":\"\"},"
    "\"Config\":{\"Env\":[\"PATH=/usr/bin\",\"A=1\"],\"Cmd\":null,\"Labels\":{},\"Volumes\":{\"/data\":{}}},"
    "\"State\":{\"Status\":\"running\",\"Pid\":42,\"Health\":null},"
    "\"NetworkSettings\":{\"Networks\":{\"bridge\":{\"IPAddress\":\"172.17.0.2\",\"Aliases\":null}}},"
    "\"Mixed\":[1,\"two\",3.5,false,null,[],{}],\"Unicode\":\"caf\\u00e9 \\u65e5\\u672c\\t|\"}";

static const char *const header_text = "{\"ID\":\"CONTAINER ID\",\"Image\":\"IMAGE\",\"Names\":\"NAMES\","
                                       "\"Size\":\"SIZE\",\"Labels\":\"LABELS\",\"State\":\"STATE\"}";

static json_t *document;
static json_t *header;

static int fuzz_method(void *data, const char *name, json_t *receiver, json_t *const *args, size_t nargs,
                       json_t **ret, berth_error_t *err)
{
  (void)data;
  if (strcmp(name, "Label") != 0)
    return 0;
  if (nargs != 1 || !json_is_string(args[0]))
    return berth_error_set(err, EINVAL, "Label takes one string");
  *ret = json_incref(json_object_get(json_object_get(receiver, "Labels"), json_string_value(args[0])));
  return 1;
}

static void run(const struct berth_template *t, const struct berth_template_opts *opts)
{
  berth_error_t err = NULL;
  char *out = NULL;
  if (berth_template_exec_string(t, document, opts, &out, &err) == 0) {
    struct berth_table *tb = berth_table_new();
    char *aligned;
    berth_table_puts(tb, out);
    aligned = berth_table_flush_string(tb, NULL);
    free(aligned);
    berth_table_free(tb);
  }
  free(out);
  berth_error_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct berth_template_opts map = {.missing = BERTH_TEMPLATE_MAP, .max_steps = 20000, .max_output = 1 << 20};
  struct berth_template_opts strict = map, typed = map;
  struct berth_template *t = NULL;
  berth_error_t err = NULL;
  char *src = malloc(size + 1), *pre, *hdr = NULL;
  int64_t n;
  double f;
  if (!src)
    abort();
  memcpy(src, data, size);
  src[size] = '\0';
  if (!document) {
    document = json_loads(document_text, 0, NULL);
    header = json_loads(header_text, 0, NULL);
    if (!document || !header)
      abort();
  }
  strict.missing = BERTH_TEMPLATE_MAP_ERROR;
  typed.missing = BERTH_TEMPLATE_STRUCT;
  typed.type_name = "*formatter.ContainerContext";
  typed.method = fuzz_method;

  pre = berth_template_preformat(src);
  if (berth_template_parse(pre, &t, &err) == 0) {
    run(t, &map);
    run(t, &strict);
    run(t, &typed);
    (void)berth_template_exec_header(t, header, &typed, &hdr, &err);
    free(hdr);
    berth_template_free(t);
  }
  berth_error_release(&err);
  free(pre);

  (void)berth_parse_size(src, &n, &err);
  berth_error_release(&err);
  (void)berth_parse_human_size(src, &n, &err);
  berth_error_release(&err);
  (void)berth_parse_duration(src, &n, &err);
  berth_error_release(&err);
  (void)berth_go_parse_float(src, size, &f);
  free(src);
  return 0;
}
