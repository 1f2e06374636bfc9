// Links, addresses and routes through one rtnetlink socket (src/network/netlink.ts builds the
// bytes; Sys moves them). Each request waits for its ack, so a failure names its own step.
import type { Sys } from "../sys/sys.ts";
import {
  ackErrno,
  delLinkMessage,
  getLinkMessage,
  netlinkError,
  NLMSG_DONE,
  NLMSG_ERROR,
  newAddrMessage,
  newBridgeMessage,
  newDefaultRouteMessage,
  newVethMessage,
  hairpinMessage,
  parseLink,
  parseMessages,
  RTM_NEWLINK,
  setLinkMessage,
  type LinkAttrs,
  type LinkInfo,
  type NetlinkMessage,
} from "./netlink.ts";

const ENODEV = 19;
const EEXIST = 17;
/** Bounds the reads of one reply (a dump of a few thousand links fits well within). */
const MAX_DATAGRAMS = 10_000;

export class RouteSocket {
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private readonly fd: number;
  constructor(
    private readonly sys: Sys,
    netnsPath: string | null = null,
  ) {
    this.fd = sys.netlinkOpen(netnsPath);
  }

  close(): void {
    this.sys.netlinkClose(this.fd);
  }

  /** Sends and collects the replies up to the ack (or NLMSG_DONE); a NACK becomes a SyscallError. */
  request(build: (seq: number) => Uint8Array, operation: string, tolerate: number[] = []): NetlinkMessage[] {
    const seq = ++this.seq >>> 0;
    this.sys.netlinkSend(this.fd, build(seq));
    const got: NetlinkMessage[] = [];
    for (let i = 0; i < MAX_DATAGRAMS; i++) {
      for (const m of parseMessages(this.sys.netlinkRecv(this.fd))) {
        if (m.seq !== seq) continue; // a late answer to an earlier request
        if (m.type === NLMSG_DONE) return got;
        if (m.type === NLMSG_ERROR) {
          const e = ackErrno(m);
          if (e === 0 || tolerate.includes(e)) return got;
          throw netlinkError(operation, e);
        }
        got.push(m);
      }
    }
    throw netlinkError(`${operation}: no ack after ${MAX_DATAGRAMS} datagrams`, 105);
  }

  /** The link called `name`, or null. */
  link(name: string): LinkInfo | null {
    try {
      const m = this.request((s) => getLinkMessage(s, name), `get link ${name}`).find((x) => x.type === RTM_NEWLINK);
      return m ? parseLink(m) : null;
    } catch (err) {
      if ((err as { errno?: number }).errno === ENODEV) return null;
      throw err;
    }
  }

  links(): LinkInfo[] {
    return this.request((s) => getLinkMessage(s, null), "list links")
      .filter((m) => m.type === RTM_NEWLINK)
      .map(parseLink);
  }

  /** Creates the bridge with its address, still down (EEXIST tolerated: a crash or a race left it). */
  createBridge(b: { name: string; gateway: string; prefixLen: number; mtu: number }): void {
    this.request((s) => newBridgeMessage(s, { name: b.name, mtu: b.mtu }), `create bridge ${b.name}`, [EEXIST]);
    const index = this.index(b.name);
    this.request((s) => newAddrMessage(s, { index, address: b.gateway, prefixLen: b.prefixLen }), `add address ${b.gateway}/${b.prefixLen} to ${b.name}`, [EEXIST]);
  }

  index(name: string): number {
    const l = this.link(name);
    if (!l) throw netlinkError(`find link ${name}`, ENODEV);
    return l.index;
  }

  createVeth(host: LinkAttrs & { name: string }, peer: LinkAttrs & { name: string }): void {
    this.request((s) => newVethMessage(s, host, peer), `create veth ${host.name} (peer ${peer.name})`);
  }

  setHairpin(name: string): void {
    this.request((s) => hairpinMessage(s, { name }), `set hairpin on ${name}`);
  }

  setUp(index: number, name: string): void {
    this.request((s) => setLinkMessage(s, { index, up: true }), `set ${name} up`);
  }

  addAddress(index: number, name: string, address: string, prefixLen: number): void {
    this.request((s) => newAddrMessage(s, { index, address, prefixLen }), `add address ${address}/${prefixLen} to ${name}`);
  }

  addDefaultRoute(gateway: string): void {
    this.request((s) => newDefaultRouteMessage(s, gateway), `add default route via ${gateway}`);
  }

  /** Deletes a link by name; false when there was none. */
  deleteLink(name: string): boolean {
    let missing = false;
    try {
      this.request((s) => delLinkMessage(s, { name }), `delete link ${name}`);
    } catch (err) {
      if ((err as { errno?: number }).errno !== ENODEV) throw err;
      missing = true;
    }
    return !missing;
  }
}

/** Runs fn over a socket (in the netns file's namespace when given) and closes it. */
export function withRouteSocket<T>(sys: Sys, netnsPath: string | null, fn: (s: RouteSocket) => T): T {
  const s = new RouteSocket(sys, netnsPath);
  try {
    return fn(s);
  } finally {
    s.close();
  }
}
