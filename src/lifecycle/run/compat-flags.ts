// The run/create flags Docker has that change what inspect shows, or that this engine takes only
// in the one form it can honour and refuses otherwise (never silently): --annotation, --domainname,
// --isolation, --runtime, --userns, --volume-driver, --detach-keys, --disable-content-trust,
// --cgroup-parent, and the refused --gpus, --storage-opt, --ip6, --use-api-socket. Docker's words.
import { InvalidArgumentError, ParseError } from "../../errors.ts";
import { checkCgroupParent } from "../../runtime/cgroups/cgroup.ts";
import { parseDetachKeys } from "../stdin.ts";
import type { RunRequest } from "./request.ts";

type ArgHelpers = { list: (v: unknown) => string[]; str: (v: unknown) => string | undefined };

/** The OCI runtimes a container may name: this engine's init is runc-compatible, nothing else is here. */
const RUNTIMES = new Set(["runc", "io.containerd.runc.v2"]);

/** --annotation KEY=VALUE… as Docker's MapOpts: a key alone has the value "". */
export function parseAnnotations(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    const key = eq < 0 ? v : v.slice(0, eq);
    if (key.trim() === "") throw new ParseError(`invalid annotation "${v}": the key is empty`);
    out[key] = eq < 0 ? "" : v.slice(eq + 1);
  }
  return out;
}

/** The flags of this file into the request. */
export function applyCompatFlags(req: RunRequest, argv: Record<string, unknown>, h: ArgHelpers): void {
  const { list, str } = h;
  const hc: Record<string, unknown> = {};
  const annotations = list(argv.annotation);
  if (annotations.length) hc.Annotations = parseAnnotations(annotations);

  const domainname = str(argv.domainname);
  if (domainname !== undefined && domainname !== "") {
    if (req.namespaces.uts !== "private") throw new InvalidArgumentError("Conflicting options: domainname and the UTS mode");
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(domainname)) throw new InvalidArgumentError(`invalid domainname format: ${domainname}`);
    req.process.domainname = domainname;
    // The UTS namespace's domain name is this sysctl; an explicit --sysctl kernel.domainname wins.
    const sysctls = req.security.sysctls ?? [];
    if (!sysctls.some((s) => s.key === "kernel.domainname")) req.security.sysctls = [...sysctls, { key: "kernel.domainname", value: domainname, ns: "uts" }];
  }

  const isolation = str(argv.isolation);
  if (isolation !== undefined && isolation !== "") {
    if (isolation.toLowerCase() !== "default") throw new InvalidArgumentError(`Invalid isolation: "${isolation}" - linux only supports 'default'`);
    hc.Isolation = isolation;
  }
  const runtime = str(argv.runtime);
  if (runtime !== undefined && runtime !== "") {
    if (!RUNTIMES.has(runtime)) throw new InvalidArgumentError(`unknown or invalid runtime name: ${runtime}`);
    hc.Runtime = runtime;
  }
  const userns = str(argv.userns);
  if (userns !== undefined && userns !== "") {
    // Without userns-remap (none here) "host" is what every container gets already.
    if (userns !== "host") throw new InvalidArgumentError(`invalid USER mode: ${userns}: only "host" is supported (this engine does no user namespace remapping)`);
    hc.UsernsMode = userns;
  }
  const driver = str(argv["volume-driver"]);
  if (driver !== undefined && driver !== "") {
    if (driver !== "local") throw new InvalidArgumentError(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    hc.VolumeDriver = driver;
  }
  const keys = str(argv["detach-keys"]);
  if (keys !== undefined) parseDetachKeys(keys); // checked as Docker does; they matter to `attach`

  if (argv["disable-content-trust"] === false) throw new InvalidArgumentError("Cannot use --disable-content-trust=false: content trust (image signing) is not supported");
  const gpus = str(argv.gpus);
  if (gpus !== undefined) throw new InvalidArgumentError(`could not select device driver "" with capabilities: [[gpu]]`);
  const storage = list(argv["storage-opt"]);
  for (const o of storage) if (!o.includes("=")) throw new ParseError(`invalid storage option ${o}`);
  if (storage.length) throw new InvalidArgumentError("--storage-opt is supported only for overlay over xfs with 'pquota' mount option");
  const parent = str(argv["cgroup-parent"]);
  if (parent !== undefined && parent !== "") {
    checkCgroupParent(parent);
    req.resources.cgroupParent = parent;
    hc.CgroupParent = parent;
  }
  const ip6 = str(argv.ip6);
  if (ip6 !== undefined && ip6 !== "") throw new InvalidArgumentError(`Cannot use --ip6 ${ip6}: networks here are IPv4 only`);
  if (argv["use-api-socket"] === true) throw new InvalidArgumentError("Cannot use --use-api-socket: tinydock is daemonless, there is no API socket to mount");
  if (Object.keys(hc).length) req.hostConfig = { ...req.hostConfig, ...hc };
}
