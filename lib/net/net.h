/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/net: the kernel side of container networking.
 *
 *   netlink.c  bridges, veth pairs into a container's network namespace,
 *              addresses and routes, through libmnl (one batch per namespace)
 *   nft.c      berth's own nftables table (`ip berth`), through libnftables
 *              loaded with dlopen() on first use
 *   ipam.c     IPv4 subnets and address allocation (pure)
 *   ports.c    docker's -p syntax, host addresses of published ports (pure)
 *
 * Nothing here knows about containers or stores: the engine composes it. */
#ifndef BERTH_NET_H
#define BERTH_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <jansson.h>

#include <berth/error.h>

#define BERTH_NET_IFNAMSIZ 16

/* One interface of a container on a bridge. */
struct berth_net_endpoint {
  char bridge[BERTH_NET_IFNAMSIZ];  /* the host bridge */
  char host_if[BERTH_NET_IFNAMSIZ]; /* the host end of the veth pair */
  char ifname[BERTH_NET_IFNAMSIZ];  /* the container's end: eth0, eth1... */
  uint32_t addr;                    /* host byte order */
  int prefix;
  uint32_t gateway; /* host byte order; 0: no default route through it */
  uint8_t mac[6];
};

/* ---- netlink.c ---- */

/* Make the bridge `name` with gateway address gw/prefix and bring it up,
 * unless a link of that name exists (*ret_created says which). */
int berth_net_bridge_ensure(const char *name, uint32_t gw, int prefix, bool *ret_created, berth_error_t *err);
/* Delete a link of the host's namespace; a missing one is not an error. */
int berth_net_link_delete(const char *name, berth_error_t *err);
/* Bring each endpoint up in the network namespace of process pid (nsfd: an
 * fd that setns() takes for it: a pidfd or /proc/PID/ns/net): the veth pair
 * with its host end on the bridge, then inside lo, the address, the link
 * and the default route.  A stale host end of the same name is replaced. */
int berth_net_attach(pid_t pid, int nsfd, const struct berth_net_endpoint *eps, size_t n, berth_error_t *err);
/* Remove the container's interface `ifname` (its veth pair goes with it). */
int berth_net_detach(int nsfd, const char *ifname, berth_error_t *err);

/* ---- endpoints as the engine hands them to the monitor (annotation berth.net) ---- */

json_t *berth_net_endpoint_to_json(const struct berth_net_endpoint *ep);
int berth_net_endpoint_from_json(const json_t *j, struct berth_net_endpoint *ep, berth_error_t *err);
/* Parse the annotation (a JSON array) and attach every endpoint. */
int berth_net_attach_json(pid_t pid, int nsfd, const char *annotation, berth_error_t *err);

/* ---- ipam.c ---- */

struct berth_ipv4_net {
  uint32_t addr; /* host byte order, the network's first address */
  int prefix;
};

/* "10.88.0.0/16" (host bits must be zero unless allow_host_bits). */
int berth_net_parse_cidr(const char *s, bool allow_host_bits, struct berth_ipv4_net *ret, berth_error_t *err);
int berth_net_parse_ipv4(const char *s, uint32_t *ret);
/* dotted quad into buf (16 bytes) */
const char *berth_net_ipv4_str(uint32_t a, char buf[16]);
bool berth_net_contains(const struct berth_ipv4_net *n, uint32_t a);
/* The lowest free host address after `after` (wrapping) that is neither the
 * network, the broadcast, the gateway nor in used[] (sorted); 0 when full. */
uint32_t berth_net_next_free(const struct berth_ipv4_net *n, uint32_t gateway, uint32_t after, const uint32_t *used,
                             size_t n_used);
/* Sort addresses for berth_net_next_free; is a in such a sorted list? */
void berth_net_sort_addrs(uint32_t *a, size_t n);
bool berth_net_addr_used(const uint32_t *used, size_t n, uint32_t a);
bool berth_net_overlaps(const struct berth_ipv4_net *a, const struct berth_ipv4_net *b);
/* The first /prefix block in [from, to) (from rounded down to it) that
 * overlaps none of taken[]; false when there is none. */
bool berth_net_pick_free(const struct berth_ipv4_net *taken, size_t n, uint32_t from, uint64_t to, int prefix,
                         struct berth_ipv4_net *ret);
/* docker's MAC for an address: 02:42 and the four bytes. */
void berth_net_mac_for(uint32_t addr, uint8_t mac[6]);
const char *berth_net_mac_str(const uint8_t mac[6], char buf[18]);
int berth_net_parse_mac(const char *s, uint8_t mac[6]);

/* ---- ports.c ---- */

/* One -p spec / --expose spec into ExposedPorts {"80/tcp": {}} and
 * PortBindings {"80/tcp": [{"HostIp", "HostPort"}]} (docker's errors). */
int berth_net_parse_publish(const char *spec, json_t *exposed, json_t *bindings, berth_error_t *err);
int berth_net_parse_expose(const char *spec, json_t *exposed, berth_error_t *err);
/* Go's net.JoinHostPort: "0.0.0.0:8080", "[::]:8080" (port may be a range). */
const char *berth_net_join_host_port(const char *host, const char *port, char buf[80]);
/* A port key of ExposedPorts and PortBindings, "80/tcp" ("80": tcp). */
void berth_net_port_key(const char *key, unsigned *ret_port, char ret_proto[8]);
/* A host address ("0.0.0.0", "::", "::1", ...) and port as a socket
 * address; -1 when ip is no address. */
int berth_net_sockaddr(const char *ip, unsigned port, struct sockaddr_storage *ss, socklen_t *len);

/* ---- nft.c ---- */

/* Run an nft script as one transaction (libnftables). */
int berth_nft_run(const char *script, berth_error_t *err);

#endif
