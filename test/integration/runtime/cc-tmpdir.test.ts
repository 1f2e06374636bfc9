// initLib() points TMPDIR at tmpfs for Bun's cc (see withTmpfsTmpdir in ffi.ts) only for that call:
// the C environment is as it was afterwards, and the init compiled that way works.
import { expect, test } from "bun:test";
import { CString, dlopen, FFIType } from "bun:ffi";
import { checkEncodedPlan, initLib } from "../../../src/sys/ffi.ts";

const { symbols: libc } = dlopen("libc.so.6", { getenv: { args: [FFIType.cstring], returns: FFIType.ptr } });
const tmpdir = () => {
  const p = libc.getenv(Buffer.from("TMPDIR\0"));
  return p ? new CString(p).toString() : null;
};

test("the C environment's TMPDIR is unchanged by the init's compile", () => {
  const before = tmpdir();
  initLib();
  expect(tmpdir()).toBe(before);
  expect(checkEncodedPlan(new Uint8Array(8))).toBeGreaterThan(0); // the compiled parser answers
});
