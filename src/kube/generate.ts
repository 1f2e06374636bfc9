// `generate kube CONTAINER|POD…`: Kubernetes objects from what tinydock runs — a Pod per pod (or
// per container outside a pod), its containers' image, command and args (only where they differ
// from the image's, as Kubernetes defines them against ENTRYPOINT/CMD), env (less the image's),
// ports and hostPorts, limits, labels, volumes, securityContext, probes and restartPolicy; a NodePort
// Service per pod with ports on request. Pure but for the node ports' randomness: the records and
// images' configs come in, objects go out.
import os from "node:os";
import type { ContainerConfig } from "../image/manifest.ts";
import type { PodRecord } from "../pod/store.ts";
import type { ContainerRecord } from "../store/containers.ts";
import type { ProbeRecord } from "../store/probe-record.ts";
import { FailedPreconditionError } from "../errors.ts";
import { randomIndex } from "../random.ts";
import { escapeRefs } from "./expand.ts";

export interface GenerateInput {
  /** The pod, or undefined for a lone container. */
  pod?: PodRecord;
  /** The pod's infra (its published ports), when a pod. */
  infra?: ContainerRecord;
  containers: { rec: ContainerRecord; image: ContainerConfig }[];
}

type Obj = Record<string, unknown>;

/** A Kubernetes name from a tinydock one: lowercase, [a-z0-9-], at most 63 characters. */
export function kubeName(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63).replace(/-+$/, "");
  return s || "c";
}

const same = (a: readonly string[] | null | undefined, b: readonly string[] | null | undefined) => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

/** Label values the API accepts (63 characters of [A-Za-z0-9._-], alphanumeric at both ends, or empty). */
function validLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith("io.tinydock.")) continue;
    if (/^([a-z0-9.-]+\/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/.test(k) && /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/.test(v)) out[k] = v;
  }
  return out;
}

function restartPolicy(rec: ContainerRecord): string {
  const n = rec.restartPolicy?.name ?? "no";
  return n === "always" || n === "unless-stopped" ? "Always" : n === "on-failure" ? "OnFailure" : "Never";
}

/** One env entry: the downward API's fieldRef where play kube filled it from the running pod (its address here is not the next pod's). */
function envVar(e: string, fieldRefs: Record<string, string> | undefined): Obj {
  const eq = e.indexOf("=");
  const name = eq < 0 ? e : e.slice(0, eq);
  const field = fieldRefs && Object.hasOwn(fieldRefs, name) ? fieldRefs[name] : undefined;
  return field ? { name, valueFrom: { fieldRef: { fieldPath: field } } } : { name, value: escapeRefs(eq < 0 ? "" : e.slice(eq + 1)) };
}

