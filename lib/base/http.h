/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTP (registries, `import URL`, `ADD URL`): libcurl, loaded with dlopen()
 * on first use (linked in, it and its thirty-odd dependencies would cost
 * every command milliseconds at start-up, and most never touch the network),
 * one connection-keeping handle per thread.
 * Authorization is whatever the caller passes; curl never sends it to
 * another host on a redirect, and an https request never follows a redirect
 * to plain http. */
#ifndef BERTH_BASE_HTTP_H
#define BERTH_BASE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <berth/error.h>

struct berth_http; /* one per thread */

struct berth_http_request {
  const char *method;                /* NULL: GET; "HEAD", "PUT", "POST", "PATCH", "DELETE" */
  const char *url;
  const char *authorization;         /* "Basic ..." / "Bearer ...", or NULL */
  const char *const *headers;        /* NULL-terminated "Name: value" lines, or NULL */
  const void *body;                  /* request body from memory ... */
  size_t body_len;
  int body_fd;                       /* ... or from this fd (-1: none), body_len bytes */
  int64_t range_from;                /* > 0: ask for bytes from this offset on */
  size_t max_body;                   /* cap on a buffered body (0: 64 KiB); larger is EFBIG */
  /* Stream a 2xx body (status given) here instead of buffering it: return
   * < 0 to abort (the error is then the sink's to report). */
  int (*sink)(long status, const void *buf, size_t len, void *arg);
  void *sink_arg;
};

struct berth_http_response {
  long status;
  char *body; /* NUL-terminated buffered body: always for non-2xx, for 2xx without a sink */
  size_t body_len;
  char *www_authenticate, *location, *content_type, *docker_digest, *link;
  int64_t content_length; /* -1 when not given */
  bool sink_failed;       /* the sink returned < 0 */
};

int berth_http_new(struct berth_http **ret, berth_error_t *err);
void berth_http_free(struct berth_http *h);
/* Perform the request; any HTTP status is a success here (check resp->status);
 * transport failures set err (EIO, or ECONNREFUSED when nothing listens).
 * resp is cleared first; release it with berth_http_response_clear(). */
int berth_http_do(struct berth_http *h, const struct berth_http_request *req, struct berth_http_response *resp,
                  berth_error_t *err);
void berth_http_response_clear(struct berth_http_response *resp);
/* Percent-encode a query parameter value; caller frees. */
char *berth_http_escape(const char *s);

#endif
