/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compression of layer streams, shared by the OCI media types (lib/oci) and
 * the stream decoder (lib/image). */
#ifndef BERTH_COMPRESSION_H
#define BERTH_COMPRESSION_H

enum berth_compression {
  BERTH_COMPRESSION_NONE,
  BERTH_COMPRESSION_GZIP,
  BERTH_COMPRESSION_ZSTD,
};

#endif