function containerSpec(rec: ContainerRecord, image: ContainerConfig, name: string, ports: { containerPort: number; hostPort?: number; protocol: string; hostIP?: string }[], volumes: Obj[]): Obj {
  const cfg = rec.config ?? {};
  const hc = rec.hostConfig ?? {};
  // The image the container ran, as it is here: not pulled again on play.
  const c: Obj = { name, image: rec.image, imagePullPolicy: "IfNotPresent" };
  const entrypoint = (cfg.Entrypoint ?? null) as string[] | null;
  const cmd = (cfg.Cmd ?? null) as string[] | null;
  // Kubernetes reads $(VAR) and $$ in these: written escaped, they run as they ran here.
  const escaped = (list: string[]) => list.map(escapeRefs);
  if (!same(entrypoint, image.Entrypoint)) {
    c.command = escaped(entrypoint ?? []);
    if (cmd?.length) c.args = escaped(cmd);
  } else if (!same(cmd, image.Cmd)) c.args = escaped(cmd ?? []);
  const imageEnv = new Set(image.Env ?? []);
  const env = ((cfg.Env as string[] | undefined) ?? []).filter((e) => !imageEnv.has(e));
  if (env.length) c.env = env.map((e) => envVar(e, rec.fieldRefs));
  const wd = cfg.WorkingDir as string | undefined;
  if (wd && wd !== (image.WorkingDir ?? "")) c.workingDir = wd;
  if (ports.length) c.ports = ports;
  const limits: Obj = {};
  const requests: Obj = {};
  if (typeof hc.Memory === "number" && hc.Memory > 0) limits.memory = String(hc.Memory);
  if (typeof hc.NanoCpus === "number" && hc.NanoCpus > 0) limits.cpu = `${Math.round(hc.NanoCpus / 1e6)}m`;
  if (typeof hc.CpuShares === "number" && hc.CpuShares > 0) requests.cpu = `${Math.max(1, Math.round((hc.CpuShares * 1000) / 1024))}m`;
  if (Object.keys(limits).length || Object.keys(requests).length) c.resources = { ...(Object.keys(limits).length ? { limits } : {}), ...(Object.keys(requests).length ? { requests } : {}) };
  const sc: Obj = {};
  const user = typeof cfg.User === "string" ? cfg.User : "";
  const um = /^(\d+)(?::(\d+))?$/.exec(user);
  if (user && user !== (image.User ?? "") && um) {
    sc.runAsUser = Number(um[1]);
    if (um[2] !== undefined) sc.runAsGroup = Number(um[2]);
  }
  const add = (hc.CapAdd as string[] | null) ?? [];
  const drop = (hc.CapDrop as string[] | null) ?? [];
  if (add.length || drop.length) sc.capabilities = { ...(add.length ? { add } : {}), ...(drop.length ? { drop } : {}) };
  if (hc.Privileged === true) sc.privileged = true;
  if (hc.ReadonlyRootfs === true) sc.readOnlyRootFilesystem = true;
  if (((hc.SecurityOpt as string[] | null) ?? []).some((o) => o.startsWith("no-new-privileges") && !o.endsWith("false"))) sc.allowPrivilegeEscalation = false;
  if (Object.keys(sc).length) c.securityContext = sc;
  const mounts: Obj[] = [];
  for (const m of rec.mounts ?? []) {
    const target = String(m.Destination);
    const vname = kubeName(`${name}-${target}`);
    if (m.Type === "tmpfs") volumes.push({ name: vname, emptyDir: {} });
    else if (m.Type === "bind" || m.Type === "volume") volumes.push({ name: vname, hostPath: { path: String(m.Source) } });
    else continue;
    mounts.push({ name: vname, mountPath: target, ...(m.RW === false ? { readOnly: true } : {}) });
  }
  if (mounts.length) c.volumeMounts = mounts;
  for (const p of rec.probes ?? []) c[`${p.kind}Probe`] = probeSpec(p);
  return c;
}

/** A probe as the API writes it (what play kube read, with the defaults it filled in). */
function probeSpec(p: ProbeRecord): Obj {
  const a = p.action;
  const host = "host" in a && a.host ? { host: a.host } : {};
  const handler =
    a.type === "exec"
      ? { exec: { command: a.command } }
      : a.type === "tcpSocket"
        ? { tcpSocket: { port: a.port, ...host } }
        : { httpGet: { path: a.path, port: a.port, ...host, ...(a.headers.length ? { httpHeaders: a.headers } : {}) } };
  const { initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold, failureThreshold } = p;
  return { ...handler, ...(initialDelaySeconds ? { initialDelaySeconds } : {}), periodSeconds, timeoutSeconds, successThreshold, failureThreshold };
}

/** Kubernetes' default NodePort range. */
export const NODE_PORTS = { min: 30000, max: 32767 } as const;

/** Random node ports, none given twice (podman's: a random one per port of a generated Service). */
export function nodePortPicker(random: (n: number) => number = randomIndex, taken: Iterable<number> = []): () => number {
  const used = new Set(taken);
  const span = NODE_PORTS.max - NODE_PORTS.min + 1;
  return () => {
    for (let i = 0; i < 1000; i++) {
      const p = NODE_PORTS.min + random(span);
      if (!used.has(p)) return used.add(p), p;
    }
    throw new FailedPreconditionError("Cannot pick a node port: the range 30000-32767 is taken");
  };
}

/**
 * The objects for a pod or a lone container. With `service`, a NodePort Service over its published
 * ports, as podman generates one: reachable on the host like the ports it was published on, each
 * node port picked at random (`nodePort`).
 */
