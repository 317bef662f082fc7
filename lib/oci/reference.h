/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Docker image references ("busybox", "localhost:5000/x:1", "repo@sha256:..."),
 * parsed and normalized exactly as docker does (distribution/reference
 * ParseNormalizedNamed): a first component with '.' or ':', "localhost" or an
 * upper-case letter is a registry domain; anything else lives on docker.io,
 * where a single component gets the "library/" namespace; "index.docker.io"
 * is docker.io.  Grammar:
 *
 *   reference := name [":" tag] ["@" digest]
 *   name      := [domain "/"] component ("/" component)*
 *   domain    := (label ("." label)* | "[" ipv6 "]") [":" port]
 *   component := [a-z0-9]+ (([._] | "__" | "-"+) [a-z0-9]+)*   path <= 255 chars
 *   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest    := "sha256:" 64 lower-case hex  (other algorithms: refused)
 *
 * All functions are thread-safe (no shared state). */
#ifndef BERTH_OCI_REFERENCE_H
#define BERTH_OCI_REFERENCE_H

#include <stdbool.h>

#include <berth/error.h>

#define BERTH_REFERENCE_DEFAULT_DOMAIN "docker.io"
#define BERTH_REFERENCE_DEFAULT_TAG "latest"
#define BERTH_REFERENCE_PATH_MAX 255
#define BERTH_REFERENCE_TAG_MAX 128

struct berth_reference {
  char *domain; /* "docker.io", "localhost:5000", "127.0.0.1:5000"; never NULL once parsed */
  char *path;   /* "library/busybox" */
  char *tag;    /* NULL if none */
  char *digest; /* "sha256:<64 hex>", NULL if none */
};

/* Parse and normalize a user-supplied reference into *ret (all fields owned by
 * *ret, free with berth_reference_clear).  Does not add a default tag.  On
 * failure sets err (code EINVAL) with docker's text, e.g. "invalid reference
 * format", "invalid reference format: repository name (library/Busybox) must
 * be lowercase", "repository name must not be more than 255 characters",
 * "invalid repository name (<64 hex>), cannot specify 64-byte hexadecimal
 * strings", "invalid checksum digest length", "unsupported digest algorithm";
 * *ret is then left empty. */
int berth_reference_parse(const char *s, struct berth_reference *ret, berth_error_t *err);
/* Add the tag "latest" when the reference has neither tag nor digest. */
void berth_reference_with_default_tag(struct berth_reference *r);
/* "docker.io/library/busybox:latest", "...@sha256:..", "repo:tag@digest".
 * Caller frees; these string builders abort on out-of-memory. */
char *berth_reference_string(const struct berth_reference *r);
/* "docker.io/library/busybox" */
char *berth_reference_repository(const struct berth_reference *r);
/* The name docker prints in its REPOSITORY column: "busybox", "user/x",
 * "localhost:5000/x" (docker.io/ and a lone library/ are dropped). */
char *berth_reference_familiar_repository(const struct berth_reference *r);
/* familiar repository plus ":tag" and/or "@digest": "busybox:latest". */
char *berth_reference_familiar_string(const struct berth_reference *r);
/* Free the fields and reset them to NULL; accepts an empty or NULL reference. */
void berth_reference_clear(struct berth_reference *r);

/* True for a non-empty string of lower-case hex digits only. */
bool berth_reference_is_hex(const char *s);
/* Looks like a (possibly short) image id: 1 to 64 lower-case hex digits,
 * optionally after "sha256:".  The store resolves prefixes; a full 64-hex
 * string is always an id, never a name (docker refuses it as a name). */
bool berth_reference_is_id_prefix(const char *s);
/* Exactly a full id: 64 lower-case hex, or "sha256:" + 64 lower-case hex. */
bool berth_reference_is_full_id(const char *s);
/* True when `tag` is a valid tag on its own (for `tag` targets, tag lists). */
bool berth_reference_tag_is_valid(const char *tag);

#endif
