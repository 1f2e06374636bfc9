// rtnetlink bytes against what iproute2 sends for the same request (recipe: capture-netlink.sh).
import { describe, expect, test } from "bun:test";
import {
  ackErrno,
  delLinkMessage,
  formatMac,
  getLinkMessage,
  macForIp,
  netlinkError,
  newAddrMessage,
  newBridgeMessage,
  newDefaultRouteMessage,
  newVethMessage,
  parseLink,
  parseMessages,
  setLinkMessage,
  hairpinMessage,
  ipv6Bytes,
} from "../../../src/network/netlink.ts";

const SEQ = 0x6b04b949; // the sequence number of the capture (bytes 8..11: 49 b9 04 6b)
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

const CAPTURED = {
  bridge: "3c0000001000050649b9046b00000000000000000000000000000000000000000a0003007464627230000000100012000a0001006272696467650000",
  veth:
    "840000001000050649b9046b000000000000000000000000010000000100000008000400dc05000008000a0002000000120003007464313233343536373839303100000040001200080001007665746834000200300001000000000000000000000000000000000008000400dc05000008001c0004000000090003006574683000000000",
  addr: "280000001400050649b9046b00000000021000000200000008000200ac1d000108000100ac1d0001",
  route: "240000001800050649b9046b0000000002000000fe0300010000000008000500ac1d0001",
  up: "200000001000050049b9046b0000000000000000010000000100000001000000",
  del: "200000001100050049b9046b0000000000000000030000000000000000000000",
  // ip link set dev tdhv0 type bridge_slave hairpin on (ifindex 4), as strace decodes it.
  hairpin: "400000001000050049b9046b000000000000000004000000000000000000000020001200100001006272696467655f736c6176650c0005000500040001000000",
};

describe("requests match iproute2's bytes", () => {
  test("ip link add tdbr0 type bridge", () => {
    expect(hex(newBridgeMessage(SEQ, { name: "tdbr0" }))).toBe(CAPTURED.bridge);
  });
  test("ip link add td12345678901 mtu 1500 master tdbr0 up type veth peer name eth0 mtu 1500 netns …", () => {
    const msg = newVethMessage(SEQ, { name: "td12345678901", mtu: 1500, master: 2, up: true }, { name: "eth0", mtu: 1500, netnsFd: 4 });
    expect(hex(msg)).toBe(CAPTURED.veth);
  });
  test("ip addr add 172.29.0.1/16 dev tdbr0", () => {
    expect(hex(newAddrMessage(SEQ, { index: 2, address: "172.29.0.1", prefixLen: 16 }))).toBe(CAPTURED.addr);
  });
  test("an IPv6 address (--link-local-ip fe80::42/64): AF_INET6 and its 16 bytes", () => {
    const msg = newAddrMessage(SEQ, { index: 2, address: "fe80::42", prefixLen: 64 });
    expect([msg[16], msg[17]]).toEqual([10, 64]);
    expect(hex(msg.slice(28, 44))).toBe("fe800000000000000000000000000042");
    expect(hex(ipv6Bytes("1:2:3:4:5:6:7:8"))).toBe("00010002000300040005000600070008");
    expect(hex(ipv6Bytes("::"))).toBe("0".repeat(32));
    for (const bad of ["1::2::3", "1:2:3:4:5:6:7:8:9", "fe80::g", "1:2:3"]) expect(() => ipv6Bytes(bad)).toThrow("encode address");
  });
  test("ip route add default via 172.29.0.1", () => {
    expect(hex(newDefaultRouteMessage(SEQ, "172.29.0.1"))).toBe(CAPTURED.route);
  });
  test("ip link set lo up", () => {
    expect(hex(setLinkMessage(SEQ, { index: 1, up: true }))).toBe(CAPTURED.up);
  });
  test("ip link set dev tdhv0 type bridge_slave hairpin on", () => {
    expect(hex(hairpinMessage(SEQ, { index: 4 }))).toBe(CAPTURED.hairpin);
  });
  test("ip link del (by index)", () => {
    expect(hex(delLinkMessage(SEQ, { index: 3 }))).toBe(CAPTURED.del);
  });
  test("by name, a dump", () => {
    const del = delLinkMessage(1, { name: "td1" });
    expect(del.length).toBe(16 + 16 + 8);
    const dump = getLinkMessage(7, null);
    expect(hex(dump.subarray(4, 8))).toBe("12000103"); // RTM_GETLINK, NLM_F_REQUEST|NLM_F_DUMP
  });
});

describe("replies", () => {
  const errorMsg = (errno: number, seq: number) => {
    const b = new Uint8Array(36);
    const v = new DataView(b.buffer);
    v.setUint32(0, 36, true);
    v.setUint16(4, 2, true);
    v.setUint32(8, seq, true);
    v.setInt32(16, -errno, true);
    return b;
  };
  test("ack and error", () => {
    const two = new Uint8Array([...errorMsg(0, 1), ...errorMsg(17, 2)]);
    const ms = parseMessages(two);
    expect(ms.map((m) => [m.type, m.seq, ackErrno(m)])).toEqual([
      [2, 1, 0],
      [2, 2, 17],
    ]);
    expect(netlinkError("create veth td1a2b3c (peer eth0)", 17).message).toBe("create veth td1a2b3c (peer eth0): EEXIST");
    expect(netlinkError("x", 17).kind).toBe("AlreadyExists");
  });
  test("a truncated datagram yields the whole messages only", () => {
    expect(parseMessages(errorMsg(0, 1).subarray(0, 20))).toEqual([]);
  });
  test("an RTM_NEWLINK reply parses (the request is the same layout)", () => {
    const veth = Buffer.from(CAPTURED.veth, "hex");
    const [m] = parseMessages(new Uint8Array(veth));
    const link = parseLink(m!);
    expect(link).toMatchObject({ index: 0, flags: 1, name: "td12345678901", master: 2, mtu: 1500, kind: "veth" });
  });
  test("MAC from the address, as Docker", () => {
    expect(formatMac(macForIp("172.17.0.2"))).toBe("02:42:ac:11:00:02");
  });
});
