/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing the event journal (see event-journal.h).  Linked into the monitor
 * too, so it uses nothing but base and jansson. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "store/event-journal.h"

json_t *berth_event_message(const char *type, const char *action, const char *id, json_t *attrs, int64_t now_ns)
{
  json_t *m = json_object();
  if (!attrs)
    attrs = json_object();
  if (strcmp(type, "container") == 0 || strcmp(type, "image") == 0) {
    json_object_set_new(m, "status", json_string(action));
    json_object_set_new(m, "id", json_string(id));
    if (strcmp(type, "container") == 0 && berth_json_str(attrs, "image"))
      json_object_set_new(m, "from", json_string(berth_json_str(attrs, "image")));
  }
  json_object_set_new(m, "Type", json_string(type));
  json_object_set_new(m, "Action", json_string(action));
  json_object_set_new(m, "Actor", json_pack("{s:s, s:o}", "ID", id, "Attributes", attrs));
  json_object_set_new(m, "scope", json_string("local"));
  json_object_set_new(m, "time", json_integer(now_ns / 1000000000LL));
  json_object_set_new(m, "timeNano", json_integer(now_ns));
  return m;
}

json_t *berth_event_container_attrs(const json_t *rec)
{
  const json_t *cfg = json_object_get(rec, "Config");
  json_t *labels = json_object_get(cfg, "Labels");
  json_t *a = json_is_object(labels) ? json_deep_copy(labels) : json_object();
  const char *image = berth_json_str(cfg, "Image"), *name = berth_json_str(rec, "Name");
  if (image)
    json_object_set_new(a, "image", json_string(image));
  if (name)
    json_object_set_new(a, "name", json_string(name[0] == '/' ? name + 1 : name));
  return a;
}

/* Past the limit: the first writer to see it moves the file aside, holding
 * the lock exclusively, so no writer is between its open and its write: a
 * line never lands in a file that a follower has already left. */
static void rotate(int dirfd, int lock, int fd)
{
  struct stat mine, now;
  if (fstat(fd, &mine) < 0 || mine.st_size < BERTH_EVENT_JOURNAL_MAX || flock(lock, LOCK_EX) < 0)
    return;
  /* another writer may have rotated it meanwhile */
  if (fstatat(dirfd, BERTH_EVENT_JOURNAL, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_ino == mine.st_ino)
    (void)renameat(dirfd, BERTH_EVENT_JOURNAL, dirfd, BERTH_EVENT_JOURNAL ".1");
}

int berth_event_append(int runroot_fd, const json_t *msg, berth_error_t *err)
{
  cleanup_free char *line = json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII);
  cleanup_close int dirfd = -1, fd = -1, lock = -1;
  size_t len;
  if (!line)
    return berth_error_set_plain(err, ENOMEM, "encode an event");
  len = strlen(line);
  line[len] = '\n'; /* json_dumps leaves room for the NUL only: replace it */
  if (mkdirat(runroot_fd, BERTH_EVENT_DIR, 0700) < 0 && errno != EEXIST)
    return berth_error_set(err, errno, "create `%s`", BERTH_EVENT_DIR);
  dirfd = openat(runroot_fd, BERTH_EVENT_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dirfd < 0)
    return berth_error_set(err, errno, "open `%s`", BERTH_EVENT_DIR);
  /* shared between writers, exclusive for the rotation (above) */
  lock = openat(dirfd, "journal.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock < 0 || TEMP_FAILURE_RETRY(flock(lock, LOCK_SH)) < 0)
    return berth_error_set(err, errno, "lock the event journal");
  fd = openat(dirfd, BERTH_EVENT_JOURNAL, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return berth_error_set(err, errno, "open the event journal");
  /* one write: O_APPEND places it whole at the end, never interleaved */
  ssize_t n = TEMP_FAILURE_RETRY(write(fd, line, len + 1));
  if (n != (ssize_t)(len + 1))
    return berth_error_set(err, n < 0 ? errno : EIO, "write the event journal");
  (void)flock(lock, LOCK_UN);
  rotate(dirfd, lock, fd);
  return 0;
}
