// Hostile Kubernetes YAML against the pure translation: every input either translates or is
// refused with one typed error naming the file — never a TypeError, a hang, or a path that leaves
// the pod's directory (ConfigMap/Secret keys and item paths, subPath).
import { expect, test } from "bun:test";
import fc from "fast-check";
import { isKind, TinydockError } from "../../src/errors.ts";
import { translateKube } from "../../src/kube/translate.ts";
import { parseKubeYaml } from "../../src/kube/yaml.ts";
import { recordCases } from "../helpers/adversarial.ts";

const translate = (docs: unknown[]) => translateKube(docs.map((value, i) => ({ line: i + 1, value })), "h.yaml");

/** A pod whose fields are replaced, at random paths, by arbitrary values. */
const base = () => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", labels: { a: "b" } },
  spec: {
    restartPolicy: "Always",
    volumes: [{ name: "v", configMap: { name: "cm", items: [{ key: "k", path: "f" }] } }, { name: "e", emptyDir: {} }],
    containers: [
      {
        name: "c",
        image: "busybox",
        command: ["sh"],
        args: ["-c", "x"],
        env: [{ name: "A", value: "1" }, { name: "B", valueFrom: { configMapKeyRef: { name: "cm", key: "k" } } }],
        envFrom: [{ configMapRef: { name: "cm" }, prefix: "P_" }],
        ports: [{ containerPort: 80, hostPort: 8080, protocol: "TCP" }],
        resources: { limits: { memory: "64Mi", cpu: "1" }, requests: { cpu: "500m" } },
        securityContext: { runAsUser: 1, capabilities: { add: ["X"] } },
        volumeMounts: [{ name: "v", mountPath: "/v", subPath: "s" }],
        livenessProbe: { httpGet: { path: "/h", port: 80, httpHeaders: [{ name: "X-A", value: "b" }] }, periodSeconds: 1 },
        readinessProbe: { tcpSocket: { port: 80, host: "127.0.0.1" }, successThreshold: 2 },
      },
    ],
  },
});
const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" }, data: { k: "v" } };

const PATHS: string[][] = [
  ["kind"], ["metadata"], ["metadata", "name"], ["metadata", "labels"], ["spec"], ["spec", "containers"], ["spec", "volumes"],
  ["spec", "restartPolicy"], ["spec", "containers", "0"], ["spec", "containers", "0", "image"], ["spec", "containers", "0", "command"],
  ["spec", "containers", "0", "args"], ["spec", "containers", "0", "env"], ["spec", "containers", "0", "env", "1", "valueFrom"],
  ["spec", "containers", "0", "envFrom", "0"], ["spec", "containers", "0", "ports", "0", "containerPort"], ["spec", "containers", "0", "resources", "limits"],
  ["spec", "containers", "0", "resources", "limits", "memory"], ["spec", "containers", "0", "securityContext"], ["spec", "containers", "0", "volumeMounts", "0"],
  ["spec", "volumes", "0", "configMap"], ["spec", "volumes", "0", "configMap", "items", "0", "path"], ["spec", "containers", "0", "securityContext", "capabilities"],
  ["spec", "containers", "0", "livenessProbe"], ["spec", "containers", "0", "livenessProbe", "httpGet"], ["spec", "containers", "0", "livenessProbe", "httpGet", "path"],
  ["spec", "containers", "0", "livenessProbe", "httpGet", "port"], ["spec", "containers", "0", "livenessProbe", "httpGet", "httpHeaders", "0"],
  ["spec", "containers", "0", "livenessProbe", "periodSeconds"], ["spec", "containers", "0", "readinessProbe", "tcpSocket", "host"], ["spec", "containers", "0", "readinessProbe"],
];

function setAt(o: Record<string, unknown>, path: string[], v: unknown): void {
  let x: Record<string, unknown> = o;
  for (const k of path.slice(0, -1)) {
    const next = x[k];
    if (next === null || typeof next !== "object") return;
    x = next as Record<string, unknown>;
  }
  x[path.at(-1)!] = v;
}

