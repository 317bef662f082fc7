/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI runtime config parser (lib/oci/runtime-spec.c): a full, realistic
 * config.json read back field by field; every malformed field refused with
 * an EINVAL error naming it; bounds on strings and arrays (CVE-2021-43784);
 * the capability and rlimit name tables; loading from a directory fd. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "oci/runtime-spec.h"

/* Written by hand after what runc/docker emit for `docker run -it --memory
 * 256m --cpus 1.5 --pids-limit 100 --ulimit nofile=1024:2048 alpine sh`. */
static const char *const full_config =
    "{\"ociVersion\":\"1.0.2-dev\","
    "\"process\":{\"terminal\":true,\"consoleSize\":{\"height\":40,\"width\":120},"
    " \"user\":{\"uid\":1000,\"gid\":1000,\"umask\":18,\"additionalGids\":[10,4294967295]},"
    " \"args\":[\"sh\",\"-c\",\"echo hi\"],"
    " \"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"HOSTNAME=abc\",\"TERM=xterm\"],"
    " \"cwd\":\"/root\","
    " \"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\",\"CAP_CHECKPOINT_RESTORE\"],"
    "   \"effective\":[\"CAP_CHOWN\"],\"permitted\":[\"CAP_CHOWN\",\"CAP_KILL\"],\"inheritable\":[],\"ambient\":[]},"
    " \"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":2048,\"soft\":1024},{\"type\":\"RLIMIT_CORE\",\"hard\":-1,\"soft\":0}],"
    " \"noNewPrivileges\":true,\"oomScoreAdj\":-500,\"apparmorProfile\":\"docker-default\"},"
    "\"root\":{\"path\":\"/var/lib/berth/rootfs\",\"readonly\":true},"
    "\"hostname\":\"abc\","
    "\"mounts\":["
    " {\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\",\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
    " {\"destination\":\"/dev//shm/\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"mode=1777\",\"size=67108864\"]},"
    " {\"destination\":\"/etc/hosts\",\"source\":\"/var/lib/berth/hosts\",\"options\":[\"rbind\",\"rprivate\"]}],"
    "\"hooks\":{\"prestart\":[{\"path\":\"/usr/bin/old\"}],"
    " \"createRuntime\":[{\"path\":\"/usr/bin/hook\",\"args\":[\"hook\",\"x\"],\"env\":[\"A=1\"],\"timeout\":5}],"
    " \"poststop\":[{\"path\":\"/bin/true\"}]},"
    "\"annotations\":{\"berth.user\":\"nobody\",\"org.example\":\"1\"},"
    "\"linux\":{"
    " \"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/proc/42/ns/net\"},{\"type\":\"mount\"},"
    "   {\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"cgroup\"},{\"type\":\"time\"}],"
    " \"devices\":[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229,\"fileMode\":438,\"uid\":0,\"gid\":0},"
    "   {\"path\":\"/dev/fifo\",\"type\":\"p\"}],"
    " \"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
    "   {\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},"
    "   {\"allow\":true,\"type\":\"c\",\"major\":136,\"access\":\"rw\"}],"
    "   \"memory\":{\"limit\":268435456,\"swap\":536870912,\"reservation\":134217728,\"swappiness\":60,"
    "     \"disableOOMKiller\":true},"
    "   \"cpu\":{\"shares\":512,\"quota\":150000,\"period\":100000,\"cpus\":\"0-1\",\"mems\":\"0\"},"
    "   \"pids\":{\"limit\":100},\"blockIO\":{\"weight\":10,"
    "     \"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":1048576}],"
    "     \"throttleWriteIOPSDevice\":[{\"major\":253,\"minor\":1,\"rate\":50}]}},"
    " \"cgroupsPath\":\"/berth/abc\","
    " \"sysctl\":{\"net.ipv4.ip_unprivileged_port_start\":\"0\"},"
    " \"maskedPaths\":[\"/proc/kcore\",\"/sys/firmware\"],"
    " \"readonlyPaths\":[\"/proc/sys\"],"
    " \"rootfsPropagation\":\"rprivate\","
    " \"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
    "   \"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
    "   \"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
    "     {\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":4294967295,"
    "       \"op\":\"SCMP_CMP_EQ\"}]},"
    "     {\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38,\"args\":[{\"index\":0,"
    "       \"value\":2114060288,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}},"
    "\"somethingNew\":{\"ignored\":[1,2,3]}}";

