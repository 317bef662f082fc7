/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image manifests, indexes and configs: strict parsing of hostile documents,
 * kind detection (CVE-2021-41190), canonical serialisation, config validation
 * and platform selection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "oci/image-spec.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define H3 "3333333333333333333333333333333333333333333333333333333333333333"
#define D1 "sha256:" H1
#define D2 "sha256:" H2
#define D3 "sha256:" H3

#define DOCKER_MANIFEST                                                                                               \
  "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","                     \
  "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":1457,\"digest\":\"" D1    \
  "\"},\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":2152262,"          \
  "\"digest\":\"" D2 "\"},{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":32,"        \
  "\"digest\":\"" D3 "\"}]}"

#define OCI_CONFIG_DESC "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":10,\"digest\":\"" D1 "\"}"
#define OCI_LAYER_DESC "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"size\":20,\"digest\":\"" D2 "\"}"

/* An OCI manifest whose fields can be swapped: config, layers, extra. */
static char *oci_manifest(const char *config, const char *layers, const char *extra)
{
  char *s = NULL;
  cr_assert(asprintf(&s,
                     "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                     "\"config\":%s,\"layers\":%s%s}",
                     config, layers, extra) > 0);
  return s;
}

static char *manifest_error(const char *doc, int *ret_code)
{
  struct berth_manifest m = {0};
  berth_error_t err = NULL;
  char *msg;
  cr_assert_lt(berth_manifest_parse(doc, strlen(doc), &m, &err), 0, "must fail: %.300s", doc);
  cr_assert_not_null(err);
  cr_expect_null(m.media_type, "result stays empty");
  cr_expect_null(m.layers);
  msg = strdup(err->msg);
  if (ret_code)
    *ret_code = err->code;
  berth_error_release(&err);
  return msg;
}

static void expect_manifest_error(const char *doc, const char *substr)
{
  cleanup_free char *msg = manifest_error(doc, NULL);
  cr_expect(strstr(msg, substr) != NULL, "message `%s` lacks `%s`", msg, substr);
}

static void expect_layer_error(const char *layers, const char *substr)
{
  cleanup_free char *doc = oci_manifest(OCI_CONFIG_DESC, layers, "");
  expect_manifest_error(doc, substr);
}

/* ------------------------------------------------------------ manifests */

Test(manifest, docker_schema2_parses)
{
  struct berth_manifest m = {0};
  cleanup_error berth_error_t err = NULL;
  cr_assert_eq(berth_manifest_parse(DOCKER_MANIFEST, strlen(DOCKER_MANIFEST), &m, &err), 0, "%s",
               err ? err->msg : "");
  cr_expect_eq(m.schema_version, 2);
  cr_expect_str_eq(m.media_type, BERTH_MEDIA_DOCKER_MANIFEST);
  cr_expect_str_eq(m.config.media_type, BERTH_MEDIA_DOCKER_CONFIG);
  cr_expect_str_eq(m.config.digest, D1);
  cr_expect_eq(m.config.size, 1457);
  cr_assert_eq(m.n_layers, 2);
  cr_expect_str_eq(m.layers[0].digest, D2);
  cr_expect_eq(m.layers[0].size, 2152262);
  cr_expect_str_eq(m.layers[1].digest, D3);
  cr_expect_eq(berth_layer_compression(m.layers[0].media_type), BERTH_COMPRESSION_GZIP);
  berth_manifest_clear(&m);
  cr_expect_null(m.layers);
}

Test(manifest, oci_without_media_type_defaults_to_oci)
{
  const char *doc = "{\"schemaVersion\":2,\"config\":" OCI_CONFIG_DESC ",\"layers\":[" OCI_LAYER_DESC "]}";
  struct berth_manifest m = {0};
  cr_assert_eq(berth_manifest_parse(doc, strlen(doc), &m, NULL), 0);
  cr_expect_str_eq(m.media_type, BERTH_MEDIA_OCI_MANIFEST);
  berth_manifest_clear(&m);
}

