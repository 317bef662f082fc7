/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The on-disk store (design.md "State"): content-addressed blobs, unpacked
 * layers keyed by chain id, and the image table (images.json).  Every write is
 * atomic (temp + fsync + rename + directory fsync); names and the image table
 * change only under the store lock; readers never need the lock. */
#ifndef BERTH_STORE_H
#define BERTH_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include <berth/error.h>

#include "base/digest.h"

struct berth_store {
  char *root;    /* persistent state, e.g. /var/lib/berth */
  char *runroot; /* volatile state, e.g. /run/berth */
  int root_fd;
  int runroot_fd;
  int blobs_fd;  /* ROOT/blobs/sha256 */
  int layers_fd; /* ROOT/layers */
  int containers_fd; /* ROOT/containers */
  int names_fd;      /* ROOT/names: one symlink per container name -> id */
  int run_containers_fd; /* RUNROOT/containers */
  int volumes_fd;        /* ROOT/volumes */
  int users_lock_fd; /* shared lock on ROOT/users.lock while the store is open */
  int lease_fd;      /* this process's lease file (RUNROOT/leases/), -1 until needed */
  char *lease_name;
};

/* Open (creating as needed) the store; cleans temp files left by interrupted
 * writers.  Paths must be absolute. */
int berth_store_open(const char *root, const char *runroot, struct berth_store **ret, berth_error_t *err);
void berth_store_free(struct berth_store *s);
/* Exclusive lock over the image table, layer commits and garbage collection.
 * Returns the fd holding it (close to release). */
int berth_store_lock(struct berth_store *s, berth_error_t *err);

/* Leases: what a process is about to reference keeps garbage collection off
 * it.  A writer leases a blob or layer digest before it checks that it exists
 * or commits it, and until the image that will use it is registered; leases
 * end with the process (its lease file, in the run dir, is flocked while it
 * lives).  Garbage
 * collection keeps whatever a live lease names. */
int berth_store_lease(struct berth_store *s, const char *digest, berth_error_t *err);

/* ---- blobs: ROOT/blobs/sha256/<hex> ---- */
struct berth_blob_writer;
int berth_blob_writer_new(struct berth_store *s, struct berth_blob_writer **ret, berth_error_t *err);
int berth_blob_writer_fd(const struct berth_blob_writer *w);
int berth_blob_writer_write(struct berth_blob_writer *w, const void *buf, size_t len, berth_error_t *err);
/* Verify (when `expected` is set) and move the blob into place.  With
 * `trusted_digest` the caller vouches that it hashed exactly the bytes written
 * through the fd (used by streaming unpack to avoid hashing twice). */
int berth_blob_writer_commit(struct berth_blob_writer *w, const char *expected, const char *trusted_digest,
                             char out_digest[BERTH_DIGEST_STR_LEN], berth_error_t *err);
/* Discard an uncommitted blob; accepts NULL. */
void berth_blob_writer_free(struct berth_blob_writer *w);
int berth_blob_put(struct berth_store *s, const void *data, size_t len, char out_digest[BERTH_DIGEST_STR_LEN],
                   berth_error_t *err);
bool berth_blob_exists(struct berth_store *s, const char *digest);
int berth_blob_open(struct berth_store *s, const char *digest, berth_error_t *err);
int berth_blob_read(struct berth_store *s, const char *digest, char **ret_buf, size_t *ret_len, berth_error_t *err);
int berth_blob_stat(struct berth_store *s, const char *digest, int64_t *ret_size, berth_error_t *err);
int berth_blob_remove(struct berth_store *s, const char *digest, berth_error_t *err);

/* ---- layers: ROOT/layers/<chain-hex>/{diff/,layer.json} ---- */
struct berth_layer {
  char chain_id[BERTH_DIGEST_STR_LEN];
  char diff_id[BERTH_DIGEST_STR_LEN];
  char parent[BERTH_DIGEST_STR_LEN]; /* "" for a base layer */
  char blob[BERTH_DIGEST_STR_LEN];   /* the stored (possibly compressed) tar, "" if none */
  char media_type[96];               /* of the blob */
  int64_t blob_size;
  int64_t size; /* unpacked content bytes, as docker counts them */
};

/* chain(L1) = diff(L1); chain(Ln) = sha256(chain(Ln-1) + " " + diff(Ln)) */
void berth_chain_id(const char *parent_chain, const char *diff_id, char out[BERTH_DIGEST_STR_LEN]);
/* Make a staging directory for a new layer; returns an fd on its diff/ and the
 * staging name (owned by the caller). */
int berth_layer_stage(struct berth_store *s, char **ret_staging, int *ret_diff_fd, berth_error_t *err);
/* Record the layer's metadata and move the staging dir into place under the
 * store lock (taken here).  An existing identical layer wins and the staging
 * dir is removed.  `l->chain_id` is computed from parent and diff_id. */
int berth_layer_commit(struct berth_store *s, const char *staging, struct berth_layer *l, berth_error_t *err);
void berth_layer_discard(struct berth_store *s, const char *staging);
bool berth_layer_exists(struct berth_store *s, const char *chain_id);
int berth_layer_get(struct berth_store *s, const char *chain_id, struct berth_layer *ret, berth_error_t *err);
/* O_PATH-free directory fd of the layer's unpacked content. */
int berth_layer_open_diff(struct berth_store *s, const char *chain_id, berth_error_t *err);
/* Absolute path of the layer's diff dir (for overlay lowerdir); caller frees. */
char *berth_layer_diff_path(struct berth_store *s, const char *chain_id);

