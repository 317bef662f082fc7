/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd/berth/run-flags.c: every run/create flag to its place in the
 * ContainerCreate body, and docker's error texts for bad values. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "run-flags.h"

/* A heap strv (freed by cli_run_opts_clear). */
static char **sv(const char *first, ...)
{
  va_list ap;
  size_t n = 0;
  char **v = calloc(16, sizeof(char *));
  va_start(ap, first);
  for (const char *s = first; s && n < 15; s = va_arg(ap, const char *))
    v[n++] = strdup(s);
  va_end(ap);
  return v;
}

static struct cli_run_opts o;

static void setup(void)
{
  cli_run_opts_init(&o);
  o.image = "busybox";
}

static void teardown(void)
{
  cli_run_opts_clear(&o);
}

TestSuite(run_flags, .init = setup, .fini = teardown);

static json_t *body_ok(void)
{
  berth_error_t err = NULL;
  bool flag_error = true;
  json_t *b = cli_run_body(&o, &flag_error, &err);
  cr_assert(b, "unexpected error: %s", err ? err->msg : "?");
  cr_assert(!flag_error);
  return b;
}

/* The error message; *flag_error says whether it was a flag value error. */
static char *body_err(bool *flag_error)
{
  berth_error_t err = NULL;
  json_t *b = cli_run_body(&o, flag_error, &err);
  char *msg;
  cr_assert_null(b, "expected an error");
  cr_assert(err);
  msg = strdup(err->msg);
  berth_error_release(&err);
  return msg;
}

static void expect_flag_error(const char *want)
{
  bool fe = false;
  cleanup_free char *msg = body_err(&fe);
  cr_assert_str_eq(msg, want);
  cr_assert(fe, "should be a flag error: %s", msg);
}

static void expect_error(const char *want)
{
  bool fe = true;
  cleanup_free char *msg = body_err(&fe);
  cr_assert_str_eq(msg, want);
  cr_assert(!fe, "should not be a flag error: %s", msg);
}

