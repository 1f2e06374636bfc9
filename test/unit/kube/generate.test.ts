import { expect, test } from "bun:test";
import { Pod } from "kubernetes-models/v1/Pod";
import { Service } from "kubernetes-models/v1/Service";
import { generateKube, kubeName, kubeYaml, nodePortPicker } from "../../../src/kube/generate.ts";
import { translateKube } from "../../../src/kube/translate.ts";
import { podFieldRefs, withPodFields } from "../../../src/kube/downward.ts";
import { parseKubeYaml } from "../../../src/kube/yaml.ts";
import type { ContainerRecord } from "../../../src/store/containers.ts";
import type { PodRecord } from "../../../src/pod/store.ts";

const IMAGE = { Cmd: ["sh"], Env: ["PATH=/usr/bin:/bin"] };
const rec = (over: Partial<ContainerRecord> = {}): ContainerRecord => ({
  id: "c".repeat(64),
  name: "web_1",
  image: "busybox",
  imageId: "sha256:x",
  created: "",
  args: [],
  hostname: "h",
  state: { status: "running", pid: 1, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" },
  labels: { app: "demo", "io.tinydock.pod.infra": "x", bad: "has space" },
  restartPolicy: { name: "on-failure", maximumRetryCount: 0 },
  config: { Entrypoint: null, Cmd: ["httpd", "-f", "-p", "8080"], Env: ["PATH=/usr/bin:/bin", "GREETING=hi there"], WorkingDir: "/srv", User: "1000:100" },
  hostConfig: { Memory: 209715200, NanoCpus: 500_000_000, CpuShares: 256, CapAdd: ["NET_ADMIN"], CapDrop: null, Privileged: false, ReadonlyRootfs: true, SecurityOpt: ["no-new-privileges"] },
  ports: [{ hostIp: "", hostPort: 18080, containerPort: 8080, protocol: "tcp" }] as unknown as Record<string, unknown>[],
  mounts: [
    { Type: "bind", Source: "/srv/data", Destination: "/data", RW: false },
    { Type: "tmpfs", Source: "", Destination: "/scratch", RW: true },
  ],
  ...over,
});

test("a lone container: a Pod the API schema accepts, and a Service with --service", () => {
  const objs = generateKube({ containers: [{ rec: rec(), image: IMAGE }] }, { service: true });
  expect(objs.map((o) => o.kind)).toEqual(["Pod", "Service"]);
  new Pod(objs[0] as never).validate();
  new Service(objs[1] as never).validate();
  const pod = objs[0] as { metadata: { name: string; labels: Record<string, string> }; spec: { restartPolicy: string; containers: Record<string, unknown>[] } };
  expect(pod.metadata).toEqual({ name: "web-1-pod", labels: { app: "web-1-pod" } });
  expect(pod.spec.restartPolicy).toBe("OnFailure");
  const c = pod.spec.containers[0]!;
  expect(c.args).toEqual(["httpd", "-f", "-p", "8080"]);
  expect(c.command).toBeUndefined();
  expect(c.env).toEqual([{ name: "GREETING", value: "hi there" }]);
  expect(c.ports).toEqual([{ containerPort: 8080, hostPort: 18080, protocol: "TCP" }]);
  expect(c.resources).toEqual({ limits: { memory: "209715200", cpu: "500m" }, requests: { cpu: "250m" } });
  expect(c.securityContext).toEqual({ runAsUser: 1000, runAsGroup: 100, capabilities: { add: ["NET_ADMIN"] }, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
});

test("the schema refuses what the generator must never emit (the validator is live)", () => {
  expect(() => new Pod({ metadata: { name: "a" }, spec: { containers: [{ name: "c", image: "busybox", ports: [{ containerPort: "80" as never }] }] } }).validate()).toThrow();
});

test("round trip: generate → translate gives back the same container", () => {
  const yaml = kubeYaml(generateKube({ containers: [{ rec: rec(), image: IMAGE }] }, { service: true }));
  const plan = translateKube(parseKubeYaml(yaml, "gen.yaml"), "gen.yaml");
  expect(plan.warnings).toEqual([]);
  const c = plan.pods[0]!.containers[0]!;
  expect(c).toMatchObject({ image: "busybox", args: ["httpd", "-f", "-p", "8080"], env: ["GREETING=hi there"], workdir: "/srv", publish: ["18080:8080/tcp"], memory: 209715200, cpuQuota: 50000, cpuShares: 256, user: "1000:100", capAdd: ["NET_ADMIN"], readOnly: true, noNewPrivileges: true });
  expect(c.entrypoint).toBeUndefined();
  expect(plan.pods[0]!.restart).toBe("on-failure");
  expect(plan.pods[0]!.volumes.map((v) => v.source.kind)).toEqual(["hostPath", "emptyDir"]);
  expect(c.mounts).toEqual([
    { volume: "web-1-data", target: "/data", readOnly: true },
    { volume: "web-1-scratch", target: "/scratch", readOnly: false },
  ]);
  expect(plan.services[0]!.type).toBe("NodePort");
  expect(plan.services[0]!.ports).toEqual([{ name: "8080-tcp", port: 8080, targetPort: 8080, nodePort: expect.any(Number), protocol: "tcp" }]);
});

test("an entrypoint that differs from the image's becomes command (with Cmd as args)", () => {
  const objs = generateKube({ containers: [{ rec: rec({ config: { Entrypoint: ["/bin/sh"], Cmd: ["-c", "x"], Env: [] } }), image: IMAGE }] }, { service: false });
  const c = (objs[0] as { spec: { containers: Record<string, unknown>[] } }).spec.containers[0]!;
  expect([c.command, c.args]).toEqual([["/bin/sh"], ["-c", "x"]]);
  const back = translateKube(parseKubeYaml(kubeYaml(objs), "g"), "g").pods[0]!.containers[0]!;
  expect([back.entrypoint, back.args]).toEqual(["/bin/sh", ["-c", "x"]]);
});

test("a pod: its name, labels, hostname; containers named without the pod's prefix; ports from the infra", () => {
  const pod: PodRecord = { id: "a".repeat(64), name: "shop", created: "", hostname: "front", labels: { tier: "web" }, share: ["net", "ipc", "uts"], network: "bridge", publish: [], infraId: "b".repeat(64) };
  const infra = rec({ name: "shop-infra", ports: [{ hostIp: "127.0.0.1", hostPort: 9000, containerPort: 80, protocol: "tcp" }] as never });
  const objs = generateKube({ pod, infra, containers: [{ rec: rec({ name: "shop-api", ports: [] as never }), image: IMAGE }, { rec: rec({ name: "cache", ports: [] as never, mounts: [] }), image: IMAGE }] }, { service: false });
  new Pod(objs[0] as never).validate();
  const p = objs[0] as { metadata: { name: string; labels: Record<string, string> }; spec: { hostname: string; containers: { name: string; ports?: unknown }[] } };
  expect(p.metadata).toEqual({ name: "shop", labels: { tier: "web", app: "shop" } });
  expect(p.spec.hostname).toBe("front");
  expect(p.spec.containers.map((c) => c.name)).toEqual(["api", "cache"]);
  expect(p.spec.containers[0]!.ports).toEqual([{ containerPort: 80, hostPort: 9000, hostIP: "127.0.0.1", protocol: "TCP" }]);
});

test.each([
  ["web_1", "web-1"],
  ["Web.App", "web-app"],
  ["__", "c"],
  ["a".repeat(70), "a".repeat(63)],
])("kubeName(%p) = %p", (a, b) => expect(kubeName(a)).toBe(b));

test("probes: written as the API writes them (the schema accepts them) and read back the same", () => {
  const probes: ContainerRecord["probes"] = [
    { kind: "liveness", action: { type: "exec", command: ["cat", "/tmp/alive"] }, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 2 },
    { kind: "readiness", action: { type: "httpGet", port: 8080, path: "/ready", host: "127.0.0.1", headers: [{ name: "X-A", value: "b" }] }, initialDelaySeconds: 3, periodSeconds: 5, timeoutSeconds: 2, successThreshold: 2, failureThreshold: 3 },
    { kind: "startup", action: { type: "tcpSocket", port: 8080 }, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 30 },
  ];
  const objs = generateKube({ containers: [{ rec: rec({ probes }), image: IMAGE }] }, { service: false });
  new Pod(objs[0] as never).validate();
  const c = (objs[0] as { spec: { containers: Record<string, unknown>[] } }).spec.containers[0]!;
  expect(c.livenessProbe).toEqual({ exec: { command: ["cat", "/tmp/alive"] }, periodSeconds: 1, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 2 });
  const plan = translateKube(parseKubeYaml(kubeYaml(objs), "gen.yaml"), "gen.yaml");
  expect(plan.warnings).toEqual([]);
  expect(plan.pods[0]!.containers[0]!.probes).toEqual(probes);
});

test("round trip: $(…) and $$ in command, args and env run as they ran (escaped for the kubelet's expansion)", () => {
  const r = rec({ config: { Entrypoint: ["/bin/sh", "-c"], Cmd: ["echo $(date) $$ $HOME $(GREETING)"], Env: ["PATH=/usr/bin:/bin", "GREETING=a$(b)$$c"] } });
  const objs = generateKube({ containers: [{ rec: r, image: IMAGE }] }, { service: false });
  new Pod(objs[0] as never).validate();
  const c = translateKube(parseKubeYaml(kubeYaml(objs), "gen.yaml"), "gen.yaml").pods[0]!.containers[0]!;
  expect(c.entrypoint).toBe("/bin/sh");
  expect(c.args).toEqual(["-c", "echo $(date) $$ $HOME $(GREETING)"]);
  expect(c.env).toEqual(["GREETING=a$(b)$$c"]);
});

test("the stop's grace period round-trips: --stop-timeout (else Docker's 10 s) ↔ terminationGracePeriodSeconds (else the API's 30)", () => {
  const grace = (over: Partial<ContainerRecord>) => {
    const objs = generateKube({ containers: [{ rec: rec(over), image: IMAGE }] }, { service: false });
    new Pod(objs[0] as never).validate();
    return [(objs[0] as { spec: { terminationGracePeriodSeconds?: number } }).spec.terminationGracePeriodSeconds, translateKube(parseKubeYaml(kubeYaml(objs), "g.yaml"), "g.yaml").pods[0]!.gracePeriod];
  };
  expect(grace({})).toEqual([10, 10]);
  expect(grace({ config: { ...rec().config, StopTimeout: 45 } })).toEqual([45, 45]);
  expect(grace({ config: { ...rec().config, StopTimeout: 30 } })).toEqual([undefined, 30]);
});

test("a pod's own app label is kept (the Services of its YAML select it by that), and the generated Service selects by it", () => {
  const pod = { id: "p".repeat(64), name: "web-pod-0", hostname: "web-pod-0", labels: { app: "web", tier: "front" }, share: ["net"], network: "bridge", publish: [], infraId: "i".repeat(64), created: "" } as PodRecord;
  const infra = rec({ id: "i".repeat(64), name: "web-pod-0-infra", ports: [{ hostIp: "", hostPort: 8080, containerPort: 80, protocol: "tcp" }] as never });
  const objs = generateKube({ pod, infra, containers: [{ rec: rec({ name: "web-pod-0-httpd" }), image: IMAGE }] }, { service: true });
  new Pod(objs[0] as never).validate();
  new Service(objs[1] as never).validate();
  expect((objs[0] as { metadata: unknown }).metadata).toEqual({ name: "web-pod-0", labels: { app: "web", tier: "front" } });
  expect((objs[1] as { spec: { selector: unknown } }).spec.selector).toEqual({ app: "web" });
  const plan = translateKube(parseKubeYaml(kubeYaml(objs), "g.yaml"), "g.yaml");
  expect(plan.pods[0]!.labels).toEqual({ app: "web", tier: "front" });
  expect(plan.services[0]!.selector).toEqual({ app: "web" });
});

test("--service makes a NodePort Service as podman does: a random node port in 30000-32767 per port, none given twice", () => {
  const infra = rec({ ports: [{ hostIp: "", hostPort: 18080, containerPort: 8080, protocol: "tcp" }, { hostIp: "", hostPort: 18053, containerPort: 53, protocol: "udp" }] as never });
  // A random source that keeps answering the same: the picker must still not repeat a port.
  const answers = [5, 5, 5, 7];
  const pick = nodePortPicker((n) => (expect(n).toBe(2768), answers.shift() ?? 9), [30009]);
  const objs = generateKube({ containers: [{ rec: infra, image: IMAGE }] }, { service: true, nodePort: pick });
  new Service(objs[1] as never).validate();
  const spec = (objs[1] as { spec: { type: string; ports: { nodePort: number; port: number }[] } }).spec;
  expect(spec.type).toBe("NodePort");
  expect(spec.ports.map((p) => [p.port, p.nodePort])).toEqual([
    [8080, 30005],
    [53, 30007],
  ]);
  expect(() => pick()).toThrow(/Cannot pick a node port/);
  const fresh = nodePortPicker();
  for (let i = 0; i < 50; i++) expect(fresh()).toBeWithin(30000, 32768);
});

test("downward API env: written back as the fieldRefs play kube filled, not as that pod's address; played again they read the new pod's", () => {
  const yaml = [
    "apiVersion: v1",
    "kind: Pod",
    "metadata: {name: dw}",
    "spec:",
    "  containers:",
    "  - name: c",
    "    image: busybox",
    "    env:",
    "    - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}",
    "    - {name: HOST, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}",
    "    - {name: NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}",
    "    - {name: URL, value: 'http://$(IP)/'}",
    "",
  ].join("\n");
  const c = translateKube(parseKubeYaml(yaml, "dw.yaml"), "dw.yaml").pods[0]!.containers[0]!;
  const fieldRefs = podFieldRefs(c);
  // Only whole values of runtime fields: metadata.name is known before the pod runs, URL is composed.
  expect(fieldRefs).toEqual({ IP: "status.podIP", HOST: "status.hostIP" });
  const played = withPodFields(c, { podIP: "10.29.0.3", hostIP: "192.168.0.9", nodeName: "n", uid: "u" });
  const r = rec({ config: { Entrypoint: null, Cmd: ["sh"], Env: ["PATH=/usr/bin:/bin", ...played.env] }, fieldRefs });
  const objs = generateKube({ containers: [{ rec: r, image: IMAGE }] }, { service: false });
  new Pod(objs[0] as never).validate();
  const env = (objs[0] as { spec: { containers: { env: unknown[] }[] } }).spec.containers[0]!.env;
  expect(env).toEqual([
    { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
    { name: "HOST", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
    { name: "NAME", value: "dw" },
    { name: "URL", value: "http://10.29.0.3/" },
  ]);
  const again = translateKube(parseKubeYaml(kubeYaml(objs), "gen.yaml"), "gen.yaml").pods[0]!.containers[0]!;
  expect(withPodFields(again, { podIP: "10.29.0.7", hostIP: "192.168.0.9", nodeName: "n", uid: "u" }).env.slice(0, 2)).toEqual(["IP=10.29.0.7", "HOST=192.168.0.9"]);
});
