/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Template execution, after Go's text/template/exec.go: variables,
 * pipelines, fields, function calls, if/with/range/template, with Go's error
 * messages and bounds on depth, steps and output.  Execution returns error
 * codes and keeps temporary values in a pool that is released after each
 * action and each loop iteration; variables hold references of their own.
 * berth_template_exec, _exec_string and _exec_header live here. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template-internal.h"

#define MAX_EXEC_DEPTH 400 /* nested walks and pipelines while executing */
#define DEFAULT_MAX_STEPS 100000000u
#define DEFAULT_MAX_OUTPUT (256u << 20)
#define WALK_BREAK 1
#define WALK_CONTINUE 2

/* ---- variables ---- */

static void push_val(struct state *s, const char *name, struct val v)
{
  if (s->nvars == s->cap_vars) {
    s->cap_vars = s->cap_vars ? s->cap_vars * 2 : 16;
    s->vars = realloc(s->vars, s->cap_vars * sizeof(*s->vars));
    if (!s->vars)
      abort();
  }
  json_incref(v.j);
  s->vars[s->nvars++] = (struct var){name, v};
}

static void pop_vars(struct state *s, size_t mark)
{
  while (s->nvars > mark)
    json_decref(s->vars[--s->nvars].v.j);
}

static void set_slot(struct var *slot, struct val v)
{
  json_incref(v.j);
  json_decref(slot->v.j);
  slot->v = v;
}

/* ---- errors ---- */

static int exec_fail(struct state *s, struct buf *msg)
{
  struct buf b = {0};
  const char *name = s->tmpl_name ? s->tmpl_name : "";
  if (!s->node) {
    tpl_buf_adds(&b, "template: ");
    tpl_buf_adds(&b, name);
    tpl_buf_adds(&b, ": ");
  } else {
    size_t pos = s->node->pos, line = 1, col = pos;
    const char *src = s->t->src;
    for (size_t i = 0; i < pos && i < s->t->src_len; i++)
      if (src[i] == '\n') {
        line++;
        col = pos - i - 1;
      }
    tpl_buf_addf(&b, "template: :%zu:%zu: executing ", line, col);
    tpl_go_quote(&b, name, strlen(name), false);
    tpl_buf_adds(&b, " at <");
    tpl_node_string(&b, s->node);
    tpl_buf_adds(&b, ">: ");
  }
  tpl_buf_add(&b, msg->p ? msg->p : "", msg->len);
  tpl_buf_free(msg);
  berth_error_set_plain(s->err, EINVAL, "%s", b.p);
  tpl_buf_free(&b);
  return -1;
}

static int exec_errorf(struct state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int exec_errorf(struct state *s, const char *fmt, ...)
{
  struct buf b = {0};
  char *m = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&m, fmt, ap) < 0)
    abort();
  va_end(ap);
  tpl_buf_adds(&b, m);
  free(m);
  return exec_fail(s, &b);
}

static void at(struct state *s, const struct node *n)
{
  s->node = n;
}

static int enter(struct state *s)
{
  if (++s->depth > MAX_EXEC_DEPTH) {
    s->depth--;
    return exec_errorf(s, "exceeded maximum template depth (%d)", MAX_EXEC_DEPTH);
  }
  if (++s->steps > s->max_steps) {
    s->depth--;
    return exec_errorf(s, "execution exceeded %zu steps", s->max_steps);
  }
  return 0;
}

static int out_write(struct state *s, const char *p, size_t n)
{
  tpl_buf_add(s->out, p, n);
  if (s->out->len > s->max_output)
    return exec_errorf(s, "output exceeds %zu bytes", s->max_output);
  return 0;
}

/* fmt.Fprint of one value, as actions print: "<no value>" for missing. */
static int print_value(struct state *s, struct val v)
{
  struct buf b = {0};
  bool overflow = false;
  int rc;
  if (tpl_is_missing(v))
    tpl_buf_adds(&b, "<no value>");
  else
    tpl_value_with_verb(s, &b, v, 'v', &overflow);
  rc = overflow ? exec_errorf(s, "value too large or nested too deeply to print") : out_write(s, b.p, b.len);
  tpl_buf_free(&b);
  return rc;
}

