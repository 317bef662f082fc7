/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Seccomp: the default profile and docker-format profiles as OCI JSON, their
 * compilation to BPF, and the filter's effect on a child process that loads
 * it (suite seccomp_sys). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "oci/runtime-spec.h"
#include "runtime/seccomp.h"

#define CAP(c) (UINT64_C(1) << (c))
/* docker's 14 default capabilities */
#define DEFAULT_CAPS                                                                                                   \
  (CAP(CAP_CHOWN) | CAP(CAP_DAC_OVERRIDE) | CAP(CAP_FSETID) | CAP(CAP_FOWNER) | CAP(CAP_MKNOD) | CAP(CAP_NET_RAW) |   \
   CAP(CAP_SETGID) | CAP(CAP_SETUID) | CAP(CAP_SETFCAP) | CAP(CAP_SETPCAP) | CAP(CAP_NET_BIND_SERVICE) |            \
   CAP(CAP_SYS_CHROOT) | CAP(CAP_KILL) | CAP(CAP_AUDIT_WRITE))

/* ---- OCI JSON to the struct, for these tests only (the runtime gets the
 * struct from berth_spec_parse) ---- */

static const char *const action_names[] = {
  [BERTH_SECCOMP_ACT_KILL] = "SCMP_ACT_KILL", [BERTH_SECCOMP_ACT_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
  [BERTH_SECCOMP_ACT_KILL_THREAD] = "SCMP_ACT_KILL_THREAD", [BERTH_SECCOMP_ACT_TRAP] = "SCMP_ACT_TRAP",
  [BERTH_SECCOMP_ACT_ERRNO] = "SCMP_ACT_ERRNO", [BERTH_SECCOMP_ACT_TRACE] = "SCMP_ACT_TRACE",
  [BERTH_SECCOMP_ACT_ALLOW] = "SCMP_ACT_ALLOW", [BERTH_SECCOMP_ACT_LOG] = "SCMP_ACT_LOG",
};
static const char *const op_names[] = {
  [BERTH_SECCOMP_OP_NE] = "SCMP_CMP_NE", [BERTH_SECCOMP_OP_LT] = "SCMP_CMP_LT", [BERTH_SECCOMP_OP_LE] = "SCMP_CMP_LE",
  [BERTH_SECCOMP_OP_EQ] = "SCMP_CMP_EQ", [BERTH_SECCOMP_OP_GE] = "SCMP_CMP_GE", [BERTH_SECCOMP_OP_GT] = "SCMP_CMP_GT",
  [BERTH_SECCOMP_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static int lookup(const char *const *table, size_t n, const char *s)
{
  for (size_t i = 1; i < n; i++)
    if (s && strcmp(table[i], s) == 0)
      return (int)i;
  cr_assert_fail("unknown name %s", s ? s : "(null)");
  return 0;
}

static char **strv_from(const json_t *a)
{
  char **v = calloc(json_array_size(a) + 1, sizeof(char *));
  for (size_t i = 0; i < json_array_size(a); i++)
    v[i] = strdup(json_string_value(json_array_get(a, i)));
  return v;
}

static struct berth_spec_seccomp *spec_from_oci(const json_t *j)
{
  struct berth_spec_seccomp *sc = calloc(1, sizeof(*sc));
  json_t *rules = json_object_get(j, "syscalls");
  sc->default_action = lookup(action_names, 9, berth_json_str(j, "defaultAction"));
  sc->has_default_errno = json_object_get(j, "defaultErrnoRet") != NULL;
  sc->default_errno = (uint32_t)berth_json_int(j, "defaultErrnoRet", 0);
  sc->architectures = strv_from(json_object_get(j, "architectures"));
  sc->flags = strv_from(json_object_get(j, "flags"));
  sc->n_rules = json_array_size(rules);
  sc->rules = calloc(sc->n_rules + 1, sizeof(*sc->rules));
  for (size_t i = 0; i < sc->n_rules; i++) {
    json_t *r = json_array_get(rules, i), *args = json_object_get(r, "args");
    struct berth_seccomp_rule *rule = &sc->rules[i];
    rule->names = strv_from(json_object_get(r, "names"));
    rule->action = lookup(action_names, 9, berth_json_str(r, "action"));
    rule->has_errno = json_object_get(r, "errnoRet") != NULL;
    rule->errno_ret = (uint32_t)berth_json_int(r, "errnoRet", 0);
    rule->n_args = json_array_size(args);
    rule->args = calloc(rule->n_args + 1, sizeof(*rule->args));
    for (size_t k = 0; k < rule->n_args; k++) {
      json_t *a = json_array_get(args, k);
      rule->args[k].index = (uint32_t)berth_json_int(a, "index", 0);
      rule->args[k].value = (uint64_t)berth_json_int(a, "value", 0);
      rule->args[k].value_two = (uint64_t)berth_json_int(a, "valueTwo", 0);
      rule->args[k].op = lookup(op_names, 8, berth_json_str(a, "op"));
    }
  }
  return sc;
}

static void spec_free(struct berth_spec_seccomp *sc)
{
  for (size_t i = 0; i < sc->n_rules; i++) {
    berth_strv_free(sc->rules[i].names);
    free(sc->rules[i].args);
  }
  free(sc->rules);
  berth_strv_free(sc->architectures);
  berth_strv_free(sc->flags);
  free(sc);
}

/* ---- helpers ---- */

static void compile_json(const json_t *oci, void **bpf, size_t *len)
{
  struct berth_spec_seccomp *sc = spec_from_oci(oci);
  berth_error_t err = NULL;
  int r = berth_seccomp_compile(sc, bpf, len, &err);
  cr_assert_eq(r, 0, "compile: %s", err ? err->msg : "?");
  cr_assert_gt(*len, 0);
  cr_assert_eq(*len % sizeof(struct sock_filter), 0);
  spec_free(sc);
}

static void compile_default(uint64_t caps, void **bpf, size_t *len)
{
  berth_error_t err = NULL;
  cleanup_json json_t *p = berth_seccomp_default_profile(caps, &err);
  cr_assert_not_null(p);
  compile_json(p, bpf, len);
}

static json_t *from_docker(const char *doc, uint64_t caps)
{
  berth_error_t err = NULL;
  json_t *j = berth_seccomp_from_docker_profile(doc, strlen(doc), caps, &err);
  cr_assert_not_null(j, "convert: %s", err ? err->msg : "?");
  cr_assert_null(err);
  return j;
}

static char *docker_error(const char *doc, uint64_t caps)
{
  berth_error_t err = NULL;
  json_t *j = berth_seccomp_from_docker_profile(doc, strlen(doc), caps, &err);
  char *msg;
  cr_assert_null(j, "must fail: %s", doc);
  cr_assert_not_null(err);
  cr_expect_eq(err->code, EINVAL);
  cr_expect(err->plain);
  msg = strdup(err->msg);
  berth_error_release(&err);
  return msg;
}

/* Every name the profile allows unconditionally (rules without args). */
static bool profile_has(const json_t *p, const char *name, const char *action, bool with_args)
{
  size_t i, k;
  json_t *r, *n;
  json_array_foreach(json_object_get(p, "syscalls"), i, r)
  {
    if (strcmp(berth_json_str(r, "action"), action) != 0 || (json_object_get(r, "args") != NULL) != with_args)
      continue;
    json_array_foreach(json_object_get(r, "names"), k, n)
    {
      if (strcmp(json_string_value(n), name) == 0)
        return true;
    }
  }
  return false;
}

static size_t count_allowed(const json_t *p)
{
  size_t i, n = 0;
  json_t *r;
  json_array_foreach(json_object_get(p, "syscalls"), i, r)
  {
    if (strcmp(berth_json_str(r, "action"), "SCMP_ACT_ALLOW") == 0 && !json_object_get(r, "args"))
      n += json_array_size(json_object_get(r, "names"));
  }
  return n;
}

/* Run `checks` in a child that loads the filter first; it reports the first
 * failed check over a pipe and the parent asserts on it. */
typedef const char *(*child_checks)(void);

static void run_filtered(const void *bpf, size_t len, unsigned flags, child_checks checks)
{
  int fds[2];
  char msg[512] = "";
  ssize_t n;
  int status;
  pid_t pid;
  cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
  pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    berth_error_t err = NULL;
    const char *fail;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
      fail = "prctl(PR_SET_NO_NEW_PRIVS) failed";
    else if (berth_seccomp_load(bpf, len, flags, &err) < 0)
      fail = err->msg;
    else
      fail = checks();
    if (fail)
      (void)!write(fds[1], fail, strlen(fail));
    _exit(fail ? 1 : 0);
  }
  close(fds[1]);
  n = read(fds[0], msg, sizeof(msg) - 1);
  close(fds[0]);
  msg[n > 0 ? n : 0] = '\0';
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status), "child died: status %#x (%s)", status, msg);
  cr_assert_eq(WEXITSTATUS(status), 0, "child: %s", msg);
}

