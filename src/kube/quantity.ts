// Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity): "200Mi", "1G", "500m",
// "0.5", "2e3". Pure.
import { ParseError } from "../errors.ts";

const SUFFIX: Record<string, number> = {
  "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The quantity's value (a number: bytes for memory, cores for cpu). */
export function parseQuantity(input: unknown, what: string): number {
  const text = typeof input === "number" ? String(input) : input;
  const m = typeof text === "string" ? /^([+]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/.exec(text.trim()) : null;
  if (!m) throw new ParseError(`Cannot parse quantity ${what} "${String(input)}": not a number with an optional suffix (Mi, Gi, m, k, M, G…)`);
  const n = m[2] ? Number(`${m[1]}${m[2]}`) : Number(m[1]) * SUFFIX[m[3] ?? ""]!;
  if (!Number.isFinite(n)) throw new ParseError(`Cannot parse quantity ${what} "${String(input)}": too large`);
  return n;
}

/** Bytes, rounded up as the kubelet does (a fraction of a byte is a byte). */
export function memoryBytes(input: unknown, what: string): number {
  return Math.ceil(parseQuantity(input, what));
}

/** Millicores, rounded up ("0.0001" is 1m, as the API rounds it). */
export function milliCpu(input: unknown, what: string): number {
  return Math.ceil(parseQuantity(input, what) * 1000 - 1e-9);
}
