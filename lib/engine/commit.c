/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `commit`: a container's writable layer as a new image on top of its own.
 * The upper dir is archived with OCI whiteouts (tar-write.c's overlay mode:
 * ".wh.NAME" for a 0:0 device, ".wh..wh..opq" for an opaque directory),
 * leaving out the mount points the runtime made there (rwlayer.h), and the
 * stream is unpacked into the store by the same path as `import`
 * (berth_layer_unpack), through a pipe, so nothing is written twice.  The
 * image config is moby's NewChildImage: the container's Config with the -c
 * changes, the parent's rootfs and history plus one entry whose created_by is
 * the container's Cmd.  A running container is frozen meanwhile (-p). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "build/build.h"
#include "engine/events.h"
#include "engine/rwlayer.h"
#include "image/image.h"
#include "image/import.h"
#include "image/tar.h"

/* sha256 of an empty tar (two zero blocks): moby's layer.DigestSHA256EmptyTar */
#define EMPTY_TAR_DIFF_ID "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

/* docker's container.Config fields, the ones an image config carries */
static const char *const config_keys[] = {
    "Hostname", "Domainname", "User",        "AttachStdin", "AttachStdout", "AttachStderr", "ExposedPorts",
    "Tty",      "OpenStdin",  "StdinOnce",   "Env",         "Cmd",          "Healthcheck",  "ArgsEscaped",
    "Image",    "Volumes",    "WorkingDir",  "Entrypoint",  "NetworkDisabled", "OnBuild",   "Labels",
    "StopSignal", "StopTimeout", "Shell",    NULL,
};

static bool change_is(const char *change, const char *word)
{
  size_t n = strlen(word);
  while (*change == ' ' || *change == '\t')
    change++;
  return strncasecmp(change, word, n) == 0 && (change[n] == ' ' || change[n] == '\t' || !change[n]);
}

/* The container's Config with the changes applied as a Dockerfile would:
 * an ENTRYPOINT resets the Cmd unless a CMD came first. */
static json_t *image_config(const json_t *ctr_config, char **changes, berth_error_t *err)
{
  cleanup_json json_t *cc = json_object();
  bool cmd_set = false;
  for (const char *const *k = config_keys; *k; k++)
    if (json_object_get(ctr_config, *k))
      json_object_set_new(cc, *k, json_deep_copy(json_object_get(ctr_config, *k)));
  for (size_t i = 0; changes && changes[i]; i++) {
    if (change_is(changes[i], "ENTRYPOINT") && !cmd_set)
      json_object_set_new(cc, "Cmd", json_null());
    cmd_set |= change_is(changes[i], "CMD");
    if (berth_build_apply_change(cc, changes[i], err) < 0)
      return NULL;
  }
  return json_incref(cc);
}

/* created_by of the new history entry: the container's Cmd joined by spaces. */
static char *created_by(const json_t *ctr_config)
{
  const json_t *cmd = json_object_get(ctr_config, "Cmd"), *v;
  size_t i, len = 1;
  json_array_foreach(cmd, i, v) len += strlen(json_string_value(v) ? json_string_value(v) : "") + 1;
  char *out = calloc(1, len);
  if (!out)
    abort();
  json_array_foreach(cmd, i, v)
  {
    if (i)
      strcat(out, " ");
    strcat(out, json_string_value(v) ? json_string_value(v) : "");
  }
  return out;
}

/* Archive the upper dir and unpack it as a layer over `parent_chain`.  An
 * upper dir that holds no change (only the runtime's mount points) is the
 * empty layer docker's commit records without storing. */
static int rw_layer(struct berth_engine *e, const struct berth_ctr *c, const char *parent_chain,
                    struct berth_layer *ret, berth_error_t *err)
{
  cleanup_close int upper = berth_ctr_open_upper(c, err);
  cleanup_json json_t *changes = NULL;
  struct berth_tar_write_opts o = {.overlay_whiteouts = true, .exclude = berth_rw_runtime_paths};
  if (upper < 0 || !(changes = berth_ctr_changes(e, c, err)))
    return -1;
  if (json_array_size(changes) == 0) {
    snprintf(ret->diff_id, sizeof ret->diff_id, "%s", EMPTY_TAR_DIFF_ID);
    return 0;
  }
  if (berth_layer_from_tree(e->store, upper, &o, parent_chain, ret, err) < 0)
    return berth_error_prefix(err, "the writable layer");
  return 0;
}

static json_t *history_entry(const char *created, const char *by, const struct berth_commit_opts *opts, bool empty)
{
  json_t *h = json_pack("{s:s, s:s}", "created", created, "created_by", by);
  if (opts->author && *opts->author)
    json_object_set_new(h, "author", json_string(opts->author));
  if (opts->message && *opts->message)
    json_object_set_new(h, "comment", json_string(opts->message));
  if (empty)
    json_object_set_new(h, "empty_layer", json_true());
  return h;
}

