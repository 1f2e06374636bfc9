// rtnetlink requests built and replies parsed as bytes. Pure: no socket here (src/network/link.ts
// sends them through Sys). Layouts from <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h>,
// <linux/veth.h>; the unit test holds the bytes iproute2 sends for the same requests.
import { SyscallError } from "../errors.ts";

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_NEWROUTE = 24;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_MASTER = 10;
const IFLA_LINKINFO = 18;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const IFLA_INFO_SLAVE_DATA = 5;
const IFLA_BRPORT_MODE = 4;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const RTA_GATEWAY = 5;
const AF_UNSPEC = 0;
const AF_INET = 2;
const AF_INET6 = 10;
const IFF_UP = 0x1;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RT_SCOPE_UNIVERSE = 0;
const RTN_UNICAST = 1;

const NLMSG_HDRLEN = 16;
const align4 = (n: number) => (n + 3) & ~3;

/** A netlink attribute: type and payload (nested attributes are encoded payloads). */
type Attr = [type: number, payload: Uint8Array];

const u32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
};
const cstring = (s: string): Uint8Array => new TextEncoder().encode(`${s}\0`);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function attrs(list: Attr[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [type, payload] of list) {
    const len = 4 + payload.length;
    const a = new Uint8Array(align4(len));
    const v = new DataView(a.buffer);
    v.setUint16(0, len, true);
    v.setUint16(2, type, true);
    a.set(payload, 4);
    parts.push(a);
  }
  return concat(parts);
}

function message(type: number, flags: number, seq: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(NLMSG_HDRLEN + body.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, out.length, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, seq >>> 0, true);
  v.setUint32(12, 0, true);
  out.set(body, NLMSG_HDRLEN);
  return out;
}

/** struct ifinfomsg. */
function ifinfomsg(index: number, flags: number, change: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  b[0] = AF_UNSPEC;
  v.setInt32(4, index, true);
  v.setUint32(8, flags, true);
  v.setUint32(12, change, true);
  return b;
}

/** What RTM_NEWLINK sets on a link, in the attribute order iproute2 uses. */
export interface LinkAttrs {
  /** Existing link to change (0 or absent: by name, or a new link). */
  index?: number;
  name?: string;
  mtu?: number;
  /** ifindex of the bridge to enslave to. */
  master?: number;
  /** 6 bytes. */
  mac?: Uint8Array;
  /** An open fd of the network namespace to create the link in. */
  netnsFd?: number;
  up?: boolean;
}

function linkBody(l: LinkAttrs, info?: Attr[]): Uint8Array {
  const list: Attr[] = [];
  if (l.mtu !== undefined) list.push([IFLA_MTU, u32(l.mtu)]);
  if (l.master !== undefined) list.push([IFLA_MASTER, u32(l.master)]);
  if (l.mac) list.push([IFLA_ADDRESS, l.mac]);
  if (l.netnsFd !== undefined) list.push([IFLA_NET_NS_FD, u32(l.netnsFd)]);
  if (l.name !== undefined) list.push([IFLA_IFNAME, cstring(l.name)]);
  if (info) list.push([IFLA_LINKINFO, attrs(info)]);
  return concat([ifinfomsg(l.index ?? 0, l.up ? IFF_UP : 0, l.up ? IFF_UP : 0), attrs(list)]);
}

const CREATE = NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE;

/** `ip link add NAME type bridge`. */
export function newBridgeMessage(seq: number, l: LinkAttrs & { name: string }): Uint8Array {
  return message(RTM_NEWLINK, CREATE, seq, linkBody(l, [[IFLA_INFO_KIND, new TextEncoder().encode("bridge")]]));
}

/** `ip link add HOST … type veth peer name PEER …`: both ends in one request. */
export function newVethMessage(seq: number, host: LinkAttrs & { name: string }, peer: LinkAttrs & { name: string }): Uint8Array {
  const peerInfo = linkBody(peer);
  return message(
    RTM_NEWLINK,
    CREATE,
    seq,
    linkBody(host, [
      [IFLA_INFO_KIND, new TextEncoder().encode("veth")],
      [IFLA_INFO_DATA, attrs([[VETH_INFO_PEER, peerInfo]])],
    ]),
  );
}

/** `ip link set …` on an existing link (by index, or by name when index is 0). */
export function setLinkMessage(seq: number, l: LinkAttrs): Uint8Array {
  return message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, linkBody(l));
}

/**
 * `ip link set dev X type bridge_slave hairpin on`: the bridge port sends a frame back out the port
 * it came in by, as a container reaching itself through a DNAT (a Service, a published port) needs
 * when br_netfilter turns the routed packet into a bridged one.
 */
export function hairpinMessage(seq: number, l: { index?: number; name?: string }): Uint8Array {
  const info: Attr[] = [
    [IFLA_INFO_KIND, new TextEncoder().encode("bridge_slave")],
    [IFLA_INFO_SLAVE_DATA, attrs([[IFLA_BRPORT_MODE, new Uint8Array([1])]])],
  ];
  return message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, linkBody(l, info));
}

/** `ip link del` by index or by name. */
export function delLinkMessage(seq: number, l: { index?: number; name?: string }): Uint8Array {
  return message(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq, linkBody(l));
}

