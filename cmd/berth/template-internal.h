/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the files of the template engine (template.h) share.  They follow
 * Go's text/template, fmt and strconv closely, so names and messages are Go's:
 *   template-buf.c      growable byte buffers and the parse arena
 *   template-utf8.c     UTF-8 decoding and Unicode classes
 *   template-strconv.c  Go's quoting, unquoting, integer and float syntax
 *   template-lex.c      the lexer (text/template/parse/lex.go)
 *   template-parse.c    the parser (parse.go); berth_template_parse, _free
 *   template-node.c     the parse tree printed back (Node.String())
 *   template-value.c    JSON as Go values: maps, structs, truth, type names
 *   template-printf.c   Go's fmt: Sprint, Sprintln and Sprintf
 *   template-funcs.c    the builtin and docker functions; encoding/json
 *   template-exec.c     evaluation (exec.go); berth_template_exec*
 *   template-format.c   docker's formatter: preformat, table, json
 * Functions shared between the files carry a tpl_ prefix.  Allocation
 * failures abort, like every allocation in the CLI. */
#ifndef BERTH_TEMPLATE_INTERNAL_H
#define BERTH_TEMPLATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "template.h"

/* ---- template-buf.c ---- */

/* A growable byte string; p is NUL-terminated once anything was added. */
struct buf {
  char *p;
  size_t len, cap;
};

