/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `image bootstrap`: base images made from the host with no registry.
 * busybox: one layer holding the host's static busybox, every applet as a
 * hardlink, /etc/passwd and /etc/group, /tmp and friends; reproducible (every
 * timestamp is the busybox binary's mtime, so the same binary gives the same
 * image id).  debian: debootstrap --variant=minbase into a temporary directory,
 * packed with berth_tar_write and imported as one layer. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "image/bootstrap.h"
#include "image/image.h"
#include "image/import.h"
#include "image/tar.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                             "bin:x:2:2:bin:/bin:/bin/false\n"
                             "sys:x:3:3:sys:/dev:/bin/false\n"
                             "sync:x:4:100:sync:/bin:/bin/sync\n"
                             "mail:x:8:8:mail:/var/spool/mail:/bin/false\n"
                             "www-data:x:33:33:www-data:/var/www:/bin/false\n"
                             "operator:x:37:37:Operator:/var:/bin/false\n"
                             "nobody:x:65534:65534:nobody:/home:/bin/false\n";
static const char group[] = "root:x:0:\n"
                            "daemon:x:1:\n"
                            "bin:x:2:\n"
                            "sys:x:3:\n"
                            "adm:x:4:\n"
                            "tty:x:5:\n"
                            "disk:x:6:\n"
                            "wheel:x:10:root\n"
                            "mail:x:12:\n"
                            "www-data:x:33:\n"
                            "operator:x:37:\n"
                            "staff:x:50:\n"
                            "users:x:100:\n"
                            "nogroup:x:65534:\n";

/* A static executable has no PT_INTERP program header. */
static int check_static_elf(int fd, const char *path, berth_error_t *err)
{
  Elf64_Ehdr eh;
  if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64)
    return berth_error_set_plain(err, ENOEXEC, "`%s` is not a 64-bit ELF executable", path);
  for (int i = 0; i < eh.e_phnum; i++) {
    Elf64_Phdr ph;
    if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (Elf64_Off)i * eh.e_phentsize)) != (ssize_t)sizeof(ph))
      return berth_error_set_plain(err, ENOEXEC, "`%s`: truncated ELF program headers", path);
    if (ph.p_type == PT_INTERP)
      return berth_error_set_plain(err, ENOEXEC, "`%s` is dynamically linked: install busybox-static", path);
  }
  return 0;
}

static char *find_in_path(const char *name)
{
  const char *path = getenv("PATH");
  cleanup_free char *copy = strdup(path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
      abort();
    if (access(p, X_OK) == 0)
      return p;
    free(p);
  }
  return NULL;
}

