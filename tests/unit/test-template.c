/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd/berth/template*.c and table.c: Go text/template semantics on JSON, the
 * docker template functions, Go's fmt verbs, docker's formatter and
 * tabwriter.  Expected strings are what Go (and docker) print for the same
 * template on the equivalent Go values.  Linked against berth_cli_util and
 * driven through template.h and table.h only. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "table.h"
#include "template.h"

static const char *doc_text =
    "{\"ID\":\"abc123def456\",\"Name\":\"web\",\"Names\":[\"web\",\"db\"],\"Size\":1024,\"Ratio\":1.5,"
    "\"Big\":1e21,\"Running\":true,\"Stopped\":false,\"Nil\":null,\"Empty\":\"\",\"Zero\":0,"
    "\"List\":[1,\"two\",3.5,true,null],\"Labels\":{\"b\":\"2\",\"a\":\"1\",\"com.example.vendor\":\"ACME\"},"
    "\"Config\":{\"Image\":\"alpine\",\"Env\":[\"A=1\",\"B=2\"],\"Labels\":{}},"
    "\"State\":{\"Status\":\"running\",\"Health\":null},\"Obj\":{\"x\":1,\"y\":[1,2]},\"S\":{}}";

static json_t *doc(void)
{
  static json_t *d;
  if (!d) {
    json_error_t e;
    d = json_loads(doc_text, 0, &e);
    cr_assert_not_null(d, "test document: %s", e.text);
  }
  return d;
}

static const struct berth_template_opts map_opts = {.missing = BERTH_TEMPLATE_MAP};
static const struct berth_template_opts error_opts = {.missing = BERTH_TEMPLATE_MAP_ERROR};
static const struct berth_template_opts struct_opts = {.missing = BERTH_TEMPLATE_STRUCT};

/* Output of src on data, or "ERR: message". */
static char *run_on(const char *src, json_t *data, const struct berth_template_opts *opts)
{
  struct berth_template *t = NULL;
  berth_error_t err = NULL;
  char *out = NULL;
  if (berth_template_parse(src, &t, &err) < 0 || berth_template_exec_string(t, data, opts, &out, &err) < 0) {
    if (asprintf(&out, "ERR: %s", err->msg) < 0)
      abort();
    berth_error_release(&err);
  }
  berth_template_free(t);
  return out;
}

static void check_opts(const char *src, const struct berth_template_opts *opts, const char *want)
{
  cleanup_free char *got = run_on(src, doc(), opts);
  cr_assert_str_eq(got, want, "template `%s`:\n got: [%s]\nwant: [%s]", src, got, want);
}

static void check(const char *src, const char *want)
{
  check_opts(src, &map_opts, want);
}

static void check_struct(const char *src, const char *want)
{
  check_opts(src, &struct_opts, want);
}

static void check_json(const char *src, const char *json, const char *want)
{
  json_error_t e;
  json_t *data = json_loads(json, JSON_DECODE_ANY, &e);
  cleanup_free char *got = NULL;
  cr_assert_not_null(data, "%s", e.text);
  got = run_on(src, data, &map_opts);
  json_decref(data);
  cr_assert_str_eq(got, want, "template `%s`:\n got: [%s]\nwant: [%s]", src, got, want);
}

static void check_parse_error(const char *src, const char *want)
{
  struct berth_template *t = NULL;
  cleanup_error berth_error_t err = NULL;
  cr_assert_lt(berth_template_parse(src, &t, &err), 0, "`%s` parsed", src);
  cr_assert_null(t);
  cr_assert_str_eq(err->msg, want, "template `%s`:\n got: [%s]\nwant: [%s]", src, err->msg, want);
}

/* ---- fields and printing ---- */

Test(template, prints_fields)
{
  check("{{.Name}}", "web");
  check("{{.Config.Image}}", "alpine");
  check("{{ .Name }}", "web");
  check("id={{.ID}} name={{.Name}}", "id=abc123def456 name=web");
  check("plain text", "plain text");
  check("", "");
}

Test(template, prints_values_like_go)
{
  check("{{.Size}}", "1024");
  check("{{.Ratio}}", "1.5");
  check("{{.Big}}", "1e+21");
  check("{{.Running}} {{.Stopped}}", "true false");
  check("{{.Nil}}", "<nil>");
  check("{{.Empty}}", "");
  check("{{.Names}}", "[web db]");
  check("{{.List}}", "[1 two 3.5 true <nil>]");
  check("{{.Labels}}", "map[a:1 b:2 com.example.vendor:ACME]");
  check("{{.Obj}}", "map[x:1 y:[1 2]]");
  check("{{.Config.Labels}}", "map[]");
  check_json("{{.}}", "{\"a\":1}", "map[a:1]");
  check_json("{{$}}", "[1,[2,3],{}]", "[1 [2 3] map[]]");
  check_json("{{.}}", "123456789012345678", "123456789012345678");
  check_json("{{.}}", "-9223372036854775808", "-9223372036854775808");
  check_json("{{.}}", "0.1", "0.1");
  check_json("{{.}}", "100000.0", "100000");
  check_json("{{.}}", "1000000.0", "1e+06");
  check_json("{{.}}", "0.0001", "0.0001");
  check_json("{{.}}", "0.00001", "1e-05");
  check_json("{{.}}", "123456789.0", "1.23456789e+08");
  check_json("{{.}}", "\"caf\\u00e9\"", "caf\xc3\xa9");
}

Test(template, struct_objects_print_values_in_order)
{
  check_struct("{{.State}}", "{running <nil>}");
  check_struct("{{printf \"%+v\" .State}}", "{Status:running Health:<nil>}");
  check_struct("{{.Labels}}", "map[a:1 b:2 com.example.vendor:ACME]");
}

Test(template, missing_map_keys_print_no_value)
{
  check("{{.Missing}}", "<no value>");
  check("{{.Missing.Deeper.Still}}", "<no value>");
  check("{{.Labels.nope}}", "<no value>");
  check_struct("{{.Labels.nope}}", "<no value>");
  check_struct("{{.Config.Labels.nope}}", "<no value>");
  check_opts("{{.Name}}", NULL, "web");
}

Test(template, missing_key_error_mode)
{
  check_opts("{{.Foo}}", &error_opts, "ERR: template: :1:2: executing \"\" at <.Foo>: map has no entry for key \"Foo\"");
  check_opts("{{.Config.Nope}}", &error_opts,
              "ERR: template: :1:9: executing \"\" at <.Config.Nope>: map has no entry for key \"Nope\"");
  check_opts("{{.Name}}", &error_opts, "web");
}

Test(template, missing_struct_fields_are_errors)
{
  struct berth_template_opts ps = {.type_name = "*formatter.ContainerContext"};
  check_opts("{{.Foo}}", &ps,
              "ERR: template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo in type "
              "*formatter.ContainerContext");
  check_struct("{{.Foo}}", "ERR: template: :1:2: executing \"\" at <.Foo>: map has no entry for key \"Foo\"");
  check_struct("{{.Config.Foo}}",
                "ERR: template: :1:9: executing \"\" at <.Config.Foo>: map has no entry for key \"Foo\"");
  check_struct("line1\n  {{.Foo}}", "ERR: template: :2:4: executing \"\" at <.Foo>: map has no entry for key \"Foo\"");
}

