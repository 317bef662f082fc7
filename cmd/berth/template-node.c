/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Node.String() of Go's text/template/parse/node.go: a parse tree printed
 * back as template text, for parse and execution error messages. */
#include <string.h>

#include "template-internal.h"

static void pipe_string(struct buf *b, const struct node *pipe)
{
  if (pipe->decl) {
    for (const struct node *v = pipe->decl; v; v = v->next) {
      if (v != pipe->decl)
        tpl_buf_adds(b, ", ");
      tpl_node_string(b, v);
    }
    tpl_buf_adds(b, pipe->is_assign ? " = " : " := ");
  }
  for (const struct node *c = pipe->first; c; c = c->next) {
    if (c != pipe->first)
      tpl_buf_adds(b, " | ");
    tpl_node_string(b, c);
  }
}

void tpl_node_string(struct buf *b, const struct node *n)
{
  switch (n->type) {
  case N_LIST:
    for (const struct node *c = n->first; c; c = c->next)
      tpl_node_string(b, c);
    break;
  case N_TEXT:
    tpl_buf_add(b, n->text, n->text_len);
    break;
  case N_ACTION:
    tpl_buf_adds(b, "{{");
    pipe_string(b, n->pipe);
    tpl_buf_adds(b, "}}");
    break;
  case N_IF:
  case N_RANGE:
  case N_WITH:
    tpl_buf_adds(b, n->type == N_IF ? "{{if " : n->type == N_RANGE ? "{{range " : "{{with ");
    pipe_string(b, n->pipe);
    tpl_buf_adds(b, "}}");
    tpl_node_string(b, n->list);
    if (n->else_list) {
      tpl_buf_adds(b, "{{else}}");
      tpl_node_string(b, n->else_list);
    }
    tpl_buf_adds(b, "{{end}}");
    break;
  case N_TEMPLATE:
    tpl_buf_adds(b, "{{template ");
    tpl_go_quote(b, n->text, strlen(n->text), false);
    if (n->pipe) {
      tpl_buf_addc(b, ' ');
      pipe_string(b, n->pipe);
    }
    tpl_buf_adds(b, "}}");
    break;
  case N_BREAK:
    tpl_buf_adds(b, "{{break}}");
    break;
  case N_CONTINUE:
    tpl_buf_adds(b, "{{continue}}");
    break;
  case N_PIPE:
    pipe_string(b, n);
    break;
  case N_COMMAND:
    for (const struct node *a = n->first; a; a = a->next) {
      if (a != n->first)
        tpl_buf_addc(b, ' ');
      if (a->type == N_PIPE) {
        tpl_buf_addc(b, '(');
        pipe_string(b, a);
        tpl_buf_addc(b, ')');
      } else {
        tpl_node_string(b, a);
      }
    }
    break;
  case N_FIELD:
    for (size_t i = 0; i < n->nidents; i++) {
      tpl_buf_addc(b, '.');
      tpl_buf_adds(b, n->idents[i]);
    }
    break;
  case N_VARIABLE:
    for (size_t i = 0; i < n->nidents; i++) {
      if (i)
        tpl_buf_addc(b, '.');
      tpl_buf_adds(b, n->idents[i]);
    }
    break;
  case N_CHAIN:
    if (n->pipe->type == N_PIPE) {
      tpl_buf_addc(b, '(');
      pipe_string(b, n->pipe);
      tpl_buf_addc(b, ')');
    } else {
      tpl_node_string(b, n->pipe);
    }
    for (size_t i = 0; i < n->nidents; i++) {
      tpl_buf_addc(b, '.');
      tpl_buf_adds(b, n->idents[i]);
    }
    break;
  case N_IDENT:
    tpl_buf_adds(b, n->text);
    break;
  case N_DOT:
    tpl_buf_addc(b, '.');
    break;
  case N_NIL:
    tpl_buf_adds(b, "nil");
    break;
  case N_BOOL:
    tpl_buf_adds(b, n->boolean ? "true" : "false");
    break;
  case N_NUMBER:
  case N_STRING:
    tpl_buf_add(b, n->src, n->src_len);
    break;
  case N_END:
    tpl_buf_adds(b, "{{end}}");
    break;
  case N_ELSE:
    tpl_buf_adds(b, "{{else}}");
    break;
  default:
    break;
  }
}
