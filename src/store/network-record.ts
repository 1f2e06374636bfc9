// The network shapes a container's state.json keeps: what run's network flags asked for (so `start`
// can attach again) and what attaching made (so teardown can undo it). Defined here, where they are
// stored, so the store names them without importing the stages that fill them in.
export type Protocol = "tcp" | "udp" | "sctp";

export interface PortBinding {
  /** "" = every address of the host (Docker prints 0.0.0.0). */
  hostIp: string;
  /** 0 = a free port from the ephemeral range. */
  hostPort: number;
  /** With hostPort: pick a free port in [hostPort, hostPortEnd] (`8080-8090:80`). */
  hostPortEnd?: number;
  containerPort: number;
  protocol: Protocol;
}

export interface ExtraHost {
  host: string;
  ip: string;
}

/** The container's end of a bridge network (Docker's NetworkSettings.Networks[name]). */
export interface EndpointRecord {
  networkName: string;
  networkId: string;
  ipAddress: string;
  prefixLen: number;
  /** The network's subnet (CIDR): what port publishing masquerades for hairpin. */
  subnet: string;
  gateway: string;
  macAddress: string;
  bridge: string;
  /** The host end of the veth pair, td<first 11 hex of the container id>. */
  hostVeth: string;
  aliases: string[];
  /** What was asked for (--ip, --link-local-ip): Docker's IPAMConfig; absent when nothing was. */
  ipamConfig?: { IPv4Address?: string; LinkLocalIPs?: string[] };
}

/** What state.json keeps under `network`, and what the run plan needs. */
export interface NetworkSettingsRecord {
  /** "none", "host", "bridge", "container:<id>" or a user network's name. */
  mode: string;
  /**
   * new: the plan unshares a fresh netns (only lo: --network none); join: the plan does not
   * unshare "net" but joins `joinNamespaces`; host: neither.
   */
  netns: "new" | "join" | "host";
  joinNamespaces: { ns: "net"; path: string }[];
  /** The nsfs file this container owns (removed by detachNetwork). */
  netnsPath?: string;
  endpoint?: EndpointRecord;
  /** Added by `network connect` (eth1, eth2…); they go with the netns file. */
  extraEndpoints?: EndpointRecord[];
  /** --add-host entries, kept to rewrite the hosts file when peers come and go. */
  extraHosts?: ExtraHost[];
}

/** The network flags, kept in state.json (with the ports) for `start` to attach again. */
export interface NetworkRequest {
  /** --network: bridge, none, host, container:NAME|ID or a user network. */
  mode: string;
  aliases: string[];
  ip?: string;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: string[];
  /** --mac-address for eth0. */
  macAddress?: string;
  /** --link-local-ip: more addresses on eth0 (/16 or /64). */
  linkLocalIps?: string[];
}

/**
 * What run's network flags asked for (state.json `networkOptions`): `start` attaches again from
 * it after a cleanup detached the network (the address is released on stop, as Docker does).
 */
export interface NetworkOptions extends NetworkRequest {
  /** -p/-P as runPortBindings resolved them (host port 0 = a random one at each publish). */
  ports: PortBinding[];
  /** --link's hosts lines, resolved when the container was made. */
  links?: ExtraHost[];
  /** `network connect`'s networks (eth1, eth2…): connected again at every start, as Docker's. */
  connects?: NetworkConnect[];
}

export interface NetworkConnect {
  network: string;
  networkId: string;
  aliases: string[];
  ip?: string;
  linkLocalIps?: string[];
}
