// Builds an image definition (images/<name>/Dockerfile + its context) into an image and optionally
// pushes it. A Bun script for the demo and the tests, not part of the engine binary.
//
//   bun images/build.ts images/busybox --push http://127.0.0.1:PORT/library/busybox:latest
//     [--host-file NAME=PATH]... [--format oci|docker] [--creds USER:PASSWORD]
//
// RUN steps execute with `chroot <staging rootfs> …` (root needed; no /proc or /dev inside, which
// the busybox steps do not need). Each step that changes files becomes one layer, diffed from the
// staging rootfs with fixed mtimes, so the same definition and host files give the same digest.
// <definition>/build.json may map context names to host files: {"hostFiles": {"busybox": "/bin/busybox"}}.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildImage, pushImage, type BuiltImage, type ImagePlatform, type LayerSpec } from "../test/helpers/image.ts";
import { snapshotTree } from "../test/helpers/tree.ts";
import { parseDockerfile, type BuildStep } from "./dockerfile.ts";
import { diffToLayer } from "./layerdiff.ts";

export interface BuildOptions {
  /** Context names served from host files, e.g. { busybox: "/bin/busybox" }; adds to build.json's. */
  hostFiles?: Record<string, string>;
  format?: "oci" | "docker";
  platform?: ImagePlatform;
  /** Where RUN output goes; default stderr. */
  log?: (line: string) => void;
}

