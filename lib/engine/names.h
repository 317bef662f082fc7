/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Docker-style random container names, "adjective_surname" (quirky_lovelace),
 * from our own word lists.  Used by container create when no name is given. */
#ifndef BERTH_ENGINE_NAMES_H
#define BERTH_ENGINE_NAMES_H

/* A new random name; the caller frees it.  `attempt` counts earlier names
 * that were taken: from 1 on a random digit is appended ("quirky_lovelace7"),
 * as docker does when it retries.  Never "boring_wozniak".  Aborts on
 * out-of-memory; thread-safe (randomness from getrandom). */
char *berth_name_generate(unsigned attempt);

#endif