/* Run `busybox --list-full` and return the applet paths. */
static char **list_applets(const char *busybox, berth_error_t *err)
{
  int pfd[2];
  pid_t pid;
  cleanup_free char *out = NULL;
  size_t n = 0, cap = 0;
  char **list;
  size_t count = 0;
  int status;
  if (pipe2(pfd, O_CLOEXEC) < 0)
    return berth_error_set(err, errno, "pipe"), NULL;
  pid = fork();
  if (pid < 0)
    return berth_error_set(err, errno, "fork"), NULL;
  if (pid == 0) {
    dup2(pfd[1], 1);
    execl(busybox, "busybox", "--list-full", (char *)NULL);
    _exit(127);
  }
  close(pfd[1]);
  for (;;) {
    ssize_t r;
    if (n + 4096 > cap && !(out = realloc(out, cap = cap * 2 + 8192)))
      abort();
    r = read(pfd[0], out + n, cap - n - 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    n += (size_t)r;
  }
  close(pfd[0]);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!out || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return berth_error_set(err, 0, "`%s --list-full` failed", busybox), NULL;
  out[n] = '\0';
  list = calloc(n / 2 + 2, sizeof(char *));
  if (!list)
    abort();
  for (char *save = NULL, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    if (berth_path_is_clean_relative(line) && strcmp(line, "bin/busybox") != 0)
      list[count++] = strdup(line);
  return list;
}

/* The busybox layer is written entry by entry with plain ustar headers
 * (lib/image/tar-write.c): deterministic, so the image id depends only on
 * the busybox binary and its applet list. */
static int add_entry(int fd, const char *name, char type, mode_t mode, int64_t size, const char *hardlink,
                     time_t mtime, berth_error_t *err)
{
  unsigned char blk[512];
  if (berth_tar_simple_header(blk, name, type, mode & 07777, size, hardlink, mtime, err) < 0)
    return -1;
  if (berth_write_all(fd, blk, sizeof blk) < 0)
    return berth_error_set(err, errno, "write tar entry `%s`", name);
  return 0;
}

static int add_data(int fd, const void *data, size_t len, berth_error_t *err)
{
  static const char zeros[512];
  if (berth_write_all(fd, data, len) < 0 || (len % 512 && berth_write_all(fd, zeros, 512 - len % 512) < 0))
    return berth_error_set(err, errno, "write tar data");
  return 0;
}

static int add_file(int fd, const char *name, mode_t mode, const void *data, size_t len, time_t mtime,
                    berth_error_t *err)
{
  if (add_entry(fd, name, '0', mode, (int64_t)len, NULL, mtime, err) < 0)
    return -1;
  return add_data(fd, data, len, err);
}

/* Every directory on the way to `path`, once. */
static int add_parents(int fd, const char *path, json_t *dirs, time_t mtime, berth_error_t *err)
{
  cleanup_free char *copy = strdup(path);
  for (char *p = strchr(copy, '/'); p; p = strchr(p + 1, '/')) {
    *p = '\0';
    if (!json_object_get(dirs, copy)) {
      json_object_set_new(dirs, copy, json_true());
      if (add_entry(fd, copy, '5', 0755, 0, NULL, mtime, err) < 0)
        return -1;
    }
    *p = '/';
  }
  return 0;
}

static int add_busybox(int fd, const char *busybox, int bb_fd, const struct stat *st, berth_error_t *err)
{
  char buf[1 << 16];
  ssize_t r;
  int64_t total = 0;
  if (add_entry(fd, "bin/busybox", '0', 0755, st->st_size, NULL, st->st_mtime, err) < 0)
    return -1;
  while (total < st->st_size && (r = TEMP_FAILURE_RETRY(read(bb_fd, buf, sizeof(buf)))) > 0) {
    if (r > st->st_size - total)
      r = (ssize_t)(st->st_size - total);
    if (berth_write_all(fd, buf, (size_t)r) < 0)
      return berth_error_set(err, errno, "write tar data `%s`", busybox);
    total += r;
  }
  if (total != st->st_size)
    return berth_error_set_plain(err, EIO, "`%s` changed while it was read", busybox);
  static const char zeros[512];
  if (total % 512 && berth_write_all(fd, zeros, (size_t)(512 - total % 512)) < 0)
    return berth_error_set(err, errno, "write tar data `%s`", busybox);
  return 0;
}

static int write_busybox_tar(int out_fd, const char *busybox, int bb_fd, const struct stat *st, char **applets,
                             berth_error_t *err)
{
  static const char zeros[1024];
  cleanup_json json_t *dirs = json_object();
  static const char *const base_dirs[] = {"bin", "dev", "etc", "home", "proc", "root", "sys", "tmp",
                                          "usr", "usr/bin", "usr/sbin", "sbin", "var", "var/spool",
                                          "var/spool/mail", "var/www", NULL};
  time_t mt = st->st_mtime;
  for (size_t i = 0; base_dirs[i]; i++) {
    mode_t m = !strcmp(base_dirs[i], "tmp") ? 01777 : !strcmp(base_dirs[i], "root") ? 0700 : 0755;
    json_object_set_new(dirs, base_dirs[i], json_true());
    if (add_entry(out_fd, base_dirs[i], '5', m, 0, NULL, mt, err) < 0)
      return -1;
  }
  if (add_busybox(out_fd, busybox, bb_fd, st, err) < 0)
    return -1;
  for (size_t i = 0; applets[i]; i++)
    if (add_parents(out_fd, applets[i], dirs, mt, err) < 0 ||
        add_entry(out_fd, applets[i], '1', 0755, 0, "bin/busybox", mt, err) < 0)
      return -1;
  if (add_file(out_fd, "etc/passwd", 0644, passwd, strlen(passwd), mt, err) < 0 ||
      add_file(out_fd, "etc/group", 0644, group, strlen(group), mt, err) < 0 ||
      add_file(out_fd, "etc/shadow", 0640, "root:*:10933:0:99999:7:::\n", 26, mt, err) < 0)
    return -1;
  if (berth_write_all(out_fd, zeros, sizeof zeros) < 0)
    return berth_error_set(err, errno, "write tar end");
  return 0;
}

static int register_one_layer(struct berth_store *s, int tar_fd, const char *reference, json_t *cc, time_t created_at,
                              const char *created_by, char **ret_id, berth_error_t *err)
{
  struct berth_layer l;
  struct berth_image_register_opts ropts = {.reference = reference};
  cleanup_json json_t *config = NULL;
  char created[64];
  if (lseek(tar_fd, 0, SEEK_SET) < 0)
    return berth_error_set(err, errno, "rewind layer");
  if (berth_layer_unpack(s, tar_fd, NULL, NULL, NULL, &l, err) < 0)
    return -1;
  berth_format_rfc3339((int64_t)created_at * 1000000000LL, created);
  config = json_pack("{s:s, s:s, s:s, s:O, s:{s:s, s:[s]}, s:[{s:s, s:s}]}", "architecture", berth_host_arch(), "os",
                     "linux", "created", created, "config", cc, "rootfs", "type", "layers", "diff_ids", l.diff_id,
                     "history", "created", created, "created_by", created_by);
  return berth_image_register(s, config, &ropts, ret_id, err);
}

int berth_bootstrap_busybox(struct berth_store *s, const char *busybox_path, const char *reference, char **ret_id,
                            berth_error_t *err)
{
  cleanup_free char *found = busybox_path ? strdup(busybox_path) : find_in_path("busybox");
  cleanup_close int bb = -1, tar_fd = -1;
  cleanup_strv char **applets = NULL;
  cleanup_json json_t *cc = NULL;
  cleanup_free char *created_by = NULL;
  struct stat st;
  if (!found)
    return berth_error_set_plain(err, ENOENT, "bootstrap busybox: no busybox in PATH: install busybox-static");
  if ((bb = open(found, O_RDONLY | O_CLOEXEC)) < 0)
    return berth_error_set(err, errno, "bootstrap busybox: open `%s`", found);
  if (fstat(bb, &st) < 0 || !S_ISREG(st.st_mode))
    return berth_error_set_plain(err, EINVAL, "bootstrap busybox: `%s` is not a regular file", found);
  if (check_static_elf(bb, found, err) < 0 || !(applets = list_applets(found, err)))
    return berth_error_prefix(err, "bootstrap busybox");
  if ((tar_fd = memfd_create("berth-bootstrap", MFD_CLOEXEC)) < 0)
    return berth_error_set(err, errno, "bootstrap busybox: memfd_create");
  if (write_busybox_tar(tar_fd, found, bb, &st, applets, err) < 0)
    return berth_error_prefix(err, "bootstrap busybox");
  cc = json_pack("{s:[s], s:[s]}", "Env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "Cmd",
                 "sh");
  if (asprintf(&created_by, "berth image bootstrap busybox (%s)", found) < 0)
    abort();
  return register_one_layer(s, tar_fd, reference, cc, st.st_mtime, created_by, ret_id, err);
}

/* The host's Debian mirror: the first "URIs:" (deb822) or "deb URI" line of
 * apt's sources that is not the security archive; comments are skipped. */
static char *host_debian_mirror(void)
{
  static const char *const files[] = {"/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list", NULL};
  for (size_t i = 0; files[i]; i++) {
    cleanup_free char *buf = NULL;
    cleanup_error berth_error_t ign = NULL;
    if (berth_read_file_at(AT_FDCWD, files[i], &buf, NULL, &ign) < 0)
      continue;
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
      char *uri = NULL;
      size_t n;
      line += strspn(line, " \t");
      if (strncmp(line, "URIs:", 5) == 0)
        uri = line + 5;
      else if (strncmp(line, "deb ", 4) == 0)
        uri = line + 4;
      if (!uri)
        continue;
      uri += strspn(uri, " \t");
      if (*uri == '[') /* deb [options] URI */
        uri = strchr(uri, ']') ? strchr(uri, ']') + 1 : uri, uri += strspn(uri, " \t");
      n = strcspn(uri, " \t");
      if ((strncmp(uri, "http://", 7) == 0 || strncmp(uri, "https://", 8) == 0) && !memmem(uri, n, "security", 8))
        return strndup(uri, n);
    }
  }
  return strdup("http://deb.debian.org/debian");
}

static int run_debootstrap(const char *suite, const char *dir, const char *mirror, berth_error_t *err)
{
  cleanup_free char *prog = find_in_path("debootstrap");
  pid_t pid;
  int status;
  if (!prog)
    return berth_error_set_plain(err, ENOENT, "debootstrap is not installed (apt-get install debootstrap)");
  pid = fork();
  if (pid < 0)
    return berth_error_set(err, errno, "fork");
  if (pid == 0) {
    int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (nul >= 0)
      dup2(nul, 1);
    execl(prog, "debootstrap", "--variant=minbase", suite, dir, mirror, (char *)NULL);
    _exit(127);
  }
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return berth_error_set(err, 0, "debootstrap %s failed (exit status %d)", suite,
                           WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}

int berth_bootstrap_debian(struct berth_store *s, const char *suite, const char *mirror, const char *reference,
                           char **ret_id, berth_error_t *err)
{
  cleanup_free char *m = mirror ? strdup(mirror) : host_debian_mirror();
  cleanup_free char *dir = NULL, *created_by = NULL;
  cleanup_close int dfd = -1, tar_fd = -1;
  cleanup_json json_t *cc = NULL;
  struct berth_tar_write_opts wopts = {0};
  struct berth_tar_write_result wres;
  int r = -1;
  if (!suite || !*suite || strspn(suite, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(suite) || suite[0] == '-')
    return berth_error_set_plain(err, EINVAL, "bootstrap debian: invalid suite `%s`", suite ? suite : "");
  if (strncmp(m, "http://", 7) != 0 && strncmp(m, "https://", 8) != 0 && strncmp(m, "file:/", 6) != 0)
    return berth_error_set_plain(err, EINVAL, "bootstrap debian: invalid mirror `%s`: an http, https or file URL",
                                 m);
  {
    /* A temp entry (".NAME.tmp-*") that the next opener removes if we die. */
    unsigned long long rnd = 0;
    if (getentropy(&rnd, sizeof(rnd)) < 0)
      rnd = (unsigned long long)random();
    if (asprintf(&dir, "%s/.bootstrap.tmp-%016llx", s->root, rnd) < 0)
      abort();
    if (mkdir(dir, 0700) < 0)
      return berth_error_set(err, errno, "bootstrap debian: create `%s`", dir);
  }
  if (run_debootstrap(suite, dir, m, err) < 0)
    goto out;
  if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
      (tar_fd = berth_tmpfile_unlinked(s->root_fd, err)) < 0) {
    if (dfd < 0)
      berth_error_set(err, errno, "open `%s`", dir);
    goto out;
  }
  /* Caches debootstrap leaves behind are not part of the image. */
  {
    cleanup_error berth_error_t ign = NULL;
    (void)berth_rm_rf_at(dfd, "var/cache/apt/archives", &ign);
    (void)berth_mkdir_p(dfd, "var/cache/apt/archives/partial", 0755, &ign);
  }
  if (berth_tar_write(dfd, tar_fd, &wopts, &wres, err) < 0)
    goto out;
  cc = json_pack("{s:[s], s:[s]}", "Env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "Cmd",
                 "bash");
  if (asprintf(&created_by, "berth image bootstrap debian %s (%s)", suite, m) < 0)
    abort();
  r = register_one_layer(s, tar_fd, reference, cc, time(NULL), created_by, ret_id, err);
out:
  {
    cleanup_error berth_error_t ign = NULL;
    (void)berth_rm_rf_at(AT_FDCWD, dir, &ign);
  }
  if (r < 0)
    berth_error_prefix(err, "bootstrap debian");
  return r;
}
