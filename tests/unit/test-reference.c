/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image references: docker's normalization, string forms and error texts,
 * table-driven (expected values follow distribution/reference). */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base/cleanup.h"
#include "oci/reference.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIG "sha256:" H64

struct valid_case {
  const char *in;
  const char *string;   /* berth_reference_string */
  const char *familiar; /* berth_reference_familiar_string */
  const char *domain, *path, *tag, *digest;
};

static const struct valid_case valid[] = {
    {"busybox", "docker.io/library/busybox", "busybox", "docker.io", "library/busybox", NULL, NULL},
    {"busybox:latest", "docker.io/library/busybox:latest", "busybox:latest", "docker.io", "library/busybox", "latest",
     NULL},
    {"busybox:1.36.1-glibc", "docker.io/library/busybox:1.36.1-glibc", "busybox:1.36.1-glibc", "docker.io",
     "library/busybox", "1.36.1-glibc", NULL},
    {"docker.io/busybox", "docker.io/library/busybox", "busybox", "docker.io", "library/busybox", NULL, NULL},
    {"index.docker.io/busybox", "docker.io/library/busybox", "busybox", "docker.io", "library/busybox", NULL, NULL},
    {"index.docker.io/foo", "docker.io/library/foo", "foo", "docker.io", "library/foo", NULL, NULL},
    {"index.docker.io/user/foo:1", "docker.io/user/foo:1", "user/foo:1", "docker.io", "user/foo", "1", NULL},
    {"docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36", "docker.io",
     "library/busybox", "1.36", NULL},
    {"library/busybox", "docker.io/library/busybox", "busybox", "docker.io", "library/busybox", NULL, NULL},
    {"user/repo", "docker.io/user/repo", "user/repo", "docker.io", "user/repo", NULL, NULL},
    {"user/repo:tag", "docker.io/user/repo:tag", "user/repo:tag", "docker.io", "user/repo", "tag", NULL},
    {"docker.io/library/a/b", "docker.io/library/a/b", "library/a/b", "docker.io", "library/a/b", NULL, NULL},
    {"docker.io/foo.bar/baz", "docker.io/foo.bar/baz", "foo.bar/baz", "docker.io", "foo.bar/baz", NULL, NULL},
    {"localhost/foo", "localhost/foo", "localhost/foo", "localhost", "foo", NULL, NULL},
    {"localhost/foo:bar", "localhost/foo:bar", "localhost/foo:bar", "localhost", "foo", "bar", NULL},
    {"localhost:5000/foo:bar@" DIG, "localhost:5000/foo:bar@" DIG, "localhost:5000/foo:bar@" DIG, "localhost:5000",
     "foo", "bar", DIG},
    {"localhost:5000/x", "localhost:5000/x", "localhost:5000/x", "localhost:5000", "x", NULL, NULL},
    {"127.0.0.1:5000/a/b/c", "127.0.0.1:5000/a/b/c", "127.0.0.1:5000/a/b/c", "127.0.0.1:5000", "a/b/c", NULL, NULL},
    {"[::1]:5000/foo", "[::1]:5000/foo", "[::1]:5000/foo", "[::1]:5000", "foo", NULL, NULL},
    {"[2001:db8::1]/foo:v1", "[2001:db8::1]/foo:v1", "[2001:db8::1]/foo:v1", "[2001:db8::1]", "foo", "v1", NULL},
    {"example.com/foo", "example.com/foo", "example.com/foo", "example.com", "foo", NULL, NULL},
    {"EXAMPLE.com/foo", "EXAMPLE.com/foo", "EXAMPLE.com/foo", "EXAMPLE.com", "foo", NULL, NULL},
    {"example.com:443/org/sub/img:v1.2.3", "example.com:443/org/sub/img:v1.2.3", "example.com:443/org/sub/img:v1.2.3",
     "example.com:443", "org/sub/img", "v1.2.3", NULL},
    {"my-reg.example.com/a", "my-reg.example.com/a", "my-reg.example.com/a", "my-reg.example.com", "a", NULL, NULL},
    {"quay.io/prometheus/node-exporter:v1.8.0", "quay.io/prometheus/node-exporter:v1.8.0",
     "quay.io/prometheus/node-exporter:v1.8.0", "quay.io", "prometheus/node-exporter", "v1.8.0", NULL},
    /* An upper-case first component is a domain in current docker. */
    {"Foo/bar", "Foo/bar", "Foo/bar", "Foo", "bar", NULL, NULL},
    {"registry:5000/x", "registry:5000/x", "registry:5000/x", "registry:5000", "x", NULL, NULL},
    /* Without a slash "localhost:5000" is a name and a tag. */
    {"localhost:5000", "docker.io/library/localhost:5000", "localhost:5000", "docker.io", "library/localhost",
     "5000", NULL},
    {"localhost", "docker.io/library/localhost", "localhost", "docker.io", "library/localhost", NULL, NULL},
    {"example.com", "docker.io/library/example.com", "example.com", "docker.io", "library/example.com", NULL, NULL},
    {"a__b", "docker.io/library/a__b", "a__b", "docker.io", "library/a__b", NULL, NULL},
    {"a---b", "docker.io/library/a---b", "a---b", "docker.io", "library/a---b", NULL, NULL},
    {"a-b_c__d/e.f", "docker.io/a-b_c__d/e.f", "a-b_c__d/e.f", "docker.io", "a-b_c__d/e.f", NULL, NULL},
    {"0/1/2", "docker.io/0/1/2", "0/1/2", "docker.io", "0/1/2", NULL, NULL},
    {"busybox@" DIG, "docker.io/library/busybox@" DIG, "busybox@" DIG, "docker.io", "library/busybox", NULL, DIG},
    {"busybox:1@" DIG, "docker.io/library/busybox:1@" DIG, "busybox:1@" DIG, "docker.io", "library/busybox", "1", DIG},
    {"busybox:LATEST", "docker.io/library/busybox:LATEST", "busybox:LATEST", "docker.io", "library/busybox", "LATEST",
     NULL},
    {"busybox:_x.y-Z", "docker.io/library/busybox:_x.y-Z", "busybox:_x.y-Z", "docker.io", "library/busybox",
     "_x.y-Z", NULL},
    /* 64 hex with a tag is a name, not an id. */
    {H64 ":t", "docker.io/library/" H64 ":t", H64 ":t", "docker.io", "library/" H64, "t", NULL},
    {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
     "docker.io/library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", "docker.io",
     "library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", NULL, NULL},
};