/* JSON of one member (path "HostConfig.Memory"), compact with sorted keys. */
static char *at(json_t *b, const char *path)
{
  cleanup_free char *copy = strdup(path);
  char *save = NULL;
  json_t *v = b;
  for (char *k = strtok_r(copy, ".", &save); k; k = strtok_r(NULL, ".", &save))
    v = json_object_get(v, k);
  if (!v)
    return strdup("<missing>");
  return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static void expect(json_t *b, const char *path, const char *want)
{
  cleanup_free char *got = at(b, path);
  cr_assert_str_eq(got, want, "%s: got %s, want %s", path, got, want);
}

/* ---- defaults and Config ---- */

Test(run_flags, defaults_match_the_docker_cli)
{
  cleanup_json json_t *b = body_ok();
  expect(b, "Image", "\"busybox\"");
  expect(b, "Cmd", "null");
  expect(b, "Entrypoint", "null");
  expect(b, "AttachStdin", "false");
  expect(b, "AttachStdout", "true");
  expect(b, "AttachStderr", "true");
  expect(b, "OpenStdin", "false");
  expect(b, "StdinOnce", "false");
  expect(b, "Tty", "false");
  expect(b, "Env", "[]");
  expect(b, "Labels", "{}");
  expect(b, "StopSignal", "<missing>");
  expect(b, "StopTimeout", "<missing>");
  expect(b, "HostConfig.RestartPolicy", "{\"MaximumRetryCount\":0,\"Name\":\"no\"}");
  expect(b, "HostConfig.NetworkMode", "\"default\"");
  expect(b, "HostConfig.AutoRemove", "false");
  expect(b, "HostConfig.Binds", "null");
  expect(b, "HostConfig.Init", "<missing>");
  expect(b, "HostConfig.PidsLimit", "<missing>");
  expect(b, "HostConfig.LogConfig", "{\"Config\":{},\"Type\":\"\"}");
  expect(b, "NetworkingConfig", "{\"EndpointsConfig\":{}}");
}

Test(run_flags, command_and_entrypoint)
{
  char *args[] = {(char *)"sh", (char *)"-c", (char *)"echo hi", NULL};
  cleanup_json json_t *b = NULL, *b2 = NULL;
  o.args = args;
  o.entrypoint = "/bin/env";
  b = body_ok();
  expect(b, "Cmd", "[\"sh\",\"-c\",\"echo hi\"]");
  expect(b, "Entrypoint", "[\"/bin/env\"]");
  o.args = NULL;
  o.entrypoint = ""; /* --entrypoint= resets the image's */
  b2 = body_ok();
  expect(b2, "Entrypoint", "[\"\"]");
}

Test(run_flags, interactive_opens_and_attaches_stdin_once)
{
  cleanup_json json_t *b = NULL;
  o.interactive = true;
  o.tty = true;
  b = body_ok();
  expect(b, "OpenStdin", "true");
  expect(b, "AttachStdin", "true");
  expect(b, "StdinOnce", "true");
  expect(b, "Tty", "true");
}

Test(run_flags, attach_list_selects_streams_case_insensitively)
{
  cleanup_json json_t *b = NULL;
  o.attach = sv("STDIN", "stderr", NULL);
  b = body_ok();
  expect(b, "AttachStdin", "true");
  expect(b, "AttachStdout", "false");
  expect(b, "AttachStderr", "true");
  expect(b, "StdinOnce", "false");
}

Test(run_flags, attach_rejects_other_streams)
{
  o.attach = sv("foo", NULL);
  expect_flag_error("invalid argument \"foo\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR");
}

Test(run_flags, plain_config_strings)
{
  cleanup_json json_t *b = NULL;
  o.user = "1000:1000";
  o.workdir = "/srv";
  o.hostname = "box";
  o.domainname = "example.org";
  o.stop_signal = "SIGINT";
  o.stop_timeout = 0;
  b = body_ok();
  expect(b, "User", "\"1000:1000\"");
  expect(b, "WorkingDir", "\"/srv\"");
  expect(b, "Hostname", "\"box\"");
  expect(b, "Domainname", "\"example.org\"");
  expect(b, "StopSignal", "\"SIGINT\"");
  expect(b, "StopTimeout", "0");
}

/* ---- environment and labels ---- */

static char *write_file(const char *content)
{
  char *path = strdup("/tmp/berth-run-flags-XXXXXX");
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  cr_assert_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
  close(fd);
  return path;
}

Test(run_flags, env_values_copies_and_drops)
{
  cleanup_json json_t *b = NULL;
  setenv("BERTH_TEST_SET", "from-host", 1);
  unsetenv("BERTH_TEST_UNSET");
  o.env = sv("A=1", "BERTH_TEST_SET", "BERTH_TEST_UNSET", "B=", NULL);
  b = body_ok();
  expect(b, "Env", "[\"A=1\",\"BERTH_TEST_SET=from-host\",\"B=\"]");
}

Test(run_flags, env_rejects_empty_names)
{
  o.env = sv("=x", NULL);
  expect_flag_error("invalid argument \"=x\" for \"-e, --env\" flag: invalid environment variable: =x");
}

Test(run_flags, env_file_comes_before_env_flags)
{
  cleanup_free char *path = write_file("\xef\xbb\xbf# comment\n\n  X=1\nBERTH_TEST_SET\nBERTH_TEST_UNSET\r\nY=a b\n");
  cleanup_json json_t *b = NULL;
  setenv("BERTH_TEST_SET", "v", 1);
  unsetenv("BERTH_TEST_UNSET");
  o.env_file = sv(path, NULL);
  o.env = sv("Z=2", NULL);
  b = body_ok();
  unlink(path);
  expect(b, "Env", "[\"X=1\",\"BERTH_TEST_SET=v\",\"Y=a b\",\"Z=2\"]");
}

Test(run_flags, env_file_errors_read_like_docker)
{
  cleanup_free char *ws = write_file("A B=1\n"), *noname = write_file("=1\n"), *utf = write_file("\xff=1\n");
  cleanup_free char *m1 = NULL, *m2 = NULL, *m3 = NULL, *m4 = NULL;
  bool fe;
  o.env_file = sv(ws, NULL);
  m1 = body_err(&fe);
  cli_run_opts_clear(&o);
  o.env_file = sv(noname, NULL);
  m2 = body_err(&fe);
  cli_run_opts_clear(&o);
  o.env_file = sv(utf, NULL);
  m3 = body_err(&fe);
  cli_run_opts_clear(&o);
  o.env_file = sv("/nonexistent/env", NULL);
  m4 = body_err(&fe);
  unlink(ws);
  unlink(noname);
  unlink(utf);
  cr_assert(strstr(m1, "): variable 'A B' contains whitespaces"), "%s", m1);
  cr_assert(strncmp(m1, "invalid env file (", 18) == 0, "%s", m1);
  cr_assert(strstr(m2, "): no variable name on line '=1'"), "%s", m2);
  cr_assert(strstr(m3, "): invalid utf8 bytes at line 1: [255 61 49]"), "%s", m3);
  cr_assert_str_eq(m4, "open /nonexistent/env: no such file or directory");
  cr_assert(!fe);
}

Test(run_flags, labels_from_files_and_flags)
{
  cleanup_free char *path = write_file("a=1\nb\n# c=3\n");
  cleanup_json json_t *b = NULL;
  o.label_file = sv(path, NULL);
  o.label = sv("a=2", "com.example=x=y", NULL);
  b = body_ok();
  unlink(path);
  expect(b, "Labels", "{\"a\":\"2\",\"b\":\"\",\"com.example\":\"x=y\"}");
}

Test(run_flags, label_needs_a_name)
{
  o.label = sv("", NULL);
  expect_flag_error("invalid argument \"\" for \"-l, --label\" flag: invalid label '': empty name");
}

/* ---- healthcheck ---- */

Test(run_flags, no_health_flags_send_no_healthcheck)
{
  cleanup_json json_t *b = body_ok();
  expect(b, "Healthcheck", "<missing>");
}

Test(run_flags, health_flags_build_the_healthcheck)
{
  cleanup_json json_t *b = NULL, *b2 = NULL;
  o.health_cmd = "curl -f localhost";
  o.health_interval = "1m30s";
  o.health_timeout = "500ms";
  o.health_retries = 4;
  o.health_start_period = "2s";
  o.health_start_interval = "1.5s";
  b = body_ok();
  expect(b, "Healthcheck",
         "{\"Interval\":90000000000,\"Retries\":4,\"StartInterval\":1500000000,\"StartPeriod\":2000000000,"
         "\"Test\":[\"CMD-SHELL\",\"curl -f localhost\"],\"Timeout\":500000000}");
  /* without --health-cmd the test stays the image's; zero values are left out */
  cli_run_opts_clear(&o);
  cli_run_opts_init(&o);
  o.image = "busybox";
  o.health_interval = "2s";
  b2 = body_ok();
  expect(b2, "Healthcheck", "{\"Interval\":2000000000}");
}

Test(run_flags, no_healthcheck_sets_none_and_conflicts_with_health_flags)
{
  cleanup_json json_t *b = NULL;
  o.no_healthcheck = true;
  b = body_ok();
  expect(b, "Healthcheck", "{\"Test\":[\"NONE\"]}");
  o.health_retries = 2;
  expect_error("--no-healthcheck conflicts with --health-* options");
}

Test(run_flags, health_duration_errors_read_like_docker)
{
  o.health_interval = "abc";
  expect_flag_error("invalid argument \"abc\" for \"--health-interval\" flag: time: invalid duration \"abc\"");
  o.health_interval = "-1s";
  expect_error("--health-interval cannot be negative");
  o.health_interval = NULL;
  o.health_retries = -1;
  expect_error("--health-retries cannot be negative");
  o.health_retries = 0;
  o.health_start_interval = "-5ms";
  expect_error("--health-start-interval cannot be negative");
}

/* ---- restart and --rm ---- */

Test(run_flags, restart_policies)
{
  cleanup_json json_t *b = NULL, *b2 = NULL;
  o.restart = "on-failure:3";
  b = body_ok();
  expect(b, "HostConfig.RestartPolicy", "{\"MaximumRetryCount\":3,\"Name\":\"on-failure\"}");
  o.restart = "unless-stopped";
  b2 = body_ok();
  expect(b2, "HostConfig.RestartPolicy", "{\"MaximumRetryCount\":0,\"Name\":\"unless-stopped\"}");
}

Test(run_flags, restart_format_errors)
{
  o.restart = "on-failure:x";
  expect_error("invalid restart policy format: maximum retry count must be an integer");
  o.restart = ":3";
  expect_error("invalid restart policy format: no policy provided before colon");
}

Test(run_flags, rm_conflicts_with_restart)
{
  cleanup_json json_t *b = NULL;
  o.rm = true;
  b = body_ok(); /* restart "no" */
  expect(b, "HostConfig.AutoRemove", "true");
  o.restart = "always";
  expect_error("conflicting options: cannot specify both --restart and --rm");
}

/* ---- resources ---- */

Test(run_flags, sizes_use_binary_units)
{
  cleanup_json json_t *b = NULL;
  o.memory = "512m";
  o.memory_reservation = "1g";
  o.memory_swap = "-1";
  o.shm_size = "64k";
  b = body_ok();
  expect(b, "HostConfig.Memory", "536870912");
  expect(b, "HostConfig.MemoryReservation", "1073741824");
  expect(b, "HostConfig.MemorySwap", "-1");
  expect(b, "HostConfig.ShmSize", "65536");
}

Test(run_flags, size_errors_read_like_go_units)
{
  o.memory = "abc";
  expect_flag_error("invalid argument \"abc\" for \"-m, --memory\" flag: invalid size: 'abc'");
  o.memory = "1.5x";
  expect_flag_error("invalid argument \"1.5x\" for \"-m, --memory\" flag: invalid suffix: 'x'");
  o.memory = "-1";
  expect_flag_error("invalid argument \"-1\" for \"-m, --memory\" flag: invalid size: '-1'");
  o.memory = NULL;
  o.memory_swap = "abc";
  expect_flag_error("invalid argument \"abc\" for \"--memory-swap\" flag: invalid size: 'abc'");
  o.memory_swap = NULL;
  o.shm_size = "x";
  expect_flag_error("invalid argument \"x\" for \"--shm-size\" flag: invalid size: 'x'");
}

Test(run_flags, cpus_are_nano_cpus)
{
  cleanup_json json_t *b = NULL, *b2 = NULL, *b3 = NULL;
  o.cpus = "1.5";
  b = body_ok();
  expect(b, "HostConfig.NanoCpus", "1500000000");
  o.cpus = "3/4";
  b2 = body_ok();
  expect(b2, "HostConfig.NanoCpus", "750000000");
  o.cpus = "2e-1";
  b3 = body_ok();
  expect(b3, "HostConfig.NanoCpus", "200000000");
}

Test(run_flags, cpus_errors)
{
  o.cpus = "abc";
  expect_flag_error("invalid argument \"abc\" for \"--cpus\" flag: failed to parse abc as a rational number");
  o.cpus = "3/0";
  expect_flag_error("invalid argument \"3/0\" for \"--cpus\" flag: failed to parse 3/0 as a rational number");
  o.cpus = "1.0000000001";
  expect_flag_error("invalid argument \"1.0000000001\" for \"--cpus\" flag: value is too precise");
}

Test(run_flags, integer_resources_and_cpusets)
{
  cleanup_json json_t *b = NULL;
  o.cpu_shares = 512;
  o.cpu_period = 100000;
  o.cpu_quota = 50000;
  o.cpuset_cpus = "0-1";
  o.cpuset_mems = "0";
  o.pids_limit = 64;
  o.oom_score_adj = -500;
  o.oom_kill_disable = true;
  b = body_ok();
  expect(b, "HostConfig.CpuShares", "512");
  expect(b, "HostConfig.CpuPeriod", "100000");
  expect(b, "HostConfig.CpuQuota", "50000");
  expect(b, "HostConfig.CpusetCpus", "\"0-1\"");
  expect(b, "HostConfig.CpusetMems", "\"0\"");
  expect(b, "HostConfig.PidsLimit", "64");
  expect(b, "HostConfig.OomScoreAdj", "-500");
  expect(b, "HostConfig.OomKillDisable", "true");
}

Test(run_flags, ulimits_replace_by_name)
{
  cleanup_json json_t *b = NULL;
  o.ulimit = sv("nofile=1024:2048", "nproc=10", "nofile=512", NULL);
  b = body_ok();
  expect(b, "HostConfig.Ulimits",
         "[{\"Hard\":10,\"Name\":\"nproc\",\"Soft\":10},{\"Hard\":512,\"Name\":\"nofile\",\"Soft\":512}]");
}

Test(run_flags, ulimit_errors)
{
  o.ulimit = sv("nofile", NULL);
  expect_flag_error("invalid argument \"nofile\" for \"--ulimit\" flag: invalid ulimit argument: nofile");
  cli_run_opts_clear(&o);
  o.ulimit = sv("bogus=1", NULL);
  expect_flag_error("invalid argument \"bogus=1\" for \"--ulimit\" flag: invalid ulimit type: bogus");
  cli_run_opts_clear(&o);
  o.ulimit = sv("nofile=a", NULL);
  expect_flag_error("invalid argument \"nofile=a\" for \"--ulimit\" flag: strconv.ParseInt: parsing \"a\": invalid "
                    "syntax");
  cli_run_opts_clear(&o);
  o.ulimit = sv("nofile=10:5", NULL);
  expect_flag_error("invalid argument \"nofile=10:5\" for \"--ulimit\" flag: ulimit soft limit must be less than or "
                    "equal to hard limit: 10 > 5");
  cli_run_opts_clear(&o);
  o.ulimit = sv("nofile=1:2:3", NULL);
  expect_flag_error("invalid argument \"nofile=1:2:3\" for \"--ulimit\" flag: too many limit value arguments - "
                    "1:2:3, can only have up to two, `soft[:hard]`");
}

Test(run_flags, sysctls_namespaced_only)
{
  cleanup_json json_t *b = NULL;
  o.sysctl = sv("net.ipv4.ip_forward=1", "kernel.shmmax=100", "fs.mqueue.msg_max=20", NULL);
  b = body_ok();
  expect(b, "HostConfig.Sysctls",
         "{\"fs.mqueue.msg_max\":\"20\",\"kernel.shmmax\":\"100\",\"net.ipv4.ip_forward\":\"1\"}");
  cli_run_opts_clear(&o);
  o.sysctl = sv("kernel.x=1", NULL);
  expect_flag_error("invalid argument \"kernel.x=1\" for \"--sysctl\" flag: sysctl 'kernel.x=1' is not allowed");
  cli_run_opts_clear(&o);
  o.sysctl = sv("net.core", NULL);
  expect_flag_error("invalid argument \"net.core\" for \"--sysctl\" flag: sysctl 'net.core' is not allowed");
}

/* ---- host configuration ---- */

Test(run_flags, namespaces_network_and_flags)
{
  cleanup_json json_t *b = NULL;
  o.ipc = "host";
  o.pid = "container:abc";
  o.uts = "host";
  o.network = "none";
  o.privileged = true;
  o.read_only = true;
  o.init = true;
  o.cidfile = "/tmp/cid";
  o.cap_add = sv("NET_ADMIN", NULL);
  o.cap_drop = sv("ALL", NULL);
  o.group_add = sv("audio", NULL);
  b = body_ok();
  expect(b, "HostConfig.IpcMode", "\"host\"");
  expect(b, "HostConfig.PidMode", "\"container:abc\"");
  expect(b, "HostConfig.UTSMode", "\"host\"");
  expect(b, "HostConfig.NetworkMode", "\"none\"");
  expect(b, "HostConfig.Privileged", "true");
  expect(b, "HostConfig.ReadonlyRootfs", "true");
  expect(b, "HostConfig.Init", "true");
  expect(b, "HostConfig.ContainerIDFile", "\"/tmp/cid\"");
  expect(b, "HostConfig.CapAdd", "[\"NET_ADMIN\"]");
  expect(b, "HostConfig.CapDrop", "[\"ALL\"]");
  expect(b, "HostConfig.GroupAdd", "[\"audio\"]");
}

Test(run_flags, namespace_mode_errors)
{
  o.pid = "bogus";
  expect_error("--pid: invalid PID mode");
  o.pid = NULL;
  o.uts = "bogus";
  expect_error("--uts: invalid UTS mode");
}

Test(run_flags, volumes_split_into_binds_and_anonymous)
{
  cleanup_json json_t *b = NULL;
  o.volume = sv("/srv/data:/data:ro", "/host:/ctr", "/anon", NULL);
  b = body_ok();
  expect(b, "HostConfig.Binds", "[\"/srv/data:/data:ro\",\"/host:/ctr\"]");
  expect(b, "Volumes", "{\"/anon\":{}}");
}

Test(run_flags, mount_fields_become_api_mounts)
{
  cleanup_json json_t *b = NULL;
  o.mount = sv("type=bind,src=/a,dst=/b,readonly,bind-propagation=rshared",
               "type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1777",
               "target=/v,source=vol,volume-label=a=b,volume-nocopy,volume-opt=o=size=1m,ro=false", NULL);
  o.volumes_from = sv("web:ro", NULL);
  b = body_ok();
  expect(b, "HostConfig.Mounts",
         "[{\"BindOptions\":{\"Propagation\":\"rshared\"},\"ReadOnly\":true,\"Source\":\"/a\",\"Target\":\"/b\","
         "\"Type\":\"bind\"},{\"Target\":\"/t\",\"TmpfsOptions\":{\"Mode\":1023,\"SizeBytes\":1048576},\"Type\":\"tmpfs\"},"
         "{\"ReadOnly\":false,\"Source\":\"vol\",\"Target\":\"/v\",\"Type\":\"volume\",\"VolumeOptions\":{\"DriverConfig\":"
         "{\"Options\":{\"o\":\"size=1m\"}},\"Labels\":{\"a\":\"b\"},\"NoCopy\":true}}]");
  expect(b, "HostConfig.VolumesFrom", "[\"web:ro\"]");
}

Test(run_flags, mount_errors)
{
  o.mount = sv("type=volume,src=x", NULL);
  expect_flag_error("invalid argument \"type=volume,src=x\" for \"--mount\" flag: target is required");
  o.mount = sv("dst=/x,what=1", NULL);
  expect_flag_error("invalid argument \"dst=/x,what=1\" for \"--mount\" flag: unexpected key 'what' in 'what=1'");
  o.mount = sv("dst=/x,src", NULL);
  expect_flag_error("invalid argument \"dst=/x,src\" for \"--mount\" flag: invalid field 'src' must be a key=value pair");
  o.mount = sv("type=tmpfs,dst=/x,bind-propagation=shared", NULL);
  expect_flag_error("invalid argument \"type=tmpfs,dst=/x,bind-propagation=shared\" for \"--mount\" flag: cannot mix "
                    "'bind-*' options with mount type 'tmpfs'");
  o.mount = sv("type=tmpfs,dst=/x,tmpfs-mode=99", NULL);
  expect_flag_error("invalid argument \"type=tmpfs,dst=/x,tmpfs-mode=99\" for \"--mount\" flag: invalid value for "
                    "tmpfs-mode: 99");
}

Test(run_flags, tmpfs_map)
{
  cleanup_json json_t *b = NULL;
  o.tmpfs = sv("/run:rw,size=64m", "/tmp", NULL);
  b = body_ok();
  expect(b, "HostConfig.Tmpfs", "{\"/run\":\"rw,size=64m\",\"/tmp\":\"\"}");
}

Test(run_flags, devices)
{
  cleanup_json json_t *b = NULL;
  o.device = sv("/dev/null", "/dev/zero:/dev/z", "/dev/full:r", "/dev/random:/dev/r:rw", NULL);
  b = body_ok();
  expect(b, "HostConfig.Devices",
         "[{\"CgroupPermissions\":\"rwm\",\"PathInContainer\":\"/dev/null\",\"PathOnHost\":\"/dev/null\"},"
         "{\"CgroupPermissions\":\"rwm\",\"PathInContainer\":\"/dev/z\",\"PathOnHost\":\"/dev/zero\"},"
         "{\"CgroupPermissions\":\"r\",\"PathInContainer\":\"/dev/full\",\"PathOnHost\":\"/dev/full\"},"
         "{\"CgroupPermissions\":\"rw\",\"PathInContainer\":\"/dev/r\",\"PathOnHost\":\"/dev/random\"}]");
}

Test(run_flags, device_errors)
{
  o.device = sv("/dev/null:/dev/x:xyz", NULL);
  expect_error("bad mode specified: xyz");
  cli_run_opts_clear(&o);
  o.device = sv("/dev/null:rel", NULL);
  expect_error("rel is not an absolute path");
  cli_run_opts_clear(&o);
  o.device = sv("a:b:c:d", NULL);
  expect_error("bad format for path: a:b:c:d");
}

Test(run_flags, security_opts_pass_through)
{
  cleanup_json json_t *b = NULL;
  o.security_opt = sv("no-new-privileges", "seccomp=unconfined", "label=disable", "apparmor:unconfined", NULL);
  b = body_ok();
  expect(b, "HostConfig.SecurityOpt",
         "[\"no-new-privileges\",\"seccomp=unconfined\",\"label=disable\",\"apparmor:unconfined\"]");
}

Test(run_flags, seccomp_profile_is_read_and_compacted)
{
  cleanup_free char *path = write_file("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": []\n}\n");
  cleanup_free char *opt = NULL;
  cleanup_json json_t *b = NULL;
  cr_assert(asprintf(&opt, "seccomp=%s", path) > 0);
  o.security_opt = sv(opt, NULL);
  b = body_ok();
  unlink(path);
  expect(b, "HostConfig.SecurityOpt", "[\"seccomp={\\\"defaultAction\\\":\\\"SCMP_ACT_ALLOW\\\",\\\"syscalls\\\":[]}\"]");
}

Test(run_flags, security_opt_errors)
{
  o.security_opt = sv("foo", NULL);
  expect_error("Invalid --security-opt: \"foo\"");
  cli_run_opts_clear(&o);
  o.security_opt = sv("label", NULL);
  expect_error("Invalid --security-opt: \"label\"");
  cli_run_opts_clear(&o);
  o.security_opt = sv("seccomp=/nonexistent.json", NULL);
  expect_error("opening seccomp profile (/nonexistent.json) failed: open /nonexistent.json: no such file or directory");
}

Test(run_flags, systempaths_unconfined_empties_masked_paths)
{
  cleanup_json json_t *b = NULL;
  o.security_opt = sv("systempaths=unconfined", NULL);
  b = body_ok();
  expect(b, "HostConfig.SecurityOpt", "null");
  expect(b, "HostConfig.MaskedPaths", "[]");
  expect(b, "HostConfig.ReadonlyPaths", "[]");
}

Test(run_flags, log_config)
{
  cleanup_json json_t *b = NULL;
  o.log_driver = "json-file";
  o.log_opt = sv("max-size=10m", "max-file=3", NULL);
  b = body_ok();
  expect(b, "HostConfig.LogConfig", "{\"Config\":{\"max-file\":\"3\",\"max-size\":\"10m\"},\"Type\":\"json-file\"}");
  o.log_driver = "none";
  expect_error("invalid logging opts for driver none");
}

/* ---- flag table, detach keys ---- */

static bool has_flag(const struct cli_flag *f, const char *name)
{
  for (; f->name; f++)
    if (strcmp(f->name, name) == 0)
      return true;
  return false;
}

Test(run_flags, run_has_run_only_flags_and_create_does_not)
{
  cr_assert(has_flag(cli_run_flags(&o, true), "detach"));
  cr_assert(has_flag(cli_run_flags(&o, true), "sig-proxy"));
  cr_assert(has_flag(cli_run_flags(&o, true), "detach-keys"));
  cr_assert(!has_flag(cli_run_flags(&o, false), "detach"));
  cr_assert(!has_flag(cli_run_flags(&o, false), "sig-proxy"));
  cr_assert(has_flag(cli_run_flags(&o, false), "memory"));
}

Test(run_flags, flag_table_is_sorted_like_docker_help)
{
  const struct cli_flag *f = cli_run_flags(&o, true);
  for (; f->name && f[1].name; f++)
    cr_assert(strcmp(f->name, f[1].name) < 0, "%s before %s", f->name, f[1].name);
}

Test(run_flags, detach_keys_syntax)
{
  unsigned char k[8];
  berth_error_t err = NULL;
  cr_assert_eq(cli_parse_detach_keys("ctrl-p,ctrl-q", k, 8, &err), 2);
  cr_assert(k[0] == 16 && k[1] == 17);
  cr_assert_eq(cli_parse_detach_keys("ctrl-a,x,ctrl-@,ctrl-[,ctrl-_", k, 8, &err), 5);
  cr_assert(k[0] == 1 && k[1] == 'x' && k[2] == 0 && k[3] == 27 && k[4] == 31);
  cr_assert_eq(cli_parse_detach_keys("DEL", k, 8, &err), 1);
  cr_assert_eq(k[0], 127);
  cr_assert_lt(cli_parse_detach_keys("bogus", k, 8, &err), 0);
  cr_assert_str_eq(err->msg, "Unknown character: 'bogus'");
  berth_error_release(&err);
  cr_assert_lt(cli_parse_detach_keys("ctrl-A", k, 8, &err), 0);
  berth_error_release(&err);
}

/* docker/cli opts/gpus.go: each --gpus value read as one CSV record */
Test(run_flags, gpus_as_docker_parses_them)
{
  static const struct {
    const char *value, *want;
  } cases[] = {
      {"all", "{\"Capabilities\":[[\"gpu\"]],\"Count\":-1,\"DeviceIDs\":null,\"Driver\":\"\",\"Options\":{}}"},
      {"2", "{\"Capabilities\":[[\"gpu\"]],\"Count\":2,\"DeviceIDs\":null,\"Driver\":\"\",\"Options\":{}}"},
      {"\"device=0,2\"", "{\"Capabilities\":[[\"gpu\"]],\"Count\":0,\"DeviceIDs\":[\"0\",\"2\"],\"Driver\":\"\",\"Options\":{}}"},
      {"capabilities=compute,driver=nvidia",
       "{\"Capabilities\":[[\"compute\",\"gpu\"]],\"Count\":1,\"DeviceIDs\":null,\"Driver\":\"nvidia\",\"Options\":{}}"},
      {"count=all,\"options=a=1,b\"",
       "{\"Capabilities\":[[\"gpu\"]],\"Count\":-1,\"DeviceIDs\":null,\"Driver\":\"\",\"Options\":{\"a\":\"1\",\"b\":\"\"}}"},
      /* an unquoted list: the "2" after the comma is a count */
      {"device=0,2", "{\"Capabilities\":[[\"gpu\"]],\"Count\":2,\"DeviceIDs\":[\"0\"],\"Driver\":\"\",\"Options\":{}}"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cli_run_opts_clear(&o);
    o.image = "busybox";
    o.gpus = sv(cases[i].value, NULL);
    o.device = sv("vendor.com/x=y", "/dev/null", NULL);
    cleanup_json json_t *b = body_ok();
    json_t *reqs = json_object_get(json_object_get(b, "HostConfig"), "DeviceRequests");
    cleanup_free char *got = json_dumps(json_array_get(reqs, 0), JSON_SORT_KEYS | JSON_COMPACT);
    cr_expect_str_eq(got, cases[i].want, "--gpus %s", cases[i].value);
    cleanup_free char *cdi = json_dumps(json_array_get(reqs, 1), JSON_SORT_KEYS | JSON_COMPACT);
    cr_expect_str_eq(cdi, "{\"Capabilities\":null,\"Count\":0,\"DeviceIDs\":[\"vendor.com/x=y\"],\"Driver\":\"cdi\",\"Options\":null}");
    cr_expect_eq(json_array_size(json_object_get(json_object_get(b, "HostConfig"), "Devices")), 1);
  }
}

Test(run_flags, gpus_errors)
{
  static const struct {
    const char *value, *want;
  } cases[] = {
      {"x", "count must be an integer: strconv.Atoi: parsing \"x\": invalid syntax"},
      {"all,all", "gpu request key 'all' can be specified only once"},
      {"2,count=1", "gpu request key 'count' can be specified only once"},
      {"size=1", "unexpected key 'size' in 'size=1'"},
      {"\"device=0", "parse error on line 1, column 10: extraneous or missing \" in quoted-field"},
      {"dev\"ice=0", "parse error on line 1, column 4: bare \" in non-quoted-field"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char want[256];
    cli_run_opts_clear(&o);
    o.image = "busybox";
    o.gpus = sv(cases[i].value, NULL);
    snprintf(want, sizeof want, "invalid argument \"%s\" for \"--gpus\" flag: %s", cases[i].value, cases[i].want);
    expect_flag_error(want);
  }
}
