/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: docker-format seccomp profiles (--security-opt seccomp=FILE)
 * from untrusted bytes.  A profile is valid or not whatever the capability
 * set; a refusal carries a plain EINVAL naming the profile; what converts is
 * well-formed OCI linux.seccomp JSON, and converting that again (OCI JSON is
 * docker's format without includes/excludes) gives the same document. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "runtime/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
  if (!ok)
    abort();
}

static bool is_name(const json_t *v, const char *prefix)
{
  return json_is_string(v) && strncmp(json_string_value(v), prefix, strlen(prefix)) == 0;
}

static void check_names(const json_t *a, bool allow_empty)
{
  size_t i;
  json_t *n;
  check(json_is_array(a) && (allow_empty || json_array_size(a) > 0));
  json_array_foreach(a, i, n)
  {
    check(json_is_string(n) && json_string_length(n) > 0);
  }
}

static void check_rule(const json_t *r)
{
  json_t *args = json_object_get(r, "args"), *a, *e = json_object_get(r, "errnoRet");
  size_t i;
  check(json_is_object(r) && is_name(json_object_get(r, "action"), "SCMP_ACT_"));
  check_names(json_object_get(r, "names"), false);
  check(!e || (json_is_integer(e) && json_integer_value(e) >= 0 && json_integer_value(e) <= 4095));
  check(!args || (json_is_array(args) && json_array_size(args) > 0 && json_array_size(args) <= 6));
  json_array_foreach(args, i, a)
  {
    json_int_t index = berth_json_int(a, "index", -1);
    check(index >= 0 && index < 6 && is_name(json_object_get(a, "op"), "SCMP_CMP_"));
    check(berth_json_int(a, "value", -1) >= 0 && berth_json_int(a, "valueTwo", -1) >= 0);
  }
}

static void check_profile(const json_t *p)
{
  json_t *r, *flags = json_object_get(p, "flags");
  size_t i;
  check(json_is_object(p) && is_name(json_object_get(p, "defaultAction"), "SCMP_ACT_"));
  check_names(json_object_get(p, "architectures"), true);
  check(!flags || json_is_array(flags));
  check(json_is_array(json_object_get(p, "syscalls")));
  json_array_foreach(json_object_get(p, "syscalls"), i, r)
  {
    check_rule(r);
  }
}

static json_t *convert(const char *buf, size_t len, uint64_t caps, char **ret_msg)
{
  berth_error_t err = NULL;
  json_t *p = berth_seccomp_from_docker_profile(buf, len, caps, &err);
  if (p) {
    check(err == NULL);
    return p;
  }
  check(err != NULL && err->code == EINVAL && err->plain);
  check(strncmp(err->msg, "seccomp profile", 15) == 0 || strncmp(err->msg, "parse seccomp profile", 21) == 0);
  *ret_msg = strdup(err->msg);
  berth_error_release(&err);
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *buf = (const char *)data;
  cleanup_free char *msg_none = NULL, *msg_all = NULL, *again_msg = NULL;
  cleanup_free char *s1 = NULL, *s2 = NULL;
  cleanup_json json_t *none = convert(buf, size, 0, &msg_none);
  cleanup_json json_t *all = convert(buf, size, UINT64_MAX, &msg_all);
  cleanup_json json_t *again = NULL;
  check((none == NULL) == (all == NULL));
  if (!none) {
    check(strcmp(msg_none, msg_all) == 0);
    return 0;
  }
  check_profile(none);
  check_profile(all);
  s1 = berth_json_dumps(none);
  again = convert(s1, strlen(s1), 0, &again_msg);
  check(again != NULL);
  s2 = berth_json_dumps(again);
  check(strcmp(s1, s2) == 0);
  return 0;
}
