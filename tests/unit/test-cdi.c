/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CDI (lib/cdi): spec files in YAML and JSON read to the same document;
 * strict decoding (unknown fields), the version floor and every malformed
 * field refused with the file and field named; qualified names; the folders'
 * priority and conflict rules; containerEdits applied to an OCI config
 * (env, nodes filled from the host, cgroup rules, mounts by depth, hooks,
 * gids), and nothing applied when a device is unknown. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "cdi/cdi.h"

static const char yaml_spec[] = "cdiVersion: 0.5.0\n"
                                "kind: vendor.com/dev\n"
                                "containerEdits:\n"
                                "  env: [SPEC=1]\n"
                                "devices:\n"
                                "- name: \"0\"\n"
                                "  containerEdits:\n"
                                "    deviceNodes:\n"
                                "    - path: /dev/vdev0\n"
                                "      hostPath: /dev/null\n"
                                "      type: c\n"
                                "      major: 195\n"
                                "      minor: 0x10\n"
                                "      fileMode: 0640\n"
                                "      permissions: rw\n"
                                "    mounts:\n"
                                "    - {hostPath: /usr/lib/x, containerPath: /usr/lib/x, options: [ro, bind]}\n"
                                "    hooks:\n"
                                "    - hookName: createContainer\n"
                                "      path: /usr/bin/hook\n"
                                "      args: [hook, one]\n"
                                "      timeout: 5\n";

static const char json_spec[] =
    "{\"cdiVersion\":\"0.5.0\",\"kind\":\"vendor.com/dev\",\"containerEdits\":{\"env\":[\"SPEC=1\"]},"
    "\"devices\":[{\"name\":\"0\",\"containerEdits\":{"
    "\"deviceNodes\":[{\"path\":\"/dev/vdev0\",\"hostPath\":\"/dev/null\",\"type\":\"c\",\"major\":195,\"minor\":16,"
    "\"fileMode\":416,\"permissions\":\"rw\"}],"
    "\"mounts\":[{\"hostPath\":\"/usr/lib/x\",\"containerPath\":\"/usr/lib/x\",\"options\":[\"ro\",\"bind\"]}],"
    "\"hooks\":[{\"hookName\":\"createContainer\",\"path\":\"/usr/bin/hook\",\"args\":[\"hook\",\"one\"],\"timeout\":5}]}}]}";

static json_t *parse_ok(const char *text, const char *path)
{
  berth_error_t err = NULL;
  json_t *doc = berth_cdi_spec_parse(text, strlen(text), path, &err);
  cr_assert_not_null(doc, "%s", err ? err->msg : "");
  return doc;
}

static char *parse_bad(const char *text, const char *path)
{
  berth_error_t err = NULL;
  json_t *doc = berth_cdi_spec_parse(text, strlen(text), path, &err);
  cr_assert_null(doc, "%s parsed", text);
  cr_assert_eq(err->code, EINVAL);
  char *msg = strdup(err->msg);
  berth_error_release(&err);
  return msg;
}

Test(cdi, yaml_and_json_give_the_same_document)
{
  cleanup_json json_t *y = parse_ok(yaml_spec, "/etc/cdi/v.yaml"), *j = parse_ok(json_spec, "/etc/cdi/v.json");
  cr_assert(json_equal(y, j), "yaml %s\njson %s", json_dumps(y, JSON_SORT_KEYS), json_dumps(j, JSON_SORT_KEYS));
}

#define SPEC(edits) "{\"cdiVersion\":\"0.6.0\",\"kind\":\"v.com/c\",\"devices\":[{\"name\":\"d\",\"containerEdits\":" edits "}]}"