Test(manifest, oci_extras_are_kept_or_ignored)
{
  const char *layers = "[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"size\":0,\"digest\":\"" D2
                       "\",\"annotations\":{\"a\":\"b\"}},"
                       "{\"mediaType\":\"application/vnd.oci.image.layer.nondistributable.v1.tar\",\"size\":"
                       "9007199254740991,\"digest\":\"" D3 "\",\"urls\":[\"https://example.com/x\"]}]";
  cleanup_free char *doc =
      oci_manifest(OCI_CONFIG_DESC, layers, ",\"annotations\":{\"org.opencontainers.image.title\":\"t\"},"
                                            "\"subject\":null,\"somethingNew\":{\"x\":[1,2]}");
  struct berth_manifest m = {0};
  cleanup_error berth_error_t err = NULL;
  cr_assert_eq(berth_manifest_parse(doc, strlen(doc), &m, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq(m.n_layers, 2);
  cr_expect_eq(berth_layer_compression(m.layers[0].media_type), BERTH_COMPRESSION_ZSTD);
  cr_expect_str_eq(json_string_value(json_object_get(m.layers[0].annotations, "a")), "b");
  cr_expect_eq(m.layers[1].size, BERTH_OCI_MAX_BLOB_SIZE);
  cr_assert_not_null(m.layers[1].urls);
  cr_expect_str_eq(m.layers[1].urls[0], "https://example.com/x");
  cr_expect_null(m.layers[1].urls[1]);
  cr_expect(berth_media_type_is_foreign_layer(m.layers[1].media_type));
  cr_expect_str_eq(json_string_value(json_object_get(m.annotations, "org.opencontainers.image.title")), "t");
  berth_manifest_clear(&m);
}

Test(manifest, zero_layers_is_allowed)
{
  cleanup_free char *doc = oci_manifest(OCI_CONFIG_DESC, "[]", "");
  struct berth_manifest m = {0};
  cr_assert_eq(berth_manifest_parse(doc, strlen(doc), &m, NULL), 0);
  cr_expect_eq(m.n_layers, 0);
  berth_manifest_clear(&m);
}

Test(manifest, layers_must_be_an_array)
{
  cleanup_free char *null_layers = oci_manifest(OCI_CONFIG_DESC, "null", "");
  cleanup_free char *obj_layers = oci_manifest(OCI_CONFIG_DESC, "{}", "");
  const char *missing = "{\"schemaVersion\":2,\"config\":" OCI_CONFIG_DESC "}";
  expect_manifest_error(null_layers, "invalid manifest: layers must be an array");
  expect_manifest_error(obj_layers, "layers must be an array");
  expect_manifest_error(missing, "layers must be an array");
}

Test(manifest, config_is_required)
{
  expect_manifest_error("{\"schemaVersion\":2,\"layers\":[]}", "config is missing");
  expect_manifest_error("{\"schemaVersion\":2,\"config\":null,\"layers\":[]}", "config: descriptor must be an object");
}

/* CVE-2021-21285 */
Test(manifest, sizes_must_be_in_range)
{
  static const char *const bad[][2] = {
      {"-1", "size -1 out of range"},
      {"9007199254740992", "out of range 0..2^53-1"},
      {"9223372036854775807", "out of range"},
      {"-9223372036854775808", "out of range"},
      {"9223372036854775808", "parse manifest"}, /* 2^63: jansson refuses the integer itself */
      {"1e3", "size must be an integer"},
      {"1.5", "size must be an integer"},
      {"\"10\"", "size must be an integer"},
      {"null", "size must be an integer"},
      {"true", "size must be an integer"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cleanup_free char *layers = NULL;
    cr_assert(asprintf(&layers, "[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"size\":%s,"
                                "\"digest\":\"" D2 "\"}]",
                       bad[i][0]) > 0);
    expect_layer_error(layers, bad[i][1]);
  }
}

Test(manifest, size_missing_is_an_error)
{
  expect_layer_error("[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" D2 "\"}]",
                     "layers[0]: size must be an integer");
}

/* CVE-2024-3727 */
Test(manifest, digests_are_strict)
{
  static const char *const bad[][2] = {
      {"\"sha256:abc\"", "invalid digest"},
      {"\"sha256:" H1 "0\"", "invalid digest"},
      {"\"sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"", "invalid digest"},
      {"\"sha256:../../../../etc/passwd\"", "invalid digest"},
      {"\"sha512:" H1 H1 "\"", "unsupported digest algorithm"},
      {"\"" H1 "\"", "invalid digest"},
      {"\"\"", "invalid digest"},
      {"42", "digest must be a string"},
      {"null", "digest must be a string"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cleanup_free char *layers = NULL;
    cr_assert(asprintf(&layers, "[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"size\":1,"
                                "\"digest\":%s}]",
                       bad[i][0]) > 0);
    expect_layer_error(layers, bad[i][1]);
  }
}

Test(manifest, schema_version_must_be_2)
{
  int code = 0;
  cleanup_free char *v1 = manifest_error("{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}", &code);
  cr_expect(strstr(v1, "schema 1") != NULL, "%s", v1);
  cr_expect_eq(code, ENOTSUP);
  expect_manifest_error("{\"schemaVersion\":3,\"config\":" OCI_CONFIG_DESC ",\"layers\":[]}",
                        "unsupported schemaVersion 3");
  expect_manifest_error("{\"schemaVersion\":\"2\",\"config\":" OCI_CONFIG_DESC ",\"layers\":[]}",
                        "schemaVersion must be an integer");
  expect_manifest_error("{\"config\":" OCI_CONFIG_DESC ",\"layers\":[]}", "schemaVersion must be an integer");
  expect_manifest_error("{\"schemaVersion\":2.0,\"config\":" OCI_CONFIG_DESC ",\"layers\":[]}",
                        "schemaVersion must be an integer");
}

Test(manifest, index_media_type_is_not_a_manifest)
{
  expect_manifest_error("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                        "\"config\":" OCI_CONFIG_DESC ",\"layers\":[]}",
                        "unexpected media type `application/vnd.oci.image.index.v1+json`");
  expect_manifest_error("{\"schemaVersion\":2,\"mediaType\":\"text/html\",\"config\":" OCI_CONFIG_DESC
                        ",\"layers\":[]}",
                        "unsupported media type `text/html`");
  expect_manifest_error("{\"schemaVersion\":2,\"mediaType\":7,\"config\":" OCI_CONFIG_DESC ",\"layers\":[]}",
                        "mediaType must be a string");
}

/* CVE-2021-41190 */
Test(manifest, mixed_index_and_manifest_is_refused)
{
  cleanup_free char *doc = oci_manifest(OCI_CONFIG_DESC, "[" OCI_LAYER_DESC "]", ",\"manifests\":[]");
  expect_manifest_error(doc, "ambiguous document");
}

Test(manifest, unknown_layer_media_types_are_refused)
{
  expect_layer_error("[{\"mediaType\":\"application/vnd.in-toto+json\",\"size\":1,\"digest\":\"" D2 "\"}]",
                     "layers[0]: unsupported layer media type `application/vnd.in-toto+json`");
  expect_layer_error("[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.bz2\",\"size\":1,\"digest\":\"" D2
                     "\"}]",
                     "unsupported layer media type");
  expect_layer_error("[{\"mediaType\":\"not a media type\",\"size\":1,\"digest\":\"" D2 "\"}]",
                     "mediaType must be a valid media type");
  expect_layer_error("[{\"size\":1,\"digest\":\"" D2 "\"}]", "mediaType must be a valid media type");
  expect_layer_error("[1]", "layers[0]: descriptor must be an object");
  expect_layer_error("[null]", "layers[0]: descriptor must be an object");
}

Test(manifest, config_media_type_must_match_manifest_kind)
{
  const char *docker_with_oci_config = "{\"schemaVersion\":2,\"mediaType\":\"" BERTH_MEDIA_DOCKER_MANIFEST
                                       "\",\"config\":" OCI_CONFIG_DESC ",\"layers\":[]}";
  const char *oci_with_docker_config =
      "{\"schemaVersion\":2,\"mediaType\":\"" BERTH_MEDIA_OCI_MANIFEST "\",\"config\":{\"mediaType\":\"" BERTH_MEDIA_DOCKER_CONFIG
      "\",\"size\":1,\"digest\":\"" D1 "\"},\"layers\":[]}";
  const char *artifact = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" BERTH_MEDIA_OCI_EMPTY
                         "\",\"size\":2,\"digest\":\"" D1 "\"},\"layers\":[]}";
  expect_manifest_error(docker_with_oci_config, "does not match manifest media type");
  expect_manifest_error(oci_with_docker_config, "does not match manifest media type");
  expect_manifest_error(artifact, "is not an image config");
}

Test(manifest, layer_count_is_bounded)
{
  size_t n = BERTH_OCI_MAX_LAYERS + 1, len = 0;
  char *layers = malloc(n * (strlen(OCI_LAYER_DESC) + 1) + 3);
  cleanup_free char *doc = NULL;
  cr_assert_not_null(layers);
  layers[len++] = '[';
  for (size_t i = 0; i < n; i++) {
    if (i)
      layers[len++] = ',';
    memcpy(layers + len, OCI_LAYER_DESC, strlen(OCI_LAYER_DESC));
    len += strlen(OCI_LAYER_DESC);
  }
  layers[len++] = ']';
  layers[len] = '\0';
  doc = oci_manifest(OCI_CONFIG_DESC, layers, "");
  expect_manifest_error(doc, "too many layers (1001, limit 1000)");
  /* exactly the limit is fine */
  memcpy(layers + len - 1 - strlen(OCI_LAYER_DESC) - 1, "]", 2);
  {
    cleanup_free char *ok = oci_manifest(OCI_CONFIG_DESC, layers, "");
    struct berth_manifest m = {0};
    cr_assert_eq(berth_manifest_parse(ok, strlen(ok), &m, NULL), 0);
    cr_expect_eq(m.n_layers, BERTH_OCI_MAX_LAYERS);
    berth_manifest_clear(&m);
  }
  free(layers);
}

/* CVE-2021-21285 */
Test(manifest, hostile_json_fails_cleanly)
{
  static const char *const docs[] = {
      "", "   ", "null", "[]", "\"x\"", "42", "{", "{}x", "{\"schemaVersion\":2,\"schemaVersion\":2}",
      "{\"a\":\"\\u0000\"}", "\xff\xfe{}", "{\"schemaVersion\":2,\"config\":" OCI_CONFIG_DESC ",\"layers\":[],}",
  };
  for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
    struct berth_manifest m = {0};
    struct berth_index idx = {0};
    enum berth_oci_kind kind;
    cleanup_error berth_error_t e1 = NULL, e2 = NULL, e3 = NULL;
    cr_expect_lt(berth_manifest_parse(docs[i], strlen(docs[i]), &m, &e1), 0, "manifest `%s`", docs[i]);
    cr_expect_lt(berth_index_parse(docs[i], strlen(docs[i]), &idx, &e2), 0, "index `%s`", docs[i]);
    cr_expect_lt(berth_oci_detect_kind(docs[i], strlen(docs[i]), &kind, &e3), 0, "detect `%s`", docs[i]);
    cr_expect_not_null(e1);
    cr_expect_not_null(e2);
    cr_expect_not_null(e3);
  }
}

/* CVE-2014-8179 */
Test(manifest, duplicate_keys_are_refused)
{
  /* CVE-2014-8179: a second "layers" must not override the first. */
  const char *doc = "{\"schemaVersion\":2,\"config\":" OCI_CONFIG_DESC ",\"layers\":[],\"layers\":[" OCI_LAYER_DESC
                    "]}";
  expect_manifest_error(doc, "duplicate");
}

/* CVE-2021-21285 */
Test(manifest, deep_nesting_fails_or_is_ignored_cleanly)
{
  size_t depth = 100000;
  char *doc = malloc(2 * depth + 64);
  size_t len = 0;
  struct berth_manifest m = {0};
  cleanup_error berth_error_t err = NULL;
  cr_assert_not_null(doc);
  len += (size_t)sprintf(doc, "{\"schemaVersion\":2,\"x\":");
  memset(doc + len, '[', depth);
  len += depth;
  memset(doc + len, ']', depth);
  len += depth;
  doc[len++] = '}';
  cr_expect_lt(berth_manifest_parse(doc, len, &m, &err), 0);
  cr_expect_not_null(err);
  free(doc);
}

Test(manifest, nested_annotations_are_refused)
{
  cleanup_free char *doc = oci_manifest(OCI_CONFIG_DESC, "[]", ",\"annotations\":{\"a\":{\"b\":[[[[1]]]]}}");
  expect_manifest_error(doc, "annotation `a` must be a string");
}

/* CVE-2021-21285 */
Test(manifest, oversized_document_is_refused)
{
  size_t len = BERTH_OCI_MAX_MANIFEST_SIZE + 1;
  char *doc = malloc(len);
  struct berth_manifest m = {0};
  cleanup_error berth_error_t err = NULL;
  cr_assert_not_null(doc);
  memset(doc, ' ', len);
  doc[0] = '{';
  doc[len - 1] = '}';
  cr_assert_lt(berth_manifest_parse(doc, len, &m, &err), 0);
  cr_expect_eq(err->code, EFBIG);
  free(doc);
}

Test(manifest, huge_strings_fail_cleanly)
{
  size_t n = 3 * 1024 * 1024;
  char *big = malloc(n + 1);
  cleanup_free char *layers = NULL, *doc = NULL;
  cr_assert_not_null(big);
  memset(big, 'a', n);
  big[n] = '\0';
  memcpy(big, "application/", 12);
  cr_assert(asprintf(&layers, "[{\"mediaType\":\"%s\",\"size\":1,\"digest\":\"" D2 "\"}]", big) > 0);
  doc = oci_manifest(OCI_CONFIG_DESC, layers, "");
  expect_manifest_error(doc, "mediaType must be a valid media type");
  free(big);
}

Test(manifest, wrong_types_in_optional_fields)
{
  expect_layer_error("[{\"mediaType\":\"" BERTH_MEDIA_OCI_LAYER "\",\"size\":1,\"digest\":\"" D2 "\",\"urls\":\"x\"}]",
                     "urls must be an array of strings");
  expect_layer_error("[{\"mediaType\":\"" BERTH_MEDIA_OCI_LAYER "\",\"size\":1,\"digest\":\"" D2 "\",\"urls\":[1]}]",
                     "urls must be an array of strings");
  expect_layer_error("[{\"mediaType\":\"" BERTH_MEDIA_OCI_LAYER "\",\"size\":1,\"digest\":\"" D2
                     "\",\"annotations\":[]}]",
                     "annotations must be an object");
  expect_layer_error("[{\"mediaType\":\"" BERTH_MEDIA_OCI_LAYER "\",\"size\":1,\"digest\":\"" D2 "\",\"platform\":1}]",
                     "platform must be an object");
  expect_layer_error("[{\"mediaType\":\"" BERTH_MEDIA_OCI_LAYER "\",\"size\":1,\"digest\":\"" D2 "\",\"data\":1}]",
                     "data must be a string");
}

/* ------------------------------------------------------------ serialising */

Test(manifest, serialises_canonically)
{
  const char *doc = "{\"layers\":[" OCI_LAYER_DESC "],\"config\":" OCI_CONFIG_DESC ",\"schemaVersion\":2}";
  const char *want = "{\"config\":{\"digest\":\"" D1 "\",\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                     "\"size\":10},\"layers\":[{\"digest\":\"" D2 "\",\"mediaType\":"
                     "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"size\":20}],\"mediaType\":"
                     "\"application/vnd.oci.image.manifest.v1+json\",\"schemaVersion\":2}";
  struct berth_manifest m = {0};
  cleanup_free char *out = NULL;
  cr_assert_eq(berth_manifest_parse(doc, strlen(doc), &m, NULL), 0);
  out = berth_manifest_to_json(&m);
  cr_expect_str_eq(out, want);
  berth_manifest_clear(&m);
}

Test(manifest, round_trip_keeps_every_field)
{
  struct berth_manifest a = {0}, b = {0};
  cleanup_free char *j1 = NULL, *j2 = NULL;
  cr_assert_eq(berth_manifest_parse(DOCKER_MANIFEST, strlen(DOCKER_MANIFEST), &a, NULL), 0);
  j1 = berth_manifest_to_json(&a);
  cr_assert_eq(berth_manifest_parse(j1, strlen(j1), &b, NULL), 0);
  j2 = berth_manifest_to_json(&b);
  cr_expect_str_eq(j1, j2);
  cr_expect_str_eq(b.media_type, BERTH_MEDIA_DOCKER_MANIFEST);
  cr_expect_eq(b.n_layers, 2);
  cr_expect_eq(b.layers[1].size, 32);
  berth_manifest_clear(&a);
  berth_manifest_clear(&b);
}

Test(manifest, built_in_code_serialises)
{
  struct berth_descriptor layer = {.media_type = (char *)BERTH_MEDIA_DOCKER_LAYER_GZIP, .digest = D2, .size = 5};
  struct berth_manifest m = {.schema_version = 2, .media_type = (char *)BERTH_MEDIA_DOCKER_MANIFEST,
                             .config = {.media_type = (char *)BERTH_MEDIA_DOCKER_CONFIG, .digest = D1, .size = 3},
                             .n_layers = 1, .layers = &layer};
  cleanup_free char *out = berth_manifest_to_json(&m);
  struct berth_manifest back = {0};
  cr_assert_eq(berth_manifest_parse(out, strlen(out), &back, NULL), 0, "%s", out);
  cr_expect_str_eq(back.layers[0].digest, D2);
  berth_manifest_clear(&back);
}

/* ------------------------------------------------------------ indexes */

#define PLAT_ENTRY(digest, os, arch, variant)                                                                         \
  "{\"mediaType\":\"" BERTH_MEDIA_OCI_MANIFEST "\",\"size\":100,\"digest\":\"" digest                               \
  "\",\"platform\":{\"os\":\"" os "\",\"architecture\":\"" arch "\"" variant "}}"

#define ENTRY_AMD64 PLAT_ENTRY("sha256:a000000000000000000000000000000000000000000000000000000000000000", "linux", "amd64", "")
#define ENTRY_ARM64 PLAT_ENTRY("sha256:a100000000000000000000000000000000000000000000000000000000000000", "linux", "arm64", ",\"variant\":\"v8\"")
#define ENTRY_ARMV7 PLAT_ENTRY("sha256:a200000000000000000000000000000000000000000000000000000000000000", "linux", "arm", ",\"variant\":\"v7\"")
#define ENTRY_ARMV6 PLAT_ENTRY("sha256:a300000000000000000000000000000000000000000000000000000000000000", "linux", "arm", ",\"variant\":\"v6\"")
#define ENTRY_386 PLAT_ENTRY("sha256:a400000000000000000000000000000000000000000000000000000000000000", "linux", "386", "")
#define ENTRY_ATTEST                                                                                                  \
  "{\"mediaType\":\"" BERTH_MEDIA_OCI_MANIFEST "\",\"size\":840,\"digest\":\"sha256:a500000000000000000000000000000000000000000000000000000000000000\",\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"},\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}"

static void parse_index(const char *doc, struct berth_index *idx)
{
  cleanup_error berth_error_t err = NULL;
  cr_assert_eq(berth_index_parse(doc, strlen(doc), idx, &err), 0, "%s: %s", doc, err ? err->msg : "");
}

static char *index_doc(const char *entries)
{
  char *s = NULL;
  cr_assert(asprintf(&s, "{\"schemaVersion\":2,\"mediaType\":\"" BERTH_MEDIA_OCI_INDEX "\",\"manifests\":[%s]}",
                     entries) > 0);
  return s;
}

Test(index, oci_index_parses_with_platforms)
{
  cleanup_free char *doc = index_doc(ENTRY_AMD64 "," ENTRY_ARM64 "," ENTRY_ATTEST);
  struct berth_index idx = {0};
  parse_index(doc, &idx);
  cr_expect_str_eq(idx.media_type, BERTH_MEDIA_OCI_INDEX);
  cr_assert_eq(idx.n_manifests, 3);
  cr_expect_str_eq(idx.manifests[0].os, "linux");
  cr_expect_str_eq(idx.manifests[0].architecture, "amd64");
  cr_expect_null(idx.manifests[0].variant);
  cr_expect_str_eq(idx.manifests[1].variant, "v8");
  cr_expect_not_null(idx.manifests[2].annotations);
  berth_index_clear(&idx);
}

Test(index, docker_manifest_list_parses)
{
  const char *doc = "{\"schemaVersion\":2,\"mediaType\":\"" BERTH_MEDIA_DOCKER_MANIFEST_LIST "\",\"manifests\":[{"
                    "\"mediaType\":\"" BERTH_MEDIA_DOCKER_MANIFEST "\",\"size\":527,\"digest\":\"" D1
                    "\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}";
  struct berth_index idx = {0};
  parse_index(doc, &idx);
  cr_expect_str_eq(idx.media_type, BERTH_MEDIA_DOCKER_MANIFEST_LIST);
  cr_expect_eq(idx.n_manifests, 1);
  berth_index_clear(&idx);
}

Test(index, without_media_type_defaults_to_oci)
{
  const char *doc = "{\"schemaVersion\":2,\"manifests\":[]}";
  struct berth_index idx = {0};
  parse_index(doc, &idx);
  cr_expect_str_eq(idx.media_type, BERTH_MEDIA_OCI_INDEX);
  berth_index_clear(&idx);
}

static void expect_index_error(const char *doc, const char *substr)
{
  struct berth_index idx = {0};
  cleanup_error berth_error_t err = NULL;
  cr_assert_lt(berth_index_parse(doc, strlen(doc), &idx, &err), 0, "must fail: %.200s", doc);
  cr_expect(strstr(err->msg, substr) != NULL, "message `%s` lacks `%s`", err->msg, substr);
  cr_expect_null(idx.manifests);
}

Test(index, invalid_indexes_are_refused)
{
  expect_index_error("{\"schemaVersion\":2,\"manifests\":null}", "invalid index: manifests must be an array");
  expect_index_error("{\"schemaVersion\":2}", "manifests must be an array");
  expect_index_error("{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}", "ambiguous document");
  expect_index_error("{\"schemaVersion\":2,\"manifests\":[],\"config\":{}}", "ambiguous document");
  expect_index_error("{\"schemaVersion\":1,\"manifests\":[]}", "schema 1");
  expect_index_error("{\"schemaVersion\":2,\"mediaType\":\"" BERTH_MEDIA_OCI_MANIFEST "\",\"manifests\":[]}",
                     "unexpected media type");
  expect_index_error("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" BERTH_MEDIA_OCI_MANIFEST
                     "\",\"size\":-5,\"digest\":\"" D1 "\"}]}",
                     "manifests[0]: size -5 out of range");
  expect_index_error("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" BERTH_MEDIA_OCI_MANIFEST
                     "\",\"size\":5,\"digest\":\"" D1 "\",\"platform\":{\"os\":\"linux\"}}]}",
                     "platform must have string os and architecture");
  expect_index_error("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" BERTH_MEDIA_OCI_MANIFEST
                     "\",\"size\":5,\"digest\":\"" D1
                     "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":7}}]}",
                     "platform: variant must be a string");
}

