// --restart, --log-opt and -l: Docker's spellings, good and bad, and the monitor's argv.
import { describe, expect, test } from "bun:test";
import { ParseError } from "../../../src/errors.ts";
import { monitorArgs, parseStartReport, servicesHook } from "../../../src/lifecycle/monitor.ts";
import { parseHumanSize, parseLabels, parseLogOpts, parseRestartPolicy } from "../../../src/lifecycle/run-options.ts";

describe("parseRestartPolicy", () => {
  const good: [string, unknown][] = [
    ["no", { name: "no", maximumRetryCount: 0 }],
    ["always", { name: "always", maximumRetryCount: 0 }],
    ["unless-stopped", { name: "unless-stopped", maximumRetryCount: 0 }],
    ["on-failure", { name: "on-failure", maximumRetryCount: 0 }],
    ["on-failure:3", { name: "on-failure", maximumRetryCount: 3 }],
  ];
  for (const [input, want] of good) test(`reads ${input}`, () => expect(parseRestartPolicy(input)).toEqual(want as never));
  const bad: [string, RegExp][] = [
    ["sometimes", /invalid restart policy 'sometimes'/],
    ["always:3", /maximum retry count cannot be used with restart policy 'always'/],
    ["on-failure:x", /non-negative integer/],
    ["on-failure:-1", /non-negative integer/],
    ["on-failure:1:2", /too many colons/],
    ["", /invalid restart policy ''/],
  ];
  for (const [input, msg] of bad) {
    test(`refuses "${input}"`, () => {
      expect(() => parseRestartPolicy(input)).toThrow(ParseError);
      expect(() => parseRestartPolicy(input)).toThrow(msg);
    });
  }
});

describe("parseLogOpts", () => {
  test("defaults: 10 MB × 3 (Docker's 10m is decimal)", () => expect(parseLogOpts([])).toEqual({ maxSize: 10_000_000, maxFile: 3 }));
  test("max-size and max-file, separate or comma-joined", () => {
    expect(parseLogOpts(["max-size=1m", "max-file=2"])).toEqual({ maxSize: 1_000_000, maxFile: 2 });
    expect(parseLogOpts(["max-size=2k,max-file=5"])).toEqual({ maxSize: 2000, maxFile: 5 });
    expect(parseLogOpts(["max-size=-1"])).toEqual({ maxSize: 0, maxFile: 1 });
  });
  const bad: [string, RegExp][] = [
    ["max-size=lots", /not a size/],
    ["max-file=0", /positive integer/],
    ["max-file=x", /positive integer/],
    ["compress=true", /unknown log opt 'compress'/],
    ["max-size", /expected key=value/],
    ["max-size=0", /positive size/],
  ];
  for (const [input, msg] of bad) test(`refuses ${input}`, () => expect(() => parseLogOpts([input])).toThrow(msg));
  test("human sizes", () => {
    expect(parseHumanSize("512", "x")).toBe(512);
    expect(parseHumanSize("1.5k", "x")).toBe(1500);
    expect(parseHumanSize("1g", "x")).toBe(1e9);
    expect(parseHumanSize("10MB", "x")).toBe(10_000_000);
  });
});

describe("parseLabels", () => {
  test("k=v, k, and = in the value", () => expect(parseLabels(["a=b", "c", "d=e=f"])).toEqual({ a: "b", c: "", d: "e=f" }));
  test("refuses an empty key", () => expect(() => parseLabels(["=x"])).toThrow(/empty key/));
});

describe("the monitor's interface", () => {
  test("a pod's container: the Services hook is the engine's own path, a fixed argv and an explicit environment", () => {
    const hook = servicesHook({ root: "/r", execRoot: "/run/td", configPath: "/etc/td.json" }, ["/usr/bin/tinydock"]);
    const args = monitorArgs({
      id: "x", dir: "/r/containers/x", plan: {} as never, log: { path: "", maxSize: 0, maxFile: 1 },
      restart: { name: "no", maximumRetryCount: 0 }, oomFiles: [], cleanupArgv: ["/usr/bin/tinydock", "container", "cleanup", "x"], servicesHook: hook,
    });
    const at = args.indexOf("-S");
    expect(args.slice(at, args.indexOf("--"))).toEqual([
      "-S", "/usr/bin/tinydock", "-S", "kube", "-S", "sync-services",
      "-V", "TINYDOCK_ROOT=/r", "-V", "TINYDOCK_EXEC_ROOT=/run/td", "-V", "TINYDOCK_CONFIG=/etc/td.json", "-V", expect.stringMatching(/^PATH=\//),
      "-W", "/r/kube/services",
    ]);
  });
  test("argv: options, oom files, tty, then the cleanup command after --", () => {
    const args = monitorArgs({
      id: "x",
      dir: "/r/containers/x",
      plan: {} as never,
      log: { path: "/r/containers/x/x-json.log", maxSize: 2000, maxFile: 2 },
      restart: { name: "on-failure", maximumRetryCount: 3 },
      oomFiles: ["/cg/memory/tinydock/x/memory.oom_control"],
      cleanupArgv: ["/usr/bin/tinydock", "container", "cleanup", "x"],
      tty: true,
    });
    expect(args).toEqual([
      "tinydock-monitor", "run", "-d", "/r/containers/x", "-l", "/r/containers/x/x-json.log", "-s", "2000", "-n", "2",
      "-r", "on-failure", "-R", "3", "-B", "10000,100,200,400,800,1600,3200,6400,12800,25600,51200,60000", "-o", "/cg/memory/tinydock/x/memory.oom_control", "-t",
      "--", "/usr/bin/tinydock", "container", "cleanup", "x",
    ]);
  });
  test("argv: a --link's container dir and Docker's error, in pairs, for the check before each restart", () => {
    const args = monitorArgs({
      id: "x", dir: "/d", plan: {} as never, log: { path: "/d/l", maxSize: 1, maxFile: 1 }, restart: { name: "always", maximumRetryCount: 0 }, oomFiles: [], cleanupArgv: [],
      links: [{ dir: "/r/containers/y", message: "Cannot link to a non running container: /y AS /x/db" }],
    });
    expect(args.slice(args.indexOf("-K"), args.indexOf("--"))).toEqual(["-K", "/r/containers/y", "-k", "Cannot link to a non running container: /y AS /x/db"]);
  });
  test("argv: -t and -i together (run -dit: the monitor copies the stdin FIFO into the terminal)", () => {
    const args = monitorArgs({ id: "x", dir: "/d", plan: {} as never, log: { path: "/d/l", maxSize: 1, maxFile: 1 }, restart: { name: "no", maximumRetryCount: 0 }, oomFiles: [], cleanupArgv: [], tty: true, interactive: true });
    expect(args.filter((a) => a === "-t" || a === "-i")).toEqual(["-t", "-i"]);
  });
  test("start report: started, failed, or nothing", () => {
    const ok = new Uint8Array(new Int32Array([2, 1234]).buffer);
    expect(parseStartReport(ok)).toEqual({ pid: 1234 });
    const detail = new TextEncoder().encode("nope");
    const fail = new Uint8Array(20 + detail.length);
    fail.set(new Uint8Array(new Int32Array([1, 33, 2, 1, detail.length]).buffer));
    fail.set(detail, 20);
    expect(parseStartReport(fail)).toEqual({ failure: { stage: 33, errno: 2, code: "ENOENT", index: 1, detail: "nope" } });
    expect(parseStartReport(new Uint8Array(0))).toBeNull();
    expect(parseStartReport(new Uint8Array(3))).toBeNull();
  });
});