Test(template, nil_pointers_and_non_objects)
{
  check_struct("{{.State.Health.Status}}",
                "ERR: template: :1:8: executing \"\" at <.State.Health.Status>: nil pointer evaluating "
                "interface {}.Status");
  check("{{.Nil.X}}", "ERR: template: :1:6: executing \"\" at <.Nil.X>: nil pointer evaluating interface {}.X");
  check("{{.Name.Foo}}",
         "ERR: template: :1:7: executing \"\" at <.Name.Foo>: can't evaluate field Foo in type string");
  check("{{.Names.Foo}}",
         "ERR: template: :1:8: executing \"\" at <.Names.Foo>: can't evaluate field Foo in type []interface {}");
  check("{{.Size.Foo}}", "ERR: template: :1:7: executing \"\" at <.Size.Foo>: can't evaluate field Foo in type int");
}

Test(template, exec_on_missing_data)
{
  cleanup_free char *a = run_on("{{.}}|{{.X}}", NULL, &map_opts);
  cr_assert_str_eq(a, "<no value>|<no value>");
}

/* ---- pipelines, variables, literals ---- */

Test(template, pipelines_and_parentheses)
{
  check("{{.Name | upper}}", "WEB");
  check("{{.Name | printf \"%s-%s\" \"x\"}}", "x-web");
  check("{{\"abc\" | len}}", "3");
  check("{{upper (index .Names 1)}}", "DB");
  check("{{(index .Names 0) | upper | lower}}", "web");
  check("{{(.Config).Image}}", "alpine");
  check("{{(index .Obj \"y\")}}", "[1 2]");
  check("{{len (split \"a,b,c\" \",\")}}", "3");
}

Test(template, variables)
{
  check("{{$x := .Name}}{{$x}}", "web");
  check("{{$x := 1}}{{$x = 2}}{{$x}}", "2");
  check("{{range .Names}}{{$.Name}}{{end}}", "webweb");
  check("{{$x := \"a\"}}{{if true}}{{$x := \"b\"}}{{$x}}{{end}}{{$x}}", "ba");
  check("{{$x := \"a\"}}{{if true}}{{$x = \"b\"}}{{end}}{{$x}}", "b");
  check("{{$c := .Config}}{{$c.Image}}", "alpine");
  check("{{with $x := .Name}}{{$x}}{{end}}", "web");
  check("{{$x := 0}}{{range .Names}}{{$x = .}}{{end}}{{$x}}", "db");
}

Test(template, literals)
{
  check("{{\"a\\tb\"}}", "a\tb");
  check("{{`raw\\n`}}", "raw\\n");
  check("{{\"\\u00e9\\x41\\101\"}}", "\xc3\xa9" "AA");
  check("{{'a'}} {{'\\n'}}", "97 10");
  check("{{1.0}} {{1e3}} {{0x10}} {{-5}} {{1_000}} {{0o17}} {{017}} {{0b101}}", "1 1000 16 -5 1000 15 15 5");
  check("{{true}} {{false}}", "true false");
  check("{{1.5e-3}}", "0.0015");
  check("{{.5}}", "0.5");
}

Test(template, number_literal_errors)
{
  check_parse_error("{{08}}", "template: :1: integer overflow: 08");
  check_parse_error("{{99999999999999999999}}", "template: :1: integer overflow: 99999999999999999999");
  check_parse_error("{{0x}}", "template: :1: illegal number syntax: \"0x\"");
  check_parse_error("{{3x}}", "template: :1: bad number syntax: \"3x\"");
  check_parse_error("{{'ab'}}", "template: :1: malformed character constant: 'ab'");
  check("{{18446744073709551615}}",
         "ERR: template: :1:2: executing \"\" at <18446744073709551615>: 18446744073709551615 overflows int");
}

/* ---- control structures ---- */

Test(template, if_else_truthiness)
{
  check("{{if .Running}}up{{else}}down{{end}}", "up");
  check("{{if .Stopped}}up{{else}}down{{end}}", "down");
  check("{{if .Empty}}a{{else if .Name}}b{{else}}c{{end}}", "b");
  check("{{if .Empty}}a{{else if .Zero}}b{{else}}c{{end}}", "c");
  check("{{if .Zero}}a{{else}}b{{end}}", "b");
  check("{{if .Nil}}a{{else}}b{{end}}", "b");
  check("{{if .Missing}}a{{else}}b{{end}}", "b");
  check("{{if .Config.Labels}}a{{else}}b{{end}}", "b");
  check("{{if .Labels}}a{{end}}", "a");
  check("{{if .List}}a{{end}}", "a");
  check("{{if .Ratio}}a{{end}}", "a");
  check_json("{{if .}}a{{else}}b{{end}}", "0.0", "b");
  check_json("{{if .}}a{{else}}b{{end}}", "[]", "b");
  /* an empty struct is true, an empty map is false */
  check_struct("{{if .S}}a{{else}}b{{end}}", "a");
  check("{{if .S}}a{{else}}b{{end}}", "b");
}

Test(template, with)
{
  check("{{with .Config}}{{.Image}}{{end}}", "alpine");
  check("{{with .Missing}}x{{else}}none{{end}}", "none");
  check("{{with .Missing}}a{{else with .Name}}{{.}}{{end}}", "web");
  check("{{with .Empty}}a{{else with .Zero}}b{{else}}c{{end}}", "c");
}

Test(template, range_over_arrays_and_objects)
{
  check("{{range .Names}}[{{.}}]{{end}}", "[web][db]");
  check("{{range $i, $e := .Names}}{{$i}}={{$e}} {{end}}", "0=web 1=db ");
  check("{{range $e := .Names}}{{$e}}{{end}}", "webdb");
  check("{{range $k, $v := .Labels}}{{$k}}:{{$v}},{{end}}", "a:1,b:2,com.example.vendor:ACME,");
  check("{{range .Labels}}{{.}}{{end}}", "12ACME");
  check("{{range .Config.Env}}{{.}}{{else}}none{{end}}", "A=1B=2");
  check("{{range .Config.Labels}}x{{else}}none{{end}}", "none");
  check("{{range .Missing}}x{{else}}none{{end}}", "none");
  check("{{range .Nil}}x{{else}}none{{end}}", "none");
  check("{{range 3}}{{.}}{{end}}", "012");
  check("{{range $i := 2}}{{$i}}{{end}}", "01");
  check("{{$i := 9}}{{$e := 9}}{{range $i, $e = .Names}}{{end}}{{$i}}{{$e}}", "1db");
}

Test(template, range_errors)
{
  check("{{range .Name}}{{end}}", "ERR: template: :1:8: executing \"\" at <.Name>: range can't iterate over web");
  check("{{range $i, $e := 3}}{{end}}",
         "ERR: template: :1:18: executing \"\" at <3>: can't use 3 to iterate over more than one variable");
}

Test(template, break_and_continue)
{
  check("{{range .List}}{{if eq (printf \"%T\" .) \"string\"}}{{break}}{{end}}{{.}}{{end}}", "1");
  check("{{range $i, $e := .Names}}{{if eq $i 0}}{{continue}}{{end}}{{$e}}{{end}}", "db");
  check("{{range .Names}}{{range 3}}{{break}}{{end}}{{.}}{{end}}", "webdb");
}

