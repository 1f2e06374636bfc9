// `play kube FILE|-` (and `kube play`), `kube generate`: podman's verbs. Thin: src/kube/ does the work.
import type { CommandSpec } from "../command.ts";

const playKube: CommandSpec = {
  command: "kube <file>",
  describe: "Create pods and containers from Kubernetes YAML (- reads stdin)",
  builder: (y) =>
    y
      .positional("file", { type: "string" })
      .option("down", { type: "boolean", default: false, describe: "Remove the pods and Services the YAML made" })
      .option("replace", { type: "boolean", default: false, describe: "Remove what the YAML made first, then play it" }),
  async run(ctx, argv, io) {
    const { readKubeFile } = await import("../../kube/read.ts");
    const { translateKube } = await import("../../kube/translate.ts");
    const file = String(argv.file);
    const docs = readKubeFile(file, file === "-" ? await io.readStdin() : undefined);
    const plan = translateKube(docs, file === "-" ? "stdin" : file);
    for (const w of plan.warnings) io.err(`WARNING: ${w}\n`);
    const { playKube, downKube } = await import("../../kube/play.ts");
    if (argv.down) {
      const removed = await downKube(ctx, plan);
      io.out(`Pods stopped and removed:\n${removed.map((id) => `${id}\n`).join("")}`);
      return;
    }
    if (argv.replace) await downKube(ctx, plan);
    const played = await playKube(ctx, plan, io.err);
    for (const p of played.pods) io.out(`Pod:\n${p.id}\nContainers:\n${p.containers.map((c) => `${c}\n`).join("")}\n`);
  },
};

const generateKube: CommandSpec = {
  command: "kube <names..>",
  describe: "Generate Kubernetes YAML from pods or containers",
  builder: (y) => y.positional("names", { type: "string", array: true }).option("service", { alias: "s", type: "boolean", default: false, describe: "Add a NodePort Service for the published ports (podman's)" }),
  async run(ctx, argv, io) {
    const { generateKube, kubeYaml, nodePortPicker } = await import("../../kube/generate.ts");
    const { findPod, podContainers } = await import("../../pod/pods.ts");
    const { findContainer, readContainer } = await import("../../store/containers.ts");
    const { readBlob } = await import("../../store/content.ts");
    const { openStore } = await import("../../store/init.ts");
    const { isKind } = await import("../../errors.ts");
    const layout = openStore(ctx.root);
    const imageOf = (rec: import("../../store/containers.ts").ContainerRecord) => {
      try {
        return (JSON.parse(new TextDecoder().decode(readBlob(layout, rec.imageId))) as { config?: import("../../image/manifest.ts").ContainerConfig }).config ?? {};
      } catch {
        return {}; // the image is gone: everything counts as asked
      }
    };
    const objects: Record<string, unknown>[] = [];
    // One picker for the whole output: no node port given twice, none a Service here already has.
    const { readService, serviceNames } = await import("../../pod/services.ts");
    const nodePort = nodePortPicker(undefined, serviceNames(ctx.root).flatMap((n) => readService(ctx.root, n)?.ports.flatMap((p) => (p.nodePort ? [p.nodePort] : [])) ?? []));
    const opts = { service: Boolean(argv.service), nodePort };
    for (const name of (argv.names as unknown[]).map(String)) {
      let pod: import("../../pod/store.ts").PodRecord | undefined;
      try {
        pod = findPod(ctx.root, name);
      } catch (err) {
        if (!isKind(err, "NotFound")) throw err;
      }
      if (pod) {
        const infra = readContainer(ctx.root, pod.infraId);
        const containers = podContainers(ctx, pod).map((c) => ({ rec: c.record, image: imageOf(c.record) }));
        objects.push(...generateKube({ pod, ...(infra ? { infra } : {}), containers }, opts));
      } else {
        const rec = findContainer(ctx.root, name);
        objects.push(...generateKube({ containers: [{ rec, image: imageOf(rec) }] }, opts));
      }
    }
    io.out(kubeYaml(objects));
  },
};

// podman's verbs, podman's exit code: any failure (invalid YAML, a missing image, a port in use) is
// the engine's, 125. Unknown kinds and fields are warnings, not failures.
export const generateSubcommands: readonly CommandSpec[] = [{ ...generateKube, engine: true }];

export const playSubcommands: readonly CommandSpec[] = [{ ...playKube, engine: true }];
/** Hidden: run by the monitor of a pod's container when it starts, ends or its readiness flips. */
const syncServicesCommand: CommandSpec = {
  command: "sync-services",
  describe: false as unknown as string,
  async run(ctx) {
    const { syncServices } = await import("../../pod/services.ts");
    await syncServices(ctx);
  },
};

export const kubeSubcommands: readonly CommandSpec[] = [
  { ...playKube, command: "play <file>", engine: true },
  { ...generateKube, command: "generate <names..>", engine: true },
  syncServicesCommand,
];
