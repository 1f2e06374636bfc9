// `docker stats`: CPU %, memory usage / limit, memory %, network and block I/O and pids, from the
// container's cgroup (v1 or v2, through the cgroups stage) and its network namespace's /proc/net/dev.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { bytesSize, humanSize3 } from "../units.ts";
import { detectCgroups, type CgroupStats } from "../runtime/cgroups/index.ts";
import { cgroupLocator, cgroupParentOf } from "./cgroupdirs.ts";
import { withProcess } from "./liveness.ts";
import type { LiveContainer } from "./live.ts";

export interface StatsSample {
  atMs: number;
  cgroup: CgroupStats;
  net: { rx: number; tx: number };
  block: { read: number; write: number };
}

export interface StatsRow {
  id: string;
  name: string;
  cpuPercent: number;
  memUsage: number;
  memLimit: number;
  memPercent: number;
  net: { rx: number; tx: number };
  block: { read: number; write: number };
  pids: number;
}

/** /proc/<pid>/net/dev summed over every interface but lo. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split("\n").slice(2)) {
    const [name, rest] = line.split(":");
    if (!rest || name!.trim() === "lo") continue;
    const f = rest.trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}

/** v1 blkio.throttle.io_service_bytes ("8:0 Read 123") or v2 io.stat ("8:0 rbytes=1 wbytes=2 …"). */
export function parseBlockIo(text: string, v2: boolean): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split("\n")) {
    if (v2) {
      read += Number(/rbytes=(\d+)/.exec(line)?.[1] ?? 0);
      write += Number(/wbytes=(\d+)/.exec(line)?.[1] ?? 0);
    } else {
      const m = /^\d+:\d+ (Read|Write) (\d+)$/.exec(line.trim());
      if (m) m[1] === "Read" ? (read += Number(m[2])) : (write += Number(m[2]));
    }
  }
  return { read, write };
}

const ZERO: CgroupStats = { memoryUsage: 0, memoryLimit: 0, pids: 0, cpuUsageNs: 0 };

export function sampleStats(ctx: Ctx, c: LiveContainer): StatsSample {
  const at = Date.now();
  if (!c.state.Running) return { atMs: at, cgroup: ZERO, net: { rx: 0, tx: 0 }, block: { read: 0, write: 0 } };
  let cg = ZERO;
  try {
    cg = detectCgroups(ctx.cgroupRoot).open(c.record.id, cgroupParentOf(c.record)).stats();
  } catch {}
  let net = { rx: 0, tx: 0 };
  try {
    // Through the checked /proc directory of its PID 1: never a host process that took its pid.
    net = withProcess(c.state.Pid, c.state.pidStartTime, (dir) => parseNetDev(fs.readFileSync(`${dir}/net/dev`, "utf8"))) ?? net;
  } catch {}
  let block = { read: 0, write: 0 };
  for (const d of cgroupLocator(ctx.cgroupRoot).dirs(c.record.id, c.record.cgroupPath)) {
    for (const [file, v2] of [["blkio.throttle.io_service_bytes", false], ["io.stat", true]] as const) {
      try {
        block = parseBlockIo(fs.readFileSync(path.join(d, file), "utf8"), v2);
      } catch {}
    }
  }
  return { atMs: at, cgroup: cg, net, block };
}

/** One row from two samples (CPU % needs a delta: Docker's cpuDelta / systemDelta × CPUs). */
export function statsRow(c: LiveContainer, before: StatsSample, after: StatsSample, hostMemory = os.totalmem()): StatsRow {
  const wallNs = (after.atMs - before.atMs) * 1e6;
  const cpuDelta = after.cgroup.cpuUsageNs - before.cgroup.cpuUsageNs;
  const limit = Number.isFinite(after.cgroup.memoryLimit) && after.cgroup.memoryLimit > 0 ? Math.min(after.cgroup.memoryLimit, hostMemory) : c.state.Running ? hostMemory : 0;
  return {
    id: c.record.id,
    name: c.record.name,
    cpuPercent: wallNs > 0 && cpuDelta > 0 ? (cpuDelta / wallNs) * 100 : 0,
    memUsage: after.cgroup.memoryUsage,
    memLimit: limit,
    memPercent: limit > 0 ? (after.cgroup.memoryUsage / limit) * 100 : 0,
    net: after.net,
    block: after.block,
    pids: after.cgroup.pids,
  };
}

export function formatStats(r: StatsRow, noTrunc = false): string[] {
  return [
    noTrunc ? r.id : r.id.slice(0, 12),
    r.name,
    `${r.cpuPercent.toFixed(2)}%`,
    `${bytesSize(r.memUsage)} / ${bytesSize(r.memLimit)}`,
    `${r.memPercent.toFixed(2)}%`,
    `${humanSize3(r.net.rx)} / ${humanSize3(r.net.tx)}`,
    `${humanSize3(r.block.read)} / ${humanSize3(r.block.write)}`,
    String(r.pids),
  ];
}
