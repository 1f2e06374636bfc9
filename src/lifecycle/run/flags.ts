// The run/create flags that shape the record and the plan without a group of their own: --pull,
// --stop-signal/--stop-timeout, --shm-size, --device-cgroup-rule, --sysctl, --expose,
// --log-driver, --label-file, --mac-address, -a, --volumes-from, --link. Each parsed with Docker's words; nothing here
// touches the system but the label files' reading.
import { InvalidArgumentError, ParseError } from "../../errors.ts";
import { parseExpose } from "../../network/expose.ts";
import { parseDeviceCgroupRule } from "../../runtime/devicecgrouprule.ts";
import { parseMemoryBytes } from "../../runtime/resources.ts";
import { checkSysctls, parseSysctl } from "../../runtime/sysctl.ts";
import { parseLabelFile } from "../labelfile.ts";
import { readArgFile } from "./argfile.ts";
import { parseSignal } from "../signals.ts";
import { healthcheckFromFlags } from "./healthcheck.ts";
import { parseLink, parseVolumesFrom } from "./links.ts";
import type { LifetimeRequest, PullPolicy, RunRequest } from "./request.ts";

type ArgHelpers = { list: (v: unknown) => string[]; str: (v: unknown) => string | undefined };

export function parsePullPolicy(input: string): PullPolicy {
  if (input === "missing" || input === "always" || input === "never") return input;
  throw new ParseError(`invalid pull option: '${input}': must be one of "always", "missing" or "never"`);
}

export function parseLogDriver(input: string): NonNullable<LifetimeRequest["logDriver"]> {
  if (input === "json-file" || input === "local" || input === "none") return input;
  throw new InvalidArgumentError(`Cannot use log driver "${input}": supported are json-file, local and none`);
}

export type Stream = "stdin" | "stdout" | "stderr";

/** -a stdin|stdout|stderr (case-insensitive, as Docker); repeated or none = all three. */
export function parseAttach(values: string[]): Set<Stream> {
  const out = new Set<Stream>();
  for (const v of values) {
    const s = v.toLowerCase();
    if (s !== "stdin" && s !== "stdout" && s !== "stderr") throw new ParseError(`invalid argument "${v}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
    out.add(s);
  }
  return out;
}

/** 6 bytes in hex, colon-separated (what Go's net.ParseMAC takes for Ethernet, lower-cased). */
export function parseMacAddress(input: string): string {
  const m = /^([0-9a-fA-F]{2})(?:[:-]([0-9a-fA-F]{2})){5}$/.test(input);
  if (!m) throw new ParseError(`${input} is not a valid mac address`);
  const bytes = input.split(/[:-]/).map((b) => parseInt(b, 16));
  if (bytes[0]! & 1) throw new ParseError(`${input} is not a valid mac address: a multicast address`);
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** --label-file FILE...: their lines, in order, before the -l flags (which win, as Docker's). */
export function labelFiles(files: string[]): string[] {
  const out: string[] = [];
  for (const f of files) for (const l of parseLabelFile(readArgFile(f, "label file"), f)) out.push(l);
  return out;
}

/** The flags of this file into the request built from the others. */
export function applyRunFlags(req: RunRequest, argv: Record<string, unknown>, h: ArgHelpers): void {
  const { list, str } = h;
  const pull = str(argv.pull);
  if (pull !== undefined && pull !== "missing") req.pull = parsePullPolicy(pull);
  const stopSignal = str(argv["stop-signal"]);
  if (stopSignal !== undefined) {
    parseSignal(stopSignal); // refused now, not at stop
    req.process.stopSignal = stopSignal;
  }
  if (argv["stop-timeout"] !== undefined) req.process.stopTimeout = Number(argv["stop-timeout"]);
  const shm = str(argv["shm-size"]);
  if (shm !== undefined) {
    const bytes = parseMemoryBytes(shm, "shm-size");
    if (bytes <= 0) throw new ParseError(`Cannot parse shm-size "${shm}": must be greater than 0`);
    req.resources.shmSize = bytes;
  }
  const rules = list(argv["device-cgroup-rule"]);
  if (rules.length) req.resources.deviceCgroupRules = rules.map(parseDeviceCgroupRule);
  const sysctls = list(argv.sysctl).map(parseSysctl);
  if (sysctls.length) {
    checkSysctls(sysctls, { network: req.network.mode, ipc: req.namespaces.ipc, uts: req.namespaces.uts });
    req.security.sysctls = sysctls;
  }
  const expose = list(argv.expose).flatMap(parseExpose);
  if (expose.length) req.ports.expose = [...new Set(expose)];
  const driver = str(argv["log-driver"]);
  if (driver !== undefined) {
    req.lifetime.logDriver = parseLogDriver(driver);
    if (req.lifetime.logDriver === "none" && list(argv["log-opt"]).length) throw new InvalidArgumentError("Cannot use --log-opt: the none log driver takes no options");
  }
  const attach = list(argv.attach);
  if (attach.length) {
    if (req.lifetime.detach) throw new InvalidArgumentError("Conflicting options: -a and -d");
    req.attach = [...parseAttach(attach)];
  }
  const health = healthcheckFromFlags({
    cmd: str(argv["health-cmd"]),
    interval: str(argv["health-interval"]),
    timeout: str(argv["health-timeout"]),
    startPeriod: str(argv["health-start-period"]),
    startInterval: str(argv["health-start-interval"]),
    ...(argv["health-retries"] !== undefined ? { retries: Number(argv["health-retries"]) } : {}),
    none: argv["no-healthcheck"] === true,
  });
  if (health) req.healthcheck = health;
  const volumesFrom = list(argv["volumes-from"]);
  if (volumesFrom.length) {
    for (const v of volumesFrom) parseVolumesFrom(v); // refused now, before anything is made
    req.volumesFrom = volumesFrom;
    req.hostConfig = { ...req.hostConfig, VolumesFrom: volumesFrom };
  }
  const links = list(argv.link);
  if (links.length) {
    const mode = req.network.mode;
    if (mode === "host") throw new InvalidArgumentError("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
    if (mode.startsWith("container:")) throw new InvalidArgumentError("conflicting options: container type network can't be used with links. This would result in undefined behavior");
    req.links = links.map(parseLink);
  }
  const cidfile = str(argv.cidfile);
  if (cidfile !== undefined && cidfile !== "") req.cidfile = cidfile;
}
