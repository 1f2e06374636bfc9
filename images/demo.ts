// `make demo`: a private registry on loopback, images/busybox built and pushed to it as
// library/busybox:latest, then through it as a registry mirror: `./tinydock pull busybox`,
// `images`, `run --rm busybox echo hello from tinydock`, then the mission's line
// `run -d --name tinydock-demo -p 8080:8080 busybox httpd -f -v -p 8080 -h /www`, `ps`, a curl of
// http://127.0.0.1:8080/, `logs` (httpd -v logs the request), `rm -f`, and `network prune -f` to
// leave the host's network as it was; then `build -t kubia images/kubia`, `run -d --name
// kubia-container -p 8080:8080 kubia` and a curl that answers "You've hit <hostname>", `push` of
// kubia to the registry, `rmi`, `pull` back and the same run and curl again; last the notes' pods
// with `play kube` (see playPods). Each command is printed before it runs. TINYDOCK_ROOT overrides the demo's root; DEMO_PORT the host port (8080).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startRegistry } from "../test/helpers/registry.ts";
import { buildAndPush } from "./build.ts";

const repoRoot = path.resolve(import.meta.dir, "..");
const binary = path.join(repoRoot, "tinydock");

async function main(): Promise<number> {
  if (!fs.existsSync(binary)) {
    console.error(`Cannot run the demo: ${binary} does not exist (run make first)`);
    return 1;
  }
  const registry = await startRegistry();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tinydock-demo-"));
  let cleanupContainer: (() => Promise<void>) | undefined;
  const stop = async (): Promise<void> => {
    await cleanupContainer?.();
    await registry.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = (): void => {
    void stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    console.log(`# registry at ${registry.url}`);
    const target = `${registry.url}/library/busybox:latest`;
    console.log(`$ bun images/build.ts images/busybox --push ${target}`);
    const image = await buildAndPush(path.join(repoRoot, "images/busybox"), target, { log: () => {} });
    console.log(`pushed ${target} ${image.manifestDigest}`);

    const configPath = path.join(tmp, "config.json");
    fs.writeFileSync(
      configPath,
      `${JSON.stringify({ "registry-mirrors": [registry.url], "mirror-fallback": false, "insecure-registries": [registry.host] }, null, 2)}\n`,
    );
    const root = process.env.TINYDOCK_ROOT || "/var/lib/tinydock";
    const env = { ...process.env, TINYDOCK_CONFIG: configPath, TINYDOCK_ROOT: root };
    let status = 0;
    const step = async (args: string[]): Promise<number> => {
      console.log(`$ TINYDOCK_CONFIG=${configPath} TINYDOCK_ROOT=${root} ./tinydock ${args.join(" ")}`);
      const proc = Bun.spawn([binary, ...args], { env, cwd: repoRoot, stdin: "ignore", stdout: "inherit", stderr: "inherit" });
      const code = await proc.exited;
      if (code !== 0) {
        console.log(`# ./tinydock ${args.join(" ")} exited ${code}`);
        status = code;
      }
      return code;
    };
    for (const args of [["pull", "busybox"], ["images"], ["run", "--rm", "busybox", "echo", "hello from tinydock"]]) await step(args);

    const port = process.env.DEMO_PORT || "8080";
    const name = "tinydock-demo";
    // A leftover of an interrupted demo, quietly.
    Bun.spawnSync([binary, "rm", "-f", name], { env, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    cleanupContainer = async () => {
      await step(["rm", "-f", name]);
      await step(["network", "prune", "-f"]);
    };
    /** curl url until it answers what `ok` accepts (httpd listens a few ms after run -d returns): 5 s at most. */
    const curl = async (url: string, ok: (body: string) => boolean): Promise<string | undefined> => {
      console.log(`$ curl -s ${url}`);
      for (let i = 0; i < 50; i++) {
        const r = Bun.spawnSync(["curl", "-s", "--max-time", "2", url], { stdout: "pipe", stderr: "pipe" });
        if (r.exitCode === 0 && ok(r.stdout.toString())) return r.stdout.toString();
        await Bun.sleep(100);
      }
      console.log(`# curl ${url} failed`);
      status = 1;
      return undefined;
    };
    if ((await step(["run", "-d", "--name", name, "-p", `${port}:8080`, "busybox", "httpd", "-f", "-v", "-p", "8080", "-h", "/www"])) === 0) {
      await step(["ps"]);
      const page = await curl(`http://127.0.0.1:${port}/`, () => true);
      if (page !== undefined) process.stdout.write(page);
      await step(["logs", name]);
    }
    await cleanupContainer();
    cleanupContainer = undefined;

    // The study notes' workflow: `docker build -t kubia .`, run it with its port published (the
    // answer names the container's hostname, its short id), `docker push` it, and run what comes
    // back from the registry.
    const kubia = "kubia-container";
    const runKubia = async (image: string): Promise<void> => {
      Bun.spawnSync([binary, "rm", "-f", kubia], { env, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
      cleanupContainer = async () => {
        await step(["rm", "-f", kubia]);
        await step(["network", "prune", "-f"]);
      };
      if ((await step(["run", "-d", "--name", kubia, "-p", `${port}:8080`, image])) === 0) {
        const answer = await curl(`http://127.0.0.1:${port}/`, (body) => body.startsWith("You've hit "));
        if (answer !== undefined) process.stdout.write(answer);
      }
      await cleanupContainer();
      cleanupContainer = undefined;
    };
    if ((await step(["build", "-t", "kubia", "images/kubia"])) !== 0) return 1;
    await runKubia("kubia");
    const shared = `${registry.host}/demo/kubia:latest`;
    for (const args of [["tag", "kubia", shared], ["push", shared], ["rmi", "kubia", shared], ["pull", shared]]) {
      if ((await step(args)) !== 0) return status;
    }
    await runKubia(shared);
    await step(["rmi", shared]);
    const quiet = (args: string[]): void => {
      Bun.spawnSync([binary, ...args], { env, cwd: repoRoot, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    };
    await playPods(step, quiet, curl, port === "8080" ? "30080" : String(Number(port) + 1));
    return status;
  } finally {
    await stop();
  }
}

type Step = (args: string[]) => Promise<number>;
type Curl = (url: string, ok: (body: string) => boolean) => Promise<string | undefined>;

/**
 * The study notes' pods: core-k8s (busybox `sleep 10000` with labels and a containerPort), its
 * greedy twin whose `limits.memory: 200Mi` becomes the cgroup's 209715200, then three replicas of
 * an httpd behind a NodePort Service that kube-proxy-style DNAT balances. Everything is played
 * down again at the end.
 */
async function playPods(step: Step, quiet: (args: string[]) => void, curl: Curl, nodePort: string): Promise<void> {
  const fixture = (name: string): string => path.join("test/fixtures/kube", name);
  const core = fixture("core-k8s.yaml");
  const greedy = fixture("core-k8s-greedy.yaml");
  const web = path.join(os.tmpdir(), `tinydock-demo-web-${process.pid}.yaml`);
  fs.writeFileSync(web, fs.readFileSync(fixture("web-deployment.yaml"), "utf8").replace("nodePort: 30080", `nodePort: ${nodePort}`));
  const files = [core, greedy, web];
  // Leftovers of an interrupted demo, quietly.
  for (const file of files) quiet(["play", "kube", "--down", file]);
  try {
    if ((await step(["play", "kube", core])) !== 0) return;
    await step(["pod", "ps"]);
    await step(["ps", "--filter", "pod=core-k8s", "--format", "{{.Names}}\t{{.Command}}\t{{.Status}}"]);
    await step(["exec", "core-k8s-any-old-name-will-do", "hostname"]);
    if ((await step(["play", "kube", greedy])) !== 0) return;
    await step(["inspect", "--format", "memory limit: {{.HostConfig.Memory}}", "core-k8s-greedy-any-old-name-will-do"]);
    if ((await step(["play", "kube", web])) !== 0) return;
    await step(["pod", "ps", "--filter", "label=app=web"]);
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 2; i++) {
      const host = await curl(`http://127.0.0.1:${nodePort}/`, (body) => body.trim().length > 0);
      if (host === undefined) break;
      process.stdout.write(host);
      seen.add(host.trim());
    }
    console.log(`# the NodePort Service answered from ${seen.size} different pods`);
  } finally {
    for (const file of files.reverse()) await step(["play", "kube", "--down", file]);
    await step(["network", "prune", "-f"]);
    fs.rmSync(web, { force: true });
  }
}

process.exit(await main());