static void check_valid(const struct valid_case *c)
{
  struct berth_reference r = {0};
  cleanup_error berth_error_t err = NULL;
  cleanup_free char *s = NULL, *f = NULL;
  int rc = berth_reference_parse(c->in, &r, &err);
  cr_assert_eq(rc, 0, "parse `%s`: %s", c->in, err ? err->msg : "");
  cr_expect_null(err);
  s = berth_reference_string(&r);
  f = berth_reference_familiar_string(&r);
  cr_expect_str_eq(s, c->string, "string of `%s`", c->in);
  cr_expect_str_eq(f, c->familiar, "familiar of `%s`", c->in);
  cr_expect_str_eq(r.domain, c->domain, "domain of `%s`", c->in);
  cr_expect_str_eq(r.path, c->path, "path of `%s`", c->in);
  if (c->tag)
    cr_expect_str_eq(r.tag, c->tag, "tag of `%s`", c->in);
  else
    cr_expect_null(r.tag, "tag of `%s`", c->in);
  if (c->digest)
    cr_expect_str_eq(r.digest, c->digest, "digest of `%s`", c->in);
  else
    cr_expect_null(r.digest, "digest of `%s`", c->in);
  berth_reference_clear(&r);
}

Test(reference, valid_inputs_normalize_like_docker)
{
  for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
    check_valid(&valid[i]);
}