static json_t *load(const char *text)
{
  json_t *doc = berth_json_loadb(text, strlen(text), "test config", NULL);
  cr_assert_not_null(doc, "test config does not parse as JSON");
  return doc;
}

/* Any JSON value, scalars included. */
static json_t *load_value(const char *text)
{
  json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
  cr_assert_not_null(v, "`%s` is not JSON", text);
  return v;
}

static struct berth_spec *parse_ok(const json_t *doc)
{
  berth_error_t err = NULL;
  struct berth_spec *spec = berth_spec_parse(doc, "/bundle", &err);
  cr_assert_not_null(spec, "parse failed: %s", err ? err->msg : "");
  return spec;
}

/* The node at a dotted path ("process.user", "mounts.0"); numbers index arrays. */
static json_t *walk(json_t *doc, const char *path)
{
  cleanup_free char *copy = strdup(path);
  char *save = NULL;
  for (char *c = strtok_r(copy, ".", &save); c && doc; c = strtok_r(NULL, ".", &save))
    doc = json_is_array(doc) ? json_array_get(doc, (size_t)atoi(c)) : json_object_get(doc, c);
  cr_assert_not_null(doc, "no node at %s", path);
  return doc;
}

/* Set parent[key] (parent "" = top level) to the JSON text `value` (NULL =
 * delete), parse, and expect EINVAL with a message containing `expect`. */
static void expect_rejected(const char *parent, const char *key, const char *value, const char *expect)
{
  cleanup_json json_t *doc = load(full_config);
  json_t *node = parent[0] ? walk(doc, parent) : doc;
  cleanup_error berth_error_t err = NULL;
  struct berth_spec *spec;
  if (value)
    cr_assert_eq(json_object_set_new(node, key, load_value(value)), 0);
  else
    json_object_del(node, key);
  spec = berth_spec_parse(doc, NULL, &err);
  cr_assert_null(spec, "%s.%s = %s was accepted", parent, key, value ? value : "(deleted)");
  cr_assert_not_null(err);
  cr_expect_eq(err->code, EINVAL);
  cr_expect(err->plain, "validation errors carry no strerror");
  cr_expect(strstr(err->msg, expect) != NULL, "message `%s` lacks `%s`", err->msg, expect);
}

/* ------------------------------------------------------------ a full config */

Test(runtime_spec, full_config_process)
{
  cleanup_json json_t *doc = load(full_config);
  cleanup_spec struct berth_spec *spec = parse_ok(doc);
  struct berth_spec_process *p = &spec->process;
  cr_expect_str_eq(spec->oci_version, "1.0.2-dev");
  cr_expect(p->terminal);
  cr_expect_eq(p->console_rows, 40);
  cr_expect_eq(p->console_cols, 120);
  cr_expect_eq(p->user.uid, 1000);
  cr_expect_eq(p->user.gid, 1000);
  cr_expect(p->user.has_umask);
  cr_expect_eq(p->user.umask, 022);
  cr_assert_eq(p->user.n_additional_gids, 2);
  cr_expect_eq(p->user.additional_gids[1], UINT32_MAX);
  cr_expect_str_eq(p->args[0], "sh");
  cr_expect_str_eq(p->args[2], "echo hi");
  cr_expect_null(p->args[3]);
  cr_expect_str_eq(p->env[2], "TERM=xterm");
  cr_expect_null(p->env[3]);
  cr_expect_str_eq(p->cwd, "/root");
  cr_expect_eq(p->caps.bounding, (1ull << 0) | (1ull << 5) | (1ull << 40));
  cr_expect_eq(p->caps.effective, 1ull);
  cr_expect_eq(p->caps.permitted, (1ull << 0) | (1ull << 5));
  cr_expect_eq(p->caps.inheritable, 0);
  cr_expect_eq(p->caps.ambient, 0);
  cr_assert_eq(p->n_rlimits, 2);
  cr_expect_eq(p->rlimits[0].resource, RLIMIT_NOFILE);
  cr_expect_eq(p->rlimits[0].soft, 1024);
  cr_expect_eq(p->rlimits[0].hard, 2048);
  cr_expect_eq(p->rlimits[1].resource, RLIMIT_CORE);
  cr_expect_eq(p->rlimits[1].hard, (uint64_t)RLIM_INFINITY, "-1 is unlimited");
  cr_expect(p->no_new_privileges);
  cr_expect(p->has_oom_score_adj);
  cr_expect_eq(p->oom_score_adj, -500);
}

