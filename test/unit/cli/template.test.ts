// Go's text/template as Docker's --format uses it: each row is a template, its data and the
// output Go gives (derived from the text/template documentation and exec.go/funcs.go).
import { describe, expect, test } from "bun:test";
import { compileTemplate, goString } from "../../../src/cli/template.ts";

const data = {
  A: { B: "x", C: { D: 4 } },
  L: ["a", "b", "c"],
  N3: [1, 2, 3],
  M: { b: 2, a: 1 },
  S: "hello world",
  Nil: null,
  Empty: "",
  Zero: 0,
  T: true,
  F: 1.5,
  Labels: { "com.x": "y" },
  Greet: (who: unknown) => `hi ${String(who)}`,
  Now: () => "noon",
};

const run = (format: string, d: unknown = data) => compileTemplate(format)(d);

describe("text, fields, printing", () => {
  test.each([
    ["plain text", "plain text"],
    ["{{.A.B}}", "x"],
    ["{{.A.C.D}}", "4"],
    ["{{ .A.B }}", "x"],
    ["{{.}}", goString(data)],
    ["{{.L}}", "[a b c]"],
    ["{{.M}}", "map[a:1 b:2]"],
    ["{{.Nil}}", "<nil>"],
    ["{{.Missing}}", "<no value>"],
    ["{{.Missing.Deeper}}", "<no value>"],
    ["{{.F}}", "1.5"],
    ["{{.T}}", "true"],
    ["{{$}}", goString(data)],
    ["{{$.A.B}}", "x"],
    ["{{(.A).B}}", "x"],
    ["{{(index .A \"C\").D}}", "4"],
    ["a\\tb\\nc", "a\tb\nc"],
    ["{{.Now}}", "noon"],
    ['{{.Greet "you"}}', "hi you"],
    ['{{"you" | .Greet}}', "hi you"],
  ])("%s", (format, want) => expect(run(format)).toBe(want));
});

describe("literals", () => {
  test.each([
    ['{{"a\\tb"}}', "a\tb"],
    ['{{"\\u00e9\\x41\\101"}}', "éAA"],
    ["{{`raw\\x`}}", "raw\\x"],
    ["{{'a'}}", "97"],
    ["{{'\\x41'}}", "65"],
    ["{{42}}", "42"],
    ["{{-7}}", "-7"],
    ["{{0x1F}}", "31"],
    ["{{0o17}} {{017}} {{0b101}}", "15 15 5"],
    ["{{1_000}}", "1000"],
    ["{{1.5}}", "1.5"],
    ["{{1e3}}", "1000"],
    ["{{.5}}", "0.5"],
    ["{{true}} {{false}}", "true false"],
    ["{{print nil}}", "<nil>"],
  ])("%s", (format, want) => expect(run(format)).toBe(want));
});

describe("trim markers and comments", () => {
  test.each([
    ["a  {{- .A.B -}}  b", "axb"],
    ["a \n\t{{- .A.B}} b", "ax b"],
    ["a {{.A.B -}} \n b", "a xb"],
    ["{{-3}}", "-3"],
    ["{{3 -}} x", "3x"],
    ["a{{/* a comment */}}b", "ab"],
    ["a {{- /* trimmed */ -}} b", "ab"],
    ["a{{/* multi\nline */}}b", "ab"],
    ["{{.A.B\n}}", "x"],
  ])("%j", (format, want) => expect(run(format)).toBe(want));
});

