/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Container records in the engine: create, inspect, rename, remove, prune,
 * and loading a container with its state made true (a monitor that died, a
 * reboot that cleared the run dir). */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/random.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/proc.h"
#include "base/timeutil.h"
#include "base/units.h"
#include "engine/engine-internal.h"
#include "engine/networks.h"
#include "engine/events.h"
#include "engine/names.h"
#include "engine/rwlayer.h"
#include "engine/spec.h"
#include "image/image.h"
#include "runtime/cgroup.h"

void berth_ctr_clear(struct berth_ctr *c)
{
  free(c->id);
  close_and_reset(&c->dirfd);
  json_decref(c->rec);
  json_decref(c->health);
  *c = (struct berth_ctr){.dirfd = -1};
}

bool berth_ctr_is_active(const struct berth_ctr *c)
{
  return c->st.status == BERTH_STATUS_RUNNING || c->st.status == BERTH_STATUS_PAUSED ||
         c->st.status == BERTH_STATUS_RESTARTING;
}

const char *berth_ctr_name(const struct berth_ctr *c)
{
  const char *n = berth_json_str(c->rec, "Name");
  return n ? n : "";
}

const char *berth_ctr_bare_name(const struct berth_ctr *c)
{
  const char *n = berth_ctr_name(c);
  return n[0] == '/' ? n + 1 : n;
}

int berth_ctr_monitor_lock_fd(struct berth_engine *e, const char *id)
{
  char path[128];
  snprintf(path, sizeof path, "%s/monitor.lock", id);
  return openat(e->store->run_containers_fd, path, O_RDWR | O_CLOEXEC);
}

void berth_ctr_wait_monitor(struct berth_engine *e, const char *id)
{
  cleanup_close int fd = berth_ctr_monitor_lock_fd(e, id);
  if (fd >= 0)
    (void)TEMP_FAILURE_RETRY(flock(fd, LOCK_SH));
}

/* Is pid still the process started at `start` (proc stat field 22), and not
 * a zombie?  A container's init whose monitor died is reaped by whoever
 * adopted it, maybe much later: until then it is a zombie that is gone. */
static bool pid_is_live(pid_t pid, unsigned long long start)
{
  char state;
  unsigned long long t;
  return berth_proc_stat(pid, &state, &t) == 0 && state != 'Z' && state != 'X' && state != 'x' && t == start;
}

/* The cgroup the container ran in, as its last spec in the run dir names it;
 * the monitor removes it when the container ends, so only a dead monitor
 * leaves one behind.  After a reboot neither exists. */
static void destroy_cgroup(struct berth_engine *e, const char *id)
{
  cleanup_close int rundir = berth_container_run_dir(e->store, id, false, NULL);
  cleanup_json json_t *spec = rundir < 0 ? NULL : berth_json_load_at(rundir, "spec.json", NULL);
  const char *path = berth_json_str(json_object_get(spec, "linux"), "cgroupsPath");
  struct berth_cgroup *cg = NULL;
  if (path && *path && berth_cgroup_open(path, &cg, NULL) == 0) {
    (void)berth_cgroup_destroy(cg, NULL);
    berth_cgroup_free(cg);
  }
}

/* The monitor is gone: whatever init is still alive runs on; otherwise the
 * container exited without anyone recording how (docker reports 255). */
static void reconcile(struct berth_engine *e, struct berth_ctr *c)
{
  cleanup_close int lock = berth_ctr_monitor_lock_fd(e, c->id);
  if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) < 0) {
    c->monitor_alive = true;
    return;
  }
  c->monitor_alive = false;
  if (c->st.pid > 0 && c->st.pid_start && pid_is_live(c->st.pid, c->st.pid_start))
    return;
  /* re-read under the lock: the monitor may have recorded the exit before it went */
  if (berth_state_read_at(c->dirfd, &c->st, NULL) < 0 || !berth_ctr_is_active(c))
    return;
  destroy_cgroup(e, c->id);
  c->st.status = BERTH_STATUS_EXITED;
  c->st.exit_code = 255;
  c->st.pid = 0;
  c->st.finished_at = berth_now_ns();
  (void)berth_state_write_at(c->dirfd, &c->st, NULL);
}

