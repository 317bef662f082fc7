/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A registry endpoint as the distribution client talks to it: its base URL
 * (https, or http for loopback and registries marked insecure), the
 * credentials for it (docker's config.json, or given), and its auth state:
 * anonymous, basic, or bearer tokens fetched from the challenge's realm and
 * kept per scope.  A client is shared by the threads of one operation (its
 * state is locked); each thread has its own struct berth_http. */
#ifndef BERTH_REGISTRY_CLIENT_H
#define BERTH_REGISTRY_CLIENT_H

#include <pthread.h>
#include <stdbool.h>

#include <jansson.h>

#include <berth/error.h>

#include "base/digest.h"
#include "base/http.h"
#include "oci/reference.h"

struct berth_challenge {
  char *scheme; /* "basic", "bearer" (lower-cased) */
  char *realm, *service, *scope;
};
/* Parse a WWW-Authenticate value (the first challenge in it). */
int berth_challenge_parse(const char *header, struct berth_challenge *ret, berth_error_t *err);
void berth_challenge_clear(struct berth_challenge *c);

struct berth_registry_token {
  char *scope, *token;
};

struct berth_registry {
  char *domain; /* as in references: "docker.io", "localhost:5000" */
  char *host;   /* where the API is: "registry-1.docker.io", "localhost:5000" */
  char *base;   /* "https://HOST" or "http://HOST" */
  char *user, *password; /* NULL when anonymous */
  pthread_mutex_t lock;
  struct berth_challenge challenge; /* scheme NULL: none asked for (yet) */
  struct berth_registry_token *tokens;
  size_t n_tokens;
};

struct berth_registry_opts {
  const char *user, *password; /* given (login): used instead of config.json */
  bool anonymous;              /* use no stored credentials */
  bool insecure;               /* plain HTTP allowed (manifest inspect --insecure) */
};

/* Resolve the endpoint of `domain` and ping it (GET /v2/) through h,
 * learning its auth scheme; the requests that follow on h reuse the
 * connection.  *ret is freed with berth_registry_free(). */
int berth_registry_open(const char *domain, const struct berth_registry_opts *opts, struct berth_http *h,
                        struct berth_registry **ret, berth_error_t *err);
void berth_registry_free(struct berth_registry *r);
/* The request with the auth `scope` needs ("repository:NAME:pull", NULL for
 * none): credentials go only to this registry and to the token realm its own
 * challenge names; a 401 is answered once (a token for the scope, or basic
 * credentials) and the request repeated.  A 401 that stays is EACCES
 * "unauthorized: ...". */
int berth_registry_do(struct berth_registry *r, struct berth_http *h, const char *scope,
                      const struct berth_http_request *req, struct berth_http_response *resp, berth_error_t *err);
/* A JSON document the registry serves (16 MiB at most). */
struct berth_registry_get {
  const char *url, *scope; /* scope: as for berth_registry_do */
  const char *what;        /* the operation, prefixed to the registry's errors: "list tags" */
  const char *doc;         /* the document, named in parse errors: "tag list" */
  bool missing_ok;         /* a 404 is no error */
};
/* GET it: 1 with the document in *ret (and the Link header in *ret_link
 * when that is not NULL; caller frees) on 200; 0 on a 404 when missing_ok;
 * else -1, the registry's error prefixed with `what`. */
int berth_registry_get_json(struct berth_registry *r, struct berth_http *h, const struct berth_registry_get *g,
                            json_t **ret, char **ret_link, berth_error_t *err);
/* GET /v2/REPO/KIND/REF (KIND "manifests", with every manifest and index
 * type accepted, or "blobs"), at most `max` bytes; a non-200 is an error
 * ("manifest for NAME:TAG not found" for a 404 manifest). */
int berth_registry_fetch_small(struct berth_registry *reg, struct berth_http *h, const struct berth_reference *repo,
                               const char *scope, const char *kind, const char *ref, size_t max,
                               struct berth_http_response *resp, berth_error_t *err);
/* Check a fetched document against what named it: its digest (when the
 * reference or a descriptor gives one, or the registry's header does) and
 * its size (from a descriptor, -1 when none); *got: its digest. */
int berth_registry_check_doc(const struct berth_http_response *resp, const char *want_digest, int64_t want_size,
                             char got[BERTH_DIGEST_STR_LEN], berth_error_t *err);
/* An error for a non-2xx response: the registry's own errors[] message when
 * it sent one ("manifest unknown: manifest unknown"), else the status. */
int berth_registry_status_error(const struct berth_http_response *resp, const char *what, berth_error_t *err);
/* True for loopback hosts and those listed under "insecure-registries" in
 * berth's config ($BERTH_CONFIG, default /etc/berth/config.json). */
bool berth_registry_is_insecure(const char *host);

/* ---- credentials: docker's config.json ($DOCKER_CONFIG/config.json or
 * ~/.docker/config.json), "auths": {KEY: {"auth": base64(user:password)}};
 * KEY is the host, "https://index.docker.io/v1/" for docker.io. ---- */
/* The key docker files a registry's credentials under. */
const char *berth_creds_key(const char *domain);
/* ENOENT when none are stored. */
int berth_creds_get(const char *domain, char **ret_user, char **ret_password, berth_error_t *err);
int berth_creds_store(const char *domain, const char *user, const char *password, berth_error_t *err);
/* ENOENT when none were stored. */
int berth_creds_erase(const char *domain, berth_error_t *err);

#endif
