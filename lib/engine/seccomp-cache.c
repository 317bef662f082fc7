/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compiled seccomp filters, cached in the run dir by a hash of their OCI
 * JSON (RUNROOT/seccomp/<hash>.bpf, with the JSON itself beside it in
 * <hash>.json: a hit must match it byte for byte, so the hash needs no
 * cryptographic strength, and libcrypto's ~1 ms start-up stays off `run`).  Turning docker's default profile into
 * BPF with libseccomp takes ~15 ms: paid once per distinct profile instead of
 * on every start.  The runtime loads the file named by the spec annotation
 * berth.seccomp.bpf instead of compiling; the run dir is root's alone (0700),
 * and a file is only ever made whole by rename. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "engine/engine-internal.h"
#include "oci/runtime-spec.h"
#include "runtime/seccomp.h"

/* 128 bits of FNV-1a (two 64-bit lanes with different offsets), as hex. */
static void profile_hash(const char *s, char out[33])
{
  uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    a = (a ^ *p) * 0x100000001b3ULL;
    b = (b ^ *p) * 0x100000001b3ULL;
    b ^= b >> 29;
  }
  snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

/* Is there a compiled filter for exactly this profile text? */
static bool cached(int dirfd, const char *hash, const char *text)
{
  char json_name[48], bpf_name[48];
  snprintf(json_name, sizeof json_name, "%s.json", hash);
  snprintf(bpf_name, sizeof bpf_name, "%s.bpf", hash);
  cleanup_free char *buf = NULL;
  size_t len = 0;
  return faccessat(dirfd, bpf_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
         berth_read_file_at(dirfd, json_name, &buf, &len, NULL) == 0 && len == strlen(text) &&
         memcmp(buf, text, len) == 0;
}

static int compile_into(const json_t *spec, int dirfd, const char *hash, const char *text, berth_error_t *err)
{
  char json_name[48], name[48];
  snprintf(json_name, sizeof json_name, "%s.json", hash);
  snprintf(name, sizeof name, "%s.bpf", hash);
  struct berth_spec *parsed = berth_spec_parse(spec, NULL, err);
  if (!parsed)
    return -1;
  cleanup_free void *bpf = NULL;
  size_t len = 0;
  int r = berth_seccomp_compile(parsed->seccomp, &bpf, &len, err);
  berth_spec_free(parsed);
  if (r < 0)
    return -1;
  /* the text last: a hit needs both, and the text is what a hit is checked against */
  if (berth_write_file_atomic(dirfd, name, bpf, len, 0600, err) < 0)
    return -1;
  return berth_write_file_atomic(dirfd, json_name, text, strlen(text), 0600, err);
}

int berth_seccomp_cache_prepare(struct berth_engine *e, json_t *spec, berth_error_t *err)
{
  const json_t *sc = json_object_get(json_object_get(spec, "linux"), "seccomp");
  if (!sc)
    return 0;
  cleanup_free char *dump = json_dumps(sc, JSON_SORT_KEYS | JSON_COMPACT);
  if (!dump)
    return berth_error_set(err, ENOMEM, "seccomp profile");
  char hash[33], *path = NULL;
  profile_hash(dump, hash);
  if (berth_mkdir_p(e->store->runroot_fd, "seccomp", 0700, err) < 0)
    return -1;
  cleanup_close int dirfd = openat(e->store->runroot_fd, "seccomp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return berth_error_set(err, errno, "open the seccomp cache");
  if (!cached(dirfd, hash, dump) && compile_into(spec, dirfd, hash, dump, err) < 0)
    return -1;
  if (asprintf(&path, "%s/seccomp/%s.bpf", e->store->runroot, hash) < 0)
    abort();
  json_t *ann = json_object_get(spec, "annotations");
  if (!json_is_object(ann))
    json_object_set_new(spec, "annotations", ann = json_object());
  json_object_set_new(ann, "berth.seccomp.bpf", json_string(path));
  free(path);
  return 0;
}