/* ======================================================================
 * Evaluation (text/template/exec.go)
 * ====================================================================== */

static int eval_pipeline(struct state *s, struct val dot, const struct node *pipe, struct val *ret);
static int eval_arg(struct state *s, struct val dot, enum arg_type typ, const struct node *n, struct val *ret);
static int eval_function(struct state *s, struct val dot, const struct node *ident, const struct node *cmd,
                         const struct node *extra, size_t nextra, const struct val *final, struct val *ret);
static int walk(struct state *s, struct val dot, const struct node *n);

static const char *arg_type_name(enum arg_type t)
{
  switch (t) {
  case A_ANY: return "interface {}";
  case A_VALUE: return "reflect.Value";
  case A_STRING: return "string";
  case A_INT: return "int";
  case A_STRINGS: return "[]string";
  case A_UNTYPED:
  default: return "<nil>";
  }
}

static int errorf_node(struct state *s, const char *before, const struct node *n, const char *after)
{
  struct buf b = {0};
  tpl_buf_adds(&b, before);
  tpl_node_string(&b, n);
  tpl_buf_adds(&b, after);
  return exec_fail(s, &b);
}

static int errorf_quoted(struct state *s, const char *before, const char *q, const char *after)
{
  struct buf b = {0};
  tpl_buf_adds(&b, before);
  tpl_go_quote(&b, q, strlen(q), false);
  tpl_buf_adds(&b, after);
  return exec_fail(s, &b);
}

/* validateType: can v be passed as a parameter of type typ? */
static int validate(struct state *s, struct val v, enum arg_type typ, struct val *ret)
{
  if (tpl_is_missing(v)) {
    switch (typ) {
    case A_UNTYPED:
    case A_VALUE:
    case A_ANY: /* a nil interface{}: prints "<nil>", and "<no value>" in html/js/urlquery */
      *ret = tpl_missing_val;
      return 0;
    case A_STRINGS:
      *ret = tpl_v_null();
      return 0;
    case A_STRING:
    case A_INT:
    default:
      return exec_errorf(s, "invalid value; expected %s", arg_type_name(typ));
    }
  }
  switch (typ) {
  case A_STRING:
    if (!json_is_string(v.j))
      return exec_errorf(s, "wrong type for value; expected string; got %s", tpl_type_name(s, v));
    break;
  case A_INT:
    if (!json_is_integer(v.j))
      return exec_errorf(s, "wrong type for value; expected int; got %s", tpl_type_name(s, v));
    break;
  case A_STRINGS:
    if (json_is_null(v.j))
      break;
    if (json_is_array(v.j)) {
      size_t i;
      for (i = 0; i < json_array_size(v.j); i++)
        if (!json_is_string(json_array_get(v.j, i)))
          break;
      if (i == json_array_size(v.j))
        break;
    }
    return exec_errorf(s, "wrong type for value; expected []string; got %s", tpl_type_name(s, v));
  case A_UNTYPED:
  case A_ANY:
  case A_VALUE:
  default:
    break;
  }
  *ret = v;
  return 0;
}

static bool is_hex_int(const struct node *n)
{
  return n->src_len > 2 && n->src[0] == '0' && (n->src[1] == 'x' || n->src[1] == 'X') &&
         !tpl_contains_any(n->src, n->src_len, "pP");
}

static int ideal_constant(struct state *s, const struct node *n, struct val *ret)
{
  at(s, n);
  if (n->num.is_complex)
    return exec_errorf(s, "complex constant %s is not supported", n->src);
  if (n->num.is_float && !is_hex_int(n) && n->src[0] != '\'' && tpl_contains_any(n->src, n->src_len, ".eEpP")) {
    *ret = (struct val){tpl_keep(s, json_real(n->num.f)), false};
    return 0;
  }
  if (n->num.is_int) {
    *ret = tpl_v_int(s, n->num.i);
    return 0;
  }
  if (n->num.is_uint)
    return exec_errorf(s, "%s overflows int", n->src);
  *ret = tpl_missing_val;
  return 0;
}

