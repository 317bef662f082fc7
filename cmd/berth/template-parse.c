/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The template parser, after Go's text/template/parse/parse.go: the
 * grammar, variable scoping, {{define}} and {{block}} trees and literals, with
 * Go's error messages.  The tree is built in the template's arena and errors
 * are reported with longjmp, so a failed parse frees everything at once.
 * berth_template_parse and berth_template_free live here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template-internal.h"
#include "base/units.h"

#define MAX_NESTING 100 /* parentheses and control structures in a template */

struct parser {
  struct berth_template *t;
  const struct item *items;
  size_t nitems, idx;
  struct item token[3];
  int peek_count;
  const char **vars;
  size_t nvars, cap_vars;
  int action_line;
  int range_depth;
  int depth;
  jmp_buf jb;
  char *msg;
};

static const char *const builtin_names[] = {
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery",
    "eq",  "ge",   "gt",   "le",    "lt",    "ne", "json", "split", "join", "title", "lower", "upper", "pad",
    "truncate", NULL,
};

static bool has_function(const char *name, size_t n)
{
  for (size_t i = 0; builtin_names[i]; i++)
    if (strlen(builtin_names[i]) == n && memcmp(builtin_names[i], name, n) == 0)
      return true;
  return false;
}

static void item_string(const struct parser *p, struct buf *b, const struct item *it)
{
  const char *v = p->t->src + it->pos;
  if (it->type == I_EOF)
    tpl_buf_adds(b, "EOF");
  else if (it->type == I_ERROR)
    tpl_buf_adds(b, it->msg);
  else if (it->type > I_KEYWORD) {
    tpl_buf_addc(b, '<');
    tpl_buf_add(b, v, it->len);
    tpl_buf_addc(b, '>');
  } else if (it->len > 10) {
    tpl_quote_truncated(b, v, it->len, 10);
    tpl_buf_adds(b, "...");
  } else {
    tpl_go_quote(b, v, it->len, false);
  }
}

static void parse_fail(struct parser *p, struct buf *msg) __attribute__((noreturn));
static void parse_fail(struct parser *p, struct buf *msg)
{
  struct buf b = {0};
  tpl_buf_addf(&b, "template: :%d: ", p->token[0].line);
  tpl_buf_add(&b, msg->p ? msg->p : "", msg->len);
  tpl_buf_free(msg);
  p->msg = tpl_buf_steal(&b);
  longjmp(p->jb, 1);
}

static void parse_errorf(struct parser *p, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void parse_errorf(struct parser *p, const char *fmt, ...)
{
  struct buf b = {0};
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0)
    abort();
  va_end(ap);
  tpl_buf_adds(&b, s);
  free(s);
  parse_fail(p, &b);
}

static void unexpected(struct parser *p, const struct item *it, const char *context) __attribute__((noreturn));
static void unexpected(struct parser *p, const struct item *it, const char *context)
{
  struct buf b = {0};
  if (it->type == I_ERROR) {
    size_t n = strlen(it->msg);
    tpl_buf_adds(&b, it->msg);
    if (p->action_line != 0 && p->action_line != it->line) {
      if (n >= 7 && strcmp(it->msg + n - 7, " action") == 0)
        tpl_buf_addf(&b, " started at :%d", p->action_line);
      else
        tpl_buf_addf(&b, " in action started at :%d", p->action_line);
    }
    parse_fail(p, &b);
  }
  tpl_buf_adds(&b, "unexpected ");
  item_string(p, &b, it);
  tpl_buf_addf(&b, " in %s", context);
  parse_fail(p, &b);
}

static struct item lexer_item(struct parser *p)
{
  struct item it = p->items[p->idx];
  if (p->idx + 1 < p->nitems)
    p->idx++;
  return it;
}

static struct item next_item(struct parser *p)
{
  if (p->peek_count > 0)
    p->peek_count--;
  else
    p->token[0] = lexer_item(p);
  return p->token[p->peek_count];
}

