/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Networks: their records, their address allocations, and a container's
 * endpoints on them at start.
 *
 *   ROOT/networks/<name>.json      the network (docker's inspect object less
 *                                  Containers), written atomically and fsynced
 *   RUNROOT/networks/<name>.json   its allocations {"last": ADDR, "endpoints":
 *                                  {CTR_ID: {...}}}, under <name>.lock; volatile
 *                                  like the containers that hold them
 *
 * The bridge and the network's nftables chains are made when the bridge is
 * missing (first use, or after a reboot); an allocation whose container is
 * neither active nor starting is stale and is dropped by the next writer
 * (a crash leaves nothing held for long). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/config.h"
#include "base/random.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/lock.h"
#include "base/timeutil.h"
#include "engine/engine-internal.h"
#include "engine/events.h"
#include "engine/networks.h"
#include "net/net.h"

#define DEFAULT_BRIDGE "berth0"

/* docker's network events: Actor.ID the network, attributes name and type
 * (and container for connect and disconnect). */
static void net_event(struct berth_engine *e, const char *action, const json_t *net, const char *ctr_id)
{
  cleanup_json json_t *attrs = json_pack("{s:s, s:s}", "name", berth_json_str(net, "Name"), "type",
                                         berth_json_str(net, "Driver"));
  if (ctr_id)
    json_object_set_new(attrs, "container", json_string(ctr_id));
  berth_event_record(e, "network", action, berth_json_str(net, "Id"), attrs);
}
#define DEFAULT_SUBNET "10.88.0.0/16"

static const char bridge_opt[] = "com.docker.network.bridge.name";

static int networks_dir(struct berth_engine *e, bool run, berth_error_t *err)
{
  int base = run ? e->store->runroot_fd : e->store->root_fd;
  if (berth_mkdir_p(base, "networks", 0700, err) < 0)
    return -1;
  int fd = openat(base, "networks", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berth_error_set(err, errno, "open networks directory");
  return fd;
}

const char *berth_net_bridge_name(const json_t *net)
{
  return berth_json_str(json_object_get(net, "Options"), bridge_opt);
}

/* The first IPAM config: its subnet and gateway. */
int berth_net_subnet(const json_t *net, struct berth_ipv4_net *ret_subnet, uint32_t *ret_gw, berth_error_t *err)
{
  json_t *cfg = json_array_get(json_object_get(json_object_get(net, "IPAM"), "Config"), 0);
  if (berth_net_parse_cidr(berth_json_str(cfg, "Subnet"), false, ret_subnet, err) < 0 ||
      berth_net_parse_ipv4(berth_json_str(cfg, "Gateway"), ret_gw) < 0)
    return berth_error_set_plain(err, EINVAL, "network %s has no usable IPv4 configuration",
                                 berth_json_str(net, "Name"));
  return 0;
}

json_t *berth_net_record_new(const char *name, const char *bridge, const char *subnet, const char *gateway,
                             bool internal, json_t *labels)
{
  char id[65];
  berth_random_hex(id, sizeof id);
  char created[64];
  berth_format_rfc3339(berth_now_ns(), created);
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:n, s:[{s:s, s:s}]}, s:b, s:b, s:b, s:{s:s}, "
                   "s:b, s:o, s:{s:s}}",
                   "Name", name, "Id", id, "Created", created, "Scope", "local", "Driver", "bridge", "EnableIPv6", 0,
                   "IPAM", "Driver", "default", "Options", "Config", "Subnet", subnet, "Gateway", gateway, "Internal",
                   internal, "Attachable", 0, "Ingress", 0, "ConfigFrom", "Network", "", "ConfigOnly", 0, "Labels",
                   labels ? labels : json_object(), "Options", bridge_opt, bridge);
}

/* A file of a networks directory that is a record ("NAME.json"): the
 * length of its NAME, or 0. */
static size_t record_name_len(const char *file)
{
  size_t len = strlen(file);
  return file[0] != '.' && len > 5 && strcmp(file + len - 5, ".json") == 0 ? len - 5 : 0;
}

/* The subnets taken: those of the store's networks (the records in dfd)
 * and of the host's IPv4 addresses. */
static struct berth_ipv4_net *taken_subnets(int dfd, size_t *ret_n)
{
  cleanup_strv char **names = berth_dir_names(dfd, NULL, NULL);
  struct ifaddrs *ifs = NULL;
  size_t cap = 16, n = 0;
  struct berth_ipv4_net *out = malloc(cap * sizeof *out);
  if (!out)
    abort();
  if (getifaddrs(&ifs) < 0)
    ifs = NULL;
  for (struct ifaddrs *i = ifs;; i = i->ifa_next) {
    if (n + 1 >= cap && !(out = realloc(out, (cap *= 2) * sizeof *out)))
      abort();
    if (!i)
      break;
    if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && i->ifa_netmask) {
      uint32_t m = ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
      out[n++] = (struct berth_ipv4_net){ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr) & m,
                                         __builtin_popcount(m)};
    }
  }
  if (ifs)
    freeifaddrs(ifs);
  for (char **p = names; p && *p; p++) {
    if (!record_name_len(*p))
      continue;
    cleanup_json json_t *net = berth_json_load_at(dfd, *p, NULL);
    uint32_t gw;
    if (n + 1 >= cap && !(out = realloc(out, (cap *= 2) * sizeof *out)))
      abort();
    if (json_array_size(json_object_get(json_object_get(net, "IPAM"), "Config")) &&
        berth_net_subnet(net, &out[n], &gw, NULL) == 0)
      n++;
  }
  *ret_n = n;
  return out;
}

/* The default network, made on first use: BERTH_DEFAULT_BRIDGE and
 * BERTH_DEFAULT_SUBNET (read then only) let tests use their own bridge.
 * Its subnet is the setting "bip" (docker's: the bridge's address and
 * prefix), or 10.88.0.0/16, or when an address of the host (podman's
 * network has the same default) or a network of the store is in it, the
 * next free /16. */
static json_t *default_network(int dfd, berth_error_t *err)
{
  json_t *net = berth_json_load_at(dfd, "bridge.json", NULL);
  if (net)
    return net;
  /* one maker: its Id names the network's nftables chains */
  cleanup_close int lock = berth_lock_at(dfd, ".bridge.lock", true, err);
  if (lock < 0)
    return NULL;
  if ((net = berth_json_load_at(dfd, "bridge.json", NULL)))
    return net;
  const char *bridge = getenv("BERTH_DEFAULT_BRIDGE"), *subnet = getenv("BERTH_DEFAULT_SUBNET");
  struct berth_ipv4_net sn;
  uint32_t gw_addr = 0;
  char gw[16], a[16], cidr[32];
  cleanup_json json_t *cfg = subnet && *subnet ? NULL : berth_config_load(err);
  const char *bip = berth_json_str(cfg, "bip");
  if ((!subnet || !*subnet) && !cfg)
    return NULL;
  if (bip) { /* docker's bip: the bridge's own address, with the subnet's prefix */
    cleanup_free char *addr = strndup(bip, strcspn(bip, "/"));
    if (berth_net_parse_cidr(bip, true, &sn, NULL) < 0 || berth_net_parse_ipv4(addr, &gw_addr) < 0 ||
        sn.prefix > 30 || gw_addr == sn.addr) {
      berth_error_set_plain(err, EINVAL, "%s: \"bip\" %s is not an address and prefix such as 10.88.0.1/16",
                            berth_config_path(), bip);
      return NULL;
    }
  } else if (berth_net_parse_cidr(subnet && *subnet ? subnet : DEFAULT_SUBNET, false, &sn, err) < 0) {
    return NULL;
  }
  if ((!subnet || !*subnet) && !bip) {
    size_t n;
    cleanup_free struct berth_ipv4_net *taken = taken_subnets(dfd, &n);
    if (!berth_net_pick_free(taken, n, sn.addr, 11u << 24, sn.prefix, &sn)) {
      berth_error_set_plain(err, ENOSPC, "no free /16 in 10.88.0.0 - 10.255.255.255 for the default network");
      return NULL;
    }
  }
  snprintf(cidr, sizeof cidr, "%s/%d", berth_net_ipv4_str(sn.addr, a), sn.prefix);
  net = berth_net_record_new("bridge", bridge && *bridge ? bridge : DEFAULT_BRIDGE, cidr,
                             berth_net_ipv4_str(gw_addr ? gw_addr : sn.addr + 1, gw), false, NULL);
  if (berth_json_write_atomic(dfd, "bridge.json", net, err) < 0) {
    json_decref(net);
    return NULL;
  }
  return net;
}

static bool valid_file_name(const char *name)
{
  return name && *name && name[0] != '.' && !strchr(name, '/') && strlen(name) < 200;
}

json_t *berth_net_load(struct berth_engine *e, const char *name, berth_error_t *err)
{
  cleanup_close int dfd = networks_dir(e, false, err);
  if (dfd < 0)
    return NULL;
  if (strcmp(name, "bridge") == 0)
    return default_network(dfd, err);
  char file[256];
  if (valid_file_name(name)) {
    snprintf(file, sizeof file, "%s.json", name);
    json_t *net = berth_json_load_at(dfd, file, NULL);
    if (net)
      return net;
  }
  /* by id or a unique id prefix */
  cleanup_strv char **names = berth_dir_names(dfd, NULL, err);
  json_t *found = NULL;
  size_t len = strlen(name);
  for (char **p = names; p && *p && len; p++) {
    if (!strstr(*p, ".json") || strcmp(*p + strlen(*p) - 5, ".json") != 0)
      continue;
    json_t *net = berth_json_load_at(dfd, *p, NULL);
    const char *id = berth_json_str(net, "Id");
    if (id && strncmp(id, name, len) == 0) {
      if (found) {
        json_decref(found);
        json_decref(net);
        berth_error_set_plain(err, EINVAL, "network %s is ambiguous", name);
        return NULL;
      }
      found = net;
    } else {
      json_decref(net);
    }
  }
  if (!found)
    berth_error_set_plain(err, ENOENT, "network %s not found", name);
  return found;
}

