/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Download a URL into a file descriptor (`import URL`), with libcurl.
 *
 * libcurl is loaded with dlopen() on first use: linked in, it and its
 * thirty-odd dependencies (TLS stacks, LDAP, Kerberos, ...) cost every berth
 * command several milliseconds at start-up, and most commands (run, ps, stop)
 * never touch the network. */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/fs.h"
#include "image/fetch.h"

struct curl_api {
  CURL *(*easy_init)(void);
  CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
  CURLcode (*easy_perform)(CURL *);
  CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
  void (*easy_cleanup)(CURL *);
  const char *(*easy_strerror)(CURLcode);
};

static int load_curl(struct curl_api *api, berth_error_t *err)
{
  void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (!h)
    return berth_error_set_plain(err, ENOENT, "load libcurl: %s", dlerror());
  static const char *const names[] = {"curl_easy_init",    "curl_easy_setopt",  "curl_easy_perform",
                                      "curl_easy_getinfo", "curl_easy_cleanup", "curl_easy_strerror"};
  void **slots[] = {(void **)&api->easy_init,    (void **)&api->easy_setopt,  (void **)&api->easy_perform,
                    (void **)&api->easy_getinfo, (void **)&api->easy_cleanup, (void **)&api->easy_strerror};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!(*slots[i] = dlsym(h, names[i])))
      return berth_error_set_plain(err, ENOENT, "load libcurl: no %s", names[i]);
  return 0;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
  int fd = *(int *)arg;
  return berth_write_all(fd, ptr, size * nmemb) < 0 ? 0 : size * nmemb;
}

int berth_fetch_url(const char *url, int out_fd, berth_error_t *err)
{
  struct curl_api api;
  CURL *c;
  CURLcode rc;
  long status = 0;
  char errbuf[CURL_ERROR_SIZE] = "";
  if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
    return berth_error_set_plain(err, EINVAL, "unsupported URL `%s`: only http and https", url);
  if (load_curl(&api, err) < 0)
    return -1;
  c = api.easy_init();
  if (!c)
    return berth_error_set(err, ENOMEM, "initialise libcurl");
  api.easy_setopt(c, CURLOPT_URL, url);
  api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  api.easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  api.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
  api.easy_setopt(c, CURLOPT_WRITEDATA, &out_fd);
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_USERAGENT, "berth");
  rc = api.easy_perform(c);
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  api.easy_cleanup(c);
  if (rc != CURLE_OK)
    return berth_error_set_plain(err, EIO, "download `%s`: %s", url, errbuf[0] ? errbuf : api.easy_strerror(rc));
  if (status >= 400)
    return berth_error_set_plain(err, EIO, "download `%s`: HTTP status %ld", url, status);
  return 0;
}
