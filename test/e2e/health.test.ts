// Health checks as a user runs them: --health-* flags, the probe run by the monitor inside the
// container (as `exec` runs a command), State.Health in inspect, ps STATUS and `ps --filter health=`.
import { expect, test } from "bun:test";
import { until, useE2e } from "../helpers/e2e.ts";

const e = useE2e({ prefix: "td-health-e2e-" });

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}
const health = (name: string): Health | undefined => JSON.parse(e.T(["inspect", name]).stdout)[0]?.State?.Health;
const psStatus = (name: string) => e.T(["ps", "--filter", `name=${name}`, "--format", "{{.Status}}"]).stdout.trim();
const psHealth = (value: string) => e.T(["ps", "-a", "--filter", `health=${value}`, "--format", "{{.Names}}"]).stdout.trim().split("\n").filter(Boolean);

test("starting → unhealthy → healthy: the probe runs in the container, its results in inspect and ps", async () => {
  const r = e.T(["run", "-d", "--name", "hc", "--health-cmd", "test -f /tmp/ok && echo fine", "--health-interval", "200ms", "--health-retries", "2", "--health-start-period", "3s", "busybox", "sleep", "60"]);
  // The start period keeps it "starting" while the three reads below run: under load they can outlast 2×200 ms.
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(health("hc")?.Status).toBe("starting");
  expect(psStatus("hc")).toMatch(/^Up .* \(health: starting\)$/);
  expect(psHealth("starting")).toEqual(["hc"]);
  const bad = await until("unhealthy", () => (health("hc")?.Status === "unhealthy" ? health("hc") : undefined), 20_000, 50);
  expect(bad.FailingStreak).toBeGreaterThanOrEqual(2);
  expect(bad.Log.every((l) => l.ExitCode === 1 && l.Output === "")).toBe(true);
  expect(psStatus("hc")).toMatch(/\(unhealthy\)$/);
  expect(psHealth("unhealthy")).toEqual(["hc"]);
  expect(e.T(["exec", "hc", "touch", "/tmp/ok"]).code).toBe(0);
  const good = await until("healthy", () => (health("hc")?.Status === "healthy" ? health("hc") : undefined), 10_000, 50);
  expect(good.FailingStreak).toBe(0);
  expect(good.Log.at(-1)).toMatchObject({ ExitCode: 0, Output: "fine\n" });
  expect(good.Log.length).toBeLessThanOrEqual(5);
  expect(Date.parse(good.Log.at(-1)!.End)).toBeGreaterThanOrEqual(Date.parse(good.Log.at(-1)!.Start));
  expect(psStatus("hc")).toMatch(/\(healthy\)$/);
  expect(psHealth("healthy")).toEqual(["hc"]);
  // Five results kept at most, as Docker.
  await Bun.sleep(1500);
  expect(health("hc")!.Log.length).toBe(5);
  const cfg = JSON.parse(e.T(["inspect", "hc"]).stdout)[0].Config.Healthcheck;
  expect(cfg).toEqual({ Test: ["CMD-SHELL", "test -f /tmp/ok && echo fine"], Interval: 200_000_000, Timeout: 0, StartPeriod: 3_000_000_000, StartInterval: 0, Retries: 2 });
  expect(e.T(["rm", "-f", "hc"]).code).toBe(0);
}, 60_000);

test("a probe past its timeout is killed and counts as a failure (ExitCode -1, Docker's words)", async () => {
  expect(e.T(["run", "-d", "--name", "slow", "--health-cmd", "sleep 30", "--health-interval", "100ms", "--health-timeout", "300ms", "--health-retries", "1", "busybox", "sleep", "60"]).code).toBe(0);
  const h = await until("unhealthy", () => (health("slow")?.Status === "unhealthy" ? health("slow") : undefined), 10_000, 50);
  expect(h.Log[0]).toMatchObject({ ExitCode: -1, Output: "Health check exceeded timeout (300ms)" });
  const took = Date.parse(h.Log[0]!.End) - Date.parse(h.Log[0]!.Start);
  expect(took).toBeGreaterThanOrEqual(250);
  expect(took).toBeLessThan(3000);
  // The killed probe's sleep is gone from the container.
  await until("no probe left", () => !e.T(["exec", "slow", "ps"]).stdout.includes("sleep 30"), 5000, 100);
  expect(e.T(["rm", "-f", "slow"]).code).toBe(0);
}, 30_000);

test("failures inside the start period do not count; --no-healthcheck and none", async () => {
  expect(e.T(["run", "-d", "--name", "sp", "--health-cmd", "false", "--health-interval", "100ms", "--health-start-period", "60s", "--health-start-interval", "100ms", "--health-retries", "1", "busybox", "sleep", "60"]).code).toBe(0);
  await until("three probes", () => (health("sp")?.Log.length ?? 0) >= 3, 10_000, 50);
  expect(health("sp")).toMatchObject({ Status: "starting", FailingStreak: 0 });
  expect(e.T(["run", "-d", "--name", "plain", "busybox", "sleep", "60"]).code).toBe(0);
  expect(health("plain")).toBeUndefined();
  expect(psStatus("plain")).toMatch(/^Up [^(]*$/);
  expect(psHealth("none")).toContain("plain");
  expect(psHealth("none")).not.toContain("sp");
  const conflict = e.T(["run", "-d", "--no-healthcheck", "--health-cmd", "true", "busybox", "true"]);
  expect(conflict.code).toBe(125);
  expect(conflict.stderr).toContain("--no-healthcheck conflicts with --health-* options");
  const badDur = e.T(["run", "-d", "--health-interval", "30", "busybox", "true"]);
  expect(badDur.code).toBe(125);
  expect(badDur.stderr).toContain('time: missing unit in duration "30"');
  expect(e.T(["ps", "--filter", "health=sick"]).stderr).toContain("Unrecognised filter value for health: sick");
  expect(e.T(["rm", "-f", "sp", "plain"]).code).toBe(0);
}, 30_000);
