// `make bench`, second part: `tinydock run --rm --network none busybox true` side by side in one hyperfine run with
// `runc run` and `crun run` on a bundle that `umoci unpack` made of the same image, and with
// `podman run --rm --network none`; then both engines once more with their default networks
// (tinydock's bridge, podman's netavark bridge). Prints the means and
// the ratios the goals are stated in, then where tinydock's time goes (TINYDOCK_DEBUG_TIMING's
// phases, and the launch split by strace). It runs in a network namespace of its own (made, and
// deleted with every bridge and rule in it, here), so neither engine's bridge touches the host.
//   BENCH_RUN_RUNS (default 50): timed runs per command; BENCH_TRACE_RUNS (default 10): runs the
//   breakdown averages over. TINYDOCK_BIN: the binary to measure (default ./tinydock).
import fs from "node:fs";
import path from "node:path";
import { buildDefinition } from "../images/build.ts";
import { pushImage } from "../test/helpers/image.ts";
import { startRegistry, type TestRegistry } from "../test/helpers/registry.ts";
import { hybridUnified, removeCgroups } from "./cgroups.ts";
import { hyperfine, type Bench, type Timing } from "./hyperfine.ts";
import { setUpPeers, toolsEnv } from "./peers.ts";
import { Children, inOwnNetns, log, ms, positiveEnv, q, removeTree, runBinaryBench, type BinaryBench } from "./processes.ts";
import { parseStrace, type Syscall } from "./strace.ts";
import { Trash } from "./trash.ts";

const RUNS = positiveEnv("BENCH_RUN_RUNS", 50);
const TRACE_RUNS = positiveEnv("BENCH_TRACE_RUNS", 10);
const PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const TOOLS = ["hyperfine", "podman", "skopeo", "umoci", "runc", "crun", "unshare", "docker-registry"];
const REPO = "library/busybox";
const TAG = "latest";
/** Every container, cgroup and state directory of the peers is named with this, so leakcheck.sh sees leftovers. */
const PREFIX = `tinydock-bench-${process.pid}`;