export interface BuildResult {
  image: BuiltImage;
  steps: BuildStep[];
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

interface ImageState {
  env: [string, string][];
  labels: Record<string, string>;
  exposed: Record<string, Record<string, never>>;
  cmd?: string[];
  entrypoint?: string[];
  workdir: string;
  user?: string;
}

export function readBuildJson(dir: string): Record<string, string> {
  const file = path.join(dir, "build.json");
  if (!fs.existsSync(file)) return {};
  const raw = JSON.parse(fs.readFileSync(file, "utf8")) as { hostFiles?: Record<string, string> };
  return raw.hostFiles ?? {};
}

export async function buildDefinition(dir: string, opts: BuildOptions = {}): Promise<BuildResult> {
  const dockerfile = path.join(dir, "Dockerfile");
  const steps = parseDockerfile(fs.readFileSync(dockerfile, "utf8"), dockerfile);
  const hostFiles = { ...readBuildJson(dir), ...opts.hostFiles };
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), "tinydock-build-"));
  const root = path.join(staging, "rootfs");
  fs.mkdirSync(root, { mode: 0o755 });
  fs.chmodSync(root, 0o755);
  const state: ImageState = { env: [], labels: {}, exposed: {}, workdir: "/" };
  const layers: LayerSpec[] = [];
  const history: { created_by: string; empty_layer?: boolean }[] = [];
  try {
    for (const step of steps) {
      const before = snapshotTree(root);
      const changesFiles = applyStep(step, { root, contextDir: dir, hostFiles, state, log });
      const createdBy = step.kind === "run" ? `RUN ${step.shell ? "/bin/sh -c " : ""}${step.text.slice(4)}` : step.text;
      if (changesFiles) {
        const entries = diffToLayer(root, before, snapshotTree(root));
        if (entries.length) {
          layers.push({ entries, createdBy });
          history.push({ created_by: createdBy });
          continue;
        }
      }
      history.push({ created_by: createdBy, empty_layer: true });
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  const config: Record<string, unknown> = {};
  if (state.user) config.User = state.user;
  if (Object.keys(state.exposed).length) config.ExposedPorts = state.exposed;
  config.Env = envList(state.env);
  if (state.entrypoint?.length) config.Entrypoint = state.entrypoint;
  if (state.cmd) config.Cmd = state.cmd;
  config.WorkingDir = state.workdir === "/" ? "" : state.workdir;
  if (Object.keys(state.labels).length) config.Labels = state.labels;
  const image = await buildImage({ layers, format: opts.format, platform: opts.platform, config, history });
  return { image, steps };
}

function envList(env: [string, string][]): string[] {
  const merged = new Map<string, string>([["PATH", DEFAULT_PATH]]);
  for (const [k, v] of env) merged.set(k, v);
  return [...merged].map(([k, v]) => `${k}=${v}`);
}

interface StepContext {
  root: string;
  contextDir: string;
  hostFiles: Record<string, string>;
  state: ImageState;
  log: (line: string) => void;
}

/** Applies one step to the staging rootfs or the config; true when files may have changed. */
function applyStep(step: BuildStep, cx: StepContext): boolean {
  const { state } = cx;
  switch (step.kind) {
    case "copy":
      copyStep(step, cx);
      return true;
    case "run":
      runStep(step, cx);
      return true;
    case "workdir": {
      state.workdir = path.posix.resolve(state.workdir, step.path);
      fs.mkdirSync(inRoot(cx.root, state.workdir), { recursive: true, mode: 0o755 });
      return true;
    }
    case "env":
      for (const [k, v] of step.pairs) {
        state.env = state.env.filter(([name]) => name !== k);
        state.env.push([k, v]);
      }
      return false;
    case "label":
      for (const [k, v] of step.pairs) state.labels[k] = v;
      return false;
    case "expose":
      for (const p of step.ports) state.exposed[p] = {};
      return false;
    case "user":
      state.user = step.user;
      return false;
    case "cmd":
      state.cmd = step.argv;
      return false;
    case "entrypoint":
      state.entrypoint = step.argv;
      return false;
  }
}

/** A path inside the staging rootfs; image paths never escape it (".." is resolved at "/"). */
function inRoot(root: string, imagePath: string): string {
  return path.join(root, path.posix.resolve("/", imagePath));
}

function copyStep(step: Extract<BuildStep, { kind: "copy" }>, cx: StepContext): void {
  const dest = path.posix.resolve(cx.state.workdir, step.dest);
  const intoDir = step.dest.endsWith("/") || step.sources.length > 1;
  const owner = step.chown ? resolveOwner(cx.root, step.chown) : { uid: 0, gid: 0 };
  for (const src of step.sources) {
    const hostFile = cx.hostFiles[src.replace(/\/+$/, "")];
    const from = hostFile ?? path.join(cx.contextDir, src);
    if (!fs.existsSync(from)) {
      throw new Error(`Cannot build "${cx.contextDir}": COPY source "${src}" is not in the context${hostFile ? ` (host file ${hostFile})` : ""}`);
    }
    const st = fs.statSync(from);
    if (st.isDirectory()) {
      copyTree(from, inRoot(cx.root, dest), owner, step.chmod);
    } else {
      const target = intoDir ? inRoot(cx.root, path.posix.join(dest, path.basename(src))) : inRoot(cx.root, dest);
      mkdirs(path.dirname(target), cx.root);
      copyEntry(from, target, owner, step.chmod);
    }
  }
}

/** Parent directories a COPY creates: root-owned 0755, as Docker makes them. */
function mkdirs(dir: string, root: string): void {
  if (fs.existsSync(dir)) return;
  mkdirs(path.dirname(dir), root);
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.chmodSync(dir, 0o755);
}

function copyTree(from: string, to: string, owner: { uid: number; gid: number }, chmod?: number): void {
  if (!fs.existsSync(to)) {
    fs.mkdirSync(to, { recursive: true, mode: 0o755 });
    fs.chmodSync(to, chmod ?? 0o755);
    fs.lchownSync(to, owner.uid, owner.gid);
  }
  for (const name of fs.readdirSync(from).sort()) {
    const src = path.join(from, name);
    const dst = path.join(to, name);
    if (fs.lstatSync(src).isDirectory()) copyTree(src, dst, owner, chmod);
    else copyEntry(src, dst, owner, chmod);
  }
}

/**
 * Context files keep only their executable bit (0755 or 0644), not the checkout's umask, so a
 * clone anywhere builds the same digest. Symlinks are copied as links.
 */
function copyEntry(from: string, to: string, owner: { uid: number; gid: number }, chmod?: number): void {
  const st = fs.lstatSync(from);
  fs.rmSync(to, { force: true });
  if (st.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(from), to);
  } else {
    fs.copyFileSync(from, to);
    fs.chmodSync(to, chmod ?? (st.mode & 0o111 ? 0o755 : 0o644));
  }
  fs.lchownSync(to, owner.uid, owner.gid);
}

/** "user", "1000", "user:group", "1000:1000" against the staging rootfs' /etc/passwd and /etc/group. */
function resolveOwner(root: string, spec: string): { uid: number; gid: number } {
  const [u = "", g] = spec.split(":");
  const read = (file: string): string[][] => {
    try {
      return fs.readFileSync(path.join(root, file), "utf8").split("\n").filter(Boolean).map((l) => l.split(":"));
    } catch {
      return [];
    }
  };
  const passwd = read("etc/passwd");
  const group = read("etc/group");
  let uid: number;
  let gid: number;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    gid = Number(passwd.find((f) => Number(f[2]) === uid)?.[3] ?? uid);
  } else {
    const entry = passwd.find((f) => f[0] === u);
    if (!entry) throw new Error(`Cannot resolve user "${u}": not in the image's /etc/passwd`);
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const entry = group.find((f) => f[0] === g);
      if (!entry) throw new Error(`Cannot resolve group "${g}": not in the image's /etc/group`);
      gid = Number(entry[2]);
    }
  }
  return { uid, gid };
}

