// A container of a pod spec → a KubeContainer: command and args, env (with ConfigMap and Secret
// references), resources as the kubelet turns them into cgroup values, the security context.
import { memoryBytes, milliCpu } from "./quantity.ts";
import { checkName, isObj, Reader, type Obj, type PodMeta, type Sources } from "./fields.ts";
import { fieldMarker, RUNTIME_FIELDS, type RuntimeField } from "./downward.ts";
import { expandRefs, varsOf } from "./expand.ts";
import { PROBE_FIELDS, readProbes } from "./probe.ts";
import { mountPath, subPath } from "./paths.ts";
import type { KubeContainer, KubeVolume } from "./translate.ts";

const CONTAINER_FIELDS = ["name", "image", "command", "args", "env", "envFrom", "ports", "resources", "workingDir", "securityContext", "volumeMounts", "imagePullPolicy", "stdin", "tty", "terminationMessagePath", "terminationMessagePolicy", ...Object.keys(PROBE_FIELDS)];

/** The API's environment variable names. */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** What a container is read against: its pod's securityContext, volumes and metadata, the file's ConfigMaps and Secrets. */
export interface ContainerContext {
  podSec: Obj;
  volumes: KubeVolume[];
  sources: Sources;
  pod: PodMeta;
}

export function readContainer(r: Reader, c0: unknown, at: string, { podSec, volumes, sources: s, pod }: ContainerContext): KubeContainer {
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
    probes: [],
    pull: pullPolicy(r, c.imagePullPolicy, `${at}.imagePullPolicy`, image),
  };
  out.env = readEnv(r, c, at, s, pod);
  // Kubernetes: command replaces ENTRYPOINT (and the image's CMD is not used), args replaces CMD;
  // both with the container's $(VAR) references replaced.
  const vars = varsOf(out.env);
  const expand = (list: string[]) => list.map((a) => expandRefs(a, vars));
  if (command?.length) {
    out.entrypoint = expandRefs(command[0]!, vars);
    out.args = expand([...command.slice(1), ...(args ?? [])]);
  } else if (args?.length) out.args = expand(args);
  const wd = r.str(c.workingDir, `${at}.workingDir`);
  if (wd !== undefined) {
    if (!wd.startsWith("/")) r.fail(`${at}.workingDir`, "must be absolute");
    out.workdir = wd;
  }
  const portNames = new Map<string, number>();
  r.list(c.ports, `${at}.ports`).forEach((p0, i) => {
    const path = `${at}.ports[${i}]`;
    const p = r.obj(p0, path, true)!;
    r.known(p, path, ["containerPort", "hostPort", "protocol", "name", "hostIP"]);
    const cp = r.int(p.containerPort, `${path}.containerPort`, 1, 65535) ?? r.fail(`${path}.containerPort`, "required");
    const hp = r.int(p.hostPort, `${path}.hostPort`, 1, 65535);
    const proto = (r.str(p.protocol, `${path}.protocol`) ?? "TCP").toLowerCase();
    if (proto !== "tcp" && proto !== "udp") r.fail(`${path}.protocol`, "TCP or UDP");
    const ip = r.str(p.hostIP, `${path}.hostIP`);
    const pname = r.str(p.name, `${path}.name`);
    if (pname !== undefined) portNames.set(pname, cp);
    out.expose.push(`${cp}/${proto}`);
    if (hp !== undefined) out.publish.push(`${ip ? `${ip}:` : ""}${hp}:${cp}/${proto}`);
  });
  out.probes = readProbes(r, c, at, portNames);
  readResources(r, r.obj(c.resources, `${at}.resources`) ?? {}, `${at}.resources`, out);
  readSecurity(r, r.obj(c.securityContext, `${at}.securityContext`) ?? {}, podSec, `${at}.securityContext`, out);
  r.list(c.volumeMounts, `${at}.volumeMounts`).forEach((m0, i) => {
    const path = `${at}.volumeMounts[${i}]`;
    const m = r.obj(m0, path, true)!;
    r.known(m, path, ["name", "mountPath", "readOnly", "subPath"]);
    if (m.subPathExpr !== undefined) r.fail(`${path}.subPathExpr`, "not supported (give subPath)");
    const vol = r.str(m.name, `${path}.name`, true)!;
    if (!volumes.some((v) => v.name === vol)) r.fail(`${path}.name`, `no volume named "${vol}"`);
    const target = mountPath(r, r.str(m.mountPath, `${path}.mountPath`, true)!, `${path}.mountPath`);
    if (out.mounts.some((x) => x.target === target)) r.fail(`${path}.mountPath`, `${target} given twice`);
    const s0 = r.str(m.subPath, `${path}.subPath`);
    const sub = s0 === undefined ? undefined : subPath(r, s0, `${path}.subPath`);
    // ConfigMap and Secret volumes are read-only, whatever the mount says (the kubelet's rule since CVE-2017-1002102).
    const files = volumes.find((v) => v.name === vol)?.source.kind === "files";
    out.mounts.push({ volume: vol, target, readOnly: files || (r.bool(m.readOnly, `${path}.readOnly`) ?? false), ...(sub ? { subPath: sub } : {}) });
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

/** envFrom, then env (which wins), each env value with its $(VAR) references to the variables before it replaced, as the kubelet does. */
function readEnv(r: Reader, c: Obj, at: string, s: Sources, pod: PodMeta): string[] {
  const env: string[] = [];
  const vars = new Map<string, string>();
  const push = (name: string, value: string) => {
    env.push(`${name}=${value}`);
    vars.set(name, value);
  };
  const lookup = (kind: "configMap" | "secret", name: string, path: string): Record<string, string> | undefined => (kind === "secret" ? s.secrets : s.configMaps).get(name);
  r.list(c.envFrom, `${at}.envFrom`).forEach((e0, i) => {
    const path = `${at}.envFrom[${i}]`;
    const e = r.obj(e0, path, true)!;
    r.known(e, path, ["configMapRef", "secretRef", "prefix"]);
    const prefix = r.str(e.prefix, `${path}.prefix`) ?? "";
    if (prefix !== "" && !ENV_NAME.test(prefix)) r.fail(`${path}.prefix`, `"${prefix}" is not a valid variable name`);
    const [kind, ref] = e.configMapRef ? (["configMap", r.obj(e.configMapRef, `${path}.configMapRef`)!] as const) : e.secretRef ? (["secret", r.obj(e.secretRef, `${path}.secretRef`)!] as const) : r.fail(path, "configMapRef or secretRef is required");
    const name = r.str(ref.name, `${path}.${kind}Ref.name`, true)!;
    const data = lookup(kind, name, path);
    if (!data) {
      if (r.bool(ref.optional, `${path}.${kind}Ref.optional`)) return;
      r.fail(path, `${kind === "secret" ? "Secret" : "ConfigMap"} "${name}" is not in the file`);
    }
    // The kubelet's rule: a key that makes no variable name is left out (and said so).
    for (const [k, v] of Object.entries(data)) {
      if (ENV_NAME.test(`${prefix}${k}`)) push(`${prefix}${k}`, v);
      else r.warnings.push(`${r.where}: ${path}: key "${k}" is not a valid variable name, left out`);
    }
  });
  r.list(c.env, `${at}.env`).forEach((e0, i) => {
    const path = `${at}.env[${i}]`;
    const e = r.obj(e0, path, true)!;
    r.known(e, path, ["name", "value", "valueFrom"]);
    const name = r.str(e.name, `${path}.name`, true)!;
    if (!ENV_NAME.test(name)) r.fail(`${path}.name`, `"${name}" is not a valid variable name`);
    if (e.valueFrom !== undefined) {
      const vf = r.obj(e.valueFrom, `${path}.valueFrom`, true)!;
      r.known(vf, `${path}.valueFrom`, ["configMapKeyRef", "secretKeyRef", "fieldRef"]);
      if (vf.fieldRef !== undefined) return push(name, fieldRef(r, r.obj(vf.fieldRef, `${path}.valueFrom.fieldRef`, true)!, `${path}.valueFrom.fieldRef`, pod));
      const [kind, ref] = vf.configMapKeyRef ? (["configMap", r.obj(vf.configMapKeyRef, `${path}.valueFrom.configMapKeyRef`)!] as const) : vf.secretKeyRef ? (["secret", r.obj(vf.secretKeyRef, `${path}.valueFrom.secretKeyRef`)!] as const) : r.fail(`${path}.valueFrom`, "configMapKeyRef, secretKeyRef or fieldRef is required");
      const src = r.str(ref.name, `${path}.valueFrom.${kind}KeyRef.name`, true)!;
      const key = r.str(ref.key, `${path}.valueFrom.${kind}KeyRef.key`, true)!;
      const data = lookup(kind, src, path);
      const value = data?.[key];
      if (value === undefined) {
        if (r.bool(ref.optional, `${path}.valueFrom.${kind}KeyRef.optional`)) return;
        r.fail(`${path}.valueFrom`, `${kind === "secret" ? "Secret" : "ConfigMap"} "${src}" with key "${key}" is not in the file`);
      }
      push(name, value);
      return;
    }
    const v = e.value;
    push(name, expandRefs(v === undefined || v === null ? "" : typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : r.fail(`${path}.value`, "must be a string"), vars));
  });
  return env;
}

/**
 * The downward API's fields: what the pod's spec says (its name, namespace, labels, service
 * account) is read here; what only the running pod knows (its address, the node's, its uid) is
 * a marker that play kube fills in (downward.ts).
 */
function fieldRef(r: Reader, ref: Obj, path: string, pod: PodMeta): string {
  r.known(ref, path, ["fieldPath", "apiVersion"]);
  const field = r.str(ref.fieldPath, `${path}.fieldPath`, true)!;
  if (field === "metadata.name") return pod.name;
  if (field === "metadata.namespace") return pod.namespace;
  if (field === "spec.serviceAccountName") return pod.serviceAccountName ?? "default";
  if ((RUNTIME_FIELDS as readonly string[]).includes(field)) return fieldMarker(field as RuntimeField);
  const label = /^metadata\.labels\['([^']*)'\]$/.exec(field);
  if (label) return pod.labels[label[1]!] ?? "";
  return r.fail(`${path}.fieldPath`, `"${field}" is not supported (metadata.name, metadata.namespace, metadata.uid, metadata.labels['…'], spec.nodeName, spec.serviceAccountName, status.podIP, status.hostIP)`);
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
  const nonRoot = r.bool(sc.runAsNonRoot ?? podSec.runAsNonRoot, `${at}.runAsNonRoot`) ?? false;
  if (uid !== undefined) out.user = gid !== undefined ? `${uid}:${gid}` : String(uid);
  if (nonRoot && uid === 0) r.fail(`${at}.runAsNonRoot`, "contradicts runAsUser: 0");
  // Without runAsUser the image's user runs (with runAsGroup as its group): judged once the image is known.
  if (uid === undefined && (gid !== undefined || nonRoot)) out.imageUser = { ...(gid !== undefined ? { group: gid } : {}), ...(nonRoot ? { nonRoot } : {}) };
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