Test(index, manifest_count_is_bounded)
{
  size_t n = BERTH_OCI_MAX_MANIFESTS + 1, len = 0, one = strlen(ENTRY_AMD64);
  char *entries = malloc(n * (one + 1) + 1);
  cleanup_free char *doc = NULL;
  cr_assert_not_null(entries);
  for (size_t i = 0; i < n; i++) {
    if (i)
      entries[len++] = ',';
    memcpy(entries + len, ENTRY_AMD64, one);
    len += one;
  }
  entries[len] = '\0';
  doc = index_doc(entries);
  expect_index_error(doc, "too many manifests");
  free(entries);
}

Test(index, serialises_and_round_trips)
{
  cleanup_free char *doc = index_doc(ENTRY_AMD64 "," ENTRY_ARMV7 "," ENTRY_ATTEST);
  struct berth_index a = {0}, b = {0};
  cleanup_free char *j1 = NULL, *j2 = NULL;
  parse_index(doc, &a);
  j1 = berth_index_to_json(&a);
  parse_index(j1, &b);
  j2 = berth_index_to_json(&b);
  cr_expect_str_eq(j1, j2);
  cr_expect_str_eq(b.manifests[1].variant, "v7");
  berth_index_clear(&a);
  berth_index_clear(&b);
}

