/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI config.json of a container, built from its Config and HostConfig
 * the way docker builds it (moby daemon/oci_linux.go on top of containerd's
 * default spec; security.md section 2): default capabilities, mounts, masked
 * paths, device rules and seccomp profile, the user's settings validated
 * with docker's error wording, and "berth." annotations for the runtime and
 * the monitor (spec.h lists them). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "engine/logs.h"
#include "engine/spec.h"
#include "oci/runtime-spec.h"
#include "runtime/seccomp.h"

/* The seccomp profile functions live in lib/runtime/seccomp-profile.c.  Weak
 * references keep libberth linkable (-Wl,--no-undefined) before that file
 * joins the build; without it a profile request fails with ENOSYS. */

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_SHM_SIZE (INT64_C(64) << 20)
#define MIN_MEMORY INT64_C(6291456)
#define CPU_PERIOD 100000
#define ALL_CAPS ((UINT64_C(1) << 41) - 1) /* CAP_CHOWN .. CAP_CHECKPOINT_RESTORE */
#define CAP(n) (UINT64_C(1) << (n))
/* docker's default set: CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW,
 * SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE */
#define DEFAULT_CAPS                                                                                                  \
  (CAP(0) | CAP(1) | CAP(4) | CAP(3) | CAP(27) | CAP(13) | CAP(6) | CAP(7) | CAP(31) | CAP(8) | CAP(10) | CAP(18) |   \
   CAP(5) | CAP(29))

struct build {
  const struct berth_spec_input *in;
  const json_t *cfg, *hc;
  bool privileged;
  uint64_t caps; /* bounding = effective = permitted */
  bool nnp, seccomp_unconfined, systempaths_unconfined;
  const char *seccomp_profile; /* docker profile JSON text from SecurityOpt */
  char *hostname;              /* for HOSTNAME=; "" with --uts host */
  json_t *spec, *lnx, *annotations;
};

static json_t *jstrv(const char *const *v)
{
  json_t *a = json_array();
  for (; v && *v; v++)
    json_array_append_new(a, json_string(*v));
  return a;
}

static bool hc_bool(const struct build *b, const char *key) { return json_is_true(json_object_get(b->hc, key)); }
static json_int_t hc_int(const struct build *b, const char *key) { return berth_json_int(b->hc, key, 0); }
static const char *hc_str(const struct build *b, const char *key)
{
  const char *s = berth_json_str(b->hc, key);
  return s ? s : "";
}

static bool str_eq(const char *a, const char *b) { return a && strcmp(a, b) == 0; }
static bool has_prefix(const char *s, const char *p) { return s && strncmp(s, p, strlen(p)) == 0; }