Test(runtime_spec, full_config_root_mounts_hooks)
{
  cleanup_json json_t *doc = load(full_config);
  cleanup_spec struct berth_spec *spec = parse_ok(doc);
  cr_expect_str_eq(spec->root_path, "/var/lib/berth/rootfs");
  cr_expect(spec->root_readonly);
  cr_expect_str_eq(spec->hostname, "abc");
  cr_assert_eq(spec->n_mounts, 3);
  cr_expect_str_eq(spec->mounts[0].type, "proc");
  cr_expect_str_eq(spec->mounts[0].options[2], "nodev");
  cr_expect_null(spec->mounts[0].options[3]);
  cr_expect_str_eq(spec->mounts[1].destination, "/dev/shm", "destinations are cleaned");
  cr_expect_null(spec->mounts[2].type, "type may be absent for binds");
  cr_expect_str_eq(spec->mounts[2].source, "/var/lib/berth/hosts");
  cr_assert_eq(spec->hooks.n_create_runtime, 2, "prestart runs ahead of createRuntime");
  cr_expect_str_eq(spec->hooks.create_runtime[0].path, "/usr/bin/old");
  cr_expect_str_eq(spec->hooks.create_runtime[1].args[1], "x");
  cr_expect_str_eq(spec->hooks.create_runtime[1].env[0], "A=1");
  cr_expect_eq(spec->hooks.create_runtime[1].timeout, 5);
  cr_expect_null(spec->hooks.create_runtime[0].args[0]);
  cr_expect_eq(spec->hooks.n_poststop, 1);
  cr_expect_eq(spec->hooks.n_create_container, 0);
  cr_expect_str_eq(berth_spec_annotation(spec, "berth.user"), "nobody");
  cr_expect_null(berth_spec_annotation(spec, "missing"));
}

Test(runtime_spec, full_config_linux)
{
  cleanup_json json_t *doc = load(full_config);
  cleanup_spec struct berth_spec *spec = parse_ok(doc);
  cr_assert_eq(spec->n_namespaces, 7);
  cr_expect_eq(spec->namespaces[0].type, CLONE_NEWPID);
  cr_expect_eq(spec->namespaces[1].type, CLONE_NEWNET);
  cr_expect_str_eq(spec->namespaces[1].path, "/proc/42/ns/net");
  cr_expect_eq(spec->namespaces[2].type, CLONE_NEWNS);
  cr_expect_eq(spec->namespaces[5].type, CLONE_NEWCGROUP);
  cr_expect_eq(spec->namespaces[6].type, CLONE_NEWTIME);
  cr_expect_null(spec->namespaces[0].path);
  cr_assert_eq(spec->n_devices, 2);
  cr_expect_eq(spec->devices[0].type, 'c');
  cr_expect_eq(spec->devices[0].major, 10);
  cr_expect_eq(spec->devices[0].minor, 229);
  cr_expect(spec->devices[0].has_mode);
  cr_expect_eq(spec->devices[0].mode, 0666);
  cr_expect_eq(spec->devices[1].type, 'p');
  cr_expect_not(spec->devices[1].has_uid);
  cr_expect_str_eq(spec->cgroups_path, "/berth/abc");
  cr_expect_str_eq(spec->masked_paths[1], "/sys/firmware");
  cr_expect_null(spec->masked_paths[2]);
  cr_expect_str_eq(spec->readonly_paths[0], "/proc/sys");
  cr_expect_str_eq(spec->rootfs_propagation, "rprivate");
  cr_assert_eq(spec->n_sysctls, 1);
  cr_expect_str_eq(spec->sysctls[0].key, "net.ipv4.ip_unprivileged_port_start");
  cr_expect_str_eq(spec->sysctls[0].value, "0");
}

