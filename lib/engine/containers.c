/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Placeholder definitions while the container operations are written (issue 3). */
#include <errno.h>

#include <berth/engine.h>

int berth_container_create(struct berth_engine *e, const char *name, const json_t *body, char **ret_id, json_t **ret_warnings, berth_error_t *err) {
  return berth_error_set_plain(err, ENOSYS, "container create: not implemented yet");
}

int berth_container_start(struct berth_engine *e, const char *name, const struct berth_start_opts *opts, berth_error_t *err) {
  return berth_error_set_plain(err, ENOSYS, "container start: not implemented yet");
}

int berth_container_stop(struct berth_engine *e, const char *name, int timeout, const char *signal, berth_error_t *err) {
  return berth_error_set_plain(err, ENOSYS, "container stop: not implemented yet");
}

int berth_container_restart(struct berth_engine *e, const char *name, int timeout, const char *signal, berth_error_t *err) {
  return berth_error_set_plain(err, ENOSYS, "container restart: not implemented yet");
}

int berth_container_kill(struct berth_engine *e, const char *name, const char *signal, berth_error_t *err) {
  return berth_error_set_plain(err, ENOSYS, "container kill: not implemented yet");
}

int berth_container_remove(struct berth_engine *e, const char *name, const struct berth_rm_opts *opts, berth_error_t *err) {
  return berth_error_set_plain(err, ENOSYS, "container remove: not implemented yet");
}

int berth_container_wait(struct berth_engine *e, const char *name, const char *condition, int *ret_code, berth_error_t *err) {
  return berth_error_set_plain(err, ENOSYS, "container wait: not implemented yet");
}

int berth_container_rename(struct berth_engine *e, const char *name, const char *new_name, berth_error_t *err) {
  return berth_error_set_plain(err, ENOSYS, "container rename: not implemented yet");
}

json_t *berth_container_list(struct berth_engine *e, const struct berth_container_list_opts *opts, berth_error_t *err) {
  berth_error_set_plain(err, ENOSYS, "container list: not implemented yet");
  return NULL;
}

json_t *berth_container_inspect(struct berth_engine *e, const char *name, bool size, berth_error_t *err) {
  berth_error_set_plain(err, ENOSYS, "container inspect: not implemented yet");
  return NULL;
}

json_t *berth_container_prune(struct berth_engine *e, char **filters, berth_error_t *err) {
  berth_error_set_plain(err, ENOSYS, "container prune: not implemented yet");
  return NULL;
}

int berth_container_attach(struct berth_engine *e, const char *name, const struct berth_attach_opts *opts, int *ret_fd, berth_error_t *err) {
  return berth_error_set_plain(err, ENOSYS, "container attach: not implemented yet");
}

int berth_container_tty(struct berth_engine *e, const char *name, bool *ret_tty, bool *ret_open_stdin, berth_error_t *err) {
  return berth_error_set_plain(err, ENOSYS, "container tty: not implemented yet");
}