/* The new image config: the parent's with the new config, layer and history. */
static json_t *child_config(const json_t *parent, json_t *cc, const char *by, const char *diff_id,
                            const struct berth_commit_opts *opts)
{
  json_t *cfg = json_deep_copy(parent);
  char created[64];
  bool empty = strcmp(diff_id, EMPTY_TAR_DIFF_ID) == 0;
  json_t *rootfs = json_object_get(cfg, "rootfs"), *history = json_object_get(cfg, "history");
  berth_format_rfc3339(berth_now_ns(), created);
  if (!json_is_object(rootfs)) {
    rootfs = json_pack("{s:s, s:[]}", "type", "layers", "diff_ids");
    json_object_set_new(cfg, "rootfs", rootfs);
  }
  if (!empty)
    json_array_append_new(json_object_get(rootfs, "diff_ids"), json_string(diff_id));
  if (!json_is_array(history)) {
    history = json_array();
    json_object_set_new(cfg, "history", history);
  }
  json_array_append_new(history, history_entry(created, by, opts, empty));
  json_object_set_new(cfg, "created", json_string(created));
  json_object_set_new(cfg, "config", json_incref(cc));
  json_object_del(cfg, "container_config");
  json_object_del(cfg, "container");
  json_object_del(cfg, "comment");
  json_object_del(cfg, "author");
  if (opts->author && *opts->author)
    json_object_set_new(cfg, "author", json_string(opts->author));
  if (opts->message && *opts->message)
    json_object_set_new(cfg, "comment", json_string(opts->message));
  return cfg;
}

/* moby's: the new tag, then the container's commit with the image. */
static void commit_events(struct berth_engine *e, const struct berth_ctr *c, const struct berth_commit_opts *opts,
                          const char *ref, const char *id)
{
  cleanup_free char *familiar = ref ? berth_engine_familiar(ref) : NULL;
  if (familiar)
    berth_event_image(e, "tag", id, familiar);
  berth_event_container(e, c, "commit",
                        json_pack("{s:s,s:s,s:s}", "comment", opts->message ? opts->message : "", "imageID", id,
                                  "imageRef", familiar ? familiar : ""));
}

/* build: the image config and history line are the builder's (cc, by). */
static int commit(struct berth_engine *e, struct berth_ctr *c, const struct berth_commit_opts *opts,
                  const char *ref, const json_t *build_cc, const char *build_by, char **ret_id, berth_error_t *err)
{
  const json_t *ctr_config = json_object_get(c->rec, "Config");
  const json_t *chains = json_object_get(c->rec, "Layers");
  const char *image = berth_json_str(c->rec, "Image");
  cleanup_json json_t *parent = image ? berth_image_config(e->store, image, err) : NULL;
  cleanup_json json_t *cc = NULL, *cfg = NULL;
  /* a build step's image is the child of the step before */
  struct berth_image_register_opts ropts = {.reference = ref, .parent = build_cc ? image : NULL};
  struct berth_layer l;
  bool freeze;
  int r;
  if (!parent)
    return image ? berth_error_prefix(err, "the image of container %s", c->id)
                 : berth_error_set_plain(err, EINVAL, "container %s has no image", c->id);
  if (!(cc = build_cc ? json_deep_copy(build_cc) : image_config(ctr_config, opts->changes, err)))
    return -1;
  /* moby: only a running container that is not paused already is paused,
   * until the image is there (its events come before the unpause) */
  freeze = opts->pause && c->st.status == BERTH_STATUS_RUNNING;
  if (freeze && berth_ctr_set_paused(e, c, true, err) < 0)
    return -1;
  r = rw_layer(e, c, json_string_value(json_array_get(chains, json_array_size(chains) - 1)), &l, err);
  if (r == 0) {
    cleanup_free char *by = build_by ? strdup(build_by) : created_by(ctr_config);
    cfg = child_config(parent, cc, by, l.diff_id, opts);
    if ((r = berth_image_register(e->store, cfg, &ropts, ret_id, err)) == 0)
      commit_events(e, c, opts, ref, *ret_id);
  }
  if (freeze) {
    cleanup_error berth_error_t thaw = NULL;
    if (berth_ctr_set_paused(e, c, false, r < 0 ? &thaw : err) < 0 && r == 0) {
      free(*ret_id); /* the image is there, but the container stays frozen: that is the error */
      *ret_id = NULL;
      r = -1;
    }
  }
  return r;
}

int berth_container_commit(struct berth_engine *e, const char *name, const struct berth_commit_opts *opts,
                           char **ret_id, berth_error_t *err)
{
  struct berth_ctr c;
  cleanup_free char *ref = NULL;
  cleanup_json json_t *message = opts->message ? json_string(opts->message) : NULL;
  cleanup_json json_t *author = opts->author ? json_string(opts->author) : NULL;
  int r;
  if (opts->reference && *opts->reference && !(ref = berth_engine_tag_ref(opts->reference, err)))
    return -1;
  if ((opts->message && !message) || (opts->author && !author))
    return berth_error_set_plain(err, EINVAL, "commit: the %s is not valid UTF-8", message ? "author" : "message");
  if (berth_ctr_load(e, name, &c, err) < 0) {
    berth_ctr_clear(&c);
    return -1;
  }
  if (c.st.status == BERTH_STATUS_DEAD)
    r = berth_error_set_plain(err, EINVAL, "You cannot commit container %s which is Dead", c.id);
  else
    r = commit(e, &c, opts, ref, NULL, NULL, ret_id, err);
  berth_ctr_clear(&c);
  return r;
}

int berth_ctr_commit_build(struct berth_engine *e, const char *id, const json_t *cc, const char *created_by,
                           char **ret_id, berth_error_t *err)
{
  struct berth_ctr c;
  struct berth_commit_opts opts = {0};
  int r = berth_ctr_load_id(e, id, &c, err);
  if (r == 0)
    r = commit(e, &c, &opts, NULL, cc, created_by, ret_id, err);
  berth_ctr_clear(&c);
  return r;
}