Test(template, define_template_block)
{
  check("{{define \"T\"}}[{{.}}]{{end}}{{template \"T\" .Name}}", "[web]");
  check("{{template \"T\" .Size}}{{define \"T\"}}<{{.}}>{{end}}", "<1024>");
  check("{{block \"B\" .Size}}<{{.}}>{{end}}", "<1024>");
  check("{{define \"T\"}}{{.}}{{end}}{{template \"T\"}}", "<no value>");
  check("{{$x := 1}}{{define \"T\"}}{{$}}{{end}}{{template \"T\" .Zero}}", "0");
  check("{{template \"nope\"}}",
         "ERR: template: :1:11: executing \"\" at <{{template \"nope\"}}>: template \"nope\" not defined");
  check("{{define \"T\"}}{{.Nope.X}}{{end}}{{template \"T\" 1}}",
         "ERR: template: :1:21: executing \"T\" at <.Nope.X>: can't evaluate field Nope in type int");
}

Test(template, recursion_is_bounded)
{
  cleanup_free char *got = run_on("{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" .}}", doc(), &map_opts);
  cr_assert(strstr(got, "exceeded maximum template depth"), "%s", got);
}

Test(template, whitespace_trimming_and_comments)
{
  check("a  {{- .Name -}}  b", "awebb");
  check("a\n\t{{- 3 -}}\n b", "a3b");
  check("a {{- \"b\"}}", "ab");
  check("{{- /* comment */ -}}", "");
  check("x {{- /* c */ -}} y", "xy");
  check("{{/* c */}}x", "x");
  check("{{/* multi\nline */}}x", "x");
  check("a{{-3}}", "a-3");
  check("{{.Name}}\n{{.Size}}\n", "web\n1024\n");
}

/* ---- functions ---- */

Test(template, comparisons)
{
  check("{{eq .Name \"web\"}} {{eq .Name \"x\" \"web\"}} {{eq .Name \"x\"}}", "true true false");
  check("{{ne .Size 1024}} {{lt .Size 2000}} {{gt .Ratio 1.0}}", "false true true");
  check("{{le 2 2}} {{ge \"b\" \"a\"}} {{lt \"a\" \"ab\"}} {{gt 1 2}}", "true true true false");
  check("{{eq .Running true}} {{eq .Missing \"x\"}} {{eq .Nil .Missing}}", "true false true");
  check("{{eq .Size 1024.0}}",
         "ERR: template: :1:2: executing \"\" at <eq .Size 1024.0>: error calling eq: incompatible types for "
         "comparison: int and float64");
  check("{{lt .Nil 1}}",
         "ERR: template: :1:2: executing \"\" at <lt .Nil 1>: error calling lt: invalid type for comparison");
  check("{{lt true false}}",
         "ERR: template: :1:2: executing \"\" at <lt true false>: error calling lt: invalid type for comparison");
  check("{{eq 1}}", "ERR: template: :1:2: executing \"\" at <eq 1>: error calling eq: missing argument for comparison");
  check("{{eq .Names .Names}}",
         "ERR: template: :1:2: executing \"\" at <eq .Names .Names>: error calling eq: non-comparable type "
         "[web db]: []interface {}");
  check("{{ne}}", "ERR: template: :1:2: executing \"\" at <ne>: wrong number of args for ne: want 2 got 0");
}

Test(template, and_or_not)
{
  check("{{and .Name .Size}}", "1024");
  check("{{and .Empty .Size}}", "");
  check("{{and 1 0 2}}", "0");
  check("{{or .Empty \"default\"}}", "default");
  check("{{or .Name \"default\"}}", "web");
  check("{{or .Missing .Nil}}", "<nil>");
  check("{{not .Running}} {{not .Empty}}", "false true");
  check("{{if and .Running (not .Stopped)}}ok{{end}}", "ok");
  /* and/or stop at the deciding argument: the missing function is never called */
  check("{{or 1 (index .Names 9)}}", "1");
  check("{{.Empty | or \"x\"}}", "x");
  check("{{and}}", "ERR: template: :1:2: executing \"\" at <and>: wrong number of args for and: want at least 1 got 0");
}

Test(template, len_index_slice)
{
  check("{{len .Names}} {{len .Labels}} {{len .Name}} {{len .Nil}}", "2 3 3 0");
  check("{{len .Size}}", "ERR: template: :1:2: executing \"\" at <len .Size>: error calling len: len of type int");
  check("{{index .Labels \"a\"}} {{index .Names 1}} {{index .Obj.y 0}} {{index .Obj \"y\" 1}}", "1 db 1 2");
  check("{{index .Names}}", "[web db]");
  check("{{index \"abc\" 1}}", "98");
  check("{{index .Labels \"missing\"}}", "<no value>");
  check_struct("{{index .Labels \"missing\"}}", "");
  check_struct("{{index .Config.Labels \"missing\"}}", "");
  check("{{index .Names 5}}",
         "ERR: template: :1:2: executing \"\" at <index .Names 5>: error calling index: index out of range: 5");
  check("{{index .Names \"x\"}}",
         "ERR: template: :1:2: executing \"\" at <index .Names \"x\">: error calling index: cannot index "
         "slice/array with type string");
  check("{{index .Labels 1}}",
         "ERR: template: :1:2: executing \"\" at <index .Labels 1>: error calling index: value has type int; "
         "should be string");
  check("{{index .Size 1}}",
         "ERR: template: :1:2: executing \"\" at <index .Size 1>: error calling index: can't index item of type int");
  check("{{index .Missing 1}}",
         "ERR: template: :1:2: executing \"\" at <index .Missing 1>: error calling index: index of untyped nil");
  check("{{slice \"abcdef\" 1 3}} {{slice .Names 1}} {{slice .Names}} {{slice \"abc\" 3}}", "bc [db] [web db] ");
  check("{{slice .Names 0 5}}",
         "ERR: template: :1:2: executing \"\" at <slice .Names 0 5>: error calling slice: index out of range: 5");
  check("{{slice .Names 2 1}}",
         "ERR: template: :1:2: executing \"\" at <slice .Names 2 1>: error calling slice: invalid slice index: 2 > 1");
}

