/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IPv4 subnets, addresses, MACs, and the choice of a free address; plus the
 * endpoint's JSON form, which the engine hands to the monitor.  Pure: the
 * engine keeps the allocations (under a lock) and passes them in. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "net/net.h"

int berth_net_parse_ipv4(const char *s, uint32_t *ret)
{
  struct in_addr a;
  if (!s || inet_pton(AF_INET, s, &a) != 1)
    return -1;
  *ret = ntohl(a.s_addr);
  return 0;
}

const char *berth_net_ipv4_str(uint32_t a, char buf[16])
{
  snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
  return buf;
}

static uint32_t mask_of(int prefix) { return prefix ? 0xffffffffu << (32 - prefix) : 0; }

int berth_net_parse_cidr(const char *s, bool allow_host_bits, struct berth_ipv4_net *ret, berth_error_t *err)
{
  char addr[32];
  const char *slash = s ? strchr(s, '/') : NULL;
  char *end;
  if (!slash || (size_t)(slash - s) >= sizeof addr)
    return berth_error_set_plain(err, EINVAL, "invalid CIDR address: %s", s ? s : "");
  memcpy(addr, s, (size_t)(slash - s));
  addr[slash - s] = '\0';
  long prefix = strtol(slash + 1, &end, 10);
  uint32_t a;
  if (!slash[1] || *end || prefix < 0 || prefix > 32 || berth_net_parse_ipv4(addr, &a) < 0)
    return berth_error_set_plain(err, EINVAL, "invalid CIDR address: %s", s);
  if (!allow_host_bits && (a & ~mask_of((int)prefix)))
    return berth_error_set_plain(err, EINVAL, "invalid subnet %s: it should be %s/%ld", s,
                                 berth_net_ipv4_str(a & mask_of((int)prefix), addr), prefix);
  ret->addr = a & mask_of((int)prefix);
  ret->prefix = (int)prefix;
  return 0;
}

bool berth_net_contains(const struct berth_ipv4_net *n, uint32_t a)
{
  return (a & mask_of(n->prefix)) == n->addr;
}

static int cmp_u32(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

void berth_net_sort_addrs(uint32_t *a, size_t n) { qsort(a, n, sizeof *a, cmp_u32); }

bool berth_net_addr_used(const uint32_t *used, size_t n, uint32_t a)
{
  return n && bsearch(&a, used, n, sizeof *used, cmp_u32);
}

bool berth_net_overlaps(const struct berth_ipv4_net *a, const struct berth_ipv4_net *b)
{
  uint32_t mask = mask_of(a->prefix < b->prefix ? a->prefix : b->prefix);
  return (a->addr & mask) == (b->addr & mask);
}

bool berth_net_pick_free(const struct berth_ipv4_net *taken, size_t n, uint32_t from, uint64_t to, int prefix,
                         struct berth_ipv4_net *ret)
{
  if (prefix < 1 || prefix > 32)
    return false;
  uint64_t step = 1ull << (32 - prefix);
  for (uint64_t a = from & mask_of(prefix); a + step <= to; a += step) {
    struct berth_ipv4_net sn = {(uint32_t)a, prefix};
    size_t i;
    for (i = 0; i < n && !berth_net_overlaps(&sn, &taken[i]); i++)
      ;
    if (i == n) {
      *ret = sn;
      return true;
    }
  }
  return false;
}

uint32_t berth_net_next_free(const struct berth_ipv4_net *n, uint32_t gateway, uint32_t after, const uint32_t *used,
                             size_t n_used)
{
  if (n->prefix > 30)
    return 0;
  uint32_t first = n->addr + 1, last = (n->addr | ~mask_of(n->prefix)) - 1;
  uint64_t count = (uint64_t)last - first + 1;
  uint32_t a = berth_net_contains(n, after) && after >= first && after <= last ? after : last;
  for (uint64_t i = 0; i < count; i++) {
    a = a >= last ? first : a + 1;
    if (a == gateway || berth_net_addr_used(used, n_used, a))
      continue;
    return a;
  }
  return 0;
}

void berth_net_mac_for(uint32_t addr, uint8_t mac[6])
{
  mac[0] = 0x02;
  mac[1] = 0x42;
  mac[2] = (uint8_t)(addr >> 24);
  mac[3] = (uint8_t)(addr >> 16);
  mac[4] = (uint8_t)(addr >> 8);
  mac[5] = (uint8_t)addr;
}

const char *berth_net_mac_str(const uint8_t mac[6], char buf[18])
{
  snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return buf;
}

int berth_net_parse_mac(const char *s, uint8_t mac[6])
{
  unsigned v[6];
  int off = 0;
  if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &off) != 6 ||
      s[off] || strlen(s) != 17)
    return -1;
  for (int i = 0; i < 6; i++)
    mac[i] = (uint8_t)v[i];
  return (mac[0] & 1) ? -1 : 0; /* a multicast address is no interface's */
}

/* ---- the endpoint's JSON form ---- */

json_t *berth_net_endpoint_to_json(const struct berth_net_endpoint *ep)
{
  char a[16], g[16], m[18];
  return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s?, s:s}", "bridge", ep->bridge, "host_if", ep->host_if, "ifname",
                   ep->ifname, "address", berth_net_ipv4_str(ep->addr, a), "prefix", ep->prefix, "gateway",
                   ep->gateway ? berth_net_ipv4_str(ep->gateway, g) : NULL, "mac", berth_net_mac_str(ep->mac, m));
}

static int copy_name(char *dst, const json_t *j, const char *key)
{
  const char *v = json_string_value(json_object_get(j, key));
  if (!v || !*v || strlen(v) >= BERTH_NET_IFNAMSIZ)
    return -1;
  strcpy(dst, v);
  return 0;
}

int berth_net_endpoint_from_json(const json_t *j, struct berth_net_endpoint *ep, berth_error_t *err)
{
  memset(ep, 0, sizeof *ep);
  json_t *gw = json_object_get(j, "gateway");
  json_int_t prefix = json_integer_value(json_object_get(j, "prefix"));
  if (copy_name(ep->bridge, j, "bridge") < 0 || copy_name(ep->host_if, j, "host_if") < 0 ||
      copy_name(ep->ifname, j, "ifname") < 0 ||
      berth_net_parse_ipv4(json_string_value(json_object_get(j, "address")), &ep->addr) < 0 || prefix < 1 ||
      prefix > 32 || (json_is_string(gw) && berth_net_parse_ipv4(json_string_value(gw), &ep->gateway) < 0) ||
      berth_net_parse_mac(json_string_value(json_object_get(j, "mac")), ep->mac) < 0)
    return berth_error_set_plain(err, EINVAL, "invalid network endpoint");
  ep->prefix = (int)prefix;
  return 0;
}

int berth_net_attach_json(pid_t pid, int nsfd, const char *annotation, berth_error_t *err)
{
  json_error_t jerr;
  json_t *arr = json_loads(annotation, 0, &jerr);
  size_t n = json_array_size(arr);
  struct berth_net_endpoint *eps = calloc(n ? n : 1, sizeof *eps);
  int r = arr && json_is_array(arr) && eps ? 0 : berth_error_set_plain(err, EINVAL, "invalid network endpoints");
  for (size_t i = 0; i < n && r == 0; i++)
    r = berth_net_endpoint_from_json(json_array_get(arr, i), &eps[i], err);
  if (r == 0)
    r = berth_net_attach(pid, nsfd, eps, n, err);
  free(eps);
  json_decref(arr);
  return r < 0 ? berth_error_prefix(err, "set up the network") : 0;
}
