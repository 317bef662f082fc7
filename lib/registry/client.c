/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Registry endpoints, auth challenges and tokens (client.h).  Credentials
 * and tokens are never logged. */
#define BERTH_LOG_DOMAIN "registry"
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <berth/log.h>

#include "base/cleanup.h"
#include "base/config.h"
#include "base/json.h"
#include "registry/client.h"
#include "registry/registry-internal.h"

/* ---- challenges ---- */

void berth_challenge_clear(struct berth_challenge *c)
{
  free(c->scheme);
  free(c->realm);
  free(c->service);
  free(c->scope);
  memset(c, 0, sizeof(*c));
}

/* A token or quoted-string value at *p; advances *p past it. */
static char *challenge_value(const char **p)
{
  const char *s = *p;
  char *out = malloc(strlen(s) + 1), *o = out;
  if (!out)
    abort();
  if (*s == '"') {
    for (s++; *s && *s != '"'; s++) {
      if (*s == '\\' && s[1])
        s++;
      *o++ = *s;
    }
    if (*s == '"')
      s++;
  } else {
    while (*s && *s != ',' && *s != ' ' && *s != '\t')
      *o++ = *s++;
  }
  *o = '\0';
  *p = s;
  return out;
}

int berth_challenge_parse(const char *header, struct berth_challenge *ret, berth_error_t *err)
{
  const char *p = header;
  size_t n;
  memset(ret, 0, sizeof(*ret));
  while (*p == ' ')
    p++;
  n = strcspn(p, " \t");
  if (n == 0)
    return berth_error_set_plain(err, EINVAL, "invalid WWW-Authenticate challenge");
  if (!(ret->scheme = strndup(p, n)))
    abort();
  for (char *c = ret->scheme; *c; c++)
    *c = (char)tolower((unsigned char)*c);
  p += n;
  while (*p) {
    char **slot = NULL;
    size_t klen;
    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    klen = strcspn(p, "= \t,");
    if (p[klen] != '=')
      break; /* the next challenge, or junk: only the first one counts */
    if (klen == 5 && strncasecmp(p, "realm", 5) == 0)
      slot = &ret->realm;
    else if (klen == 7 && strncasecmp(p, "service", 7) == 0)
      slot = &ret->service;
    else if (klen == 5 && strncasecmp(p, "scope", 5) == 0)
      slot = &ret->scope;
    p += klen + 1;
    char *v = challenge_value(&p);
    if (slot && !*slot)
      *slot = v;
    else
      free(v);
  }
  if (strcmp(ret->scheme, "bearer") == 0 && (!ret->realm || !*ret->realm)) {
    berth_challenge_clear(ret);
    return berth_error_set_plain(err, EINVAL, "invalid WWW-Authenticate challenge: bearer without a realm");
  }
  return 0;
}

/* ---- hosts ---- */

static char *host_only(const char *hostport)
{
  const char *end;
  if (hostport[0] == '[') {
    end = strchr(hostport, ']');
    return strndup(hostport + 1, end ? (size_t)(end - hostport - 1) : strlen(hostport + 1));
  }
  end = strchr(hostport, ':');
  return strndup(hostport, end ? (size_t)(end - hostport) : strlen(hostport));
}