/* ------------------------------------------------------------ kind detection */

static int detect(const char *doc, enum berth_oci_kind *kind, int *code)
{
  cleanup_error berth_error_t err = NULL;
  int r = berth_oci_detect_kind(doc, strlen(doc), kind, &err);
  if (r < 0 && code)
    *code = err->code;
  return r;
}

Test(detect, by_media_type)
{
  enum berth_oci_kind k;
  cr_assert_eq(detect(DOCKER_MANIFEST, &k, NULL), 0);
  cr_expect_eq(k, BERTH_OCI_KIND_MANIFEST);
  cr_assert_eq(detect("{\"mediaType\":\"" BERTH_MEDIA_DOCKER_MANIFEST_LIST "\",\"manifests\":[]}", &k, NULL), 0);
  cr_expect_eq(k, BERTH_OCI_KIND_INDEX);
  cr_assert_eq(detect("{\"mediaType\":\"" BERTH_MEDIA_OCI_INDEX "\"}", &k, NULL), 0);
  cr_expect_eq(k, BERTH_OCI_KIND_INDEX);
  cr_assert_eq(detect("{\"mediaType\":\"" BERTH_MEDIA_OCI_MANIFEST "\"}", &k, NULL), 0);
  cr_expect_eq(k, BERTH_OCI_KIND_MANIFEST);
}