const NAMES = {
  tinydock: "tinydock run --rm --network none busybox true",
  runc: "runc run (in sh -c, for a fresh id)",
  crun: "crun run (in its wrapper, for a fresh id)",
  podman: "podman run --rm --network none",
  tinydockBridge: "tinydock run --rm busybox true (bridge)",
  podmanBridge: "podman run --rm (netavark bridge)",
  shNoop: "no-op: sh -c 'exec true'",
  crunNoop: "no-op: crun's wrapper, exec true",
  version: "tinydock --version",
};

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main({ children, onCleanup, binary, workdir }: BinaryBench): Promise<number> {
  const strace = Bun.which("strace", { PATH: PATH_ENV });
  const tinydockRoot = path.join(workdir, "tinydock");
  let registry: TestRegistry | undefined;
  let podman: { argv: string[]; env: Record<string, string> } | undefined;
  const hybrid = hybridUnified();
  onCleanup(async (children) => {
    const sys = { PATH: PATH_ENV };
    if (podman && fs.existsSync(workdir)) {
      const env = { ...sys, ...podman.env };
      await children.run([...podman.argv, "rm", "-af"], env);
      await children.run([...podman.argv, "rmi", "-af"], env);
    }
    // `run` removes its state when the container exits; these are only left by an interrupted run.
    for (const id of stateDirs("/run/runc")) await children.run(["runc", "delete", "--force", id], sys);
    for (const id of stateDirs("/run/crun")) await children.run(["sh", "-c", crunWrapper(hybrid, `crun delete --force ${q(id)}`)], sys);
    // The peers' cgroups (podman's parent keeps conmon's), and those of tinydock containers of this root.
    const tinydockIds = fs.existsSync(path.join(tinydockRoot, "containers")) ? fs.readdirSync(path.join(tinydockRoot, "containers")) : [];
    const left = await removeCgroups([`${PREFIX}-runc`, `${PREFIX}-crun`, `${PREFIX}-podman`, ...tinydockIds.map((id) => `tinydock/${id}`)]);
    for (const l of left) console.error(`# ${l}`);
    await removeTree(children, workdir);
    await registry?.stop();
  });

  registry = await startRegistry();
  const reference = `${registry.host}/${REPO}:${TAG}`;
  let t = performance.now();
  const { image } = await buildDefinition(path.join(import.meta.dir, "..", "images", "busybox"), { log: () => {} });
  await pushImage(registry, REPO, TAG, image);
  log(`built images/busybox and pushed it as ${reference} in ${ms(performance.now() - t)} ms`);

  const peers = setUpPeers(workdir, registry.host, reference, new Trash(undefined));
  podman = { argv: peers.podmanArgv, env: peers.env };
  const env = toolsEnv(workdir, PATH_ENV, peers, tinydockRoot, registry.url);

  // The image, once per tool, before any clock starts: tinydock through the mirror, podman by its
  // full name from the local registry, skopeo + umoci into the bundle runc and crun share.
  const failed = new Map<string, string>();
  const prepare = async (what: string, command: string, names: string[]): Promise<void> => {
    t = performance.now();
    const r = await children.run(["sh", "-c", command], env);
    if (r.code !== 0) {
      const why = `${what} failed, exit ${r.code}: ${lastLines(r.stderr || r.stdout)}`;
      for (const n of names) failed.set(n, why);
      log(`${what}: FAILED (${why})`);
    } else {
      log(`${what}: ${ms(performance.now() - t)} ms`);
    }
  };
  await prepare("tinydock pull busybox", `${q(binary)} pull -q busybox`, [NAMES.tinydock, NAMES.tinydockBridge]);
  await prepare("podman pull", peers.podman.command, [NAMES.podman, NAMES.podmanBridge]);
  fs.mkdirSync(peers.skopeoUmoci.storage, { recursive: true });
  await prepare("skopeo copy + umoci unpack", peers.skopeoUmoci.command, [NAMES.runc, NAMES.crun]);
  const bundles = { runc: path.join(workdir, "bundle-runc"), crun: path.join(workdir, "bundle-crun") };
  if (!failed.has(NAMES.runc)) {
    for (const [runtime, dir] of Object.entries(bundles)) writeBundleConfig(peers.bundle, dir, `/${PREFIX}-${runtime}`);
  }

  const runcCommand = `sh -c ${q(`exec runc run --bundle ${q(bundles.runc)} ${PREFIX}-runc-$$`)}`;
  const crunCommand = crunWrapper(hybrid, `crun run --bundle ${q(bundles.crun)} ${PREFIX}-crun-$$`);
  const benches: Record<keyof typeof NAMES, Bench> = {
    tinydock: { name: NAMES.tinydock, command: `${q(binary)} run --rm --network none busybox true` },
    runc: { name: NAMES.runc, command: runcCommand },
    crun: { name: NAMES.crun, command: crunCommand },
    tinydockBridge: { name: NAMES.tinydockBridge, command: `${q(binary)} run --rm busybox true` },
    podmanBridge: {
      name: NAMES.podmanBridge,
      command: `${peers.podmanArgv.map(q).join(" ")} run --rm --pull never --cgroup-parent /${PREFIX}-podman ${q(reference)} true`,
    },
    podman: {
      name: NAMES.podman,
      // Like for like: tinydock with --network none, and runc's and crun's bundle an empty network
      // namespace: podman's default bridge would add netavark, a bridge and firewall rules.
      command:
        `${peers.podmanArgv.map(q).join(" ")} run --rm --pull never --network none ` +
        `--cgroup-parent /${PREFIX}-podman ${q(reference)} true`,
    },
    shNoop: { name: NAMES.shNoop, command: `sh -c 'exec true'` },
    crunNoop: { name: NAMES.crunNoop, command: crunWrapper(hybrid, "true") },
    version: { name: NAMES.version, command: `${q(binary)} --version` },
  };
  log(
    hybrid
      ? "crun's wrapper: unshare -m sh -c 'umount /sys/fs/cgroup/unified && exec crun …' (crun refuses this hybrid cgroup host otherwise)"
      : "crun's wrapper: sh -c 'exec crun …' (no hybrid cgroup2 mount to hide here)",
  );

  // Each command once: a failing one is reported and left out, the others are still timed.
  for (const b of Object.values(benches)) {
    if (failed.has(b.name)) continue;
    const r = await children.run(["sh", "-c", b.command], env);
    if (r.code !== 0) {
      failed.set(b.name, `exit ${r.code}: ${lastLines(r.stderr || r.stdout)}`);
      log(`${b.name}: FAILED (${failed.get(b.name)})`);
    }
  }
  const timed = Object.values(benches).filter((b) => !failed.has(b.name));
  log(`${timed.length} commands, ${RUNS} runs each after 3 warm-up runs`);
  const timings = await hyperfine(children, timed, { runs: RUNS, warmup: 3, noShell: true, env, workdir });

  let phases: Phases | undefined;
  let split: LaunchSplit | undefined;
  const joins = new Map<string, number>();
  if (!failed.has(NAMES.tinydock)) {
    phases = await debugPhases(children, binary, env);
    if (!phases) log("tinydock printed no TINYDOCK_DEBUG_TIMING lines: no phase breakdown");
    if (strace) {
      const traces = await traceRuns(children, [binary, "run", "--rm", "--network", "none", "busybox", "true"], env, workdir, "tinydock");
      split = launchSplit(traces);
      const join = firstJoinWait(traces);
      if (join !== undefined) joins.set("tinydock", join);
      for (const runtime of ["runc", "crun"] as const) {
        const name = runtime === "runc" ? NAMES.runc : NAMES.crun;
        if (failed.has(name)) continue;
        const traced = await traceRuns(children, ["sh", "-c", benches[runtime].command], env, workdir, runtime);
        const w = firstJoinWait(traced);
        if (w !== undefined) joins.set(runtime, w);
      }
    } else {
      log("strace not installed (make deps): the launch is not split");
    }
  }

  printSummary(timings, failed, phases, split, joins);
  return timings.has(NAMES.tinydock) ? 0 : 1;
}