Test(runtime_spec, full_config_resources)
{
  cleanup_json json_t *doc = load(full_config);
  cleanup_spec struct berth_spec *spec = parse_ok(doc);
  struct berth_spec_resources *r = &spec->resources;
  cr_expect_eq(r->memory_limit, 268435456);
  cr_expect_eq(r->memory_swap, 536870912);
  cr_expect_eq(r->memory_reservation, 134217728);
  cr_expect_eq(r->memory_swappiness, 60);
  cr_expect(r->disable_oom_killer);
  cr_expect_eq(r->cpu_shares, 512);
  cr_expect_eq(r->cpu_quota, 150000);
  cr_expect_eq(r->cpu_period, 100000);
  cr_expect_str_eq(r->cpuset_cpus, "0-1");
  cr_expect_str_eq(r->cpuset_mems, "0");
  cr_expect_eq(r->pids_limit, 100);
  cr_expect_eq(r->blkio_weight, 10);
  cr_assert_eq(r->n_throttle[BERTH_THROTTLE_READ_BPS], 1);
  cr_expect_eq(r->throttle[BERTH_THROTTLE_READ_BPS][0].major, 8);
  cr_expect_eq(r->throttle[BERTH_THROTTLE_READ_BPS][0].rate, 1048576);
  cr_expect_eq(r->n_throttle[BERTH_THROTTLE_WRITE_BPS], 0);
  cr_assert_eq(r->n_throttle[BERTH_THROTTLE_WRITE_IOPS], 1);
  cr_expect_eq(r->throttle[BERTH_THROTTLE_WRITE_IOPS][0].minor, 1);
  cr_expect_eq(r->throttle[BERTH_THROTTLE_WRITE_IOPS][0].rate, 50);
  cr_assert_eq(r->n_devices, 3);
  cr_expect_not(r->devices[0].allow);
  cr_expect_eq(r->devices[0].type, 'a');
  cr_expect_eq(r->devices[0].major, -1);
  cr_expect_str_eq(r->devices[0].access, "rwm");
  cr_expect_eq(r->devices[1].major, 1);
  cr_expect_eq(r->devices[1].minor, 3);
  cr_expect_eq(r->devices[2].minor, -1, "absent minor = any");
  cr_expect_str_eq(r->devices[2].access, "rw");
}

Test(runtime_spec, full_config_seccomp)
{
  cleanup_json json_t *doc = load(full_config);
  cleanup_spec struct berth_spec *spec = parse_ok(doc);
  struct berth_spec_seccomp *s = spec->seccomp;
  cr_assert_not_null(s);
  cr_expect_eq(s->default_action, BERTH_SECCOMP_ACT_ERRNO);
  cr_expect(s->has_default_errno);
  cr_expect_eq(s->default_errno, 1);
  cr_expect_str_eq(s->architectures[1], "SCMP_ARCH_X86");
  cr_expect_str_eq(s->flags[0], "SECCOMP_FILTER_FLAG_LOG");
  cr_assert_eq(s->n_rules, 3);
  cr_expect_str_eq(s->rules[0].names[1], "write");
  cr_expect_eq(s->rules[0].action, BERTH_SECCOMP_ACT_ALLOW);
  cr_expect_eq(s->rules[0].n_args, 0);
  cr_expect_eq(s->rules[1].args[0].value, 4294967295u);
  cr_expect_eq(s->rules[1].args[0].op, BERTH_SECCOMP_OP_EQ);
  cr_expect(s->rules[2].has_errno);
  cr_expect_eq(s->rules[2].errno_ret, 38);
  cr_expect_eq(s->rules[2].args[0].op, BERTH_SECCOMP_OP_MASKED_EQ);
  cr_expect_eq(s->rules[2].args[0].value, 2114060288);
}

/* ------------------------------------------------------------ minimal and defaults */

static const char *const minimal =
    "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\"}}";

Test(runtime_spec, minimal_config_has_defaults)
{
  cleanup_json json_t *doc = load(minimal);
  cleanup_spec struct berth_spec *spec = parse_ok(doc);
  cr_expect_str_eq(spec->root_path, "/bundle/rootfs", "relative root resolved against the bundle");
  cr_expect_not(spec->root_readonly);
  cr_expect_null(spec->hostname);
  cr_expect_null(spec->cgroups_path);
  cr_expect_null(spec->seccomp);
  cr_expect_null(spec->rootfs_propagation);
  cr_assert_not_null(spec->annotations, "annotations are never NULL");
  cr_expect(json_is_object(spec->annotations) && json_object_size(spec->annotations) == 0);
  cr_assert_not_null(spec->process.env);
  cr_expect_null(spec->process.env[0]);
  cr_assert_not_null(spec->masked_paths);
  cr_expect_null(spec->masked_paths[0]);
  cr_expect_eq(spec->n_mounts, 0);
  cr_expect_eq(spec->resources.memory_limit, BERTH_SPEC_UNSET);
  cr_expect_eq(spec->resources.memory_swappiness, BERTH_SPEC_UNSET);
  cr_expect_eq(spec->resources.cpu_quota, BERTH_SPEC_UNSET);
  cr_expect_eq(spec->resources.pids_limit, BERTH_SPEC_UNSET);
  cr_expect_not(spec->process.has_oom_score_adj);
  cr_expect_not(spec->process.user.has_umask);
}

