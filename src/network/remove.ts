// `network rm` and `network prune`: a network without members goes with its bridge and NAT rules.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { FailedPreconditionError, PermissionError } from "../errors.ts";
import { networkMembers } from "./addresses.ts";
import { addressClaims, forgetBridge, lockHostNet } from "./hostnet.ts";
import { withRouteSocket } from "./link.ts";
import { applyNatRules } from "./natsync.ts";
import { findNetwork, lockNetwork, networkPaths, PREDEFINED, type NetworkRecord } from "./networks.ts";

/**
 * `network rm`: refused while a container uses it; removes its bridge and NAT rules. With
 * `teardownDefault` (network prune) the default bridge goes as well when unused: its device, its
 * rules and its record (re-made from `bip` on the next run).
 */
export async function removeNetwork(ctx: Ctx, ref: string, opts: { teardownDefault?: boolean } = {}): Promise<NetworkRecord> {
  const net = findNetwork(ctx, ref);
  const isPredefined = (PREDEFINED as readonly string[]).includes(net.name);
  if (isPredefined && !opts.teardownDefault) throw new PermissionError(`${net.name} is a pre-defined network and cannot be removed`);
  const lock = await lockNetwork(ctx, net.name);
  try {
    const members = networkMembers(ctx, net);
    if (members.length) {
      const eps = members.map((m) => `name:"${m.name}" id:"${m.id.slice(0, 12)}"`).join(", ");
      throw new FailedPreconditionError(`error while removing network: network ${net.name} has active endpoints (${eps})`);
    }
    if (net.bridge) {
      const hl = await lockHostNet(ctx);
      try {
        // tinydock0 is every root's: it stays while another root's container holds an address on it.
        if (!addressClaims(ctx, net.bridge).some((c) => c.root !== ctx.root)) {
          withRouteSocket(ctx.sys, null, (s) => s.deleteLink(net.bridge!));
          forgetBridge(ctx, net.bridge);
        }
        // Always: the chains may outlive the records (a root removed or reset while its bridge was up).
        applyNatRules(ctx);
      } finally {
        hl.release();
      }
    }
    // The default bridge's record goes too, so the next run reads `bip` again (as dockerd at start).
    if (!isPredefined || net.driver === "bridge") fs.rmSync(networkPaths(ctx.root, net.name).dir, { recursive: true, force: true });
    return net;
  } finally {
    lock.release();
  }
}
