// A build's RUN step as a container: run's own entry point (runContainer) with the step's argv,
// environment, user and working directory, on the intermediate image, attached to the builder's
// output; the container is kept until its upper directory has been read, then removed.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { containerPaths, readContainer } from "../store/containers.ts";
import { readLive } from "./live.ts";
import { removeContainer } from "./remove.ts";
import { runContainer, type RunRequest } from "./run.ts";

export interface BuildStepRun {
  /** The image to run on: the intermediate image's id. */
  image: string;
  argv: string[];
  env: string[];
  user?: string;
  workdir: string;
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
    entrypoint: s.argv[0]!,
    args: s.argv.slice(1),
    env: s.env,
    ...(s.user ? { user: s.user } : {}),
    workdir: s.workdir,
    groupAdd: [],
    interactive: false,
    tty: false,
    rm: false,
    init: false,
    privileged: false,
    readOnly: false,
    volumes: [],
    capAdd: [],
    capDrop: [],
    noNewPrivileges: false,
    seccomp: true,
    ulimits: [],
    resources: {},
    network: s.network,
  };
  const stdin = fs.openSync("/dev/null", "r");
  try {
    const outcome = await runContainer(ctx, req, { pullOut: () => {}, stdin, stdout: s.stdout, stderr: s.stderr, ttySlave: -1 }, { started: (c) => s.started?.((sig) => c.kill(sig)) });
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
