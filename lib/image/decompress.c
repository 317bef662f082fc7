/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Streaming decompression of layer blobs: compression detection by magic,
 * gzip (zlib, multi-member) and zstd decoding, sha256 of the raw and of the
 * uncompressed bytes, tee of the raw bytes, uncompressed size cap, and an
 * optional helper thread that does all of that ahead of the consumer.
 *
 * The producer side fills 1 MiB chunks; from regular files every chunk but
 * the last is full, from pipes and sockets a chunk is handed over early when
 * no more input is ready.  The threaded mode keeps RING_SIZE chunks in
 * flight: the helper owns chunks [tail, tail + free) and the consumer owns the
 * one at head while it reads it; the mutex only guards the counters. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "image/decompress.h"

#define CHUNK_SIZE (1u << 20)
#define INBUF_SIZE (256u << 10)
#define RING_SIZE 4

struct chunk {
  unsigned char *data;
  size_t len;
  bool eof;           /* no chunk follows this one */
  berth_error_t err;  /* set: the stream failed after `len` good bytes */
};

/* Everything the producer side owns: input, codecs, hashes, counters. */
struct producer {
  int fd, tee_fd;
  /* Threaded mode on a pipe or socket: readable once berth_reader_free()
   * wants the helper to stop, so a stalled sender cannot block it. */
  int cancel_fd;
  int64_t max_size;
  enum berth_compression comp;
  bool detected, in_eof, done;
  unsigned char *in;
  size_t in_len, in_pos;
  struct berth_sha256 *raw_hash, *data_hash; /* data_hash stays NULL for plain input */
  bool no_digest;
  /* Threaded mode: the consumer hashes uncompressed chunks as it takes them,
   * which balances the two cores when decompression keeps the helper busy. */
  bool consumer_hashes_data;
  int64_t raw_size, data_size;
  z_stream z;
  bool z_ready, z_in_member;
  ZSTD_DCtx *zd;
  size_t zd_hint; /* last ZSTD_decompressStream() return: 0 at a frame boundary */
};

struct berth_reader {
  struct producer p;
  struct chunk ring[RING_SIZE];
  bool threaded;
  pthread_t thread;
  bool thread_started;
  bool sync_ready; /* lock and conds initialised */
  pthread_mutex_t lock;
  pthread_cond_t cond_full, cond_free;
  unsigned head, nfull; /* guarded by lock in threaded mode */
  bool stop;            /* guarded by lock */
  /* Consumer state. */
  struct chunk *cur;
  size_t cur_pos;
  bool at_end;
  int failed_code; /* sticky error: the errno-like code, or -1 when none */
  char *failed_msg;
  bool finished;
};

const char *berth_compression_name(enum berth_compression c)
{
  switch (c) {
  case BERTH_COMPRESSION_NONE:
    return "none";
  case BERTH_COMPRESSION_GZIP:
    return "gzip";
  case BERTH_COMPRESSION_ZSTD:
    return "zstd";
  }
  return "unknown";
}

