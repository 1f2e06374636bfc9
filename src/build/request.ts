// What a build is asked for and what it answers, and the two ways it ends early.
import { TinydockError } from "../errors.ts";
import type { Platform } from "../image/platform.ts";
import type { ImageRecord } from "../store/images.ts";

export interface BuildRequest {
  contextDir: string;
  dockerfile: { text: string; name: string };
  tags: string[];
  buildArgs: Record<string, string>;
  target?: string;
  noCache: boolean;
  pull: boolean;
  labels: Record<string, string>;
  network: string;
  platform?: Platform;
  /** Progress lines (stderr, as BuildKit prints them; nothing with -q). */
  progress: (line: string) => void;
  /** Where RUN output goes. */
  stdout: number;
  stderr: number;
}

export interface BuildResult {
  id: string;
  record: ImageRecord;
  steps: number;
  cached: number;
}

/** A RUN whose command failed: Docker's message, exit code 1 for the build. */
export class BuildStepFailed extends TinydockError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super("FailedPrecondition", message);
  }
}

/** The build was interrupted (SIGINT/SIGTERM). */
export class BuildCancelled extends TinydockError {
  constructor(readonly signal: NodeJS.Signals) {
    super("Unavailable", `Cannot build: cancelled by ${signal}`);
  }
}