static int eval_empty_interface(struct state *s, struct val dot, const struct node *n, struct val *ret)
{
  at(s, n);
  switch (n->type) {
  case N_BOOL:
    *ret = tpl_v_bool(n->boolean);
    return 0;
  case N_NUMBER:
    return ideal_constant(s, n, ret);
  case N_STRING:
    *ret = tpl_v_str(s, n->text, n->text_len);
    return 0;
  case N_LIST: case N_TEXT: case N_ACTION: case N_IF: case N_RANGE: case N_WITH: case N_TEMPLATE: case N_BREAK:
  case N_CONTINUE: case N_PIPE: case N_COMMAND: case N_FIELD: case N_VARIABLE: case N_CHAIN: case N_IDENT:
  case N_DOT: case N_NIL: case N_END: case N_ELSE:
  default:
    return errorf_node(s, "can't handle assignment of ", n, " to empty interface argument");
  }
}

static int not_a_function(struct state *s, const struct node *first, size_t nextra, const struct val *final)
{
  if (nextra > 0 || final)
    return errorf_node(s, "can't give argument to non-function ", first, "");
  return 0;
}

static struct var *find_var(struct state *s, const char *name)
{
  for (size_t i = s->nvars; i > s->var_base; i--)
    if (strcmp(s->vars[i - 1].name, name) == 0)
      return &s->vars[i - 1];
  return NULL;
}

static int call_method(struct state *s, struct val dot, const char *name, const struct node *node,
                       const struct node *extra, size_t nextra, const struct val *final, struct val receiver,
                       struct val *ret)
{
  size_t n = nextra + (final ? 1 : 0), k = 0;
  json_t **args = calloc(n ? n : 1, sizeof(*args));
  json_t *res = NULL;
  berth_error_t merr = NULL;
  int rc;
  if (!args)
    abort();
  for (const struct node *a = extra; a && k < nextra; a = a->next) {
    struct val v;
    if (eval_arg(s, dot, A_ANY, a, &v) < 0) {
      free(args);
      return -1;
    }
    args[k++] = v.j ? v.j : json_null();
  }
  if (final)
    args[k++] = final->j ? final->j : json_null();
  rc = s->opts->method(s->opts->method_data, name, receiver.j, args, k, &res, &merr);
  free(args);
  if (rc < 0) {
    at(s, node);
    rc = exec_errorf(s, "error calling %s: %s", name, merr && merr->msg ? merr->msg : "method failed");
    berth_error_release(&merr);
    json_decref(res);
    return rc;
  }
  berth_error_release(&merr);
  if (rc == 0) {
    json_decref(res);
    return 0;
  }
  *ret = res ? (struct val){tpl_keep(s, res), false} : tpl_missing_val;
  return 1;
}

/* evalField: .name on receiver, with arguments when it is the last of a chain. */
static int eval_field(struct state *s, struct val dot, const char *name, const struct node *node,
                      const struct node *extra, size_t nextra, const struct val *final, struct val receiver,
                      struct val *ret)
{
  bool has_args = nextra > 0 || final;
  json_t *m;
  int rc;
  if (tpl_is_missing(receiver)) {
    if (s->opts->missing == BERTH_TEMPLATE_MAP_ERROR)
      return errorf_quoted(s, "nil data; no entry for key ", name, "");
    *ret = tpl_missing_val;
    return 0;
  }
  if (json_is_null(receiver.j)) {
    if (receiver.map && s->opts->missing == BERTH_TEMPLATE_STRUCT) { /* a nil map */
      if (has_args)
        return exec_errorf(s, "%s is not a method but has arguments", name);
      *ret = tpl_missing_val;
      return 0;
    }
    return exec_errorf(s, "nil pointer evaluating interface {}.%s", name);
  }
  if (s->opts->method && json_is_object(receiver.j)) {
    rc = call_method(s, dot, name, node, extra, nextra, final, receiver, ret);
    if (rc != 0)
      return rc < 0 ? -1 : 0;
  }
  if (!json_is_object(receiver.j))
    return exec_errorf(s, "can't evaluate field %s in type %s", name, tpl_type_name(s, receiver));
  m = json_object_get(receiver.j, name);
  if (!tpl_is_struct(s, receiver)) {
    if (has_args)
      return exec_errorf(s, "%s is not a method but has arguments", name);
    if (m) {
      *ret = tpl_member_val(s, name, m);
      return 0;
    }
    if (s->opts->missing == BERTH_TEMPLATE_MAP_ERROR)
      return errorf_quoted(s, "map has no entry for key ", name, "");
    *ret = tpl_missing_val;
    return 0;
  }
  if (m) {
    if (has_args)
      return exec_errorf(s, "%s has arguments but cannot be invoked as function", name);
    *ret = tpl_member_val(s, name, m);
    return 0;
  }
  if (receiver.j == s->root && s->opts->type_name)
    return exec_errorf(s, "can't evaluate field %s in type %s", name, s->opts->type_name);
  return errorf_quoted(s, "map has no entry for key ", name, "");
}