/* A running container frozen by `pause` reads as paused (pause.c). */
static void check_paused(struct berth_engine *e, struct berth_ctr *c)
{
  if (c->st.status == BERTH_STATUS_RUNNING && berth_ctr_paused_marker(e, c->id))
    c->st.status = BERTH_STATUS_PAUSED;
}

void berth_ctr_refresh(struct berth_engine *e, struct berth_ctr *c)
{
  if (berth_state_read_at(c->dirfd, &c->st, NULL) == 0 && berth_ctr_is_active(c)) {
    reconcile(e, c);
    check_paused(e, c);
  }
}

/* What `ps` shows and filters on, in the record's own shape: a tenth of the
 * record to parse for each of a thousand containers. */
static json_t *record_summary(const json_t *rec)
{
  const json_t *cfg = json_object_get(rec, "Config"), *hc = json_object_get(rec, "HostConfig");
  json_t *sum = json_object();
  static const char *const keys[] = {"Id", "Name", "Created", "Image", "Path", "Args"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    if (json_object_get(rec, keys[i]))
      json_object_set(sum, keys[i], json_object_get(rec, keys[i]));
  json_t *scfg = json_object();
  if (json_object_get(cfg, "Image"))
    json_object_set(scfg, "Image", json_object_get(cfg, "Image"));
  if (json_object_get(cfg, "Labels"))
    json_object_set(scfg, "Labels", json_object_get(cfg, "Labels"));
  json_object_set_new(sum, "Config", scfg);
  json_object_set_new(sum, "HostConfig", json_pack("{s:s?}", "NetworkMode", berth_json_str(hc, "NetworkMode")));
  json_object_set_new(sum, "Mounts", berth_mount_points_public(json_object_get(rec, "MountPoints")));
  return sum;
}

/* What the monitor last wrote of the healthcheck; once the container does
 * not run, "unhealthy", as docker's once its probes stop. */
static void load_health(struct berth_ctr *c)
{
  cleanup_free char *buf = NULL;
  size_t len = 0;
  if (berth_read_file_at(c->dirfd, "health.json", &buf, &len, NULL) < 0)
    return;
  /* a probe's output may hold NUL bytes (\u0000) */
  c->health = json_loadb(buf, len, JSON_ALLOW_NUL, NULL);
  if (c->health && !json_is_object(c->health)) {
    json_decref(c->health);
    c->health = NULL;
  }
  if (c->health && !berth_ctr_is_active(c))
    json_object_set_new(c->health, "Status", json_string("unhealthy"));
}

const char *berth_ctr_health_status(const struct berth_ctr *c)
{
  const char *s = berth_json_str(c->health, "Status");
  return !c->health ? "none" : s && *s ? s : "unhealthy";
}

static int load(struct berth_engine *e, const char *id, const char *file, struct berth_ctr *c, berth_error_t *err)
{
  *c = (struct berth_ctr){.dirfd = -1};
  c->id = strdup(id);
  if ((c->dirfd = berth_container_store_open(e->store, id, err)) < 0)
    return -1;
  if (file && !(c->rec = berth_json_load_at(c->dirfd, file, NULL)))
    file = NULL; /* made before summaries existed */
  if ((!file && !(c->rec = berth_json_load_at(c->dirfd, "config.json", err))) ||
      berth_state_read_at(c->dirfd, &c->st, err) < 0)
    return berth_error_prefix(err, "container %s", id);
  if (berth_ctr_is_active(c)) {
    reconcile(e, c);
    check_paused(e, c);
  }
  load_health(c);
  return 0;
}

int berth_ctr_load_id(struct berth_engine *e, const char *id, struct berth_ctr *c, berth_error_t *err)
{
  return load(e, id, NULL, c, err);
}

int berth_ctr_load_summary(struct berth_engine *e, const char *id, struct berth_ctr *c, berth_error_t *err)
{
  return load(e, id, "summary.json", c, err);
}

int berth_ctr_load(struct berth_engine *e, const char *name, struct berth_ctr *c, berth_error_t *err)
{
  cleanup_free char *id = berth_container_store_resolve(e->store, name, err);
  if (!id) {
    *c = (struct berth_ctr){.dirfd = -1};
    return -1;
  }
  return berth_ctr_load_id(e, id, c, err);
}

static json_t *time_json(int64_t ns)
{
  char buf[64];
  berth_format_rfc3339(ns, buf);
  return json_string(ns ? buf : "0001-01-01T00:00:00Z");
}

json_t *berth_ctr_state_json(const struct berth_ctr *c)
{
  const struct berth_state *s = &c->st;
  return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:o, s:o, s:O*}", "Status", berth_status_name(s->status),
                   "Running", s->status == BERTH_STATUS_RUNNING || s->status == BERTH_STATUS_PAUSED, "Paused",
                   s->status == BERTH_STATUS_PAUSED, "Restarting", s->status == BERTH_STATUS_RESTARTING, "OOMKilled",
                   s->oom_killed, "Dead", s->status == BERTH_STATUS_DEAD, "Pid", (int)s->pid, "ExitCode",
                   s->exit_code, "Error", s->error, "StartedAt", time_json(s->started_at), "FinishedAt",
                   time_json(s->finished_at), "Health", c->health);
}