Test(runtime_spec, relative_root_needs_a_bundle)
{
  cleanup_json json_t *doc = load(minimal);
  cleanup_error berth_error_t err = NULL;
  cr_assert_null(berth_spec_parse(doc, NULL, &err));
  cr_expect(strstr(err->msg, "root.path") != NULL, "%s", err->msg);
}

Test(runtime_spec, null_fields_read_as_absent)
{
  cleanup_json json_t *doc = load("{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"x\"],\"cwd\":\"/\",\"env\":null,"
                                  "\"capabilities\":null},\"root\":{\"path\":\"/r\"},\"hostname\":null,"
                                  "\"linux\":{\"seccomp\":null,\"resources\":{\"memory\":null}},\"annotations\":null}");
  cleanup_spec struct berth_spec *spec = parse_ok(doc);
  cr_expect_null(spec->hostname);
  cr_expect_null(spec->seccomp);
  cr_expect_null(spec->process.env[0]);
  cr_expect_eq(json_object_size(spec->annotations), 0);
}

/* ------------------------------------------------------------ rejections name the field */

Test(runtime_spec, rejects_bad_top_level)
{
  expect_rejected("", "ociVersion", "\"2.0.0\"", "ociVersion");
  expect_rejected("", "ociVersion", NULL, "ociVersion: required");
  expect_rejected("", "process", NULL, "process: required");
  expect_rejected("", "process", "[]", "process: expected an object");
  expect_rejected("", "root", NULL, "root: required");
  expect_rejected("root", "path", "7", "root.path: expected a string");
  expect_rejected("root", "readonly", "\"yes\"", "root.readonly: expected a boolean");
  expect_rejected("", "hostname", "{}", "hostname: expected a string");
  expect_rejected("", "mounts", "{}", "mounts: expected an array");
  expect_rejected("", "annotations", "{\"a\":1}", "annotations");
  expect_rejected("", "annotations", "[]", "annotations: expected an object");
}

Test(runtime_spec, rejects_bad_process)
{
  expect_rejected("process", "args", "\"sh\"", "process.args: expected an array");
  expect_rejected("process", "args", "[\"sh\",1]", "process.args: expected an array of strings");
  expect_rejected("process", "args", "[]", "process.args: must not be empty");
  expect_rejected("process", "args", NULL, "process.args: required");
  expect_rejected("process", "cwd", "\"root\"", "process.cwd: expected an absolute path");
  expect_rejected("process", "cwd", NULL, "process.cwd: required");
  expect_rejected("process", "env", "[\"NOEQUALS\"]", "process.env: expected KEY=VALUE");
  expect_rejected("process", "env", "[\"=x\"]", "process.env");
  expect_rejected("process", "terminal", "1", "process.terminal: expected a boolean");
  expect_rejected("process", "oomScoreAdj", "1001", "process.oomScoreAdj");
  expect_rejected("process", "oomScoreAdj", "1.5", "process.oomScoreAdj: expected an integer");
  expect_rejected("process", "noNewPrivileges", "\"true\"", "process.noNewPrivileges");
  expect_rejected("process.consoleSize", "height", "70000", "process.consoleSize.height");
}

Test(runtime_spec, rejects_bad_user_and_caps)
{
  expect_rejected("process.user", "uid", "-1", "process.user.uid");
  expect_rejected("process.user", "uid", "4294967296", "process.user.uid");
  expect_rejected("process.user", "gid", "\"0\"", "process.user.gid: expected an integer");
  expect_rejected("process.user", "additionalGids", "[1,-2]", "process.user.additionalGids");
  expect_rejected("process.user", "umask", "4096", "process.user.umask");
  expect_rejected("process.capabilities", "bounding", "[\"CAP_NOPE\"]",
                  "process.capabilities.bounding: unknown capability");
  expect_rejected("process.capabilities", "ambient", "\"CAP_CHOWN\"", "process.capabilities.ambient");
  expect_rejected("process", "capabilities", "[]", "process.capabilities: expected an object");
}