Test(detect, by_fields_without_media_type)
{
  enum berth_oci_kind k;
  cr_assert_eq(detect("{\"schemaVersion\":2,\"manifests\":[]}", &k, NULL), 0);
  cr_expect_eq(k, BERTH_OCI_KIND_INDEX);
  cr_assert_eq(detect("{\"schemaVersion\":2,\"layers\":[]}", &k, NULL), 0);
  cr_expect_eq(k, BERTH_OCI_KIND_MANIFEST);
  cr_assert_eq(detect("{\"schemaVersion\":2,\"config\":{}}", &k, NULL), 0);
  cr_expect_eq(k, BERTH_OCI_KIND_MANIFEST);
}

Test(detect, ambiguous_documents_are_refused)
{
  enum berth_oci_kind k;
  int code = 0;
  cr_expect_lt(detect("{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}", &k, &code), 0);
  cr_expect_eq(code, EINVAL);
  cr_expect_lt(detect("{\"mediaType\":\"" BERTH_MEDIA_OCI_MANIFEST "\",\"manifests\":[]}", &k, NULL), 0);
  cr_expect_lt(detect("{\"mediaType\":\"" BERTH_MEDIA_OCI_INDEX "\",\"layers\":[]}", &k, NULL), 0);
  cr_expect_lt(detect("{\"mediaType\":\"" BERTH_MEDIA_OCI_INDEX "\",\"manifests\":[],\"config\":{}}", &k, NULL), 0);
}

Test(detect, schema1_unknown_and_empty_are_refused)
{
  enum berth_oci_kind k;
  int code = 0;
  cr_expect_lt(detect("{\"schemaVersion\":1,\"fsLayers\":[]}", &k, &code), 0);
  cr_expect_eq(code, ENOTSUP);
  code = 0;
  cr_expect_lt(detect("{\"mediaType\":\"" BERTH_MEDIA_DOCKER_SCHEMA1_SIGNED "\"}", &k, &code), 0);
  cr_expect_eq(code, ENOTSUP);
  cr_expect_lt(detect("{\"mediaType\":\"application/json\",\"layers\":[]}", &k, NULL), 0);
  cr_expect_lt(detect("{\"mediaType\":[],\"layers\":[]}", &k, NULL), 0);
  cr_expect_lt(detect("{\"schemaVersion\":2}", &k, NULL), 0);
}

/* ------------------------------------------------------------ image config */

