// Bad templates: each fails with one typed line carrying Go's text/template message.
import { describe, expect, test } from "bun:test";
import { ParseError } from "../../../src/errors.ts";
import { compileTemplate, TemplateError } from "../../../src/cli/template.ts";

const data = { S: "x", N: null, L: ["a", "b"], M: { k: "v" } };

function errorOf(f: () => unknown): TemplateError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    expect(e).toBeInstanceOf(ParseError);
    expect((e as Error).message).not.toContain("\n");
    return e as TemplateError;
  }
  throw new Error("no error");
}

describe("parse errors: Cannot parse template ...: template: :LINE: <Go's reason>", () => {
  test.each([
    ["{{.A", "template: :1: unclosed action"],
    ["a\nb\n{{.A", "template: :3: unclosed action"],
    ["{{/* x", "template: :1: unclosed comment"],
    ["{{/* x */ .A}}", "template: :1: comment ends before closing delimiter"],
    ["{{if .A}}", "template: :1: unexpected EOF"],
    ["{{range .A}}{{else}}", "template: :1: unexpected EOF"],
    ["{{end}}", "template: :1: unexpected {{end}}"],
    ["{{else}}", "template: :1: unexpected {{else}}"],
    ["{{if .A}}{{else}}{{else}}{{end}}", "template: :1: expected end; found {{else}}"],
    ["{{bogus .A}}", 'template: :1: function "bogus" not defined'],
    ["{{$x}}", 'template: :1: undefined variable "$x"'],
    ["{{if 1}}{{$x := 1}}{{end}}{{$x}}", 'template: :1: undefined variable "$x"'],
    ["{{}}", "template: :1: missing value for command"],
    ["{{if}}{{end}}", "template: :1: missing value for if"],
    ["{{break}}", "template: :1: {{break}} outside {{range}}"],
    ["{{if 1}}{{continue}}{{end}}", "template: :1: {{continue}} outside {{range}}"],
    ["{{.A | 3}}", "template: :1: non executable command in pipeline stage 2"],
    ["{{(.A}}", "template: :1: unclosed left paren"],
    ["{{.A)}}", "template: :1: unexpected right paren"],
    ['{{"abc}}', "template: :1: unterminated quoted string"],
    ["{{`abc}}", "template: :1: unterminated raw quoted string"],
    ["{{'ab}}", "template: :1: unterminated character constant"],
    ["{{.A#}}", "template: :1: bad character U+0023 '#'"],
    ["{{.A-}}", "template: :1: bad character U+002D '-'"],
    ["{{3x}}", 'template: :1: bad number syntax: "3x"'],
    ["{{.A :}}", "template: :1: expected :="],
    ["{{.A ~}}", 'template: :1: unexpected "~" in operand'],
    ["{{\x01}}", "template: :1: unrecognized character in action: U+0001"],
    ["{{range $i, $j, $k := .L}}{{end}}", "template: :1: too many declarations in range"],
    ["{{$x, $y := 1}}", "template: :1: too many declarations in command"],
    ['{{"x".A}}', 'template: :1: unexpected . after term "\\"x\\""'],
    ["{{template .A}}", 'template: :1: unexpected ".A" in template clause'],
    ["{{end 1}}", 'template: :1: unexpected "1" in end'],
    ['{{"\\q"}}', "template: :1: invalid syntax"],
    ["{{'ab'}}", "template: :1: malformed character constant: 'ab'"],
    ['{{define "a"}}x{{end}}{{define "a"}}y{{end}}', 'template: :1: template: multiple definition of template "a"'],
    ["{{if 1}}{{define \"a\"}}{{end}}{{end}}", "template: :1: unexpected <define> in command"],
  ])("%j", (format, reason) => {
    const e = errorOf(() => compileTemplate(format));
    expect(e.message).toBe(`Cannot parse template "${format.replace(/\n/g, "\\n")}": ${reason}`);
  });
});

test("nesting deeper than 1000 is refused, not a stack overflow", () => {
  const format = `{{${"(".repeat(2000)}.A${")".repeat(2000)}}}`;
  expect(errorOf(() => compileTemplate(format)).message).toEndWith("template: :1: max expression depth exceeded");
  const ifs = `${"{{if 1}}".repeat(2000)}${"{{end}}".repeat(2000)}`;
  expect(errorOf(() => compileTemplate(ifs)).message).toEndWith("template: :1: max expression depth exceeded");
});

