// The kernel's struct termios (x86_64 and aarch64: 4 × u32 flags, c_line, c_cc[19]) and cfmakeraw(3)
// on it, pure: what `run -it`, `exec -it` and `attach` make of the caller's terminal. Node/Bun's
// setRawMode keeps output post-processing (OPOST) on, so a container's "\r\n" reached the screen as
// "\r\r\n"; Docker's term.MakeRaw is cfmakeraw, which clears it.

/** sizeof(struct termios) as TCGETS/TCSETS read and write it. */
export const TERMIOS_SIZE = 36;

const IFLAG = 0, OFLAG = 4, CFLAG = 8, LFLAG = 12, CC = 17;
const VTIME = 5, VMIN = 6;
// <asm-generic/termbits.h>
const IGNBRK = 0o1, BRKINT = 0o2, PARMRK = 0o10, ISTRIP = 0o40, INLCR = 0o100, IGNCR = 0o200, ICRNL = 0o400, IXON = 0o2000;
const OPOST = 0o1;
const ISIG = 0o1, ICANON = 0o2, ECHO = 0o10, ECHONL = 0o100, IEXTEN = 0o100000;
const CSIZE = 0o60, CS8 = 0o60, PARENB = 0o400;

/** cfmakeraw(3): a copy of `t` with input, output and line processing off, 8-bit chars, reads of ≥1 byte. */
export function cfmakeraw(t: Uint8Array): Uint8Array {
  if (t.length < TERMIOS_SIZE) throw new RangeError(`a termios is ${TERMIOS_SIZE} bytes, not ${t.length}`);
  const out = Uint8Array.from(t);
  const v = new DataView(out.buffer);
  const and = (off: number, clear: number) => v.setUint32(off, (v.getUint32(off, true) & ~clear) >>> 0, true);
  and(IFLAG, IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  and(OFLAG, OPOST);
  and(LFLAG, ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  and(CFLAG, CSIZE | PARENB);
  v.setUint32(CFLAG, (v.getUint32(CFLAG, true) | CS8) >>> 0, true);
  out[CC + VMIN] = 1;
  out[CC + VTIME] = 0;
  return out;
}