static int eval_field_chain(struct state *s, struct val dot, struct val receiver, const struct node *node,
                            const char *const *idents, size_t n, const struct node *extra, size_t nextra,
                            const struct val *final, struct val *ret)
{
  for (size_t i = 0; i + 1 < n; i++)
    if (eval_field(s, dot, idents[i], node, NULL, 0, NULL, receiver, &receiver) < 0)
      return -1;
  return eval_field(s, dot, idents[n - 1], node, extra, nextra, final, receiver, ret);
}

static int eval_field_node(struct state *s, struct val dot, const struct node *field, const struct node *extra,
                           size_t nextra, const struct val *final, struct val *ret)
{
  at(s, field);
  return eval_field_chain(s, dot, dot, field, field->idents, field->nidents, extra, nextra, final, ret);
}

static int eval_chain_node(struct state *s, struct val dot, const struct node *chain, const struct node *extra,
                           size_t nextra, const struct val *final, struct val *ret)
{
  struct val v;
  at(s, chain);
  if (chain->pipe->type == N_NIL)
    return errorf_node(s, "indirection through explicit nil in ", chain, "");
  if (eval_arg(s, dot, A_UNTYPED, chain->pipe, &v) < 0)
    return -1;
  return eval_field_chain(s, dot, v, chain, chain->idents, chain->nidents, extra, nextra, final, ret);
}

static int eval_variable_node(struct state *s, struct val dot, const struct node *var, const struct node *extra,
                              size_t nextra, const struct val *final, struct val *ret)
{
  struct var *slot;
  at(s, var);
  slot = find_var(s, var->idents[0]);
  if (!slot)
    return exec_errorf(s, "undefined variable: %s", var->idents[0]);
  if (var->nidents == 1) {
    if (not_a_function(s, var, nextra, final) < 0)
      return -1;
    *ret = slot->v;
    return 0;
  }
  return eval_field_chain(s, dot, slot->v, var, var->idents + 1, var->nidents - 1, extra, nextra, final, ret);
}

static int eval_call(struct state *s, struct val dot, const struct func *f, const struct node *node, const char *name,
                     const struct node *extra, size_t nextra, const struct val *final, struct val *ret)
{
  size_t num_in = nextra + (final ? 1 : 0), num_fixed = nextra, i = 0;
  const struct node *a = extra;
  struct val *argv;
  struct buf msg = {0};
  int rc;
  if (f->variadic) {
    num_fixed = f->nin - 1;
    if (num_in < num_fixed)
      return exec_errorf(s, "wrong number of args for %s: want at least %zu got %zu", name, f->nin - 1, nextra);
  } else if (num_in != f->nin) {
    return exec_errorf(s, "wrong number of args for %s: want %zu got %zu", name, f->nin, num_in);
  }
  if (!f->fn) { /* and, or: short-circuit and return the deciding value */
    bool is_or = name[0] == 'o';
    struct val v = tpl_missing_val;
    for (; a; a = a->next) {
      if (eval_arg(s, dot, A_VALUE, a, &v) < 0)
        return -1;
      if (tpl_truth(s, v) == is_or) {
        *ret = v;
        return 0;
      }
    }
    if (final && validate(s, *final, A_VALUE, &v) < 0)
      return -1;
    *ret = v;
    return 0;
  }
  argv = calloc(num_in ? num_in : 1, sizeof(*argv));
  if (!argv)
    abort();
  for (; i < num_fixed && i < nextra; i++, a = a->next)
    if (eval_arg(s, dot, f->in[i], a, &argv[i]) < 0)
      goto fail;
  if (f->variadic)
    for (; i < nextra; i++, a = a->next)
      if (eval_arg(s, dot, f->in[f->nin - 1], a, &argv[i]) < 0)
        goto fail;
  if (final) {
    enum arg_type t = f->in[f->nin - 1];
    if (f->variadic && num_in - 1 < num_fixed)
      t = f->in[num_in - 1];
    if (validate(s, *final, t, &argv[i]) < 0)
      goto fail;
  }
  rc = f->fn(s, argv, num_in, ret, &msg);
  free(argv);
  if (rc < 0) {
    struct buf b = {0};
    at(s, node);
    tpl_buf_addf(&b, "error calling %s: ", name);
    tpl_buf_add(&b, msg.p ? msg.p : "", msg.len);
    tpl_buf_free(&msg);
    return exec_fail(s, &b);
  }
  tpl_buf_free(&msg);
  return 0;
fail:
  free(argv);
  tpl_buf_free(&msg);
  return -1;
}

