/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Go text/template, evaluated on jansson values, for docker's --format/-f.
 *
 * Syntax is Go's: {{.A.B}}, {{.}}, {{$}}, {{$x := ...}}, {{$x = ...}}, pipelines
 * {{.Name | upper}}, (parenthesised) arguments, string/raw/char/number literals,
 * {{if}}/{{else if}}/{{else}}/{{end}}, {{with}}/{{else with}}, {{range}} over
 * arrays, objects (sorted keys), integers, with {{range $i, $v := ...}},
 * {{break}}, {{continue}}, {{define}}/{{template}}/{{block}}, comments, and
 * {{- / -}} trimming.  Functions: Go's and, or, not, len, index, slice, print,
 * printf, println, html, js, urlquery, call, eq, ne, lt, le, gt, ge, and
 * docker's json, split, join, title, lower, upper, pad, truncate.
 *
 * Values follow Go's rules for what docker executes templates on:
 *  - JSON integers are Go ints, reals float64 (printed the Go way: 1e+06),
 *    strings print raw, booleans true/false, null prints "<nil>", arrays
 *    "[a b c]", map objects "map[k:v ...]" sorted by key, struct objects
 *    "{v1 v2 ...}" in member order.
 *  - Truthiness (if, with, and, or, not): false, 0, 0.0, "", [], null and
 *    missing values are false; an object is false when empty, except that a
 *    struct object is always true.  Everything else is true.
 *  - Missing keys: an object is either a Go map or a Go struct (see
 *    enum berth_template_missing).  A missing map key yields Go's invalid value,
 *    printed "<no value>"; fields of a missing value are missing too.  A
 *    missing struct field is an execution error, worded as docker's:
 *    "can't evaluate field Foo in type T" on the root when opts->type_name is
 *    set, else `map has no entry for key "Foo"` (docker inspect's wording).
 *    {{index}} of a missing map key gives "<no value>" in the map modes and,
 *    in struct mode, the zero value of the map's element type as its members
 *    suggest ("" for string maps such as labels, and for empty or null ones),
 *    as docker's typed maps do.
 *
 * Errors read like Go's: parse errors "template: :1: unexpected \"}\" in
 * operand", execution errors "template: :1:2: executing \"\" at <.Foo>: ...".
 * Parsing and execution are bounded (nesting depth, steps, output size), so
 * any input is safe.  Templates are immutable after parsing: one may be
 * executed concurrently from several threads. */
#ifndef BERTH_TEMPLATE_H
#define BERTH_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include <berth/error.h>

struct berth_template;

enum berth_template_missing {
  /* Objects are Go structs (missing field: error) unless reached through a
   * member named in opts->map_fields (missing key: "<no value>").  The root is
   * a struct.  The default. */
  BERTH_TEMPLATE_STRUCT = 0,
  /* Every object is a map[string]interface{}: missing keys print "<no value>". */
  BERTH_TEMPLATE_MAP,
  /* Every object is a map, executed with Go's missingkey=error. */
  BERTH_TEMPLATE_MAP_ERROR,
};

/* A method on the data, for what docker exposes as methods rather than fields
 * ({{.Label "com.example"}} on `docker ps` rows and on their header map).
 * Called, before member lookup, for every .Name evaluated on an object (the
 * header object too); args are the call's arguments, evaluated (borrowed;
 * missing values are JSON null).  Return 1 with a new reference in *ret (NULL
 * for a missing value) when `name` is a method, 0 when it is not (then the
 * member is looked up), or -1 with err set to fail execution with "error
 * calling Name: <message>".  Called on the executing thread. */
typedef int (*berth_template_method_fn)(void *data, const char *name, json_t *receiver, json_t *const *args,
                                        size_t nargs, json_t **ret, berth_error_t *err);

struct berth_template_opts {
  enum berth_template_missing missing;
  /* NULL-terminated member names whose object values are maps in
   * BERTH_TEMPLATE_STRUCT mode; NULL means berth_template_docker_map_fields. */
  const char *const *map_fields;
  /* Go type of the root struct for error messages, e.g.
   * "*formatter.ContainerContext"; NULL for inspect-style messages. */
  const char *type_name;
  berth_template_method_fn method;
  void *method_data;
  size_t max_steps;  /* evaluation steps per execution; 0: 100 million */
  size_t max_output; /* bytes per execution; 0: 256 MiB */
};

/* Map-typed members of docker's API objects: Labels, Options, DriverOpts,
 * Networks, Ports, ExposedPorts, Volumes, Data, Sysctls, StorageOpt, Tmpfs,
 * Annotations, Containers. */
extern const char *const berth_template_docker_map_fields[];

/* Parse `src`.  On success *ret owns a template for berth_template_free(). */
int berth_template_parse(const char *src, struct berth_template **ret, berth_error_t *err);
void berth_template_free(struct berth_template *t);

/* Execute on `data` (borrowed; NULL executes on a missing value) and write to
 * `out`.  opts may be NULL (defaults).  On an execution error, the output
 * produced before it has been written, as with Go. */
int berth_template_exec(const struct berth_template *t, json_t *data, const struct berth_template_opts *opts,
                        FILE *out, berth_error_t *err);
/* Same into a new NUL-terminated string (caller frees; NULL on error). */
int berth_template_exec_string(const struct berth_template *t, json_t *data, const struct berth_template_opts *opts,
                               char **ret, berth_error_t *err);
/* Execute for a table header the way docker does: on `header` (an object of
 * field name -> column title, a map, e.g. {"Repository": "REPOSITORY"}) with
 * json, split, join, title, lower, upper and truncate returning their string
 * argument unchanged.  Output produced before an error is kept in *ret. */
int berth_template_exec_header(const struct berth_template *t, json_t *header,
                               const struct berth_template_opts *opts, char **ret, berth_error_t *err);

/* docker's format words.  "table ..." (any format starting with "table"). */
bool berth_template_is_table(const char *format);
/* Exactly "json": one {{json .}} line per object (docker 23+). */
bool berth_template_is_json(const char *format);
/* docker's preFormat: drop the "table" prefix or turn "json" into "{{json .}}",
 * trim spaces, turn the two-character sequences \t and \n into TAB and
 * newline.  Returns a new string (caller frees). */
char *berth_template_preformat(const char *format);

/* docker's formatter.Context: parse a --format once, add one row per object,
 * then write.  Table formats write the header row and rows aligned by
 * berth_table (minwidth 10, padding 3); others write rows as they are, each
 * followed by a newline.  Errors (parse or execution) are prefixed
 * "template parsing error: ", as docker prints them, and nothing is written. */
struct berth_formatter;

/* opts is copied (the arrays and strings it points to must outlive f). */
int berth_formatter_new(const char *format, const struct berth_template_opts *opts, struct berth_formatter **ret,
                        berth_error_t *err);
bool berth_formatter_is_table(const struct berth_formatter *f);
/* Execute the format on one object and buffer the row. */
int berth_formatter_add(struct berth_formatter *f, json_t *row, berth_error_t *err);
/* Write the buffered rows to out and empty the buffer.  For tables, the
 * header row comes first: the format executed on `header` as by
 * berth_template_exec_header (NULL: no header row), then every row aligned.
 * Fails only when writing fails.  A formatter is not thread-safe. */
int berth_formatter_write(struct berth_formatter *f, json_t *header, FILE *out, berth_error_t *err);
void berth_formatter_free(struct berth_formatter *f);

#endif