describe("execution errors: Cannot execute template ...: template: :LINE:COL: executing \"\" at <node>: <Go's reason>", () => {
  test.each([
    ["{{.S.X}}", '1:2: executing "" at <.S.X>: can\'t evaluate field X in type interface {}'],
    ["{{with .S}}{{.X}}{{end}}", '1:13: executing "" at <.X>: can\'t evaluate field X in type string'],
    ["{{$x := 1}}{{$x.A}}", '1:13: executing "" at <$x.A>: can\'t evaluate field A in type int'],
    ["{{.N.X}}", '1:2: executing "" at <.N.X>: nil pointer evaluating interface {}.X'],
    ["{{.S 1}}", '1:2: executing "" at <.S>: S is not a method but has arguments'],
    ["{{1 2}}", '1:2: executing "" at <1>: can\'t give argument to non-function 1'],
    ["{{nil}}", '1:2: executing "" at <nil>: nil is not a command'],
    ["{{index .L 5}}", '1:2: executing "" at <index .L 5>: error calling index: index out of range: 5'],
    ["{{index .M 1}}", '1:2: executing "" at <index .M 1>: error calling index: value has type int; should be string'],
    ["{{index .N 1}}", '1:2: executing "" at <index .N 1>: error calling index: index of untyped nil'],
    ["{{join .L}}", '1:2: executing "" at <join>: wrong number of args for join: want 2 got 1'],
    ["{{eq}}", '1:2: executing "" at <eq>: wrong number of args for eq: want at least 1 got 0'],
    ["{{upper 5}}", '1:8: executing "" at <5>: expected string; found 5'],
    ["{{upper .N}}", '1:8: executing "" at <.N>: wrong type for value; expected string; got interface {}'],
    ["{{upper .Nope}}", '1:8: executing "" at <.Nope>: invalid value; expected string'],
    ["{{join .S \",\"}}", '1:7: executing "" at <.S>: wrong type for value; expected []string; got string'],
    ["{{truncate .S \"2\"}}", '1:14: executing "" at <"2">: expected integer; found "2"'],
    ['{{eq 1 "a"}}', '1:2: executing "" at <eq 1 "a">: error calling eq: incompatible types for comparison'],
    ["{{lt true false}}", '1:2: executing "" at <lt true false>: error calling lt: invalid type for comparison'],
    ["{{eq 1}}", '1:2: executing "" at <eq 1>: error calling eq: missing argument for comparison'],
    ["{{len 3}}", '1:2: executing "" at <len 3>: error calling len: len of type int'],
    ["{{slice .L 2 1}}", '1:2: executing "" at <slice .L 2 1>: error calling slice: invalid slice index: 2 > 1'],
    ["{{truncate .S -1}}", '1:2: executing "" at <truncate .S -1>: error calling truncate: runtime error: slice bounds out of range [:-1]'],
    ['{{pad "x" -1 0}}', '1:2: executing "" at <pad "x" -1 0>: error calling pad: strings: negative Repeat count'],
    ["{{range .S}}{{end}}", '1:8: executing "" at <{{range .S}}{{end}}>: range can\'t iterate over x'],
    ["{{range $i, $v := 3}}{{end}}", '1:8: executing "" at <{{range $i, $v := 3}...>: can\'t use 3 to iterate over more than one variable'],
    ['{{template "nope"}}', '1:11: executing "" at <{{template "nope"}}>: template "nope" not defined'],
    ["x\n {{.S.Y}}", '2:3: executing "" at <.S.Y>: can\'t evaluate field Y in type interface {}'],
  ])("%j", (format, reason) => {
    const e = errorOf(() => compileTemplate(format)(data));
    expect(e.message).toBe(`Cannot execute template "${format.replace(/\n/g, "\\n")}": template: :${reason}`);
  });

  test("inside a named template the error names it", () => {
    const e = errorOf(() => compileTemplate('{{define "t"}}{{.Q.R}}{{end}}{{template "t" .S}}')(data));
    expect(e.message).toContain('template: t:1:16: executing "t" at <.Q.R>: can\'t evaluate field Q in type string');
  });

  test("what was written before the error is kept for callers that print partial output", () => {
    expect(errorOf(() => compileTemplate("ab{{.S.X}}")(data)).partial).toBe("ab");
  });

  test("missingkey=error, as Docker's inspect falls back to", () => {
    const e = errorOf(() => compileTemplate("{{.Nope}}", { missingKeyError: true })(data));
    expect(e.message).toEndWith('executing "" at <.Nope>: map has no entry for key "Nope"');
  });
});

describe("bounded execution: no input hangs or exhausts memory", () => {
  test.each([
    ["{{range 2000000}}{{end}}", "execution exceeds 1000000 steps"],
    ["{{range 1000}}{{range 1000}}{{range 1000}}{{end}}{{end}}{{end}}", "execution exceeds 1000000 steps"],
    ['{{define "r"}}{{template "r"}}{{end}}{{template "r"}}', "exceeded maximum template depth (200)"],
    ['{{pad "x" 100000000 0}}', "error calling pad: result longer than 16777216 bytes"],
    ['{{range 100}}{{printf "%9999999d" 1}}{{end}}', "output exceeds 16777216 bytes"],
  ])("%s", (format, reason) => {
    const t0 = performance.now();
    expect(errorOf(() => compileTemplate(format)(data)).message).toContain(reason);
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});
