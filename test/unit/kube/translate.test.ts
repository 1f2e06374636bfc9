import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cpuQuotaOf, cpuSharesOf, translateKube } from "../../../src/kube/translate.ts";
import { memoryBytes, milliCpu } from "../../../src/kube/quantity.ts";
import { parseKubeYaml } from "../../../src/kube/yaml.ts";
import { podUid, readsPodFields, withPodFields } from "../../../src/kube/downward.ts";
import { memoryVolumeSize } from "../../../src/kube/play.ts";
import { imageUserSpec } from "../../../src/runtime/user.ts";
import { probability, serviceRules } from "../../../src/network/service-rules.ts";

const FIX = path.resolve(import.meta.dir, "../../fixtures/kube");
const plan = (yaml: string) => translateKube(parseKubeYaml(yaml, "t.yaml"), "t.yaml");
const pod = (containers: string, spec = "") => `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n${spec}  containers:\n${containers}`;

describe("quantities", () => {
  test.each([
    ["200Mi", 209715200],
    ["100Mi", 104857600],
    ["1Gi", 1073741824],
    ["1G", 1e9],
    ["128974848", 128974848],
    ["129e6", 129000000],
    ["123k", 123000],
    ["0.5Gi", 536870912],
  ])("memory %s → %d bytes", (q, n) => expect(memoryBytes(q, "m")).toBe(n));
  test.each([
    ["500m", 500],
    ["0.5", 500],
    ["1", 1000],
    ["2", 2000],
    ["100m", 100],
    ["0.0001", 1],
  ])("cpu %s → %d millicores", (q, n) => expect(milliCpu(q, "c")).toBe(n));
  test.each(["lots", "", "1.2.3", "-1", "10Mb", "1 Gi"])("bad quantity %p refused", (q) => expect(() => memoryBytes(q, "limits.memory")).toThrow(/Cannot parse quantity limits.memory/));
  test("kubelet's cpu shares and quota", () => {
    expect(cpuSharesOf(250)).toBe(256);
    expect(cpuSharesOf(1000)).toBe(1024);
    expect(cpuSharesOf(1)).toBe(2);
    expect(cpuQuotaOf(500)).toBe(50000);
    expect(cpuQuotaOf(1)).toBe(1000);
  });
});

describe("the notes' pods", () => {
  test("core-k8s: busybox sleep 10000, its labels, containerPort 80 exposed not published", () => {
    const p = translateKube(parseKubeYaml(fs.readFileSync(path.join(FIX, "core-k8s.yaml"), "utf8"), "core-k8s.yaml"), "core-k8s.yaml");
    expect(p.warnings).toEqual([]);
    expect(p.pods).toHaveLength(1);
    const [pd] = p.pods;
    expect(pd!.name).toBe("core-k8s");
    expect(pd!.labels).toEqual({ role: "just-an-example", app: "my-example-app", organization: "friends-of-manning", creator: "jay" });
    expect(pd!.restart).toBe("always");
    const c = pd!.containers[0]!;
    expect([c.name, c.image, c.entrypoint, c.args]).toEqual(["any-old-name-will-do", "docker.io/busybox:latest", "sleep", ["10000"]]);
    expect(c.expose).toEqual(["80/tcp"]);
    expect(c.publish).toEqual([]);
    expect(c.pull).toBe("always"); // :latest
  });
  test("core-k8s-greedy: limits.memory 200Mi → 209715200 bytes", () => {
    const p = translateKube(parseKubeYaml(fs.readFileSync(path.join(FIX, "core-k8s-greedy.yaml"), "utf8"), "g.yaml"), "g.yaml");
    expect(p.pods[0]!.containers[0]!.memory).toBe(209715200);
  });
});

