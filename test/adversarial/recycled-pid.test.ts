// A container's recorded pid given to a host process: the container ended (or its supervisor
// crashed) and the kernel handed its pid to another process, here one of the test's own that traps
// every signal it can and logs it. The record is crafted as such a container leaves it: run.json
// names the host process's pid with a start time that is not its own, and either a supervisor that
// still lives (a process of the test with its true start time: the moment before the supervisor
// records the end) or one that is gone (it crashed). Every verb that acts on a container's process
// must see that the container is not running: none may signal, enter or read the host process,
// which is still running afterwards with nothing logged, and each answers in one line with Docker's
// exit code.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { decodePlan, encodePlan } from "../../src/runtime/encode.ts";
import { recordCases } from "../helpers/adversarial.ts";
import { startE2e, type E2e } from "../helpers/e2e.ts";

let e: E2e | undefined;
let victim: Bun.Subprocess | undefined;
let decoy: Bun.Subprocess | undefined;
let sigLog = "";
let id = "";
let other = "";

/** Field 22 of /proc/<pid>/stat. */
function startTime(pid: number): number {
  const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[19]);
}

/** Running (not stopped, not a zombie: "R" or "S") and nothing in its signal log. */
function untouched(pid: number): { state: string; signals: string } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0]!;
  return { state: state === "R" ? "S" : state, signals: fs.existsSync(sigLog) ? fs.readFileSync(sigLog, "utf8") : "" };
}

function liveNotZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** run.json as the container's supervisor last wrote it, its pid now the host process's. */
async function craft(containerId: string, supervisor: "alive" | "crashed"): Promise<void> {
  await freshVictim();
  // A stop or rm -f before may have ended it as the supervisor it posed as (seen in /proc at once;
  // Bun learns of the exit later).
  if (decoy!.exitCode !== null || decoy!.signalCode !== null || !liveNotZombie(decoy!.pid)) decoy = Bun.spawn(["sleep", "1000"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  const pid = victim!.pid;
  const run = {
    status: "running",
    pid,
    pidStartTime: startTime(pid) - 1,
    monitorPid: supervisor === "alive" ? decoy!.pid : 999_999,
    monitorStartTime: supervisor === "alive" ? startTime(decoy!.pid) : 1,
    startedAt: new Date().toISOString(),
    restartCount: 0,
  };
  fs.writeFileSync(path.join(e!.env.root, "containers", containerId, "run.json"), JSON.stringify(run));
}

/** The host process (again, when a case before ended it), its signal log emptied: each case is judged alone. */
async function freshVictim(): Promise<void> {
  fs.writeFileSync(sigLog, "");
  if (victim && victim.exitCode === null && victim.signalCode === null && untouched(victim.pid).state === "S") return;
  victim?.kill("SIGKILL");
  // Every catchable signal logged; SIGKILL would end it and SIGSTOP stop it (both seen in its state).
  const traps = "HUP INT QUIT ILL TRAP ABRT BUS FPE USR1 SEGV USR2 PIPE ALRM TERM CONT TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS"
    .split(" ")
    .map((s) => `trap 'echo ${s} >> ${sigLog}' ${s};`)
    .join(" ");
  victim = Bun.spawn(["bash", "-c", `${traps} : > ${sigLog}.ready; while :; do sleep 0.1; done`], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  for (let i = 0; i < 200 && !fs.existsSync(`${sigLog}.ready`); i++) await Bun.sleep(10);
  fs.rmSync(`${sigLog}.ready`, { force: true });
}

/** A created container "other" of its own for each case that starts or removes it. */
function freshOther(): void {
  e!.T(["rm", "-f", "other"]);
  const o = e!.T(["create", "--name", "other", "busybox", "sleep", "600"]);
  expect([o.code, o.stderr]).toEqual([0, ""]);
  other = o.stdout.trim();
}

beforeAll(async () => {
  e = await startE2e({ prefix: "tinydock-pidid-" });
  sigLog = path.join(e.dir, "signals.log");
  decoy = Bun.spawn(["sleep", "1000"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  const c = e.T(["create", "--name", "victim", "busybox", "sleep", "600"]);
  expect([c.code, c.stderr]).toEqual([0, ""]);
  id = c.stdout.trim();
}, 120_000);

afterAll(async () => {
  victim?.kill("SIGKILL");
  decoy?.kill("SIGKILL");
  await e?.stop();
});

/** [verb, args, Docker's exit code, what the one line says]. */
const VERBS: [string, string[], number, RegExp][] = [
  ["kill", ["kill", "victim"], 1, /is not running/],
  ["kill -s TERM", ["kill", "-s", "TERM", "victim"], 1, /is not running/],
  ["stop", ["stop", "-t", "1", "victim"], 0, /^$/],
  ["pause", ["pause", "victim"], 1, /is not running/],
  ["unpause", ["unpause", "victim"], 1, /is not (running|paused)/],
  ["exec", ["exec", "victim", "true"], 1, /is not running|is restarting, wait until the container is running/],
  ["exec -u", ["exec", "-u", "nobody", "victim", "true"], 1, /is not running|is restarting, wait until the container is running/],
  ["top", ["top", "victim"], 1, /is not running/],
  ["attach", ["attach", "--no-stdin", "victim"], 1, /stopped container|not running|restarting container/],
  ["cp from", ["cp", "victim:/proc/1/environ", "-"], 1, /./],
  ["network connect", ["network", "connect", "bridge", "victim"], -1, /.*/],
  ["run --network container:", ["run", "--rm", "--network", "container:victim", "busybox", "true"], 125, /non running container/],
  ["run --pid container:", ["run", "--rm", "--pid", "container:victim", "busybox", "true"], 125, /not running/],
  ["run --ipc container:", ["run", "--rm", "--ipc", "container:victim", "busybox", "true"], 125, /not running/],
  ["run --uts container:", ["run", "--rm", "--uts", "container:victim", "busybox", "true"], 125, /not running/],
];

for (const supervisor of ["alive", "crashed"] as const) {
  describe(`a recycled pid, the supervisor ${supervisor}`, () => {
    for (const [name, args, code, says] of VERBS) {
      test(name, async () => {
        await craft(id, supervisor);
        const r = e!.T(args);
        const err = r.stderr.trim();
        expect(untouched(victim!.pid)).toEqual({ state: "S", signals: "" });
        if (code >= 0) expect([r.code, err.split("\n").length <= 1]).toEqual([code, true]);
        expect(err).toMatch(says);
        recordCases(`recycled pid (${supervisor} supervisor): ${name}`, 1);
      }, 30_000);
    }

    test("stats reads nothing of the host process", async () => {
      await craft(id, supervisor);
      const r = e!.T(["stats", "--no-stream", "--format", "{{.NetIO}} {{.PIDs}}", "victim"]);
      expect(untouched(victim!.pid)).toEqual({ state: "S", signals: "" });
      expect([r.code, r.stdout, r.stderr]).toEqual([0, "0B / 0B 0\n", ""]);
      recordCases(`recycled pid (${supervisor} supervisor): stats`, 1);
    });

    // Its supervisor alive has yet to record the end or restart it: restarting, as Docker shows a
    // container between two runs (stop and rm -f then go through the supervisor); gone: exited.
    test(`inspect says ${supervisor === "alive" ? "restarting, no pid" : "exited"}`, async () => {
      await craft(id, supervisor);
      const want = supervisor === "alive" ? "restarting true 0\n" : "exited false 0\n";
      expect(e!.T(["inspect", "-f", "{{.State.Status}} {{.State.Running}} {{.State.Pid}}", "victim"]).stdout).toBe(want);
    });

    test("restart starts the container anew, leaving the host process be", async () => {
      freshOther();
      await craft(other, supervisor);
      const r = e!.T(["restart", "-t", "1", "other"]);
      expect([r.code, r.stderr]).toEqual([0, ""]);
      expect(untouched(victim!.pid)).toEqual({ state: "S", signals: "" });
      expect(e!.T(["inspect", "-f", "{{.State.Running}}", "other"]).stdout).toBe("true\n");
      recordCases(`recycled pid (${supervisor} supervisor): restart`, 1);
    }, 60_000);

    test("rm -f removes the record and nothing else", async () => {
      freshOther();
      await craft(other, supervisor);
      const r = e!.T(["rm", "-f", "other"]);
      expect([r.code, r.stderr]).toEqual([0, ""]);
      expect(untouched(victim!.pid)).toEqual({ state: "S", signals: "" });
      recordCases(`recycled pid (${supervisor} supervisor): rm -f`, 1);
    }, 60_000);
  });
}

// A container created with --uts container:A keeps A's PID 1 in its saved plan; A goes and its pid
// goes to a host process. The next start must not join that process's namespace: the plan's join,
// rewritten as the kernel would have recycled it (the pid now the host process's, whatever else the
// plan says of it kept), is refused and the container does not run in it.
test("start of a container whose saved join names a recycled pid joins nothing of the host process", async () => {
  const a = e!.T(["run", "-d", "--name", "donor", "busybox", "sleep", "600"]);
  expect([a.code, a.stderr]).toEqual([0, ""]);
  const b = e!.T(["create", "--name", "joiner", "--uts", "container:donor", "busybox", "sleep", "600"]);
  expect([b.code, b.stderr]).toEqual([0, ""]);
  const donorPid = Number(e!.T(["inspect", "-f", "{{.State.Pid}}", "donor"]).stdout.trim());
  expect(e!.T(["rm", "-f", "donor"]).code).toBe(0);
  await freshVictim();
  const file = path.join(e!.env.root, "containers", b.stdout.trim(), "plan.bin");
  const plan = decodePlan(fs.readFileSync(file));
  expect(plan.joinNamespaces!.filter((j) => j.path.startsWith(`/proc/${donorPid}/ns/`)).map((j) => j.ns)).toEqual(["uts"]);
  plan.joinNamespaces = plan.joinNamespaces!.map((j) => ({ ...j, path: j.path.replace(`/proc/${donorPid}/`, `/proc/${victim!.pid}/`) }));
  fs.writeFileSync(file, encodePlan(plan));
  const r = e!.T(["start", "joiner"]);
  expect(untouched(victim!.pid)).toEqual({ state: "S", signals: "" });
  const hostUts = fs.readlinkSync(`/proc/${victim!.pid}/ns/uts`);
  const inside = e!.T(["exec", "joiner", "readlink", "/proc/self/ns/uts"]).stdout.trim();
  e!.T(["rm", "-f", "joiner"]);
  expect(inside).not.toBe(hostUts);
  // Docker's two lines of a failed start, exit 1: the refusal (start looks the donor up again: the
  // saved join is never taken), then which containers did not start.
  expect([r.code, r.stderr]).toEqual([1, "Error response from daemon: failed to join UTS namespace: No such container: donor\nError: failed to start containers: joiner\n"]);
  recordCases("recycled pid: a saved join of a gone donor", 1);
}, 60_000);
