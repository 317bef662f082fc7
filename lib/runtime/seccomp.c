/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Seccomp, runtime side: an OCI linux.seccomp struct compiled into a classic
 * BPF program with libseccomp, the program loaded into the calling thread,
 * and the spec's flag names turned into SECCOMP_FILTER_FLAG_* bits.
 *
 * Compiling happens in the parent (libseccomp allocates freely); only
 * berth_seccomp_load runs in the child between clone() and execve(), and it
 * makes one or two system calls and allocates nothing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "base/cleanup.h"
#include "oci/runtime-spec.h"
#include "runtime/seccomp.h"

#define MAX_ARGS 6 /* a system call has at most six arguments */

static void ctx_releasep(scmp_filter_ctx *ctx)
{
  if (*ctx)
    seccomp_release(*ctx);
}
#define cleanup_scmp __attribute__((cleanup(ctx_releasep)))

/* libseccomp's action for an OCI action; ERRNO and TRACE carry errno_ret,
 * EPERM when the spec gives none (as runc does). */
static int to_scmp_action(enum berth_seccomp_action a, bool has_errno, uint32_t errno_ret, uint32_t *ret,
                          berth_error_t *err)
{
  uint32_t e = has_errno ? errno_ret : EPERM;
  switch (a) {
  case BERTH_SECCOMP_ACT_KILL:
    *ret = SCMP_ACT_KILL;
    return 0;
  case BERTH_SECCOMP_ACT_KILL_PROCESS:
    *ret = SCMP_ACT_KILL_PROCESS;
    return 0;
  case BERTH_SECCOMP_ACT_KILL_THREAD:
    *ret = SCMP_ACT_KILL_THREAD;
    return 0;
  case BERTH_SECCOMP_ACT_TRAP:
    *ret = SCMP_ACT_TRAP;
    return 0;
  case BERTH_SECCOMP_ACT_ERRNO:
    *ret = SCMP_ACT_ERRNO(e & 0xffff);
    return 0;
  case BERTH_SECCOMP_ACT_TRACE:
    *ret = SCMP_ACT_TRACE(e & 0xffff);
    return 0;
  case BERTH_SECCOMP_ACT_ALLOW:
    *ret = SCMP_ACT_ALLOW;
    return 0;
  case BERTH_SECCOMP_ACT_LOG:
    *ret = SCMP_ACT_LOG;
    return 0;
  }
  return berth_error_set_plain(err, EINVAL, "seccomp: unknown action %d", (int)a);
}