describe("container fields", () => {
  test.each([
    // command replaces ENTRYPOINT (and the image's CMD goes), args replaces CMD.
    ["command only", "command: [sh, -c, 'echo hi']", "sh", ["-c", "echo hi"]],
    ["args only", "args: [a, b]", undefined, ["a", "b"]],
    ["both", "command: [/bin/app]\n    args: [--x]", "/bin/app", ["--x"]],
    ["neither", "", undefined, []],
  ])("%s", (_n, fields, entrypoint, args) => {
    const c = plan(pod(`  - name: c\n    image: busybox:1\n    ${fields}\n`)).pods[0]!.containers[0]!;
    expect(c.entrypoint).toBe(entrypoint as string | undefined);
    expect(c.args).toEqual(args as string[]);
    expect(c.pull).toBe("missing");
  });
  test("resources, securityContext, ports, workingDir, restartPolicy", () => {
    const p = plan(
      pod(
        [
          "  - name: c",
          "    image: busybox",
          "    imagePullPolicy: Never",
          "    workingDir: /w",
          "    ports: [{containerPort: 80, hostPort: 8080}, {containerPort: 53, protocol: UDP, hostPort: 5353, hostIP: 127.0.0.1}]",
          "    resources: {limits: {memory: 64Mi, cpu: 500m}, requests: {cpu: 250m}}",
          "    securityContext: {runAsUser: 1000, runAsGroup: 100, capabilities: {add: [NET_ADMIN], drop: [ALL]}, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}",
          "",
        ].join("\n"),
        "  restartPolicy: OnFailure\n",
      ),
    );
    const c = p.pods[0]!.containers[0]!;
    expect(p.pods[0]!.restart).toBe("on-failure");
    // The API's default grace period, and one given.
    expect(p.pods[0]!.gracePeriod).toBe(30);
    expect(plan(pod("  - {name: c, image: busybox}\n", "  terminationGracePeriodSeconds: 5\n")).pods[0]!.gracePeriod).toBe(5);
    expect(c).toMatchObject({ workdir: "/w", pull: "never", memory: 67108864, cpuQuota: 50000, cpuPeriod: 100000, cpuShares: 256, user: "1000:100", capAdd: ["NET_ADMIN"], capDrop: ["ALL"], readOnly: true, noNewPrivileges: true });
    expect(c.publish).toEqual(["8080:80/tcp", "127.0.0.1:5353:53/udp"]);
  });
  test("limits.cpu alone: requests default to it (shares from the limit)", () => {
    const c = plan(pod("  - {name: c, image: busybox, resources: {limits: {cpu: '2'}}}\n")).pods[0]!.containers[0]!;
    expect([c.cpuQuota, c.cpuShares]).toEqual([200000, 2048]);
  });
  test("ConfigMap and Secret as env and files", () => {
    const yaml = [
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {A: '1', conf.txt: hello}",
      "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {PASS: c2VjcmV0}\nstringData: {USER: bob}",
      "---\n" +
        pod(
          "  - name: c\n    image: busybox\n    env: [{name: X, value: x}, {name: P, valueFrom: {secretKeyRef: {name: s, key: PASS}}}, {name: N, value: 3}]\n    envFrom: [{configMapRef: {name: cm}, prefix: CM_}, {secretRef: {name: s}}]\n    volumeMounts: [{name: v, mountPath: /etc/c, readOnly: true}, {name: e, mountPath: /e}]\n",
          "  volumes: [{name: v, configMap: {name: cm, items: [{key: conf.txt, path: sub/c.txt}]}}, {name: e, emptyDir: {}}]\n",
        ),
    ].join("\n");
    const p = plan(yaml);
    const c = p.pods[0]!.containers[0]!;
    expect(c.env).toEqual(["CM_A=1", "CM_conf.txt=hello", "PASS=secret", "USER=bob", "X=x", "P=secret", "N=3"]);
    expect(p.pods[0]!.volumes).toEqual([
      { name: "v", source: { kind: "files", from: "configMap/cm", files: { "sub/c.txt": "hello" }, mode: 0o644 } },
      { name: "e", source: { kind: "emptyDir" } },
    ]);
    expect(c.mounts).toEqual([
      { volume: "v", target: "/etc/c", readOnly: true },
      { volume: "e", target: "/e", readOnly: false },
    ]);
  });
});