#define BUSYBOX_CONFIG                                                                                                \
  "{\"architecture\":\"amd64\",\"config\":{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\","                      \
  "\"AttachStdin\":false,\"AttachStdout\":false,\"AttachStderr\":false,\"Tty\":false,\"OpenStdin\":false,"            \
  "\"StdinOnce\":false,\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],"             \
  "\"Cmd\":[\"sh\"],\"Image\":\"sha256:" H3 "\",\"Volumes\":null,\"WorkingDir\":\"\",\"Entrypoint\":null,"            \
  "\"OnBuild\":null,\"Labels\":null,\"ExposedPorts\":{\"80/tcp\":{}},\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],"  \
  "\"Interval\":30000000000,\"Retries\":3},\"StopSignal\":\"SIGTERM\"},\"container\":\"abc\","                        \
  "\"container_config\":{\"Cmd\":[\"/bin/sh\",\"-c\",\"#(nop) \",\"CMD [\\\"sh\\\"]\"]},"                             \
  "\"created\":\"2023-05-19T20:19:24.343230047Z\",\"docker_version\":\"20.10.23\","                                   \
  "\"history\":[{\"created\":\"2023-05-19T20:19:24.17573616Z\",\"created_by\":\"/bin/sh -c #(nop) ADD file:x in / \"}," \
  "{\"created\":\"2023-05-19T20:19:24.343230047Z\",\"created_by\":\"/bin/sh -c #(nop)  CMD [\\\"sh\\\"]\","           \
  "\"empty_layer\":true}],\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\"]}}"

static json_t *load(const char *s)
{
  json_t *j = json_loads(s, 0, NULL);
  cr_assert_not_null(j, "bad test JSON: %s", s);
  return j;
}

Test(config, docker_config_validates)
{
  cleanup_json json_t *j = load(BUSYBOX_CONFIG);
  cleanup_error berth_error_t err = NULL;
  cleanup_strv char **ids = NULL;
  cr_expect_eq(berth_image_config_validate(j, &err), 0, "%s", err ? err->msg : "");
  ids = berth_image_config_diff_ids(j);
  cr_assert_not_null(ids);
  cr_expect_str_eq(ids[0], D1);
  cr_expect_null(ids[1]);
}

Test(config, minimal_oci_config_validates)
{
  static const char *const ok[] = {
      "{\"architecture\":\"arm64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
      "{\"architecture\":\"arm64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"}}",
      "{\"architecture\":\"arm\",\"variant\":\"v7\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":null},"
      "\"created\":\"0001-01-01T00:00:00Z\",\"config\":{\"Cmd\":\"sh\",\"Shell\":[\"/bin/sh\",\"-c\"]}}",
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"},\"created\":"
      "\"2024-02-29T23:59:59.1+05:30\",\"config\":null,\"history\":null}",
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"},\"created\":null,"
      "\"futureField\":[1,{\"x\":null}],\"os.features\":[\"a\"],\"os.version\":\"10\"}",
  };
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    cleanup_json json_t *j = load(ok[i]);
    cleanup_error berth_error_t err = NULL;
    cr_expect_eq(berth_image_config_validate(j, &err), 0, "%s: %s", ok[i], err ? err->msg : "");
  }
}

Test(config, invalid_configs_are_refused)
{
#define BASE "\"architecture\":\"amd64\",\"os\":\"linux\""
#define ROOTFS "\"rootfs\":{\"type\":\"layers\"}"
  static const char *const bad[][2] = {
      {"[]", "not a JSON object"},
      {"{\"os\":\"linux\"," ROOTFS "}", "architecture must be a non-empty string"},
      {"{\"architecture\":\"\",\"os\":\"linux\"," ROOTFS "}", "architecture must be a non-empty string"},
      {"{\"architecture\":\"amd64\",\"os\":3," ROOTFS "}", "os must be a non-empty string"},
      {"{" BASE "}", "rootfs must be an object"},
      {"{" BASE ",\"rootfs\":null}", "rootfs must be an object"},
      {"{" BASE ",\"rootfs\":{\"type\":\"layers+base\"}}", "rootfs.type must be \"layers\""},
      {"{" BASE ",\"rootfs\":{\"diff_ids\":[]}}", "rootfs.type must be \"layers\""},
      {"{" BASE ",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":{}}}", "rootfs.diff_ids must be an array"},
      {"{" BASE ",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:abc\"]}}", "rootfs.diff_ids[0]: invalid digest"},
      {"{" BASE ",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",1]}}", "rootfs.diff_ids[1] must be a string"},
      {"{" BASE "," ROOTFS ",\"created\":\"yesterday\"}", "created `yesterday` is not an RFC 3339 time"},
      {"{" BASE "," ROOTFS ",\"created\":\"2020-13-01T00:00:00Z\"}", "not an RFC 3339 time"},
      {"{" BASE "," ROOTFS ",\"created\":\"2021-02-29T00:00:00Z\"}", "not an RFC 3339 time"},
      {"{" BASE "," ROOTFS ",\"created\":\"2020-01-01 00:00:00Z\"}", "not an RFC 3339 time"},
      {"{" BASE "," ROOTFS ",\"created\":\"2020-01-01T00:00:00+1:2\"}", "not an RFC 3339 time"},
      {"{" BASE "," ROOTFS ",\"created\":\"2020-01-01T24:00:00Z\"}", "not an RFC 3339 time"},
      {"{" BASE "," ROOTFS ",\"created\":\"2020-01-01T00:00:00.Z\"}", "not an RFC 3339 time"},
      {"{" BASE "," ROOTFS ",\"created\":12}", "created has the wrong type"},
      {"{" BASE "," ROOTFS ",\"variant\":7}", "variant has the wrong type"},
      {"{" BASE "," ROOTFS ",\"config\":[]}", "config must be an object"},
      {"{" BASE "," ROOTFS ",\"config\":{\"Env\":\"A=1\"}}", "config: Env has the wrong type"},
      {"{" BASE "," ROOTFS ",\"config\":{\"Env\":[\"A=1\",2]}}", "config: Env has the wrong type"},
      {"{" BASE "," ROOTFS ",\"config\":{\"Cmd\":5}}", "config: Cmd has the wrong type"},
      {"{" BASE "," ROOTFS ",\"config\":{\"Entrypoint\":[null]}}", "config: Entrypoint has the wrong type"},
      {"{" BASE "," ROOTFS ",\"config\":{\"Labels\":{\"a\":1}}}", "config: Labels has the wrong type"},
      {"{" BASE "," ROOTFS ",\"config\":{\"ExposedPorts\":{\"80/tcp\":\"yes\"}}}", "ExposedPorts has the wrong type"},
      {"{" BASE "," ROOTFS ",\"config\":{\"Volumes\":[\"/data\"]}}", "Volumes has the wrong type"},
      {"{" BASE "," ROOTFS ",\"config\":{\"Tty\":\"true\"}}", "Tty has the wrong type"},
      {"{" BASE "," ROOTFS ",\"config\":{\"StopTimeout\":1.5}}", "StopTimeout has the wrong type"},
      {"{" BASE "," ROOTFS ",\"config\":{\"Healthcheck\":{\"Interval\":\"30s\"}}}",
       "config: Healthcheck: Interval has the wrong type"},
      {"{" BASE "," ROOTFS ",\"config\":{\"Healthcheck\":[]}}", "Healthcheck has the wrong type"},
      {"{" BASE "," ROOTFS ",\"container_config\":{\"User\":0}}", "container_config: User has the wrong type"},
      {"{" BASE "," ROOTFS ",\"history\":{}}", "history must be an array"},
      {"{" BASE "," ROOTFS ",\"history\":[1]}", "history[0] must be an object"},
      {"{" BASE "," ROOTFS ",\"history\":[{},{\"empty_layer\":\"yes\"}]}", "history[1]: empty_layer has the wrong type"},
      {"{" BASE "," ROOTFS ",\"history\":[{\"created\":\"bad\"}]}", "history[0]: created `bad` is not an RFC 3339"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cleanup_json json_t *j = load(bad[i][0]);
    cleanup_error berth_error_t err = NULL;
    cr_expect_lt(berth_image_config_validate(j, &err), 0, "must fail: %s", bad[i][0]);
    cr_assert_not_null(err, "%s", bad[i][0]);
    cr_expect(strncmp(err->msg, "invalid image config: ", 22) == 0, "%s", err->msg);
    cr_expect(strstr(err->msg, bad[i][1]) != NULL, "message `%s` lacks `%s`", err->msg, bad[i][1]);
  }
}