static void backup(struct parser *p)
{
  p->peek_count++;
}

static void backup2(struct parser *p, struct item t1)
{
  p->token[1] = t1;
  p->peek_count = 2;
}

static void backup3(struct parser *p, struct item t2, struct item t1)
{
  p->token[1] = t1;
  p->token[2] = t2;
  p->peek_count = 3;
}

static struct item peek(struct parser *p)
{
  if (p->peek_count > 0)
    return p->token[p->peek_count - 1];
  p->peek_count = 1;
  p->token[0] = lexer_item(p);
  return p->token[0];
}

static struct item next_non_space(struct parser *p)
{
  struct item it;
  do
    it = next_item(p);
  while (it.type == I_SPACE);
  return it;
}

static struct item peek_non_space(struct parser *p)
{
  struct item it = next_non_space(p);
  backup(p);
  return it;
}

static struct item expect(struct parser *p, enum item_type want, const char *context)
{
  struct item it = next_non_space(p);
  if (it.type != want)
    unexpected(p, &it, context);
  return it;
}

static const char *item_text(const struct parser *p, const struct item *it)
{
  return p->t->src + it->pos;
}

static struct node *new_node(struct parser *p, enum node_type type, size_t pos, int line)
{
  struct node *n = tpl_arena_alloc(&p->t->arena, sizeof(*n));
  n->type = type;
  n->pos = pos;
  n->line = line;
  return n;
}

static void node_append(struct node *parent, struct node *child)
{
  if (parent->last)
    parent->last->next = child;
  else
    parent->first = child;
  parent->last = child;
  parent->count++;
}

static void enter_nesting(struct parser *p)
{
  if (++p->depth > MAX_NESTING)
    parse_errorf(p, "max expression depth exceeded");
}

static void push_var(struct parser *p, const char *name)
{
  if (p->nvars == p->cap_vars) {
    p->cap_vars = p->cap_vars ? p->cap_vars * 2 : 16;
    p->vars = realloc(p->vars, p->cap_vars * sizeof(*p->vars));
    if (!p->vars)
      abort();
  }
  p->vars[p->nvars++] = name;
}

/* A field item is ".Name" and a variable item "$name" or "$": one identifier
 * each (the lexer splits .A.B; the parser chains the pieces). */
static void set_idents(struct parser *p, struct node *n, const char *s, size_t len, bool field)
{
  n->idents = tpl_arena_alloc(&p->t->arena, sizeof(char *));
  n->idents[0] = field ? tpl_arena_strndup(&p->t->arena, s + 1, len - 1) : tpl_arena_strndup(&p->t->arena, s, len);
  n->nidents = 1;
}

static struct node *new_variable(struct parser *p, const struct item *it)
{
  struct node *n = new_node(p, N_VARIABLE, it->pos, it->line);
  set_idents(p, n, item_text(p, it), it->len, false);
  n->text = n->idents[0];
  return n;
}

static struct node *use_var(struct parser *p, const struct item *it)
{
  struct node *v = new_variable(p, it);
  for (size_t i = 0; i < p->nvars; i++)
    if (strcmp(p->vars[i], v->idents[0]) == 0)
      return v;
  parse_errorf(p, "undefined variable \"%s\"", v->idents[0]);
}

/* ---- literals: strconv.Unquote, UnquoteChar and number syntax ---- */

