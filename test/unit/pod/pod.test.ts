import { expect, test } from "bun:test";
import { podModes } from "../../../src/pod/join.ts";
import { parseShare } from "../../../src/pod/pods.ts";
import type { PodRecord } from "../../../src/pod/store.ts";
import type { RunRequest } from "../../../src/lifecycle/run/request.ts";
import { DEFAULT_NAMESPACE_MODES, rejoinDonors } from "../../../src/lifecycle/run/namespaces.ts";
import { testPlan } from "../../helpers/plan.ts";

const INFRA = "b".repeat(64);
const pod = (over: Partial<PodRecord> = {}): PodRecord => ({
  id: "a".repeat(64), name: "p", created: "", hostname: "web", labels: {}, share: ["net", "ipc", "uts"], network: "bridge", publish: [], infraId: INFRA, ...over,
});
const req = (over: Partial<RunRequest> = {}): RunRequest =>
  ({
    image: "busybox",
    process: { args: [], env: [], groupAdd: [], tty: false, interactive: false, init: false },
    volumes: [],
    network: { mode: "bridge", aliases: [], dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [] },
    ports: { publish: [], publishAll: false },
    lifetime: { detach: true, rm: false },
    resources: { limits: {}, ulimits: [], devices: [] },
    security: { privileged: false, capAdd: [], capDrop: [], noNewPrivileges: false, seccomp: true, readOnly: false },
    namespaces: { ...DEFAULT_NAMESPACE_MODES },
    ...over,
  }) as RunRequest;

test("parseShare: net always, the others as listed; anything else refused", () => {
  expect(parseShare(undefined)).toEqual(["net", "ipc", "uts"]);
  expect(parseShare("ipc")).toEqual(["net", "ipc"]);
  expect(parseShare("net,uts")).toEqual(["net", "uts"]);
  for (const bad of ["pid", "net,cgroup", "ipc,"]) expect(() => parseShare(bad)).toThrow(/Cannot parse --share/);
});

test("podModes: the infra's network, IPC and UTS as the pod shares them, its hostname, the pod's id", () => {
  const r = req();
  podModes(r, pod());
  expect(r.network.mode).toBe(`container:${INFRA}`);
  expect(r.namespaces.ipc).toBe(`container:${INFRA}`);
  expect(r.namespaces.uts).toBe(`container:${INFRA}`);
  expect(r.process.hostname).toBe("web");
  expect(r.pod).toBe("a".repeat(64));
  const onlyNet = req();
  podModes(onlyNet, pod({ share: ["net"] }));
  expect(onlyNet.namespaces.ipc).toBe("private");
  expect(onlyNet.process.hostname).toBeUndefined();
  // An explicit --ipc host stays.
  const host = req({ namespaces: { ...DEFAULT_NAMESPACE_MODES, ipc: "host" } });
  podModes(host, pod());
  expect(host.namespaces.ipc).toBe("host");
});

test("podModes refuses ports and another network", () => {
  expect(() => podModes(req({ ports: { publish: ["80"], publishAll: false } }), pod())).toThrow(/pod create -p/);
  expect(() => podModes(req({ ports: { publish: [], publishAll: true } }), pod())).toThrow(/pod create -p/);
  expect(() => podModes(req({ network: { mode: "host", aliases: [], dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [] } }), pod())).toThrow(/--pod/);
});

test("a member's start moves the joins the record says are the infra's to its pause process of now, each other donor to its own", () => {
  const plan = () =>
    testPlan({
      rootfs: [],
      rootfsPath: "/r",
      joinNamespaces: [
        { ns: "net", path: "/run/netns/x" },
        { ns: "ipc", path: "/proc/10/ns/ipc" },
        { ns: "uts", path: "/proc/10/ns/uts" },
      ],
    } as never);
  const donor = (ref: string) => ({ pid: ref === INFRA ? 42 : 10 });
  const both = plan();
  expect(rejoinDonors(both, { IpcMode: `container:${INFRA}`, UTSMode: `container:${INFRA}` }, donor)).toBe(true);
  expect(both.joinNamespaces).toEqual([
    { ns: "net", path: "/run/netns/x" },
    { ns: "ipc", path: "/proc/42/ns/ipc" },
    { ns: "uts", path: "/proc/42/ns/uts" },
  ]);
  const ipcOnly = plan();
  rejoinDonors(ipcOnly, { IpcMode: `container:${INFRA}`, UTSMode: "container:other" }, donor);
  expect(ipcOnly.joinNamespaces![2]).toEqual({ ns: "uts", path: "/proc/10/ns/uts" });
  const none = plan();
  expect(rejoinDonors(none, {}, donor)).toBe(false);
  expect(none).toEqual(plan());
});
