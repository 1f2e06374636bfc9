// Kubernetes objects → what tinydock makes of them: pods with containers, services. Pure: every
// value is checked here, every field tinydock does not act on is named in a warning, and anything
// that would run differently than Kubernetes runs it is an error, never a guess.
import type { KubeDocument } from "./yaml.ts";
import type { ProbeRecord } from "../store/probe-record.ts";
import type { ServicePort, ServiceSpec } from "../network/service-rules.ts";
import type { ImageUserRule } from "../runtime/user.ts";
import { InvalidArgumentError } from "../errors.ts";
import { checkName, isObj, Reader, type Obj, type PodMeta, type Sources } from "./fields.ts";
import { readContainer } from "./container.ts";
import { memoryBytes } from "./quantity.ts";
import { checkItemConflicts, hostPathPath, itemPath, MAX_HOST_MOUNTS, MAX_SOURCE_BYTES, MAX_VOLUME_FILE_BYTES } from "./paths.ts";

export type RestartName = "always" | "on-failure" | "no";

/** hostPath's types, as the kubelet checks them ("" checks nothing). */
export const HOST_PATH_TYPES = ["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"] as const;
export type HostPathType = (typeof HOST_PATH_TYPES)[number];

export interface KubeVolume {
  name: string;
  source:
    | { kind: "hostPath"; path: string; type: HostPathType }
    /** `memory`: medium Memory, a tmpfs; its size (the kubelet's) from sizeLimit and the pod's memory limit. */
    | { kind: "emptyDir"; memory?: { sizeLimit?: number } }
    /** A ConfigMap's or Secret's files: `mode` is defaultMode (0644, as the API defaults it, Secrets too), `modes` the items' own. */
    | { kind: "files"; from: string; files: Record<string, string>; mode: number; modes?: Record<string, number> };
}

export interface KubeContainer {
  /** The container's own name; tinydock names it <pod>-<name>. */
  name: string;
  image: string;
  /** command[0] as the entrypoint (Docker's --entrypoint resets the image's Cmd, as command does). */
  entrypoint?: string;
  /** The rest of command, then args; or args alone (replacing CMD); empty: the image's CMD. */
  args: string[];
  env: string[];
  workdir?: string;
  /** host:container/proto published on the pod. */
  publish: string[];
  expose: string[];
  memory?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpuShares?: number;
  user?: string;
  /** No runAsUser: the image's user, with runAsGroup as its group, refused by runAsNonRoot if root. */
  imageUser?: ImageUserRule;
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  readOnly: boolean;
  noNewPrivileges: boolean;
  mounts: { volume: string; target: string; readOnly: boolean; subPath?: string }[];
  /** livenessProbe, readinessProbe, startupProbe: run by the monitor. */
  probes: ProbeRecord[];
  pull: "always" | "missing" | "never";
}

export interface KubePod {
  name: string;
  labels: Record<string, string>;
  /** "" with hostNetwork and no spec.hostname: the host's. */
  hostname: string;
  restart: RestartName;
  /** terminationGracePeriodSeconds (the API's 30 by default): how long a stop waits before SIGKILL. */
  gracePeriod: number;
  containers: KubeContainer[];
  volumes: KubeVolume[];
  /** The object that asked for it: "Pod/web", "Deployment/web". */
  owner: string;
  /** spec.hostNetwork: the pod in the host's network namespace (pod create --network host). */
  hostNetwork?: boolean;
}

export type KubeServicePort = ServicePort;

export interface KubeService extends Omit<ServiceSpec, "owner"> {
  selector: Record<string, string>;
}

export interface KubePlan {
  pods: KubePod[];
  services: KubeService[];
  warnings: string[];
}

export { CPU_PERIOD_US, cpuQuotaOf, cpuSharesOf } from "./container.ts";

