// The compiled seccomp program on the real kernel: a child Bun process (seccomp-child.ts) installs
// it with seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC), makes the calls in
// seccomp-probes.ts and reports what the kernel answered. Each answer must be what the unit
// tests' interpreter predicts for the same program: refused calls give the profile's errno,
// allowed ones give what the kernel gives without a filter (run once as a control).
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { DEFAULT_CAPABILITIES } from "../../../src/runtime/capabilities.ts";
import { encodeProgram, jump, ret, BPF, SECCOMP_RET } from "../../../src/runtime/seccomp/bpf.ts";
import { compileDefaultSeccomp, seccompArch } from "../../../src/runtime/seccomp/index.ts";
import { AUDIT_ARCH, syscallNumber, type SeccompArch } from "../../../src/runtime/seccomp/syscalls.ts";
import { findLeaks } from "../../helpers/leakcheck.ts";
import { decide } from "../../unit/runtime/seccomp/interpreter.ts";
import { PROBES } from "./seccomp-probes.ts";

const CHILD = path.join(import.meta.dir, "seccomp-child.ts");
const supported = process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64");
const arch: SeccompArch = process.arch === "arm64" ? "aarch64" : "x86_64";
const foreign: SeccompArch = arch === "x86_64" ? "aarch64" : "x86_64";
const isRoot = process.getuid?.() === 0;

const running = new Set<Bun.Subprocess>();
afterEach(() => {
  for (const p of running) p.kill("SIGKILL");
  running.clear();
});
afterAll(() => {
  expect(findLeaks("seccomp-child")).toEqual([]);
});

interface ChildResult {
  stdout: string;
  exitCode: number | null;
  signal: string | null;
}

