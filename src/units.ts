// go-units' size formats, as Docker prints sizes: decimal (kB, MB…) or binary (KiB, MiB…) units.

const DECIMAL = ["B", "kB", "MB", "GB", "TB", "PB"];
const BINARY = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** `n` shown (by `show`) in the largest unit, each `base` times the one before, that leaves it at least 1. */
function withUnit(n: number, base: 1000 | 1024, show: (value: number, unit: number) => number): string {
  const units = base === 1000 ? DECIMAL : BINARY;
  let value = n;
  let unit = 0;
  while (value >= base && unit < units.length - 1) {
    value /= base;
    unit++;
  }
  return `${show(value, unit)}${units[unit]}`;
}

/** Sizes in SI units with three significant digits ("4.26MB"), as `docker images` shows them. */
export function humanSize(bytes: number): string {
  return withUnit(bytes, 1000, (v, i) => (i === 0 ? Math.round(v) : Number(v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2))));
}

/** go-units HumanSizeWithPrecision(n, 3): decimal units ("1.45kB"). */
export function humanSize3(n: number): string {
  return withUnit(n, 1000, (v) => Number(v.toPrecision(3)));
}

/** go-units BytesSize: binary units, 4 significant digits ("1.203MiB"), as `docker info` and `stats` print memory. */
export function bytesSize(n: number): string {
  return withUnit(n, 1024, (v) => Number(v.toPrecision(4)));
}
