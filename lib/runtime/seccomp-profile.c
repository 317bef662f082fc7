/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Seccomp, engine side: berth's default profile and docker-format profiles
 * (--security-opt seccomp=FILE), each turned into OCI linux.seccomp JSON for
 * one container's capability set and the native architecture.
 *
 * The default profile allows what docker's default.json allows (security.md
 * section 2): default action ERRNO(EPERM), an allow-list of the system calls
 * ordinary programs make, calls a capability makes useful allowed only with
 * it, and argument filters for clone, clone3, personality and socket.  Calls
 * that are in no list (keyctl, add_key, request_key, userfaultfd, kexec_*,
 * swapon/swapoff, pivot_root, io_uring_*, move_pages, uselib, ustat, sysfs,
 * _sysctl, nfsservctl, vm86*, the legacy module calls...) fail with EPERM.
 *
 * Rules are kept the way docker keeps them (names, action, args, includes and
 * excludes), so that both paths filter them with the same code. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include <linux/capability.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "runtime/seccomp.h"

#define MAX_ARGS 6
#define MAX_ERRNO 4095

/* The native architecture: docker's name for it in includes/excludes.arches
 * (Go's GOARCH), libseccomp's name, and the architectures whose system calls
 * the native kernel also runs (docker's archMap). */
#if defined(__x86_64__)
#define NATIVE_GOARCH "amd64"
#define NATIVE_ARCH "SCMP_ARCH_X86_64"
#define NATIVE_SUBARCHES "SCMP_ARCH_X86", "SCMP_ARCH_X32"
#elif defined(__aarch64__)
#define NATIVE_GOARCH "arm64"
#define NATIVE_ARCH "SCMP_ARCH_AARCH64"
#define NATIVE_SUBARCHES "SCMP_ARCH_ARM"
#elif defined(__i386__)
#define NATIVE_GOARCH "386"
#define NATIVE_ARCH "SCMP_ARCH_X86"
#elif defined(__arm__)
#define NATIVE_GOARCH "arm"
#define NATIVE_ARCH "SCMP_ARCH_ARM"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_GOARCH "ppc64le"
#define NATIVE_ARCH "SCMP_ARCH_PPC64LE"
#elif defined(__s390x__)
#define NATIVE_GOARCH "s390x"
#define NATIVE_ARCH "SCMP_ARCH_S390X"
#define NATIVE_SUBARCHES "SCMP_ARCH_S390"
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_GOARCH "riscv64"
#define NATIVE_ARCH "SCMP_ARCH_RISCV64"
#else
#error "berth's seccomp profile does not know this architecture"
#endif
#ifndef NATIVE_SUBARCHES
#define NATIVE_SUBARCHES NULL
#endif

/* ---- the default profile, as data ---- */

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define CAP(c) (UINT64_C(1) << (c))

struct profile_arg {
  uint32_t index;
  uint64_t value, value_two;
  const char *op;
};

struct profile_rule {
  const char *const *names;
  const char *action;   /* NULL: SCMP_ACT_ALLOW */
  int errno_ret;        /* with SCMP_ACT_ERRNO */
  struct profile_arg args[1];
  size_t n_args;
  uint64_t caps;        /* included only when every one of these is held */
  uint64_t not_caps;    /* excluded when any of these is held */
  const char *const *arches;     /* included only on these (GOARCH names) */
  const char *const *not_arches; /* excluded on these */
  const char *min_kernel;        /* "4.8": included only from this kernel on */
};

/* Files: opening, reading, writing, seeking, syncing, copying between fds. */
static const char *const files_io[] = {
  "open", "openat", "openat2", "creat", "close", "close_range", "read", "readv", "pread64", "preadv", "preadv2",
  "write", "writev", "pwrite64", "pwritev", "pwritev2", "lseek", "_llseek", "dup", "dup2", "dup3", "fcntl",
  "fcntl64", "ioctl", "flock", "fsync", "fdatasync", "sync", "syncfs", "sync_file_range", "fallocate",
  "fadvise64", "fadvise64_64", "readahead", "truncate", "truncate64", "ftruncate", "ftruncate64", "sendfile",
  "sendfile64", "splice", "tee", "vmsplice", "copy_file_range", "cachestat", "name_to_handle_at",
  "memfd_create", "memfd_secret", "pipe", "pipe2", NULL,
};

