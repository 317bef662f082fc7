/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `login`, `logout` and `search`. */
#define BERTH_LOG_DOMAIN "registry"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "registry/client.h"

char *berth_registry_server_name(const char *server)
{
  const char *p = server && *server ? server : "docker.io";
  char *out;
  if (strncmp(p, "https://", 8) == 0)
    p += 8;
  else if (strncmp(p, "http://", 7) == 0)
    p += 7;
  if (!(out = strndup(p, strcspn(p, "/"))))
    abort();
  if (strcmp(out, "index.docker.io") == 0 || strcmp(out, "registry-1.docker.io") == 0) {
    free(out);
    out = strdup("docker.io");
  }
  return out;
}

int berth_registry_login(const char *server, const char *user, const char *password, berth_error_t *err)
{
  cleanup_free char *domain = berth_registry_server_name(server), *url = NULL;
  struct berth_registry_opts opts = {.user = user, .password = password};
  struct berth_registry *reg = NULL;
  struct berth_http *h = NULL;
  struct berth_http_request req = {.body_fd = -1};
  struct berth_http_response resp = {0};
  int rc = -1;
  if (!user || !*user || !password || !*password)
    return berth_error_set_plain(err, EINVAL, "Username and password required");
  if (berth_http_new(&h, err) < 0 || berth_registry_open(domain, &opts, h, &reg, err) < 0)
    goto out;
  if (asprintf(&url, "%s/v2/", reg->base) < 0)
    abort();
  req.url = url;
  if (berth_registry_do(reg, h, NULL, &req, &resp, err) < 0)
    goto out;
  if (resp.status != 200) {
    berth_registry_status_error(&resp, "login", err);
    goto out;
  }
  rc = berth_creds_store(domain, user, password, err);
out:
  berth_http_response_clear(&resp);
  berth_http_free(h);
  berth_registry_free(reg);
  return rc;
}

int berth_registry_logout(const char *server, berth_error_t *err)
{
  cleanup_free char *domain = berth_registry_server_name(server);
  return berth_creds_erase(domain, err);
}

/* ---- search ---- */

static bool looks_like_host(const char *s, size_t n)
{
  return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && strncmp(s, "localhost", 9) == 0);
}

static json_t *result(const char *name, const char *desc, json_int_t stars, bool official, bool automated)
{
  return json_pack("{s:s, s:s, s:I, s:b, s:b}", "name", name, "description", desc ? desc : "", "star_count", stars,
                   "is_official", official, "is_automated", automated);
}

static json_t *search_v1(const json_t *body, int limit)
{
  json_t *out = json_array(), *v;
  size_t i;
  json_array_foreach(json_object_get(body, "results"), i, v)
  {
    const char *name = berth_json_str(v, "name");
    if (!name || (int)json_array_size(out) >= limit)
      continue;
    json_array_append_new(out, result(name, berth_json_str(v, "description"), berth_json_int(v, "star_count", 0),
                                      json_is_true(json_object_get(v, "is_official")),
                                      json_is_true(json_object_get(v, "is_automated"))));
  }
  return out;
}

/* The next page of a paginated listing: Link: </v2/_catalog?last=x&n=1000>; rel="next". */
static char *next_page(const struct berth_registry *reg, const char *link)
{
  const char *lt = link ? strchr(link, '<') : NULL, *gt = lt ? strchr(lt, '>') : NULL;
  char *out;
  if (!gt || !strstr(gt, "rel=\"next\"") || lt[1] != '/')
    return NULL;
  if (asprintf(&out, "%s%.*s", reg->base, (int)(gt - lt - 1), lt + 1) < 0)
    abort();
  return out;
}

static int catalog_page(struct berth_registry *reg, struct berth_http *h, const char *url, json_t **ret,
                        char **ret_next, berth_error_t *err)
{
  const struct berth_registry_get g = {
      .url = url, .scope = "registry:catalog:*", .what = "search", .doc = "catalog", .missing_ok = true};
  cleanup_free char *link = NULL;
  int got = berth_registry_get_json(reg, h, &g, ret, &link, err);
  if (got == 0)
    return berth_error_set_plain(err, ENOENT, "search: the registry has neither a search API nor a catalog");
  if (got > 0)
    *ret_next = next_page(reg, link);
  return got < 0 ? -1 : 0;
}

/* Walk the catalog (at most 100 pages of 1000) for names holding the term. */
static json_t *search_catalog(struct berth_registry *reg, struct berth_http *h, const char *host, const char *term,
                              int limit, berth_error_t *err)
{
  json_t *out = json_array();
  char *url = NULL;
  if (asprintf(&url, "%s/v2/_catalog?n=1000", reg->base) < 0)
    abort();
  for (int page = 0; url && page < 100 && (int)json_array_size(out) < limit; page++) {
    cleanup_json json_t *body = NULL;
    cleanup_free char *this = url;
    size_t i;
    json_t *v;
    url = NULL;
    if (catalog_page(reg, h, this, &body, &url, err) < 0) {
      json_decref(out);
      return NULL;
    }
    json_array_foreach(json_object_get(body, "repositories"), i, v)
    {
      const char *name = json_string_value(v);
      cleanup_free char *full = NULL;
      if (!name || !strstr(name, term) || (int)json_array_size(out) >= limit)
        continue;
      if (asprintf(&full, "%s/%s", host, name) < 0)
        abort();
      json_array_append_new(out, result(full, "", 0, false, false));
    }
  }
  free(url);
  return out;
}

json_t *berth_registry_search(const char *term, int limit, berth_error_t *err)
{
  const char *slash = strchr(term, '/');
  cleanup_free char *domain = NULL, *url = NULL, *q = NULL;
  const char *what = term;
  struct berth_registry *reg = NULL;
  struct berth_http *h = NULL;
  cleanup_json json_t *body = NULL;
  /* a 404: the registry has no search API */
  struct berth_registry_get g = {.what = "search", .doc = "search response", .missing_ok = true};
  json_t *out = NULL;
  int got;
  if (limit < 1 || limit > 100) {
    berth_error_set_plain(err, EINVAL, "limit %d is outside the range of [1, 100]", limit);
    return NULL;
  }
  if (slash && looks_like_host(term, (size_t)(slash - term))) {
    domain = strndup(term, (size_t)(slash - term));
    what = slash + 1;
  } else {
    domain = strdup("docker.io");
  }
  if (berth_http_new(&h, err) < 0 || berth_registry_open(domain, NULL, h, &reg, err) < 0)
    goto out;
  q = berth_http_escape(what);
  if (asprintf(&url, "%s/v1/search?q=%s&n=%d",
               strcmp(domain, "docker.io") == 0 ? "https://index.docker.io" : reg->base, q, limit) < 0)
    abort();
  g.url = url;
  if ((got = berth_registry_get_json(reg, h, &g, &body, NULL, err)) < 0)
    goto out;
  if (got == 1) {
    out = search_v1(body, limit);
    goto out;
  }
  out = search_catalog(reg, h, domain, what, limit, err);
out:
  berth_http_free(h);
  berth_registry_free(reg);
  return out;
}
