// Kubernetes objects → what tinydock makes of them: pods with containers, services. Pure: every
// value is checked here, every field tinydock does not act on is named in a warning, and anything
// that would run differently than Kubernetes runs it is an error, never a guess.
import { InvalidArgumentError } from "../errors.ts";
import type { KubeDocument } from "./yaml.ts";
import { memoryBytes, milliCpu } from "./quantity.ts";

export type RestartName = "always" | "on-failure" | "no";

export interface KubeVolume {
  name: string;
  source: { kind: "hostPath"; path: string; type: "" | "Directory" | "DirectoryOrCreate" | "File" } | { kind: "emptyDir" } | { kind: "files"; from: string; files: Record<string, string> };
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
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  readOnly: boolean;
  noNewPrivileges: boolean;
  mounts: { volume: string; target: string; readOnly: boolean; subPath?: string }[];
  pull: "always" | "missing" | "never";
}

export interface KubePod {
  name: string;
  labels: Record<string, string>;
  hostname: string;
  restart: RestartName;
  containers: KubeContainer[];
  volumes: KubeVolume[];
  /** The object that asked for it: "Pod/web", "Deployment/web". */
  owner: string;
}

export interface KubeServicePort {
  name?: string;
  port: number;
  targetPort: number;
  nodePort?: number;
  protocol: "tcp" | "udp";
}

export interface KubeService {
  name: string;
  type: "ClusterIP" | "NodePort";
  selector: Record<string, string>;
  ports: KubeServicePort[];
}

export interface KubePlan {
  pods: KubePod[];
  services: KubeService[];
  warnings: string[];
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

class Reader {
  constructor(
    readonly where: string,
    readonly warnings: string[],
  ) {}
  fail(path: string, why: string): never {
    throw new InvalidArgumentError(`Cannot play ${this.where}: ${path}: ${why}`);
  }
  /** The fields of `o` not in `known` are warned about (one line each). */
  known(o: Obj, path: string, known: string[]): void {
    for (const k of Object.keys(o)) if (!known.includes(k)) this.warnings.push(`${this.where}: ${path}${path ? "." : ""}${k}: unsupported field, ignored`);
  }
  obj(v: unknown, path: string, required = false): Obj | undefined {
    if (v === undefined || v === null) return required ? this.fail(path, "required") : undefined;
    if (!isObj(v)) this.fail(path, "must be a mapping");
    return v;
  }
  list(v: unknown, path: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(path, "must be a list");
    return v;
  }
  str(v: unknown, path: string, required = false): string | undefined {
    if (v === undefined || v === null) return required ? this.fail(path, "required") : undefined;
    if (typeof v !== "string") this.fail(path, "must be a string");
    return v;
  }
  strs(v: unknown, path: string): string[] | undefined {
    if (v === undefined || v === null) return undefined;
    return this.list(v, path).map((x, i) => (typeof x === "string" ? x : typeof x === "number" ? String(x) : this.fail(`${path}[${i}]`, "must be a string")));
  }
  int(v: unknown, path: string, min: number, max: number): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) this.fail(path, `must be an integer from ${min} to ${max}`);
    return v;
  }
  bool(v: unknown, path: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") this.fail(path, "must be true or false");
    return v;
  }
  /** A quantity through its parser, its refusal named with the file and field. */
  quantity(parse: (v: unknown, what: string) => number, v: unknown, path: string): number {
    try {
      return parse(v, path);
    } catch (err) {
      return this.fail(path, (err as Error).message.replace(/^Cannot parse quantity \S+ /, "cannot parse quantity "));
    }
  }
  labels(v: unknown, path: string): Record<string, string> {
    const o = this.obj(v, path) ?? {};
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(o)) {
      if (!/^([a-z0-9.-]+\/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/.test(k)) this.fail(`${path}.${k}`, "not a valid label key");
      out[k] = typeof x === "string" ? x : typeof x === "number" || typeof x === "boolean" ? String(x) : this.fail(`${path}.${k}`, "must be a string");
    }
    return out;
  }
}

