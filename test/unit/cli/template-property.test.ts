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
  // A hang is the failure looked for; a template that meets the 1e6-step limit twice (run and
  // table) takes ~1 s each on a loaded 2-core host, so 2 s was a flake, not a finding.
  expect(performance.now() - t0).toBeLessThan(10_000);
}

/** check() on `runs` formats from `formats`, counted as hostile cases of `what`. */
function fuzz(what: string, formats: fc.Arbitrary<string>, runs: number): void {
  fc.assert(fc.property(formats, check), { numRuns: runs });
  recordCases(`template fuzz (${what})`, runs);
}

test("template-shaped input: only TemplateErrors, never a hang", () => {
  fuzz("template-shaped", fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((parts) => parts.join("")), 4000);
}, 120_000);

test("well-formed actions around random operands: only TemplateErrors", () => {
  const operand = fc.constantFrom(".A.B", ".L", ".M", ".N", "$", ".", "1", '"s"', "nil", "(len .L)", "(index .M \"k\")", ".Fn", "-1", "2000000");
  const fn = fc.constantFrom("", "len", "index", "slice", "eq", "lt", "and", "or", "not", "printf \"%v\"", "json", "join", "upper", "pad", "truncate", "call");
  const form = fc.tuple(fc.constantFrom("", "range ", "if ", "with "), fn, fc.array(operand, { maxLength: 3 }));
  const formats = fc
    .array(form, { minLength: 1, maxLength: 4 })
    .map((forms) => forms.map(([kw, f, args]) => `{{${kw}${[f, ...args].filter(Boolean).join(" ") || "."}}}${kw ? "x{{else}}y{{end}}" : ""}`).join("|"));
  fuzz("well-formed actions", formats, 3000);
}, 120_000);

test("arbitrary text: only TemplateErrors, never a hang", () => {
  fuzz("arbitrary text", fc.string({ maxLength: 60, unit: "binary" }), 3000);
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
