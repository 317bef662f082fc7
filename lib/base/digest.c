/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Content digests: streaming sha256 (OpenSSL) and strict digest validation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <dlfcn.h>
#include <pthread.h>

#include <openssl/evp.h>

#include <berth/log.h>

#include "base/digest.h"

/* libcrypto is loaded on the first digest: linked in, its 21 000
 * relocations (400 kB of pages copied and patched) are paid by every
 * command, `ps` and `run` included, that never hashes anything. */
static struct {
  EVP_MD_CTX *(*ctx_new)(void);
  void (*ctx_free)(EVP_MD_CTX *);
  const EVP_MD *(*sha256)(void);
  int (*init)(EVP_MD_CTX *, const EVP_MD *, ENGINE *);
  int (*update)(EVP_MD_CTX *, const void *, size_t);
  int (*final)(EVP_MD_CTX *, unsigned char *, unsigned int *);
} evp;

static void load_crypto(void)
{
  void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
  static const char *const names[] = {"EVP_MD_CTX_new",     "EVP_MD_CTX_free",     "EVP_sha256",
                                      "EVP_DigestInit_ex", "EVP_DigestUpdate", "EVP_DigestFinal_ex"};
  void **slots[] = {(void **)&evp.ctx_new, (void **)&evp.ctx_free, (void **)&evp.sha256,
                    (void **)&evp.init,    (void **)&evp.update,   (void **)&evp.final};
  if (!h)
    h = dlopen("libcrypto.so", RTLD_NOW | RTLD_LOCAL);
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!h || !(*slots[i] = dlsym(h, names[i]))) {
      berth_log_write(BERTH_LOG_ERROR, "digest", "cannot load libcrypto for sha256: %s", dlerror());
      abort();
    }
}

struct berth_sha256 {
  EVP_MD_CTX *ctx;
};

struct berth_sha256 *berth_sha256_new(void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, load_crypto);
  struct berth_sha256 *h = calloc(1, sizeof(*h));
  if (!h || !(h->ctx = evp.ctx_new()) || evp.init(h->ctx, evp.sha256(), NULL) != 1)
    abort();
  return h;
}

void berth_sha256_update(struct berth_sha256 *h, const void *data, size_t len)
{
  if (h && len && evp.update(h->ctx, data, len) != 1)
    abort();
}

void berth_sha256_free(struct berth_sha256 *h)
{
  if (!h)
    return;
  evp.ctx_free(h->ctx);
  free(h);
}

void berth_sha256_final(struct berth_sha256 *h, char out[BERTH_DIGEST_STR_LEN])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char md[32];
  unsigned int n = 0;
  if (!h) {
    out[0] = '\0';
    return;
  }
  if (evp.final(h->ctx, md, &n) != 1 || n != 32)
    abort();
  memcpy(out, "sha256:", 7);
  for (unsigned i = 0; i < 32; i++) {
    out[7 + 2 * i] = hex[md[i] >> 4];
    out[8 + 2 * i] = hex[md[i] & 15];
  }
  out[BERTH_DIGEST_STR_LEN - 1] = '\0';
  berth_sha256_free(h);
}

void berth_sha256_buf(const void *data, size_t len, char out[BERTH_DIGEST_STR_LEN])
{
  struct berth_sha256 *h = berth_sha256_new();
  berth_sha256_update(h, data, len);
  berth_sha256_final(h, out);
}

bool berth_hex64_is_valid(const char *hex)
{
  size_t i;
  if (!hex)
    return false;
  for (i = 0; i < BERTH_DIGEST_HEX_LEN; i++) {
    char c = hex[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  }
  return hex[i] == '\0';
}

bool berth_digest_is_valid(const char *digest)
{
  return digest && strncmp(digest, "sha256:", 7) == 0 && berth_hex64_is_valid(digest + 7);
}

int berth_digest_validate(const char *digest, berth_error_t *err)
{
  if (berth_digest_is_valid(digest))
    return 0;
  if (digest && strchr(digest, ':') && strncmp(digest, "sha256:", 7) != 0)
    return berth_error_set_plain(err, EINVAL, "unsupported digest algorithm in `%.80s`", digest);
  return berth_error_set_plain(err, EINVAL, "invalid digest `%.80s`", digest ? digest : "");
}
