/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compiled seccomp filters, cached in the run dir by the sha256 of their OCI
 * JSON (RUNROOT/seccomp/<hex>.bpf).  Turning docker's default profile into
 * BPF with libseccomp takes ~15 ms: paid once per distinct profile instead of
 * on every start.  The runtime loads the file named by the spec annotation
 * berth.seccomp.bpf instead of compiling; the run dir is root's alone (0700),
 * and a file is only ever made whole by rename. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/digest.h"
#include "base/fs.h"
#include "base/json.h"
#include "engine/engine-internal.h"
#include "oci/runtime-spec.h"
#include "runtime/seccomp.h"

static int compile_into(const json_t *spec, int dirfd, const char *name, berth_error_t *err)
{
  struct berth_spec *parsed = berth_spec_parse(spec, NULL, err);
  if (!parsed)
    return -1;
  cleanup_free void *bpf = NULL;
  size_t len = 0;
  int r = berth_seccomp_compile(parsed->seccomp, &bpf, &len, err);
  berth_spec_free(parsed);
  if (r < 0)
    return -1;
  return berth_write_file_atomic(dirfd, name, bpf, len, 0600, err);
}

int berth_seccomp_cache_prepare(struct berth_engine *e, json_t *spec, berth_error_t *err)
{
  const json_t *sc = json_object_get(json_object_get(spec, "linux"), "seccomp");
  if (!sc)
    return 0;
  cleanup_free char *dump = json_dumps(sc, JSON_SORT_KEYS | JSON_COMPACT);
  if (!dump)
    return berth_error_set(err, ENOMEM, "seccomp profile");
  char digest[BERTH_DIGEST_STR_LEN], name[BERTH_DIGEST_STR_LEN + 8], *path = NULL;
  berth_sha256_buf(dump, strlen(dump), digest);
  snprintf(name, sizeof name, "%s.bpf", digest + 7);
  if (berth_mkdir_p(e->store->runroot_fd, "seccomp", 0700, err) < 0)
    return -1;
  cleanup_close int dirfd = openat(e->store->runroot_fd, "seccomp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return berth_error_set(err, errno, "open the seccomp cache");
  if (faccessat(dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && compile_into(spec, dirfd, name, err) < 0)
    return -1;
  if (asprintf(&path, "%s/seccomp/%s", e->store->runroot, name) < 0)
    abort();
  json_t *ann = json_object_get(spec, "annotations");
  if (!json_is_object(ann))
    json_object_set_new(spec, "annotations", ann = json_object());
  json_object_set_new(ann, "berth.seccomp.bpf", json_string(path));
  free(path);
  return 0;
}
