// Random ids and picks from the Web Crypto global: importing node:crypto costs ~2 ms of start-up.

/** `bytes` random bytes as lowercase hex. */
export function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
}

/** A uniform integer in [0, n), n ≤ 2^32. */
export function randomIndex(n: number): number {
  const limit = Math.floor(0x1_0000_0000 / n) * n;
  const u = new Uint32Array(1);
  do crypto.getRandomValues(u);
  while (u[0]! >= limit);
  return u[0]! % n;
}
