// The container's environment as Docker builds it: defaults, the image's Env, then -e and
// --env-file in order (later wins). Pure.
import { ParseError } from "../errors.ts";

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** One `-e` value: "K=V" sets, "K" copies the host's value (dropped when the host has none). */
export function parseEnvArg(text: string, host: Record<string, string | undefined>): string | null {
  const eq = text.indexOf("=");
  const key = eq < 0 ? text : text.slice(0, eq);
  if (!key) throw new ParseError(`Cannot parse environment variable "${text}": empty name`);
  if (/\s/.test(key)) throw new ParseError(`Cannot parse environment variable "${text}": name contains white space`);
  if (eq >= 0) return text;
  const v = host[key];
  return v === undefined ? null : `${key}=${v}`;
}

/** An --env-file: one variable a line, `#` comments and blank lines skipped. */
export function parseEnvFile(text: string, file: string, host: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  // Once for the whole text: per line, a file of many lines took quadratic time.
  const nul = text.includes("\0");
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/^\s+/, "");
    if (!line || line.startsWith("#")) return;
    if (nul && line.includes("\0")) throw new ParseError(`Cannot parse env file "${file}": line ${i + 1} contains a NUL byte`);
    try {
      const v = parseEnvArg(line, host);
      if (v !== null) out.push(v);
    } catch (err) {
      throw new ParseError(`Cannot parse env file "${file}" line ${i + 1}: ${(err as Error).message}`);
    }
  });
  return out;
}

/** Merge lists of K=V where later entries replace earlier ones in place (Docker's ReplaceOrAppendEnvValues). */
export function mergeEnv(...lists: string[][]): string[] {
  const map = new Map<string, string>();
  for (const list of lists) {
    for (const kv of list) {
      const eq = kv.indexOf("=");
      const key = eq < 0 ? kv : kv.slice(0, eq);
      map.set(key, kv);
    }
  }
  return [...map.values()];
}

export function envValue(env: string[], key: string): string | undefined {
  for (let i = env.length - 1; i >= 0; i--) {
    const kv = env[i]!;
    if (kv.startsWith(`${key}=`)) return kv.slice(key.length + 1);
  }
  return undefined;
}

/**
 * Docker's order: PATH (when the image sets none) and HOSTNAME first, TERM with a tty, then the
 * image's Env, then the user's; HOME from the user's passwd entry unless set.
 */
export function containerEnv(opts: { image: string[]; user: string[]; hostname: string; tty: boolean; home: string }): string[] {
  const base = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${opts.hostname}`];
  if (opts.tty) base.push("TERM=xterm");
  const env = mergeEnv(base, opts.image, opts.user);
  if (envValue(env, "HOME") === undefined) env.push(`HOME=${opts.home}`);
  return env;
}
