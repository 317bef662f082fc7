/* SPDX-License-Identifier: GPL-2.0-or-later */
/* run/create flags -> the ContainerCreate body, the way the docker CLI builds
 * it: flag values are validated as pflag would (docker's "invalid argument"
 * errors), then combined into Config/HostConfig with docker's rules (env files,
 * labels, restart policy, security options with client-side seccomp files,
 * devices, binds, resources). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <berth/engine.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "run-flags.h"
#include "base/timeutil.h"
#include "base/units.h"
#include "cdi/cdi.h"

void cli_run_opts_init(struct cli_run_opts *o)
{
  memset(o, 0, sizeof(*o));
  o->sig_proxy = true;
  o->restart = "no";
  o->stop_timeout = CLI_RUN_UNSET;
  o->memory_swappiness = -1;
}

void cli_run_opts_clear(struct cli_run_opts *o)
{
  char **lists[] = {o->attach,   o->env,      o->env_file,     o->label,  o->label_file, o->tmpfs,
                    o->volume,   o->device,   o->cap_add,      o->cap_drop, o->security_opt, o->ulimit,
                    o->group_add, o->log_opt, o->sysctl, o->mount, o->volumes_from, o->gpus, o->publish, o->expose,
                    o->network_alias, o->add_host, o->dns, o->dns_option, o->dns_search, o->device_cgroup_rule,
                    o->annotation, o->device_read_bps, o->device_write_bps, o->device_read_iops,
                    o->device_write_iops};
  for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
    berth_strv_free(lists[i]);
  cli_run_opts_init(o);
}

/* ---- the flag table ---- */

#define F(n, s, t, p, m, h) {n, s, t, p, m, h, false}

const struct cli_flag *cli_run_flags(struct cli_run_opts *o, bool run)
{
  static __thread struct cli_flag table[128];
  const struct cli_flag all[] = {
      F("add-host", 0, CLI_STRV, &o->add_host, "list", "Add a custom host-to-IP mapping (host:ip)"),
      F("annotation", 0, CLI_STRV, &o->annotation, "map",
        "Add an annotation to the container (passed through to the OCI runtime) (default map[])"),
      F("attach", 'a', CLI_STRV, &o->attach, "list", "Attach to STDIN, STDOUT or STDERR"),
      F("blkio-weight", 0, CLI_INT, &o->blkio_weight, "uint16",
        "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)"),
      F("cap-add", 0, CLI_STRV, &o->cap_add, "list", "Add Linux capabilities"),
      F("cap-drop", 0, CLI_STRV, &o->cap_drop, "list", "Drop Linux capabilities"),
      F("cgroup-parent", 0, CLI_STRING, &o->cgroup_parent, "string", "Optional parent cgroup for the container"),
      F("cgroupns", 0, CLI_STRING, &o->cgroupns, "string",
        "Cgroup namespace to use (host|private)\n'host':    Run the container in the host's cgroup namespace\n"
        "'private': Run the container in its own private cgroup namespace\n"
        "'':        Use the cgroup namespace as configured by the\n           default-cgroupns-mode option on the daemon "
        "(default)"),
      F("cidfile", 0, CLI_STRING, &o->cidfile, "string", "Write the container ID to the file"),
      F("cpu-period", 0, CLI_INT, &o->cpu_period, "int", "Limit CPU CFS (Completely Fair Scheduler) period"),
      F("cpu-quota", 0, CLI_INT, &o->cpu_quota, "int", "Limit CPU CFS (Completely Fair Scheduler) quota"),
      F("cpu-shares", 'c', CLI_INT, &o->cpu_shares, "int", "CPU shares (relative weight)"),
      F("cpus", 0, CLI_STRING, &o->cpus, "decimal", "Number of CPUs"),
      F("cpuset-cpus", 0, CLI_STRING, &o->cpuset_cpus, "string", "CPUs in which to allow execution (0-3, 0,1)"),
      F("cpuset-mems", 0, CLI_STRING, &o->cpuset_mems, "string", "MEMs in which to allow execution (0-3, 0,1)"),
      F("detach", 'd', CLI_BOOL, &o->detach, NULL, "Run container in background and print container ID"),
      F("detach-keys", 0, CLI_STRING, &o->detach_keys, "string", "Override the key sequence for detaching a container"),
      F("device", 0, CLI_STRV, &o->device, "list", "Add a host device to the container"),
      F("device-cgroup-rule", 0, CLI_STRV, &o->device_cgroup_rule, "list",
        "Add a rule to the cgroup allowed devices list"),
      F("device-read-bps", 0, CLI_STRV, &o->device_read_bps, "list",
        "Limit read rate (bytes per second) from a device (default [])"),
      F("device-read-iops", 0, CLI_STRV, &o->device_read_iops, "list",
        "Limit read rate (IO per second) from a device (default [])"),
      F("device-write-bps", 0, CLI_STRV, &o->device_write_bps, "list",
        "Limit write rate (bytes per second) to a device (default [])"),
      F("device-write-iops", 0, CLI_STRV, &o->device_write_iops, "list",
        "Limit write rate (IO per second) to a device (default [])"),
      F("dns", 0, CLI_STRV, &o->dns, "list", "Set custom DNS servers"),
      F("dns-option", 0, CLI_STRV, &o->dns_option, "list", "Set DNS options"),
      F("dns-search", 0, CLI_STRV, &o->dns_search, "list", "Set custom DNS search domains"),
      F("domainname", 0, CLI_STRING, &o->domainname, "string", "Container NIS domain name"),
      F("entrypoint", 0, CLI_STRING, &o->entrypoint, "string", "Overwrite the default ENTRYPOINT of the image"),
      F("env", 'e', CLI_STRV, &o->env, "list", "Set environment variables"),
      F("env-file", 0, CLI_STRV, &o->env_file, "list", "Read in a file of environment variables"),
      F("expose", 0, CLI_STRV, &o->expose, "list", "Expose a port or a range of ports"),
      F("gpus", 0, CLI_STRV, &o->gpus, "gpu-request", "GPU devices to add to the container ('all' to pass all GPUs)"),
      F("group-add", 0, CLI_STRV, &o->group_add, "list", "Add additional groups to join"),
      F("health-cmd", 0, CLI_STRING, &o->health_cmd, "string", "Command to run to check health"),
      F("health-interval", 0, CLI_STRING, &o->health_interval, "duration",
        "Time between running the check (ms|s|m|h) (default 0s)"),
      F("health-retries", 0, CLI_INT, &o->health_retries, "int", "Consecutive failures needed to report unhealthy"),
      F("health-start-interval", 0, CLI_STRING, &o->health_start_interval, "duration",
        "Time between running the check during the start period (ms|s|m|h) (default 0s)"),
      F("health-start-period", 0, CLI_STRING, &o->health_start_period, "duration",
        "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) "
        "(default 0s)"),
      F("health-timeout", 0, CLI_STRING, &o->health_timeout, "duration",
        "Maximum time to allow one check to run (ms|s|m|h) (default 0s)"),
      F("hostname", 'h', CLI_STRING, &o->hostname, "string", "Container host name"),
      F("init", 0, CLI_BOOL, &o->init, NULL,
        "Run an init inside the container that forwards signals and reaps processes"),
      F("interactive", 'i', CLI_BOOL, &o->interactive, NULL, "Keep STDIN open even if not attached"),
      F("ip", 0, CLI_STRING, &o->ip, "string", "IPv4 address (e.g., 172.30.100.104)"),
      F("ipc", 0, CLI_STRING, &o->ipc, "string", "IPC mode to use"),
      F("label", 'l', CLI_STRV, &o->label, "list", "Set meta data on a container"),
      F("label-file", 0, CLI_STRV, &o->label_file, "list", "Read in a line delimited file of labels"),
      F("log-driver", 0, CLI_STRING, &o->log_driver, "string", "Logging driver for the container"),
      F("log-opt", 0, CLI_STRV, &o->log_opt, "list", "Log driver options"),
      F("mac-address", 0, CLI_STRING, &o->mac_address, "string", "Container MAC address (e.g., 92:d0:c6:0a:29:33)"),
      F("memory", 'm', CLI_STRING, &o->memory, "bytes", "Memory limit"),
      F("memory-reservation", 0, CLI_STRING, &o->memory_reservation, "bytes", "Memory soft limit"),
      F("memory-swap", 0, CLI_STRING, &o->memory_swap, "bytes",
        "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"),
      F("memory-swappiness", 0, CLI_INT, &o->memory_swappiness, "int",
        "Tune container memory swappiness (0 to 100) (default -1)"),
      F("mount", 0, CLI_STRV, &o->mount, "mount", "Attach a filesystem mount to the container"),
      F("name", 0, CLI_STRING, &o->name, "string", "Assign a name to the container"),
      {"net", 0, CLI_STRING, &o->network, "network", "Connect a container to a network", true},
      F("network", 0, CLI_STRING, &o->network, "network", "Connect a container to a network"),
      F("network-alias", 0, CLI_STRV, &o->network_alias, "list", "Add network-scoped alias for the container"),
      F("no-healthcheck", 0, CLI_BOOL, &o->no_healthcheck, NULL, "Disable any container-specified HEALTHCHECK"),
      F("oom-kill-disable", 0, CLI_BOOL, &o->oom_kill_disable, NULL, "Disable OOM Killer"),
      F("oom-score-adj", 0, CLI_INT, &o->oom_score_adj, "int", "Tune host's OOM preferences (-1000 to 1000)"),
      F("pid", 0, CLI_STRING, &o->pid, "string", "PID namespace to use"),
      F("pids-limit", 0, CLI_INT, &o->pids_limit, "int", "Tune container pids limit (set -1 for unlimited)"),
      F("platform", 0, CLI_STRING, &o->platform, "string", "Set platform if server is multi-platform capable"),
      F("privileged", 0, CLI_BOOL, &o->privileged, NULL, "Give extended privileges to this container"),
      F("publish", 'p', CLI_STRV, &o->publish, "list", "Publish a container's port(s) to the host"),
      F("publish-all", 'P', CLI_BOOL, &o->publish_all, NULL, "Publish all exposed ports to random ports"),
      F("pull", 0, CLI_STRING, &o->pull, "string",
        "Pull image before running (\"always\", \"missing\", \"never\") (default \"missing\")"),
      F("read-only", 0, CLI_BOOL, &o->read_only, NULL, "Mount the container's root filesystem as read only"),
      F("restart", 0, CLI_STRING, &o->restart, "string",
        "Restart policy to apply when a container exits (default \"no\")"),
      F("rm", 0, CLI_BOOL, &o->rm, NULL,
        "Automatically remove the container and its associated anonymous volumes when it exits"),
      F("runtime", 0, CLI_STRING, &o->runtime, "string", "Runtime to use for this container"),
      F("security-opt", 0, CLI_STRV, &o->security_opt, "list", "Security Options"),
      F("shm-size", 0, CLI_STRING, &o->shm_size, "bytes", "Size of /dev/shm"),
      F("sig-proxy", 0, CLI_BOOL, &o->sig_proxy, NULL, "Proxy received signals to the process (default true)"),
      F("stop-signal", 0, CLI_STRING, &o->stop_signal, "string", "Signal to stop the container"),
      F("stop-timeout", 0, CLI_INT, &o->stop_timeout, "int", "Timeout (in seconds) to stop a container"),
      F("sysctl", 0, CLI_STRV, &o->sysctl, "map", "Sysctl options (default map[])"),
      F("tmpfs", 0, CLI_STRV, &o->tmpfs, "list", "Mount a tmpfs directory"),
      F("tty", 't', CLI_BOOL, &o->tty, NULL, "Allocate a pseudo-TTY"),
      F("ulimit", 0, CLI_STRV, &o->ulimit, "ulimit", "Ulimit options (default [])"),
      F("user", 'u', CLI_STRING, &o->user, "string", "Username or UID (format: <name|uid>[:<group|gid>])"),
      F("uts", 0, CLI_STRING, &o->uts, "string", "UTS namespace to use"),
      F("volume", 'v', CLI_STRV, &o->volume, "list", "Bind mount a volume"),
      F("volumes-from", 0, CLI_STRV, &o->volumes_from, "list", "Mount volumes from the specified container(s)"),
      F("workdir", 'w', CLI_STRING, &o->workdir, "string", "Working directory inside the container"),
  };
  size_t n = 0;
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    const char *name = all[i].name;
    if (!run && (!strcmp(name, "detach") || !strcmp(name, "detach-keys") || !strcmp(name, "sig-proxy")))
      continue;
    table[n++] = all[i];
  }
  table[n] = (struct cli_flag){NULL, 0, 0, NULL, NULL, NULL, false};
  return table;
}