/** DNS-1123 names, as the API requires of pods, containers, services. */
function checkName(r: Reader, name: string, path: string): string {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) r.fail(path, `"${name}" is not a lowercase RFC 1123 name`);
  return name;
}

interface Sources {
  configMaps: Map<string, Record<string, string>>;
  secrets: Map<string, Record<string, string>>;
}

export function translateKube(docs: KubeDocument[], file: string): KubePlan {
  const warnings: string[] = [];
  const sources: Sources = { configMaps: new Map(), secrets: new Map() };
  const workloads: { r: Reader; o: Obj; kind: string }[] = [];
  const services: KubeService[] = [];
  for (const d of docs) {
    const where = `${file}:${d.line}`;
    const r = new Reader(where, warnings);
    const o = r.obj(d.value, "document", true)!;
    const kind = r.str(o.kind, "kind", true)!;
    r.str(o.apiVersion, "apiVersion", true);
    if (kind === "ConfigMap" || kind === "Secret") readSource(r, o, kind, sources);
    else if (kind === "Pod" || kind === "Deployment" || kind === "ReplicaSet" || kind === "ReplicationController") workloads.push({ r, o, kind });
    else if (kind === "Service") services.push(readService(r, o));
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

function metaName(r: Reader, o: Obj): { name: string; labels: Record<string, string> } {
  const meta = r.obj(o.metadata, "metadata", true)!;
  r.known(meta, "metadata", ["name", "labels", "annotations", "namespace"]);
  return { name: checkName(r, r.str(meta.name, "metadata.name", true)!, "metadata.name"), labels: r.labels(meta.labels, "metadata.labels") };
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
  if (kind === "Secret") for (const [k, v] of Object.entries(r.obj(o.stringData, "stringData") ?? {})) out[k] = String(v);
  for (const k of Object.keys(out)) if (!/^[-._a-zA-Z0-9]+$/.test(k) || k === "." || k === "..") r.fail(`data.${k}`, "not a valid key");
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
    const nodePort = r.int(p.nodePort, `${path}.nodePort`, 1, 65535);
    if (nodePort !== undefined && type !== "NodePort") r.fail(`${path}.nodePort`, "only a NodePort Service has one");
    const protocol = (r.str(p.protocol, `${path}.protocol`) ?? "TCP").toLowerCase();
    if (protocol !== "tcp" && protocol !== "udp") r.fail(`${path}.protocol`, "TCP or UDP");
    const pname = r.str(p.name, `${path}.name`);
    return { ...(pname !== undefined ? { name: pname } : {}), port, targetPort, ...(nodePort !== undefined ? { nodePort } : {}), protocol: protocol as "tcp" | "udp" };
  });
  if (ports.length === 0) r.fail("spec.ports", "required");
  return { name, type, selector, ports };
}

function readWorkload(r: Reader, o: Obj, kind: string, s: Sources): KubePod[] {
  const { name, labels } = metaName(r, o);
  r.known(o, "", ["apiVersion", "kind", "metadata", "spec", "status"]);
  if (kind === "Pod") return [readPodSpec(r, r.obj(o.spec, "spec", true)!, "spec", { name, labels, owner: `Pod/${name}` }, s)];
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
  const out: KubePod[] = [];
  for (let i = 0; i < replicas; i++) out.push(readPodSpec(r, podSpec, "spec.template.spec", { name: `${name}-pod-${i}`, labels: tlabels, owner: `${kind}/${name}` }, s));
  return out;
}

