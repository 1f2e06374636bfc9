// `--network`: none, host, bridge (default), container:NAME|ID, or a user network's name. Pure.
import { ParseError } from "../errors.ts";

export type NetworkMode =
  | { kind: "none" }
  | { kind: "host" }
  | { kind: "container"; ref: string }
  | { kind: "network"; name: string };

export function parseNetworkMode(text: string | undefined): NetworkMode {
  const v = (text ?? "").trim();
  if (v === "" || v === "default" || v === "bridge") return { kind: "network", name: "bridge" };
  if (v === "none") return { kind: "none" };
  if (v === "host") return { kind: "host" };
  if (v.startsWith("container:")) {
    const ref = v.slice("container:".length);
    if (!ref) throw new ParseError(`Cannot parse network mode "${text}": container: needs a container name or id`);
    return { kind: "container", ref };
  }
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(v)) throw new ParseError(`Cannot parse network mode "${text}": not a network name`);
  return { kind: "network", name: v };
}