Test(cdi, bad_fields_are_named)
{
  static const struct {
    const char *text, *want;
  } cases[] = {
      {SPEC("{\"env\":[\"A=1\"],\"bogus\":1}"), "/s.json: devices[0].containerEdits: unknown field `bogus`"},
      {SPEC("{\"env\":[\"A\"]}"), "/s.json: devices[0].containerEdits.env[0]: `A` is not KEY=VALUE"},
      {SPEC("{\"deviceNodes\":[{\"path\":\"dev/x\"}]}"),
       "/s.json: devices[0].containerEdits.deviceNodes[0].path: `dev/x` is not an absolute path"},
      {SPEC("{\"deviceNodes\":[{\"path\":\"/dev/x\",\"major\":\"1\"}]}"),
       "/s.json: devices[0].containerEdits.deviceNodes[0].major: expected an integer"},
      {SPEC("{\"deviceNodes\":[{\"path\":\"/dev/x\",\"permissions\":\"rwx\"}]}"),
       "/s.json: devices[0].containerEdits.deviceNodes[0].permissions: `rwx` is not a combination of r, w and m (or none)"},
      {SPEC("{\"hooks\":[{\"hookName\":\"preStart\",\"path\":\"/h\"}]}"),
       "/s.json: devices[0].containerEdits.hooks[0].hookName: unknown hook `preStart`"},
      {SPEC("{\"mounts\":[{\"hostPath\":\"/a\"}]}"), "/s.json: devices[0].containerEdits.mounts[0].containerPath: required"},
      {SPEC("{}"), "/s.json: devices[0].containerEdits: must not be empty"},
      {SPEC("{\"additionalGids\":[-1]}"), "/s.json: devices[0].containerEdits.additionalGids[0]: -1 is out of range"},
      {"{\"cdiVersion\":\"0.6.0\",\"kind\":\"v.com/c\",\"devices\":[]}", "/s.json: devices: expected a non-empty list"},
      {"{\"cdiVersion\":\"0.6.0\",\"kind\":\"v.com\",\"devices\":[]}", "/s.json: kind: `v.com` is not vendor/class"},
      {"{\"cdiVersion\":\"2.0.0\",\"kind\":\"v.com/c\",\"devices\":[]}",
       "/s.json: cdiVersion: unsupported version `2.0.0` (0.3.0 to 1.1.0)"},
      {"{\"kind\":\"v.com/c\",\"devices\":[]}", "/s.json: cdiVersion: required"},
      {"{\"cdiVersion\":\"0.6.0\",\"kind\":\"v.com/c\",\"devices\":[{\"name\":\"-x\",\"containerEdits\":{\"env\":[\"A=1\"]}}]}",
       "/s.json: devices[0].name: invalid device name `-x`"},
      {"{\"cdiVersion\":\"0.6.0\",\"kind\":\"v.com/c\",\"devices\":[{\"name\":\"x\",\"containerEdits\":{\"env\":[\"A=1\"]}},"
       "{\"name\":\"x\",\"containerEdits\":{\"env\":[\"A=1\"]}}]}",
       "/s.json: devices[1].name: duplicate device `x`"},
      {"[1]", "/s.json: expected a mapping at the top"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cleanup_free char *msg = parse_bad(cases[i].text, "/s.json");
    cr_expect_str_eq(msg, cases[i].want, "case %zu", i);
  }
}

Test(cdi, the_version_floor_follows_the_fields_used)
{
  static const struct {
    const char *version, *edits, *need;
  } cases[] = {
      {"0.3.0", "{\"mounts\":[{\"hostPath\":\"/a\",\"containerPath\":\"/a\",\"type\":\"bind\"}]}", "0.4.0"},
      {"0.4.0", "{\"deviceNodes\":[{\"path\":\"/dev/a\",\"hostPath\":\"/dev/b\"}]}", "0.5.0"},
      {"0.6.0", "{\"additionalGids\":[5]}", "0.7.0"},
      {"1.0.0", "{\"netDevices\":[{\"hostInterfaceName\":\"eth1\",\"name\":\"net1\"}]}", "1.1.0"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char text[512], want[128];
    snprintf(text, sizeof text,
             "{\"cdiVersion\":\"%s\",\"kind\":\"v.com/c\",\"devices\":[{\"name\":\"d\",\"containerEdits\":%s}]}",
             cases[i].version, cases[i].edits);
    snprintf(want, sizeof want, "/s.json: cdiVersion: `%s` is too old for the fields used (they need %s)",
             cases[i].version, cases[i].need);
    cleanup_free char *msg = parse_bad(text, "/s.json");
    cr_expect_str_eq(msg, want);
  }
  /* a name starting with a digit needs 0.5.0, a dotted class 0.6.0 */
  cleanup_free char *digit = parse_bad("cdiVersion: 0.4.0\nkind: v.com/c\ndevices:\n- name: \"0\"\n  containerEdits: {env: [A=1]}\n",
                                       "/s.yaml");
  cr_expect(strstr(digit, "they need 0.5.0"), "%s", digit);
  cleanup_free char *dot = parse_bad("cdiVersion: 0.5.0\nkind: v.com/c.x\ndevices:\n- name: a\n  containerEdits: {env: [A=1]}\n",
                                     "/s.yaml");
  cr_expect(strstr(dot, "they need 0.6.0"), "%s", dot);
}

Test(cdi, yaml_errors_carry_the_file_and_line)
{
  cleanup_free char *syntax = parse_bad("cdiVersion: 0.5.0\nkind: [\n", "/etc/cdi/x.yaml");
  cr_expect(strncmp(syntax, "/etc/cdi/x.yaml: line ", 22) == 0, "%s", syntax);
  cleanup_free char *alias = parse_bad("a: &x 1\nb: *x\n", "/etc/cdi/x.yaml");
  cr_expect(strstr(alias, "anchors and aliases are not supported"), "%s", alias);
  cleanup_free char *dup = parse_bad("a: 1\na: 2\n", "/etc/cdi/x.yaml");
  cr_expect(strstr(dup, "duplicate key"), "%s", dup);
  cleanup_free char *num = parse_bad("cdiVersion: 0.5.0\nkind: v.com/c\ndevices:\n- name: a\n  containerEdits:\n"
                                     "    deviceNodes: [{path: /dev/a, major: twelve}]\n",
                                     "/etc/cdi/x.yaml");
  cr_expect_str_eq(num, "/etc/cdi/x.yaml: devices[0].containerEdits.deviceNodes[0].major: expected an integer");
}

Test(cdi, qualified_names)
{
  char *v = NULL, *c = NULL, *n = NULL;
  cr_assert(berth_cdi_parse_qualified("nvidia.com/gpu=GPU-1a2b:0", &v, &c, &n));
  cr_expect_str_eq(v, "nvidia.com");
  cr_expect_str_eq(c, "gpu");
  cr_expect_str_eq(n, "GPU-1a2b:0");
  free(v), free(c), free(n);
  cr_expect(berth_cdi_parse_qualified("vendor.com/class=all", NULL, NULL, NULL));
  const char *bad[] = {"/dev/null", "/dev/a=b", "nvidia.com/gpu", "nvidia.com/gpu=", "1vendor/c=x", "v/c=-x", "v/c-=x",
                       "v/c=x/y", NULL};
  for (size_t i = 0; bad[i]; i++)
    cr_expect(!berth_cdi_parse_qualified(bad[i], NULL, NULL, NULL), "%s", bad[i]);
}

/* ---- registry ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
}

static char *tmpdir(void)
{
  char *d = strdup("/tmp/test-cdi.XXXXXX");
  cr_assert_not_null(mkdtemp(d));
  return d;
}

static void rm_tree(const char *d)
{
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
  cr_assert_eq(system(cmd), 0);
}

#define ENV_SPEC(kind, name, env) \
  "{\"cdiVersion\":\"0.6.0\",\"kind\":\"" kind "\",\"devices\":[{\"name\":\"" name "\",\"containerEdits\":{\"env\":[\"" env "\"]}}]}"

Test(cdi, folders_priority_and_conflicts)
{
  cleanup_free char *low = tmpdir(), *high = tmpdir();
  write_file(low, "a.json", ENV_SPEC("v.com/c", "x", "FROM=low"));
  write_file(low, "b.yaml", "cdiVersion: 0.6.0\nkind: v.com/c\ndevices:\n- name: dup\n  containerEdits: {env: [N=1]}\n"
                            "- name: only-low\n  containerEdits: {env: [N=2]}\n");
  write_file(low, "c.json", ENV_SPEC("v.com/c", "dup", "N=3"));
  write_file(low, "bad.json", "{\"cdiVersion\":\"0.6.0\",\"kind\":\"v.com/c\",\"extra\":1,\"devices\":[]}");
  write_file(low, "ignored.txt", "not a spec");
  write_file(high, "a.yaml", ENV_SPEC("v.com/c", "x", "FROM=high"));
  const char *dirs[] = {low, high, "/nonexistent/cdi", NULL};
  struct berth_cdi_registry *reg = berth_cdi_registry_load(dirs);
  const struct berth_cdi_device *x = berth_cdi_registry_find(reg, "v.com/c=x");
  cr_assert_not_null(x);
  cr_expect_eq(x->priority, 1);
  cr_expect_str_eq(json_string_value(json_array_get(json_object_get(x->edits, "env"), 0)), "FROM=high");
  cr_expect_not_null(berth_cdi_registry_find(reg, "v.com/c=only-low"));
  cr_expect_null(berth_cdi_registry_find(reg, "v.com/c=dup"), "same-priority conflict dropped");
  cr_expect(berth_cdi_registry_has_kind(reg, "v.com/c"));
  cr_expect(!berth_cdi_registry_has_kind(reg, "v.com/cc"));
  cr_assert_eq(reg->n_errors, 2);
  char want_bad[600], want_dup[600];
  snprintf(want_bad, sizeof want_bad, "%s/bad.json: unknown field `extra`", low);
  snprintf(want_dup, sizeof want_dup, "%s/c.json: conflicting device `v.com/c=dup` (also in %s/b.yaml), dropped", low, low);
  cr_expect_str_eq(reg->errors[0], want_bad);
  cr_expect_str_eq(reg->errors[1], want_dup);
  berth_cdi_registry_free(reg);
  rm_tree(low);
  rm_tree(high);
}

/* ---- injection ---- */

static json_t *base_config(void)
{
  return json_pack("{s:{s:[s,s],s:{s:i,s:i}},s:[{s:s},{s:s},{s:s}],s:{s:[],s:{s:[]}}}", "process", "env", "PATH=/bin",
                   "SPEC=0", "user", "uid", 0, "gid", 0, "mounts", "destination", "/proc", "destination", "/usr/lib/x/y/z",
                   "destination", "/usr/lib/x", "linux", "devices", "resources", "devices");
}

static struct berth_cdi_registry *registry_of(const char *text, const char *path)
{
  berth_error_t err = NULL;
  struct berth_cdi_registry *reg = berth_cdi_registry_load(NULL);
  cleanup_json json_t *doc = berth_cdi_spec_parse(text, strlen(text), path, &err);
  cr_assert_not_null(doc, "%s", err ? err->msg : "");
  cr_assert_eq(berth_cdi_registry_add(reg, doc, path, 0, &err), 0);
  return reg;
}

Test(cdi, edits_land_in_the_config)
{
  struct berth_cdi_registry *reg = registry_of(yaml_spec, "/etc/cdi/v.yaml");
  cleanup_json json_t *oci = base_config();
  berth_error_t err = NULL;
  const char *names[] = {"vendor.com/dev=0", "vendor.com/dev=0", NULL};
  cr_assert_eq(berth_cdi_inject(reg, names, oci, 1000, 100, &err), 0, "%s", err ? err->msg : "");
  cleanup_free char *got = json_dumps(oci, JSON_COMPACT);
  cr_expect_str_eq(
      got, "{\"process\":{\"env\":[\"PATH=/bin\",\"SPEC=1\"],\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[]}},"
           "\"mounts\":[{\"destination\":\"/proc\"},{\"destination\":\"/usr/lib/x\",\"type\":\"bind\",\"source\":\"/usr/lib/x\","
           "\"options\":[\"ro\",\"bind\"]},{\"destination\":\"/usr/lib/x/y/z\"}],"
           "\"linux\":{\"devices\":[{\"path\":\"/dev/vdev0\",\"type\":\"c\",\"fileMode\":416,\"major\":195,\"minor\":16,"
           "\"uid\":1000,\"gid\":100}],"
           "\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"c\",\"major\":195,\"minor\":16,\"access\":\"rw\"}]}},"
           "\"hooks\":{\"createContainer\":[{\"path\":\"/usr/bin/hook\",\"args\":[\"hook\",\"one\"],\"timeout\":5}]}}");
  berth_cdi_registry_free(reg);
}

Test(cdi, nodes_are_filled_from_the_host)
{
  struct berth_cdi_registry *reg = registry_of(
      "cdiVersion: 0.7.0\nkind: v.com/c\ndevices:\n- name: a\n  containerEdits:\n"
      "    deviceNodes: [{path: /dev/null}, {path: /dev/quiet, hostPath: /dev/zero, permissions: none}]\n"
      "    additionalGids: [0, 44, 44]\n",
      "/s.yaml");
  cleanup_json json_t *oci = base_config();
  berth_error_t err = NULL;
  const char *names[] = {"v.com/c=a", NULL};
  cr_assert_eq(berth_cdi_inject(reg, names, oci, -1, -1, &err), 0, "%s", err ? err->msg : "");
  json_t *devs = json_object_get(json_object_get(oci, "linux"), "devices");
  cleanup_free char *d = json_dumps(devs, JSON_COMPACT);
  cr_expect_str_eq(d, "[{\"path\":\"/dev/null\",\"type\":\"c\",\"fileMode\":438,\"major\":1,\"minor\":3},"
                      "{\"path\":\"/dev/quiet\",\"type\":\"c\",\"fileMode\":438,\"major\":1,\"minor\":5}]");
  json_t *rules = json_object_get(json_object_get(json_object_get(oci, "linux"), "resources"), "devices");
  cr_expect_eq(json_array_size(rules), 1, "permissions none adds no rule");
  cleanup_free char *g = json_dumps(json_object_get(json_object_get(json_object_get(oci, "process"), "user"), "additionalGids"), JSON_COMPACT);
  cr_expect_str_eq(g, "[44]");
  berth_cdi_registry_free(reg);
}

Test(cdi, an_unknown_device_changes_nothing)
{
  struct berth_cdi_registry *reg = registry_of(yaml_spec, "/etc/cdi/v.yaml");
  cleanup_json json_t *oci = base_config(), *before = json_deep_copy(oci);
  berth_error_t err = NULL;
  const char *names[] = {"vendor.com/dev=0", "vendor.com/dev=9", "other.com/x=y", NULL};
  cr_assert_lt(berth_cdi_inject(reg, names, oci, -1, -1, &err), 0);
  cr_expect_str_eq(err->msg, "CDI device injection failed: unresolvable CDI devices vendor.com/dev=9, other.com/x=y");
  cr_expect(json_equal(oci, before));
  berth_error_release(&err);
  /* a node that is neither described nor on the host */
  berth_cdi_registry_free(reg);
  reg = registry_of("cdiVersion: 0.5.0\nkind: v.com/c\ndevices:\n- name: a\n  containerEdits:\n"
                    "    env: [A=1]\n    deviceNodes: [{path: /dev/nonexistent-cdi-node}]\n",
                    "/s.yaml");
  const char *one[] = {"v.com/c=a", NULL};
  cr_assert_lt(berth_cdi_inject(reg, one, oci, -1, -1, &err), 0);
  cr_expect_str_eq(err->msg, "CDI device injection failed: failed to stat CDI host device \"/dev/nonexistent-cdi-node\"");
  cr_expect(json_equal(oci, before), "the env edit applied before the failure is not kept");
  berth_error_release(&err);
  berth_cdi_registry_free(reg);
}

/* The shape `nvidia-ctk cdi generate` writes (by hand after its output):
 * a document marker, spec-wide nodes, env, hooks and mounts, devices by
 * index, UUID and "all". */
Test(cdi, an_nvidia_ctk_spec_loads)
{
  static const char text[] = "---\n"
                             "cdiVersion: 0.5.0\n"
                             "containerEdits:\n"
                             "    deviceNodes:\n"
                             "        - path: /dev/nvidia-uvm\n"
                             "        - path: /dev/nvidiactl\n"
                             "    env:\n"
                             "        - NVIDIA_VISIBLE_DEVICES=void\n"
                             "    hooks:\n"
                             "        - hookName: createContainer\n"
                             "          path: /usr/bin/nvidia-cdi-hook\n"
                             "          args:\n"
                             "            - nvidia-cdi-hook\n"
                             "            - update-ldcache\n"
                             "            - --folder\n"
                             "            - /usr/lib/x86_64-linux-gnu\n"
                             "          env:\n"
                             "            - NVIDIA_CTK_DEBUG=false\n"
                             "    mounts:\n"
                             "        - hostPath: /usr/lib/x86_64-linux-gnu/libcuda.so.570.133.20\n"
                             "          containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.570.133.20\n"
                             "          options:\n"
                             "            - ro\n"
                             "            - nosuid\n"
                             "            - nodev\n"
                             "            - bind\n"
                             "devices:\n"
                             "    - name: \"0\"\n"
                             "      containerEdits:\n"
                             "        deviceNodes:\n"
                             "            - path: /dev/nvidia0\n"
                             "    - name: GPU-4cf8db2d-06c0-7d70-1a51-e59b25b2c16c\n"
                             "      containerEdits:\n"
                             "        deviceNodes:\n"
                             "            - path: /dev/nvidia0\n"
                             "    - name: all\n"
                             "      containerEdits:\n"
                             "        deviceNodes:\n"
                             "            - path: /dev/nvidia0\n"
                             "kind: nvidia.com/gpu\n";
  berth_error_t err = NULL;
  struct berth_cdi_registry *reg = berth_cdi_registry_load(NULL);
  cleanup_json json_t *doc = berth_cdi_spec_parse(text, strlen(text), "/var/run/cdi/nvidia.yaml", &err);
  cr_assert_not_null(doc, "%s", err ? err->msg : "");
  cr_assert_eq(berth_cdi_registry_add(reg, doc, "/var/run/cdi/nvidia.yaml", 1, &err), 0);
  cr_expect_eq(reg->n_devices, 3);
  cr_expect_not_null(berth_cdi_registry_find(reg, "nvidia.com/gpu=GPU-4cf8db2d-06c0-7d70-1a51-e59b25b2c16c"));
  cr_expect(berth_cdi_registry_has_kind(reg, "nvidia.com/gpu"));
  berth_cdi_registry_free(reg);
}
