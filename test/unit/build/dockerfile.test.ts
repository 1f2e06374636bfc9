import { describe, expect, test } from "bun:test";
import { joinLines, parseDockerfile, parseJsonForm, rawPairs, splitRaw } from "../../../src/build/dockerfile.ts";

describe("parseDockerfile", () => {
  test("stages, names, platform, meta ARGs, flags and the exec form", () => {
    const df = parseDockerfile(
      [
        "# syntax=docker/dockerfile:1",
        "ARG BASE=busybox",
        "FROM --platform=linux/amd64 ${BASE} AS Build",
        "COPY --from=0 --chown=1:2 [\"a b\", \"/c\"]",
        "FROM scratch",
        "COPY --from=build /x /y",
        'CMD ["a", "b"]',
        "CMD echo hi",
      ].join("\n"),
      "Dockerfile",
    );
    expect(df.syntax).toBe("docker/dockerfile:1");
    expect(df.metaArgs.map((i) => i.args)).toEqual(["BASE=busybox"]);
    expect(df.stages.map((s) => [s.name, s.from, s.platform])).toEqual([
      ["build", "${BASE}", "linux/amd64"],
      [undefined, "scratch", undefined],
    ]);
    const copy = df.stages[0]!.instructions[0]!;
    expect(copy.flags).toEqual({ from: "0", chown: "1:2" });
    expect(copy.json).toEqual(["a b", "/c"]);
    expect(df.stages[1]!.instructions[1]!.json).toEqual(["a", "b"]);
    expect(df.stages[1]!.instructions[2]!.json).toBeUndefined();
  });

  test("continuations: comment and blank lines inside are dropped, the escape directive is honoured", () => {
    const df = parseDockerfile("FROM scratch\nRUN echo a \\\n  # a comment\n\n  b && \\\n  echo c\nENV X=1\n", "D");
    expect(df.stages[0]!.instructions.map((i) => [i.keyword, i.args, i.line])).toEqual([
      ["RUN", "echo a   b &&   echo c", 2],
      ["ENV", "X=1", 7],
    ]);
    const bt = parseDockerfile("# escape=`\nFROM scratch\nRUN echo a `\n  b c:\\path\n", "D");
    expect(bt.escape).toBe("`");
    expect(bt.stages[0]!.instructions[0]!.args).toBe("echo a   b c:\\path");
  });

  const bad: [string, string][] = [
    ["FROM scratch\nBOGUS x\n", 'Cannot parse Dockerfile "D" line 2: unknown instruction: BOGUS'],
    ["RUN true\n", 'Cannot parse Dockerfile "D" line 1: no build stage in current context: RUN before FROM'],
    ["# nothing\n", 'Cannot parse Dockerfile "D": no FROM instruction'],
    ["FROM a b\n", "line 1: FROM requires either one or three arguments"],
    ["FROM a AS x\nFROM b AS x\n", 'line 2: duplicate stage name "x"'],
    ["FROM scratch\nCOPY --bogus=1 a b\n", "line 2: unknown flag: --bogus"],
    ["FROM scratch\nRUN --mount=type=cache true\n", "line 2: unknown flag: --mount"],
    ["FROM scratch\nWORKDIR\n", "line 2: WORKDIR requires at least one argument"],
    ["FROM a AS 1x\n", "invalid name for build stage"],
  ];
  for (const [text, want] of bad) test(`refuses ${JSON.stringify(text)}`, () => expect(() => parseDockerfile(text, "D")).toThrow(want));
});

test("joinLines keeps the text after a continuation as written", () => {
  expect(joinLines(["RUN a \\", "b"], 0, 1, "\\")).toBe("a b");
  expect(joinLines(["  run  x"], 0, 0, "\\")).toBe("x");
});

test("parseJsonForm: a JSON array of strings, anything else is the shell form", () => {
  expect(parseJsonForm('["a","b"]')).toEqual(["a", "b"]);
  expect(parseJsonForm("[a, b]")).toBeUndefined();
  expect(parseJsonForm("[1]")).toBeUndefined();
  expect(parseJsonForm("echo [x]")).toBeUndefined();
});

test("splitRaw keeps quotes; rawPairs reads K=V lists and the legacy form", () => {
  expect(splitRaw('A="x y" B=\'z\' C=a\\ b')).toEqual(['A="x y"', "B='z'", "C=a\\ b"]);
  const fail = (r: string): never => {
    throw new Error(r);
  };
  expect(rawPairs("ENV", 'A="x y" B=2', "\\", fail)).toEqual([["A", '"x y"'], ["B", "2"]]);
  expect(rawPairs("ENV", "A value with  spaces", "\\", fail)).toEqual([["A", "value with  spaces"]]);
  expect(rawPairs("ARG", "NAME", "\\", fail)).toEqual([["NAME", undefined]]);
  expect(() => rawPairs("ENV", "=x", "\\", fail)).toThrow("names can not be blank");
});
