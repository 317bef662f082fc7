/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Docker image references: a hand-written matcher for distribution/reference's
 * grammar (no regex engine, linear in the input), docker's normalization
 * (splitDockerDomain) and its error texts, plus the string forms docker prints. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/digest.h"
#include "oci/reference.h"

#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_PREFIX "library/"

static bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
static bool is_word(char c) { return is_alnum(c) || c == '_'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_xdigit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static bool is_lower_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }

static char *xstrndup(const char *s, size_t n)
{
  char *r = strndup(s, n);
  if (!r)
    abort();
  return r;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
  char *r = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&r, fmt, ap) < 0)
    abort();
  va_end(ap);
  return r;
}

/* label ("." label)*, label = [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9] */
static bool host_name_is_valid(const char *s, size_t n)
{
  size_t i = 0;
  if (n == 0)
    return false;
  while (i < n) {
    size_t start = i;
    while (i < n && (is_alnum(s[i]) || s[i] == '-'))
      i++;
    if (i == start || s[start] == '-' || s[i - 1] == '-')
      return false;
    if (i < n) {
      if (s[i] != '.' || i + 1 == n)
        return false;
      i++;
    }
  }
  return true;
}

/* "[" [A-Fa-f0-9:]+ "]" */
static bool ipv6_is_valid(const char *s, size_t n)
{
  if (n < 3 || s[0] != '[' || s[n - 1] != ']')
    return false;
  for (size_t i = 1; i + 1 < n; i++)
    if (!is_xdigit(s[i]) && s[i] != ':')
      return false;
  return true;
}

/* host [":" [0-9]+] */
static bool domain_is_valid(const char *s, size_t n)
{
  size_t host_len = n;
  const char *colon;
  if (n > 0 && s[0] == '[') {
    const char *close = memchr(s, ']', n);
    if (!close)
      return false;
    host_len = (size_t)(close - s) + 1;
    if (!ipv6_is_valid(s, host_len))
      return false;
  } else {
    colon = memchr(s, ':', n);
    if (colon)
      host_len = (size_t)(colon - s);
    if (!host_name_is_valid(s, host_len))
      return false;
  }
  if (host_len == n)
    return true;
  if (s[host_len] != ':' || host_len + 1 == n)
    return false;
  for (size_t i = host_len + 1; i < n; i++)
    if (!is_digit(s[i]))
      return false;
  return true;
}

/* Length of the separator at s (".", "_", "__" or "-"+), 0 if none. */
static size_t separator_len(const char *s, size_t n)
{
  size_t i = 0;
  if (n == 0)
    return 0;
  if (s[0] == '.')
    return 1;
  if (s[0] == '_')
    return n > 1 && s[1] == '_' ? 2 : 1;
  while (i < n && s[i] == '-')
    i++;
  return i;
}

/* component ("/" component)*, component = alnum+ (separator alnum+)* */
static bool path_is_valid(const char *s, size_t n)
{
  size_t i = 0;
  for (;;) {
    size_t start = i;
    while (i < n && is_lower_alnum(s[i]))
      i++;
    if (i == start)
      return false;
    if (i == n)
      return true;
    if (s[i] == '/') {
      i++;
      continue;
    }
    size_t sep = separator_len(s + i, n - i);
    if (sep == 0)
      return false;
    i += sep;
    /* A separator sits between two alnum runs: "a-/b" and "a-" are invalid. */
    if (i == n || !is_lower_alnum(s[i]))
      return false;
  }
}

static bool tag_is_valid(const char *s, size_t n)
{
  if (n == 0 || n > BERTH_REFERENCE_TAG_MAX || !is_word(s[0]))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
      return false;
  return true;
}

/* The reference grammar's digest: algorithm ":" [[:xdigit:]]{32,}, algorithm =
 * [A-Za-z][A-Za-z0-9]* ([-_+.][A-Za-z][A-Za-z0-9]*)*. */
