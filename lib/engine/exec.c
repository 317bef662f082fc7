/* SPDX-License-Identifier: GPL-2.0-or-later */
/* exec: ask the container's monitor for an exec session (include/berth/
 * attach.h); the monitor forks the command into the container
 * (lib/runtime/exec-join.c) and relays it over the returned socket. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <berth/attach.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "engine/engine-internal.h"

static json_t *request(const struct berth_exec_opts *o)
{
  json_t *req = json_pack("{s:o,s:o,s:s,s:s,s:b,s:b,s:b,s:b}", "Cmd", berth_json_strv(o->cmd), "Env", berth_json_strv(o->env),
                          "User", o->user ? o->user : "", "WorkingDir", o->workdir ? o->workdir : "", "Tty", o->tty,
                          "AttachStdin", o->stdin, "Privileged", o->privileged, "Detach", o->detach);
  if (req && o->rows && o->cols)
    json_object_set_new(req, "ConsoleSize", json_pack("[ii]", o->rows, o->cols));
  return req;
}

static int check_running(const struct berth_ctr *c, const char *name, berth_error_t *err)
{
  if (c->st.status == BERTH_STATUS_PAUSED)
    return berth_error_set_plain(err, EINVAL, "Container %s is paused, unpause the container before exec", name);
  if (c->st.status != BERTH_STATUS_RUNNING || !c->monitor_alive)
    return berth_error_set_plain(err, EINVAL, "Container %s is not running", c->id);
  return 0;
}

int berth_container_exec(struct berth_engine *e, const char *name, const struct berth_exec_opts *opts, int *ret_fd,
                         berth_error_t *err)
{
  struct berth_ctr c;
  if (!opts->cmd || !opts->cmd[0])
    return berth_error_set_plain(err, EINVAL, "No exec command specified");
  int r = berth_ctr_load(e, name, &c, err);
  if (r == 0)
    r = check_running(&c, name, err);
  cleanup_close int fd = r < 0 ? -1 : berth_ctr_connect_monitor(e, c.id, err);
  berth_ctr_clear(&c);
  if (fd < 0)
    return -1;
  cleanup_json json_t *req = request(opts);
  cleanup_free char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
  if (!text)
    return berth_error_set(err, ENOMEM, "exec request");
  if (strlen(text) > BERTH_ATTACH_MAX_PAYLOAD)
    return berth_error_set_plain(err, E2BIG, "the exec request (command and environment) is larger than %d bytes",
                                 BERTH_ATTACH_MAX_PAYLOAD);
  if (berth_attach_send(fd, BERTH_ATTACH_EXEC, text, strlen(text), err) < 0)
    return -1;
  *ret_fd = steal_fd(&fd);
  return 0;
}
