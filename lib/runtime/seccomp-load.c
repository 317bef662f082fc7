/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loading a compiled seccomp program, and the spec's filter flags: the part
 * of seccomp the container's init needs.  It has no libseccomp in it, so the
 * monitor (which runs init) does not map that library: the engine compiles
 * filters ahead (seccomp.c, lib/engine/seccomp-cache.c). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include "oci/runtime-spec.h"
#include "runtime/seccomp.h"

int berth_seccomp_load(const void *bpf, size_t len, unsigned flags, berth_error_t *err)
{
  struct sock_fprog prog;
  size_t n = len / sizeof(struct sock_filter);
  if (len == 0 || len % sizeof(struct sock_filter) != 0)
    return berth_error_set_plain(err, EINVAL, "seccomp: a BPF program of %zu bytes", len);
  if (n > BPF_MAXINSNS)
    return berth_error_set_plain(err, EINVAL, "seccomp: BPF program of %zu instructions, the kernel takes at most %d", n,
                                 BPF_MAXINSNS);
  prog.len = (unsigned short)n;
  prog.filter = (struct sock_filter *)bpf;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) == 0)
    return 0;
  /* Kernels before 3.17 have no seccomp(2); prctl takes no flags. */
  if (errno == ENOSYS && flags == 0) {
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0)
      return 0;
    return berth_error_set(err, errno, "seccomp: load filter with prctl");
  }
  return berth_error_set(err, errno, "seccomp: load filter");
}

static const struct {
  const char *name;
  unsigned bit;
} flag_names[] = {
  {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
  {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
  {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
};

int berth_seccomp_flags(const struct berth_spec_seccomp *sc, unsigned *ret, berth_error_t *err)
{
  unsigned bits = 0;
  for (char **f = sc ? sc->flags : NULL; f && *f; f++) {
    size_t i;
    for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
      if (strcmp(*f, flag_names[i].name) == 0)
        break;
    if (i == sizeof(flag_names) / sizeof(flag_names[0]))
      return berth_error_set_plain(err, EINVAL, "seccomp: unsupported flag `%s`", *f);
    bits |= flag_names[i].bit;
  }
  *ret = bits;
  return 0;
}
