/* SPDX-License-Identifier: GPL-2.0-or-later */
/* save and load (lib/image/archive.h): round trips in both formats, the
 * layouts other tools expect, interoperability with skopeo (when installed),
 * and hostile archives (security.md 1.C, CVE-2014-9358), each of which must
 * fail with a clear error and leave the store exactly as it was. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>

#include "base/cleanup.h"
#include "base/digest.h"
#include "base/json.h"
#include "image/archive.h"
#include "image/image.h"
#include "image/import.h"
#include "image/tar.h"
#include "store/store.h"

#define HEX63 "abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabc"

static char *g_dir;
static struct berth_store *g_s;  /* where images are made and saved from */
static struct berth_store *g_s2; /* where they are loaded */

/* ---- fixture ---- */

static struct berth_store *store_at(const char *name)
{
  cleanup_free char *root = NULL;
  cleanup_free char *run = NULL;
  struct berth_store *s = NULL;
  berth_error_t err = NULL;
  cr_assert(asprintf(&root, "%s/%s/root", g_dir, name) > 0 && asprintf(&run, "%s/%s/run", g_dir, name) > 0);
  cr_assert_eq(berth_store_open(root, run, &s, &err), 0, "%s", err ? err->msg : "");
  return s;
}

static void setup(void)
{
  g_dir = strdup("/var/tmp/berth-test-archive-XXXXXX");
  cr_assert_not_null(mkdtemp(g_dir));
  g_s = store_at("a");
  g_s2 = store_at("b");
}

static void teardown(void)
{
  cleanup_free char *cmd = NULL;
  berth_store_free(g_s);
  berth_store_free(g_s2);
  if (g_dir && asprintf(&cmd, "rm -rf '%s'", g_dir) > 0)
    (void)!system(cmd);
  free(g_dir);
}

TestSuite(archive, .init = setup, .fini = teardown, .timeout = 120);

static char *path_in(const char *name)
{
  char *p = NULL;
  cr_assert(asprintf(&p, "%s/%s", g_dir, name) > 0);
  return p;
}

static char *read_all_fd(int fd, size_t *ret_len)
{
  struct stat st;
  char *buf;
  cr_assert_eq(fstat(fd, &st), 0);
  buf = malloc((size_t)st.st_size + 1);
  cr_assert_eq(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
  buf[st.st_size] = '\0';
  *ret_len = (size_t)st.st_size;
  return buf;
}

static void digest_fd(int fd, char out[BERTH_DIGEST_STR_LEN])
{
  size_t len;
  cleanup_free char *buf = read_all_fd(fd, &len);
  berth_sha256_buf(buf, len, out);
}

/* ---- building tars with libarchive (an independent writer) ---- */

enum filter { PLAIN, GZIP, ZSTD };

struct tarb {
  struct archive *a;
  int fd;
};

static struct tarb tarb_new(enum filter f)
{
  struct tarb t = {.a = archive_write_new(), .fd = memfd_create("tar", MFD_CLOEXEC)};
  cr_assert(t.fd >= 0);
  archive_write_set_format_pax_restricted(t.a);
  if (f == GZIP)
    archive_write_add_filter_gzip(t.a);
  else if (f == ZSTD)
    archive_write_add_filter_zstd(t.a);
  archive_write_set_bytes_in_last_block(t.a, 1);
  cr_assert_eq(archive_write_open_fd(t.a, t.fd), ARCHIVE_OK);
  return t;
}

static void tarb_entry(struct tarb *t, const char *name, int type, const char *link, const void *data, size_t len)
{
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, (unsigned)type);
  archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
  archive_entry_set_uid(e, getuid());
  archive_entry_set_gid(e, getgid());
  archive_entry_set_mtime(e, 1700000000, 0);
  if (type == AE_IFLNK)
    archive_entry_set_symlink(e, link);
  if (type == AE_IFREG)
    archive_entry_set_size(e, (la_int64_t)len);
  if (link && type == AE_IFREG) {
    archive_entry_set_hardlink(e, link);
    archive_entry_set_size(e, 0);
  }
  cr_assert_eq(archive_write_header(t->a, e), ARCHIVE_OK, "%s", archive_error_string(t->a));
  if (type == AE_IFREG && len && !link)
    cr_assert_eq(archive_write_data(t->a, data, len), (la_ssize_t)len);
  archive_entry_free(e);
}

static void tarb_file(struct tarb *t, const char *name, const char *data)
{
  tarb_entry(t, name, AE_IFREG, NULL, data, strlen(data));
}

static void tarb_fd(struct tarb *t, const char *name, int fd)
{
  size_t len;
  cleanup_free char *buf = read_all_fd(fd, &len);
  tarb_entry(t, name, AE_IFREG, NULL, buf, len);
}

/* Finish; returns the fd rewound. */
static int tarb_done(struct tarb *t)
{
  cr_assert_eq(archive_write_close(t->a), ARCHIVE_OK);
  archive_write_free(t->a);
  cr_assert_eq(lseek(t->fd, 0, SEEK_SET), 0);
  return t->fd;
}

/* A layer tar with a couple of files; `seed` varies the content. */
static int layer_tar(int seed, enum filter f)
{
  struct tarb t = tarb_new(f);
  char name[64], data[256];
  cleanup_free char *big = malloc(300000);
  for (size_t i = 0; i < 300000; i++)
    big[i] = (char)('a' + (i * 7 + (size_t)seed) % 26);
  snprintf(name, sizeof(name), "dir%d/", seed);
  tarb_entry(&t, name, AE_IFDIR, NULL, NULL, 0);
  snprintf(name, sizeof(name), "dir%d/hello", seed);
  snprintf(data, sizeof(data), "hello from layer %d\n", seed);
  tarb_file(&t, name, data);
  snprintf(name, sizeof(name), "dir%d/big", seed);
  tarb_entry(&t, name, AE_IFREG, NULL, big, 300000);
  return tarb_done(&t);
}

/* The uncompressed digest of a layer built by layer_tar(seed, ...). */
static void layer_diff_id(int seed, char out[BERTH_DIGEST_STR_LEN])
{
  cleanup_close int fd = layer_tar(seed, PLAIN);
  digest_fd(fd, out);
}

static char *config_json(char **diff_ids, size_t n)
{
  cleanup_json json_t *ids = json_array();
  cleanup_json json_t *c = NULL;
  for (size_t i = 0; i < n; i++)
    json_array_append_new(ids, json_string(diff_ids[i]));
  c = json_pack("{s:s, s:s, s:s, s:{s:[s]}, s:{s:s, s:O}}", "architecture", berth_host_arch(), "os", "linux", "created",
                "2024-01-02T03:04:05Z", "config", "Cmd", "sh", "rootfs", "type", "layers", "diff_ids", ids);
  return json_dumps(c, JSON_COMPACT);
}

/* An image in `s` with one layer per seed (stored compressed as given). */
static char *make_image(struct berth_store *s, const int *seeds, const enum filter *filters, size_t n, const char *ref)
{
  char *diff_ids[8];
  char parent[BERTH_DIGEST_STR_LEN] = "";
  struct berth_image_register_opts opts = {.reference = ref};
  cleanup_free char *config = NULL;
  char *id = NULL;
  berth_error_t err = NULL;
  cr_assert(n <= 8);
  for (size_t i = 0; i < n; i++) {
    struct berth_layer l;
    cleanup_close int fd = layer_tar(seeds[i], filters ? filters[i] : PLAIN);
    cr_assert_eq(berth_layer_unpack(s, fd, parent[0] ? parent : NULL, NULL, NULL, &l, &err), 0, "%s",
                 err ? err->msg : "");
    diff_ids[i] = strdup(l.diff_id);
    memcpy(parent, l.chain_id, sizeof(parent));
  }
  config = config_json(diff_ids, n);
  cr_assert_eq(berth_image_register_raw(s, config, strlen(config), &opts, &id, &err), 0, "%s", err ? err->msg : "");
  for (size_t i = 0; i < n; i++)
    free(diff_ids[i]);
  return id;
}

static char *make_busybox(struct berth_store *s)
{
  static const int seeds[] = {1, 2};
  static const enum filter filters[] = {GZIP, PLAIN};
  return make_image(s, seeds, filters, 2, "docker.io/library/busybox:latest");
}

/* ---- save / load wrappers ---- */

static char *save_to(const char *file, const char *id, char **refs, enum berth_archive_format fmt)
{
  char *path = path_in(file);
  cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  struct berth_save_item item = {.id = id, .refs = refs};
  berth_error_t err = NULL;
  cr_assert(fd >= 0);
  cr_assert_eq(berth_archive_save(g_s, &item, 1, fmt, fd, &err), 0, "%s", err ? err->msg : "");
  return path;
}

static json_t *load_path(struct berth_store *s, const char *path, berth_error_t *err)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  cr_assert(fd >= 0, "open %s", path);
  return berth_archive_load(s, fd, err);
}

static json_t *load_ok(struct berth_store *s, const char *path)
{
  berth_error_t err = NULL;
  json_t *lines = load_path(s, path, &err);
  cr_assert_not_null(lines, "load %s: %s", path, err ? err->msg : "");
  return lines;
}

static void expect_lines(const json_t *lines, const char *first, const char *second)
{
  cr_assert_eq(json_array_size(lines), second ? 2u : 1u, "lines: %s", json_dumps(lines, 0));
  cr_expect_str_eq(json_string_value(json_array_get(lines, 0)), first);
  if (second)
    cr_expect_str_eq(json_string_value(json_array_get(lines, 1)), second);
}

