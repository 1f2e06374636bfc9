// The /etc/hostname, /etc/hosts and /etc/resolv.conf a container gets, as Docker writes them. Pure.

export function hostsFile(hostname: string, extra: { ip?: string; aliases?: string[] } = {}): string {
  const lines = [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "ff00::0\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
  ];
  if (extra.ip) lines.push(`${extra.ip}\t${[hostname, ...(extra.aliases ?? [])].join(" ")}`);
  return `${lines.join("\n")}\n`;
}

const DEFAULT_NAMESERVERS = ["8.8.8.8", "8.8.4.4"];

/** The host's resolv.conf minus loopback nameservers (unreachable from the container's netns). */
export function containerResolvConf(host: string): string {
  const out: string[] = [];
  let nameservers = 0;
  for (const line of host.split("\n")) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) {
      const ip = m[1]!;
      if (ip.startsWith("127.") || ip === "::1" || ip === "0.0.0.0") continue;
      nameservers++;
    }
    if (line.trim()) out.push(line.trimEnd());
  }
  if (nameservers === 0) for (const ns of DEFAULT_NAMESERVERS) out.push(`nameserver ${ns}`);
  return `${out.join("\n")}\n`;
}
