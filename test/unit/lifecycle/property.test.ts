// Text inputs of the container verbs never fail with anything but a typed error.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { compileTemplate } from "../../../src/cli/template.ts";
import { parseFilters } from "../../../src/cli/views/container-filters.ts";
import { TinydockError } from "../../../src/errors.ts";
import { matchContainer } from "../../../src/store/containers.ts";
import { parseCopyArg } from "../../../src/lifecycle/copy.ts";
import { parseProcStat } from "../../../src/lifecycle/liveness.ts";
import { parseLogLine, parseLogTime } from "../../../src/lifecycle/logs.ts";
import { parseSignal } from "../../../src/lifecycle/signals.ts";
import { recordCases } from "../../helpers/adversarial.ts";

const typedOrOk = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TinydockError);
  }
};

test("parsers throw only typed errors", () => {
  const text = fc.oneof(fc.string(), fc.stringMatching(/^[{}.a-zA-Z" =:\\-]{0,30}$/));
  fc.assert(
    fc.property(text, (s) => {
      typedOrOk(() => compileTemplate(s)({ A: { B: 1 }, C: [1, 2] }));
      typedOrOk(() => parseFilters([s]));
      typedOrOk(() => parseLogTime(s, 0));
      typedOrOk(() => parseSignal(s));
      typedOrOk(() => parseCopyArg(s));
      typedOrOk(() => matchContainer([{ id: "a".repeat(64), name: "x" }, { id: `a${"b".repeat(63)}`, name: "y" }], s));
      expect(() => parseProcStat(s)).not.toThrow();
      expect(() => parseLogLine(s)).not.toThrow();
    }),
    { numRuns: 2000 },
  );
  recordCases("property unit/lifecycle/property.test.ts: parsers throw only typed errors", 2000);
});

test("a dotted path template reads back what it names", () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,8}$/), fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,8}$/), fc.string(), (a, b, v) => {
      expect(compileTemplate(`{{.${a}.${b}}}`)({ [a]: { [b]: v } })).toBe(v);
      expect(JSON.parse(compileTemplate(`{{json .${a}}}`)({ [a]: { [b]: v } }))).toEqual({ [b]: v });
    }),
  );
  recordCases("property unit/lifecycle/property.test.ts: a dotted path template reads back what it names", 100);
});