static char check_msg[256];

#define EXPECT_ERRNO(call, want)                                                                                       \
  do {                                                                                                                 \
    errno = 0;                                                                                                         \
    long r_ = (long)(call);                                                                                            \
    if (r_ != -1 || errno != (want)) {                                                                                 \
      (void)snprintf(check_msg, sizeof(check_msg), "%s: returned %ld errno %d (%s), wanted errno %d", #call, r_,     \
                     errno, strerror(errno), (want));                                                                  \
      return check_msg;                                                                                                \
    }                                                                                                                  \
  } while (0)

#define EXPECT_OK(call)                                                                                                \
  do {                                                                                                                 \
    errno = 0;                                                                                                         \
    long r_ = (long)(call);                                                                                            \
    if (r_ < 0) {                                                                                                      \
      (void)snprintf(check_msg, sizeof(check_msg), "%s: failed with errno %d (%s)", #call, errno, strerror(errno)); \
      return check_msg;                                                                                                \
    }                                                                                                                  \
    if (r_ > 2 && r_ < 1024 && (strstr(#call, "socket") || strstr(#call, "open")))                                   \
      close((int)r_);                                                                                                  \
  } while (0)

static int wait_exit(pid_t pid)
{
  int status;
  if (pid < 0)
    return -1;
  if (pid == 0)
    _exit(0);
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int exec_true(void)
{
  pid_t pid = fork();
  if (pid == 0) {
    char *argv[] = {"true", NULL};
    execve("/bin/true", argv, (char *[]){NULL});
    _exit(127);
  }
  return wait_exit(pid);
}

static void *thread_main(void *arg) { return arg; }

static int run_thread(void)
{
  static int token;
  pthread_t t;
  void *ret = NULL;
  int r = pthread_create(&t, NULL, thread_main, &token);
  if (r != 0) {
    errno = r;
    return -1;
  }
  pthread_join(t, &ret);
  return ret == &token ? 0 : -1;
}

static long clone3_plain(void)
{
  struct clone_args ca = {.exit_signal = SIGCHLD};
  long pid = syscall(SYS_clone3, &ca, sizeof(ca));
  if (pid == 0)
    _exit(0);
  if (pid > 0)
    (void)waitpid((pid_t)pid, NULL, 0);
  return pid;
}

static int read_write_file(void)
{
  char buf[4] = "";
  int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC), fds[2];
  if (fd < 0 || read(fd, buf, sizeof(buf)) != sizeof(buf) || close(fd) < 0 || pipe(fds) < 0)
    return -1;
  if (write(fds[1], "ok", 2) != 2 || read(fds[0], buf, 2) != 2 || memcmp(buf, "ok", 2) != 0)
    return -1;
  close(fds[0]);
  close(fds[1]);
  return 0;
}

#ifdef __x86_64__
/* A 32-bit (i386) system call through int $0x80; -errno on failure. */
static long syscall_i386(long nr, long a1)
{
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a1) : "memory", "r8", "r9", "r10", "r11");
  return ret;
}
#define I386_GETPID 20
#define I386_KEYCTL 288
#define I386_UNSHARE 310
#endif

/* ---- the default profile as JSON ---- */

Test(seccomp, default_profile_shape)
{
  cleanup_json json_t *p = berth_seccomp_default_profile(DEFAULT_CAPS, NULL);
  json_t *arches = json_object_get(p, "architectures");
  cr_assert_not_null(p);
  cr_expect_str_eq(berth_json_str(p, "defaultAction"), "SCMP_ACT_ERRNO");
  cr_expect_eq(berth_json_int(p, "defaultErrnoRet", -1), EPERM);
#ifdef __x86_64__
  cr_assert_eq(json_array_size(arches), 3);
  cr_expect_str_eq(json_string_value(json_array_get(arches, 0)), "SCMP_ARCH_X86_64");
  cr_expect_str_eq(json_string_value(json_array_get(arches, 1)), "SCMP_ARCH_X86");
  cr_expect_str_eq(json_string_value(json_array_get(arches, 2)), "SCMP_ARCH_X32");
  cr_expect(profile_has(p, "arch_prctl", "SCMP_ACT_ALLOW", false));
  cr_expect(profile_has(p, "modify_ldt", "SCMP_ACT_ALLOW", false));
  cr_expect_not(profile_has(p, "cacheflush", "SCMP_ACT_ALLOW", false), "arm only");
#endif
  /* about 360 names, as docker's */
  cr_expect_geq(count_allowed(p), 330, "allowed: %zu", count_allowed(p));
  cr_expect(profile_has(p, "read", "SCMP_ACT_ALLOW", false));
  cr_expect(profile_has(p, "execve", "SCMP_ACT_ALLOW", false));
  cr_expect(profile_has(p, "chroot", "SCMP_ACT_ALLOW", false), "CAP_SYS_CHROOT is a default cap");
  cr_expect(profile_has(p, "ptrace", "SCMP_ACT_ALLOW", false), "kernel >= 4.8");
  cr_expect(profile_has(p, "clone", "SCMP_ACT_ALLOW", true));
  cr_expect(profile_has(p, "clone3", "SCMP_ACT_ERRNO", false));
  cr_expect(profile_has(p, "socket", "SCMP_ACT_ALLOW", true));
  cr_expect(profile_has(p, "personality", "SCMP_ACT_ALLOW", true));
  cr_expect_not(profile_has(p, "socket", "SCMP_ACT_ALLOW", false), "socket only with a family filter");
  cr_expect_not(profile_has(p, "personality", "SCMP_ACT_ALLOW", false));
  cr_expect_not(profile_has(p, "clone", "SCMP_ACT_ALLOW", false));
  static const char *const never[] = {
    "keyctl", "add_key", "request_key", "userfaultfd", "kexec_load", "kexec_file_load", "swapon", "swapoff",
    "pivot_root", "io_uring_setup", "io_uring_enter", "io_uring_register", "move_pages", "uselib", "ustat",
    "sysfs", "_sysctl", "nfsservctl", "vm86", "vm86old", "create_module", "get_kernel_syms", "query_module",
    "mount", "umount2", "unshare", "setns", "bpf", "reboot", "init_module", "kcmp", "iopl", "settimeofday",
    "acct", "open_by_handle_at", "vhangup", "mbind", "syslog", "perf_event_open", "fsopen", "sethostname",
  };
  for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
    cr_expect_not(profile_has(p, never[i], "SCMP_ACT_ALLOW", false), "%s is allowed", never[i]);
}

Test(seccomp, default_profile_caps_gate_rules)
{
  static const struct {
    int cap;
    const char *name;
  } gates[] = {
    {CAP_SYS_ADMIN, "mount"},     {CAP_SYS_ADMIN, "unshare"},       {CAP_SYS_ADMIN, "setns"},
    {CAP_SYS_ADMIN, "fsopen"},    {CAP_SYS_ADMIN, "sethostname"},   {CAP_SYS_ADMIN, "clone"},
    {CAP_SYS_ADMIN, "clone3"},    {CAP_SYS_PTRACE, "kcmp"},         {CAP_SYS_PTRACE, "pidfd_getfd"},
    {CAP_SYS_MODULE, "init_module"}, {CAP_SYS_BOOT, "reboot"},      {CAP_SYS_TIME, "clock_settime"},
    {CAP_SYS_RAWIO, "iopl"},      {CAP_SYS_NICE, "mbind"},          {CAP_SYSLOG, "syslog"},
    {CAP_BPF, "bpf"},             {CAP_PERFMON, "perf_event_open"}, {CAP_SYS_PACCT, "acct"},
    {CAP_DAC_READ_SEARCH, "open_by_handle_at"}, {CAP_SYS_TTY_CONFIG, "vhangup"},
  };
  for (size_t i = 0; i < sizeof(gates) / sizeof(gates[0]); i++) {
    cleanup_json json_t *without = berth_seccomp_default_profile(0, NULL);
    cleanup_json json_t *with = berth_seccomp_default_profile(CAP(gates[i].cap), NULL);
    cr_expect_not(profile_has(without, gates[i].name, "SCMP_ACT_ALLOW", false), "%s without its cap", gates[i].name);
    cr_expect(profile_has(with, gates[i].name, "SCMP_ACT_ALLOW", false), "%s with its cap", gates[i].name);
  }
  cleanup_json json_t *admin = berth_seccomp_default_profile(CAP(CAP_SYS_ADMIN), NULL);
  cr_expect_not(profile_has(admin, "clone3", "SCMP_ACT_ERRNO", false), "no ENOSYS rule with CAP_SYS_ADMIN");
  cr_expect_not(profile_has(admin, "clone", "SCMP_ACT_ALLOW", true), "no flag filter with CAP_SYS_ADMIN");
  cr_expect_not(profile_has(admin, "keyctl", "SCMP_ACT_ALLOW", false), "keyctl even with CAP_SYS_ADMIN");
}

/* ---- compiling ---- */

Test(seccomp, compile_default_profile_is_fast)
{
  struct timespec t0, t1;
  void *bpf = NULL;
  size_t len = 0;
  const int rounds = 50;
  double ms;
  cr_assert_eq(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
  for (int i = 0; i < rounds; i++) {
    compile_default(DEFAULT_CAPS, &bpf, &len);
    if (i < rounds - 1)
      free(bpf);
  }
  cr_assert_eq(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
  ms = ((double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6) / rounds;
  cr_log_info("default profile: JSON + compile %.2f ms, %zu BPF instructions", ms, len / sizeof(struct sock_filter));
  fprintf(stderr, "seccomp: default profile JSON + compile %.2f ms, %zu BPF instructions\n", ms,
          len / sizeof(struct sock_filter));
  cr_expect_leq(len / sizeof(struct sock_filter), BPF_MAXINSNS);
  cr_expect_lt(ms, 250.0, "compiling the default profile takes %.1f ms", ms);
  free(bpf);
}

Test(seccomp, compile_skips_unknown_names)
{
  char *names[] = {"no_such_syscall_at_all", "getppid", NULL};
  struct berth_seccomp_rule rule = {.names = names, .action = BERTH_SECCOMP_ACT_ERRNO, .has_errno = true,
                                    .errno_ret = 77};
  struct berth_spec_seccomp sc = {.default_action = BERTH_SECCOMP_ACT_ALLOW, .rules = &rule, .n_rules = 1};
  berth_error_t err = NULL;
  void *bpf = NULL;
  size_t len = 0;
  cr_assert_eq(berth_seccomp_compile(&sc, &bpf, &len, &err), 0, "%s", err ? err->msg : "");
  cr_assert_gt(len, 0);
  free(bpf);
}

static void expect_compile_error(const struct berth_spec_seccomp *sc, const char *substr)
{
  berth_error_t err = NULL;
  void *bpf = NULL;
  size_t len = 0;
  cr_assert_lt(berth_seccomp_compile(sc, &bpf, &len, &err), 0);
  cr_assert_not_null(err);
  cr_expect_eq(err->code, EINVAL);
  cr_expect(strstr(err->msg, substr), "message `%s` lacks `%s`", err->msg, substr);
  cr_expect_null(bpf);
  berth_error_release(&err);
}

Test(seccomp, compile_errors)
{
  char *arches[] = {"SCMP_ARCH_PDP11", NULL};
  char *names[] = {"getpid", NULL};
  struct berth_seccomp_arg bad_index = {.index = 6, .op = BERTH_SECCOMP_OP_EQ};
  struct berth_seccomp_arg bad_op = {.index = 0, .op = 99};
  struct berth_seccomp_rule rule = {.names = names, .action = BERTH_SECCOMP_ACT_ALLOW, .args = &bad_index,
                                    .n_args = 1};
  struct berth_spec_seccomp sc = {.default_action = BERTH_SECCOMP_ACT_ERRNO, .architectures = arches};
  expect_compile_error(&sc, "unknown architecture `SCMP_ARCH_PDP11`");
  sc.architectures = NULL;
  sc.rules = &rule;
  sc.n_rules = 1;
  expect_compile_error(&sc, "syscalls[0].args[0].index: 6 is not below 6");
  rule.args = &bad_op;
  expect_compile_error(&sc, "syscalls[0].args[0]: seccomp: unknown operator 99");
  rule.args = NULL;
  rule.n_args = 0;
  rule.action = 42;
  expect_compile_error(&sc, "unknown action 42");
}

Test(seccomp, flags)
{
  char *all[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", NULL};
  char *bad[] = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_NEW_LISTENER", NULL};
  struct berth_spec_seccomp sc = {.flags = all};
  berth_error_t err = NULL;
  unsigned bits = 99;
  cr_assert_eq(berth_seccomp_flags(&sc, &bits, &err), 0);
  cr_expect_eq(bits, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  sc.flags = NULL;
  cr_assert_eq(berth_seccomp_flags(&sc, &bits, &err), 0);
  cr_expect_eq(bits, 0);
  sc.flags = bad;
  cr_assert_lt(berth_seccomp_flags(&sc, &bits, &err), 0);
  cr_assert_not_null(err);
  cr_expect_eq(err->code, EINVAL);
  cr_expect_str_eq(err->msg, "seccomp: unsupported flag `SECCOMP_FILTER_FLAG_NEW_LISTENER`");
  berth_error_release(&err);
}

Test(seccomp, load_refuses_malformed_programs)
{
  struct sock_filter one = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  berth_error_t err = NULL;
  cr_assert_lt(berth_seccomp_load(&one, 0, 0, &err), 0);
  cr_expect_eq(err->code, EINVAL);
  berth_error_release(&err);
  cr_assert_lt(berth_seccomp_load(&one, sizeof(one) - 1, 0, &err), 0);
  cr_expect_eq(err->code, EINVAL);
  berth_error_release(&err);
}

/* ---- the filters at work (suite seccomp_sys) ---- */

static const char *default_caps_checks(void)
{
  /* still works */
  EXPECT_OK(getpid());
  EXPECT_OK(read_write_file());
  EXPECT_OK(wait_exit(fork()));
  EXPECT_OK(wait_exit((pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0)));
  EXPECT_OK(exec_true());
  EXPECT_OK(run_thread()); /* glibc tries clone3, gets ENOSYS, falls back to clone */
  EXPECT_OK(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_OK(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  EXPECT_OK(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0));
  EXPECT_OK(personality(0xffffffff));
  EXPECT_OK(personality(PER_LINUX));
  EXPECT_OK(chroot("/"));
  /* refused */
  EXPECT_ERRNO(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0), EPERM);
  EXPECT_ERRNO(syscall(SYS_add_key, "user", "x", "y", 1, -3), EPERM);
  EXPECT_ERRNO(unshare(CLONE_NEWNS), EPERM);
  EXPECT_ERRNO(unshare(CLONE_NEWUSER), EPERM);
  EXPECT_ERRNO(syscall(SYS_setns, 0, 0), EPERM);
  EXPECT_ERRNO(mount("none", "/nonexistent-berth", "tmpfs", 0, NULL), EPERM);
  EXPECT_ERRNO(syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0), EPERM);
  EXPECT_ERRNO(syscall(SYS_clone, CLONE_NEWNET | CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0), EPERM);
  EXPECT_ERRNO(clone3_plain(), ENOSYS);
  EXPECT_ERRNO(socket(AF_ALG, SOCK_SEQPACKET, 0), EPERM);
  EXPECT_ERRNO(socket(AF_VSOCK, SOCK_STREAM, 0), EPERM);
  /* the kernel reads the family as an int: high bits must not get around the filter */
  EXPECT_ERRNO(syscall(SYS_socket, 0x100000000L | AF_ALG, SOCK_SEQPACKET, 0), EPERM);
  EXPECT_ERRNO(syscall(SYS_socket, 0x700000000L | AF_VSOCK, SOCK_STREAM, 0), EPERM);
  EXPECT_ERRNO(personality(0x1234), EPERM);
  EXPECT_ERRNO(personality(READ_IMPLIES_EXEC), EPERM);
  EXPECT_ERRNO(syscall(SYS_reboot, 0, 0, 0, NULL), EPERM); /* bad magic: EINVAL if it got through */
  EXPECT_ERRNO(syscall(SYS_userfaultfd, 0), EPERM);
  EXPECT_ERRNO(syscall(SYS_io_uring_setup, 1, NULL), EPERM);
  EXPECT_ERRNO(syscall(SYS_pivot_root, "/", "/"), EPERM);
#ifdef __x86_64__
  /* the 32-bit ABI is filtered too (architectures include SCMP_ARCH_X86) */
  if (syscall_i386(I386_GETPID, 0) == getpid()) {
    if (syscall_i386(I386_KEYCTL, 0) != -EPERM)
      return "i386 keyctl was not refused with EPERM";
    if (syscall_i386(I386_UNSHARE, CLONE_NEWNS) != -EPERM)
      return "i386 unshare was not refused with EPERM";
  }
#endif
  return NULL;
}

Test(seccomp_sys, default_profile_in_a_child)
{
  void *bpf = NULL;
  size_t len = 0;
  compile_default(DEFAULT_CAPS, &bpf, &len);
  run_filtered(bpf, len, 0, default_caps_checks);
  free(bpf);
}

static const char *sys_admin_checks(void)
{
  EXPECT_OK(unshare(CLONE_NEWUTS));
  EXPECT_OK(sethostname("berth-seccomp", 13));
  /* mount reaches the kernel: ENOENT, not the filter's EPERM */
  EXPECT_ERRNO(mount("none", "/nonexistent-berth", "tmpfs", 0, NULL), ENOENT);
  /* clone3 reaches the kernel: EINVAL for a bad size, not ENOSYS */
  EXPECT_ERRNO(syscall(SYS_clone3, NULL, 0), EINVAL);
  EXPECT_OK(wait_exit((pid_t)syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0)));
  EXPECT_ERRNO(syscall(SYS_keyctl, 0, -3, 0), EPERM);
  return NULL;
}

Test(seccomp_sys, sys_admin_allows_namespaces)
{
  void *bpf = NULL;
  size_t len = 0;
  if (geteuid() != 0)
    cr_skip_test("needs root: unshare must be allowed by the kernel as well as the filter");
  compile_default(DEFAULT_CAPS | CAP(CAP_SYS_ADMIN), &bpf, &len);
  run_filtered(bpf, len, 0, sys_admin_checks);
  free(bpf);
}

static const char *or_rule_checks(void)
{
  EXPECT_OK(personality(0xffffffff));
  EXPECT_OK(personality(PER_LINUX));
  EXPECT_ERRNO(personality(PER_LINUX32), EPERM);
  EXPECT_ERRNO(syscall(SYS_getppid), 33); /* glibc getppid() does not set errno */
  EXPECT_OK(getpid());
  return NULL;
}

/* Two comparisons on one argument: each its own rule (ORed), as runc does. */
Test(seccomp_sys, docker_profile_compiles_and_loads)
{
  cleanup_json json_t *p = from_docker(
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
    "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":["
    "{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":4,\"op\":\"SCMP_CMP_EQ\"}]},"
    "{\"name\":\"getppid\",\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":33}]}",
    0);
  void *bpf = NULL;
  size_t len = 0;
  compile_json(p, &bpf, &len);
  run_filtered(bpf, len, SECCOMP_FILTER_FLAG_TSYNC, or_rule_checks);
  free(bpf);
}

/* ---- docker's format ---- */

Test(seccomp, docker_profile_basic)
{
  cleanup_json json_t *p = from_docker(
    "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,\"architectures\":[\"SCMP_ARCH_X86_64\"],"
    "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],\"comment\":\"ignored\","
    "\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\",\"comment\":\"x\"},"
    "{\"name\":\"personality\",\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":8,\"op\":"
    "\"SCMP_CMP_EQ\"}]},"
    "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":2114060288,"
    "\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}",
    0);
  cleanup_free char *s = berth_json_dumps(p);
  cr_expect_str_eq(s, "{\"architectures\":[\"SCMP_ARCH_X86_64\"],\"defaultAction\":\"SCMP_ACT_ERRNO\","
                      "\"defaultErrnoRet\":1,\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],\"syscalls\":["
                      "{\"action\":\"SCMP_ACT_ALLOW\",\"names\":[\"read\",\"write\"]},"
                      "{\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"op\":\"SCMP_CMP_EQ\",\"value\":8,"
                      "\"valueTwo\":0}],\"names\":[\"personality\"]},"
                      "{\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"op\":\"SCMP_CMP_MASKED_EQ\","
                      "\"value\":2114060288,\"valueTwo\":0}],\"names\":[\"clone\"]}]}");
}

#define CAPS_PROFILE                                                                                                   \
  "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["                                                               \
  "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"},"                                                            \
  "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},"                 \
  "{\"names\":[\"kcmp\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\","                     \
  "\"CAP_SYS_PTRACE\"]}},"                                                                                             \
  "{\"names\":[\"clone3\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38,\"excludes\":{\"caps\":[\"CAP_SYS_ADMIN\","   \
  "\"CAP_BPF\"]}},"                                                                                                    \
  "{\"names\":[\"acct\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_NOT_A_REAL_ONE\"]}}]}"

static bool has_name(const json_t *p, const char *name)
{
  return profile_has(p, name, "SCMP_ACT_ALLOW", false) || profile_has(p, name, "SCMP_ACT_ERRNO", false);
}

Test(seccomp, docker_profile_includes_excludes_caps)
{
  cleanup_json json_t *none = from_docker(CAPS_PROFILE, 0);
  cleanup_json json_t *admin = from_docker(CAPS_PROFILE, CAP(CAP_SYS_ADMIN));
  cleanup_json json_t *both = from_docker(CAPS_PROFILE, CAP(CAP_SYS_ADMIN) | CAP(CAP_SYS_PTRACE));
  cleanup_json json_t *bpf_only = from_docker(CAPS_PROFILE, CAP(CAP_BPF));
  cr_expect(has_name(none, "getpid"));
  cr_expect_not(has_name(none, "mount"));
  cr_expect_not(has_name(none, "kcmp"));
  cr_expect(has_name(none, "clone3"));
  cr_expect_not(has_name(none, "acct"), "an unknown capability is never held");
  cr_expect(has_name(admin, "mount"));
  cr_expect_not(has_name(admin, "kcmp"), "includes needs every listed cap");
  cr_expect_not(has_name(admin, "clone3"), "excludes drops the rule when a listed cap is held");
  cr_expect(has_name(both, "kcmp"));
  cr_expect_not(has_name(bpf_only, "clone3"));
  cr_expect_eq(berth_json_int(json_array_get(json_object_get(none, "syscalls"), 1), "errnoRet", -1), 38);
}

Test(seccomp, docker_profile_arches_and_kernel)
{
  cleanup_json json_t *p = from_docker(
    "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"archMap\":["
    "{\"architecture\":\"SCMP_ARCH_AARCH64\",\"subArchitectures\":[\"SCMP_ARCH_ARM\"]},"
    "{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]},"
    "{\"architecture\":\"SCMP_ARCH_S390X\",\"subArchitectures\":[\"SCMP_ARCH_S390\"]}],"
    "\"syscalls\":[{\"names\":[\"arch_prctl\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":[\"amd64\","
    "\"x32\",\"x86\"]}},"
    "{\"names\":[\"cacheflush\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":[\"arm\",\"arm64\"]}},"
    "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"arches\":[\"s390\",\"s390x\"]}},"
    "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"4.8\"}},"
    "{\"names\":[\"futex_waitv\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"999.0\"}}]}",
    0);
  json_t *arches = json_object_get(p, "architectures");
#ifdef __x86_64__
  cr_assert_eq(json_array_size(arches), 3);
  cr_expect_str_eq(json_string_value(json_array_get(arches, 0)), "SCMP_ARCH_X86_64");
  cr_expect_str_eq(json_string_value(json_array_get(arches, 2)), "SCMP_ARCH_X32");
  cr_expect(has_name(p, "arch_prctl"));
  cr_expect_not(has_name(p, "cacheflush"));
  cr_expect(has_name(p, "clone"));
#endif
  cr_expect(has_name(p, "ptrace"), "this kernel is newer than 4.8");
  cr_expect_not(has_name(p, "futex_waitv"), "no kernel 999.0 yet");
}

static void expect_docker_error(const char *doc, const char *want)
{
  cleanup_free char *msg = docker_error(doc, 0);
  cr_expect_str_eq(msg, want);
}

#define RULE(body) "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],\"action\":" \
                   "\"SCMP_ACT_ALLOW\"},{\"names\":[\"b\"],\"action\":\"SCMP_ACT_ALLOW\"}," body "]}"

Test(seccomp, docker_profile_errors)
{
  cleanup_free char *json_msg = docker_error("{\"defaultAction\":", 0);
  cr_expect(strstr(json_msg, "parse seccomp profile"), "%s", json_msg);
  expect_docker_error("[]", "seccomp profile: expected a JSON object");
  expect_docker_error("{}", "seccomp profile: defaultAction: expected a string");
  expect_docker_error("{\"defaultAction\":\"SCMP_ACT_NOPE\"}",
                      "seccomp profile: defaultAction: unknown action \"SCMP_ACT_NOPE\"");
  expect_docker_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":-1}",
                      "seccomp profile: defaultErrnoRet: expected a non-negative integer");
  expect_docker_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":5000}",
                      "seccomp profile: defaultErrnoRet: 5000 is out of range (at most 4095)");
  expect_docker_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[],\"archMap\":[]}",
                      "seccomp profile: use either \"architectures\" or \"archMap\"");
  expect_docker_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[1]}",
                      "seccomp profile: architectures: expected an array of non-empty strings");
  expect_docker_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"archMap\":[{\"subArchitectures\":[]}]}",
                      "seccomp profile: archMap[0]: expected an object with an \"architecture\" string");
  expect_docker_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"flags\":[\"SECCOMP_FILTER_FLAG_X\"]}",
                      "seccomp profile: flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_X\"");
  expect_docker_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":{}}",
                      "seccomp profile: syscalls: expected an array");
  expect_docker_error(RULE("{\"names\":[\"c\"],\"action\":\"SCMP_ACT_FOO\"}"),
                      "seccomp profile: syscalls[2].action: unknown action \"SCMP_ACT_FOO\"");
  expect_docker_error(RULE("{\"name\":\"c\",\"names\":[\"c\"],\"action\":\"SCMP_ACT_ALLOW\"}"),
                      "seccomp profile: syscalls[2]: use either \"name\" or \"names\"");
  expect_docker_error(RULE("{\"action\":\"SCMP_ACT_ALLOW\"}"), "seccomp profile: syscalls[2]: no \"names\"");
  expect_docker_error(RULE("{\"names\":[],\"action\":\"SCMP_ACT_ALLOW\"}"),
                      "seccomp profile: syscalls[2].names: expected at least one name");
  expect_docker_error(RULE("{\"names\":[\"c\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":\"1\"}"),
                      "seccomp profile: syscalls[2].errnoRet: expected a non-negative integer");
  expect_docker_error(RULE("{\"names\":[\"c\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":6,\"value\":1,"
                           "\"op\":\"SCMP_CMP_EQ\"}]}"),
                      "seccomp profile: syscalls[2].args[0].index: 6 is out of range (at most 5)");
  expect_docker_error(RULE("{\"names\":[\"c\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"value\":1,"
                           "\"op\":\"SCMP_CMP_EQ\"}]}"),
                      "seccomp profile: syscalls[2].args[0]: no \"index\"");
  expect_docker_error(RULE("{\"names\":[\"c\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1,"
                           "\"op\":\"SCMP_CMP_ABOUT\"}]}"),
                      "seccomp profile: syscalls[2].args[0].op: unknown operator \"SCMP_CMP_ABOUT\"");
  expect_docker_error(RULE("{\"names\":[\"c\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":-1,"
                           "\"op\":\"SCMP_CMP_EQ\"}]}"),
                      "seccomp profile: syscalls[2].args[0].value: expected a non-negative integer");
  expect_docker_error(RULE("{\"names\":[\"c\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":\"CAP_X\"}}"),
                      "seccomp profile: syscalls[2].includes.caps: expected an array of strings");
  expect_docker_error(RULE("{\"names\":[\"c\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"4\"}}"),
                      "seccomp profile: syscalls[2].includes.minKernel: expected a kernel version "
                      "\"<major>.<minor>\"");
  expect_docker_error(RULE("{\"names\":[\"c\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"minKernel\":\"4.8\"}}"),
                      "seccomp profile: syscalls[2].excludes.minKernel: not supported in excludes");
  /* a rule left out by its caps is still checked */
  expect_docker_error(RULE("{\"names\":[\"c\"],\"action\":\"SCMP_ACT_BAD\",\"includes\":{\"caps\":[\"CAP_BPF\"]}}"),
                      "seccomp profile: syscalls[2].action: unknown action \"SCMP_ACT_BAD\"");
}