Test(template, printf_verbs)
{
  check("{{printf \"%s=%d\" .Name .Size}}", "web=1024");
  check("{{printf \"%-10s|\" .Name}}", "web       |");
  check("{{printf \"%10s|\" .Name}}", "       web|");
  check("{{printf \"%5.2f\" .Ratio}}", " 1.50");
  check("{{printf \"%v\" .Labels}}", "map[a:1 b:2 com.example.vendor:ACME]");
  check("{{printf \"%q\" .Name}}", "\"web\"");
  check("{{printf \"%x %X %o %O %b\" 255 255 8 8 5}}", "ff FF 10 0o10 101");
  check("{{printf \"%#x %#o %#b\" 255 8 5}}", "0xff 010 0b101");
  check("{{printf \"%x\" -255}}", "-ff");
  check("{{printf \"%08.3f\" .Ratio}} {{printf \"%08.3f\" -1.5}}", "0001.500 -001.500");
  check("{{printf \"%+d %+d\" 5 -5}} {{printf \"% d\" 5}}", "+5 -5  5");
  check("{{printf \"%5d|%-5d|%05d\" 42 42 -42}}", "   42|42   |-0042");
  check("{{printf \"%.3d\" 7}}", "007");
  check("{{printf \"%6.2v|\" .Name}}", "    we|");
  check("{{printf \"%.2s\" \"hello\"}}", "he");
  check("{{printf \"%x\" \"hi\"}} {{printf \"% x\" \"hi\"}} {{printf \"%#x\" \"hi\"}}", "6869 68 69 0x6869");
  check("{{printf \"%c%c\" 72 105}} {{printf \"%U\" 65}} {{printf \"%#U\" 65}}", "Hi U+0041 U+0041 'A'");
  check("{{printf \"%q\" 'x'}} {{printf \"%q\" \"a\\nb\"}} {{printf \"%#q\" \"ab\"}}", "'x' \"a\\nb\" `ab`");
  check("{{printf \"%t\" .Running}}", "true");
  check("{{printf \"%e\" 1234.5678}} {{printf \"%E\" 0.5}}", "1.234568e+03 5.000000E-01");
  check("{{printf \"%g\" 1234.5678}} {{printf \"%.3g\" 1234.5678}} {{printf \"%g\" .Big}}", "1234.5678 1.23e+03 1e+21");
  check("{{printf \"%v %v\" 1e6 100000.0}}", "1e+06 100000");
  check("{{printf \"%f\" 1e6}}", "1000000.000000");
  check("{{printf \"%#g\" 1.0}} {{printf \"%#.3g\" 2.5}}", "1.00000 2.50");
  check("{{printf \"%%\"}} {{printf \"100%%\"}}", "% 100%");
  check("{{printf \"%[2]s %[1]s\" \"a\" \"b\"}}", "b a");
  check("{{printf \"%*d|%-*d|\" 5 42 4 1}}", "   42|1   |");
  check("{{printf \"%.*f\" 2 3.14159}}", "3.14");
  check("{{printf \"%T %T %T %T %T %T %T\" .Name .Size .Ratio .Names .Labels .Running .Nil}}",
         "string int float64 []interface {} map[string]interface {} bool <nil>");
  check("{{printf \"%#v\" .Names}}", "[]interface {}{\"web\", \"db\"}");
  check("{{printf \"%#v\" .Labels}}", "map[string]interface {}{\"a\":\"1\", \"b\":\"2\", \"com.example.vendor\":\"ACME\"}");
  check("{{printf \"%s\" \"caf\xc3\xa9\"}}|{{printf \"%6s\" \"caf\xc3\xa9\"}}", "caf\xc3\xa9|  caf\xc3\xa9");
}

Test(template, printf_bad_verbs_and_arguments)
{
  check("{{printf \"%d\" .Name}}", "%!d(string=web)");
  check("{{printf \"%s\" .Size}}", "%!s(int=1024)");
  check("{{printf \"%f\" .Size}}", "%!f(int=1024)");
  check("{{printf \"%d\" .Ratio}}", "%!d(float64=1.5)");
  check("{{printf \"%d\" .Running}}", "%!d(bool=true)");
  check("{{printf \"%v\" .Nil}} {{printf \"%d\" .Nil}} {{printf \"%s\" .Missing}}", "<nil> %!d(<nil>) %!s(<nil>)");
  check("{{printf \"%d %d\" 1}}", "1 %!d(MISSING)");
  check("{{printf \"%d\" 1 \"a\"}}", "1%!(EXTRA string=a)");
  check("{{printf \"x\" 1 .Nil}}", "x%!(EXTRA int=1, <nil>)");
  check("{{printf \"%!\"}}", "%!!(MISSING)");
  check("{{printf \"%\"}}", "%!(NOVERB)");
  check("{{printf \"%[3]d\" 1}}", "%!d(BADINDEX)");
  check("{{printf \"%*d\" \"x\" 1}}", "%!(BADWIDTH)1");
  check("{{printf \"%d\" .Names}}", "[%!d(string=web) %!d(string=db)]");
  check("{{printf \"%s\" .List}}", "[%!s(int=1) two %!s(float64=3.5) %!s(bool=true) <nil>]");
  check("{{printf \"%d\" .Labels}}", "map[%!d(string=a):%!d(string=1) %!d(string=b):%!d(string=2) "
                                      "%!d(string=com.example.vendor):%!d(string=ACME)]");
  check("{{printf \"%99999999d\" 1}}", "%!(NOVERB)%!(EXTRA int=1)");
  check("{{printf 1}}", "ERR: template: :1:9: executing \"\" at <1>: expected string; found 1");
}

Test(template, print_and_println)
{
  check("{{print 1 2 \"a\" 3}}", "1 2a3");
  check("{{print \"a\" \"b\"}}", "ab");
  check("{{println \"a\" 1}}", "a 1\n");
  check("{{print .Missing}}", "<nil>");
  check("{{print}}|{{println}}", "|\n");
  check("{{print .Names .Size}}", "[web db] 1024");
}

Test(template, html_js_urlquery)
{
  check("{{html \"<a href=\\\"x\\\">&'\"}}", "&lt;a href=&#34;x&#34;&gt;&amp;&#39;");
  check("{{html .Missing}}", "&lt;no value&gt;");
  check("{{js \"a'b\\\"<>=\"}}", "a\\'b\\\"\\u003C\\u003E\\u003D");
  check("{{urlquery \"a b&c=d/\xc3\xa9\"}}", "a+b%26c%3Dd%2F%C3%A9");
  check("{{html 1 2}}", "1 2");
}

Test(template, docker_functions)
{
  check("{{join .Names \",\"}}", "web,db");
  check("{{join .Nil \",\"}}", "");
  check("{{join (split \"a b c\" \" \") \"-\"}}", "a-b-c");
  check("{{split \"a,b,c\" \",\"}} {{split \"abc\" \"\"}} {{len (split \"\" \",\")}}", "[a b c] [a b c] 1");
  check("{{lower \"ABC\"}} {{upper \"abc\"}} {{upper \"\xc3\xa9t\xc3\xa9\"}}", "abc ABC \xc3\x89T\xc3\x89");
  check("{{title \"hello world-foo bar_baz\"}}", "Hello World-Foo Bar_baz");
  check("{{pad \"abc\" 2 3}}|{{pad \"\" 2 3}}|", "  abc   ||");
  check("{{truncate \"abcdef\" 3}} {{truncate \"ab\" 3}} {{truncate \"abc\" 3}} {{truncate .ID 0}}|", "abc ab abc |");
  check("{{.ID | truncate 12}}", "ERR: template: :1:17: executing \"\" at <12>: expected string; found 12");
  check("{{join .List \",\"}}",
         "ERR: template: :1:7: executing \"\" at <.List>: wrong type for value; expected []string; got []interface {}");
  check("{{upper 1}}", "ERR: template: :1:8: executing \"\" at <1>: expected string; found 1");
  check("{{upper .Size}}", "ERR: template: :1:8: executing \"\" at <.Size>: wrong type for value; expected string; got int");
  check("{{pad \"x\" -1 0}}",
         "ERR: template: :1:2: executing \"\" at <pad \"x\" -1 0>: error calling pad: strings: negative Repeat count");
  check("{{pad \"x\" \"1\" 0}}", "ERR: template: :1:10: executing \"\" at <\"1\">: expected integer; found \"1\"");
}

