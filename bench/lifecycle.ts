// `make bench`, third part: detached containers side by side with podman, in one run.
//   1. time to start N detached `sleep` containers, one after the other (tinydock run -d vs podman run -d);
//   2. memory of the engine per idle detached container: the sum of Pss (/proc/PID/smaps_rollup)
//      of tinydock's own processes (the monitors) vs podman's conmon for the same containers;
//   3. `ps -a` with 100 containers (N running + created ones) vs `podman ps -a`, in one hyperfine run;
//   then every container is removed (`rm -f`) and the time that takes is printed too.
//   BENCH_DETACHED (default 50): N.  BENCH_PS_RUNS (default 20). TINYDOCK_BIN: the binary (./tinydock).
// Both engines run their containers with --network none, so nothing here touches the host's network.
import fs from "node:fs";
import path from "node:path";
import type { TestRegistry } from "../test/helpers/registry.ts";
import { removeCgroups } from "./cgroups.ts";
import { hyperfine } from "./hyperfine.ts";
import { busyboxPeers } from "./peers.ts";
import { log, mib, ms, positiveEnv, pssKiB, q, removeTree, runBinaryBench, type BinaryBench } from "./processes.ts";

const DETACHED = positiveEnv("BENCH_DETACHED", 50);
const PS_TOTAL = 100;
const PS_RUNS = positiveEnv("BENCH_PS_RUNS", 20);
const PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const TOOLS = ["hyperfine", "podman", "docker-registry"];
const PREFIX = `tinydock-bench-${process.pid}`;

const verdict = (ratio: number, goal: number): string => (ratio <= goal ? "PASS" : "MISS");