function runStep(step: Extract<BuildStep, { kind: "run" }>, cx: StepContext): void {
  const { state } = cx;
  const argv = ["chroot"];
  if (state.user) {
    const { uid, gid } = resolveOwner(cx.root, state.user);
    argv.push(`--userspec=${uid}:${gid}`, `--groups=${gid}`);
  }
  argv.push(cx.root);
  // chroot(8) starts in "/"; a WORKDIR needs a shell to cd first.
  if (state.workdir !== "/") argv.push("/bin/sh", "-c", 'cd "$0" && exec "$@"', state.workdir);
  argv.push(...step.argv);
  const env: Record<string, string> = { HOME: "/root", ...Object.fromEntries(envList(state.env).map((e) => e.split(/=(.*)/s).slice(0, 2))) };
  cx.log(`[build] ${step.text}`);
  const out = Bun.spawnSync(argv, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const output = `${out.stdout.toString()}${out.stderr.toString()}`.trimEnd();
  if (output) cx.log(output);
  if (out.exitCode !== 0) {
    throw new Error(`Cannot build "${cx.contextDir}": line ${step.line} "${step.text}" exited ${out.exitCode}${output ? `\n${output}` : ""}`);
  }
}

/** "http://127.0.0.1:5000/library/busybox:latest" → registry URL, repository, tag. */
export function parsePushTarget(text: string): { url: string; repo: string; tag: string } {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error(`Cannot parse push target "${text}": want http://HOST:PORT/REPO[:TAG]`);
  }
  const ref = u.pathname.replace(/^\/+/, "");
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  const repo = colon > slash ? ref.slice(0, colon) : ref;
  const tag = colon > slash ? ref.slice(colon + 1) : "latest";
  if (!repo || !/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(repo)) {
    throw new Error(`Cannot parse push target "${text}": "${repo}" is not a repository name`);
  }
  return { url: `${u.protocol}//${u.host}`, repo, tag };
}

/** Builds `dir` and pushes it to `target` ("http://HOST:PORT/REPO:TAG"); returns the image. */
export async function buildAndPush(dir: string, target: string, opts: BuildOptions & { auth?: { user: string; password: string } } = {}): Promise<BuiltImage> {
  const { url, repo, tag } = parsePushTarget(target);
  const { image } = await buildDefinition(dir, opts);
  await pushImage({ url }, repo, tag, image, opts.auth);
  return image;
}

async function main(args: string[]): Promise<void> {
  let dir: string | undefined;
  let push: string | undefined;
  let format: "oci" | "docker" | undefined;
  let auth: { user: string; password: string } | undefined;
  const hostFiles: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = a.includes("=") && a.startsWith("--") && !a.startsWith("--host-file=") ? a.slice(a.indexOf("=") + 1) : args[++i];
      if (v === undefined) throw new Error(`Cannot parse "${a}": missing value`);
      return v;
    };
    if (a === "--push" || a.startsWith("--push=")) push = value();
    else if (a === "--format" || a.startsWith("--format=")) {
      const f = value();
      if (f !== "oci" && f !== "docker") throw new Error(`Cannot parse --format "${f}": want oci or docker`);
      format = f;
    } else if (a === "--creds" || a.startsWith("--creds=")) {
      const c = value();
      const i2 = c.indexOf(":");
      if (i2 < 0) throw new Error(`Cannot parse --creds: want USER:PASSWORD`);
      auth = { user: c.slice(0, i2), password: c.slice(i2 + 1) };
    } else if (a === "--host-file" || a.startsWith("--host-file=")) {
      const m = (a.startsWith("--host-file=") ? a.slice("--host-file=".length) : args[++i]) ?? "";
      const eq = m.indexOf("=");
      if (eq <= 0) throw new Error(`Cannot parse --host-file "${m}": want NAME=PATH`);
      hostFiles[m.slice(0, eq)] = m.slice(eq + 1);
    } else if (a.startsWith("-")) throw new Error(`Cannot parse "${a}": unknown option`);
    else if (dir === undefined) dir = a;
    else throw new Error(`Cannot parse "${a}": one definition directory only`);
  }
  if (!dir) throw new Error("usage: bun images/build.ts DIR [--push http://HOST:PORT/REPO:TAG] [--host-file NAME=PATH]... [--format oci|docker] [--creds USER:PASSWORD]");
  if (push) {
    const image = await buildAndPush(dir, push, { hostFiles, format, auth });
    console.log(`pushed ${push} ${image.manifestDigest}`);
  } else {
    const { image } = await buildDefinition(dir, { hostFiles, format });
    console.log(`built ${dir} ${image.manifestDigest} (${image.layers.length} layers)`);
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
