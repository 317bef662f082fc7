/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Download a URL into a file descriptor (`import URL`), with libcurl. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/fs.h"
#include "image/fetch.h"

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
  int fd = *(int *)arg;
  return berth_write_all(fd, ptr, size * nmemb) < 0 ? 0 : size * nmemb;
}

int berth_fetch_url(const char *url, int out_fd, berth_error_t *err)
{
  CURL *c;
  CURLcode rc;
  long status = 0;
  char errbuf[CURL_ERROR_SIZE] = "";
  if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
    return berth_error_set_plain(err, EINVAL, "unsupported URL `%s`: only http and https", url);
  c = curl_easy_init();
  if (!c)
    return berth_error_set(err, ENOMEM, "initialise libcurl");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out_fd);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "berth");
  rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK)
    return berth_error_set_plain(err, EIO, "download `%s`: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
  if (status >= 400)
    return berth_error_set_plain(err, EIO, "download `%s`: HTTP status %ld", url, status);
  return 0;
}