/**
 * crun 1.8 refuses a hybrid host ("cgroups in hybrid mode not supported"): the command runs in a
 * private mount namespace without the cgroup2 mount.
 */
function crunWrapper(hybrid: boolean, command: string): string {
  return hybrid ? `unshare -m sh -c ${q(`umount /sys/fs/cgroup/unified && exec ${command}`)}` : `sh -c ${q(`exec ${command}`)}`;
}

/** umoci's config.json, made to run `true` without a terminal in the bench's own cgroup, rootfs shared. */
function writeBundleConfig(bundle: string, dir: string, cgroupsPath: string): void {
  const config = JSON.parse(fs.readFileSync(path.join(bundle, "config.json"), "utf8"));
  config.process.args = ["true"];
  config.process.terminal = false;
  config.root = { ...config.root, path: path.join(bundle, "rootfs") };
  // A fixed path under the hierarchies' roots instead of one under the caller's own cgroup: the
  // cleanup knows where to look. Runs are sequential, and `run` removes it when the container exits.
  config.linux.cgroupsPath = cgroupsPath;
  // A new, empty network namespace (no path to join), as tinydock's --network none.
  config.linux.namespaces = (config.linux.namespaces as { type: string; path?: string }[]).map(({ type }) => ({ type }));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
}

/** State directories an interrupted `runc run`/`crun run` of this bench left. */
function stateDirs(root: string): string[] {
  try {
    return fs.readdirSync(root).filter((id) => id.startsWith(`${PREFIX}-`));
  } catch {
    return [];
  }
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-3).join(" | ");
}

interface Phase {
  name: string;
  ms: number;
}

interface Phases {
  phases: Phase[];
  /** The same runs' mean wall time, spawn to exit as this process sees it. */
  wallMs: number;
}