function readPodSpec(r: Reader, spec: Obj, at: string, id: { name: string; labels: Record<string, string>; owner: string }, s: Sources): KubePod {
  r.known(spec, at, ["containers", "volumes", "restartPolicy", "hostname", "securityContext", "terminationGracePeriodSeconds", "dnsPolicy", "initContainers"]);
  if (spec.initContainers !== undefined) r.fail(`${at}.initContainers`, "not supported");
  const restart = r.str(spec.restartPolicy, `${at}.restartPolicy`) ?? "Always";
  const restartMap: Record<string, RestartName> = { Always: "always", OnFailure: "on-failure", Never: "no" };
  if (!(restart in restartMap)) r.fail(`${at}.restartPolicy`, `"${restart}" is not Always, OnFailure or Never`);
  const podSec = r.obj(spec.securityContext, `${at}.securityContext`) ?? {};
  r.known(podSec, `${at}.securityContext`, ["runAsUser", "runAsGroup"]);
  const volumes = r.list(spec.volumes, `${at}.volumes`).map((v, i) => readVolume(r, v, `${at}.volumes[${i}]`, s));
  const containers = r.list(spec.containers, `${at}.containers`).map((c, i) => readContainer(r, c, `${at}.containers[${i}]`, podSec, volumes, s));
  if (containers.length === 0) r.fail(`${at}.containers`, "at least one container is required");
  const seen = new Set<string>();
  const hostPorts = new Set<string>();
  for (const c of containers) {
    if (seen.has(c.name)) r.fail(`${at}.containers`, `two containers named "${c.name}"`);
    seen.add(c.name);
    for (const p of c.publish) {
      const key = p.split(":").at(-2) + "/" + p.split("/")[1];
      if (hostPorts.has(key)) r.fail(`${at}.containers`, `hostPort ${key} given twice`);
      hostPorts.add(key);
    }
  }
  const hostname = r.str(spec.hostname, `${at}.hostname`) ?? id.name;
  return { name: id.name, labels: id.labels, hostname, restart: restartMap[restart]!, containers, volumes, owner: id.owner };
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
    const p = r.str(src.path, `${path}.hostPath.path`, true)!;
    if (!p.startsWith("/")) r.fail(`${path}.hostPath.path`, "must be absolute");
    const t = r.str(src.type, `${path}.hostPath.type`) ?? "";
    if (t !== "" && t !== "Directory" && t !== "DirectoryOrCreate" && t !== "File") r.fail(`${path}.hostPath.type`, `"${t}" is not supported`);
    return { name, source: { kind: "hostPath", path: p, type: t } };
  }
  if (kind === "emptyDir") {
    r.known(src, `${path}.emptyDir`, ["sizeLimit"]);
    return { name, source: { kind: "emptyDir" } };
  }
  if (kind === "configMap" || kind === "secret") {
    r.known(src, `${path}.${kind}`, [kind === "secret" ? "secretName" : "name", "items", "optional", "defaultMode"]);
    const ref = r.str(kind === "secret" ? src.secretName : src.name, `${path}.${kind}.${kind === "secret" ? "secretName" : "name"}`, true)!;
    const data = (kind === "secret" ? s.secrets : s.configMaps).get(ref);
    if (!data) {
      if (r.bool(src.optional, `${path}.${kind}.optional`)) return { name, source: { kind: "files", from: `${kind}/${ref}`, files: {} } };
      r.fail(`${path}.${kind}`, `${kind === "secret" ? "Secret" : "ConfigMap"} "${ref}" is not in the file`);
    }
    let files: Record<string, string> = { ...data };
    const items = r.list(src.items, `${path}.${kind}.items`);
    if (items.length) {
      files = {};
      items.forEach((it0, i) => {
        const it = r.obj(it0, `${path}.${kind}.items[${i}]`, true)!;
        const key = r.str(it.key, `${path}.${kind}.items[${i}].key`, true)!;
        const to = r.str(it.path, `${path}.${kind}.items[${i}].path`, true)!;
        if (to.startsWith("/") || to.split("/").includes("..")) r.fail(`${path}.${kind}.items[${i}].path`, "must be relative, without ..");
        if (!(key in data)) r.fail(`${path}.${kind}.items[${i}].key`, `no key "${key}"`);
        files[to] = data[key]!;
      });
    }
    return { name, source: { kind: "files", from: `${kind}/${ref}`, files } };
  }
  return r.fail(`${path}.${kind}`, "volume source not supported (hostPath, emptyDir, configMap, secret)");
}

const CONTAINER_FIELDS = ["name", "image", "command", "args", "env", "envFrom", "ports", "resources", "workingDir", "securityContext", "volumeMounts", "imagePullPolicy", "stdin", "tty", "terminationMessagePath", "terminationMessagePolicy"];

