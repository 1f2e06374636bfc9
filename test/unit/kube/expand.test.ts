// $(VAR) references as Kubernetes expands them (the cases of its expansion package's tests), and
// escapeRefs as their inverse.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { escapeRefs, expandRefs } from "../../../src/kube/expand.ts";
import { translateKube } from "../../../src/kube/translate.ts";
import { parseKubeYaml } from "../../../src/kube/yaml.ts";

const vars = new Map([["VAR_A", "A"], ["VAR_B", "B"], ["VAR_C", "C"], ["VAR_REF", "$(VAR_A)"], ["VAR_EMPTY", ""]]);

test.each([
  ["$(VAR_A)", "A"],
  ["___$(VAR_B)___", "___B___"],
  ["$(VAR_A)-$(VAR_A)", "A-A"],
  ["$(VAR_A)$(VAR_B)$(VAR_C)", "ABC"],
  ["$(VAR_REF)", "$(VAR_A)"],
  ["foo$(VAR_EMPTY)bar", "foobar"],
  ["$(VAR_DNE)", "$(VAR_DNE)"],
  ["$$(VAR_A)", "$(VAR_A)"],
  ["$$$$(VAR_A)", "$$(VAR_A)"],
  ["$$$(VAR_A)", "$A"],
  ["$(VAR_A", "$(VAR_A"],
  ["$(", "$("],
  ["$VAR_A", "$VAR_A"],
  ["$", "$"],
  ["$$", "$"],
  ["echo $HOME $(date)", "echo $HOME $(date)"],
  ["()", "()"],
])("%p → %p", (input, want) => expect(expandRefs(input, vars)).toBe(want));

test("escapeRefs undoes expandRefs for any text", () => {
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom("$", "(", ")", "V", "A", "R", "_", " ") }), (s) => expandRefs(escapeRefs(s), vars) === s), { numRuns: 2000 });
});

test("play kube expands command, args and env values from the container's variables, as the kubelet does", () => {
  const yaml = `apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {HOST: db}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: busybox
    command: ["/bin/$(SHELL_NAME)"]
    args: ["-c", "echo $(URL) $$(URL) $(NOPE) $HOME"]
    envFrom: [{configMapRef: {name: cm}}]
    env:
    - {name: SHELL_NAME, value: sh}
    - {name: URL, value: "http://$(HOST):$(PORT)"}
    - {name: PORT, value: "5432"}
    - {name: AGAIN, value: "$(PORT)"}
`;
  const c = translateKube(parseKubeYaml(yaml, "t.yaml"), "t.yaml").pods[0]!.containers[0]!;
  // PORT comes after URL: its reference stays, as in Kubernetes.
  expect(c.env).toEqual(["HOST=db", "SHELL_NAME=sh", "URL=http://db:$(PORT)", "PORT=5432", "AGAIN=5432"]);
  expect(c.entrypoint).toBe("/bin/sh");
  expect(c.args).toEqual(["-c", "echo http://db:$(PORT) $(URL) $(NOPE) $HOME"]);
});