test("volume file modes as the kubelet sets them: 0644 by default (Secrets too), defaultMode and items' mode, 0NNN octal as kubectl's YAML 1.1 reads it", () => {
  const src = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: '1', b: '2'}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: v}\n---\n";
  const vols = (volumes: string) => plan(src + pod("  - {name: c, image: busybox}\n", `  volumes:\n${volumes}`)).pods[0]!.volumes.map((v) => v.source);
  expect(vols("  - {name: a, configMap: {name: cm}}\n  - {name: b, secret: {secretName: s}}\n")).toEqual([
    { kind: "files", from: "configMap/cm", files: { a: "1", b: "2" }, mode: 0o644 },
    { kind: "files", from: "secret/s", files: { k: "v" }, mode: 0o644 },
  ]);
  expect(vols("  - name: a\n    configMap:\n      name: cm\n      defaultMode: 0755\n      items:\n      - {key: a, path: x, mode: 0400}\n      - {key: b, path: y}\n")).toEqual([
    { kind: "files", from: "configMap/cm", files: { x: "1", y: "2" }, mode: 0o755, modes: { x: 0o400 } },
  ]);
  // Decimal, as JSON and kubectl's own output write it.
  expect(vols("  - {name: b, secret: {secretName: s, defaultMode: 256}}\n")).toEqual([{ kind: "files", from: "secret/s", files: { k: "v" }, mode: 0o400 }]);
  expect(() => vols("  - {name: b, secret: {secretName: s, defaultMode: 1000}}\n")).toThrow(/defaultMode: must be an integer from 0 to 511/);
});

test("env from the downward API: the pod's name, namespace and labels, per replica; other fields refused", () => {
  const dep = (env: string) =>
    `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web, tier: front}}\n    spec:\n      containers:\n      - name: c\n        image: busybox\n        env:\n${env}`;
  const p = plan(
    dep(
      [
        "        - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}",
        "        - {name: NS, valueFrom: {fieldRef: {apiVersion: v1, fieldPath: metadata.namespace}}}",
        "        - {name: TIER, valueFrom: {fieldRef: {fieldPath: \"metadata.labels['tier']\"}}}",
        "        - {name: NONE, valueFrom: {fieldRef: {fieldPath: \"metadata.labels['x']\"}}}",
        "        - {name: URL, value: 'http://$(POD).$(NS)'}",
        "",
      ].join("\n"),
    ),
  );
  expect(p.pods.map((x) => x.containers[0]!.env)).toEqual([
    ["POD=web-pod-0", "NS=shop", "TIER=front", "NONE=", "URL=http://web-pod-0.shop"],
    ["POD=web-pod-1", "NS=shop", "TIER=front", "NONE=", "URL=http://web-pod-1.shop"],
  ]);
  expect(plan(pod("  - {name: c, image: busybox, env: [{name: N, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]}\n")).pods[0]!.containers[0]!.env).toEqual(["N=p"]);
  expect(() => plan(dep("        - {name: P, valueFrom: {fieldRef: {fieldPath: status.phase}}}\n"))).toThrow(/fieldPath: "status.phase" is not supported/);
});

test("downward API fields only the running pod knows: markers in env and $(VAR) references, filled with the pod's values", () => {
  const yaml = pod(
    [
      "  - name: c",
      "    image: busybox",
      "    command: [sh, -c, 'echo $(IP)']",
      "    env:",
      "    - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}",
      "    - {name: HOST, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}",
      "    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}",
      "    - {name: UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}",
      "    - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}",
      "    - {name: URL, value: 'http://$(IP):80'}",
      "",
    ].join("\n"),
    "  serviceAccountName: builder\n",
  );
  const p = plan(yaml);
  expect(p.warnings).toEqual([]);
  const c = p.pods[0]!.containers[0]!;
  expect(readsPodFields(c)).toBe(true);
  const filled = withPodFields(c, { podIP: "10.1.2.3", hostIP: "192.168.0.9", nodeName: "node1", uid: podUid("ab".repeat(32)) });
  expect(filled.env).toEqual(["IP=10.1.2.3", "HOST=192.168.0.9", "NODE=node1", "UID=abababab-abab-abab-abab-abababababab", "SA=builder", "URL=http://10.1.2.3:80"]);
  expect([filled.entrypoint, ...filled.args]).toEqual(["sh", "-c", "echo 10.1.2.3"]);
  // The API's default service account.
  expect(plan(pod("  - {name: c, image: busybox, env: [{name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}]}\n")).pods[0]!.containers[0]!.env).toEqual(["SA=default"]);
  expect(readsPodFields(plan(pod("  - {name: c, image: busybox, env: [{name: A, value: b}]}\n")).pods[0]!.containers[0]!)).toBe(false);
});