/* strconv.Unquote of a "..." or `...` literal into the arena. */
static bool unquote_string(struct parser *p, const char *s, size_t n, struct node *out)
{
  struct buf b = {0};
  if (n < 2)
    return false;
  if (s[0] == '`') {
    for (size_t i = 1; i + 1 < n; i++)
      if (s[i] != '\r')
        tpl_buf_addc(&b, s[i]);
  } else {
    size_t i = 1;
    if (!memchr(s + 1, '\\', n - 2) && tpl_u8_valid(s + 1, n - 2)) {
      tpl_buf_add(&b, s + 1, n - 2);
    } else {
      while (i < n - 1) {
        uint32_t v;
        bool mb;
        size_t w = tpl_unquote_char(s + i, n - 1 - i, '"', &v, &mb);
        if (w == 0 || s[i] == '\n') {
          tpl_buf_free(&b);
          return false;
        }
        if (v < 0x80 || !mb)
          tpl_buf_addc(&b, (char)v);
        else
          tpl_buf_add_rune(&b, v);
        i += w;
      }
    }
  }
  out->text = tpl_arena_strndup(&p->t->arena, b.p ? b.p : "", b.len);
  out->text_len = b.len;
  tpl_buf_free(&b);
  return true;
}

/* Go's parse.newNumber. */
static struct node *new_number(struct parser *p, const struct item *it)
{
  struct node *n = new_node(p, N_NUMBER, it->pos, it->line);
  const char *s = item_text(p, it);
  size_t len = it->len;
  struct number *num = &n->num;
  uint64_t u = 0;
  int64_t i = 0;
  double f;
  n->src = tpl_arena_strndup(&p->t->arena, s, len);
  n->src_len = len;
  if (it->type == I_CHARCONST) {
    uint32_t r;
    bool mb;
    size_t w = len > 1 ? tpl_unquote_char(s + 1, len - 1, '\'', &r, &mb) : 0;
    if (w == 0)
      parse_errorf(p, "invalid syntax");
    if (1 + w != len - 1 || s[len - 1] != '\'')
      parse_errorf(p, "malformed character constant: %s", n->src);
    num->i = r;
    num->u = r;
    num->f = r;
    num->is_int = num->is_uint = num->is_float = true;
    return n;
  }
  if (it->type == I_COMPLEX) {
    num->is_complex = true;
    return n;
  }
  if (len > 0 && s[len - 1] == 'i' && berth_go_parse_float(s, len - 1, &f) == 0) {
    num->is_complex = true;
    num->is_int = num->is_uint = num->is_float = f == 0;
    return n;
  }
  if (tpl_parse_uint0(s, len, &u) == 0) {
    num->is_uint = true;
    num->u = u;
  }
  if (tpl_parse_int0(s, len, &i) == 0) {
    num->is_int = true;
    num->i = i;
    if (i == 0) {
      num->is_uint = true;
      num->u = u;
    }
  }
  if (num->is_int) {
    num->is_float = true;
    num->f = (double)num->i;
  } else if (num->is_uint) {
    num->is_float = true;
    num->f = (double)num->u;
  } else if (berth_go_parse_float(s, len, &f) == 0) {
    if (!tpl_contains_any(s, len, ".eEpP"))
      parse_errorf(p, "integer overflow: %s", n->src);
    num->is_float = true;
    num->f = f;
    if (f >= -9223372036854775808.0 && f < 9223372036854775808.0 && (double)(int64_t)f == f) {
      num->is_int = true;
      num->i = (int64_t)f;
    }
    if (f >= 0 && f < 18446744073709551616.0 && (double)(uint64_t)f == f) {
      num->is_uint = true;
      num->u = (uint64_t)f;
    }
  }
  if (!num->is_int && !num->is_uint && !num->is_float) {
    struct buf b = {0};
    tpl_buf_adds(&b, "illegal number syntax: ");
    tpl_go_quote(&b, s, len, false);
    parse_fail(p, &b);
  }
  return n;
}

/* ---- grammar ---- */

static struct node *parse_pipeline(struct parser *p, const char *context, enum item_type end);
static struct node *parse_item_list(struct parser *p, struct node **ret_next);

