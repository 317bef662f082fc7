/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer tarballs: a strict streaming tar reader, unpacking a layer beneath a
 * directory fd, and writing a deterministic tar of a tree.
 *
 * Reader (tar-read.c): ustar, GNU (long names 'L'/'K', base-256 numbers) and
 * PAX ('x' records: path, linkpath, size, uid, gid, mtime, SCHILY.xattr.*,
 * SCHILY.devmajor/devminor; 'g' global headers are validated and ignored).
 * Names are returned as raw bytes, never converted between charsets.  Bad
 * checksums, truncation, negative or malformed numbers, malformed PAX records
 * and sparse entries are errors.  Like Go's archive/tar, end of input at an
 * entry boundary ends the archive, and link/symlink/device/fifo/directory
 * entries carry no data whatever their size field says.
 *
 * Apply (tar-apply.c): every filesystem operation happens relative to the
 * root fd; see berth_tar_apply() for the rules.
 *
 * Write (tar-write.c): see berth_tar_write().
 *
 * None of these functions is thread-safe on the same object; distinct calls
 * may run concurrently. */
#ifndef BERTH_IMAGE_TAR_H
#define BERTH_IMAGE_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <berth/error.h>

#include "base/digest.h"
#include "image/decompress.h"

/* ---- streaming reader ---------------------------------------------------- */

enum berth_tar_type {
  BERTH_TAR_REG = '0',
  BERTH_TAR_LINK = '1', /* hard link to `linkname` */
  BERTH_TAR_SYMLINK = '2',
  BERTH_TAR_CHAR = '3',
  BERTH_TAR_BLOCK = '4',
  BERTH_TAR_DIR = '5',
  BERTH_TAR_FIFO = '6',
};

struct berth_tar_xattr {
  char *name;  /* NUL-terminated */
  char *value; /* `len` bytes (may contain NULs), NUL-terminated for convenience */
  size_t len;
};

struct berth_tar_header {
  char *name;     /* as stored (after GNU/PAX overrides), raw bytes, never empty-checked */
  char *linkname; /* "" when none */
  enum berth_tar_type type;
  uint32_t mode;  /* permission bits incl. suid/sgid/sticky (07777) */
  int64_t uid, gid;
  int64_t size;   /* data bytes that follow (0 for everything but regular files) */
  struct timespec mtime;
  uint32_t devmajor, devminor;
  struct berth_tar_xattr *xattrs;
  size_t n_xattrs;
};

struct berth_tar_reader;

/* Read tar entries from `src` (not owned). */
struct berth_tar_reader *berth_tar_reader_new(struct berth_reader *src);
void berth_tar_reader_free(struct berth_tar_reader *t);
/* Advance to the next entry, skipping unread data of the current one.
 * Returns 1 and points *ret_hdr at the entry (valid until the next call), 0
 * at the end of the archive, -1 with err set. */
int berth_tar_reader_next(struct berth_tar_reader *t, const struct berth_tar_header **ret_hdr,
                          berth_error_t *err);
/* Zero-copy read of the current entry's data: up to `max` bytes, 0 at its
 * end, -1 with err set (truncated archive). */
ssize_t berth_tar_reader_data(struct berth_tar_reader *t, size_t max, const void **ret_buf,
                              berth_error_t *err);

/* ---- apply ---------------------------------------------------------------- */

struct berth_tar_apply_opts {
  int tee_fd;             /* -1, or an fd receiving an exact copy of the raw input bytes
                           * (note: a zeroed struct means fd 0; set -1) */
  /* true: the layer is unpacked on its own (overlayfs lowerdir): ".wh.NAME"
   * becomes a char device 0:0 named NAME and ".wh..wh..opq" sets
   * trusted.overlay.opaque="y" on its directory.  false: apply onto an
   * existing tree: ".wh.NAME" deletes NAME and an opaque marker empties the
   * directory of everything this layer did not create. */
  bool overlay_whiteouts;
  bool ignore_ownership;  /* never chown (rootless, tests); EPERM on mknod of devices is ignored */
  int64_t max_size;       /* cap on uncompressed bytes, 0 = none; exceeding it fails with EFBIG */
  bool no_thread;         /* decompress and hash in the calling thread (fuzzing, tiny inputs) */
  bool no_digest;         /* compute no digests (res->raw_digest and diff_id are "") */
  /* docker cp's extraction (not a layer): ".wh." names are ordinary files,
   * and an existing directory is never replaced by a non-directory nor the
   * reverse (docker's NoOverwriteDirNonDir; EISDIR / ENOTDIR). */
  bool plain;
  bool force_owner;       /* chown every entry to owner_uid:owner_gid instead of its own ids */
  uid_t owner_uid;
  gid_t owner_gid;
};

struct berth_tar_apply_result {
  char raw_digest[BERTH_DIGEST_STR_LEN]; /* sha256 of the raw input bytes = blob digest */
  char diff_id[BERTH_DIGEST_STR_LEN];    /* sha256 of the uncompressed tar stream */
  int64_t raw_size, tar_size;            /* bytes, including anything after the end marker */
  int64_t content_size; /* regular file sizes + symlink target lengths, hard links once */
  enum berth_compression compression;
};

