// COPY and ADD: sources from the context, another stage or image (--from) or a download (ADD of a
// URL), local archives unpacked (ADD), copied into a fresh upper directory that becomes the layer.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { errnoCode, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.ts";
import { MAX_ETC_FILE, NotRegularFileError, O_CLOEXEC, openFileAt } from "../rootfs/beneath.ts";
import type { Sys } from "../sys/sys.ts";
import { entryInLayers, resolveInLayers } from "../rootfs/layerpath.ts";
import type { StoreLayout } from "../store/layout.ts";
import { cleanSource, DigestCache, expandSource, hashSources, type ContextSource } from "./buildcontext.ts";
import { stepKey } from "./cachekey.ts";
import { archiveOf, type TarOpener } from "./archive.ts";
import { BENEATH, copySource, IN_ROOT, isDirInImage, resolveInImage, type CopyInto } from "./copy.ts";
import type { Instruction } from "./dockerfile.ts";
import { lowersOf, type State } from "./state.ts";
import { commitLayer, fromCache, type StepEnv } from "./step-env.ts";
import type { Step } from "./steps.ts";

export async function copyStep(env: StepEnv, state: State, step: Extract<Step, { kind: "copy" }>, ins: Instruction, stageIndex: number): Promise<void> {
  // The archives ADD opened, kept open until extracted.
  const held: number[] = [];
  try {
    await copyHolding(env, state, step, ins, stageIndex, held);
  } finally {
    for (const fd of held) fs.closeSync(fd);
  }
}

/**
 * ADD's local source `rel` of the context as an archive, or undefined when it is none. It is opened
 * once, below the context with no link followed on the way or at the end, and only that inode is
 * read: the context changed meanwhile (a name swapped for a link to a host file) is not what is
 * extracted.
 */
async function contextArchive(sys: Sys, root: string, rel: string, held: number[]): Promise<TarOpener | undefined> {
  const rootFd = fs.openSync(root, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_CLOEXEC);
  let fd: number;
  try {
    fd = openFileAt(sys, rootFd, rel, fs.constants.O_RDONLY, BENEATH).fd;
  } catch (err) {
    // Not a file (a link, a directory, gone): copied as it is, or refused, by the copy itself.
    if (err instanceof NotRegularFileError || ["ENOENT", "ENOTDIR", "ELOOP", "EXDEV"].includes(errnoCode(err) ?? "")) return undefined;
    throw err;
  } finally {
    fs.closeSync(rootFd);
  }
  held.push(fd);
  return archiveOf(fd, rel);
}

/**
 * `read` of source `rel` resolved BENEATH its root, a symlink met on its path (the kernel refuses
 * it: ELOOP, EXDEV) told in one line: the source was checked to have none, so the context changed
 * meanwhile.
 */
function noLinkOnPath<T>(rel: string, resolve: number, read: () => T): T {
  if (resolve !== BENEATH) return read();
  try {
    return read();
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ELOOP" || code === "EXDEV") throw new FailedPreconditionError(`Cannot copy "${rel}": a symbolic link is on its path (the context changed during the build), which a source path never follows`, { cause: err });
    // A name seen as a link and then read as something else (readlink's EINVAL): swapped meanwhile.
    if (code === "EINVAL" && (err as { syscall?: string }).syscall === "readlink") {
      throw new FailedPreconditionError(`Cannot copy "${rel}": a symbolic link on its path was replaced while it was read (the context changed during the build)`, { cause: err });
    }
    throw err;
  }
}