test("emptyDir medium Memory: a tmpfs sized as the kubelet sizes it (sizeLimit, else the pod's memory limit, else the node's memory)", () => {
  const vols = (volumes: string, containers = "  - {name: c, image: busybox}\n") => plan(pod(containers, `  volumes:\n${volumes}`));
  const p = vols("  - {name: a, emptyDir: {medium: Memory, sizeLimit: 64Mi}}\n  - {name: b, emptyDir: {medium: Memory}}\n  - {name: d, emptyDir: {medium: ''}}\n");
  expect(p.warnings).toEqual([]);
  expect(p.pods[0]!.volumes.map((v) => v.source)).toEqual([{ kind: "emptyDir", memory: { sizeLimit: 67108864 } }, { kind: "emptyDir", memory: {} }, { kind: "emptyDir" }]);
  expect(() => vols("  - {name: a, emptyDir: {medium: HugePages}}\n")).toThrow(/emptyDir.medium: "HugePages" is not supported/);
  expect(() => vols("  - {name: a, emptyDir: {medium: Memory, sizeLimit: lots}}\n")).toThrow(/emptyDir.sizeLimit: cannot parse quantity/);
  const node = 8 * 2 ** 30;
  expect(memoryVolumeSize(67108864, [{ memory: 2 ** 30 }], node)).toBe(67108864);
  expect(memoryVolumeSize(2 ** 31, [{ memory: 2 ** 29 }, { memory: 2 ** 29 }, {}], node)).toBe(2 ** 30);
  expect(memoryVolumeSize(undefined, [{}], node)).toBe(node);
});

test("securityContext without runAsUser: runAsGroup and runAsNonRoot (pod's or container's) wait for the image's user", () => {
  const c = (sc: string, podSc = "") => plan(pod(`  - {name: c, image: busybox${sc ? `, securityContext: ${sc}` : ""}}\n`, podSc)).pods[0]!.containers[0]!;
  expect(c("{runAsGroup: 1234}")).toMatchObject({ imageUser: { group: 1234 } });
  expect(c("{runAsGroup: 1234}").user).toBeUndefined();
  expect(c("", "  securityContext: {runAsNonRoot: true, runAsGroup: 5}\n")).toMatchObject({ imageUser: { group: 5, nonRoot: true } });
  expect(c("{runAsNonRoot: false}", "  securityContext: {runAsNonRoot: true}\n").imageUser).toBeUndefined();
  expect(c("{runAsNonRoot: true, runAsUser: 1000}")).toMatchObject({ user: "1000" });
  expect(c("{runAsNonRoot: true, runAsUser: 1000}").imageUser).toBeUndefined();
  expect(() => c("{runAsNonRoot: true, runAsUser: 0}")).toThrow(/runAsNonRoot: contradicts runAsUser: 0/);
  // The kubelet's judgement of the image's USER.
  expect(imageUserSpec("", { group: 7 }, "p-c")).toBe("0:7");
  expect(imageUserSpec("nobody", { group: 7 }, "p-c")).toBe("nobody:7");
  expect(imageUserSpec("1000:1000", { group: 7, nonRoot: true }, "p-c")).toBe("1000:7");
  expect(imageUserSpec("1000", { nonRoot: true }, "p-c")).toBe("1000");
  expect(() => imageUserSpec("", { nonRoot: true }, "p-c")).toThrow('Cannot start container "p-c": container has runAsNonRoot and image will run as root');
  expect(() => imageUserSpec("0:0", { nonRoot: true }, "p-c")).toThrow(/image will run as root/);
  expect(() => imageUserSpec("root", { nonRoot: true }, "p-c")).toThrow(/image will run as root/);
  expect(() => imageUserSpec("nobody", { nonRoot: true }, "p-c")).toThrow(/image has non-numeric user \(nobody\), cannot verify user is non-root/);
});