/* ---- the kernel side of a network ---- */

/* Published ports, for all networks: two maps from (host address,)
 * protocol and port to the container's address and port, looked up for
 * traffic to any local address, from outside (prerouting) and from the host
 * itself (output).  What comes from the host's loopback or from a bridge
 * (hairpin) leaves masqueraded, so that the answer comes back through us. */
static const char ports_script[] =
    "add map ip berth ports_any { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
    "add map ip berth ports_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }\n"
    "add chain ip berth ports-pre { type nat hook prerouting priority dstnat; policy accept; }\n"
    "flush chain ip berth ports-pre\n"
    "add rule ip berth ports-pre fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @ports_ip\n"
    "add rule ip berth ports-pre fib daddr type local dnat ip to meta l4proto . th dport map @ports_any\n"
    "add chain ip berth ports-out { type nat hook output priority -100; policy accept; }\n"
    "flush chain ip berth ports-out\n"
    "add rule ip berth ports-out fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @ports_ip\n"
    "add rule ip berth ports-out fib daddr type local dnat ip to meta l4proto . th dport map @ports_any\n"
    "add chain ip berth ports-post { type nat hook postrouting priority srcnat; policy accept; }\n"
    "flush chain ip berth ports-post\n"
    "add rule ip berth ports-post oifname @bridges ct status dnat ip saddr 127.0.0.0/8 masquerade\n"
    "add rule ip berth ports-post oifname @bridges ct status dnat iifname @bridges masquerade\n";

/* berth's table holds, per network, a NAT chain (masquerade out of the
 * subnet unless internal) and a filter chain (isolation from the other
 * networks' bridges, and for an internal one no way out at all). */
static char *nft_network_script(const json_t *net)
{
  struct berth_ipv4_net sn;
  uint32_t gw;
  char a[16], tag[16];
  if (berth_net_subnet(net, &sn, &gw, NULL) < 0)
    return NULL;
  const char *br = berth_net_bridge_name(net);
  snprintf(tag, sizeof tag, "%.12s", berth_json_str(net, "Id"));
  char *s = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&s, &len);
  if (!f)
    abort();
  fprintf(f, "add table ip berth\nadd set ip berth bridges { type ifname; }\n"
             "add element ip berth bridges { \"%s\" }\n", br);
  fprintf(f, "add chain ip berth nat-%s { type nat hook postrouting priority srcnat; policy accept; }\n"
             "flush chain ip berth nat-%s\n", tag, tag);
  fprintf(f, "add chain ip berth fwd-%s { type filter hook forward priority filter; policy accept; }\n"
             "flush chain ip berth fwd-%s\n", tag, tag);
  /* published ports are reachable from every network; otherwise no traffic
   * from this network's bridge to another network's */
  fprintf(f, "add rule ip berth fwd-%s ct status dnat accept\n", tag);
  fprintf(f, "add rule ip berth fwd-%s iifname \"%s\" oifname @bridges oifname != \"%s\" drop\n", tag, br, br);
  if (json_is_true(json_object_get(net, "Internal")))
    fprintf(f, "add rule ip berth fwd-%s iifname \"%s\" oifname != \"%s\" drop\n"
               "add rule ip berth fwd-%s oifname \"%s\" iifname != \"%s\" drop\n", tag, br, br, tag, br, br);
  else
    fprintf(f, "add rule ip berth nat-%s ip saddr %s/%d oifname != \"%s\" masquerade\n", tag,
            berth_net_ipv4_str(sn.addr, a), sn.prefix, br);
  fputs(ports_script, f);
  fclose(f);
  return s;
}

static int write_sysctl(const char *path, berth_error_t *err)
{
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, "1", 1) != 1)
    return berth_error_set(err, errno, "write 1 to `%s`", path);
  return 0;
}

int berth_net_kernel_ensure(const json_t *net, berth_error_t *err)
{
  struct berth_ipv4_net sn;
  uint32_t gw;
  const char *br = berth_net_bridge_name(net);
  bool created = false;
  if (!br || berth_net_subnet(net, &sn, &gw, err) < 0)
    return br ? -1 : berth_error_set_plain(err, EINVAL, "network %s has no bridge", berth_json_str(net, "Name"));
  if (berth_net_bridge_ensure(br, gw, sn.prefix, &created, err) < 0)
    return -1;
  if (!created)
    return 0;
  /* routing between the bridge and the host's links: docker sets it too */
  if (write_sysctl("/proc/sys/net/ipv4/ip_forward", err) < 0)
    return -1;
  /* published ports answer on 127.0.0.1: DNAT to the bridge keeps that
   * source until masquerade, which the bridge must route (only ours) */
  char path[96];
  snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/route_localnet", br);
  if (write_sysctl(path, err) < 0)
    return -1;
  cleanup_free char *script = nft_network_script(net);
  if (!script || berth_nft_run(script, err) < 0) {
    (void)berth_net_link_delete(br, NULL);
    return script ? berth_error_prefix(err, "network %s", berth_json_str(net, "Name"))
                  : berth_error_set_plain(err, EINVAL, "network %s: bad configuration", berth_json_str(net, "Name"));
  }
  return 0;
}

int berth_net_kernel_remove(const json_t *net, berth_error_t *err)
{
  char tag[16], *script = NULL;
  snprintf(tag, sizeof tag, "%.12s", berth_json_str(net, "Id"));
  const char *br = berth_net_bridge_name(net);
  /* "add" first: deleting what is not there fails the whole transaction */
  if (asprintf(&script,
               "add table ip berth\n"
               "add set ip berth bridges { type ifname; }\n"
               "add element ip berth bridges { \"%s\" }\n"
               "add chain ip berth nat-%s\nadd chain ip berth fwd-%s\n"
               "delete chain ip berth nat-%s\ndelete chain ip berth fwd-%s\n"
               "delete element ip berth bridges { \"%s\" }\n",
               br, tag, tag, tag, tag, br) < 0)
    abort();
  int r = berth_nft_run(script, err);
  free(script);
  if (r < 0)
    return -1;
  return berth_net_link_delete(br, err);
}

/* ---- published ports ---- */

/* Is a binding's host address an IPv6 one?  Those are not in berth's maps:
 * the container's monitor listens on them and forwards (IPv6 cannot be
 * DNATed to the container's IPv4 address). */
static bool host_ip_v6(const char *host_ip) { return host_ip && strchr(host_ip, ':'); }

/* One element of berth's port maps: "ports_any { tcp . 8080 : 10.88.0.2 . 80 }". */
static void port_element(FILE *f, const char *verb, const char *key, const char *host_ip, const char *host_port,
                         const char *addr)
{
  unsigned ctr_port;
  char proto[8];
  berth_net_port_key(key, &ctr_port, proto);
  if (host_ip_v6(host_ip))
    return;
  if (!*host_ip || strcmp(host_ip, "0.0.0.0") == 0)
    fprintf(f, "%s element ip berth ports_any { %s . %s : %s . %u }\n", verb, proto, host_port, addr, ctr_port);
  else
    fprintf(f, "%s element ip berth ports_ip { %s . %s . %s : %s . %u }\n", verb, host_ip, proto, host_port, addr,
            ctr_port);
}

/* The nft script for every IPv4 binding of `ports` to addr (NULL when
 * there is none): "create" (fails on a port another container holds), or
 * "add" then "delete" (removes ours, and fails without touching a port
 * someone else holds since). */
static char *ports_script_for(const json_t *ports, const char *addr, bool remove)
{
  char *s = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&s, &len);
  const char *key;
  json_t *list, *b;
  size_t i;
  if (!f)
    abort();
  json_object_foreach((json_t *)ports, key, list) json_array_foreach(list, i, b)
  {
    const char *ip = berth_json_str(b, "HostIp"), *port = berth_json_str(b, "HostPort");
    if (remove)
      port_element(f, "add", key, ip, port, addr);
    port_element(f, remove ? "delete" : "create", key, ip, port, addr);
  }
  fclose(f);
  if (!len) {
    free(s);
    return NULL;
  }
  return s;
}

/* The annotation berth.ports: every binding as the monitor holds it,
 * [{"Proto": "tcp", "HostIp": "::", "HostPort": 8080, "IP": ADDR, "Port": 80}]
 * (NULL when there is none). */
static char *ports_annotation(const json_t *ports, const char *addr)
{
  cleanup_json json_t *out = json_array();
  const char *key;
  json_t *list, *b;
  size_t i;
  json_object_foreach((json_t *)ports, key, list) json_array_foreach(list, i, b)
  {
    unsigned ctr_port;
    char proto[8];
    berth_net_port_key(key, &ctr_port, proto);
    json_array_append_new(out, json_pack("{s:s, s:s, s:i, s:s, s:i}", "Proto", proto, "HostIp",
                                         berth_json_str(b, "HostIp"), "HostPort",
                                         atoi(berth_json_str(b, "HostPort")), "IP", addr, "Port", (int)ctr_port));
  }
  return json_array_size(out) ? berth_json_dumps(out) : NULL;
}

/* Take the ports of a container that is gone or stopping out of the maps. */
static void ports_remove(const json_t *ep)
{
  cleanup_free char *script = ports_script_for(json_object_get(ep, "Ports"), berth_json_str(ep, "IPAddress"), true);
  berth_error_t err = NULL;
  if (script && berth_nft_run(script, &err) < 0)
    berth_error_release(&err); /* taken over by another container since, or gone */
}

/* The host end of a stale endpoint's veth pair.  The kernel takes it away
 * with the container's network namespace (asynchronously, from a work
 * queue: deleting it ourselves at every stop would cost a run ~20 ms of RCU
 * waits); a namespace still held by a container that joined it
 * (--network container:X) would keep it, and its address, alive. */
static void drop_host_link(const json_t *ep)
{
  const char *host_if = berth_json_str(ep, "HostIf");
  berth_error_t err = NULL;
  if (host_if && *host_if && berth_net_link_delete(host_if, &err) < 0)
    berth_error_release(&err);
}

