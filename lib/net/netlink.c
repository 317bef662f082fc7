/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rtnetlink through libmnl: bridges, veth pairs into a container's network
 * namespace, addresses, routes.  Each namespace gets one batch of requests in
 * one sendmsg(), its acks read back after: a container's network is three
 * system calls on the host side and three inside, no `ip` process. */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "base/cleanup.h"
#include "net/net.h"

#define MAX_BATCH 64 /* requests in one batch: lo, then 3 per endpoint (16 at most) */

struct nl {
  struct mnl_socket *sock;
  unsigned portid;
  uint32_t seq;
  char buf[16384];
  size_t len;      /* bytes of requests in buf */
  unsigned n_reqs; /* requests awaiting their ack */
  const char *what[MAX_BATCH];
};

static int nl_open(struct nl *nl, berth_error_t *err)
{
  nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (!nl->sock)
    return berth_error_set(err, errno, "open a netlink socket");
  if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
    int saved = errno;
    mnl_socket_close(nl->sock);
    nl->sock = NULL;
    return berth_error_set(err, saved, "bind a netlink socket");
  }
  nl->portid = mnl_socket_get_portid(nl->sock);
  nl->seq = (uint32_t)time(NULL);
  nl->len = 0;
  nl->n_reqs = 0;
  return 0;
}

static void nl_close(struct nl *nl)
{
  if (nl->sock)
    mnl_socket_close(nl->sock);
  nl->sock = NULL;
}

/* A new request at the end of the batch; `what` names it in errors. */
static struct nlmsghdr *nl_req(struct nl *nl, uint16_t type, uint16_t flags, const char *what)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf + nl->len);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  nlh->nlmsg_seq = nl->seq + nl->n_reqs;
  nl->what[nl->n_reqs++] = what;
  return nlh;
}

static void nl_end(struct nl *nl, struct nlmsghdr *nlh) { nl->len += NLMSG_ALIGN(nlh->nlmsg_len); }

/* Send the batch, read every ack; the first failure is the error (an
 * EEXIST on a request flagged tolerant is not one). */
static int nl_commit(struct nl *nl, berth_error_t *err)
{
  if (mnl_socket_sendto(nl->sock, nl->buf, nl->len) < 0)
    return berth_error_set(err, errno, "send netlink requests");
  int first_err = 0;
  unsigned first_idx = 0, acked = 0;
  char rbuf[8192];
  while (acked < nl->n_reqs) {
    ssize_t n = mnl_socket_recvfrom(nl->sock, rbuf, sizeof rbuf);
    if (n < 0)
      return berth_error_set(err, errno, "read netlink acks");
    for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(h, (int)n); h = mnl_nlmsg_next(h, (int *)&n)) {
      if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq < nl->seq || h->nlmsg_seq >= nl->seq + nl->n_reqs)
        continue;
      const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
      acked++;
      if (e->error && !first_err) {
        first_err = -e->error;
        first_idx = h->nlmsg_seq - nl->seq;
      }
    }
  }
  nl->seq += nl->n_reqs;
  nl->len = 0;
  nl->n_reqs = 0;
  if (first_err)
    return berth_error_set(err, first_err, "%s", nl->what[first_idx]);
  return 0;
}

static void put_link_up(struct nl *nl, int index, const char *name, const char *what)
{
  struct nlmsghdr *nlh = nl_req(nl, RTM_NEWLINK, 0, what);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  if (name)
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  nl_end(nl, nlh);
}

static void put_addr(struct nl *nl, int index, uint32_t addr, int prefix, const char *what)
{
  struct nlmsghdr *nlh = nl_req(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, what);
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (unsigned char)prefix;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = (unsigned)index;
  uint32_t a = htonl(addr), bcast = htonl(addr | (prefix ? (0xffffffffu >> prefix) : 0xffffffffu));
  mnl_attr_put_u32(nlh, IFA_LOCAL, a);
  mnl_attr_put_u32(nlh, IFA_ADDRESS, a);
  if (prefix < 31)
    mnl_attr_put_u32(nlh, IFA_BROADCAST, bcast);
  nl_end(nl, nlh);
}

static void put_default_route(struct nl *nl, int index, uint32_t gw)
{
  struct nlmsghdr *nlh = nl_req(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, "add the default route");
  struct rtmsg *rt = mnl_nlmsg_put_extra_header(nlh, sizeof *rt);
  rt->rtm_family = AF_INET;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_scope = RT_SCOPE_UNIVERSE;
  rt->rtm_type = RTN_UNICAST;
  mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gw));
  mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)index);
  nl_end(nl, nlh);
}

int berth_net_bridge_ensure(const char *name, uint32_t gw, int prefix, bool *ret_created, berth_error_t *err)
{
  *ret_created = false;
  if (if_nametoindex(name) > 0)
    return 0;
  struct nl nl = {0};
  if (nl_open(&nl, err) < 0)
    return -1;
  struct nlmsghdr *nlh = nl_req(&nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, "create the bridge");
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end(nlh, info);
  nl_end(&nl, nlh);
  int r = nl_commit(&nl, err);
  if (r < 0 && (*err)->code == EEXIST) { /* another berth made it meanwhile */
    berth_error_release(err);
    nl_close(&nl);
    return 0;
  }
  int index = r < 0 ? 0 : (int)if_nametoindex(name);
  if (r == 0 && index <= 0)
    r = berth_error_set(err, errno, "find the new bridge");
  if (r == 0) {
    put_addr(&nl, index, gw, prefix, "add the bridge's address");
    put_link_up(&nl, index, NULL, "bring the bridge up");
    r = nl_commit(&nl, err);
  }
  nl_close(&nl);
  if (r < 0)
    return berth_error_prefix(err, "bridge `%s`", name);
  *ret_created = true;
  return 0;
}