/* Read up to len raw bytes; hash and tee them.  Returns bytes read, 0 at EOF. */
static ssize_t raw_read(struct producer *p, void *buf, size_t len, berth_error_t *err)
{
  ssize_t n;
  if (p->cancel_fd >= 0) {
    struct pollfd fds[2] = {{.fd = p->fd, .events = POLLIN}, {.fd = p->cancel_fd, .events = POLLIN}};
    while (poll(fds, 2, -1) < 0)
      if (errno != EINTR)
        return berth_error_set(err, errno, "wait for layer data");
    if (fds[1].revents)
      return berth_error_set(err, ECANCELED, "read layer data");
  }
  do
    n = read(p->fd, buf, len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return berth_error_set(err, errno, "read layer data");
  if (n == 0)
    return 0;
  berth_sha256_update(p->raw_hash, buf, (size_t)n);
  if (p->tee_fd >= 0 && berth_write_all(p->tee_fd, buf, (size_t)n) < 0)
    return berth_error_set(err, errno, "write copy of layer data");
  p->raw_size += n;
  return n;
}

/* Threaded mode on a pipe or socket: is there input to read right now?
 * When there is not and a chunk already holds data, the helper hands that
 * chunk over instead of waiting, so a slow sender never starves the consumer. */
static bool input_would_block(struct producer *p, size_t have)
{
  struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
  if (p->cancel_fd < 0 || have == 0)
    return false;
  return poll(&pfd, 1, 0) == 0;
}

/* Make sure unread input is buffered; sets in_eof at the end of input.
 * Returns 1 instead of blocking when `have` output bytes are waiting. */
static int fill_input(struct producer *p, size_t have, berth_error_t *err)
{
  ssize_t n;
  if (p->in_pos < p->in_len || p->in_eof)
    return 0;
  if (input_would_block(p, have))
    return 1;
  n = raw_read(p, p->in, INBUF_SIZE, err);
  if (n < 0)
    return -1;
  p->in_pos = 0;
  p->in_len = (size_t)n;
  p->in_eof = n == 0;
  return 0;
}

static bool has_prefix(const unsigned char *b, size_t len, const char *magic, size_t mlen)
{
  return len >= mlen && memcmp(b, magic, mlen) == 0;
}

/* Look at the first bytes of the input and set up the decoder. */
static int detect(struct producer *p, berth_error_t *err)
{
  const unsigned char *b;
  size_t len;
  /* Gather enough bytes for the longest magic we check (or all of a tiny input). */
  while (!p->in_eof && p->in_len < 10) {
    ssize_t n = raw_read(p, p->in + p->in_len, INBUF_SIZE - p->in_len, err);
    if (n < 0)
      return -1;
    p->in_len += (size_t)n;
    p->in_eof = n == 0;
  }
  b = p->in;
  len = p->in_len;
  p->detected = true;
  if (has_prefix(b, len, "\x1f\x8b", 2)) {
    p->comp = BERTH_COMPRESSION_GZIP;
    if (inflateInit2(&p->z, 16 + MAX_WBITS) != Z_OK)
      return berth_error_set(err, ENOMEM, "initialise gzip decoder");
    p->z_ready = true;
  } else if (has_prefix(b, len, "\x28\xb5\x2f\xfd", 4) ||
             (len >= 4 && (b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18)) {
    p->comp = BERTH_COMPRESSION_ZSTD;
    p->zd = ZSTD_createDCtx();
    if (!p->zd)
      return berth_error_set(err, ENOMEM, "initialise zstd decoder");
  } else if (has_prefix(b, len, "\xfd" "7zXZ\0", 6)) {
    return berth_error_set_plain(err, ENOTSUP, "xz-compressed layers are not supported");
  } else if (len >= 10 && memcmp(b, "BZh", 3) == 0 && b[3] >= '1' && b[3] <= '9' &&
             memcmp(b + 4, "\x31\x41\x59\x26\x53\x59", 6) == 0) {
    return berth_error_set_plain(err, ENOTSUP, "bzip2-compressed layers are not supported");
  } else {
    p->comp = BERTH_COMPRESSION_NONE;
    return 0;
  }
  if (!p->no_digest)
    p->data_hash = berth_sha256_new();
  return 0;
}

static int produce_plain(struct producer *p, struct chunk *c, berth_error_t *err)
{
  if (p->in_pos < p->in_len) {
    size_t n = p->in_len - p->in_pos;
    memcpy(c->data, p->in + p->in_pos, n);
    c->len = n;
    p->in_pos = p->in_len;
  }
  while (c->len < CHUNK_SIZE && !p->in_eof) {
    ssize_t n;
    if (input_would_block(p, c->len))
      return 0;
    n = raw_read(p, c->data + c->len, CHUNK_SIZE - c->len, err);
    if (n < 0)
      return -1;
    p->in_eof = n == 0;
    c->len += (size_t)n;
  }
  p->done = p->in_eof;
  return 0;
}

static int produce_gzip(struct producer *p, struct chunk *c, berth_error_t *err)
{
  z_stream *z = &p->z;
  while (c->len < CHUNK_SIZE) {
    int r = fill_input(p, c->len, err);
    if (r != 0)
      return r < 0 ? -1 : 0;
    if (p->in_pos == p->in_len) {
      /* End of input: fine between members, truncation inside one. */
      if (p->z_in_member)
        return berth_error_set_plain(err, EINVAL, "truncated gzip stream");
      p->done = true;
      return 0;
    }
    z->next_in = p->in + p->in_pos;
    z->avail_in = (uInt)(p->in_len - p->in_pos);
    z->next_out = c->data + c->len;
    z->avail_out = (uInt)(CHUNK_SIZE - c->len);
    p->z_in_member = true;
    r = inflate(z, Z_NO_FLUSH);
    p->in_pos = p->in_len - z->avail_in;
    c->len = CHUNK_SIZE - z->avail_out;
    if (r == Z_STREAM_END) {
      /* Another member may follow (pigz, concatenated blobs): it must
       * start with the gzip magic, which inflate checks after a reset. */
      if (inflateReset(z) != Z_OK)
        return berth_error_set_plain(err, EINVAL, "reset gzip decoder");
      p->z_in_member = false;
    } else if (r == Z_BUF_ERROR) {
      continue; /* needs more input; loop reads it */
    } else if (r != Z_OK) {
      return berth_error_set_plain(err, EINVAL, "corrupt gzip stream: %s", z->msg ? z->msg : "inflate failed");
    }
  }
  return 0;
}

static int produce_zstd(struct producer *p, struct chunk *c, berth_error_t *err)
{
  while (c->len < CHUNK_SIZE) {
    ZSTD_inBuffer in;
    ZSTD_outBuffer out = {c->data, CHUNK_SIZE, c->len};
    size_t r;
    int f = fill_input(p, c->len, err);
    if (f != 0)
      return f < 0 ? -1 : 0;
    if (p->in_pos == p->in_len && p->zd_hint == 0) {
      p->done = true;
      return 0;
    }
    in = (ZSTD_inBuffer){p->in, p->in_len, p->in_pos};
    r = ZSTD_decompressStream(p->zd, &out, &in);
    if (ZSTD_isError(r))
      return berth_error_set_plain(err, EINVAL, "corrupt zstd stream: %s", ZSTD_getErrorName(r));
    p->zd_hint = r;
    /* No progress at the end of input means the last frame is cut short. */
    if (p->in_eof && in.pos == in.size && out.pos == c->len && r != 0)
      return berth_error_set_plain(err, EINVAL, "truncated zstd stream");
    p->in_pos = in.pos;
    c->len = out.pos;
  }
  return 0;
}

/* Fill one chunk with the next uncompressed bytes.  On failure the chunk
 * keeps the good bytes decoded before the error. */
static int produce(struct producer *p, struct chunk *c, berth_error_t *err)
{
  int r = 0;
  c->len = 0;
  c->eof = false;
  if (!p->detected && detect(p, err) < 0)
    return -1;
  switch (p->comp) {
  case BERTH_COMPRESSION_NONE:
    r = produce_plain(p, c, err);
    break;
  case BERTH_COMPRESSION_GZIP:
    r = produce_gzip(p, c, err);
    break;
  case BERTH_COMPRESSION_ZSTD:
    r = produce_zstd(p, c, err);
    break;
  }
  /* Never hand out a byte beyond the cap (a gzip bomb stops here). */
  if (p->max_size > 0 && p->data_size + (int64_t)c->len > p->max_size) {
    c->len = (size_t)(p->max_size - p->data_size);
    if (r == 0)
      r = berth_error_set_plain(err, EFBIG, "uncompressed layer exceeds the limit of %lld bytes",
                          (long long)p->max_size);
  }
  if (p->data_hash && !p->consumer_hashes_data)
    berth_sha256_update(p->data_hash, c->data, c->len);
  p->data_size += (int64_t)c->len;
  if (r < 0)
    return -1;
  c->eof = p->done;
  return 0;
}

static void *producer_thread(void *arg)
{
  struct berth_reader *r = arg;
  unsigned tail = 0;
  for (;;) {
    struct chunk *c;
    bool last;
    pthread_mutex_lock(&r->lock);
    while (r->nfull == RING_SIZE && !r->stop)
      pthread_cond_wait(&r->cond_free, &r->lock);
    if (r->stop) {
      pthread_mutex_unlock(&r->lock);
      return NULL;
    }
    pthread_mutex_unlock(&r->lock);

    c = &r->ring[tail];
    if (produce(&r->p, c, &c->err) < 0)
      c->eof = true;
    last = c->eof;

    pthread_mutex_lock(&r->lock);
    r->nfull++;
    pthread_cond_signal(&r->cond_full);
    pthread_mutex_unlock(&r->lock);
    tail = (tail + 1) % RING_SIZE;
    if (last)
      return NULL;
  }
}

int berth_reader_new(int fd, const struct berth_reader_opts *opts, struct berth_reader **ret,
                     berth_error_t *err)
{
  struct berth_reader *r = calloc(1, sizeof(*r));
  int e;
  if (!r)
    abort();
  r->p.fd = fd;
  r->p.tee_fd = opts ? opts->tee_fd : -1;
  r->p.max_size = opts ? opts->max_size : 0;
  r->p.no_digest = opts && opts->no_digest;
  r->p.raw_hash = r->p.no_digest ? NULL : berth_sha256_new();
  r->p.in = malloc(INBUF_SIZE);
  r->threaded = !(opts && opts->no_thread);
  r->p.consumer_hashes_data = r->threaded;
  r->p.cancel_fd = -1;
  r->failed_code = -1;
  if (!r->p.in)
    abort();
  for (unsigned i = 0; i < (r->threaded ? RING_SIZE : 1); i++)
    if (!(r->ring[i].data = malloc(CHUNK_SIZE)))
      abort();
  if (r->threaded) {
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
      r->p.cancel_fd = eventfd(0, EFD_CLOEXEC);
      if (r->p.cancel_fd < 0) {
        e = errno;
        berth_reader_free(r);
        return berth_error_set(err, e, "create eventfd");
      }
    }
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond_full, NULL);
    pthread_cond_init(&r->cond_free, NULL);
    r->sync_ready = true;
    e = pthread_create(&r->thread, NULL, producer_thread, r);
    if (e != 0) {
      berth_reader_free(r);
      return berth_error_set(err, e, "start decompression thread");
    }
    r->thread_started = true;
  }
  *ret = r;
  return 0;
}