describe("control structures", () => {
  test.each([
    ["{{if .T}}yes{{end}}", "yes"],
    ["{{if .Empty}}yes{{else}}no{{end}}", "no"],
    ["{{if .Zero}}a{{else if .Nil}}b{{else if .L}}c{{else}}d{{end}}", "c"],
    ["{{if .Missing}}a{{else}}b{{end}}", "b"],
    ["{{if .M}}map{{end}}", "map"],
    ["{{with .A}}{{.B}}{{end}}", "x"],
    ["{{with .Nil}}a{{else}}b{{end}}", "b"],
    ["{{with .Nil}}a{{else with .A.C}}{{.D}}{{end}}", "4"],
    ["{{range .L}}{{.}},{{end}}", "a,b,c,"],
    ["{{range $i, $v := .L}}{{$i}}={{$v}} {{end}}", "0=a 1=b 2=c "],
    ["{{range $v := .L}}{{$v}}{{end}}", "abc"],
    ["{{range $k, $v := .M}}{{$k}}:{{$v}} {{end}}", "a:1 b:2 "],
    ["{{range .M}}{{.}}{{end}}", "12"],
    ["{{range .Nil}}x{{else}}empty{{end}}", "empty"],
    ["{{range .Missing}}x{{else}}empty{{end}}", "empty"],
    ["{{range .Labels}}{{.}}{{end}}", "y"],
    ["{{range 3}}{{.}}{{end}}", "012"],
    ["{{range .N3}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}", "13"],
    ["{{range .N3}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}}", "1"],
    ["{{range .L}}{{range $.N3}}{{.}}{{end}}{{end}}", "123123123"],
    ["{{$x := 1}}{{if .T}}{{$x = 2}}{{end}}{{$x}}", "2"],
    ["{{$x := .A.B}}{{$x}}{{$x := 5}}{{$x}}", "x5"],
    ["{{range $i, $v := .L}}{{end}}{{$}}", goString(data)],
    ['{{define "T"}}[{{.}}]{{end}}{{template "T" .A.B}}{{template "T"}}', "[x][<no value>]"],
    ['{{block "B" .S}}<{{.}}>{{end}}', "<hello world>"],
  ])("%s", (format, want) => expect(run(format)).toBe(want));
});

describe("pipelines and builtins", () => {
  test.each([
    ["{{.A.B | printf \"%s!\"}}", "x!"],
    ['{{"a" | printf "%s%s" "b"}}', "ba"],
    ["{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" 3}} {{or 0 \"\"}}", "0 2 3 "],
    ["{{and .Nil .Missing.X}}", "<nil>"],
    ["{{or .T .Nil.X}}", "true"],
    ["{{not 0}} {{not .L}}", "true false"],
    ["{{len .L}} {{len .M}} {{len \"héllo\"}}", "3 2 6"],
    ['{{index .L 1}} {{index .M "b"}} {{index .A "C" "D"}} {{index "abc" 0}}', "b 2 4 97"],
    ['{{index .Labels "nope"}}|{{index .M "nope"}}', "|<nil>"],
    ["{{slice .L 1}} {{slice .L 1 2}} {{slice .S 0 5}} {{slice .L}}", "[b c] [b] hello [a b c]"],
    ['{{eq .A.B "x"}} {{eq 1 2 3 1}} {{eq .Nil nil}} {{eq "a" nil}}', "true true true false"],
    ["{{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1 2}}", "true true true true false"],
    ['{{print "a" "b" 1 2 "c" 3}}', "ab1 2c3"],
    ["{{println 1 \"a\"}}", "1 a\n"],
    ['{{html "<a href=\'x\'>&"}}', "&lt;a href=&#39;x&#39;&gt;&amp;"],
    ['{{js "it\'s <b>"}}', "it\\'s \\u003Cb\\u003E"],
    ['{{urlquery "a b&c=d/é"}}', "a+b%26c%3Dd%2F%C3%A9"],
  ])("%s", (format, want) => expect(run(format)).toBe(want));
});

