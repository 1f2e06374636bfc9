// Pods on podman's other networks: `pod create --network none` (the pause process holds a netns of
// its own with lo only; members talk over it, nothing reaches out) and `--network host` (the
// members share the caller's network namespace, here the test's netns). No veth, lease or rule made.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import { startE2e, until, type E2e } from "../helpers/e2e.ts";

let e: E2e;
beforeAll(async () => {
  e = await startE2e({ prefix: "td-podnet-e2e-" });
}, 120_000);
afterAll(async () => {
  e?.T(["pod", "rm", "-f", "pn"]);
  e?.T(["pod", "rm", "-f", "ph"]);
  await e?.stop();
});

const nsOf = (pid: number, ns: string) => fs.readlinkSync(`/proc/${pid}/ns/${ns}`);
/** The test's netns as /proc/PID/ns/net names it ("net:[inode]"). */
const testNet = () => `net:[${fs.statSync(`/run/netns/${e.ns}`).ino}]`;

test("pod --network none: lo only, members reach each other on localhost, no veth or lease", async () => {
  const { T } = e;
  const created = T(["pod", "create", "--name", "pn", "--network", "none"]);
  expect(created.stderr).toBe("");
  expect(created.code).toBe(0);
  const inspect = JSON.parse(T(["pod", "inspect", "pn"]).stdout)[0];
  expect(inspect.InfraConfig.Networks).toEqual(["none"]);
  const pause = inspect.InfraConfig.PID as number;
  // Its own netns, not the caller's.
  expect(nsOf(pause, "net")).not.toBe(testNet());

  const srv = T(["run", "-d", "--pod", "pn", "--name", "srv-none", "busybox", "sh", "-c", "mkdir -p /w && echo NONE-POD > /w/i && httpd -f -p 127.0.0.1:8081 -h /w"]);
  expect(srv.stderr).toBe("");
  expect(srv.code).toBe(0);
  const got = await until("httpd over the pod's lo", () => {
    const r = T(["run", "--rm", "--pod", "pn", "busybox", "wget", "-qO-", "http://127.0.0.1:8081/i"]);
    return r.stdout.includes("NONE-POD") ? r : null;
  });
  expect(got.code).toBe(0);
  const ifs = T(["run", "--rm", "--pod", "pn", "busybox", "sh", "-c", "ls /sys/class/net; readlink /proc/self/ns/net"]);
  expect(ifs.stdout.trim().split("\n")).toEqual(["lo", nsOf(pause, "net")]);
  // Nothing of a bridge network was made for it.
  expect(fs.existsSync(`${e.env.root}/netns`) ? fs.readdirSync(`${e.env.root}/netns`) : []).toEqual([]);
  expect(e.links()).not.toContain("td");

  // Stopped and started again: a new netns, still lo only, and the members can join it.
  expect(T(["pod", "stop", "-t", "1", "pn"]).code).toBe(0);
  expect(T(["pod", "start", "pn"]).code).toBe(0);
  const again = T(["run", "--rm", "--pod", "pn", "busybox", "ls", "/sys/class/net"]);
  expect(again.stdout.trim()).toBe("lo");

  const rm = T(["pod", "rm", "-f", "pn"]);
  expect(rm.stderr).toBe("");
  expect(rm.code).toBe(0);
  expect(T(["ps", "-aq"]).stdout.trim()).toBe("");
}, 120_000);

test("pod --network host: members in the caller's netns; -p refused with one line", () => {
  const { T } = e;
  const refused = T(["pod", "create", "--name", "ph", "--network", "host", "-p", "8080:80"]);
  expect(refused.code).toBe(125);
  expect(refused.stderr.trim()).toBe('Error: Cannot publish ports of pod "ph": its network is "host"');
  expect(T(["pod", "ls", "-q"]).stdout.trim()).toBe("");

  expect(T(["pod", "create", "--name", "ph", "--network", "host"]).code).toBe(0);
  const pause = JSON.parse(T(["pod", "inspect", "ph"]).stdout)[0].InfraConfig.PID as number;
  expect(nsOf(pause, "net")).toBe(testNet());
  const r = T(["run", "--rm", "--pod", "ph", "busybox", "sh", "-c", "readlink /proc/self/ns/net; hostname"]);
  expect(r.code).toBe(0);
  expect(r.stdout.trim().split("\n")).toEqual([testNet(), "ph"]);

  const refusedC = T(["pod", "create", "--name", "pc", "--network", "container:x"]);
  expect(refusedC.code).toBe(125);
  expect(refusedC.stderr).toContain('network "container:x" is not supported for pods');
  expect(T(["pod", "rm", "-f", "ph"]).code).toBe(0);
}, 120_000);

test("play kube hostNetwork: true → a pod in the caller's netns, named by the host; generate kube writes it back", () => {
  const { T } = e;
  const file = `${e.dir}/hostnet.yaml`;
  fs.writeFileSync(
    file,
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hn\nspec:\n  hostNetwork: true\n  containers:\n  - name: c\n    image: busybox\n    imagePullPolicy: IfNotPresent\n    command: [sleep, '300']\n    ports:\n    - containerPort: 8090\n      hostPort: 8090\n",
  );
  const played = T(["play", "kube", file]);
  expect(played.stderr).toBe("");
  expect(played.code).toBe(0);
  const inspect = JSON.parse(T(["pod", "inspect", "hn"]).stdout)[0];
  expect(inspect.InfraConfig.Networks).toEqual(["host"]);
  expect(inspect.InfraConfig.PortBindings).toEqual([]);
  const host = e.sh(["hostname"]).stdout.trim();
  const r = T(["exec", "hn-c", "sh", "-c", "readlink /proc/self/ns/net; hostname"]);
  expect(r.stdout.trim().split("\n")).toEqual([testNet(), host]);
  const yaml = T(["generate", "kube", "hn"]).stdout;
  expect(yaml).toContain("hostNetwork: true");
  expect(yaml).not.toContain("hostname:");
  expect(T(["play", "kube", "--down", file]).code).toBe(0);
  expect(T(["pod", "ls", "-q"]).stdout.trim()).toBe("");
}, 120_000);