static int eval_function(struct state *s, struct val dot, const struct node *ident, const struct node *cmd,
                         const struct node *extra, size_t nextra, const struct val *final, struct val *ret)
{
  const struct func *f;
  at(s, ident);
  f = tpl_find_function(s, ident->text);
  if (!f)
    return errorf_quoted(s, "", ident->text, " is not a defined function");
  return eval_call(s, dot, f, cmd, ident->text, extra, nextra, final, ret);
}

static int eval_arg(struct state *s, struct val dot, enum arg_type typ, const struct node *n, struct val *ret)
{
  struct val v;
  int r;
  at(s, n);
  switch (n->type) {
  case N_DOT:
    return validate(s, dot, typ, ret);
  case N_NIL:
    if (typ == A_STRINGS) {
      *ret = tpl_v_null();
      return 0;
    }
    if (typ == A_VALUE || typ == A_ANY) {
      *ret = tpl_missing_val;
      return 0;
    }
    return exec_errorf(s, "cannot assign nil to %s", arg_type_name(typ));
  case N_FIELD:
    r = eval_field_node(s, dot, n, NULL, 0, NULL, &v);
    break;
  case N_VARIABLE:
    r = eval_variable_node(s, dot, n, NULL, 0, NULL, &v);
    break;
  case N_PIPE:
    r = eval_pipeline(s, dot, n, &v);
    break;
  case N_IDENT:
    r = eval_function(s, dot, n, n, NULL, 0, NULL, &v);
    break;
  case N_CHAIN:
    r = eval_chain_node(s, dot, n, NULL, 0, NULL, &v);
    break;
  case N_LIST: case N_TEXT: case N_ACTION: case N_IF: case N_RANGE: case N_WITH: case N_TEMPLATE: case N_BREAK:
  case N_CONTINUE: case N_COMMAND: case N_BOOL: case N_NUMBER: case N_STRING: case N_END: case N_ELSE:
  default:
    switch (typ) {
    case A_STRING:
      if (n->type == N_STRING) {
        *ret = tpl_v_str(s, n->text, n->text_len);
        return 0;
      }
      return errorf_node(s, "expected string; found ", n, "");
    case A_INT:
      if (n->type == N_NUMBER && n->num.is_int && !n->num.is_complex) {
        *ret = tpl_v_int(s, n->num.i);
        return 0;
      }
      return errorf_node(s, "expected integer; found ", n, "");
    case A_STRINGS:
      return errorf_node(s, "can't handle ", n, " for arg of type []string");
    case A_UNTYPED:
    case A_ANY:
    case A_VALUE:
    default:
      return eval_empty_interface(s, dot, n, ret);
    }
  }
  if (r < 0)
    return r;
  return validate(s, v, typ, ret);
}

