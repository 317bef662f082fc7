/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Users and groups of the container, read from its own /etc/passwd and
 * /etc/group after pivot_root: regular files only, at most 1 MiB, opened
 * without blocking (CVE-2024-9676: /etc/passwd -> /dev/zero or a FIFO).  A
 * numeric user is a uid, never a name (CVE-2016-3697). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "oci/runtime-spec.h"
#include "runtime/runtime-internal.h"

#define DB_MAX (1 << 20)

/* The file's text, or NULL when it does not exist. */
static char *read_db(struct child *c, const char *path)
{
  cleanup_close int fd = berth_open_in_root(AT_FDCWD, path, O_RDONLY | O_NONBLOCK, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return NULL;
    child_fail(c->sync_fd, errno, "open %s", path);
  }
  struct stat st;
  if (fstat(fd, &st) < 0)
    child_fail(c->sync_fd, errno, "stat %s", path);
  if (!S_ISREG(st.st_mode))
    child_fail(c->sync_fd, 0, "%s in the container is not a regular file", path);
  if (st.st_size > DB_MAX)
    child_fail(c->sync_fd, 0, "%s in the container is larger than 1 MiB", path);
  char *buf = malloc((size_t)st.st_size + 1);
  if (!buf)
    child_fail(c->sync_fd, ENOMEM, "read %s", path);
  size_t len = 0;
  for (ssize_t n; len < (size_t)st.st_size && (n = read(fd, buf + len, (size_t)st.st_size - len)) != 0; len += (size_t)n)
    if (n < 0)
      child_fail(c->sync_fd, errno, "read %s", path);
  buf[len] = '\0';
  return buf;
}

static bool parse_id(const char *s, uint32_t *ret)
{
  if (!*s || strlen(s) > 10)
    return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end || errno || v > UINT32_MAX - 1 || s[0] == '-' || s[0] == '+')
    return false;
  *ret = (uint32_t)v;
  return true;
}

/* Split one line into at most n ':'-separated fields in place. */
static size_t fields(char *line, char **f, size_t n)
{
  size_t i = 0;
  f[i++] = line;
  for (char *p = line; *p && i < n; p++)
    if (*p == ':') {
      *p = '\0';
      f[i++] = p + 1;
    }
  return i;
}

struct pw {
  char name[256];
  uint32_t uid, gid;
  char home[1024];
};

/* Find by name or (when by_uid) by uid; false when absent. */
static bool find_passwd(char *db, const char *name, bool by_uid, uint32_t uid, struct pw *ret)
{
  for (char *save = NULL, *line = db ? strtok_r(db, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
    char *f[7];
    uint32_t u, g;
    if (fields(line, f, 7) < 7 || !parse_id(f[2], &u) || !parse_id(f[3], &g))
      continue;
    if (by_uid ? u != uid : strcmp(f[0], name) != 0)
      continue;
    snprintf(ret->name, sizeof ret->name, "%s", f[0]);
    ret->uid = u;
    ret->gid = g;
    snprintf(ret->home, sizeof ret->home, "%s", f[5]);
    return true;
  }
  return false;
}

static bool member_of(char *list, const char *user)
{
  for (char *save = NULL, *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save))
    if (strcmp(m, user) == 0)
      return true;
  return false;
}

static void add_group(struct child *c, gid_t g)
{
  for (size_t i = 0; i < c->n_groups; i++)
    if (c->groups[i] == g)
      return;
  gid_t *n = realloc(c->groups, (c->n_groups + 1) * sizeof *n);
  if (!n)
    child_fail(c->sync_fd, ENOMEM, "groups");
  c->groups = n;
  c->groups[c->n_groups++] = g;
}

/* Resolve a group name or id against the group file; with `member`, instead
 * add every group listing that user. */
static bool find_group(const char *db, const char *name, const char *member, struct child *c, uint32_t *ret)
{
  if (!db)
    return false;
  cleanup_free char *copy = strdup(db);
  bool found = false;
  for (char *save = NULL, *line = copy ? strtok_r(copy, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
    char *f[4];
    uint32_t g;
    if (fields(line, f, 4) < 4 || !parse_id(f[2], &g))
      continue;
    if (member) {
      if (member_of(f[3], member))
        add_group(c, g);
    } else if (strcmp(f[0], name) == 0) {
      *ret = g;
      return true;
    }
  }
  return found;
}

static uint32_t resolve_group(struct child *c, const char *db, const char *name)
{
  uint32_t g;
  if (parse_id(name, &g))
    return g;
  if (!find_group(db, name, NULL, c, &g))
    child_fail(c->sync_fd, 0, "unable to find group %s: no matching entries in group file", name);
  return g;
}

static void resolve_user(struct child *c, char *passwd, const char *group_db, const char *user, struct pw *pw)
{
  cleanup_free char *u = strdup(user);
  if (!u)
    child_fail(c->sync_fd, ENOMEM, "user");
  char *group = strchr(u, ':');
  if (group)
    *group++ = '\0';
  uint32_t uid;
  if (*u && parse_id(u, &uid)) {
    /* a uid: only its passwd entry's gid and home are taken, if there is one */
    if (!find_passwd(passwd, NULL, true, uid, pw))
      *pw = (struct pw){.uid = uid, .gid = 0, .home = "/"};
  } else if (*u) {
    if (!find_passwd(passwd, u, false, 0, pw))
      child_fail(c->sync_fd, 0, "unable to find user %s: no matching entries in passwd file", u);
  }
  if (group && *group)
    pw->gid = resolve_group(c, group_db, group);
}

void user_resolve(struct child *c, const char *user, const char *group_add)
{
  const struct berth_spec_user *su = &c->spec->process.user;
  struct pw pw = {.uid = su->uid, .gid = su->gid, .home = "/"};
  cleanup_free char *passwd = read_db(c, "/etc/passwd");
  cleanup_free char *groups = read_db(c, "/etc/group");
  if (user && *user)
    resolve_user(c, passwd, groups, user, &pw);
  else if (passwd) {
    cleanup_free char *copy = strdup(passwd);
    struct pw found;
    if (copy && find_passwd(copy, NULL, true, pw.uid, &found)) {
      snprintf(pw.home, sizeof pw.home, "%s", found.home);
      snprintf(pw.name, sizeof pw.name, "%s", found.name);
    }
  }
  c->uid = pw.uid;
  c->gid = pw.gid;
  for (size_t i = 0; i < su->n_additional_gids; i++)
    add_group(c, su->additional_gids[i]);
  if (pw.name[0] && user && *user) /* docker adds the user's groups from /etc/group */
    find_group(groups, NULL, pw.name, c, NULL);
  cleanup_free char *extra = group_add ? strdup(group_add) : NULL;
  for (char *save = NULL, *g = extra ? strtok_r(extra, ",", &save) : NULL; g; g = strtok_r(NULL, ",", &save))
    add_group(c, resolve_group(c, groups, g));
  c->home = strdup(pw.home[0] ? pw.home : "/");
}
