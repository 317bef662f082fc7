/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The --since/--until values of docker logs and docker events, parsed as
 * docker's client does (api/types/time.GetTimestamp) and then its daemon
 * (ParseTimestamps): a Go duration back from now ("10m", whole seconds), an
 * RFC 3339 time with or without fraction, zone, seconds or minutes ("2024-05-01",
 * "2024-05-01T10", "2024-05-01T10:11:12.5+02:00"; a time without a zone is in the
 * local zone), or Unix seconds with an optional fraction ("1714558272.5"). */
#ifndef BERTH_TIMESTAMP_H
#define BERTH_TIMESTAMP_H

#include <stdbool.h>
#include <stdint.h>

#include <berth/error.h>

/* *ret_ns: nanoseconds since the epoch.  EINVAL with Go's wording on error. */
int berth_parse_docker_timestamp(const char *value, int64_t now_ns, int64_t *ret_ns, berth_error_t *err);
/* Go's RFC3339NanoFixed in UTC ("2024-05-01T10:11:12.500000000Z") when utc,
 * else in the local zone ("...+02:00", "Z" for a zero offset as Go prints
 * UTC): out holds 64 bytes. */
void berth_format_rfc3339_fixed(int64_t ns, bool utc, char out[64]);

#endif
