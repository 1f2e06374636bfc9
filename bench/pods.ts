// `make bench`: pods side by side with podman (private storage and config, its conmon, runc and
// local pause image), inside a network namespace made for the bench: pods have a network of their
// own, so both engines use their default bridge there (tinydock's, netavark's) and the host's
// network is never touched.
//   1. `pod create` + 3× `run -d --pod` of `busybox sleep 3600` — goal ≤ 0.2× podman;
//   2. `play kube` of test/fixtures/kube/core-k8s.yaml — goal ≤ 0.2× `podman play kube`; the copy
//      timed for the goal says `imagePullPolicy: IfNotPresent` (the image is present for both), a
//      copy saying `Always` (both ask the registry again) is timed beside it, without a goal;
//   3. the infra's Pss (/proc/PID/smaps_rollup) — goal ≤ 0.2 MiB; podman's infra for scale:
//      catatonit plus the conmon that watches it.
// Each timed run starts from no pod (`pod rm -f`, `play kube --down`, untimed, before it).
//   BENCH_POD_RUNS (default 10), BENCH_KUBE_RUNS (default 10). TINYDOCK_BIN: the binary (./tinydock).
import fs from "node:fs";
import path from "node:path";
import type { TestRegistry } from "../test/helpers/registry.ts";
import { removeCgroups } from "./cgroups.ts";
import { hyperfine, type Timing } from "./hyperfine.ts";
import { busyboxPeers } from "./peers.ts";
import { Children, inOwnNetns, log, mib, ms, positiveEnv, pssKiB, q, removeTree, runBinaryBench, type BinaryBench } from "./processes.ts";

const POD_RUNS = positiveEnv("BENCH_POD_RUNS", 10);
const KUBE_RUNS = positiveEnv("BENCH_KUBE_RUNS", 10);
const PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const TOOLS = ["hyperfine", "podman", "docker-registry", "nsenter", "ip"];
const PREFIX = `tinydock-bench-${process.pid}`;
const POD = "tinydock-bench-pod";
const MEMBERS = 3;
const FIXTURE = path.join(import.meta.dir, "..", "test", "fixtures", "kube", "core-k8s.yaml");
const FIXTURE_IMAGE = "docker.io/busybox:latest";
/** The fixture's image as podman stores it (docker.io/busybox means library/busybox). */
const PODMAN_IMAGE = "docker.io/library/busybox:latest";

/** The fixture with `imagePullPolicy` set on its one container. */
function fixtureWithPolicy(dir: string, policy: "IfNotPresent" | "Always"): string {
  const text = fs.readFileSync(FIXTURE, "utf8");
  const m = new RegExp(`^(\\s*)image: ${FIXTURE_IMAGE.replace(/[.]/g, "\\.")}$`, "m").exec(text);
  if (!m) throw new Error(`Cannot set imagePullPolicy: ${FIXTURE} has no "image: ${FIXTURE_IMAGE}" line`);
  const file = path.join(dir, `core-k8s-${policy}.yaml`);
  fs.writeFileSync(file, text.replace(m[0], `${m[0]}\n${m[1]}imagePullPolicy: ${policy}`));
  return file;
}

const verdict = (ok: boolean): string => (ok ? "PASS" : "MISS");