async function child(mode: string, program?: Uint8Array): Promise<ChildResult> {
  const argv = [process.execPath, CHILD, mode];
  if (program) argv.push(Buffer.from(program).toString("base64"));
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  running.add(p);
  const timer = setTimeout(() => p.kill("SIGKILL"), 30_000);
  try {
    const [stdout, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    await p.exited;
    if (p.exitCode !== 0 && p.signalCode === null && !stdout.includes("installError")) {
      throw new Error(`seccomp child (${mode}) exited ${p.exitCode}: ${stderr}`);
    }
    return { stdout, exitCode: p.exitCode, signal: p.signalCode === null ? null : String(p.signalCode) };
  } finally {
    clearTimeout(timer);
    running.delete(p);
  }
}

const parse = (r: ChildResult) => JSON.parse(r.stdout) as Record<string, string>;

/** What the interpreter says the program does with this probe ("fd"/"buf" args are not compared by any rule). */
function predict(program: Uint8Array, syscall: string, args: (bigint | string)[]): string {
  const nr = syscallNumber(arch, syscall)!;
  return decide(program, { nr, arch: AUDIT_ARCH[arch], args: args.map((a) => (typeof a === "bigint" ? a : 0n)) });
}

describe.skipIf(!supported)("seccomp on the real kernel (only on x86_64 or arm64 Linux)", () => {
  let control: Record<string, string>;
  const defaults = () => compileDefaultSeccomp(DEFAULT_CAPABILITIES);

  beforeAll(async () => {
    expect(seccompArch()).toBe(arch);
    control = parse(await child("none"));
  });

  test("without a filter the kernel lets root unshare and says EFAULT/EINVAL to the bad calls", () => {
    if (isRoot) expect(control["unshare(CLONE_NEWUTS)"]).toBe("ok:0");
    expect(control["mount(NULL…)"]).not.toBe("EPERM");
    expect(control["clone(CLONE_NEWUSER|CLONE_FS)"]).toBe("EINVAL");
    expect(control["clone3(NULL, 0)"]).not.toBe("ENOSYS");
    expect(control["open_tree_attr (newer than the profile)"]).not.toBe("ENOSYS");
  });

  test("Docker's default profile: every probe answers as the interpreter predicts", async () => {
    const program = defaults();
    const got = parse(await child("filter", program));
    expect(got.installError).toBeUndefined();
    const mismatches: string[] = [];
    for (const p of PROBES) {
      if (syscallNumber(arch, p.syscall) === undefined) continue;
      const predicted = predict(program, p.syscall, p.args);
      const want = predicted === "allow" ? control[p.label]! : predicted;
      const same = predicted === "allow" && want.startsWith("ok:") ? got[p.label]!.startsWith("ok:") : got[p.label] === want;
      if (!same) mismatches.push(`${p.label}: kernel ${got[p.label]}, interpreter ${predicted} (unfiltered: ${control[p.label]})`);
    }
    expect(mismatches).toEqual([]);
  });

  test("Docker's default profile: the answers that matter, spelled out", async () => {
    const got = parse(await child("filter", defaults()));
    expect(got["getpid"]).toBe(`ok:${got.pid}`);
    expect(got["write /dev/null"]).toBe("ok:1");
    expect(got["unshare(CLONE_NEWUTS)"]).toBe("EPERM");
    expect(got["mount(NULL…)"]).toBe("EPERM");
    expect(got["umount2(NULL)"]).toBe("EPERM");
    expect(got["keyctl(-1)"]).toBe("EPERM");
    expect(got["bpf(-1)"]).toBe("EPERM");
    expect(got["reboot(bad magic)"]).toBe("EPERM");
    expect(got["init_module(NULL)"]).toBe("EPERM");
    expect(got["clone(CLONE_NEWUSER|CLONE_FS)"]).toBe("EPERM");
    expect(got["clone(CLONE_THREAD) without CLONE_SIGHAND"]).toBe("EINVAL"); // let through; the kernel refuses
    expect(got["clone3(NULL, 0)"]).toBe("ENOSYS");
    expect(got["personality(0xffffffff)"]).toMatch(/^ok:/);
    expect(got["personality(ADDR_NO_RANDOMIZE)"]).toBe("EPERM");
    expect(got["socket(AF_UNIX)"]).toMatch(/^ok:/);
    expect(got["socket(AF_ALG)"]).toBe("EPERM");
    expect(got["socket(AF_VSOCK)"]).toBe("EPERM");
    expect(got["ptrace(PTRACE_PEEKDATA, no such pid)"]).toBe("ESRCH");
    expect(got["open_tree_attr (newer than the profile)"]).toBe("ENOSYS");
  });

  test("with CAP_SYS_ADMIN in the bounding set the namespace calls go through", async () => {
    const program = compileDefaultSeccomp([...DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"]);
    const got = parse(await child("filter", program));
    for (const p of PROBES) {
      if (syscallNumber(arch, p.syscall) === undefined) continue;
      const predicted = predict(program, p.syscall, p.args);
      if (predicted !== "allow") expect([p.label, got[p.label]]).toEqual([p.label, predicted]);
    }
    expect(got["unshare(CLONE_NEWUTS)"]).toBe(control["unshare(CLONE_NEWUTS)"]!);
    expect(got["mount(NULL…)"]).toBe(control["mount(NULL…)"]!);
    expect(got["clone(CLONE_NEWUSER|CLONE_FS)"]).toBe("EINVAL");
    expect(got["clone3(NULL, 0)"]).toBe(control["clone3(NULL, 0)"]!);
  });

  test.skipIf(arch !== "x86_64")("an x32 call is killed with SIGSYS (only on x86_64)", async () => {
    const program = defaults();
    expect(predict(program, "getpid", [])).toBe("allow");
    expect(decide(program, { nr: 0x40000000 | syscallNumber("x86_64", "getpid")!, arch: AUDIT_ARCH.x86_64 })).toBe("kill_process");
    const r = await child("x32", program);
    expect(r.signal).toBe("SIGSYS");
    expect(r.stdout).not.toContain("survived");
  });

  test("a program for the other architecture is accepted, then kills on the next call", async () => {
    const own = await child("install", defaults());
    expect(own).toEqual({ stdout: "survived\n", exitCode: 0, signal: null });
    const other = await child("install", compileDefaultSeccomp(DEFAULT_CAPABILITIES, { arch: foreign }));
    expect(other.signal).toBe("SIGSYS");
    expect(other.stdout).toBe("");
  });

  test("the helper sees the kernel refuse a broken program (so acceptance above means something)", async () => {
    // A jump past the end: bpf_check_classic says EINVAL.
    const broken = encodeProgram([jump(BPF.JMP | BPF.JEQ | BPF.K, 0, 5, 0), ret(SECCOMP_RET.ALLOW)]);
    const r = await child("install", broken);
    expect(r.exitCode).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual({ installError: "EINVAL" });
  });
});