static struct node *parse_term(struct parser *p)
{
  struct item it = next_non_space(p);
  struct node *n;
  switch (it.type) {
  case I_IDENT:
    if (!has_function(item_text(p, &it), it.len)) {
      struct buf b = {0};
      tpl_buf_adds(&b, "function ");
      tpl_go_quote(&b, item_text(p, &it), it.len, false);
      tpl_buf_adds(&b, " not defined");
      parse_fail(p, &b);
    }
    n = new_node(p, N_IDENT, it.pos, it.line);
    n->text = tpl_arena_strndup(&p->t->arena, item_text(p, &it), it.len);
    n->text_len = it.len;
    return n;
  case I_DOT:
    return new_node(p, N_DOT, it.pos, it.line);
  case I_NIL:
    return new_node(p, N_NIL, it.pos, it.line);
  case I_VARIABLE:
    return use_var(p, &it);
  case I_FIELD:
    n = new_node(p, N_FIELD, it.pos, it.line);
    set_idents(p, n, item_text(p, &it), it.len, true);
    return n;
  case I_BOOL:
    n = new_node(p, N_BOOL, it.pos, it.line);
    n->boolean = it.len == 4;
    return n;
  case I_CHARCONST:
  case I_COMPLEX:
  case I_NUMBER:
    return new_number(p, &it);
  case I_LPAREN:
    enter_nesting(p);
    n = parse_pipeline(p, "parenthesized pipeline", I_RPAREN);
    p->depth--;
    return n;
  case I_STRING:
  case I_RAWSTRING:
    n = new_node(p, N_STRING, it.pos, it.line);
    n->src = tpl_arena_strndup(&p->t->arena, item_text(p, &it), it.len);
    n->src_len = it.len;
    if (!unquote_string(p, item_text(p, &it), it.len, n))
      parse_errorf(p, "invalid syntax");
    return n;
  case I_ERROR: case I_CHAR: case I_ASSIGN: case I_DECLARE: case I_EOF: case I_LDELIM: case I_PIPE: case I_RDELIM:
  case I_RPAREN: case I_SPACE: case I_TEXT: case I_KEYWORD: case I_BLOCK: case I_BREAK: case I_CONTINUE:
  case I_DEFINE: case I_ELSE: case I_END: case I_IF: case I_RANGE: case I_TEMPLATE: case I_WITH:
  default:
    backup(p);
    return NULL;
  }
}

static struct node *parse_operand(struct parser *p)
{
  struct node *node = parse_term(p), *chain;
  size_t count = 0, k = 0, base = 0;
  size_t save_idx;
  struct item save_tok[3];
  int save_peek;
  const char **idents;
  if (!node)
    return NULL;
  if (peek(p).type != I_FIELD)
    return node;
  /* count the chained fields, then collect them */
  save_idx = p->idx;
  memcpy(save_tok, p->token, sizeof(save_tok));
  save_peek = p->peek_count;
  while (peek(p).type == I_FIELD) {
    (void)next_item(p);
    count++;
  }
  p->idx = save_idx;
  memcpy(p->token, save_tok, sizeof(save_tok));
  p->peek_count = save_peek;
  if (node->type == N_FIELD || node->type == N_VARIABLE)
    base = node->nidents;
  idents = tpl_arena_alloc(&p->t->arena, (base + count) * sizeof(char *));
  for (; k < base; k++)
    idents[k] = node->idents[k];
  chain = new_node(p, N_CHAIN, peek(p).pos, peek(p).line);
  while (peek(p).type == I_FIELD) {
    struct item f = next_item(p);
    idents[k++] = tpl_arena_strndup(&p->t->arena, item_text(p, &f) + 1, f.len - 1);
  }
  switch (node->type) {
  case N_FIELD:
  case N_VARIABLE:
    node->idents = idents;
    node->nidents = k;
    node->pos = chain->pos;
    return node;
  case N_BOOL:
  case N_STRING:
  case N_NUMBER:
  case N_NIL:
  case N_DOT: {
    struct buf b = {0}, msg = {0};
    tpl_node_string(&b, node);
    tpl_buf_adds(&msg, "unexpected . after term ");
    tpl_go_quote(&msg, b.p, b.len, false);
    tpl_buf_free(&b);
    parse_fail(p, &msg);
  }
  case N_LIST: case N_TEXT: case N_ACTION: case N_IF: case N_RANGE: case N_WITH: case N_TEMPLATE:
  case N_BREAK: case N_CONTINUE: case N_PIPE: case N_COMMAND: case N_CHAIN: case N_IDENT: case N_END:
  case N_ELSE:
  default:
    chain->pipe = node;
    chain->idents = idents;
    chain->nidents = k;
    return chain;
  }
}