Test(reference, normalized_string_round_trips)
{
  for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
    struct berth_reference a = {0}, b = {0};
    cleanup_free char *s1 = NULL, *s2 = NULL;
    cr_assert_eq(berth_reference_parse(valid[i].in, &a, NULL), 0);
    s1 = berth_reference_string(&a);
    cr_assert_eq(berth_reference_parse(s1, &b, NULL), 0, "reparse `%s`", s1);
    s2 = berth_reference_string(&b);
    cr_expect_str_eq(s1, s2);
    berth_reference_clear(&a);
    berth_reference_clear(&b);
  }
}

struct invalid_case {
  const char *in;
  const char *msg;
};

static const struct invalid_case invalid[] = {
    {"", "invalid reference format"},
    {":tag", "invalid reference format"},
    {":", "invalid reference format"},
    {"@" DIG, "invalid reference format"},
    {"Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"},
    {"UPPER:tag", "invalid reference format: repository name (library/UPPER) must be lowercase"},
    {"foo/Bar", "invalid reference format: repository name (foo/Bar) must be lowercase"},
    {"localhost/Foo", "invalid reference format: repository name (Foo) must be lowercase"},
    {"localhost:5000/foo/Bar:tag", "invalid reference format: repository name (foo/Bar) must be lowercase"},
    {"docker.io/Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"},
    /* docker cuts the name at the first ':' only, so the digest algorithm shows. */
    {"Busybox@" DIG, "invalid reference format: repository name (library/Busybox@sha256) must be lowercase"},
    {"a//b", "invalid reference format"},
    {"a/b/", "invalid reference format"},
    {"/foo", "invalid reference format"},
    {"foo-", "invalid reference format"},
    {"-foo", "invalid reference format"},
    {"foo_", "invalid reference format"},
    {"foo.", "invalid reference format"},
    {"foo..bar", "invalid reference format"},
    {"foo___bar", "invalid reference format"},
    {"foo-_bar", "invalid reference format"},
    {"foo._bar", "invalid reference format"},
    {"foo-/bar", "invalid reference format"},
    {"foo bar", "invalid reference format"},
    {" foo", "invalid reference format"},
    {"f\xc3\xb6o", "invalid reference format"},
    {":5000/foo", "invalid reference format"},
    {"localhost:/foo", "invalid reference format"},
    {"localhost:abc/foo", "invalid reference format"},
    {"http://example.com/foo", "invalid reference format"},
    {"-a.com/foo", "invalid reference format"},
    {"a-.com/foo", "invalid reference format"},
    {"a..com/foo", "invalid reference format"},
    {"[::1/foo", "invalid reference format"},
    {"[::g]/foo", "invalid reference format"},
    /* docker would keep these as domain-less names; we refuse them. */
    {"my_registry.com/foo", "invalid reference format"},
    {"a.b-c_d/e.f", "invalid reference format"},
    {"docker.io/", "invalid reference format"},
    {"foo:", "invalid reference format"},
    {"foo@", "invalid reference format"},
    {"foo:bar:baz", "invalid reference format"},
    {"foo:-x", "invalid reference format"},
    {"foo:.x", "invalid reference format"},
    {"foo:a/b", "invalid reference format"},
    {"foo@sha256:abc", "invalid reference format"},
    {"foo@sha256:" H64 ":tag", "invalid reference format"},
    {"foo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
     "invalid checksum digest length"},
    {"foo@sha256:" H64 "0", "invalid checksum digest length"},
    {"foo@sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
     "invalid checksum digest format"},
    {"foo@md5:0123456789abcdef0123456789abcdef", "unsupported digest algorithm"},
    {"foo@sha512:" H64 H64, "unsupported digest algorithm"},
    {H64, "invalid repository name (" H64 "), cannot specify 64-byte hexadecimal strings"},
};