async function main({ children, onCleanup, binary, workdir }: BinaryBench): Promise<number> {
  const tinydockRoot = path.join(workdir, "tinydock");
  let registry: TestRegistry | undefined;
  let podman: { argv: string[]; env: Record<string, string> } | undefined;
  let env: Record<string, string> = { PATH: PATH_ENV };
  onCleanup(async (children) => {
    const td = q(binary);
    const kube: string[] = [];
    if (fs.existsSync(tinydockRoot)) {
      await children.run(["sh", "-c", `for p in $(${td} pod ps -q --no-trunc); do ${td} pod rm -f $p >/dev/null; done`], env);
      await children.run(["sh", "-c", `ids=$(${td} ps -aq --no-trunc); [ -z "$ids" ] || ${td} rm -f $ids >/dev/null`], env);
    }
    if (podman && fs.existsSync(workdir)) {
      // The cgroups of the pods `play kube` made (it takes no --cgroup-parent), in case podman leaves them.
      const pm = podman.argv.map(q).join(" ");
      const cg = await children.run(["sh", "-c", `${pm} pod ps -q --no-trunc | xargs -r -n1 ${pm} pod inspect --format '{{.CgroupPath}}'`], env);
      kube.push(...cg.stdout.split("\n").filter((l) => l.startsWith("/libpod_parent/")));
      await children.run([...podman.argv, "pod", "rm", "-af", "-t", "0"], env);
      await children.run([...podman.argv, "rm", "-af", "-t", "0"], env);
      await children.run([...podman.argv, "rmi", "-af"], env);
    }
    const ids = fs.existsSync(path.join(tinydockRoot, "containers")) ? fs.readdirSync(path.join(tinydockRoot, "containers")) : [];
    const left = [
      ...(await removeCgroups([`${PREFIX}-podman`, ...ids.map((id) => `tinydock/${id}`)])),
      // libpod_parent is the host's podman's as well: only the pods' own cgroups go.
      ...(await removeCgroups(kube.map((c) => c.slice(1)), true)),
    ];
    for (const l of left) console.error(`# ${l}`);
    await removeTree(children, workdir);
    await registry?.stop();
  });

  const set = await busyboxPeers(workdir, PATH_ENV, tinydockRoot, (r) => (registry = r), { TINYDOCK_EXEC_ROOT: path.join(workdir, "exec") });
  const { peers } = set;
  podman = { argv: peers.podmanArgv, env: peers.env };
  env = set.env;
  const td = q(binary);
  const pm = peers.podmanArgv.map(q).join(" ");
  const ifNotPresent = fixtureWithPolicy(workdir, "IfNotPresent");
  const always = fixtureWithPolicy(workdir, "Always");

  const sh = async (what: string, command: string, extraEnv: Record<string, string> = {}): Promise<{ ms: number; stdout: string; stderr: string }> => {
    const t = performance.now();
    const r = await children.run(["sh", "-c", command], { ...env, ...extraEnv });
    const took = performance.now() - t;
    if (r.code !== 0) throw new Error(`${what} failed, exit ${r.code}: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}`);
    return { ms: took, stdout: r.stdout, stderr: r.stderr };
  };
  // Both get the fixture's image under its docker.io name (tinydock through its mirror, podman
  // through registries.conf), so `busybox` and the YAML's image are the one present image.
  await sh("tinydock pull", `${td} pull -q ${FIXTURE_IMAGE}`);
  await sh("podman pull", `${pm} pull --quiet --signature-policy ${q(path.join(workdir, "conf", "policy.json"))} ${PODMAN_IMAGE}`);

  const members = (run: string): string => Array.from({ length: MEMBERS }, () => `${run} >/dev/null`).join(" && ");
  const tdPod = `${td} pod create --name ${POD} >/dev/null && ${members(`${td} run -d --pod ${POD} busybox sleep 3600`)}`;
  // podman creates the infra (from its local pause image, built with catatonit on first use) but
  // starts it with the pod's first container: the sum is the same work as tinydock's.
  const pmPod = `${pm} pod create --name ${POD} --cgroup-parent /${PREFIX}-podman >/dev/null && ${members(`${pm} run -d --pull never --pod ${POD} ${PODMAN_IMAGE} sleep 3600`)}`;
  const tdPodRm = `${td} pod rm -f ${POD} >/dev/null 2>&1; true`;
  const pmPodRm = `${pm} pod rm -f -t 0 ${POD} >/dev/null 2>&1; true`;
  const tdPlay = (file: string): string => `${td} play kube ${q(file)} >/dev/null`;
  const pmPlay = (file: string): string => `${pm} play kube ${q(file)} >/dev/null`;
  const tdDown = `${td} play kube --down ${q(ifNotPresent)} >/dev/null 2>&1; true`;
  const pmDown = `${pm} play kube --down ${q(ifNotPresent)} >/dev/null 2>&1; true`;

  // Once each before the clock, checked (the infra and the 3 running): podman builds its pause image
  // here, and first-use costs go.
  const running = async (what: string, ps: string, want: number): Promise<void> => {
    const n = (await sh(what, ps)).stdout.split("\n").filter(Boolean).length;
    if (n !== want) throw new Error(`${what}: ${n} containers running, expected ${want}`);
  };
  await sh("tinydock pod + 3", tdPod);
  await running("tinydock ps", `${td} ps -q`, MEMBERS + 1);
  await sh("tinydock pod rm", tdPodRm);
  await sh("podman pod + 3", pmPod);
  await running("podman ps", `${pm} ps -q`, MEMBERS + 1);
  await sh("podman pod rm", pmPodRm);
  await sh("tinydock play kube", tdPlay(ifNotPresent));
  await sh("tinydock play kube --down", tdDown);
  await sh("podman play kube", pmPlay(ifNotPresent));
  await sh("podman play kube --down", pmDown);
  const pause = (await sh("podman images", `${pm} images --format '{{.Repository}}:{{.Tag}}'`)).stdout.split("\n").find((l) => l.includes("pause")) ?? "none";
  log(`podman's infra image: ${pause}`);

  // 1. pod create + 3 containers started.
  const pods = await hyperfine(
    children,
    [
      { name: "tinydock pod", command: tdPod, prepare: tdPodRm },
      { name: "podman pod", command: pmPod, prepare: pmPodRm },
    ],
    { runs: POD_RUNS, warmup: 1, env, workdir },
  );
  await sh("tinydock pod rm", tdPodRm);
  await sh("podman pod rm", pmPodRm);

  // 2. play kube, then 3. the infra's Pss of the pods the last runs left.
  const kube = await hyperfine(
    children,
    [
      { name: "tinydock play kube", command: tdPlay(ifNotPresent), prepare: tdDown },
      { name: "podman play kube", command: pmPlay(ifNotPresent), prepare: pmDown },
      { name: "tinydock play kube (Always)", command: tdPlay(always), prepare: tdDown },
      { name: "podman play kube (Always)", command: pmPlay(always), prepare: pmDown },
    ],
    { runs: KUBE_RUNS, warmup: 1, env, workdir },
  );
  await Bun.sleep(1000);
  const kubePod = "core-k8s";
  const tdInfra = Number((await sh("tinydock infra pid", `${td} inspect --format '{{.State.Pid}}' ${kubePod}-infra`)).stdout.trim());
  const [pmInfra = 0, pmConmon = 0] = (
    await sh("podman infra pids", `${pm} inspect --format '{{.State.Pid}} {{.State.ConmonPid}}' $(${pm} pod inspect --format '{{.InfraContainerID}}' ${kubePod})`)
  ).stdout
    .trim()
    .split(" ")
    .map(Number);
  const tdPss = pssKiB(tdInfra);
  const pmPss = pssKiB(pmInfra);
  const conmonPss = pssKiB(pmConmon);
  await sh("tinydock play kube --down", tdDown);
  await sh("podman play kube --down", pmDown);

  // Where tinydock's time goes: each step of one pod alone, and `run`'s phases in a pod.
  const steps: string[] = [];
  const step = async (name: string, cmd: string): Promise<void> => {
    const r = await sh(name, cmd, { TINYDOCK_DEBUG_TIMING: "1" });
    const phases = r.stderr.trim().split("\n").filter((l) => /\d/.test(l)).join("; ");
    steps.push(`  ${name}: ${ms(r.ms)} ms${phases ? ` (${phases})` : ""}`);
  };
  await step("pod create", `${td} pod create --name ${POD} >/dev/null`);
  for (let i = 1; i <= MEMBERS; i++) await step(`run -d --pod #${i}`, `${td} run -d --pod ${POD} busybox sleep 3600 >/dev/null`);
  await step("pod rm -f", tdPodRm);
  await step("play kube (IfNotPresent)", tdPlay(ifNotPresent));
  await step("play kube --down", tdDown);
  await step("play kube (Always)", tdPlay(always));
  await step("play kube --down", tdDown);
  await step("--version", `${td} --version >/dev/null`);

  const t = (m: Map<string, Timing>, k: string): Timing => m.get(k)!;
  const line = (what: string, a: Timing, b: Timing, goal?: number): void => {
    const ratio = a.meanMs / b.meanMs;
    console.log(`  ${what}: tinydock ${ms(a.meanMs)} ms (median ${ms(a.medianMs)}), podman ${ms(b.meanMs)} ms (median ${ms(b.medianMs)})`);
    console.log(`    ${goal !== undefined ? `goal ≤ ${goal}× podman: ` : "no goal: "}${ratio.toFixed(2)}×${goal !== undefined ? ` ${verdict(ratio <= goal)}` : ""}`);
  };
  console.log("");
  console.log(`pods (default bridges in the bench's network namespace; podman's infra from ${pause}):`);
  line(`pod create + ${MEMBERS}× run -d --pod busybox sleep 3600`, t(pods, "tinydock pod"), t(pods, "podman pod"), 0.2);
  line("play kube core-k8s.yaml, imagePullPolicy: IfNotPresent (image present)", t(kube, "tinydock play kube"), t(kube, "podman play kube"), 0.2);
  line("play kube core-k8s.yaml, imagePullPolicy: Always (both ask the registry)", t(kube, "tinydock play kube (Always)"), t(kube, "podman play kube (Always)"));
  if (tdPss === undefined) console.log(`  infra Pss: tinydock's pause process (pid ${tdInfra}) not found MISS`);
  else {
    const pm = pmPss !== undefined && conmonPss !== undefined ? `podman ${mib(pmPss + conmonPss)} MiB (catatonit ${mib(pmPss)}, conmon ${mib(conmonPss)})` : "podman's not found";
    console.log(`  infra Pss: tinydock ${mib(tdPss)} MiB, ${pm}`);
    console.log(`    goal ≤ 0.2 MiB: ${mib(tdPss)} MiB ${verdict(tdPss <= 0.2 * 1024)}`);
  }
  console.log("tinydock alone, one pod step by step (TINYDOCK_DEBUG_TIMING=1):");
  for (const s of steps) console.log(s);
  return 0;
}

// "pods-", short: podman refuses a --runroot longer than 50 characters.
if (process.env.TINYDOCK_BENCH_NETNS) await runBinaryBench(TOOLS, PATH_ENV, "pods-", main);
else process.exit(await inOwnNetns(import.meta.path));
