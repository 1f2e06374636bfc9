// `make bench`, push part: pushes the ~217 MB, 8-layer bench image to a local registry with
// ./tinydock and with `skopeo copy` from an OCI layout of the same blobs, side by side in one
// hyperfine run, and prints the ratio the goal is stated in. Before every timed run the registry's
// storage is moved aside, so both tools upload every blob (no HEAD hit, no cross-repository mount:
// each may try one, and the registry answers it with an ordinary upload).
//   BENCH_PUSH_RUNS (default 5): timed runs per command.
//   TINYDOCK_BIN: the binary to measure (default ./tinydock), e.g. a build under test.
import fs from "node:fs";
import path from "node:path";
import { startRegistry, type TestRegistry } from "../test/helpers/registry.ts";
import { pushImage } from "../test/helpers/image.ts";
import { hyperfine, type Timing } from "./hyperfine.ts";
import { benchImage } from "./image.ts";
import { log, ms, positiveEnv, q, removeTree, runBinaryBench, type BinaryBench } from "./processes.ts";
import { Trash } from "./trash.ts";

const RUNS = positiveEnv("BENCH_PUSH_RUNS", 5);
const PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const TOOLS = ["hyperfine", "skopeo", "docker-registry"];
const NAMES = { tinydock: "tinydock push", skopeo: "skopeo copy oci: → docker://" };

async function main({ children, onCleanup, binary, workdir }: BinaryBench): Promise<number> {  let registry: TestRegistry | undefined;
  onCleanup(async (children) => {
    await removeTree(children, workdir);
    await registry?.stop();
  });

  const image = await benchImage(log);
  const compressed = image.image.layers.reduce((n, l) => n + l.size, 0);
  log(`image: ${image.image.layers.length} layers, ${(compressed / 1e6).toFixed(0)} MB compressed (cache ${image.cacheDir})`);
  registry = await startRegistry();
  const source = `${registry.host}/bench/big:v1`;
  await pushImage(registry, "bench/big", "v1", image.image);

  // Both tools start from the same blobs: tinydock's store by pulling, skopeo's OCI layout by copying.
  const conf = path.join(workdir, "conf");
  fs.mkdirSync(conf, { recursive: true });
  const policy = path.join(conf, "policy.json");
  fs.writeFileSync(policy, `${JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] })}\n`);
  const tinydockConfig = path.join(conf, "tinydock.json");
  fs.writeFileSync(tinydockConfig, "{}\n");
  const home = path.join(workdir, "home");
  fs.mkdirSync(path.join(home, ".docker"), { recursive: true });
  const env: Record<string, string> = {
    PATH: PATH_ENV,
    HOME: home,
    TMPDIR: workdir,
    TINYDOCK_ROOT: path.join(workdir, "tinydock"),
    TINYDOCK_CONFIG: tinydockConfig,
    DOCKER_CONFIG: path.join(home, ".docker"),
    REGISTRY_AUTH_FILE: path.join(conf, "auth.json"),
  };
  fs.writeFileSync(env.REGISTRY_AUTH_FILE!, '{"auths":{}}\n');
  const layout = path.join(workdir, "oci");
  const target = `${registry.host}/bench/pushed:v1`;
  const setup = [
    [binary, "pull", "-q", source],
    [binary, "tag", source, target],
    ["skopeo", "--policy", policy, "copy", "--quiet", "--src-tls-verify=false", `docker://${source}`, `oci:${layout}:v1`],
  ];
  for (const argv of setup) {
    const r = await children.run(argv, env);
    if (r.code !== 0) throw new Error(`${argv.slice(0, 2).join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  }

  // Moved aside, not deleted (see trash.ts); the registry makes its directories again as it writes.
  const trash = new Trash(path.join(workdir, "trash"));
  const fresh = `${trash.command([path.join(registry.dataDir, "docker")])} && sync`;
  const benches = [
    { name: NAMES.tinydock, command: `${q(binary)} push -q ${q(target)}`, prepare: fresh },
    {
      name: NAMES.skopeo,
      command: `skopeo --policy ${q(policy)} copy --quiet --dest-tls-verify=false oci:${q(layout)}:v1 docker://${target}`,
      prepare: fresh,
    },
  ];
  // One push each first: a failing tool is reported, not timed; and both are checked to have sent
  // the same manifest, so neither is timed doing less.
  // Each one's CPU time, and the registry's while it receives, tell what limits the push.
  const digests = new Map<string, string>();
  const cpu = new Map<string, { tool: number; registry: number }>();
  for (const b of benches) {
    await children.run(["sh", "-c", b.prepare], env);
    const before = cpuMs(registry.pid);
    const r = await children.run(["sh", "-c", `${b.command} && times`], env);
    if (r.code !== 0) throw new Error(`${b.name} exited ${r.code}: ${(r.stderr.trim() || r.stdout.trim()).split("\n").slice(-3).join(" | ")}`);
    cpu.set(b.name, { tool: childrenCpuMs(r.stdout), registry: cpuMs(registry.pid) - before });
    const res = await fetch(`${registry.url}/v2/bench/pushed/manifests/v1`, { method: "HEAD", headers: { Accept: "application/vnd.oci.image.manifest.v1+json" } });
    digests.set(b.name, res.headers.get("docker-content-digest") ?? `HTTP ${res.status}`);
  }
  const [a, b] = [...digests.values()];
  if (a !== b) throw new Error(`Cannot compare pushes: the registry got manifest ${a} from tinydock and ${b} from skopeo`);

  log(`${RUNS} runs each, the registry's storage moved aside before every run`);
  const timings = await hyperfine(children, benches, { runs: RUNS, warmup: 0, env, workdir });
  const floors = await measureFloors(image.layerFiles, registry);
  printSummary(timings, compressed, floors, cpu);
  return 0;
}