export function generateKube(input: GenerateInput, opts: { service: boolean; nodePort?: () => number }): Obj[] {
  const { pod, infra } = input;
  const first = input.containers[0]?.rec;
  const podName = kubeName(pod ? pod.name : `${first?.name ?? "c"}-pod`);
  // `app` names the pod for the Service's selector; a pod's own `app` (what Services of the YAML
  // it was played from select it by) is kept, so the round trip leaves it in those Services.
  const labels = pod ? { app: podName, ...validLabels(pod.labels) } : { ...validLabels(first?.labels ?? {}), app: podName };
  // Ports: a pod's are its infra's (all hostPorts); a lone container's its own.
  const published = ((pod ? infra?.ports : first?.ports) ?? []) as unknown as { hostIp: string; hostPort: number; containerPort: number; protocol: string }[];
  const volumes: Obj[] = [];
  const containers = input.containers.map(({ rec, image }, i) => {
    const own = pod && rec.name.startsWith(`${pod.name}-`) ? rec.name.slice(pod.name.length + 1) : rec.name;
    const ports = (i === 0 ? published : []).map((p) => ({
      containerPort: p.containerPort,
      ...(p.hostPort ? { hostPort: p.hostPort } : {}),
      ...(p.hostIp && p.hostIp !== "0.0.0.0" ? { hostIP: p.hostIp } : {}),
      protocol: p.protocol.toUpperCase(),
    }));
    return containerSpec(rec, image, kubeName(own), ports, volumes);
  });
  const spec: Obj = { containers, restartPolicy: first ? restartPolicy(first) : "Always" };
  // How long a stop waits here (--stop-timeout, else Docker's 10 s), where Kubernetes would wait 30.
  const grace = Math.max(...input.containers.map(({ rec }) => (typeof rec.config?.StopTimeout === "number" ? rec.config.StopTimeout : 10)));
  if (input.containers.length && grace !== 30) spec.terminationGracePeriodSeconds = grace;
  // The host's network (a pod's or a lone container's): the API's hostNetwork, named by the host.
  const hostNetwork = pod ? pod.network === "host" : first?.hostConfig?.NetworkMode === "host";
  if (hostNetwork) spec.hostNetwork = true;
  if (pod && pod.hostname !== pod.name && !(hostNetwork && pod.hostname === os.hostname())) spec.hostname = pod.hostname;
  if (volumes.length) spec.volumes = volumes;
  const out: Obj[] = [{ apiVersion: "v1", kind: "Pod", metadata: { name: podName, labels }, spec }];
  if (opts.service && published.length) {
    const pick = opts.nodePort ?? nodePortPicker();
    out.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: podName },
      spec: {
        type: "NodePort",
        selector: { app: labels.app },
        ports: published.map((p) => ({ name: `${p.containerPort}-${p.protocol}`, port: p.containerPort, targetPort: p.containerPort, nodePort: pick(), protocol: p.protocol.toUpperCase() })),
      },
    });
  }
  return out;
}

/**
 * A plain scalar that YAML 1.2 (Bun, which leaves it unquoted) reads as a string but YAML 1.1 (go-yaml
 * v2, kubectl's reader) does not: numbers with "_" or in 0b, and dates. Unquoted, a label or env
 * value would be refused as a number or rewritten as a timestamp.
 */
export function yaml11NonString(s: string): boolean {
  const plain = s.replace(/_/g, "");
  if (/^[-+]?(0b[01]+|0x[0-9a-fA-F]+|0o?[0-7]+|[0-9]+)$/.test(plain)) return true;
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(plain)) return true;
  return /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ]|$)/.test(s);
}

/** Bun's block style, its plain keys and values that YAML 1.1 would read otherwise double-quoted (JSON's quoting is YAML's). */
function quoteForYaml11(text: string): string {
  return text.replace(/^(\s*(?:- )*)(?:([^"'\s{[][^:]*?)(:(?: |$)))?(.*)$/gm, (line, lead: string, key: string | undefined, colon: string | undefined, value: string) => {
    // Only what is a string here: a number Bun wrote plain (a port) reads as one in both.
    const q = (x: string) => (x !== "" && !/^["'|>{[]/.test(x) && yaml11NonString(x) && typeof Bun.YAML.parse(x) === "string" ? JSON.stringify(x) : x);
    return `${lead}${key !== undefined ? `${q(key)}${colon}` : ""}${q(value)}`;
  });
}

/** The objects as one multi-document YAML file. */
export function kubeYaml(objects: Obj[]): string {
  return `${objects.map((o) => quoteForYaml11(Bun.YAML.stringify(o, null, 2).trimEnd())).join("\n---\n")}\n`;
}
