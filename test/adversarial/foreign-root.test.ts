// A root's prune must not reach into another root: the suite prunes dozens of temp roots while a
// user's containers run on the default one, and every root shares the cgroups tinydock/<id>. A
// container runs on root A; `system prune -f`, `container prune -f` and `network prune -f` on an
// empty root B (in the same network namespace) leave it running, same pid, same monitor. (Not
// asserted: B's `network prune` still takes the default bridge tinydock0 that A's container is on,
// as the bridge is shared by name; test/run.sh prunes only inside its own network namespace.)
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { BINARY, cliEnv, type CliEnv } from "../helpers/cli.ts";
import { startE2e, type E2e } from "../helpers/e2e.ts";

let e: E2e | undefined;
let other: CliEnv;

beforeAll(async () => {
  e = await startE2e({ prefix: "tinydock-foreign-" });
  other = { root: path.join(e.dir, "other-root"), config: path.join(e.dir, "other.json"), dockerConfig: path.join(e.dir, "other-docker") };
  fs.writeFileSync(other.config, "{}");
}, 120_000);

afterAll(async () => {
  await e?.stop();
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

test("prunes on another root leave a running container alone", () => {
  const r = e!.T(["run", "-d", "--name", "users", "busybox", "sleep", "600"]);
  expect([r.code, r.stderr]).toEqual([0, ""]);
  const id = r.stdout.trim();
  const run = JSON.parse(fs.readFileSync(path.join(e!.env.root, "containers", id, "run.json"), "utf8")) as { pid: number; monitorPid: number };
  expect(alive(run.pid)).toBe(true);
  const prunes = [["system", "prune", "-f"], ["container", "prune", "-f"], ["network", "prune", "-f"], ["system", "prune", "-a", "-f"]];
  for (const args of prunes) {
    const p = Bun.spawnSync(e!.inNs([BINARY, ...args]), { env: cliEnv(other), stdout: "pipe", stderr: "pipe" });
    expect([args.join(" "), p.exitCode, p.stderr.toString()]).toEqual([args.join(" "), 0, ""]);
  }
  expect([alive(run.pid), alive(run.monitorPid)]).toEqual([true, true]);
  expect(e!.T(["ps", "--format", "{{.Names}} {{.State}}"]).stdout).toBe("users running\n");
  expect(e!.T(["exec", "users", "echo", "still here"]).stdout).toBe("still here\n");
  recordCases("prunes of another root against a running container", prunes.length);
});
