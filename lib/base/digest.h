/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Content digests: streaming sha256 and strict validation of "sha256:<hex>". */
#ifndef BERTH_DIGEST_H
#define BERTH_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include <berth/error.h>

#define BERTH_DIGEST_HEX_LEN 64
/* "sha256:" + 64 hex + NUL */
#define BERTH_DIGEST_STR_LEN (7 + BERTH_DIGEST_HEX_LEN + 1)

struct berth_sha256; /* opaque streaming context */

struct berth_sha256 *berth_sha256_new(void);
/* h may be NULL (nothing is hashed; final writes ""). */
void berth_sha256_update(struct berth_sha256 *h, const void *data, size_t len);
/* Write "sha256:<hex>" into out (BERTH_DIGEST_STR_LEN bytes) and free h. */
void berth_sha256_final(struct berth_sha256 *h, char out[BERTH_DIGEST_STR_LEN]);
void berth_sha256_free(struct berth_sha256 *h);
void berth_sha256_buf(const void *data, size_t len, char out[BERTH_DIGEST_STR_LEN]);

/* True for exactly "sha256:" followed by 64 lower-case hex digits. */
bool berth_digest_is_valid(const char *digest);
/* True for exactly 64 lower-case hex digits. */
bool berth_hex64_is_valid(const char *hex);
int berth_digest_validate(const char *digest, berth_error_t *err);
/* Pointer to the hex part of a valid digest. */
static inline const char *berth_digest_hex(const char *digest) { return digest + 7; }

#endif