static const char *lookup(struct berth_store *s, json_t **table, const char *ref)
{
  berth_error_t err = NULL;
  *table = berth_images_load(s, &err);
  cr_assert_not_null(*table);
  return berth_images_lookup(*table, ref, ref, &err);
}

static void expect_image(struct berth_store *s, const char *ref, const char *id)
{
  cleanup_json json_t *table = NULL;
  const char *got = lookup(s, &table, ref);
  cr_assert_not_null(got, "%s not found", ref);
  cr_expect_str_eq(got, id);
}

/* Everything under the store root: type, mode, path, and file contents. */
static char *snapshot(struct berth_store *s)
{
  cleanup_free char *cmd = NULL;
  char *out = NULL;
  size_t cap = 0, len = 0;
  FILE *p;
  cr_assert(asprintf(&cmd,
                     "cd '%s' && find . -printf '%%y %%m %%p\\n' | LC_ALL=C sort && "
                     "find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum",
                     s->root) > 0);
  p = popen(cmd, "r");
  cr_assert_not_null(p);
  for (;;) {
    if (len + 4096 > cap) {
      cap = cap ? cap * 2 : 65536;
      out = realloc(out, cap);
    }
    size_t n = fread(out + len, 1, cap - len - 1, p);
    if (n == 0)
      break;
    len += n;
  }
  out[len] = '\0';
  cr_assert_eq(pclose(p), 0);
  return out;
}

/* Load must fail with `code` and a message containing `needle`, changing nothing. */
static void expect_load_fails(int fd, int code, const char *needle)
{
  cleanup_free char *before = snapshot(g_s2);
  cleanup_free char *after = NULL;
  berth_error_t err = NULL;
  json_t *lines = berth_archive_load(g_s2, fd, &err);
  cr_assert_null(lines, "load must fail (expected `%s`)", needle);
  cr_assert_not_null(err);
  cr_expect(strstr(err->msg, needle) != NULL, "error `%s` lacks `%s`", err->msg, needle);
  if (code)
    cr_expect_eq(err->code, code, "error `%s`: code %d, expected %d", err->msg, err->code, code);
  after = snapshot(g_s2);
  cr_expect_str_eq(after, before, "the store changed");
  berth_error_release(&err);
}

/* ---- round trips ---- */

Test(archive, docker_round_trip_keeps_the_image_id)
{
  cleanup_free char *id = make_busybox(g_s);
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  cleanup_free char *path = save_to("a.tar", id, refs, BERTH_ARCHIVE_DOCKER);
  cleanup_json json_t *lines = load_ok(g_s2, path);
  cleanup_json json_t *config = NULL;
  berth_error_t err = NULL;
  expect_lines(lines, "Loaded image: busybox:latest", NULL);
  expect_image(g_s2, "docker.io/library/busybox:latest", id);
  config = berth_image_config(g_s2, id, &err);
  cr_assert_not_null(config);
  /* every layer is there, unpacked */
  cleanup_strv char **chains = berth_image_chain_ids(config);
  for (size_t i = 0; chains[i]; i++) {
    cleanup_close int dfd = berth_layer_open_diff(g_s2, chains[i], &err);
    char name[32];
    cr_assert(dfd >= 0, "layer %zu", i);
    snprintf(name, sizeof(name), "dir%zu/hello", i + 1);
    cr_expect_eq(faccessat(dfd, name, F_OK, 0), 0, "%s", name);
  }
}

Test(archive, oci_round_trip_keeps_the_image_and_manifest)
{
  cleanup_free char *id = make_busybox(g_s);
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  cleanup_free char *path = save_to("a.tar", id, refs, BERTH_ARCHIVE_OCI);
  cleanup_json json_t *lines = load_ok(g_s2, path);
  cleanup_json json_t *t1 = NULL;
  cleanup_json json_t *t2 = NULL;
  expect_lines(lines, "Loaded image: busybox:latest", NULL);
  expect_image(g_s2, "docker.io/library/busybox:latest", id);
  lookup(g_s, &t1, id);
  lookup(g_s2, &t2, id);
  /* the stored OCI manifest travels unchanged: same digest on both sides */
  cr_expect_str_eq(berth_json_str(json_object_get(json_object_get(t2, "images"), id), "manifest"),
                   berth_json_str(json_object_get(json_object_get(t1, "images"), id), "manifest"));
}

/* A snapshot without the image table's line (it records load times). */
static char *snapshot_but_table(struct berth_store *s)
{
  char *snap = snapshot(s), *line = snap, *out = snap;
  while (*line) {
    char *nl = strchrnul(line, '\n');
    size_t n = (size_t)(nl - line) + (*nl ? 1 : 0);
    if (!memmem(line, (size_t)(nl - line), "images.json", 11)) {
      memmove(out, line, n);
      out += n;
    }
    line += n;
  }
  *out = '\0';
  return snap;
}

Test(archive, round_trip_twice_changes_nothing)
{
  cleanup_free char *id = make_busybox(g_s);
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  cleanup_free char *path = save_to("a.tar", id, refs, BERTH_ARCHIVE_DOCKER);
  cleanup_json json_t *l1 = load_ok(g_s2, path);
  cleanup_free char *before = snapshot_but_table(g_s2);
  cleanup_json json_t *l2 = load_ok(g_s2, path);
  cleanup_free char *after = snapshot_but_table(g_s2);
  expect_lines(l1, "Loaded image: busybox:latest", NULL);
  cr_expect_str_eq(after, before, "a second load adds nothing but load times");
  expect_lines(l2, "Loaded image: busybox:latest", NULL);
}

Test(archive, untagged_image_loads_by_id)
{
  cleanup_free char *id = make_busybox(g_s);
  cleanup_free char *path = save_to("a.tar", id, NULL, BERTH_ARCHIVE_DOCKER);
  cleanup_json json_t *lines = load_ok(g_s2, path);
  char line[128];
  snprintf(line, sizeof(line), "Loaded image ID: %s", id);
  expect_lines(lines, line, NULL);
  expect_image(g_s2, id, id);
}

Test(archive, untagged_oci_image_loads_by_id)
{
  cleanup_free char *id = make_busybox(g_s);
  cleanup_free char *path = save_to("a.tar", id, NULL, BERTH_ARCHIVE_OCI);
  cleanup_json json_t *lines = load_ok(g_s2, path);
  char line[128];
  snprintf(line, sizeof(line), "Loaded image ID: %s", id);
  expect_lines(lines, line, NULL);
}

Test(archive, several_images_share_layers_once)
{
  static const int s1[] = {1, 2}, s2[] = {1, 3};
  cleanup_free char *a = make_image(g_s, s1, NULL, 2, "docker.io/library/a:1");
  cleanup_free char *b = make_image(g_s, s2, NULL, 2, "docker.io/library/b:2");
  char *ra[] = {"docker.io/library/a:1", "docker.io/library/a:latest", NULL};
  char *rb[] = {"docker.io/library/b:2", NULL};
  struct berth_save_item items[] = {{a, ra}, {b, rb}, {a, NULL}};
  cleanup_free char *path = path_in("two.tar");
  cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  berth_error_t err = NULL;
  cleanup_json json_t *lines = NULL;
  struct archive *ar = archive_read_new();
  struct archive_entry *e;
  int base_layers = 0;
  char base[BERTH_DIGEST_STR_LEN];
  cr_assert_eq(berth_archive_save(g_s, items, 3, BERTH_ARCHIVE_DOCKER, fd, &err), 0, "%s", err ? err->msg : "");
  layer_diff_id(1, base);
  archive_read_support_format_tar(ar);
  cr_assert_eq(archive_read_open_filename(ar, path, 65536), ARCHIVE_OK);
  while (archive_read_next_header(ar, &e) == ARCHIVE_OK)
    base_layers += strcmp(archive_entry_pathname(e) + strlen("blobs/sha256/"), base + 7) == 0 &&
                   strncmp(archive_entry_pathname(e), "blobs/sha256/", 13) == 0;
  archive_read_free(ar);
  cr_expect_eq(base_layers, 1, "the shared base layer is written once");
  lines = load_ok(g_s2, path);
  cr_assert_eq(json_array_size(lines), 3);
  cr_expect_str_eq(json_string_value(json_array_get(lines, 0)), "Loaded image: a:1");
  cr_expect_str_eq(json_string_value(json_array_get(lines, 1)), "Loaded image: a:latest");
  cr_expect_str_eq(json_string_value(json_array_get(lines, 2)), "Loaded image: b:2");
  expect_image(g_s2, "docker.io/library/a:latest", a);
  expect_image(g_s2, "docker.io/library/b:2", b);
}

Test(archive, save_is_deterministic)
{
  cleanup_free char *id = make_busybox(g_s);
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  for (int f = 0; f < 2; f++) {
    cleanup_free char *p1 = save_to("1.tar", id, refs, f);
    cleanup_free char *p2 = save_to("2.tar", id, refs, f);
    cleanup_close int fd1 = open(p1, O_RDONLY | O_CLOEXEC);
    cleanup_close int fd2 = open(p2, O_RDONLY | O_CLOEXEC);
    char d1[BERTH_DIGEST_STR_LEN], d2[BERTH_DIGEST_STR_LEN];
    digest_fd(fd1, d1);
    digest_fd(fd2, d2);
    cr_expect_str_eq(d1, d2, "format %d", f);
  }
}

