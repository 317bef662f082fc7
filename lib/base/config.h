/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth's settings: $BERTH_CONFIG, or /etc/berth/config.json, with the keys
 * of docker's daemon.json that berth has:
 *   "insecure-registries"  registries reached over plain HTTP
 *   "ip"                   host address of ports published without one
 *                          (docker's default 0.0.0.0 and ::)
 *   "bip"                  the default bridge's address and prefix, when a
 *                          store first makes it ("10.88.0.1/16") */
#ifndef BERTH_BASE_CONFIG_H
#define BERTH_BASE_CONFIG_H

#include <jansson.h>

#include <berth/error.h>

const char *berth_config_path(void);
/* The settings (an empty object when there is no file); NULL with err for a
 * file that cannot be read or is not a JSON object. */
json_t *berth_config_load(berth_error_t *err);

#endif
