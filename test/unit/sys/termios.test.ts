import { expect, test } from "bun:test";
import { cfmakeraw, TERMIOS_SIZE } from "../../../src/sys/termios.ts";

test("cfmakeraw clears OPOST with the input and line processing, sets CS8, VMIN 1, VTIME 0; the rest kept", () => {
  const t = new Uint8Array(TERMIOS_SIZE);
  const v = new DataView(t.buffer);
  // A cooked terminal as `stty sane` leaves it: iflag ICRNL|IXON|BRKINT|IMAXBEL, oflag OPOST|ONLCR, …
  v.setUint32(0, 0o400 | 0o2000 | 0o2 | 0o20000, true);
  v.setUint32(4, 0o1 | 0o4, true);
  v.setUint32(8, 0o277, true);
  v.setUint32(12, 0o1 | 0o2 | 0o10 | 0o20 | 0o100000, true);
  t[17 + 5] = 9;
  t[17 + 6] = 0;
  t[17 + 0] = 3; // VINTR kept
  const r = new DataView(cfmakeraw(t).buffer);
  expect(r.getUint32(0, true)).toBe(0o20000);
  expect(r.getUint32(4, true)).toBe(0o4); // ONLCR stays set but does nothing without OPOST
  expect(r.getUint32(8, true) & 0o60).toBe(0o60);
  expect(r.getUint32(8, true) & 0o400).toBe(0);
  expect(r.getUint32(12, true)).toBe(0o20);
  expect([r.getUint8(17 + 6), r.getUint8(17 + 5), r.getUint8(17)]).toEqual([1, 0, 3]);
  expect(v.getUint32(4, true)).toBe(0o5); // the input is not changed
  expect(() => cfmakeraw(new Uint8Array(10))).toThrow(RangeError);
});