static int fail_sticky(struct berth_reader *r, berth_error_t *err)
{
  return berth_error_set(err, r->failed_code, "%s", r->failed_msg ? r->failed_msg : "read failed");
}

static int record_failure(struct berth_reader *r, berth_error_t *chunk_err, berth_error_t *err)
{
  r->failed_code = (*chunk_err)->code;
  r->failed_msg = strdup((*chunk_err)->msg ? (*chunk_err)->msg : "read failed");
  *err = steal_ptr(chunk_err);
  return -1;
}

/* Hand the consumer's current chunk back and get the next one. */
static void next_chunk(struct berth_reader *r)
{
  struct chunk *c;
  if (!r->threaded) {
    c = &r->ring[0];
    if (produce(&r->p, c, &c->err) < 0)
      c->eof = true;
  } else {
    pthread_mutex_lock(&r->lock);
    if (r->cur) {
      r->head = (r->head + 1) % RING_SIZE;
      r->nfull--;
      pthread_cond_signal(&r->cond_free);
    }
    while (r->nfull == 0)
      pthread_cond_wait(&r->cond_full, &r->lock);
    pthread_mutex_unlock(&r->lock);
    c = &r->ring[r->head];
    if (r->p.data_hash)
      berth_sha256_update(r->p.data_hash, c->data, c->len);
  }
  r->cur = c;
  r->cur_pos = 0;
}

