// Figures for the monitor (not a test): N detached `sleep` containers started one after another,
// the PSS of their monitors (sum and each), `ps -a` time, then all removed. Usage:
//   bun test/e2e/detached-figures.ts [N]     (root, after `make`; prints one line per figure)
import fs from "node:fs";
import path from "node:path";
import { tinydock } from "../helpers/cli.ts";
import { startE2e } from "../helpers/e2e.ts";

const N = Number(process.argv[2] ?? 20);
const e = await startE2e({ prefix: "td-figures-", rootName: "tinydock-root", netns: false });
const { env } = e;
const ids: string[] = [];
try {
  if (process.env.TINYDOCK_DEBUG_TIMING) {
    const r = Bun.spawnSync([path.resolve(import.meta.dir, "../../tinydock"), "run", "-d", "--rm", "busybox", "true"], { env: { ...process.env, TINYDOCK_ROOT: env.root, TINYDOCK_CONFIG: env.config }, stderr: "pipe", stdout: "pipe" });
    console.log(r.stderr.toString());
  }
  tinydock(env, ["run", "--rm", "busybox", "true"]); // the seccomp cache, as a user's first run makes it
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const r = tinydock(env, ["run", "-d", "busybox", "sleep", "600"]);
    if (r.code !== 0) throw new Error(r.stderr);
    ids.push(r.stdout.trim());
  }
  const startMs = performance.now() - t0;
  await Bun.sleep(300);
  const pss = ids.map((id) => {
    const run = JSON.parse(fs.readFileSync(path.join(env.root, "containers", id, "run.json"), "utf8"));
    return Number(/^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${run.monitorPid}/smaps_rollup`, "utf8"))![1]);
  });
  // A chatty one: 200k lines logged (and rotated), then idle.
  const noisy = tinydock(env, ["run", "-d", "--log-opt", "max-size=1m", "busybox", "sh", "-c", "seq 1 200000; seq 1 2000 | tr -d '\\n'; echo; sleep 600"]);
  ids.push(noisy.stdout.trim());
  await Bun.sleep(1500);
  const nrun = JSON.parse(fs.readFileSync(path.join(env.root, "containers", noisy.stdout.trim(), "run.json"), "utf8"));
  const npss = Number(/^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${nrun.monitorPid}/smaps_rollup`, "utf8"))![1]);
  console.log(`monitor PSS after logging 200k lines and a 7 kB line: ${npss} kB`);
  const t1 = performance.now();
  const ps = tinydock(env, ["ps", "-a"]);
  const psMs = performance.now() - t1;
  console.log(`${N} × run -d: ${startMs.toFixed(0)} ms (${(startMs / N).toFixed(1)} ms each)`);
  console.log(`monitor PSS: sum ${(pss.reduce((a, b) => a + b, 0) / 1024).toFixed(2)} MiB, each ${Math.min(...pss)}-${Math.max(...pss)} kB (conmon: 0.45 MiB each)`);
  console.log(`ps -a with ${N}: ${psMs.toFixed(0)} ms, ${ps.stdout.trim().split("\n").length - 1} rows`);
} finally {
  const t2 = performance.now();
  if (ids.length) tinydock(env, ["rm", "-f", ...ids]);
  console.log(`rm -f of ${ids.length}: ${(performance.now() - t2).toFixed(0)} ms`);
  await e.stop();
}
