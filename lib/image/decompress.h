/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Streaming decompression of layer blobs and archives.
 *
 * A `struct berth_reader` reads raw bytes from an fd, detects the compression
 * by its magic (plain, gzip including multi-member streams, zstd including
 * skippable frames), and yields the uncompressed bytes.  On the way it hashes
 * the raw bytes (the blob digest) and the uncompressed bytes (the diff id),
 * can copy every raw byte to a tee fd (so a pulled blob is stored while it is
 * unpacked) and enforces a cap on the uncompressed size (gzip bombs).
 *
 * By default the reading, hashing and decompressing run in a helper thread
 * that fills a small ring of 1 MiB buffers while the caller consumes them;
 * `no_thread` does everything in the calling thread.  A reader object itself
 * must be used from one thread at a time.
 *
 * Usage:
 *   struct berth_reader *r = NULL;
 *   if (berth_reader_new(fd, &opts, &r, err) < 0) ...
 *   while ((n = berth_reader_next(r, SIZE_MAX, &p, err)) > 0) consume(p, n);
 *   if (n < 0 || berth_reader_finish(r, &res, err) < 0) ...
 *   berth_reader_free(r);
 */
#ifndef BERTH_IMAGE_DECOMPRESS_H
#define BERTH_IMAGE_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <berth/error.h>

#include "base/digest.h"

#include "base/compression.h"

/* "none", "gzip" or "zstd". */
const char *berth_compression_name(enum berth_compression c);

struct berth_reader_opts {
  int tee_fd;       /* -1, or an fd that receives an exact copy of every raw byte read */
  int64_t max_size; /* cap on uncompressed bytes, 0 = none; exceeding it fails with EFBIG */
  bool no_thread;   /* read, hash and decompress in the calling thread */
  bool no_digest;   /* hash nothing (the digests in the result are "") */
};

struct berth_reader_result {
  char raw_digest[BERTH_DIGEST_STR_LEN];  /* sha256 of every raw byte of the input */
  char data_digest[BERTH_DIGEST_STR_LEN]; /* sha256 of the whole uncompressed stream */
  int64_t raw_size, data_size;
  enum berth_compression compression;
};

struct berth_reader;

/* Start reading `fd` (not owned; the reader never closes it).  opts may be
 * NULL for the defaults (no tee, no cap, threaded).  *ret is owned by the
 * caller and released with berth_reader_free().  The reader reads ahead (up
 * to a few MiB in threaded mode), so the fd's position is unspecified
 * afterwards. */
int berth_reader_new(int fd, const struct berth_reader_opts *opts, struct berth_reader **ret,
                     berth_error_t *err);

/* Zero-copy read: point *ret_buf at the next at most `max` (> 0) uncompressed
 * bytes and consume them.  Returns their number, 0 at the end of the stream,
 * or -1 with err set (truncated or corrupt stream, read or tee failure, size
 * cap).  The bytes stay valid until the next call on this reader.  Errors are
 * sticky: later calls fail again with the same code. */
ssize_t berth_reader_next(struct berth_reader *r, size_t max, const void **ret_buf, berth_error_t *err);

/* Copying read of up to len bytes; same returns as berth_reader_next(). */
ssize_t berth_reader_read(struct berth_reader *r, void *buf, size_t len, berth_error_t *err);

/* Read and discard the rest of the input (so that the digests cover every
 * byte and the tee gets a complete copy), then fill *res.  Call at most once. */
int berth_reader_finish(struct berth_reader *r, struct berth_reader_result *res, berth_error_t *err);

/* Stop the helper thread and free everything.  A helper waiting for data on
 * a pipe or socket is woken (an eventfd next to it in poll()), so this never
 * waits for a stalled sender; one blocked writing to a full tee pipe is
 * waited for.  Accepts NULL. */
void berth_reader_free(struct berth_reader *r);

/* The compression detected (valid once the first byte was returned, or after
 * berth_reader_finish()). */
enum berth_compression berth_reader_compression(const struct berth_reader *r);

#endif