ssize_t berth_reader_next(struct berth_reader *r, size_t max, const void **ret_buf, berth_error_t *err)
{
  size_t n;
  if (r->failed_code >= 0)
    return fail_sticky(r, err);
  for (;;) {
    if (r->at_end)
      return 0;
    if (r->cur && r->cur_pos < r->cur->len)
      break;
    if (r->cur && r->cur->err)
      return record_failure(r, &r->cur->err, err);
    if (r->cur && r->cur->eof) {
      r->at_end = true;
      return 0;
    }
    next_chunk(r);
  }
  n = r->cur->len - r->cur_pos;
  if (n > max)
    n = max;
  *ret_buf = r->cur->data + r->cur_pos;
  r->cur_pos += n;
  return (ssize_t)n;
}

ssize_t berth_reader_read(struct berth_reader *r, void *buf, size_t len, berth_error_t *err)
{
  size_t done = 0;
  while (done < len) {
    const void *p;
    ssize_t n = berth_reader_next(r, len - done, &p, err);
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    memcpy((char *)buf + done, p, (size_t)n);
    done += (size_t)n;
  }
  return (ssize_t)done;
}

int berth_reader_finish(struct berth_reader *r, struct berth_reader_result *res, berth_error_t *err)
{
  const void *p;
  ssize_t n;
  while ((n = berth_reader_next(r, SIZE_MAX, &p, err)) > 0)
    ;
  if (n < 0)
    return -1;
  if (r->thread_started) {
    pthread_join(r->thread, NULL);
    r->thread_started = false;
  }
  berth_sha256_final(r->p.raw_hash, res->raw_digest);
  r->p.raw_hash = NULL;
  if (r->p.data_hash) {
    berth_sha256_final(r->p.data_hash, res->data_digest);
    r->p.data_hash = NULL;
  } else {
    memcpy(res->data_digest, res->raw_digest, BERTH_DIGEST_STR_LEN);
  }
  res->raw_size = r->p.raw_size;
  res->data_size = r->p.data_size;
  res->compression = r->p.comp;
  r->finished = true;
  return 0;
}

enum berth_compression berth_reader_compression(const struct berth_reader *r)
{
  return r->p.comp;
}

void berth_reader_free(struct berth_reader *r)
{
  if (!r)
    return;
  if (r->thread_started) {
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_broadcast(&r->cond_free);
    pthread_mutex_unlock(&r->lock);
    if (r->p.cancel_fd >= 0)
      (void)eventfd_write(r->p.cancel_fd, 1);
    pthread_join(r->thread, NULL);
  }
  if (r->p.cancel_fd >= 0)
    (void)close(r->p.cancel_fd);
  if (r->sync_ready) {
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond_full);
    pthread_cond_destroy(&r->cond_free);
  }
  for (unsigned i = 0; i < RING_SIZE; i++) {
    free(r->ring[i].data);
    berth_error_release(&r->ring[i].err);
  }
  if (r->p.z_ready)
    inflateEnd(&r->p.z);
  ZSTD_freeDCtx(r->p.zd);
  berth_sha256_free(r->p.raw_hash);
  berth_sha256_free(r->p.data_hash);
  free(r->p.in);
  free(r->failed_msg);
  free(r);
}
