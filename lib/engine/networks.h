/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The engine's networks (networks.c): records, allocations, a container's
 * endpoints at start. */
#ifndef BERTH_ENGINE_NETWORKS_H
#define BERTH_ENGINE_NETWORKS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <berth/error.h>

struct berth_engine;
struct berth_ctr;
struct berth_ipv4_net;

/* A NetworkMode that names a network (bridge or user-defined), not none,
 * host or container:X. */
bool berth_net_mode_is_network(const char *mode);
/* A network by name, id or unique id prefix (`bridge` made on first use);
 * ENOENT "network X not found". */
json_t *berth_net_load(struct berth_engine *e, const char *name, berth_error_t *err);
json_t *berth_net_record_new(const char *name, const char *bridge, const char *subnet, const char *gateway,
                             bool internal, json_t *labels);
const char *berth_net_bridge_name(const json_t *net);
int berth_net_subnet(const json_t *net, struct berth_ipv4_net *ret_subnet, uint32_t *ret_gw, berth_error_t *err);
/* The bridge and berth's nftables chains of net, made when the bridge is missing. */
int berth_net_kernel_ensure(const json_t *net, berth_error_t *err);
int berth_net_kernel_remove(const json_t *net, berth_error_t *err);
/* Drop what crashed containers hold on every network (allocations, ports). */
void berth_net_reconcile(struct berth_engine *e);
/* The allocations of network `name`: {CTR_ID: {IPAddress, IPPrefixLen, Gateway, MacAddress}}. */
json_t *berth_net_endpoints(struct berth_engine *e, const char *name);

/* At start: allocate c's addresses, make missing bridges, write its
 * /etc/hosts and put the endpoints in the spec's annotation berth.net (for
 * the monitor, which makes the interfaces).  Releases all on failure. */
int berth_ctr_net_start(struct berth_engine *e, const struct berth_ctr *c, json_t *spec, berth_error_t *err);
/* Give back c's addresses (after it stopped, or when it is removed). */
void berth_ctr_net_release(struct berth_engine *e, const struct berth_ctr *c);

/* At create: the record's NetworkSettings.Networks from its NetworkMode and
 * the create body's NetworkingConfig (the network must exist). */
int berth_ctr_net_settings(struct berth_engine *e, json_t *rec, const json_t *netcfg, berth_error_t *err);
/* At create: /etc/hosts (the defaults, or the host's with --network host,
 * and --add-host) and /etc/resolv.conf (the host's without loopback
 * resolvers, --dns, --dns-search, --dns-option); caller frees. */
char *berth_net_hosts_at_create(struct berth_engine *e, const json_t *hc);
char *berth_net_resolv_conf(const json_t *hc);
/* inspect's NetworkSettings. */
json_t *berth_ctr_net_inspect(struct berth_engine *e, const struct berth_ctr *c);
/* ps's Networks: {name: {}} from the record (or its NetworkMode). */
json_t *berth_ctr_net_list_networks(const struct berth_ctr *c);
/* ps's Ports of a listed container (item: its ps entry, Id, State and
 * HostConfig.NetworkMode) while it runs: [{IP, PrivatePort, PublicPort,
 * Type}].  allocs: {network: allocations}, filled as networks are read. */
json_t *berth_net_list_ports(struct berth_engine *e, const json_t *item, json_t *allocs);

#endif