static bool has_dotdot(const char *p)
{
  for (const char *c = p; (c = strstr(c, "..")); c += 2)
    if ((c == p || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
      return true;
  return false;
}

/* Absolute, no ".." component: what docker requires of mount destinations. */
static bool path_is_sane_absolute(const char *p) { return p && p[0] == '/' && !has_dotdot(p); }

/* ---------------------------------------------------------------- security options */

static int parse_security_opt(struct build *b, const char *opt, berth_error_t *err)
{
  const char *sep = strchr(opt, '=') ? strchr(opt, '=') : strchr(opt, ':');
  size_t klen = sep ? (size_t)(sep - opt) : strlen(opt);
  const char *val = sep ? sep + 1 : NULL;
  if (klen == 17 && strncmp(opt, "no-new-privileges", klen) == 0) {
    if (val && !str_eq(val, "true") && !str_eq(val, "false"))
      return berth_error_set_plain(err, EINVAL, "invalid --security-opt 2: \"%s\"", opt);
    b->nnp = !val || str_eq(val, "true");
  } else if (klen == 7 && strncmp(opt, "seccomp", klen) == 0 && val) {
    b->seccomp_unconfined = str_eq(val, "unconfined");
    b->seccomp_profile = b->seccomp_unconfined ? NULL : val;
  } else if (klen == 11 && strncmp(opt, "systempaths", klen) == 0 && str_eq(val, "unconfined")) {
    b->systempaths_unconfined = true;
  } else if (!(val && ((klen == 8 && strncmp(opt, "apparmor", klen) == 0) || (klen == 5 && strncmp(opt, "label", klen) == 0)))) {
    /* apparmor= and label= name LSM settings this host does not enforce. */
    return berth_error_set_plain(err, EINVAL, "invalid --security-opt 1: \"%s\"", opt);
  }
  return 0;
}

static int parse_security_opts(struct build *b, berth_error_t *err)
{
  json_t *a = json_object_get(b->hc, "SecurityOpt"), *v;
  size_t i;
  json_array_foreach(a, i, v)
  {
    if (!json_is_string(v))
      return berth_error_set_plain(err, EINVAL, "invalid --security-opt: expected strings");
    if (parse_security_opt(b, json_string_value(v), err) < 0)
      return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- capabilities */

static int cap_list(const json_t *list, bool *ret_all, uint64_t *ret_mask, berth_error_t *err)
{
  json_t *v;
  size_t i;
  json_array_foreach(list, i, v)
  {
    const char *name = json_string_value(v);
    int cap;
    if (name && strcasecmp(name, "ALL") == 0) {
      *ret_all = true;
      continue;
    }
    if ((cap = berth_cap_from_name(name)) < 0)
      return berth_error_set_plain(err, EINVAL, "unknown capability: \"%s\"", name ? name : "");
    *ret_mask |= CAP(cap);
  }
  return 0;
}

/* moby's TweakCapabilities: ALL in CapAdd wins, then ALL in CapDrop; named
 * additions apply after named drops. Always within the host's bounding set. */
static int compute_caps(struct build *b, berth_error_t *err)
{
  bool add_all = false, drop_all = false;
  uint64_t add = 0, drop = 0;
  if (b->privileged) {
    b->caps = b->in->host_caps & ALL_CAPS;
    return 0;
  }
  if (cap_list(json_object_get(b->hc, "CapAdd"), &add_all, &add, err) < 0 ||
      cap_list(json_object_get(b->hc, "CapDrop"), &drop_all, &drop, err) < 0)
    return -1;
  if (add_all)
    b->caps = ALL_CAPS & ~drop;
  else if (drop_all)
    b->caps = add;
  else
    b->caps = (DEFAULT_CAPS & ~drop) | add;
  b->caps &= b->in->host_caps;
  return 0;
}

static json_t *cap_names(uint64_t mask)
{
  json_t *a = json_array();
  for (int i = 0; i < 64; i++)
    if ((mask & CAP(i)) && berth_cap_name(i))
      json_array_append_new(a, json_string(berth_cap_name(i)));
  return a;
}

static json_t *build_caps(const struct build *b)
{
  /* Inheritable and ambient stay empty (CVE-2022-29162, CVE-2016-8867). */
  return json_pack("{s:o,s:o,s:o,s:[],s:[]}", "bounding", cap_names(b->caps), "effective", cap_names(b->caps),
                   "permitted", cap_names(b->caps), "inheritable", "ambient");
}

/* ---------------------------------------------------------------- process */

/* Cmd and Entrypoint: docker's strslice, an array of strings or one string. */
static int append_strslice(json_t *args, const json_t *v, const char *what, berth_error_t *err)
{
  json_t *e;
  size_t i;
  if (json_is_string(v))
    return json_array_append_new(args, json_string(json_string_value(v))) == 0 ? 0 : -1;
  if (v && !json_is_null(v) && !json_is_array(v))
    return berth_error_set_plain(err, EINVAL, "%s: expected an array of strings", what);
  json_array_foreach(v, i, e)
  {
    if (!json_is_string(e))
      return berth_error_set_plain(err, EINVAL, "%s: expected an array of strings", what);
    json_array_append_new(args, json_string(json_string_value(e)));
  }
  return 0;
}

static json_t *build_args(const struct build *b, berth_error_t *err)
{
  cleanup_json json_t *args = json_array();
  if (hc_bool(b, "Init")) {
    json_array_append_new(args, json_string("/dev/init"));
    json_array_append_new(args, json_string("--"));
  }
  if (append_strslice(args, json_object_get(b->cfg, "Entrypoint"), "Entrypoint", err) < 0 ||
      append_strslice(args, json_object_get(b->cfg, "Cmd"), "Cmd", err) < 0)
    return NULL;
  if (json_array_size(args) == (hc_bool(b, "Init") ? 2u : 0u)) {
    berth_error_set_plain(err, EINVAL, "no command specified");
    return NULL;
  }
  return steal_ptr(&args);
}

static json_t *build_env(const struct build *b, berth_error_t *err)
{
  cleanup_json json_t *env = json_array();
  cleanup_free char *hostname = NULL;
  json_t *user = json_object_get(b->cfg, "Env"), *v;
  size_t i;
  if (asprintf(&hostname, "HOSTNAME=%s", b->hostname) < 0)
    abort();
  json_array_append_new(env, json_string("PATH=" DEFAULT_PATH));
  json_array_append_new(env, json_string(hostname));
  if (json_is_true(json_object_get(b->cfg, "Tty")))
    json_array_append_new(env, json_string("TERM=xterm"));
  json_array_foreach(user, i, v)
  {
    if (!json_is_string(v))
      return berth_error_set_plain(err, EINVAL, "Env: expected an array of strings"), NULL;
    berth_json_env_set(env, json_string_value(v));
  }
  return steal_ptr(&env);
}

static const char *build_cwd(const struct build *b, berth_error_t *err)
{
  const char *wd = berth_json_str(b->cfg, "WorkingDir");
  if (!wd || !wd[0])
    return "/";
  if (wd[0] != '/') {
    berth_error_set_plain(err, EINVAL, "the working directory '%s' is invalid, it needs to be an absolute path", wd);
    return NULL;
  }
  return wd;
}

static int ulimit_value(const json_t *u, const char *key, json_int_t *ret)
{
  json_t *v = json_object_get(u, key);
  if (!json_is_integer(v) || json_integer_value(v) < -1)
    return -1;
  *ret = json_integer_value(v);
  return 0;
}

/* HostConfig.Ulimits [{Name, Soft, Hard}]; -1 (unlimited) stays -1, which
 * the parser reads as RLIM_INFINITY (jansson cannot hold 2^64-1). */
static json_t *build_rlimits(const struct build *b, berth_error_t *err)
{
  cleanup_json json_t *out = json_array();
  json_t *u;
  size_t i;
  json_array_foreach(json_object_get(b->hc, "Ulimits"), i, u)
  {
    const char *name = berth_json_str(u, "Name");
    cleanup_free char *type = NULL;
    json_int_t soft = 0, hard = 0;
    if (!name || berth_rlimit_from_name(name) < 0)
      return berth_error_set_plain(err, EINVAL, "invalid ulimit type: %s", name ? name : ""), NULL;
    if (ulimit_value(u, "Soft", &soft) < 0 || ulimit_value(u, "Hard", &hard) < 0)
      return berth_error_set_plain(err, EINVAL, "invalid ulimit: %s: bad soft or hard limit", name), NULL;
    if ((uint64_t)soft > (uint64_t)hard)
      return berth_error_set_plain(err, EINVAL, "ulimit soft limit must be less than or equal to hard limit: %lld > %lld",
                                   (long long)soft, (long long)hard),
             NULL;
    if (asprintf(&type, "RLIMIT_%s", name + (strncasecmp(name, "RLIMIT_", 7) == 0 ? 7 : 0)) < 0)
      abort();
    for (char *c = type; *c; c++)
      *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    json_array_append_new(out, json_pack("{s:s,s:I,s:I}", "type", type, "soft", soft, "hard", hard));
  }
  return steal_ptr(&out);
}

static void join_annotation(json_t *annotations, const char *key, const json_t *list, const char *sep)
{
  cleanup_free char *joined = NULL;
  size_t len = 0, i;
  json_t *v;
  bool first = true;
  FILE *f = open_memstream(&joined, &len);
  if (!f)
    abort();
  json_array_foreach(list, i, v)
  {
    if (!json_is_string(v))
      continue;
    fprintf(f, "%s%s", first ? "" : sep, json_string_value(v));
    first = false;
  }
  fclose(f);
  if (joined[0])
    json_object_set_new(annotations, key, json_string(joined));
}

static int build_user(const struct build *b, json_t *proc)
{
  const char *user = berth_json_str(b->cfg, "User");
  json_t *u = json_pack("{s:i,s:i}", "uid", 0, "gid", 0);
  /* The runtime resolves User inside the container's root after pivot_root
   * (a numeric user is never looked up as a name: CVE-2016-3697). */
  if (user && user[0])
    json_object_set_new(b->annotations, "berth.user", json_string(user));
  join_annotation(b->annotations, "berth.group-add", json_object_get(b->hc, "GroupAdd"), ",");
  return json_object_set_new(proc, "user", u);
}

static int set_console_size(const struct build *b, json_t *proc)
{
  json_t *cs = json_object_get(b->hc, "ConsoleSize");
  json_int_t h = json_integer_value(json_array_get(cs, 0)), w = json_integer_value(json_array_get(cs, 1));
  if (h <= 0 || w <= 0 || h > UINT16_MAX || w > UINT16_MAX)
    return 0;
  return json_object_set_new(proc, "consoleSize", json_pack("{s:I,s:I}", "height", h, "width", w));
}

static int set_oom_score_adj(const struct build *b, json_t *proc, berth_error_t *err)
{
  json_int_t adj = hc_int(b, "OomScoreAdj");
  if (adj < -1000 || adj > 1000)
    return berth_error_set_plain(err, EINVAL, "Invalid value %lld, range for oom score adj is [-1000, 1000]",
                                 (long long)adj);
  if (adj != 0)
    json_object_set_new(proc, "oomScoreAdj", json_integer(adj));
  return 0;
}

static int build_process(struct build *b, berth_error_t *err)
{
  cleanup_json json_t *proc = json_object();
  json_t *args, *env, *rlimits;
  const char *cwd;
  if (!(args = build_args(b, err)))
    return -1;
  json_object_set_new(proc, "args", args);
  if (!(env = build_env(b, err)))
    return -1;
  json_object_set_new(proc, "env", env);
  if (!(cwd = build_cwd(b, err)) || !(rlimits = build_rlimits(b, err)))
    return -1;
  json_object_set_new(proc, "cwd", json_string(cwd));
  json_object_set_new(proc, "rlimits", rlimits);
  json_object_set_new(proc, "terminal", json_boolean(json_is_true(json_object_get(b->cfg, "Tty"))));
  json_object_set_new(proc, "capabilities", build_caps(b));
  json_object_set_new(proc, "noNewPrivileges", json_boolean(b->nnp));
  if (build_user(b, proc) < 0 || set_console_size(b, proc) < 0 || set_oom_score_adj(b, proc, err) < 0)
    return -1;
  json_object_set_new(b->spec, "process", steal_ptr(&proc));
  return 0;
}

/* ---------------------------------------------------------------- mounts */

static json_t *mount_new(const char *dest, const char *type, const char *src, json_t *options)
{
  return json_pack("{s:s,s:s,s:s,s:o}", "destination", dest, "type", type, "source", src, "options", options);
}

static bool ipc_is_shared(const struct build *b)
{
  const char *mode = hc_str(b, "IpcMode");
  return b->in->ipc_ns_path || str_eq(mode, "host") || str_eq(mode, "none") || has_prefix(mode, "container:");
}

/* A shared IPC namespace shares /dev/shm too (moby's setupIpcDirs): the
 * host's with --ipc host, the other container's with --ipc container:X (its
 * /dev/shm seen through /proc/PID/root); "none" has none. */
static void shared_shm(const struct build *b, json_t *out)
{
  const char *ns = b->in->ipc_ns_path, *tail = "/ns/ipc";
  cleanup_free char *src = NULL;
  size_t n = ns ? strlen(ns) : 0;
  if (str_eq(hc_str(b, "IpcMode"), "host"))
    src = xstrdup("/dev/shm");
  else if (has_prefix(ns, "/proc/") && n > strlen(tail) && str_eq(ns + n - strlen(tail), tail) &&
           asprintf(&src, "%.*s/root/dev/shm", (int)(n - strlen(tail)), ns) < 0)
    abort();
  if (src)
    json_array_append_new(out, mount_new("/dev/shm", "bind", src, json_pack("[ss]", "rbind", "rprivate")));
}

/* containerd's default mounts as moby adjusts them. */
static int default_mounts(const struct build *b, json_t *out, berth_error_t *err)
{
  const char *sys_mode = b->privileged ? "rw" : "ro";
  json_int_t shm = hc_int(b, "ShmSize");
  char size[64];
  if (shm < 0)
    return berth_error_set_plain(err, EINVAL, "SHM size can not be less than 0");
  snprintf(size, sizeof(size), "size=%lld", (long long)(shm ? shm : DEFAULT_SHM_SIZE));
  json_array_append_new(out, mount_new("/proc", "proc", "proc", json_pack("[sss]", "nosuid", "noexec", "nodev")));
  json_array_append_new(out, mount_new("/dev", "tmpfs", "tmpfs",
                                       json_pack("[ssss]", "nosuid", "strictatime", "mode=755", "size=65536k")));
  json_array_append_new(out, mount_new("/dev/pts", "devpts", "devpts",
                                       json_pack("[ssssss]", "nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                                 "mode=0620", "gid=5")));
  json_array_append_new(out, mount_new("/sys", "sysfs", "sysfs", json_pack("[ssss]", "nosuid", "noexec", "nodev", sys_mode)));
  json_array_append_new(out, mount_new("/sys/fs/cgroup", "cgroup", "cgroup",
                                       json_pack("[sssss]", "nosuid", "noexec", "nodev", "relatime", sys_mode)));
  json_array_append_new(out, mount_new("/dev/mqueue", "mqueue", "mqueue", json_pack("[sss]", "nosuid", "noexec", "nodev")));
  if (!ipc_is_shared(b))
    json_array_append_new(out, mount_new("/dev/shm", "tmpfs", "shm",
                                         json_pack("[sssss]", "nosuid", "noexec", "nodev", "mode=1777", size)));
  else
    shared_shm(b, out);
  return 0;
}

static bool has_destination(const json_t *mounts, const char *dest)
{
  json_t *m;
  size_t i;
  json_array_foreach(mounts, i, m)
  {
    if (str_eq(berth_json_str(m, "destination"), dest))
      return true;
  }
  return false;
}

/* Takes m. */
static int add_user_mount(json_t *user, json_t *m, berth_error_t *err)
{
  const char *dest = berth_json_str(m, "destination");
  if (has_destination(user, dest)) {
    berth_error_set_plain(err, EINVAL, "Duplicate mount point: %s", dest);
    json_decref(m);
    return -1;
  }
  json_array_append_new(user, m);
  return 0;
}

static json_t *bind_mount(const char *src, const char *dst, bool ro, const char *prop)
{
  json_t *opts = json_pack("[ss]", "rbind", prop ? prop : "rprivate");
  if (ro)
    json_array_append_new(opts, json_string("ro"));
  return mount_new(dst, "bind", src, opts);
}

static int bind_destination_check(const char *spec, const char *type, const char *dst, berth_error_t *err)
{
  if (!path_is_sane_absolute(dst))
    return berth_error_set_plain(err, EINVAL,
                                 "invalid volume specification: '%s': invalid mount config for type \"%s\": invalid "
                                 "mount path: '%s' mount path must be absolute",
                                 spec, type, dst);
  if (strspn(dst, "/") == strlen(dst))
    return berth_error_set_plain(err, EINVAL, "invalid specification: destination can't be '/'");
  return 0;
}

/* Two mount options that set the same thing: equal keys ("size=1m" and
 * "size=2m"), a flag and its "no" form, or ro and rw. */
static bool options_clash(const char *a, const char *b)
{
  size_t ka = strcspn(a, "="), kb = strcspn(b, "=");
  if (ka == kb && strncmp(a, b, ka) == 0)
    return true;
  if ((str_eq(a, "ro") && str_eq(b, "rw")) || (str_eq(a, "rw") && str_eq(b, "ro")))
    return true;
  return (has_prefix(a, "no") && str_eq(a + 2, b)) || (has_prefix(b, "no") && str_eq(b + 2, a));
}

/* moby's MergeTmpfsOptions: the user's options override the defaults. */
static void merge_option(json_t *opts, const char *o)
{
  for (size_t i = json_array_size(opts); i-- > 0;)
    if (options_clash(json_string_value(json_array_get(opts, i)), o))
      json_array_remove(opts, i);
  json_array_append_new(opts, json_string(o));
}

static json_t *tmpfs_mount(const char *dest, const char *data)
{
  json_t *opts = json_pack("[sss]", "noexec", "nosuid", "nodev");
  cleanup_free char *copy = xstrdup(data ? data : "");
  char *save = NULL;
  for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save))
    merge_option(opts, o);
  return mount_new(dest, "tmpfs", "tmpfs", opts);
}

static int add_tmpfs(const struct build *b, json_t *user, berth_error_t *err)
{
  json_t *v;
  const char *dest;
  json_object_foreach(json_object_get(b->hc, "Tmpfs"), dest, v)
  {
    if (!json_is_string(v))
      return berth_error_set_plain(err, EINVAL, "Tmpfs: expected an object of strings");
    if (bind_destination_check(dest, "tmpfs", dest, err) < 0 ||
        add_user_mount(user, tmpfs_mount(dest, json_string_value(v)), err) < 0)
      return -1;
  }
  return 0;
}

/* The record's MountPoints (mounts.c): binds and volumes are binds of their
 * source (a volume's _data), tmpfs mounts get their options. */
static int add_mount_points(const struct build *b, json_t *user, berth_error_t *err)
{
  json_t *m;
  size_t i;
  json_array_foreach(b->in->mount_points, i, m)
  {
    const char *type = berth_json_str(m, "Type"), *dest = berth_json_str(m, "Destination");
    const char *prop = berth_json_str(m, "Propagation");
    bool ro = !json_is_true(json_object_get(m, "RW"));
    json_t *mnt;
    if (!dest || dest[0] != '/')
      return berth_error_set_plain(err, EINVAL, "MountPoints: a mount without a destination");
    if (str_eq(type, "tmpfs"))
      mnt = tmpfs_mount(dest, berth_json_str(m, "TmpfsOptions"));
    else
      mnt = bind_mount(berth_json_str(m, "Source") ? berth_json_str(m, "Source") : "", dest, ro,
                       prop && *prop ? prop : NULL);
    if (add_user_mount(user, mnt, err) < 0)
      return -1;
  }
  return 0;
}

/* /etc/resolv.conf, /etc/hostname, /etc/hosts, unless the user mounts over
 * them; read-only with --read-only, as moby's NetworkMounts. */
static void add_host_files(const struct build *b, json_t *user)
{
  const char *files[][2] = {{b->in->resolv_conf_path, "/etc/resolv.conf"},
                            {b->in->hostname_path, "/etc/hostname"},
                            {b->in->hosts_path, "/etc/hosts"}};
  bool ro = hc_bool(b, "ReadonlyRootfs");
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
    if (files[i][0] && !has_destination(user, files[i][1]))
      json_array_append_new(user, bind_mount(files[i][0], files[i][1], ro, NULL));
}

static int add_init(const struct build *b, json_t *user, berth_error_t *err)
{
  /* the real start always names the binary */
  if (!hc_bool(b, "Init") || b->in->validate_only)
    return 0;
  return add_user_mount(user, mount_new("/dev/init", "bind", b->in->init_path, json_pack("[ss]", "bind", "ro")), err);
}

static size_t path_depth(const json_t *m)
{
  const char *d = berth_json_str(m, "destination");
  size_t n = 0;
  for (const char *c = d; c && *c; c++)
    n += *c == '/' && c[1] && c[1] != '/';
  return n;
}

/* Parents before children, in given order otherwise (moby's sortMounts). */
static void sort_by_depth(json_t *user)
{
  size_t n = json_array_size(user);
  for (size_t i = 1; i < n; i++) {
    json_t *m = json_incref(json_array_get(user, i));
    size_t j = i;
    while (j > 0 && path_depth(json_array_get(user, j - 1)) > path_depth(m))
      j--;
    if (j != i) {
      json_array_remove(user, i);
      json_array_insert(user, j, m);
    }
    json_decref(m);
  }
}

static int build_mounts(struct build *b, berth_error_t *err)
{
  cleanup_json json_t *user = json_array(), *defaults = json_array(), *mounts = json_array();
  json_t *m;
  size_t i;
  if (add_tmpfs(b, user, err) < 0 || add_mount_points(b, user, err) < 0 ||
      add_init(b, user, err) < 0 || default_mounts(b, defaults, err) < 0)
    return -1;
  add_host_files(b, user);
  sort_by_depth(user);
  json_array_foreach(defaults, i, m)
  {
    const char *dest = berth_json_str(m, "destination");
    if (has_destination(user, dest) || (has_destination(user, "/dev") && has_prefix(dest, "/dev/")))
      continue;
    json_array_append(mounts, m);
  }
  json_array_extend(mounts, user);
  json_object_set_new(b->spec, "mounts", steal_ptr(&mounts));
  return 0;
}

/* ---------------------------------------------------------------- namespaces */

/* path: NULL = new, "" = the host's, else join; `mode` is the HostConfig
 * *Mode, whose "host" also means the host's.  "container:X" without a path is
 * create's validation build (the start resolves X or fails): a new namespace
 * stands in, never the host's. */
static int add_namespace(json_t *list, const char *type, const char *path, const char *mode, berth_error_t *err)
{
  if (str_eq(mode, "host") || str_eq(path, ""))
    return 0;
  if (!path && str_eq(mode, "container:"))
    return berth_error_set_plain(err, EINVAL, "invalid %s mode: container name is empty", type);
  json_array_append_new(list, path ? json_pack("{s:s,s:s}", "type", type, "path", path)
                                   : json_pack("{s:s}", "type", type));
  return 0;
}

static bool uts_is_own(const struct build *b)
{
  return !b->in->uts_ns_path && !str_eq(hc_str(b, "UTSMode"), "host");
}

static bool net_is_own(const struct build *b)
{
  return !b->in->net_ns_path && !str_eq(hc_str(b, "NetworkMode"), "host") &&
         !has_prefix(hc_str(b, "NetworkMode"), "container:");
}

static int build_namespaces(struct build *b, berth_error_t *err)
{
  json_t *ns = json_array();
  json_object_set_new(b->lnx, "namespaces", ns);
  if (add_namespace(ns, "pid", b->in->pid_ns_path, hc_str(b, "PidMode"), err) < 0 ||
      add_namespace(ns, "network", b->in->net_ns_path, hc_str(b, "NetworkMode"), err) < 0 ||
      add_namespace(ns, "ipc", b->in->ipc_ns_path, hc_str(b, "IpcMode"), err) < 0 ||
      add_namespace(ns, "uts", b->in->uts_ns_path, hc_str(b, "UTSMode"), err) < 0 ||
      add_namespace(ns, "mount", NULL, NULL, err) < 0 ||
      add_namespace(ns, "cgroup", NULL, hc_str(b, "CgroupnsMode"), err) < 0)
    return -1;
  return 0;
}

/* ---------------------------------------------------------------- devices */

struct devlist {
  json_t *devices, *rules; /* linux.devices, linux.resources.devices */
};

static bool has_device(const struct devlist *dl, const char *path)
{
  json_t *d;
  size_t i;
  json_array_foreach(dl->devices, i, d)
  {
    if (str_eq(berth_json_str(d, "path"), path))
      return true;
  }
  return false;
}

/* A device cgroup rule; a wildcard major or minor (-1) is left out, as the
 * OCI spec writes it (crun reads -1 literally). */
static json_t *device_rule(bool allow, const char *type, json_int_t major, json_int_t minor, const char *access)
{
  json_t *r = json_pack("{s:b,s:s,s:s}", "allow", allow, "type", type, "access", access);
  if (major >= 0)
    json_object_set_new(r, "major", json_integer(major));
  if (minor >= 0)
    json_object_set_new(r, "minor", json_integer(minor));
  return r;
}

static void add_device_node(struct devlist *dl, const char *path, const struct stat *st, const char *perms)
{
  const char *type = S_ISBLK(st->st_mode) ? "b" : "c";
  json_int_t maj = major(st->st_rdev), min = minor(st->st_rdev);
  json_t *d = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "path", path, "type", type, "major", maj, "minor", min,
                        "fileMode", (json_int_t)(st->st_mode & 0777), "uid", (json_int_t)st->st_uid, "gid",
                        (json_int_t)st->st_gid);
  if (!d || has_device(dl, path)) { /* d is NULL for a name that is not UTF-8 */
    json_decref(d);
    return;
  }
  json_array_append_new(dl->devices, d);
  if (perms)
    json_array_append_new(dl->rules, device_rule(true, type, maj, min, perms));
}

static bool skip_host_dev(const char *name)
{
  static const char *const skip[] = {"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev", "console", NULL};
  for (const char *const *s = skip; *s; s++)
    if (str_eq(name, *s))
      return true;
  return false;
}

/* Every char/block node under host directory `dir` (symlinks skipped), as
 * ctr_dir/relative; `privileged` applies docker's HostDevices exclusions. */
static int walk_devices(struct devlist *dl, const char *dir, const char *ctr_dir, const char *perms, bool privileged,
                        int depth, berth_error_t *err)
{
  cleanup_dir DIR *d = opendir(dir);
  struct dirent *de;
  if (!d)
    return berth_error_set(err, errno, "opendir `%s`", dir);
  while ((de = readdir(d))) {
    cleanup_free char *host = NULL, *ctr = NULL;
    struct stat st;
    if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
      continue;
    if (privileged && skip_host_dev(de->d_name))
      continue;
    if (asprintf(&host, "%s/%s", dir, de->d_name) < 0 || asprintf(&ctr, "%s/%s", ctr_dir, de->d_name) < 0)
      abort();
    if (lstat(host, &st) < 0)
      continue; /* gone meanwhile */
    if (S_ISDIR(st.st_mode) && depth < 8 && walk_devices(dl, host, ctr, perms, privileged, depth + 1, err) < 0)
      return -1;
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
      add_device_node(dl, ctr, &st, perms);
  }
  return 0;
}

static int add_user_device(struct devlist *dl, const json_t *dev, berth_error_t *err)
{
  const char *host = berth_json_str(dev, "PathOnHost"), *ctr = berth_json_str(dev, "PathInContainer");
  const char *perms = berth_json_str(dev, "CgroupPermissions");
  struct stat st;
  if (!ctr || !ctr[0])
    ctr = host;
  if (!perms || !perms[0])
    perms = "rwm";
  if (!host || !path_is_sane_absolute(host) || !path_is_sane_absolute(ctr))
    return berth_error_set_plain(err, EINVAL, "%s is not an absolute path", host && ctr ? ctr : "device path");
  if (strlen(perms) > 3 || strspn(perms, "rwm") != strlen(perms))
    return berth_error_set_plain(err, EINVAL, "invalid device mode: %s", perms);
  if (stat(host, &st) < 0)
    return berth_error_set(err, errno, "error gathering device information while adding custom device \"%s\"", host);
  if (S_ISDIR(st.st_mode))
    return walk_devices(dl, host, ctr, perms, false, 0, err);
  if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
    return berth_error_set_plain(err, EINVAL,
                                 "error gathering device information while adding custom device \"%s\": not a device node",
                                 host);
  add_device_node(dl, ctr, &st, perms);
  return 0;
}

/* docker's default device cgroup: deny all, then the standard nodes, mknod
 * of anything, /dev/net/tun (fuse, 10:229, is denied by the default: a deny
 * rule for it after the mknod wildcard is one v1 cannot express, and crun
 * and runc refuse such a spec). */
static json_t *default_device_rules(bool privileged)
{
  static const struct {
    const char *type;
    json_int_t major, minor;
    const char *access;
  } allow[] = {{"c", -1, -1, "m"},  {"b", -1, -1, "m"},  {"c", 1, 3, "rwm"}, {"c", 1, 5, "rwm"},   {"c", 1, 7, "rwm"},
               {"c", 1, 8, "rwm"},  {"c", 1, 9, "rwm"},  {"c", 5, 0, "rwm"}, {"c", 5, 1, "rwm"},   {"c", 5, 2, "rwm"},
               {"c", 136, -1, "rwm"}, {"c", 10, 200, "rwm"}};
  json_t *rules;
  if (privileged)
    return json_pack("[{s:b,s:s}]", "allow", 1, "access", "rwm");
  rules = json_pack("[{s:b,s:s}]", "allow", 0, "access", "rwm");
  for (size_t i = 0; i < sizeof(allow) / sizeof(allow[0]); i++)
    json_array_append_new(rules, device_rule(true, allow[i].type, allow[i].major, allow[i].minor, allow[i].access));
  return rules;
}

static int rule_number(const char *s, json_int_t *ret)
{
  char *end = NULL;
  long long n;
  if (str_eq(s, "*")) {
    *ret = -1;
    return 0;
  }
  errno = 0;
  n = strtoll(s, &end, 10);
  if (errno || end == s || *end || n < 0 || n > UINT32_MAX)
    return -1;
  *ret = n;
  return 0;
}

/* HostConfig.DeviceCgroupRules: "c 1:3 mr", "a *:* rwm". */
static int add_device_cgroup_rule(struct devlist *dl, const char *rule, berth_error_t *err)
{
  char type[2], maj[12], min[12], access[4];
  json_int_t ma = 0, mi = 0;
  int end = 0;
  if (!rule || sscanf(rule, "%1[acb] %11[0-9*]:%11[0-9*] %3[rwm]%n", type, maj, min, access, &end) != 4 ||
      rule[end] != '\0' || rule_number(maj, &ma) < 0 || rule_number(min, &mi) < 0)
    return berth_error_set_plain(err, EINVAL, "invalid device cgroup rule format: '%s'", rule ? rule : "");
  json_array_append_new(dl->rules, device_rule(true, type, ma, mi, access));
  return 0;
}

static int build_devices(struct build *b, json_t *resources, berth_error_t *err)
{
  struct devlist dl = {json_array(), default_device_rules(b->privileged)};
  json_t *v;
  size_t i;
  json_object_set_new(b->lnx, "devices", dl.devices);
  json_object_set_new(resources, "devices", dl.rules);
  if (b->privileged && walk_devices(&dl, "/dev", "/dev", NULL, true, 0, err) < 0)
    return -1;
  json_array_foreach(json_object_get(b->hc, "Devices"), i, v)
  {
    if (add_user_device(&dl, v, err) < 0)
      return -1;
  }
  json_array_foreach(json_object_get(b->hc, "DeviceCgroupRules"), i, v)
  {
    if (add_device_cgroup_rule(&dl, json_string_value(v), err) < 0)
      return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- resources */

static int memory_checks(json_int_t mem, json_int_t swap, json_int_t reservation, berth_error_t *err)
{
  if (mem < 0 || reservation < 0 || swap < -1)
    return berth_error_set_plain(err, EINVAL, "invalid memory settings: negative value");
  if (mem > 0 && mem < MIN_MEMORY)
    return berth_error_set_plain(err, EINVAL, "Minimum memory limit allowed is 6MB");
  if (swap > 0 && mem == 0)
    return berth_error_set_plain(err, EINVAL,
                                 "You should always set the Memory limit when using Memoryswap limit, see usage");
  if (swap > 0 && swap < mem)
    return berth_error_set_plain(err, EINVAL, "Minimum memoryswap limit should be larger than memory limit, see usage");
  if (reservation > 0 && reservation < MIN_MEMORY)
    return berth_error_set_plain(err, EINVAL, "Minimum memory reservation allowed is 6MB");
  if (mem > 0 && reservation > mem)
    return berth_error_set_plain(err, EINVAL,
                                 "Minimum memory limit can not be less than memory reservation limit, see usage");
  return 0;
}

static int build_memory(const struct build *b, json_t *res, berth_error_t *err)
{
  json_int_t mem = hc_int(b, "Memory"), swap = hc_int(b, "MemorySwap"), resv = hc_int(b, "MemoryReservation");
  json_int_t swappiness = berth_json_int(b->hc, "MemorySwappiness", -1);
  json_t *m = json_object();
  json_object_set_new(res, "memory", m);
  if (memory_checks(mem, swap, resv, err) < 0)
    return -1;
  if (swappiness < -1 || swappiness > 100)
    return berth_error_set_plain(err, EINVAL, "Invalid value: %lld, valid memory swappiness range is 0-100",
                                 (long long)swappiness);
  if (mem > 0)
    json_object_set_new(m, "limit", json_integer(mem));
  if (mem > 0 && swap == 0) /* docker's default: as much swap as memory */
    swap = 2 * mem;
  if (swap != 0)
    json_object_set_new(m, "swap", json_integer(swap));
  if (resv > 0)
    json_object_set_new(m, "reservation", json_integer(resv));
  if (swappiness >= 0)
    json_object_set_new(m, "swappiness", json_integer(swappiness));
  if (hc_bool(b, "OomKillDisable"))
    json_object_set_new(m, "disableOOMKiller", json_true());
  return 0;
}

static int nano_cpus(const struct build *b, json_int_t nano, json_t *cpu, berth_error_t *err)
{
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  if (hc_int(b, "CpuPeriod") != 0)
    return berth_error_set_plain(err, EINVAL, "Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (hc_int(b, "CpuQuota") != 0)
    return berth_error_set_plain(err, EINVAL, "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  if (ncpu < 1)
    ncpu = 1;
  if (nano < 10000000 || nano > (json_int_t)ncpu * 1000000000)
    return berth_error_set_plain(err, EINVAL, "Range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs available",
                                 ncpu, ncpu);
  json_object_set_new(cpu, "quota", json_integer(nano * CPU_PERIOD / 1000000000));
  json_object_set_new(cpu, "period", json_integer(CPU_PERIOD));
  return 0;
}

static bool cpuset_is_valid(const char *s)
{
  return strspn(s, "0123456789,-") == strlen(s) && s[0] >= '0' && s[0] <= '9';
}

static int cpuset(const struct build *b, json_t *cpu, const char *key, const char *field, const char *what,
                  berth_error_t *err)
{
  const char *s = hc_str(b, key);
  if (!s[0])
    return 0;
  if (!cpuset_is_valid(s))
    return berth_error_set_plain(err, EINVAL, "Invalid value %s for cpuset %s", s, what);
  return json_object_set_new(cpu, field, json_string(s));
}

static int cfs(const struct build *b, json_t *cpu, berth_error_t *err)
{
  json_int_t quota = hc_int(b, "CpuQuota"), period = hc_int(b, "CpuPeriod");
  if (quota > 0 && quota < 1000)
    return berth_error_set_plain(err, EINVAL, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
  if (period != 0 && (period < 1000 || period > 1000000))
    return berth_error_set_plain(err, EINVAL, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s "
                                              "(i.e. 1000000)");
  if (quota != 0)
    json_object_set_new(cpu, "quota", json_integer(quota < 0 ? -1 : quota));
  if (period != 0)
    json_object_set_new(cpu, "period", json_integer(period));
  return 0;
}

static int build_cpu(const struct build *b, json_t *res, berth_error_t *err)
{
  json_int_t nano = hc_int(b, "NanoCpus"), shares = hc_int(b, "CpuShares");
  json_t *cpu = json_object();
  json_object_set_new(res, "cpu", cpu);
  if (nano < 0 || shares < 0)
    return berth_error_set_plain(err, EINVAL, "invalid CPU settings: negative value");
  if (nano > 0 ? nano_cpus(b, nano, cpu, err) < 0 : cfs(b, cpu, err) < 0)
    return -1;
  if (shares > 0) /* the kernel's range on cgroup v1 */
    json_object_set_new(cpu, "shares", json_integer(shares < 2 ? 2 : shares > 262144 ? 262144 : shares));
  if (cpuset(b, cpu, "CpusetCpus", "cpus", "cpus", err) < 0 || cpuset(b, cpu, "CpusetMems", "mems", "mems", err) < 0)
    return -1;
  return 0;
}

/* HostConfig's BlkioWeight and Blkio{DeviceReadBps,...} ([{"Path", "Rate"}])
 * into linux.resources.blockIO, each path a block device's numbers. */
static int build_block_io(const struct build *b, json_t *res, berth_error_t *err)
{
  static const char *const from[] = {"BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
                                     "BlkioDeviceWriteIOps"};
  static const char *const to[] = {"throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice",
                                   "throttleWriteIOPSDevice"};
  json_t *bio = json_object();
  json_int_t weight = hc_int(b, "BlkioWeight");
  if (weight != 0 && (weight < 10 || weight > 1000)) {
    json_decref(bio);
    return berth_error_set_plain(err, EINVAL, "invalid BlkioWeight: %lld (must be between 10 and 1000)",
                                 (long long)weight);
  }
  if (weight)
    json_object_set_new(bio, "weight", json_integer(weight));
  for (size_t k = 0; k < sizeof from / sizeof *from; k++) {
    const json_t *v;
    size_t i;
    json_t *list = json_array();
    json_object_set_new(bio, to[k], list);
    json_array_foreach(json_object_get(b->hc, from[k]), i, v)
    {
      const char *path = berth_json_str(v, "Path");
      struct stat st;
      if (!path || stat(path, &st) < 0 || !S_ISBLK(st.st_mode)) {
        json_decref(bio);
        return berth_error_set_plain(err, EINVAL, "%s: %s is not a block device", from[k], path ? path : "(none)");
      }
      json_array_append_new(list, json_pack("{s:I, s:I, s:I}", "major", (json_int_t)major(st.st_rdev), "minor",
                                            (json_int_t)minor(st.st_rdev), "rate", berth_json_int(v, "Rate", 0)));
    }
    if (!json_array_size(list))
      json_object_del(bio, to[k]);
  }
  if (json_object_size(bio))
    json_object_set_new(res, "blockIO", bio);
  else
    json_decref(bio);
  return 0;
}

static int build_resources(struct build *b, berth_error_t *err)
{
  json_t *res = json_object();
  json_int_t pids = hc_int(b, "PidsLimit");
  json_object_set_new(b->lnx, "resources", res);
  if (build_memory(b, res, err) < 0 || build_cpu(b, res, err) < 0 || build_devices(b, res, err) < 0 ||
      build_block_io(b, res, err) < 0)
    return -1;
  if (pids > 0) /* 0 and -1: unlimited */
    json_object_set_new(res, "pids", json_pack("{s:I}", "limit", pids));
  return 0;
}

/* ---------------------------------------------------------------- linux: the rest */

static int build_cgroups_path(struct build *b, berth_error_t *err)
{
  const char *parent = hc_str(b, "CgroupParent");
  cleanup_free char *path = NULL;
  size_t n;
  if (!parent[0])
    parent = b->in->cgroup_parent ? b->in->cgroup_parent : "/berth";
  if (has_dotdot(parent))
    return berth_error_set_plain(err, EINVAL, "invalid cgroup parent `%s`", parent);
  for (n = strlen(parent); n > 0 && parent[n - 1] == '/';)
    n--;
  if (asprintf(&path, "%.*s%s%s", (int)n, parent, n == 0 && parent[0] != '/' ? "" : "/", b->in->id) < 0)
    abort();
  return json_object_set_new(b->lnx, "cgroupsPath", json_string(path));
}

static void build_masked_paths(struct build *b)
{
  static const char *const masked[] = {"/proc/asound",        "/proc/acpi",        "/proc/interrupts", "/proc/kcore",
                                       "/proc/keys",          "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                       "/proc/sched_debug",   "/proc/scsi",        "/sys/firmware",
                                       "/sys/devices/virtual/powercap", NULL};
  static const char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};
  bool none = b->privileged || b->systempaths_unconfined;
  json_t *m = jstrv(none ? NULL : masked);
  long ncpu = sysconf(_SC_NPROCESSORS_CONF);
  /* Per-CPU thermal_throttle directories leak host state too (moby masks them). */
  for (long i = 0; !none && i < ncpu && i < 4096; i++) {
    char path[96];
    snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%ld/thermal_throttle", i);
    if (access(path, F_OK) == 0)
      json_array_append_new(m, json_string(path));
  }
  json_object_set_new(b->lnx, "maskedPaths", m);
  json_object_set_new(b->lnx, "readonlyPaths", jstrv(none ? NULL : readonly));
}

static int build_sysctls(struct build *b, berth_error_t *err)
{
  json_t *out = json_object(), *v;
  const char *key;
  bool own_net = net_is_own(b);
  json_object_set_new(b->lnx, "sysctl", out);
  if (own_net) {
    json_object_set_new(out, "net.ipv4.ping_group_range", json_string("0 2147483647"));
    json_object_set_new(out, "net.ipv4.ip_unprivileged_port_start", json_string("0"));
  }
  json_object_foreach(json_object_get(b->hc, "Sysctls"), key, v)
  {
    if (!json_is_string(v))
      return berth_error_set_plain(err, EINVAL, "invalid sysctl value for `%s`", key);
    if (!own_net && has_prefix(key, "net."))
      return berth_error_set_plain(err, EINVAL, "sysctl \"%s\" not allowed in host network namespace", key);
    json_object_set_new(out, key, json_string(json_string_value(v)));
  }
  return 0;
}

static int build_seccomp(struct build *b, berth_error_t *err)
{
  json_t *profile = NULL;
  if (b->seccomp_unconfined || (b->privileged && !b->seccomp_profile))
    return 0;
  if (b->seccomp_profile)
    profile = berth_seccomp_from_docker_profile(b->seccomp_profile, strlen(b->seccomp_profile), b->caps, err);
  else if (b->in->validate_only)
    return 0; /* nothing to check in our own profile */
  else
    profile = berth_seccomp_default_profile(b->caps, err);
  if (!profile)
    return berth_error_prefix(err, "seccomp profile");
  return json_object_set_new(b->lnx, "seccomp", profile);
}

static int build_linux(struct build *b, berth_error_t *err)
{
  b->lnx = json_object();
  json_object_set_new(b->spec, "linux", b->lnx);
  if (build_namespaces(b, err) < 0 || build_resources(b, err) < 0 || build_cgroups_path(b, err) < 0 ||
      build_sysctls(b, err) < 0 || build_seccomp(b, err) < 0)
    return -1;
  build_masked_paths(b);
  return 0;
}

/* ---------------------------------------------------------------- annotations for the monitor */

static int restart_policy(struct build *b, berth_error_t *err)
{
  const json_t *rp = json_object_get(b->hc, "RestartPolicy");
  const char *name = berth_json_str(rp, "Name");
  json_int_t max = berth_json_int(rp, "MaximumRetryCount", 0);
  char value[64];
  if (!name || !name[0])
    name = "no";
  if (!str_eq(name, "no") && !str_eq(name, "always") && !str_eq(name, "unless-stopped") && !str_eq(name, "on-failure"))
    return berth_error_set_plain(err, EINVAL, "invalid restart policy: unknown policy '%s'; use one of 'no', 'always', "
                                 "'on-failure', or 'unless-stopped'", name);
  if (max < 0)
    return berth_error_set_plain(err, EINVAL, "invalid restart policy: maximum retry count cannot be negative");
  if (max > 0 && !str_eq(name, "on-failure"))
    return berth_error_set_plain(err, EINVAL, "invalid restart policy: maximum retry count can only be used with "
                                 "'on-failure'");
  if (hc_bool(b, "AutoRemove") && !str_eq(name, "no"))
    return berth_error_set_plain(err, EINVAL, "can't create 'AutoRemove' container with restart policy");
  if (str_eq(name, "on-failure"))
    snprintf(value, sizeof(value), "on-failure:%lld", (long long)max);
  else
    snprintf(value, sizeof(value), "%s", name);
  return json_object_set_new(b->annotations, "berth.restart", json_string(value));
}

/* go-units RAMInBytes: "10", "1.5k", "20m", "1 GiB", "3gb". */
static bool size_is_valid(const char *s)
{
  char *end = NULL;
  double v;
  if (!s || !(*s >= '0' && *s <= '9'))
    return false;
  v = strtod(s, &end);
  if (*end == ' ')
    end++;
  if (*end && strchr("kKmMgGtTpP", *end))
    end++;
  if (*end == 'i' || *end == 'I')
    end++;
  if (*end == 'b' || *end == 'B')
    end++;
  return *end == '\0' && v > 0;
}

static int log_options(struct build *b, berth_error_t *err)
{
  const json_t *opts = json_object_get(json_object_get(b->hc, "LogConfig"), "Config");
  const char *size = berth_json_str(opts, "max-size"), *files = berth_json_str(opts, "max-file");
  char *end = NULL;
  long n;
  if (!size)
    size = "20m";
  if (!files)
    files = "5";
  if (!size_is_valid(size))
    return berth_error_set_plain(err, EINVAL, "invalid size: '%s' (max-size must be a positive number)", size);
  errno = 0;
  n = strtol(files, &end, 10);
  if (errno || end == files || *end || n < 1)
    return berth_error_set_plain(err, EINVAL, "max-file cannot be less than 1: '%s'", files);
  json_object_set_new(b->annotations, "berth.log.max-size", json_string(size));
  json_object_set_new(b->annotations, "berth.log.max-file", json_string(files));
  cleanup_free char *attrs = berth_log_attrs_json(opts, json_object_get(b->cfg, "Labels"), json_object_get(b->cfg, "Env"));
  if (attrs)
    json_object_set_new(b->annotations, "berth.log.attrs", json_string(attrs));
  return 0;
}

/* docker's MinimumDuration for the healthcheck's durations */
#define HEALTH_MIN_NS INT64_C(1000000)
#define SECONDS(n) (INT64_C(n) * 1000000000)

/* moby's validateHealthCheck: what it checks, in its order. */
static int health_validate(const json_t *hc, berth_error_t *err)
{
  static const char *const keys[] = {"Interval", "Timeout", "Retries", "StartPeriod", "StartInterval"};
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    json_int_t v = berth_json_int(hc, keys[i], 0);
    if (strcmp(keys[i], "Retries") == 0 && v < 0)
      return berth_error_set_plain(err, EINVAL, "Retries in Healthcheck cannot be negative");
    if (strcmp(keys[i], "Retries") != 0 && v != 0 && v < HEALTH_MIN_NS)
      return berth_error_set_plain(err, EINVAL, "%s in Healthcheck cannot be less than 1ms", keys[i]);
  }
  return 0;
}

static void health_duration(struct build *b, const json_t *hc, const char *key, const char *name, int64_t def)
{
  json_int_t v = berth_json_int(hc, key, 0);
  char text[32];
  snprintf(text, sizeof(text), "%lld", (long long)(v > 0 ? v : def));
  json_object_set_new(b->annotations, name, json_string(text));
}

/* The probe for the monitor (moby's getProbe and cmdProbe): berth.health.cmd
 * is the argv as JSON, CMD's words as they are or CMD-SHELL's command after
 * Config.Shell (default /bin/sh -c); the durations in ns and the retries
 * with docker's defaults.  No annotation: no probe (none, NONE, an unknown
 * type, or nothing to run). */
static int health_annotations(struct build *b, berth_error_t *err)
{
  const json_t *hc = json_object_get(b->cfg, "Healthcheck"), *test = json_object_get(hc, "Test");
  const json_t *shell = json_object_get(b->cfg, "Shell");
  const char *kind = json_string_value(json_array_get(test, 0));
  bool use_shell = str_eq(kind, "CMD-SHELL");
  json_int_t retries = berth_json_int(hc, "Retries", 0);
  cleanup_json json_t *argv = NULL;
  cleanup_free char *text = NULL;
  char n[32];
  if (health_validate(hc, err) < 0)
    return -1;
  if (!(use_shell || str_eq(kind, "CMD")) || json_array_size(test) < 2)
    return 0;
  argv = use_shell && json_array_size(shell) ? json_deep_copy(shell) : use_shell ? json_pack("[s,s]", "/bin/sh", "-c")
                                                                                   : json_array();
  for (size_t i = 1; i < json_array_size(test); i++)
    if (!json_is_string(json_array_get(test, i)) || json_array_append(argv, json_array_get(test, i)) < 0)
      return berth_error_set_plain(err, EINVAL, "Healthcheck: Test must be an array of strings");
  if (!(text = json_dumps(argv, JSON_COMPACT)))
    abort();
  json_object_set_new(b->annotations, "berth.health.cmd", json_string(text));
  health_duration(b, hc, "Interval", "berth.health.interval", SECONDS(30));
  health_duration(b, hc, "Timeout", "berth.health.timeout", SECONDS(30));
  health_duration(b, hc, "StartInterval", "berth.health.start-interval", SECONDS(5));
  if (berth_json_int(hc, "StartPeriod", 0) > 0)
    health_duration(b, hc, "StartPeriod", "berth.health.start-period", 0);
  snprintf(n, sizeof(n), "%lld", (long long)(retries > 0 ? retries : 3));
  json_object_set_new(b->annotations, "berth.health.retries", json_string(n));
  return 0;
}

static int build_annotations(struct build *b, berth_error_t *err)
{
  const char *sig = berth_json_str(b->cfg, "StopSignal"), *key;
  json_t *v;
  /* the user's (--annotation), passed to the runtime and its hooks; berth's
   * own keys tell the monitor what to do as root, so none may be given */
  json_object_foreach(json_object_get(b->hc, "Annotations"), key, v)
  {
    if (!strncmp(key, "berth.", 6))
      return berth_error_set_plain(err, EINVAL, "annotation %s: keys starting with berth. are reserved", key);
    if (!json_is_string(v))
      return berth_error_set_plain(err, EINVAL, "annotation %s: the value is not a string", key);
    json_object_set(b->annotations, key, v);
  }
  if (restart_policy(b, err) < 0 || log_options(b, err) < 0 || health_annotations(b, err) < 0)
    return -1;
  if (hc_bool(b, "AutoRemove"))
    json_object_set_new(b->annotations, "berth.rm", json_string("true"));
  json_object_set_new(b->annotations, "berth.stdin-open",
                      json_string(json_is_true(json_object_get(b->cfg, "OpenStdin")) ? "true" : "false"));
  json_object_set_new(b->annotations, "berth.stdin-once",
                      json_string(json_is_true(json_object_get(b->cfg, "StdinOnce")) ? "true" : "false"));
  if (sig && sig[0])
    json_object_set_new(b->annotations, "berth.stop-signal", json_string(sig));
  return 0;
}

/* ---------------------------------------------------------------- root, hostname, entry point */

static void build_root(struct build *b)
{
  cleanup_json json_t *lowers = jstrv((const char *const *)b->in->lower_dirs);
  json_object_set_new(b->spec, "root",
                      json_pack("{s:s,s:b}", "path", b->in->rootfs_dir, "readonly", hc_bool(b, "ReadonlyRootfs")));
  join_annotation(b->annotations, "berth.rootfs.lowerdirs", lowers, ":");
  if (b->in->upper_dir)
    json_object_set_new(b->annotations, "berth.rootfs.upperdir", json_string(b->in->upper_dir));
  if (b->in->work_dir)
    json_object_set_new(b->annotations, "berth.rootfs.workdir", json_string(b->in->work_dir));
}

/* Config.Hostname or the short id; with the host's (or a joined) UTS
 * namespace the spec sets none, and HOSTNAME= is the host's name. */
static void build_hostname(struct build *b)
{
  const char *name = berth_json_str(b->cfg, "Hostname"), *domain = berth_json_str(b->cfg, "Domainname");
  char host[256] = "";
  if (!uts_is_own(b)) {
    (void)gethostname(host, sizeof(host) - 1);
    b->hostname = xstrdup(host);
    json_object_set_new(b->spec, "hostname", json_string(""));
    return;
  }
  b->hostname = name && name[0] ? xstrdup(name) : strndup(b->in->id, 12);
  if (!b->hostname)
    abort();
  json_object_set_new(b->spec, "hostname", json_string(b->hostname));
  if (domain && domain[0])
    json_object_set_new(b->spec, "domainname", json_string(domain));
}

static int check_input(const struct berth_spec_input *in, berth_error_t *err)
{
  if (!in->id || strlen(in->id) != 64 || strspn(in->id, "0123456789abcdef") != 64)
    return berth_error_set_plain(err, EINVAL, "spec: invalid container id");
  if (!in->rootfs_dir || in->rootfs_dir[0] != '/')
    return berth_error_set_plain(err, EINVAL, "spec: rootfs directory must be absolute");
  if (!json_is_object(in->config))
    return berth_error_set_plain(err, EINVAL, "spec: container config must be an object");
  if (in->host_config && !json_is_object(in->host_config))
    return berth_error_set_plain(err, EINVAL, "spec: host config must be an object");
  return 0;
}

json_t *berth_spec_build(const struct berth_spec_input *in, berth_error_t *err)
{
  struct build b = {.in = in, .cfg = in->config, .hc = in->host_config};
  cleanup_json json_t *spec = json_pack("{s:s}", "ociVersion", "1.0.2");
  cleanup_free char *hostname = NULL;
  int r;
  if (check_input(in, err) < 0)
    return NULL;
  b.spec = spec;
  b.privileged = hc_bool(&b, "Privileged");
  b.annotations = json_object();
  json_object_set_new(spec, "annotations", b.annotations);
  build_hostname(&b);
  hostname = b.hostname;
  build_root(&b);
  r = parse_security_opts(&b, err) < 0 || compute_caps(&b, err) < 0 || build_process(&b, err) < 0 ||
      build_mounts(&b, err) < 0 || build_linux(&b, err) < 0 || build_annotations(&b, err) < 0;
  return r ? NULL : steal_ptr(&spec);
}

json_t *berth_spec_update_parts(const json_t *host_config, berth_error_t *err)
{
  struct build b = {.hc = host_config};
  cleanup_json json_t *res = json_object(), *annotations = json_object();
  json_int_t pids = hc_int(&b, "PidsLimit");
  b.annotations = annotations;
  if (build_memory(&b, res, err) < 0 || build_cpu(&b, res, err) < 0 || restart_policy(&b, err) < 0)
    return NULL;
  /* unlimited is written out: the cgroup may hold an earlier limit */
  json_object_set_new(res, "pids", json_pack("{s:I}", "limit", pids > 0 ? pids : (json_int_t)-1));
  return json_pack("{s:O, s:O}", "resources", res, "annotations", annotations);
}
