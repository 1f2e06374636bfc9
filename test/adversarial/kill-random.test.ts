// Crash consistency at random points: the compiled ./tinydock SIGKILLed during `pull`, `run -d -p`,
// `run --rm`, `stop` and `rm -f` after delays drawn from a seeded PRNG (TD_KILL_SEED replays a run;
// the seed is printed), against a real registry, in a root and a network namespace of this file's
// own. test/e2e/kill-points.test.ts holds the fixed points; this is the randomized complement.
// Afterwards the store is consistent: a later pull succeeds, `images` and `ps -a` tell the truth,
// `rm -f` + `system prune -f` + `network prune -f` leave no container, mount, cgroup, veth, netns
// file, lease, rule or process of this root, and the image is still there to run.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { BINARY, cliEnv, requireBinary, tinydock, type CliEnv } from "../helpers/cli.ts";
import { busyboxImage, containerIds, pidExists, readRunJson, startE2e, type E2e } from "../helpers/e2e.ts";
import { buildImage } from "../helpers/image.ts";
import { findLeaks, newLeaks } from "../helpers/leakcheck.ts";
import { prng } from "../helpers/prng.ts";

const SEED = Number(process.env.TD_KILL_SEED ?? 0x5eed2026) >>> 0;
const KILLS = 20;
const MAX_DELAY_MS = 400;

let e: E2e | undefined;
let env: CliEnv;
let dir = "";
let rulesBefore = "";
let hostBefore: string[] = [];
let nsBefore: string[] = [];
/** Every container id this root ever had, to scope the leak check to this test's own cgroups. */
const seenIds = new Set<string>();

/** In the test's network namespace (containers, ports). */
let T: E2e["T"], rules: E2e["rules"], inNs: E2e["inNs"];
const ids = (): string[] => {
  const out = containerIds(env);
  for (const id of out) seenIds.add(id);
  return out;
};
const runJson = (id: string) => readRunJson(env, id);
const alive = pidExists;
/** A leak-check line that is this test's: its root, one of its containers, or its namespace's links and rules. */
const ours = (line: string, inNamespace: boolean): boolean =>
  line.includes(dir) ||
  [...seenIds].some((id) => line.includes(id.slice(0, 12))) ||
  (inNamespace && /^(link|iptables|ip6tables|nft): /.test(line));