/** User + system CPU of a process so far, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The children's line of the shell's `times` ("0m0.070000s 0m0.060000s"), in ms. */
function childrenCpuMs(out: string): number {
  const line = out.trim().split("\n").at(-1) ?? "";
  return [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((n, m) => n + (Number(m[1]) * 60 + Number(m[2])) * 1000, 0);
}

interface Floors {
  putMs: number;
}

/**
 * What a push cannot go below: a POST + one PUT of every blob at once, from the page cache, into a
 * fresh repository of the same registry (the registry's receiving, hashing and writing).
 */
async function measureFloors(files: string[], registry: TestRegistry): Promise<Floors> {
  for (const f of files) await Bun.file(f).bytes(); // page cache warm
  const repo = `floor/${Date.now()}`;
  const t = performance.now();
  await Promise.all(
    files.map(async (f) => {
      const digest = `sha256:${path.basename(f).replace(/^.*?([0-9a-f]{64}).*$/, "$1")}`;
      const post = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: "POST" });
      await post.arrayBuffer();
      const at = new URL(post.headers.get("location")!, registry.url);
      at.searchParams.set("digest", digest);
      const put = await fetch(at, { method: "PUT", body: Bun.file(f), headers: { "Content-Type": "application/octet-stream" } });
      await put.arrayBuffer();
      if (put.status !== 201) throw new Error(`Cannot PUT ${f} to ${registry.url}: HTTP ${put.status}`);
    }),
  );
  return { putMs: performance.now() - t };
}

function printSummary(timings: Map<string, Timing>, compressed: number, floors: Floors, cpu: Map<string, { tool: number; registry: number }>): void {
  const width = Math.max(...Object.values(NAMES).map((n) => n.length));
  console.log("");
  console.log(`${"".padEnd(width)}  ${"mean ms".padStart(8)}  ${"± ms".padStart(7)}  ${"min".padStart(7)}  ${"max".padStart(7)}  runs  MB/s`);
  for (const name of Object.values(NAMES)) {
    const t = timings.get(name);
    if (!t) continue;
    const rate = compressed / 1e6 / (t.meanMs / 1000);
    console.log(
      `${name.padEnd(width)}  ${ms(t.meanMs).padStart(8)}  ${ms(t.stddevMs).padStart(7)}  ${ms(t.minMs).padStart(7)}  ${ms(t.maxMs).padStart(7)}  ${String(t.runs).padStart(4)}  ${rate.toFixed(0)}`,
    );
  }
  console.log("");
  const td = timings.get(NAMES.tinydock)?.meanMs;
  const sk = timings.get(NAMES.skopeo)?.meanMs;
  if (td === undefined || sk === undefined) {
    console.log("push: NOT MEASURED");
  } else {
    const ratio = td / sk;
    console.log(`push: tinydock ${ms(td)} ms, skopeo copy ${ms(sk)} ms → ${ratio.toFixed(2)}× (goal ≤ 0.5×) ${ratio <= 0.5 ? "PASS" : "MISS"}`);
  }
  const cpuText = [...cpu].map(([name, c]) => `${name} ${ms(c.tool)} ms in itself, ${ms(c.registry)} ms in the registry`);
  console.log(`CPU of one push: ${cpuText.join("; ")}`);
  console.log(
    `the floor: POST + one PUT of every blob at once, from the page cache, by this process alone ${ms(floors.putMs)} ms`,
  );
}

await runBinaryBench(TOOLS, PATH_ENV, "push-", main);
