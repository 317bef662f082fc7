/* SPDX-License-Identifier: GPL-2.0-or-later */
/* docker's -p and --expose syntax (go-connections nat.ParsePortSpecs):
 *
 *   [ip:][hostPort:]containerPort[/proto]   ports and ranges ("8000-8010")
 *
 * into ExposedPorts {"80/tcp": {}} and PortBindings {"80/tcp": [{"HostIp":
 * "", "HostPort": "8080"}]}.  Pure. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "net/net.h"

/* "80" or "8000-8010" -> [lo, hi]; for a host port (allow_empty) "" and
 * "0" are [0, 0]: a free port of the kernel's choice, as docker takes them. */
static int parse_range(const char *s, bool allow_empty, unsigned *lo, unsigned *hi)
{
  if (!*s) {
    *lo = *hi = 0;
    return allow_empty ? 0 : -1;
  }
  char *end;
  unsigned long a = strtoul(s, &end, 10), b = a;
  if (end == s || (*end && *end != '-'))
    return -1;
  if (*end == '-') {
    const char *t = end + 1;
    b = strtoul(t, &end, 10);
    if (end == t || *end)
      return -1;
  }
  if ((a == 0 && !(allow_empty && b == 0)) || a > 65535 || b > 65535 || b < a)
    return -1;
  *lo = (unsigned)a;
  *hi = (unsigned)b;
  return 0;
}

static void add_binding(json_t *bindings, const char *key, const char *ip, unsigned port)
{
  json_t *list = json_object_get(bindings, key);
  if (!list)
    json_object_set_new(bindings, key, list = json_array());
  char p[16] = "";
  if (port)
    snprintf(p, sizeof p, "%u", port);
  json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", ip, "HostPort", p));
}

/* Split "ip:host:ctr" where ip may be "[v6]"; returns the part count. */
static int split_spec(char *s, char **ip, char **host, char **ctr)
{
  *ip = *host = NULL;
  char *rest = s;
  if (s[0] == '[') {
    char *close = strchr(s, ']');
    if (!close || close[1] != ':')
      return -1;
    *close = '\0';
    *ip = s + 1;
    rest = close + 2;
  }
  char *last = strrchr(rest, ':');
  if (!last) {
    if (*ip)
      return -1;
    *ctr = rest;
    return 1;
  }
  *last = '\0';
  *ctr = last + 1;
  if (*ip) {
    *host = rest;
    return 3;
  }
  char *first = strrchr(rest, ':');
  if (!first) {
    *host = rest;
    return 2;
  }
  *first = '\0';
  *ip = rest;
  *host = first + 1;
  return 3;
}

/* Cut "/PROTO" off s: the protocol (tcp when none), NULL with docker's
 * error for one it does not know. */
static const char *cut_proto(char *s, berth_error_t *err)
{
  char *slash = strrchr(s, '/');
  if (!slash)
    return "tcp";
  *slash = '\0';
  if (strcmp(slash + 1, "tcp") != 0 && strcmp(slash + 1, "udp") != 0 && strcmp(slash + 1, "sctp") != 0)
    return berth_error_set_plain(err, EINVAL, "invalid proto: %s", slash + 1), NULL;
  return slash + 1;
}

const char *berth_net_join_host_port(const char *host, const char *port, char buf[80])
{
  snprintf(buf, 80, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
  return buf;
}

void berth_net_port_key(const char *key, unsigned *ret_port, char ret_proto[8])
{
  *ret_port = 0;
  strcpy(ret_proto, "tcp");
  (void)sscanf(key, "%u/%7s", ret_port, ret_proto);
}

int berth_net_parse_publish(const char *spec, json_t *exposed, json_t *bindings, berth_error_t *err)
{
  cleanup_free char *s = strdup(spec);
  char *ip, *host, *ctr;
  const char *proto = cut_proto(s, err);
  if (!proto)
    return -1;
  if (split_spec(s, &ip, &host, &ctr) < 0)
    return berth_error_set_plain(err, EINVAL, "invalid port format: %s", spec);
  unsigned clo, chi, hlo, hhi;
  struct in_addr a4;
  struct in6_addr a6;
  if (ip && *ip && inet_pton(AF_INET, ip, &a4) != 1 && inet_pton(AF_INET6, ip, &a6) != 1)
    return berth_error_set_plain(err, EINVAL, "invalid IP address: %s", ip);
  if (parse_range(ctr, false, &clo, &chi) < 0)
    return berth_error_set_plain(err, EINVAL, "invalid containerPort: %s", ctr);
  if (parse_range(host ? host : "", true, &hlo, &hhi) < 0)
    return berth_error_set_plain(err, EINVAL, "invalid hostPort: %s", host);
  if (hlo && hhi - hlo != chi - clo && chi != clo)
    return berth_error_set_plain(err, EINVAL, "invalid ranges specified for container and host Ports: %s and %s",
                                 ctr, host);
  for (unsigned p = clo; p <= chi; p++) {
    char key[24];
    snprintf(key, sizeof key, "%u/%s", p, proto);
    json_object_set_new(exposed, key, json_object());
    /* a host range for one container port: docker takes the first free of it;
     * here its first port */
    add_binding(bindings, key, ip ? ip : "", hlo ? hlo + (chi != clo ? p - clo : 0) : 0);
  }
  return 0;
}

int berth_net_parse_expose(const char *spec, json_t *exposed, berth_error_t *err)
{
  cleanup_free char *s = strdup(spec);
  const char *proto = cut_proto(s, err);
  if (!proto)
    return -1;
  unsigned lo, hi;
  if (parse_range(s, false, &lo, &hi) < 0)
    return berth_error_set_plain(err, EINVAL, "invalid range format for --expose: %s", spec);
  for (unsigned p = lo; p <= hi; p++) {
    char key[24];
    snprintf(key, sizeof key, "%u/%s", p, proto);
    json_object_set_new(exposed, key, json_object());
  }
  return 0;
}

int berth_net_sockaddr(const char *ip, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
  struct sockaddr_in *in = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
  memset(ss, 0, sizeof *ss);
  if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    *len = sizeof *in;
    return 0;
  }
  if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    *len = sizeof *in6;
    return 0;
  }
  return -1;
}