/* File metadata: stat, permissions, owners, times, extended attributes. */
static const char *const files_meta[] = {
  "stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "fstatat64", "newfstatat", "statx", "statfs",
  "statfs64", "fstatfs", "fstatfs64", "access", "faccessat", "faccessat2", "chmod", "fchmod", "fchmodat",
  "fchmodat2", "chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32", "umask", "utime",
  "utimes", "utimensat", "utimensat_time64", "futimesat", "getxattr", "lgetxattr", "fgetxattr", "setxattr",
  "lsetxattr", "fsetxattr", "listxattr", "llistxattr", "flistxattr", "removexattr", "lremovexattr",
  "fremovexattr", NULL,
};

/* Directory entries and the working directory. */
static const char *const files_dirs[] = {
  "getcwd", "chdir", "fchdir", "mkdir", "mkdirat", "rmdir", "getdents", "getdents64", "link", "linkat",
  "unlink", "unlinkat", "symlink", "symlinkat", "readlink", "readlinkat", "rename", "renameat", "renameat2",
  "mknod", "mknodat", NULL,
};

/* Memory: mappings, locking, protection keys, barriers. */
static const char *const memory[] = {
  "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "mlock", "mlock2",
  "mlockall", "munlock", "munlockall", "remap_file_pages", "membarrier", "pkey_alloc", "pkey_free",
  "pkey_mprotect", "map_shadow_stack", NULL,
};

/* Processes and threads: creation without namespaces (clone has its own
 * rule), exec, exit, wait, futexes, thread state, pidfds. */
static const char *const processes[] = {
  "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "waitpid", "futex",
  "futex_time64", "futex_waitv", "futex_wake", "futex_wait", "futex_requeue", "set_tid_address",
  "set_robust_list", "get_robust_list", "rseq", "get_thread_area", "set_thread_area", "gettid", "getpid",
  "getppid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid", "prctl", "capget", "capset", "seccomp",
  "pidfd_open", "pidfd_send_signal", "process_mrelease", "restart_syscall", "landlock_create_ruleset",
  "landlock_add_rule", "landlock_restrict_self", "uretprobe", NULL,
};

/* Signals, old and real-time. */
static const char *const signals[] = {
  "kill", "tkill", "tgkill", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
  "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
  "sigaltstack", "sigprocmask", "sigreturn", "signalfd", "signalfd4", "pause", "alarm", NULL,
};

/* Clocks, sleeping and timers (setting the clock needs CAP_SYS_TIME). */
static const char *const time_calls[] = {
  "time", "gettimeofday", "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64",
  "clock_nanosleep", "clock_nanosleep_time64", "nanosleep", "adjtimex", "clock_adjtime", "clock_adjtime64",
  "getitimer", "setitimer", "timer_create", "timer_delete", "timer_gettime", "timer_gettime64",
  "timer_settime", "timer_settime64", "timer_getoverrun", "timerfd_create", "timerfd_gettime",
  "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", NULL,
};

/* Sockets once open (socket itself has a rule on its family). */
static const char *const sockets[] = {
  "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname", "getpeername", "getsockopt",
  "setsockopt", "send", "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg",
  "recvmmsg_time64", "shutdown", "socketcall", NULL,
};

/* Waiting for events: poll, select, epoll, eventfd, inotify, fanotify marks,
 * asynchronous I/O (not io_uring). */
static const char *const events[] = {
  "poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64", "epoll_create",
  "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait", "epoll_wait_old", "epoll_pwait",
  "epoll_pwait2", "eventfd", "eventfd2", "inotify_init", "inotify_init1", "inotify_add_watch",
  "inotify_rm_watch", "fanotify_mark", "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents",
  "io_pgetevents", "io_pgetevents_time64", NULL,
};

/* System V and POSIX IPC (namespaced by the ipc namespace). */
static const char *const ipc[] = {
  "ipc", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semtimedop_time64",
  "semctl", "shmget", "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink", "mq_timedsend",
  "mq_timedsend_time64", "mq_timedreceive", "mq_timedreceive_time64", "mq_notify", "mq_getsetattr", NULL,
};

/* Scheduling and I/O priority of the caller's own processes (the kernel
 * checks CAP_SYS_NICE where raising priority needs it). */
static const char *const scheduling[] = {
  "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr",
  "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
  "sched_get_priority_min", "sched_rr_get_interval", "sched_rr_get_interval_time64", "getpriority",
  "setpriority", "ioprio_get", "ioprio_set", "getcpu", NULL,
};

/* Credentials (the kernel checks CAP_SETUID/CAP_SETGID). */
static const char *const identity[] = {
  "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32", "getresuid",
  "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32", "setuid", "setuid32", "setgid",
  "setgid32", "setreuid", "setreuid32", "setregid", "setregid32", "setresuid", "setresuid32", "setresgid",
  "setresgid32", "setfsuid", "setfsuid32", "setfsgid", "setfsgid32", "setgroups", "setgroups32", NULL,
};