/* ---- helpers ---- */

static int flag_error(berth_error_t *err, bool *flag_err, const char *value, const char *shown, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));
static int flag_error(berth_error_t *err, bool *flag_err, const char *value, const char *shown, const char *fmt, ...)
{
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof(why), fmt, ap);
  va_end(ap);
  *flag_err = true;
  return berth_error_set_plain(err, EINVAL, "invalid argument \"%s\" for \"%s\" flag: %s", value, shown, why);
}

/* Go's error text for a failed system call on a path: "open X: no such file
 * or directory". */
static int go_path_error(berth_error_t *err, int errnum, const char *op, const char *path, const char *prefix)
{
  const char *text = strerror(errnum);
  return berth_error_set_plain(err, errnum, "%s%s %s: %c%s", prefix, op, path, tolower((unsigned char)text[0]),
                               text + 1);
}

/* A list flag docker sends as null when empty. */
static json_t *strv_json_or_null(char **v)
{
  return v && v[0] ? berth_json_strv(v) : json_null();
}

/* go-units RAMInBytes with its error texts: "invalid size: 'abc'",
 * "invalid suffix: 'x'". */
static int parse_ram(const char *value, const char *shown, int64_t *ret, bool *flag_err, berth_error_t *err)
{
  berth_error_t perr = NULL;
  const char *sep = NULL;
  if (berth_parse_size(value, ret, &perr) == 0)
    return 0;
  if (strncmp(perr->msg, "invalid suffix", 14) == 0) {
    for (const char *p = value; *p; p++)
      if (strchr("0123456789. ", *p))
        sep = p;
    berth_error_release(&perr);
    return flag_error(err, flag_err, value, shown, "invalid suffix: '%s'", sep ? sep + 1 : value);
  }
  berth_error_release(&perr);
  return flag_error(err, flag_err, value, shown, "invalid size: '%s'", value);
}

/* --cpus: a rational number (big.Rat syntax: "1.5", "3/2", "2e-1") times 1e9,
 * which must be an integer. */
static int parse_nano_cpus(const char *value, int64_t *ret, bool *flag_err, berth_error_t *err)
{
  const char *p = value;
  bool neg = false, digits = false;
  __int128 num = 0, den = 1;
  long exp10 = 0;
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  for (; isdigit((unsigned char)*p); p++, digits = true)
    if ((num = num * 10 + (*p - '0')) > ((__int128)1 << 100))
      goto bad;
  if (*p == '/') {
    char *end = NULL;
    long long d;
    if (!digits || !isdigit((unsigned char)p[1]))
      goto bad;
    errno = 0;
    d = strtoll(p + 1, &end, 10);
    if (errno || *end || d == 0)
      goto bad;
    den = d;
  } else {
    if (*p == '.')
      for (p++; isdigit((unsigned char)*p); p++, digits = true, exp10--)
        if ((num = num * 10 + (*p - '0')) > ((__int128)1 << 100))
          goto bad;
    if (!digits)
      goto bad;
    if (*p == 'e' || *p == 'E') {
      char *end = NULL;
      long e;
      errno = 0;
      e = strtol(p + 1, &end, 10);
      if (errno || end == p + 1 || *end || e > 40 || e < -40)
        goto bad;
      exp10 += e;
    } else if (*p) {
      goto bad;
    }
  }
  /* value = num * 10^exp10 / den; nano = value * 1e9 */
  exp10 += 9;
  for (; exp10 > 0; exp10--)
    if ((num *= 10) > ((__int128)1 << 100))
      return flag_error(err, flag_err, value, "--cpus", "value is too large");
  for (; exp10 < 0; exp10++)
    den *= 10;
  if (num % den != 0)
    return flag_error(err, flag_err, value, "--cpus", "value is too precise");
  num /= den;
  if (num > INT64_MAX)
    return flag_error(err, flag_err, value, "--cpus", "value is too large");
  *ret = neg ? -(int64_t)num : (int64_t)num;
  return 0;
bad:
  return flag_error(err, flag_err, value, "--cpus", "failed to parse %s as a rational number", value);
}

static const char *const ulimit_names[] = {"core",   "cpu",   "data",   "fsize", "locks",      "memlock", "msgqueue",
                                           "nice",   "nofile", "nproc", "rss",   "rtprio",     "rttime",  "sigpending",
                                           "stack",  NULL};

