// The outbound NAT chains (masquerade.ts) rewritten from every bridge of this network namespace,
// whatever root brought it up: a root rewriting them from its own networks alone would cut off
// another root's.
import type { Ctx } from "../context.ts";
import { lockHostNet, recordedBridges } from "./hostnet.ts";
import { withRouteSocket } from "./link.ts";
import { applyMasquerade, type BridgeNet } from "./masquerade.ts";

/** The recorded bridges of this netns whose device exists. */
export function activeBridges(ctx: Ctx): BridgeNet[] {
  return withRouteSocket(ctx.sys, null, (s) => recordedBridges(ctx, (b) => s.link(b) !== null));
}

/** Rewrites the NAT chains; the caller holds lockHostNet. */
export function applyNatRules(ctx: Ctx): void {
  applyMasquerade(activeBridges(ctx));
}

/** The same under lockHostNet: one process at a time (two bridges coming up at once, in any root). */
export async function syncNatRules(ctx: Ctx): Promise<void> {
  const lock = await lockHostNet(ctx);
  try {
    applyNatRules(ctx);
  } finally {
    lock.release();
  }
}