/* Is host_ip:port free for proto?  port 0: pick a free one.  (The monitor
 * holds the port once the container runs: cmd/berth-monitor/port-proxy.c.) */
static int reserve_port(const char *host_ip, const char *proto, unsigned *port, berth_error_t *err)
{
  struct sockaddr_storage ss;
  socklen_t len;
  char hp[80], num[16];
  snprintf(num, sizeof num, "%u", *port);
  if (berth_net_sockaddr(host_ip, *port, &ss, &len) < 0)
    return berth_error_set_plain(err, EINVAL, "invalid host IP address: %s", host_ip);
  cleanup_close int fd = socket(ss.ss_family, (strcmp(proto, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0)
    return berth_error_set(err, errno, "socket");
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ss.ss_family == AF_INET6)
    (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
    if (errno == EADDRINUSE)
      return berth_error_set_plain(err, EADDRINUSE, "Bind for %s failed: port is already allocated",
                                   berth_net_join_host_port(host_ip, num, hp));
    return berth_error_set(err, errno, "bind %s", berth_net_join_host_port(host_ip, num, hp));
  }
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
    return berth_error_set(err, errno, "getsockname");
  *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                         : ((struct sockaddr_in *)&ss)->sin_port);
  return 0;
}

/* Can this host listen on IPv6 (a kernel with it, not disabled)? */
static bool host_has_ipv6(void)
{
  static int has = -1;
  if (has < 0) {
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    cleanup_close int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    has = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  }
  return has;
}

/* A binding without a host address is docker's "0.0.0.0" and "::" (when
 * the host has IPv6) on one port; port 0: a free one for both. */
static int reserve_any(const char *proto, unsigned *port, bool *ret_v6, berth_error_t *err)
{
  *ret_v6 = strcmp(proto, "sctp") != 0 && host_has_ipv6(); /* the monitor forwards tcp and udp */
  for (int tries = 0;; tries++) {
    unsigned p = *port;
    if (reserve_port("0.0.0.0", proto, &p, err) < 0)
      return -1;
    if (!*ret_v6 || reserve_port("::", proto, &p, err) == 0) {
      *port = p;
      return 0;
    }
    if (*port || tries == 8) /* "::" is taken there; a free port: another one */
      return -1;
    berth_error_release(err);
  }
}

/* The host address of ports published without one: the setting "ip"
 * (docker's daemon.json key), or "" for docker's default, every address. */
static char *default_host_ip(berth_error_t *err)
{
  cleanup_json json_t *cfg = berth_config_load(err);
  const json_t *ip = json_object_get(cfg, "ip");
  struct sockaddr_storage ss;
  socklen_t len;
  if (!cfg)
    return NULL;
  if (ip && (!json_is_string(ip) || berth_net_sockaddr(json_string_value(ip), 0, &ss, &len) < 0)) {
    berth_error_set_plain(err, EINVAL, "%s: \"ip\" is not an IP address", berth_config_path());
    return NULL;
  }
  return strdup(ip ? json_string_value(ip) : "");
}

/* NetworkSettings.Ports of c before it starts: every exposed or bound port,
 * its bindings with the host address and a free host port filled in. */
static json_t *resolve_ports(const struct berth_ctr *c, berth_error_t *err)
{
  cleanup_free char *default_ip = NULL;
  const json_t *hc = json_object_get(c->rec, "HostConfig");
  const json_t *bindings = json_object_get(hc, "PortBindings");
  const json_t *exposed = json_object_get(json_object_get(c->rec, "Config"), "ExposedPorts");
  bool all = json_is_true(json_object_get(hc, "PublishAllPorts"));
  cleanup_json json_t *keys = json_object(), *out = json_object();
  const char *key;
  json_t *v, *b;
  size_t i;
  json_object_foreach((json_t *)exposed, key, v) json_object_set_new(keys, key, json_null());
  json_object_foreach((json_t *)bindings, key, v) json_object_set_new(keys, key, json_null());
  json_object_foreach(keys, key, v)
  {
    json_t *given = json_object_get(bindings, key);
    cleanup_json json_t *list = json_array_size(given) ? json_incref(given)
                                : all ? json_pack("[{s:s, s:s}]", "HostIp", "", "HostPort", "")
                                      : NULL;
    if (!list) {
      json_object_set_new(out, key, json_null());
      continue;
    }
    json_t *res = json_array();
    json_object_set_new(out, key, res);
    unsigned ctr_port;
    char proto[8];
    berth_net_port_key(key, &ctr_port, proto);
    json_array_foreach(list, i, b)
    {
      const char *ip = berth_json_str(b, "HostIp"), *hp = berth_json_str(b, "HostPort");
      unsigned port = hp && *hp ? (unsigned)strtoul(hp, NULL, 10) : 0;
      if ((!ip || !*ip) && !default_ip && !(default_ip = default_host_ip(err)))
        return NULL;
      if (!ip || !*ip)
        ip = *default_ip ? default_ip : NULL;
      bool any = !ip || !*ip, v6 = false;
      if (!any && host_ip_v6(ip) && strcmp(proto, "sctp") == 0) {
        berth_error_set_plain(err, ENOTSUP, "publishing sctp on an IPv6 address is not supported");
        return NULL;
      }
      if (any ? reserve_any(proto, &port, &v6, err) < 0 : reserve_port(ip, proto, &port, err) < 0) {
        berth_error_prefix(err, "driver failed programming external connectivity on endpoint %s",
                           berth_ctr_bare_name(c));
        return NULL;
      }
      char num[16];
      snprintf(num, sizeof num, "%u", port);
      json_array_append_new(res, json_pack("{s:s, s:s}", "HostIp", any ? "0.0.0.0" : ip, "HostPort", num));
      if (v6)
        json_array_append_new(res, json_pack("{s:s, s:s}", "HostIp", "::", "HostPort", num));
    }
  }
  return steal_ptr(&out);
}

/* Put c's ports in the maps; a port another container holds is docker's
 * error.  The network's own rules are made again in the same transaction
 * (idempotent, atomic): whatever removed berth's table since the bridge was
 * made, published ports work again. */
static int ports_add(const struct berth_ctr *c, const json_t *net, const json_t *ports, uint32_t addr,
                     berth_error_t *err)
{
  char a[16];
  cleanup_free char *elems = ports_script_for(ports, berth_net_ipv4_str(addr, a), false);
  if (!elems)
    return 0;
  cleanup_free char *base = nft_network_script(net), *script = NULL;
  if (asprintf(&script, "%s%s", base ? base : "", elems) < 0)
    abort();
  if (berth_nft_run(script, err) == 0)
    return 0;
  /* which one is taken (libnftables does not always say) */
  berth_error_release(err);
  if (base && berth_nft_run(base, err) < 0)
    return -1;
  const char *key;
  json_t *list, *b;
  size_t i;
  json_object_foreach((json_t *)ports, key, list) json_array_foreach(list, i, b)
  {
    cleanup_json json_t *one = json_pack("{s:[O]}", key, b);
    cleanup_free char *s1 = ports_script_for(one, a, false), *undo = ports_script_for(one, a, true);
    if (berth_nft_run(s1, NULL) == 0) {
      (void)berth_nft_run(undo, NULL);
      continue;
    }
    return berth_error_set_plain(err, EADDRINUSE,
                                 "driver failed programming external connectivity on endpoint %s: Bind for %s:%s "
                                 "failed: port is already allocated",
                                 berth_ctr_bare_name(c), berth_json_str(b, "HostIp"), berth_json_str(b, "HostPort"));
  }
  return berth_error_set_plain(err, EADDRINUSE, "publish the ports of %s: port is already allocated",
                               berth_ctr_bare_name(c));
}

/* ---- allocations ---- */

/* Is the container holding this endpoint active, or being started (its start
 * lock held)?  Otherwise its allocation is stale. */
