// The subPath attack of CVE-2017-1002101, played with the binary: a pod's container mounts an
// emptyDir whole and a subPath of it; it replaces the subPath's directory with a symlink to a host
// directory (absolute, or climbing with ".."), and exits. Its next start must not mount the host's
// directory: the subPath is what it was when the pod was played (the kubelet's bind of the path
// resolved inside the volume), never the host's resolution of a link the container planted. The
// same for a hostPath volume's subPath. `play kube --down` leaves no mount under the root.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { mountsUnder } from "../helpers/loop.ts";
import { startE2e, until, type E2e } from "../helpers/e2e.ts";

let e: E2e;
/** A host directory no container may see: its marker file tells if one did. */
let hostDir: string;
let shared: string;

beforeAll(async () => {
  e = await startE2e({ prefix: "td-adv-subpath-" });
  hostDir = path.join(e.dir, "host-secret");
  fs.mkdirSync(hostDir);
  fs.writeFileSync(path.join(hostDir, "HOST-MARKER"), "host\n");
  shared = path.join(e.dir, "shared");
  fs.mkdirSync(shared);
}, 120_000);

afterAll(async () => {
  await e?.stop();
});

function yaml(link: string): string {
  // Each start reports what /s and /hs held, then moves the subPath's directory aside and plants the link there.
  const script = `for d in /s /hs; do if [ -e $d/HOST-MARKER ]; then echo escaped; else echo inside; fi; done >> /e/result; n=$(wc -l < /e/result); mv /e/s /e/old$n; ln -s ${link} /e/s; echo >> /h/x; mv /h/s /h/old$n; ln -s ${link} /h/s`;
  return `apiVersion: v1
kind: Pod
metadata: {name: sp}
spec:
  restartPolicy: Never
  volumes:
  - {name: e, emptyDir: {}}
  - {name: h, hostPath: {path: ${shared}, type: Directory}}
  containers:
  - name: a
    image: busybox:latest
    imagePullPolicy: IfNotPresent
    command: [sh, -c, ${JSON.stringify(script)}]
    volumeMounts:
    - {name: e, mountPath: /e}
    - {name: e, mountPath: /s, subPath: s}
    - {name: h, mountPath: /h}
    - {name: h, mountPath: /hs, subPath: s}
`;
}

const exited = (name: string) => until(`${name} to exit`, () => e.T(["inspect", name, "--format", "{{.State.Status}}"]).stdout.trim() === "exited", 30_000, 100);