Test(template, json_function)
{
  check("{{json .Labels}}", "{\"a\":\"1\",\"b\":\"2\",\"com.example.vendor\":\"ACME\"}");
  check("{{json .Names}} {{json .Ratio}} {{json .Big}} {{json .Nil}} {{json .Missing}}",
         "[\"web\",\"db\"] 1.5 1e+21 null null");
  check("{{json .Obj}}", "{\"x\":1,\"y\":[1,2]}");
  check_json("{{json .}}", "{\"b\":1,\"a\":[true,null]}", "{\"a\":[true,null],\"b\":1}");
  check_json("{{json .}}", "{\"s\":\"<a&b>\\\"\\n\\u2028\\u0001\\b\\f\\u00e9\"}",
              "{\"s\":\"<a&b>\\\"\\n\\u2028\\u0001\\b\\f\xc3\xa9\"}");
  check_json("{{json .}}", "[0.000001, 0.0000001, 1e20, 1e21, -0.0, 3.0]", "[0.000001,1e-7,100000000000000000000,1e+21,-0,3]");
  check_json("{{json (index . 0)}}", "[\"x\"]", "\"x\"");
}

Test(template, json_keeps_struct_member_order)
{
  json_t *data = json_pack("{s:i, s:i, s:{s:s, s:s}}", "Zed", 1, "Alpha", 2, "Labels", "z", "1", "a", "2");
  cleanup_free char *got = run_on("{{json .}}", data, NULL);
  json_decref(data);
  cr_assert_str_eq(got, "{\"Zed\":1,\"Alpha\":2,\"Labels\":{\"a\":\"2\",\"z\":\"1\"}}");
}

/* ---- cases from Go's text/template exec_test.go, on the equivalent JSON ---- */

static const char *go_tval =
    "{\"SI\":[3,4,5],\"SIEmpty\":[],\"MSI\":{\"one\":1,\"two\":2,\"three\":3},\"MSIone\":{\"one\":1},"
    "\"MSIEmpty\":{},\"I\":17,\"X\":\"x\",\"U\":{\"V\":\"v\"},\"True\":true,\"FloatZero\":0.0,\"AI\":[3,4,5],"
    "\"S\":\"xyz\",\"Empty3\":[7,8],\"SMSI\":[{\"one\":1,\"two\":2},{\"eleven\":11,\"twelve\":12}]}";

static void check_go(const char *src, const char *want)
{
  check_json(src, go_tval, want);
}

static void check_go_fails(const char *src)
{
  json_t *data = json_loads(go_tval, 0, NULL);
  cleanup_free char *got = run_on(src, data, &map_opts);
  json_decref(data);
  cr_assert(strncmp(got, "ERR: template: ", 15) == 0, "`%s` did not fail: [%s]", src, got);
}

Test(go_exec, control_structures)
{
  check_go("{{range .SI}}-{{.}}-{{end}}", "-3--4--5-");
  check_go("{{range .SIEmpty}}-{{.}}-{{else}}EMPTY{{end}}", "EMPTY");
  check_go("{{range .MSI}}-{{.}}-{{end}}", "-1--3--2-");
  check_go("{{range $x, $y := .MSIone}}<{{$x}}={{$y}}>{{end}}", "<one=1>");
  check_go("{{range $x := .SI}}<{{$foo:=$x}}{{$x}}>{{end}}", "<3><4><5>");
  check_go("{{range .SI}}-{{.}}-{{break}}NOTREACHED{{else}}EMPTY{{end}}", "-3-");
  check_go("{{range .SI}}-{{.}}-{{continue}}NOTREACHED{{else}}EMPTY{{end}}", "-3--4--5-");
  check_go("{{range $v := 5}}{{printf \"%T%d\" $v $v}}{{end}}", "int0int1int2int3int4");
  check_go("{{$i := 0}}{{$x := 0}}{{range $i = .AI}}{{end}}{{$i}}", "5");
  check_go("{{$k := 0}}{{$v := 0}}{{range $k, $v = .AI}}{{$k}}={{$v}} {{end}}", "0=3 1=4 2=5 ");
  check_go("{{if $x := true}}{{with $y := .I}}{{$x}},{{$y}}{{end}}{{end}}", "true,17");
  check_go("{{if $x := true}}{{with $x := .I}}{{$x}},{{end}}{{$x}}{{end}}", "17,true");
  check_go("{{if eq 1 3}}1{{else if eq 2 3}}2{{else if eq 3 3}}3{{end}}", "3");
  check_go("{{if .FloatZero}}NON-ZERO{{else}}ZERO{{end}} {{if ``}}A{{else}}B{{end}}", "ZERO B");
  check_go("{{with 1.5}}{{.}}{{else}}ZERO{{end}} {{with .MSIone}}{{.}}{{else}}EMPTY{{end}}", "1.5 map[one:1]");
  check_go("{{with $x := $}}{{$x.U.V}}{{end}} {{with $x := $}}{{$y := $.U.V}}{{$y}}{{end}}", "v v");
  check_go("{{with 0}}{{.}}{{else with false}}{{.}}{{else with `notempty`}}{{.}}{{end}}", "notempty");
}

Test(go_exec, functions)
{
  check_go("{{print 1 2 3}}|{{println 1 2 3}}|{{print nil}}", "1 2 3|1 2 3\n|<nil>");
  check_go("{{printf \"%04x\" 127}} {{printf \"%g\" 3.5}} {{printf \"%T\" 0xef}}", "007f 3.5 int");
  check_go("{{and false 0}} {{and 1 0}} {{and 0 true}} {{and 1 1}}", "false 0 0 1");
  check_go("{{or 0 0}} {{or 1 0}} {{or 0 true}} {{or 1 1}}", "0 1 true 1");
  check_go("{{1 | and 1}} {{0 | and 1}} {{1 | or 0}} {{0 | or 0}}", "1 0 1 0");
  check_go("{{and 1 .Unknown}} {{or 0 .Unknown}}", "<no value> <no value>");
  check_go("{{or 0 1 (index .SI 10)}} {{and 1 0 (index .SI 10)}}", "1 0");
  check_go("{{index .SI 0}} {{index .MSI `one`}} {{index .MSI `XXX`}} {{index .SMSI 1 `eleven`}}", "3 1 <no value> 11");
  check_go("{{slice .SI}} {{slice .SI 1}} {{slice .SI 1 2}} {{slice .S 1 2}} {{slice .Empty3 0 1}}",
           "[3 4 5] [4 5] [4] y [7]");
  check_go("{{len .SI}} {{len .MSI}} {{len .Empty3}}", "3 3 2");
  check_go("{{or .SI \"slice is empty\"}} {{or .SIEmpty \"slice is empty\"}}", "[3 4 5] slice is empty");
  check_go("{{html \"<script>alert(\\\"XSS\\\");</script>\"}}", "&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;");
  check_go("{{html .Empty0}} {{\"http://www.example.org/\"|urlquery}}", "&lt;no value&gt; http%3A%2F%2Fwww.example.org%2F");
  check_go("{{js `Go \"jump\" \\`}}", "Go \\\"jump\\\" \\\\");
  check_go("{{print (.U).V}} {{($).X}} {{\"aaa\"|printf }}", "v x aaa");
}