Test(config, null_is_refused)
{
  cleanup_error berth_error_t err = NULL;
  cr_expect_lt(berth_image_config_validate(NULL, &err), 0);
  cr_expect_null(berth_image_config_diff_ids(NULL));
}

Test(config, diff_ids_helper)
{
  cleanup_json json_t *none = load("{\"rootfs\":{\"type\":\"layers\"}}");
  cleanup_json json_t *bad = load("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:x\"]}}");
  cleanup_json json_t *two = load("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]}}");
  cleanup_strv char **a = berth_image_config_diff_ids(none);
  cleanup_strv char **b = berth_image_config_diff_ids(bad);
  cleanup_strv char **c = berth_image_config_diff_ids(two);
  cr_assert_not_null(a);
  cr_expect_null(a[0]);
  cr_expect_null(b);
  cr_assert_not_null(c);
  cr_expect_str_eq(c[1], D2);
  cr_expect_null(c[2]);
}

Test(config, parse_loads_and_validates)
{
  cleanup_error berth_error_t err = NULL;
  json_t *j = berth_image_config_parse(BUSYBOX_CONFIG, strlen(BUSYBOX_CONFIG), &err);
  cr_assert_not_null(j, "%s", err ? err->msg : "");
  json_decref(j);
  cr_expect_null(berth_image_config_parse("{\"a\":1,\"a\":2}", 13, &err));
  cr_expect_not_null(err);
}

Test(config, many_history_rows_validate)
{
  size_t n = 100000, len = 0, one = strlen("{\"created_by\":\"x\",\"empty_layer\":true},");
  char *doc = malloc(n * one + 256);
  cleanup_error berth_error_t err = NULL;
  json_t *j;
  cr_assert_not_null(doc);
  len += (size_t)sprintf(doc, "{" BASE "," ROOTFS ",\"history\":[");
  for (size_t i = 0; i < n; i++) {
    memcpy(doc + len, "{\"created_by\":\"x\",\"empty_layer\":true},", one);
    len += one;
  }
  doc[len - 1] = ']';
  doc[len++] = '}';
  j = berth_image_config_parse(doc, len, &err);
  cr_expect_not_null(j, "%s", err ? err->msg : "");
  json_decref(j);
  free(doc);
}

/* ------------------------------------------------------------ platforms */

static void expect_platform(const char *spec, const char *want)
{
  struct berth_platform p = {0};
  cleanup_error berth_error_t err = NULL;
  cleanup_free char *s = NULL;
  cr_assert_eq(berth_platform_parse(spec, &p, &err), 0, "%s: %s", spec, err ? err->msg : "");
  s = berth_platform_string(&p);
  cr_expect_str_eq(s, want, "platform `%s`", spec);
  berth_platform_clear(&p);
}

Test(platform, host_is_normalized)
{
  struct berth_platform p = {0};
  cleanup_free char *s = NULL;
  berth_platform_host(&p);
  s = berth_platform_string(&p);
  cr_expect_str_eq(p.os, "linux");
#if defined(__x86_64__)
  cr_expect_str_eq(s, "linux/amd64");
#elif defined(__aarch64__)
  cr_expect_str_eq(s, "linux/arm64");
#endif
  berth_platform_clear(&p);
}

Test(platform, parse_normalizes)
{
  expect_platform("linux/amd64", "linux/amd64");
  expect_platform("linux/x86_64", "linux/amd64");
  expect_platform("linux/amd64/v1", "linux/amd64");
  expect_platform("linux/amd64/v3", "linux/amd64/v3");
  expect_platform("linux/arm64", "linux/arm64");
  expect_platform("linux/arm64/v8", "linux/arm64");
  expect_platform("linux/aarch64", "linux/arm64");
  expect_platform("linux/arm", "linux/arm/v7");
  expect_platform("linux/arm/v6", "linux/arm/v6");
  expect_platform("linux/arm/7", "linux/arm/v7");
  expect_platform("linux/armhf", "linux/arm/v7");
  expect_platform("linux/armel", "linux/arm/v6");
  expect_platform("linux/i386", "linux/386");
  expect_platform("Linux/AMD64", "linux/amd64");
  expect_platform("arm64", "linux/arm64");
  expect_platform("x86_64", "linux/amd64");
  expect_platform("windows/amd64", "windows/amd64");
  expect_platform("macos/arm64", "darwin/arm64");
}

Test(platform, parse_refuses_garbage)
{
  static const char *const bad[] = {"", "foo", "linux/", "/amd64", "a/b/c/d", "linux/../x", "linux/amd 64", NULL};
  struct berth_platform p = {0};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cleanup_error berth_error_t err = NULL;
    cr_expect_lt(berth_platform_parse(bad[i], &p, &err), 0, "`%s`", bad[i] ? bad[i] : "(null)");
    cr_expect_not_null(err);
    cr_expect_null(p.os);
  }
}

static const char *select_digest(const char *entries, const char *want)
{
  static char out[BERTH_DIGEST_STR_LEN];
  cleanup_free char *doc = index_doc(entries);
  struct berth_index idx = {0};
  struct berth_platform p = {0};
  const struct berth_descriptor *d;
  cleanup_error berth_error_t err = NULL;
  parse_index(doc, &idx);
  if (want)
    cr_assert_eq(berth_platform_parse(want, &p, NULL), 0);
  d = berth_index_select(&idx, want ? &p : NULL, &err);
  snprintf(out, sizeof(out), "%s", d ? d->digest : err->msg);
  berth_platform_clear(&p);
  berth_index_clear(&idx);
  return out;
}

