// `-p` as a user runs it: the compiled ./tinydock inside a network namespace made for this file
// (nsenter --net, as test/e2e/network.test.ts), a foreground `run` left in the background as its
// own supervisor, curl through every address, `port`, hairpin from another container, and
// iptables identical once the container is gone. Never skipped: a binary without --publish fails
// the first test rather than hiding the whole file.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { startE2e, until, type E2e } from "../helpers/e2e.ts";

let e: E2e | undefined;
let dir: string;
let T: E2e["T"], sh: E2e["sh"], rules: E2e["rules"], curl: E2e["curl"];
const background = (args: string[]) => e!.spawn(["run", ...args]);
const PAGE = "Hello from tinydock";
let rulesBefore = "";

describe("run -p", () => {
  beforeAll(async () => {
    e = await startE2e({ prefix: "td-ports-e2e-" });
    ({ dir, T, sh, rules, curl } = e);
    rulesBefore = rules();
  }, 120_000);

  afterAll(async () => {
    await e?.stop();
  });

  test("run --help lists --publish and --publish-all", () => {
    const help = T(["run", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--publish");
    expect(help.stdout).toContain("--publish-all");
  });

  test("8080:8080, 127.0.0.1::8080, -P; port; hairpin; rules gone with the container", async () => {
    const web = background(["--rm", "--name", "web", "-p", "8080:8080", "-p", "127.0.0.1::8080", "busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]);
    try {
      await until("curl 127.0.0.1:8080", () => curl("http://127.0.0.1:8080/").includes(PAGE));
      const lines = T(["port", "web"]).stdout.trim().split("\n");
      expect(lines[0]).toBe("8080/tcp -> 0.0.0.0:8080");
      const random = /^8080\/tcp -> 127\.0\.0\.1:(\d+)$/.exec(lines[1] ?? "");
      expect(random).not.toBeNull();
      expect(curl(`http://127.0.0.1:${random![1]}/`)).toContain(PAGE);
      expect(T(["port", "web", "8080/tcp"]).stdout).toBe(`0.0.0.0:8080\n127.0.0.1:${random![1]}\n`);
      // Hairpin: another container through the host's (gateway) address.
      const hair = T(["run", "--rm", "busybox", "wget", "-qO-", "http://10.29.0.1:8080/"]);
      expect(hair.stdout).toContain(PAGE);
      // A second container cannot take 8080.
      const clash = T(["run", "--rm", "-p", "8080:80", "busybox", "true"]);
      expect(clash.code).not.toBe(0);
      expect(clash.stderr).toContain("Bind for 0.0.0.0:8080 failed: port is already allocated");
      // -P: the image's EXPOSE 8080 on a random port.
      const all = background(["--rm", "--name", "web2", "-P", "busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]);
      try {
        await until("web2's port", () => /^8080\/tcp -> 0\.0\.0\.0:\d+$/.test(T(["port", "web2"]).stdout.trim()));
        const p = T(["port", "web2"]).stdout.trim().split(":").at(-1);
        await until("curl web2", () => curl(`http://127.0.0.1:${p}/`).includes(PAGE));
      } finally {
        // httpd is the container's PID 1: it ignores SIGTERM, as under Docker. kill = SIGKILL.
        T(["kill", "web2"]);
        await Promise.race([all.exited, Bun.sleep(10_000)]);
      }
    } finally {
      T(["kill", "web"]);
      await Promise.race([web.exited, Bun.sleep(10_000)]);
    }
    expect(curl("http://127.0.0.1:8080/")).toStartWith("curl exit");
    expect(T(["network", "prune", "-f"]).code).toBe(0);
    expect(rules()).toBe(rulesBefore);
  }, 120_000);

  test("8053:8053/udp to a UDP server in a busybox container, from 127.0.0.1 and the host's address", async () => {
    // A static echo server (test/helpers/udp-echo.c) bind-mounted in: Debian's busybox has no UDP nc.
    const echo = path.join(dir, "udp-echo");
    const cc = Bun.spawnSync(["musl-gcc", "-static", "-Os", "-o", echo, path.resolve(import.meta.dir, "../helpers/udp-echo.c")], { stderr: "pipe" });
    expect(cc.stderr.toString()).toBe("");
    const udp = background(["--rm", "--name", "udp", "-p", "8053:8053/udp", "-v", `${echo}:/udp-echo:ro`, "busybox", "/udp-echo", "8053"]);
    const client = path.resolve(import.meta.dir, "../helpers/udp-echo.ts");
    const ask = (host: string, msg: string) => sh([process.execPath, client, "client", host, "8053", msg]).stdout;
    try {
      await until("a UDP answer on 127.0.0.1:8053", () => ask("127.0.0.1", "one").includes("echo:one"), 20_000);
      expect(T(["port", "udp"]).stdout).toBe("8053/udp -> 0.0.0.0:8053\n");
      expect(ask("10.29.0.1", "two")).toContain("echo:two");
    } finally {
      T(["kill", "udp"]);
      await Promise.race([udp.exited, Bun.sleep(10_000)]);
    }
    expect(T(["network", "prune", "-f"]).code).toBe(0);
    expect(rules()).toBe(rulesBefore);
  }, 90_000);

  test("SIGKILL of the supervising run: rm -f removes the rules it left", async () => {
    const run = background(["--name", "killed", "-p", "8081:8080", "busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]);
    await until("curl 127.0.0.1:8081", () => curl("http://127.0.0.1:8081/").includes(PAGE));
    run.kill("SIGKILL");
    await run.exited;
    expect(rules()).toContain("--dport 8081");
    expect(T(["rm", "-f", "killed"]).code).toBe(0);
    expect(curl("http://127.0.0.1:8081/")).toStartWith("curl exit");
    expect(T(["network", "prune", "-f"]).code).toBe(0);
    expect(rules()).toBe(rulesBefore);
  }, 60_000);
});
