/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: image manifests, indexes and configs from untrusted bytes.
 * Whatever parses must serialise and re-parse to the same canonical JSON,
 * agree with kind detection, and never read as both a manifest and an index
 * (CVE-2021-41190).  Refusals must carry an error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "oci/image-spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
  if (!ok)
    abort();
}

static void check_descriptor(const struct berth_descriptor *d)
{
  check(d->media_type != NULL && berth_digest_is_valid(d->digest));
  check(d->size >= 0 && d->size <= BERTH_OCI_MAX_BLOB_SIZE);
}

static bool manifest_round_trips(const char *buf, size_t len)
{
  struct berth_manifest m = {0}, again = {0};
  berth_error_t err = NULL;
  cleanup_free char *j1 = NULL, *j2 = NULL;
  if (berth_manifest_parse(buf, len, &m, &err) < 0) {
    check(err != NULL && m.layers == NULL && m.media_type == NULL);
    berth_error_release(&err);
    return false;
  }
  check(berth_media_type_is_manifest(m.media_type) && m.n_layers <= BERTH_OCI_MAX_LAYERS);
  check_descriptor(&m.config);
  for (size_t i = 0; i < m.n_layers; i++) {
    check_descriptor(&m.layers[i]);
    check(berth_media_type_is_layer(m.layers[i].media_type));
  }
  j1 = berth_manifest_to_json(&m);
  /* Adding a default mediaType may push a document at the cap just over it. */
  if (strlen(j1) <= BERTH_OCI_MAX_MANIFEST_SIZE) {
    check(berth_manifest_parse(j1, strlen(j1), &again, NULL) == 0);
    j2 = berth_manifest_to_json(&again);
    check(strcmp(j1, j2) == 0);
  }
  berth_manifest_clear(&again);
  berth_manifest_clear(&m);
  return true;
}

static bool index_round_trips(const char *buf, size_t len)
{
  struct berth_index idx = {0}, again = {0};
  struct berth_platform arm = {0};
  berth_error_t err = NULL;
  cleanup_free char *j1 = NULL, *j2 = NULL;
  const struct berth_descriptor *d;
  if (berth_index_parse(buf, len, &idx, &err) < 0) {
    check(err != NULL && idx.manifests == NULL && idx.media_type == NULL);
    berth_error_release(&err);
    return false;
  }
  check(berth_media_type_is_index(idx.media_type) && idx.n_manifests <= BERTH_OCI_MAX_MANIFESTS);
  for (size_t i = 0; i < idx.n_manifests; i++)
    check_descriptor(&idx.manifests[i]);
  j1 = berth_index_to_json(&idx);
  if (strlen(j1) <= BERTH_OCI_MAX_MANIFEST_SIZE) {
    check(berth_index_parse(j1, strlen(j1), &again, NULL) == 0);
    j2 = berth_index_to_json(&again);
    check(strcmp(j1, j2) == 0);
  }
  d = berth_index_select(&idx, NULL, &err);
  check(d ? err == NULL : err != NULL);
  check(!d || (d >= idx.manifests && d < idx.manifests + idx.n_manifests));
  berth_error_release(&err);
  check(berth_platform_parse("linux/arm/v7", &arm, NULL) == 0);
  d = berth_index_select(&idx, &arm, &err);
  check(d ? err == NULL : err != NULL);
  berth_error_release(&err);
  berth_platform_clear(&arm);
  berth_index_clear(&again);
  berth_index_clear(&idx);
  return true;
}

static void config_checks(const char *buf, size_t len)
{
  berth_error_t err = NULL;
  json_t *c = berth_image_config_parse(buf, len, &err);
  char **ids;
  if (!c) {
    check(err != NULL);
    berth_error_release(&err);
    return;
  }
  ids = berth_image_config_diff_ids(c);
  check(ids != NULL);
  for (char **p = ids; *p; p++)
    check(berth_digest_is_valid(*p));
  berth_strv_free(ids);
  json_decref(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *buf = (const char *)data;
  enum berth_oci_kind kind;
  berth_error_t err = NULL;
  bool detected, is_manifest, is_index;
  detected = berth_oci_detect_kind(buf, size, &kind, &err) == 0;
  check(detected ? err == NULL : err != NULL);
  berth_error_release(&err);
  is_manifest = manifest_round_trips(buf, size);
  is_index = index_round_trips(buf, size);
  check(!(is_manifest && is_index));
  if (is_manifest)
    check(detected && kind == BERTH_OCI_KIND_MANIFEST);
  if (is_index)
    check(detected && kind == BERTH_OCI_KIND_INDEX);
  config_checks(buf, size);
  return 0;
}
