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

export const playSubcommands: readonly CommandSpec[] = [playKube];
export const kubeSubcommands: readonly CommandSpec[] = [{ ...playKube, command: "play <file>" }];
