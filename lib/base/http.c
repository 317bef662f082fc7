/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTP through libcurl (http.h). */
#define BERTH_LOG_DOMAIN "http"
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/cleanup.h"
#include "base/http.h"

struct curl_api {
  CURLcode (*global_init)(long);
  CURL *(*easy_init)(void);
  CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
  CURLcode (*easy_perform)(CURL *);
  CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
  void (*easy_cleanup)(CURL *);
  void (*easy_reset)(CURL *);
  const char *(*easy_strerror)(CURLcode);
  struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
  void (*slist_free_all)(struct curl_slist *);
  char *(*easy_escape)(CURL *, const char *, int);
  void (*free)(void *);
};

static struct curl_api api;
static char load_error[256];
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load_curl(void)
{
  void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  static const char *const names[] = {"curl_global_init",  "curl_easy_init",     "curl_easy_setopt",
                                      "curl_easy_perform", "curl_easy_getinfo",  "curl_easy_cleanup",
                                      "curl_easy_reset",   "curl_easy_strerror", "curl_slist_append",
                                      "curl_slist_free_all", "curl_easy_escape", "curl_free"};
  void **slots[] = {(void **)&api.global_init,  (void **)&api.easy_init,     (void **)&api.easy_setopt,
                    (void **)&api.easy_perform, (void **)&api.easy_getinfo,  (void **)&api.easy_cleanup,
                    (void **)&api.easy_reset,   (void **)&api.easy_strerror, (void **)&api.slist_append,
                    (void **)&api.slist_free_all, (void **)&api.easy_escape, (void **)&api.free};
  if (!h) {
    snprintf(load_error, sizeof(load_error), "%s", dlerror());
    return;
  }
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!(*slots[i] = dlsym(h, names[i]))) {
      snprintf(load_error, sizeof(load_error), "no %s", names[i]);
      return;
    }
  if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    snprintf(load_error, sizeof(load_error), "curl_global_init failed");
}

struct berth_http {
  CURL *c;
};

int berth_http_new(struct berth_http **ret, berth_error_t *err)
{
  struct berth_http *h;
  (void)pthread_once(&load_once, load_curl);
  if (load_error[0])
    return berth_error_set_plain(err, ENOENT, "load libcurl: %s", load_error);
  if (!(h = calloc(1, sizeof(*h))))
    abort();
  if (!(h->c = api.easy_init())) {
    free(h);
    return berth_error_set(err, ENOMEM, "initialise libcurl");
  }
  *ret = h;
  return 0;
}

void berth_http_free(struct berth_http *h)
{
  if (!h)
    return;
  api.easy_cleanup(h->c);
  free(h);
}

char *berth_http_escape(const char *s)
{
  char *e, *out;
  (void)pthread_once(&load_once, load_curl);
  if (load_error[0] || !(e = api.easy_escape(NULL, s, 0)))
    abort();
  out = strdup(e);
  api.free(e);
  if (!out)
    abort();
  return out;
}

void berth_http_response_clear(struct berth_http_response *r)
{
  free(r->body);
  free(r->www_authenticate);
  free(r->location);
  free(r->content_type);
  free(r->docker_digest);
  free(r->link);
  memset(r, 0, sizeof(*r));
  r->content_length = -1;
}

struct xfer {
  const struct berth_http_request *req;
  struct berth_http_response *resp;
  size_t cap;
  bool too_big;
  int64_t sent; /* request body bytes handed to curl */
};

static void set_header(char **slot, const char *v, size_t len)
{
  free(*slot);
  if (!(*slot = strndup(v, len)))
    abort();
}

static size_t header_cb(char *buf, size_t size, size_t n, void *arg)
{
  struct xfer *x = arg;
  size_t len = size * n, nlen;
  const char *colon, *v;
  long st;
  if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
    /* A new response (after a redirect or a 100): forget the last one's headers. */
    const char *sp = memchr(buf, ' ', len);
    char **slots[] = {&x->resp->www_authenticate, &x->resp->location, &x->resp->content_type,
                      &x->resp->docker_digest, &x->resp->link};
    if (sp && sscanf(sp, " %ld", &st) == 1)
      x->resp->status = st;
    for (size_t i = 0; i < sizeof slots / sizeof *slots; i++) {
      free(*slots[i]);
      *slots[i] = NULL;
    }
    x->resp->content_length = -1;
    return len;
  }
  if (!(colon = memchr(buf, ':', len)))
    return len;
  nlen = (size_t)(colon - buf);
  v = colon + 1;
  while (v < buf + len && (*v == ' ' || *v == '\t'))
    v++;
  size_t vlen = (size_t)(buf + len - v);
  while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
    vlen--;
#define IS(name) (nlen == strlen(name) && strncasecmp(buf, name, nlen) == 0)
  if (IS("www-authenticate"))
    set_header(&x->resp->www_authenticate, v, vlen);
  else if (IS("location"))
    set_header(&x->resp->location, v, vlen);
  else if (IS("content-type"))
    set_header(&x->resp->content_type, v, vlen);
  else if (IS("docker-content-digest"))
    set_header(&x->resp->docker_digest, v, vlen);
  else if (IS("link"))
    set_header(&x->resp->link, v, vlen);
  else if (IS("content-length"))
    x->resp->content_length = strtoll(v, NULL, 10);