static int parse_int64(const char *s, int64_t *ret)
{
  char *end = NULL;
  errno = 0;
  *ret = strtoll(s, &end, 10);
  return errno || !*s || *end ? -1 : 0;
}

/* go-units ParseUlimit: name=soft[:hard]. */
static json_t *parse_ulimit(const char *value, bool *flag_err, berth_error_t *err)
{
  const char *eq = strchr(value, '=');
  cleanup_free char *name = NULL, *limits = NULL;
  char *colon;
  int64_t soft, hard;
  bool known = false;
  if (!eq) {
    flag_error(err, flag_err, value, "--ulimit", "invalid ulimit argument: %s", value);
    return NULL;
  }
  name = strndup(value, (size_t)(eq - value));
  limits = strdup(eq + 1);
  for (size_t i = 0; ulimit_names[i]; i++)
    known |= strcmp(name, ulimit_names[i]) == 0;
  if (!known) {
    flag_error(err, flag_err, value, "--ulimit", "invalid ulimit type: %s", name);
    return NULL;
  }
  colon = strchr(limits, ':');
  if (colon && strchr(colon + 1, ':')) {
    flag_error(err, flag_err, value, "--ulimit",
               "too many limit value arguments - %s, can only have up to two, `soft[:hard]`", limits);
    return NULL;
  }
  if (colon)
    *colon = '\0';
  if (parse_int64(limits, &soft) < 0) {
    flag_error(err, flag_err, value, "--ulimit", "strconv.ParseInt: parsing \"%s\": invalid syntax", limits);
    return NULL;
  }
  hard = soft;
  if (colon && parse_int64(colon + 1, &hard) < 0) {
    flag_error(err, flag_err, value, "--ulimit", "strconv.ParseInt: parsing \"%s\": invalid syntax", colon + 1);
    return NULL;
  }
  if (soft > hard) {
    flag_error(err, flag_err, value, "--ulimit",
               "ulimit soft limit must be less than or equal to hard limit: %lld > %lld", (long long)soft,
               (long long)hard);
    return NULL;
  }
  return json_pack("{s:s, s:I, s:I}", "Name", name, "Hard", (json_int_t)hard, "Soft", (json_int_t)soft);
}

static bool sysctl_allowed(const char *value)
{
  static const char *const names[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
                                      NULL};
  const char *eq = strchr(value, '=');
  size_t n = eq ? (size_t)(eq - value) : 0;
  if (n == 0)
    return false;
  for (size_t i = 0; names[i]; i++)
    if (strlen(names[i]) == n && strncmp(value, names[i], n) == 0)
      return true;
  return strncmp(value, "net.", 4) == 0 || strncmp(value, "fs.mqueue.", 10) == 0;
}

/* ---- flag values (pflag's validators, reported as flag errors) ---- */

struct run_values {
  int64_t memory, memory_swap, memory_reservation, shm_size, nano_cpus;
  int64_t health_interval, health_timeout, health_start_period, health_start_interval;
  json_t *ulimits; /* array, in order, later names replacing earlier */
  json_t *sysctls; /* object */
  json_t *mounts;  /* --mount as HostConfig.Mounts objects */
  json_t *device_requests; /* array: --gpus, then the CDI names of --device */
  bool attach_stdin, attach_stdout, attach_stderr;
};

static int check_attach(const struct cli_run_opts *o, struct run_values *v, bool *fe, berth_error_t *err)
{
  for (size_t i = 0; o->attach && o->attach[i]; i++) {
    const char *s = o->attach[i];
    if (!strcasecmp(s, "stdin"))
      v->attach_stdin = true;
    else if (!strcasecmp(s, "stdout"))
      v->attach_stdout = true;
    else if (!strcasecmp(s, "stderr"))
      v->attach_stderr = true;
    else
      return flag_error(err, fe, s, "-a, --attach", "valid streams are STDIN, STDOUT and STDERR");
  }
  return 0;
}

static int check_env_and_labels(const struct cli_run_opts *o, bool *fe, berth_error_t *err)
{
  for (size_t i = 0; o->env && o->env[i]; i++)
    if (o->env[i][0] == '\0' || o->env[i][0] == '=')
      return flag_error(err, fe, o->env[i], "-e, --env", "invalid environment variable: %s", o->env[i]);
  for (size_t i = 0; o->label && o->label[i]; i++)
    if (o->label[i][0] == '\0' || o->label[i][0] == '=')
      return flag_error(err, fe, o->label[i], "-l, --label", "invalid label '%s': empty name", o->label[i]);
  return 0;
}

static int check_sizes(const struct cli_run_opts *o, struct run_values *v, bool *fe, berth_error_t *err)
{
  if (o->memory && parse_ram(o->memory, "-m, --memory", &v->memory, fe, err) < 0)
    return -1;
  if (o->memory_reservation &&
      parse_ram(o->memory_reservation, "--memory-reservation", &v->memory_reservation, fe, err) < 0)
    return -1;
  if (o->memory_swap) {
    if (strcmp(o->memory_swap, "-1") == 0)
      v->memory_swap = -1;
    else if (parse_ram(o->memory_swap, "--memory-swap", &v->memory_swap, fe, err) < 0)
      return -1;
  }
  if (o->shm_size && parse_ram(o->shm_size, "--shm-size", &v->shm_size, fe, err) < 0)
    return -1;
  if (o->cpus && parse_nano_cpus(o->cpus, &v->nano_cpus, fe, err) < 0)
    return -1;
  return 0;
}

static int check_ulimits_sysctls(const struct cli_run_opts *o, struct run_values *v, bool *fe, berth_error_t *err)
{
  for (size_t i = 0; o->ulimit && o->ulimit[i]; i++) {
    json_t *u = parse_ulimit(o->ulimit[i], fe, err), *old;
    size_t k;
    if (!u)
      return -1;
    json_array_foreach(v->ulimits, k, old) if (json_equal(json_object_get(old, "Name"), json_object_get(u, "Name")))
    {
      json_array_remove(v->ulimits, k);
      break;
    }
    json_array_append_new(v->ulimits, u);
  }
  for (size_t i = 0; o->sysctl && o->sysctl[i]; i++) {
    const char *s = o->sysctl[i], *eq = strchr(s, '=');
    cleanup_free char *key = NULL;
    if (!sysctl_allowed(s))
      return flag_error(err, fe, s, "--sysctl", "sysctl '%s' is not allowed", s);
    key = strndup(s, (size_t)(eq - s));
    json_object_set_new(v->sysctls, key, json_string(eq + 1));
  }
  return 0;
}

/* pflag's DurationVar: Go's time.ParseDuration. */
static int parse_duration_flag(const char *value, const char *shown, int64_t *ret, bool *fe, berth_error_t *err)
{
  berth_error_t perr = NULL;
  if (!value || berth_parse_go_duration(value, ret, &perr) == 0)
    return 0;
  flag_error(err, fe, value, shown, "%s", perr->msg);
  berth_error_release(&perr);
  return -1;
}

static int check_health_durations(const struct cli_run_opts *o, struct run_values *v, bool *fe, berth_error_t *err)
{
  if (parse_duration_flag(o->health_interval, "--health-interval", &v->health_interval, fe, err) < 0 ||
      parse_duration_flag(o->health_timeout, "--health-timeout", &v->health_timeout, fe, err) < 0 ||
      parse_duration_flag(o->health_start_period, "--health-start-period", &v->health_start_period, fe, err) < 0 ||
      parse_duration_flag(o->health_start_interval, "--health-start-interval", &v->health_start_interval, fe, err) <
          0)
    return -1;
  return 0;
}

/* ---- --mount: docker/cli's opts.MountOpt, CSV fields into an API Mount ---- */

static bool mount_bool(const char *value, bool *ret)
{
  if (!value || !strcmp(value, "1") || !strcasecmp(value, "true"))
    *ret = true;
  else if (!strcmp(value, "0") || !strcasecmp(value, "false"))
    *ret = false;
  else
    return false;
  return true;
}

static json_t *sub_object(json_t *m, const char *key)
{
  json_t *o = json_object_get(m, key);
  if (!o)
    json_object_set_new(m, key, o = json_object());
  return o;
}