async function main({ children, onCleanup, binary, workdir }: BinaryBench): Promise<number> {  const tinydockRoot = path.join(workdir, "tinydock");
  let registry: TestRegistry | undefined;
  let podman: { argv: string[]; env: Record<string, string> } | undefined;
  let env: Record<string, string> = { PATH: PATH_ENV };
  onCleanup(async (children) => {
    if (fs.existsSync(tinydockRoot)) {
      await children.run(["sh", "-c", `ids=$(${q(binary)} ps -aq --no-trunc); [ -z "$ids" ] || ${q(binary)} rm -f $ids >/dev/null`], env);
    }
    if (podman && fs.existsSync(workdir)) {
      const penv = { PATH: PATH_ENV, ...podman.env };
      await children.run([...podman.argv, "rm", "-af", "-t", "0"], penv);
      await children.run([...podman.argv, "rmi", "-af"], penv);
    }
    const ids = fs.existsSync(path.join(tinydockRoot, "containers")) ? fs.readdirSync(path.join(tinydockRoot, "containers")) : [];
    const left = await removeCgroups([`${PREFIX}-podman`, ...ids.map((id) => `tinydock/${id}`)]);
    for (const l of left) console.error(`# ${l}`);
    await removeTree(children, workdir);
    await registry?.stop();
  });

  const set = await busyboxPeers(workdir, PATH_ENV, tinydockRoot, (r) => (registry = r));
  const { peers, reference } = set;
  podman = { argv: peers.podmanArgv, env: peers.env };
  env = set.env;
  const td = q(binary);
  const pm = peers.podmanArgv.map(q).join(" ");
  const pmRun = `${pm} run --pull never --network none --cgroup-parent /${PREFIX}-podman`;

  const sh = async (what: string, command: string): Promise<{ ms: number; stdout: string }> => {
    const t = performance.now();
    const r = await children.run(["sh", "-c", command], env);
    const took = performance.now() - t;
    if (r.code !== 0) throw new Error(`${what} failed, exit ${r.code}: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}`);
    return { ms: took, stdout: r.stdout };
  };
  await sh("tinydock pull", `${td} pull -q busybox`);
  await sh("podman pull", peers.podman.command);
  // One container each before the clock: first-use costs (seccomp cache, podman's network setup) are not what is measured.
  await sh("tinydock warm-up", `${td} run --rm --network none busybox true`);
  await sh("podman warm-up", `${pmRun} --rm ${q(reference)} true`);

  // 1. Start N detached containers, one after the other.
  const loop = (cmd: string): string => `i=0; while [ $i -lt ${DETACHED} ]; do ${cmd} >/dev/null || exit 1; i=$((i+1)); done`;
  const tStart = await sh("tinydock run -d ×N", loop(`${td} run -d --network none busybox sleep 3600`));
  const pStart = await sh("podman run -d ×N", loop(`${pmRun} -d ${q(reference)} sleep 3600`));
  log(`started ${DETACHED} detached containers: tinydock ${ms(tStart.ms)} ms, podman ${ms(pStart.ms)} ms`);

  // 2. Pss of the engine's own processes while all N idle.
  await Bun.sleep(1000);
  const tinydockPids = fs
    .readdirSync(path.join(tinydockRoot, "containers"))
    .map((id) => {
      try {
        return (JSON.parse(fs.readFileSync(path.join(tinydockRoot, "containers", id, "run.json"), "utf8")) as { monitorPid?: number }).monitorPid ?? 0;
      } catch {
        return 0;
      }
    })
    .filter((pid) => pid > 0);
  const conmonPids = (await sh("podman conmon pids", `${pm} ps -q | xargs ${pm} inspect --format '{{.State.ConmonPid}}'`)).stdout
    .split("\n")
    .map(Number)
    .filter((pid) => pid > 0);
  const sum = (pids: number[]): number => pids.reduce((a, p) => a + (pssKiB(p) ?? 0), 0);
  const tPss = sum(tinydockPids) / Math.max(1, tinydockPids.length);
  const pPss = sum(conmonPids) / Math.max(1, conmonPids.length);

  // 3. ps -a with 100 containers: the N running plus created ones.
  const extra = Math.max(0, PS_TOTAL - DETACHED);
  const create = (cmd: string): string => `i=0; while [ $i -lt ${extra} ]; do ${cmd} >/dev/null || exit 1; i=$((i+1)); done`;
  await sh("tinydock create", create(`${td} create --network none busybox true`));
  await sh("podman create", create(`${pm} create --pull never --network none --cgroup-parent /${PREFIX}-podman ${q(reference)} true`));
  const count = (await sh("tinydock ps -aq", `${td} ps -aq`)).stdout.trim().split("\n").filter(Boolean).length;
  const timings = await hyperfine(
    children,
    [
      { name: "tinydock ps -a", command: `${binary} ps -a` },
      { name: "podman ps -a", command: [...peers.podmanArgv, "ps", "-a"].join(" ") },
    ],
    { runs: PS_RUNS, warmup: 2, noShell: true, env, workdir },
  );

  // Removal of everything, timed (not a goal).
  const tRm = await sh("tinydock rm -f", `${td} rm -f $(${td} ps -aq --no-trunc) >/dev/null`);
  const pRm = await sh("podman rm -af", `${pm} rm -af -t 0 >/dev/null`);

  const tPs = timings.get("tinydock ps -a")!.meanMs;
  const pPs = timings.get("podman ps -a")!.meanMs;
  console.log("");
  console.log(`detached containers (${DETACHED}, --network none, busybox sleep 3600):`);
  console.log(`  start ${DETACHED} one after the other: tinydock ${ms(tStart.ms)} ms (${ms(tStart.ms / DETACHED)} each), podman ${ms(pStart.ms)} ms (${ms(pStart.ms / DETACHED)} each)`);
  console.log(`    goal ≤ 0.2× podman: ${(tStart.ms / pStart.ms).toFixed(2)}× ${verdict(tStart.ms / pStart.ms, 0.2)}`);
  console.log(`  engine Pss per idle container: tinydock ${mib(tPss)} MiB (${tinydockPids.length} monitors), conmon ${mib(pPss)} MiB (${conmonPids.length})`);
  console.log(`    goal ≤ conmon: ${(tPss / pPss).toFixed(2)}× ${verdict(tPss / pPss, 1)}`);
  console.log(`  ps -a with ${count} containers: tinydock ${ms(tPs)} ms, podman ${ms(pPs)} ms`);
  console.log(`    goal ≤ 0.1× podman: ${(tPs / pPs).toFixed(3)}× ${verdict(tPs / pPs, 0.1)}`);
  console.log(`  rm -f of all: tinydock ${ms(tRm.ms)} ms, podman ${ms(pRm.ms)} ms`);
  return 0;
}

await runBinaryBench(TOOLS, PATH_ENV, "life-", main);
