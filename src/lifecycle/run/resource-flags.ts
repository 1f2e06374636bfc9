// The run/create flags of cgroup limits beyond the common ones (runtime/resources.ts parses those),
// and of the OOM killer: --memory-reservation, --blkio-weight, --cpu-period/--cpu-quota (checked by
// `update`'s parser, so both verbs say the same), --cpu-rt-*, --kernel-memory, --oom-kill-disable,
// --oom-score-adj, the per-device block I/O flags, and the Windows-only ones refused. Docker's words.
import fs from "node:fs";
import { InvalidArgumentError, ParseError } from "../../errors.ts";
import { parseResourceUpdate } from "../../runtime/resource-update.ts";
import { devMajor, devMinor } from "../../runtime/devicespec.ts";
import { parseMemoryBytes, type BlkioDeviceLimits, type BlkioDeviceValue } from "../../runtime/resources.ts";
import type { RunRequest } from "./request.ts";

type ArgHelpers = { list: (v: unknown) => string[]; str: (v: unknown) => string | undefined };

/** Docker's warnings for these flags (dockerd's and the CLI's). */
export const KERNEL_MEMORY_WARNING = "Specifying a kernel memory limit is deprecated and will be removed in a future release.";
export const OOM_KILL_DISABLE_NO_MEMORY_WARNING = "Disabling the OOM killer on containers without setting a '-m/--memory' limit may be dangerous.";

/** Flags Docker has for Windows containers only: refused here rather than ignored. */
const WINDOWS_ONLY = ["cpu-count", "cpu-percent", "io-maxbandwidth", "io-maxiops"] as const;

const numOrUndefined = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));

/** DEVICE:VALUE as Docker's CLI checks it (opts.ValidateWeightDevice / ValidateThrottle*Device). */
export function parseBlkioDevice(input: string, kind: "weight" | "bps" | "iops"): { path: string; value: number } {
  const i = input.indexOf(":");
  if (i < 0) throw new ParseError(`bad format: ${input}`);
  const path = input.slice(0, i);
  const text = input.slice(i + 1);
  if (!path.startsWith("/dev/")) throw new ParseError(`bad format for device path: ${input}`);
  if (kind === "weight") {
    const w = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(w) || (w > 0 && (w < 10 || w > 1000))) throw new ParseError(`invalid weight for device: ${input}`);
    return { path, value: w };
  }
  if (kind === "iops") {
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new ParseError(`invalid rate for device: ${input}. The correct format is <device-path>:<number>. Number must be a positive integer`);
    return { path, value: Number(text) };
  }
  try {
    return { path, value: parseMemoryBytes(text, "rate") };
  } catch {
    throw new ParseError(`invalid rate for device: ${input}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`);
  }
}

/** A block device node's numbers (dockerd stats the path at create, and again here at each start). */
export function blockDeviceOf(path: string): { major: number; minor: number } {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (err) {
    throw new InvalidArgumentError(`Cannot use block device "${path}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  if (!st.isBlockDevice()) throw new InvalidArgumentError(`Cannot use "${path}" for a block I/O limit: not a block device`);
  return { major: devMajor(st.rdev), minor: devMinor(st.rdev) };
}

const DEVICE_FLAGS: [keyof BlkioDeviceLimits, string, "weight" | "bps" | "iops"][] = [
  ["weight", "blkio-weight-device", "weight"],
  ["readBps", "device-read-bps", "bps"],
  ["writeBps", "device-write-bps", "bps"],
  ["readIops", "device-read-iops", "iops"],
  ["writeIops", "device-write-iops", "iops"],
];

/** The flags of this file into the request; returns nothing, warnings go to req.warnings. */
export function applyResourceFlags(req: RunRequest, argv: Record<string, unknown>, h: ArgHelpers, hostCpus: number): void {
  const { list, str } = h;
  for (const flag of WINDOWS_ONLY) {
    const v = str(argv[flag]);
    if (v !== undefined && v !== "0" && v !== "") throw new InvalidArgumentError(`Invalid QoS settings: --${flag} is supported for Windows containers only`);
  }
  const r = req.resources.limits;
  const warn = (w: string) => (req.warnings ??= []).push(w);

  // --cpus and --memory again, for the checks across flags (Nano CPUs with a period, memory below the reservation).
  const u = parseResourceUpdate(
    {
      ...(str(argv.memory) !== undefined ? { memory: str(argv.memory)! } : {}),
      ...(str(argv.cpus) !== undefined ? { cpus: str(argv.cpus)! } : {}),
      ...(str(argv["memory-reservation"]) !== undefined ? { memoryReservation: str(argv["memory-reservation"])! } : {}),
      ...(numOrUndefined(argv["cpu-period"]) !== undefined ? { cpuPeriod: numOrUndefined(argv["cpu-period"])! } : {}),
      ...(numOrUndefined(argv["cpu-quota"]) !== undefined ? { cpuQuota: numOrUndefined(argv["cpu-quota"])! } : {}),
      ...(numOrUndefined(argv["blkio-weight"]) !== undefined ? { blkioWeight: numOrUndefined(argv["blkio-weight"])! } : {}),
    },
    hostCpus,
  );
  if (u.MemoryReservation !== undefined) r.memoryReservation = u.MemoryReservation;
  if (u.BlkioWeight !== undefined) r.blkioWeight = u.BlkioWeight;
  if (u.CpuPeriod !== undefined) r.cpuPeriod = u.CpuPeriod;
  if (u.CpuQuota !== undefined) r.cpuQuota = u.CpuQuota;

  const rtPeriod = argv["cpu-rt-period"] as number | undefined;
  const rtRuntime = argv["cpu-rt-runtime"] as number | undefined;
  if (rtPeriod && rtRuntime && rtRuntime > rtPeriod) throw new InvalidArgumentError("cpu-rt-runtime cannot be higher than cpu-rt-period");
  if (rtPeriod) r.cpuRtPeriod = rtPeriod;
  if (rtRuntime) r.cpuRtRuntime = rtRuntime;

  const kmem = str(argv["kernel-memory"]);
  if (kmem !== undefined && kmem !== "" && parseMemoryBytes(kmem, "kernel-memory") > 0) {
    req.hostConfig = { ...req.hostConfig, KernelMemory: parseMemoryBytes(kmem, "kernel-memory") };
    warn(KERNEL_MEMORY_WARNING);
  }

  if (argv["oom-kill-disable"] === true) {
    r.oomKillDisable = true;
    if (r.memory === undefined) warn(OOM_KILL_DISABLE_NO_MEMORY_WARNING);
  }
  const adj = argv["oom-score-adj"] as number | undefined;
  if (adj !== undefined) {
    if (adj < -1000 || adj > 1000) throw new InvalidArgumentError(`Invalid value ${adj}, range for oom score adj is [-1000, 1000]`);
    req.process.oomScoreAdj = adj;
  }

  const devices: BlkioDeviceLimits = {};
  for (const [key, flag, kind] of DEVICE_FLAGS) {
    const values: BlkioDeviceValue[] = list(argv[flag]).map((v) => {
      const d = parseBlkioDevice(v, kind);
      return { path: d.path, ...blockDeviceOf(d.path), value: d.value };
    });
    if (values.length) devices[key] = values;
  }
  if (Object.keys(devices).length) r.blkioDevices = devices;
}
