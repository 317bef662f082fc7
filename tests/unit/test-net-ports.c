/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/net/ports.c: docker's -p and --expose syntax. */
#include <criterion/criterion.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "net/net.h"

static char *parse(const char *spec)
{
  json_t *exposed = json_object(), *bindings = json_object();
  berth_error_t err = NULL;
  char *out = NULL;
  if (berth_net_parse_publish(spec, exposed, bindings, &err) < 0) {
    out = strdup(err->msg);
    berth_error_release(&err);
  } else {
    json_t *both = json_pack("{s:o, s:o}", "e", exposed, "b", bindings);
    out = json_dumps(both, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(both);
    return out;
  }
  json_decref(exposed);
  json_decref(bindings);
  return out;
}

#define CHECK(spec, want)                                                                                              \
  do {                                                                                                                 \
    cleanup_free char *got = parse(spec);                                                                              \
    cr_assert_str_eq(got, want, "%s", spec);                                                                           \
  } while (0)

Test(net_ports, every_form_docker_takes)
{
  CHECK("80", "{\"b\":{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]},\"e\":{\"80/tcp\":{}}}");
  CHECK("8080:80", "{\"b\":{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}]},\"e\":{\"80/tcp\":{}}}");
  CHECK("127.0.0.1:8080:80/udp",
        "{\"b\":{\"80/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8080\"}]},\"e\":{\"80/udp\":{}}}");
  CHECK("127.0.0.1::80", "{\"b\":{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]},\"e\":{\"80/tcp\":{}}}");
  CHECK("[::1]:8080:80", "{\"b\":{\"80/tcp\":[{\"HostIp\":\"::1\",\"HostPort\":\"8080\"}]},\"e\":{\"80/tcp\":{}}}");
  CHECK("8000-8001:9000-9001",
        "{\"b\":{\"9000/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8000\"}],\"9001/tcp\":[{\"HostIp\":\"\",\"HostPort\":"
        "\"8001\"}]},\"e\":{\"9000/tcp\":{},\"9001/tcp\":{}}}");
  CHECK("9000-9001", "{\"b\":{\"9000/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}],\"9001/tcp\":[{\"HostIp\":\"\","
                     "\"HostPort\":\"\"}]},\"e\":{\"9000/tcp\":{},\"9001/tcp\":{}}}");
}

Test(net_ports, errors_read_like_docker)
{
  CHECK("80/xyz", "invalid proto: xyz");
  CHECK("99999", "invalid containerPort: 99999");
  CHECK("0", "invalid containerPort: 0");
  CHECK("0:80", "{\"b\":{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]},\"e\":{\"80/tcp\":{}}}");
  CHECK("x:80", "invalid hostPort: x");
  CHECK("1.2.3:8080:80", "invalid IP address: 1.2.3");
  CHECK("8000-8002:9000-9001", "invalid ranges specified for container and host Ports: 9000-9001 and 8000-8002");
}

Test(net_ports, expose)
{
  json_t *e = json_object();
  berth_error_t err = NULL;
  cr_assert_eq(berth_net_parse_expose("7000-7001/udp", e, &err), 0);
  cr_assert(json_object_get(e, "7000/udp") && json_object_get(e, "7001/udp"));
  cr_assert_lt(berth_net_parse_expose("abc", e, &err), 0);
  cr_assert_str_eq(err->msg, "invalid range format for --expose: abc");
  berth_error_release(&err);
  json_decref(e);
}
