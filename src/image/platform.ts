// Platforms as OCI writes them (os/architecture/variant) and the host's own. Pure.
import { ParseError } from "../errors.ts";

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const GOARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

export function hostPlatform(arch: string = process.arch): Platform {
  const architecture = GOARCH[arch] ?? arch;
  return architecture === "arm64" ? { os: "linux", architecture, variant: "v8" } : { os: "linux", architecture };
}

/** "linux/arm64/v8" → Platform; the os alone ("linux") means the host's architecture. */
export function parsePlatform(text: string, host: Platform = hostPlatform()): Platform {
  const parts = text.trim().toLowerCase().split("/");
  if (!text.trim() || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new ParseError(`Cannot parse platform "${text}": expected os[/arch[/variant]]`);
  }
  const [os, arch, variant] = parts as [string, string?, string?];
  let architecture = arch ?? host.architecture;
  if (architecture === "x86_64" || architecture === "x86-64") architecture = "amd64";
  if (architecture === "aarch64") architecture = "arm64";
  const p: Platform = { os, architecture };
  const v = variant ?? (arch === undefined ? host.variant : defaultVariant(architecture));
  if (v) p.variant = v;
  return p;
}

function defaultVariant(arch: string): string | undefined {
  if (arch === "arm64") return "v8";
  if (arch === "arm") return "v7";
  return undefined;
}

/** Whether an index entry's platform satisfies the wanted one (variant defaults as containerd's). */
export function platformMatches(have: Platform, want: Platform): boolean {
  if (have.os !== want.os || have.architecture !== want.architecture) return false;
  const hv = have.variant ?? defaultVariant(have.architecture);
  const wv = want.variant ?? defaultVariant(want.architecture);
  return hv === wv || wv === undefined;
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}
