// --expose PORT[/PROTO] and ranges (`--expose 7000-7002/udp`): Config.ExposedPorts keys, one a port,
// as Docker's nat.ParsePortRange expands them. Pure.
import { ParseError } from "../errors.ts";

const PROTOCOLS = ["tcp", "udp", "sctp"];
/** Docker refuses nothing, but a range this long is a typo that would make a huge record. */
const MAX_RANGE = 65536;

export function parseExpose(input: string): string[] {
  const slash = input.indexOf("/");
  const ports = slash < 0 ? input : input.slice(0, slash);
  const proto = slash < 0 ? "tcp" : input.slice(slash + 1).toLowerCase();
  const bad = (why: string) => new ParseError(`Cannot parse exposed port "${input}": ${why}`);
  if (!PROTOCOLS.includes(proto)) throw bad(`unknown protocol "${proto}" (tcp, udp or sctp)`);
  if (ports.includes(":")) throw bad("an exposed port has no host part");
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(ports);
  if (!m) throw bad("invalid range format for --expose");
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start < 1 || end > 65535 || start > 65535) throw bad("port must be between 1 and 65535");
  if (end < start) throw bad(`range ${ports} ends before it starts`);
  if (end - start >= MAX_RANGE) throw bad("range too long");
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}
