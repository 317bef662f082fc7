/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Recording events from inside the engine, where the container is already
 * loaded (see berth_event_record in <berth/engine.h> for the one-line call). */
#ifndef BERTH_ENGINE_EVENTS_H
#define BERTH_ENGINE_EVENTS_H

#include <jansson.h>

struct berth_engine;
struct berth_ctr;

/* A container event with c's name, image and labels; extra is stolen. */
void berth_event_container(struct berth_engine *e, const struct berth_ctr *c, const char *action, json_t *extra);
/* An image event: Actor.ID `id`, attribute name=`name`. */
void berth_event_image(struct berth_engine *e, const char *action, const char *id, const char *name);

#endif