export function translateKube(docs: KubeDocument[], file: string): KubePlan {
  const warnings: string[] = [];
  const sources: Sources = { configMaps: new Map(), secrets: new Map() };
  const workloads: { r: Reader; o: Obj; kind: string }[] = [];
  const services: KubeService[] = [];
  for (const d of docs) {
    const where = `${file}:${d.line}`;
    const r = new Reader(where, warnings, d.text);
    const o = r.obj(d.value, "document", true)!;
    const kind = r.str(o.kind, "kind", true)!;
    r.str(o.apiVersion, "apiVersion", true);
    if (kind === "ConfigMap" || kind === "Secret") readSource(r, o, kind, sources);
    else if (kind === "Pod" || kind === "Deployment" || kind === "ReplicaSet" || kind === "ReplicationController") workloads.push({ r, o, kind });
    else if (kind === "Service") {
      const svc = readService(r, o);
      // The second would replace the first's record, its rules left behind for no --down to find.
      if (services.some((x) => x.name === svc.name)) r.fail("metadata.name", `two Services named "${svc.name}"`);
      services.push(svc);
    }
    else warnings.push(`${where}: kind "${kind}" is not supported, ignored`);
  }
  const pods = workloads.flatMap(({ r, o, kind }) => readWorkload(r, o, kind, sources));

  const names = new Set<string>();
  for (const p of pods) {
    if (names.has(p.name)) throw new InvalidArgumentError(`Cannot play ${file}: two pods named "${p.name}"`);
    names.add(p.name);
  }
  return { pods, services, warnings };
}

function metaName(r: Reader, o: Obj): { name: string; labels: Record<string, string>; namespace: string } {
  const meta = r.obj(o.metadata, "metadata", true)!;
  r.known(meta, "metadata", ["name", "labels", "annotations", "namespace"]);
  const ns = r.str(meta.namespace, "metadata.namespace");
  const namespace = ns === undefined ? "default" : checkName(r, ns, "metadata.namespace");
  return { name: checkName(r, r.str(meta.name, "metadata.name", true)!, "metadata.name"), labels: r.labels(meta.labels, "metadata.labels"), namespace };
}

function readSource(r: Reader, o: Obj, kind: "ConfigMap" | "Secret", s: Sources): void {
  const { name } = metaName(r, o);
  r.known(o, "", ["apiVersion", "kind", "metadata", "data", ...(kind === "Secret" ? ["stringData", "type"] : ["binaryData"])]);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.obj(o.data, "data") ?? {})) {
    const text = typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : r.fail(`data.${k}`, "must be a string");
    if (kind === "Secret") {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text.replace(/\s/g, ""))) r.fail(`data.${k}`, "not base64");
      out[k] = Buffer.from(text, "base64").toString("utf8");
    } else out[k] = text;
  }
  if (kind === "Secret") for (const [k, v] of Object.entries(r.obj(o.stringData, "stringData") ?? {})) out[k] = typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : r.fail(`stringData.${k}`, "must be a string");
  for (const k of Object.keys(out)) if (!/^[-._a-zA-Z0-9]+$/.test(k) || k === "." || k === ".." || k.length > 253) r.fail(`data.${k}`, "not a valid key");
  const bytes = Object.entries(out).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (bytes > MAX_SOURCE_BYTES) r.fail("data", `larger than 1 MiB (the API's limit of a ${kind})`);
  (kind === "Secret" ? s.secrets : s.configMaps).set(name, out);
}

function readService(r: Reader, o: Obj): KubeService {
  const { name } = metaName(r, o);
  r.known(o, "", ["apiVersion", "kind", "metadata", "spec"]);
  const spec = r.obj(o.spec, "spec", true)!;
  r.known(spec, "spec", ["type", "selector", "ports", "sessionAffinity"]);
  const type = r.str(spec.type, "spec.type") ?? "ClusterIP";
  if (type !== "ClusterIP" && type !== "NodePort") r.fail("spec.type", `"${type}" is not supported (ClusterIP, NodePort)`);
  const selector = r.labels(spec.selector, "spec.selector");
  if (Object.keys(selector).length === 0) r.fail("spec.selector", "required (a Service without one selects no pod here)");
  const ports = r.list(spec.ports, "spec.ports").map((p0, i) => {
    const path = `spec.ports[${i}]`;
    const p = r.obj(p0, path, true)!;
    r.known(p, path, ["name", "port", "targetPort", "nodePort", "protocol"]);
    const port = r.int(p.port, `${path}.port`, 1, 65535) ?? r.fail(`${path}.port`, "required");
    if (typeof p.targetPort === "string") r.fail(`${path}.targetPort`, "named ports are not supported, give the number");
    const targetPort = r.int(p.targetPort, `${path}.targetPort`, 1, 65535) ?? port;
    // The API's node port range: a NodePort on 22 or 443 would take the host's own port.
    const nodePort = r.int(p.nodePort, `${path}.nodePort`, 30000, 32767);
    if (nodePort !== undefined && type !== "NodePort") r.fail(`${path}.nodePort`, "only a NodePort Service has one");
    const protocol = (r.str(p.protocol, `${path}.protocol`) ?? "TCP").toLowerCase();
    if (protocol !== "tcp" && protocol !== "udp") r.fail(`${path}.protocol`, "TCP or UDP");
    const pname = r.str(p.name, `${path}.name`);
    if (pname !== undefined) checkName(r, pname, `${path}.name`);
    return { ...(pname !== undefined ? { name: pname } : {}), port, targetPort, ...(nodePort !== undefined ? { nodePort } : {}), protocol: protocol as "tcp" | "udp" };
  });
  if (ports.length === 0) r.fail("spec.ports", "required");
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    for (const [key, what] of [[`name ${p.name}`, `name "${p.name}"`], [`port ${p.port}/${p.protocol}`, `port ${p.port}/${p.protocol.toUpperCase()}`], [`nodePort ${p.nodePort}/${p.protocol}`, `nodePort ${p.nodePort}`]] as const) {
      if (key.includes("undefined")) continue;
      if (seen.has(key)) r.fail(`spec.ports[${i}]${key.startsWith("name") ? ".name" : key.startsWith("nodePort") ? ".nodePort" : ""}`, `${what} given twice`);
      seen.add(key);
    }
  });
  return { name, type, selector, ports };
}

