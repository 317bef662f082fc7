/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: image reference parsing (and --platform parsing).  Every
 * accepted reference must re-parse to the same normalized string, and its
 * familiar form must re-parse to the same reference unless docker's own
 * familiar form is ambiguous (a first component that reads as a domain, or a
 * bare 64-hex name).  Refusals must carry an error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/digest.h"
#include "oci/image-spec.h"
#include "oci/reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
  if (!ok)
    abort();
}

/* Would docker read the familiar string's first component as a domain? */
static bool familiar_is_ambiguous(const char *fam)
{
  const char *slash = strchr(fam, '/');
  size_t n = slash ? (size_t)(slash - fam) : 0;
  cleanup_free char *name = strndup(fam, strcspn(fam, ":@"));
  if (!slash)
    return berth_hex64_is_valid(name);
  if (n == 9 && strncmp(fam, "localhost", 9) == 0)
    return true;
  for (size_t i = 0; i < n; i++)
    if (fam[i] == '.' || fam[i] == ':' || (fam[i] >= 'A' && fam[i] <= 'Z'))
      return true;
  return false;
}

static void check_accepted(const struct berth_reference *r)
{
  struct berth_reference again = {0}, fam_ref = {0};
  cleanup_free char *full = berth_reference_string(r), *full2 = NULL, *fam = NULL, *repo = NULL;
  check(r->domain && *r->domain && r->path && *r->path);
  check(strlen(r->path) <= BERTH_REFERENCE_PATH_MAX);
  check(!r->tag || berth_reference_tag_is_valid(r->tag));
  check(!r->digest || berth_digest_is_valid(r->digest));
  check(berth_reference_parse(full, &again, NULL) == 0);
  full2 = berth_reference_string(&again);
  check(strcmp(full, full2) == 0);
  fam = berth_reference_familiar_string(r);
  if (!familiar_is_ambiguous(fam) || strcmp(r->domain, BERTH_REFERENCE_DEFAULT_DOMAIN) != 0) {
    cleanup_free char *fam_full = NULL;
    check(berth_reference_parse(fam, &fam_ref, NULL) == 0);
    fam_full = berth_reference_string(&fam_ref);
    check(strcmp(fam_full, full) == 0);
  }
  repo = berth_reference_familiar_repository(r);
  check(strncmp(fam, repo, strlen(repo)) == 0);
  berth_reference_clear(&again);
  berth_reference_clear(&fam_ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_free char *s = NULL;
  struct berth_reference r = {0};
  struct berth_platform p = {0};
  berth_error_t err = NULL;
  if (size > 65536)
    return 0;
  s = malloc(size + 1);
  if (!s)
    return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  if (berth_reference_parse(s, &r, &err) == 0) {
    check(err == NULL);
    check_accepted(&r);
    berth_reference_with_default_tag(&r);
    check(r.tag || r.digest);
    check_accepted(&r);
  } else {
    check(err && err->msg && *err->msg && r.domain == NULL);
  }
  berth_reference_clear(&r);
  berth_error_release(&err);
  (void)berth_reference_is_id_prefix(s);
  (void)berth_reference_is_full_id(s);
  (void)berth_reference_tag_is_valid(s);
  if (berth_platform_parse(s, &p, &err) == 0) {
    cleanup_free char *ps = berth_platform_string(&p);
    struct berth_platform again = {0};
    check(berth_platform_parse(ps, &again, NULL) == 0);
    berth_platform_clear(&again);
  } else {
    check(err != NULL);
  }
  berth_platform_clear(&p);
  berth_error_release(&err);
  return 0;
}
