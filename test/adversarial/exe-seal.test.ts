// The engine's binary out of a container's reach (CVE-2019-5736's class) where the kernel will not
// execute a memfd: vm.memfd_noexec=2, per PID namespace, emulated in one of the test's own (the
// host's setting stays). A container with --init and CAP_SYS_PTRACE opens /proc/1/exe (and every
// /proc/PID/exe it sees) and passes an O_PATH fd of it out over a unix socket; outside, once the
// run is over, the fd is opened for writing as the CVE's exploit does. The binary run is a copy of
// ./tinydock, so that even a successful attack could only reach the copy; nothing is ever written.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { busyboxEnv, type BusyboxEnv } from "../helpers/busybox-env.ts";
import { BINARY } from "../helpers/cli.ts";

let b: BusyboxEnv;
let grab: string;
let bin: string;

const sha256 = (file: string): string => new Bun.CryptoHasher("sha256").update(fs.readFileSync(file)).digest("hex");

beforeAll(async () => {
  b = await busyboxEnv("td-exeseal-");
  grab = b.helper("exe-grab");
  bin = path.join(b.dir, "tinydock");
  fs.copyFileSync(BINARY, bin);
});

afterAll(async () => {
  Bun.spawnSync([bin, "rm", "-f", "td-exeseal"], { env: b.vars, stdout: "ignore", stderr: "ignore" });
  await b?.close();
});

/** `script` in a new PID namespace whose vm.memfd_noexec is 2. */
function noexecMemfd(script: string): { code: number; out: string } {
  const before = fs.readFileSync("/proc/sys/vm/memfd_noexec", "utf8");
  const r = Bun.spawnSync(["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", `echo 2 > /proc/sys/vm/memfd_noexec && ${script}`], {
    env: b.vars,
    stdout: "pipe",
    stderr: "pipe",
    timeout: 120_000,
  });
  expect(fs.readFileSync("/proc/sys/vm/memfd_noexec", "utf8")).toBe(before);
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
}

/** Every "write=" result the helper printed: none may be "ok". */
function writes(out: string): string[] {
  return [...out.matchAll(/write=(\S+)/g)].map((m) => m[1]!);
}

test("run --init --cap-add SYS_PTRACE under memfd_noexec=2: /proc/1/exe is a read-only copy of the init, not tinydock, and cannot be opened for writing, then or later", () => {
  const hash = sha256(bin);
  const sock = path.join(b.dir, "sock");
  const r = noexecMemfd(
    [
      `${grab} recv ${sock} > ${b.dir}/recv.out 2>&1 & R=$!`,
      `i=0; while [ ! -S ${sock} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done`,
      `${bin} run --rm --network none --init --cap-add SYS_PTRACE -v ${b.dir}:/x busybox /x/exe-grab send /x/sock; echo run-exit=$?`,
      `wait $R; cat ${b.dir}/recv.out`,
    ].join("\n"),
  );
  expect(r.out).toContain("run-exit=0");
  expect(r.out).toContain("sent");
  // Outside, after the run: the CVE's reopen through the passed fd.
  const received = /received size=(-?\d+) write=(\S+)/.exec(r.out);
  expect(received, r.out).not.toBeNull();
  expect(received![2]).toBe("30"); // EROFS
  // Inside: PID 1 (the --init reaper) and the helper itself, each opened for writing.
  const inside = [...r.out.matchAll(/^exe (\d+) size=(-?\d+) write=(\S+)$/gm)];
  expect(inside.map((m) => m[1])).toContain("1");
  const pid1 = inside.find((m) => m[1] === "1")!;
  expect(Number(pid1[2])).toBeLessThan(fs.statSync(bin).size / 10); // the small static init, not tinydock
  expect(writes(r.out).filter((w) => w === "ok")).toEqual([]);
  expect(sha256(bin)).toBe(hash);
  recordCases("engine binary through /proc/PID/exe (memfd_noexec=2)", inside.length + 1);
});

test("run -d --init and exec under memfd_noexec=2 run from the read-only copy too: no /proc/PID/exe opens for writing", () => {
  const hash = sha256(bin);
  const r = noexecMemfd(
    [
      `${bin} run -d --name td-exeseal --network none --init --cap-add SYS_PTRACE -v ${b.dir}:/x busybox sleep 300 >/dev/null; echo run-exit=$?`,
      `${bin} exec td-exeseal /x/exe-grab list; echo exec-exit=$?`,
      `${bin} rm -f td-exeseal >/dev/null`,
    ].join("\n"),
  );
  expect(r.out).toContain("run-exit=0");
  expect(r.out).toContain("exec-exit=0");
  const inside = [...r.out.matchAll(/^exe (\d+) size=(-?\d+) write=(\S+)$/gm)];
  expect(inside.length).toBeGreaterThanOrEqual(2); // the reaper, sleep, the helper
  expect(inside.find((m) => m[1] === "1")?.[3]).toBe("30"); // EROFS
  expect(writes(r.out).filter((w) => w === "ok")).toEqual([]);
  expect(sha256(bin)).toBe(hash);
  recordCases("engine binary through /proc/PID/exe, detached and exec (memfd_noexec=2)", inside.length);
});