test("a controller's pods restart Always, as the API requires", () => {
  const d = (policy: string) =>
    `apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {restartPolicy: ${policy}, containers: [{name: c, image: busybox}]}\n`;
  expect(plan(d("Always")).pods[0]!.restart).toBe("always");
  expect(() => plan(d("Never"))).toThrow(/spec.template.spec.restartPolicy: must be Always in a ReplicaSet/);
});

describe("workloads and services", () => {
  const deploy = (replicas: number, sel = "app: web", labels = "app: web") =>
    `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: ${replicas}\n  selector: {matchLabels: {${sel}}}\n  template:\n    metadata: {labels: {${labels}}}\n    spec: {containers: [{name: c, image: busybox}]}\n`;
  test("replicas → that many pods named <name>-pod-<i>, with the template's labels", () => {
    const p = plan(deploy(3));
    expect(p.pods.map((x) => x.name)).toEqual(["web-pod-0", "web-pod-1", "web-pod-2"]);
    expect(p.pods.every((x) => x.labels.app === "web" && x.owner === "Deployment/web")).toBe(true);
    expect(plan(deploy(0)).pods).toEqual([]);
  });
  test("a selector that misses the template's labels is refused", () => {
    expect(() => plan(deploy(1, "app: x"))).toThrow(/t.yaml:1: spec.selector: selector app=x does not match/);
  });
  test("ReplicationController: the selector defaults to the template's labels", () => {
    const p = plan(`apiVersion: v1\nkind: ReplicationController\nmetadata: {name: rc}\nspec:\n  replicas: 2\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: c, image: busybox}]}\n`);
    expect(p.pods.map((x) => x.name)).toEqual(["rc-pod-0", "rc-pod-1"]);
  });
  test("Service: NodePort with its ports; rules pick an endpoint with kube-proxy's probabilities", () => {
    const p = plan(`apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: NodePort\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]\n`);
    expect(p.services).toEqual([{ name: "web", type: "NodePort", selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080, nodePort: 30080, protocol: "tcp" }] }]);
    const r = serviceRules({ ...p.services[0]!, owner: "0123456789ab" }, "10.96.1.1", ["10.0.0.2", "10.0.0.3", "10.0.0.4"]);
    const lines = r.text.split("\n").filter((l) => l.startsWith("-A"));
    expect(lines.filter((l) => l.includes("DNAT")).map((l) => /probability (\S+)/.exec(l)?.[1] ?? "-")).toEqual(["0.3333333333", "0.5000000000", "-"]);
    expect(lines.some((l) => l.includes("--dst-type LOCAL") && l.includes("--dport 30080"))).toBe(true);
    expect(lines.some((l) => l.includes("-d 10.96.1.1/32") && l.includes("--dport 80"))).toBe(true);
    expect(r.chains[0]).toMatch(/^TINYDOCK-KUBE-SVC-[0-9A-F]{8}$/);
    expect(probability(0, 1)).toBe("1.0000000000");
  });
});