function readContainer(r: Reader, c0: unknown, at: string, podSec: Obj, volumes: KubeVolume[], s: Sources): KubeContainer {
  const c = r.obj(c0, at, true)!;
  r.known(c, at, CONTAINER_FIELDS);
  for (const f of ["stdin", "tty"]) if (c[f] === true) r.fail(`${at}.${f}`, "not supported by play kube");
  const name = checkName(r, r.str(c.name, `${at}.name`, true)!, `${at}.name`);
  const image = r.str(c.image, `${at}.image`, true)!;
  if (image.trim() === "") r.fail(`${at}.image`, "required");
  const command = r.strs(c.command, `${at}.command`);
  const args = r.strs(c.args, `${at}.args`);
  const out: KubeContainer = {
    name,
    image,
    args: [],
    env: [],
    publish: [],
    expose: [],
    capAdd: [],
    capDrop: [],
    privileged: false,
    readOnly: false,
    noNewPrivileges: false,
    mounts: [],
    pull: pullPolicy(r, c.imagePullPolicy, `${at}.imagePullPolicy`, image),
  };
  // Kubernetes: command replaces ENTRYPOINT (and the image's CMD is not used), args replaces CMD.
  if (command?.length) {
    out.entrypoint = command[0]!;
    out.args = [...command.slice(1), ...(args ?? [])];
  } else if (args?.length) out.args = args;
  const wd = r.str(c.workingDir, `${at}.workingDir`);
  if (wd !== undefined) {
    if (!wd.startsWith("/")) r.fail(`${at}.workingDir`, "must be absolute");
    out.workdir = wd;
  }
  out.env = readEnv(r, c, at, s);
  r.list(c.ports, `${at}.ports`).forEach((p0, i) => {
    const path = `${at}.ports[${i}]`;
    const p = r.obj(p0, path, true)!;
    r.known(p, path, ["containerPort", "hostPort", "protocol", "name", "hostIP"]);
    const cp = r.int(p.containerPort, `${path}.containerPort`, 1, 65535) ?? r.fail(`${path}.containerPort`, "required");
    const hp = r.int(p.hostPort, `${path}.hostPort`, 1, 65535);
    const proto = (r.str(p.protocol, `${path}.protocol`) ?? "TCP").toLowerCase();
    if (proto !== "tcp" && proto !== "udp") r.fail(`${path}.protocol`, "TCP or UDP");
    const ip = r.str(p.hostIP, `${path}.hostIP`);
    out.expose.push(`${cp}/${proto}`);
    if (hp !== undefined) out.publish.push(`${ip ? `${ip}:` : ""}${hp}:${cp}/${proto}`);
  });
  readResources(r, r.obj(c.resources, `${at}.resources`) ?? {}, `${at}.resources`, out);
  readSecurity(r, r.obj(c.securityContext, `${at}.securityContext`) ?? {}, podSec, `${at}.securityContext`, out);
  r.list(c.volumeMounts, `${at}.volumeMounts`).forEach((m0, i) => {
    const path = `${at}.volumeMounts[${i}]`;
    const m = r.obj(m0, path, true)!;
    r.known(m, path, ["name", "mountPath", "readOnly", "subPath"]);
    const vol = r.str(m.name, `${path}.name`, true)!;
    if (!volumes.some((v) => v.name === vol)) r.fail(`${path}.name`, `no volume named "${vol}"`);
    const target = r.str(m.mountPath, `${path}.mountPath`, true)!;
    if (!target.startsWith("/")) r.fail(`${path}.mountPath`, "must be absolute");
    const sub = r.str(m.subPath, `${path}.subPath`);
    if (sub !== undefined && (sub.startsWith("/") || sub.split("/").includes(".."))) r.fail(`${path}.subPath`, "must be relative, without ..");
    out.mounts.push({ volume: vol, target, readOnly: r.bool(m.readOnly, `${path}.readOnly`) ?? false, ...(sub ? { subPath: sub } : {}) });
  });
  return out;
}

