/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Importing a root filesystem tarball as a one-layer image, and the shared
 * step of every unpack: tar stream -> stored blob + unpacked layer. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "image/image.h"
#include "image/import.h"
#include "image/tar.h"
#include "oci/image-spec.h"

int berth_layer_unpack(struct berth_store *s, int fd, const char *parent_chain, const char *expected_blob,
                       const char *expected_diff_id, struct berth_layer *ret, berth_error_t *err)
{
  struct berth_blob_writer *w = NULL;
  cleanup_free char *staging = NULL;
  cleanup_close int diff_fd = -1;
  struct berth_tar_apply_opts opts = {.tee_fd = -1, .overlay_whiteouts = true};
  struct berth_tar_apply_result res;
  struct berth_layer l = {0};
  int r = -1;

  if (berth_layer_stage(s, &staging, &diff_fd, err) < 0)
    return -1;
  if (berth_blob_writer_new(s, &w, err) < 0)
    goto out;
  opts.tee_fd = berth_blob_writer_fd(w);
  memset(&res, 0, sizeof(res));
  if (berth_tar_apply(fd, diff_fd, &opts, &res, err) < 0)
    goto out;
  if (res.raw_size == 0) {
    berth_error_set_plain(err, EINVAL, "unpack layer: empty input: not a tar archive");
    goto out;
  }
  if (expected_blob && strcmp(expected_blob, res.raw_digest) != 0) {
    berth_error_set_plain(err, EINVAL, "unpack layer: digest mismatch: expected `%s`, got `%s`", expected_blob,
                    res.raw_digest);
    goto out;
  }
  if (expected_diff_id && strcmp(expected_diff_id, res.diff_id) != 0) {
    berth_error_set_plain(err, EINVAL, "unpack layer: diff id mismatch: expected `%s`, got `%s`", expected_diff_id,
                    res.diff_id);
    goto out;
  }
  if (berth_blob_writer_commit(w, NULL, res.raw_digest, l.blob, err) < 0)
    goto out;
  memcpy(l.diff_id, res.diff_id, sizeof(l.diff_id));
  snprintf(l.parent, sizeof(l.parent), "%s", parent_chain ? parent_chain : "");
  snprintf(l.media_type, sizeof(l.media_type), "%s", berth_layer_media_type(res.compression));
  l.blob_size = res.raw_size;
  l.size = res.content_size;
  close_and_reset(&diff_fd);
  if (berth_layer_commit(s, staging, &l, err) < 0)
    goto out;
  free(steal_ptr(&staging));
  if (ret)
    *ret = l;
  r = 0;
out:
  berth_blob_writer_free(w);
  if (staging)
    berth_layer_discard(s, staging);
  return r;
}

struct tree_writer {
  int dirfd, out;
  const struct berth_tar_write_opts *opts;
  berth_error_t err;
  int r;
};

static void *tree_writer_main(void *arg)
{
  struct tree_writer *w = arg;
  sigset_t pipe_set;
  /* the reader may stop early: EPIPE for this thread, not a signal */
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
  w->r = berth_tar_write(w->dirfd, w->out, w->opts, NULL, &w->err);
  close_and_reset(&w->out);
  return NULL;
}

int berth_layer_from_tree(struct berth_store *s, int dirfd, const struct berth_tar_write_opts *opts,
                          const char *parent_chain, struct berth_layer *ret, berth_error_t *err)
{
  struct tree_writer w = {.dirfd = dirfd, .out = -1, .opts = opts};
  pthread_t t;
  int p[2], r;
  if (pipe2(p, O_CLOEXEC) < 0)
    return berth_error_set(err, errno, "pipe");
  w.out = p[1];
  if ((r = pthread_create(&t, NULL, tree_writer_main, &w)) != 0) {
    close(p[0]);
    close(p[1]);
    return berth_error_set(err, r, "start the layer writer");
  }
  r = berth_layer_unpack(s, p[0], parent_chain, NULL, NULL, ret, err);
  close(p[0]); /* a writer still going gets EPIPE */
  pthread_join(t, NULL);
  if (w.r < 0 && r == 0) {
    *err = w.err;
    return berth_error_prefix(err, "archive the layer");
  }
  berth_error_release(&w.err);
  return r;
}

int berth_image_import_fd(struct berth_store *s, int fd, const struct berth_import_opts *opts,
                          const json_t *container_config, char **ret_id, berth_error_t *err)
{
  struct berth_layer l;
  cleanup_json json_t *config = NULL;
  json_t *cc;
  char created[64];
  const char *arch = berth_host_arch(), *os = "linux";
  cleanup_free char *platform = opts->platform ? strdup(opts->platform) : NULL;
  struct berth_image_register_opts ropts = {.reference = opts->reference};
  /* Everything the config needs is checked before the layer is unpacked, so
   * that bad input leaves nothing behind. */
  cleanup_json json_t *message = opts->message ? json_string(opts->message) : NULL;

  if (platform) {
    char *slash = strchr(platform, '/');
    if (!slash || slash == platform || !slash[1] ||
        strspn(platform, "abcdefghijklmnopqrstuvwxyz0123456789_./-") != strlen(platform))
      return berth_error_set_plain(err, EINVAL, "invalid platform `%s`: expected os/arch", opts->platform);
    *slash = '\0';
    os = platform;
    arch = slash + 1;
  }
  if (opts->message && !message)
    return berth_error_set_plain(err, EINVAL, "import: the message is not valid UTF-8");
  cc = json_is_object(container_config) ? json_deep_copy(container_config) : json_object();
  if (berth_layer_unpack(s, fd, NULL, NULL, NULL, &l, err) < 0) {
    json_decref(cc);
    return berth_error_prefix(err, "import");
  }
  berth_format_rfc3339(berth_now_ns(), created);
  config = json_pack("{s:s, s:s, s:s, s:o, s:{s:s, s:[s]}, s:[{s:s, s:s, s:s}]}", "architecture", arch, "os", os,
                     "created", created, "config", cc, "rootfs", "type", "layers", "diff_ids", l.diff_id, "history",
                     "created", created, "created_by", "", "comment",
                     opts->message && *opts->message ? opts->message : "Imported from -");
  if (!config)
    return berth_error_set_plain(err, EINVAL, "import: cannot build the image config");
  if (opts->message && *opts->message)
    json_object_set_new(config, "comment", json_string(opts->message));
  return berth_image_register(s, config, &ropts, ret_id, err);
}
