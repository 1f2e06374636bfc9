// A bridge network's device: made by its first container, with the gateway address, the NAT
// chains and IP forwarding.
import type { Ctx } from "../context.ts";
import { recordBridge } from "./hostnet.ts";
import type { RouteSocket } from "./link.ts";
import { enableIpForward } from "./masquerade.ts";
import type { NetworkRecord } from "./networks.ts";
import { syncNatRules } from "./natsync.ts";
import { parseCidr } from "./subnet.ts";

const IFF_UP = 1;

/** Makes the network's bridge (with address, NAT and forwarding) unless it is up already. */
export async function ensureBridge(ctx: Ctx, sock: RouteSocket, net: NetworkRecord): Promise<number> {
  const name = net.bridge!;
  const have = sock.link(name);
  if (have && have.flags & IFF_UP) return have.index;
  const { subnet } = parseCidr(net.subnet!);
  sock.createBridge({ name, gateway: net.gateway!, prefixLen: subnet.prefixLen, mtu: ctx.config.mtu });
  recordBridge(ctx, name, net.subnet!);
  await syncNatRules(ctx);
  enableIpForward();
  const index = sock.index(name);
  sock.setUp(index, name);
  return index;
}
