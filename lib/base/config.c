/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>

#include "base/config.h"

const char *berth_config_path(void)
{
  const char *path = getenv("BERTH_CONFIG");
  return path && *path ? path : "/etc/berth/config.json";
}

json_t *berth_config_load(berth_error_t *err)
{
  json_error_t jerr;
  const char *path = berth_config_path();
  json_t *cfg = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
  if (!cfg && json_error_code(&jerr) == json_error_cannot_open_file && errno == ENOENT)
    return json_object();
  if (!cfg)
    berth_error_set_plain(err, EINVAL, "%s: line %d: %s", path, jerr.line, jerr.text);
  else if (!json_is_object(cfg))
    berth_error_set_plain(err, EINVAL, "%s: not a JSON object", path);
  else
    return cfg;
  json_decref(cfg);
  return NULL;
}