static int eval_command(struct state *s, struct val dot, const struct node *cmd, const struct val *final,
                        struct val *ret)
{
  const struct node *first = cmd->first, *extra = first->next;
  size_t nextra = cmd->count - 1;
  switch (first->type) {
  case N_FIELD:
    return eval_field_node(s, dot, first, extra, nextra, final, ret);
  case N_CHAIN:
    return eval_chain_node(s, dot, first, extra, nextra, final, ret);
  case N_IDENT:
    return eval_function(s, dot, first, cmd, extra, nextra, final, ret);
  case N_PIPE:
    if (not_a_function(s, first, nextra, final) < 0)
      return -1;
    return eval_pipeline(s, dot, first, ret);
  case N_VARIABLE:
    return eval_variable_node(s, dot, first, extra, nextra, final, ret);
  case N_LIST: case N_TEXT: case N_ACTION: case N_IF: case N_RANGE: case N_WITH: case N_TEMPLATE: case N_BREAK:
  case N_CONTINUE: case N_COMMAND: case N_DOT: case N_NIL: case N_BOOL: case N_NUMBER: case N_STRING:
  case N_END: case N_ELSE:
  default:
    break;
  }
  at(s, first);
  if (not_a_function(s, first, nextra, final) < 0)
    return -1;
  switch (first->type) {
  case N_BOOL:
    *ret = tpl_v_bool(first->boolean);
    return 0;
  case N_DOT:
    *ret = dot;
    return 0;
  case N_NIL:
    return exec_errorf(s, "nil is not a command");
  case N_NUMBER:
    return ideal_constant(s, first, ret);
  case N_STRING:
    *ret = tpl_v_str(s, first->text, first->text_len);
    return 0;
  case N_LIST: case N_TEXT: case N_ACTION: case N_IF: case N_RANGE: case N_WITH: case N_TEMPLATE: case N_BREAK:
  case N_CONTINUE: case N_PIPE: case N_COMMAND: case N_FIELD: case N_VARIABLE: case N_CHAIN: case N_IDENT:
  case N_END: case N_ELSE:
  default:
    return errorf_node(s, "can't evaluate command ", first, "");
  }
}

static int eval_pipeline(struct state *s, struct val dot, const struct node *pipe, struct val *ret)
{
  struct val value = tpl_missing_val;
  bool have = false;
  int r;
  if (!pipe) {
    *ret = tpl_missing_val;
    return 0;
  }
  if ((r = enter(s)) < 0)
    return r;
  at(s, pipe);
  for (const struct node *cmd = pipe->first; cmd; cmd = cmd->next) {
    struct val prev = value;
    r = eval_command(s, dot, cmd, have ? &prev : NULL, &value);
    if (r < 0) {
      s->depth--;
      return r;
    }
    have = true;
  }
  for (const struct node *v = pipe->decl; v; v = v->next) {
    if (pipe->is_assign) {
      struct var *slot = find_var(s, v->idents[0]);
      if (!slot) {
        s->depth--;
        return exec_errorf(s, "undefined variable: %s", v->idents[0]);
      }
      set_slot(slot, value);
    } else {
      push_val(s, v->idents[0], value);
    }
  }
  s->depth--;
  *ret = value;
  return 0;
}

/* ======================================================================
 * Walking the tree
 * ====================================================================== */

static const struct tree *find_tree(const struct berth_template *t, const char *name)
{
  for (const struct tree *tr = t->trees; tr; tr = tr->next)
    if (strcmp(tr->name, name) == 0)
      return tr;
  return NULL;
}

static int walk_if_or_with(struct state *s, struct val dot, const struct node *n)
{
  size_t vmark = s->nvars, pmark = s->npool;
  struct val v;
  int r = eval_pipeline(s, dot, n->pipe, &v);
  if (r == 0) {
    if (tpl_truth(s, v))
      r = walk(s, n->type == N_WITH ? v : dot, n->list);
    else if (n->else_list)
      r = walk(s, dot, n->else_list);
  }
  pop_vars(s, vmark);
  tpl_release_pool(s, pmark);
  return r;
}

/* One range iteration: set the loop variables, walk the body, drop what it
 * declared and allocated. */