/* Resource limits and information about the system. */
static const char *const limits_info[] = {
  "getrlimit", "ugetrlimit", "setrlimit", "prlimit64", "getrusage", "sysinfo", "uname", "getrandom", NULL,
};

/* Ptrace and reading or writing another process's memory: docker allows
 * them from 4.8 on, where ptrace can no longer bypass seccomp. */
static const char *const ptrace_calls[] = {"ptrace", "process_vm_readv", "process_vm_writev", NULL};

static const char *const x86_arches[] = {"amd64", "x32", "x86", "386", NULL};
static const char *const arm_arches[] = {"arm", "arm64", NULL};
static const char *const s390_arches[] = {"s390", "s390x", NULL};

/* Clone flags that create namespaces: CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC,
 * NEWUSER, NEWPID, NEWNET (0x7E020000); CLONE_NEWTIME only exists in
 * clone3 and unshare. */
#define CLONE_NS_MASK UINT64_C(0x7E020000)

static const struct profile_rule default_rules[] = {
  {.names = files_io},
  {.names = files_meta},
  {.names = files_dirs},
  {.names = memory},
  {.names = processes},
  {.names = signals},
  {.names = time_calls},
  {.names = sockets},
  {.names = events},
  {.names = ipc},
  {.names = scheduling},
  {.names = identity},
  {.names = limits_info},
  {.names = ptrace_calls, .min_kernel = "4.8"},

  /* socket: every family up to AF_MAX and beyond except AF_ALG (38, the
   * kernel crypto API, a recurring source of bugs) and AF_VSOCK (40, talks to
   * the hypervisor).  The kernel reads the family as an int, so the rules
   * compare only the low 32 bits where the value could have high bits set:
   * 0..37, 39, 41, 42-43, 44-47, 48-63. */
  {.names = NAMES("socket"), .args = {{0, 37, 0, "SCMP_CMP_LE"}}, .n_args = 1},
  {.names = NAMES("socket"), .args = {{0, 0xffffffff, 39, "SCMP_CMP_MASKED_EQ"}}, .n_args = 1},
  {.names = NAMES("socket"), .args = {{0, 0xffffffff, 41, "SCMP_CMP_MASKED_EQ"}}, .n_args = 1},
  {.names = NAMES("socket"), .args = {{0, 0xfffffffe, 42, "SCMP_CMP_MASKED_EQ"}}, .n_args = 1},
  {.names = NAMES("socket"), .args = {{0, 0xfffffffc, 44, "SCMP_CMP_MASKED_EQ"}}, .n_args = 1},
  {.names = NAMES("socket"), .args = {{0, 0xfffffff0, 48, "SCMP_CMP_MASKED_EQ"}}, .n_args = 1},

  /* personality: only PER_LINUX, PER_LINUX32 (8), UNAME26 (0x20000), both,
   * and the 0xffffffff query; not READ_IMPLIES_EXEC or ADDR_NO_RANDOMIZE. */
  {.names = NAMES("personality"), .args = {{0, 0x0, 0, "SCMP_CMP_EQ"}}, .n_args = 1},
  {.names = NAMES("personality"), .args = {{0, 0x8, 0, "SCMP_CMP_EQ"}}, .n_args = 1},
  {.names = NAMES("personality"), .args = {{0, 0x20000, 0, "SCMP_CMP_EQ"}}, .n_args = 1},
  {.names = NAMES("personality"), .args = {{0, 0x20008, 0, "SCMP_CMP_EQ"}}, .n_args = 1},
  {.names = NAMES("personality"), .args = {{0, 0xffffffff, 0, "SCMP_CMP_EQ"}}, .n_args = 1},

  /* Architecture-specific calls. */
  {.names = NAMES("arch_prctl", "modify_ldt"), .arches = x86_arches},
  {.names = NAMES("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
                  "set_tls"),
   .arches = arm_arches},
  {.names = NAMES("sync_file_range2", "swapcontext"), .arches = NAMES("ppc64le")},
  {.names = NAMES("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"), .arches = s390_arches},
  {.names = NAMES("riscv_flush_icache"), .arches = NAMES("riscv64")},

  /* clone without namespace flags; clone3 passes its flags in memory the
   * filter cannot read, so it fails with ENOSYS and libc falls back to
   * clone.  s390 swaps clone's first two arguments. */
  {.names = NAMES("clone"), .args = {{0, CLONE_NS_MASK, 0, "SCMP_CMP_MASKED_EQ"}}, .n_args = 1,
   .not_caps = CAP(CAP_SYS_ADMIN), .not_arches = s390_arches},
  {.names = NAMES("clone"), .args = {{1, CLONE_NS_MASK, 0, "SCMP_CMP_MASKED_EQ"}}, .n_args = 1,
   .not_caps = CAP(CAP_SYS_ADMIN), .arches = s390_arches},
  {.names = NAMES("clone3"), .action = "SCMP_ACT_ERRNO", .errno_ret = ENOSYS, .not_caps = CAP(CAP_SYS_ADMIN)},

  /* Calls the kernel lets only a capability make useful: allowed only with
   * it, so that a container without it gets EPERM either way. */
  {.names = NAMES("mount", "umount", "umount2", "unshare", "setns", "clone", "clone3", "bpf", "fsopen",
                  "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr", "quotactl",
                  "quotactl_fd", "perf_event_open", "fanotify_init", "lookup_dcookie", "sethostname",
                  "setdomainname", "syslog", "lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules"),
   .caps = CAP(CAP_SYS_ADMIN)},
  {.names = NAMES("kcmp", "pidfd_getfd", "process_madvise", "ptrace", "process_vm_readv", "process_vm_writev"),
   .caps = CAP(CAP_SYS_PTRACE)},
  {.names = NAMES("init_module", "finit_module", "delete_module"), .caps = CAP(CAP_SYS_MODULE)},
  {.names = NAMES("reboot"), .caps = CAP(CAP_SYS_BOOT)},
  {.names = NAMES("settimeofday", "stime", "clock_settime", "clock_settime64"), .caps = CAP(CAP_SYS_TIME)},
  {.names = NAMES("iopl", "ioperm"), .caps = CAP(CAP_SYS_RAWIO)},
  {.names = NAMES("mbind", "get_mempolicy", "set_mempolicy", "set_mempolicy_home_node"),
   .caps = CAP(CAP_SYS_NICE)},
  {.names = NAMES("syslog"), .caps = CAP(CAP_SYSLOG)},
  {.names = NAMES("bpf"), .caps = CAP(CAP_BPF)},
  {.names = NAMES("perf_event_open"), .caps = CAP(CAP_PERFMON)},
  {.names = NAMES("acct"), .caps = CAP(CAP_SYS_PACCT)},
  {.names = NAMES("chroot"), .caps = CAP(CAP_SYS_CHROOT)},
  {.names = NAMES("open_by_handle_at"), .caps = CAP(CAP_DAC_READ_SEARCH)},
  {.names = NAMES("vhangup"), .caps = CAP(CAP_SYS_TTY_CONFIG)},
};

