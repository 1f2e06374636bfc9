// Kubernetes names that reach a text protocol: a Service's name goes into iptables-restore input (a
// quoted comment) and nft -f input (a table name), its ports and addresses into both. A name with a
// quote, a newline, a ";" or a "}" would end the comment or statement and start a rule of its own
// (say, `-I INPUT 1 -j ACCEPT`). Checked twice: the YAML's reader refuses such names (checkName),
// and the renderer refuses to write text from them whatever reached it (a record read back from a
// root, a future caller). The CLI prints the refusal as one line, the name's line breaks and
// terminal escapes shown escaped. No kernel, no namespace: nothing gets as far as a rule.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isKind } from "../../src/errors.ts";
import { translateKube } from "../../src/kube/translate.ts";
import { nftServiceTable, nftServiceText, serviceRemoveText, serviceRules, type ServiceSpec } from "../../src/network/service-rules.ts";
import { recordCases } from "../helpers/adversarial.ts";
import { requireBinary, tinydock } from "../helpers/cli.ts";
import { newCliEnv } from "../helpers/e2e.ts";

const translate = (docs: unknown[]) => translateKube(docs.map((value, i) => ({ line: i + 1, value })), "h.yaml");
const svcDoc = (name: unknown, port: unknown = 80, protocol: unknown = "TCP") => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name },
  spec: { type: "NodePort", selector: { app: "a" }, ports: [{ port, targetPort: 8080, nodePort: 30080, protocol }] },
});
const good: ServiceSpec = { owner: "0123456789ab", name: "web", type: "NodePort", ports: [{ port: 80, targetPort: 8080, nodePort: 30080, protocol: "tcp" }] };
const emptyState = { chains: { nat: new Set<string>(), filter: new Set<string>() }, rules: { nat: [] as string[], filter: [] as string[] } };

const HOSTILE_NAMES = [
  'web" -j ACCEPT -m comment --comment "x',
  "web\n-I INPUT 1 -j ACCEPT",
  "web\r\n*filter\n-I INPUT 1 -j ACCEPT\nCOMMIT",
  "web; flush ruleset",
  "web } table ip evil { chain c { type filter hook input priority 0; policy accept; } }",
  "web\n}\ntable ip evil {",
  "web#",
  "Web",
  "-web",
  "a".repeat(64),
  "",
  "web\u0000x",
  "wéb",
];

/** All the texts and argv words the renderer makes of `svc`. */
function render(svc: ServiceSpec, clusterIp = "10.96.1.1", endpoints = ["10.88.0.2"]): string[] {
  const state = { chains: { nat: new Set(["TINYDOCK-KUBE-SERVICES"]), filter: new Set<string>() }, rules: { nat: [`-A TINYDOCK-KUBE-SERVICES -m comment --comment "tinydock-kube-svc ${svc.owner} ${svc.name}" -j X`], filter: [] } };
  return [serviceRules(svc, clusterIp, endpoints, emptyState).text, serviceRemoveText(svc, state), nftServiceText(svc, clusterIp, endpoints), nftServiceTable(svc)];
}

function refused(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    expect(isKind(err, "InvalidArgument")).toBe(true);
    return true;
  }
}

describe("a Service's fields never become rule text of their own", () => {
  test("the YAML's reader refuses hostile Service names, ports and protocols", () => {
    const cases: unknown[] = [...HOSTILE_NAMES.map((n) => svcDoc(n)), svcDoc("web", "80; -j ACCEPT"), svcDoc("web", 80, "tcp\n-j ACCEPT"), svcDoc("web", 80, "sctp")];
    for (const doc of cases) expect(refused(() => translate([doc]))).toBe(true);
    // What the user sees: one line, the name's line breaks and escapes shown escaped.
    requireBinary();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-kubetext-"));
    try {
      const env = newCliEnv(dir);
      for (const name of HOSTILE_NAMES) {
        const file = path.join(dir, "s.yaml");
        fs.writeFileSync(file, JSON.stringify(svcDoc(`${name}\u001b[2J`)));
        const r = tinydock(env, ["kube", "play", file]);
        expect(r.code).toBe(125);
        expect(r.stderr).toMatch(/^Error: Cannot play .*\n$/);
        expect(r.stderr.slice(0, -1)).not.toMatch(/[\r\n\x1b\x00]/);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    recordCases("kube YAML: Service names, ports and protocols meant for rule text", cases.length);
  });

  test("the renderer refuses them too, whatever reached it: names, owners, addresses, ports, protocols", () => {
    const specs: [ServiceSpec, string?, string[]?][] = [
      ...HOSTILE_NAMES.map((name): [ServiceSpec] => [{ ...good, name }]),
      [{ ...good, owner: 'x" -j ACCEPT #' }],
      [{ ...good, owner: "0123\n" }],
      [good, "10.96.1.1/0 -j ACCEPT"],
      [good, "10.96.1.1", ["10.88.0.2:80 -j ACCEPT\n-I INPUT 1 -j ACCEPT"]],
      [good, "10.96.1.1", ["10.88.0.2; flush ruleset"]],
      [{ ...good, ports: [{ ...good.ports[0]!, protocol: "tcp -j ACCEPT" as "tcp" }] }],
      [{ ...good, ports: [{ ...good.ports[0]!, port: "80 -j ACCEPT" as unknown as number }] }],
      [{ ...good, ports: [{ ...good.ports[0]!, targetPort: 1.5 }] }],
      [{ ...good, ports: [{ ...good.ports[0]!, nodePort: 70000 }] }],
      [{ ...good, type: "NodePort\n" as "NodePort" }],
    ];
    for (const [svc, ip, eps] of specs) {
      expect(refused(() => serviceRules(svc, ip ?? "10.96.1.1", eps ?? ["10.88.0.2"], emptyState))).toBe(true);
      expect(refused(() => nftServiceText(svc, ip ?? "10.96.1.1", eps ?? ["10.88.0.2"]))).toBe(true);
      if (!ip && !eps) expect(refused(() => serviceRemoveText(svc, emptyState))).toBe(true);
    }
    // The good one renders, with exactly the lines it should.
    const [ipt, , nft, table] = render(good);
    expect(ipt!.split("\n").filter((l) => l.includes("tinydock-kube-svc")).every((l) => l.includes('--comment "tinydock-kube-svc 0123456789ab web"'))).toBe(true);
    expect(nft).toContain("table ip tinydock-kube-0123456789ab-web {");
    expect(table).toBe("tinydock-kube-0123456789ab-web");
    recordCases("Service rule text: hostile values given to the renderer", specs.length * 3);
  });

  test("fuzz: any name either renders as one well-formed comment and table, or is refused", () => {
    let n = 0;
    const alphabet = fc.constantFrom(..."abz09-\"'\n\r;{}# \t\\$`|&.".split(""));
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 20 }), (name) => {
        n++;
        const svc = { ...good, name };
        let texts: string[];
        try {
          texts = render(svc);
        } catch (err) {
          expect(isKind(err, "InvalidArgument")).toBe(true);
          return;
        }
        expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        for (const t of texts) expect(t).not.toMatch(/[";{}]/.test(name) ? /./ : /\r/);
      }),
      { numRuns: 2000, seed: 20261207 },
    );
    recordCases("Service rule text: fuzzed names", n);
  });
});
