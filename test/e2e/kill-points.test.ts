// Crash consistency as a user meets it: the CLI SIGKILLed at several points of `run -d -p`,
// `create`, `start`, `stop` and `rm -f`, and a monitor SIGKILLed while its container runs and during
// a restart back-off. After each: `ps -a` tells the truth (nothing shown running that is not),
// `rm -f` + `system prune -f` leave no container, veth, lease, netns file, cgroup or monitor
// behind, a bystander container started before is untouched (same pid, still serving), and once it
// goes too the firewall is as it was. All inside a network namespace made for this file.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { BINARY, cliEnv, type CliEnv } from "../helpers/cli.ts";
import { containerIds, pidExists, readRunJson, startE2e, until, type E2e } from "../helpers/e2e.ts";
import { findLeaks } from "../helpers/leakcheck.ts";

let e: E2e | undefined;
let env: CliEnv;
let rulesBefore = "";
let T: E2e["T"], rules: E2e["rules"], inNs: E2e["inNs"];
const sh = (argv: string[]): string => e!.sh(argv).stdout;
const runJson = (id: string) => readRunJson(env, id);
const alive = pidExists;
const ids = (): string[] => containerIds(env);
const leases = (): string[] => {
  const base = path.join(env.root, "networks");
  const out: string[] = [];
  for (const net of fs.existsSync(base) ? fs.readdirSync(base) : []) {
    const d = path.join(base, net, "leases");
    for (const f of fs.existsSync(d) ? fs.readdirSync(d) : []) out.push(`${net}/${f}:${fs.readFileSync(path.join(d, f), "utf8").trim()}`);
  }
  return out;
};
const veths = (): string[] =>
  sh(["ip", "-o", "link", "show"])
    .split("\n")
    .map((l) => l.split(": ")[1]?.split("@")[0] ?? "")
    .filter((n) => /^td[0-9a-f]/.test(n));
const curl = (url: string): string => sh(["curl", "-sS", "--max-time", "3", url]);

