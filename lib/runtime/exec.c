/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The last steps of init: environment, working directory (verified to be
 * inside the root: CVE-2024-21626), command lookup in the container's $PATH
 * with docker's messages and exit codes (127 not found, 126 not runnable),
 * and execve. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "oci/runtime-spec.h"
#include "runtime/runtime-internal.h"
#include "runtime/runtime.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *env_get(char **env, const char *key)
{
  size_t n = strlen(key);
  for (; env && *env; env++)
    if (strncmp(*env, key, n) == 0 && (*env)[n] == '=')
      return *env + n + 1;
  return NULL;
}

static void build_env(struct child *c)
{
  char **src = c->spec->process.env;
  size_t n = 0;
  while (src && src[n])
    n++;
  c->env = calloc(n + 2, sizeof(char *));
  if (!c->env)
    child_fail(c->sync_fd, ENOMEM, "environment");
  memcpy(c->env, src, n * sizeof(char *));
  if (!env_get(src, "HOME") && asprintf(&c->env[n], "HOME=%s", c->home ? c->home : "/") < 0)
    child_fail(c->sync_fd, ENOMEM, "environment");
}

static void make_cwd(struct child *c)
{
  /* docker creates a missing working directory; after pivot_root every
   * path resolves inside the container */
  const char *cwd = c->spec->process.cwd;
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", cwd) >= (int)sizeof buf)
    child_fail(c->sync_fd, ENAMETOOLONG, "working directory");
  for (char *p = buf + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      (void)mkdir(buf, 0755);
      *p = '/';
    }
  (void)mkdir(buf, 0755);
}

/* strerror as Go prints it: lower case ("permission denied"). */
static const char *go_strerror(int e)
{
  static char buf[128];
  snprintf(buf, sizeof buf, "%s", strerror(e));
  if (buf[0] >= 'A' && buf[0] <= 'Z' && buf[1] >= 'a' && buf[1] <= 'z')
    buf[0] = (char)(buf[0] - 'A' + 'a');
  return buf;
}

static void enter_cwd(struct child *c)
{
  const char *cwd = c->spec->process.cwd;
  if (chdir(cwd) < 0)
    child_fail_code(c->sync_fd, BERTH_ERR_CMD_CANNOT_INVOKE, 126, "chdir to cwd (\"%s\") set in config.json failed: %s",
                    cwd, go_strerror(errno));
  char buf[PATH_MAX];
  if (!getcwd(buf, sizeof buf) || buf[0] != '/')
    child_fail(c->sync_fd, errno ? errno : EPERM, "working directory \"%s\" is outside the container", cwd);
}

static int exec_error_code(int e, int *status)
{
  *status = (e == ENOENT || e == ENOTDIR) ? 127 : 126;
  return *status == 127 ? BERTH_ERR_CMD_NOT_FOUND : BERTH_ERR_CMD_CANNOT_INVOKE;
}

/* Check a candidate like Go's exec.LookPath: a regular, executable file. */
static int check_exec(const char *path)
{
  struct stat st;
  if (stat(path, &st) < 0)
    return errno;
  if (S_ISDIR(st.st_mode))
    return EISDIR;
  if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0)
    return EACCES;
  return 0;
}

static void lookup(struct child *c)
{
  const char *cmd = c->spec->process.args[0];
  int status, e;
  if (strchr(cmd, '/')) {
    if ((e = check_exec(cmd)) != 0) {
      int code = exec_error_code(e, &status);
      if (e == ENOENT)
        child_fail_code(c->sync_fd, code, status, "exec: \"%s\": stat %s: no such file or directory", cmd, cmd);
      child_fail_code(c->sync_fd, code, status, "exec: \"%s\": %s", cmd, go_strerror(e));
    }
    c->exec_path = strdup(cmd);
    return;
  }
  const char *path = env_get(c->env, "PATH");
  cleanup_free char *dirs = strdup(path ? path : DEFAULT_PATH);
  int first = 0;
  for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    char cand[PATH_MAX];
    snprintf(cand, sizeof cand, "%s/%s", *d ? d : ".", cmd);
    if ((e = check_exec(cand)) == 0) {
      c->exec_path = strdup(cand);
      return;
    }
    if (!first && e != ENOENT && e != ENOTDIR)
      first = e;
  }
  if (first == EACCES)
    child_fail_code(c->sync_fd, BERTH_ERR_CMD_CANNOT_INVOKE, 126, "exec: \"%s\": permission denied", cmd);
  child_fail_code(c->sync_fd, BERTH_ERR_CMD_NOT_FOUND, 127, "exec: \"%s\": executable file not found in $PATH", cmd);
}

void exec_prepare(struct child *c)
{
  const struct berth_spec_process *p = &c->spec->process;
  umask(p->user.has_umask ? p->user.umask : 022);
  build_env(c);
  enter_cwd(c);
  lookup(c);
  if (!c->exec_path)
    child_fail(c->sync_fd, ENOMEM, "command path");
}

void exec_command(struct child *c)
{
  if (prctl(PR_SET_PDEATHSIG, 0) < 0)
    child_fail(c->sync_fd, errno, "clear the parent death signal");
  execve(c->exec_path, c->spec->process.args, c->env);
  int e = errno, status;
  int code = exec_error_code(e, &status);
  if (e == ENOEXEC)
    child_fail_code(c->sync_fd, code, status, "exec %s: exec format error", c->exec_path);
  child_fail_code(c->sync_fd, code, status, "exec %s: %s", c->exec_path, go_strerror(e));
}

void exec_make_cwd(struct child *c)
{
  make_cwd(c);
}