Test(runtime_spec, rejects_bad_rlimits)
{
  expect_rejected("process.rlimits.0", "type", "\"RLIMIT_NOPE\"", "process.rlimits[0].type: unknown rlimit");
  expect_rejected("process.rlimits.0", "soft", "4096", "process.rlimits[0].soft: greater than the hard limit");
  expect_rejected("process.rlimits.0", "hard", NULL, "process.rlimits[0].hard: required");
  expect_rejected("process.rlimits.0", "soft", "-2", "process.rlimits[0].soft");
  expect_rejected("process.rlimits.1", "type", "\"RLIMIT_NOFILE\"", "process.rlimits[1].type: duplicate");
  expect_rejected("process", "rlimits", "[7]", "process.rlimits[0]: expected an object");
}

Test(runtime_spec, rejects_bad_mounts)
{
  expect_rejected("mounts.0", "destination", "\"proc\"", "mounts[0].destination: expected an absolute path");
  expect_rejected("mounts.1", "destination", "\"/dev/../etc\"", "mounts[1].destination");
  expect_rejected("mounts.2", "destination", "\"/..\"", "mounts[2].destination");
  expect_rejected("mounts.0", "destination", NULL, "mounts[0].destination: required");
  expect_rejected("mounts.0", "options", "[\"ro\",null]", "mounts[0].options: expected an array of strings");
  expect_rejected("mounts.0", "type", "[]", "mounts[0].type: expected a string");
  expect_rejected("mounts.0", "source", "1", "mounts[0].source");
}

Test(runtime_spec, rejects_bad_namespaces_and_devices)
{
  expect_rejected("linux.namespaces.0", "type", "\"bogus\"", "linux.namespaces[0].type: unknown namespace type");
  expect_rejected("linux", "namespaces", "[{\"type\":\"pid\"},{\"type\":\"pid\"}]",
                  "linux.namespaces[1].type: duplicate namespace");
  expect_rejected("linux.namespaces.1", "path", "\"proc/1/ns/net\"", "linux.namespaces[1].path");
  expect_rejected("linux.devices.0", "type", "\"x\"", "linux.devices[0].type");
  expect_rejected("linux.devices.0", "major", NULL, "linux.devices[0].major");
  expect_rejected("linux.devices.0", "path", "\"/dev/../etc/shadow\"", "linux.devices[0].path");
  expect_rejected("linux.devices.0", "fileMode", "-1", "linux.devices[0].fileMode");
  expect_rejected("linux.devices.0", "uid", "4294967296", "linux.devices[0].uid");
}

Test(runtime_spec, rejects_bad_resources)
{
  expect_rejected("linux.resources.memory", "limit", "\"256m\"", "linux.resources.memory.limit: expected an integer");
  expect_rejected("linux.resources.memory", "swap", "-2", "linux.resources.memory.swap");
  expect_rejected("linux.resources.memory", "swappiness", "101", "linux.resources.memory.swappiness");
  expect_rejected("linux.resources.cpu", "shares", "-5", "linux.resources.cpu.shares");
  expect_rejected("linux.resources.cpu", "cpus", "\"0-1;rm\"", "linux.resources.cpu.cpus");
  expect_rejected("linux.resources.pids", "limit", "\"100\"", "linux.resources.pids.limit");
  expect_rejected("linux.resources.devices.1", "access", "\"rwx\"", "linux.resources.devices[1].access");
  expect_rejected("linux.resources.devices.1", "type", "\"u\"", "linux.resources.devices[1].type");
  expect_rejected("linux.resources.devices.1", "allow", NULL, "linux.resources.devices[1].allow");
  expect_rejected("linux.resources.blockIO", "weight", "5", "linux.resources.blockIO.weight");
  expect_rejected("linux.resources.blockIO.throttleReadBpsDevice.0", "rate", NULL,
                  "linux.resources.blockIO.throttleReadBpsDevice[0]");
  expect_rejected("linux.resources.blockIO.throttleReadBpsDevice.0", "major", "-1",
                  "linux.resources.blockIO.throttleReadBpsDevice[0].major");
}

