// A build's RUN step as a container: run's own entry point (runContainer) with the step's argv,
// environment, user and working directory, on the intermediate image, attached to the builder's
// output; the container is kept until its upper directory has been read, then removed.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { containerPaths, readContainer } from "../store/containers.ts";
import { readLive } from "./live.ts";
import { removeContainer } from "./remove.ts";
import { runContainer } from "./run.ts";
import { DEFAULT_NAMESPACE_MODES } from "./run/namespaces.ts";
import type { RunRequest } from "./run/request.ts";
import type { VolumeSpec } from "../runtime/volumes.ts";

export interface BuildStepRun {
  /** The image to run on: the intermediate image's id. */
  image: string;
  argv: string[];
  env: string[];
  user?: string;
  workdir: string;
  /** Bind mounts the step needs (a here-document script). */
  mounts?: VolumeSpec[];
  /** bridge (default), none or host. */
  network: string;
  /** Where the command's output goes (the builder's stdout, or /dev/null with -q). */
  stdout: number;
  stderr: number;
  /** Called with a kill function once the command runs (Ctrl-C). */
  started?: (kill: (signal: NodeJS.Signals) => void) => void;
}

export interface BuildStepResult {
  id: string;
  exitCode: number;
  /** The container's overlay upper directory: the step's changes. */
  upper: string;
  /** Removes the container (its directory, cgroup, network). */
  remove(): Promise<void>;
}

export async function runBuildStep(ctx: Ctx, s: BuildStepRun): Promise<BuildStepResult> {
  const req: RunRequest = {
    image: s.image,
    process: {
      entrypoint: s.argv[0]!,
      args: s.argv.slice(1),
      env: s.env,
      ...(s.user ? { user: s.user } : {}),
      workdir: s.workdir,
      groupAdd: [],
      interactive: false,
      tty: false,
      init: false,
    },
    volumes: s.mounts ?? [],
    network: { mode: s.network, aliases: [], dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [] },
    ports: { publish: [], publishAll: false },
    lifetime: { detach: false, rm: false },
    resources: { limits: {}, ulimits: [], devices: [] },
    security: { privileged: false, capAdd: [], capDrop: [], noNewPrivileges: false, seccomp: true, readOnly: false },
    namespaces: DEFAULT_NAMESPACE_MODES,
  };
  const stdin = fs.openSync("/dev/null", "r");
  try {
    const outcome = await runContainer(ctx, req, { pullOut: () => {}, stdin, stdout: s.stdout, stderr: s.stderr, consoleSocket: -1 }, { started: (c) => s.started?.((sig) => c.kill(sig)) });
    const id = outcome.id;
    return {
      id,
      exitCode: outcome.exitCode,
      upper: containerPaths(ctx.root, id).upper,
      remove: async () => {
        const rec = readContainer(ctx.root, id);
        if (rec) await removeContainer(ctx, readLive(ctx, rec), { force: true });
      },
    };
  } finally {
    fs.closeSync(stdin);
  }
}
