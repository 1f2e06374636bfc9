// kubeRunRequest: what a pod's fields become in each container's request.
import { expect, test } from "bun:test";
import { kubeRunRequest } from "../../../src/kube/play.ts";
import { translateKube } from "../../../src/kube/translate.ts";
import { parseKubeYaml } from "../../../src/kube/yaml.ts";
import type { PodRecord } from "../../../src/pod/store.ts";

const request = (spec: string) => {
  const yaml = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n${spec}  containers: [{name: c, image: busybox}]\n`;
  const p = translateKube(parseKubeYaml(yaml, "t.yaml"), "t.yaml").pods[0]!;
  return kubeRunRequest(p.containers[0]!, p, { id: "p".repeat(64), share: ["net"] } as unknown as PodRecord, new Map());
};

test("a stop waits terminationGracePeriodSeconds before SIGKILL: the API's 30 s by default, not Docker's 10", () => {
  expect(request("").process.stopTimeout).toBe(30);
  expect(request("  terminationGracePeriodSeconds: 3\n").process.stopTimeout).toBe(3);
});
