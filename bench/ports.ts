// `make bench`, third part: what a published port costs. In namespaces of its own (the port tests'
// stand-in: a host netns with a bridge, a container netns running busybox httpd, an external
// client netns), with tinydock's rules applied by src/network/firewall.ts on the host's backend:
//   - a 100 MB file with curl (MB/s, median of BENCH_NET_RUNS) and wrk req/s on a small file,
//   - through `-p` on 127.0.0.1 and on the host's address from outside, against the
//     container's own IP (the goal: ≥ 0.95× direct),
//   - against a userland proxy (bench/tcp-proxy.ts, docker-proxy's job) on 127.0.0.1,
//   - against `podman run -p 127.0.0.1:8280:81` in the same host netns, same files,
//   - and, once `run` publishes ports, a real `tinydock run -p 127.0.0.1:8380:81` container.
// Everything is torn down at the end (the namespaces take the bridge, veths and rules with them).
//   BENCH_NET_RUNS (default 5): curl runs per target; BENCH_NET_SECONDS (default 4): per wrk run.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildDefinition } from "../images/build.ts";
import { createFirewall, detectBackend } from "../src/network/firewall.ts";
import { pushImage } from "../test/helpers/image.ts";
import { startRegistry, type TestRegistry } from "../test/helpers/registry.ts";
import { BRIDGE, createStandIn, HOST_ADDR, SUBNET, waitListening, type StandIn } from "../test/helpers/standin-net.ts";
import { CACHE_ROOT } from "./image.ts";
import { setUpPeers } from "./peers.ts";
import { Children, log, positiveEnv, removeTree, runBench } from "./processes.ts";
import { Trash } from "./trash.ts";

const RUNS = positiveEnv("BENCH_NET_RUNS", 5);
const SECONDS = positiveEnv("BENCH_NET_SECONDS", 4);
const PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const TOOLS = ["curl", "wrk", "ip", "busybox", "ss"];
const BIG_MB = 100;
const WRK_ROUNDS = Math.min(RUNS, 5);
const TRANSFERS = 5;
// busybox httpd listens with a backlog of 9 (`ss -ltn`: Send-Q 9). More wrk connections than that
// overflow its accept queue: the SYNs dropped wait a 1 s retransmit, a few dozen per run at random,
// and req/s measures those stalls instead of the path (ratios from 0.6 to 2.2 between rounds).
const WRK_CONNECTIONS = 8;
const ID = "b".repeat(64);
const PODMAN_NAME = `tinydock-bench-net-${process.pid}`;
const TINYDOCK_NAME = `tinydock-bench-net-${process.pid}`;
const BINARY = path.resolve(process.env.TINYDOCK_BIN || path.join(import.meta.dir, "..", "tinydock"));

