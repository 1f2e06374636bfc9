// run/create --pod NAME|new:NAME: the request joins the pod's infra (network, and IPC/UTS as the pod
// shares them) and takes its hostname; the pod is started first when it is not running.
import type { Ctx } from "../context.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { RunRequest } from "../lifecycle/run/request.ts";
import { infraRunning, startInfra } from "./infra.ts";
import { createPod } from "./create.ts";
import { readContainer } from "../store/containers.ts";
import { findPod, type PodRecord } from "./store.ts";

/** The pod's modes applied to a request (pure). Ports belong to the pod (podman refuses them too). */
export function podModes(req: RunRequest, pod: PodRecord): void {
  if (req.ports.publish.length || req.ports.publishAll) {
    throw new InvalidArgumentError(`Cannot publish ports of a container in pod "${pod.name}": publish them when the pod is created (pod create -p)`);
  }
  if (req.network.mode !== "bridge") throw new InvalidArgumentError(`Cannot use --network "${req.network.mode}" with --pod: a pod's containers share its network`);
  const infra = `container:${pod.infraId}`;
  req.network.mode = infra;
  if (pod.share.includes("ipc") && req.namespaces.ipc === "private") req.namespaces.ipc = infra;
  if (pod.share.includes("uts") && req.namespaces.uts === "private") {
    req.namespaces.uts = infra;
    req.process.hostname = pod.hostname;
  }
  req.pod = pod.id;
}

export async function joinPod(ctx: Ctx, req: RunRequest, ref: string): Promise<void> {
  let pod: PodRecord;
  if (ref.startsWith("new:")) {
    const name = ref.slice(4);
    if (!name) throw new InvalidArgumentError(`Cannot parse --pod "${ref}": a pod name must follow new:`);
    pod = await createPod(ctx, { name });
  } else {
    pod = findPod(ctx.root, ref);
    const infra = readContainer(ctx.root, pod.infraId);
    if (!infra) throw new InvalidArgumentError(`Cannot join pod "${pod.name}": its infra container is gone`);
    // A running infra (the usual case) needs neither a start nor the Services' modules.
    if (infraRunning(ctx, infra.id) === undefined) {
      await startInfra(ctx, infra);
      await (await import("./services.ts")).syncServices(ctx);
    }
  }
  podModes(req, pod);
}
