/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Capabilities and the switch to the container's user.  Inheritable and
 * ambient sets are only what the spec names (CVE-2022-29162); a non-root
 * user keeps no capability across execve unless ambient ones are asked for
 * (CVE-2016-8867). */
#include <errno.h>
#include <grp.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "oci/runtime-spec.h"
#include "runtime/runtime-internal.h"

static int last_cap(void)
{
  int cap = 0;
  while (cap < 63 && prctl(PR_CAPBSET_READ, cap + 1, 0, 0, 0) >= 0)
    cap++;
  return cap;
}

void caps_drop_bounding(struct child *c)
{
  uint64_t keep = c->spec->process.caps.bounding;
  int last = last_cap();
  for (int cap = 0; cap <= last; cap++)
    if (!(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
      child_fail(c->sync_fd, errno, "drop capability %d from the bounding set", cap);
}

static void set_caps(struct child *c)
{
  const struct berth_spec_caps *k = &c->spec->process.caps;
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2] = {
      {.effective = (uint32_t)k->effective, .permitted = (uint32_t)k->permitted,
       .inheritable = (uint32_t)k->inheritable},
      {.effective = (uint32_t)(k->effective >> 32), .permitted = (uint32_t)(k->permitted >> 32),
       .inheritable = (uint32_t)(k->inheritable >> 32)},
  };
  if (syscall(SYS_capset, &h, d) < 0)
    child_fail(c->sync_fd, errno, "set capabilities");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    child_fail(c->sync_fd, errno, "clear ambient capabilities");
  for (int cap = 0; cap < 64; cap++)
    if ((k->ambient & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      child_fail(c->sync_fd, errno, "raise ambient capability %d", cap);
}

void caps_switch_user(struct child *c)
{
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    child_fail(c->sync_fd, errno, "keep capabilities");
  if (setgroups(c->n_groups, c->groups) < 0)
    child_fail(c->sync_fd, errno, "setgroups");
  if (setresgid(c->gid, c->gid, c->gid) < 0)
    child_fail(c->sync_fd, errno, "setgid %u", c->gid);
  if (setresuid(c->uid, c->uid, c->uid) < 0)
    child_fail(c->sync_fd, errno, "setuid %u", c->uid);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    child_fail(c->sync_fd, errno, "reset keep capabilities");
  set_caps(c);
}