int berth_net_link_delete(const char *name, berth_error_t *err)
{
  struct nl nl = {0};
  if (nl_open(&nl, err) < 0)
    return -1;
  struct nlmsghdr *nlh = nl_req(&nl, RTM_DELLINK, 0, "delete the link");
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  nl_end(&nl, nlh);
  int r = nl_commit(&nl, err);
  nl_close(&nl);
  if (r < 0 && ((*err)->code == ENODEV || (*err)->code == ENOENT)) {
    berth_error_release(err);
    return 0;
  }
  return r < 0 ? berth_error_prefix(err, "`%s`", name) : 0;
}

/* The veth pair, its container end created right in pid's namespace. */
static void put_veth(struct nl *nl, pid_t pid, int bridge_index, const struct berth_net_endpoint *ep)
{
  struct nlmsghdr *nlh = nl_req(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, "create the veth pair");
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, ep->host_if);
  mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)bridge_index);
  struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header(nlh, sizeof *pifi);
  pifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, ep->ifname);
  mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, (uint32_t)pid);
  mnl_attr_put(nlh, IFLA_ADDRESS, 6, ep->mac);
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  nl_end(nl, nlh);
}

static int host_side(pid_t pid, const struct berth_net_endpoint *eps, size_t n, berth_error_t *err)
{
  struct nl nl = {0};
  if (nl_open(&nl, err) < 0)
    return -1;
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    int br = (int)if_nametoindex(eps[i].bridge);
    if (br <= 0)
      r = berth_error_set(err, errno, "bridge `%s`", eps[i].bridge);
    else
      put_veth(&nl, pid, br, &eps[i]);
  }
  if (r == 0)
    r = nl_commit(&nl, err);
  nl_close(&nl);
  return r;
}

/* Inside: lo up, then per endpoint its address, the link up, the route. */
static int inside(const struct berth_net_endpoint *eps, size_t n, berth_error_t *err)
{
  struct nl nl = {0};
  if (nl_open(&nl, err) < 0)
    return -1;
  put_link_up(&nl, 0, "lo", "bring lo up");
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    int index = (int)if_nametoindex(eps[i].ifname);
    if (index <= 0) {
      r = berth_error_set(err, errno, "find `%s` in the container", eps[i].ifname);
      break;
    }
    put_addr(&nl, index, eps[i].addr, eps[i].prefix, "add the container's address");
    put_link_up(&nl, index, NULL, "bring the container's link up");
    if (eps[i].gateway)
      put_default_route(&nl, index, eps[i].gateway);
  }
  if (r == 0)
    r = nl_commit(&nl, err);
  nl_close(&nl);
  return r;
}

/* Run fn in the namespace nsfd, then return to ours. */
static int in_netns(int nsfd, int (*fn)(const struct berth_net_endpoint *, size_t, berth_error_t *),
                    const struct berth_net_endpoint *eps, size_t n, berth_error_t *err)
{
  cleanup_close int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return berth_error_set(err, errno, "open /proc/self/ns/net");
  if (setns(nsfd, CLONE_NEWNET) < 0)
    return berth_error_set(err, errno, "enter the container's network namespace");
  int r = fn(eps, n, err);
  if (setns(self, CLONE_NEWNET) < 0) {
    if (r == 0)
      r = berth_error_set(err, errno, "return to the host's network namespace");
    else
      abort(); /* never carry on in the container's namespace */
  }
  return r;
}

int berth_net_attach(pid_t pid, int nsfd, const struct berth_net_endpoint *eps, size_t n, berth_error_t *err)
{
  if (n == 0)
    return in_netns(nsfd, inside, eps, 0, err);
  if (n > 16)
    return berth_error_set_plain(err, E2BIG, "too many networks (%zu)", n);
  int r = host_side(pid, eps, n, err);
  if (r < 0 && (*err)->code == EEXIST) {
    /* a host end left by a run whose namespace is still held (container:
     * joiners): it goes, and the new pair replaces it */
    berth_error_release(err);
    for (size_t i = 0; i < n; i++)
      if (berth_net_link_delete(eps[i].host_if, err) < 0)
        return -1;
    r = host_side(pid, eps, n, err);
  }
  if (r < 0)
    return -1;
  return in_netns(nsfd, inside, eps, n, err);
}

static int detach_inside(const struct berth_net_endpoint *ep, size_t n, berth_error_t *err)
{
  return berth_net_link_delete(ep->ifname, err);
}

int berth_net_detach(int nsfd, const char *ifname, berth_error_t *err)
{
  struct berth_net_endpoint ep = {0};
  snprintf(ep.ifname, sizeof ep.ifname, "%s", ifname);
  return in_netns(nsfd, detach_inside, &ep, 1, err);
}
