// Turns `run`'s arguments into a RunRequest, runs it attached and forwards signals. Failures are
// thrown typed; the CLI (cli/exit.ts) maps them to Docker's exit codes. Kept out of cli/commands
// so the verb file stays thin.
import fs from "node:fs";
import type { Io } from "../cli/command.ts";
import type { Ctx } from "../context.ts";
import { InvalidArgumentError } from "../errors.ts";
import { parsePlatform } from "../image/platform.ts";
import { parseResources } from "../runtime/resources.ts";
import { parseUlimit } from "../runtime/ulimit.ts";
import { parseDeviceSpec } from "../runtime/devicespec.ts";
import { parseEnvArg, parseEnvFile } from "../runtime/env.ts";
import { parseMountFlag, parseTmpfsFlag, parseVolumeFlag, type VolumeSpec } from "../runtime/volumes.ts";
import { createContainer, runContainer, runDetached, type RunRequest } from "./run.ts";
import { parseLabels, parseLogOpts, parseRestartPolicy } from "./run-options.ts";
import { openTtySession } from "./tty.ts";
import { relayStdio } from "./stdio-relay.ts";
import { cloexecPipe, isTerminal } from "../sys/ffi.ts";
import os from "node:os";

const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGQUIT"];

type ArgHelpers = { list: (v: unknown) => string[]; str: (v: unknown) => string | undefined };