/** One link by name (answered with an RTM_NEWLINK), or every link with `dump`. */
export function getLinkMessage(seq: number, name: string | null): Uint8Array {
  if (name === null) return message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, ifinfomsg(0, 0, 0));
  return message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, seq, linkBody({ name }));
}

/** `ip addr add ADDRESS/PREFIX dev INDEX`. */
export function newAddrMessage(seq: number, a: { index: number; address: string; prefixLen: number }): Uint8Array {
  const head = new Uint8Array(8);
  const v6 = a.address.includes(":");
  head[0] = v6 ? AF_INET6 : AF_INET;
  head[1] = a.prefixLen;
  new DataView(head.buffer).setUint32(4, a.index, true);
  const ip = v6 ? ipv6Bytes(a.address) : ipv4Bytes(a.address);
  return message(RTM_NEWADDR, CREATE, seq, concat([head, attrs([[IFA_LOCAL, ip], [IFA_ADDRESS, ip]])]));
}

/** `ip route add default via GATEWAY`. */
export function newDefaultRouteMessage(seq: number, gateway: string): Uint8Array {
  const head = new Uint8Array(12);
  head[0] = AF_INET;
  head[4] = RT_TABLE_MAIN;
  head[5] = RTPROT_BOOT;
  head[6] = RT_SCOPE_UNIVERSE;
  head[7] = RTN_UNICAST;
  return message(RTM_NEWROUTE, CREATE, seq, concat([head, attrs([[RTA_GATEWAY, ipv4Bytes(gateway)]])]));
}

export function ipv4Bytes(ip: string): Uint8Array {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new SyscallError(`encode address "${ip}"`, 22, "EINVAL");
  }
  return Uint8Array.from(parts);
}

/** "fe80::1" → its 16 bytes (no zone, no embedded IPv4). */
export function ipv6Bytes(ip: string): Uint8Array {
  const halves = ip.split("::");
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const bad = halves.length > 2 || (halves.length === 2 ? head.length + tail.length > 7 : head.length !== 8);
  const words = bad ? [] : [...head, ...Array<string>(halves.length === 2 ? 8 - head.length - tail.length : 0).fill("0"), ...tail];
  if (bad || words.some((w) => !/^[0-9a-fA-F]{1,4}$/.test(w))) throw new SyscallError(`encode address "${ip}"`, 22, "EINVAL");
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    const n = parseInt(w, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  });
  return out;
}

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  payload: Uint8Array;
}

/** Splits one datagram into its messages; a truncated tail is dropped. */
export function parseMessages(buf: Uint8Array): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = v.getUint32(off, true);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    out.push({
      type: v.getUint16(off + 4, true),
      flags: v.getUint16(off + 6, true),
      seq: v.getUint32(off + 8, true),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** NLMSG_ERROR's errno: 0 for an ack, else the positive errno. */
export function ackErrno(m: NetlinkMessage): number {
  if (m.payload.length < 4) return 0;
  const err = new DataView(m.payload.buffer, m.payload.byteOffset, 4).getInt32(0, true);
  return err < 0 ? -err : err;
}

export interface LinkInfo {
  index: number;
  flags: number;
  name: string;
  master?: number;
  kind?: string;
  mtu?: number;
}

function parseAttrs(buf: Uint8Array): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = v.getUint16(off, true);
    if (len < 4 || off + len > buf.length) break;
    out.set(v.getUint16(off + 2, true) & 0x3fff, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

const readCString = (b: Uint8Array): string => {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
};

/** An RTM_NEWLINK reply's ifinfomsg and the attributes the engine reads. */
export function parseLink(m: NetlinkMessage): LinkInfo {
  const v = new DataView(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
  const a = parseAttrs(m.payload.subarray(16));
  const info: LinkInfo = { index: v.getInt32(4, true), flags: v.getUint32(8, true), name: readCString(a.get(IFLA_IFNAME) ?? new Uint8Array()) };
  const num = (b: Uint8Array | undefined) => (b && b.length >= 4 ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) : undefined);
  const master = num(a.get(IFLA_MASTER));
  if (master !== undefined) info.master = master;
  const mtu = num(a.get(IFLA_MTU));
  if (mtu !== undefined) info.mtu = mtu;
  const li = a.get(IFLA_LINKINFO);
  if (li) {
    const kind = parseAttrs(li).get(IFLA_INFO_KIND);
    if (kind) info.kind = readCString(kind);
  }
  return info;
}

const NETLINK_ERRNO: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 12: "ENOMEM", 16: "EBUSY", 17: "EEXIST", 19: "ENODEV", 22: "EINVAL", 34: "ERANGE",
  95: "EOPNOTSUPP", 98: "EADDRINUSE", 99: "EADDRNOTAVAIL", 101: "ENETUNREACH", 105: "ENOBUFS",
};

/** The error a failed request becomes: "create veth td1a2b3c (peer eth0): EEXIST". */
export function netlinkError(operation: string, errno: number): SyscallError {
  return new SyscallError(operation, errno, NETLINK_ERRNO[errno] ?? `errno ${errno}`);
}

/** 02:42 + the IPv4 address, as Docker derives a container's MAC. */
export function macForIp(ip: string): Uint8Array {
  return Uint8Array.from([0x02, 0x42, ...ipv4Bytes(ip)]);
}

export function formatMac(mac: Uint8Array): string {
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join(":");
}