/** TINYDOCK_DEBUG_TIMING=1's per-phase lines ("timing:   2.3 ms  cgroup"), averaged over TRACE_RUNS runs. */
async function debugPhases(children: Children, binary: string, env: Record<string, string>): Promise<Phases | undefined> {
  const sums = new Map<string, number[]>();
  const walls: number[] = [];
  for (let i = 0; i < TRACE_RUNS; i++) {
    const t = performance.now();
    const r = await children.run([binary, "run", "--rm", "--network", "none", "busybox", "true"], { ...env, TINYDOCK_DEBUG_TIMING: "1" });
    walls.push(performance.now() - t);
    if (r.code !== 0) return undefined;
    for (const m of r.stderr.matchAll(/^timing:\s+([\d.]+) ms\s+(.+)$/gm)) {
      const list = sums.get(m[2]!) ?? [];
      list.push(Number(m[1]));
      sums.set(m[2]!, list);
    }
  }
  if (sums.size === 0) return undefined;
  return { phases: [...sums].map(([name, xs]) => ({ name, ms: mean(xs) })), wallMs: mean(walls) };
}

/** `strace -f` of argv, TRACE_RUNS times; only the syscalls that mark a phase are stopped at (seccomp-bpf). */
async function traceRuns(children: Children, argv: string[], env: Record<string, string>, workdir: string, label: string): Promise<Syscall[][]> {
  const out: Syscall[][] = [];
  const file = path.join(workdir, `strace-${label}.txt`);
  for (let i = 0; i < TRACE_RUNS; i++) {
    const r = await children.run(
      [
        "strace", "-f", "--seccomp-bpf", "-ttt", "-T", "-y", "-q", "-e", "signal=none",
        "-e", "trace=execve,clone,clone3,vfork,unshare,mount,pivot_root,write,exit_group",
        "-o", file, ...argv,
      ],
      env,
    );
    if (r.code === 0) out.push(parseStrace(fs.readFileSync(file, "utf8")));
    fs.rmSync(file, { force: true });
  }
  return out;
}

/** The wait of the slowest write to a cgroup.procs in each run (moving the container's process in), averaged. */
function firstJoinWait(traces: Syscall[][]): number | undefined {
  const waits = traces
    .map((calls) => calls.filter((c) => c.name === "write" && c.args.includes("cgroup.procs>")).map((c) => c.durMs))
    .filter((ds) => ds.length > 0)
    .map((ds) => Math.max(...ds));
  return waits.length ? mean(waits) : undefined;
}

interface LaunchSplit {
  runs: number;
  spawnInit: number;
  initToPlan: number;
  planToOverlay: number;
  mountsToJoin: number;
  join: number;
  joinToExec: number;
  execToExit: number;
  exitToExitGroup: number;
  teardown: number;
  tracedTotal: number;
}

/**
 * From the traced runs of a foreground run's early init (monitor.c's launch mode): tinydock's vfork
 * that becomes it → its execve → the container process's unshare (its plan has arrived) → its
 * overlay mount → its writes to the container's cgroup.procs (the rest of the RCU wait the CLI
 * started at the cgroup's creation) → its first execve → its exit → tinydock's exit.
 */
