/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `manifest inspect`: a manifest or index as the registry serves it, with
 * what the docker CLI shows of it.  docker re-marshals its own structs, so
 * the keys come in the order of those structs (docker/distribution's
 * descriptor: mediaType, size, digest; OCI's: mediaType, digest, size) and
 * empty fields are left out, as Go's omitempty does. */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "oci/image-spec.h"
#include "registry/client.h"
#include "registry/registry-internal.h"
#include "registry/registry.h"

/* Copy the keys of src into dst in this order, leaving out absent and empty
 * ones; `required` ones are copied even when empty. */
static void copy_keys(json_t *dst, const json_t *src, const char *const *keys, const char *const *required)
{
  for (const char *const *k = keys; *k; k++) {
    json_t *v = json_object_get(src, *k);
    bool req = false;
    for (const char *const *r = required; r && *r; r++)
      req |= strcmp(*r, *k) == 0;
    if (!v && !req)
      continue;
    if (!req && ((json_is_string(v) && !*json_string_value(v)) || (json_is_array(v) && !json_array_size(v)) ||
                 (json_is_object(v) && !json_object_size(v)) || (json_is_integer(v) && !json_integer_value(v))))
      continue;
    json_object_set(dst, *k, v ? v : json_null());
  }
}

static json_t *platform(const json_t *src)
{
  static const char *const keys[] = {"architecture", "os", "os.version", "os.features", "variant", "features", NULL};
  json_t *p = json_object();
  copy_keys(p, src, keys, NULL);
  return p;
}

/* A descriptor: docker/distribution's order, or OCI's. */
static json_t *descriptor(const json_t *d, bool oci)
{
  static const char *const dist[] = {"mediaType", "size", "digest", "urls", "annotations", NULL};
  static const char *const ocik[] = {"mediaType", "digest", "size", "urls", "annotations", "data", NULL};
  static const char *const oci_required[] = {"mediaType", "digest", "size", NULL};
  json_t *out = json_object();
  copy_keys(out, d, oci ? ocik : dist, oci ? oci_required : NULL);
  if (json_object_size(json_object_get(d, "platform")))
    json_object_set_new(out, "platform", platform(json_object_get(d, "platform")));
  if (oci && berth_json_str(d, "artifactType") && *berth_json_str(d, "artifactType"))
    json_object_set(out, "artifactType", json_object_get(d, "artifactType"));
  return out;
}

/* The manifest as docker's OCIManifest / SchemaV2Manifest struct. */
static json_t *manifest_struct(const json_t *m, bool oci)
{
  json_t *out = json_object(), *layers = json_array(), *l;
  size_t i;
  json_object_set(out, "schemaVersion", json_object_get(m, "schemaVersion"));
  if (berth_json_str(m, "mediaType"))
    json_object_set(out, "mediaType", json_object_get(m, "mediaType"));
  if (oci && berth_json_str(m, "artifactType"))
    json_object_set(out, "artifactType", json_object_get(m, "artifactType"));
  json_object_set_new(out, "config", descriptor(json_object_get(m, "config"), oci));
  json_array_foreach(json_object_get(m, "layers"), i, l) json_array_append_new(layers, descriptor(l, oci));
  json_object_set_new(out, "layers", layers);
  if (oci && json_object_get(m, "subject"))
    json_object_set_new(out, "subject", descriptor(json_object_get(m, "subject"), true));
  if (json_object_size(json_object_get(m, "annotations")))
    json_object_set(out, "annotations", json_object_get(m, "annotations"));
  return out;
}

struct session {
  struct berth_registry *reg;
  struct berth_http *h;
  const struct berth_reference *ref;
  char *scope;
};

/* GET a document by tag or digest, checked against its digest. */
static int get(struct session *s, const char *kind, const char *name, size_t max, struct berth_http_response *resp,
               char digest[BERTH_DIGEST_STR_LEN], berth_error_t *err)
{
  if (berth_registry_fetch_small(s->reg, s->h, s->ref, s->scope, kind, name, max, resp, err) < 0)
    return -1;
  if (berth_registry_check_doc(resp, berth_digest_is_valid(name) ? name : NULL, -1, digest, err) < 0) {
    berth_http_response_clear(resp);
    return -1;
  }
  return 0;
}

/* docker's ImageManifest: Ref, Descriptor, Raw (base64) and the manifest. */
static json_t *image_manifest(struct session *s, const char *ref_text, const struct berth_http_response *resp,
                              const char *digest, const json_t *plat, berth_error_t *err)
{
  json_error_t jerr;
  cleanup_json json_t *m = json_loadb(resp->body, resp->body_len, 0, &jerr);
  const char *mt = berth_json_str(m, "mediaType");
  bool oci = !mt || strcmp(mt, BERTH_MEDIA_DOCKER_MANIFEST) != 0;
  cleanup_json json_t *cfg_plat = NULL;
  if (!json_is_object(m) || !json_is_object(json_object_get(m, "config"))) {
    berth_error_set_plain(err, EINVAL, "manifest %s: not an image manifest", digest);
    return NULL;
  }
  if (!plat) { /* a manifest alone: its platform is its config's */
    struct berth_http_response cresp;
    char cd[BERTH_DIGEST_STR_LEN];
    const char *config = berth_json_str(json_object_get(m, "config"), "digest");
    if (!config || get(s, "blobs", config, BERTH_OCI_MAX_CONFIG_SIZE, &cresp, cd, err) < 0)
      return config ? NULL : (berth_error_set_plain(err, EINVAL, "manifest %s: no config", digest), NULL);
    cfg_plat = json_loadb(cresp.body, cresp.body_len, 0, &jerr);
    berth_http_response_clear(&cresp);
    plat = cfg_plat;
  }
  cleanup_free char *raw = berth_base64_encode(resp->body, resp->body_len);
  json_t *desc = json_pack("{s:s, s:s, s:I}", "mediaType", mt ? mt : BERTH_MEDIA_OCI_MANIFEST, "digest", digest, "size",
                           (json_int_t)resp->body_len);
  json_t *p = platform(plat);
  if (json_object_size(p))
    json_object_set_new(desc, "platform", p);
  else
    json_decref(p);
  return json_pack("{s:s, s:o, s:s, s:o}", "Ref", ref_text, "Descriptor", desc, "Raw", raw,
                   oci ? "OCIManifest" : "SchemaV2Manifest", manifest_struct(m, oci));
}

/* For an index: docker's rebuilt list (mediaType, size, digest, platform of
 * each entry; three-space indentation is the caller's) and, verbose, each
 * entry's ImageManifest. */
static int inspect_index(struct session *s, const char *ref_text, const json_t *idx, json_t *out, berth_error_t *err)
{
  json_t *list = json_array(), *manifests = json_array(), *d;
  size_t i;
  json_object_set_new(out, "Index", json_pack("{s:i, s:O, s:o}", "schemaVersion", 2, "mediaType",
                                              json_object_get(idx, "mediaType"), "manifests", list));
  json_object_set_new(out, "Manifests", manifests);
  json_array_foreach(json_object_get(idx, "manifests"), i, d)
  {
    const char *digest = berth_json_str(d, "digest");
    json_t *e = json_pack("{s:O, s:O, s:O}", "mediaType", json_object_get(d, "mediaType"), "size",
                          json_object_get(d, "size"), "digest", json_object_get(d, "digest"));
    json_object_set_new(e, "platform", platform(json_object_get(d, "platform")));
    json_array_append_new(list, e);
    struct berth_http_response resp;
    char got[BERTH_DIGEST_STR_LEN];
    cleanup_free char *entry_ref = NULL;
    if (!digest || asprintf(&entry_ref, "%s@%s", ref_text, digest) < 0 ||
        get(s, "manifests", digest, BERTH_OCI_MAX_MANIFEST_SIZE, &resp, got, err) < 0)
      return digest ? -1 : berth_error_set_plain(err, EINVAL, "index entry %zu has no digest", i);
    json_t *im = image_manifest(s, entry_ref, &resp, got, json_object_get(d, "platform"), err);
    berth_http_response_clear(&resp);
    if (!im)
      return -1;
    json_array_append_new(manifests, im);
  }
  return 0;
}

json_t *berth_registry_inspect(const struct berth_reference *ref, bool insecure, berth_error_t *err)
{
  struct berth_registry_opts opts = {.insecure = insecure};
  struct session s = {.ref = ref};
  struct berth_http_response resp = {0};
  char digest[BERTH_DIGEST_STR_LEN];
  cleanup_free char *ref_text = berth_reference_string(ref);
  cleanup_json json_t *out = json_object(), *doc = NULL;
  const char *name = ref->digest ? ref->digest : ref->tag ? ref->tag : "latest";
  json_t *ret = NULL;
  json_error_t jerr;
  if (asprintf(&s.scope, "repository:%s:pull", ref->path) < 0)
    abort();
  if (berth_http_new(&s.h, err) < 0 || berth_registry_open(ref->domain, &opts, s.h, &s.reg, err) < 0)
    goto out;
  if (get(&s, "manifests", name, BERTH_OCI_MAX_MANIFEST_SIZE, &resp, digest, err) < 0) {
    if ((*err)->code == ENOENT) { /* docker's words */
      berth_error_release(err);
      berth_error_set_plain(err, ENOENT, "no such manifest: %s", ref_text);
    }
    goto out;
  }
  doc = json_loadb(resp.body, resp.body_len, 0, &jerr); /* not inside json_is_object: a macro, it would parse twice */
  if (!json_is_object(doc)) {
    berth_error_set_plain(err, EINVAL, "manifest of %s: %s", ref_text, doc ? "not an object" : jerr.text);
    goto out;
  }
  json_object_set_new(out, "Raw", json_stringn(resp.body, resp.body_len));
  if (json_is_array(json_object_get(doc, "manifests"))) {
    json_object_set_new(out, "List", json_true());
    if (inspect_index(&s, ref_text, doc, out, err) < 0)
      goto out;
  } else {
    json_t *im = image_manifest(&s, ref_text, &resp, digest, NULL, err);
    if (!im)
      goto out;
    json_object_set_new(out, "List", json_false());
    json_object_set_new(out, "Manifests", json_pack("[o]", im));
  }
  ret = steal_ptr(&out);
out:
  berth_http_response_clear(&resp);
  berth_http_free(s.h);
  berth_registry_free(s.reg);
  free(s.scope);
  return ret;
}