char *berth_ctr_status_text(const struct berth_ctr *c)
{
  char dur[BERTH_UNITS_BUFSZ];
  char *out = NULL;
  int64_t now = berth_now_ns();
  switch (c->st.status) {
  case BERTH_STATUS_RUNNING:
  case BERTH_STATUS_PAUSED: {
    const char *note = c->st.status == BERTH_STATUS_PAUSED ? "Paused" : c->health ? berth_ctr_health_status(c) : NULL;
    if (note && strcmp(note, "starting") == 0)
      note = "health: starting";
    /* held for an attach client: not started yet, but about to */
    berth_human_duration(c->st.started_at ? (now - c->st.started_at) / 1000000000LL : 0, dur, sizeof dur);
    if (asprintf(&out, "Up %s%s%s%s", dur, note ? " (" : "", note ? note : "", note ? ")" : "") < 0)
      abort();
    return out;
  }
  case BERTH_STATUS_RESTARTING:
  case BERTH_STATUS_EXITED:
    berth_human_duration((now - c->st.finished_at) / 1000000000LL, dur, sizeof dur);
    if (asprintf(&out, "%s (%d) %s ago", c->st.status == BERTH_STATUS_EXITED ? "Exited" : "Restarting",
                 c->st.exit_code, dur) < 0)
      abort();
    return out;
  case BERTH_STATUS_REMOVING:
    return strdup("Removal In Progress");
  case BERTH_STATUS_DEAD:
    return strdup("Dead");
  case BERTH_STATUS_CREATED:
    break;
  }
  return strdup("Created");
}

/* ---- create ---- */

static int validate_name(const char *name, berth_error_t *err)
{
  regex_t re;
  if (regcomp(&re, "^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$", REG_EXTENDED | REG_NOSUB) != 0)
    abort();
  int r = regexec(&re, name, 0, NULL, 0);
  regfree(&re);
  if (r != 0)
    return berth_error_set_plain(err, EINVAL, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                                 name);
  return 0;
}

static char *new_id(void)
{
  char *id = malloc(BERTH_CONTAINER_ID_LEN + 1);
  if (!id)
    abort();
  berth_random_hex(id, BERTH_CONTAINER_ID_LEN + 1);
  return id;
}

