// The seccomp program cache: a hit gives back exactly what compiling gives, every input of the
// program changes the key, and an entry that is not whole, not ours or not for this key is
// compiled again and replaced.
import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEFAULT_CAPABILITIES } from "../../../../src/runtime/capabilities.ts";
import { cachedDefaultSeccomp, seccompCacheKey, type SeccompHost } from "../../../../src/runtime/seccomp/cache.ts";
import { compileSeccomp, parseKernelRelease } from "../../../../src/runtime/seccomp/compile.ts";
import { DEFAULT_PROFILE } from "../../../../src/runtime/seccomp/profile.ts";

const HOST: SeccompHost = { arch: "x86_64", kernelRelease: "6.1.0-28-amd64" };
const CAPS = [...DEFAULT_CAPABILITIES];

let dir: string | undefined;
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function cacheDir(): string {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-seccomp-cache-"));
  return path.join(dir, "cache", "seccomp");
}

const compiled = (caps: string[], host: SeccompHost) =>
  compileSeccomp(DEFAULT_PROFILE, { arch: host.arch, caps, kernel: parseKernelRelease(host.kernelRelease) });

const entries = (d: string) => fs.readdirSync(d).filter((n) => n.endsWith(".bpf"));

describe("cachedDefaultSeccomp", () => {
  test("compiles and stores on a miss (0600, in a 0700 directory), reads back the same bytes", () => {
    const d = cacheDir();
    const first = cachedDefaultSeccomp(d, CAPS, HOST);
    expect(first).toEqual(compiled(CAPS, HOST));
    const [name] = entries(d);
    expect(name).toBe(`${seccompCacheKey(CAPS, HOST)}.bpf`);
    expect(fs.statSync(path.join(d, name!)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(d).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(d)).toEqual([name!]); // no temp file left
    expect(cachedDefaultSeccomp(d, CAPS, HOST)).toEqual(first);
  });

  test("the key follows the capabilities (not their order or spelling), the kernel and the architecture", () => {
    const key = seccompCacheKey(CAPS, HOST);
    expect(seccompCacheKey([...CAPS].reverse(), HOST)).toBe(key);
    expect(seccompCacheKey(CAPS.map((c) => c.replace(/^CAP_/, "").toLowerCase()), HOST)).toBe(key);
    expect(seccompCacheKey([...CAPS, "CAP_SYS_ADMIN"], HOST)).not.toBe(key);
    expect(seccompCacheKey(CAPS, { ...HOST, kernelRelease: "6.1.0-29-amd64" })).not.toBe(key);
    expect(seccompCacheKey(CAPS, { ...HOST, arch: "aarch64" })).not.toBe(key);
  });

  test("each capability set and host gets its own program", () => {
    const d = cacheDir();
    const admin = [...CAPS, "CAP_SYS_ADMIN"];
    const old: SeccompHost = { ...HOST, kernelRelease: "4.14.0" };
    for (const [caps, host] of [[CAPS, HOST], [admin, HOST], [CAPS, old], [CAPS, { ...HOST, arch: "aarch64" }]] as const) {
      expect(cachedDefaultSeccomp(d, [...caps], host)).toEqual(compiled([...caps], host));
      expect(cachedDefaultSeccomp(d, [...caps], host)).toEqual(compiled([...caps], host));
    }
    expect(entries(d).length).toBe(4);
    expect(compiled(admin, HOST)).not.toEqual(compiled(CAPS, HOST));
  });

  const damages: [string, (file: string) => void][] = [
    ["a flipped byte", (f) => {
      const b = fs.readFileSync(f);
      b[b.length - 3]! ^= 0x40;
      fs.writeFileSync(f, b);
    }],
    ["a truncated program", (f) => fs.truncateSync(f, fs.statSync(f).size - 8)],
    ["an empty file", (f) => fs.writeFileSync(f, "")],
    ["another key's entry", (f) => {
      const other = cachedDefaultSeccomp(path.dirname(f), [...CAPS, "CAP_SYS_ADMIN"], HOST);
      expect(other.length).toBeGreaterThan(0);
      fs.copyFileSync(path.join(path.dirname(f), `${seccompCacheKey([...CAPS, "CAP_SYS_ADMIN"], HOST)}.bpf`), f);
    }],
    ["a file others may write", (f) => fs.chmodSync(f, 0o622)],
    ["a symlink", (f) => {
      fs.renameSync(f, `${f}.real`);
      fs.symlinkSync(`${f}.real`, f);
    }],
  ];
  for (const [what, damage] of damages) {
    test(`${what} is not used: compiled again and replaced`, () => {
      const d = cacheDir();
      const want = cachedDefaultSeccomp(d, CAPS, HOST);
      const file = path.join(d, `${seccompCacheKey(CAPS, HOST)}.bpf`);
      damage(file);
      expect(cachedDefaultSeccomp(d, CAPS, HOST)).toEqual(want);
      expect(fs.lstatSync(file).isFile()).toBe(true);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(cachedDefaultSeccomp(d, CAPS, HOST)).toEqual(want);
    });
  }

  test("an unwritable cache only costs the compile", () => {
    const d = cacheDir();
    fs.mkdirSync(path.dirname(d), { recursive: true });
    fs.writeFileSync(d, "not a directory");
    expect(cachedDefaultSeccomp(d, CAPS, HOST)).toEqual(compiled(CAPS, HOST));
  });
});