/* Read a tar stream (plain, gzip incl. multi-member, or zstd; detected by
 * magic) from input_fd and unpack it beneath root_dirfd.  opts may be NULL
 * (tee -1, apply mode, chown, no cap).  The input is always read to its end,
 * so the digests cover every byte and the tee gets a complete copy.
 *
 * Names: a leading "/" or "./" is dropped, as docker does ("/etc/x" is
 * "etc/x"); empty and "." components are dropped; a `..` component anywhere
 * (including "/../x" and "a/../b") is refused.  Entries naming the root
 * itself ("./", "/") are skipped when they are directories (docker skips
 * them) and refused otherwise.  GNU long names take precedence over PAX paths
 * as in Go's archive/tar.
 *
 * Parents are resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS), falling back to an O_NOFOLLOW walk one component
 * at a time when openat2 is unavailable; missing parents are created 0755.
 * A symlink in a parent path is refused in overlay mode (the tree holds only
 * this layer); in apply mode symlinks that existed before this layer are
 * followed, confined to the root like a chroot (docker's behaviour for
 * "lib/x" over a merged-/usr "lib -> usr/lib"), and symlinks created by this
 * layer are refused.  The last component is created with *at calls and
 * O_EXCL|O_NOFOLLOW, replacing whatever was there (a directory stays when the
 * entry is a directory).  Metadata is applied through fds or with
 * AT_SYMLINK_NOFOLLOW, never through a symlink; directory modes and mtimes
 * are applied after all entries.  Hard links must point at an existing
 * non-directory inside the root (absolute targets are resolved inside it);
 * a hard link to a symlink links the symlink itself.  Hard-link entries
 * carry no metadata of their own.  xattrs trusted.overlay.* and
 * user.overlay.* in the input are dropped (overlayfs would act on them);
 * ENOTSUP/EPERM from setting other xattrs are ignored (as docker).
 *
 * On failure nothing outside root_dirfd has been touched, but partial content
 * may remain inside it: unpack into a fresh staging directory and remove it
 * on failure.  Errors name the entry: "unpack layer: entry `x`: ...". */
int berth_tar_apply(int input_fd, int root_dirfd, const struct berth_tar_apply_opts *opts,
                    struct berth_tar_apply_result *res, berth_error_t *err);

/* ---- write ---------------------------------------------------------------- */

struct berth_tar_write_opts {
  enum berth_compression compression;
  int compression_level;  /* 0 = the codec's default */
  /* Convert overlay upper-dir markers: char device 0:0 NAME -> ".wh.NAME",
   * a directory with trusted.overlay.opaque=y -> "DIR/.wh..wh..opq";
   * trusted.overlay.* xattrs are never written in this mode. */
  bool overlay_whiteouts;
  bool no_digest; /* compute no digests (res->diff_id and digest are "") */
  /* NULL: archive the whole tree at dirfd (no entry for the root itself).
   * Otherwise a path beneath dirfd (symlinks in its parent resolved inside
   * dirfd, the last component never followed): archive that entry and, for a
   * directory, its subtree, named `rename` (default: its last component). */
  const char *source;
  const char *rename;
  /* NULL, or NULL-terminated names relative to dirfd ("etc/hosts") left out
   * of the archive together with everything below them. */
  const char *const *exclude;
  /* Archive the object dirfd itself refers to (any type: an O_PATH fd as a
   * safe lookup returns, never re-resolved), named `rename` (required), with
   * its subtree for a directory; `source` is ignored.  Its own xattrs are
   * not archived when it is neither a regular file nor a directory. */
  bool source_is_dirfd;
};

struct berth_tar_write_result {
  char diff_id[BERTH_DIGEST_STR_LEN]; /* sha256 of the uncompressed tar */
  char digest[BERTH_DIGEST_STR_LEN];  /* sha256 of the bytes written to out_fd */
  int64_t tar_size, written_size;
  int64_t content_size; /* as in berth_tar_apply_result */
};

/* Write a tar stream of the tree at dirfd to out_fd (not closed).
 * Deterministic: the same tree gives the same bytes.  Entries are walked
 * depth-first with the children of each directory sorted bytewise, written
 * as ustar with PAX records where needed (long names and links, large or
 * negative numbers, xattrs).  Preserved: uid, gid, mode, mtime (seconds),
 * xattrs (except security.selinux), hard links (first name in walk order is
 * the file, later ones link to it), symlinks, char/block devices, fifos.
 * Sockets are skipped.  No uname/gname, atime or ctime.  Files are opened
 * with O_NOFOLLOW beneath dirfd; a file that shrinks while it is read is
 * padded with zeros, one that grows is cut at its original size. */
int berth_tar_write(int dirfd, int out_fd, const struct berth_tar_write_opts *opts,
                    struct berth_tar_write_result *res, berth_error_t *err);
/* One 512-byte ustar header for a synthetic entry (uid and gid 0): `type`
 * '0' file, '1' hard link to `link`, '5' directory.  EINVAL when the name,
 * link or numbers need PAX records. */
int berth_tar_simple_header(unsigned char *blk, const char *name, char type, mode_t mode, int64_t size,
                            const char *link, int64_t mtime, berth_error_t *err);

#endif
