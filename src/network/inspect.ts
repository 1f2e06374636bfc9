// Docker's shapes for `network inspect` and `network ls`. Pure over the records and leases.
import type { Lease } from "./ipam.ts";
import type { NetworkRecord } from "./networks.ts";
import { parseCidr } from "./subnet.ts";
import { formatMac, macForIp } from "./netlink.ts";

export function inspectNetwork(net: NetworkRecord, members: Lease[]): Record<string, unknown> {
  const prefix = net.subnet ? parseCidr(net.subnet).subnet.prefixLen : 0;
  const containers: Record<string, unknown> = {};
  for (const m of members) {
    containers[m.id] = {
      Name: m.name,
      EndpointID: new Bun.CryptoHasher("sha256").update(`${net.id}/${m.id}`).digest("hex"),
      MacAddress: formatMac(macForIp(m.ip)),
      IPv4Address: `${m.ip}/${prefix}`,
      IPv6Address: "",
    };
  }
  const options: Record<string, string> = {};
  if (net.bridge) {
    options["com.docker.network.bridge.name"] = net.bridge;
    if (net.name === "bridge") options["com.docker.network.bridge.default_bridge"] = "true";
  }
  return {
    Name: net.name,
    Id: net.id,
    Created: net.created,
    Scope: "local",
    Driver: net.driver,
    EnableIPv6: false,
    IPAM: {
      Driver: "default",
      Options: null,
      Config: net.subnet ? [{ Subnet: net.subnet, Gateway: net.gateway }] : [],
    },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: "" },
    ConfigOnly: false,
    Containers: containers,
    Options: options,
    Labels: net.labels ?? {},
  };
}


interface EndpointLike {
  networkName: string;
  networkId: string;
  ipAddress: string;
  prefixLen: number;
  gateway: string;
  macAddress: string;
  bridge: string;
  aliases: string[];
  ipamConfig?: Record<string, unknown>;
}

interface SettingsLike {
  mode: string;
  netnsPath?: string;
  endpoint?: EndpointLike;
  extraEndpoints?: EndpointLike[];
}

/** The network names a container is on, as `docker ps` shows them ("" for container:). */
export function networkNamesOf(rec: SettingsLike | undefined): string[] {
  if (!rec) return [];
  if (rec.mode.startsWith("container:")) return [];
  const eps = [rec.endpoint, ...(rec.extraEndpoints ?? [])].filter((e): e is EndpointLike => !!e);
  return eps.length ? eps.map((e) => e.networkName) : [rec.mode];
}

/**
 * Docker's NetworkSettings (the container inspect fields the network owns). `released`: a container
 * not running holds no address (its lease may be another's by now): Docker's cleanOperationalData
 * empties each endpoint's address, gateway, MAC and endpoint id, the network stays named.
 */
export function networkSettingsView(rec: SettingsLike | undefined, released = false, connects: { network: string; networkId: string; aliases: string[] }[] = []): Record<string, unknown> {
  const held = rec ? [rec.endpoint, ...(rec.extraEndpoints ?? [])].filter((e): e is EndpointLike => !!e) : [];
  const eps = released ? held.map((e) => ({ ...e, ipAddress: "", prefixLen: 0, gateway: "", macAddress: "" })) : held;
  const primary = eps[0];
  const networks: Record<string, unknown> = {};
  for (const e of eps) {
    networks[e.networkName] = {
      IPAMConfig: e.ipamConfig ?? null,
      Links: null,
      Aliases: e.aliases.length ? e.aliases : null,
      MacAddress: e.macAddress,
      NetworkID: e.networkId,
      EndpointID: released ? "" : new Bun.CryptoHasher("sha256").update(`${e.networkId}/${rec!.netnsPath ?? ""}`).digest("hex"),
      Gateway: e.gateway,
      IPAddress: e.ipAddress,
      IPPrefixLen: e.prefixLen,
      IPv6Gateway: "",
      GlobalIPv6Address: "",
      GlobalIPv6PrefixLen: 0,
      DriverOpts: null,
      DNSNames: null,
    };
  }
  // `network connect`ed while not running: named, its endpoint made at the next start.
  for (const x of released ? connects : []) {
    networks[x.network] ??= { IPAMConfig: null, Links: null, Aliases: x.aliases.length ? x.aliases : null, MacAddress: "", NetworkID: x.networkId, EndpointID: "", Gateway: "", IPAddress: "", IPPrefixLen: 0, IPv6Gateway: "", GlobalIPv6Address: "", GlobalIPv6PrefixLen: 0, DriverOpts: null, DNSNames: null };
  }
  if (rec && !eps.length && (rec.mode === "none" || rec.mode === "host")) {
    networks[rec.mode] = { IPAMConfig: null, Links: null, Aliases: null, MacAddress: "", NetworkID: "", EndpointID: "", Gateway: "", IPAddress: "", IPPrefixLen: 0 };
  }
  return {
    Bridge: "",
    SandboxID: "",
    SandboxKey: rec?.netnsPath ?? "",
    Gateway: primary?.gateway ?? "",
    IPAddress: primary?.ipAddress ?? "",
    IPPrefixLen: primary?.prefixLen ?? 0,
    MacAddress: primary?.macAddress ?? "",
    Networks: networks,
  };
}