describe("Docker's functions", () => {
  test.each([
    ["{{json .A}}", '{"B":"x","C":{"D":4}}'],
    ["{{json .L}}", '["a","b","c"]'],
    ["{{json .Missing}}", "null"],
    ['{{json "<&>"}}', '"<&>"'],
    ['{{join .L ", "}}', "a, b, c"],
    ['{{split "a,b,c" ","}}', "[a b c]"],
    ['{{join (split .S " ") "+"}}', "hello+world"],
    ["{{lower \"ABC\"}} {{upper .S}}", "abc HELLO WORLD"],
    ['{{title "hello wide-world x_y"}}', "Hello Wide-World X_y"],
    ['{{truncate .S 5}}|{{truncate "ab" 5}}', "hello|ab"],
    ['[{{pad "x" 2 1}}][{{pad "" 2 1}}]', "[  x ][]"],
  ])("%s", (format, want) => expect(run(format)).toBe(want));
});

describe("printf", () => {
  test.each([
    ['{{printf "%s|%v|%d" "a" .L 42}}', "a|[a b c]|42"],
    ['{{printf "%q" "a\\"b\\x00é"}}', '"a\\"b\\x00é"'],
    ['{{printf "%x %X %o %b %c %U" 255 255 8 5 65 65}}', "ff FF 10 101 A U+0041"],
    ['{{printf "%#x %+d % d" 255 5 5}}', "0xff +5  5"],
    ['{{printf "%t %v" true false}}', "true false"],
    ['{{printf "%5.2f|%-10s|%10s|%05d" 3.14159 "ab" "cd" 42}}', " 3.14|ab        |        cd|00042"],
    ['{{printf "%.3s|%8.3f|%e|%g" "abcdef" 2.5 1234.5678 0.000012}}', "abc|   2.500|1.234568e+03|1.2e-05"],
    ['{{printf "%f" 1.0}}', "1.000000"],
    ['{{printf "%x" "hi"}}', "6869"],
    ['{{printf "%*d" 4 7}}', "   7"],
    ['{{printf "%d%%" 50}}', "50%"],
    ['{{printf "%d" "a"}}', "%!d(string=a)"],
    ['{{printf "%s" 5}}', "%!s(int=5)"],
    ['{{printf "%d %d" 1}}', "1 %!d(MISSING)"],
    ['{{printf "%d" 1 2}}', "1%!(EXTRA int=2)"],
    ['{{printf "%v %s" nil nil}}', "<nil> %!s(<nil>)"],
    ['{{printf "%T %T %T" 1 "a" .L}}', "int string []interface {}"],
    ['{{printf "%s" .L}}', "[a b c]"],
    ['{{printf "%q" .L}}', '["a" "b" "c"]'],
    ['{{printf "%v" 1234567.5}}', "1.2345675e+06"],
    ['{{printf "%*d" 9999999 1}}', "%!(BADWIDTH)1"],
    ['{{printf "%99999999d" 1}}', "%!(NOVERB)%!(EXTRA int=1)"],
    ['{{printf "%"}}', "%!(NOVERB)"],
  ])("%s", (format, want) => expect(run(format)).toBe(want));
});

describe("goString (Go's %v)", () => {
  test.each<[unknown, string]>([
    [undefined, "<no value>"],
    [null, "<nil>"],
    ["s", "s"],
    [3, "3"],
    [0.25, "0.25"],
    [1e-7, "1e-07"],
    [[1, "a", true, { b: 2 }], "[1 a true map[b:2]]"],
    [{ z: [], a: null }, "map[a:<nil> z:[]]"],
  ])("%p", (v, want) => expect(goString(v)).toBe(want));
});

test("a compiled template is reused: the same format renders 100 rows in well under a millisecond each", () => {
  const rows = Array.from({ length: 100 }, (_, i) => ({ ID: `id${i}`, Names: `n${i}`, State: "running" }));
  const t0 = performance.now();
  for (let k = 0; k < 10; k++) {
    const tpl = compileTemplate("{{.ID}}\\t{{.Names}}\\t{{.State}}");
    for (const r of rows) tpl(r);
  }
  expect((performance.now() - t0) / 10).toBeLessThan(30);
});