async function copyHolding(env: StepEnv, state: State, step: Extract<Step, { kind: "copy" }>, ins: Instruction, stageIndex: number, held: number[]): Promise<void> {
  const { ctx, layout, context } = env;
  const spec = step.copy;
  // Each source with the root it is read from: the context, another stage or image, or a download.
  const sources: { src: ContextSource; rel: string; keepOwner: boolean; resolve: number; archive: TarOpener | undefined; scratch?: boolean }[] = [];
  for (const s of spec.sources) {
    const doc = spec.inline?.[s];
    if (doc) {
      // A here-document: a file of its name, mode 0644 as BuildKit makes it.
      const dir = env.tmpUpper();
      fs.writeFileSync(path.join(dir, doc.name), doc.content, { mode: 0o644 });
      sources.push({ src: { root: dir, ignore: [] }, rel: doc.name, keepOwner: false, resolve: BENEATH, archive: undefined, scratch: true });
    } else if (spec.add && /^https?:\/\//.test(s)) {
      const dl = env.tmpUpper();
      const name = await download(env, s, dl, spec.checksum);
      sources.push({ src: { root: dl, ignore: [] }, rel: name, keepOwner: false, resolve: BENEATH, archive: undefined, scratch: true });
    } else if (spec.from !== undefined) {
      sources.push({ src: { root: await env.sourceRootOf(spec.from, stageIndex), ignore: [] }, rel: cleanSource(s), keepOwner: true, resolve: IN_ROOT, archive: undefined });
    } else {
      for (const rel of noLinkOnPath(s, BENEATH, () => expandSource(ctx.sys, context, s))) sources.push({ src: context, rel, keepOwner: false, resolve: BENEATH, archive: spec.add ? await contextArchive(ctx.sys, context.root, rel, held) : undefined });
    }
  }
  // As Docker: several sources (after globbing) go into a directory, and the Dockerfile says so.
  if (sources.length > 1 && !/(^|\/)\.?$/.test(spec.dest)) throw new InvalidArgumentError(`When using ${spec.add ? "ADD" : "COPY"} with more than one source file, the destination must be a directory and end with a /`);
  if (spec.checksum !== undefined && !spec.sources.every((s) => /^https?:\/\//.test(s))) throw new InvalidArgumentError(`Cannot build: ADD --checksum takes an http(s) source only (line ${ins.line})`);
  // Downloads and documents live in directories of this build only: their digests are not kept.
  const contentHash = sources.map((x) => noLinkOnPath(x.rel, x.resolve, () => hashSources(ctx.sys, x.src, [x.rel], x.scratch ? new DigestCache() : env.digests, x.resolve))).join(",");
  state.key = stepKey(state.key, step.createdBy, { content: contentHash });
  if (fromCache(env, state, step.createdBy)) return;
  const upper = env.tmpUpper();
  let owner: [number, number] | undefined;
  if (spec.chown !== undefined) owner = await resolveChown(ctx, layout, state, spec.chown);
  const c: CopyInto = { sys: ctx.sys, upper, lowers: lowersOf(layout, state), ...(owner ? { owner } : {}), ...(spec.chmod !== undefined ? { chmod: spec.chmod } : {}) };
  // Links the image has on the way are followed inside it, as Docker follows them (`/app` → `/etc`).
  const dest = resolveInImage(c, path.posix.normalize(spec.dest.startsWith("/") ? spec.dest : path.posix.join(spec.workdir, spec.dest)));
  const intoDir = spec.dest.endsWith("/") || sources.length > 1 || isDirInImage(c, dest);
  for (const x of sources) {
    let root = x.src.root;
    let rel = x.rel;
    let keepOwner = x.keepOwner;
    if (x.archive) {
      // ADD of a local tar archive: its entries, owners kept, under the destination directory.
      const out = env.tmpUpper();
      const { unpackLayer } = await import("../rootfs/unpack.ts");
      const o = x.archive();
      try {
        await unpackLayer(o.stream, o.compression, out, { sys: ctx.sys, maxBytes: ctx.config.maxLayerBytes, what: `ADD ${rel}` });
      } finally {
        o.stop();
      }
      root = out;
      rel = ".";
      keepOwner = true;
    }
    const rootFd = fs.openSync(root, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      noLinkOnPath(rel, x.resolve, () => copySource(c, rootFd, rel, dest, x.archive !== undefined || intoDir, x.src.ignore, keepOwner, x.resolve));
    } finally {
      fs.closeSync(rootFd);
    }
  }
  commitLayer(env, state, await env.adoptDir(upper), step.createdBy);
}

/**
 * ADD's http(s) source into `dir`, as Docker saves it: the URL's last path name, mode 0600, its
 * Last-Modified as mtime; --checksum (sha256) checked before anything is copied. Redirects are
 * followed to http(s) only; the body is written as it comes, bounded by max-layer-bytes, a wait of
 * download-stall-timeout for the next bytes ends it, and so does cancelling the build.
 */
async function download(env: StepEnv, url: string, dir: string, checksum?: string): Promise<string> {
  const { ctx, cancel } = env;
  const fail = (why: string, cause?: unknown) => new FailedPreconditionError(`Cannot download "${url}": ${why}`, cause === undefined ? undefined : { cause });
  const abort = new AbortController();
  const stop = () => abort.abort();
  cancel.kills.add(stop);
  let stall: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(stall);
    stall = setTimeout(() => abort.abort(), ctx.config.downloadStallTimeoutMs);
  };
  const name = path.posix.basename(new URL(url).pathname) || "index.html";
  const file = path.join(dir, name);
  let fd = -1;
  try {
    let res: Response;
    let at = url;
    for (let hops = 0; ; hops++) {
      arm();
      res = await ctx.fetch(at, { redirect: "manual", signal: abort.signal });
      const to = res.headers.get("location");
      if (res.status < 300 || res.status >= 400 || to === null) break;
      at = new URL(to, at).href;
      if (!/^https?:\/\//.test(at)) throw fail(`redirected to "${at.slice(0, 200)}", which is not http(s)`);
      if (hops >= 10) throw fail("stopped after 10 redirects");
    }
    if (!res.ok || !res.body) throw fail(`HTTP ${res.status}`);
    const h = new Bun.CryptoHasher("sha256");
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    let total = 0;
    for await (const chunk of res.body) {
      arm();
      total += chunk.length;
      if (total > ctx.config.maxLayerBytes) throw fail(`more than ${ctx.config.maxLayerBytes} bytes (max-layer-bytes)`);
      h.update(chunk);
      fs.writeSync(fd, chunk);
    }
    const digest = `sha256:${h.digest("hex")}`;
    if (checksum !== undefined && digest !== checksum) throw fail(`digest mismatch ${digest}: expected ${checksum}`);
    const lm = res.headers.get("last-modified");
    if (lm && !Number.isNaN(Date.parse(lm))) fs.futimesSync(fd, new Date(lm), new Date(lm));
    return name;
  } catch (err) {
    if (fd >= 0) fs.rmSync(file, { force: true });
    cancel.check();
    if (err instanceof FailedPreconditionError) throw err;
    throw fail(abort.signal.aborted ? `no data for ${ctx.config.downloadStallTimeoutMs / 1000}s (download-stall-timeout)` : (err as Error).message.split("\n")[0]!, err);
  } finally {
    clearTimeout(stall);
    cancel.kills.delete(stop);
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** --chown user[:group] against the image's /etc/passwd and /etc/group (numbers taken as they are). */
async function resolveChown(ctx: Ctx, layout: StoreLayout, s: State, spec: string): Promise<[number, number]> {
  const [u = "", g] = spec.split(":");
  const lowers = lowersOf(layout, s);
  // The image's file, its links (an /etc that is one included) followed inside the image only.
  const read = (file: string): string[][] => {
    const e = entryInLayers(lowers, resolveInLayers(lowers, file, ctx.sys), ctx.sys);
    if (e.kind !== "found" || !e.st.isFile()) return [];
    if (e.st.size > MAX_ETC_FILE) throw new FailedPreconditionError(`Cannot resolve --chown "${spec}": the image's /${file} is over ${MAX_ETC_FILE} bytes`);
    return fs.readFileSync(e.file, "utf8").split("\n").filter(Boolean).map((l) => l.split(":"));
  };
  let uid: number;
  let gid: number;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    gid = g === undefined ? uid : -1;
  } else {
    const e = read("etc/passwd").find((f) => f[0] === u);
    if (!e) throw new NotFoundError(`Cannot resolve --chown "${spec}": unable to find user ${u}: no matching entries in passwd file`);
    uid = Number(e[2]);
    gid = Number(e[3]);
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const e = read("etc/group").find((f) => f[0] === g);
      if (!e) throw new NotFoundError(`Cannot resolve --chown "${spec}": unable to find group ${g}: no matching entries in group file`);
      gid = Number(e[2]);
    }
  }
  if (gid < 0) throw new FailedPreconditionError(`Cannot resolve --chown "${spec}"`);
  // (uid_t)-1 would mean "unchanged" to chown; beyond it no id exists.
  for (const id of [uid, gid]) if (!Number.isSafeInteger(id) || id > 0xfffffffe) throw new InvalidArgumentError(`Cannot resolve --chown "${spec}": id ${id} is out of range (0 to 4294967294)`);
  return [uid, gid];
}