Test(runtime_spec, rejects_bad_seccomp)
{
  expect_rejected("linux.seccomp", "defaultAction", "\"SCMP_ACT_NOPE\"",
                  "linux.seccomp.defaultAction: unknown seccomp action");
  expect_rejected("linux.seccomp", "defaultAction", NULL, "linux.seccomp.defaultAction: required");
  expect_rejected("linux.seccomp.syscalls.1", "action", "\"ALLOW\"", "linux.seccomp.syscalls[1].action");
  expect_rejected("linux.seccomp.syscalls.0", "names", "[]", "linux.seccomp.syscalls[0].names: must not be empty");
  expect_rejected("linux.seccomp.syscalls.1.args.0", "op", "\"SCMP_CMP_NOPE\"",
                  "linux.seccomp.syscalls[1].args[0].op: unknown seccomp operator");
  expect_rejected("linux.seccomp.syscalls.1.args.0", "index", "6", "linux.seccomp.syscalls[1].args[0].index");
  expect_rejected("linux.seccomp.syscalls.1.args.0", "value", "-1", "linux.seccomp.syscalls[1].args[0].value");
  expect_rejected("linux.seccomp.syscalls.1", "args",
                  "[{\"index\":0,\"op\":\"SCMP_CMP_EQ\"},{\"index\":1,\"op\":\"SCMP_CMP_EQ\"},"
                  "{\"index\":2,\"op\":\"SCMP_CMP_EQ\"},{\"index\":3,\"op\":\"SCMP_CMP_EQ\"},"
                  "{\"index\":4,\"op\":\"SCMP_CMP_EQ\"},{\"index\":5,\"op\":\"SCMP_CMP_EQ\"},"
                  "{\"index\":5,\"op\":\"SCMP_CMP_NE\"}]",
                  "linux.seccomp.syscalls[1].args: more than 6");
  expect_rejected("linux.seccomp.syscalls.2", "errnoRet", "-1", "linux.seccomp.syscalls[2].errnoRet");
}

Test(runtime_spec, rejects_bad_linux_misc_and_hooks)
{
  expect_rejected("linux", "maskedPaths", "[\"proc/kcore\"]", "linux.maskedPaths");
  expect_rejected("linux", "readonlyPaths", "[1]", "linux.readonlyPaths");
  expect_rejected("linux", "rootfsPropagation", "\"sideways\"", "linux.rootfsPropagation");
  expect_rejected("linux", "sysctl", "{\"../../etc/x\":\"1\"}", "linux.sysctl: invalid key");
  expect_rejected("linux", "sysctl", "{\"kernel.x\":1}", "linux.sysctl.kernel.x: expected a string");
  expect_rejected("linux", "cgroupsPath", "false", "linux.cgroupsPath");
  expect_rejected("hooks.poststop.0", "path", "\"true\"", "hooks.poststop[0].path");
  expect_rejected("hooks.createRuntime.0", "timeout", "0", "hooks.createRuntime[0].timeout");
  expect_rejected("hooks", "poststart", "{}", "hooks.poststart: expected an array");
}

/* ------------------------------------------------------------ bounds (CVE-2021-43784) */

Test(runtime_spec, rejects_strings_over_one_mib)
{
  cleanup_json json_t *doc = load(full_config);
  cleanup_free char *big = malloc((1u << 20) + 2);
  cleanup_error berth_error_t err = NULL;
  memset(big, 'a', (1u << 20) + 1);
  big[(1u << 20) + 1] = '\0';
  json_object_set_new(walk(doc, "annotations"), "big", json_string(big));
  cr_assert_null(berth_spec_parse(doc, NULL, &err));
  cr_expect(strstr(err->msg, "annotations") != NULL, "%s", err->msg);
  berth_error_release(&err);
  json_object_del(walk(doc, "annotations"), "big");
  big[1u << 20] = '\0'; /* exactly 1 MiB is fine */
  json_object_set_new(walk(doc, "mounts.2"), "source", json_string(big));
  {
    cleanup_spec struct berth_spec *spec = parse_ok(doc);
    cr_expect_eq(strlen(spec->mounts[2].source), 1u << 20);
  }
  big[1u << 20] = 'a';
  json_array_set_new(walk(doc, "process.args"), 0, json_string(big));
  cr_assert_null(berth_spec_parse(doc, NULL, &err));
  cr_expect(strstr(err->msg, "process.args") != NULL, "%s", err->msg);
}

Test(runtime_spec, rejects_arrays_over_65536_entries)
{
  cleanup_json json_t *doc = load(full_config);
  json_t *env = walk(doc, "process.env");
  cleanup_error berth_error_t err = NULL;
  while (json_array_size(env) <= 65536)
    json_array_append_new(env, json_string("A=1"));
  cr_assert_null(berth_spec_parse(doc, NULL, &err));
  cr_expect(strstr(err->msg, "process.env: more than 65536") != NULL, "%s", err->msg);
}

Test(runtime_spec, rejects_strings_with_nul)
{
  cleanup_json json_t *doc = load(full_config);
  cleanup_error berth_error_t err = NULL;
  json_object_set_new(walk(doc, "process"), "cwd", json_stringn("/a\0b", 4));
  cr_assert_null(berth_spec_parse(doc, NULL, &err));
  cr_expect(strstr(err->msg, "process.cwd") != NULL, "%s", err->msg);
}

