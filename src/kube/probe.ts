// A container's livenessProbe, readinessProbe and startupProbe → ProbeRecords, checked as the API
// validates them and defaulted as it defaults them (period 10 s, timeout 1 s, success 1, failure 3,
// initial delay 0). Pure. What would probe differently than the kubelet (gRPC, HTTPS, a host name to
// resolve) is refused, not guessed.
import { isIPv4 } from "../network/portspec.ts";
import type { ProbeAction, ProbeKind, ProbeRecord } from "../store/probe-record.ts";
import type { Obj, Reader } from "./fields.ts";

export const PROBE_FIELDS: Record<string, ProbeKind> = { livenessProbe: "liveness", readinessProbe: "readiness", startupProbe: "startup" };

/** The monitor keeps milliseconds in 32 bits: every duration stays below 2^32 ms. */
const MAX_SECONDS = 4_000_000;

/** The container's probes; `ports` maps its ports' names to their numbers (a probe's port may be a name). */
export function readProbes(r: Reader, c: Obj, at: string, ports: Map<string, number>): ProbeRecord[] {
  const out: ProbeRecord[] = [];
  for (const [field, kind] of Object.entries(PROBE_FIELDS)) {
    const p = r.obj(c[field], `${at}.${field}`);
    if (p) out.push(readProbe(r, p, `${at}.${field}`, kind, ports));
  }
  return out;
}

function readProbe(r: Reader, p: Obj, at: string, kind: ProbeKind, ports: Map<string, number>): ProbeRecord {
  r.known(p, at, ["exec", "httpGet", "tcpSocket", "grpc", "initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"]);
  const handlers = ["exec", "httpGet", "tcpSocket", "grpc"].filter((h) => p[h] !== undefined && p[h] !== null);
  if (handlers.length !== 1) r.fail(at, "exactly one of exec, httpGet, tcpSocket is required");
  const secs = (f: string, min: number, def: number) => r.int(p[f], `${at}.${f}`, min, MAX_SECONDS) ?? def;
  const successThreshold = secs("successThreshold", 1, 1);
  if (kind !== "readiness" && successThreshold !== 1) r.fail(`${at}.successThreshold`, "must be 1");
  return {
    kind,
    action: readAction(r, handlers[0]!, p, at, ports),
    initialDelaySeconds: secs("initialDelaySeconds", 0, 0),
    periodSeconds: secs("periodSeconds", 1, 10),
    timeoutSeconds: secs("timeoutSeconds", 1, 1),
    successThreshold,
    failureThreshold: secs("failureThreshold", 1, 3),
  };
}

function readAction(r: Reader, handler: string, p: Obj, at: string, ports: Map<string, number>): ProbeAction {
  const path = `${at}.${handler}`;
  if (handler === "grpc") return r.fail(path, "gRPC probes are not supported (exec, httpGet, tcpSocket)");
  const h = r.obj(p[handler], path, true)!;
  if (handler === "exec") {
    r.known(h, path, ["command"]);
    const command = r.strs(h.command, `${path}.command`) ?? [];
    if (command.length === 0) r.fail(`${path}.command`, "required");
    return { type: "exec", command };
  }
  const port = probePort(r, h.port, `${path}.port`, ports);
  const host = r.str(h.host, `${path}.host`);
  if (host !== undefined && host !== "" && !isIPv4(host)) r.fail(`${path}.host`, `"${host}" is not an IPv4 address (host names are not resolved here; leave it out for the pod's IP)`);
  const hostPart = host ? { host } : {};
  if (handler === "tcpSocket") {
    r.known(h, path, ["port", "host"]);
    return { type: "tcpSocket", port, ...hostPart };
  }
  r.known(h, path, ["port", "host", "path", "scheme", "httpHeaders"]);
  const scheme = r.str(h.scheme, `${path}.scheme`) ?? "HTTP";
  if (scheme !== "HTTP") r.fail(`${path}.scheme`, scheme === "HTTPS" ? "HTTPS is not supported" : `"${scheme}" is not HTTP or HTTPS`);
  let urlPath = r.str(h.path, `${path}.path`) ?? "/";
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(urlPath)) r.fail(`${path}.path`, "must not contain spaces or control characters");
  if (!urlPath.startsWith("/")) urlPath = `/${urlPath}`;
  const headers = r.list(h.httpHeaders, `${path}.httpHeaders`).map((x0, i) => {
    const hp = `${path}.httpHeaders[${i}]`;
    const x = r.obj(x0, hp, true)!;
    r.known(x, hp, ["name", "value"]);
    const name = r.str(x.name, `${hp}.name`, true)!;
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) r.fail(`${hp}.name`, `"${name}" is not a valid HTTP header name`);
    const value = r.str(x.value, `${hp}.value`) ?? "";
    // eslint-disable-next-line no-control-regex
    if (/[\r\n\x00]/.test(value)) r.fail(`${hp}.value`, "must not contain line breaks");
    return { name, value };
  });
  return { type: "httpGet", port, path: urlPath, ...hostPart, headers };
}

/** A number, or the name of one of the container's ports (then, as the kubelet does, a number in a string). */
function probePort(r: Reader, v: unknown, path: string, ports: Map<string, number>): number {
  if (v === undefined || v === null) return r.fail(path, "required");
  if (typeof v === "string") {
    const named = ports.get(v);
    if (named !== undefined) return named;
    if (/^\d+$/.test(v)) return r.int(Number(v), path, 1, 65535)!;
    return r.fail(path, `no container port named "${v}"`);
  }
  return r.int(v, path, 1, 65535)!;
}