static bool holder_alive(struct berth_engine *e, const char *id)
{
  /* Being started: its start lock is held (through the monitor's report).
   * Otherwise we hold that lock now, so no monitor of it is starting and
   * its monitor lock can be tested without failing a monitor's own
   * non-blocking take of it. */
  cleanup_close int rundir = berth_container_run_dir(e->store, id, false, NULL);
  cleanup_close int start = rundir < 0 ? -1 : openat(rundir, "start.lock", O_RDONLY | O_CLOEXEC);
  if (start >= 0 && flock(start, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
    return true;
  /* the common case, without loading the record: its monitor holds its lock
   * (a run that is over keeps its address until the monitor is gone) */
  cleanup_close int mon = berth_ctr_monitor_lock_fd(e, id);
  if (mon >= 0 && flock(mon, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
    return true;
  close_and_reset(&mon); /* the load tests that lock again */
  struct berth_ctr c;
  bool alive = berth_ctr_load_id(e, id, &c, NULL) == 0 && berth_ctr_is_active(&c);
  berth_ctr_clear(&c);
  return alive;
}

struct alloc_file {
  int dfd, lock;
  char file[256];
  json_t *doc;
};

static void alloc_close(struct alloc_file *a)
{
  json_decref(a->doc);
  close_and_reset(&a->lock);
  close_and_reset(&a->dfd);
}

static int alloc_open(struct berth_engine *e, const json_t *net, struct alloc_file *a, berth_error_t *err)
{
  const char *name = berth_json_str(net, "Name");
  char lock[256];
  *a = (struct alloc_file){.dfd = -1, .lock = -1};
  snprintf(a->file, sizeof a->file, "%s.json", name);
  snprintf(lock, sizeof lock, "%s.lock", name);
  a->dfd = networks_dir(e, true, err);
  if (a->dfd < 0 || (a->lock = berth_lock_at(a->dfd, lock, true, err)) < 0) {
    alloc_close(a);
    return -1;
  }
  a->doc = berth_json_load_at(a->dfd, a->file, NULL);
  if (!json_is_object(a->doc)) {
    json_decref(a->doc);
    a->doc = json_object();
  }
  if (!json_is_object(json_object_get(a->doc, "endpoints")))
    json_object_set_new(a->doc, "endpoints", json_object());
  return 0;
}

static int alloc_commit(struct alloc_file *a, berth_error_t *err)
{
  return berth_json_write_replace(a->dfd, a->file, a->doc, err);
}

/* Drop stale endpoints (not `self`), return the sorted addresses in use. */
static uint32_t *used_addresses(struct berth_engine *e, json_t *eps, const char *self, size_t *ret_n)
{
  uint32_t *used = calloc(json_object_size(eps) + 1, sizeof *used);
  size_t n = 0;
  const char *id;
  json_t *ep, *tmp;
  json_object_foreach_safe(eps, tmp, id, ep)
  {
    if (strcmp(id, self) == 0 || !holder_alive(e, id)) {
      ports_remove(ep);
      drop_host_link(ep);
      json_object_del(eps, id);
      continue;
    }
    uint32_t a;
    if (berth_net_parse_ipv4(berth_json_str(ep, "IPAddress"), &a) == 0)
      used[n++] = a;
  }
  berth_net_sort_addrs(used, n);
  *ret_n = n;
  return used;
}

/* Pick the container's address (`want`, or the next free one) on net and
 * record the endpoint; *ret_ep is filled but for the interface names. */
static int allocate(struct berth_engine *e, const json_t *net, const struct berth_ctr *c, const json_t *settings,
                    const json_t *ports, struct berth_net_endpoint *ret_ep, berth_error_t *err)
{
  const char *ctr_id = c->id;
  struct berth_ipv4_net sn;
  uint32_t gw, want = 0, last = 0;
  const char *name = berth_json_str(net, "Name");
  if (berth_net_subnet(net, &sn, &gw, err) < 0)
    return -1;
  const char *ip = berth_json_str(json_object_get(settings, "IPAMConfig"), "IPv4Address");
  if (ip && *ip && (berth_net_parse_ipv4(ip, &want) < 0 || !berth_net_contains(&sn, want)))
    return berth_error_set_plain(err, EINVAL, "no configured subnet contains IP address %s", ip);
  struct alloc_file a;
  if (alloc_open(e, net, &a, err) < 0)
    return -1;
  json_t *eps = json_object_get(a.doc, "endpoints");
  size_t n_used = 0;
  cleanup_free uint32_t *used = used_addresses(e, eps, ctr_id, &n_used);
  (void)berth_net_parse_ipv4(berth_json_str(a.doc, "last"), &last);
  uint32_t addr = want;
  int r = 0;
  if (want && (want == gw || berth_net_addr_used(used, n_used, want)))
    r = berth_error_set_plain(err, EEXIST, "Address already in use");
  else if (!want && !(addr = berth_net_next_free(&sn, gw, last, used, n_used)))
    r = berth_error_set_plain(err, ENOSPC, "no available IPv4 addresses on network %s", name);
  char s[16], g[16], m[18];
  const char *mac = berth_json_str(settings, "MacAddress");
  if (r == 0) {
    if (mac && *mac)
      (void)berth_net_parse_mac(mac, ret_ep->mac);
    else
      berth_net_mac_for(addr, ret_ep->mac);
    ret_ep->addr = addr;
    ret_ep->prefix = sn.prefix;
    ret_ep->gateway = json_is_true(json_object_get(net, "Internal")) ? 0 : gw;
    snprintf(ret_ep->bridge, sizeof ret_ep->bridge, "%s", berth_net_bridge_name(net));
    
    if (!want)
      json_object_set_new(a.doc, "last", json_string(berth_net_ipv4_str(addr, s)));
    json_object_set_new(eps, ctr_id,
                        json_pack("{s:s, s:i, s:s, s:s}", "IPAddress", berth_net_ipv4_str(addr, s), "IPPrefixLen",
                                  sn.prefix, "Gateway", ret_ep->gateway ? berth_net_ipv4_str(gw, g) : "", "MacAddress",
                                  berth_net_mac_str(ret_ep->mac, m)));
    json_t *mine = json_object_get(eps, ctr_id);
    json_t *aliases = json_object_get(settings, "Aliases");
    json_object_set_new(mine, "Name", json_string(berth_ctr_bare_name(c)));
    json_object_set_new(mine, "Aliases", json_is_array(aliases) ? json_deep_copy(aliases) : json_array());
    json_object_set_new(mine, "IfName", json_string(ret_ep->ifname));
    json_object_set_new(mine, "HostIf", json_string(ret_ep->host_if));
    if (ports)
      json_object_set_new(mine, "Ports", json_deep_copy(ports));
    r = alloc_commit(&a, err);
  }
  alloc_close(&a);
  return r;
}

static int release_one(struct berth_engine *e, const char *name, const char *ctr_id, berth_error_t *err)
{
  struct alloc_file a;
  cleanup_json json_t *net = json_pack("{s:s}", "Name", name);
  if (alloc_open(e, net, &a, err) < 0)
    return -1;
  int r = 0;
  json_t *ep = json_object_get(json_object_get(a.doc, "endpoints"), ctr_id);
  if (ep) {
    ports_remove(ep);
    json_object_del(json_object_get(a.doc, "endpoints"), ctr_id);
    r = alloc_commit(&a, err);
  }
  alloc_close(&a);
  return r;
}

/* Drop the allocations (and published ports) of containers that are gone:
 * a look without the lock first, the lock only when something is stale. */
void berth_net_reconcile(struct berth_engine *e)
{
  cleanup_close int dfd = openat(e->store->runroot_fd, "networks", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_strv char **names = dfd < 0 ? NULL : berth_dir_names(dfd, NULL, NULL);
  for (char **p = names; p && *p; p++) {
    size_t len = record_name_len(*p);
    if (!len)
      continue;
    cleanup_json json_t *doc = berth_json_load_at(dfd, *p, NULL);
    const char *id;
    json_t *ep;
    bool stale = false;
    json_object_foreach(json_object_get(doc, "endpoints"), id, ep) if (!holder_alive(e, id)) stale = true;
    if (!stale)
      continue;
    cleanup_free char *name = strndup(*p, len);
    cleanup_json json_t *net = json_pack("{s:s}", "Name", name);
    struct alloc_file a;
    size_t n_used = 0;
    if (alloc_open(e, net, &a, NULL) < 0)
      continue;
    free(used_addresses(e, json_object_get(a.doc, "endpoints"), "", &n_used));
    (void)alloc_commit(&a, NULL);
    alloc_close(&a);
  }
}

json_t *berth_net_endpoints(struct berth_engine *e, const char *name)
{
  cleanup_close int dfd = networks_dir(e, true, NULL);
  char file[256];
  snprintf(file, sizeof file, "%s.json", name);
  cleanup_json json_t *doc = dfd < 0 ? NULL : berth_json_load_at(dfd, file, NULL);
  json_t *eps = json_object_get(doc, "endpoints");
  return json_is_object(eps) ? json_incref(eps) : json_object();
}

/* ---- a container's networks ---- */

/* Its networks: NetworkSettings.Networks of the record, or for a record
 * without any its NetworkMode alone. */
static json_t *ctr_networks(const struct berth_ctr *c)
{
  json_t *nets = json_object_get(json_object_get(c->rec, "NetworkSettings"), "Networks");
  if (json_is_object(nets))
    return json_incref(nets);
  const char *mode = berth_json_str(json_object_get(c->rec, "HostConfig"), "NetworkMode");
  json_t *one = json_object();
  if (mode && berth_net_mode_is_network(mode))
    json_object_set_new(one, strcmp(mode, "default") == 0 ? "bridge" : mode, json_object());
  return one;
}

bool berth_net_mode_is_network(const char *mode)
{
  return strcmp(mode, "none") != 0 && strcmp(mode, "host") != 0 && strncmp(mode, "container:", 10) != 0;
}

static const char default_hosts[] = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                                    "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
                                    "ff02::2\tip6-allrouters\n";

/* --add-host "name:ip" lines as "ip\tname"; host-gateway is the default
 * bridge's gateway address, as docker's. */
static void extra_hosts(struct berth_engine *e, const json_t *hc, FILE *f)
{
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(hc, "ExtraHosts"), i, v)
  {
    const char *s = json_string_value(v), *sep = s ? strchr(s, ':') : NULL;
    if (!sep)
      continue;
    const char *ip = sep + 1;
    char gw[16] = "";
    if (strcmp(ip, "host-gateway") == 0) {
      cleanup_json json_t *net = berth_net_load(e, "bridge", NULL);
      struct berth_ipv4_net sn;
      uint32_t g = 0;
      if (net && berth_net_subnet(net, &sn, &g, NULL) == 0)
        berth_net_ipv4_str(g, gw);
      ip = gw;
    }
    fprintf(f, "%s\t%.*s\n", ip, (int)(sep - s), s);
  }
}

char *berth_net_hosts_at_create(struct berth_engine *e, const json_t *hc)
{
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  cleanup_free char *host = NULL;
  size_t hlen = 0;
  if (!f)
    abort();
  if (strcmp(berth_json_str(hc, "NetworkMode"), "host") == 0 &&
      berth_read_file_at(AT_FDCWD, "/etc/hosts", &host, &hlen, NULL) == 0)
    fputs(host, f);
  else
    fputs(default_hosts, f);
  extra_hosts(e, hc, f);
  fclose(f);
  return text;
}

static bool has_items(const json_t *hc, const char *key) { return json_array_size(json_object_get(hc, key)) > 0; }

static void put_list(FILE *f, const char *word, const json_t *list)
{
  size_t i;
  json_t *v;
  fputs(word, f);
  json_array_foreach(list, i, v) fprintf(f, " %s", json_string_value(v));
  fputc('\n', f);
}

char *berth_net_resolv_conf(const json_t *hc)
{
  bool host_net = strcmp(berth_json_str(hc, "NetworkMode"), "host") == 0;
  cleanup_free char *buf = NULL;
  size_t len = 0;
  if (berth_read_file_at(AT_FDCWD, "/etc/resolv.conf", &buf, &len, NULL) < 0)
    buf = strdup("");
  bool dns = has_items(hc, "Dns"), search = has_items(hc, "DnsSearch"), opts = has_items(hc, "DnsOptions");
  char *out = NULL;
  size_t olen = 0;
  FILE *f = open_memstream(&out, &olen);
  if (!f)
    abort();
  bool have_ns = false;
  for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char word[16] = "", addr[128] = "";
    (void)sscanf(line, " %15s %127s", word, addr);
    if (strcmp(word, "nameserver") == 0) {
      /* loopback resolvers are unreachable from a private network namespace */
      if (dns || (!host_net && (strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0)))
        continue;
      have_ns = true;
    }
    if ((search && (strcmp(word, "search") == 0 || strcmp(word, "domain") == 0)) ||
        (opts && strcmp(word, "options") == 0))
      continue;
    fprintf(f, "%s\n", line);
  }
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(hc, "Dns"), i, v) fprintf(f, "nameserver %s\n", json_string_value(v));
  if (!dns && !have_ns && !host_net)
    fputs("nameserver 8.8.8.8\nnameserver 8.8.4.4\n", f);
  if (search)
    put_list(f, "search", json_object_get(hc, "DnsSearch"));
  if (opts)
    put_list(f, "options", json_object_get(hc, "DnsOptions"));
  fclose(f);
  return out;
}

/* Name resolution between the containers of a user network, daemonless:
 * each member's /etc/hosts lists the other live members of its user
 * networks by name and aliases, and is rewritten when one comes or goes.
 * (The default `bridge` resolves no names, as docker's.) */

/* What one such rewrite reads: each network's allocations and each
 * holder's liveness, read once however many members' files it writes (a
 * start on a network of N members would otherwise read O(N²) of them). */
struct members_view {
  struct berth_engine *e;
  json_t *allocs; /* network name -> its endpoints */
  json_t *alive;  /* container id -> true | false */
};
#define MEMBERS_VIEW(engine) {.e = (engine), .allocs = json_object(), .alive = json_object()}

static void view_clear(struct members_view *v)
{
  json_decref(v->allocs);
  json_decref(v->alive);
}
#define cleanup_view __attribute__((cleanup(view_clear)))

static const json_t *view_endpoints(struct members_view *v, const char *name)
{
  json_t *eps = json_object_get(v->allocs, name);
  if (!eps)
    json_object_set_new(v->allocs, name, eps = berth_net_endpoints(v->e, name));
  return eps;
}

static bool view_alive(struct members_view *v, const char *id)
{
  json_t *a = json_object_get(v->alive, id);
  if (!a)
    json_object_set_new(v->alive, id, a = json_boolean(holder_alive(v->e, id)));
  return json_is_true(a);
}

static void member_lines(struct members_view *view, const char *self, const json_t *nets, FILE *f)
{
  const char *name, *id;
  json_t *v, *ep, *alias;
  size_t i;
  json_object_foreach((json_t *)nets, name, v)
  {
    if (strcmp(name, "bridge") == 0)
      continue;
    json_object_foreach((json_t *)view_endpoints(view, name), id, ep)
    {
      if (strcmp(id, self) == 0 || !view_alive(view, id))
        continue;
      fprintf(f, "%s\t%s", berth_json_str(ep, "IPAddress"), berth_json_str(ep, "Name"));
      json_array_foreach(json_object_get(ep, "Aliases"), i, alias) fprintf(f, " %s", json_string_value(alias));
      fputc('\n', f);
    }
  }
}

/* docker's /etc/hosts: the defaults, the container's address and hostname,
 * then its network peers.  A running container's file is bind-mounted:
 * rewritten in place (one write), since a rename would not reach it. */
static int write_hosts(struct members_view *view, const struct berth_ctr *c, const json_t *nets, uint32_t addr,
                       bool in_place, berth_error_t *err)
{
  const json_t *cfg = json_object_get(c->rec, "Config");
  const char *host = berth_json_str(cfg, "Hostname"), *domain = berth_json_str(cfg, "Domainname");
  char a[16];
  cleanup_free char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f)
    abort();
  fputs(default_hosts, f);
  extra_hosts(view->e, json_object_get(c->rec, "HostConfig"), f);
  if (domain && *domain)
    fprintf(f, "%s\t%s.%s %s\n", berth_net_ipv4_str(addr, a), host ? host : "", domain, host ? host : "");
  else
    fprintf(f, "%s\t%s\n", berth_net_ipv4_str(addr, a), host ? host : "");
  member_lines(view, c->id, nets, f);
  fclose(f);
  if (!in_place)
    return berth_write_file_replace(c->dirfd, "hosts", text, len, 0644, err);
  cleanup_close int fd = openat(c->dirfd, "hosts", O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || berth_write_all(fd, text, len) < 0)
    return berth_error_set(err, errno, "write the hosts file of %s", c->id);
  return 0;
}

/* c's address on its first network that has one, 0 if none. */
static uint32_t primary_addr(struct members_view *view, const struct berth_ctr *c, const json_t *nets)
{
  const char *name;
  json_t *v;
  json_object_foreach((json_t *)nets, name, v)
  {
    uint32_t a;
    if (berth_net_parse_ipv4(berth_json_str(json_object_get(view_endpoints(view, name), c->id), "IPAddress"), &a) ==
        0)
      return a;
  }
  return 0;
}

/* Rewrite the hosts file of every live member (but `self`) of the user
 * networks in nets: one came or went. */
static void refresh_members(struct members_view *view, const char *self, const json_t *nets)
{
  const char *name, *id;
  json_t *v, *ep;
  cleanup_json json_t *done = json_object(); /* a member of two of these networks: once */
  json_object_foreach((json_t *)nets, name, v)
  {
    if (strcmp(name, "bridge") == 0)
      continue;
    json_object_foreach((json_t *)view_endpoints(view, name), id, ep)
    {
      struct berth_ctr m;
      if (strcmp(id, self) == 0 || json_object_get(done, id) || !view_alive(view, id))
        continue;
      json_object_set_new(done, id, json_true());
      if (berth_ctr_load_id(view->e, id, &m, NULL) == 0 && berth_ctr_is_active(&m)) {
        cleanup_json json_t *mnets = ctr_networks(&m);
        uint32_t a = primary_addr(view, &m, mnets);
        berth_error_t err = NULL;
        if (a && write_hosts(view, &m, mnets, a, true, &err) < 0)
          berth_error_release(&err);
      }
      berth_ctr_clear(&m);
    }
  }
}

void berth_ctr_net_release(struct berth_engine *e, const struct berth_ctr *c)
{
  cleanup_json json_t *nets = ctr_networks(c);
  const char *name;
  json_t *v;
  json_object_foreach(nets, name, v)
  {
    berth_error_t err = NULL;
    if (release_one(e, name, c->id, &err) < 0)
      berth_error_release(&err);
  }
  cleanup_view struct members_view view = MEMBERS_VIEW(e);
  refresh_members(&view, c->id, nets);
}

static void host_ifnames(struct berth_net_endpoint *ep, const char *id, unsigned index)
{
  snprintf(ep->host_if, sizeof ep->host_if, "veth%.10s%x", id, index & 0xf);
  snprintf(ep->ifname, sizeof ep->ifname, "eth%u", index % 100);
}

static int set_annotation(json_t *spec, const char *key, const char *value)
{
  json_t *ann = json_object_get(spec, "annotations");
  if (!json_is_object(ann))
    json_object_set_new(spec, "annotations", ann = json_object());
  return json_object_set_new(ann, key, json_string(value));
}

int berth_ctr_net_start(struct berth_engine *e, const struct berth_ctr *c, json_t *spec, berth_error_t *err)
{
  cleanup_json json_t *nets = ctr_networks(c);
  size_t n = json_object_size(nets);
  const char *mode = berth_json_str(json_object_get(c->rec, "HostConfig"), "NetworkMode");
  if (n == 0 && mode && (strcmp(mode, "host") == 0 || strncmp(mode, "container:", 10) == 0))
    return 0;
  if (n == 0) /* a namespace of its own with nothing but lo, up as docker's */
    return set_annotation(spec, "berth.net", "[]");
  if (n > 16)
    return berth_error_set_plain(err, E2BIG, "too many networks (%zu)", n);
  cleanup_free struct berth_net_endpoint *eps = calloc(n, sizeof *eps);
  cleanup_json json_t *arr = json_array();
  const char *name;
  json_t *settings;
  size_t i = 0;
  int r = 0;
  cleanup_json json_t *ports = resolve_ports(c, err);
  if (!ports)
    return -1;
  json_object_foreach(nets, name, settings)
  {
    cleanup_json json_t *net = berth_net_load(e, name, err);
    host_ifnames(&eps[i], c->id, (unsigned)i);
    if (!net || berth_net_kernel_ensure(net, err) < 0 ||
        allocate(e, net, c, settings, i == 0 ? ports : NULL, &eps[i], err) < 0 ||
        (i == 0 && ports_add(c, net, ports, eps[0].addr, err) < 0)) {
      r = -1;
      break;
    }
    if (i > 0)
      eps[i].gateway = 0; /* one default route: the first network's */
    json_array_append_new(arr, berth_net_endpoint_to_json(&eps[i]));
    i++;
  }
  cleanup_view struct members_view view = MEMBERS_VIEW(e);
  if (r == 0)
    r = write_hosts(&view, c, nets, eps[0].addr, false, err);
  if (r < 0) {
    berth_ctr_net_release(e, c);
    return -1;
  }
  cleanup_free char *text = berth_json_dumps(arr);
  (void)set_annotation(spec, "berth.net", text);
  char a[16];
  /* for the monitor: the ports it holds and forwards while the container
   * lives, and the rules it takes out when it exits for good */
  cleanup_free char *held = ports_annotation(ports, berth_net_ipv4_str(eps[0].addr, a));
  cleanup_free char *undo = ports_script_for(ports, a, true);
  if (held)
    (void)set_annotation(spec, "berth.ports", held);
  if (undo)
    (void)set_annotation(spec, "berth.net.undo", undo);
  refresh_members(&view, c->id, nets);
  return 0;
}

/* ---- create and inspect ---- */

static json_t *endpoint_settings(const json_t *net, const json_t *given)
{
  json_t *ipam = json_object_get(given, "IPAMConfig"), *aliases = json_object_get(given, "Aliases");
  const char *mac = berth_json_str(given, "MacAddress");
  return json_pack("{s:O, s:n, s:O, s:s, s:s, s:n}", "IPAMConfig", json_is_object(ipam) ? ipam : json_null(),
                   "Links", "Aliases", json_is_array(aliases) && json_array_size(aliases) ? aliases : json_null(),
                   "MacAddress", mac ? mac : "", "NetworkID", berth_json_str(net, "Id"), "DriverOpts");
}

static int check_settings(const json_t *net, const json_t *given, berth_error_t *err)
{
  bool builtin = strcmp(berth_json_str(net, "Name"), "bridge") == 0;
  const char *ip = berth_json_str(json_object_get(given, "IPAMConfig"), "IPv4Address");
  const char *mac = berth_json_str(given, "MacAddress");
  uint8_t m[6];
  uint32_t a;
  if (builtin && json_array_size(json_object_get(given, "Aliases")))
    return berth_error_set_plain(err, EINVAL,
                                 "network-scoped alias is supported only for containers in user defined networks");
  if (ip && *ip && builtin)
    return berth_error_set_plain(err, EINVAL, "user specified IP address is supported on user defined networks only");
  if (ip && *ip && berth_net_parse_ipv4(ip, &a) < 0)
    return berth_error_set_plain(err, EINVAL, "invalid IPv4 address: %s", ip);
  if (mac && *mac && berth_net_parse_mac(mac, m) < 0)
    return berth_error_set_plain(err, EINVAL, "invalid MAC address: %s", mac);
  return 0;
}

int berth_ctr_net_settings(struct berth_engine *e, json_t *rec, const json_t *netcfg, berth_error_t *err)
{
  const char *mode = berth_json_str(json_object_get(rec, "HostConfig"), "NetworkMode");
  if (!mode || !berth_net_mode_is_network(mode))
    return 0;
  cleanup_json json_t *net = berth_net_load(e, mode, err);
  if (!net)
    return -1;
  const json_t *eps = json_object_get(netcfg, "EndpointsConfig");
  const json_t *given = json_object_get(eps, mode);
  if (!given && json_object_size(eps) == 1)
    given = json_object_iter_value(json_object_iter((json_t *)eps));
  if (check_settings(net, given, err) < 0)
    return -1;
  json_t *nets = json_object();
  json_object_set_new(nets, berth_json_str(net, "Name"), endpoint_settings(net, given));
  json_object_set_new(rec, "NetworkSettings", json_pack("{s:o}", "Networks", nets));
  return 0;
}

/* EndpointSettings as docker's inspect shows them: the stored settings
 * with the live allocation (mine; NULL: none). */
static json_t *endpoint_view(const json_t *settings, const json_t *mine, const char *id)
{
  json_t *ep = json_deep_copy(settings);
  json_object_set_new(ep, "EndpointID", json_string(mine ? id : ""));
  json_object_set_new(ep, "Gateway", json_string(mine ? berth_json_str(mine, "Gateway") : ""));
  json_object_set_new(ep, "IPAddress", json_string(mine ? berth_json_str(mine, "IPAddress") : ""));
  json_object_set_new(ep, "IPPrefixLen", json_integer(mine ? berth_json_int(mine, "IPPrefixLen", 0) : 0));
  json_object_set_new(ep, "IPv6Gateway", json_string(""));
  json_object_set_new(ep, "GlobalIPv6Address", json_string(""));
  json_object_set_new(ep, "GlobalIPv6PrefixLen", json_integer(0));
  if (mine)
    json_object_set_new(ep, "MacAddress", json_string(berth_json_str(mine, "MacAddress")));
  json_object_set_new(ep, "DNSNames", json_null());
  return ep;
}

json_t *berth_ctr_net_inspect(struct berth_engine *e, const struct berth_ctr *c)
{
  cleanup_json json_t *nets = ctr_networks(c);
  json_t *out = json_pack("{s:s, s:s, s:b, s:s, s:i, s:o, s:s, s:n, s:n, s:s, s:s, s:s, s:i, s:s, s:i, s:s, s:s}",
                          "Bridge", "", "SandboxID", "", "HairpinMode", 0, "LinkLocalIPv6Address", "",
                          "LinkLocalIPv6PrefixLen", 0, "Ports", json_object(), "SandboxKey", "",
                          "SecondaryIPAddresses", "SecondaryIPv6Addresses", "EndpointID", "", "Gateway", "",
                          "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0, "IPAddress", "", "IPPrefixLen", 0,
                          "IPv6Gateway", "", "MacAddress", "");
  json_t *all = json_object();
  const char *mode = berth_json_str(json_object_get(c->rec, "HostConfig"), "NetworkMode");
  if (mode && !berth_net_mode_is_network(mode) && strncmp(mode, "container:", 10) != 0) {
    cleanup_json json_t *none = json_pack("{s:n, s:n, s:n, s:s, s:s, s:n}", "IPAMConfig", "Links", "Aliases",
                                          "MacAddress", "", "NetworkID", "", "DriverOpts");
    json_object_set_new(all, mode, endpoint_view(none, NULL, c->id));
  }
  bool active = berth_ctr_is_active(c);
  const char *name;
  json_t *settings;
  json_object_foreach(nets, name, settings)
  {
    cleanup_json json_t *allocs = active ? berth_net_endpoints(e, name) : NULL;
    json_t *mine = json_object_get(allocs, c->id);
    json_t *ep = endpoint_view(settings, mine, c->id);
    if (mine && json_is_object(json_object_get(mine, "Ports")))
      json_object_set(out, "Ports", json_object_get(mine, "Ports"));
    if (strcmp(name, "bridge") == 0 && mine) {
      static const char *const keys[] = {"EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "MacAddress"};
      for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        json_object_set(out, keys[i], json_object_get(ep, keys[i]));
    }
    json_object_set_new(all, name, ep);
  }
  json_object_set_new(out, "Networks", all);
  return out;
}

int berth_ports_parse(char **publish, char **expose, json_t *exposed, json_t *bindings, berth_error_t *err)
{
  for (char **p = publish; p && *p; p++)
    if (berth_net_parse_publish(*p, exposed, bindings, err) < 0)
      return -1;
  for (char **p = expose; p && *p; p++)
    if (berth_net_parse_expose(*p, exposed, err) < 0)
      return -1;
  return 0;
}

json_t *berth_net_list_ports(struct berth_engine *e, const json_t *item, json_t *allocs)
{
  json_t *out = json_array();
  const char *mode = berth_json_str(json_object_get(item, "HostConfig"), "NetworkMode");
  const char *state = berth_json_str(item, "State");
  if (!mode || !berth_net_mode_is_network(mode) || !state ||
      (strcmp(state, "running") != 0 && strcmp(state, "paused") != 0 && strcmp(state, "restarting") != 0))
    return out;
  const char *name = strcmp(mode, "default") == 0 ? "bridge" : mode;
  json_t *eps = json_object_get(allocs, name);
  if (!eps)
    json_object_set_new(allocs, name, eps = berth_net_endpoints(e, name));
  const char *key;
  json_t *list, *b;
  size_t i;
  json_object_foreach(json_object_get(json_object_get(eps, berth_json_str(item, "Id")), "Ports"), key, list)
  {
    unsigned port;
    char proto[8];
    berth_net_port_key(key, &port, proto);
    if (!json_array_size(list))
      json_array_append_new(out, json_pack("{s:i, s:s}", "PrivatePort", (int)port, "Type", proto));
    json_array_foreach(list, i, b)
    json_array_append_new(out, json_pack("{s:s, s:i, s:i, s:s}", "IP", berth_json_str(b, "HostIp"), "PrivatePort",
                                         (int)port, "PublicPort", atoi(berth_json_str(b, "HostPort")), "Type", proto));
  }
  return out;
}

/* ---- network commands ---- */

static json_t *builtin_record(int dfd, const char *name, const char *driver, berth_error_t *err)
{
  char file[64];
  snprintf(file, sizeof file, "%s.json", name);
  json_t *net = berth_json_load_at(dfd, file, NULL);
  if (net)
    return net;
  net = berth_net_record_new(name, "", "", "", false, NULL);
  json_object_set_new(net, "Driver", json_string(driver));
  json_object_set_new(json_object_get(net, "IPAM"), "Config", json_array());
  json_object_set_new(net, "Options", json_object());
  if (berth_json_write_atomic(dfd, file, net, err) < 0) {
    json_decref(net);
    return NULL;
  }
  return net;
}

static bool is_builtin(const char *name)
{
  return strcmp(name, "bridge") == 0 || strcmp(name, "host") == 0 || strcmp(name, "none") == 0;
}

/* Names of the networks of the store, the built-in ones made if missing. */
static char **network_names(struct berth_engine *e, berth_error_t *err)
{
  cleanup_close int dfd = networks_dir(e, false, err);
  if (dfd < 0)
    return NULL;
  json_t *b = default_network(dfd, err);
  json_t *h = b ? builtin_record(dfd, "host", "host", err) : NULL;
  json_t *n = h ? builtin_record(dfd, "none", "null", err) : NULL;
  json_decref(b);
  json_decref(h);
  if (!n)
    return NULL;
  json_decref(n);
  size_t count = 0;
  char **names = berth_dir_names(dfd, &count, err);
  size_t k = 0;
  for (size_t i = 0; names && i < count; i++) {
    size_t len = record_name_len(names[i]);
    if (len) {
      names[i][len] = '\0';
      names[k++] = names[i];
    } else {
      free(names[i]);
    }
  }
  if (names)
    names[k] = NULL;
  return names;
}

/* The inspect object: the record with its live Containers. */
static json_t *network_view(struct berth_engine *e, json_t *net)
{
  json_t *out = json_deep_copy(net), *containers = json_object();
  cleanup_json json_t *allocs = berth_net_endpoints(e, berth_json_str(net, "Name"));
  const char *id;
  json_t *ep;
  json_object_foreach(allocs, id, ep)
  {
    if (!holder_alive(e, id))
      continue;
    char cidr[32];
    snprintf(cidr, sizeof cidr, "%s/%lld", berth_json_str(ep, "IPAddress"),
             (long long)berth_json_int(ep, "IPPrefixLen", 0));
    json_object_set_new(containers, id,
                        json_pack("{s:s, s:s, s:s, s:s, s:s}", "Name", berth_json_str(ep, "Name"), "EndpointID", id,
                                  "MacAddress", berth_json_str(ep, "MacAddress"), "IPv4Address", cidr,
                                  "IPv6Address", ""));
  }
  json_object_set_new(out, "Containers", containers);
  if (!json_is_object(json_object_get(json_object_get(out, "IPAM"), "Options")))
    json_object_set_new(json_object_get(out, "IPAM"), "Options", json_object());
  return out;
}

json_t *berth_network_inspect(struct berth_engine *e, const char *name, berth_error_t *err)
{
  cleanup_strv char **names = network_names(e, err); /* the built-in ones exist */
  if (!names)
    return NULL;
  cleanup_json json_t *net = berth_net_load(e, name, err);
  return net ? network_view(e, net) : NULL;
}

/* Does any value of filter `key` match (true when the filter is absent)?
 * name: a substring, id: a prefix, others: equal. */
static bool any_value(const json_t *f, const char *key, const char *have)
{
  const json_t *vals = json_object_get(f, key), *v;
  size_t i;
  if (!json_array_size(vals))
    return true;
  json_array_foreach(vals, i, v)
  {
    const char *s = json_string_value(v);
    if (strcmp(key, "name") == 0 ? strstr(have, s) != NULL
        : strcmp(key, "id") == 0 ? strncmp(have, s, strlen(s)) == 0
                                 : strcmp(have, s) == 0)
      return true;
  }
  return false;
}

/* docker's network filters (values of one key: any; keys: all; labels:
 * all): ls takes driver, id, label, name, scope, type (custom|builtin) and
 * dangling; prune label, label! and until.  view: the inspect object. */
static int network_passes(const json_t *view, const json_t *f, bool *ret, berth_error_t *err)
{
  const char *name = berth_json_str(view, "Name");
  const json_t *labels = json_object_get(view, "Labels"), *v;
  size_t i;
  bool builtin = is_builtin(name);
  *ret = false;
  json_array_foreach(json_object_get(f, "type"), i, v)
  {
    const char *s = json_string_value(v);
    if (strcmp(s, "custom") != 0 && strcmp(s, "builtin") != 0)
      return berth_error_set_plain(err, EINVAL, "invalid filter: 'type'='%s'", s);
  }
  json_array_foreach(json_object_get(f, "dangling"), i, v)
  {
    const char *s = json_string_value(v);
    bool want = strcmp(s, "true") == 0 || strcmp(s, "1") == 0;
    if (!want && strcmp(s, "false") != 0 && strcmp(s, "0") != 0)
      return berth_error_set_plain(err, EINVAL, "invalid filter 'dangling=%s'", s);
    if (want != (!builtin && json_object_size(json_object_get(view, "Containers")) == 0))
      return 0;
  }
  json_array_foreach(json_object_get(f, "until"), i, v)
  {
    int64_t until, created;
    if (berth_parse_time_filter(json_string_value(v), &until, err) < 0)
      return -1;
    if (berth_parse_rfc3339(berth_json_str(view, "Created"), &created, NULL) < 0 || created >= until)
      return 0;
  }
  json_array_foreach(json_object_get(f, "label"), i, v) if (!berth_engine_label_matches(labels, json_string_value(v))) return 0;
  json_array_foreach(json_object_get(f, "label!"), i, v) if (berth_engine_label_matches(labels, json_string_value(v))) return 0;
  *ret = any_value(f, "name", name) && any_value(f, "id", berth_json_str(view, "Id")) &&
         any_value(f, "driver", berth_json_str(view, "Driver")) && any_value(f, "scope", "local") &&
         any_value(f, "type", builtin ? "builtin" : "custom");
  return 0;
}

/* The inspect objects of the networks that pass the filters. */
static json_t *list_matching(struct berth_engine *e, char **filters, const char *const *allowed, berth_error_t *err)
{
  cleanup_json json_t *f = berth_engine_parse_filters(filters, allowed, err);
  cleanup_strv char **names = f ? network_names(e, err) : NULL;
  if (!names)
    return NULL;
  cleanup_json json_t *out = json_array();
  for (char **p = names; *p; p++) {
    cleanup_json json_t *net = berth_net_load(e, *p, NULL);
    cleanup_json json_t *view = net ? network_view(e, net) : NULL;
    bool pass = false;
    if (view && network_passes(view, f, &pass, err) < 0)
      return NULL;
    if (pass)
      json_array_append(out, view);
  }
  return steal_ptr(&out);
}

json_t *berth_network_list(struct berth_engine *e, char **filters, berth_error_t *err)
{
  static const char *const allowed[] = {"dangling", "driver", "id", "label", "name", "scope", "type", NULL};
  return list_matching(e, filters, allowed, err);
}

static json_t *labels_json(char **labels)
{
  json_t *out = json_object();
  for (char **p = labels; p && *p; p++) {
    const char *eq = strchr(*p, '=');
    cleanup_free char *k = eq ? strndup(*p, (size_t)(eq - *p)) : strdup(*p);
    json_object_set_new(out, k, json_string(eq ? eq + 1 : ""));
  }
  return out;
}

static bool valid_network_name(const char *name)
{
  if (!name || !*name || strlen(name) > 128 || !isalnum((unsigned char)name[0]))
    return false;
  for (const char *p = name; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
      return false;
  return true;
}

int berth_network_create(struct berth_engine *e, const struct berth_network_create_opts *o, char **ret_id,
                         berth_error_t *err)
{
  if (o->driver && *o->driver && strcmp(o->driver, "bridge") != 0)
    return berth_error_set_plain(err, ENOTSUP, "plugin \"%s\" not found", o->driver);
  if (!valid_network_name(o->name))
    return berth_error_set_plain(err, EINVAL, "invalid network name \"%s\"", o->name ? o->name : "");
  /* one create at a time: the name and the subnet are checked, then taken */
  cleanup_close int ldfd = networks_dir(e, false, err);
  cleanup_close int lock = ldfd < 0 ? -1 : berth_lock_at(ldfd, ".create.lock", true, err);
  if (lock < 0)
    return -1;
  cleanup_json json_t *existing = berth_net_load(e, o->name, NULL);
  if (existing && strcmp(berth_json_str(existing, "Name"), o->name) == 0)
    return berth_error_set_plain(err, EEXIST, "network with name %s already exists", o->name);
  if (is_builtin(o->name))
    return berth_error_set_plain(err, EEXIST, "network with name %s already exists", o->name);
  struct berth_ipv4_net sn;
  uint32_t gw = 0;
  size_t n_taken;
  cleanup_strv char **names = network_names(e, err); /* the default network is made first */
  cleanup_free struct berth_ipv4_net *taken = names ? taken_subnets(ldfd, &n_taken) : NULL;
  if (!taken)
    return -1;
  if (o->subnet && *o->subnet) {
    if (berth_net_parse_cidr(o->subnet, false, &sn, err) < 0)
      return -1;
    if (!berth_net_pick_free(taken, n_taken, sn.addr, sn.addr + (1ull << (32 - sn.prefix)), sn.prefix, &sn))
      return berth_error_set_plain(err, EEXIST, "invalid pool request: Pool overlaps with other one on this address space");
  } else if (o->gateway && *o->gateway) {
    return berth_error_set_plain(err, EINVAL, "no matching subnet for gateway %s", o->gateway);
  } else if (!berth_net_pick_free(taken, n_taken, (10u << 24) | (89u << 16), 11u << 24, 24, &sn)) {
    /* a free /24 for a network created without --subnet: 10.89.0.0/24 upward */
    return berth_error_set_plain(err, ENOSPC, "could not find an available, non-overlapping IPv4 address pool");
  }
  if (o->gateway && *o->gateway && (berth_net_parse_ipv4(o->gateway, &gw) < 0 || !berth_net_contains(&sn, gw)))
    return berth_error_set_plain(err, EINVAL, "no matching subnet for gateway %s", o->gateway);
  if (sn.prefix > 30)
    return berth_error_set_plain(err, EINVAL, "subnet %s is too small", o->subnet);
  char subnet[32], gws[16], a[16], bridge[BERTH_NET_IFNAMSIZ];
  snprintf(subnet, sizeof subnet, "%s/%d", berth_net_ipv4_str(sn.addr, a), sn.prefix);
  berth_net_ipv4_str(gw ? gw : sn.addr + 1, gws);
  json_t *net = berth_net_record_new(o->name, "", subnet, gws, o->internal, labels_json(o->labels));
  snprintf(bridge, sizeof bridge, "br-%.12s", berth_json_str(net, "Id"));
  json_t *opts = json_object_get(net, "Options");
  for (char **p = o->options; p && *p; p++) {
    const char *eq = strchr(*p, '=');
    cleanup_free char *k = eq ? strndup(*p, (size_t)(eq - *p)) : strdup(*p);
    json_object_set_new(opts, k, json_string(eq ? eq + 1 : ""));
  }
  const char *br = berth_json_str(opts, bridge_opt);
  if (!br || !*br)
    json_object_set_new(opts, bridge_opt, json_string(bridge));
  else if (strlen(br) >= BERTH_NET_IFNAMSIZ) {
    json_decref(net);
    return berth_error_set_plain(err, EINVAL, "bridge name %s is too long", br);
  }
  cleanup_close int dfd = networks_dir(e, false, err);
  char file[256];
  snprintf(file, sizeof file, "%s.json", o->name);
  int r = dfd < 0 ? -1 : berth_json_write_atomic(dfd, file, net, err);
  if (r == 0 && berth_net_kernel_ensure(net, err) < 0) {
    (void)unlinkat(dfd, file, 0);
    r = -1;
  }
  if (r == 0) {
    *ret_id = strdup(berth_json_str(net, "Id"));
    net_event(e, "create", net, NULL);
  }
  json_decref(net);
  return r;
}

static bool has_live_endpoints(struct berth_engine *e, const char *name)
{
  cleanup_json json_t *allocs = berth_net_endpoints(e, name);
  const char *id;
  json_t *ep;
  json_object_foreach(allocs, id, ep) if (holder_alive(e, id)) return true;
  return false;
}

static int remove_network(struct berth_engine *e, const json_t *net, berth_error_t *err)
{
  const char *name = berth_json_str(net, "Name");
  char file[256];
  if (is_builtin(name))
    return berth_error_set_plain(err, EPERM, "%s is a pre-defined network and cannot be removed", name);
  if (has_live_endpoints(e, name))
    return berth_error_set_plain(err, EBUSY, "error while removing network: network %s id %s has active endpoints",
                                 name, berth_json_str(net, "Id"));
  if (berth_net_kernel_remove(net, err) < 0)
    return -1;
  cleanup_close int dfd = networks_dir(e, false, err), rdfd = networks_dir(e, true, NULL);
  if (dfd < 0)
    return -1;
  snprintf(file, sizeof file, "%s.json", name);
  if (unlinkat(dfd, file, 0) < 0)
    return berth_error_set(err, errno, "remove network %s", name);
  (void)berth_fsync_dir(dfd, NULL);
  if (rdfd >= 0) {
    (void)unlinkat(rdfd, file, 0);
    snprintf(file, sizeof file, "%s.lock", name);
    (void)unlinkat(rdfd, file, 0);
  }
  net_event(e, "destroy", net, NULL);
  return 0;
}

int berth_network_remove(struct berth_engine *e, const char *name, berth_error_t *err)
{
  cleanup_json json_t *net = berth_net_load(e, name, err);
  return net ? remove_network(e, net, err) : -1;
}

json_t *berth_network_prune(struct berth_engine *e, char **filters, berth_error_t *err)
{
  static const char *const allowed[] = {"label", "label!", "until", NULL};
  cleanup_json json_t *list = list_matching(e, filters, allowed, err);
  if (!list)
    return NULL;
  json_t *out = json_array(), *view;
  size_t i;
  json_array_foreach(list, i, view)
  {
    const char *name = berth_json_str(view, "Name");
    cleanup_json json_t *net = is_builtin(name) ? NULL : berth_net_load(e, name, NULL);
    berth_error_t e2 = NULL;
    if (net && !has_live_endpoints(e, name)) {
      if (remove_network(e, net, &e2) == 0)
        json_array_append_new(out, json_string(name));
      else
        berth_error_release(&e2);
    }
  }
  return out;
}

/* ---- connect, disconnect ---- */

static int save_record(struct berth_ctr *c, berth_error_t *err)
{
  return berth_json_write_atomic(c->dirfd, "config.json", c->rec, err);
}

/* The first ethN no network of c uses. */
static unsigned free_if_index(struct berth_engine *e, const struct berth_ctr *c, const json_t *nets)
{
  unsigned used = 0;
  const char *name;
  json_t *v;
  json_object_foreach((json_t *)nets, name, v)
  {
    cleanup_json json_t *allocs = berth_net_endpoints(e, name);
    const char *ifn = berth_json_str(json_object_get(allocs, c->id), "IfName");
    unsigned n;
    if (ifn && sscanf(ifn, "eth%u", &n) == 1 && n < 16)
      used |= 1u << n;
  }
  unsigned i = 0;
  while (i < 16 && (used & (1u << i)))
    i++;
  return i;
}

static int open_netns(const struct berth_ctr *c, berth_error_t *err)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)c->st.pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return berth_error_set(err, errno, "open the network namespace of %s", c->id);
  return fd;
}

/* c runs: give it an interface on net now. */
static int connect_live(struct berth_engine *e, struct berth_ctr *c, const json_t *net, const json_t *settings,
                        berth_error_t *err)
{
  cleanup_json json_t *nets = ctr_networks(c);
  struct berth_net_endpoint ep = {0};
  unsigned idx = free_if_index(e, c, nets);
  if (idx >= 16)
    return berth_error_set_plain(err, E2BIG, "too many networks");
  host_ifnames(&ep, c->id, idx);
  if (berth_net_kernel_ensure(net, err) < 0 || allocate(e, net, c, settings, NULL, &ep, err) < 0)
    return -1;
  ep.gateway = 0; /* the default route stays the first network's */
  cleanup_close int nsfd = open_netns(c, err);
  if (nsfd < 0 || berth_net_attach(c->st.pid, nsfd, &ep, 1, err) < 0) {
    (void)release_one(e, berth_json_str(net, "Name"), c->id, NULL);
    return -1;
  }
  return 0;
}

/* c's record with the network joined (settings) or left (NULL), saved;
 * then, while it runs, its own hosts file and those of that network's
 * members; docker's event. */
static int record_network_change(struct berth_engine *e, struct berth_ctr *c, const json_t *nets, const json_t *net,
                                 json_t *settings, berth_error_t *err)
{
  const char *name = berth_json_str(net, "Name");
  json_t *all = json_deep_copy(nets), *ns = json_object_get(c->rec, "NetworkSettings");
  if (settings)
    json_object_set(all, name, settings);
  else
    json_object_del(all, name);
  if (!json_is_object(ns))
    json_object_set_new(c->rec, "NetworkSettings", ns = json_object());
  json_object_set_new(ns, "Networks", all);
  if (save_record(c, err) < 0)
    return -1;
  if (berth_ctr_is_active(c)) {
    cleanup_json json_t *now = ctr_networks(c), *touched = json_pack("{s:{}}", name);
    cleanup_view struct members_view view = MEMBERS_VIEW(e);
    uint32_t a = primary_addr(&view, c, now);
    berth_error_t e2 = NULL;
    if (a && write_hosts(&view, c, now, a, true, &e2) < 0)
      berth_error_release(&e2);
    refresh_members(&view, c->id, touched);
  }
  net_event(e, settings ? "connect" : "disconnect", net, c->id);
  return 0;
}

int berth_network_connect(struct berth_engine *e, const char *netname, const char *ctr, char **aliases,
                          const char *ip, berth_error_t *err)
{
  cleanup_json json_t *net = berth_net_load(e, netname, err);
  if (!net)
    return -1;
  struct berth_ctr c;
  int r = berth_ctr_load(e, ctr, &c, err);
  const char *name = berth_json_str(net, "Name");
  const char *mode = r == 0 ? berth_json_str(json_object_get(c.rec, "HostConfig"), "NetworkMode") : NULL;
  if (r == 0 && (!mode || !berth_net_mode_is_network(mode) || !berth_net_mode_is_network(name)))
    r = berth_error_set_plain(err, EINVAL, "container cannot be disconnected from host network or connected to "
                                           "host network");
  cleanup_json json_t *nets = r == 0 ? ctr_networks(&c) : NULL;
  if (r == 0 && json_object_get(nets, name))
    r = berth_error_set_plain(err, EEXIST, "endpoint with name %s already exists in network %s",
                              berth_ctr_bare_name(&c), name);
  cleanup_json json_t *given = json_object();
  if (aliases && *aliases)
    json_object_set_new(given, "Aliases", berth_json_strv(aliases));
  if (ip && *ip)
    json_object_set_new(given, "IPAMConfig", json_pack("{s:s}", "IPv4Address", ip));
  if (r == 0)
    r = check_settings(net, given, err);
  cleanup_json json_t *settings = r == 0 ? endpoint_settings(net, given) : NULL;
  if (r == 0 && berth_ctr_is_active(&c))
    r = connect_live(e, &c, net, settings, err);
  if (r == 0)
    r = record_network_change(e, &c, nets, net, settings, err);
  berth_ctr_clear(&c);
  return r;
}

int berth_network_disconnect(struct berth_engine *e, const char *netname, const char *ctr, bool force,
                             berth_error_t *err)
{
  cleanup_json json_t *net = berth_net_load(e, netname, err);
  if (!net)
    return -1;
  struct berth_ctr c;
  int r = berth_ctr_load(e, ctr, &c, err);
  const char *name = berth_json_str(net, "Name");
  cleanup_json json_t *nets = r == 0 ? ctr_networks(&c) : NULL;
  if (r == 0 && !json_object_get(nets, name))
    r = berth_error_set_plain(err, EINVAL, "container %s is not connected to network %s", c.id, name);
  if (r == 0 && berth_ctr_is_active(&c)) {
    cleanup_json json_t *allocs = berth_net_endpoints(e, name);
    const char *ifn = berth_json_str(json_object_get(allocs, c.id), "IfName");
    cleanup_close int nsfd = ifn ? open_netns(&c, force ? NULL : err) : -1;
    if (ifn && nsfd >= 0)
      r = berth_net_detach(nsfd, ifn, err);
    else if (ifn && !force)
      r = -1;
    if (r == 0 || force) {
      berth_error_release(err);
      r = release_one(e, name, c.id, err);
    }
  }
  if (r == 0)
    r = record_network_change(e, &c, nets, net, NULL, err);
  berth_ctr_clear(&c);
  return r;
}

json_t *berth_ctr_net_list_networks(const struct berth_ctr *c)
{
  const char *mode = berth_json_str(json_object_get(c->rec, "HostConfig"), "NetworkMode");
  json_t *out = json_object();
  if (!mode || !*mode || strncmp(mode, "container:", 10) == 0)
    return out;
  const json_t *nets = json_object_get(json_object_get(c->rec, "NetworkSettings"), "Networks");
  const char *name;
  json_t *v;
  if (json_is_object(nets) && berth_net_mode_is_network(mode))
    json_object_foreach((json_t *)nets, name, v) json_object_set_new(out, name, json_object());
  else
    json_object_set_new(out, strcmp(mode, "default") == 0 ? "bridge" : mode, json_object());
  return out;
}