/* ---- shared by both profiles ---- */

static bool in_list(const char *const *list, const char *s)
{
  for (; list && *list; list++)
    if (strcmp(*list, s) == 0)
      return true;
  return false;
}

/* "X.Y" to X * 1000 + Y; -1 when malformed. */
static long parse_kernel_version(const char *s)
{
  unsigned long major, minor;
  int used = 0;
  if (!isdigit((unsigned char)s[0]) || sscanf(s, "%lu.%lu%n", &major, &minor, &used) != 2 || used == 0 ||
      major > 1000 || minor > 999)
    return -1;
  return (long)(major * 1000 + minor);
}

static long running_kernel_version(void)
{
  struct utsname u;
  unsigned long major = 0, minor = 0;
  if (uname(&u) < 0 || sscanf(u.release, "%lu.%lu", &major, &minor) != 2)
    return 0;
  return (long)(major * 1000 + minor);
}

static const char *const actions[] = {
  "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", NULL,
};
static const char *const operators[] = {
  "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ", NULL,
};
static const char *const flags_known[] = {
  "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", NULL,
};

static json_t *architectures_json(void)
{
  static const char *const sub[] = {NATIVE_SUBARCHES, NULL};
  json_t *a = json_array();
  json_array_append_new(a, json_string(NATIVE_ARCH));
  for (size_t i = 0; sub[i]; i++)
    json_array_append_new(a, json_string(sub[i]));
  return a;
}

static json_t *oci_arg(uint32_t index, uint64_t value, uint64_t value_two, const char *op)
{
  return json_pack("{s:I, s:I, s:I, s:s}", "index", (json_int_t)index, "value", (json_int_t)value, "valueTwo",
                   (json_int_t)value_two, "op", op);
}

/* {names, action[, args][, errnoRet]}; takes the references passed in. */
static json_t *oci_rule(json_t *names, const char *action, json_t *args, json_t *errno_ret)
{
  json_t *r = json_pack("{s:o, s:s}", "names", names, "action", action);
  if (args && json_array_size(args) > 0)
    json_object_set_new(r, "args", args);
  else
    json_decref(args);
  if (errno_ret)
    json_object_set_new(r, "errnoRet", errno_ret);
  return r;
}