function launchSplit(traces: Syscall[][]): LaunchSplit | undefined {
  const rows: LaunchSplit[] = [];
  const isClone = (c: Syscall) => (c.name === "clone" || c.name === "clone3" || c.name === "vfork") && Number(c.ret) > 0;
  for (const calls of traces) {
    const main = calls[0];
    const initExec = calls.find((c) => c.name === "execve" && c.args.includes('"launch"'));
    if (!main || !initExec) continue;
    const init = initExec.pid;
    const spawn = calls.find((c) => isClone(c) && Number(c.ret) === init);
    const clone = calls.find((c) => c.pid === init && isClone(c));
    if (!spawn || !clone) continue;
    const own = calls.filter((c) => c.pid === Number(clone.ret));
    const unshare = own.find((c) => c.name === "unshare");
    const overlay = own.find((c) => c.name === "mount" && /"overlay"/.test(c.args));
    const joins = own.filter((c) => c.name === "write" && c.args.includes("cgroup.procs>"));
    const exec = own.find((c) => c.name === "execve");
    const exit = own.find((c) => c.name === "+++exit");
    const exitGroup = calls.find((c) => c.name === "exit_group" && c.pid === main.pid);
    const end = calls.find((c) => c.name === "+++exit" && c.pid === main.pid);
    if (!unshare || !overlay || joins.length === 0 || !exec || !exit || !exitGroup || !end) continue;
    const initStarted = initExec.ts + initExec.durMs;
    const overlayEnd = overlay.ts + overlay.durMs;
    const joinStart = joins[0]!.ts;
    const joinEnd = Math.max(...joins.map((c) => c.ts + c.durMs));
    rows.push({
      runs: 1,
      spawnInit: initStarted - spawn.ts,
      initToPlan: unshare.ts - initStarted,
      planToOverlay: overlayEnd - unshare.ts,
      mountsToJoin: joinStart - overlayEnd,
      join: joinEnd - joinStart,
      joinToExec: exec.ts - joinEnd,
      execToExit: exit.ts - exec.ts,
      exitToExitGroup: exitGroup.ts - exit.ts,
      teardown: end.ts - exitGroup.ts,
      tracedTotal: end.ts - main.ts,
    });
  }
  if (rows.length === 0) return undefined;
  const avg = (k: keyof LaunchSplit): number => mean(rows.map((r) => r[k]));
  const keys = Object.keys(rows[0]!) as (keyof LaunchSplit)[];
  return Object.fromEntries(keys.map((k) => [k, k === "runs" ? rows.length : avg(k)])) as unknown as LaunchSplit;
}

