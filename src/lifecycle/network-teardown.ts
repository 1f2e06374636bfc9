// The hook where a container's network goes away: called by rm, by the supervisor's
// `container cleanup`, and by reconcile for containers whose supervisor died. The network and ports
// stages (src/network/) plug in here; until they exist this only marks the place.
//
// Integration (lead): in teardownNetwork call `unpublishPorts(ctx, rec.id)` when rec.ports is set,
// then `detachNetwork(ctx, rec.id, rec.network)` when rec.network is set; in reconcileNetwork remove
// veths/rules/netns files whose container id is not in `keep`. Both must be idempotent: they run
// again after a crash half-way.
import type { Ctx } from "../context.ts";
import type { ContainerRecord } from "../store/containers.ts";

export async function teardownNetwork(ctx: Ctx, rec: ContainerRecord): Promise<void> {
  // network (net helper): veth, netns file, lease, peers' hosts files. Ports (lead): unpublishPorts first.
  const { unpublishPortsSync } = await import("../network/ports.ts"); // ports
  if ((rec as { ports?: unknown[] }).ports?.length) unpublishPortsSync(ctx, rec.id); // ports
  const { detachNetwork } = await import("../network/attach.ts");
  detachNetwork(ctx, rec.id, rec.network);
}

/** Orphaned network objects (by their tinydock names) of containers not in `keep`; returns what was removed. */
export async function reconcileNetwork(ctx: Ctx, keep: Set<string>): Promise<string[]> {
  // network (net helper): netns files, td… veths, leases. Ports (lead): reconcilePorts too.
  const { reconcileNetworks } = await import("../network/reconcile.ts");
  const { reconcilePorts } = await import("../network/ports.ts"); // ports
  const rules = await reconcilePorts(ctx, { keep }); // ports
  const r = await reconcileNetworks(ctx, keep);
  return [...rules.map((id) => `port rules ${id}`), ...r.netns.map((id) => `netns ${id}`), ...r.veths.map((v) => `veth ${v}`), ...r.leases.map((l) => `lease ${l}`)];
}