static json_t *oci_profile(const char *default_action, json_t *default_errno, json_t *arches, json_t *flags,
                           json_t *syscalls)
{
  json_t *p = json_pack("{s:s, s:o, s:o}", "defaultAction", default_action, "architectures", arches, "syscalls",
                        syscalls);
  if (default_errno)
    json_object_set_new(p, "defaultErrnoRet", default_errno);
  if (flags)
    json_object_set_new(p, "flags", flags);
  return p;
}

/* ---- the default profile ---- */

static bool default_rule_applies(const struct profile_rule *r, uint64_t caps, long kernel)
{
  if ((caps & r->caps) != r->caps || (caps & r->not_caps) != 0)
    return false;
  if (r->arches && !in_list(r->arches, NATIVE_GOARCH))
    return false;
  if (r->not_arches && in_list(r->not_arches, NATIVE_GOARCH))
    return false;
  return !r->min_kernel || kernel >= parse_kernel_version(r->min_kernel);
}

static json_t *default_rule_json(const struct profile_rule *r)
{
  json_t *names = json_array(), *args = json_array();
  for (const char *const *n = r->names; *n; n++)
    json_array_append_new(names, json_string(*n));
  for (size_t i = 0; i < r->n_args; i++)
    json_array_append_new(args, oci_arg(r->args[i].index, r->args[i].value, r->args[i].value_two, r->args[i].op));
  return oci_rule(names, r->action ? r->action : "SCMP_ACT_ALLOW", args,
                  r->errno_ret ? json_integer(r->errno_ret) : NULL);
}

json_t *berth_seccomp_default_profile(uint64_t caps, berth_error_t *err)
{
  long kernel = running_kernel_version();
  json_t *syscalls = json_array();
  for (size_t i = 0; i < sizeof(default_rules) / sizeof(default_rules[0]); i++)
    if (default_rule_applies(&default_rules[i], caps, kernel))
      json_array_append_new(syscalls, default_rule_json(&default_rules[i]));
  return oci_profile("SCMP_ACT_ERRNO", json_integer(EPERM), architectures_json(), NULL, syscalls);
}

/* ---- docker's format ---- */

/* Capability names as docker writes them ("CAP_SYS_ADMIN"; berth also takes
 * "SYS_ADMIN" in any case). */
static const char *const cap_names[CAP_LAST_CAP + 1] = {
  [CAP_CHOWN] = "CHOWN", [CAP_DAC_OVERRIDE] = "DAC_OVERRIDE", [CAP_DAC_READ_SEARCH] = "DAC_READ_SEARCH",
  [CAP_FOWNER] = "FOWNER", [CAP_FSETID] = "FSETID", [CAP_KILL] = "KILL", [CAP_SETGID] = "SETGID",
  [CAP_SETUID] = "SETUID", [CAP_SETPCAP] = "SETPCAP", [CAP_LINUX_IMMUTABLE] = "LINUX_IMMUTABLE",
  [CAP_NET_BIND_SERVICE] = "NET_BIND_SERVICE", [CAP_NET_BROADCAST] = "NET_BROADCAST",
  [CAP_NET_ADMIN] = "NET_ADMIN", [CAP_NET_RAW] = "NET_RAW", [CAP_IPC_LOCK] = "IPC_LOCK",
  [CAP_IPC_OWNER] = "IPC_OWNER", [CAP_SYS_MODULE] = "SYS_MODULE", [CAP_SYS_RAWIO] = "SYS_RAWIO",
  [CAP_SYS_CHROOT] = "SYS_CHROOT", [CAP_SYS_PTRACE] = "SYS_PTRACE", [CAP_SYS_PACCT] = "SYS_PACCT",
  [CAP_SYS_ADMIN] = "SYS_ADMIN", [CAP_SYS_BOOT] = "SYS_BOOT", [CAP_SYS_NICE] = "SYS_NICE",
  [CAP_SYS_RESOURCE] = "SYS_RESOURCE", [CAP_SYS_TIME] = "SYS_TIME", [CAP_SYS_TTY_CONFIG] = "SYS_TTY_CONFIG",
  [CAP_MKNOD] = "MKNOD", [CAP_LEASE] = "LEASE", [CAP_AUDIT_WRITE] = "AUDIT_WRITE",
  [CAP_AUDIT_CONTROL] = "AUDIT_CONTROL", [CAP_SETFCAP] = "SETFCAP", [CAP_MAC_OVERRIDE] = "MAC_OVERRIDE",
  [CAP_MAC_ADMIN] = "MAC_ADMIN", [CAP_SYSLOG] = "SYSLOG", [CAP_WAKE_ALARM] = "WAKE_ALARM",
  [CAP_BLOCK_SUSPEND] = "BLOCK_SUSPEND", [CAP_AUDIT_READ] = "AUDIT_READ", [CAP_PERFMON] = "PERFMON",
  [CAP_BPF] = "BPF", [CAP_CHECKPOINT_RESTORE] = "CHECKPOINT_RESTORE",
};

