// Services applied to the kernel (service-rules.ts renders them) and recorded under the root's
// kube/services/, so that --down and a later play know which chains are theirs.
import fs from "node:fs";
import path from "node:path";
import { readJson, writeFileAtomic } from "../atomic.ts";
import type { Ctx } from "../context.ts";
import { InvalidArgumentError, UnavailableError } from "../errors.ts";
import { listLive } from "../lifecycle/live.ts";
import { localHost } from "../network/firewall.ts";
import { listPods } from "../pod/store.ts";
import { clusterIpOf, selects, serviceComment, serviceRules, SERVICES_CHAIN } from "./service-rules.ts";
import type { KubeService } from "./translate.ts";

interface ServiceRecord {
  name: string;
  clusterIp: string;
  chains: string[];
  endpoints: string[];
}

function servicesDir(root: string): string {
  return path.join(root, "kube", "services");
}

function recordFile(root: string, name: string): string {
  return path.join(servicesDir(root), `${name}.json`);
}

function iptables(args: string[], input?: string): { code: number; stderr: string; stdout: string } {
  return localHost.run(args, input);
}

/** The running pods' addresses that the selector picks. */
function endpointsOf(ctx: Ctx, selector: Record<string, string>): string[] {
  const live = listLive(ctx);
  const out: string[] = [];
  for (const pod of listPods(ctx.root)) {
    if (!selects(selector, pod.labels)) continue;
    const infra = live.find((c) => c.record.id === pod.infraId);
    const ip = infra?.state.Running ? infra.record.network?.endpoint?.ipAddress : undefined;
    if (ip) out.push(ip);
  }
  return out.sort();
}

export async function applyServices(ctx: Ctx, services: KubeService[]): Promise<void> {
  for (const svc of services) {
    if (fs.existsSync(recordFile(ctx.root, svc.name))) throw new InvalidArgumentError(`Cannot play Service "${svc.name}": it exists (use --replace or --down)`);
  }
  for (const svc of services) {
    const clusterIp = clusterIpOf(svc.name);
    const endpoints = endpointsOf(ctx, svc.selector);
    const rules = serviceRules(svc, clusterIp, endpoints);
    const rec: ServiceRecord = { name: svc.name, clusterIp, chains: rules.chains, endpoints };
    fs.mkdirSync(servicesDir(ctx.root), { recursive: true, mode: 0o700 });
    writeFileAtomic(recordFile(ctx.root, svc.name), `${JSON.stringify(rec)}\n`);
    const r = iptables(["iptables-restore", "--noflush"], rules.text);
    if (r.code !== 0) {
      removeServiceRules(rec);
      fs.rmSync(recordFile(ctx.root, svc.name), { force: true });
      throw new UnavailableError(`Cannot apply Service "${svc.name}": iptables-restore: ${r.stderr.trim().split("\n")[0]}`);
    }
    for (const hook of ["PREROUTING", "OUTPUT"]) {
      if (iptables(["iptables", "-w", "-t", "nat", "-C", hook, "-j", SERVICES_CHAIN]).code !== 0) iptables(["iptables", "-w", "-t", "nat", "-I", hook, "-j", SERVICES_CHAIN]);
    }
  }
}

/** The service's rules and chains; the shared chain and its jumps too once no service is left. */
function removeServiceRules(rec: ServiceRecord): void {
  const save = iptables(["iptables-save", "-t", "nat"]).stdout;
  const comment = serviceComment(rec.name);
  for (const line of save.split("\n")) {
    if (line.startsWith(`-A ${SERVICES_CHAIN} `) && line.includes(`"${comment}"`)) iptables(["sh", "-c", `iptables -w -t nat ${line.replace(/^-A/, "-D")}`]);
  }
  for (const chain of rec.chains) {
    iptables(["iptables", "-w", "-t", "nat", "-F", chain]);
    iptables(["iptables", "-w", "-t", "nat", "-X", chain]);
  }
  const after = iptables(["iptables-save", "-t", "nat"]).stdout;
  if (!after.split("\n").some((l) => l.startsWith(`-A ${SERVICES_CHAIN} `))) {
    for (const hook of ["PREROUTING", "OUTPUT"]) for (let i = 0; i < 16 && iptables(["iptables", "-w", "-t", "nat", "-D", hook, "-j", SERVICES_CHAIN]).code === 0; i++);
    iptables(["iptables", "-w", "-t", "nat", "-X", SERVICES_CHAIN]);
  }
}

export async function removeServices(ctx: Ctx, services: KubeService[]): Promise<string[]> {
  const removed: string[] = [];
  for (const svc of services) {
    const file = recordFile(ctx.root, svc.name);
    const rec = readJson<ServiceRecord>(file);
    if (!rec) continue;
    removeServiceRules(rec);
    fs.rmSync(file, { force: true });
    removed.push(svc.name);
  }
  return removed;
}
