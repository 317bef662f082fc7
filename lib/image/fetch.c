/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Download a URL into a file descriptor (`import URL`, ADD URL), through
 * the HTTP client of base/http.c. */
#include <errno.h>
#include <string.h>

#include "base/fs.h"
#include "base/http.h"
#include "image/fetch.h"

static int to_fd(long status, const void *buf, size_t len, void *arg)
{
  (void)status;
  return berth_write_all(*(int *)arg, buf, len);
}

int berth_fetch_url(const char *url, int out_fd, berth_error_t *err)
{
  struct berth_http *h = NULL;
  struct berth_http_response resp;
  struct berth_http_request req = {.url = url, .body_fd = -1, .sink = to_fd, .sink_arg = &out_fd};
  if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
    return berth_error_set_plain(err, EINVAL, "unsupported URL `%s`: only http and https", url);
  if (berth_http_new(&h, err) < 0)
    return -1;
  int r = berth_http_do(h, &req, &resp, err);
  berth_http_free(h);
  if (r < 0)
    return berth_error_prefix(err, "download `%s`", url);
  if (resp.sink_failed)
    r = berth_error_set(err, errno, "download `%s`: write", url);
  else if (resp.status >= 400)
    r = berth_error_set_plain(err, EIO, "download `%s`: HTTP status %ld", url, resp.status);
  berth_http_response_clear(&resp);
  return r;
}