function pullPolicy(r: Reader, v: unknown, path: string, image: string): KubeContainer["pull"] {
  const p = r.str(v, path);
  if (p === undefined) {
    // The API's default: Always for :latest or no tag, else IfNotPresent.
    const last = image.slice(image.lastIndexOf("/") + 1);
    return image.includes("@") ? "missing" : !last.includes(":") || last.endsWith(":latest") ? "always" : "missing";
  }
  const m: Record<string, KubeContainer["pull"]> = { Always: "always", IfNotPresent: "missing", Never: "never" };
  return m[p] ?? r.fail(path, `"${p}" is not Always, IfNotPresent or Never`);
}

function readEnv(r: Reader, c: Obj, at: string, s: Sources): string[] {
  const env: string[] = [];
  const lookup = (kind: "configMap" | "secret", name: string, path: string): Record<string, string> | undefined => (kind === "secret" ? s.secrets : s.configMaps).get(name);
  r.list(c.envFrom, `${at}.envFrom`).forEach((e0, i) => {
    const path = `${at}.envFrom[${i}]`;
    const e = r.obj(e0, path, true)!;
    r.known(e, path, ["configMapRef", "secretRef", "prefix"]);
    const prefix = r.str(e.prefix, `${path}.prefix`) ?? "";
    const [kind, ref] = e.configMapRef ? (["configMap", r.obj(e.configMapRef, `${path}.configMapRef`)!] as const) : e.secretRef ? (["secret", r.obj(e.secretRef, `${path}.secretRef`)!] as const) : r.fail(path, "configMapRef or secretRef is required");
    const name = r.str(ref.name, `${path}.${kind}Ref.name`, true)!;
    const data = lookup(kind, name, path);
    if (!data) {
      if (r.bool(ref.optional, `${path}.${kind}Ref.optional`)) return;
      r.fail(path, `${kind === "secret" ? "Secret" : "ConfigMap"} "${name}" is not in the file`);
    }
    for (const [k, v] of Object.entries(data)) env.push(`${prefix}${k}=${v}`);
  });
  r.list(c.env, `${at}.env`).forEach((e0, i) => {
    const path = `${at}.env[${i}]`;
    const e = r.obj(e0, path, true)!;
    r.known(e, path, ["name", "value", "valueFrom"]);
    const name = r.str(e.name, `${path}.name`, true)!;
    if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) r.fail(`${path}.name`, `"${name}" is not a valid variable name`);
    if (e.valueFrom !== undefined) {
      const vf = r.obj(e.valueFrom, `${path}.valueFrom`, true)!;
      r.known(vf, `${path}.valueFrom`, ["configMapKeyRef", "secretKeyRef"]);
      const [kind, ref] = vf.configMapKeyRef ? (["configMap", r.obj(vf.configMapKeyRef, `${path}.valueFrom.configMapKeyRef`)!] as const) : vf.secretKeyRef ? (["secret", r.obj(vf.secretKeyRef, `${path}.valueFrom.secretKeyRef`)!] as const) : r.fail(`${path}.valueFrom`, "configMapKeyRef or secretKeyRef is required (fieldRef is not supported)");
      const src = r.str(ref.name, `${path}.valueFrom.${kind}KeyRef.name`, true)!;
      const key = r.str(ref.key, `${path}.valueFrom.${kind}KeyRef.key`, true)!;
      const data = lookup(kind, src, path);
      const value = data?.[key];
      if (value === undefined) {
        if (r.bool(ref.optional, `${path}.valueFrom.${kind}KeyRef.optional`)) return;
        r.fail(`${path}.valueFrom`, `${kind === "secret" ? "Secret" : "ConfigMap"} "${src}" with key "${key}" is not in the file`);
      }
      env.push(`${name}=${value}`);
      return;
    }
    const v = e.value;
    env.push(`${name}=${v === undefined || v === null ? "" : typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : r.fail(`${path}.value`, "must be a string")}`);
  });
  return env;
}

/** As the kubelet computes them (pkg/kubelet/cm/helpers_linux.go): shares from requests, quota from limits. */
export const CPU_PERIOD_US = 100_000;
export function cpuSharesOf(milli: number): number {
  return Math.min(262144, Math.max(2, Math.floor((milli * 1024) / 1000)));
}
export function cpuQuotaOf(milli: number): number {
  return Math.max(1000, Math.floor((milli * CPU_PERIOD_US) / 1000));
}

