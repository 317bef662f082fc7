/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nftables through libnftables, loaded with dlopen() on first use: linked
 * in, it and its libraries (libnftnl, libgmp, libxtables, ...) would cost
 * every berth command their loading, and only network changes need it.
 * Callers only ever name berth's own table (`ip berth`); nothing here lists,
 * flushes or edits anything else. */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "base/cleanup.h"
#include "net/net.h"

struct nft_api {
  struct nft_ctx *(*ctx_new)(uint32_t);
  void (*ctx_free)(struct nft_ctx *);
  int (*buffer_output)(struct nft_ctx *);
  int (*buffer_error)(struct nft_ctx *);
  const char *(*get_error)(struct nft_ctx *);
  int (*run)(struct nft_ctx *, const char *);
};

static int load_nft(struct nft_api *api, berth_error_t *err)
{
  static void *h;
  if (!h)
    h = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!h)
    return berth_error_set_plain(err, ENOENT, "load libnftables: %s", dlerror());
  static const char *const names[] = {"nft_ctx_new",          "nft_ctx_free",           "nft_ctx_buffer_output",
                                      "nft_ctx_buffer_error", "nft_ctx_get_error_buffer", "nft_run_cmd_from_buffer"};
  void **slots[] = {(void **)&api->ctx_new,      (void **)&api->ctx_free,  (void **)&api->buffer_output,
                    (void **)&api->buffer_error, (void **)&api->get_error, (void **)&api->run};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!(*slots[i] = dlsym(h, names[i])))
      return berth_error_set_plain(err, ENOENT, "load libnftables: no %s", names[i]);
  return 0;
}

int berth_nft_run(const char *script, berth_error_t *err)
{
  struct nft_api api;
  if (load_nft(&api, err) < 0)
    return -1;
  struct nft_ctx *ctx = api.ctx_new(0);
  if (!ctx)
    return berth_error_set_plain(err, ENOMEM, "nftables context");
  (void)api.buffer_output(ctx);
  (void)api.buffer_error(ctx);
  int r = 0;
  if (api.run(ctx, script) != 0) {
    char *msg = strdup(api.get_error(ctx) ? api.get_error(ctx) : "");
    size_t len = msg ? strlen(msg) : 0;
    while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
      msg[--len] = '\0';
    r = berth_error_set_plain(err, EIO, "nftables: %s", msg && *msg ? msg : "the transaction was refused");
    free(msg);
  }
  api.ctx_free(ctx);
  return r;
}