void tpl_buf_reserve(struct buf *b, size_t extra);
void tpl_buf_add(struct buf *b, const void *s, size_t n);
void tpl_buf_adds(struct buf *b, const char *s);
void tpl_buf_addc(struct buf *b, char c);
void tpl_buf_addn(struct buf *b, char c, size_t n);
void tpl_buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* tpl_buf_addf in the "C" locale, for floating point. */
void tpl_buf_addf_c(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tpl_buf_free(struct buf *b);
/* Make b->p a NUL-terminated string, even when nothing was added. */
void tpl_buf_terminate(struct buf *b);
/* The contents as a NUL-terminated string (caller frees); b is left empty. */
char *tpl_buf_steal(struct buf *b);

/* Zeroed allocations freed all at once, by tpl_arena_free. */
struct chunk;
struct arena {
  struct chunk *head;
};

void *tpl_arena_alloc(struct arena *a, size_t n);
char *tpl_arena_strndup(struct arena *a, const char *s, size_t n);
void tpl_arena_free(struct arena *a);

/* ---- template-utf8.c ---- */

#define RUNE_ERROR 0xfffdu

/* Go's utf8.DecodeRune of s[0..n), n > 0: returns the length; an invalid or
 * short sequence is RUNE_ERROR, length 1. */
size_t tpl_u8_decode(const unsigned char *s, size_t n, uint32_t *r);
bool tpl_u8_valid_rune(uint32_t r);
/* Go's utf8.AppendRune: invalid runes become U+FFFD. */
void tpl_buf_add_rune(struct buf *b, uint32_t r);
size_t tpl_u8_count(const char *s, size_t n);
bool tpl_u8_valid(const char *s, size_t n);
/* unicode.IsLetter, IsDigit, IsSpace, IsPrint, ToUpper, ToLower. */
bool tpl_uni_is_letter(uint32_t r);
bool tpl_uni_is_digit(uint32_t r);
bool tpl_uni_is_space(uint32_t r);
bool tpl_uni_is_print(uint32_t r);
uint32_t tpl_uni_upper(uint32_t r);
uint32_t tpl_uni_lower(uint32_t r);

/* ---- template-strconv.c ---- */

extern const char tpl_lower_hex[]; /* "0123456789abcdef" */
/* strconv.Quote of s[0..n) (QuoteToASCII when ascii), appended to b. */
void tpl_go_quote(struct buf *b, const char *s, size_t n, bool ascii);
/* strconv.QuoteRune (QuoteRuneToASCII when ascii). */
void tpl_go_quote_rune(struct buf *b, uint32_t r, bool ascii);
bool tpl_can_backquote(const char *s, size_t n);
/* fmt's %#U: "U+0041 'A'" (the quoted rune only when printable). */
void tpl_sharp_unicode(struct buf *b, uint32_t r);
/* The first `runes` runes of s[0..n), quoted. */
void tpl_quote_truncated(struct buf *b, const char *s, size_t n, size_t runes);
/* strconv.UnquoteChar of s[0..n) inside `quote`: the rune in *value,
 * *multibyte when it is to be encoded as UTF-8.  Returns the bytes consumed,
 * 0 on a syntax error. */
size_t tpl_unquote_char(const char *s, size_t n, char quote, uint32_t *value, bool *multibyte);
/* strconv.ParseUint(s, 0, 64) and ParseInt(s, 0, 64) of s[0..n): 0, -1 on a
 * syntax error, -2 when out of range. */
int tpl_parse_uint0(const char *s, size_t n, uint64_t *ret);
int tpl_parse_int0(const char *s, size_t n, int64_t *ret);
bool tpl_contains_any(const char *s, size_t n, const char *set);
/* strconv.AppendFloat(v, fmtc, prec, 64); prec -1 is the shortest that
 * round-trips. */
void tpl_go_format_float(struct buf *b, double v, char fmtc, int prec);

/* ---- template-lex.c ---- */

enum item_type {
  I_ERROR,
  I_BOOL,
  I_CHAR,
  I_CHARCONST,
  I_COMPLEX,
  I_ASSIGN,
  I_DECLARE,
  I_EOF,
  I_FIELD,
  I_IDENT,
  I_LDELIM,
  I_LPAREN,
  I_NUMBER,
  I_PIPE,
  I_RAWSTRING,
  I_RDELIM,
  I_RPAREN,
  I_SPACE,
  I_STRING,
  I_TEXT,
  I_VARIABLE,
  I_KEYWORD, /* keywords follow */
  I_BLOCK,
  I_BREAK,
  I_CONTINUE,
  I_DOT,
  I_DEFINE,
  I_ELSE,
  I_END,
  I_IF,
  I_NIL,
  I_RANGE,
  I_TEMPLATE,
  I_WITH,
};

struct item {
  enum item_type type;
  size_t pos, len;
  int line;
  const char *msg; /* I_ERROR */
};

struct lexer {
  const char *in;
  size_t n, pos, start, width;
  int paren_depth;
  struct item *items;
  size_t nitems, cap;
  size_t line_pos;
  int line;
  char *msg;
};

/* Lex l->in[0..l->n) into l->items, which end with I_EOF or, at the first
 * error, I_ERROR (its message owned by l->msg). */
void tpl_lex_run(struct lexer *l);
void tpl_lex_free(struct lexer *l);

/* ---- template-parse.c and template-node.c: the parse tree ---- */

enum node_type {
  N_LIST,
  N_TEXT,
  N_ACTION,
  N_IF,
  N_RANGE,
  N_WITH,
  N_TEMPLATE,
  N_BREAK,
  N_CONTINUE,
  N_PIPE,
  N_COMMAND,
  N_FIELD,
  N_VARIABLE,
  N_CHAIN,
  N_IDENT,
  N_DOT,
  N_NIL,
  N_BOOL,
  N_NUMBER,
  N_STRING,
  N_END,  /* {{end}} while parsing */
  N_ELSE, /* {{else}} while parsing */
};

struct number {
  bool is_int, is_uint, is_float, is_complex;
  int64_t i;
  uint64_t u;
  double f;
};

struct node {
  enum node_type type;
  size_t pos;
  int line;
  struct node *next;         /* next in a list, pipeline, command or declaration list */
  struct node *first, *last; /* LIST: nodes; PIPE: commands; COMMAND: arguments */
  size_t count;              /* PIPE: commands; COMMAND: arguments */
  struct node *decl;         /* PIPE: declared variables */
  size_t ndecl;
  bool is_assign;
  struct node *pipe; /* ACTION, IF, RANGE, WITH, TEMPLATE; CHAIN: the operand */
  struct node *list, *else_list;
  const char **idents; /* FIELD (without dots), VARIABLE ($x first), CHAIN fields */
  size_t nidents;
  const char *text; /* TEXT, STRING value, IDENT name, TEMPLATE name; NUMBER/STRING source */
  size_t text_len;
  const char *src; /* NUMBER and STRING as written */
  size_t src_len;
  bool boolean;
  struct number num;
};

struct tree {
  const char *name;
  struct node *root;
  struct tree *next;
};

struct berth_template {
  char *src;
  size_t src_len;
  struct arena arena;
  struct tree *trees; /* the main template is named "" */
};

/* Node.String(): n printed back as template text. */
void tpl_node_string(struct buf *b, const struct node *n);

/* ---- template-value.c: values, and the state of one execution ---- */

#define MAX_VALUE_DEPTH 500 /* nesting of printed or encoded JSON values */

/* A Go reflect.Value as the executor sees it: a JSON value, or j == NULL for
 * Go's invalid value (a missing map key, printed "<no value>").  `map` tells
 * whether an object (or a null) stands for a Go map rather than a struct. */
struct val {
  json_t *j;
  bool map;
};

enum arg_type { A_UNTYPED, A_ANY, A_VALUE, A_STRING, A_INT, A_STRINGS };

struct var {
  const char *name;
  struct val v;
};

struct state;

struct func {
  const char *name;
  int (*fn)(struct state *s, struct val *argv, size_t argc, struct val *ret, struct buf *msg);
  size_t nin;
  bool variadic;
  enum arg_type in[3];
};

struct state {
  const struct berth_template *t;
  const struct berth_template_opts *opts;
  const char *const *map_fields;
  const struct func *funcs;
  const char *tmpl_name;
  struct buf *out;
  const struct node *node;
  json_t *root;
  struct var *vars;
  size_t nvars, cap_vars, var_base;
  json_t **pool;
  size_t npool, cap_pool;
  size_t steps, max_steps, max_output;
  int depth, calls;
  berth_error_t *err;
};

extern const struct val tpl_missing_val;
/* Hold j (a new reference) in the pool until it is released; returns j. */
json_t *tpl_keep(struct state *s, json_t *j);
/* Release the pool's references from `mark` on. */
void tpl_release_pool(struct state *s, size_t mark);
struct val tpl_v_str(struct state *s, const char *p, size_t n);
struct val tpl_v_int(struct state *s, int64_t i);
struct val tpl_v_bool(bool b);
struct val tpl_v_null(void);
bool tpl_is_missing(struct val v);
/* Go's indirectInterface: null (a nil interface) is invalid too. */
bool tpl_is_nil(struct val v);
/* The value of member `key`: a map when every object is, or when the key is
 * one of the map-typed members. */
struct val tpl_member_val(const struct state *s, const char *key, json_t *j);
bool tpl_is_struct(const struct state *s, struct val v);
/* v's Go type, for messages: "string", "map[string]interface {}", ... */
const char *tpl_type_name(const struct state *s, struct val v);
/* Go's truth, for if, with, and, or and not. */
bool tpl_truth(const struct state *s, struct val v);

/* Object members, sorted by key bytes (fmtsort) or in document order. */
struct member {
  const char *key;
  size_t len;
  json_t *v;
};

/* An array of obj's members, values borrowed (caller frees the array). */
struct member *tpl_object_members(json_t *obj, bool sorted, size_t *ret_n);

/* ---- template-printf.c ---- */

/* fmt.Sprint (Sprintln when ln) of argv, appended to b.  *overflow when the
 * output passed s->max_output or values nested deeper than MAX_VALUE_DEPTH. */
void tpl_do_print(struct state *s, struct buf *b, struct val *argv, size_t argc, bool ln, bool *overflow);
/* fmt.Sprintf with the format f[0..end). */
void tpl_do_printf(struct state *s, struct buf *b, const char *f, size_t end, struct val *argv, size_t argc,
                   bool *overflow);
/* fmt.Sprintf("%<verb>", v); overflow may be NULL. */
void tpl_value_with_verb(struct state *s, struct buf *b, struct val v, int verb, bool *overflow);

/* ---- template-funcs.c ---- */

/* docker's functions (json, split, ...), and the variants for a table header
 * that return their argument; each ends with a NULL name. */
extern const struct func tpl_funcs_docker[];
extern const struct func tpl_funcs_header[];
/* s->funcs, then Go's builtins; NULL when `name` is not defined. */
const struct func *tpl_find_function(const struct state *s, const char *name);

/* ---- template-exec.c ---- */

/* Execute t on data, appending to out (NUL-terminated, also on error), as a
 * table header when `header`: map mode and the header functions.  0, or -1
 * with err set. */
int tpl_exec_tree(const struct berth_template *t, json_t *data, const struct berth_template_opts *opts, bool header,
                  struct buf *out, berth_error_t *err);

#endif