Test(go_exec, numbers)
{
  check_go("{{print 1234}} {{print 12_34}} {{print 0b101}} {{print 0b_1_0_1}} {{print 0B101}}", "1234 1234 5 5 5");
  check_go("{{print 0377}} {{print 0o377}} {{print 0o_3_7_7}} {{print 0O377}}", "255 255 255 255");
  check_go("{{print 0x123}} {{print 0x1_23}} {{print 0X123ABC}}", "291 291 1194684");
  check_go("{{print 123.4}} {{print 0_0_1_2_3.4}} {{print +0x1.ep+2}} {{print +0x_1.e_0p+0_2}} {{print +0X1.EP+2}}",
           "123.4 123.4 7.5 7.5 7.5");
  check_go("{{print 1_2_3_4 7.5_00_00_00}} {{print 1234 0x0_1.e_0p+02}}", "1234 7.5 1234 7.5");
}

Test(go_exec, failures)
{
  const char *const bad[] = {
      "{{index .SI 10}}", "{{index .SI `hello`}}", "{{index .SI nil}}", "{{index .MSI nil}}", "{{index .MSI 10}}",
      "{{index nil 1}}", "{{index .SI 3}}", "{{slice .SI -1}}", "{{slice .SI 1 -2}}", "{{slice .SI 1 2 -1}}",
      "{{slice .SI 2 1}}", "{{slice .SI 2 2 1}}", "{{slice .SI 4 5}}", "{{slice .S 1 5}}", "{{slice .S 1 2 2}}",
      "{{len 3}}", "{{len .Empty0}}", "{{(nil).True}}", "{{$x := nil}}{{$x.anything}}",
      "{{$x := (1.0)}}{{$y := (\"hello\")}}{{$x.anything}}{{$y.true}}", "{{true|printf}}", "{{1|printf}}",
      "{{1.1|printf}}", "{{'x'|printf}}", "{{3 2}}", "{{(1) 2}}", "{{$x := 1}}{{3 | $x}}", "{{if nil}}TRUE{{end}}",
      "{{call nil}}", "{{call}}", "{{1 | call}}", "{{or 0 0 (index .SI 10)}}", "{{and 1 1 (index .SI 10)}}",
      NULL,
  };
  for (size_t i = 0; bad[i]; i++)
    check_go_fails(bad[i]);
}

Test(go_exec, error_in_nested_template)
{
  const char *src = "line 1\nline 2\nline 3\n{{template \"one\" .}}\n{{define \"one\"}}{{template \"two\" .}}{{end}}\n"
                    "{{define \"two\"}}{{template \"three\" .}}{{end}}\n{{define \"three\"}}{{index \"hi\" $}}{{end}}";
  check_json(src, "5", "ERR: template: :7:20: executing \"three\" at <index \"hi\" $>: error calling index: index out of "
                       "range: 5");
}

/* ---- execution errors ---- */

Test(template, command_errors)
{
  check("{{nil}}", "ERR: template: :1:2: executing \"\" at <nil>: nil is not a command");
  check("{{1 2}}", "ERR: template: :1:2: executing \"\" at <1>: can't give argument to non-function 1");
  check("{{.Name 1}}", "ERR: template: :1:2: executing \"\" at <.Name>: Name is not a method but has arguments");
  check_struct("{{.Name 1}}",
                "ERR: template: :1:2: executing \"\" at <.Name>: Name has arguments but cannot be invoked as function");
  check("{{$x := 1}}{{$x 2}}", "ERR: template: :1:13: executing \"\" at <$x>: can't give argument to non-function $x");
  check("{{$x = 1}}", "ERR: template: :1:7: executing \"\" at <1>: undefined variable: $x");
  check("{{upper nil}}", "ERR: template: :1:8: executing \"\" at <nil>: cannot assign nil to string");
  check("{{complex 1}}", "ERR: template: :1: function \"complex\" not defined");
  check("{{1i}}", "ERR: template: :1:2: executing \"\" at <1i>: complex constant 1i is not supported");
}

Test(template, exec_writes_to_a_stream)
{
  struct berth_template *t = NULL;
  cleanup_error berth_error_t err = NULL;
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  cr_assert_eq(berth_template_parse("{{.Name}}\x00?", &t, &err), 0);
  cr_assert_eq(berth_template_exec(t, doc(), NULL, f, &err), 0);
  fclose(f);
  cr_assert_str_eq(out, "web");
  free(out);
  berth_template_free(t);
}

Test(template, exec_keeps_output_before_an_error)
{
  struct berth_template *t = NULL;
  cleanup_error berth_error_t err = NULL;
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  cr_assert_eq(berth_template_parse("a{{.Name}}b{{nil}}c", &t, &err), 0);
  cr_assert_lt(berth_template_exec(t, doc(), &map_opts, f, &err), 0);
  fclose(f);
  cr_assert_str_eq(out, "awebb");
  cr_assert_eq(err->code, EINVAL);
  free(out);
  berth_template_free(t);
}

static int label_method(void *data, const char *name, json_t *receiver, json_t *const *args, size_t nargs,
                        json_t **ret, berth_error_t *err)
{
  json_t *labels;
  (void)data;
  if (strcmp(name, "Label") != 0)
    return 0;
  if (nargs != 1 || !json_is_string(args[0]))
    return berth_error_set(err, EINVAL, "Label takes one string");
  labels = json_object_get(receiver, "Labels");
  *ret = json_string(json_string_value(json_object_get(labels, json_string_value(args[0]))) ?: "");
  return 1;
}

Test(template, methods_from_the_caller)
{
  struct berth_template_opts o = {.method = label_method};
  check_opts("{{.Label \"com.example.vendor\"}}|{{.Label \"x\"}}|{{\"a\" | .Label}}", &o, "ACME||1");
  check_opts("{{.Label}}", &o, "ERR: template: :1:2: executing \"\" at <.Label>: error calling Label: Label takes one string");
  check_opts("{{.Name}}", &o, "web");
}

Test(template, limits_stop_runaway_templates)
{
  struct berth_template_opts small = {.missing = BERTH_TEMPLATE_MAP, .max_steps = 1000, .max_output = 1000};
  cleanup_free char *a = run_on("{{range 100000}}{{end}}", doc(), &small);
  cleanup_free char *b = run_on("{{range 200}}xxxxxxxxxx{{end}}", doc(), &small);
  cleanup_free char *c = run_on("{{$x := \"ab\"}}{{range 40}}{{$x = printf \"%s%s\" $x $x}}{{end}}", doc(), &small);
  cleanup_free char *d = run_on("{{pad \"x\" 100000000 0}}", doc(), &small);
  cleanup_free char *e = run_on("{{printf \"%1000000d\" 1}}", doc(), &small);
  cr_assert(strstr(a, "execution exceeded 1000 steps"), "%s", a);
  cr_assert(strstr(b, "output exceeds 1000 bytes"), "%s", b);
  cr_assert(strstr(c, "result exceeds 1000 bytes"), "%s", c);
  cr_assert(strstr(d, "result exceeds 1000 bytes"), "%s", d);
  cr_assert(strstr(e, "result exceeds 1000 bytes"), "%s", e);
}

/* ---- parse errors ---- */