static struct node *parse_command(struct parser *p)
{
  struct item first = peek_non_space(p);
  struct node *cmd = new_node(p, N_COMMAND, first.pos, first.line);
  for (;;) {
    struct node *operand;
    struct item it;
    (void)peek_non_space(p);
    operand = parse_operand(p);
    if (operand)
      node_append(cmd, operand);
    it = next_item(p);
    if (it.type == I_SPACE)
      continue;
    if (it.type == I_RDELIM || it.type == I_RPAREN)
      backup(p);
    else if (it.type != I_PIPE)
      unexpected(p, &it, "operand");
    break;
  }
  if (cmd->count == 0)
    parse_errorf(p, "empty command");
  return cmd;
}

static void check_pipeline(struct parser *p, struct node *pipe, const char *context)
{
  size_t i = 1;
  if (pipe->count == 0)
    parse_errorf(p, "missing value for %s", context);
  for (struct node *c = pipe->first ? pipe->first->next : NULL; c; c = c->next, i++) {
    switch (c->first->type) {
    case N_BOOL: case N_DOT: case N_NIL: case N_NUMBER: case N_STRING:
      parse_errorf(p, "non executable command in pipeline stage %zu", i + 1);
    case N_LIST: case N_TEXT: case N_ACTION: case N_IF: case N_RANGE: case N_WITH: case N_TEMPLATE:
    case N_BREAK: case N_CONTINUE: case N_PIPE: case N_COMMAND: case N_FIELD: case N_VARIABLE:
    case N_CHAIN: case N_IDENT: case N_END: case N_ELSE:
    default:
      break;
    }
  }
}

static void add_decl(struct parser *p, struct node *pipe, const struct item *v)
{
  struct node *var = new_variable(p, v), **tail = &pipe->decl;
  while (*tail)
    tail = &(*tail)->next;
  *tail = var;
  pipe->ndecl++;
  push_var(p, var->idents[0]);
}

static struct node *parse_pipeline(struct parser *p, const char *context, enum item_type end)
{
  struct item tok = peek_non_space(p);
  struct node *pipe = new_node(p, N_PIPE, tok.pos, tok.line);
  for (;;) {
    struct item v = peek_non_space(p), after, nxt;
    if (v.type != I_VARIABLE)
      break;
    (void)next_item(p);
    after = peek(p);
    nxt = peek_non_space(p);
    if (nxt.type == I_ASSIGN || nxt.type == I_DECLARE) {
      pipe->is_assign = nxt.type == I_ASSIGN;
      (void)next_non_space(p);
      add_decl(p, pipe, &v);
      break;
    }
    if (nxt.type == I_CHAR && item_text(p, &nxt)[0] == ',') {
      (void)next_non_space(p);
      add_decl(p, pipe, &v);
      if (strcmp(context, "range") == 0 && pipe->ndecl < 2) {
        enum item_type t = peek_non_space(p).type;
        if (t == I_VARIABLE || t == I_RDELIM || t == I_RPAREN)
          continue;
        parse_errorf(p, "range can only initialize variables");
      }
      parse_errorf(p, "too many declarations in %s", context);
    }
    if (after.type == I_SPACE)
      backup3(p, v, after);
    else
      backup2(p, v);
    break;
  }
  for (;;) {
    struct item it = next_non_space(p);
    if (it.type == end) {
      check_pipeline(p, pipe, context);
      return pipe;
    }
    switch (it.type) {
    case I_BOOL: case I_CHARCONST: case I_COMPLEX: case I_DOT: case I_FIELD: case I_IDENT:
    case I_NUMBER: case I_NIL: case I_RAWSTRING: case I_STRING: case I_VARIABLE: case I_LPAREN:
      backup(p);
      node_append(pipe, parse_command(p));
      break;
    case I_ERROR: case I_CHAR: case I_ASSIGN: case I_DECLARE: case I_EOF: case I_LDELIM: case I_PIPE:
    case I_RDELIM: case I_RPAREN: case I_SPACE: case I_TEXT: case I_KEYWORD: case I_BLOCK: case I_BREAK:
    case I_CONTINUE: case I_DEFINE: case I_ELSE: case I_END: case I_IF: case I_RANGE: case I_TEMPLATE:
    case I_WITH:
    default:
      unexpected(p, &it, context);
    }
  }
}

