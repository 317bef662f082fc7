/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pause / unpause, and the container's cgroup for the commands that read or
 * change it (top, stats, update).  A paused container is frozen in its
 * cgroup (freezer.state on v1, cgroup.freeze on v2) and marked by a `paused`
 * file in its run dir: the monitor rewrites state.json on its own events, so
 * the mark lives beside it and is read with the state (a reboot clears the
 * run dir, and the container with it reads as exited). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "engine/events.h"
#include "engine/rwlayer.h"
#include "runtime/cgroup.h"

int berth_ctr_cgroup(struct berth_engine *e, const struct berth_ctr *c, struct berth_cgroup **ret,
                     berth_error_t *err)
{
  cleanup_close int rundir = berth_container_run_dir(e->store, c->id, false, err);
  cleanup_json json_t *spec = NULL;
  const char *path;
  if (rundir < 0)
    return -1;
  if (!(spec = berth_json_load_at(rundir, "spec.json", err)))
    return berth_error_prefix(err, "container %s", c->id);
  path = berth_json_str(json_object_get(spec, "linux"), "cgroupsPath");
  if (!path || !*path)
    return berth_error_set_plain(err, ENOENT, "container %s has no cgroup", c->id);
  return berth_cgroup_open(path, ret, err);
}

bool berth_ctr_paused_marker(struct berth_engine *e, const char *id)
{
  char path[BERTH_CONTAINER_ID_LEN + 16];
  snprintf(path, sizeof path, "%s/paused", id);
  return faccessat(e->store->run_containers_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int berth_ctr_set_paused(struct berth_engine *e, struct berth_ctr *c, bool paused, berth_error_t *err)
{
  struct berth_cgroup *cg = NULL;
  cleanup_close int rundir = berth_container_run_dir(e->store, c->id, false, err);
  int r;
  if (rundir < 0 || berth_ctr_cgroup(e, c, &cg, err) < 0)
    return -1;
  /* marked first: whoever sees the container frozen also sees it paused */
  if (paused && berth_write_file_replace(rundir, "paused", "", 0, 0600, err) < 0) {
    berth_cgroup_free(cg);
    return -1;
  }
  r = berth_cgroup_freeze(cg, paused, err);
  berth_cgroup_free(cg);
  if ((r < 0) == paused) /* freeze failed, or thaw worked: no mark */
    (void)unlinkat(rundir, "paused", 0);
  if (r == 0) {
    c->st.status = paused ? BERTH_STATUS_PAUSED : BERTH_STATUS_RUNNING;
    berth_event_container(e, c, paused ? "pause" : "unpause", NULL);
  }
  return r;
}

int berth_container_pause(struct berth_engine *e, const char *name, berth_error_t *err)
{
  struct berth_ctr c;
  int r = berth_ctr_load(e, name, &c, err);
  if (r == 0 && c.st.status == BERTH_STATUS_PAUSED)
    r = berth_error_set_plain(err, EEXIST, "Container %s is already paused", c.id);
  else if (r == 0 && c.st.status == BERTH_STATUS_RESTARTING)
    r = berth_error_set_plain(err, EBUSY, "Container %s is restarting, wait until the container is running", c.id);
  else if (r == 0 && c.st.status != BERTH_STATUS_RUNNING)
    r = berth_error_set_plain(err, EINVAL, "container %s is not running", c.id);
  else if (r == 0)
    r = berth_ctr_set_paused(e, &c, true, err);
  berth_ctr_clear(&c);
  return r;
}

int berth_container_unpause(struct berth_engine *e, const char *name, berth_error_t *err)
{
  struct berth_ctr c;
  int r = berth_ctr_load(e, name, &c, err);
  if (r == 0 && c.st.status != BERTH_STATUS_PAUSED)
    r = berth_error_set_plain(err, EINVAL, "Container %s is not paused", c.id);
  else if (r == 0)
    r = berth_ctr_set_paused(e, &c, false, err);
  berth_ctr_clear(&c);
  return r;
}