Test(template, parse_errors_read_like_go)
{
  check_parse_error("{{.Foo}", "template: :1: unexpected \"}\" in operand");
  check_parse_error("{{.Foo", "template: :1: unclosed action");
  check_parse_error("{{if .X}}", "template: :1: unexpected EOF");
  check_parse_error("{{end}}", "template: :1: unexpected {{end}}");
  check_parse_error("{{else}}", "template: :1: unexpected {{else}}");
  check_parse_error("{{nofunc .X}}", "template: :1: function \"nofunc\" not defined");
  check_parse_error("{{$x}}", "template: :1: undefined variable \"$x\"");
  check_parse_error("{{}}", "template: :1: missing value for command");
  check_parse_error("{{.X | 3}}", "template: :1: non executable command in pipeline stage 2");
  check_parse_error("{{range $a, $b, $c := .}}{{end}}", "template: :1: too many declarations in range");
  check_parse_error("{{with $a, $b := .}}{{end}}", "template: :1: too many declarations in with");
  check_parse_error("{{range $a, 3 := .}}{{end}}", "template: :1: range can only initialize variables");
  check_parse_error("{{\"unterminated}}", "template: :1: unterminated quoted string");
  check_parse_error("{{`unterminated}}", "template: :1: unterminated raw quoted string");
  check_parse_error("{{.Foo!}}", "template: :1: bad character U+0021 '!'");
  check_parse_error("{{break}}", "template: :1: {{break}} outside {{range}}");
  check_parse_error("{{range .}}{{break 1}}{{end}}", "template: :1: unexpected \"1\" in {{break}}");
  check_parse_error("{{(.X}}", "template: :1: unclosed left paren");
  check_parse_error("{{.X)}}", "template: :1: unexpected right paren");
  check_parse_error("{{/* x }}", "template: :1: unclosed comment");
  check_parse_error("{{/* x */ .X}}", "template: :1: comment ends before closing delimiter");
  check_parse_error("a\n{{.Foo}\n", "template: :2: unexpected \"}\" in operand");
  check_parse_error("{{\"a\".x}}", "template: :1: unexpected . after term \"\\\"a\\\"\"");
  check_parse_error("{{define \"x\"}}a{{end}}{{define \"x\"}}b{{end}}",
                     "template: :1: template: multiple definition of template \"x\"");
  check_parse_error("{{if}}{{end}}", "template: :1: missing value for if");
  check_parse_error("{{range .}}{{else}}{{else}}{{end}}", "template: :1: expected end; found {{else}}");
  check_parse_error("{{\"a\\qb\"}}", "template: :1: invalid syntax");
  check_parse_error("{{.X \x01}}", "template: :1: unrecognized character in action: U+0001");
  check_parse_error("{{.X \xe2\x82\xac}}", "template: :1: unrecognized character in action: U+20AC '\xe2\x82\xac'");
  check_parse_error("{{if .X}}{{define \"a\"}}{{end}}{{end}}", "template: :1: unexpected <define> in command");
  check_parse_error("{{with .X}}{{else with}}{{end}}", "template: :1: missing value for with");
  check_parse_error("{{.X := 1}}", "template: :1: unexpected \":=\" in operand");
  check_parse_error("{{.X\n.Y", "template: :2: unclosed action started at :1");
  check_parse_error("{{a.b}}", "template: :1: function \"a\" not defined");
}

Test(template, parse_nesting_is_bounded)
{
  char src[4096] = "{{";
  struct berth_template *t = NULL;
  cleanup_error berth_error_t err = NULL;
  for (int i = 0; i < 300; i++)
    strcat(src, "(");
  strcat(src, "1");
  for (int i = 0; i < 300; i++)
    strcat(src, ")");
  strcat(src, "}}");
  cr_assert_lt(berth_template_parse(src, &t, &err), 0);
  cr_assert_str_eq(err->msg, "template: :1: max expression depth exceeded");
}

Test(template, deep_but_reasonable_nesting_works)
{
  char src[4096] = "";
  for (int i = 0; i < 50; i++)
    strcat(src, "{{with .}}");
  strcat(src, "{{.Name}}");
  for (int i = 0; i < 50; i++)
    strcat(src, "{{end}}");
  check(src, "web");
}

/* ---- docker's formatter ---- */

Test(formatter, preformat_like_docker)
{
  cleanup_free char *a = berth_template_preformat("table {{.ID}}\\t{{.Name}}");
  cleanup_free char *b = berth_template_preformat("json");
  cleanup_free char *c = berth_template_preformat("  {{.ID}}\\n  ");
  cleanup_free char *d = berth_template_preformat("tablex");
  cr_assert_str_eq(a, "{{.ID}}\t{{.Name}}");
  cr_assert_str_eq(b, "{{json .}}");
  cr_assert_str_eq(c, "{{.ID}}\n");
  cr_assert_str_eq(d, "x");
  cr_assert(berth_template_is_table("table"));
  cr_assert(berth_template_is_table("tablefoo"));
  cr_assert(!berth_template_is_table("{{.ID}}"));
  cr_assert(berth_template_is_json("json"));
  cr_assert(!berth_template_is_json("json "));
}

static json_t *image_rows(void)
{
  return json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}]", "Repository", "alpine", "Tag", "latest", "ID", "abc",
                   "Repository", "busybox-longname", "Tag", "1.36", "ID", "def");
}

static json_t *image_header(void)
{
  return json_pack("{s:s, s:s, s:s}", "Repository", "REPOSITORY", "Tag", "TAG", "ID", "IMAGE ID");
}

static char *format_rows(const char *format, const struct berth_template_opts *opts, json_t *rows, json_t *header,
                         int *ret_rc)
{
  struct berth_formatter *f = NULL;
  cleanup_error berth_error_t err = NULL;
  char *out = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&out, &len);
  int rc = berth_formatter_new(format, opts, &f, &err);
  for (size_t i = 0; rc == 0 && i < json_array_size(rows); i++)
    rc = berth_formatter_add(f, json_array_get(rows, i), &err);
  if (rc == 0)
    rc = berth_formatter_write(f, header, fp, &err);
  else
    fprintf(fp, "ERR: %s", err->msg);
  fclose(fp);
  berth_formatter_free(f);
  *ret_rc = rc;
  return out;
}

Test(formatter, table_with_headers_and_alignment)
{
  json_t *rows = image_rows(), *header = image_header();
  int rc;
  cleanup_free char *out = format_rows("table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}", NULL, rows, header, &rc);
  cr_assert_eq(rc, 0);
  cr_assert_str_eq(out, "REPOSITORY         TAG       IMAGE ID\n"
                        "alpine             latest    abc\n"
                        "busybox-longname   1.36      def\n");
  json_decref(rows);
  json_decref(header);
}

Test(formatter, table_header_keeps_titles_through_functions)
{
  json_t *rows = image_rows(), *header = image_header();
  int rc;
  cleanup_free char *out =
      format_rows("table {{upper .Repository}}\t{{json .Tag}}\t{{pad .ID 1 1}}|", NULL, rows, header, &rc);
  cr_assert_eq(rc, 0);
  cr_assert_str_eq(out, "REPOSITORY         TAG         IMAGE ID |\n"
                        "ALPINE             \"latest\"    abc |\n"
                        "BUSYBOX-LONGNAME   \"1.36\"      def |\n");
  json_decref(rows);
  json_decref(header);
}

Test(formatter, table_without_rows_prints_the_header)
{
  json_t *rows = json_array(), *header = image_header();
  int rc;
  cleanup_free char *out = format_rows("table {{.Repository}}\t{{.Tag}}", NULL, rows, header, &rc);
  cr_assert_eq(rc, 0);
  cr_assert_str_eq(out, "REPOSITORY   TAG\n");
  json_decref(rows);
  json_decref(header);
}