/* HostConfig with docker's defaults filled in, as inspect shows it. */
static json_t *normalize_host_config(const json_t *given, berth_error_t *err)
{
  json_t *hc = json_is_object(given) ? json_deep_copy(given) : json_object();
  const char *net = berth_json_str(hc, "NetworkMode");
  if (!net || !*net || strcmp(net, "default") == 0)
    json_object_set_new(hc, "NetworkMode", json_string("bridge"));
  const char *runtime = berth_json_str(hc, "Runtime");
  if (!runtime || !*runtime)
    json_object_set_new(hc, "Runtime", json_string("runc"));
  else if (strcmp(runtime, "runc") != 0 && strcmp(runtime, "berth") != 0 && strcmp(runtime, "nvidia") != 0) {
    berth_error_set_plain(err, EINVAL, "unknown or invalid runtime name: %s", runtime);
    json_decref(hc);
    return NULL;
  }
  json_t *rp = json_object_get(hc, "RestartPolicy");
  if (!json_is_object(rp) || !berth_json_str(rp, "Name") || !*berth_json_str(rp, "Name"))
    json_object_set_new(hc, "RestartPolicy", json_pack("{s:s, s:i}", "Name", "no", "MaximumRetryCount", 0));
  const char *policy = berth_json_str(json_object_get(hc, "RestartPolicy"), "Name");
  if (json_is_true(json_object_get(hc, "AutoRemove")) && strcmp(policy, "no") != 0) {
    json_decref(hc);
    berth_error_set_plain(err, EINVAL, "conflicting options: cannot specify both --restart and --rm");
    return NULL;
  }
  json_t *log = json_object_get(hc, "LogConfig");
  if (!json_is_object(log))
    json_object_set_new(hc, "LogConfig", log = json_object());
  if (!berth_json_str(log, "Type") || !*berth_json_str(log, "Type"))
    json_object_set_new(log, "Type", json_string("json-file"));
  if (!json_is_object(json_object_get(log, "Config")))
    json_object_set_new(log, "Config", json_object());
  if (berth_json_int(hc, "ShmSize", 0) <= 0)
    json_object_set_new(hc, "ShmSize", json_integer(64LL << 20));
  return hc;
}

static json_t *command_array(const json_t *config)
{
  json_t *all = json_array(), *v;
  size_t i;
  json_array_foreach(json_object_get(config, "Entrypoint"), i, v) json_array_append(all, v);
  json_array_foreach(json_object_get(config, "Cmd"), i, v) json_array_append(all, v);
  return all;
}

/* Build the spec once with placeholder paths: every setting docker refuses at
 * create is refused here too, before anything is written. */
static int validate_spec(const char *id, const json_t *config, const json_t *hc, const json_t *points,
                         berth_error_t *err)
{
  char *lower[] = {(char *)"/nonexistent", NULL};
  struct berth_spec_input in = {
      .id = id, .config = config, .host_config = hc, .mount_points = points, .lower_dirs = lower,
      .upper_dir = "/nonexistent",
      .work_dir = "/nonexistent", .rootfs_dir = "/nonexistent", .host_caps = ~0ULL, .validate_only = true,
  };
  json_t *spec = berth_spec_build(&in, err);
  json_decref(spec);
  return spec ? 0 : -1;
}

struct etc_files {
  char *hostname, *hosts, *resolv;
};

static void etc_files_clear(struct etc_files *f)
{
  free(f->hostname);
  free(f->hosts);
  free(f->resolv);
}

/* The container's /etc/hostname, /etc/hosts and /etc/resolv.conf (the
 * hosts file gets the container's address at start: networks.c). */
static void make_etc_files(struct berth_engine *e, const json_t *config, const json_t *hc, struct etc_files *f)
{
  f->resolv = berth_net_resolv_conf(hc);
  if (asprintf(&f->hostname, "%s\n", berth_json_str(config, "Hostname")) < 0)
    abort();
  f->hosts = berth_net_hosts_at_create(e, hc);
}

static void set_hostname(json_t *config, const json_t *hc, const char *id)
{
  const char *h = berth_json_str(config, "Hostname");
  if (h && *h)
    return;
  char buf[256] = "";
  if (strcmp(berth_json_str(hc, "NetworkMode"), "host") == 0 && gethostname(buf, sizeof buf - 1) == 0)
    json_object_set_new(config, "Hostname", json_string(buf));
  else
    json_object_set_new(config, "Hostname", json_stringn(id, 12));
}