interface Target {
  name: string;
  /** The netns the client runs in. */
  ns: string;
  url: string;
  /** The direct line its ratio is taken against (default: the stand-in's, from the same side). */
  base?: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(children: Children, onCleanup: (fn: (children: Children) => Promise<void>) => void): Promise<number> {
  const started = performance.now();
  const missing = TOOLS.filter((t) => !Bun.which(t, { PATH: PATH_ENV }));
  if (missing.length > 0) {
    console.error(`Cannot run the bench: ${missing.join(", ")} not installed (make deps)`);
    return 1;
  }
  fs.mkdirSync(CACHE_ROOT, { recursive: true });
  const workdir = fs.mkdtempSync(path.join(CACHE_ROOT, "net-"));
  let s: StandIn | undefined;
  let registry: TestRegistry | undefined;
  let podman: { argv: string[]; env: Record<string, string> } | undefined;
  let tinydockEnv: Record<string, string> | undefined;
  let tinydockRun: ReturnType<typeof Bun.spawn> | undefined;
  onCleanup(async (children) => {
    // tinydock's container, then its default bridge, in the netns they are in.
    if (tinydockEnv && s) {
      await children.run([...inHostNetns(s), BINARY, "rm", "-f", TINYDOCK_NAME], tinydockEnv);
      await children.run([...inHostNetns(s), BINARY, "network", "prune", "-f"], tinydockEnv);
    }
    tinydockRun?.kill("SIGKILL");
    // podman's teardown (netavark) must run in the namespace its rules are in.
    if (podman && s) await children.run([...inHostNetns(s), ...podman.argv, "rm", "-f", "-t", "0", PODMAN_NAME], { PATH: PATH_ENV, ...podman.env });
    if (podman && fs.existsSync(workdir)) await children.run([...podman.argv, "rmi", "-af"], { PATH: PATH_ENV, ...podman.env });
    await s?.destroy();
    await registry?.stop();
    await removeTree(children, workdir);
  });

  // The files: 100 MB (random, so nothing compresses it) and a page of nginx's default size.
  const www = path.join(workdir, "www");
  fs.mkdirSync(www);
  const chunk = new Uint8Array(1024 * 1024);
  crypto.getRandomValues(chunk.subarray(0, 65536));
  for (let i = 65536; i < chunk.length; i += 65536) chunk.copyWithin(i, 0, 65536);
  const fd = fs.openSync(path.join(www, "big"), "w");
  for (let i = 0; i < BIG_MB; i++) fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  fs.writeFileSync(path.join(www, "small.html"), `${"<p>tinydock</p>\n".repeat(38)}`);

  s = await createStandIn(1, `tdt-bench${process.pid % 10000}`);
  const c = s.containers[0]!;
  // A route from the outside client to the containers, for the "direct from outside" line.
  await s.exec(s.ext, ["ip", "route", "add", SUBNET, "via", HOST_ADDR]);
  // One httpd port per target: a server's TIME_WAIT sockets from one path would otherwise meet
  // the SYNs of another, whose TCP timestamps (offset per address pair) are older: PAWS drops them
  // and the client waits a 1 s retransmit. Measured here, that alone halves a NAT'd path's req/s
  // when it follows a direct run. A real published port sees only its own path.
  for (const port of [80, 81, 82, 83, 84]) {
    s.spawn(c.ns, ["busybox", "httpd", "-f", "-p", String(port), "-h", www]);
    await waitListening(s, c.ns, port);
  }

  const backend = await detectBackend(s.hostExec);
  const firewall = createFirewall(backend, s.hostExec);
  await firewall.publish({ id: ID, ip: c.ip, bridge: BRIDGE, subnet: SUBNET, bindings: [
      { hostIp: "", hostPort: 8080, containerPort: 81, protocol: "tcp" },
      { hostIp: "", hostPort: 8084, containerPort: 84, protocol: "tcp" },
    ],
  });
  log(`rules: ${backend} (the host's backend), -p 8080:81 -p 8084:84 to ${c.ip} in netns ${s.host}; ${os.cpus().length} cores`);

  s.spawn(s.host, [process.execPath, path.join(import.meta.dir, "tcp-proxy.ts"), "127.0.0.1", "8180", c.ip, "82"]);
  await waitListening(s, s.host, 8180);

  const targets: Target[] = [
    { name: "direct: host → container IP", ns: s.host, url: `http://${c.ip}:80` },
    { name: "-p: host → 127.0.0.1:8080 (DNAT)", ns: s.host, url: "http://127.0.0.1:8080" },
    { name: "proxy: host → 127.0.0.1:8180 (userland)", ns: s.host, url: "http://127.0.0.1:8180" },
    { name: "direct: outside → container IP (routed)", ns: s.ext, url: `http://${c.ip}:83` },
    { name: `-p: outside → ${HOST_ADDR}:8084 (DNAT)`, ns: s.ext, url: `http://${HOST_ADDR}:8084` },
  ];

  const image = async (): Promise<{ registry: TestRegistry; reference: string }> => {
    if (!registry) {
      registry = await startRegistry();
      const { image } = await buildDefinition(path.join(import.meta.dir, "..", "images", "busybox"), { log: () => {} });
      await pushImage(registry, "library/busybox", "latest", image);
    }
    return { registry, reference: `${registry.host}/library/busybox:latest` };
  };
  const tinydockTargets = await startTinydock(children, s, www, workdir, image, (e, p) => {
    tinydockEnv = e;
    tinydockRun = p;
  });
  if (tinydockTargets) targets.push(...tinydockTargets);
  const podmanTarget = await startPodman(children, s, www, workdir, image, (p) => (podman = p));
  if (podmanTarget) targets.push(...podmanTarget);

  for (const t of targets) {
    const r = await s.exec(t.ns, ["curl", "-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", `${t.url}/small.html`]);
    if (r.stdout !== "200") throw new Error(`${t.name}: ${t.url} answers ${r.stdout || r.stderr.trim()}`);
  }
  log(`${targets.length} targets answer; ${RUNS} curl runs of ${TRANSFERS} × ${BIG_MB} MB and ${WRK_ROUNDS} wrk runs of ${SECONDS} s each, interleaved`);

  const speeds = new Map<string, number[]>();
  const rps = new Map<string, number[]>();
  // Each round starts one target later, so no target always runs first (or right after a warm-up).
  const rotated = (round: number): Target[] => targets.map((_, i) => targets[(i + round) % targets.length]!);
  for (let round = 0; round < RUNS; round++) {
    for (const t of rotated(round)) {
      // Several transfers per run (one is ~40 ms here): their mean speed is one sample.
      const urls = Array.from({ length: TRANSFERS }, () => `${t.url}/big`);
      const argv = ["curl", "-sS", "--max-time", "60", ...urls.flatMap((u) => ["-o", "/dev/null", u]), "-w", "%{speed_download}\n"];
      const r = await s.exec(t.ns, argv, { timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`${t.name}: curl exit ${r.code}: ${r.stderr.trim()}`);
      const each = r.stdout.trim().split("\n").map(Number);
      speeds.set(t.name, [...(speeds.get(t.name) ?? []), each.reduce((a, b) => a + b, 0) / each.length / 1e6]);
    }
  }
  for (let round = 0; round < WRK_ROUNDS; round++) {
    for (const t of rotated(round)) {
      const r = await s.exec(t.ns, ["wrk", "-t", "2", "-c", String(WRK_CONNECTIONS), "-d", `${SECONDS}s`, `${t.url}/small.html`], { timeoutMs: (SECONDS + 30) * 1000 });
      const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
      if (r.code !== 0 || !m) throw new Error(`${t.name}: wrk exit ${r.code}: ${(r.stderr || r.stdout).trim()}`);
      const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(r.stdout);
      if (errors) log(`${t.name}: wrk reports ${errors[0]}`);
      rps.set(t.name, [...(rps.get(t.name) ?? []), Number(m[1])]);
    }
  }

  // Ratios are paired: each round's sample over the same round's direct sample (measured moments
  // apart), then the median of those, so a neighbour's load that comes and goes cancels out.
  const direct = { host: targets[0]!.name, outside: targets[3]!.name };
  const baseOf = (t: Target): string => t.base ?? (t.ns === s!.ext ? direct.outside : direct.host);
  const pairedRatio = (samples: Map<string, number[]>, t: Target): number => {
    const mine = samples.get(t.name)!;
    const base = samples.get(baseOf(t))!;
    return median(mine.map((x, i) => x / base[i]!));
  };
  const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
  console.log("");
  console.log(
    `${"target".padEnd(48)} ${"100 MB (MB/s)".padStart(14)} ${"min-max".padStart(10)} ${"ratio".padStart(6)} ` +
      `${"wrk req/s".padStart(10)} ${"min-max".padStart(12)} ${"ratio".padStart(6)}`,
  );
  for (const t of targets) {
    const mbps = speeds.get(t.name)!;
    const req = rps.get(t.name)!;
    console.log(
      `${t.name.padEnd(48)} ${median(mbps).toFixed(0).padStart(14)} ${spread(mbps).padStart(10)} ${pairedRatio(speeds, t).toFixed(2).padStart(6)} ` +
        `${median(req).toFixed(0).padStart(10)} ${spread(req).padStart(12)} ${pairedRatio(rps, t).toFixed(2).padStart(6)}`,
    );
  }
  const dnat = targets[1]!;
  const goal = Math.min(pairedRatio(speeds, dnat), pairedRatio(rps, dnat));
  log(`ratio = median over rounds of (target / direct in the same round); direct from the host is the container's own IP`);
  log(`-p on 127.0.0.1 vs the container's own IP: ${goal.toFixed(2)}× at worst of the two (goal ≥ 0.95×) ${goal >= 0.95 ? "MET" : "NOT MET"}`);
  const real = targets.find((t) => t.name.startsWith("tinydock run -p"));
  if (real) log(`a real container, tinydock run -p on 127.0.0.1 vs its own IP: ${pairedRatio(speeds, real).toFixed(2)}× throughput, ${pairedRatio(rps, real).toFixed(2)}× req/s`);
  const podmanP = targets.find((t) => t.name.startsWith("podman -p"));
  if (real && podmanP) {
    const vs = (m: Map<string, number[]>) => median(m.get(real.name)!.map((x, i) => x / m.get(podmanP.name)![i]!));
    log(`tinydock run -p vs podman run -p, both on 127.0.0.1: ${vs(speeds).toFixed(2)}× throughput, ${vs(rps).toFixed(2)}× req/s`);
  }
  const proxy = targets[2]!;
  log(`userland proxy on 127.0.0.1: ${pairedRatio(speeds, proxy).toFixed(2)}× throughput, ${pairedRatio(rps, proxy).toFixed(2)}× req/s: DNAT is the choice`);

  await firewall.remove([ID]);
  log(`bench took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return 0;
}

/**
 * `tinydock run -p 127.0.0.1:8380:81` of the same image and files, in the host netns, when the
 * binary publishes ports (`run --help` lists --publish); left running by its foreground `run`.
 */
async function startTinydock(
  children: Children,
  s: StandIn,
  www: string,
  workdir: string,
  image: () => Promise<{ registry: TestRegistry; reference: string }>,
  setEnv: (env: Record<string, string>, run?: ReturnType<typeof Bun.spawn>) => void,
): Promise<Target[] | undefined> {
  if (!fs.existsSync(BINARY)) {
    log(`${BINARY} missing (make): no tinydock run -p line`);
    return undefined;
  }
  const help = await children.run([BINARY, "run", "--help"], { PATH: PATH_ENV });
  if (!help.stdout.includes("--publish")) {
    log("this tinydock's run has no --publish yet: the -p figures are the rules on the stand-in only");
    return undefined;
  }
  if (!Bun.which("docker-registry", { PATH: PATH_ENV })) {
    log("docker-registry not installed: no tinydock run -p line");
    return undefined;
  }
  const { registry } = await image();
  const root = path.join(workdir, "tinydock");
  const config = path.join(workdir, "tinydock.json");
  fs.writeFileSync(config, `${JSON.stringify({ "registry-mirrors": [registry.url], "mirror-fallback": false })}\n`);
  const env = { PATH: PATH_ENV, HOME: workdir, TINYDOCK_ROOT: root, TINYDOCK_CONFIG: config, DOCKER_CONFIG: path.join(workdir, "docker") };
  setEnv(env);
  const pull = await children.run([BINARY, "pull", "-q", "busybox"], env);
  if (pull.code !== 0) {
    log(`tinydock pull failed (exit ${pull.code}): ${pull.stderr.trim().split("\n").at(-1)}: no tinydock run -p line`);
    return undefined;
  }
  // The foreground run supervises the container; cleanup's rm -f ends both.
  const proc = Bun.spawn(
    [...inHostNetns(s), BINARY, "run", "--name", TINYDOCK_NAME, "-p", "127.0.0.1:8380:81", "-v", `${www}:/www:ro`, "busybox",
      "sh", "-c", "httpd -p 81 -h /www && exec httpd -f -p 80 -h /www"],
    { env, stdin: "ignore", stdout: "ignore", stderr: "pipe", detached: true },
  );
  setEnv(env, proc);
  let ip = "";
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && !ip) {
    const r = await s.exec(s.host, ["curl", "-s", "--max-time", "1", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:8380/small.html"]);
    if (r.stdout === "200") {
      const inspect = await children.run([BINARY, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", TINYDOCK_NAME], env);
      ip = inspect.stdout.trim();
    }
    if (!ip) await Bun.sleep(100);
  }
  if (!ip) {
    log(`tinydock run -p did not answer on 127.0.0.1:8380 within 15 s: no tinydock run -p line`);
    return undefined;
  }
  log(`tinydock run -p 127.0.0.1:8380:81 (container ${ip}) in netns ${s.host}`);
  const direct = { name: "tinydock run: host → container IP", ns: s.host, url: `http://${ip}:80` };
  return [direct, { name: "tinydock run -p: host → 127.0.0.1:8380", ns: s.host, url: "http://127.0.0.1:8380", base: direct.name }];
}

/**
 * nsenter, not `ip netns exec`: that one mounts a fresh /sys, without /sys/fs/cgroup, and runc then
 * fails ("no cgroup mount found in mountinfo").
 */
function inHostNetns(s: StandIn): string[] {
  return ["nsenter", `--net=/run/netns/${s.host}`];
}

/**
 * `podman run -d -p 127.0.0.1:8280:81` of images/busybox serving the same directory (httpd on 80 for
 * the direct line, 81 for the published one), in the host
 * netns (netavark makes its bridge and rules there). Undefined, with the reason logged, when podman
 * cannot run here.
 */
async function startPodman(
  children: Children,
  s: StandIn,
  www: string,
  workdir: string,
  image: () => Promise<{ registry: TestRegistry; reference: string }>,
  setPodman: (p: { argv: string[]; env: Record<string, string> }) => void,
): Promise<Target[] | undefined> {
  if (!Bun.which("podman", { PATH: PATH_ENV }) || !Bun.which("docker-registry", { PATH: PATH_ENV })) {
    log("podman or docker-registry not installed: no podman line");
    return undefined;
  }
  const { registry, reference } = await image();
  const peers = setUpPeers(workdir, registry.host, reference, new Trash(undefined));
  setPodman({ argv: peers.podmanArgv, env: peers.env });
  const env = { PATH: PATH_ENV, ...peers.env };
  const pull = await children.run(["sh", "-c", peers.podman.command], env);
  if (pull.code !== 0) {
    log(`podman pull failed (exit ${pull.code}): ${pull.stderr.trim().split("\n").at(-1)}: no podman line`);
    return undefined;
  }
  const run = await children.run(
    [
      ...inHostNetns(s), ...peers.podmanArgv, "run", "-d", "--name", PODMAN_NAME, "--pull", "never",
      "-p", "127.0.0.1:8280:81", "-v", `${www}:/www:ro`, reference,
      "sh", "-c", "httpd -p 81 -h /www && exec httpd -f -p 80 -h /www",
    ],
    env,
  );
  if (run.code !== 0) {
    log(`podman run -p in the bench's netns failed (exit ${run.code}): ${run.stderr.trim().split("\n").at(-1)}: no podman line`);
    return undefined;
  }
  const inspect = await children.run(
    [...inHostNetns(s), ...peers.podmanArgv, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", PODMAN_NAME],
    env,
  );
  const ip = inspect.stdout.trim();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const r = await s.exec(s.host, ["curl", "-s", "--max-time", "1", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:8280/small.html"]);
    if (r.stdout === "200") break;
    await Bun.sleep(100);
  }
  log(`podman run -p 127.0.0.1:8280:81 (netavark, container ${ip || "?"}) in netns ${s.host}`);
  const out: Target[] = [{ name: "podman -p: host → 127.0.0.1:8280", ns: s.host, url: "http://127.0.0.1:8280" }];
  if (ip) {
    out.unshift({ name: "podman: host → container IP", ns: s.host, url: `http://${ip}:80` });
    out[1]!.base = out[0]!.name;
  }
  return out;
}

await runBench(main);