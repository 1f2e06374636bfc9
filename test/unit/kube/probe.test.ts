// livenessProbe, readinessProbe, startupProbe: the API's defaults, named ports, the refusals (one line
// naming file and field), the warnings; and what the monitor is handed for each kind of probe.
import { describe, expect, test } from "bun:test";
import { translateKube } from "../../../src/kube/translate.ts";
import { parseKubeYaml } from "../../../src/kube/yaml.ts";
import { monitorProbes, probeRequest } from "../../../src/lifecycle/probes.ts";
import { testPlan } from "../../helpers/plan.ts";
import { decodePlan } from "../../../src/runtime/encode.ts";
import { encodeProbes, ProbeActionCode, ProbeKindCode } from "../../../src/sys/protocol.ts";

const container = (extra: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: busybox\n    ports: [{name: web, containerPort: 8080}]\n${extra}`;
const plan = (extra: string) => translateKube(parseKubeYaml(container(extra), "t.yaml"), "t.yaml");
const probes = (extra: string) => plan(extra).pods[0]!.containers[0]!.probes;

describe("probe fields", () => {
  test("no probes: none", () => expect(probes("")).toEqual([]));

  test("the API's defaults: period 10 s, timeout 1 s, success 1, failure 3, no initial delay; path /", () => {
    expect(probes("    livenessProbe: {httpGet: {port: 8080}}\n")).toEqual([
      { kind: "liveness", action: { type: "httpGet", port: 8080, path: "/", headers: [] }, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    ]);
  });

  test("every kind and handler, a port by name, a host, headers, every number", () => {
    const got = probes(
      [
        "    livenessProbe: {exec: {command: [cat, /tmp/alive]}, periodSeconds: 1, failureThreshold: 2, initialDelaySeconds: 5, timeoutSeconds: 2}",
        "    readinessProbe: {httpGet: {path: health, port: web, host: 127.0.0.1, scheme: HTTP, httpHeaders: [{name: X-A, value: b}]}, successThreshold: 3}",
        "    startupProbe: {tcpSocket: {port: '8080'}, failureThreshold: 30, periodSeconds: 1}",
        "",
      ].join("\n"),
    );
    expect(got.map((p) => [p.kind, p.action])).toEqual([
      ["liveness", { type: "exec", command: ["cat", "/tmp/alive"] }],
      ["readiness", { type: "httpGet", port: 8080, path: "/health", host: "127.0.0.1", headers: [{ name: "X-A", value: "b" }] }],
      ["startup", { type: "tcpSocket", port: 8080 }],
    ]);
    expect(got[0]).toMatchObject({ periodSeconds: 1, failureThreshold: 2, initialDelaySeconds: 5, timeoutSeconds: 2 });
    expect(got[1]!.successThreshold).toBe(3);
    expect(got[2]).toMatchObject({ periodSeconds: 1, failureThreshold: 30 });
  });

  test("fields tinydock does not act on: a warning each", () => {
    const p = plan("    livenessProbe: {exec: {command: [/bin/true]}, terminationGracePeriodSeconds: 5}\n");
    expect(p.warnings).toEqual(["t.yaml:1: spec.containers[0].livenessProbe.terminationGracePeriodSeconds: unsupported field, ignored"]);
  });

  test.each([
    ["    livenessProbe: {}\n", /livenessProbe: exactly one of exec, httpGet, tcpSocket is required$/],
    ["    livenessProbe: {exec: {command: [a]}, tcpSocket: {port: 1}}\n", /livenessProbe: exactly one of/],
    ["    livenessProbe: {grpc: {port: 1}}\n", /livenessProbe.grpc: gRPC probes are not supported/],
    ["    livenessProbe: {exec: {command: []}}\n", /livenessProbe.exec.command: required$/],
    ["    livenessProbe: {exec: {}}\n", /livenessProbe.exec.command: required$/],
    ["    livenessProbe: {httpGet: {port: 0}}\n", /livenessProbe.httpGet.port: must be an integer from 1 to 65535$/],
    ["    livenessProbe: {httpGet: {path: /}}\n", /livenessProbe.httpGet.port: required$/],
    ["    livenessProbe: {httpGet: {port: nope}}\n", /livenessProbe.httpGet.port: no container port named "nope"$/],
    ["    livenessProbe: {httpGet: {port: 80, scheme: HTTPS}}\n", /scheme: HTTPS is not supported$/],
    ["    livenessProbe: {httpGet: {port: 80, scheme: FTP}}\n", /scheme: "FTP" is not HTTP or HTTPS$/],
    ["    livenessProbe: {httpGet: {port: 80, host: example.com}}\n", /host: "example.com" is not an IPv4 address/],
    ["    livenessProbe: {tcpSocket: {port: 80, host: 300.1.1.1}}\n", /tcpSocket.host: "300.1.1.1" is not an IPv4 address/],
    ["    livenessProbe: {httpGet: {port: 80, path: '/a b'}}\n", /path: must not contain spaces or control characters$/],
    ["    livenessProbe: {httpGet: {port: 80, httpHeaders: [{name: 'a b', value: x}]}}\n", /httpHeaders\[0\].name: "a b" is not a valid HTTP header name$/],
    ['    livenessProbe: {httpGet: {port: 80, httpHeaders: [{name: a, value: "x\\r\\nEvil: 1"}]}}\n', /httpHeaders\[0\].value: must not contain line breaks$/],
    ["    livenessProbe: {exec: {command: [a]}, successThreshold: 2}\n", /livenessProbe.successThreshold: must be 1$/],
    ["    startupProbe: {exec: {command: [a]}, successThreshold: 2}\n", /startupProbe.successThreshold: must be 1$/],
    ["    readinessProbe: {exec: {command: [a]}, periodSeconds: 0}\n", /periodSeconds: must be an integer from 1 to 4000000$/],
    ["    readinessProbe: {exec: {command: [a]}, timeoutSeconds: 0}\n", /timeoutSeconds: must be an integer from 1/],
    ["    readinessProbe: {exec: {command: [a]}, failureThreshold: 0}\n", /failureThreshold: must be an integer from 1/],
    ["    readinessProbe: {exec: {command: [a]}, initialDelaySeconds: -1}\n", /initialDelaySeconds: must be an integer from 0/],
    ["    readinessProbe: {exec: {command: [a]}, periodSeconds: 1.5}\n", /periodSeconds: must be an integer/],
    ["    readinessProbe: {exec: {command: [a]}, periodSeconds: '1'}\n", /periodSeconds: must be an integer/],
    ["    readinessProbe: [1]\n", /readinessProbe: must be a mapping$/],
  ])("%# refused in one line", (extra, want) => {
    let msg = "";
    try {
      plan(extra);
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toMatch(/^Cannot play t\.yaml:1: spec\.containers\[0\]\./);
    expect(msg).toMatch(want);
    expect(msg).not.toContain("\n");
  });
});

describe("what the monitor runs", () => {
  test("an httpGet request as the kubelet's client sends it, the Host header left to the monitor", () => {
    expect(probeRequest({ type: "httpGet", port: 80, path: "/healthz", headers: [] })).toEqual({
      text: "GET /healthz HTTP/1.1\r\nUser-Agent: kube-probe/1.31\r\nAccept: */*\r\nConnection: close\r\n\r\n",
      addHost: true,
    });
    // Given headers replace the defaults; a given Host is sent as given.
    const r = probeRequest({ type: "httpGet", port: 80, path: "/", headers: [{ name: "host", value: "web.local" }, { name: "User-Agent", value: "me" }, { name: "X-B", value: "" }] });
    expect(r).toEqual({ text: "GET / HTTP/1.1\r\nHost: web.local\r\nAccept: */*\r\nUser-Agent: me\r\nX-B: \r\nConnection: close\r\n\r\n", addHost: false });
  });

  test("exec probes run the container's plan with the command, output on fd 3; milliseconds and the address's bytes", () => {
    const base = testPlan({ rootfs: { source: "overlay", target: "/r/rootfs", fstype: "overlay", flags: 0, data: "lowerdir=l/A", cwd: "/r" }, rootfsPath: "/r/rootfs" });
    const [exec, tcp] = monitorProbes(
      [
        { kind: "liveness", action: { type: "exec", command: ["cat", "/x"] }, initialDelaySeconds: 2, periodSeconds: 1, timeoutSeconds: 3, successThreshold: 1, failureThreshold: 4 },
        { kind: "startup", action: { type: "tcpSocket", port: 8080, host: "10.1.2.3" }, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
      ],
      base,
    );
    expect(exec).toMatchObject({ kind: ProbeKindCode.Liveness, action: ProbeActionCode.Exec, delayMs: 2000, periodMs: 1000, timeoutMs: 3000, successThreshold: 1, failureThreshold: 4 });
    const p = decodePlan(exec!.payload);
    expect(p.args).toEqual(["cat", "/x"]);
    expect(p.stdio).toEqual([-1, 3, 3]);
    expect(tcp).toMatchObject({ kind: ProbeKindCode.Startup, action: ProbeActionCode.Tcp, port: 8080, ip: [10, 1, 2, 3], payload: new Uint8Array(0) });
    // probes.bin: [count], 11 u32s a probe, then its payload; the address's bytes in order.
    const bin = encodeProbes([tcp!]);
    const v = new DataView(bin.buffer);
    expect(bin.length).toBe(4 + 44);
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((i) => v.getUint32(i * 4, true))).toEqual([1, 2, 2, 0, 10000, 1000, 1, 3, 8080, 0x0302010a, 0, 0]);
  });
});
