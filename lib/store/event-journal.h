/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The event journal: RUNROOT/events/journal.log, one docker events.Message
 * JSON object per line, appended by every CLI command and monitor that does
 * something docker reports as an event.
 *
 * It lives in the run dir because docker's events are volatile too (the
 * daemon keeps them in memory; a reboot, like a daemon restart, forgets them)
 * and because the run dir is where the monitors, which write `start` and
 * `die`, keep their state.  Each line goes out as one write(2) on an O_APPEND
 * descriptor, so concurrent writers never interleave.  It is bounded: past
 * BERTH_EVENT_JOURNAL_MAX bytes the writer that notices renames it to
 * journal.log.1 (under journal.lock; the older .1 goes), so at most about
 * twice that is kept.  Readers use engine/logread.c, which follows across
 * that rename. */
#ifndef BERTH_STORE_EVENT_JOURNAL_H
#define BERTH_STORE_EVENT_JOURNAL_H

#include <stdint.h>

#include <jansson.h>

#include <berth/error.h>

#define BERTH_EVENT_DIR "events"
#define BERTH_EVENT_JOURNAL "journal.log"
#define BERTH_EVENT_JOURNAL_MAX (1 << 20)

/* docker's events.Message for `type` "container" or "image" (the deprecated
 * status/id/from filled in as docker does); attrs is stolen (NULL: none). */
json_t *berth_event_message(const char *type, const char *action, const char *id, json_t *attrs, int64_t now_ns);
/* The attributes of a container event from its record (config.json): its
 * labels, "image" (Config.Image) and "name" (without the "/"). */
json_t *berth_event_container_attrs(const json_t *rec);
/* Append msg as one line to the journal below the run dir runroot_fd. */
int berth_event_append(int runroot_fd, const json_t *msg, berth_error_t *err);

#endif