static struct node *parse_if_control(struct parser *p);
static struct node *parse_with_control(struct parser *p);

static struct node *parse_control(struct parser *p, enum node_type type, const char *context)
{
  size_t nvars = p->nvars;
  struct node *pipe, *next = NULL, *n;
  enter_nesting(p);
  pipe = parse_pipeline(p, context, I_RDELIM);
  n = new_node(p, type, pipe->pos, pipe->line);
  n->pipe = pipe;
  if (type == N_RANGE)
    p->range_depth++;
  n->list = parse_item_list(p, &next);
  if (type == N_RANGE)
    p->range_depth--;
  if (next->type == N_ELSE) {
    if (type == N_IF && peek(p).type == I_IF) {
      (void)next_item(p);
      n->else_list = new_node(p, N_LIST, next->pos, next->line);
      node_append(n->else_list, parse_if_control(p));
    } else if (type == N_WITH && peek(p).type == I_WITH) {
      (void)next_item(p);
      n->else_list = new_node(p, N_LIST, next->pos, next->line);
      node_append(n->else_list, parse_with_control(p));
    } else {
      n->else_list = parse_item_list(p, &next);
      if (next->type != N_END)
        parse_errorf(p, "expected end; found {{else}}");
    }
  }
  p->nvars = nvars;
  p->depth--;
  return n;
}

static struct node *parse_if_control(struct parser *p)
{
  return parse_control(p, N_IF, "if");
}

static struct node *parse_with_control(struct parser *p)
{
  return parse_control(p, N_WITH, "with");
}

static const char *parse_template_name(struct parser *p, const struct item *it, const char *context)
{
  struct node tmp = {0};
  if (it->type != I_STRING && it->type != I_RAWSTRING)
    unexpected(p, it, context);
  if (!unquote_string(p, item_text(p, it), it->len, &tmp))
    parse_errorf(p, "invalid syntax");
  return tmp.text;
}

static bool is_empty_tree(const struct node *n)
{
  if (!n)
    return true;
  switch (n->type) {
  case N_LIST:
    for (const struct node *c = n->first; c; c = c->next)
      if (!is_empty_tree(c))
        return false;
    return true;
  case N_TEXT:
    for (size_t i = 0; i < n->text_len; i++)
      if (!tpl_uni_is_space((unsigned char)n->text[i]))
        return false;
    return true;
  case N_ACTION: case N_IF: case N_RANGE: case N_WITH: case N_TEMPLATE: case N_BREAK: case N_CONTINUE:
  case N_PIPE: case N_COMMAND: case N_FIELD: case N_VARIABLE: case N_CHAIN: case N_IDENT: case N_DOT:
  case N_NIL: case N_BOOL: case N_NUMBER: case N_STRING: case N_END: case N_ELSE:
  default:
    return false;
  }
}

