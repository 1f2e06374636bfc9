// play kube's fields that need the running pod or the image: an emptyDir with medium Memory is one
// tmpfs the pod's containers share (sized by sizeLimit) and gone with the pod; the downward API's
// status.podIP and friends; runAsGroup without runAsUser (the image's user with that group); and
// runAsNonRoot refusing an image that runs as root, nothing left behind.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { findLeaks } from "../helpers/leakcheck.ts";
import { startE2e, until, type E2e } from "../helpers/e2e.ts";

const YAML = `apiVersion: v1
kind: Pod
metadata: {name: mem}
spec:
  serviceAccountName: builder
  securityContext: {runAsGroup: 1234}
  containers:
  - name: writer
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo shared > /cache/note; echo "ip=$(POD_IP)"; sleep 1000']
    resources: {limits: {memory: 64Mi}}
    volumeMounts: [{name: cache, mountPath: /cache}]
    env:
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: HOST_IP, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}
    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    - {name: UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}
    - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}
  - name: reader
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, "1000"]
    volumeMounts: [{name: cache, mountPath: /cache}]
  volumes:
  - name: cache
    emptyDir: {medium: Memory, sizeLimit: 8Mi}
`;

const NON_ROOT = `apiVersion: v1
kind: Pod
metadata: {name: nonroot}
spec:
  securityContext: {runAsNonRoot: true}
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, "1000"]}
`;

let e: E2e;
beforeAll(async () => {
  e = await startE2e({ prefix: "td-kubefields-e2e-" });
}, 120_000);
afterAll(async () => {
  e?.T(["pod", "rm", "-f", "mem"]);
  e?.T(["pod", "rm", "-f", "nonroot"]);
  await e?.stop();
});

const write = (name: string, text: string) => {
  const f = path.join(e.dir, name);
  fs.writeFileSync(f, text);
  return f;
};

test("emptyDir medium Memory is one tmpfs of sizeLimit the containers share; downward API status fields; runAsGroup alone keeps the image's user", async () => {
  const { T } = e;
  const file = write("mem.yaml", YAML);
  const r = T(["play", "kube", file]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const mount = T(["exec", "mem-reader", "sh", "-c", "grep ' /cache ' /proc/mounts"]).stdout;
  expect(mount).toMatch(/^\S+ \/cache tmpfs \S*size=8192k/);
  await until("the writer's note", () => T(["exec", "mem-reader", "cat", "/cache/note"]).stdout === "shared\n");
  const podId = JSON.parse(T(["pod", "inspect", "mem"]).stdout)[0].Id as string;
  expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).toContain(`${podId}.d/volumes/cache`);

  const ip = JSON.parse(T(["pod", "inspect", "mem"]).stdout)[0].InfraConfig.IPAddress as string;
  expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  const env = T(["exec", "mem-writer", "sh", "-c", 'echo "$POD_IP|$HOST_IP|$NODE|$UID|$SA"']).stdout.trim().split("|");
  expect(env[0]).toBe(ip);
  expect(env[1]).toMatch(/^(\d+\.\d+\.\d+\.\d+)?$/);
  expect(env[2]).toBe(os.hostname().toLowerCase());
  expect(env[3]).toBe(`${podId.slice(0, 8)}-${podId.slice(8, 12)}-${podId.slice(12, 16)}-${podId.slice(16, 20)}-${podId.slice(20, 32)}`);
  expect(env[4]).toBe("builder");
  // generate kube writes the downward API's fields back, not this pod's address.
  const gen = T(["generate", "kube", "mem"]).stdout;
  expect(gen).toContain("fieldPath: status.podIP");
  expect(gen).toContain("fieldPath: status.hostIP");
  expect(gen).not.toContain(`value: ${ip}`);
  // $(POD_IP) in the command, as the kubelet expands it.
  await until("the writer's log", () => T(["logs", "mem-writer"]).stdout.includes(`ip=${ip}`));
  // busybox's USER is root: runAsGroup alone gives uid 0 with that group.
  expect(T(["exec", "mem-reader", "id", "-u"]).stdout.trim()).toBe("0");
  expect(T(["exec", "mem-reader", "sh", "-c", "cat /proc/1/status | grep ^Gid"]).stdout).toMatch(/^Gid:\s+1234\s/);

  expect(T(["play", "kube", "--down", file]).code).toBe(0);
  expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(podId);
  expect(findLeaks(e.dir)).toEqual([]);
}, 120_000);

test("runAsNonRoot with an image that runs as root is refused as the kubelet refuses it, nothing made", () => {
  const { T } = e;
  const r = T(["play", "kube", write("nonroot.yaml", NON_ROOT)]);
  expect(r.code).toBe(125);
  expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^Error: .*container has runAsNonRoot and image will run as root/)]);
  expect(T(["pod", "ls", "-q"]).stdout).toBe("");
  expect(T(["ps", "-a", "-q"]).stdout).toBe("");
  expect(findLeaks(e.dir)).toEqual([]);
}, 60_000);
