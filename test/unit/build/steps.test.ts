// Instruction → step and the config a build assembles (Docker's inheritance and CMD/ENTRYPOINT rules).
import { describe, expect, test } from "bun:test";
import { assembleImageConfig, createdTime, exposedPorts, parseDuration, type BuildConfig } from "../../../src/build/config.ts";
import { stepKey } from "../../../src/build/cachekey.ts";
import { applyChanges } from "../../../src/build/commit.ts";
import { parseDockerfile } from "../../../src/build/dockerfile.ts";
import { planStep, type StageScope, type Step } from "../../../src/build/steps.ts";

function scope(config: BuildConfig = {}, over: Partial<StageScope> = {}): StageScope {
  return { config, args: new Map(), buildArgs: {}, metaArgs: new Map(), escape: "\\", cmdSet: false, source: "D", ...over };
}

function step(line: string, s: StageScope = scope()): Step {
  return planStep(parseDockerfile(`FROM scratch\n${line}\n`, "D").stages[0]!.instructions[0]!, s);
}

function config(line: string, s: StageScope = scope()): BuildConfig {
  const st = step(line, s);
  if (st.kind !== "meta" && st.kind !== "workdir") throw new Error(`not metadata: ${st.kind}`);
  return st.config;
}

describe("metadata steps", () => {
  test("ENV replaces in place, appends new names, expands with ENV over ARG", () => {
    const s = scope({ Env: ["PATH=/bin", "A=1"] }, { args: new Map([["V", "arg"], ["A", "shadowed"]]) });
    expect(config('ENV A=2 B="$V x" C=$A', s).Env).toEqual(["PATH=/bin", "A=2", "B=arg x", "C=1"]);
    expect(config("ENV L legacy value", s).Env).toEqual(["PATH=/bin", "A=1", "L=legacy value"]);
  });
  test("LABEL merges with the base's; EXPOSE normalises and expands ranges; VOLUME both forms", () => {
    expect(config('LABEL a=1 "b c"=2', scope({ Labels: { base: "x" } })).Labels).toEqual({ base: "x", a: "1", "b c": "2" });
    expect(Object.keys(config("EXPOSE 80 53/udp 8000-8001", scope({ ExposedPorts: { "22/tcp": {} } })).ExposedPorts!)).toEqual(["22/tcp", "80/tcp", "53/udp", "8000/tcp", "8001/tcp"]);
    expect(config('VOLUME ["/a", "/b"]').Volumes).toEqual({ "/a": {}, "/b": {} });
    expect(config("VOLUME /c /d").Volumes).toEqual({ "/c": {}, "/d": {} });
  });
  test("WORKDIR is relative to the previous one and expands variables", () => {
    expect(config("WORKDIR app", scope({ WorkingDir: "/srv" })).WorkingDir).toBe("/srv/app");
    expect(config("WORKDIR $D/x", scope({ Env: ["D=/opt"] })).WorkingDir).toBe("/opt/x");
  });
  test("ENTRYPOINT resets an inherited CMD but keeps one set in the stage", () => {
    const base = { Cmd: ["base-cmd"] };
    expect(config('ENTRYPOINT ["/e"]', scope(base)).Cmd).toBeNull();
    expect(config('ENTRYPOINT ["/e"]', scope(base, { cmdSet: true })).Cmd).toEqual(["base-cmd"]);
    expect(config("ENTRYPOINT /e -x", scope(base)).Entrypoint).toEqual(["/bin/sh", "-c", "/e -x"]);
  });
  test("CMD shell form uses SHELL", () => {
    expect(config("CMD echo hi", scope({ Shell: ["/bin/bash", "-ec"] })).Cmd).toEqual(["/bin/bash", "-ec", "echo hi"]);
    expect(config('SHELL ["/bin/ash", "-c"]').Shell).toEqual(["/bin/ash", "-c"]);
    expect(() => step("SHELL /bin/ash")).toThrow("SHELL requires the arguments to be in JSON form");
  });
  test("HEALTHCHECK, STOPSIGNAL, USER, ONBUILD", () => {
    expect(config("HEALTHCHECK --interval=30s --retries=3 CMD wget -q localhost").Healthcheck).toEqual({ Test: ["CMD-SHELL", "wget -q localhost"], Interval: 30e9, Retries: 3 });
    expect(config('HEALTHCHECK CMD ["true"]').Healthcheck).toEqual({ Test: ["CMD", "true"] });
    expect(config("HEALTHCHECK NONE").Healthcheck).toEqual({ Test: ["NONE"] });
    expect(config("STOPSIGNAL SIGQUIT").StopSignal).toBe("SIGQUIT");
    expect(config("USER ${U:-nobody}").User).toBe("nobody");
    expect(config("ONBUILD RUN make", scope({ OnBuild: ["COPY . /src"] })).OnBuild).toEqual(["COPY . /src", "RUN make"]);
    expect(() => step("ONBUILD ONBUILD RUN x")).toThrow("Chaining ONBUILD");
  });
});

