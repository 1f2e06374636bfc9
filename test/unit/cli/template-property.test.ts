// Random templates, from template-shaped pieces and from arbitrary text: compiling and running
// one either gives a string or throws the typed TemplateError, and never takes long.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { compileTemplate, renderTable, TemplateError } from "../../../src/cli/template.ts";
import { recordCases } from "../../helpers/adversarial.ts";

const PIECES = [
  "{{", "}}", "{{- ", " -}}", "{{/*", "*/}}", ".", ".A", ".B", ".L", ".M", ".N", ".F", "$", "$x", "$i", ":=", "=", "|", "(", ")", ",",
  '"', "`", "'", "\\", "\\n", "\\t", " ", "\n", "-", "0", "1", "9", "999999", "0x", "1e9", "2.5", "range", "if", "else", "end", "with",
  "define", "template", "block", "break", "continue", "nil", "true", "and", "or", "not", "eq", "ne", "lt", "len", "index", "slice",
  "print", "printf", "println", "json", "join", "split", "upper", "title", "truncate", "pad", '"%d"', '"%*d"', '"%9999999s"', '"x"',
  '"t"', "html", "js", "urlquery", "call", "#", "~",
];

const data = { A: { B: "x" }, L: [1, "a", null, [2]], M: { k: "v", n: 3 }, N: null, F: 1.5, B: true, Fn: (x: unknown) => String(x) };

function check(format: string): void {
  const t0 = performance.now();
  try {
    compileTemplate(format)(data);
    renderTable(`table ${format}`, { A: "A", L: "L" }, [data]);
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    expect(e.message).not.toContain("\n");
  }
  expect(performance.now() - t0).toBeLessThan(2000);
}

test("template-shaped input: only TemplateErrors, never a hang", () => {
  const runs = 4000;
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }), (parts) => check(parts.join(""))),
    { numRuns: runs },
  );
  recordCases("template fuzz (template-shaped)", runs);
}, 120_000);

test("well-formed actions around random operands: only TemplateErrors", () => {
  const runs = 3000;
  const operand = fc.constantFrom(".A.B", ".L", ".M", ".N", "$", ".", "1", '"s"', "nil", "(len .L)", "(index .M \"k\")", ".Fn", "-1", "2000000");
  const fn = fc.constantFrom("", "len", "index", "slice", "eq", "lt", "and", "or", "not", "printf \"%v\"", "json", "join", "upper", "pad", "truncate", "call");
  const form = fc.tuple(fc.constantFrom("", "range ", "if ", "with "), fn, fc.array(operand, { maxLength: 3 }));
  fc.assert(
    fc.property(fc.array(form, { minLength: 1, maxLength: 4 }), (forms) =>
      check(forms.map(([kw, f, args]) => `{{${kw}${[f, ...args].filter(Boolean).join(" ") || "."}}}${kw ? "x{{else}}y{{end}}" : ""}`).join("|")),
    ),
    { numRuns: runs },
  );
  recordCases("template fuzz (well-formed actions)", runs);
}, 120_000);

test("arbitrary text: only TemplateErrors, never a hang", () => {
  const runs = 3000;
  fc.assert(
    fc.property(fc.string({ maxLength: 60, unit: "binary" }), (s) => check(s)),
    { numRuns: runs },
  );
  recordCases("template fuzz (arbitrary text)", runs);
}, 120_000);

test("range prints each element as the Go %v of it, in order", () => {
  const runs = 500;
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxLength: 10 }), (xs) => {
      expect(compileTemplate("{{range $i, $v := .}}{{$i}}={{$v}};{{end}}")(xs)).toBe(xs.map((v, i) => `${i}=${v};`).join(""));
    }),
    { numRuns: runs },
  );
});
