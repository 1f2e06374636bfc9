// What the fuzz-*.test.ts files share: inputs built from the tokens each grammar is made of (so
// the parser gets past its first check) mixed with plain random text, and the one property every
// parser of user or registry input must have: it returns, or throws one of src/errors.ts's kinds
// (never a TypeError, RangeError or SyntaxError from inside), and it does so promptly.
import fc from "fast-check";
import { TinydockError } from "../../src/errors.ts";
import { recordCases } from "./adversarial.ts";

/** The seed of every property: a failure replays with the same inputs (fast-check prints the path). */
export const SEED = 20261207;

/** One call may take this long; a parser slower than that on a short input is a hang in waiting. */
export const SLOW_MS = 1000;

/** Strings of up to `maxLength` tokens from `alphabet`, or plain random text (1 in 4). */
export function tokens(alphabet: readonly string[], maxLength = 12): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.array(fc.constantFrom(...alphabet), { maxLength }).map((a) => a.join("")) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  );
}

/** Text that humans and registries put in numbers: edges of every integer width, floats, junk. */
export const NUMBERS = [
  "0", "1", "7", "9", "10", "-1", "-0", "+1", "00", "08", "0x10", "1e3", "1e400", "1.5", ".5", "5.", "NaN",
  "Infinity", "65535", "65536", "2147483647", "2147483648", "4294967295", "4294967296",
  "9007199254740991", "9007199254740993", "18446744073709551615", "99999999999999999999999999",
];

/** Characters that end up where they should not: separators, quotes, controls, non-ASCII. */
export const JUNK = [" ", "\t", "\n", "\0", '"', "'", "\\", "%", "é", "\u{1F600}", "\uD800", "=", ",", ":", "/", "@", ";"];

/** `fn` returns or throws a typed error, within SLOW_MS; the thrown value is returned for checks. */
export function typedOrNothing(input: unknown, fn: () => unknown): unknown {
  const t0 = performance.now();
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  check(input, thrown, performance.now() - t0);
  return thrown;
}

export async function typedOrNothingAsync(input: unknown, fn: () => Promise<unknown>): Promise<unknown> {
  const t0 = performance.now();
  let thrown: unknown;
  try {
    await fn();
  } catch (err) {
    thrown = err;
  }
  check(input, thrown, performance.now() - t0);
  return thrown;
}

function check(input: unknown, thrown: unknown, ms: number): void {
  if (thrown !== undefined && !(thrown instanceof TinydockError)) {
    const e = thrown as Error;
    throw new Error(`untyped ${e?.name ?? typeof thrown} for ${JSON.stringify(input)}: ${e?.message ?? String(thrown)}`);
  }
  if (ms > SLOW_MS) throw new Error(`took ${Math.round(ms)} ms for ${JSON.stringify(input).slice(0, 200)}`);
}

/** Runs `property` over `numRuns` inputs from `arb` with the fixed seed, and counts them. */
export function fuzz<T>(what: string, arb: fc.Arbitrary<T>, numRuns: number, property: (input: T) => void): void {
  fc.assert(fc.property(arb, property), { numRuns, seed: SEED });
  recordCases(`fuzz ${what}`, numRuns);
}

export async function fuzzAsync<T>(what: string, arb: fc.Arbitrary<T>, numRuns: number, property: (input: T) => Promise<void>): Promise<void> {
  await fc.assert(fc.asyncProperty(arb, property), { numRuns, seed: SEED });
  recordCases(`fuzz ${what}`, numRuns);
}