/** run's and create's arguments as a RunRequest (the same options, Docker's). */
export async function buildRunRequest(ctx: Ctx, argv: Record<string, unknown>, h: ArgHelpers): Promise<RunRequest> {
  const { list, str } = h;
  {
    const host = process.env;
    const env: string[] = [];
    for (const f of list(argv["env-file"])) {
      let text: string;
      try {
        text = fs.readFileSync(f, "utf8");
      } catch (err) {
        throw new InvalidArgumentError(`Cannot read env file "${f}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      env.push(...parseEnvFile(text, f, host));
    }
    for (const e of list(argv.env)) {
      const v = parseEnvArg(e, host);
      if (v !== null) env.push(v);
    }
    const cwd = process.cwd();
    const volumes: VolumeSpec[] = [
      ...list(argv.volume).map((v) => parseVolumeFlag(v, cwd)),
      ...list(argv.mount).map((m) => parseMountFlag(m, cwd)),
      ...list(argv.tmpfs).map((t) => parseTmpfsFlag(t)),
    ];
    const securityOpts = list(argv["security-opt"]);
    let noNewPrivileges = false;
    let seccomp = true;
    for (const o of securityOpts) {
      if (o === "no-new-privileges" || o === "no-new-privileges:true" || o === "no-new-privileges=true") noNewPrivileges = true;
      else if (o === "no-new-privileges:false" || o === "no-new-privileges=false") noNewPrivileges = false;
      else if (o === "seccomp=unconfined" || o === "seccomp:unconfined") seccomp = false;
      else if (o.startsWith("label") || o.startsWith("apparmor")) continue; // no SELinux/AppArmor here, as Docker on such hosts
      else throw new InvalidArgumentError(`Cannot parse security option "${o}": supported are no-new-privileges and seccomp=unconfined`);
    }
    const resources = parseResources(
      {
        memory: str(argv.memory),
        memorySwap: str(argv["memory-swap"]),
        memorySwappiness: argv["memory-swappiness"] as number | undefined,
        cpus: str(argv.cpus),
        cpuShares: argv["cpu-shares"] as number | undefined,
        cpusetCpus: str(argv["cpuset-cpus"]),
        cpusetMems: str(argv["cpuset-mems"]),
        pidsLimit: argv["pids-limit"] as number | undefined,
      },
      os.availableParallelism(),
    );
    const req: RunRequest = {
      image: String(argv.image),
      args: list(argv.command),
      env,
      groupAdd: list(argv["group-add"]),
      interactive: Boolean(argv.interactive),
      tty: Boolean(argv.tty),
      rm: Boolean(argv.rm),
      init: Boolean(argv.init),
      privileged: Boolean(argv.privileged),
      readOnly: Boolean(argv["read-only"]),
      volumes,
      devices: list(argv.device).map(parseDeviceSpec),
      capAdd: list(argv["cap-add"]),
      capDrop: list(argv["cap-drop"]),
      noNewPrivileges,
      seccomp,
      ulimits: list(argv.ulimit).map(parseUlimit),
      resources,
    };
    const optional: [keyof RunRequest, unknown][] = [
      ["entrypoint", str(argv.entrypoint)],
      ["user", str(argv.user)],
      ["workdir", str(argv.workdir)],
      ["hostname", str(argv.hostname)],
      ["name", str(argv.name)],
    ];
    for (const [k, v] of optional) if (v !== undefined) (req as unknown as Record<string, unknown>)[k] = v;
    if (req.workdir !== undefined && !req.workdir.startsWith("/")) {
      throw new InvalidArgumentError(`the working directory '${req.workdir}' is invalid, it needs to be an absolute path`);
    }
    // network
    req.network = str(argv.network) ?? "bridge";
    req.networkAliases = list(argv["network-alias"]);
    if (argv.ip !== undefined) req.ip = String(argv.ip);
    req.dns = list(argv.dns);
    req.dnsSearch = list(argv["dns-search"]);
    req.dnsOptions = list(argv["dns-option"]);
    req.extraHosts = list(argv["add-host"]);
    // end network
    // ports
    req.publish = list(argv.publish);
    req.publishAll = argv["publish-all"] === true;
    // A bad -p fails here, before anything is created (Docker: before the container exists).
    (await import("../network/portspec.ts")).parsePortSpecs(req.publish);
    // end ports
    if (typeof argv.platform === "string") req.platform = parsePlatform(argv.platform, ctx.platform);
    // Detached containers (the monitor): -d, --restart, --log-opt, -l.
    if (argv.detach) req.detach = true;
    const restart = str(argv.restart);
    if (restart !== undefined) req.restart = parseRestartPolicy(restart);
    if (req.restart && req.restart.name !== "no" && req.rm) throw new InvalidArgumentError("Conflicting options: --restart and --rm");
    const logOpts = list(argv["log-opt"]);
    if (logOpts.length) req.logConfig = parseLogOpts(logOpts);
    const labels = list(argv.label);
    if (labels.length) req.labels = parseLabels(labels);
    return req;
  }
}

export async function runCommand(ctx: Ctx, argv: Record<string, unknown>, io: Io, h: ArgHelpers): Promise<number> {
  {
    const req = await buildRunRequest(ctx, argv, h);
    if (req.detach) {
      const d = await runDetached(ctx, req, { pullOut: io.err, stdin: -1, stdout: -1, stderr: -1, ttySlave: -1 });
      io.out(`${d.id}\n`);
      return 0;
    }
    const handlers: [NodeJS.Signals, () => void][] = [];
    const tty = req.tty ? openTtySession(ctx.sys, { interactive: req.interactive, out: process.stdout, in: process.stdin }) : undefined;
    // Without -t never the caller's terminal itself: pipes where fds 0-2 are one (stdio-relay.ts).
    const relay = tty ? undefined : relayStdio({ interactive: req.interactive, pipe: cloexecPipe, isTerminal });
    const stdio = tty
      ? { stdin: tty.slave, stdout: tty.slave, stderr: tty.slave, ttySlave: tty.slave }
      : { stdin: relay!.stdio[0], stdout: relay!.stdio[1], stderr: relay!.stdio[2], ttySlave: -1 };
    try {
      const outcome = await runContainer(
        ctx,
        req,
        { pullOut: io.err, ...stdio },
        {
          started(c) {
            tty?.started();
            relay?.started();
            for (const sig of FORWARDED) {
              const fn = () => c.kill(sig);
              handlers.push([sig, fn]);
              process.on(sig, fn);
            }
          },
        },
      );
      if (tty) await Promise.race([tty.finished(), Bun.sleep(500)]);
      if (relay) await relay.finished(500);
      return outcome.exitCode;
    } finally {
      tty?.close();
      relay?.close();
      for (const [sig, fn] of handlers) process.off(sig, fn);
    }
  }
}

/** `create`: prints the new container's id. */
export async function createCommand(ctx: Ctx, argv: Record<string, unknown>, io: Io, h: ArgHelpers): Promise<number> {
  {
    const req = await buildRunRequest(ctx, argv, h);
    const { id } = await createContainer(ctx, req, { pullOut: io.err, stdin: -1, stdout: -1, stderr: -1, ttySlave: -1 });
    io.out(`${id}\n`);
    return 0;
  }
}
