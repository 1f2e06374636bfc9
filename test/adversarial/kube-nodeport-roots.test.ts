// Two roots in one network namespace, the second playing a NodePort Service on a node port the
// first's Service holds: its rule would sit beside the first's and take its traffic (the kernel
// matches whichever comes first). Refused in one line with exit 125, as the API refuses a node
// port already allocated, nothing of the second file made, the first root's rules untouched; once
// the first is down, the port is free. Node ports of another namespace do not count. A Service's
// selector picks its own root's pods only, never another root's with the same labels.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { BINARY, cliEnv, type CliResult } from "../helpers/cli.ts";
import { newCliEnv, removeAll, startE2e, type E2e } from "../helpers/e2e.ts";

let e: E2e;
beforeAll(async () => {
  e = await startE2e({ prefix: "td-adv-nodeport-" });
}, 120_000);
afterAll(async () => {
  await e?.stop();
});

const svc = (name: string, nodePort: number) => `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  type: NodePort
  selector: {app: x}
  ports: [{port: 80, targetPort: 8080, nodePort: ${nodePort}}]
`;

test("a node port another root's Service holds in the namespace is refused; the first root's rules stay as they were", () => {
  const other = newCliEnv(e.dir, e.reg, "root2");
  const T2 = (args: string[]): CliResult => {
    const r = Bun.spawnSync(e.inNs([BINARY, ...args]), { env: cliEnv(other), stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    return { code: r.exitCode ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  const a = path.join(e.dir, "a.yaml");
  const b = path.join(e.dir, "b.yaml");
  fs.writeFileSync(a, svc("web", 30123));
  fs.writeFileSync(b, svc("api", 30123) + "---\n" + svc("ok", 30124));
  try {
    const r = e.T(["play", "kube", a]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const before = e.rules();
    expect(before).toContain("--dport 30123");
    const r2 = T2(["play", "kube", b]);
    expect(r2.code).toBe(125);
    expect(r2.stderr).toBe('Error: Cannot play Service "api": nodePort 30123/TCP is taken by Service "web" of another root\n');
    expect(e.rules()).toBe(before);
    expect(fs.existsSync(path.join(other.root, "kube", "services", "ok.json"))).toBe(false);
    // The same root's second file, too.
    const r3 = e.T(["play", "kube", b]);
    expect(r3.code).toBe(125);
    expect(r3.stderr).toBe('Error: Cannot play Service "api": nodePort 30123/TCP is taken by Service "web"\n');
    expect(e.rules()).toBe(before);
    expect(e.T(["play", "kube", "--down", a]).code).toBe(0);
    const r4 = T2(["play", "kube", b]);
    expect(r4.stderr).toBe("");
    expect(r4.code).toBe(0);
    expect(T2(["play", "kube", "--down", b]).code).toBe(0);
    expect(e.rules()).not.toContain("TINYDOCK-KUBE");
    recordCases("kube node ports taken by another root's Service", 3);
  } finally {
    e.T(["play", "kube", "--down", a]);
    T2(["play", "kube", "--down", b]);
    removeAll(T2);
  }
}, 120_000);

test("a Service selects its own root's pods only: another root's pod with the labels is no endpoint", () => {
  const other = newCliEnv(e.dir, e.reg, "root3");
  const T2 = (args: string[]): CliResult => {
    const r = Bun.spawnSync(e.inNs([BINARY, ...args]), { env: cliEnv(other), stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    return { code: r.exitCode ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  const podFile = path.join(e.dir, "pod.yaml");
  const svcFile = path.join(e.dir, "svc.yaml");
  fs.writeFileSync(podFile, "apiVersion: v1\nkind: Pod\nmetadata: {name: x, labels: {app: x}}\nspec:\n  containers: [{name: c, image: busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, '600']}]\n");
  fs.writeFileSync(svcFile, svc("sel", 30125));
  try {
    expect(e.T(["play", "kube", podFile]).code).toBe(0);
    const r = T2(["play", "kube", svcFile]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const rec = JSON.parse(fs.readFileSync(path.join(other.root, "kube", "services", "sel.json"), "utf8")) as { endpoints: string[] };
    expect(rec.endpoints).toEqual([]);
    expect(e.rules()).not.toMatch(/DNAT/);
    recordCases("kube Service selecting another root's pod", 1);
  } finally {
    T2(["play", "kube", "--down", svcFile]);
    e.T(["play", "kube", "--down", podFile]);
    removeAll(T2);
  }
}, 120_000);