static bool is_loopback(const char *hostport)
{
  cleanup_free char *h = host_only(hostport);
  struct in_addr a4;
  struct in6_addr a6;
  if (!h)
    return false;
  if (inet_pton(AF_INET, h, &a4) == 1)
    return (ntohl(a4.s_addr) >> 24) == 127;
  if (inet_pton(AF_INET6, h, &a6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&a6);
  return strcmp(h, "localhost") == 0;
}

bool berth_registry_is_insecure(const char *host)
{
  cleanup_json json_t *cfg = NULL;
  cleanup_free char *bare = NULL;
  cleanup_error berth_error_t err = NULL;
  size_t i;
  json_t *v;
  if (is_loopback(host))
    return true;
  if (!(cfg = berth_config_load(&err))) {
    berth_warn("%s; taking %s as a secure registry", err->msg, host);
    return false;
  }
  bare = host_only(host);
  json_array_foreach(json_object_get(cfg, "insecure-registries"), i, v)
  {
    const char *s = json_string_value(v);
    if (s && (strcmp(s, host) == 0 || (bare && strcmp(s, bare) == 0)))
      return true;
  }
  return false;
}

/* The host of an http(s) URL ("host:port"); caller frees. */
static char *url_host(const char *url)
{
  const char *p = strstr(url, "://");
  p = p ? p + 3 : url;
  return strndup(p, strcspn(p, "/?#"));
}

/* ---- the endpoint ---- */

void berth_registry_free(struct berth_registry *r)
{
  if (!r)
    return;
  free(r->domain);
  free(r->host);
  free(r->base);
  if (r->password)
    explicit_bzero(r->password, strlen(r->password));
  free(r->user);
  free(r->password);
  berth_challenge_clear(&r->challenge);
  for (size_t i = 0; i < r->n_tokens; i++) {
    free(r->tokens[i].scope);
    free(r->tokens[i].token);
  }
  free(r->tokens);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

static void learn_challenge(struct berth_registry *r, const struct berth_http_response *resp)
{
  struct berth_challenge c;
  cleanup_error berth_error_t ignored = NULL;
  if (!resp->www_authenticate || berth_challenge_parse(resp->www_authenticate, &c, &ignored) < 0)
    return;
  pthread_mutex_lock(&r->lock);
  berth_challenge_clear(&r->challenge);
  r->challenge = c;
  pthread_mutex_unlock(&r->lock);
}

static int ping(struct berth_registry *r, struct berth_http *h, bool insecure, berth_error_t *err)
{
  const char *schemes[] = {"https", "http"};
  insecure = insecure || berth_registry_is_insecure(r->host);
  for (size_t i = 0; i < (insecure ? 2 : 1); i++) {
    cleanup_free char *url = NULL;
    struct berth_http_request req = {.body_fd = -1};
    struct berth_http_response resp;
    cleanup_error berth_error_t e = NULL;
    free(r->base);
    if (asprintf(&r->base, "%s://%s", schemes[i], r->host) < 0 || asprintf(&url, "%s/v2/", r->base) < 0)
      abort();
    req.url = url;
    if (berth_http_do(h, &req, &resp, &e) < 0) {
      if (i + 1 < (insecure ? 2 : 1))
        continue;
      *err = steal_ptr(&e);
      return -1;
    }
    if (resp.status == 401)
      learn_challenge(r, &resp);
    berth_http_response_clear(&resp);
    return 0;
  }
  return 0;
}

int berth_registry_open(const char *domain, const struct berth_registry_opts *opts, struct berth_http *h,
                        struct berth_registry **ret, berth_error_t *err)
{
  struct berth_registry *r = calloc(1, sizeof(*r));
  if (!r)
    abort();
  pthread_mutex_init(&r->lock, NULL);
  r->domain = strdup(domain);
  r->host = strdup(strcmp(domain, "docker.io") == 0 ? "registry-1.docker.io" : domain);
  if (opts && opts->user) {
    r->user = strdup(opts->user);
    r->password = strdup(opts->password ? opts->password : "");
  } else if (!opts || !opts->anonymous) {
    cleanup_error berth_error_t e = NULL;
    if (berth_creds_get(domain, &r->user, &r->password, &e) < 0 && e->code != ENOENT) {
      *err = steal_ptr(&e);
      berth_registry_free(r);
      return -1;
    }
  }
  if (ping(r, h, opts && opts->insecure, err) < 0) {
    berth_registry_free(r);
    return -1;
  }
  *ret = r;
  return 0;
}

static char *basic_auth(const struct berth_registry *r)
{
  cleanup_free char *pair = NULL;
  char *b64, *out;
  if (asprintf(&pair, "%s:%s", r->user, r->password) < 0)
    abort();
  b64 = berth_base64_encode(pair, strlen(pair));
  explicit_bzero(pair, strlen(pair));
  if (asprintf(&out, "Basic %s", b64) < 0)
    abort();
  free(b64);
  return out;
}

/* The Authorization value for a request in `scope`, or NULL; caller frees. */
static char *current_auth(struct berth_registry *r, const char *scope)
{
  char *out = NULL;
  pthread_mutex_lock(&r->lock);
  if (r->challenge.scheme && strcmp(r->challenge.scheme, "basic") == 0 && r->user) {
    out = basic_auth(r);
  } else if (r->challenge.scheme && strcmp(r->challenge.scheme, "bearer") == 0) {
    for (size_t i = 0; i < r->n_tokens; i++)
      if (strcmp(r->tokens[i].scope, scope ? scope : "") == 0 && asprintf(&out, "Bearer %s", r->tokens[i].token) < 0)
        abort();
  }
  pthread_mutex_unlock(&r->lock);
  return out;
}

static bool token_is_valid(const char *t)
{
  if (!t || !*t)
    return false;
  for (; *t; t++)
    if (*t <= ' ' || *t > '~')
      return false;
  return true;
}

/* Keep the token for a scope, replacing one that was refused (expired). */
static void keep_token(struct berth_registry *r, const char *scope, const char *token)
{
  size_t i;
  for (i = 0; i < r->n_tokens && strcmp(r->tokens[i].scope, scope) != 0; i++)
    ;
  if (i == r->n_tokens) {
    if (!(r->tokens = realloc(r->tokens, (r->n_tokens + 1) * sizeof(*r->tokens))))
      abort();
    r->tokens[r->n_tokens++] = (struct berth_registry_token){.scope = strdup(scope), .token = NULL};
  }
  free(r->tokens[i].token);
  r->tokens[i].token = strdup(token);
}

/* "&scope=A&scope=B" for a scope of space-separated parts; caller frees. */
static char *scope_params(const char *scope)
{
  char *out = strdup(""), *copy = strdup(scope ? scope : ""), *save = NULL;
  for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    cleanup_free char *esc = berth_http_escape(tok), *prev = out;
    if (asprintf(&out, "%s&scope=%s", prev, esc) < 0)
      abort();
  }
  free(copy);
  return out;
}

/* g's document from the response to its request; returns what
 * berth_registry_get_json does. */
static int response_json(const struct berth_http_response *resp, const struct berth_registry_get *g, json_t **ret,
                         berth_error_t *err)
{
  if (resp->status == 404 && g->missing_ok)
    return 0;
  if (resp->status != 200)
    return berth_registry_status_error(resp, g->what, err);
  if (!(*ret = berth_json_loadb(resp->body ? resp->body : "", resp->body_len, g->doc, err)))
    return -1;
  return 1;
}

/* GET REALM?service=S&scope=SCOPE (with the credentials, when there are
 * any) and keep the token for the scope. */
static int fetch_token(struct berth_registry *r, struct berth_http *h, const char *scope, berth_error_t *err)
{
  struct berth_challenge c = {0};
  cleanup_free char *url = NULL, *auth = NULL, *rhost = NULL, *svc = NULL, *sc = NULL;
  struct berth_http_request req = {.body_fd = -1};
  struct berth_http_response resp;
  const struct berth_registry_get g = {.what = "get a token", .doc = "token response"};
  cleanup_json json_t *j = NULL;
  const char *tok;
  int rc = -1;
  pthread_mutex_lock(&r->lock);
  c.realm = strdup(r->challenge.realm);
  c.service = r->challenge.service ? strdup(r->challenge.service) : NULL;
  if (r->user)
    auth = basic_auth(r);
  pthread_mutex_unlock(&r->lock);
  rhost = url_host(c.realm);
  if (strncmp(c.realm, "https://", 8) != 0 && !(strncmp(c.realm, "http://", 7) == 0 && berth_registry_is_insecure(rhost))) {
    berth_error_set_plain(err, EACCES, "refusing token realm `%s`: https is required", c.realm);
    berth_challenge_clear(&c);
    return -1;
  }
  svc = c.service ? berth_http_escape(c.service) : NULL;
  sc = scope_params(scope);
  if (asprintf(&url, "%s%sservice=%s%s", c.realm, strchr(c.realm, '?') ? "&" : "?", svc ? svc : "", sc) < 0)
    abort();
  berth_challenge_clear(&c);
  req.url = url;
  req.authorization = auth;
  req.max_body = 1 << 20;
  if (berth_http_do(h, &req, &resp, err) < 0)
    return berth_error_prefix(err, "get a token");
  if (resp.status == 401 || resp.status == 403)
    rc = berth_error_set_plain(err, EACCES, "unauthorized: %s",
                               r->user ? "incorrect username or password" : "authentication required");
  else if (response_json(&resp, &g, &j, err) < 0)
    rc = -1;
  else if (!token_is_valid(tok = berth_json_str(j, "token")) && !token_is_valid(tok = berth_json_str(j, "access_token")))
    rc = berth_error_set_plain(err, EACCES, "get a token: the response holds no valid token");
  else {
    pthread_mutex_lock(&r->lock);
    keep_token(r, scope ? scope : "", tok);
    pthread_mutex_unlock(&r->lock);
    rc = 0;
  }
  if (auth)
    explicit_bzero(auth, strlen(auth));
  berth_http_response_clear(&resp);
  return rc;
}

int berth_registry_status_error(const struct berth_http_response *resp, const char *what, berth_error_t *err)
{
  cleanup_json json_t *j = resp->body ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
  json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
  const char *msg = berth_json_str(e0, "message");
  const char *code = berth_json_str(e0, "code");
  int ec = resp->status == 404 ? ENOENT : resp->status == 401 || resp->status == 403 ? EACCES : EIO;
  const char *sep = what ? ": " : "";
  cleanup_free char *lower = code ? strdup(code) : NULL;
  for (char *c = lower; c && *c; c++)
    *c = *c == '_' ? ' ' : (char)tolower((unsigned char)*c);
  if (!what)
    what = "";
  if (msg)
    return berth_error_set_plain(err, ec, "%s%s%s: %s", what, sep, lower ? lower : "error", msg);
  if (ec == EACCES)
    return berth_error_set_plain(err, ec, "%s%sunauthorized: authentication required", what, sep);
  return berth_error_set_plain(err, ec, "%s%sunexpected HTTP status %ld", what, sep, resp->status);
}

int berth_registry_do(struct berth_registry *r, struct berth_http *h, const char *scope,
                      const struct berth_http_request *req, struct berth_http_response *resp, berth_error_t *err)
{
  off_t body_start = req->body_fd >= 0 ? lseek(req->body_fd, 0, SEEK_CUR) : 0;
  for (int attempt = 0;; attempt++) {
    struct berth_http_request q = *req;
    cleanup_free char *auth = current_auth(r, scope);
    bool bearer, basic;
    q.authorization = auth;
    if (req->body_fd >= 0 && attempt && lseek(req->body_fd, body_start, SEEK_SET) < 0)
      return berth_error_set(err, errno, "rewind the upload");
    if (berth_http_do(h, &q, resp, err) < 0)
      return -1;
    if (auth)
      explicit_bzero(auth, strlen(auth));
    if (resp->status != 401)
      return 0;
    if (attempt > 0)
      break;
    learn_challenge(r, resp);
    pthread_mutex_lock(&r->lock);
    bearer = r->challenge.scheme && strcmp(r->challenge.scheme, "bearer") == 0;
    /* Basic credentials already sent and refused are not sent again. */
    basic = r->challenge.scheme && strcmp(r->challenge.scheme, "basic") == 0 && r->user && !auth;
    pthread_mutex_unlock(&r->lock);
    if (!bearer && !basic)
      break;
    berth_http_response_clear(resp);
    if (bearer && fetch_token(r, h, scope, err) < 0)
      return -1;
  }
  berth_registry_status_error(resp, NULL, err);
  berth_http_response_clear(resp);
  return -1;
}

int berth_registry_get_json(struct berth_registry *r, struct berth_http *h, const struct berth_registry_get *g,
                            json_t **ret, char **ret_link, berth_error_t *err)
{
  struct berth_http_request req = {.url = g->url, .body_fd = -1, .max_body = 16 << 20};
  struct berth_http_response resp;
  int rc;
  if (berth_registry_do(r, h, g->scope, &req, &resp, err) < 0)
    return -1;
  rc = response_json(&resp, g, ret, err);
  if (rc > 0 && ret_link)
    *ret_link = steal_ptr(&resp.link);
  berth_http_response_clear(&resp);
  return rc;
}