/* Go's Tree.add: a later non-empty definition may not replace a non-empty one. */
static void add_tree(struct parser *p, const char *name, struct node *root)
{
  struct tree *t;
  for (t = p->t->trees; t; t = t->next)
    if (strcmp(t->name, name) == 0)
      break;
  if (t && !is_empty_tree(t->root)) {
    if (!is_empty_tree(root)) {
      struct buf b = {0};
      tpl_buf_adds(&b, "template: multiple definition of template ");
      tpl_go_quote(&b, name, strlen(name), false);
      parse_fail(p, &b);
    }
    return;
  }
  if (!t) {
    t = tpl_arena_alloc(&p->t->arena, sizeof(*t));
    t->name = name;
    t->next = p->t->trees;
    p->t->trees = t;
  }
  t->root = root;
}

/* {{define "name"}} ... {{end}}: a tree of its own, with fresh variables. */
static void parse_definition(struct parser *p)
{
  const char *context = "define clause";
  struct item it = next_non_space(p);
  const char *name;
  struct node *root, *end = NULL;
  size_t nvars = p->nvars;
  int range_depth = p->range_depth;
  name = parse_template_name(p, &it, context);
  (void)expect(p, I_RDELIM, context);
  p->nvars = 1; /* only $ */
  p->range_depth = 0;
  enter_nesting(p);
  root = parse_item_list(p, &end);
  p->depth--;
  if (end->type != N_END)
    parse_errorf(p, "unexpected {{else}} in %s", context);
  p->nvars = nvars;
  p->range_depth = range_depth;
  add_tree(p, name, root);
}

/* {{block "name" pipeline}} T {{end}}: define "name" as T and execute it here. */
static struct node *parse_block(struct parser *p)
{
  const char *context = "block clause";
  struct item it = next_non_space(p);
  struct node *n = new_node(p, N_TEMPLATE, it.pos, it.line), *root, *end = NULL;
  size_t nvars;
  int range_depth = p->range_depth;
  n->text = parse_template_name(p, &it, context);
  n->pipe = parse_pipeline(p, context, I_RDELIM);
  nvars = p->nvars;
  p->nvars = 1;
  p->range_depth = 0;
  enter_nesting(p);
  root = parse_item_list(p, &end);
  p->depth--;
  if (end->type != N_END)
    parse_errorf(p, "unexpected {{else}} in %s", context);
  p->nvars = nvars;
  p->range_depth = range_depth;
  add_tree(p, n->text, root);
  return n;
}

static struct node *parse_template_call(struct parser *p)
{
  const char *context = "template clause";
  struct item it = next_non_space(p);
  struct node *n = new_node(p, N_TEMPLATE, it.pos, it.line);
  n->text = parse_template_name(p, &it, context);
  if (next_non_space(p).type != I_RDELIM) {
    backup(p);
    n->pipe = parse_pipeline(p, context, I_RDELIM);
  }
  return n;
}

static struct node *parse_break_continue(struct parser *p, const struct item *kw, bool is_break)
{
  struct item it = next_non_space(p);
  if (it.type != I_RDELIM)
    unexpected(p, &it, is_break ? "{{break}}" : "{{continue}}");
  if (p->range_depth == 0)
    parse_errorf(p, "%s outside {{range}}", is_break ? "{{break}}" : "{{continue}}");
  return new_node(p, is_break ? N_BREAK : N_CONTINUE, kw->pos, kw->line);
}

static struct node *parse_action(struct parser *p)
{
  struct item it = next_non_space(p), tok;
  struct node *n;
  switch (it.type) {
  case I_BLOCK:
    return parse_block(p);
  case I_BREAK:
  case I_CONTINUE:
    return parse_break_continue(p, &it, it.type == I_BREAK);
  case I_ELSE: {
    struct item pk = peek_non_space(p);
    if (pk.type == I_IF || pk.type == I_WITH)
      return new_node(p, N_ELSE, pk.pos, pk.line);
    tok = expect(p, I_RDELIM, "else");
    return new_node(p, N_ELSE, tok.pos, tok.line);
  }
  case I_END:
    tok = expect(p, I_RDELIM, "end");
    return new_node(p, N_END, tok.pos, tok.line);
  case I_IF:
    return parse_if_control(p);
  case I_RANGE:
    return parse_control(p, N_RANGE, "range");
  case I_TEMPLATE:
    return parse_template_call(p);
  case I_WITH:
    return parse_with_control(p);
  case I_ERROR: case I_BOOL: case I_CHAR: case I_CHARCONST: case I_COMPLEX: case I_ASSIGN: case I_DECLARE:
  case I_EOF: case I_FIELD: case I_IDENT: case I_LDELIM: case I_LPAREN: case I_NUMBER: case I_PIPE:
  case I_RAWSTRING: case I_RDELIM: case I_RPAREN: case I_SPACE: case I_STRING: case I_TEXT: case I_VARIABLE:
  case I_KEYWORD: case I_DOT: case I_DEFINE: case I_NIL:
  default:
    break;
  }
  backup(p);
  tok = peek(p);
  n = new_node(p, N_ACTION, tok.pos, tok.line);
  n->pipe = parse_pipeline(p, "command", I_RDELIM);
  return n;
}