/* ---- images: ROOT/images.json ----
 * { "images": { "<image id>": { "names": [...], "digests": [...],
 *   "manifest": "<digest>", "layers": [chain ids], "size": N, "created": ns,
 *   "added": ns } } }
 * An image id is the digest of its config blob. */
/* Load the table (lock-free: writes are atomic renames).  Never NULL on success. */
json_t *berth_images_load(struct berth_store *s, berth_error_t *err);
/* Write it back; the caller holds the store lock. */
int berth_images_save(struct berth_store *s, const json_t *table, berth_error_t *err);
/* Move `name` (a full reference string) to image `id`, removing it from any
 * other image in `table` (which becomes dangling when it loses its last name). */
void berth_images_set_name(json_t *table, const char *id, const char *name);
/* The id of the image that holds `name` (a full reference string, a tag or a
 * digest reference), NULL when none does (pointer into table). */
const char *berth_images_name_owner(const json_t *table, const char *name);
/* Find the image a user string designates: a full or short (>= 1 hex) image
 * id, "sha256:<id>", or a normalized reference; NULL when none.  Ambiguous short
 * ids are an error. Returns the id (pointer into table). */
const char *berth_images_lookup(json_t *table, const char *normalized_ref, const char *user_input,
                                berth_error_t *err);

/* Remove layers no image uses and blobs nothing refers to; caller holds the
 * lock.  Reports the bytes freed and, when `removed_layers` is an array, the
 * chain ids of the layers removed. */
int berth_store_gc(struct berth_store *s, const json_t *table, int64_t *ret_freed, json_t *removed_layers,
                   berth_error_t *err);

/* ---- containers: ROOT/containers/<id>/, names in ROOT/names/<name> -> <id> ----
 * A container appears by renaming a complete staging directory into place,
 * after its name was reserved by creating the name's symlink (atomic, so two
 * concurrent creates of one name give one winner and one EEXIST).  Removal
 * renames the directory aside first, so a half-removed container is never
 * seen. */
#define BERTH_CONTAINER_ID_LEN 64
/* A file of a new container.  Only durable ones are fsynced: the record
 * itself; what is rebuilt from it, or read as unknown, need not be. */
struct berth_store_file {
  const char *name;
  const char *data;
  size_t len;
  bool durable;
};
/* Write a new container with these files; the dirs upper, work and merged
 * are made too.  EEXIST (plain, *ret_owner = the id holding the name) when
 * the name is taken. */
int berth_container_store_create(struct berth_store *s, const char *id, const char *name,
                                 const struct berth_store_file *files, size_t n_files, char **ret_owner,
                                 berth_error_t *err);
/* Drop name links whose container does not exist. */
void berth_container_store_clean_names(struct berth_store *s);
/* Open ROOT/containers/<id> (O_DIRECTORY); ENOENT when absent. */
int berth_container_store_open(struct berth_store *s, const char *id, berth_error_t *err);
/* Open (creating) RUNROOT/containers/<id>. */
int berth_container_run_dir(struct berth_store *s, const char *id, bool create, berth_error_t *err);
/* Resolve a name, a full id or a unique id prefix to the full id; ENOENT
 * "No such container: X". */
char *berth_container_store_resolve(struct berth_store *s, const char *name_or_id, berth_error_t *err);
/* The ids of every container, unordered. */
char **berth_container_store_ids(struct berth_store *s, size_t *ret_n, berth_error_t *err);
/* Move `name` from id to new_name (EEXIST when taken). */
int berth_container_store_rename(struct berth_store *s, const char *id, const char *name, const char *new_name,
                                 char **ret_owner, berth_error_t *err);
/* Remove the record, its name and its run dir. */
int berth_container_store_remove(struct berth_store *s, const char *id, const char *name, berth_error_t *err);

/* ---- volumes: ROOT/volumes/<name>/{volume.json,_data/} ----
 * A volume appears by renaming a complete staging directory into place and
 * goes by renaming it aside first, so a half-made or half-removed volume is
 * never seen.  Creating one that exists is not an error (*ret_created false):
 * create-on-use races end with one volume.  volume.json holds the engine's
 * metadata (docker's volume inspect fields but Name and Mountpoint). */
/* volumes.lock: exclusive for removal (rm, prune, rm -v) so that no volume
 * goes while a container that will use it is being created (shared). */
int berth_volumes_lock(struct berth_store *s, bool exclusive, berth_error_t *err);
bool berth_volume_name_valid(const char *name);
/* docker's errors for an invalid name: "create NAME: ..." (EINVAL). */
int berth_volume_name_check(const char *name, berth_error_t *err);
int berth_volume_store_create(struct berth_store *s, const char *name, const json_t *meta, bool *ret_created,
                              berth_error_t *err);
/* volume.json of `name`; ENOENT "get NAME: no such volume" when absent. */
json_t *berth_volume_store_get(struct berth_store *s, const char *name, berth_error_t *err);
char **berth_volume_store_names(struct berth_store *s, size_t *ret_n, berth_error_t *err);
int berth_volume_store_remove(struct berth_store *s, const char *name, berth_error_t *err);
/* ROOT/volumes/<name>/_data; caller frees. */
char *berth_volume_data_path(struct berth_store *s, const char *name);

#endif
