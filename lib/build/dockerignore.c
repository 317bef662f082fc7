/* SPDX-License-Identifier: GPL-2.0-or-later */
/* .dockerignore (moby's patternmatcher rules): one pattern a line, blank
 * lines and '#' comments skipped, each cleaned like a path with a leading
 * '/' dropped; '*', '?' and '[...]' within a path component, "**" for any
 * number of components; "!pattern" re-includes.  The last pattern that
 * matches a path, or one of its parents, decides. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "build/build.h"

struct pattern {
  char **parts; /* the cleaned pattern's components */
  bool exclusion;
};

struct berth_ignore {
  struct pattern *p;
  size_t n;
  bool any_exclusion;
};

static char **split_path(const char *s)
{
  char **out = calloc(strlen(s) / 2 + 2, sizeof *out);
  size_t n = 0;
  if (!out)
    abort();
  for (const char *p = s; *p;) {
    while (*p == '/')
      p++;
    size_t len = strcspn(p, "/");
    if (len)
      out[n++] = strndup(p, len);
    p += len;
  }
  return out;
}

static bool match_parts(char *const *pat, char *const *path)
{
  if (!*pat)
    return !*path;
  if (!strcmp(*pat, "**")) {
    /* zero or more components */
    for (char *const *p = path;; p++) {
      if (match_parts(pat + 1, p))
        return true;
      if (!*p)
        return false;
    }
  }
  return *path && fnmatch(*pat, *path, 0) == 0 && match_parts(pat + 1, path + 1);
}

void berth_ignore_free(struct berth_ignore *ig)
{
  if (!ig)
    return;
  for (size_t i = 0; i < ig->n; i++)
    berth_strv_free(ig->p[i].parts);
  free(ig->p);
  free(ig);
}

struct berth_ignore *berth_ignore_parse(const char *text, berth_error_t *err)
{
  struct berth_ignore *ig = calloc(1, sizeof *ig);
  cleanup_free char *copy = strdup(text ? text : "");
  char *save = NULL;
  if (!ig || !copy)
    abort();
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
      line[--len] = '\0';
    while (*line == ' ' || *line == '\t')
      line++;
    if (!*line || *line == '#')
      continue;
    bool exclusion = *line == '!';
    if (exclusion) {
      line++;
      while (*line == ' ' || *line == '\t')
        line++;
      if (!*line) {
        berth_ignore_free(ig);
        berth_error_set_plain(err, EINVAL, "illegal exclusion pattern: \"!\"");
        return NULL;
      }
    }
    /* filepath.Clean, relative to the context root */
    cleanup_free char *abs = NULL;
    if (asprintf(&abs, "/%s", line) < 0)
      abort();
    cleanup_free char *clean = berth_build_clean_path(abs);
    if (!strcmp(clean, "/"))
      continue;
    ig->p = realloc(ig->p, (ig->n + 1) * sizeof *ig->p);
    if (!ig->p)
      abort();
    ig->p[ig->n++] = (struct pattern){split_path(clean), exclusion};
    ig->any_exclusion |= exclusion;
  }
  return ig;
}

bool berth_ignore_matches(const struct berth_ignore *ig, const char *path)
{
  if (!ig || !ig->n)
    return false;
  cleanup_strv char **parts = split_path(path);
  size_t n = 0;
  while (parts[n])
    n++;
  bool ignored = false;
  for (size_t i = 0; i < ig->n; i++) {
    /* the path itself or one of its parents */
    bool m = false;
    for (size_t k = n; k > 0 && !m; k--) {
      char *saved = parts[k];
      parts[k] = NULL;
      m = match_parts(ig->p[i].parts, parts);
      parts[k] = saved;
    }
    if (m)
      ignored = !ig->p[i].exclusion;
  }
  return ignored;
}

/* Walk dir (path `rel` in the context), adding what is ignored. */
static int walk(const struct berth_ignore *ig, int dir, const char *rel, char ***out, size_t *n, berth_error_t *err)
{
  size_t k = 0;
  cleanup_strv char **names = berth_dir_names(dir, &k, err);
  if (!names)
    return -1;
  for (size_t i = 0; i < k; i++) {
    cleanup_free char *path = NULL;
    if (asprintf(&path, "%s%s%s", rel, *rel ? "/" : "", names[i]) < 0)
      abort();
    bool ignored = berth_ignore_matches(ig, path);
    struct stat st;
    bool is_dir = fstatat(dir, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    /* an ignored directory goes whole unless an exception may reach inside */
    if (ignored && (!is_dir || !ig->any_exclusion)) {
      *out = realloc(*out, (*n + 2) * sizeof **out);
      if (!*out)
        abort();
      (*out)[(*n)++] = steal_ptr(&path);
      (*out)[*n] = NULL;
      continue;
    }
    if (is_dir) {
      cleanup_close int sub = openat(dir, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0 || walk(ig, sub, path, out, n, err) < 0)
        return sub < 0 ? berth_error_set(err, errno, "open %s", path) : -1;
    }
  }
  return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

char **berth_ignore_walk(const struct berth_ignore *ig, int context, berth_error_t *err)
{
  char **out = calloc(1, sizeof *out);
  size_t n = 0;
  if (!out)
    abort();
  if (!ig || !ig->n)
    return out;
  cleanup_close int dir = berth_open_in_root(context, ".", O_RDONLY | O_DIRECTORY, 0);
  if (dir < 0 || walk(ig, dir, "", &out, &n, err) < 0) {
    if (dir < 0)
      berth_error_set(err, errno, "open the context");
    berth_strv_free(out);
    return NULL;
  }
  qsort(out, n, sizeof *out, cmp_str);
  return out;
}