describe("filesystem steps", () => {
  test("RUN: shell form through the default shell, exec form as is, ARGs in the env and history", () => {
    const s = scope({ Env: ["PATH=/bin"], User: "1000", WorkingDir: "/w" }, { args: new Map([["V", "1"], ["NOVAL", undefined]]) });
    const r = step("RUN echo $V", s);
    expect(r).toEqual({ kind: "run", createdBy: "RUN |1 V=1 /bin/sh -c echo $V # buildkit", argv: ["/bin/sh", "-c", "echo $V"], env: ["PATH=/bin", "V=1"], user: "1000", workdir: "/w", args: [["V", "1"]] });
    const e = step('RUN ["/bin/true", "x"]');
    expect(e.kind === "run" && e.argv).toEqual(["/bin/true", "x"]);
  });
  test("COPY/ADD: sources, destination, flags", () => {
    const c = step("COPY --chown=app:app --chmod=0755 a* b/ ${D:-/dst}/", scope({ WorkingDir: "/w" }));
    expect(c.kind === "copy" && c.copy).toEqual({ add: false, sources: ["a*", "b/"], dest: "/dst/", chown: "app:app", chmod: 0o755, workdir: "/w" });
    expect(() => step("COPY onlyone")).toThrow("COPY requires at least two arguments");
    expect(() => step("COPY --chmod=u+x a b")).toThrow("only octal modes");
    expect(() => step("ADD --checksum=md5:x a b")).toThrow("invalid checksum");
  });
  test("ARG: --build-arg over the default over the meta ARG", () => {
    const s = scope({}, { buildArgs: { A: "cli" }, metaArgs: new Map([["B", "meta"]]) });
    expect(step("ARG A=dflt", s)).toMatchObject({ kind: "arg", name: "A", value: "cli" });
    expect(step("ARG B", s)).toMatchObject({ kind: "arg", name: "B", value: "meta" });
    expect(step("ARG C=${B:-x}", s)).toMatchObject({ kind: "arg", name: "C", value: "x" });
  });
});

test("exposedPorts and parseDuration refuse what Docker refuses", () => {
  expect(() => exposedPorts(["80/xyz"])).toThrow("invalid containerPort");
  expect(() => exposedPorts(["0"])).toThrow();
  expect(parseDuration("1m30s", "interval")).toBe(90e9);
  expect(parseDuration("500ms", "timeout")).toBe(5e8);
  expect(() => parseDuration("5", "interval")).toThrow("invalid duration");
});

test("assembleImageConfig: Docker's fields, empty ones left out, the platform and history kept", () => {
  const c = assembleImageConfig({
    platform: { os: "linux", architecture: "arm64", variant: "v8" },
    config: { Env: ["A=1"], Cmd: null, Labels: {}, WorkingDir: "/w", ExposedPorts: { "80/tcp": {} } },
    diffIds: ["sha256:aa"],
    history: [{ created_by: "x" }],
    created: "2020-01-01T00:00:00Z",
  });
  expect(c).toEqual({
    architecture: "arm64",
    os: "linux",
    variant: "v8",
    created: "2020-01-01T00:00:00Z",
    config: { ExposedPorts: { "80/tcp": {} }, Env: ["A=1"], WorkingDir: "/w" },
    rootfs: { type: "layers", diff_ids: ["sha256:aa"] },
    history: [{ created_by: "x" }],
  });
  expect(createdTime(0, "1700000000")).toBe("2023-11-14T22:13:20Z");
});

