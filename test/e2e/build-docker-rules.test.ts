// `tinydock build` held to Docker's rules where a Dockerfile or its context meets an edge: a context
// tar on stdin in any of the compressions Docker reads, several COPY sources into a destination
// that does not say it is a directory, ONBUILD triggers counted as part of their FROM step, and a
// SOURCE_DATE_EPOCH build that gives the same image in two stores.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { busyboxEnv, type BusyboxEnv } from "../helpers/busybox-env.ts";
import { BINARY, tinydock, type CliEnv } from "../helpers/cli.ts";

let bb: BusyboxEnv;
let n = 0;
const T = (args: string[]) => tinydock(bb.env, args);

beforeAll(async () => {
  bb = await busyboxEnv("td-build-rules-");
});

afterAll(async () => {
  await bb?.close();
});

function context(files: Record<string, string>): string {
  const dir = path.join(bb.dir, `ctx-${++n}`);
  fs.mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

/** The binary with extra environment and stdin bytes. */
function run(env: CliEnv, args: string[], extra: Record<string, string> = {}, stdin?: Uint8Array) {
  const r = Bun.spawnSync([BINARY, ...args], { env: { ...bb.vars, TINYDOCK_ROOT: env.root, ...extra }, stdin: stdin ?? "ignore", stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

test("a context tar on stdin is read plain, gzip, bzip2, xz or zstd", () => {
  const dir = context({ Dockerfile: "FROM busybox\nCOPY hello /hello\n", hello: "hi from a tar\n" });
  const tar = path.join(bb.dir, "ctx.tar");
  expect(Bun.spawnSync(["tar", "-cf", tar, "-C", dir, "."]).exitCode).toBe(0);
  const plain = fs.readFileSync(tar);
  for (const tool of ["cat", "gzip", "bzip2", "xz", "zstd"]) {
    const packed = tool === "cat" ? plain : Bun.spawnSync([tool, "-c"], { stdin: plain, stdout: "pipe" }).stdout;
    const r = run(bb.env, ["build", "-q", "-t", `stdin-${tool}`, "-"], {}, packed);
    expect(`${tool}: ${r.code} ${r.stderr}`).toBe(`${tool}: 0 `);
    expect(T(["run", "--rm", `stdin-${tool}`, "cat", "/hello"]).stdout).toBe("hi from a tar\n");
  }
});

test("several COPY sources need a destination ending in /, as Docker refuses it, naming the line", () => {
  const files = { a: "a", b: "b", c1: "1", c2: "2" };
  for (const [step, ok] of [
    ["COPY a b /dst", false],
    ["COPY c* /dst", false],
    ["ADD a b /tmp", false],
    ["COPY a b /dst/", true],
    ["COPY a b .", true],
    ["COPY c* ./", true],
    ["COPY c1 /dst", true],
  ] as const) {
    const r = T(["build", "-t", "multi", context({ ...files, Dockerfile: `FROM busybox\nWORKDIR /w\n${step}\n` })]);
    if (ok) {
      expect(`${step}: ${r.code} ${r.stderr}`).toBe(`${step}: 0 `);
      continue;
    }
    expect(`${step}: ${r.code}`).toBe(`${step}: 1`);
    expect(r.stderr).toContain(`:3) ${step.split(" ")[0]}: When using ${step.split(" ")[0]} with more than one source file, the destination must be a directory and end with a /`);
  }
});

test("ONBUILD triggers run in their FROM step: '# Executing N build triggers', the steps counted right", () => {
  const base = T(["build", "-t", "onbuild-base", context({ Dockerfile: "FROM busybox\nONBUILD RUN echo one > /one\nONBUILD COPY f /f\n", f: "f\n" })]);
  expect(base.code).toBe(0);
  const r = T(["build", "-t", "onbuild-child", context({ Dockerfile: "FROM onbuild-base\nRUN cat /one /f\n", f: "child-f\n" })]);
  expect(`${r.code} ${r.stderr}`).toBe("0 ");
  const lines = r.stdout.split("\n");
  expect(lines.filter((l) => l.startsWith("Step "))).toEqual(["Step 1/2 : FROM onbuild-base", "Step 2/2 : RUN cat /one /f"]);
  expect(lines.indexOf("# Executing 2 build triggers")).toBe(lines.indexOf("Step 1/2 : FROM onbuild-base") + 1);
  expect(r.stdout).toContain("one\nchild-f\n");
});

test("SOURCE_DATE_EPOCH: two --no-cache builds in two stores give the same image and layers", () => {
  const dir = context({
    Dockerfile: [
      "FROM busybox AS tools",
      "RUN mkdir /out && echo tool > /out/tool && ln /out/tool /out/hard",
      "FROM busybox",
      "ENV A=1",
      "WORKDIR /app",
      "COPY --chown=1000:1000 f /app/f",
      "RUN echo made > /app/made && mkdir -p /var/x && touch /var/x/y && rm /etc/group && ln /app/made /app/hard",
      "ADD f t.tar /app/sub/",
      "COPY --from=tools /out /tools",
      "RUN <<EOF",
      "echo heredoc > /app/h",
      "EOF",
      "LABEL l=v",
      "",
    ].join("\n"),
    f: "content\n",
  });
  expect(Bun.spawnSync(["tar", "-cf", path.join(dir, "t.tar"), "-C", dir, "f"]).exitCode).toBe(0);
  const ids: string[] = [];
  const layers: string[] = [];
  for (const name of ["root-a", "root-b"]) {
    const env = { ...bb.env, root: path.join(bb.dir, name) };
    fs.utimesSync(path.join(dir, "f"), new Date(), new Date());
    const r = run(env, ["build", "--no-cache", "-q", "-t", "repro", dir], { SOURCE_DATE_EPOCH: "1700000000" });
    expect(`${r.code} ${r.stderr}`).toBe("0 ");
    ids.push(r.stdout.trim());
    const inspect = JSON.parse(run(env, ["image", "inspect", "repro"]).stdout)[0];
    // The OCI manifest a push sends: its digest covers the compressed layers' digests and sizes.
    const record = JSON.parse(fs.readFileSync(path.join(env.root, "images", `${ids.at(-1)!.slice(7)}.json`), "utf8"));
    layers.push(JSON.stringify([inspect.RootFS.Layers, record.manifestDigest, record.layers.map((l: { digest: string; size: number }) => [l.digest, l.size])]));
    expect(inspect.Created).toBe("2023-11-14T22:13:20Z");
    // Seconds apart, so that any time taken from the clock shows.
    Bun.sleepSync(1100);
  }
  expect(layers[1]).toBe(layers[0]!);
  expect(ids[1]).toBe(ids[0]!);
});