static int range_iteration(struct state *s, const struct node *n, size_t mark, struct val index, struct val elem)
{
  const struct node *pipe = n->pipe;
  int r;
  if (pipe->ndecl > 0) {
    if (pipe->is_assign) {
      struct var *slot = find_var(s, pipe->decl->idents[0]);
      if (!slot)
        return exec_errorf(s, "undefined variable: %s", pipe->decl->idents[0]);
      set_slot(slot, pipe->ndecl > 1 ? index : elem);
    } else {
      set_slot(&s->vars[s->nvars - 1], elem);
    }
  }
  if (pipe->ndecl > 1) {
    if (pipe->is_assign) {
      struct var *slot = find_var(s, pipe->decl->next->idents[0]);
      if (!slot)
        return exec_errorf(s, "undefined variable: %s", pipe->decl->next->idents[0]);
      set_slot(slot, elem);
    } else {
      set_slot(&s->vars[s->nvars - 2], index);
    }
  }
  r = walk(s, elem, n->list);
  pop_vars(s, mark);
  return r == WALK_CONTINUE ? 0 : r;
}

static int walk_range(struct state *s, struct val dot, const struct node *n)
{
  size_t vmark = s->nvars, pmark = s->npool, mark;
  struct val v;
  int r = eval_pipeline(s, dot, n->pipe, &v);
  bool ran = false;
  if (r < 0)
    goto out;
  mark = s->nvars;
  if (!tpl_is_nil(v)) {
    switch (json_typeof(v.j)) {
    case JSON_ARRAY:
      for (size_t i = 0; i < json_array_size(v.j) && r == 0; i++) {
        size_t ip = s->npool;
        ran = true;
        r = range_iteration(s, n, mark, tpl_v_int(s, (int64_t)i), (struct val){json_array_get(v.j, i), false});
        tpl_release_pool(s, ip);
      }
      break;
    case JSON_OBJECT: {
      size_t count;
      struct member *m = tpl_object_members(v.j, true, &count);
      for (size_t i = 0; i < count && r == 0; i++) {
        size_t ip = s->npool;
        ran = true;
        r = range_iteration(s, n, mark, tpl_v_str(s, m[i].key, m[i].len), tpl_member_val(s, m[i].key, m[i].v));
        tpl_release_pool(s, ip);
      }
      free(m);
      break;
    }
    case JSON_INTEGER:
      if (n->pipe->ndecl > 1) {
        struct buf b = {0};
        tpl_buf_adds(&b, "can't use ");
        tpl_value_with_verb(s, &b, v, 'v', NULL);
        tpl_buf_adds(&b, " to iterate over more than one variable");
        r = exec_fail(s, &b);
        break;
      }
      for (json_int_t i = 0; i < json_integer_value(v.j) && r == 0; i++) {
        size_t ip = s->npool;
        struct val iv = tpl_v_int(s, i);
        ran = true;
        r = range_iteration(s, n, mark, iv, iv);
        tpl_release_pool(s, ip);
      }
      break;
    case JSON_STRING:
    case JSON_REAL:
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_NULL:
    default: {
      struct buf b = {0};
      tpl_buf_adds(&b, "range can't iterate over ");
      tpl_value_with_verb(s, &b, v, 'v', NULL);
      r = exec_fail(s, &b);
      break;
    }
    }
  }
  if (r == WALK_BREAK)
    r = 0;
  if (r == 0 && !ran && n->else_list)
    r = walk(s, dot, n->else_list);
out:
  pop_vars(s, vmark);
  tpl_release_pool(s, pmark);
  return r;
}

static int walk_template(struct state *s, struct val dot, const struct node *n)
{
  const struct tree *t = find_tree(s->t, n->text);
  size_t pmark = s->npool, base = s->var_base, nv;
  const char *name = s->tmpl_name;
  struct val newdot;
  int r;
  at(s, n);
  if (!t)
    return errorf_quoted(s, "template ", n->text, " not defined");
  r = eval_pipeline(s, dot, n->pipe, &newdot);
  if (r < 0)
    return r;
  nv = s->nvars;
  push_val(s, "$", newdot);
  s->var_base = nv;
  s->tmpl_name = t->name;
  r = walk(s, newdot, t->root);
  pop_vars(s, nv);
  s->var_base = base;
  s->tmpl_name = name;
  tpl_release_pool(s, pmark);
  return r < 0 ? r : 0;
}

