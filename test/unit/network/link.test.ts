// RouteSocket over the recording fake: each request waits for its own ack; NACKs name the step.
import { expect, test } from "bun:test";
import { RouteSocket } from "../../../src/network/link.ts";
import { fakeSys } from "../../../src/sys/fake.ts";

const nack = (seqOf: Uint8Array, errno: number) => {
  const b = new Uint8Array(36);
  const v = new DataView(b.buffer);
  v.setUint32(0, 36, true);
  v.setUint16(4, 2, true);
  v.setUint32(8, new DataView(seqOf.buffer, seqOf.byteOffset).getUint32(8, true), true);
  v.setInt32(16, -errno, true);
  return b;
};

test("a NACK becomes an error naming the operation", () => {
  const sys = fakeSys();
  const s = new RouteSocket(sys, "/x/netns/abc");
  const real = sys.netlinkRecv.bind(sys);
  sys.netlinkRecv = (fd) => (sys.netlinkSent.length === 1 ? nack(sys.netlinkSent[0]!, 17) : real(fd));
  expect(() => s.createVeth({ name: "td1a2b3c", up: true }, { name: "eth0" })).toThrow("create veth td1a2b3c (peer eth0): EEXIST");
  s.setUp(1, "lo"); // the next request gets its own ack
  s.close();
  // (the scripted first recv bypasses the recorder)
  expect(sys.calls.map((c) => c.op)).toEqual(["netlinkOpen", "netlinkSend", "netlinkSend", "netlinkRecv", "netlinkClose"]);
  expect(sys.calls[0]!.args).toEqual(["/x/netns/abc"]);
});

test("late answers to an earlier sequence number are skipped; ENODEV on delete means absent", () => {
  const sys = fakeSys();
  const s = new RouteSocket(sys);
  const real = sys.netlinkRecv.bind(sys);
  let n = 0;
  sys.netlinkRecv = (fd) => {
    n++;
    const last = sys.netlinkSent[sys.netlinkSent.length - 1]!;
    if (n === 1) {
      const stale = nack(last, 22);
      new DataView(stale.buffer).setUint32(8, 1, true);
      return stale;
    }
    if (n === 2) return nack(last, 19);
    return real(fd);
  };
  expect(s.deleteLink("td0")).toBe(false);
  expect(s.deleteLink("td0")).toBe(true);
});