static int parse_mount(const char *spec, json_t *mounts, bool *fe, berth_error_t *err)
{
  const char *shown = "--mount";
  cleanup_free char *copy = strdup(spec);
  cleanup_json json_t *m = json_pack("{s:s}", "Type", "volume");
  char *save = NULL;
  for (char *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(f, '=');
    const char *val = eq ? eq + 1 : NULL;
    if (eq)
      *eq = '\0';
    bool b;
    if (!strcmp(f, "readonly") || !strcmp(f, "ro") || !strcmp(f, "volume-nocopy") ||
        !strcmp(f, "bind-nonrecursive")) {
      if (!mount_bool(val, &b))
        return flag_error(err, fe, spec, shown, "invalid value for %s: %s", f, val);
      if (f[0] == 'r')
        json_object_set_new(m, "ReadOnly", json_boolean(b));
      else if (f[0] == 'v')
        json_object_set_new(sub_object(m, "VolumeOptions"), "NoCopy", json_boolean(b));
      else
        json_object_set_new(sub_object(m, "BindOptions"), "NonRecursive", json_boolean(b));
      continue;
    }
    if (!val)
      return flag_error(err, fe, spec, shown, "invalid field '%s' must be a key=value pair", f);
    if (!strcmp(f, "type"))
      json_object_set_new(m, "Type", json_string(val));
    else if (!strcmp(f, "source") || !strcmp(f, "src"))
      json_object_set_new(m, "Source", json_string(val));
    else if (!strcmp(f, "target") || !strcmp(f, "dst") || !strcmp(f, "destination"))
      json_object_set_new(m, "Target", json_string(val));
    else if (!strcmp(f, "consistency"))
      json_object_set_new(m, "Consistency", json_string(val));
    else if (!strcmp(f, "bind-propagation"))
      json_object_set_new(sub_object(m, "BindOptions"), "Propagation", json_string(val));
    else if (!strcmp(f, "volume-driver"))
      json_object_set_new(sub_object(sub_object(m, "VolumeOptions"), "DriverConfig"), "Name", json_string(val));
    else if (!strcmp(f, "volume-label") || !strcmp(f, "volume-opt")) {
      const char *eq2 = strchr(val, '=');
      cleanup_free char *k = eq2 ? strndup(val, (size_t)(eq2 - val)) : strdup(val);
      json_t *vo = sub_object(m, "VolumeOptions");
      json_t *into = f[7] == 'l' ? sub_object(vo, "Labels") : sub_object(sub_object(vo, "DriverConfig"), "Options");
      json_object_set_new(into, k, json_string(eq2 ? eq2 + 1 : ""));
    } else if (!strcmp(f, "tmpfs-size")) {
      int64_t size;
      berth_error_t perr = NULL;
      if (berth_parse_size(val, &size, &perr) < 0) {
        berth_error_release(&perr);
        return flag_error(err, fe, spec, shown, "invalid value for %s: %s", f, val);
      }
      json_object_set_new(sub_object(m, "TmpfsOptions"), "SizeBytes", json_integer(size));
    } else if (!strcmp(f, "tmpfs-mode")) {
      char *end;
      unsigned long mode = strtoul(val, &end, 8);
      if (!*val || *end || mode > 07777)
        return flag_error(err, fe, spec, shown, "invalid value for %s: %s", f, val);
      json_object_set_new(sub_object(m, "TmpfsOptions"), "Mode", json_integer((json_int_t)mode));
    } else {
      return flag_error(err, fe, spec, shown, "unexpected key '%s' in '%s=%s'", f, f, val);
    }
  }
  const char *type = berth_json_str(m, "Type");
  if (!berth_json_str(m, "Target") || !*berth_json_str(m, "Target"))
    return flag_error(err, fe, spec, shown, "target is required");
  if (json_object_get(m, "VolumeOptions") && strcmp(type, "volume") != 0)
    return flag_error(err, fe, spec, shown, "cannot mix 'volume-*' options with mount type '%s'", type);
  if (json_object_get(m, "BindOptions") && strcmp(type, "bind") != 0)
    return flag_error(err, fe, spec, shown, "cannot mix 'bind-*' options with mount type '%s'", type);
  if (json_object_get(m, "TmpfsOptions") && strcmp(type, "tmpfs") != 0)
    return flag_error(err, fe, spec, shown, "cannot mix 'tmpfs-*' options with mount type '%s'", type);
  json_array_append(mounts, m);
  return 0;
}

static int check_mounts(const struct cli_run_opts *o, struct run_values *v, bool *fe, berth_error_t *err)
{
  v->mounts = json_array();
  for (size_t i = 0; o->mount && o->mount[i]; i++)
    if (parse_mount(o->mount[i], v->mounts, fe, err) < 0)
      return -1;
  return 0;
}

/* ---- --gpus and CDI devices (docker/cli opts/gpus.go, opts.go) ---- */

/* One record of Go's encoding/csv: comma-separated, a field in double
 * quotes may hold commas and "" for a quote.  NULL-terminated fields. */
static char **csv_fields(const char *s, berth_error_t *err)
{
  size_t n = 0, len = strlen(s);
  char **out = calloc(len + 2, sizeof *out);
  if (!out)
    abort();
  for (const char *p = s;; p++) {
    char *f = calloc(len + 1, 1), *w = f;
    if (!f)
      abort();
    out[n++] = f;
    if (*p == '"') {
      for (p++; *p && !(*p == '"' && p[1] != '"'); p++)
        *w++ = *p == '"' ? *++p : *p;
      if (*p != '"' || (p[1] && p[1] != ',')) {
        berth_strv_free(out);
        return berth_error_set_plain(err, EINVAL, "parse error on line 1, column %zu: extraneous or missing \" in quoted-field",
                                     (size_t)(p - s) + 1), NULL;
      }
      p++;
    } else {
      for (; *p && *p != ','; p++) {
        if (*p == '"') {
          berth_strv_free(out);
          return berth_error_set_plain(err, EINVAL, "parse error on line 1, column %zu: bare \" in non-quoted-field",
                                       (size_t)(p - s) + 1), NULL;
        }
        *w++ = *p;
      }
    }
    if (!*p)
      return out;
  }
}

static int gpu_count(const char *s, json_int_t *ret, berth_error_t *err)
{
  char *end = NULL;
  if (strcmp(s, "all") == 0) {
    *ret = -1;
    return 0;
  }
  errno = 0;
  long long n = strtoll(s, &end, 10);
  if (!*s || *end || errno)
    return berth_error_set_plain(err, EINVAL, "count must be an integer: strconv.Atoi: parsing \"%s\": %s", s,
                                 errno ? "value out of range" : "invalid syntax");
  *ret = n;
  return 0;
}

static json_t *gpu_options(const char *value, berth_error_t *err)
{
  cleanup_strv char **kv = csv_fields(value, err);
  if (!kv)
    return NULL;
  json_t *m = json_object();
  for (size_t i = 0; kv[i]; i++) {
    char *eq = strchr(kv[i], '=');
    if (eq)
      *eq = '\0';
    json_object_set_new(m, kv[i], json_string(eq ? eq + 1 : ""));
  }
  return m;
}

static json_t *split_list(const char *s)
{
  json_t *a = json_array();
  for (const char *p = s;; p++) {
    size_t n = strcspn(p, ",");
    json_array_append_new(a, json_stringn(p, n));
    p += n;
    if (!*p)
      return a;
  }
}

