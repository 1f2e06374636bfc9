// The syscall tables against the kernel's uapi headers on this machine (linux-libc-dev). Every
// name the headers know must carry the same number in our table; every name we have that the
// headers lack (calls newer than the headers) must not sit on a number the headers give to a
// different call. A mistyped number or name in src/runtime/seccomp/syscalls.ts fails here.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import { AARCH64_SYSCALLS, syscallNumber, X86_64_SYSCALLS } from "../../../../src/runtime/seccomp/syscalls.ts";
import { GENERIC_HEADER, parseUnistd, readAarch64Header, readX86_64Header, X86_64_HEADER } from "./unistd-header.ts";

/** Markers in asm-generic/unistd.h that are not syscalls. */
const NOT_SYSCALLS = new Set(["arch_specific_syscall"]);

function compare(ours: Readonly<Record<string, number>>, header: Map<string, number>) {
  const mismatched: string[] = [];
  const missing: string[] = [];
  for (const [name, nr] of header) {
    if (NOT_SYSCALLS.has(name)) continue;
    if (!Object.hasOwn(ours, name)) missing.push(`${name}=${nr}`);
    else if (ours[name] !== nr) mismatched.push(`${name}: ours ${ours[name]}, header ${nr}`);
  }
  const byNumber = new Map([...header].map(([name, nr]) => [nr, name]));
  const collisions: string[] = [];
  for (const [name, nr] of Object.entries(ours)) {
    if (header.has(name)) continue;
    const other = byNumber.get(nr);
    if (other !== undefined && !NOT_SYSCALLS.has(other)) collisions.push(`${name}=${nr} is ${other} in the header`);
  }
  return { mismatched, missing, collisions };
}

describe("syscall numbers match the kernel headers", () => {
  test("the headers are installed (Debian's linux-libc-dev)", () => {
    expect(fs.existsSync(X86_64_HEADER)).toBe(true);
    expect(fs.existsSync(GENERIC_HEADER)).toBe(true);
  });

  test("x86_64: asm/unistd_64.h", () => {
    const header = readX86_64Header();
    expect(header.size).toBeGreaterThan(300);
    expect(compare(X86_64_SYSCALLS, header)).toEqual({ mismatched: [], missing: [], collisions: [] });
  });

  test("aarch64: asm-generic/unistd.h as arm64 configures it", () => {
    const header = readAarch64Header();
    expect(header.size).toBeGreaterThan(250);
    expect(compare(AARCH64_SYSCALLS, header)).toEqual({ mismatched: [], missing: [], collisions: [] });
  });

  test("the comparison catches a wrong number", () => {
    const header = readX86_64Header();
    const broken = { ...X86_64_SYSCALLS, unshare: 273 };
    expect(compare(broken, header).mismatched).toEqual(["unshare: ours 273, header 272"]);
  });

  test("the header evaluator follows arm64's #ifdefs", () => {
    const text = fs.readFileSync(GENERIC_HEADER, "utf8");
    const arm64 = readAarch64Header();
    const bare = parseUnistd(text, { bitsPerLong: 64, defined: [] });
    const thirtyTwo = parseUnistd(text, { bitsPerLong: 32, defined: [] });
    expect(arm64.get("renameat")).toBe(38);
    expect(bare.has("renameat")).toBe(false);
    expect(arm64.get("fstat")).toBe(80);
    expect(arm64.get("fcntl")).toBe(25);
    expect(arm64.has("fcntl64")).toBe(false);
    expect(thirtyTwo.get("fcntl64")).toBe(25);
    expect(arm64.has("sync_file_range2")).toBe(false);
  });

  // Not in the 6.1 headers Debian 12 ships; read from Linux v6.18's syscall_64.tbl and scripts/syscall.tbl.
  const newer: [string, number][] = [
    ["cachestat", 451], ["fchmodat2", 452], ["map_shadow_stack", 453], ["futex_wake", 454], ["futex_wait", 455],
    ["futex_requeue", 456], ["statmount", 457], ["listmount", 458], ["lsm_get_self_attr", 459],
    ["lsm_set_self_attr", 460], ["lsm_list_modules", 461], ["mseal", 462], ["setxattrat", 463],
    ["getxattrat", 464], ["listxattrat", 465], ["removexattrat", 466], ["open_tree_attr", 467],
    ["file_getattr", 468], ["file_setattr", 469],
  ];
  test("calls newer than the headers: the same number on both architectures", () => {
    for (const [name, nr] of newer) {
      expect([name, syscallNumber("x86_64", name)]).toEqual([name, nr]);
      expect([name, syscallNumber("aarch64", name)]).toEqual([name, nr]);
    }
    expect(syscallNumber("x86_64", "uretprobe")).toBe(335);
    expect(syscallNumber("x86_64", "uprobe")).toBe(336);
  });

  test("numbers are unique within an architecture, and names a table lacks are undefined", () => {
    for (const table of [X86_64_SYSCALLS, AARCH64_SYSCALLS]) {
      const numbers = Object.values(table);
      expect(new Set(numbers).size).toBe(numbers.length);
    }
    expect(syscallNumber("x86_64", "chown32")).toBeUndefined();
    expect(syscallNumber("aarch64", "open")).toBeUndefined();
    expect(syscallNumber("x86_64", "toString")).toBeUndefined();
  });
});
