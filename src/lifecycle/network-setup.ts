// Where a container's network comes: attached (netns file, veth, lease, /etc/hosts and resolv.conf,
// src/network/attach.ts), its ports published, and the plan pointed at its namespace. run and
// create call these once, start again after a cleanup detached the network; network-teardown.ts
// undoes them.
import type { Ctx } from "../context.ts";
import type { NetworkSettingsRecord } from "../network/local.ts";
import type { PortBinding } from "../network/portspec.ts";
import type { RunPlan } from "../runtime/plan.ts";
import type { ContainerRecord } from "../store/containers.ts";
import type { NetworkRequest } from "./run/request.ts";
import type { NetworkOptions } from "../store/network-record.ts";
export type { NetworkOptions } from "../store/network-record.ts";

export async function attachContainerNetwork(ctx: Ctx, rec: Pick<ContainerRecord, "id" | "name" | "hostname">, o: NetworkOptions, undo: (() => void)[]): Promise<NetworkSettingsRecord> {
  const local = await import("../network/local.ts");
  const request = {
    id: rec.id,
    name: rec.name,
    hostname: rec.hostname,
    mode: o.mode,
    aliases: o.aliases,
    ...(o.ip !== undefined ? { ip: o.ip } : {}),
    ...(o.macAddress !== undefined ? { macAddress: o.macAddress } : {}),
    dns: o.dns,
    dnsSearch: o.dnsSearch,
    dnsOptions: o.dnsOptions,
    extraHosts: o.extraHosts,
    ...(o.links?.length ? { links: o.links } : {}),
    ...(o.linkLocalIps?.length ? { linkLocalIps: o.linkLocalIps } : {}),
  };
  // none and host make nothing in the kernel: no undo, and no netlink/IPAM code to load.
  if (local.isLocalMode(o.mode)) return local.attachLocal(ctx, request);
  const { attachNetwork, detachNetwork } = await import("../network/attach.ts");
  const network = await attachNetwork(ctx, request);
  undo.push(() => detachNetwork(ctx, rec.id, network));
  return network;
}

/**
 * -p/-P on the endpoint (src/network/ports.ts), after the record exists (the bindings go into its
 * state.json); undone before the network goes.
 */
export async function publishContainerPorts(ctx: Ctx, rec: ContainerRecord, ports: PortBinding[], undo: (() => void)[]): Promise<void> {
  const ep = rec.network?.endpoint;
  if (ports.length === 0 || !ep) return;
  const { publishPorts, unpublishPortsSync } = await import("../network/ports.ts");
  undo.push(() => unpublishPortsSync(ctx, rec.id));
  const bindings = await publishPorts(ctx, { id: rec.id, ip: ep.ipAddress, bridge: ep.bridge, subnet: ep.subnet, bindings: ports });
  rec.ports = bindings as unknown as Record<string, unknown>[]; // later saves of the record keep them
}

/** A joined netns (bridge, user network, container:) or the host's instead of a new one. */
export function applyNetworkToPlan(plan: RunPlan, network: NetworkSettingsRecord): void {
  if (network.netns === "host") plan.namespaces = plan.namespaces.filter((n) => n !== "net");
  const others = (plan.joinNamespaces ?? []).filter((j) => j.ns !== "net");
  const joins = [...others, ...network.joinNamespaces];
  if (joins.length) plan.joinNamespaces = joins;
  else delete plan.joinNamespaces;
}