/* One --gpus value as a DeviceRequest (GpuOpts.Set). */
static json_t *parse_gpus(const char *value, berth_error_t *err)
{
  cleanup_strv char **fields = csv_fields(value, err);
  cleanup_json json_t *req = json_pack("{s:s,s:i,s:n,s:n,s:{}}", "Driver", "", "Count", 0, "DeviceIDs", "Capabilities",
                                       "Options");
  cleanup_json json_t *seen = json_object();
  json_int_t count = 0;
  if (!fields)
    return NULL;
  for (size_t i = 0; fields[i]; i++) {
    char *eq = strchr(fields[i], '=');
    const char *val = eq ? eq + 1 : NULL;
    if (eq)
      *eq = '\0';
    const char *key = fields[i];
    if (json_object_get(seen, key))
      return berth_error_set_plain(err, EINVAL, "gpu request key '%s' can be specified only once", key), NULL;
    json_object_set_new(seen, key, json_true());
    if (!val) {
      json_object_set_new(seen, "count", json_true());
      if (gpu_count(key, &count, err) < 0)
        return NULL;
      json_object_set_new(req, "Count", json_integer(count));
    } else if (strcmp(key, "driver") == 0) {
      json_object_set_new(req, "Driver", json_string(val));
    } else if (strcmp(key, "count") == 0) {
      if (gpu_count(val, &count, err) < 0)
        return NULL;
      json_object_set_new(req, "Count", json_integer(count));
    } else if (strcmp(key, "device") == 0) {
      json_object_set_new(req, "DeviceIDs", split_list(val));
    } else if (strcmp(key, "capabilities") == 0) {
      json_t *caps = split_list(val);
      json_array_append_new(caps, json_string("gpu"));
      json_object_set_new(req, "Capabilities", json_pack("[o]", caps));
    } else if (strcmp(key, "options") == 0) {
      json_t *opts = gpu_options(val, err);
      if (!opts)
        return NULL;
      json_object_set_new(req, "Options", opts);
    } else {
      cleanup_free char *name = strdup(key);
      *eq = '=';
      return berth_error_set_plain(err, EINVAL, "unexpected key '%s' in '%s'", name, fields[i]), NULL;
    }
  }
  if (!json_object_get(seen, "count") && json_is_null(json_object_get(req, "DeviceIDs")))
    json_object_set_new(req, "Count", json_integer(1));
  if (json_is_null(json_object_get(req, "Capabilities")))
    json_object_set_new(req, "Capabilities", json_pack("[[s]]", "gpu"));
  return steal_ptr(&req);
}

/* --gpus requests, then one "cdi" request with the --device values that are
 * CDI names (the host paths stay in HostConfig.Devices). */
static int check_device_requests(const struct cli_run_opts *o, struct run_values *v, bool *fe, berth_error_t *err)
{
  json_t *cdi = json_array();
  for (size_t i = 0; o->gpus && o->gpus[i]; i++) {
    berth_error_t why = NULL;
    json_t *req = parse_gpus(o->gpus[i], &why);
    if (!req) {
      flag_error(err, fe, o->gpus[i], "--gpus", "%s", why->msg);
      berth_error_release(&why);
      json_decref(cdi);
      return -1;
    }
    json_array_append_new(v->device_requests, req);
  }
  for (size_t i = 0; o->device && o->device[i]; i++)
    if (berth_cdi_parse_qualified(o->device[i], NULL, NULL, NULL))
      json_array_append_new(cdi, json_string(o->device[i]));
  if (json_array_size(cdi))
    json_array_append_new(v->device_requests, json_pack("{s:s,s:i,s:o,s:n,s:n}", "Driver", "cdi", "Count", 0,
                                                        "DeviceIDs", cdi, "Capabilities", "Options"));
  else
    json_decref(cdi);
  return 0;
}

static int check_values(const struct cli_run_opts *o, struct run_values *v, bool *fe, berth_error_t *err)
{
  if (check_attach(o, v, fe, err) < 0 || check_env_and_labels(o, fe, err) < 0 || check_sizes(o, v, fe, err) < 0 ||
      check_ulimits_sysctls(o, v, fe, err) < 0 || check_health_durations(o, v, fe, err) < 0 ||
      check_mounts(o, v, fe, err) < 0 || check_device_requests(o, v, fe, err) < 0)
    return -1;
  return 0;
}

/* ---- env and label files (docker's kvfile rules) ---- */

static bool valid_utf8(const unsigned char *s, size_t n)
{
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!len || i + len > n || (len == 2 && c < 0xc2))
      return false;
    for (size_t k = 1; k < len; k++)
      if ((s[i + k] & 0xc0) != 0x80)
        return false;
    i += len;
  }
  return true;
}

static void go_bytes(const char *line, char *buf, size_t len)
{
  size_t o = 0;
  o += (size_t)snprintf(buf + o, len - o, "[");
  for (size_t i = 0; line[i] && o < len; i++)
    o += (size_t)snprintf(buf + o, len - o, "%s%u", i ? " " : "", (unsigned char)line[i]);
  if (o < len)
    snprintf(buf + o, len - o, "]");
}

/* One line of an env or label file; appends "K=V" to out, or nothing. */
static int kvfile_line(const char *path, char *line, unsigned lineno, bool lookup_env, json_t *out,
                       berth_error_t *err)
{
  char *p = line, *eq, *end;
  size_t n = strlen(line);
  if (n && line[n - 1] == '\r')
    line[--n] = '\0';
  if (!valid_utf8((unsigned char *)line, n)) {
    char bytes[1024];
    go_bytes(line, bytes, sizeof(bytes));
    return berth_error_set_plain(err, EINVAL, "invalid env file (%s): invalid utf8 bytes at line %u: %s", path,
                                 lineno, bytes);
  }
  while (isspace((unsigned char)*p))
    p++;
  if (!*p || *p == '#')
    return 0;
  eq = strchr(p, '=');
  end = eq ? eq : p + strlen(p);
  for (char *q = p; q < end; q++)
    if (strchr(" \t\n\v\f\r", *q)) {
      *end = '\0';
      return berth_error_set_plain(err, EINVAL, "invalid env file (%s): variable '%s' contains whitespaces", path,
                                   p);
    }
  if (eq == p)
    return berth_error_set_plain(err, EINVAL, "invalid env file (%s): no variable name on line '%s'", path, p);
  if (eq) {
    json_array_append_new(out, json_string(p));
  } else if (!lookup_env) {
    json_array_append_new(out, json_string(p));
  } else if (getenv(p)) {
    cleanup_free char *kv = NULL;
    if (asprintf(&kv, "%s=%s", p, getenv(p)) < 0)
      abort();
    json_array_append_new(out, json_string(kv));
  }
  return 0;
}