/** Starts the CLI, SIGKILLs it after `delayMs` (or lets it finish first), and waits for it. */
async function killAfter(args: string[], delayMs: number): Promise<void> {
  const p = Bun.spawn(inNs([BINARY, ...args]), { env: cliEnv(env), stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  await Bun.sleep(delayMs);
  p.kill("SIGKILL");
  await p.exited;
}

let bystander = { id: "", pid: 0, monitorPid: 0 };

/** ps -a is truthful, then rm -f of all but the bystander and system prune leave nothing of them. */
async function checkAndClean(what: string): Promise<void> {
  // Truth: every container ps calls running (Up …) has a live process; the others none.
  const ps = T(["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.State}}"]);
  expect(ps.code).toBe(0);
  for (const line of ps.stdout.trim().split("\n").filter(Boolean)) {
    const [id, state] = line.split(" ");
    const run = runJson(id!);
    if (state === "running") expect([what, id, alive(run?.pid)]).toEqual([what, id, true]);
  }
  // rm -f what ps lists; a directory a killed create left without its record is system prune's.
  const listed = T(["ps", "-aq", "--no-trunc"]).stdout.split("\n").filter((id) => id && id !== bystander.id);
  if (listed.length) expect([what, T(["rm", "-f", ...listed])]).toEqual([what, expect.objectContaining({ code: 0 })]);
  expect([what, T(["system", "prune", "-f"]).code]).toEqual([what, 0]);
  const left = ids().filter((id) => id !== bystander.id);
  // What is left, named with its files, so a failure says which step was cut.
  expect([what, left.map((id) => `${id.slice(0, 12)}: ${fs.readdirSync(path.join(env.root, "containers", id)).sort().join(",")}`)]).toEqual([what, []]);
  const mine = JSON.parse(fs.readFileSync(path.join(env.root, "containers", bystander.id, "state.json"), "utf8")) as {
    network?: { endpoint?: { hostVeth?: string; ipAddress?: string } };
  };
  expect([what, veths()]).toEqual([what, [mine.network!.endpoint!.hostVeth!]]);
  expect([what, leases().length]).toEqual([what, 1]);
  expect([what, fs.readdirSync(path.join(env.root, "netns"))]).toEqual([what, [bystander.id]]);
  const monitors = sh(["ps", "-eo", "pid=,args="])
    .split("\n")
    .filter((l) => l.includes("tinydock-monitor") && l.includes(env.root));
  expect([what, monitors.length]).toEqual([what, 1]);
  // The bystander: same processes, still serving.
  expect([what, alive(bystander.pid), alive(bystander.monitorPid), runJson(bystander.id)?.pid]).toEqual([what, true, true, bystander.pid]);
  expect([what, curl("http://127.0.0.1:8090/")]).toEqual([what, expect.stringContaining("Hello from tinydock")]);
}

const DELAYS = [0, 10, 25, 60, 150];

describe("SIGKILL at several points", () => {
  beforeAll(async () => {
    e = await startE2e({ prefix: "tinydock-kill-", netns: `tdt-kill-${process.pid}` });
    ({ env, T, rules, inNs } = e);
    rulesBefore = rules();
    const r = T(["run", "-d", "--name", "bystander", "-p", "8090:8080", "busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]);
    expect(r.stderr).toBe("");
    const id = r.stdout.trim();
    const run = runJson(id)!;
    bystander = { id, pid: run.pid!, monitorPid: run.monitorPid! };
    await until("the bystander serves", () => curl("http://127.0.0.1:8090/").includes("Hello from tinydock"));
  }, 120_000);

  afterAll(async () => {
    await e?.stop();
  });


  test("during run -d -p (network and port setup)", async () => {
    for (const [i, d] of DELAYS.entries()) await killAfter(["run", "-d", "--name", `r${i}`, "-p", `${8100 + i}:8080`, "busybox", "httpd", "-f", "-p", "8080"], d);
    await checkAndClean("run -d -p");
  }, 120_000);

  test("during create and start", async () => {
    for (const [i, d] of DELAYS.entries()) await killAfter(["create", "--name", `c${i}`, "-p", `${8200 + i}:8080`, "busybox", "sleep", "300"], d);
    await checkAndClean("create");
    for (const [i, d] of DELAYS.entries()) {
      expect(T(["create", "--name", `s${i}`, "-p", `${8300 + i}:8080`, "busybox", "sleep", "300"]).code).toBe(0);
      await killAfter(["start", `s${i}`], d);
    }
    await checkAndClean("start");
  }, 120_000);

  test("during stop and rm -f", async () => {
    for (const cmd of [["stop", "-t", "1"], ["rm", "-f"]]) {
      for (const [i, d] of DELAYS.entries()) {
        const r = T(["run", "-d", "--name", `k${i}`, "-p", `${8400 + i}:8080`, "busybox", "sleep", "300"]);
        expect(r.code).toBe(0);
        await killAfter([...cmd, `k${i}`], d);
      }
      await checkAndClean(cmd.join(" "));
    }
  }, 180_000);

  test("of the monitor: while running, during stop, during a restart back-off", async () => {
    const running = T(["run", "-d", "-p", "8500:8080", "busybox", "sleep", "300"]).stdout.trim();
    const m1 = runJson(running)!;
    process.kill(m1.monitorPid!, "SIGKILL");
    await until("the container dies with its monitor", () => !alive(m1.pid));
    expect(T(["ps", "-a", "--filter", `id=${running}`, "--format", "{{.Status}}"]).stdout).toContain("Exited (137)");

    const stopping = T(["run", "-d", "busybox", "sh", "-c", "trap '' TERM; sleep 300"]).stdout.trim();
    const m2 = runJson(stopping)!;
    const stop = Bun.spawn(inNs([BINARY, "stop", "-t", "5", stopping]), { env: cliEnv(env), stdout: "ignore", stderr: "ignore" });
    await Bun.sleep(300);
    process.kill(m2.monitorPid!, "SIGKILL");
    await stop.exited;
    await until("the stopping container dies with its monitor", () => !alive(m2.pid));

    const looping = T(["run", "-d", "--restart", "always", "busybox", "sh", "-c", "exit 1"]).stdout.trim();
    await until("a restart", () => (runJson(looping)?.restartCount ?? 0) >= 2);
    process.kill(runJson(looping)!.monitorPid!, "SIGKILL");
    await until("the monitor is gone", () => !alive(runJson(looping)?.monitorPid));
    const ps = T(["ps", "-a", "--filter", `id=${looping}`, "--format", "{{.State}}"]).stdout.trim();
    expect(ps === "exited" || ps === "dead").toBe(true);
    await checkAndClean("monitor");
  }, 120_000);

  test("the bystander goes too: the firewall is as it was, nothing is left", () => {
    expect(T(["rm", "-f", bystander.id]).code).toBe(0);
    expect(T(["network", "prune", "-f"]).code).toBe(0);
    expect(rules()).toBe(rulesBefore);
    expect(veths()).toEqual([]);
    expect(leases()).toEqual([]);
    // This root's mounts and monitors (a monitor's command line names its container's directory);
    // a user's containers elsewhere on the host are not this test's.
    expect(findLeaks().filter((l) => l.includes(env.root))).toEqual([]);
  });
});