static json_t *make_record(struct berth_engine *e, const char *id, const char *name, const char *image_id,
                           json_t *config, json_t *hc, json_t *layers)
{
  cleanup_json json_t *cmd = command_array(config);
  json_t *args = json_array();
  for (size_t i = 1; i < json_array_size(cmd); i++)
    json_array_append(args, json_array_get(cmd, i));
  char created[64], path[4096];
  berth_format_rfc3339(berth_now_ns(), created);
  json_t *rec = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:O, s:O, s:O}", "Id", id, "Created", created,
                          "Path", json_string_value(json_array_get(cmd, 0)), "Args", args, "Image", image_id, "Name",
                          name, "Driver", "overlay2", "Platform", "linux", "Config", config, "HostConfig", hc, "Layers",
                          layers);
  static const char *const files[][2] = {{"ResolvConfPath", "resolv.conf"}, {"HostnamePath", "hostname"},
                                         {"HostsPath", "hosts"}, {"LogPath", NULL}};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    if (files[i][1])
      snprintf(path, sizeof path, "%s/containers/%s/%s", e->store->root, id, files[i][1]);
    else
      snprintf(path, sizeof path, "%s/containers/%s/%s-json.log", e->store->root, id, id);
    json_object_set_new(rec, files[i][0], json_string(path));
  }
  return rec;
}

/* The image, its merged config and its layer chain. */
static int resolve_image(struct berth_engine *e, const json_t *body, char **ret_image_id, json_t **ret_config,
                         json_t **ret_layers, berth_error_t *err)
{
  const char *image = berth_json_str(body, "Image");
  if (!image || !*image)
    return berth_error_set_plain(err, EINVAL, "No image specified");
  cleanup_json json_t *table = berth_images_load(e->store, err);
  if (!table)
    return -1;
  const char *id = berth_engine_resolve_image(table, image, err);
  if (!id)
    return -1;
  cleanup_json json_t *img = berth_image_config(e->store, id, err);
  if (!img)
    return -1;
  *ret_config = berth_config_merge(body, json_object_get(img, "config"), err);
  if (!*ret_config)
    return -1;
  cleanup_strv char **chain = berth_image_chain_ids(img);
  *ret_layers = json_array();
  for (char **p = chain; p && *p; p++)
    json_array_append_new(*ret_layers, json_string(*p));
  *ret_image_id = strdup(id);
  return 0;
}

/* Only the record is durable: the summary is rebuilt from it, the /etc files
 * are derived, and no state file reads as "created".  Not even the record of
 * a --rm container, which no crash should leave behind anyway (one torn by a
 * crash reads as no container; `rm -f ID` removes what is left). */
static int store_create(struct berth_engine *e, const char *id, const char *name, json_t *rec,
                        const struct etc_files *etc, berth_error_t *err)
{
  bool generated = !name;
  bool auto_remove = json_is_true(json_object_get(json_object_get(rec, "HostConfig"), "AutoRemove"));
  for (unsigned attempt = 0;; attempt++) {
    cleanup_free char *gen = generated ? berth_name_generate(attempt) : NULL;
    const char *n = generated ? gen : (name[0] == '/' ? name + 1 : name);
    cleanup_free char *slashed = NULL;
    if (asprintf(&slashed, "/%s", n) < 0)
      abort();
    json_object_set_new(rec, "Name", json_string(slashed));
    cleanup_json json_t *sum = record_summary(rec);
    cleanup_free char *rec_text = berth_json_dumps(rec), *sum_text = berth_json_dumps(sum);
    const struct berth_store_file files[] = {
        {"config.json", rec_text, strlen(rec_text), !auto_remove},
        {"summary.json", sum_text, strlen(sum_text), false},
        {"hostname", etc->hostname, strlen(etc->hostname), false},
        {"hosts", etc->hosts, strlen(etc->hosts), false},
        {"resolv.conf", etc->resolv, strlen(etc->resolv), false},
    };
    cleanup_free char *owner = NULL;
    berth_error_t e2 = NULL;
    if (berth_container_store_create(e->store, id, n, files, sizeof files / sizeof *files, &owner, &e2) == 0)
      return 0;
    if (e2->code == EEXIST && generated && attempt < 10) {
      berth_error_release(&e2);
      continue;
    }
    if (e2->code == EEXIST) {
      berth_error_release(&e2);
      return berth_error_set_plain(err, EEXIST,
                                   "Conflict. The container name \"%s\" is already in use by container \"%s\". You "
                                   "have to remove (or rename) that container to be able to reuse that name.",
                                   slashed, owner ? owner : "");
    }
    *err = e2;
    return -1;
  }
}