test("cache keys chain: any change to parent, instruction or content changes the key", () => {
  const k = stepKey("sha256:p", "COPY a b", { content: "1" });
  expect(stepKey("sha256:p", "COPY a b", { content: "1" })).toBe(k);
  expect(new Set([k, stepKey("sha256:q", "COPY a b", { content: "1" }), stepKey("sha256:p", "COPY a c", { content: "1" }), stepKey("sha256:p", "COPY a b", { content: "2" }), stepKey("sha256:p", "COPY a b")]).size).toBe(5);
});

test("commit --change: the metadata instructions only", () => {
  const c = applyChanges({ Cmd: ["old"], Env: ["PATH=/bin"] }, ['CMD ["new"]', "ENV A=1", "EXPOSE 80", "LABEL x=y", "WORKDIR /w", "USER u"]);
  expect(c).toEqual({ Cmd: ["new"], Env: ["PATH=/bin", "A=1"], ExposedPorts: { "80/tcp": {} }, Labels: { x: "y" }, WorkingDir: "/w", User: "u" });
  expect(() => applyChanges({}, ["RUN true"])).toThrow("RUN is not a valid change command");
});

describe("here-documents", () => {
  const steps = (text: string) => parseDockerfile(`FROM scratch\n${text}\n`, "D").stages[0]!.instructions.map((i) => planStep(i, scope({ Env: ["WHO=w"] })));
  test("RUN <<EOF: the document through the shell; with #! a script under /dev/pipes; with a command, the documents follow it", () => {
    const [run, script, cmd, after] = steps("RUN <<EOF\necho $WHO\n  # kept\nEOF\nRUN <<-X\n\t#!/bin/sh\n\techo\n\tX\nRUN cat <<A > /f\na $WHO\nA\nENV N=1");
    expect(run).toMatchObject({ kind: "run", argv: ["/bin/sh", "-c", "echo $WHO\n  # kept\n"] });
    expect(script).toMatchObject({ kind: "run", argv: ["/dev/pipes/X"], script: { name: "X", content: "#!/bin/sh\necho\n" } });
    expect(cmd).toMatchObject({ kind: "run", argv: ["/bin/sh", "-c", "cat <<A > /f\na $WHO\nA"] });
    expect(after).toMatchObject({ kind: "meta" });
  });
  test("COPY <<EOF: a file of the document, variables expanded unless the name is quoted, quotes and escapes kept", () => {
    const [copy] = steps("COPY <<A <<'B' /d/\n$WHO 'q' \\$x\nA\n$WHO\nB");
    expect(copy).toMatchObject({ kind: "copy", copy: { sources: ["<<A", "<<B"], inline: { "<<A": { name: "A", content: "w 'q' \\$x\n" }, "<<B": { name: "B", content: "$WHO\n" } } } });
  });
  test("an unterminated document is a parse error naming the line", () => {
    expect(() => parseDockerfile("FROM scratch\nRUN <<EOF\necho\n", "D")).toThrow('Cannot parse Dockerfile "D" line 2: unterminated here-document');
  });
});

test("a bad argument names the file and line; HEALTHCHECK CMD that is not JSON is the shell form", () => {
  expect(() => step("ENV A=${X:?needed}")).toThrow('Cannot parse Dockerfile "D" line 2: cannot expand "${X:?needed}": X: needed');
  expect(() => step("HEALTHCHECK --timeout=x CMD true")).toThrow('Cannot parse Dockerfile "D" line 2: cannot parse --timeout "x"');
  expect(config("HEALTHCHECK CMD [not json").Healthcheck).toEqual({ Test: ["CMD-SHELL", "[not json"] });
});
