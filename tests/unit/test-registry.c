/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The registry client's pure parts: WWW-Authenticate challenges, base64,
 * login server names, credential keys, which hosts may be plain http. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "registry/client.h"
#include "registry/registry-internal.h"

Test(challenge, bearer_with_quoted_values)
{
  struct berth_challenge c;
  berth_error_t err = NULL;
  cr_assert_eq(berth_challenge_parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                                     "scope=\"repository:library/busybox:pull\"",
                                     &c, &err),
               0);
  cr_assert_str_eq(c.scheme, "bearer");
  cr_assert_str_eq(c.realm, "https://auth.docker.io/token");
  cr_assert_str_eq(c.service, "registry.docker.io");
  cr_assert_str_eq(c.scope, "repository:library/busybox:pull");
  berth_challenge_clear(&c);
}

Test(challenge, escapes_spaces_and_bare_tokens)
{
  struct berth_challenge c;
  berth_error_t err = NULL;
  cr_assert_eq(berth_challenge_parse("  BEARER realm=\"http://h/t?a=\\\"b\\\"\", service=svc ,Scope=\"x\"", &c, &err), 0);
  cr_assert_str_eq(c.scheme, "bearer");
  cr_assert_str_eq(c.realm, "http://h/t?a=\"b\"");
  cr_assert_str_eq(c.service, "svc");
  cr_assert_str_eq(c.scope, "x");
  berth_challenge_clear(&c);
}

Test(challenge, basic_and_first_challenge_only)
{
  struct berth_challenge c;
  berth_error_t err = NULL;
  cr_assert_eq(berth_challenge_parse("Basic realm=\"berth-test\"", &c, &err), 0);
  cr_assert_str_eq(c.scheme, "basic");
  cr_assert_str_eq(c.realm, "berth-test");
  berth_challenge_clear(&c);
  cr_assert_eq(berth_challenge_parse("Basic realm=\"a\", Bearer realm=\"b\"", &c, &err), 0);
  cr_assert_str_eq(c.scheme, "basic");
  cr_assert_str_eq(c.realm, "a");
  berth_challenge_clear(&c);
}

Test(challenge, invalid)
{
  struct berth_challenge c;
  berth_error_t err = NULL;
  cr_assert_lt(berth_challenge_parse("", &c, &err), 0);
  berth_error_release(&err);
  cr_assert_lt(berth_challenge_parse("Bearer service=\"x\"", &c, &err), 0);
  cr_assert(strstr(err->msg, "without a realm"));
  berth_error_release(&err);
  /* An unterminated quote ends the value; nothing is read past the string. */
  cr_assert_eq(berth_challenge_parse("Bearer realm=\"https://x", &c, &err), 0);
  cr_assert_str_eq(c.realm, "https://x");
  berth_challenge_clear(&c);
}

Test(base64, round_trip)
{
  const char *cases[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
                            {"user:p@ss:word", "dXNlcjpwQHNzOndvcmQ="}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cleanup_free char *enc = berth_base64_encode(cases[i][0], strlen(cases[i][0]));
    size_t len = 0;
    cleanup_free char *dec = berth_base64_decode(enc, &len);
    cr_assert_str_eq(enc, cases[i][1]);
    cr_assert_eq(len, strlen(cases[i][0]));
    cr_assert_str_eq(dec, cases[i][0]);
  }
  size_t len;
  cr_assert_null(berth_base64_decode("ab$d", &len));
}

Test(servers, names_and_keys)
{
  const char *cases[][2] = {{"", "docker.io"},
                            {"docker.io", "docker.io"},
                            {"https://index.docker.io/v1/", "docker.io"},
                            {"registry-1.docker.io", "docker.io"},
                            {"localhost:5000", "localhost:5000"},
                            {"http://127.0.0.1:5000/v2/", "127.0.0.1:5000"}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cleanup_free char *n = berth_registry_server_name(cases[i][0]);
    cr_assert_str_eq(n, cases[i][1], "%s", cases[i][0]);
  }
  cr_assert_str_eq(berth_creds_key("docker.io"), "https://index.docker.io/v1/");
  cr_assert_str_eq(berth_creds_key("localhost:5000"), "localhost:5000");
}

Test(servers, only_loopback_and_listed_hosts_are_insecure)
{
  setenv("BERTH_CONFIG", "/nonexistent/berth-config.json", 1);
  cr_assert(berth_registry_is_insecure("localhost:5000"));
  cr_assert(berth_registry_is_insecure("127.0.0.1:5000"));
  cr_assert(berth_registry_is_insecure("127.8.9.10"));
  cr_assert(berth_registry_is_insecure("[::1]:5000"));
  cr_assert_not(berth_registry_is_insecure("localhost.example.com:5000"));
  cr_assert_not(berth_registry_is_insecure("127.example.com"));
  cr_assert_not(berth_registry_is_insecure("registry-1.docker.io"));
}
