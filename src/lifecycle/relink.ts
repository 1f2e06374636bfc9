// A linked container that starts again may have another address: the running containers that link
// to it learn it, as Docker's daemon tells them (libnetwork updateParentHosts): the line of its
// alias in their /etc/hosts now, and their link variables for `exec` (plan.bin) and for the next
// restart their restart policy makes (plan.next, which the monitor takes before it).
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { rewriteInPlace } from "../network/hosts.ts";
import { writeFileAtomic } from "../atomic.ts";
import { decodePlan } from "../runtime/encode.ts";
import { containerPaths, listContainers, readContainer, withContainerLock, type ContainerRecord } from "../store/containers.ts";
import { readLive } from "./live.ts";
import { applyNetworkToPlan } from "./network-setup.ts";
import { planFile, storedPlan } from "./run.ts";
import { linkedContainer, linkEnv, linkHost, parseLink, relinkEnv } from "./run/links.ts";

/** The monitor's plan for its next restart (src/sys/monitor/run.c reload_plan). */
export function nextPlanFile(dir: string): string {
  return path.join(dir, "plan.next");
}

/** hosts lines whose first name is `alias` get `ip` (moby etchosts.Update). */
export function rehost(text: string, alias: string, ip: string): string {
  return text.replace(/^(\S+)(\t(\S+)[^\n]*)$/gm, (line, _ip: string, rest: string, first: string) => (first === alias ? `${ip}${rest}` : line));
}

/** Tells the running containers linking to `target` (just started) its address of now. */
export async function relinkParents(ctx: Ctx, target: ContainerRecord): Promise<void> {
  for (const parent of listContainers(ctx.root)) {
    const specs = ((parent.hostConfig?.Links as string[] | undefined) ?? []).filter((l) => parseLink(l).name === target.name);
    if (specs.length === 0 || parent.id === target.id) continue;
    await withContainerLock(ctx, parent.id, () => relinkOne(ctx, parent.id, target, specs));
  }
}

function relinkOne(ctx: Ctx, id: string, target: ContainerRecord, specs: string[]): void {
  const rec = readContainer(ctx.root, id);
  if (!rec || !rec.network || !readLive(ctx, rec).state.Running) return;
  const mode = rec.networkOptions?.mode ?? String(rec.hostConfig?.NetworkMode ?? "bridge");
  let links;
  try {
    links = specs.map((l) => linkedContainer(target, `/${rec.name}/${parseLink(l).alias}`, mode, () => true));
  } catch {
    return; // not on this container's network (any more): Docker leaves the parent alone too
  }
  const paths = containerPaths(ctx.root, id);
  let hosts = fs.readFileSync(paths.hosts, "utf8");
  for (const l of links) hosts = rehost(hosts, linkHost(l).host.split(" ")[0]!, l.ip);
  rewriteInPlace(paths.hosts, hosts);
  if (mode !== "bridge") return; // link variables on the default bridge only, as Docker
  const plan = decodePlan(fs.readFileSync(planFile(paths.dir)));
  plan.env = relinkEnv(plan.env, (rec.config?.Env as string[] | undefined) ?? [], specs, links.flatMap(linkEnv));
  fs.writeFileSync(planFile(paths.dir), storedPlan(plan), { mode: 0o600 });
  applyNetworkToPlan(plan, rec.network);
  // Whole or not at all: the monitor may read it at any moment.
  writeFileAtomic(nextPlanFile(paths.dir), storedPlan(plan), 0o600, false);
}
