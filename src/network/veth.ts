// A container's endpoint on a bridge network: the veth pair (host end on the bridge, peer in the
// container's netns) and what state.json keeps of it.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { ensureBridge } from "./bridge.ts";
import { RouteSocket, withRouteSocket } from "./link.ts";
import type { EndpointRecord } from "./local.ts";
import { formatMac } from "./netlink.ts";
import type { NetworkRecord } from "./networks.ts";

/** The host end of a container's eth0: td + the first 11 hex of its id (15 chars at most). */
export function hostVethName(id: string): string {
  return `td${id.slice(0, 11)}`;
}

/** What state.json keeps of a container's endpoint on a bridge network. */
export function endpointRecord(
  net: NetworkRecord,
  e: { ip: string; prefixLen: number; mac: Uint8Array; veth: string; aliases: string[] },
): EndpointRecord {
  return {
    networkName: net.name,
    networkId: net.id,
    ipAddress: e.ip,
    prefixLen: e.prefixLen,
    subnet: net.subnet!,
    gateway: net.gateway!,
    macAddress: formatMac(e.mac),
    bridge: net.bridge!,
    hostVeth: e.veth,
    aliases: e.aliases,
  };
}

/**
 * A veth pair on the network's bridge (made if missing), its peer `iface` created straight in the
 * namespace of `nsFile`; its removal goes on `undo`.
 */
export async function createEndpointLink(
  ctx: Ctx,
  net: NetworkRecord,
  nsFile: string,
  link: { veth: string; iface: string; mac: Uint8Array; mtu: number },
  undo: (() => void)[],
): Promise<void> {
  const sock = new RouteSocket(ctx.sys, null);
  try {
    const master = await ensureBridge(ctx, sock, net);
    const nsFd = fs.openSync(nsFile, "r");
    try {
      sock.createVeth({ name: link.veth, mtu: link.mtu, master, up: true }, { name: link.iface, mtu: link.mtu, mac: link.mac, netnsFd: nsFd });
    } finally {
      fs.closeSync(nsFd);
    }
    undo.push(() => withRouteSocket(ctx.sys, null, (s) => s.deleteLink(link.veth)));
    // A container reaching itself through a DNAT (its pod's Service, its own published port).
    sock.setHairpin(link.veth);
  } finally {
    sock.close();
  }
}