Test(reference, invalid_inputs_fail_with_docker_messages)
{
  for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
    struct berth_reference r = {0};
    cleanup_error berth_error_t err = NULL;
    int rc = berth_reference_parse(invalid[i].in, &r, &err);
    cr_expect_lt(rc, 0, "`%s` must fail", invalid[i].in);
    cr_assert_not_null(err, "`%s` sets err", invalid[i].in);
    cr_expect_str_eq(err->msg, invalid[i].msg, "message for `%s`", invalid[i].in);
    cr_expect_eq(err->code, EINVAL);
    cr_expect_null(r.domain);
    cr_expect_null(r.path);
    berth_reference_clear(&r);
  }
}

Test(reference, null_input_is_invalid)
{
  struct berth_reference r = {0};
  cleanup_error berth_error_t err = NULL;
  cr_assert_lt(berth_reference_parse(NULL, &r, &err), 0);
  cr_expect_str_eq(err->msg, "invalid reference format");
}

static char *repeat(char c, size_t n)
{
  char *s = malloc(n + 1);
  cr_assert_not_null(s);
  memset(s, c, n);
  s[n] = '\0';
  return s;
}

Test(reference, tag_is_limited_to_128_characters)
{
  cleanup_free char *t128 = repeat('t', 128), *t129 = repeat('t', 129);
  cleanup_free char *ok = NULL, *bad = NULL;
  struct berth_reference r = {0};
  cleanup_error berth_error_t err = NULL;
  cr_assert(asprintf(&ok, "busybox:%s", t128) > 0 && asprintf(&bad, "busybox:%s", t129) > 0);
  cr_assert_eq(berth_reference_parse(ok, &r, NULL), 0);
  cr_expect_str_eq(r.tag, t128);
  berth_reference_clear(&r);
  cr_assert_lt(berth_reference_parse(bad, &r, &err), 0);
  cr_expect_str_eq(err->msg, "invalid reference format");
}

Test(reference, path_is_limited_to_255_characters)
{
  /* "library/" (8) + 247 = 255: the limit counts the path, not the domain. */
  cleanup_free char *n247 = repeat('a', 247), *n248 = repeat('a', 248), *n255 = repeat('b', 255);
  cleanup_free char *with_domain = NULL, *long_domain = NULL;
  struct berth_reference r = {0};
  cleanup_error berth_error_t err = NULL;
  cr_assert_eq(berth_reference_parse(n247, &r, NULL), 0);
  cr_expect_eq(strlen(r.path), 255);
  berth_reference_clear(&r);
  cr_assert(asprintf(&with_domain, "registry.example.com:5000/%s", n255) > 0);
  cr_assert_eq(berth_reference_parse(with_domain, &r, NULL), 0);
  berth_reference_clear(&r);
  cr_assert(asprintf(&long_domain, "registry.example.com:5000/%s/x", n255) > 0);
  cr_assert_lt(berth_reference_parse(long_domain, &r, &err), 0);
  cr_expect_str_eq(err->msg, "repository name must not be more than 255 characters");
  berth_error_release(&err);
  cr_assert_lt(berth_reference_parse(n248, &r, &err), 0);
  cr_expect_str_eq(err->msg, "repository name must not be more than 255 characters");
}

Test(reference, huge_input_fails_cleanly)
{
  cleanup_free char *big = repeat('a', 1 << 20);
  cleanup_free char *upper = repeat('A', 1 << 20);
  struct berth_reference r = {0};
  cleanup_error berth_error_t err = NULL;
  cr_assert_lt(berth_reference_parse(big, &r, &err), 0);
  cr_expect_str_eq(err->msg, "repository name must not be more than 255 characters");
  berth_error_release(&err);
  cr_assert_lt(berth_reference_parse(upper, &r, &err), 0);
  cr_expect_lt(strlen(err->msg), 2048, "message stays bounded");
}