static int read_kvfile(const char *path, bool lookup_env, json_t *out, berth_error_t *err)
{
  cleanup_fclose FILE *f = fopen(path, "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;
  unsigned lineno = 0;
  ssize_t n;
  if (!f)
    return go_path_error(err, errno, "open", path, "");
  while ((n = getline(&line, &cap, f)) >= 0) {
    char *l = line;
    lineno++;
    if (n > 0 && l[n - 1] == '\n')
      l[n - 1] = '\0';
    if (lineno == 1 && strncmp(l, "\xef\xbb\xbf", 3) == 0)
      l += 3;
    if (kvfile_line(path, l, lineno, lookup_env, out, err) < 0)
      return -1;
  }
  if (ferror(f))
    return go_path_error(err, errno ? errno : EIO, "read", path, "");
  return 0;
}

/* Env: files first, then -e (docker's ReadKVEnvStrings); "K" takes the
 * value from our environment and is dropped when unset. */
json_t *cli_run_env(const struct cli_run_opts *o, berth_error_t *err)
{
  cleanup_json json_t *env = json_array();
  for (size_t i = 0; o->env_file && o->env_file[i]; i++)
    if (read_kvfile(o->env_file[i], true, env, err) < 0)
      return NULL;
  for (size_t i = 0; o->env && o->env[i]; i++) {
    const char *s = o->env[i];
    if (strchr(s, '=')) {
      json_array_append_new(env, json_string(s));
    } else if (getenv(s)) {
      cleanup_free char *kv = NULL;
      if (asprintf(&kv, "%s=%s", s, getenv(s)) < 0)
        abort();
      json_array_append_new(env, json_string(kv));
    }
  }
  return steal_ptr(&env);
}

/* Labels: files then -l, "K" meaning an empty value; later keys win. */
static json_t *build_labels(const struct cli_run_opts *o, berth_error_t *err)
{
  cleanup_json json_t *lines = json_array(), *labels = json_object();
  json_t *v;
  size_t i;
  for (i = 0; o->label_file && o->label_file[i]; i++)
    if (read_kvfile(o->label_file[i], false, lines, err) < 0)
      return NULL;
  for (i = 0; o->label && o->label[i]; i++)
    json_array_append_new(lines, json_string(o->label[i]));
  json_array_foreach(lines, i, v)
  {
    const char *s = json_string_value(v), *eq = strchr(s, '=');
    cleanup_free char *key = eq ? strndup(s, (size_t)(eq - s)) : strdup(s);
    json_object_set_new(labels, key, json_string(eq ? eq + 1 : ""));
  }
  return steal_ptr(&labels);
}

/* ---- HostConfig pieces ---- */

static json_t *build_restart(const char *policy, berth_error_t *err)
{
  const char *colon;
  long long count = 0;
  cleanup_free char *name = NULL;
  if (!policy || !*policy)
    return json_pack("{s:s, s:i}", "Name", "", "MaximumRetryCount", 0);
  colon = strchr(policy, ':');
  if (colon == policy) {
    berth_error_set_plain(err, EINVAL, "invalid restart policy format: no policy provided before colon");
    return NULL;
  }
  if (colon && colon[1]) {
    char *end = NULL;
    errno = 0;
    count = strtoll(colon + 1, &end, 10);
    if (errno || *end || count > INT32_MAX || count < INT32_MIN) {
      berth_error_set_plain(err, EINVAL, "invalid restart policy format: maximum retry count must be an integer");
      return NULL;
    }
  }
  name = colon ? strndup(policy, (size_t)(colon - policy)) : strdup(policy);
  return json_pack("{s:s, s:I}", "Name", name, "MaximumRetryCount", (json_int_t)count);
}

static bool valid_device_mode(const char *m)
{
  bool seen[3] = {false, false, false};
  if (!*m)
    return false;
  for (; *m; m++) {
    const char *k = strchr("rwm", *m);
    if (!k || !*m || seen[k - "rwm"])
      return false;
    seen[k - "rwm"] = true;
  }
  return true;
}

/* --device /dev/x[:/dev/y][:rwm], docker's validateLinuxPath + parseLinuxDevice. */
static json_t *parse_device(const char *spec, berth_error_t *err)
{
  cleanup_free char *copy = strdup(spec);
  char *parts[4] = {NULL};
  const char *src, *dst = NULL, *perm = "rwm", *ctr;
  int n = 0;
  for (char *p = copy, *c; n < 4; p = c + 1) {
    parts[n++] = p;
    if (!(c = strchr(p, ':')))
      break;
    *c = '\0';
  }
  if (n > 3 || !*parts[0]) {
    berth_error_set_plain(err, EINVAL, "bad format for path: %s", spec);
    return NULL;
  }
  if (n == 3 && !valid_device_mode(parts[2])) {
    berth_error_set_plain(err, EINVAL, "bad mode specified: %s", parts[2]);
    return NULL;
  }
  ctr = n == 1 ? parts[0] : n == 3 ? parts[1] : valid_device_mode(parts[1]) ? parts[0] : parts[1];
  if (ctr[0] != '/') {
    berth_error_set_plain(err, EINVAL, "%s is not an absolute path", ctr);
    return NULL;
  }
  src = parts[0];
  if (n == 3) {
    dst = parts[1];
    perm = parts[2];
  } else if (n == 2) {
    if (valid_device_mode(parts[1]))
      perm = parts[1];
    else
      dst = parts[1];
  }
  return json_pack("{s:s, s:s, s:s}", "PathOnHost", src, "PathInContainer", dst && *dst ? dst : src,
                   "CgroupPermissions", perm);
}

static json_t *build_devices(char **devices, berth_error_t *err)
{
  cleanup_json json_t *out = json_array();
  for (size_t i = 0; devices && devices[i]; i++) {
    if (berth_cdi_parse_qualified(devices[i], NULL, NULL, NULL))
      continue; /* a CDI device: in DeviceRequests */
    json_t *d = parse_device(devices[i], err);
    if (!d)
      return NULL;
    json_array_append_new(out, d);
  }
  return steal_ptr(&out);
}

/* docker's parseSecurityOpts: "key=value" or "key:value"; a seccomp profile
 * file is read here and sent compacted as "seccomp=<JSON>". */
static int security_opt(const char *opt, json_t *out, bool *unconfined_paths, berth_error_t *err)
{
  const char *sep = strchr(opt, '=');
  cleanup_free char *key = NULL;
  const char *val;
  if (!sep && strcmp(opt, "no-new-privileges") != 0)
    sep = strchr(opt, ':');
  if ((!sep || !sep[1]) && strcmp(opt, "no-new-privileges") != 0)
    return berth_error_set_plain(err, EINVAL, "Invalid --security-opt: \"%s\"", opt);
  if (!sep) {
    json_array_append_new(out, json_string(opt));
    return 0;
  }
  key = strndup(opt, (size_t)(sep - opt));
  val = sep + 1;
  if (strcmp(opt, "systempaths=unconfined") == 0) {
    *unconfined_paths = true;
    return 0;
  }
  if (strcmp(key, "seccomp") == 0 && strcmp(val, "unconfined") != 0 && strcmp(val, "builtin") != 0) {
    json_error_t jerr;
    cleanup_json json_t *profile = NULL;
    cleanup_free char *compact = NULL, *s = NULL;
    errno = 0;
    profile = json_load_file(val, JSON_DECODE_ANY, &jerr);
    if (!profile && jerr.line <= 0) {
      /* jansson could not open the file */
      int e = errno ? errno : ENOENT;
      const char *text = strerror(e);
      return berth_error_set_plain(err, e, "opening seccomp profile (%s) failed: open %s: %c%s", val, val,
                                   tolower((unsigned char)text[0]), text + 1);
    }
    if (!profile)
      return berth_error_set_plain(err, EINVAL, "compacting json for seccomp profile (%s) failed: %s", val,
                                   jerr.text);
    compact = json_dumps(profile, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (!compact || asprintf(&s, "seccomp=%s", compact) < 0)
      abort();
    json_array_append_new(out, json_string(s));
    return 0;
  }
  json_array_append_new(out, json_string(opt));
  return 0;
}

static int build_security(const struct cli_run_opts *o, json_t *host, berth_error_t *err)
{
  cleanup_json json_t *opts = json_array();
  bool unconfined_paths = false;
  for (size_t i = 0; o->security_opt && o->security_opt[i]; i++)
    if (security_opt(o->security_opt[i], opts, &unconfined_paths, err) < 0)
      return -1;
  json_object_set_new(host, "SecurityOpt", json_array_size(opts) ? json_incref(opts) : json_null());
  if (unconfined_paths) {
    json_object_set_new(host, "MaskedPaths", json_array());
    json_object_set_new(host, "ReadonlyPaths", json_array());
  }
  return 0;
}

static int build_log_config(const struct cli_run_opts *o, json_t *host, berth_error_t *err)
{
  const char *driver = o->log_driver ? o->log_driver : "";
  json_t *config = json_object();
  if (strcmp(driver, "none") == 0 && o->log_opt && o->log_opt[0]) {
    json_decref(config);
    return berth_error_set_plain(err, EINVAL, "invalid logging opts for driver %s", driver);
  }
  for (size_t i = 0; o->log_opt && o->log_opt[i]; i++) {
    const char *s = o->log_opt[i], *eq = strchr(s, '=');
    cleanup_free char *key = eq ? strndup(s, (size_t)(eq - s)) : strdup(s);
    json_object_set_new(config, key, json_string(eq ? eq + 1 : ""));
  }
  json_object_set_new(host, "LogConfig", json_pack("{s:s, s:o}", "Type", driver, "Config", config));
  return 0;
}

/* -v: a spec with a source ("/host:/ctr[:ro]", "name:/ctr") is a bind;
 * "/ctr" alone an anonymous volume (Config.Volumes), as docker splits them. */
static bool is_volume_mode(const char *m)
{
  static const char *const modes[] = {"ro", "rw", "z", "Z", "nocopy", "rprivate", "private", "rshared", "shared",
                                      "rslave", "slave", NULL};
  cleanup_free char *copy = strdup(m);
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    bool ok = false;
    for (size_t i = 0; modes[i]; i++)
      ok |= strcmp(tok, modes[i]) == 0;
    if (!ok)
      return false;
  }
  return *m != '\0';
}

static void build_volumes(char **volumes, json_t *config, json_t *host)
{
  json_t *binds = json_array(), *anon = json_object();
  for (size_t i = 0; volumes && volumes[i]; i++) {
    const char *v = volumes[i], *colon = strchr(v, ':');
    if (colon && !(is_volume_mode(colon + 1) && !strchr(colon + 1, ':')))
      json_array_append_new(binds, json_string(v));
    else
      json_object_set_new(anon, v, json_object());
  }
  json_object_set_new(host, "Binds", json_array_size(binds) ? binds : (json_decref(binds), json_null()));
  json_object_set_new(config, "Volumes", json_object_size(anon) ? anon : (json_decref(anon), json_null()));
}

static json_t *build_tmpfs(char **tmpfs)
{
  json_t *out = json_object();
  for (size_t i = 0; tmpfs && tmpfs[i]; i++) {
    const char *s = tmpfs[i], *colon = strchr(s, ':');
    cleanup_free char *key = colon ? strndup(s, (size_t)(colon - s)) : strdup(s);
    json_object_set_new(out, key, json_string(colon ? colon + 1 : ""));
  }
  return out;
}

static bool valid_ns_mode(const char *mode)
{
  return !mode || !*mode || strcmp(mode, "host") == 0;
}

static bool valid_pid_mode(const char *mode)
{
  return valid_ns_mode(mode) || (strncmp(mode, "container:", 10) == 0 && mode[10]);
}

/* ---- the body ---- */

/* -p, -P and --expose: HostConfig.PortBindings and PublishAllPorts, and
 * Config.ExposedPorts (added to the image's at create). */
static int build_ports(const struct cli_run_opts *o, json_t *config, json_t *host, berth_error_t *err)
{
  cleanup_json json_t *exposed = json_object(), *bindings = json_object();
  if (berth_ports_parse(o->publish, o->expose, exposed, bindings, err) < 0)
    return -1;
  if (json_object_size(exposed))
    json_object_set(config, "ExposedPorts", exposed);
  json_object_set(host, "PortBindings", bindings);
  json_object_set_new(host, "PublishAllPorts", json_boolean(o->publish_all));
  for (char **p = o->add_host; p && *p; p++) {
    const char *sep = strchr(*p, ':');
    if (!sep || sep == *p || !sep[1])
      return berth_error_set_plain(err, EINVAL, "invalid argument \"%s\" for \"--add-host\" flag: bad format for "
                                                "add-host: \"%s\"", *p, *p);
  }
  json_object_set_new(host, "ExtraHosts", strv_json_or_null(o->add_host));
  json_object_set_new(host, "Dns", o->dns ? strv_json_or_null(o->dns) : json_array());
  json_object_set_new(host, "DnsOptions", o->dns_option ? strv_json_or_null(o->dns_option) : json_array());
  json_object_set_new(host, "DnsSearch", o->dns_search ? strv_json_or_null(o->dns_search) : json_array());
  return 0;
}

/* --ip, --mac-address and --network-alias: the endpoint on --network. */
static json_t *build_networking(const struct cli_run_opts *o)
{
  json_t *eps = json_object();
  if (o->ip || o->mac_address || o->network_alias) {
    json_t *ep = json_object();
    if (o->ip)
      json_object_set_new(ep, "IPAMConfig", json_pack("{s:s}", "IPv4Address", o->ip));
    if (o->mac_address)
      json_object_set_new(ep, "MacAddress", json_string(o->mac_address));
    if (o->network_alias)
      json_object_set_new(ep, "Aliases", strv_json_or_null(o->network_alias));
    json_object_set_new(eps, o->network && *o->network ? o->network : "default", ep);
  }
  return json_pack("{s:o}", "EndpointsConfig", eps);
}

/* --device-read-bps /dev/sda:1mb, --device-read-iops /dev/sda:100: docker's
 * ThrottleDevice list [{"Path", "Rate"}] (null when none). */
static json_t *build_throttle(char **specs, bool bytes, berth_error_t *err)
{
  json_t *out = specs ? json_array() : json_null();
  for (char **p = specs; p && *p; p++) {
    const char *colon = strchr(*p, ':');
    cleanup_free char *path = colon ? strndup(*p, (size_t)(colon - *p)) : NULL;
    int64_t rate = -1;
    char *end = NULL;
    if (!path || strncmp(path, "/dev/", 5) != 0) {
      json_decref(out);
      return berth_error_set_plain(err, EINVAL, "bad format for device path: %s", *p), NULL;
    }
    if (bytes) {
      berth_error_t ign = NULL;
      if (berth_parse_size(colon + 1, &rate, &ign) < 0)
        rate = -1;
      berth_error_release(&ign);
    } else {
      errno = 0;
      unsigned long long n = strtoull(colon + 1, &end, 10);
      rate = errno || end == colon + 1 || *end || colon[1] == '-' ? -1 : (int64_t)n;
    }
    if (rate < 0) {
      json_decref(out);
      return berth_error_set_plain(err, EINVAL,
                                   bytes ? "invalid rate for device: %s. The correct format is <device-path>:<number>[<unit>]. "
                                           "Number must be a positive integer. Unit is optional and can be kb, mb, or gb"
                                         : "invalid rate for device: %s. The correct format is <device-path>:<number>. "
                                           "Number must be a positive integer",
                                   *p),
             NULL;
    }
    json_array_append_new(out, json_pack("{s:s, s:I}", "Path", path, "Rate", (json_int_t)rate));
  }
  return out;
}

static json_t *build_host_config(const struct cli_run_opts *o, const struct run_values *v, json_t *config,
                                 berth_error_t *err)
{
  cleanup_json json_t *host = json_object(), *restart = NULL, *devices = NULL;
  if (!(restart = build_restart(o->restart, err)) || !(devices = build_devices(o->device, err)))
    return NULL;
  if (!valid_pid_mode(o->pid)) {
    berth_error_set_plain(err, EINVAL, "--pid: invalid PID mode");
    return NULL;
  }
  if (!valid_ns_mode(o->uts)) {
    berth_error_set_plain(err, EINVAL, "--uts: invalid UTS mode");
    return NULL;
  }
  if (build_log_config(o, host, err) < 0 || build_security(o, host, err) < 0)
    return NULL;
  build_volumes(o->volume, config, host);
  if (json_array_size(v->mounts))
    json_object_set(host, "Mounts", v->mounts);
  json_object_set_new(host, "VolumesFrom", strv_json_or_null(o->volumes_from));
  json_object_set_new(host, "ContainerIDFile", json_string(o->cidfile ? o->cidfile : ""));
  json_object_set_new(host, "NetworkMode", json_string(o->network && *o->network ? o->network : "default"));
  json_object_set(host, "RestartPolicy", restart);
  json_object_set_new(host, "AutoRemove", json_boolean(o->rm));
  json_object_set_new(host, "CapAdd", strv_json_or_null(o->cap_add));
  json_object_set_new(host, "CapDrop", strv_json_or_null(o->cap_drop));
  json_object_set_new(host, "GroupAdd", strv_json_or_null(o->group_add));
  json_object_set_new(host, "IpcMode", json_string(o->ipc ? o->ipc : ""));
  json_object_set_new(host, "PidMode", json_string(o->pid ? o->pid : ""));
  json_object_set_new(host, "UTSMode", json_string(o->uts ? o->uts : ""));
  json_object_set_new(host, "Privileged", json_boolean(o->privileged));
  json_object_set_new(host, "ReadonlyRootfs", json_boolean(o->read_only));
  json_object_set_new(host, "OomScoreAdj", json_integer(o->oom_score_adj));
  json_object_set_new(host, "CgroupParent", json_string(o->cgroup_parent ? o->cgroup_parent : ""));
  if (o->cgroupns && strcmp(o->cgroupns, "host") != 0 && strcmp(o->cgroupns, "private") != 0 && *o->cgroupns) {
    berth_error_set_plain(err, EINVAL, "--cgroupns: invalid CGROUP mode");
    return NULL;
  }
  json_object_set_new(host, "CgroupnsMode", json_string(o->cgroupns ? o->cgroupns : ""));
  json_object_set_new(host, "DeviceCgroupRules", strv_json_or_null(o->device_cgroup_rule));
  if (o->blkio_weight != 0 && (o->blkio_weight < 10 || o->blkio_weight > 1000)) {
    berth_error_set_plain(err, EINVAL, "invalid argument \"%ld\" for \"--blkio-weight\" flag: must be between 10 and 1000",
                          o->blkio_weight);
    return NULL;
  }
  json_object_set_new(host, "BlkioWeight", json_integer(o->blkio_weight));
  static const char *const throttle_keys[] = {"BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
                                              "BlkioDeviceWriteIOps"};
  char **const throttles[] = {o->device_read_bps, o->device_write_bps, o->device_read_iops, o->device_write_iops};
  for (size_t k = 0; k < 4; k++) {
    json_t *list = build_throttle(throttles[k], k < 2, err);
    if (!list)
      return NULL;
    json_object_set_new(host, throttle_keys[k], list);
  }
  if (o->annotation) {
    json_t *ann = json_object();
    json_object_set_new(host, "Annotations", ann);
    for (char **a = o->annotation; *a; a++) {
      const char *eq = strchr(*a, '=');
      cleanup_free char *k = strndup(*a, eq ? (size_t)(eq - *a) : strlen(*a));
      if (!*k) {
        berth_error_set_plain(err, EINVAL, "invalid key '' in annotation: %s", *a);
        return NULL;
      }
      json_object_set_new(ann, k, json_string(eq ? eq + 1 : ""));
    }
  }
  if (o->memory_swappiness != -1)
    json_object_set_new(host, "MemorySwappiness", json_integer(o->memory_swappiness));
  json_object_set_new(host, "ShmSize", json_integer(v->shm_size));
  if (o->tmpfs)
    json_object_set_new(host, "Tmpfs", build_tmpfs(o->tmpfs));
  if (json_object_size(v->sysctls))
    json_object_set(host, "Sysctls", v->sysctls);
  if (o->init)
    json_object_set_new(host, "Init", json_true());
  /* Resources */
  json_object_set_new(host, "Memory", json_integer(v->memory));
  json_object_set_new(host, "MemoryReservation", json_integer(v->memory_reservation));
  json_object_set_new(host, "MemorySwap", json_integer(v->memory_swap));
  json_object_set_new(host, "NanoCpus", json_integer(v->nano_cpus));
  json_object_set_new(host, "CpuShares", json_integer(o->cpu_shares));
  json_object_set_new(host, "CpuPeriod", json_integer(o->cpu_period));
  json_object_set_new(host, "CpuQuota", json_integer(o->cpu_quota));
  json_object_set_new(host, "CpusetCpus", json_string(o->cpuset_cpus ? o->cpuset_cpus : ""));
  json_object_set_new(host, "CpusetMems", json_string(o->cpuset_mems ? o->cpuset_mems : ""));
  json_object_set(host, "Devices", devices);
  json_object_set(host, "DeviceRequests", json_array_size(v->device_requests) ? v->device_requests : json_null());
  json_object_set_new(host, "Runtime", json_string(o->runtime ? o->runtime : ""));
  json_object_set_new(host, "Ulimits", json_array_size(v->ulimits) ? json_incref(v->ulimits) : json_null());
  json_object_set_new(host, "OomKillDisable", json_boolean(o->oom_kill_disable));
  if (o->pids_limit != 0)
    json_object_set_new(host, "PidsLimit", json_integer(o->pids_limit));
  if (o->rm && strcmp(json_string_value(json_object_get(restart, "Name")), "no") != 0 &&
      *json_string_value(json_object_get(restart, "Name"))) {
    berth_error_set_plain(err, EINVAL, "conflicting options: cannot specify both --restart and --rm");
    return NULL;
  }
  return steal_ptr(&host);
}

/* docker's Healthcheck from the flags: none unless one is given; Test
 * ["NONE"] with --no-healthcheck; an empty Test (the image's) without
 * --health-cmd. */
static int build_healthcheck(const struct cli_run_opts *o, const struct run_values *v, json_t *config,
                             berth_error_t *err)
{
  static const struct {
    const char *flag, *key;
  } fields[] = {{"--health-interval", "Interval"},
                {"--health-timeout", "Timeout"},
                {"--health-retries", "Retries"},
                {"--health-start-period", "StartPeriod"},
                {"--health-start-interval", "StartInterval"}};
  const int64_t values[] = {v->health_interval, v->health_timeout, o->health_retries, v->health_start_period,
                            v->health_start_interval};
  bool any = o->health_cmd && *o->health_cmd;
  for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
    any = any || values[i] != 0;
  if (o->no_healthcheck) {
    if (any)
      return berth_error_set_plain(err, EINVAL, "--no-healthcheck conflicts with --health-* options");
    json_object_set_new(config, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
    return 0;
  }
  if (!any)
    return 0;
  for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
    if (values[i] < 0)
      return berth_error_set_plain(err, EINVAL, "%s cannot be negative", fields[i].flag);
  /* docker leaves zero values out (omitempty) */
  json_t *hc = json_object();
  json_object_set_new(config, "Healthcheck", hc);
  if (o->health_cmd && *o->health_cmd)
    json_object_set_new(hc, "Test", json_pack("[s,s]", "CMD-SHELL", o->health_cmd));
  for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
    if (values[i] != 0)
      json_object_set_new(hc, fields[i].key, json_integer(values[i]));
  return 0;
}

static json_t *build_config(const struct cli_run_opts *o, const struct run_values *v, berth_error_t *err)
{
  cleanup_json json_t *config = json_object(), *env = NULL, *labels = NULL;
  bool attach_stdin = v->attach_stdin || o->interactive;
  bool none = !(o->attach && o->attach[0]);
  if (!(env = cli_run_env(o, err)) || !(labels = build_labels(o, err)))
    return NULL;
  json_object_set_new(config, "Hostname", json_string(o->hostname ? o->hostname : ""));
  json_object_set_new(config, "Domainname", json_string(o->domainname ? o->domainname : ""));
  json_object_set_new(config, "User", json_string(o->user ? o->user : ""));
  json_object_set_new(config, "AttachStdin", json_boolean(attach_stdin));
  json_object_set_new(config, "AttachStdout", json_boolean(none || v->attach_stdout));
  json_object_set_new(config, "AttachStderr", json_boolean(none || v->attach_stderr));
  json_object_set_new(config, "Tty", json_boolean(o->tty));
  json_object_set_new(config, "OpenStdin", json_boolean(o->interactive));
  /* attached stdin of an open stdin: closed when the client disconnects */
  json_object_set_new(config, "StdinOnce", json_boolean(o->interactive && attach_stdin));
  json_object_set(config, "Env", env);
  json_object_set_new(config, "Cmd", o->args && o->args[0] ? berth_json_strv(o->args) : json_null());
  json_object_set_new(config, "Image", json_string(o->image ? o->image : ""));
  json_object_set_new(config, "WorkingDir", json_string(o->workdir ? o->workdir : ""));
  json_object_set_new(config, "Entrypoint", o->entrypoint ? json_pack("[s]", o->entrypoint) : json_null());
  json_object_set(config, "Labels", labels);
  if (o->stop_signal)
    json_object_set_new(config, "StopSignal", json_string(o->stop_signal));
  if (o->stop_timeout != CLI_RUN_UNSET)
    json_object_set_new(config, "StopTimeout", json_integer(o->stop_timeout));
  if (build_healthcheck(o, v, config, err) < 0)
    return NULL;
  return steal_ptr(&config);
}

static json_t *build_body(const struct cli_run_opts *o, struct run_values *v, bool *ret_flag_error,
                          berth_error_t *err)
{
  cleanup_json json_t *body = NULL, *host = NULL;
  bool flag_err = false;
  if (check_values(o, v, &flag_err, err) < 0) {
    *ret_flag_error = flag_err;
    return NULL;
  }
  if (!(body = build_config(o, v, err)) || !(host = build_host_config(o, v, body, err)))
    return NULL;
  if (build_ports(o, body, host, err) < 0)
    return NULL;
  json_object_set(body, "HostConfig", host);
  json_object_set_new(body, "NetworkingConfig", build_networking(o));
  return steal_ptr(&body);
}

json_t *cli_run_body(const struct cli_run_opts *o, bool *ret_flag_error, berth_error_t *err)
{
  struct run_values v = {.ulimits = json_array(), .sysctls = json_object(), .device_requests = json_array()};
  json_t *body;
  *ret_flag_error = false;
  body = build_body(o, &v, ret_flag_error, err);
  json_decref(v.ulimits);
  json_decref(v.sysctls);
  json_decref(v.mounts);
  json_decref(v.device_requests);
  return body;
}

/* ---- detach keys ---- */

int cli_parse_detach_keys(const char *spec, unsigned char *keys, int cap, berth_error_t *err)
{
  static const char ctrl_names[] = "@abcdefghijklmnopqrstuvwxyz[\\]^_";
  cleanup_free char *copy = strdup(spec);
  char *save = NULL, *tok;
  int n = 0;
  /* strtok_r would skip empty items; docker treats "" as an unknown key */
  for (tok = copy; tok; tok = save) {
    save = strchr(tok, ',');
    if (save)
      *save++ = '\0';
    if (n >= cap)
      return berth_error_set_plain(err, EINVAL, "too many detach keys in `%s`", spec);
    if (strlen(tok) == 1) {
      keys[n++] = (unsigned char)tok[0];
    } else if (strncmp(tok, "ctrl-", 5) == 0 && strlen(tok) == 6 && strchr(ctrl_names, tok[5])) {
      keys[n++] = (unsigned char)(strchr(ctrl_names, tok[5]) - ctrl_names);
    } else if (strcmp(tok, "DEL") == 0) {
      keys[n++] = 127;
    } else {
      return berth_error_set_plain(err, EINVAL, "Unknown character: '%s'", tok);
    }
  }
  return n;
}