static struct node *parse_text_or_action(struct parser *p)
{
  struct item it = next_non_space(p);
  struct node *n;
  if (it.type == I_TEXT) {
    n = new_node(p, N_TEXT, it.pos, it.line);
    n->text = item_text(p, &it);
    n->text_len = it.len;
    return n;
  }
  if (it.type == I_LDELIM) {
    p->action_line = it.line;
    n = parse_action(p);
    p->action_line = 0;
    return n;
  }
  unexpected(p, &it, "input");
}

static struct node *parse_item_list(struct parser *p, struct node **ret_next)
{
  struct node *list = new_node(p, N_LIST, peek_non_space(p).pos, peek_non_space(p).line);
  while (peek_non_space(p).type != I_EOF) {
    struct node *n = parse_text_or_action(p);
    if (n->type == N_END || n->type == N_ELSE) {
      *ret_next = n;
      return list;
    }
    node_append(list, n);
  }
  parse_errorf(p, "unexpected EOF");
}

static void parse_top(struct parser *p)
{
  struct node *root = new_node(p, N_LIST, peek(p).pos, peek(p).line);
  while (peek(p).type != I_EOF) {
    struct node *n;
    if (peek(p).type == I_LDELIM) {
      struct item delim = next_item(p);
      if (next_non_space(p).type == I_DEFINE) {
        parse_definition(p);
        continue;
      }
      backup2(p, delim);
    }
    n = parse_text_or_action(p);
    if (n->type == N_END || n->type == N_ELSE)
      parse_errorf(p, "unexpected %s", n->type == N_END ? "{{end}}" : "{{else}}");
    node_append(root, n);
  }
  add_tree(p, "", root);
}

void berth_template_free(struct berth_template *t)
{
  if (!t)
    return;
  tpl_arena_free(&t->arena);
  free(t->src);
  free(t);
}

/* parse_top with parse errors caught: false when one was raised (p->msg).
 * No local of the caller is live across the setjmp. */
static bool parse_top_caught(struct parser *p)
{
  if (setjmp(p->jb) != 0)
    return false;
  parse_top(p);
  return true;
}

int berth_template_parse(const char *src, struct berth_template **ret, berth_error_t *err)
{
  struct berth_template *t = calloc(1, sizeof(*t));
  struct lexer l = {0};
  struct parser *p = calloc(1, sizeof(*p));
  int rc = 0;
  if (!t || !p)
    abort();
  if (!src)
    src = "";
  t->src_len = strlen(src);
  t->src = strdup(src);
  if (!t->src)
    abort();
  l.in = t->src;
  l.n = t->src_len;
  tpl_lex_run(&l);
  p->t = t;
  p->items = l.items;
  p->nitems = l.nitems;
  push_var(p, "$");
  if (parse_top_caught(p)) {
    *ret = t;
  } else {
    rc = berth_error_set_plain(err, EINVAL, "%s", p->msg);
    berth_template_free(t);
  }
  free(p->msg);
  free(p->vars);
  free(p);
  tpl_lex_free(&l);
  return rc;
}