/* ------------------------------------------------------------ name tables */

Test(runtime_spec, capability_names)
{
  cr_expect_eq(berth_cap_from_name("CAP_CHOWN"), 0);
  cr_expect_eq(berth_cap_from_name("chown"), 0);
  cr_expect_eq(berth_cap_from_name("Cap_Net_Admin"), 12);
  cr_expect_eq(berth_cap_from_name("SYS_ADMIN"), 21);
  cr_expect_eq(berth_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
  cr_expect_eq(berth_cap_from_name("CAP_BPF"), 39);
  cr_expect_eq(berth_cap_from_name("CAP_"), -1);
  cr_expect_eq(berth_cap_from_name("CAP_NOPE"), -1);
  cr_expect_eq(berth_cap_from_name(NULL), -1);
  cr_expect_str_eq(berth_cap_name(0), "CAP_CHOWN");
  cr_expect_str_eq(berth_cap_name(29), "CAP_AUDIT_WRITE");
  cr_expect_str_eq(berth_cap_name(40), "CAP_CHECKPOINT_RESTORE");
  cr_expect_null(berth_cap_name(41));
  cr_expect_null(berth_cap_name(-1));
  for (int i = 0; i <= 40; i++)
    cr_expect_eq(berth_cap_from_name(berth_cap_name(i)), i);
}

Test(runtime_spec, rlimit_names)
{
  cr_expect_eq(berth_rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  cr_expect_eq(berth_rlimit_from_name("nofile"), RLIMIT_NOFILE);
  cr_expect_eq(berth_rlimit_from_name("nproc"), RLIMIT_NPROC);
  cr_expect_eq(berth_rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  cr_expect_eq(berth_rlimit_from_name("memlock"), RLIMIT_MEMLOCK);
  cr_expect_eq(berth_rlimit_from_name("RLIMIT_"), -1);
  cr_expect_eq(berth_rlimit_from_name("files"), -1);
  cr_expect_eq(berth_rlimit_from_name(NULL), -1);
}

/* ------------------------------------------------------------ load_at */

static int tmpdir_fd(char *dir)
{
  int fd;
  cr_assert_not_null(mkdtemp(dir));
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq(fd, 0);
  return fd;
}

static void write_at(int dirfd, const char *name, const char *data, size_t len)
{
  int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, data, len), (ssize_t)len);
  close(fd);
}

Test(runtime_spec, load_at_reads_and_parses)
{
  char dir[] = "/tmp/berth-test-spec-XXXXXX";
  cleanup_close int dfd = tmpdir_fd(dir);
  cleanup_error berth_error_t err = NULL;
  write_at(dfd, "config.json", full_config, strlen(full_config));
  write_at(dfd, "bad.json", "{\"ociVersion\":", 14);
  {
    cleanup_spec struct berth_spec *spec = berth_spec_load_at(dfd, "config.json", dir, &err);
    cr_assert_not_null(spec, "%s", err ? err->msg : "");
    cr_expect_str_eq(spec->process.args[0], "sh");
  }
  cr_expect_null(berth_spec_load_at(dfd, "bad.json", dir, &err));
  cr_expect_eq(err->code, EINVAL);
  berth_error_release(&err);
  cr_expect_null(berth_spec_load_at(dfd, "missing.json", dir, &err));
  cr_expect_eq(err->code, ENOENT);
  (void)unlinkat(dfd, "config.json", 0);
  (void)unlinkat(dfd, "bad.json", 0);
  (void)rmdir(dir);
}

Test(runtime_spec, load_at_refuses_over_16_mib)
{
  char dir[] = "/tmp/berth-test-spec-XXXXXX";
  cleanup_close int dfd = tmpdir_fd(dir);
  cleanup_error berth_error_t err = NULL;
  size_t len = (16u << 20) + 1;
  cleanup_free char *data = malloc(len);
  memset(data, ' ', len);
  memcpy(data, minimal, strlen(minimal));
  write_at(dfd, "config.json", data, len);
  cr_expect_null(berth_spec_load_at(dfd, "config.json", dir, &err));
  cr_assert_not_null(err);
  cr_expect_eq(err->code, EFBIG);
  (void)unlinkat(dfd, "config.json", 0);
  (void)rmdir(dir);
}