Test(reference, default_tag_only_without_tag_or_digest)
{
  struct berth_reference r = {0};
  cleanup_free char *a = NULL, *b = NULL, *c = NULL;
  cr_assert_eq(berth_reference_parse("busybox", &r, NULL), 0);
  berth_reference_with_default_tag(&r);
  a = berth_reference_string(&r);
  cr_expect_str_eq(a, "docker.io/library/busybox:latest");
  berth_reference_clear(&r);
  cr_assert_eq(berth_reference_parse("busybox@" DIG, &r, NULL), 0);
  berth_reference_with_default_tag(&r);
  b = berth_reference_string(&r);
  cr_expect_str_eq(b, "docker.io/library/busybox@" DIG);
  berth_reference_clear(&r);
  cr_assert_eq(berth_reference_parse("busybox:1", &r, NULL), 0);
  berth_reference_with_default_tag(&r);
  c = berth_reference_string(&r);
  cr_expect_str_eq(c, "docker.io/library/busybox:1");
  berth_reference_clear(&r);
}

Test(reference, repository_forms_drop_tag_and_digest)
{
  static const char *const cases[][3] = {
      {"busybox:1@" DIG, "docker.io/library/busybox", "busybox"},
      {"user/x:2", "docker.io/user/x", "user/x"},
      {"localhost:5000/x:3", "localhost:5000/x", "localhost:5000/x"},
      {"docker.io/library/a/b", "docker.io/library/a/b", "library/a/b"},
      {"ghcr.io/o/r", "ghcr.io/o/r", "ghcr.io/o/r"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct berth_reference r = {0};
    cleanup_free char *repo = NULL, *fam = NULL;
    cr_assert_eq(berth_reference_parse(cases[i][0], &r, NULL), 0);
    repo = berth_reference_repository(&r);
    fam = berth_reference_familiar_repository(&r);
    cr_expect_str_eq(repo, cases[i][1]);
    cr_expect_str_eq(fam, cases[i][2]);
    berth_reference_clear(&r);
  }
}

Test(reference, clear_accepts_empty_and_null)
{
  struct berth_reference r = {0};
  berth_reference_clear(&r);
  berth_reference_clear(NULL);
  cr_expect_null(r.domain);
}

Test(reference, id_prefix_detection)
{
  cr_expect(berth_reference_is_id_prefix("a"));
  cr_expect(berth_reference_is_id_prefix("abc123"));
  cr_expect(berth_reference_is_id_prefix(H64));
  cr_expect(berth_reference_is_id_prefix("sha256:ab"));
  cr_expect(berth_reference_is_id_prefix(DIG));
  cr_expect_not(berth_reference_is_id_prefix(""));
  cr_expect_not(berth_reference_is_id_prefix(NULL));
  cr_expect_not(berth_reference_is_id_prefix("sha256:"));
  cr_expect_not(berth_reference_is_id_prefix("ABC"));
  cr_expect_not(berth_reference_is_id_prefix("abg"));
  cr_expect_not(berth_reference_is_id_prefix("busybox"));
  cr_expect_not(berth_reference_is_id_prefix(H64 "0"));
  cr_expect_not(berth_reference_is_id_prefix("sha512:ab"));
}

Test(reference, full_id_and_hex_helpers)
{
  cr_expect(berth_reference_is_full_id(H64));
  cr_expect(berth_reference_is_full_id(DIG));
  cr_expect_not(berth_reference_is_full_id("abc"));
  cr_expect_not(berth_reference_is_full_id(NULL));
  cr_expect(berth_reference_is_hex("09af"));
  cr_expect_not(berth_reference_is_hex(""));
  cr_expect_not(berth_reference_is_hex("0x1"));
}

Test(reference, tag_validation)
{
  cr_expect(berth_reference_tag_is_valid("latest"));
  cr_expect(berth_reference_tag_is_valid("_"));
  cr_expect(berth_reference_tag_is_valid("V1.2-rc_3"));
  cr_expect_not(berth_reference_tag_is_valid(""));
  cr_expect_not(berth_reference_tag_is_valid(NULL));
  cr_expect_not(berth_reference_tag_is_valid("-x"));
  cr_expect_not(berth_reference_tag_is_valid(".x"));
  cr_expect_not(berth_reference_tag_is_valid("a:b"));
  cr_expect_not(berth_reference_tag_is_valid("a/b"));
}