describe("refused and warned", () => {
  test.each([
    [pod("  - name: c\n"), /containers\[0\]\.image: required/],
    [pod("  - {name: C, image: busybox}\n"), /not a lowercase RFC 1123 name/],
    [pod("  - {name: c, image: busybox}\n  - {name: c, image: busybox}\n"), /two containers named "c"/],
    [pod("  - {name: c, image: busybox, resources: {limits: {memory: 1Mi}}}\n"), /6 MiB/],
    [pod("  - {name: c, image: busybox, resources: {limits: {memory: 1Gi}, requests: {memory: 2Gi}}}\n"), /requests.memory/],
    [pod("  - {name: c, image: busybox, workingDir: rel}\n"), /workingDir: must be absolute/],
    [pod("  - {name: c, image: busybox, volumeMounts: [{name: nope, mountPath: /x}]}\n"), /no volume named "nope"/],
    [pod("  - {name: c, image: busybox, env: [{name: A, valueFrom: {configMapKeyRef: {name: none, key: k}}}]}\n"), /ConfigMap "none" with key "k" is not in the file/],
    [pod("  - {name: c, image: busybox, imagePullPolicy: Sometimes}\n"), /imagePullPolicy/],
    [pod("  - {name: c, image: busybox, securityContext: {privileged: true, allowPrivilegeEscalation: false}}\n"), /allowPrivilegeEscalation/],
    [pod("  - {name: c, image: busybox}\n", "  restartPolicy: Sometimes\n"), /restartPolicy/],
    [pod("  - {name: c, image: busybox, ports: [{containerPort: 70000}]}\n"), /containerPort: must be an integer/],
    [pod("  - {name: c, image: busybox, stdin: true}\n"), /stdin/],
    ["apiVersion: v1\nkind: Pod\nspec: {}\n", /metadata: required/],
    ["kind: Pod\nmetadata: {name: a}\n", /apiVersion: required/],
    ["- a\n- b\n", /document: must be a mapping/],
  ])("%#", (yaml, want) => expect(() => plan(yaml)).toThrow(want));

  test("unknown kinds and fields: a warning line each, with the file and line", () => {
    const p = plan(`apiVersion: v1\nkind: Gizmo\nmetadata: {name: g}\n---\n${pod("  - {name: c, image: busybox, lifecycle: {}}\n")}`);
    expect(p.warnings).toEqual(['t.yaml:1: kind "Gizmo" is not supported, ignored', "t.yaml:5: spec.containers[0].lifecycle: unsupported field, ignored"]);
  });
});

describe("YAML files", () => {
  test("multi-document with comments and empty documents", () => {
    expect(parseKubeYaml("# c\n---\na: 1\n---\n---\nb: 2\n...\n", "f").map((d) => [d.line, d.value])).toEqual([
      [3, { a: 1 }],
      [6, { b: 2 }],
    ]);
  });
  test("a syntax error names the file and the line", () => {
    expect(() => parseKubeYaml("a: 1\n---\nb: 2\nc: [1\nd: 3\n", "f.yaml")).toThrow(/^Cannot parse "f.yaml:4": /);
  });
  test("an alias bomb and an oversized text are refused", () => {
    let bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n";
    let prev = "a";
    for (const n of "bcdefgh") {
      bomb += `${n}: &${n} [${Array(10).fill(`*${prev}`).join(",")}]\n`;
      prev = n;
    }
    expect(() => parseKubeYaml(bomb, "bomb.yaml")).toThrow(/bomb\.yaml/);
    // Below Bun's own aliasing limit but past the node budget.
    const wide = `a: &a [${Array(400).fill("x").join(",")}]\nb: [${Array(300).fill("*a").join(",")}]\n`;
    expect(() => parseKubeYaml(wide, "wide.yaml")).toThrow(/more than 100000 nodes|aliasing/i);
    expect(() => parseKubeYaml("x".repeat(10 * 1024 * 1024 + 1), "big.yaml")).toThrow(/larger than/);
  });
});

describe("spec.hostNetwork", () => {
  const c = "  - name: web\n    image: busybox\n    ports:\n    - containerPort: 8080\n      hostPort: PORT\n";
  test("the pod in the host's network: its name the host's unless spec.hostname says, hostPort = containerPort", () => {
    const p = plan(pod(c.replace("PORT", "8080"), "  hostNetwork: true\n")).pods[0]!;
    expect(p.hostNetwork).toBe(true);
    expect(p.hostname).toBe("");
    expect(plan(pod(c.replace("PORT", "8080"), "  hostNetwork: true\n  hostname: h1\n")).pods[0]!.hostname).toBe("h1");
    expect(plan(pod(c.replace("PORT", "8080"), "  hostNetwork: false\n")).pods[0]!.hostNetwork).toBeUndefined();
    expect(plan(pod(c.replace("PORT", "8080"))).pods[0]!.hostname).toBe("p");
  });
  test("refused: a hostPort other than the containerPort (the API's rule), a value that is no boolean", () => {
    expect(() => plan(pod(c.replace("PORT", "9090"), "  hostNetwork: true\n"))).toThrow(/hostPort 9090 must match containerPort 8080 when hostNetwork is true/);
    expect(() => plan(pod(c.replace("PORT", "8080"), "  hostNetwork: yes please\n"))).toThrow(/hostNetwork/);
  });
});