function printSummary(
  timings: Map<string, Timing>,
  failed: Map<string, string>,
  phases: Phases | undefined,
  split: LaunchSplit | undefined,
  joins: Map<string, number>,
): void {
  const rows = Object.values(NAMES);
  const width = Math.max(...rows.map((r) => r.length));
  console.log("");
  console.log(
    `${"".padEnd(width)}  ${"mean ms".padStart(8)}  ${"± ms".padStart(7)}  ${"median".padStart(7)}  ${"min".padStart(7)}  ${"max".padStart(7)}  runs`,
  );
  for (const name of rows) {
    const t = timings.get(name);
    if (t) {
      console.log(
        `${name.padEnd(width)}  ${ms(t.meanMs).padStart(8)}  ${ms(t.stddevMs).padStart(7)}  ${ms(t.medianMs).padStart(7)}  ` +
          `${ms(t.minMs).padStart(7)}  ${ms(t.maxMs).padStart(7)}  ${String(t.runs).padStart(4)}`,
      );
    } else if (failed.has(name)) {
      console.log(`${name.padEnd(width)}  FAILED ${failed.get(name)}`);
    }
  }
  console.log("");

  const m = (name: string): number | undefined => timings.get(name)?.meanMs;
  const net = (raw: number | undefined, noop: number | undefined): number | undefined =>
    raw === undefined || noop === undefined ? undefined : Math.max(raw - noop, 0);
  const runcNet = net(m(NAMES.runc), m(NAMES.shNoop));
  const crunNet = net(m(NAMES.crun), m(NAMES.crunNoop));
  if (runcNet !== undefined || crunNet !== undefined) {
    const parts = [];
    if (runcNet !== undefined) parts.push(`runc ${ms(runcNet)} ms (${ms(m(NAMES.runc)!)} − ${ms(m(NAMES.shNoop)!)})`);
    if (crunNet !== undefined) parts.push(`crun ${ms(crunNet)} ms (${ms(m(NAMES.crun)!)} − ${ms(m(NAMES.crunNoop)!)})`);
    console.log(`net of the wrapper that gives each run a fresh id: ${parts.join(", ")}`);
  }
  const td = m(NAMES.tinydock);
  const goal = (peer: string, value: number | undefined, raw: number | undefined, max: number, word = "goal"): void => {
    const goalText = `${word} ≤ ${max}×`;
    if (td === undefined || value === undefined) {
      const text = (v: number | undefined): string => (v === undefined ? "n/a" : `${ms(v)} ms`);
      console.log(`run: tinydock ${text(td)}, ${peer} ${text(value)} (${goalText}) NOT MEASURED`);
      return;
    }
    const ratio = td / value;
    const rawText = raw !== undefined && raw !== value ? `; ${(td / raw).toFixed(2)}× its time with the wrapper` : "";
    console.log(`run: tinydock ${ms(td)} ms, ${peer} ${ms(value)} ms → ${ratio.toFixed(2)}× (${goalText}${rawText}) ${ratio <= max ? "PASS" : "MISS"}`);
  };
  goal("runc", runcNet, m(NAMES.runc), 1);
  goal("podman", m(NAMES.podman), undefined, 0.1);
  const bridged = (a: number | undefined, b: number | undefined): void => {
    if (a === undefined || b === undefined) return console.log("run, default networks: NOT MEASURED");
    const ratio = a / b;
    console.log(`run, default networks: tinydock ${ms(a)} ms (bridge), podman ${ms(b)} ms (netavark) → ${ratio.toFixed(2)}× (goal ≤ 0.1×) ${ratio <= 0.1 ? "PASS" : "MISS"}`);
  };
  bridged(m(NAMES.tinydockBridge), m(NAMES.podmanBridge));
  goal("crun", crunNet, m(NAMES.crun), 1, "target, next");

  if (!phases && !split) return;
  console.log("");
  const line = (label: string, value: number | undefined, how: string, indent = "  "): void => {
    console.log(`${indent}${label.padEnd(52 - indent.length)} ${(value === undefined ? "n/a" : ms(value)).padStart(6)}  ${how}`);
  };
  console.log(`where \`${NAMES.tinydock}\` goes (ms, mean of ${TRACE_RUNS} runs each):`);
  const version = m(NAMES.version);
  let sum = 0;
  for (const p of phases?.phases ?? []) {
    if (p.name.startsWith("process start") && version !== undefined) {
      line("Bun start + CLI (tinydock --version)", version, "hyperfine, above");
      line("run's modules, config, store (start → run − that)", p.ms - version, `TINYDOCK_DEBUG_TIMING "${p.name}" − --version`);
    } else {
      line(p.name, p.ms, "TINYDOCK_DEBUG_TIMING");
    }
    sum += p.ms;
  }
  if (phases) {
    line("outside the phases", phases.wallMs - sum, `the same runs' wall time (${ms(phases.wallMs)}) − their sum: exec → Bun's clock, exit, teardown`);
  }
  if (split) {
    console.log(
      `  launch and what follows, split by strace -f (${split.runs} traced runs of ${ms(split.tracedTotal)} ms; ` +
        "tracing slows the traced syscalls, so these add up to more than above):",
    );
    const i = "    ";
    line("spawn of the static init (vfork → its execve done)", split.spawnInit, "", i);
    line("init ready → the plan arrives (the CLI still preparing)", split.initToPlan, "", i);
    line("the plan → overlay mounted (unshare, hostname, lo)", split.planToOverlay, "", i);
    line("other mounts, pivot_root, masks → cgroup join", split.mountsToJoin, "", i);
    line("cgroup join (what is left of the RCU wait)", split.join, "", i);
    line("join → execve (limits, ids, caps, seccomp)", split.joinToExec, "", i);
    line("execve → exit of `true`", split.execToExit, "", i);
    line("container exit → exit_group (wait, cleanup)", split.exitToExitGroup, "", i);
    line("exit_group → tinydock gone (threads, mappings)", split.teardown, "", i);
  }
  if (joins.size > 0) {
    console.log(
      `the slowest cgroup.procs write of each run (cgroup v1 attach waits for an RCU grace period): ` +
        [...joins].map(([k, v]) => `${k} ${ms(v)} ms`).join(", "),
    );
  }
}

// "ctr-", short: podman refuses a --runroot longer than 50 characters.
if (process.env.TINYDOCK_BENCH_NETNS) await runBinaryBench(TOOLS, PATH_ENV, "ctr-", main);
else process.exit(await inOwnNetns(import.meta.path));