/* Whether `caps` holds the named capability.  A name berth does not know is
 * a capability nobody holds, as in docker, which compares the strings. */
static bool holds_cap(uint64_t caps, const char *name)
{
  if (strncasecmp(name, "CAP_", 4) == 0)
    name += 4;
  for (int c = 0; c <= CAP_LAST_CAP; c++)
    if (cap_names[c] && strcasecmp(cap_names[c], name) == 0)
      return (caps & CAP(c)) != 0;
  return false;
}

/* A validation error at `path` ("syscalls[3].action"). */
__attribute__((format(printf, 3, 4))) static int bad(berth_error_t *err, const char *path, const char *fmt, ...)
{
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return berth_error_set_plain(err, EINVAL, "seccomp profile: %s%s%s", path, *path ? ": " : "", msg);
}

static int check_name(const json_t *v, const char *const *allowed, const char *kind, const char *path,
                      berth_error_t *err)
{
  if (!json_is_string(v))
    return bad(err, path, "expected a string");
  if (!in_list(allowed, json_string_value(v)))
    return bad(err, path, "unknown %s \"%s\"", kind, json_string_value(v));
  return 0;
}

static int check_strings(const json_t *v, bool allow_empty, const char *path, berth_error_t *err)
{
  size_t i;
  json_t *s;
  if (!json_is_array(v))
    return bad(err, path, "expected an array of strings");
  if (!allow_empty && json_array_size(v) == 0)
    return bad(err, path, "expected at least one name");
  json_array_foreach(v, i, s)
  {
    if (!json_is_string(s) || json_string_length(s) == 0)
      return bad(err, path, "expected an array of non-empty strings");
  }
  return 0;
}

/* An optional unsigned integer field, at most `max`: 1 and *ret when
 * present, 0 when absent or null, -1 on error. */
static int get_uint(const json_t *obj, const char *key, uint64_t max, const char *path, json_int_t *ret,
                    berth_error_t *err)
{
  json_t *v = json_object_get(obj, key);
  char p[160];
  (void)snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
  if (!v || json_is_null(v))
    return 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0)
    return bad(err, p, "expected a non-negative integer");
  if ((uint64_t)json_integer_value(v) > max)
    return bad(err, p, "%lld is out of range (at most %llu)", (long long)json_integer_value(v),
               (unsigned long long)max);
  *ret = json_integer_value(v);
  return 1;
}

static int check_filter_fields(const json_t *f, bool include, const char *path, berth_error_t *err)
{
  char p[160];
  json_t *c = json_object_get(f, "caps"), *a = json_object_get(f, "arches"), *k = json_object_get(f, "minKernel");
  if (!json_is_object(f))
    return bad(err, path, "expected an object");
  (void)snprintf(p, sizeof(p), "%s.caps", path);
  if (c && !json_is_null(c) && check_strings(c, true, p, err) < 0)
    return -1;
  (void)snprintf(p, sizeof(p), "%s.arches", path);
  if (a && !json_is_null(a) && check_strings(a, true, p, err) < 0)
    return -1;
  (void)snprintf(p, sizeof(p), "%s.minKernel", path);
  if (!k || json_is_null(k))
    return 0;
  if (!include)
    return bad(err, p, "not supported in excludes");
  if (!json_is_string(k) || parse_kernel_version(json_string_value(k)) < 0)
    return bad(err, p, "expected a kernel version \"<major>.<minor>\"");
  return 0;
}

/* includes or excludes: {caps, arches, minKernel}.  Returns 1 when the rule
 * applies, 0 when it does not, -1 on error.  As in docker, includes needs
 * every listed capability and the native architecture in the list; excludes
 * drops the rule when any listed capability is held or the native
 * architecture is listed. */