static bool digest_syntax_is_valid(const char *s, size_t n)
{
  size_t i = 0;
  for (;;) {
    if (i >= n || !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
      return false;
    while (i < n && is_alnum(s[i]))
      i++;
    if (i < n && s[i] != '\0' && strchr("-_+.", s[i])) {
      i++;
      continue;
    }
    break;
  }
  if (i >= n || s[i] != ':' || n - i - 1 < 32)
    return false;
  for (i++; i < n; i++)
    if (!is_xdigit(s[i]))
      return false;
  return true;
}

/* go-digest's Validate on a syntactically valid digest; we support sha256 only. */
static int digest_check(const char *s, size_t n, berth_error_t *err)
{
  const char *colon = memchr(s, ':', n);
  size_t alg_len = (size_t)(colon - s), hex_len = n - alg_len - 1;
  if (alg_len != 6 || memcmp(s, "sha256", 6) != 0)
    return berth_error_set_plain(err, EINVAL, "unsupported digest algorithm");
  if (hex_len != BERTH_DIGEST_HEX_LEN)
    return berth_error_set_plain(err, EINVAL, "invalid checksum digest length");
  for (size_t i = 0; i < hex_len; i++)
    if (!is_lower_hex(colon[1 + i]))
      return berth_error_set_plain(err, EINVAL, "invalid checksum digest format");
  return 0;
}

static bool has_upper(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s[i] >= 'A' && s[i] <= 'Z')
      return true;
  return false;
}

/* docker's splitDockerDomain: *ret_domain (owned) and the remainder, which
 * still carries ":tag" and "@digest".  *ret_prefix is "library/" when the
 * remainder needs it. */
static void split_domain(const char *s, char **ret_domain, const char **ret_rest, const char **ret_prefix)
{
  const char *slash = strchr(s, '/');
  size_t n;
  *ret_prefix = "";
  if (!slash) {
    *ret_domain = xstrndup(BERTH_REFERENCE_DEFAULT_DOMAIN, strlen(BERTH_REFERENCE_DEFAULT_DOMAIN));
    *ret_rest = s;
    *ret_prefix = OFFICIAL_PREFIX;
    return;
  }
  n = (size_t)(slash - s);
  if ((n == 9 && memcmp(s, "localhost", 9) == 0) || memchr(s, '.', n) || memchr(s, ':', n) || has_upper(s, n)) {
    if (n == strlen(LEGACY_DEFAULT_DOMAIN) && memcmp(s, LEGACY_DEFAULT_DOMAIN, n) == 0)
      *ret_domain = xstrndup(BERTH_REFERENCE_DEFAULT_DOMAIN, strlen(BERTH_REFERENCE_DEFAULT_DOMAIN));
    else
      *ret_domain = xstrndup(s, n);
    *ret_rest = slash + 1;
  } else {
    *ret_domain = xstrndup(BERTH_REFERENCE_DEFAULT_DOMAIN, strlen(BERTH_REFERENCE_DEFAULT_DOMAIN));
    *ret_rest = s;
  }
  if (strcmp(*ret_domain, BERTH_REFERENCE_DEFAULT_DOMAIN) == 0 && !strchr(*ret_rest, '/'))
    *ret_prefix = OFFICIAL_PREFIX;
}

/* docker's Parse on "domain/prefix+rest", with the domain already split off.
 * Fills path, tag and digest of *r. */
static int parse_remainder(const char *domain, const char *prefix, const char *rest, struct berth_reference *r,
                           berth_error_t *err)
{
  cleanup_free char *name = xasprintf("%s%s", prefix, rest);
  char *at = strchr(name, '@');
  char *colon;
  size_t name_len;
  if (at)
    *at = '\0';
  colon = strchr(name, ':');
  name_len = colon ? (size_t)(colon - name) : strlen(name);
  if (!domain_is_valid(domain, strlen(domain)) || !path_is_valid(name, name_len) ||
      (colon && !tag_is_valid(colon + 1, strlen(colon + 1))) || (at && !digest_syntax_is_valid(at + 1, strlen(at + 1))))
    return berth_error_set_plain(err, EINVAL, "invalid reference format");
  if (name_len > BERTH_REFERENCE_PATH_MAX)
    return berth_error_set_plain(err, EINVAL, "repository name must not be more than %d characters",
                           BERTH_REFERENCE_PATH_MAX);
  if (at && digest_check(at + 1, strlen(at + 1), err) < 0)
    return -1;
  r->path = xstrndup(name, name_len);
  r->tag = colon ? xstrndup(colon + 1, strlen(colon + 1)) : NULL;
  r->digest = at ? xstrndup(at + 1, strlen(at + 1)) : NULL;
  return 0;
}