static bool has_volumes(const json_t *points)
{
  json_t *m;
  size_t i;
  json_array_foreach(points, i, m)
  {
    if (strcmp(berth_json_str(m, "Type"), "volume") == 0)
      return true;
  }
  return false;
}

/* A new container's volumes get the image's content; a failure takes the
 * container back. */
static int populate(struct berth_engine *e, const char *id, berth_error_t *err)
{
  struct berth_ctr c;
  int r = berth_ctr_load_id(e, id, &c, err);
  if (r == 0 && (r = berth_volumes_populate(e, &c, err)) < 0)
    (void)berth_container_store_remove(e->store, id, berth_ctr_bare_name(&c), NULL);
  berth_ctr_clear(&c);
  return r;
}

static void remove_made_volumes(struct berth_engine *e, const json_t *made)
{
  json_t *v;
  size_t i;
  json_array_foreach(made, i, v)(void) berth_volume_store_remove(e->store, json_string_value(v), NULL);
}

int berth_container_create(struct berth_engine *e, const char *name, const json_t *body, char **ret_id,
                           json_t **ret_warnings, berth_error_t *err)
{
  if (!json_is_object(body))
    return berth_error_set_plain(err, EINVAL, "container config must be a JSON object");
  if (name && *name && validate_name(name, err) < 0)
    return -1;
  cleanup_free char *image_id = NULL, *id = new_id();
  cleanup_json json_t *config = NULL, *layers = NULL;
  cleanup_json json_t *hc = normalize_host_config(json_object_get(body, "HostConfig"), err);
  if (!hc || resolve_image(e, body, &image_id, &config, &layers, err) < 0)
    return -1;
  /* the create body carries them beside Config; inspect shows them apart */
  json_object_del(config, "HostConfig");
  json_object_del(config, "NetworkingConfig");
  set_hostname(config, hc, id);
  cleanup_json json_t *points = berth_mounts_resolve(e, config, hc, err), *made = json_array(), *rec = NULL;
  struct etc_files etc = {0};
  if (!points || validate_spec(id, config, hc, points, err) < 0)
    return -1;
  /* no volume goes between its making and the record that uses it */
  cleanup_close int vlock = has_volumes(points) ? berth_volumes_lock(e->store, false, err) : -2;
  if (vlock == -1 || berth_mounts_make_volumes(e, points, made, err) < 0)
    goto undo;
  rec = make_record(e, id, "", image_id, config, hc, layers);
  json_object_set(rec, "MountPoints", points);
  if (berth_ctr_net_settings(e, rec, json_object_get(body, "NetworkingConfig"), err) < 0)
    goto undo;
  make_etc_files(e, config, hc, &etc);
  int r = store_create(e, id, name && *name ? name : NULL, rec, &etc, err);
  etc_files_clear(&etc);
  if (r < 0 || populate(e, id, err) < 0)
    goto undo;
  if (ret_warnings)
    *ret_warnings = json_array();
  berth_event_record(e, "container", "create", id, NULL);
  *ret_id = steal_ptr(&id);
  return 0;
undo:
  remove_made_volumes(e, made);
  return -1;
}

/* ---- inspect, rename, remove, prune ---- */

static json_t *graph_driver(struct berth_engine *e, const struct berth_ctr *c)
{
  json_t *data = json_object();
  char buf[4096];
  static const char *const dirs[][2] = {{"UpperDir", "upper"}, {"WorkDir", "work"}, {"MergedDir", "merged"}};
  for (size_t i = 0; i < 3; i++) {
    snprintf(buf, sizeof buf, "%s/containers/%s/%s", e->store->root, c->id, dirs[i][1]);
    json_object_set_new(data, dirs[i][0], json_string(buf));
  }
  json_t *lower = json_array(), *v;
  size_t i;
  json_array_foreach(json_object_get(c->rec, "Layers"), i, v)
  {
    cleanup_free char *p = berth_layer_diff_path(e->store, json_string_value(v));
    json_array_insert_new(lower, 0, json_string(p));
  }
  cleanup_free char *joined = NULL;
  json_array_foreach(lower, i, v)
  {
    char *n = NULL;
    if (asprintf(&n, "%s%s%s", joined ? joined : "", joined ? ":" : "", json_string_value(v)) < 0)
      abort();
    free(joined);
    joined = n;
  }
  json_decref(lower);
  json_object_set_new(data, "LowerDir", json_string(joined ? joined : ""));
  return json_pack("{s:o, s:s}", "Data", data, "Name", "overlay2");
}

