// `build`'s arguments → a BuildRequest: the context (a directory, or a tar or a Dockerfile on
// stdin), the Dockerfile, tags, build args and labels; prints Docker's lines and the image id.
import fs from "node:fs";
import { list } from "./values.ts";
import os from "node:os";
import path from "node:path";
import type { Io } from "./command.ts";
import type { Ctx } from "../context.ts";
import { InvalidArgumentError } from "../errors.ts";
import { parsePlatform } from "../image/platform.ts";
import { parseReference } from "../image/reference.ts";
import { archiveOf } from "../build/archive.ts";
import { buildImage } from "../build/builder.ts";
import { readContextFile, readFileArg } from "../build/inputs.ts";
import { BuildStepFailed } from "../build/request.ts";


/** KEY=VALUE flags; a bare KEY takes the caller's environment value (Docker's --build-arg). */
export function parseKeyValues(items: readonly string[], flag: string, env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const it of items) {
    const eq = it.indexOf("=");
    if (eq === 0) throw new InvalidArgumentError(`Cannot parse ${flag} "${it}": empty name`);
    if (eq < 0) {
      const v = env[it];
      if (v !== undefined) out[it] = v;
    } else out[it.slice(0, eq)] = it.slice(eq + 1);
  }
  return out;
}

/**
 * --iidfile: a link there is replaced, as Docker removes the file first, never written through (a
 * link swapped in meanwhile is refused by O_NOFOLLOW).
 */
function writeIidFile(file: string, id: string): void {
  if (fs.lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) fs.unlinkSync(file);
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW, 0o644);
  try {
    fs.writeSync(fd, id);
  } finally {
    fs.closeSync(fd);
  }
}

export async function buildCommand(ctx: Ctx, argv: Record<string, unknown>, io: Io): Promise<number> {
  const quiet = Boolean(argv.quiet);
  const tags = list(argv.tag);
  for (const t of tags) {
    const ref = parseReference(t);
    if (ref.digest) throw new InvalidArgumentError(`invalid argument "${t}" for "-t, --tag" flag: a tag cannot contain a digest`);
  }
  const network = String(argv.network ?? "bridge");
  if (!["bridge", "none", "host", "default"].includes(network)) throw new InvalidArgumentError(`Cannot build: network mode "${network}" not supported (bridge, none, host)`);
  // yargs reads a lone "-" as an empty string.
  const contextArg = argv.context === "" || argv.context === "-" ? "-" : String(argv.context);
  const fileArg = argv.file === undefined ? undefined : String(argv.file);
  let contextDir = contextArg;
  let cleanup: string | undefined;
  let dockerfileText: string | undefined;
  let dockerfileName = fileArg ?? "Dockerfile";
  try {
    if (contextArg === "-") {
      cleanup = fs.mkdtempSync(path.join(os.tmpdir(), "tinydock-context-"));
      contextDir = path.join(cleanup, "context");
      fs.mkdirSync(contextDir);
      // A tar (plain, gzip, bzip2, xz or zstd, told as ADD tells them) is the context; else a Dockerfile.
      const sent = path.join(cleanup, "stdin");
      await Bun.write(sent, Bun.stdin);
      const sentFd = fs.openSync(sent, fs.constants.O_RDONLY);
      try {
        const open = await archiveOf(sentFd, "the build context on stdin");
        if (open) {
          const { unpackLayer } = await import("../rootfs/unpack.ts");
          const o = open();
          try {
            await unpackLayer(o.stream, o.compression, contextDir, { sys: ctx.sys, maxBytes: ctx.config.maxLayerBytes, what: "the build context on stdin" });
          } finally {
            o.stop();
          }
        } else {
          dockerfileText = fs.readFileSync(sent, "utf8");
          dockerfileName = "Dockerfile (stdin)";
        }
      } finally {
        fs.closeSync(sentFd);
      }
    } else if (!fs.statSync(contextArg, { throwIfNoEntry: false })?.isDirectory()) {
      throw new InvalidArgumentError(`Cannot build: unable to prepare context: path "${contextArg}" not found`);
    }
    if (dockerfileText === undefined) {
      if (fileArg === "-") {
        dockerfileText = await new Response(Bun.stdin.stream()).text();
        dockerfileName = "Dockerfile (stdin)";
      } else {
        // The context's own Dockerfile is read inside it; one -f names is read where it is.
        const inContext = fileArg === undefined || (contextArg === "-" && !path.isAbsolute(fileArg));
        const file = inContext ? path.join(contextDir, fileArg ?? "Dockerfile") : fileArg!;
        const text = inContext ? readContextFile(ctx.sys, contextDir, path.relative(contextDir, file)) : readFileArg(ctx.sys, file);
        if (text === undefined) throw new InvalidArgumentError(`Cannot build: unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${path.resolve(file)}: no such file or directory`);
        dockerfileText = text;
        dockerfileName = file;
      }
    }
    const progress = quiet ? () => {} : (line: string) => io.out(`${line}\n`);
    const devnull = quiet ? fs.openSync("/dev/null", "w") : -1;
    try {
      const res = await buildImage(ctx, {
        contextDir,
        dockerfile: { text: dockerfileText, name: dockerfileName },
        tags,
        buildArgs: parseKeyValues(list(argv["build-arg"]), "--build-arg", process.env),
        ...(argv.target !== undefined ? { target: String(argv.target) } : {}),
        noCache: Boolean(argv["no-cache"]),
        pull: Boolean(argv.pull),
        labels: parseKeyValues(list(argv.label), "--label", {}),
        network: network === "default" ? "bridge" : network,
        ...(typeof argv.platform === "string" ? { platform: parsePlatform(argv.platform, ctx.platform) } : {}),
        progress,
        stdout: quiet ? devnull : 1,
        stderr: quiet ? devnull : 2,
      });
      if (argv.iidfile !== undefined) writeIidFile(String(argv.iidfile), res.id);
      if (quiet) io.out(`${res.id}\n`);
      else {
        io.out(`Successfully built ${res.id.slice(7, 19)}\n`);
        for (const t of tags) io.out(`Successfully tagged ${t}\n`);
      }
      return 0;
    } catch (err) {
      if (err instanceof BuildStepFailed) {
        io.err(`Error: ${err.message}\n`);
        return 1;
      }
      throw err;
    } finally {
      if (devnull >= 0) fs.closeSync(devnull);
    }
  } finally {
    if (cleanup) fs.rmSync(cleanup, { recursive: true, force: true });
  }
}
