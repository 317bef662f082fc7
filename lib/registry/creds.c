/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Registry credentials in docker's config.json (client.h), so that docker
 * and berth share logins.  Written atomically, mode 0600; other fields of the
 * file are kept as they are. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "registry/client.h"
#include "registry/registry-internal.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *berth_base64_encode(const void *data, size_t len)
{
  const unsigned char *p = data;
  char *out = malloc(4 * ((len + 2) / 3) + 1), *o = out;
  if (!out)
    abort();
  for (size_t i = 0; i < len; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < len ? p[i + 2] : 0);
    *o++ = b64[v >> 18 & 63];
    *o++ = b64[v >> 12 & 63];
    *o++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
    *o++ = i + 2 < len ? b64[v & 63] : '=';
  }
  *o = '\0';
  return out;
}

char *berth_base64_decode(const char *s, size_t *ret_len)
{
  size_t n = strlen(s), k = 0;
  unsigned v = 0;
  int bits = 0;
  char *out = malloc(n / 4 * 3 + 4);
  if (!out)
    abort();
  for (size_t i = 0; i < n; i++) {
    const char *c;
    if (s[i] == '=')
      break;
    if (!(c = strchr(b64, s[i])) || !s[i]) {
      free(out);
      return NULL;
    }
    v = v << 6 | (unsigned)(c - b64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[k++] = (char)(v >> bits & 0xff);
    }
  }
  out[k] = '\0';
  *ret_len = k;
  return out;
}

const char *berth_creds_key(const char *domain)
{
  return strcmp(domain, "docker.io") == 0 ? "https://index.docker.io/v1/" : domain;
}

/* The directory of config.json; caller frees. */
static char *config_dir(void)
{
  const char *d = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
  char *out;
  if (d && *d)
    return strdup(d);
  if (!home || !*home) {
    struct passwd *pw = getpwuid(getuid());
    home = pw ? pw->pw_dir : "/";
  }
  if (asprintf(&out, "%s/.docker", home) < 0)
    abort();
  return out;
}

static json_t *load_config(const char *dir, berth_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0;
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || berth_read_file_at(dfd, "config.json", &buf, &len, NULL) < 0)
    return json_object();
  json_t *j = berth_json_loadb(buf, len, "docker config.json", err);
  if (j && !json_is_object(j)) {
    json_decref(j);
    berth_error_set_plain(err, EINVAL, "docker config.json: not an object");
    return NULL;
  }
  return j;
}

/* An "auths" key matches the domain when it is the domain itself, or a URL
 * of it ("https://HOST", "http://HOST/v2/"), as docker's keys may be. */
static bool key_matches(const char *key, const char *domain)
{
  const char *want = berth_creds_key(domain), *p;
  size_t n;
  if (strcmp(key, want) == 0)
    return true;
  if (strcmp(domain, "docker.io") == 0)
    return false;
  p = strstr(key, "://") ? strstr(key, "://") + 3 : key;
  n = strcspn(p, "/");
  return n == strlen(domain) && strncmp(p, domain, n) == 0;
}

int berth_creds_get(const char *domain, char **ret_user, char **ret_password, berth_error_t *err)
{
  cleanup_free char *dir = config_dir();
  cleanup_json json_t *cfg = load_config(dir, err);
  const char *key;
  json_t *v;
  if (!cfg)
    return -1;
  json_object_foreach(json_object_get(cfg, "auths"), key, v)
  {
    const char *a = berth_json_str(v, "auth");
    size_t len;
    char *dec, *colon;
    if (!key_matches(key, domain) || !a || !*a)
      continue;
    if (!(dec = berth_base64_decode(a, &len)) || !(colon = strchr(dec, ':'))) {
      free(dec);
      return berth_error_set_plain(err, EINVAL, "docker config.json: invalid auth entry for `%s`", key);
    }
    *colon = '\0';
    *ret_user = strdup(dec);
    *ret_password = strdup(colon + 1);
    explicit_bzero(dec, len);
    free(dec);
    return 0;
  }
  return berth_error_set_plain(err, ENOENT, "no credentials for `%s`", domain);
}

static int save_config(const char *dir, json_t *cfg, berth_error_t *err)
{
  cleanup_close int dfd = -1;
  cleanup_free char *s = NULL;
  int rc;
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return berth_error_set(err, errno, "mkdir `%s`", dir);
  if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return berth_error_set(err, errno, "open `%s`", dir);
  s = json_dumps(cfg, JSON_INDENT(1) | JSON_SORT_KEYS);
  rc = berth_write_file_atomic(dfd, "config.json", s, strlen(s), 0600, err);
  explicit_bzero(s, strlen(s));
  return rc;
}

int berth_creds_store(const char *domain, const char *user, const char *password, berth_error_t *err)
{
  cleanup_free char *dir = config_dir(), *pair = NULL, *enc = NULL;
  cleanup_json json_t *cfg = load_config(dir, err);
  json_t *auths;
  if (!cfg)
    return -1;
  if (!json_is_object(auths = json_object_get(cfg, "auths"))) {
    auths = json_object();
    json_object_set_new(cfg, "auths", auths);
  }
  if (asprintf(&pair, "%s:%s", user, password) < 0)
    abort();
  enc = berth_base64_encode(pair, strlen(pair));
  explicit_bzero(pair, strlen(pair));
  json_object_set_new(auths, berth_creds_key(domain), json_pack("{s:s}", "auth", enc));
  explicit_bzero(enc, strlen(enc));
  return save_config(dir, cfg, err);
}

int berth_creds_erase(const char *domain, berth_error_t *err)
{
  cleanup_free char *dir = config_dir();
  cleanup_json json_t *cfg = load_config(dir, err);
  json_t *auths, *v;
  const char *key;
  void *tmp;
  bool found = false;
  if (!cfg)
    return -1;
  auths = json_object_get(cfg, "auths");
  json_object_foreach_safe(auths, tmp, key, v)
  {
    if (key_matches(key, domain)) {
      json_object_del(auths, key);
      found = true;
    }
  }
  if (!found)
    return berth_error_set_plain(err, ENOENT, "not logged in to `%s`", domain);
  return save_config(dir, cfg, err);
}
