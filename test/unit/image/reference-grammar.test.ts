// The reference grammar (domain, repository path, tag) has one home, src/image/reference.ts; the
// registry checks what it connects to and asks for with its exports. The copies they replaced are
// kept here as oracles: the exports accept exactly what the copies accepted.
import { expect, test } from "bun:test";
import fc from "fast-check";
import fs from "node:fs";
import path from "node:path";
import { isRegistryHost, isRepositoryPath, isTag } from "../../../src/image/reference.ts";

const SRC = path.join(import.meta.dir, "..", "..", "..", "src");
const HOME = "image/reference.ts";

/** Fragments only the grammar's patterns contain: a domain component, a path separator, a tag. */
const FRAGMENTS = ["[a-zA-Z0-9-]*[a-zA-Z0-9]", "(?:[._]|__|-+)", "[\\w][\\w.-]"];

test("the reference grammar's patterns appear in src/image/reference.ts only", () => {
  const found: string[] = [];
  const files = [...new Bun.Glob("**/*.ts").scanSync(SRC)];
  expect(files).toContain(HOME);
  for (const rel of files) {
    if (rel === HOME) continue;
    const text = fs.readFileSync(path.join(SRC, rel), "utf8");
    for (const f of FRAGMENTS) if (text.includes(f)) found.push(`${rel}: ${f}`);
  }
  expect(found).toEqual([]);
  const home = fs.readFileSync(path.join(SRC, HOME), "utf8");
  for (const f of FRAGMENTS) expect(home).toContain(f);
});

// The copies as they stood in registry/endpoints.ts and registry/client.ts.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const OLD_REGISTRY_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:.]+\\])(?::[0-9]{1,5})?$`);
const OLD_TAG_RE = /^[\w][\w.-]{0,127}$/;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const OLD_REPOSITORY_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const oldRepository = (s: string) => OLD_REPOSITORY_RE.test(s) && s.length <= 255;

/** Strings over the grammar's own alphabet, so both answers come up often. */
const over = (chars: string, maxLength: number) => fc.array(fc.constantFrom(...chars.split("")), { maxLength }).map((a) => a.join(""));

const cases: [string, (s: string) => boolean, (s: string) => boolean, fc.Arbitrary<string>, string[]][] = [
  ["isRegistryHost", isRegistryHost, (s) => OLD_REGISTRY_RE.test(s), over("ab9-.:[]f0Z", 24), ["[::ffff:10.0.0.5]:5000", "a:123456", "[::1]", "reg.lan:5000", "-a", "a..b"]],
  ["isTag", isTag, (s) => OLD_TAG_RE.test(s), fc.oneof(over("a_9.-Z:", 12), over("ab", 140)), ["latest", "_x", ".x", "-x", "a".repeat(128), "a".repeat(129)]],
  ["isRepositoryPath", isRepositoryPath, oldRepository, fc.oneof(over("ab9._-/A", 20), over("a/", 300)), ["library/busybox", "a__b/c--d", "a___b", "a/", "/a", "a".repeat(255), "a".repeat(256)]],
];

for (const [name, now, before, arb, examples] of cases) {
  test(`${name} accepts exactly what the copy it replaced accepted`, () => {
    for (const s of examples) expect([s, now(s)]).toEqual([s, before(s)]);
    fc.assert(fc.property(arb, (s) => now(s) === before(s)), { numRuns: 3000 });
  });
}