#define ALL ENTRY_ATTEST "," ENTRY_ARMV6 "," ENTRY_ARMV7 "," ENTRY_386 "," ENTRY_ARM64 "," ENTRY_AMD64

Test(platform, select_exact_matches)
{
  cr_expect_str_eq(select_digest(ALL, "linux/amd64"), "sha256:a000000000000000000000000000000000000000000000000000000000000000");
  cr_expect_str_eq(select_digest(ALL, "linux/arm64"), "sha256:a100000000000000000000000000000000000000000000000000000000000000");
  cr_expect_str_eq(select_digest(ALL, "linux/arm64/v8"), "sha256:a100000000000000000000000000000000000000000000000000000000000000");
  cr_expect_str_eq(select_digest(ALL, "linux/arm/v7"), "sha256:a200000000000000000000000000000000000000000000000000000000000000");
  cr_expect_str_eq(select_digest(ALL, "linux/arm/v6"), "sha256:a300000000000000000000000000000000000000000000000000000000000000");
  cr_expect_str_eq(select_digest(ALL, "linux/386"), "sha256:a400000000000000000000000000000000000000000000000000000000000000");
#if defined(__x86_64__)
  cr_expect_str_eq(select_digest(ALL, NULL), "sha256:a000000000000000000000000000000000000000000000000000000000000000");
#endif
}

Test(platform, select_falls_back_to_compatible_variants)
{
  /* amd64 runs 386; arm64 runs arm/v7 before v6; arm/v8 prefers v7. */
  cr_expect_str_eq(select_digest(ENTRY_ARMV6 "," ENTRY_386, "linux/amd64"),
                   "sha256:a400000000000000000000000000000000000000000000000000000000000000");
  cr_expect_str_eq(select_digest(ENTRY_ARMV6 "," ENTRY_ARMV7, "linux/arm64"),
                   "sha256:a200000000000000000000000000000000000000000000000000000000000000");
  cr_expect_str_eq(select_digest(ENTRY_ARMV6 "," ENTRY_ARMV7, "linux/arm/v8"),
                   "sha256:a200000000000000000000000000000000000000000000000000000000000000");
  cr_expect_str_eq(select_digest(ENTRY_ARMV6 "," ENTRY_AMD64, "linux/arm/v7"),
                   "sha256:a300000000000000000000000000000000000000000000000000000000000000");
}

Test(platform, select_reports_no_match_like_docker)
{
  cr_expect_str_eq(select_digest(ALL, "linux/s390x"), "no matching manifest for linux/s390x in the manifest list entries");
  cr_expect_str_eq(select_digest(ENTRY_ARMV7, "linux/arm/v6"),
                   "no matching manifest for linux/arm/v6 in the manifest list entries");
  cr_expect_str_eq(select_digest(ENTRY_ATTEST, "linux/amd64"),
                   "no matching manifest for linux/amd64 in the manifest list entries");
  cr_expect_str_eq(select_digest("", "windows/amd64"),
                   "no matching manifest for windows/amd64 in the manifest list entries");
}

Test(platform, select_skips_non_manifests_and_uses_unplatformed_last)
{
  const char *nested = "{\"mediaType\":\"" BERTH_MEDIA_OCI_INDEX "\",\"size\":1,\"digest\":\"" D1
                       "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}";
  const char *bare = "{\"mediaType\":\"" BERTH_MEDIA_OCI_MANIFEST "\",\"size\":1,\"digest\":\"" D2 "\"}";
  cleanup_free char *e1 = NULL, *e2 = NULL;
  cr_assert(asprintf(&e1, "%s,%s", nested, bare) > 0);
  cr_expect_str_eq(select_digest(e1, "linux/amd64"), D2);
  cr_assert(asprintf(&e2, "%s,%s", bare, ENTRY_AMD64) > 0);
  cr_expect_str_eq(select_digest(e2, "linux/amd64"), "sha256:a000000000000000000000000000000000000000000000000000000000000000");
}

Test(platform, compatibility)
{
  struct berth_platform arm64 = {0}, amd64 = {0};
  cr_assert_eq(berth_platform_parse("linux/arm64", &arm64, NULL), 0);
  cr_assert_eq(berth_platform_parse("linux/amd64", &amd64, NULL), 0);
  cr_expect(berth_platform_is_compatible(&arm64, "linux", "aarch64", "v8"));
  cr_expect(berth_platform_is_compatible(&arm64, "linux", "arm", "v5"));
  cr_expect_not(berth_platform_is_compatible(&arm64, "linux", "amd64", NULL));
  cr_expect_not(berth_platform_is_compatible(&arm64, "windows", "arm64", NULL));
  cr_expect(berth_platform_is_compatible(&amd64, "linux", "x86_64", NULL));
  cr_expect(berth_platform_is_compatible(&amd64, "linux", "amd64", "v1"));
  cr_expect(berth_platform_is_compatible(&amd64, "linux", "386", NULL));
  cr_expect_not(berth_platform_is_compatible(&amd64, "linux", "amd64", "v3"));
  cr_expect_not(berth_platform_is_compatible(&amd64, NULL, "amd64", NULL));
  berth_platform_clear(&arm64);
  berth_platform_clear(&amd64);
}

/* ------------------------------------------------------------ media types */

Test(media, helpers)
{
  cr_expect(berth_media_type_is_manifest(BERTH_MEDIA_DOCKER_MANIFEST));
  cr_expect(berth_media_type_is_index(BERTH_MEDIA_DOCKER_MANIFEST_LIST));
  cr_expect(berth_media_type_is_config(BERTH_MEDIA_OCI_CONFIG));
  cr_expect_not(berth_media_type_is_config(BERTH_MEDIA_OCI_EMPTY));
  cr_expect(berth_media_type_is_layer(BERTH_MEDIA_DOCKER_LAYER_FOREIGN_GZIP));
  cr_expect_not(berth_media_type_is_layer(NULL));
  cr_expect_eq(berth_layer_compression(BERTH_MEDIA_OCI_LAYER), BERTH_COMPRESSION_NONE);
  cr_expect_eq(berth_layer_compression(BERTH_MEDIA_DOCKER_LAYER_FOREIGN_GZIP), BERTH_COMPRESSION_GZIP);
  cr_expect_eq(berth_layer_compression(BERTH_MEDIA_OCI_LAYER_ND_ZSTD), BERTH_COMPRESSION_ZSTD);
  cr_expect_eq(berth_layer_compression("text/gzip"), BERTH_COMPRESSION_NONE);
  cr_expect_not(berth_media_type_is_foreign_layer(BERTH_MEDIA_OCI_LAYER_GZIP));
}