function readWorkload(r: Reader, o: Obj, kind: string, s: Sources): KubePod[] {
  const { name, labels, namespace } = metaName(r, o);
  r.known(o, "", ["apiVersion", "kind", "metadata", "spec", "status"]);
  if (kind === "Pod") {
    const p = readPodSpec(r, r.obj(o.spec, "spec", true)!, "spec", { name, labels, namespace, owner: `Pod/${name}` }, s);
    spendOnHost(r, p, s);
    return [p];
  }
  const spec = r.obj(o.spec, "spec", true)!;
  r.known(spec, "spec", ["replicas", "selector", "template", "strategy", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds"]);
  const replicas = r.int(spec.replicas, "spec.replicas", 0, 100) ?? 1;
  const template = r.obj(spec.template, "spec.template", true)!;
  r.known(template, "spec.template", ["metadata", "spec"]);
  const tmeta = r.obj(template.metadata, "spec.template.metadata") ?? {};
  r.known(tmeta, "spec.template.metadata", ["labels", "annotations", "name"]);
  const tlabels = r.labels(tmeta.labels, "spec.template.metadata.labels");
  // The API's rule: the selector must select the template's labels.
  const sel = r.obj(spec.selector, "spec.selector");
  const matchLabels = kind === "ReplicationController" ? r.labels(sel ?? tlabels, "spec.selector") : r.labels(r.obj(sel, "spec.selector", true)!.matchLabels, "spec.selector.matchLabels");
  if (sel && kind !== "ReplicationController") {
    r.known(sel, "spec.selector", ["matchLabels"]);
    if (Object.keys(matchLabels).length === 0) r.fail("spec.selector.matchLabels", "required (matchExpressions are not supported)");
  }
  for (const [k, v] of Object.entries(matchLabels)) if (tlabels[k] !== v) r.fail("spec.selector", `selector ${k}=${v} does not match the template's labels`);
  const podSpec = r.obj(template.spec, "spec.template.spec", true)!;
  // The API's rule for a controller's pods: they are restarted, always.
  if (podSpec.restartPolicy !== undefined && podSpec.restartPolicy !== "Always") r.fail("spec.template.spec.restartPolicy", `must be Always in a ${kind}`);
  const out: KubePod[] = [];
  for (let i = 0; i < replicas; i++) {
    const p = readPodSpec(r, podSpec, "spec.template.spec", { name: `${name}-pod-${i}`, labels: tlabels, namespace, owner: `${kind}/${name}` }, s);
    spendOnHost(r, p, s, replicas);
    out.push(p);
  }
  return out;
}

/**
 * What a pod makes on the host, counted against what one file may make (replicas are many pods):
 * its volume files' bytes, and its mounts in the host's own table (memory emptyDirs, subPaths),
 * which has room for so many (fs.mount-max) for everyone.
 */
function spendOnHost(r: Reader, p: KubePod, s: Sources, replicas = 1): void {
  const of = replicas > 1 ? ` (${replicas} replicas)` : "";
  for (const v of p.volumes) {
    if (v.source.kind === "emptyDir" && v.source.memory) s.hostMounts = (s.hostMounts ?? 0) + 1;
    if (v.source.kind !== "files") continue;
    for (const text of Object.values(v.source.files)) s.fileBytes = (s.fileBytes ?? 0) + Buffer.byteLength(text);
  }
  for (const c of p.containers) s.hostMounts = (s.hostMounts ?? 0) + c.mounts.filter((m) => m.subPath).length;
  if ((s.fileBytes ?? 0) > MAX_VOLUME_FILE_BYTES) r.fail("spec", `the volume files of the file's pods come to more than ${MAX_VOLUME_FILE_BYTES >> 20} MiB${of}`);
  if ((s.hostMounts ?? 0) > MAX_HOST_MOUNTS) r.fail("spec", `the file's pods ask for more than ${MAX_HOST_MOUNTS} mounts on the host (memory emptyDirs, subPaths)${of}`);
}

function readPodSpec(r: Reader, spec: Obj, at: string, id: PodMeta & { owner: string }, s: Sources): KubePod {
  r.known(spec, at, ["containers", "volumes", "restartPolicy", "hostname", "hostNetwork", "securityContext", "terminationGracePeriodSeconds", "dnsPolicy", "initContainers", "serviceAccountName"]);
  const hostNetwork = r.bool(spec.hostNetwork, `${at}.hostNetwork`) ?? false;
  const serviceAccountName = r.str(spec.serviceAccountName, `${at}.serviceAccountName`);
  if (spec.initContainers !== undefined) r.fail(`${at}.initContainers`, "not supported");
  const restart = r.str(spec.restartPolicy, `${at}.restartPolicy`) ?? "Always";
  const restartMap: Record<string, RestartName> = { Always: "always", OnFailure: "on-failure", Never: "no" };
  if (!(restart in restartMap)) r.fail(`${at}.restartPolicy`, `"${restart}" is not Always, OnFailure or Never`);
  const podSec = r.obj(spec.securityContext, `${at}.securityContext`) ?? {};
  r.known(podSec, `${at}.securityContext`, ["runAsUser", "runAsGroup", "runAsNonRoot"]);
  const volumes = r.list(spec.volumes, `${at}.volumes`).map((v, i) => readVolume(r, v, `${at}.volumes[${i}]`, s));
  // The API's rule: a later volume of the same name would be the one mounted, unseen.
  volumes.forEach((v, i) => {
    if (volumes.findIndex((w) => w.name === v.name) !== i) r.fail(`${at}.volumes[${i}].name`, `"${v.name}" given twice`);
  });
  const containers = r.list(spec.containers, `${at}.containers`).map((c, i) => readContainer(r, c, `${at}.containers[${i}]`, { podSec, volumes, sources: s, pod: { ...id, ...(serviceAccountName ? { serviceAccountName } : {}) } }));
  if (containers.length === 0) r.fail(`${at}.containers`, "at least one container is required");
  const seen = new Set<string>();
  const hostPorts = new Set<string>();
  for (const c of containers) {
    if (seen.has(c.name)) r.fail(`${at}.containers`, `two containers named "${c.name}"`);
    seen.add(c.name);
    for (const p of c.publish) {
      // The API's rule: in the host's network a container port is the host's port already.
      // container.ts writes "[ip:]hostPort:containerPort/proto".
      const [hostPort, containerPort, proto] = p.split(/[:/]/).slice(-3);
      if (hostNetwork && hostPort !== containerPort) r.fail(`${at}.containers`, `hostPort ${hostPort} must match containerPort ${containerPort} when hostNetwork is true`);
      const key = `${hostPort}/${proto}`;
      if (hostPorts.has(key)) r.fail(`${at}.containers`, `hostPort ${key} given twice`);
      hostPorts.add(key);
    }
  }
  // The API's rule (a DNS label): it is written to /etc/hostname and /etc/hosts, a line each.
  const h = r.str(spec.hostname, `${at}.hostname`);
  // The kubelet's cut of a pod name longer than a hostname may be (a Deployment's pods add "-pod-N").
  // A pod in the host's network has the node's name ("" here: play fills it in; the kubelet shares the host's UTS with it).
  const hostname = h !== undefined ? checkName(r, h, `${at}.hostname`) : hostNetwork ? "" : id.name.slice(0, 63).replace(/[-.]+$/, "");
  const gracePeriod = r.int(spec.terminationGracePeriodSeconds, `${at}.terminationGracePeriodSeconds`, 0, 4_000_000) ?? 30;
  return { name: id.name, labels: id.labels, hostname, restart: restartMap[restart]!, gracePeriod, containers, volumes, owner: id.owner, ...(hostNetwork ? { hostNetwork } : {}) };
}

function readVolume(r: Reader, v0: unknown, path: string, s: Sources): KubeVolume {
  const v = r.obj(v0, path, true)!;
  const name = checkName(r, r.str(v.name, `${path}.name`, true)!, `${path}.name`);
  const kinds = Object.keys(v).filter((k) => k !== "name");
  if (kinds.length !== 1) r.fail(path, "exactly one volume source is required (hostPath, emptyDir, configMap, secret)");
  const kind = kinds[0]!;
  const src = r.obj(v[kind], `${path}.${kind}`) ?? {};
  if (kind === "hostPath") {
    r.known(src, `${path}.hostPath`, ["path", "type"]);
    const p = hostPathPath(r, r.str(src.path, `${path}.hostPath.path`, true)!, `${path}.hostPath.path`);
    const t = r.str(src.type, `${path}.hostPath.type`) ?? "";
    if (!(HOST_PATH_TYPES as readonly string[]).includes(t)) r.fail(`${path}.hostPath.type`, `"${t}" is not supported (${HOST_PATH_TYPES.slice(1).join(", ")})`);
    return { name, source: { kind: "hostPath", path: p, type: t as HostPathType } };
  }
  if (kind === "emptyDir") {
    r.known(src, `${path}.emptyDir`, ["sizeLimit", "medium"]);
    const medium = r.str(src.medium, `${path}.emptyDir.medium`) ?? "";
    if (medium !== "" && medium !== "Memory") r.fail(`${path}.emptyDir.medium`, `"${medium}" is not supported ("" or Memory)`);
    const sizeLimit = src.sizeLimit !== undefined ? r.quantity(memoryBytes, src.sizeLimit, `${path}.emptyDir.sizeLimit`) : undefined;
    if (medium !== "Memory") return { name, source: { kind: "emptyDir" } };
    return { name, source: { kind: "emptyDir", memory: sizeLimit !== undefined && sizeLimit > 0 ? { sizeLimit } : {} } };
  }
  if (kind === "configMap" || kind === "secret") {
    r.known(src, `${path}.${kind}`, [kind === "secret" ? "secretName" : "name", "items", "optional", "defaultMode"]);
    const ref = r.str(kind === "secret" ? src.secretName : src.name, `${path}.${kind}.${kind === "secret" ? "secretName" : "name"}`, true)!;
    const data = (kind === "secret" ? s.secrets : s.configMaps).get(ref);
    const mode = r.mode(src.defaultMode, `${path}.${kind}.defaultMode`) ?? 0o644;
    if (!data) {
      if (r.bool(src.optional, `${path}.${kind}.optional`)) return { name, source: { kind: "files", from: `${kind}/${ref}`, files: {}, mode } };
      r.fail(`${path}.${kind}`, `${kind === "secret" ? "Secret" : "ConfigMap"} "${ref}" is not in the file`);
    }
    let files: Record<string, string> = { ...data };
    const modes: Record<string, number> = {};
    const items = r.list(src.items, `${path}.${kind}.items`);
    const paths: string[] = [];
    if (items.length) {
      files = {};
      items.forEach((it0, i) => {
        const it = r.obj(it0, `${path}.${kind}.items[${i}]`, true)!;
        r.known(it, `${path}.${kind}.items[${i}]`, ["key", "path", "mode"]);
        const key = r.str(it.key, `${path}.${kind}.items[${i}].key`, true)!;
        const to = itemPath(r, r.str(it.path, `${path}.${kind}.items[${i}].path`, true)!, `${path}.${kind}.items[${i}].path`);
        if (!(key in data)) r.fail(`${path}.${kind}.items[${i}].key`, `no key "${key}"`);
        files[to] = data[key]!;
        const m = r.mode(it.mode, `${path}.${kind}.items[${i}].mode`);
        if (m !== undefined) modes[to] = m;
        paths.push(to);
      });
      checkItemConflicts(r, paths, (i) => `${path}.${kind}.items[${i}].path`);
    }
    return { name, source: { kind: "files", from: `${kind}/${ref}`, files, mode, ...(Object.keys(modes).length ? { modes } : {}) } };
  }
  return r.fail(`${path}.${kind}`, "volume source not supported (hostPath, emptyDir, configMap, secret)");
}