static int walk(struct state *s, struct val dot, const struct node *n)
{
  int r = enter(s);
  if (r < 0)
    return r;
  at(s, n);
  switch (n->type) {
  case N_ACTION: {
    size_t pmark = s->npool;
    struct val v;
    r = eval_pipeline(s, dot, n->pipe, &v);
    if (r == 0 && n->pipe->ndecl == 0) {
      at(s, n);
      r = print_value(s, v);
    }
    tpl_release_pool(s, pmark);
    break;
  }
  case N_IF:
  case N_WITH:
    r = walk_if_or_with(s, dot, n);
    break;
  case N_LIST:
    for (const struct node *c = n->first; c && r == 0; c = c->next)
      r = walk(s, dot, c);
    break;
  case N_RANGE:
    r = walk_range(s, dot, n);
    break;
  case N_TEMPLATE:
    r = walk_template(s, dot, n);
    break;
  case N_TEXT:
    r = out_write(s, n->text, n->text_len);
    break;
  case N_BREAK:
    r = WALK_BREAK;
    break;
  case N_CONTINUE:
    r = WALK_CONTINUE;
    break;
  case N_PIPE: case N_COMMAND: case N_FIELD: case N_VARIABLE: case N_CHAIN: case N_IDENT: case N_DOT: case N_NIL:
  case N_BOOL: case N_NUMBER: case N_STRING: case N_END: case N_ELSE:
  default:
    r = errorf_node(s, "unknown node: ", n, "");
    break;
  }
  s->depth--;
  return r;
}

int tpl_exec_tree(const struct berth_template *t, json_t *data, const struct berth_template_opts *opts,
                  bool header, struct buf *out, berth_error_t *err)
{
  struct berth_template_opts o = {0};
  struct state s = {0};
  const struct tree *main_tree = find_tree(t, "");
  struct val root;
  int r;
  if (opts)
    o = *opts;
  if (header)
    o.missing = BERTH_TEMPLATE_MAP;
  s.t = t;
  s.opts = &o;
  s.map_fields = o.map_fields ? o.map_fields : berth_template_docker_map_fields;
  s.funcs = header ? tpl_funcs_header : tpl_funcs_docker;
  s.tmpl_name = "";
  s.out = out;
  s.err = err;
  s.root = data;
  s.max_steps = o.max_steps ? o.max_steps : DEFAULT_MAX_STEPS;
  s.max_output = o.max_output ? o.max_output : DEFAULT_MAX_OUTPUT;
  root = (struct val){data, o.missing != BERTH_TEMPLATE_STRUCT};
  push_val(&s, "$", root);
  if (!main_tree || !main_tree->root)
    r = exec_errorf(&s, "\"\" is an incomplete or empty template");
  else
    r = walk(&s, root, main_tree->root);
  pop_vars(&s, 0);
  tpl_release_pool(&s, 0);
  free(s.vars);
  free(s.pool);
  tpl_buf_terminate(out);
  return r < 0 ? -1 : 0;
}

/* ======================================================================
 * Public API
 * ====================================================================== */

int berth_template_exec(const struct berth_template *t, json_t *data, const struct berth_template_opts *opts,
                        FILE *out, berth_error_t *err)
{
  struct buf b = {0};
  int rc = tpl_exec_tree(t, data, opts, false, &b, err);
  if (b.len > 0 && fwrite(b.p, 1, b.len, out) != b.len && rc == 0)
    rc = berth_error_set(err, errno ? errno : EIO, "write template output");
  tpl_buf_free(&b);
  return rc;
}

int berth_template_exec_string(const struct berth_template *t, json_t *data, const struct berth_template_opts *opts,
                               char **ret, berth_error_t *err)
{
  struct buf b = {0};
  if (tpl_exec_tree(t, data, opts, false, &b, err) < 0) {
    tpl_buf_free(&b);
    *ret = NULL;
    return -1;
  }
  *ret = tpl_buf_steal(&b);
  return 0;
}

int berth_template_exec_header(const struct berth_template *t, json_t *header,
                               const struct berth_template_opts *opts, char **ret, berth_error_t *err)
{
  struct buf b = {0};
  int rc = tpl_exec_tree(t, header, opts, true, &b, err);
  *ret = tpl_buf_steal(&b);
  return rc;
}