int berth_ctr_size(struct berth_engine *e, const struct berth_ctr *c, int64_t *ret_rw, int64_t *ret_rootfs)
{
  off_t rw = 0, total = 0;
  (void)berth_du_at(c->dirfd, "upper", &rw, NULL);
  total = rw;
  json_t *v;
  size_t i;
  json_array_foreach(json_object_get(c->rec, "Layers"), i, v)
  {
    struct berth_layer l;
    if (berth_layer_get(e->store, json_string_value(v), &l, NULL) == 0)
      total += l.size;
  }
  *ret_rw = rw;
  *ret_rootfs = total;
  return 0;
}

json_t *berth_container_inspect(struct berth_engine *e, const char *name, bool size, berth_error_t *err)
{
  struct berth_ctr c;
  if (berth_ctr_load(e, name, &c, err) < 0) {
    berth_ctr_clear(&c);
    return NULL;
  }
  json_t *out = json_deep_copy(c.rec);
  json_object_del(out, "Layers");
  json_object_set_new(out, "State", berth_ctr_state_json(&c));
  json_object_set_new(out, "RestartCount", json_integer(c.st.restart_count));
  json_object_set_new(out, "MountLabel", json_string(""));
  json_object_set_new(out, "ProcessLabel", json_string(""));
  json_object_set_new(out, "AppArmorProfile", json_string(""));
  json_object_set_new(out, "ExecIDs", json_null());
  json_object_set_new(out, "GraphDriver", graph_driver(e, &c));
  json_object_del(out, "MountPoints");
  json_object_set_new(out, "Mounts", berth_mount_points_public(json_object_get(c.rec, "MountPoints")));
  json_object_set_new(out, "NetworkSettings", berth_ctr_net_inspect(e, &c));
  if (size) {
    int64_t rw, rootfs;
    berth_ctr_size(e, &c, &rw, &rootfs);
    json_object_set_new(out, "SizeRw", json_integer(rw));
    json_object_set_new(out, "SizeRootFs", json_integer(rootfs));
  }
  berth_ctr_clear(&c);
  return out;
}

static int rename_loaded(struct berth_engine *e, struct berth_ctr *c, const char *nn, berth_error_t *err)
{
  const char *old = berth_ctr_bare_name(c);
  cleanup_free char *owner = NULL, *slashed = NULL;
  berth_error_t e2 = NULL;
  if (strcmp(old, nn) == 0)
    return berth_error_set_plain(err, EINVAL, "Renaming a container with the same name as its current name");
  if (berth_container_store_rename(e->store, c->id, old, nn, &owner, &e2) < 0) {
    if (e2->code != EEXIST) {
      *err = e2;
      return -1;
    }
    berth_error_release(&e2);
    return berth_error_set_plain(err, EEXIST,
                                 "Error when allocating new name: Conflict. The container name \"/%s\" is already in "
                                 "use by container \"%s\". You have to remove (or rename) that container to be able "
                                 "to reuse that name.",
                                 nn, owner ? owner : "");
  }
  if (asprintf(&slashed, "/%s", nn) < 0)
    abort();
  json_object_set_new(c->rec, "Name", json_string(slashed));
  cleanup_json json_t *sum = record_summary(c->rec);
  if (berth_json_write_atomic(c->dirfd, "config.json", c->rec, err) < 0)
    return -1;
  return berth_json_write_replace(c->dirfd, "summary.json", sum, err);
}

int berth_container_rename(struct berth_engine *e, const char *name, const char *new_name, berth_error_t *err)
{
  struct berth_ctr c;
  if (validate_name(new_name, err) < 0)
    return -1;
  int r = berth_ctr_load(e, name, &c, err);
  cleanup_free char *old = r == 0 ? strdup(berth_ctr_name(&c)) : NULL;
  if (r == 0)
    r = rename_loaded(e, &c, new_name[0] == '/' ? new_name + 1 : new_name, err);
  if (r == 0)
    berth_event_container(e, &c, "rename", json_pack("{s:s}", "oldName", old));
  berth_ctr_clear(&c);
  return r;
}