/* A layer whose stored tar is gone is written afresh from its unpacked
 * content, which gives its diff id back when berth wrote the tar itself. */
Test(archive, layers_without_a_stored_tar_are_rebuilt)
{
  cleanup_free char *tree = path_in("tree");
  cleanup_free char *file = path_in("tree/etc/motd");
  cleanup_close int dfd = -1;
  cleanup_close int tar = memfd_create("layer", MFD_CLOEXEC);
  struct berth_tar_write_opts wo = {.compression = BERTH_COMPRESSION_GZIP};
  struct berth_tar_write_result wr;
  struct berth_layer l;
  struct berth_image_register_opts ro = {.reference = "docker.io/library/rebuilt:1"};
  char *ids[1];
  cleanup_free char *config = NULL;
  cleanup_free char *id = NULL;
  char *refs[] = {"docker.io/library/rebuilt:1", NULL};
  berth_error_t err = NULL;
  FILE *f;
  cr_assert_eq(mkdir(tree, 0755), 0);
  {
    cleanup_free char *etc = path_in("tree/etc");
    cr_assert_eq(mkdir(etc, 0755), 0);
  }
  f = fopen(file, "w");
  cr_assert_not_null(f);
  fputs("welcome\n", f);
  fclose(f);
  dfd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_eq(berth_tar_write(dfd, tar, &wo, &wr, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq(lseek(tar, 0, SEEK_SET), 0);
  cr_assert_eq(berth_layer_unpack(g_s, tar, NULL, NULL, NULL, &l, &err), 0, "%s", err ? err->msg : "");
  ids[0] = l.diff_id;
  config = config_json(ids, 1);
  cr_assert_eq(berth_image_register_raw(g_s, config, strlen(config), &ro, &id, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq(berth_blob_remove(g_s, l.blob, &err), 0);
  for (int fmt = 0; fmt < 2; fmt++) {
    cleanup_free char *path = save_to(fmt ? "o.tar" : "d.tar", id, refs, fmt);
    struct berth_store *s3 = store_at(fmt ? "o" : "d");
    cleanup_json json_t *lines = load_ok(s3, path);
    expect_lines(lines, "Loaded image: rebuilt:1", NULL);
    expect_image(s3, "docker.io/library/rebuilt:1", id);
    berth_store_free(s3);
  }
}

Test(archive, save_refuses_a_layer_it_cannot_rebuild)
{
  cleanup_free char *id = make_busybox(g_s);
  struct berth_layer l;
  char d1[BERTH_DIGEST_STR_LEN];
  berth_error_t err = NULL;
  struct berth_save_item item = {.id = id};
  cleanup_close int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  layer_diff_id(1, d1);
  cr_assert_eq(berth_layer_get(g_s, d1, &l, &err), 0);
  cr_assert_eq(berth_blob_remove(g_s, l.blob, &err), 0);
  /* libarchive wrote that tar, not berth: the rebuilt tar differs */
  cr_assert_lt(berth_archive_save(g_s, &item, 1, BERTH_ARCHIVE_DOCKER, fd, &err), 0);
  cr_expect(strstr(err->msg, "has no stored tar") != NULL, "%s", err->msg);
  berth_error_release(&err);
}

Test(archive, save_refuses_unknown_images)
{
  struct berth_save_item item = {.id = "sha256:" HEX63 "d"};
  struct berth_save_item bad = {.id = "sha256:" HEX63};
  berth_error_t err = NULL;
  cleanup_close int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  cr_assert_lt(berth_archive_save(g_s, &item, 1, BERTH_ARCHIVE_DOCKER, fd, &err), 0);
  cr_expect_eq(err->code, ENOENT, "%s", err->msg);
  berth_error_release(&err);
  cr_assert_lt(berth_archive_save(g_s, &bad, 1, BERTH_ARCHIVE_DOCKER, fd, &err), 0);
  cr_expect_eq(err->code, EINVAL, "%s", err->msg);
  berth_error_release(&err);
}

/* ---- the layout other tools read ---- */

struct listing {
  json_t *files; /* name -> sha256 of content */
  json_t *order; /* names in archive order */
};

static struct listing list_archive(const char *path)
{
  struct listing l = {json_object(), json_array()};
  struct archive *ar = archive_read_new();
  struct archive_entry *e;
  archive_read_support_format_tar(ar);
  archive_read_support_filter_all(ar);
  cr_assert_eq(archive_read_open_filename(ar, path, 65536), ARCHIVE_OK);
  while (archive_read_next_header(ar, &e) == ARCHIVE_OK) {
    struct berth_sha256 *h = berth_sha256_new();
    char d[BERTH_DIGEST_STR_LEN], buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(ar, buf, sizeof(buf))) > 0)
      berth_sha256_update(h, buf, (size_t)n);
    berth_sha256_final(h, d);
    json_object_set_new(l.files, archive_entry_pathname(e), json_string(d));
    json_array_append_new(l.order, json_string(archive_entry_pathname(e)));
  }
  archive_read_free(ar);
  return l;
}

static json_t *archive_json(const char *path, const char *member)
{
  struct archive *ar = archive_read_new();
  struct archive_entry *e;
  json_t *j = NULL;
  archive_read_support_format_tar(ar);
  cr_assert_eq(archive_read_open_filename(ar, path, 65536), ARCHIVE_OK);
  while (!j && archive_read_next_header(ar, &e) == ARCHIVE_OK) {
    if (strcmp(archive_entry_pathname(e), member) != 0)
      continue;
    size_t len = (size_t)archive_entry_size(e);
    cleanup_free char *buf = malloc(len + 1);
    cr_assert_eq(archive_read_data(ar, buf, len), (la_ssize_t)len);
    j = json_loadb(buf, len, 0, NULL);
  }
  archive_read_free(ar);
  cr_assert_not_null(j, "%s: no JSON member %s", path, member);
  return j;
}

Test(archive, docker_layout_is_docker_25s)
{
  cleanup_free char *id = make_busybox(g_s);
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  cleanup_free char *path = save_to("a.tar", id, refs, BERTH_ARCHIVE_DOCKER);
  struct listing l = list_archive(path);
  cleanup_json json_t *m = archive_json(path, "manifest.json");
  cleanup_json json_t *idx = archive_json(path, "index.json");
  cleanup_json json_t *repos = archive_json(path, "repositories");
  cleanup_json json_t *layout = archive_json(path, "oci-layout");
  json_t *item = json_array_get(m, 0), *layers = json_object_get(item, "Layers");
  char want[128], d1[BERTH_DIGEST_STR_LEN], d2[BERTH_DIGEST_STR_LEN];
  layer_diff_id(1, d1);
  layer_diff_id(2, d2);
  cr_assert_eq(json_array_size(m), 1);
  snprintf(want, sizeof(want), "blobs/sha256/%s", id + 7);
  cr_expect_str_eq(berth_json_str(item, "Config"), want);
  cr_expect_str_eq(json_string_value(json_array_get(json_object_get(item, "RepoTags"), 0)), "busybox:latest");
  cr_assert_eq(json_array_size(layers), 2);
  /* layers are uncompressed tars named by (and hashing to) their diff ids */
  snprintf(want, sizeof(want), "blobs/sha256/%s", d1 + 7);
  cr_expect_str_eq(json_string_value(json_array_get(layers, 0)), want);
  cr_expect_str_eq(berth_json_str(l.files, want), d1, "layer 1 (stored gzip) is decompressed");
  snprintf(want, sizeof(want), "blobs/sha256/%s", d2 + 7);
  cr_expect_str_eq(json_string_value(json_array_get(layers, 1)), want);
  cr_expect_str_eq(berth_json_str(l.files, want), d2);
  snprintf(want, sizeof(want), "blobs/sha256/%s", id + 7);
  cr_expect_str_eq(berth_json_str(l.files, want), id, "config blob");
  cr_expect_str_eq(berth_json_str(json_object_get(repos, "busybox"), "latest"), d2 + 7);
  cr_expect_str_eq(berth_json_str(layout, "imageLayoutVersion"), "1.0.0");
  /* the OCI side: one manifest named like docker names it */
  {
    json_t *d = json_array_get(json_object_get(idx, "manifests"), 0);
    json_t *ann = json_object_get(d, "annotations");
    cr_expect_str_eq(berth_json_str(idx, "mediaType"), "application/vnd.oci.image.index.v1+json");
    cr_expect_str_eq(berth_json_str(ann, "org.opencontainers.image.ref.name"), "latest");
    cr_expect_str_eq(berth_json_str(ann, "io.containerd.image.name"), "docker.io/library/busybox:latest");
    snprintf(want, sizeof(want), "blobs/sha256/%s", berth_json_str(d, "digest") + 7);
    cr_expect_str_eq(berth_json_str(l.files, want), berth_json_str(d, "digest"));
  }
  /* blobs first, documents last (docker's lexical order) */
  cr_expect_str_eq(json_string_value(json_array_get(l.order, 0)), "blobs/");
  cr_expect_str_eq(json_string_value(json_array_get(l.order, json_array_size(l.order) - 1)), "repositories");
  json_decref(l.files);
  json_decref(l.order);
}

Test(archive, oci_layout_keeps_compressed_layers)
{
  cleanup_free char *id = make_busybox(g_s);
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  cleanup_free char *path = save_to("a.tar", id, refs, BERTH_ARCHIVE_OCI);
  struct listing l = list_archive(path);
  cleanup_json json_t *idx = archive_json(path, "index.json");
  json_t *d = json_array_get(json_object_get(idx, "manifests"), 0);
  char member[128];
  cleanup_json json_t *m = NULL;
  snprintf(member, sizeof(member), "blobs/sha256/%s", berth_json_str(d, "digest") + 7);
  m = archive_json(path, member);
  cr_expect_null(json_object_get(l.files, "manifest.json"));
  cr_expect_str_eq(berth_json_str(json_object_get(d, "annotations"), "org.opencontainers.image.ref.name"), "latest");
  cr_expect_str_eq(berth_json_str(json_object_get(m, "config"), "digest"), id);
  cr_expect_str_eq(berth_json_str(json_array_get(json_object_get(m, "layers"), 0), "mediaType"),
                   "application/vnd.oci.image.layer.v1.tar+gzip");
  cr_expect_str_eq(berth_json_str(json_array_get(json_object_get(m, "layers"), 1), "mediaType"),
                   "application/vnd.oci.image.layer.v1.tar");
  for (size_t i = 0; i < 2; i++) {
    const char *dg = berth_json_str(json_array_get(json_object_get(m, "layers"), i), "digest");
    snprintf(member, sizeof(member), "blobs/sha256/%s", dg + 7);
    cr_expect_str_eq(berth_json_str(l.files, member), dg, "layer %zu as stored", i);
  }
  json_decref(l.files);
  json_decref(l.order);
}

/* ---- loading the variants other tools write ---- */

static void compress_file(const char *in, const char *out, const char *tool)
{
  cleanup_free char *cmd = NULL;
  cr_assert(asprintf(&cmd, "%s -c '%s' > '%s'", tool, in, out) > 0);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(archive, loads_gzip_and_zstd_compressed_archives)
{
  cleanup_free char *id = make_busybox(g_s);
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  cleanup_free char *path = save_to("a.tar", id, refs, BERTH_ARCHIVE_DOCKER);
  cleanup_free char *gz = path_in("a.tar.gz");
  cleanup_free char *zst = path_in("a.tar.zst");
  compress_file(path, gz, "gzip");
  compress_file(path, zst, "zstd -q");
  {
    cleanup_json json_t *lines = load_ok(g_s2, gz);
    expect_lines(lines, "Loaded image: busybox:latest", NULL);
  }
  {
    struct berth_store *s3 = store_at("c");
    cleanup_json json_t *lines = load_ok(s3, zst);
    expect_lines(lines, "Loaded image: busybox:latest", NULL);
    expect_image(s3, "docker.io/library/busybox:latest", id);
    berth_store_free(s3);
  }
}

Test(archive, loads_from_a_pipe)
{
  cleanup_free char *id = make_busybox(g_s);
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  int p[2];
  pid_t pid;
  berth_error_t err = NULL;
  json_t *lines;
  cr_assert_eq(pipe(p), 0);
  pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    struct berth_save_item item = {.id = id, .refs = refs};
    close(p[0]);
    _exit(berth_archive_save(g_s, &item, 1, BERTH_ARCHIVE_DOCKER, p[1], &err) == 0 ? 0 : 1);
  }
  close(p[1]);
  lines = berth_archive_load(g_s2, p[0], &err);
  close(p[0]);
  cr_assert_not_null(lines, "%s", err ? err->msg : "");
  expect_lines(lines, "Loaded image: busybox:latest", NULL);
  json_decref(lines);
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A hand-made archive around one layer: `docker < 25` style unless told. */
struct crafted {
  int layer_fd;
  char diff_id[BERTH_DIGEST_STR_LEN];
  char *config;
  char id[BERTH_DIGEST_STR_LEN];
};

static struct crafted craft_parts(int seed)
{
  struct crafted c;
  char *ids[1];
  c.layer_fd = layer_tar(seed, PLAIN);
  digest_fd(c.layer_fd, c.diff_id);
  ids[0] = c.diff_id;
  c.config = config_json(ids, 1);
  berth_sha256_buf(c.config, strlen(c.config), c.id);
  return c;
}

static void craft_free(struct crafted *c)
{
  close(c->layer_fd);
  free(c->config);
}

Test(archive, loads_the_classic_docker_layout_with_manifest_last)
{
  struct crafted c = craft_parts(5);
  struct tarb t = tarb_new(PLAIN);
  char cfg_name[256], manifest[512];
  cleanup_close int fd = -1;
  cleanup_json json_t *lines = NULL;
  berth_error_t err = NULL;
  snprintf(cfg_name, sizeof(cfg_name), "%s.json", c.id + 7);
  tarb_entry(&t, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/", AE_IFDIR, NULL, NULL, 0);
  tarb_file(&t, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/VERSION", "1.0");
  tarb_file(&t, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/json", "{}");
  tarb_fd(&t, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/layer.tar", c.layer_fd);
  tarb_file(&t, cfg_name, c.config);
  tarb_file(&t, "repositories",
            "{\"old\":{\"v1\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}}");
  snprintf(manifest, sizeof(manifest),
           "[{\"Config\":\"%s\",\"RepoTags\":[\"old:v1\",\"localhost:5000/x/y:2\"],\"Layers\":"
           "[\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/layer.tar\"]}]",
           cfg_name);
  tarb_file(&t, "manifest.json", manifest);
  fd = tarb_done(&t);
  lines = berth_archive_load(g_s2, fd, &err);
  cr_assert_not_null(lines, "%s", err ? err->msg : "");
  expect_lines(lines, "Loaded image: old:v1", "Loaded image: localhost:5000/x/y:2");
  expect_image(g_s2, "docker.io/library/old:v1", c.id);
  expect_image(g_s2, "localhost:5000/x/y:2", c.id);
  craft_free(&c);
}

Test(archive, follows_symlinked_layers_inside_the_archive)
{
  /* skopeo's docker-archive writer links <legacy id>/layer.tar -> ../<digest>.tar */
  struct crafted c = craft_parts(6);
  struct tarb t = tarb_new(PLAIN);
  char layer_name[256], manifest[512];
  cleanup_close int fd = -1;
  cleanup_json json_t *lines = NULL;
  berth_error_t err = NULL;
  snprintf(layer_name, sizeof(layer_name), "%s.tar", c.diff_id + 7);
  tarb_fd(&t, layer_name, c.layer_fd);
  tarb_entry(&t, "legacy/layer.tar", AE_IFLNK, layer_name[0] ? "../x" : "", NULL, 0);
  tarb_entry(&t, "x", AE_IFLNK, layer_name, NULL, 0);
  tarb_file(&t, "cfg/config.json", c.config);
  tarb_entry(&t, "c", AE_IFLNK, "cfg", NULL, 0);
  snprintf(manifest, sizeof(manifest),
           "[{\"Config\":\"c/config.json\",\"RepoTags\":[\"linked:1\"],\"Layers\":[\"legacy/layer.tar\"]}]");
  tarb_file(&t, "manifest.json", manifest);
  fd = tarb_done(&t);
  lines = berth_archive_load(g_s2, fd, &err);
  cr_assert_not_null(lines, "%s", err ? err->msg : "");
  expect_lines(lines, "Loaded image: linked:1", NULL);
  craft_free(&c);
}

Test(archive, a_tag_moving_to_the_loaded_image_is_reported)
{
  static const int s1[] = {1}, s2[] = {2};
  cleanup_free char *old = make_image(g_s2, s1, NULL, 1, "docker.io/library/busybox:latest");
  cleanup_free char *id = make_image(g_s, s2, NULL, 1, "docker.io/library/busybox:latest");
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  cleanup_free char *path = save_to("a.tar", id, refs, BERTH_ARCHIVE_DOCKER);
  cleanup_json json_t *lines = load_ok(g_s2, path);
  char line[256];
  snprintf(line, sizeof(line),
           "The image busybox:latest already exists, renaming the old one with ID %s to empty string", old);
  expect_lines(lines, line, "Loaded image: busybox:latest");
  expect_image(g_s2, "docker.io/library/busybox:latest", id);
}

Test(archive, oci_ref_name_alone_is_a_tag_not_a_name)
{
  /* an OCI layout with only org.opencontainers.image.ref.name=latest (what a
   * spec-following tool writes) loads as an untagged image */
  cleanup_free char *id = make_busybox(g_s);
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  cleanup_free char *path = save_to("a.tar", id, refs, BERTH_ARCHIVE_OCI);
  cleanup_json json_t *idx = archive_json(path, "index.json");
  struct listing l = list_archive(path);
  struct archive *ar = archive_read_new();
  struct archive_entry *e;
  struct tarb t = tarb_new(PLAIN);
  cleanup_close int fd = -1;
  cleanup_json json_t *lines = NULL;
  berth_error_t err = NULL;
  char line[128];
  json_object_del(json_object_get(json_array_get(json_object_get(idx, "manifests"), 0), "annotations"),
                  "io.containerd.image.name");
  archive_read_support_format_tar(ar);
  cr_assert_eq(archive_read_open_filename(ar, path, 65536), ARCHIVE_OK);
  while (archive_read_next_header(ar, &e) == ARCHIVE_OK) {
    const char *name = archive_entry_pathname(e);
    size_t len = (size_t)archive_entry_size(e);
    cleanup_free char *buf = malloc(len + 1);
    if (archive_entry_filetype(e) != AE_IFREG)
      continue;
    cr_assert_eq(archive_read_data(ar, buf, len), (la_ssize_t)len);
    if (strcmp(name, "index.json") == 0) {
      cleanup_free char *s = json_dumps(idx, JSON_COMPACT);
      tarb_file(&t, name, s);
    } else {
      tarb_entry(&t, name, AE_IFREG, NULL, buf, len);
    }
  }
  archive_read_free(ar);
  fd = tarb_done(&t);
  lines = berth_archive_load(g_s2, fd, &err);
  cr_assert_not_null(lines, "%s", err ? err->msg : "");
  snprintf(line, sizeof(line), "Loaded image ID: %s", id);
  expect_lines(lines, line, NULL);
  json_decref(l.files);
  json_decref(l.order);
}

/* ---- skopeo interoperability ---- */

static void need_skopeo(void)
{
  if (access("/usr/bin/skopeo", X_OK) != 0 && system("command -v skopeo >/dev/null 2>&1") != 0)
    cr_skip_test("skopeo is not installed: interoperability not checked");
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
  va_list ap;
  char *cmd = NULL;
  int r;
  va_start(ap, fmt);
  cr_assert(vasprintf(&cmd, fmt, ap) > 0);
  va_end(ap);
  r = system(cmd);
  free(cmd);
  return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static json_t *run_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *run_json(const char *fmt, ...)
{
  va_list ap;
  cleanup_free char *cmd = NULL;
  json_error_t je;
  json_t *j;
  FILE *p;
  va_start(ap, fmt);
  cr_assert(vasprintf(&cmd, fmt, ap) > 0);
  va_end(ap);
  p = popen(cmd, "r");
  cr_assert_not_null(p);
  j = json_loadf(p, 0, &je);
  cr_assert_eq(pclose(p), 0, "%s", cmd);
  cr_assert_not_null(j, "%s: %s", cmd, je.text);
  return j;
}

static void expect_skopeo_view(json_t *inspect, size_t n_layers)
{
  cr_expect_str_eq(berth_json_str(inspect, "Architecture"), berth_host_arch());
  cr_expect_str_eq(berth_json_str(inspect, "Os"), "linux");
  cr_expect_eq(json_array_size(json_object_get(inspect, "Layers")), n_layers);
}

Test(archive, skopeo_reads_berth_docker_archives)
{
  need_skopeo();
  cleanup_free char *id = make_busybox(g_s);
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  cleanup_free char *path = save_to("a.tar", id, refs, BERTH_ARCHIVE_DOCKER);
  cleanup_json json_t *inspect = run_json("skopeo inspect docker-archive:%s", path);
  cleanup_json json_t *config = run_json("skopeo inspect --raw --config docker-archive:%s", path);
  char d1[BERTH_DIGEST_STR_LEN];
  layer_diff_id(1, d1);
  expect_skopeo_view(inspect, 2);
  cr_expect_str_eq(json_string_value(json_array_get(json_object_get(inspect, "Layers"), 0)), d1);
  cr_expect_not_null(json_object_get(config, "rootfs"));
  cr_expect_eq(run("skopeo inspect docker-archive:%s:busybox:latest >/dev/null", path), 0);
  {
    /* saved by id: RepoTags null, as docker writes it */
    cleanup_free char *untagged = save_to("u.tar", id, NULL, BERTH_ARCHIVE_DOCKER);
    cleanup_json json_t *u = run_json("skopeo inspect docker-archive:%s", untagged);
    expect_skopeo_view(u, 2);
  }
  /* a full copy verifies every blob against the config */
  cr_expect_eq(run("skopeo --insecure-policy copy -q docker-archive:%s oci:%s/oci-dir:latest", path, g_dir), 0);
}

Test(archive, skopeo_reads_berth_oci_archives)
{
  need_skopeo();
  cleanup_free char *id = make_busybox(g_s);
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  cleanup_free char *path = save_to("a.tar", id, refs, BERTH_ARCHIVE_OCI);
  cleanup_json json_t *by_tag = run_json("skopeo inspect oci-archive:%s:latest", path);
  cleanup_json json_t *only = run_json("skopeo inspect oci-archive:%s", path);
  expect_skopeo_view(by_tag, 2);
  expect_skopeo_view(only, 2);
  cr_expect_eq(run("skopeo --insecure-policy copy -q oci-archive:%s:latest oci:%s/oci-dir:latest", path, g_dir), 0);
  cr_expect_eq(run("skopeo --insecure-policy copy -q oci-archive:%s:latest docker-archive:%s/d.tar:x/y:z", path, g_dir),
               0);
}

Test(archive, berth_loads_skopeo_docker_archives)
{
  need_skopeo();
  cleanup_free char *id = make_busybox(g_s);
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  cleanup_free char *oci = save_to("a.tar", id, refs, BERTH_ARCHIVE_OCI);
  cleanup_free char *out = path_in("skopeo-docker.tar");
  cleanup_json json_t *lines = NULL;
  /* OCI (gzip layer) -> docker-archive: skopeo decompresses, the config is kept */
  cr_assert_eq(
      run("skopeo --insecure-policy copy -q oci-archive:%s:latest docker-archive:%s:example.com/app:1.0", oci, out), 0);
  lines = load_ok(g_s2, out);
  expect_lines(lines, "Loaded image: example.com/app:1.0", NULL);
  expect_image(g_s2, "example.com/app:1.0", id);
}

/* The loaded image (named by the single line) has the same layers as `id` in g_s. */
static void expect_same_layers(struct berth_store *s, const json_t *lines, const char *id)
{
  const char *line = json_string_value(json_array_get(lines, 0));
  berth_error_t err = NULL;
  cleanup_json json_t *want = berth_image_config(g_s, id, &err);
  cleanup_json json_t *got = NULL;
  cr_assert_eq(json_array_size(lines), 1);
  cr_assert(strncmp(line, "Loaded image ID: ", 17) == 0, "%s", line);
  got = berth_image_config(s, line + 17, &err);
  cr_assert_not_null(got, "%s", err ? err->msg : "");
  cr_expect(json_equal(json_object_get(got, "rootfs"), json_object_get(want, "rootfs")));
}

Test(archive, berth_loads_skopeo_oci_archives)
{
  need_skopeo();
  cleanup_free char *id = make_busybox(g_s);
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  cleanup_free char *oci = save_to("a.tar", id, refs, BERTH_ARCHIVE_OCI);
  cleanup_free char *docker = save_to("d.tar", id, refs, BERTH_ARCHIVE_DOCKER);
  cleanup_free char *plain = path_in("skopeo-tag.tar");
  cleanup_free char *named = path_in("skopeo-name.tar");
  cleanup_free char *zst = path_in("skopeo-zstd.tar");
  cleanup_free char *conv = path_in("skopeo-conv.tar");
  char line[128];
  snprintf(line, sizeof(line), "Loaded image ID: %s", id);
  /* OCI -> OCI keeps the config; ref.name "latest" alone names no repository */
  cr_assert_eq(run("skopeo --insecure-policy copy -q oci-archive:%s:latest oci-archive:%s:latest", oci, plain), 0);
  {
    cleanup_json json_t *lines = load_ok(g_s2, plain);
    expect_lines(lines, line, NULL);
  }
  /* a ref.name holding a reference names the image */
  cr_assert_eq(run("skopeo --insecure-policy copy -q oci-archive:%s oci-archive:%s:busybox:1.36", oci, named), 0);
  {
    cleanup_json json_t *lines = load_ok(g_s2, named);
    expect_lines(lines, "Loaded image: busybox:1.36", NULL);
    expect_image(g_s2, "docker.io/library/busybox:1.36", id);
  }
  /* recompressed layers: new blob digests, same diff ids, same image */
  cr_assert_eq(run("skopeo --insecure-policy copy -q --dest-compress --dest-compress-format zstd "
                   "oci-archive:%s:latest oci-archive:%s:v1",
                   oci, zst),
               0);
  {
    struct berth_store *s3 = store_at("c");
    cleanup_json json_t *lines = load_ok(s3, zst);
    expect_lines(lines, line, NULL);
    berth_store_free(s3);
  }
  /* docker-archive -> OCI: skopeo rewrites the config as an OCI config (a new
   * id), the layers stay */
  cr_assert_eq(run("skopeo --insecure-policy copy -q docker-archive:%s oci-archive:%s:latest", docker, conv), 0);
  {
    struct berth_store *s4 = store_at("d");
    cleanup_json json_t *lines = load_ok(s4, conv);
    expect_same_layers(s4, lines, id);
    berth_store_free(s4);
  }
}

/* podman, with its own store under the test directory. */
static void need_podman(void)
{
  if (system("command -v podman >/dev/null 2>&1") != 0)
    cr_skip_test("podman is not installed: interoperability not checked");
  if (geteuid() != 0)
    cr_skip_test("podman checks run as root here (rootless podman needs subuid ranges)");
}

#define PODMAN                                                                                                         \
  "podman --root %s/podman --runroot %s/podman-run --tmpdir %s/podman-tmp --storage-driver vfs "                       \
  "--cgroup-manager cgroupfs --events-backend none"

Test(archive, podman_and_berth_read_each_others_archives)
{
  need_podman();
  cleanup_free char *id = make_busybox(g_s);
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  cleanup_free char *docker = save_to("d.tar", id, refs, BERTH_ARCHIVE_DOCKER);
  cleanup_free char *oci = save_to("o.tar", id, refs, BERTH_ARCHIVE_OCI);
  const char *d = g_dir;
  cr_assert_eq(run(PODMAN " load -q -i %s >/dev/null", d, d, d, docker), 0);
  cr_assert_eq(run(PODMAN " load -q -i %s >/dev/null", d, d, d, oci), 0);
  {
    /* podman names it after RepoTags / io.containerd.image.name, with berth's image id */
    cleanup_json json_t *inspect = run_json(PODMAN " image inspect busybox:latest", d, d, d);
    cr_expect_str_eq(berth_json_str(json_array_get(inspect, 0), "Id"), id + 7);
  }
  cr_assert_eq(run(PODMAN " save -q -o %s/pd.tar busybox:latest", d, d, d, d), 0);
  cr_assert_eq(run(PODMAN " save -q --format oci-archive -o %s/po.tar busybox:latest", d, d, d, d), 0);
  for (int i = 0; i < 2; i++) {
    cleanup_free char *path = path_in(i ? "po.tar" : "pd.tar");
    struct berth_store *s3 = store_at(i ? "po" : "pd");
    cleanup_json json_t *lines = load_ok(s3, path);
    expect_lines(lines, "Loaded image: busybox:latest", NULL);
    expect_image(s3, "docker.io/library/busybox:latest", id);
    berth_store_free(s3);
  }
}

/* ---- hostile archives: refused, store untouched ---- */

/* A docker-archive around crafted parts with manifest.json overridden. */
static int craft_archive(const struct crafted *c, const char *manifest, enum filter f)
{
  struct tarb t = tarb_new(f);
  char name[256];
  snprintf(name, sizeof(name), "blobs/sha256/%s", c->diff_id + 7);
  tarb_fd(&t, name, c->layer_fd);
  snprintf(name, sizeof(name), "blobs/sha256/%s", c->id + 7);
  tarb_file(&t, name, c->config);
  tarb_file(&t, "manifest.json", manifest);
  return tarb_done(&t);
}

static char *good_manifest(const struct crafted *c, const char *config, const char *layer, const char *tag)
{
  char *m = NULL;
  char cfg[256], lay[256];
  snprintf(cfg, sizeof(cfg), "blobs/sha256/%s", c->id + 7);
  snprintf(lay, sizeof(lay), "blobs/sha256/%s", c->diff_id + 7);
  cr_assert(asprintf(&m, "[{\"Config\":\"%s\",\"RepoTags\":[\"%s\"],\"Layers\":[\"%s\"]}]", config ? config : cfg,
                     tag ? tag : "evil:latest", layer ? layer : lay) > 0);
  return m;
}

static void expect_crafted_fails(const char *config, const char *layer, const char *tag, int code, const char *needle)
{
  struct crafted c = craft_parts(7);
  cleanup_free char *m = good_manifest(&c, config, layer, tag);
  cleanup_close int fd = craft_archive(&c, m, PLAIN);
  expect_load_fails(fd, code, needle);
  craft_free(&c);
}

Test(archive, crafted_archive_sanity_check_loads)
{
  /* the base the hostile variants below start from is itself fine */
  struct crafted c = craft_parts(7);
  cleanup_free char *m = good_manifest(&c, NULL, NULL, NULL);
  cleanup_close int fd = craft_archive(&c, m, PLAIN);
  berth_error_t err = NULL;
  cleanup_json json_t *lines = berth_archive_load(g_s2, fd, &err);
  cr_assert_not_null(lines, "%s", err ? err->msg : "");
  expect_lines(lines, "Loaded image: evil:latest", NULL);
  craft_free(&c);
}

Test(archive, refuses_config_path_traversal)
{
  expect_crafted_fails("../../../../tmp/x", NULL, NULL, EINVAL, "not a clean relative path");
  expect_crafted_fails("/etc/passwd", NULL, NULL, EINVAL, "not a clean relative path");
  expect_crafted_fails("blobs/../../x", NULL, NULL, EINVAL, "not a clean relative path");
}

Test(archive, refuses_layer_path_traversal)
{
  expect_crafted_fails(NULL, "../../../../tmp/x/layer.tar", NULL, EINVAL, "not a clean relative path");
  expect_crafted_fails(NULL, "./layer.tar", NULL, EINVAL, "not a clean relative path");
}

Test(archive, refuses_symlinks_out_of_the_archive)
{
  struct crafted c = craft_parts(7);
  struct tarb t = tarb_new(PLAIN);
  char name[256];
  cleanup_close int fd = -1;
  snprintf(name, sizeof(name), "blobs/sha256/%s", c.id + 7);
  tarb_file(&t, name, c.config);
  tarb_entry(&t, "evil/layer.tar", AE_IFLNK, "../../../../../etc/passwd", NULL, 0);
  tarb_entry(&t, "abs", AE_IFLNK, "/etc", NULL, 0);
  tarb_file(&t, "manifest.json", "[{\"Config\":\"blobs/sha256/x\",\"Layers\":[]}]");
  fd = tarb_done(&t);
  expect_load_fails(fd, EINVAL, "invalid blob path");
  craft_free(&c);
  c = craft_parts(7);
  {
    cleanup_free char *m = good_manifest(&c, NULL, "evil/layer.tar", NULL);
    struct tarb t2 = tarb_new(PLAIN);
    cleanup_close int fd2 = -1;
    tarb_file(&t2, name, c.config);
    tarb_entry(&t2, "evil/layer.tar", AE_IFLNK, "../../../../../etc/passwd", NULL, 0);
    tarb_file(&t2, "manifest.json", m);
    fd2 = tarb_done(&t2);
    expect_load_fails(fd2, EINVAL, "resolves outside the archive");
  }
  {
    /* an absolute link stays inside the archive: /etc/passwd is the archive's own (absent) file */
    cleanup_free char *m = good_manifest(&c, NULL, "abs/passwd", NULL);
    struct tarb t3 = tarb_new(PLAIN);
    cleanup_close int fd3 = -1;
    tarb_file(&t3, name, c.config);
    tarb_entry(&t3, "abs", AE_IFLNK, "/etc", NULL, 0);
    tarb_file(&t3, "manifest.json", m);
    fd3 = tarb_done(&t3);
    expect_load_fails(fd3, ENOENT, "archive has no file `abs/passwd`");
  }
  craft_free(&c);
}

Test(archive, refuses_link_loops)
{
  struct crafted c = craft_parts(7);
  cleanup_free char *m = good_manifest(&c, NULL, "loop/layer.tar", NULL);
  struct tarb t = tarb_new(PLAIN);
  char name[256];
  cleanup_close int fd = -1;
  snprintf(name, sizeof(name), "blobs/sha256/%s", c.id + 7);
  tarb_file(&t, name, c.config);
  tarb_entry(&t, "loop", AE_IFLNK, "loop2", NULL, 0);
  tarb_entry(&t, "loop2", AE_IFLNK, "loop", NULL, 0);
  tarb_file(&t, "manifest.json", m);
  fd = tarb_done(&t);
  expect_load_fails(fd, ELOOP, "too many levels of links");
  craft_free(&c);
}

Test(archive, refuses_entries_named_outside_the_archive)
{
  struct tarb t = tarb_new(PLAIN);
  cleanup_close int fd = -1;
  tarb_file(&t, "../evil", "x");
  fd = tarb_done(&t);
  expect_load_fails(fd, EINVAL, "leaves the archive");
}

Test(archive, refuses_missing_layers)
{
  struct crafted c = craft_parts(7);
  cleanup_free char *m = good_manifest(&c, NULL, "nowhere/layer.tar", NULL);
  cleanup_close int fd = craft_archive(&c, m, PLAIN);
  expect_load_fails(fd, ENOENT, "archive has no file `nowhere/layer.tar`");
  craft_free(&c);
}

Test(archive, refuses_a_layer_that_is_not_its_diff_id)
{
  struct crafted c = craft_parts(7);
  struct crafted other = craft_parts(8);
  struct tarb t = tarb_new(PLAIN);
  cleanup_close int fd = -1;
  char cfg[256];
  cleanup_free char *m = NULL;
  snprintf(cfg, sizeof(cfg), "blobs/sha256/%s", c.id + 7);
  tarb_file(&t, cfg, c.config);
  tarb_fd(&t, "layer.tar", other.layer_fd); /* the config lists c's diff id */
  m = good_manifest(&c, NULL, "layer.tar", NULL);
  tarb_file(&t, "manifest.json", m);
  fd = tarb_done(&t);
  expect_load_fails(fd, EINVAL, "diff id mismatch");
  craft_free(&c);
  craft_free(&other);
}

Test(archive, a_bad_second_layer_leaves_no_first_layer)
{
  /* two layers: the first is fine and gets unpacked, the second is not what
   * the config says; the staged first layer must vanish too */
  cleanup_close int l1 = layer_tar(1, GZIP);
  cleanup_close int l2 = layer_tar(2, PLAIN);
  cleanup_close int l3 = layer_tar(3, PLAIN);
  char d1[BERTH_DIGEST_STR_LEN], d2[BERTH_DIGEST_STR_LEN], id[BERTH_DIGEST_STR_LEN];
  char *ids[2] = {d1, d2};
  cleanup_free char *config = NULL;
  struct tarb t = tarb_new(PLAIN);
  cleanup_close int fd = -1;
  char manifest[512];
  layer_diff_id(1, d1);
  digest_fd(l2, d2);
  config = config_json(ids, 2);
  berth_sha256_buf(config, strlen(config), id);
  tarb_fd(&t, "1.tar", l1);
  tarb_fd(&t, "2.tar", l3);
  tarb_file(&t, "config.json", config);
  snprintf(manifest, sizeof(manifest),
           "[{\"Config\":\"config.json\",\"RepoTags\":[\"x:y\"],\"Layers\":[\"1.tar\",\"2.tar\"]}]");
  tarb_file(&t, "manifest.json", manifest);
  fd = tarb_done(&t);
  expect_load_fails(fd, EINVAL, "diff id mismatch");
}

Test(archive, refuses_a_layer_that_escapes_its_root)
{
  /* the digests are right, the content is hostile (security.md 1.C) */
  struct tarb lt = tarb_new(PLAIN);
  cleanup_close int layer = -1;
  char d[BERTH_DIGEST_STR_LEN], id[BERTH_DIGEST_STR_LEN];
  char *ids[1] = {d};
  cleanup_free char *config = NULL;
  cleanup_free char *victim = path_in("victim");
  struct tarb t = tarb_new(PLAIN);
  cleanup_close int fd = -1;
  char rel[512];
  snprintf(rel, sizeof(rel), "../../../../../../../../..%s", victim);
  tarb_file(&lt, rel, "pwned");
  layer = tarb_done(&lt);
  digest_fd(layer, d);
  config = config_json(ids, 1);
  berth_sha256_buf(config, strlen(config), id);
  tarb_fd(&t, "l.tar", layer);
  tarb_file(&t, "c.json", config);
  tarb_file(&t, "manifest.json", "[{\"Config\":\"c.json\",\"RepoTags\":[\"x:y\"],\"Layers\":[\"l.tar\"]}]");
  fd = tarb_done(&t);
  expect_load_fails(fd, 0, "layer `l.tar`");
  cr_expect_neq(access(victim, F_OK), 0, "nothing written outside the layer");
}

Test(archive, refuses_truncated_archives)
{
  cleanup_free char *id = make_busybox(g_s);
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  cleanup_free char *path = save_to("a.tar", id, refs, BERTH_ARCHIVE_DOCKER);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  /* mid-entry: the reader notices; at an entry boundary: manifest.json is gone */
  for (int i = 0; i < 2; i++) {
    cleanup_close int fd = open(path, O_RDWR | O_CLOEXEC);
    cr_assert_eq(ftruncate(fd, i == 0 ? st.st_size / 2 + 100 : 512 * 2), 0); /* after blobs/ and blobs/sha256/ */
    expect_load_fails(fd, 0, i == 0 ? "truncated" : "not an image archive");
  }
}

Test(archive, refuses_duplicate_keys)
{
  struct crafted c = craft_parts(7);
  char cfg[256];
  cleanup_free char *m = NULL;
  cleanup_close int fd = -1;
  snprintf(cfg, sizeof(cfg), "blobs/sha256/%s", c.id + 7);
  cr_assert(asprintf(&m, "[{\"Config\":\"%s\",\"Config\":\"../../x\",\"Layers\":[]}]", cfg) > 0);
  fd = craft_archive(&c, m, PLAIN);
  expect_load_fails(fd, EINVAL, "duplicate");
  craft_free(&c);
}

Test(archive, refuses_bad_repo_tags)
{
  expect_crafted_fails(NULL, NULL, "../foo", EINVAL, "invalid image name `../foo`");
  expect_crafted_fails(NULL, NULL, "../../evil:latest", EINVAL, "invalid image name");
  expect_crafted_fails(NULL, NULL, "busybox", EINVAL, "a reference with a tag and no digest is required");
  expect_crafted_fails(NULL, NULL, "Busybox:1", EINVAL, "must be lowercase");
  expect_crafted_fails(NULL, NULL, "busybox@sha256:" HEX63 "d", EINVAL, "invalid tag");
  expect_crafted_fails(NULL, NULL, "busybox:1@sha256:" HEX63 "d", EINVAL, "invalid tag");
  expect_crafted_fails(NULL, NULL, HEX63 "d", EINVAL, "64-byte hexadecimal");
}

Test(archive, refuses_63_hex_ids)
{
  struct crafted c = craft_parts(7);
  char m[1024];
  expect_crafted_fails("blobs/sha256/" HEX63, NULL, NULL, EINVAL, "invalid blob path");
  expect_crafted_fails(NULL, "blobs/sha256/" HEX63, NULL, EINVAL, "invalid blob path");
  expect_crafted_fails("blobs/sha512/" HEX63 HEX63 "dd", NULL, NULL, EINVAL, "invalid blob path");
  /* a Parent that is not a digest */
  snprintf(m, sizeof(m),
           "[{\"Config\":\"blobs/sha256/%s\",\"Parent\":\"sha256:" HEX63 "\",\"Layers\":[\"blobs/sha256/%s\"]}]",
           c.id + 7, c.diff_id + 7);
  {
    cleanup_close int fd = craft_archive(&c, m, PLAIN);
    expect_load_fails(fd, EINVAL, "invalid Parent");
  }
  /* a legacy `repositories` file naming a 63-character id */
  {
    struct tarb t = tarb_new(PLAIN);
    cleanup_close int fd = -1;
    char name[256];
    cleanup_free char *gm = good_manifest(&c, NULL, NULL, NULL);
    snprintf(name, sizeof(name), "blobs/sha256/%s", c.diff_id + 7);
    tarb_fd(&t, name, c.layer_fd);
    snprintf(name, sizeof(name), "blobs/sha256/%s", c.id + 7);
    tarb_file(&t, name, c.config);
    tarb_file(&t, "repositories", "{\"a\":{\"b\":\"" HEX63 "\"}}");
    tarb_file(&t, "manifest.json", gm);
    fd = tarb_done(&t);
    expect_load_fails(fd, EINVAL, "invalid image id");
  }
  /* a legacy archive with no manifest.json */
  {
    struct tarb t = tarb_new(PLAIN);
    cleanup_close int fd = -1;
    tarb_file(&t, HEX63 "/json", "{}");
    tarb_fd(&t, HEX63 "/layer.tar", c.layer_fd);
    tarb_file(&t, "repositories", "{\"a\":{\"b\":\"" HEX63 "\"}}");
    fd = tarb_done(&t);
    expect_load_fails(fd, EINVAL, "not an image archive");
  }
  /* an OCI index naming a 63-character digest */
  {
    struct tarb t = tarb_new(PLAIN);
    cleanup_close int fd = -1;
    tarb_file(&t, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
    tarb_file(&t, "index.json",
              "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
              "\"digest\":\"sha256:" HEX63 "\",\"size\":10}]}");
    fd = tarb_done(&t);
    expect_load_fails(fd, EINVAL, "OCI layout");
  }
  craft_free(&c);
}

Test(archive, refuses_a_config_that_does_not_match_its_name)
{
  struct crafted c = craft_parts(7);
  struct crafted other = craft_parts(8);
  char cfg[256], m[512];
  struct tarb t = tarb_new(PLAIN);
  cleanup_close int fd = -1;
  snprintf(cfg, sizeof(cfg), "blobs/sha256/%s", c.id + 7);
  tarb_file(&t, cfg, other.config);
  tarb_fd(&t, "l.tar", c.layer_fd);
  snprintf(m, sizeof(m), "[{\"Config\":\"%s\",\"Layers\":[\"l.tar\"]}]", cfg);
  tarb_file(&t, "manifest.json", m);
  fd = tarb_done(&t);
  expect_load_fails(fd, EINVAL, "digest mismatch");
  craft_free(&c);
  craft_free(&other);
}

Test(archive, refuses_layer_count_mismatch_and_bad_configs)
{
  struct crafted c = craft_parts(7);
  char m[512];
  snprintf(m, sizeof(m), "[{\"Config\":\"blobs/sha256/%s\",\"Layers\":[]}]", c.id + 7);
  {
    cleanup_close int fd = craft_archive(&c, m, PLAIN);
    expect_load_fails(fd, EINVAL, "has 0 layers but its config lists 1 diff ids");
  }
  {
    struct tarb t = tarb_new(PLAIN);
    cleanup_close int fd = -1;
    tarb_file(&t, "c.json", "{}");
    tarb_file(&t, "manifest.json", "[{\"Config\":\"c.json\",\"RepoTags\":[\"a:b\"],\"Layers\":[]}]");
    fd = tarb_done(&t);
    expect_load_fails(fd, EINVAL, "image config");
  }
  {
    struct tarb t = tarb_new(PLAIN);
    cleanup_close int fd = -1;
    tarb_file(&t, "c.json", "not json");
    tarb_file(&t, "manifest.json", "[{\"Config\":\"c.json\",\"Layers\":[]}]");
    fd = tarb_done(&t);
    expect_load_fails(fd, EINVAL, "image config");
  }
  {
    struct tarb t = tarb_new(PLAIN);
    cleanup_close int fd = -1;
    tarb_file(&t, "manifest.json", "{\"Config\":\"c.json\"}");
    fd = tarb_done(&t);
    expect_load_fails(fd, EINVAL, "expected a non-empty array");
  }
  craft_free(&c);
}

Test(archive, hostile_archive_inside_gzip_and_zstd_is_still_refused)
{
  for (int f = GZIP; f <= ZSTD; f++) {
    struct crafted c = craft_parts(7);
    cleanup_free char *m = good_manifest(&c, "../../../../tmp/x", NULL, NULL);
    cleanup_close int fd = craft_archive(&c, m, (enum filter)f);
    expect_load_fails(fd, EINVAL, "not a clean relative path");
    craft_free(&c);
  }
}

Test(archive, ten_thousand_junk_entries)
{
  struct crafted c = craft_parts(7);
  cleanup_free char *m = good_manifest(&c, NULL, NULL, NULL);
  struct tarb t = tarb_new(PLAIN);
  struct tarb t2 = tarb_new(PLAIN);
  char name[256];
  cleanup_close int fd = -1;
  cleanup_close int fd2 = -1;
  berth_error_t err = NULL;
  cleanup_json json_t *lines = NULL;
  for (int i = 0; i < 10000; i++) {
    snprintf(name, sizeof(name), "junk/%d/blobs/sha256/%d", i % 97, i);
    tarb_file(&t, name, "x");
    tarb_file(&t2, name, "x");
  }
  snprintf(name, sizeof(name), "blobs/sha256/%s", c.diff_id + 7);
  tarb_fd(&t, name, c.layer_fd);
  snprintf(name, sizeof(name), "blobs/sha256/%s", c.id + 7);
  tarb_file(&t, name, c.config);
  tarb_file(&t, "manifest.json", m);
  fd = tarb_done(&t);
  lines = berth_archive_load(g_s2, fd, &err);
  cr_assert_not_null(lines, "%s", err ? err->msg : "");
  expect_lines(lines, "Loaded image: evil:latest", NULL);
  /* junk alone is no image archive */
  fd2 = tarb_done(&t2);
  expect_load_fails(fd2, EINVAL, "not an image archive");
  craft_free(&c);
}

Test(archive, refuses_archives_listing_too_many_layers)
{
  /* one tiny file listed 21000 times: each distinct chain would be an unpack */
  struct tarb t = tarb_new(PLAIN);
  json_t *m = json_array();
  cleanup_free char *s = NULL;
  cleanup_close int fd = -1;
  for (int i = 0; i < 21; i++) {
    json_t *layers = json_array();
    for (int k = 0; k < 1000; k++)
      json_array_append_new(layers, json_string("l.tar"));
    json_array_append_new(m, json_pack("{s:s, s:o}", "Config", "c.json", "Layers", layers));
  }
  char *ids[1000];
  char empty[BERTH_DIGEST_STR_LEN];
  cleanup_free char *config = NULL;
  berth_sha256_buf("", 0, empty);
  for (int k = 0; k < 1000; k++)
    ids[k] = empty;
  config = config_json(ids, 1000);
  s = json_dumps(m, JSON_COMPACT);
  json_decref(m);
  tarb_file(&t, "l.tar", "");
  tarb_file(&t, "c.json", config);
  tarb_file(&t, "manifest.json", s);
  fd = tarb_done(&t);
  expect_load_fails(fd, EFBIG, "more than 20000 layers in all");
}

Test(archive, refuses_too_many_entries, .timeout = 300)
{
  int fd = memfd_create("many", MFD_CLOEXEC);
  static char block[512];
  /* hand-written empty ustar entries: 512 bytes each */
  cr_assert(fd >= 0);
  for (int i = 0; i <= 100000; i++) {
    unsigned sum = 0;
    memset(block, 0, sizeof(block));
    snprintf(block, 100, "f%d", i);
    memcpy(block + 100, "0000644", 8);
    memcpy(block + 108, "0000000", 8);
    memcpy(block + 116, "0000000", 8);
    memcpy(block + 124, "00000000000", 12);
    memcpy(block + 136, "00000000000", 12);
    block[156] = '0';
    memcpy(block + 257,
           "ustar\0"
           "00",
           8);
    memset(block + 148, ' ', 8);
    for (int k = 0; k < 512; k++)
      sum += (unsigned char)block[k];
    snprintf(block + 148, 8, "%06o", sum);
    cr_assert_eq(write(fd, block, 512), 512);
  }
  cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
  expect_load_fails(fd, EFBIG, "more than 100000 entries");
  close(fd);
}

Test(archive, refuses_empty_and_non_tar_input)
{
  int fd = memfd_create("x", MFD_CLOEXEC);
  expect_load_fails(fd, EINVAL, "not an image archive");
  cr_assert_eq(write(fd, "this is not a tar archive at all, not even close................", 64), 64);
  cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
  expect_load_fails(fd, EINVAL, "tar");
  close(fd);
}

/* OCI layouts with one thing wrong each. */
static int oci_variant(const char *id, char **refs, const char *replace, const char *with, const char *drop)
{
  cleanup_free char *path = save_to("v.tar", id, refs, BERTH_ARCHIVE_OCI);
  struct archive *ar = archive_read_new();
  struct archive_entry *e;
  struct tarb t = tarb_new(PLAIN);
  archive_read_support_format_tar(ar);
  cr_assert_eq(archive_read_open_filename(ar, path, 65536), ARCHIVE_OK);
  while (archive_read_next_header(ar, &e) == ARCHIVE_OK) {
    const char *name = archive_entry_pathname(e);
    size_t len = (size_t)archive_entry_size(e);
    cleanup_free char *buf = malloc(len + 1);
    if (archive_entry_filetype(e) != AE_IFREG || (drop && strcmp(name, drop) == 0))
      continue;
    cr_assert_eq(archive_read_data(ar, buf, len), (la_ssize_t)len);
    if (replace && strcmp(name, replace) == 0)
      tarb_file(&t, name, with);
    else
      tarb_entry(&t, name, AE_IFREG, NULL, buf, len);
  }
  archive_read_free(ar);
  return tarb_done(&t);
}

static char *oci_manifest_path(const char *id, char **refs)
{
  cleanup_free char *path = save_to("m.tar", id, refs, BERTH_ARCHIVE_OCI);
  cleanup_json json_t *idx = archive_json(path, "index.json");
  char *p = NULL;
  cr_assert(asprintf(&p, "blobs/sha256/%s",
                     berth_json_str(json_array_get(json_object_get(idx, "manifests"), 0), "digest") + 7) > 0);
  return p;
}

Test(archive, refuses_broken_oci_layouts)
{
  cleanup_free char *id = make_busybox(g_s);
  char *refs[] = {"docker.io/library/busybox:latest", NULL};
  cleanup_free char *manifest = oci_manifest_path(id, refs);
  char d1[BERTH_DIGEST_STR_LEN];
  char cfg[256];
  snprintf(cfg, sizeof(cfg), "blobs/sha256/%s", id + 7);
  layer_diff_id(1, d1);
  {
    cleanup_close int fd = oci_variant(id, refs, NULL, NULL, "oci-layout");
    expect_load_fails(fd, ENOENT, "archive has no file `oci-layout`");
  }
  {
    cleanup_close int fd = oci_variant(id, refs, manifest, "{\"schemaVersion\":2}", NULL);
    expect_load_fails(fd, EINVAL, "has");
  }
  {
    /* config replaced with another valid config of the same size is a digest mismatch */
    cleanup_close int fd = oci_variant(id, refs, cfg, "{}", NULL);
    expect_load_fails(fd, EINVAL, "bytes, its descriptor says");
  }
  {
    cleanup_close int fd = oci_variant(id, refs, "index.json",
                                       "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image."
                                       "manifest.v1+json\",\"digest\":\"sha256:../../../x\",\"size\":1}]}",
                                       NULL);
    expect_load_fails(fd, EINVAL, "OCI layout");
  }
  {
    cleanup_close int fd = oci_variant(id, refs, "index.json", "{\"schemaVersion\":2,\"manifests\":[]}", NULL);
    expect_load_fails(fd, EINVAL, "lists no images");
  }
}

Test(archive, refuses_oci_layers_that_do_not_match_their_descriptor)
{
  /* a layer blob swapped for another of the same size: digest mismatch at unpack */
  static const int seeds[] = {1, 2};
  cleanup_free char *id = make_image(g_s, seeds, NULL, 2, "docker.io/library/x:1");
  char *refs[] = {"docker.io/library/x:1", NULL};
  char d2[BERTH_DIGEST_STR_LEN];
  char member[256];
  cleanup_close int other = layer_tar(2, PLAIN);
  cleanup_free char *path = save_to("o.tar", id, refs, BERTH_ARCHIVE_OCI);
  struct archive *ar = archive_read_new();
  struct archive_entry *e;
  struct tarb t = tarb_new(PLAIN);
  cleanup_close int fd = -1;
  size_t len;
  cleanup_free char *orig = read_all_fd(other, &len);
  layer_diff_id(2, d2);
  snprintf(member, sizeof(member), "blobs/sha256/%s", d2 + 7);
  orig[len - 2000] ^= 1; /* inside the end-of-archive padding: same size, other digest */
  archive_read_support_format_tar(ar);
  cr_assert_eq(archive_read_open_filename(ar, path, 65536), ARCHIVE_OK);
  while (archive_read_next_header(ar, &e) == ARCHIVE_OK) {
    const char *name = archive_entry_pathname(e);
    size_t n = (size_t)archive_entry_size(e);
    cleanup_free char *buf = malloc(n + 1);
    if (archive_entry_filetype(e) != AE_IFREG)
      continue;
    cr_assert_eq(archive_read_data(ar, buf, n), (la_ssize_t)n);
    if (strcmp(name, member) == 0)
      tarb_entry(&t, name, AE_IFREG, NULL, orig, len);
    else
      tarb_entry(&t, name, AE_IFREG, NULL, buf, n);
  }
  archive_read_free(ar);
  fd = tarb_done(&t);
  expect_load_fails(fd, EINVAL, "digest mismatch");
}