test("arbitrary values at any field: translated or refused with a typed error, never a crash", () => {
  let n = 0;
  fc.assert(
    fc.property(fc.constantFrom(...PATHS), fc.anything({ maxDepth: 3 }), (path, value) => {
      n++;
      const pod = base();
      setAt(pod as never, path, value);
      let plan: ReturnType<typeof translate> | undefined;
      try {
        plan = translate([cm, pod]);
      } catch (err) {
        expect(err).toBeInstanceOf(TinydockError);
        expect((err as Error).message).toMatch(/^Cannot play h\.yaml:\d+: /);
        expect((err as Error).message).not.toContain("\n");
      }
      // What reaches the wire of an httpGet probe: no line break to smuggle a header or a request in.
      for (const c of plan?.pods[0]?.containers ?? []) {
        for (const p of c.probes) {
          if (p.action.type !== "httpGet") continue;
          expect(p.action.path).not.toMatch(/\s/);
          for (const h of p.action.headers) expect(h.name + h.value).not.toMatch(/[\r\n]/);
        }
      }
    }),
    { numRuns: 3000, seed: 20261207 },
  );
  recordCases("kube YAML: arbitrary values at pod fields", n);
});

test("paths out of the pod's directory are refused: ConfigMap keys, item paths, subPath", () => {
  const cases: [unknown[], RegExp][] = [
    [[{ ...cm, data: { "../x": "v" } }], /not a valid key/],
    [[{ ...cm, data: { "..": "v" } }], /not a valid key/],
    [[{ ...cm, data: { "a/b": "v" } }], /not a valid key/],
    [[{ apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { "../../etc/passwd": "x" } }], /not a valid key/],
  ];
  for (const p of ["../x", "/etc/x", "a/../../x"]) {
    const pod = base();
    pod.spec.volumes[0] = { name: "v", configMap: { name: "cm", items: [{ key: "k", path: p }] } };
    cases.push([[cm, pod], /must be relative, without \.\./]);
  }
  for (const sub of ["../..", "/abs", "a/../../b"]) {
    const pod = base();
    pod.spec.containers[0]!.volumeMounts = [{ name: "v", mountPath: "/v", subPath: sub }];
    cases.push([[cm, pod], /subPath: must be relative/]);
  }
  for (const mp of ["rel", ""]) {
    const pod = base();
    pod.spec.containers[0]!.volumeMounts = [{ name: "v", mountPath: mp, subPath: "s" }];
    cases.push([[cm, pod], /mountPath/]);
  }
  {
    const pod = base();
    pod.spec.volumes[1] = { name: "e", hostPath: { path: "relative/dir" } } as never;
    cases.push([[cm, pod], /must be absolute/]);
  }
  {
    const pod = base();
    (pod.metadata as { name: string }).name = "../../etc";
    cases.push([[cm, pod], /not a lowercase RFC 1123 name/]);
  }
  {
    const d = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" }, spec: { replicas: 100000, selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: base().spec } } };
    cases.push([[cm, d], /replicas: must be an integer from 0 to 100/]);
  }
  for (const [docs, want] of cases) {
    let err: unknown;
    try {
      translate(docs);
    } catch (e) {
      err = e;
    }
    expect(isKind(err, "InvalidArgument")).toBe(true);
    expect((err as Error).message).toMatch(want);
  }
  recordCases("kube YAML: paths out of the pod directory, names, replicas", cases.length);
});

test("YAML bombs and deep nesting are refused or parsed within bounds, quickly", () => {
  const texts: string[] = [];
  let bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n";
  let prev = "a";
  for (const n of "bcdefghij") {
    bomb += `${n}: &${n} [${Array(10).fill(`*${prev}`).join(",")}]\n`;
    prev = n;
    texts.push(bomb);
  }
  texts.push(`${"[".repeat(5000)}${"]".repeat(5000)}\n`);
  texts.push(`a: &a [${Array(1000).fill("x").join(",")}]\nb: [${Array(200).fill("*a").join(",")}]\n`);
  for (const t of texts) {
    const t0 = performance.now();
    try {
      parseKubeYaml(t, "b.yaml");
    } catch (err) {
      expect(err).toBeInstanceOf(TinydockError);
      expect((err as Error).message).toMatch(/^Cannot parse "b\.yaml/);
    }
    expect(performance.now() - t0).toBeLessThan(5_000);
  }
  recordCases("kube YAML: alias bombs, deep nesting", texts.length);
});
