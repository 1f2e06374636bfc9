// Reads syscall numbers out of the kernel's uapi headers (Debian's linux-libc-dev), an oracle that
// owes nothing to src/runtime/seccomp/syscalls.ts. x86_64's asm/unistd_64.h is a flat list of
// `#define __NR_name N`; asm-generic/unistd.h (aarch64's table) needs its #if/#ifdef evaluated
// for one architecture, which the small evaluator below does for the forms that header uses.
import fs from "node:fs";

export const X86_64_HEADER = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";
export const GENERIC_HEADER = "/usr/include/asm-generic/unistd.h";

/** What arch/arm64/include/uapi/asm/unistd.h defines before including asm-generic/unistd.h. */
export const ARM64_WANTS = [
  "__ARCH_WANT_RENAMEAT",
  "__ARCH_WANT_NEW_STAT",
  "__ARCH_WANT_SET_GET_RLIMIT",
  "__ARCH_WANT_SYS_CLONE3",
  "__ARCH_WANT_MEMFD_SECRET",
];

/** name → number from `#define __NR_<name> <value>` lines, after evaluating conditionals. */
export function parseUnistd(text: string, opts: { bitsPerLong: number; defined: string[] }): Map<string, number> {
  const macros = new Map<string, string>();
  for (const d of opts.defined) macros.set(d, "1");
  const stack: { active: boolean; taken: boolean }[] = [];
  const active = () => stack.every((s) => s.active);
  const isDefined = (name: string) => macros.has(name);

  const evalTerm = (term: string): boolean => {
    const t = term.trim();
    let m = /^(!?)\s*defined\s*\(\s*(\w+)\s*\)$/.exec(t);
    if (m) return (m[1] === "!") !== isDefined(m[2]!);
    m = /^__BITS_PER_LONG\s*(==|!=)\s*(\d+)$/.exec(t);
    if (m) return m[1] === "==" ? opts.bitsPerLong === Number(m[2]) : opts.bitsPerLong !== Number(m[2]);
    throw new Error(`unistd header: cannot evaluate "${t}"`);
  };
  const evalExpr = (expr: string): boolean =>
    expr.split("||").some((alt) => alt.split("&&").every((term) => evalTerm(term)));

  for (const raw of text.split("\n")) {
    const line = raw.replace(/\/\*.*?\*\//g, "").trim();
    let m: RegExpExecArray | null;
    if ((m = /^#\s*ifdef\s+(\w+)/.exec(line))) {
      const v = isDefined(m[1]!);
      stack.push({ active: v, taken: v });
    } else if ((m = /^#\s*ifndef\s+(\w+)/.exec(line))) {
      const v = !isDefined(m[1]!);
      stack.push({ active: v, taken: v });
    } else if ((m = /^#\s*if\s+(.*)$/.exec(line))) {
      const v = evalExpr(m[1]!);
      stack.push({ active: v, taken: v });
    } else if (/^#\s*else\b/.test(line)) {
      const top = stack[stack.length - 1]!;
      top.active = !top.taken;
      top.taken = true;
    } else if (/^#\s*endif\b/.test(line)) {
      stack.pop();
    } else if (!active()) {
      continue;
    } else if ((m = /^#\s*define\s+(\w+)(?:\s+(.*))?$/.exec(line))) {
      macros.set(m[1]!, (m[2] ?? "").trim());
    } else if ((m = /^#\s*undef\s+(\w+)/.exec(line))) {
      macros.delete(m[1]!);
    }
  }

  const resolve = (value: string, depth = 0): number | undefined => {
    if (/^\d+$/.test(value)) return Number(value);
    const next = macros.get(value);
    return next !== undefined && depth < 8 ? resolve(next, depth + 1) : undefined;
  };
  const out = new Map<string, number>();
  for (const [name, value] of macros) {
    if (!name.startsWith("__NR_") || name === "__NR_syscalls") continue;
    const nr = resolve(value);
    if (nr !== undefined) out.set(name.slice("__NR_".length), nr);
  }
  return out;
}

export function readX86_64Header(): Map<string, number> {
  return parseUnistd(fs.readFileSync(X86_64_HEADER, "utf8"), { bitsPerLong: 64, defined: [] });
}

export function readAarch64Header(): Map<string, number> {
  return parseUnistd(fs.readFileSync(GENERIC_HEADER, "utf8"), { bitsPerLong: 64, defined: ARM64_WANTS });
}