function readResources(r: Reader, res: Obj, at: string, out: KubeContainer): void {
  r.known(res, at, ["limits", "requests"]);
  const limits = r.obj(res.limits, `${at}.limits`) ?? {};
  const requests = r.obj(res.requests, `${at}.requests`) ?? {};
  r.known(limits, `${at}.limits`, ["memory", "cpu"]);
  r.known(requests, `${at}.requests`, ["memory", "cpu"]);
  if (limits.memory !== undefined) {
    out.memory = r.quantity(memoryBytes, limits.memory, `${at}.limits.memory`);
    if (out.memory < 6 * 1024 * 1024) r.fail(`${at}.limits.memory`, "below the 6 MiB the runtime allows");
  }
  if (requests.memory !== undefined) {
    const req = r.quantity(memoryBytes, requests.memory, `${at}.requests.memory`);
    if (out.memory !== undefined && req > out.memory) r.fail(`${at}.requests.memory`, "must be less than or equal to the memory limit");
  }
  let cpuRequest: number | undefined;
  if (requests.cpu !== undefined) cpuRequest = r.quantity(milliCpu, requests.cpu, `${at}.requests.cpu`);
  if (limits.cpu !== undefined) {
    const m = r.quantity(milliCpu, limits.cpu, `${at}.limits.cpu`);
    if (m <= 0) r.fail(`${at}.limits.cpu`, "must be positive");
    if (cpuRequest !== undefined && cpuRequest > m) r.fail(`${at}.requests.cpu`, "must be less than or equal to the cpu limit");
    out.cpuQuota = cpuQuotaOf(m);
    out.cpuPeriod = CPU_PERIOD_US;
    // The API defaults requests to limits when only limits are given.
    cpuRequest ??= m;
  }
  if (cpuRequest !== undefined) out.cpuShares = cpuSharesOf(cpuRequest);
}

function readSecurity(r: Reader, sc: Obj, podSec: Obj, at: string, out: KubeContainer): void {
  r.known(sc, at, ["runAsUser", "runAsGroup", "capabilities", "privileged", "readOnlyRootFilesystem", "allowPrivilegeEscalation", "runAsNonRoot"]);
  const uid = r.int(sc.runAsUser ?? podSec.runAsUser, `${at}.runAsUser`, 0, 2 ** 31 - 1);
  const gid = r.int(sc.runAsGroup ?? podSec.runAsGroup, `${at}.runAsGroup`, 0, 2 ** 31 - 1);
  if (gid !== undefined && uid === undefined) r.fail(`${at}.runAsGroup`, "needs runAsUser here (the image's user is not read for it)");
  if (uid !== undefined) out.user = gid !== undefined ? `${uid}:${gid}` : String(uid);
  if (sc.runAsNonRoot === true && uid === 0) r.fail(`${at}.runAsNonRoot`, "contradicts runAsUser: 0");
  if (sc.runAsNonRoot === true && uid === undefined) r.fail(`${at}.runAsNonRoot`, "needs runAsUser here (the image's user is not checked)");
  const caps = r.obj(sc.capabilities, `${at}.capabilities`) ?? {};
  r.known(caps, `${at}.capabilities`, ["add", "drop"]);
  out.capAdd = r.strs(caps.add, `${at}.capabilities.add`) ?? [];
  out.capDrop = r.strs(caps.drop, `${at}.capabilities.drop`) ?? [];
  out.privileged = r.bool(sc.privileged, `${at}.privileged`) ?? false;
  out.readOnly = r.bool(sc.readOnlyRootFilesystem, `${at}.readOnlyRootFilesystem`) ?? false;
  const ape = r.bool(sc.allowPrivilegeEscalation, `${at}.allowPrivilegeEscalation`);
  if (ape === false && out.privileged) r.fail(`${at}.allowPrivilegeEscalation`, "cannot be false with privileged: true");
  out.noNewPrivileges = ape === false;
}