Test(formatter, table_without_header_map_aligns_rows_only)
{
  json_t *rows = image_rows();
  int rc;
  cleanup_free char *out = format_rows("table {{.Repository}}\t{{.Tag}}", NULL, rows, NULL, &rc);
  cr_assert_eq(rc, 0);
  cr_assert_str_eq(out, "alpine             latest\nbusybox-longname   1.36\n");
  json_decref(rows);
}

static int header_label(void *data, const char *name, json_t *receiver, json_t *const *args, size_t nargs,
                        json_t **ret, berth_error_t *err)
{
  const char *key, *dot;
  if (strcmp(name, "Label") != 0 || nargs != 1 || !json_is_string(args[0]))
    return 0;
  key = json_string_value(args[0]);
  dot = strrchr(key, '.');
  /* rows: the label's value; header: the last part of its name, as docker */
  if (json_object_get(receiver, "Repository") && strcmp(json_string_value(json_object_get(receiver, "Repository")),
                                                        "REPOSITORY") == 0)
    *ret = json_string(dot ? dot + 1 : key);
  else
    *ret = json_string("v");
  return 1;
}

Test(formatter, methods_apply_to_rows_and_header)
{
  json_t *rows = image_rows(), *header = image_header();
  struct berth_template_opts o = {.method = header_label};
  int rc;
  cleanup_free char *out = format_rows("table {{.Repository}}\t{{.Label \"com.example.tier\"}}", &o, rows, header, &rc);
  cr_assert_eq(rc, 0);
  cr_assert_str_eq(out, "REPOSITORY         tier\nalpine             v\nbusybox-longname   v\n");
  json_decref(rows);
  json_decref(header);
}

Test(formatter, plain_and_json_formats)
{
  json_t *rows = image_rows();
  int rc;
  cleanup_free char *plain = format_rows("{{.Repository}}:{{.Tag}}", NULL, rows, NULL, &rc);
  cleanup_free char *js = format_rows("json", NULL, rows, NULL, &rc);
  cr_assert_str_eq(plain, "alpine:latest\nbusybox-longname:1.36\n");
  cr_assert_str_eq(js, "{\"Repository\":\"alpine\",\"Tag\":\"latest\",\"ID\":\"abc\"}\n"
                       "{\"Repository\":\"busybox-longname\",\"Tag\":\"1.36\",\"ID\":\"def\"}\n");
  json_decref(rows);
}

Test(formatter, errors_are_template_parsing_errors)
{
  json_t *rows = image_rows();
  struct berth_template_opts ps = {.type_name = "*formatter.ImageContext"};
  int rc;
  cleanup_free char *a = format_rows("{{.Foo}", NULL, rows, NULL, &rc);
  cleanup_free char *b = format_rows("table {{.Foo}}", &ps, rows, NULL, &rc);
  cr_assert_str_eq(a, "ERR: template parsing error: template: :1: unexpected \"}\" in operand");
  cr_assert_str_eq(b, "ERR: template parsing error: template: :1:2: executing \"\" at <.Foo>: can't evaluate field "
                      "Foo in type *formatter.ImageContext");
  json_decref(rows);
}

Test(formatter, header_exec_on_title_map)
{
  struct berth_template *t = NULL;
  cleanup_error berth_error_t err = NULL;
  json_t *header = image_header();
  char *out = NULL;
  cr_assert_eq(berth_template_parse("{{.Repository}}|{{.Nope}}|{{lower .ID}}|{{truncate .Tag 1}}", &t, &err), 0);
  cr_assert_eq(berth_template_exec_header(t, header, NULL, &out, &err), 0);
  cr_assert_str_eq(out, "REPOSITORY|<no value>|IMAGE ID|TAG");
  free(out);
  berth_template_free(t);
  json_decref(header);
}

/* ---- tabwriter ---- */

static char *tab(const char *text)
{
  struct berth_table *t = berth_table_new();
  char *s;
  berth_table_puts(t, text);
  s = berth_table_flush_string(t, NULL);
  berth_table_free(t);
  return s;
}

static void check_tab(const char *text, const char *want)
{
  cleanup_free char *got = tab(text);
  cr_assert_str_eq(got, want, "input [%s]:\n got: [%s]\nwant: [%s]", text, got, want);
}

Test(table, pads_tab_terminated_cells_only)
{
  check_tab("a\tb\n", "a         b\n");
  check_tab("a\tb\t\n", "a         b         \n");
  check_tab("a\tb", "a         b");
  check_tab("\tx\n", "          x\n");
  check_tab("no tabs\n", "no tabs\n");
  check_tab("", "");
  check_tab("a\tb\t", "a         b");
}

Test(table, columns_are_blocks_of_consecutive_lines)
{
  check_tab("aaaaaaaaaaaaaaaa\tx\nno tabs here\nb\ty\n", "aaaaaaaaaaaaaaaa   x\nno tabs here\nb         y\n");
  check_tab("aaaaaaaaaaaaaaaa\tx\tz\nb\ty\n", "aaaaaaaaaaaaaaaa   x         z\nb                  y\n");
  check_tab("a\tbbbbbbbbbbbbbbbbbbbb\tc\nd\te\nf\tg\th\n",
             "a         bbbbbbbbbbbbbbbbbbbb   c\nd         e\nf         g         h\n");
  check_tab("long-cell-text\tx\fy\tz\n", "long-cell-text   x\ny         z\n");
}

Test(table, measures_terminal_columns)
{
  check_tab("\xe6\x97\xa5\xe6\x9c\xac\tx\nab\ty\n", "\xe6\x97\xa5\xe6\x9c\xac      x\nab        y\n");
  check_tab("e\xcc\x81\tx\n", "e\xcc\x81         x\n");
  check_tab("\x80\tx\n", "\x80         x\n");
  cr_assert_eq(berth_text_width("\xe6\x97\xa5\xe6\x9c\xac", 6), 4);
  cr_assert_eq(berth_text_width("caf\xc3\xa9", 5), 4);
  cr_assert_eq(berth_text_width("\xf0\x9f\x91\x8d", 4), 2);
  cr_assert_eq(berth_text_width("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9", 11), 2);
  cr_assert_eq(berth_text_width("\xf0\x9f\x87\xa9\xf0\x9f\x87\xaa", 8), 1);
}

Test(table, escaped_text_is_not_split)
{
  check_tab("a\xff\tb\xff\tc\n", "a\xff\tb\xff        c\n");
}

Test(table, rows_and_custom_settings)
{
  struct berth_table *t = berth_table_new_full(0, 1, '.');
  const char *r1[] = {"a", "bb"}, *r2[] = {"ccc", "d"};
  cleanup_free char *s = NULL;
  cleanup_error berth_error_t err = NULL;
  char *out = NULL;
  size_t len = 0;
  FILE *f;
  berth_table_add_row(t, r1, 2);
  berth_table_add_row(t, r2, 2);
  s = berth_table_flush_string(t, NULL);
  cr_assert_str_eq(s, "a...bb\nccc.d\n");
  f = open_memstream(&out, &len);
  berth_table_puts(t, "x\ty\n");
  cr_assert_eq(berth_table_flush(t, f, &err), 0);
  fclose(f);
  cr_assert_str_eq(out, "x.y\n");
  free(out);
  berth_table_free(t);
}