int berth_reference_parse(const char *s, struct berth_reference *ret, berth_error_t *err)
{
  struct berth_reference r = {0};
  const char *rest, *prefix, *tagsep;
  size_t remote_len;
  *ret = r;
  if (!s)
    return berth_error_set_plain(err, EINVAL, "invalid reference format");
  /* A full image id is never a name (docker's anchoredIdentifierRegexp). */
  if (strlen(s) == BERTH_DIGEST_HEX_LEN && berth_hex64_is_valid(s))
    return berth_error_set_plain(err, EINVAL, "invalid repository name (%s), cannot specify 64-byte hexadecimal strings",
                           s);
  split_domain(s, &r.domain, &rest, &prefix);
  tagsep = strchr(rest, ':');
  remote_len = tagsep ? (size_t)(tagsep - rest) : strlen(rest);
  if (has_upper(rest, remote_len)) {
    berth_error_set_plain(err, EINVAL, "invalid reference format: repository name (%s%.*s) must be lowercase", prefix,
                    (int)(remote_len > 1024 ? 1024 : remote_len), rest);
    berth_reference_clear(&r);
    return -1;
  }
  if (parse_remainder(r.domain, prefix, rest, &r, err) < 0) {
    berth_reference_clear(&r);
    return -1;
  }
  *ret = r;
  return 0;
}

void berth_reference_with_default_tag(struct berth_reference *r)
{
  if (!r->tag && !r->digest)
    r->tag = xstrndup(BERTH_REFERENCE_DEFAULT_TAG, strlen(BERTH_REFERENCE_DEFAULT_TAG));
}

static char *with_suffix(char *repo, const struct berth_reference *r)
{
  char *s = xasprintf("%s%s%s%s%s", repo, r->tag ? ":" : "", r->tag ? r->tag : "", r->digest ? "@" : "",
                      r->digest ? r->digest : "");
  free(repo);
  return s;
}

char *berth_reference_repository(const struct berth_reference *r)
{
  if (!r->domain || !*r->domain)
    return xstrndup(r->path ? r->path : "", strlen(r->path ? r->path : ""));
  return xasprintf("%s/%s", r->domain, r->path ? r->path : "");
}

char *berth_reference_string(const struct berth_reference *r)
{
  return with_suffix(berth_reference_repository(r), r);
}

char *berth_reference_familiar_repository(const struct berth_reference *r)
{
  const char *path = r->path ? r->path : "";
  if (r->domain && strcmp(r->domain, BERTH_REFERENCE_DEFAULT_DOMAIN) != 0)
    return berth_reference_repository(r);
  /* Only a lone official name drops "library/": "library/a/b" stays. */
  if (strncmp(path, OFFICIAL_PREFIX, strlen(OFFICIAL_PREFIX)) == 0 && !strchr(path + strlen(OFFICIAL_PREFIX), '/'))
    path += strlen(OFFICIAL_PREFIX);
  return xstrndup(path, strlen(path));
}

char *berth_reference_familiar_string(const struct berth_reference *r)
{
  return with_suffix(berth_reference_familiar_repository(r), r);
}

void berth_reference_clear(struct berth_reference *r)
{
  if (!r)
    return;
  free(steal_ptr(&r->domain));
  free(steal_ptr(&r->path));
  free(steal_ptr(&r->tag));
  free(steal_ptr(&r->digest));
}

bool berth_reference_is_hex(const char *s)
{
  if (!s || !*s)
    return false;
  for (; *s; s++)
    if (!is_lower_hex(*s))
      return false;
  return true;
}

bool berth_reference_is_id_prefix(const char *s)
{
  if (!s)
    return false;
  if (strncmp(s, "sha256:", 7) == 0)
    s += 7;
  return berth_reference_is_hex(s) && strlen(s) <= BERTH_DIGEST_HEX_LEN;
}

bool berth_reference_is_full_id(const char *s)
{
  return berth_hex64_is_valid(s) || berth_digest_is_valid(s);
}

bool berth_reference_tag_is_valid(const char *tag)
{
  return tag && tag_is_valid(tag, strlen(tag));
}