#undef IS
  return len;
}

static size_t write_cb(char *buf, size_t size, size_t n, void *arg)
{
  struct xfer *x = arg;
  size_t len = size * n;
  struct berth_http_response *r = x->resp;
  if (x->req->sink && r->status >= 200 && r->status < 300) {
    if (x->req->sink(r->status, buf, len, x->req->sink_arg) < 0) {
      r->sink_failed = true;
      return 0;
    }
    return len;
  }
  if (r->body_len + len > x->cap) {
    x->too_big = true;
    return 0;
  }
  if (!(r->body = realloc(r->body, r->body_len + len + 1)))
    abort();
  memcpy(r->body + r->body_len, buf, len);
  r->body_len += len;
  r->body[r->body_len] = '\0';
  return len;
}

static size_t read_cb(char *buf, size_t size, size_t n, void *arg)
{
  struct xfer *x = arg;
  size_t want = size * n;
  int64_t left = (int64_t)x->req->body_len - x->sent;
  if (left <= 0)
    return 0;
  if ((int64_t)want > left)
    want = (size_t)left;
  if (x->req->body_fd >= 0) {
    ssize_t got;
    do
      got = read(x->req->body_fd, buf, want);
    while (got < 0 && errno == EINTR);
    if (got <= 0)
      return CURL_READFUNC_ABORT;
    want = (size_t)got;
  } else {
    memcpy(buf, (const char *)x->req->body + x->sent, want);
  }
  x->sent += (int64_t)want;
  return want;
}

static struct curl_slist *build_headers(const struct berth_http_request *req)
{
  struct curl_slist *l = api.slist_append(NULL, "Expect:");
  char range[64];
  for (size_t i = 0; req->headers && req->headers[i]; i++)
    l = api.slist_append(l, req->headers[i]);
  if (req->authorization) {
    cleanup_free char *a = NULL;
    if (asprintf(&a, "Authorization: %s", req->authorization) < 0)
      abort();
    l = api.slist_append(l, a);
  }
  if (req->range_from > 0) {
    snprintf(range, sizeof(range), "Range: bytes=%lld-", (long long)req->range_from);
    l = api.slist_append(l, range);
  }
  return l;
}

static void set_method(CURL *c, const struct berth_http_request *req, struct xfer *x)
{
  const char *m = req->method ? req->method : "GET";
  bool has_body = req->body || req->body_fd >= 0;
  if (strcmp(m, "HEAD") == 0) {
    api.easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (strcmp(m, "GET") != 0) {
    api.easy_setopt(c, CURLOPT_UPLOAD, 1L);
    api.easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    api.easy_setopt(c, CURLOPT_READDATA, x);
    api.easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(has_body ? req->body_len : 0));
    if (strcmp(m, "PUT") != 0)
      api.easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
  }
}

int berth_http_do(struct berth_http *h, const struct berth_http_request *req, struct berth_http_response *resp,
                  berth_error_t *err)
{
  struct xfer x = {.req = req, .resp = resp, .cap = req->max_body ? req->max_body : 64 * 1024};
  char errbuf[CURL_ERROR_SIZE] = "";
  struct curl_slist *hdrs;
  bool https = strncmp(req->url, "https://", 8) == 0;
  CURLcode rc;
  CURL *c = h->c;
  memset(resp, 0, sizeof(*resp));
  resp->content_length = -1;
  if (!https && strncmp(req->url, "http://", 7) != 0)
    return berth_error_set_plain(err, EINVAL, "unsupported URL `%s`", req->url);
  api.easy_reset(c);
  hdrs = build_headers(req);
  api.easy_setopt(c, CURLOPT_URL, req->url);
  api.easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  api.easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  api.easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
  api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  api.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
  api.easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
  api.easy_setopt(c, CURLOPT_HEADERDATA, &x);
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
  api.easy_setopt(c, CURLOPT_WRITEDATA, &x);
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  /* A stalled transfer (under 1 byte/s for a minute) fails rather than hangs. */
  api.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  api.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  api.easy_setopt(c, CURLOPT_USERAGENT, "berth");
  api.easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024);
  set_method(c, req, &x);
  rc = api.easy_perform(c);
  api.slist_free_all(hdrs);
  if (rc == CURLE_OK)
    return 0;
  if (x.too_big)
    return berth_error_set_plain(err, EFBIG, "%s: response body larger than %zu bytes", req->url, x.cap);
  if (resp->sink_failed)
    return -1; /* the sink's own error */
  return berth_error_set_plain(err, rc == CURLE_COULDNT_CONNECT ? ECONNREFUSED : EIO, "%s: %s", req->url,
                               errbuf[0] ? errbuf : api.easy_strerror(rc));
}
