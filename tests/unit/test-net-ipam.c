/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/net/ipam.c: subnets, the choice of a free address, MACs, endpoints. */
#include <criterion/criterion.h>

#include "base/cleanup.h"
#include "net/net.h"

static uint32_t ip(const char *s)
{
  uint32_t a = 0;
  cr_assert_eq(berth_net_parse_ipv4(s, &a), 0, "%s", s);
  return a;
}

Test(net_ipam, parse_cidr_takes_a_network_and_refuses_host_bits)
{
  struct berth_ipv4_net n;
  cleanup_error berth_error_t err = NULL;
  cr_assert_eq(berth_net_parse_cidr("10.88.0.0/16", false, &n, &err), 0);
  cr_assert_eq(n.addr, ip("10.88.0.0"));
  cr_assert_eq(n.prefix, 16);
  cr_assert_lt(berth_net_parse_cidr("10.88.0.1/16", false, &n, &err), 0);
  cr_assert_str_eq(err->msg, "invalid subnet 10.88.0.1/16: it should be 10.88.0.0/16");
  berth_error_release(&err);
  cr_assert_eq(berth_net_parse_cidr("10.88.0.1/16", true, &n, &err), 0);
  cr_assert_eq(n.addr, ip("10.88.0.0"));
  static const char *const bad[] = {"10.88.0.0", "10.88.0.0/", "10.88.0.0/33", "10.88.0/16", "x/8", "/8",
                                    "10.88.0.0/16x"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    cr_assert_lt(berth_net_parse_cidr(bad[i], false, &n, &err), 0, "%s", bad[i]);
    berth_error_release(&err);
  }
}

Test(net_ipam, next_free_skips_network_gateway_broadcast_and_used)
{
  struct berth_ipv4_net n = {ip("10.0.0.0"), 29}; /* .1 - .6 usable */
  uint32_t gw = ip("10.0.0.1");
  uint32_t used[] = {ip("10.0.0.2"), ip("10.0.0.4")};
  cr_assert_eq(berth_net_next_free(&n, gw, 0, NULL, 0), ip("10.0.0.2"));
  cr_assert_eq(berth_net_next_free(&n, gw, 0, used, 2), ip("10.0.0.3"));
  cr_assert_eq(berth_net_next_free(&n, gw, ip("10.0.0.3"), used, 2), ip("10.0.0.5"));
  /* after the last address it wraps to the first free one */
  cr_assert_eq(berth_net_next_free(&n, gw, ip("10.0.0.6"), used, 2), ip("10.0.0.3"));
  uint32_t all[] = {ip("10.0.0.2"), ip("10.0.0.3"), ip("10.0.0.4"), ip("10.0.0.5"), ip("10.0.0.6")};
  cr_assert_eq(berth_net_next_free(&n, gw, 0, all, 5), 0);
  struct berth_ipv4_net tiny = {ip("10.0.0.0"), 31};
  cr_assert_eq(berth_net_next_free(&tiny, 0, 0, NULL, 0), 0);
}

Test(net_ipam, mac_follows_docker)
{
  uint8_t mac[6];
  char buf[18];
  berth_net_mac_for(ip("172.17.0.2"), mac);
  cr_assert_str_eq(berth_net_mac_str(mac, buf), "02:42:ac:11:00:02");
  cr_assert_eq(berth_net_parse_mac("02:42:ac:11:00:02", mac), 0);
  cr_assert_lt(berth_net_parse_mac("01:42:ac:11:00:02", mac), 0); /* multicast */
  cr_assert_lt(berth_net_parse_mac("02:42:ac:11:00", mac), 0);
  cr_assert_lt(berth_net_parse_mac("02:42:ac:11:00:02:", mac), 0);
}

Test(net_ipam, endpoint_round_trips_through_json)
{
  struct berth_net_endpoint ep = {.bridge = "berth0", .host_if = "veth0123456789", .ifname = "eth0",
                                  .addr = ip("10.88.0.5"), .prefix = 16, .gateway = ip("10.88.0.1")};
  berth_net_mac_for(ep.addr, ep.mac);
  json_t *j = berth_net_endpoint_to_json(&ep);
  struct berth_net_endpoint back;
  cleanup_error berth_error_t err = NULL;
  cr_assert_eq(berth_net_endpoint_from_json(j, &back, &err), 0);
  cr_assert_eq(memcmp(&ep, &back, sizeof ep), 0);
  json_object_set_new(j, "ifname", json_string("a-name-far-too-long"));
  cr_assert_lt(berth_net_endpoint_from_json(j, &back, &err), 0);
  json_decref(j);
}

Test(net_ipam, pick_free_skips_every_overlap_and_stays_in_range)
{
  struct berth_ipv4_net taken[] = {{ip("10.88.0.0"), 16}, {ip("10.89.0.0"), 24}, {ip("10.90.3.0"), 24},
                                   {ip("192.168.1.0"), 24}};
  struct berth_ipv4_net got;
  /* the default network's /16: 10.88 taken (podman's), 10.89.0.0/24 inside 10.89/16, 10.90.3/24 in 10.90/16 */
  cr_assert(berth_net_pick_free(taken, 4, ip("10.88.0.0"), 11ull << 24, 16, &got));
  cr_assert_eq(got.addr, ip("10.91.0.0"));
  cr_assert_eq(got.prefix, 16);
  /* a user network's /24 */
  cr_assert(berth_net_pick_free(taken, 4, ip("10.89.0.0"), 11ull << 24, 24, &got));
  cr_assert_eq(got.addr, ip("10.89.1.0"));
  /* an explicit subnet: free, or overlapping in either direction */
  cr_assert(berth_net_pick_free(taken, 4, ip("172.20.0.0"), ip("172.20.0.0") + 65536ull, 16, &got));
  cr_assert_eq(got.addr, ip("172.20.0.0"));
  cr_assert_not(berth_net_pick_free(taken, 4, ip("10.0.0.0"), ip("10.0.0.0") + (1ull << 24), 8, &got));
  cr_assert_not(berth_net_pick_free(taken, 4, ip("10.88.7.0"), ip("10.88.7.0") + 256ull, 24, &got));
  /* the range's end is respected, up to the last address */
  cr_assert_not(berth_net_pick_free(taken, 4, ip("10.88.0.0"), ip("10.89.0.0"), 16, &got));
  cr_assert(berth_net_pick_free(NULL, 0, ip("255.255.255.0"), 1ull << 32, 24, &got));
  cr_assert_eq(got.addr, ip("255.255.255.0"));
  cr_assert(berth_net_overlaps(&taken[0], &(struct berth_ipv4_net){ip("10.88.200.0"), 24}));
  cr_assert_not(berth_net_overlaps(&taken[1], &(struct berth_ipv4_net){ip("10.89.1.0"), 24}));
}