static int filter_applies(const json_t *f, bool include, uint64_t caps, long kernel, const char *path,
                          berth_error_t *err)
{
  json_t *c, *a, *k, *s;
  bool caps_ok = true, arch_listed = false;
  size_t i;
  if (!f || json_is_null(f))
    return 1;
  if (check_filter_fields(f, include, path, err) < 0)
    return -1;
  c = json_object_get(f, "caps");
  a = json_object_get(f, "arches");
  k = json_object_get(f, "minKernel");
  json_array_foreach(c, i, s)
  {
    if (holds_cap(caps, json_string_value(s)) != include)
      caps_ok = false;
  }
  json_array_foreach(a, i, s)
  {
    arch_listed = arch_listed || strcmp(json_string_value(s), NATIVE_GOARCH) == 0;
  }
  if (!caps_ok || (json_array_size(a) > 0 && arch_listed != include))
    return 0;
  return !json_is_string(k) || kernel >= parse_kernel_version(json_string_value(k));
}

static json_t *convert_args(const json_t *args, const char *path, berth_error_t *err)
{
  cleanup_json json_t *out = json_array();
  char p[160];
  size_t i;
  json_t *a;
  if (!args || json_is_null(args))
    return steal_ptr(&out);
  if (!json_is_array(args))
    return bad(err, path, "expected an array"), NULL;
  if (json_array_size(args) > MAX_ARGS)
    return bad(err, path, "%zu comparisons, at most %d", json_array_size(args), MAX_ARGS), NULL;
  json_array_foreach(args, i, a)
  {
    json_int_t index = 0, value = 0, value_two = 0;
    (void)snprintf(p, sizeof(p), "%s[%zu]", path, i);
    if (!json_is_object(a))
      return bad(err, p, "expected an object"), NULL;
    int has_index = get_uint(a, "index", MAX_ARGS - 1, p, &index, err);
    if (has_index < 0)
      return NULL;
    if (has_index == 0)
      return bad(err, p, "no \"index\""), NULL;
    if (get_uint(a, "value", INT64_MAX, p, &value, err) < 0 ||
        get_uint(a, "valueTwo", INT64_MAX, p, &value_two, err) < 0)
      return NULL;
    (void)snprintf(p, sizeof(p), "%s[%zu].op", path, i);
    if (check_name(json_object_get(a, "op"), operators, "operator", p, err) < 0)
      return NULL;
    json_array_append_new(out, oci_arg((uint32_t)index, (uint64_t)value, (uint64_t)value_two,
                                       berth_json_str(a, "op")));
  }
  return steal_ptr(&out);
}

/* name or names, as an array of names. */
static json_t *convert_names(const json_t *s, const char *path, berth_error_t *err)
{
  json_t *name = json_object_get(s, "name"), *names = json_object_get(s, "names");
  char p[160];
  if (name && names)
    return bad(err, path, "use either \"name\" or \"names\""), NULL;
  if (name) {
    (void)snprintf(p, sizeof(p), "%s.name", path);
    if (!json_is_string(name) || json_string_length(name) == 0)
      return bad(err, p, "expected a non-empty string"), NULL;
    return json_pack("[O]", name);
  }
  if (!names)
    return bad(err, path, "no \"names\""), NULL;
  (void)snprintf(p, sizeof(p), "%s.names", path);
  if (check_strings(names, false, p, err) < 0)
    return NULL;
  return json_deep_copy(names);
}

/* One entry of syscalls[]: 1 and *ret when it applies to this container,
 * 0 when includes/excludes leave it out, -1 on error.  Every field is
 * checked either way, so that a profile is valid or not whatever the caps. */
static int convert_syscall(const json_t *s, size_t idx, uint64_t caps, long kernel, json_t **ret,
                           berth_error_t *err)
{
  cleanup_json json_t *names = NULL, *args = NULL;
  char path[64], p[96];
  json_int_t errno_ret = 0;
  int has_errno, inc, exc;
  (void)snprintf(path, sizeof(path), "syscalls[%zu]", idx);
  if (!json_is_object(s))
    return bad(err, path, "expected an object");
  names = convert_names(s, path, err);
  if (!names)
    return -1;
  (void)snprintf(p, sizeof(p), "%s.action", path);
  if (check_name(json_object_get(s, "action"), actions, "action", p, err) < 0)
    return -1;
  has_errno = get_uint(s, "errnoRet", MAX_ERRNO, path, &errno_ret, err);
  if (has_errno < 0)
    return -1;
  (void)snprintf(p, sizeof(p), "%s.args", path);
  args = convert_args(json_object_get(s, "args"), p, err);
  if (!args)
    return -1;
  (void)snprintf(p, sizeof(p), "%s.includes", path);
  inc = filter_applies(json_object_get(s, "includes"), true, caps, kernel, p, err);
  (void)snprintf(p, sizeof(p), "%s.excludes", path);
  exc = inc < 0 ? -1 : filter_applies(json_object_get(s, "excludes"), false, caps, kernel, p, err);
  if (inc < 0 || exc < 0)
    return -1;
  if (!inc || !exc)
    return 0;
  *ret = oci_rule(steal_ptr(&names), berth_json_str(s, "action"), steal_ptr(&args),
                  has_errno ? json_integer(errno_ret) : NULL);
  return 1;
}

