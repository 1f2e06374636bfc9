// Where a container's network goes away: called by rm, by the supervisor's `container cleanup`,
// and by reconcile for containers whose supervisor died; network-setup.ts made what this removes.
// Both must stay idempotent: they run again after a crash half-way.
import type { Ctx } from "../context.ts";
import type { ContainerRecord } from "../store/containers.ts";

export async function teardownNetwork(ctx: Ctx, rec: ContainerRecord): Promise<void> {
  // The port rules first, then the veth, netns file, lease and peers' hosts files.
  const { unpublishPortsSync } = await import("../network/ports.ts");
  if ((rec as { ports?: unknown[] }).ports?.length) unpublishPortsSync(ctx, rec.id);
  const { detachNetwork } = await import("../network/attach.ts");
  detachNetwork(ctx, rec.id, rec.network);
}

/** Orphaned network objects (by their tinydock names) of containers not in `keep`; returns what was removed. */
export async function reconcileNetwork(ctx: Ctx, keep: Set<string>): Promise<string[]> {
  // Port rules, netns files, td… veths and leases.
  const { reconcileNetworks } = await import("../network/reconcile.ts");
  const { reconcilePorts } = await import("../network/ports.ts");
  const rules = await reconcilePorts(ctx, { keep });
  const r = await reconcileNetworks(ctx, keep);
  return [...rules.map((id) => `port rules ${id}`), ...r.netns.map((id) => `netns ${id}`), ...r.veths.map((v) => `veth ${v}`), ...r.leases.map((l) => `lease ${l}`)];
}