for (const [what, link] of [["absolute", "HOST"], ["climbing", "../../../../../../../../../../HOST"]] as const) {
  test(`a subPath swapped for a symlink (${what}) to a host directory is not what the next start mounts`, async () => {
    for (const f of fs.readdirSync(shared)) fs.rmSync(path.join(shared, f), { recursive: true, force: true });
    const file = path.join(e.dir, "sp.yaml");
    fs.writeFileSync(file, yaml(link.replace("HOST", hostDir.replace(/^\//, what === "absolute" ? "/" : ""))));
    try {
      await attack(file);
    } finally {
      e.T(["play", "kube", "--down", file]);
    }
    expect(mountsUnder(e.env.root)).toEqual([]);
    // The host's directory and the hostPath are still there: the removal went through no link.
    expect(fs.readFileSync(path.join(hostDir, "HOST-MARKER"), "utf8")).toBe("host\n");
    expect(fs.existsSync(path.join(shared, "x"))).toBe(true);
    recordCases(`kube subPath swapped for a ${what} symlink, restarted`, 2);
  }, 120_000);
}

async function attack(file: string): Promise<void> {
  const r = e.T(["play", "kube", file]);
  expect(r.stderr.split("\n").filter((l) => l && !/^(Digest|Status): /.test(l))).toEqual([]);
  expect(r.code).toBe(0);
  await exited("sp-a");
  // The hostPath's own entry is now the container's link: the host sees it as the YAML named it.
  expect(fs.lstatSync(path.join(shared, "s")).isSymbolicLink()).toBe(true);
  for (let i = 0; i < 2; i++) {
    const s = e.T(["start", "sp-a"]);
    expect(s.stderr).toBe("");
    await exited("sp-a");
  }
  const pod = JSON.parse(e.T(["pod", "inspect", "sp"]).stdout)[0] as { Id: string };
  const result = fs.readFileSync(path.join(e.env.root, "pods", `${pod.Id}.d`, "volumes", "e", "result"), "utf8");
  expect(result).toBe("inside\n".repeat(6));
  expect(fs.readdirSync(hostDir)).toEqual(["HOST-MARKER"]);
  const down = e.T(["play", "kube", "--down", file]);
  expect(down.code).toBe(0);
}

test("a ConfigMap volume is read-only in the container whatever its mount says (a file of it as a subPath too): no file, no link planted in it", async () => {
  const file = path.join(e.dir, "cm.yaml");
  fs.writeFileSync(file, `apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {k: v}
---
apiVersion: v1
kind: Pod
metadata: {name: cmp}
spec:
  restartPolicy: Never
  volumes:
  - {name: v, configMap: {name: cm, items: [{key: k, path: d/f}]}}
  - {name: e, emptyDir: {}}
  containers:
  - name: a
    image: busybox:latest
    imagePullPolicy: IfNotPresent
    command: [sh, -c, "touch /v/x 2>&1; ln -s / /v/d/evil 2>&1; echo w > /v/d/f 2>&1; echo w > /etc/app.conf 2>&1; cat /v/d/f /etc/app.conf > /e/out"]
    volumeMounts:
    - {name: v, mountPath: /v, readOnly: false}
    - {name: v, mountPath: /etc/app.conf, subPath: d/f}
    - {name: e, mountPath: /e}
`);
  try {
    const r = e.T(["play", "kube", file]);
    expect(r.code).toBe(0);
    await exited("cmp-a");
    const logs = e.T(["logs", "cmp-a"]);
    expect(logs.stdout + logs.stderr).toMatch(/(Read-only file system[\s\S]*){4}/);
    const pod = JSON.parse(e.T(["pod", "inspect", "cmp"]).stdout)[0] as { Id: string };
    const vol = path.join(e.env.root, "pods", `${pod.Id}.d`, "volumes");
    // A file of it as a subPath (one config file in /etc): bound as a file, read-only too.
    expect(fs.readFileSync(path.join(vol, "e", "out"), "utf8")).toBe("vv");
    expect(fs.readdirSync(path.join(vol, "v", "d"))).toEqual(["f"]);
  } finally {
    e.T(["play", "kube", "--down", file]);
  }
  expect(mountsUnder(e.env.root)).toEqual([]);
  recordCases("kube ConfigMap volume written by its container", 3);
}, 120_000);

test("a container that removes its subPath's directory: its next start fails (ENOENT), pod start binds the subPath again inside the volume", async () => {
  const file = path.join(e.dir, "rm.yaml");
  fs.writeFileSync(file, `apiVersion: v1
kind: Pod
metadata: {name: rmp}
spec:
  restartPolicy: Never
  volumes:
  - {name: e, emptyDir: {}}
  containers:
  - name: a
    image: busybox:latest
    imagePullPolicy: IfNotPresent
    command: [sh, -c, "if [ -e /e/first ]; then ls -a /s > /e/seen; else touch /e/first /s/old; rm -rf /e/s; ln -s ${hostDir} /e/s; fi"]
    volumeMounts:
    - {name: e, mountPath: /e}
    - {name: e, mountPath: /s, subPath: s}
`);
  try {
    expect(e.T(["play", "kube", file]).code).toBe(0);
    await exited("rmp-a");
    const s = e.T(["start", "rmp-a"]);
    expect(s.code).not.toBe(0);
    expect(s.stderr).toMatch(/ENOENT/);
    const p = e.T(["pod", "start", "rmp"]);
    expect(p.stderr).toBe("");
    await exited("rmp-a");
    const pod = JSON.parse(e.T(["pod", "inspect", "rmp"]).stdout)[0] as { Id: string };
    // The link the container left was resolved inside the volume: a fresh, empty directory there.
    expect(fs.readFileSync(path.join(e.env.root, "pods", `${pod.Id}.d`, "volumes", "e", "seen"), "utf8")).toBe(".\n..\n");
    expect(fs.readdirSync(hostDir)).toEqual(["HOST-MARKER"]);
  } finally {
    e.T(["play", "kube", "--down", file]);
  }
  expect(mountsUnder(e.env.root)).toEqual([]);
  recordCases("kube subPath removed by its container, pod start", 1);
}, 120_000);