/* architectures as given, or the archMap entry of the native architecture
 * with its subArchitectures. */
static json_t *convert_arches(const json_t *doc, berth_error_t *err)
{
  json_t *arches = json_object_get(doc, "architectures"), *map = json_object_get(doc, "archMap"), *m;
  char p[64];
  size_t i;
  if (arches && !json_is_null(arches) && map && !json_is_null(map))
    return bad(err, "", "use either \"architectures\" or \"archMap\""), NULL;
  if (arches && !json_is_null(arches))
    return check_strings(arches, true, "architectures", err) < 0 ? NULL : json_deep_copy(arches);
  if (!map || json_is_null(map))
    return json_array();
  if (!json_is_array(map))
    return bad(err, "archMap", "expected an array"), NULL;
  arches = NULL;
  json_array_foreach(map, i, m)
  {
    json_t *sub = json_object_get(m, "subArchitectures");
    (void)snprintf(p, sizeof(p), "archMap[%zu]", i);
    if (!json_is_object(m) || !json_is_string(json_object_get(m, "architecture")))
      return bad(err, p, "expected an object with an \"architecture\" string"), NULL;
    (void)snprintf(p, sizeof(p), "archMap[%zu].subArchitectures", i);
    if (sub && !json_is_null(sub) && check_strings(sub, true, p, err) < 0)
      return NULL;
    if (!arches && strcmp(berth_json_str(m, "architecture"), NATIVE_ARCH) == 0) {
      arches = json_pack("[O]", json_object_get(m, "architecture"));
      if (json_is_array(sub))
        json_array_extend(arches, sub);
    }
  }
  return arches ? arches : json_array();
}

/* flags: *ret stays NULL when absent. */
static int convert_flags(const json_t *doc, json_t **ret, berth_error_t *err)
{
  json_t *flags = json_object_get(doc, "flags"), *f;
  char p[32];
  size_t i;
  if (!flags || json_is_null(flags))
    return 0;
  if (!json_is_array(flags))
    return bad(err, "flags", "expected an array of strings");
  json_array_foreach(flags, i, f)
  {
    (void)snprintf(p, sizeof(p), "flags[%zu]", i);
    if (check_name(f, flags_known, "flag", p, err) < 0)
      return -1;
  }
  *ret = json_deep_copy(flags);
  return 0;
}

static json_t *convert_syscalls(const json_t *doc, uint64_t caps, berth_error_t *err)
{
  cleanup_json json_t *out = json_array();
  json_t *syscalls = json_object_get(doc, "syscalls"), *s;
  long kernel = running_kernel_version();
  size_t i;
  if (!syscalls || json_is_null(syscalls))
    return steal_ptr(&out);
  if (!json_is_array(syscalls))
    return bad(err, "syscalls", "expected an array"), NULL;
  json_array_foreach(syscalls, i, s)
  {
    json_t *rule = NULL;
    int r = convert_syscall(s, i, caps, kernel, &rule, err);
    if (r < 0)
      return NULL;
    if (r > 0)
      json_array_append_new(out, rule);
  }
  return steal_ptr(&out);
}

json_t *berth_seccomp_from_docker_profile(const char *json, size_t len, uint64_t caps, berth_error_t *err)
{
  cleanup_json json_t *doc = berth_json_loadb(json, len, "seccomp profile", err);
  cleanup_json json_t *arches = NULL, *flags = NULL, *syscalls = NULL;
  json_int_t default_errno = 0;
  int has_errno;
  if (!doc)
    return NULL;
  if (!json_is_object(doc))
    return bad(err, "", "expected a JSON object"), NULL;
  if (check_name(json_object_get(doc, "defaultAction"), actions, "action", "defaultAction", err) < 0)
    return NULL;
  has_errno = get_uint(doc, "defaultErrnoRet", MAX_ERRNO, "", &default_errno, err);
  if (has_errno < 0)
    return NULL;
  arches = convert_arches(doc, err);
  if (!arches)
    return NULL;
  if (convert_flags(doc, &flags, err) < 0)
    return NULL;
  syscalls = convert_syscalls(doc, caps, err);
  if (!syscalls)
    return NULL;
  return oci_profile(berth_json_str(doc, "defaultAction"), has_errno ? json_integer(default_errno) : NULL,
                     steal_ptr(&arches), steal_ptr(&flags), steal_ptr(&syscalls));
}
