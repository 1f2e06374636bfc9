// Hostile Kubernetes YAML aimed at the host through a pod's volumes, names and Services, refused
// as the API server and the kubelet refuse it: ConfigMap/Secret item paths the AtomicWriter
// refuses ("", ".", "..data", NUL, a name over 255 bytes, a file where a directory is needed),
// ConfigMaps over the API's 1 MiB (an alias repeated into a terabyte of files), hostPaths with
// "..", mountPaths onto /proc, /sys or "/" (as run's -v refuses them) or given twice, volumes named
// twice (the later one silently won), names that reach /etc/hosts and file paths (hostname,
// namespace, label values), node ports outside 30000-32767 (a NodePort on 22 takes the host's
// sshd port), port names and Services named twice. ConfigMap and Secret volumes are mounted
// read-only, as the kubelet mounts them. The e2e half plays the subPath attack of
// CVE-2017-1002101 with the binary: a container swaps its subPath for a symlink to a host
// directory, and its next start must not mount that directory.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isKind } from "../../src/errors.ts";
import { generateKube, kubeYaml } from "../../src/kube/generate.ts";
import { kubeRunRequest } from "../../src/kube/play.ts";
import { translateKube } from "../../src/kube/translate.ts";
import { parseKubeYaml } from "../../src/kube/yaml.ts";
import { deletePod, podDataDir, type PodRecord } from "../../src/pod/store.ts";
import { recordCases } from "../helpers/adversarial.ts";

const translate = (docs: unknown[]) => translateKube(docs.map((value, i) => ({ line: i + 1, value })), "h.yaml");
const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" }, data: { k: "v", j: "w" } };
const pod = (volumes: unknown[], mounts: unknown[], extra: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", ...meta },
  spec: { volumes, containers: [{ name: "c", image: "busybox", volumeMounts: mounts }], ...extra },
});
const items = (...its: { key: string; path: string }[]) => pod([{ name: "v", configMap: { name: "cm", items: its } }], [{ name: "v", mountPath: "/v" }]);
const svc = (spec: Record<string, unknown>, name = "s") => ({ apiVersion: "v1", kind: "Service", metadata: { name }, spec: { selector: { a: "b" }, ...spec } });

function refused(docs: unknown[], want: RegExp): void {
  let err: unknown;
  try {
    translate(docs);
  } catch (e) {
    err = e;
  }
  if (!isKind(err, "InvalidArgument")) throw new Error(`not refused (${want}): ${JSON.stringify(docs).slice(0, 300)}`);
  expect((err as Error).message).toMatch(/^Cannot play h\.yaml:\d+: /);
  expect((err as Error).message).toMatch(want);
  expect((err as Error).message).not.toContain("\n");
}

test("ConfigMap/Secret item paths the AtomicWriter refuses, and files that cannot all be written", () => {
  const cases: [unknown[], RegExp][] = [];
  for (const p of ["", ".", "./", "a/..", "..data", "..x/y", "x\0y", `${"a".repeat(256)}`, `d/${"b".repeat(256)}`, `${"a/".repeat(2100)}f`]) cases.push([[cm, items({ key: "k", path: p })], /items\[0\]\.path/]);
  // A file where another item needs a directory: the second write would fail half-way through.
  cases.push([[cm, items({ key: "k", path: "a" }, { key: "j", path: "a/b" })], /items\[1\]\.path/]);
  cases.push([[cm, items({ key: "k", path: "a/b" }, { key: "j", path: "a" })], /items\[1\]\.path/]);
  cases.push([[cm, items({ key: "k", path: "a" }, { key: "j", path: "./a" })], /items\[1\]\.path/]);
  // The API's size limit of one ConfigMap or Secret.
  cases.push([[{ ...cm, data: { k: "x".repeat((1 << 20) + 1) } }], /larger than 1 MiB/]);
  cases.push([[{ apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { a: "x".repeat(1 << 19), b: "y".repeat(1 << 19) } }], /larger than 1 MiB/]);
  for (const [docs, want] of cases) refused(docs, want);
  recordCases("kube volumes: item paths, item conflicts, ConfigMap sizes", cases.length);
});