/** Starts `args` (in the namespace or here), SIGKILLs it after `delayMs`, and waits for it. */
async function killAfter(args: string[], delayMs: number, here = false): Promise<void> {
  const argv = here ? [BINARY, ...args] : inNs([BINARY, ...args]);
  const p = Bun.spawn(argv, { env: cliEnv(env), stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  await Bun.sleep(delayMs);
  p.kill("SIGKILL");
  await p.exited;
  ids();
}

describe(`SIGKILL at random points (seed ${SEED})`, () => {
  beforeAll(async () => {
    requireBinary();
    console.log(`kill-random: seed ${SEED} (TD_KILL_SEED=${SEED} replays it)`);
    hostBefore = findLeaks();
    const image = await busyboxImage();
    // An image worth killing a pull of: 16 files of 512 KiB, so the download takes a while.
    const rand = prng(SEED ^ 0xa5a5a5a5);
    const blob = () => Uint8Array.from({ length: 512 * 1024 }, () => (rand() * 256) | 0);
    const big = await buildImage({
      layers: [...image.layers.map((l) => ({ tar: Bun.gunzipSync(l.blob as Uint8Array<ArrayBuffer>) })), { entries: Array.from({ length: 16 }, (_, i) => ({ name: `data/${i}`, content: blob() })), compression: "none" }],
      config: { Cmd: ["sh"] },
    });
    e = await startE2e({ prefix: "tinydock-krand-", netns: `tdt-krand-${process.pid}`, images: { "library/pullme": big } });
    ({ env, dir, T, rules, inNs } = e);
    rulesBefore = rules();
    nsBefore = Bun.spawnSync(inNs(["bun", path.resolve(import.meta.dir, "../helpers/leakcheck.ts")]), { stdout: "pipe" })
      .stdout.toString()
      .split("\n")
      .filter(Boolean);
  }, 120_000);

  afterAll(async () => {
    await e?.stop();
  });

  test(`${KILLS} kills of pull, run -d -p, run --rm, stop and rm -f; then the store is consistent and prune leaves nothing`, async () => {
    const rand = prng(SEED);
    const plan: string[] = [];
    const t0 = Date.now();
    for (let i = 0; i < KILLS; i++) {
      const op = (["pull", "run -d -p", "run --rm", "stop", "rm -f"] as const)[Math.floor(rand() * 5)]!;
      const delay = Math.floor(rand() * MAX_DELAY_MS);
      plan.push(`${op}@${delay}ms`);
      switch (op) {
        case "pull":
          // From scratch each time, so the kill can land in the manifest, a blob or the unpack.
          tinydock(env, ["rmi", "-f", "pullme"]);
          await killAfter(["pull", "-q", "pullme"], delay, true);
          break;
        case "run -d -p":
          await killAfter(["run", "-d", "--name", `r${i}`, "-p", `${9000 + i}:8080`, "busybox", "httpd", "-f", "-p", "8080"], delay);
          break;
        case "run --rm":
          await killAfter(["run", "--rm", "busybox", "sh", "-c", "echo hi; sleep 1"], delay);
          break;
        case "stop":
        case "rm -f": {
          const r = T(["run", "-d", "--name", `k${i}`, "busybox", "sleep", "300"]);
          expect([plan.at(-1), r.code, r.stderr]).toEqual([plan.at(-1), 0, ""]);
          ids();
          await killAfter(op === "stop" ? ["stop", "-t", "1", `k${i}`] : ["rm", "-f", `k${i}`], delay);
          break;
        }
      }
    }
    recordCases("SIGKILL at random points of pull/run/stop/rm", KILLS);
    const what = `seed ${SEED}: ${plan.join(", ")}`;

    // A later pull succeeds, and the image runs.
    const pull = tinydock(env, ["pull", "-q", "pullme"]);
    expect([what, pull.code, pull.stderr]).toEqual([what, 0, ""]);
    const run = T(["run", "--rm", "pullme", "sh", "-c", "wc -c < /data/15"]);
    expect([what, run.code, run.stdout.trim()]).toEqual([what, 0, String(512 * 1024)]);
    const images = tinydock(env, ["images"]);
    const listedImages = images.stdout.split("\n").slice(1).filter(Boolean).map((l) => l.split(/\s+/).slice(0, 2).join(":"));
    expect([what, images.code, listedImages.sort()]).toEqual([what, 0, ["busybox:latest", "pullme:latest"]]);

    // ps -a tells the truth: a container shown running has a live process.
    const ps = T(["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.State}}"]);
    expect([what, ps.code]).toEqual([what, 0]);
    for (const line of ps.stdout.trim().split("\n").filter(Boolean)) {
      const [id, state] = line.split(" ");
      if (state === "running") expect([what, id, alive(runJson(id!)?.pid)]).toEqual([what, id, true]);
    }

    // rm -f what ps lists, system prune -f, network prune -f: nothing of this root is left.
    ids();
    const listed = T(["ps", "-aq", "--no-trunc"]).stdout.split("\n").filter(Boolean);
    if (listed.length) expect([what, T(["rm", "-f", ...listed]).code]).toEqual([what, 0]);
    expect([what, T(["system", "prune", "-f"]).code]).toEqual([what, 0]);
    expect([what, T(["network", "prune", "-f"]).code]).toEqual([what, 0]);
    const left = ids().map((id) => `${id.slice(0, 12)}: ${fs.readdirSync(path.join(env.root, "containers", id)).sort().join(",")}`);
    expect([what, left]).toEqual([what, []]);
    expect([what, fs.existsSync(path.join(env.root, "netns")) ? fs.readdirSync(path.join(env.root, "netns")) : []]).toEqual([what, []]);
    expect([what, T(["ps", "-aq"]).stdout]).toEqual([what, ""]);
    // Half-downloaded blobs and half-unpacked layers of the killed pulls went with the prune.
    const scratch = (d: string, only = (_: string) => true) => (fs.existsSync(path.join(env.root, d)) ? fs.readdirSync(path.join(env.root, d)).filter(only).map((n) => `${d}/${n}`) : []);
    expect([what, [...scratch("ingest"), ...scratch("tmp"), ...scratch("layers", (n) => n.startsWith(".tmp-"))]]).toEqual([what, []]);
    expect([what, rules()]).toEqual([what, rulesBefore]);
    expect([what, newLeaks(hostBefore).filter((l) => ours(l, false))]).toEqual([what, []]);
    const inside = Bun.spawnSync(inNs(["bun", path.resolve(import.meta.dir, "../helpers/leakcheck.ts")]), { stdout: "pipe" })
      .stdout.toString()
      .split("\n")
      .filter((l) => l && !l.startsWith("leakcheck:") && !nsBefore.includes(l) && ours(l, true));
    expect([what, inside]).toEqual([what, []]);
    console.log(`kill-random: ${KILLS} kills in ${Date.now() - t0} ms: ${plan.join(", ")}`);
  }, 240_000);
});