static int to_scmp_op(enum berth_seccomp_op op, enum scmp_compare *ret, berth_error_t *err)
{
  switch (op) {
  case BERTH_SECCOMP_OP_NE:
    *ret = SCMP_CMP_NE;
    return 0;
  case BERTH_SECCOMP_OP_LT:
    *ret = SCMP_CMP_LT;
    return 0;
  case BERTH_SECCOMP_OP_LE:
    *ret = SCMP_CMP_LE;
    return 0;
  case BERTH_SECCOMP_OP_EQ:
    *ret = SCMP_CMP_EQ;
    return 0;
  case BERTH_SECCOMP_OP_GE:
    *ret = SCMP_CMP_GE;
    return 0;
  case BERTH_SECCOMP_OP_GT:
    *ret = SCMP_CMP_GT;
    return 0;
  case BERTH_SECCOMP_OP_MASKED_EQ:
    *ret = SCMP_CMP_MASKED_EQ;
    return 0;
  }
  return berth_error_set_plain(err, EINVAL, "seccomp: unknown operator %d", (int)op);
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token for "x86_64". */
static int add_arch(scmp_filter_ctx ctx, const char *name, berth_error_t *err)
{
  char lower[32];
  const char *s = name;
  size_t i;
  uint32_t token;
  int r;
  if (strncmp(s, "SCMP_ARCH_", 10) == 0)
    s += 10;
  for (i = 0; s[i] && i < sizeof(lower) - 1; i++)
    lower[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
  lower[i] = '\0';
  token = s[i] ? 0 : seccomp_arch_resolve_name(lower);
  if (token == 0)
    return berth_error_set_plain(err, EINVAL, "seccomp: unknown architecture `%s`", name);
  r = seccomp_arch_add(ctx, token);
  if (r < 0 && r != -EEXIST)
    return berth_error_set(err, -r, "seccomp: add architecture `%s`", name);
  return 0;
}

static bool has_repeated_index(const struct berth_seccomp_rule *rule)
{
  unsigned seen = 0;
  for (size_t i = 0; i < rule->n_args; i++) {
    if (seen & (1u << rule->args[i].index))
      return true;
    seen |= 1u << rule->args[i].index;
  }
  return false;
}

static int add_one(scmp_filter_ctx ctx, uint32_t action, int nr, const char *name, unsigned n,
                   const struct scmp_arg_cmp *cmps, berth_error_t *err)
{
  int r = seccomp_rule_add_array(ctx, action, nr, n, cmps);
  if (r < 0)
    return berth_error_set(err, -r, "seccomp: add rule for `%s`", name);
  return 0;
}

/* One rule for one syscall.  The comparisons of a rule are ANDed; libseccomp
 * cannot AND two comparisons on the same argument, so a rule that has them
 * becomes one rule per comparison (ORed), which is what runc does with the
 * same profile: docker profiles keep their meaning under berth. */
static int add_rule_for(scmp_filter_ctx ctx, uint32_t action, int nr, const char *name,
                        const struct berth_seccomp_rule *rule, const struct scmp_arg_cmp *cmps,
                        berth_error_t *err)
{
  if (rule->n_args == 0 || !has_repeated_index(rule))
    return add_one(ctx, action, nr, name, (unsigned)rule->n_args, cmps, err);
  for (size_t i = 0; i < rule->n_args; i++)
    if (add_one(ctx, action, nr, name, 1, &cmps[i], err) < 0)
      return -1;
  return 0;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t default_action, const struct berth_seccomp_rule *rule,
                    size_t idx, berth_error_t *err)
{
  struct scmp_arg_cmp cmps[MAX_ARGS];
  uint32_t action;
  if (to_scmp_action(rule->action, rule->has_errno, rule->errno_ret, &action, err) < 0)
    return berth_error_prefix(err, "syscalls[%zu]", idx);
  if (rule->n_args > MAX_ARGS)
    return berth_error_set_plain(err, EINVAL, "seccomp: syscalls[%zu]: %zu argument comparisons, at most %d", idx,
                                 rule->n_args, MAX_ARGS);
  for (size_t i = 0; i < rule->n_args; i++) {
    const struct berth_seccomp_arg *a = &rule->args[i];
    if (a->index >= MAX_ARGS)
      return berth_error_set_plain(err, EINVAL, "seccomp: syscalls[%zu].args[%zu].index: %u is not below %d", idx, i,
                                   a->index, MAX_ARGS);
    if (to_scmp_op(a->op, &cmps[i].op, err) < 0)
      return berth_error_prefix(err, "syscalls[%zu].args[%zu]", idx, i);
    cmps[i].arg = a->index;
    cmps[i].datum_a = a->value;
    cmps[i].datum_b = a->value_two;
  }
  /* libseccomp refuses a rule whose action is the default one; it changes
   * nothing, so runc and crun skip it too. */
  if (action == default_action)
    return 0;
  for (char **n = rule->names; n && *n; n++) {
    int nr = seccomp_syscall_resolve_name(*n);
    if (nr == __NR_SCMP_ERROR)
      continue; /* unknown to this libseccomp: one profile fits several kernels */
    if (add_rule_for(ctx, action, nr, *n, rule, cmps, err) < 0)
      return berth_error_prefix(err, "syscalls[%zu]", idx);
  }
  return 0;
}

/* The BPF libseccomp generates, read back through a memfd (libseccomp 2.5
 * has no seccomp_export_bpf_mem). */
static int export_bpf(scmp_filter_ctx ctx, void **ret_bpf, size_t *ret_len, berth_error_t *err)
{
  cleanup_close int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
  cleanup_free void *buf = NULL;
  struct stat st;
  ssize_t n;
  int r;
  if (fd < 0)
    return berth_error_set(err, errno, "seccomp: memfd_create");
  r = seccomp_export_bpf(ctx, fd);
  if (r < 0)
    return berth_error_set(err, -r, "seccomp: export BPF");
  if (fstat(fd, &st) < 0)
    return berth_error_set(err, errno, "seccomp: stat BPF memfd");
  if (st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) != 0)
    return berth_error_set_plain(err, EINVAL, "seccomp: BPF program of %lld bytes", (long long)st.st_size);
  buf = malloc((size_t)st.st_size);
  if (!buf)
    return berth_error_set(err, ENOMEM, "seccomp: allocate BPF program");
  n = TEMP_FAILURE_RETRY(pread(fd, buf, (size_t)st.st_size, 0));
  if (n < 0)
    return berth_error_set(err, errno, "seccomp: read BPF program");
  if (n != st.st_size)
    return berth_error_set_plain(err, EIO, "seccomp: short read of BPF program");
  *ret_len = (size_t)n;
  *ret_bpf = steal_ptr(&buf);
  return 0;
}

int berth_seccomp_compile(const struct berth_spec_seccomp *sc, void **ret_bpf, size_t *ret_len, berth_error_t *err)
{
  cleanup_scmp scmp_filter_ctx ctx = NULL;
  uint32_t default_action;
  int r;
  if (to_scmp_action(sc->default_action, sc->has_default_errno, sc->default_errno, &default_action, err) < 0)
    return berth_error_prefix(err, "defaultAction");
  ctx = seccomp_init(default_action);
  if (!ctx)
    return berth_error_set(err, ENOMEM, "seccomp: init filter");
  /* The runtime decides about no_new_privs (process.noNewPrivileges);
   * loading the filter must not force it. */
  r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (r < 0)
    return berth_error_set(err, -r, "seccomp: clear the no_new_privs attribute");
  for (char **a = sc->architectures; a && *a; a++)
    if (add_arch(ctx, *a, err) < 0)
      return -1;
  for (size_t i = 0; i < sc->n_rules; i++)
    if (add_rule(ctx, default_action, &sc->rules[i], i, err) < 0)
      return -1;
  return export_bpf(ctx, ret_bpf, ret_len, err);
}