test("an alias repeated into ConfigMaps and replicas is not gigabytes of files on the host", () => {
  // 20 ConfigMaps of 1000 keys, every value one 1 KiB anchor, each under the API's 1 MiB; mounted
  // by 100 replicas: 2 GB of files on the host from 1 MB of YAML.
  const cms = Array.from({ length: 20 }, (_, n) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm${n}}\ndata:\n  k0: &big "${"x".repeat(1000)}"\n${Array.from({ length: 999 }, (_, i) => `  k${i + 1}: *big`).join("\n")}`);
  const vols = cms.map((_, n) => `      - {name: v${n}, configMap: {name: cm${n}}}`).join("\n");
  const text = [...cms, `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 100\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: c, image: busybox}]\n      volumes:\n${vols}`].join("\n---\n");
  let err: unknown;
  try {
    translateKube(parseKubeYaml(text, "h.yaml"), "h.yaml");
  } catch (e) {
    err = e;
  }
  expect(isKind(err, "InvalidArgument")).toBe(true);
  expect((err as Error).message).toMatch(/volume files/);
  expect((err as Error).message).not.toContain("\n");
  recordCases("kube volumes: aliases amplified into volume files", 1);
});

test("hostPath with .. or NUL, mountPaths into /proc or onto / or given twice, volumes named twice, subPath with NUL", () => {
  const e = { name: "e", emptyDir: {} };
  const cases: [unknown[], RegExp][] = [];
  for (const hp of ["/a/../etc", "/var/..", "/tmp/x\0"]) cases.push([[pod([{ name: "h", hostPath: { path: hp } }], [{ name: "h", mountPath: "/h" }])], /hostPath\.path/]);
  // /sys is mountable, as with run -v (runc and Docker allow it; the masked paths go on top).
  for (const mp of ["/proc", "/proc/sysrq-trigger", "/proc/sys/kernel", "/", "/a/../proc", "//proc", "/x\0"]) cases.push([[pod([e], [{ name: "e", mountPath: mp }])], /mountPath/]);
  cases.push([[pod([e], [{ name: "e", mountPath: "/d" }, { name: "e", mountPath: "/d/" }])], /mountPath.*twice/]);
  cases.push([[pod([e, { name: "e", hostPath: { path: "/etc" } }], [{ name: "e", mountPath: "/d" }])], /volumes\[1\]\.name.*twice/]);
  cases.push([[pod([e], [{ name: "e", mountPath: "/d", subPath: "a\0b" }])], /subPath/]);
  // Ignored, it would mount the whole volume where the file asked for a part of it.
  cases.push([[pod([e], [{ name: "e", mountPath: "/d", subPathExpr: "$(POD_NAME)" }])], /subPathExpr: not supported/]);
  cases.push([[pod([{ name: "h", hostPath: { path: "/tmp", type: "Symlink" } }], [{ name: "h", mountPath: "/h" }])], /hostPath\.type/]);
  for (const [docs, want] of cases) refused(docs, want);
  recordCases("kube volumes: hostPath, mountPath, duplicate volumes, subPath", cases.length);
});

test("names that reach /etc/hosts, file paths and rule text: hostname, namespace, label values, port names", () => {
  const e = { name: "e", emptyDir: {} };
  const cases: [unknown[], RegExp][] = [
    [[pod([e], [], { hostname: "a\n6.6.6.6 evil" })], /hostname/],
    [[pod([e], [], { hostname: "A".repeat(64) })], /hostname/],
    [[pod([e], [], {}, { namespace: "../../x" })], /namespace/],
    [[pod([e], [], {}, { namespace: "a\nb" })], /namespace/],
    [[pod([e], [], {}, { labels: { a: "x\ny" } })], /labels\.a/],
    [[pod([e], [], {}, { labels: { a: "../../etc" } })], /labels\.a/],
    [[pod([e], [], {}, { labels: { a: "v".repeat(64) } })], /labels\.a/],
    [[pod([e], [], {}, { labels: { a: "é" } })], /labels\.a/],
    // tinydock's own labels: a container labelled as its pod's infra would be kept from rm and pruning.
    [[pod([e], [], {}, { labels: { "io.tinydock.pod.infra": "true" } })], /reserved/],
    [[svc({ ports: [{ name: "x\ny", port: 80 }] })], /ports\[0\]\.name/],
    [[svc({ ports: [{ name: "web", port: 80 }, { name: "web", port: 81 }] })], /ports\[1\]\.name/],
    [[svc({ selector: { a: "b\nc" }, ports: [{ port: 80 }] })], /selector\.a/],
  ];
  for (const [docs, want] of cases) refused(docs, want);
  recordCases("kube names: hostname, namespace, label values, port names", cases.length);
});

test("node ports outside 30000-32767 (a NodePort on 22 takes the host's ssh), given twice, Services named twice", () => {
  const np = (...ports: number[]) => svc({ type: "NodePort", ports: ports.map((p, i) => ({ name: `p${i}`, port: 80 + i, nodePort: p })) });
  const cases: [unknown[], RegExp][] = [];
  for (const p of [22, 80, 443, 6443, 29999, 32768, 65535]) cases.push([[np(p)], /nodePort/]);
  cases.push([[np(30080, 30080)], /nodePort.*twice/]);
  cases.push([[svc({ ports: [{ port: 80 }] }), svc({ ports: [{ port: 81 }] })], /two Services named "s"/]);
  cases.push([[svc({ ports: [{ port: 80, protocol: "TCP" }, { port: 80, protocol: "TCP" }] })], /port 80\/TCP.*twice/]);
  for (const [docs, want] of cases) refused(docs, want);
  // The range's ends are node ports.
  expect(translate([np(30000, 32767)]).services[0]!.ports.map((p) => p.nodePort)).toEqual([30000, 32767]);
  recordCases("kube services: node port range, duplicates", cases.length + 1);
});

test("ConfigMap and Secret volumes are mounted read-only whatever the mount says, as the kubelet mounts them", () => {
  const sec = { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { a: "b" } };
  const plan = translate([cm, sec, pod([{ name: "v", configMap: { name: "cm" } }, { name: "s", secret: { secretName: "s" } }, { name: "e", emptyDir: {} }], [{ name: "v", mountPath: "/v", readOnly: false }, { name: "s", mountPath: "/s" }, { name: "e", mountPath: "/e" }])]);
  const p = plan.pods[0]!;
  const rec = { id: "0".repeat(64), name: "p", share: ["net", "ipc", "uts"], infraId: "1".repeat(64) } as unknown as PodRecord;
  const req = kubeRunRequest(p.containers[0]!, p, rec, new Map([["v", "/x/v"], ["s", "/x/s"], ["e", "/x/e"]]));
  expect(req.volumes.map((v) => [v.target, (v as { readonly: boolean }).readonly])).toEqual([["/v", true], ["/s", true], ["/e", false]]);
  recordCases("kube volumes: ConfigMap/Secret mounts read-only", 2);
});

test("generate kube: values a YAML 1.1 reader (kubectl's) takes for numbers or dates are quoted, and the file plays back the same", () => {
  const odd = ["1_000", "0b101", "0b1_0", "0x_1f", "0.1_5", "1__0", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-1-2 3:04:05", "-1_0", "+1_0.5", "yes", "0644", "x\ny: z", "- a", "#c", "$(HOME)", "a: b"];
  const env = odd.map((v, i) => `V${i}=${v}`);
  const rec = {
    id: "c".repeat(64),
    name: "w",
    image: "busybox",
    imageId: "sha256:x",
    created: "",
    args: [],
    hostname: "h",
    state: { status: "running", pid: 1, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" },
    labels: { a: "1_000", b: "2001-12-14", c: "0b1" },
    restartPolicy: { name: "no", maximumRetryCount: 0 },
    config: { Entrypoint: null, Cmd: ["sh"], Env: env, WorkingDir: "" },
    hostConfig: {},
    mounts: [],
  };
  const yaml = kubeYaml(generateKube({ containers: [{ rec: rec as never, image: { Cmd: ["sh"] } }] }, { service: false }));
  // YAML 1.1 (go-yaml v2, what kubectl reads with) drops "_" from numbers, reads 0b binary and dates:
  // unquoted, these would be a number (refused in a string field) or a timestamp (rewritten).
  for (const v of odd.slice(0, 11)) expect(yaml).toContain(`value: ${JSON.stringify(v)}\n`);
  for (const l of ['a: "1_000"', 'b: "2001-12-14"', 'c: "0b1"']) expect(yaml).toContain(l);
  const plan = translateKube(parseKubeYaml(yaml, "g.yaml"), "g.yaml");
  expect(plan.pods[0]!.containers[0]!.env).toEqual(env);
  expect(plan.pods[0]!.labels).toMatchObject({ a: "1_000", b: "2001-12-14", c: "0b1" });
  recordCases("generate kube: YAML 1.1 numbers and dates", odd.length + 3);
});

test("hostPath types as the kubelet checks them: made only when asked and only what was asked, never through a dangling link", async () => {
  const { checkHostPath } = await import("../../src/kube/hostpath.ts");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-kube-hostpath-"));
  try {
    const host = (p: string, type: string) => {
      const plan = translate([pod([{ name: "h", hostPath: { path: path.join(dir, p), type } }], [{ name: "h", mountPath: "/h" }])]);
      const src = plan.pods[0]!.volumes[0]!.source as never;
      try {
        checkHostPath("h", src);
        return "ok";
      } catch (err) {
        expect(isKind(err, "FailedPrecondition")).toBe(true);
        expect((err as Error).message).not.toContain("\n");
        return (err as Error).message.replace(`${dir}/`, "");
      }
    };
    fs.writeFileSync(path.join(dir, "file"), "");
    fs.mkdirSync(path.join(dir, "dir"));
    fs.symlinkSync(path.join(dir, "victim"), path.join(dir, "dangling"));
    fs.symlinkSync(path.join(dir, "gone", "victim"), path.join(dir, "dangling-dir"));
    expect(host("made/a/b", "DirectoryOrCreate")).toBe("ok");
    expect(fs.statSync(path.join(dir, "made/a/b")).mode & 0o7777).toBe(0o755);
    expect(host("new-file", "FileOrCreate")).toBe("ok");
    expect(fs.statSync(path.join(dir, "new-file")).mode & 0o7777).toBe(0o644);
    // FileOrCreate makes no parent; neither type is fooled into another kind.
    expect(host("no-parent/f", "FileOrCreate")).toMatch(/cannot be created: ENOENT/);
    expect(fs.existsSync(path.join(dir, "no-parent"))).toBe(false);
    expect(host("file", "DirectoryOrCreate")).toMatch(/is not a directory/);
    expect(host("dir", "FileOrCreate")).toMatch(/is not a file/);
    // A dangling symlink where the path is: nothing made at its target.
    for (const [p, t] of [["dangling", "FileOrCreate"], ["dangling", "DirectoryOrCreate"], ["dangling", ""], ["dangling-dir", "DirectoryOrCreate"]] as const) expect(host(p, t)).toMatch(/dangling symlink/);
    expect(fs.existsSync(path.join(dir, "victim"))).toBe(false);
    expect(fs.existsSync(path.join(dir, "gone"))).toBe(false);
    // The existing kinds: checked, never made.
    expect(host("missing", "Directory")).toMatch(/does not exist/);
    expect(host("missing", "Socket")).toMatch(/does not exist/);
    expect(fs.existsSync(path.join(dir, "missing"))).toBe(false);
    expect(host("file", "Socket")).toMatch(/is not a socket/);
    expect(host("file", "BlockDevice")).toMatch(/is not a block device/);
    expect(checkHostPath("h", { path: "/dev/null", type: "CharDevice" })).toBeUndefined();
    expect(() => checkHostPath("h", { path: "/dev/null", type: "File" })).toThrow(/is not a file/);
    recordCases("kube hostPath types", 16);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a long Deployment name: its pods' hostname cut to 63 characters as the kubelet cuts it (sethostname takes 64 at most)", () => {
  const name = `${"a".repeat(61)}-b`;
  const d = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name }, spec: { replicas: 12, selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "busybox" }] } } } };
  const plan = translate([d]);
  for (const p of plan.pods) {
    expect(p.hostname.length).toBeLessThanOrEqual(63);
    expect(p.hostname).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  }
  expect(plan.pods[11]!.hostname).toBe(`${name}-pod-11`.slice(0, 63).replace(/[-.]+$/, ""));
  recordCases("kube hostname of a long name", 12);
});

test("host-side mounts a file asks for (memory emptyDirs, subPaths) are bounded: no filling the host's mount table", () => {
  const vols = Array.from({ length: 200 }, (_, i) => ({ name: `m${i}`, emptyDir: { medium: "Memory" } }));
  const d = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" }, spec: { replicas: 100, selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { volumes: vols, containers: [{ name: "c", image: "busybox" }] } } } };
  refused([d], /mounts on the host/);
  const mounts = Array.from({ length: 300 }, (_, i) => ({ name: "e", mountPath: `/m${i}`, subPath: `s${i}` }));
  const p = pod([{ name: "e", emptyDir: {} }], mounts);
  const dep = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" }, spec: { replicas: 10, selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: p.spec } } };
  refused([dep], /mounts on the host/);
  recordCases("kube host-side mounts bounded", 2);
});

test("a pod's data directory is never removed through a mount left under it (a subPath bound from a hostPath)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-kube-podrm-"));
  const root = path.join(dir, "root");
  const id = "a".repeat(64);
  const host = path.join(dir, "host");
  const at = path.join(podDataDir(root, id), "subpaths", "c", "0");
  fs.mkdirSync(host);
  fs.writeFileSync(path.join(host, "precious"), "host\n");
  fs.mkdirSync(at, { recursive: true });
  expect(Bun.spawnSync(["mount", "--bind", host, at]).exitCode).toBe(0);
  try {
    let err: unknown;
    try {
      deletePod(root, id);
    } catch (e) {
      err = e;
    }
    expect(isKind(err, "FailedPrecondition")).toBe(true);
    expect(fs.readFileSync(path.join(host, "precious"), "utf8")).toBe("host\n");
  } finally {
    Bun.spawnSync(["umount", "-l", at]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  recordCases("kube pod data removed through a mount", 1);
});

test("file modes with setuid, setgid or sticky bits are refused, written in YAML 1.1 octal (04755) or as numbers", () => {
  const docs = (mode: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {k: v}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: busybox}]\n  volumes:\n  - name: v\n    configMap:\n      name: cm\n      ${mode}\n`;
  const cases = ["defaultMode: 04755", "defaultMode: 02777", "defaultMode: 01777", "defaultMode: 0o4755", "defaultMode: 2541", "defaultMode: 07777", "items: [{key: k, path: f, mode: 04755}]", "items: [{key: k, path: f, mode: 06755}]"];
  for (const m of cases) {
    let err: unknown;
    try {
      translateKube(parseKubeYaml(docs(m), "h.yaml"), "h.yaml");
    } catch (e) {
      err = e;
    }
    if (!isKind(err, "InvalidArgument")) throw new Error(`not refused: ${m}`);
    expect((err as Error).message).toMatch(/[mM]ode: must be an integer from 0 to 511/);
  }
  // 0755 as kubectl reads it.
  const ok = translateKube(parseKubeYaml(docs("defaultMode: 0755"), "h.yaml"), "h.yaml");
  expect((ok.pods[0]!.volumes[0]!.source as { mode: number }).mode).toBe(0o755);
  recordCases("kube file modes with setuid bits", cases.length);
});

test("env from a ConfigMap: a prefix that is no variable name refused (PATH=/evil: would set PATH), keys that are none left out with a warning", () => {
  const c = (envFrom: unknown) => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "busybox", envFrom: [envFrom] }] } });
  const cm2 = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" }, data: { k: "v", "1x": "w" } };
  for (const prefix of ["PATH=/evil:", "A\nB", "A B", "1A"]) refused([cm2, c({ configMapRef: { name: "cm" }, prefix })], /prefix/);
  const plan = translate([cm2, c({ configMapRef: { name: "cm" }, prefix: "P_" })]);
  expect(plan.pods[0]!.containers[0]!.env).toEqual(["P_k=v", "P_1x=w"]);
  const bare = translate([cm2, c({ configMapRef: { name: "cm" } })]);
  expect(bare.pods[0]!.containers[0]!.env).toEqual(["k=v"]);
  expect(bare.warnings.some((w) => /1x/.test(w))).toBe(true);
  // A Secret's stringData value that is no string.
  refused([{ apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { a: { b: 1 } } }], /stringData\.a/);
  recordCases("kube envFrom prefixes and keys", 7);
});
