// The health check flags (Go's duration syntax, Docker's checks and words), the merge over the
// image's HEALTHCHECK, the probe command and the monitor's -H value.
import { describe, expect, test } from "bun:test";
import { healthcheckFromFlags, mergeHealthcheck, monitorHealthSpec, parseGoDuration, probeArgs } from "../../../src/lifecycle/run/healthcheck.ts";
import { healthProbe } from "../../../src/lifecycle/health.ts";
import { statusText } from "../../../src/cli/views/containers.ts";
import { healthMatches, parseFilters } from "../../../src/cli/views/container-filters.ts";
import type { LiveState } from "../../../src/lifecycle/state.ts";

describe("parseGoDuration", () => {
  const good: [string, number][] = [
    ["0", 0],
    ["200ms", 200e6],
    ["30s", 30e9],
    ["1m30s", 90e9],
    ["1.5h", 5400e9],
    ["1h2m3s4ms5us6ns", 3723004005006],
    ["10µs", 10e3],
    [".5s", 500e6],
    ["-1s", -1e9],
  ];
  for (const [input, ns] of good) test(`"${input}" = ${ns} ns`, () => expect(parseGoDuration(input)).toBe(ns));
  const bad: [string, string][] = [
    ["30", 'time: missing unit in duration "30"'],
    ["", 'time: invalid duration ""'],
    ["1x", 'time: unknown unit "x" in duration "1x"'],
    ["s", 'time: invalid duration "s"'],
    [".s", 'time: invalid duration ".s"'],
  ];
  for (const [input, msg] of bad) test(`"${input}" is refused`, () => expect(() => parseGoDuration(input)).toThrow(msg));
});

describe("healthcheckFromFlags", () => {
  test("nothing given: no config", () => expect(healthcheckFromFlags({})).toBeUndefined());
  test("--health-cmd is CMD-SHELL; durations in ns; zero is Docker's default", () => {
    expect(healthcheckFromFlags({ cmd: "curl -f localhost", interval: "5s", retries: 2 })).toEqual({
      Test: ["CMD-SHELL", "curl -f localhost"],
      Interval: 5e9,
      Timeout: 0,
      StartPeriod: 0,
      StartInterval: 0,
      Retries: 2,
    });
  });
  test("--no-healthcheck is NONE and conflicts with --health-*", () => {
    expect(healthcheckFromFlags({ none: true })).toEqual({ Test: ["NONE"] });
    expect(() => healthcheckFromFlags({ none: true, interval: "1s" })).toThrow("--no-healthcheck conflicts with --health-* options");
  });
  test("Docker's refusals", () => {
    expect(() => healthcheckFromFlags({ interval: "-1s" })).toThrow("--health-interval cannot be negative");
    expect(() => healthcheckFromFlags({ retries: -1 })).toThrow("--health-retries cannot be negative");
    expect(() => healthcheckFromFlags({ timeout: "100us" })).toThrow("Timeout in Healthcheck cannot be less than 1ms");
    expect(() => healthcheckFromFlags({ interval: "30" })).toThrow('invalid argument "30" for "--health-interval" flag: time: missing unit in duration "30"');
  });
});

test("the user's config over the image's: what is empty or zero comes from the image", () => {
  const image = { Test: ["CMD", "/check"], Interval: 10e9, Timeout: 2e9, StartPeriod: 0, Retries: 5 };
  expect(mergeHealthcheck(undefined, image)).toBe(image);
  expect(mergeHealthcheck({ Interval: 1e9, Timeout: 0, Retries: 0 }, image)).toEqual({ Test: ["CMD", "/check"], Interval: 1e9, Timeout: 2e9, StartPeriod: 0, StartInterval: 0, Retries: 5 });
  expect(mergeHealthcheck({ Test: ["NONE"] }, image)?.Test).toEqual(["NONE"]);
});

test("the probe's command and the monitor's -H with Docker's defaults", () => {
  expect(probeArgs({ Test: ["CMD", "/bin/true", "x"] })).toEqual(["/bin/true", "x"]);
  expect(probeArgs({ Test: ["CMD-SHELL", "exit 1"] })).toEqual(["/bin/sh", "-c", "exit 1"]);
  expect(probeArgs({ Test: ["NONE"] })).toBeNull();
  expect(probeArgs({})).toBeNull();
  expect(probeArgs(undefined)).toBeNull();
  expect(monitorHealthSpec({ Test: ["CMD", "x"] })).toBe("30000,30000,0,5000,3");
  expect(monitorHealthSpec({ Interval: 200e6, Timeout: 1e9, StartPeriod: 3e9, StartInterval: 100e6, Retries: 1 })).toBe("200,1000,3000,100,1");
  const plan = { args: ["sleep"], stdio: [0, 1, 2], consoleSocket: 5, init: true, oomScoreAdj: 3 } as never;
  expect(healthProbe({ Test: ["CMD", "true"] }, plan).health?.plan).toMatchObject({ args: ["true"], stdio: [-1, 3, 3], consoleSocket: -1, init: false, oomScoreAdj: null });
  expect(healthProbe({ Test: ["NONE"] }, plan)).toEqual({});
});

test("ps: the health of a running container in STATUS, and the health= filter", () => {
  const s = { Status: "running", StartedAt: new Date(0).toISOString(), FinishedAt: "" } as LiveState;
  expect(statusText(s, 60_000, "healthy")).toBe("Up About a minute (healthy)");
  expect(statusText(s, 60_000, "starting")).toBe("Up About a minute (health: starting)");
  expect(statusText(s, 60_000, "none")).toBe("Up About a minute");
  expect(statusText({ ...s, Status: "exited", ExitCode: 0 } as LiveState, 60_000, "unhealthy")).toBe("Exited (0)");
  expect(parseFilters(["health=none"]).args.get("health")).toEqual(["none"]);
  expect(() => parseFilters(["health=sick"])).toThrow("Unrecognised filter value for health: sick");
  expect(healthMatches({ health: "healthy" }, ["healthy", "starting"])).toBe(true);
  expect(healthMatches({}, ["none"])).toBe(true);
});