/* A record that does not load (only a crash tears one: a --rm container's
 * is not fsynced) goes with `rm -f`, and its name with it. */
static int remove_broken(struct berth_engine *e, const char *name, berth_error_t *err)
{
  cleanup_error berth_error_t e2 = NULL;
  cleanup_free char *id = berth_container_store_resolve(e->store, name, &e2);
  if (!id || berth_container_store_remove(e->store, id, NULL, &e2) < 0)
    return -1;
  berth_container_store_clean_names(e->store);
  berth_error_release(err);
  return 0;
}

int berth_container_remove(struct berth_engine *e, const char *name, const struct berth_rm_opts *opts,
                           berth_error_t *err)
{
  struct berth_ctr c;
  int r = -1;
  if (berth_ctr_load(e, name, &c, err) < 0) {
    if (opts && opts->force && (*err)->code != ENOENT)
      r = remove_broken(e, name, err);
    goto out;
  }
  if (berth_ctr_is_active(&c)) {
    if (!opts || !opts->force) {
      r = berth_error_set_plain(err, EBUSY,
                                "cannot remove container \"%s\": container is running: stop the container before "
                                "removing or force remove",
                                berth_ctr_name(&c));
      goto out;
    }
    if (berth_ctr_kill_wait(e, &c, SIGKILL, err) < 0)
      goto out;
  }
  r = berth_container_store_remove(e->store, c.id, berth_ctr_bare_name(&c), err);
  if (r == 0) {
    berth_ctr_net_release(e, &c);
    berth_event_container(e, &c, "destroy", NULL);
  }
  if (r == 0 && opts && opts->volumes)
    berth_volumes_remove_anonymous(e, json_object_get(c.rec, "MountPoints"), c.id);
  /* a concurrent remover (the monitor of a --rm container) got there first */
  if (r < 0 && (*err)->code == ENOENT && opts && opts->force) {
    berth_error_release(err);
    r = 0;
  }
out:
  berth_ctr_clear(&c);
  return r;
}

json_t *berth_container_prune(struct berth_engine *e, char **filters, berth_error_t *err)
{
  static const char *const allowed[] = {"until", "label", "label!", NULL};
  cleanup_json json_t *f = berth_engine_parse_filters(filters, allowed, err);
  if (!f)
    return NULL;
  cleanup_strv char **ids = berth_container_store_ids(e->store, NULL, err);
  if (!ids)
    return NULL;
  json_t *deleted = json_array();
  int64_t reclaimed = 0;
  for (char **p = ids; *p; p++) {
    struct berth_ctr c;
    cleanup_error berth_error_t e2 = NULL;
    if (berth_ctr_load_id(e, *p, &c, &e2) == 0 && !berth_ctr_is_active(&c) && berth_ctr_matches(&c, f)) {
      int64_t rw = 0, total = 0;
      berth_ctr_size(e, &c, &rw, &total);
      if (berth_container_store_remove(e->store, c.id, berth_ctr_bare_name(&c), NULL) == 0) {
        json_array_append_new(deleted, json_string(c.id));
        reclaimed += rw;
      }
    }
    berth_ctr_clear(&c);
  }
  return json_pack("{s:o, s:I}", "ContainersDeleted", deleted, "SpaceReclaimed", (json_int_t)reclaimed);
}

int berth_container_tty(struct berth_engine *e, const char *name, bool *ret_tty, bool *ret_open_stdin,
                        berth_error_t *err)
{
  struct berth_ctr c;
  int r = berth_ctr_load(e, name, &c, err);
  if (r == 0) {
    const json_t *cfg = json_object_get(c.rec, "Config");
    *ret_tty = json_is_true(json_object_get(cfg, "Tty"));
    *ret_open_stdin = json_is_true(json_object_get(cfg, "OpenStdin"));
  }
  berth_ctr_clear(&c);
  return r;
}
