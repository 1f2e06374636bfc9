// COPY and ADD: sources from the context, another stage or image (--from) or a download (ADD of a
// URL), local archives unpacked (ADD), copied into a fresh upper directory that becomes the layer.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.ts";
import type { Compression } from "../image/manifest.ts";
import { decompress } from "../rootfs/decompress.ts";
import { MAX_ETC_FILE } from "../rootfs/beneath.ts";
import { entryInLayers, resolveInLayers } from "../rootfs/layerpath.ts";
import type { StoreLayout } from "../store/layout.ts";
import { cleanSource, DigestCache, expandSource, hashSources, type ContextSource } from "./buildcontext.ts";
import { stepKey } from "./cachekey.ts";
import { BENEATH, copySource, IN_ROOT, isDirInImage, resolveInImage, type CopyInto } from "./copy.ts";
import type { Instruction } from "./dockerfile.ts";
import { lowersOf, type State } from "./state.ts";
import { commitLayer, fromCache, type StepEnv } from "./step-env.ts";
import type { Step } from "./steps.ts";

export async function copyStep(env: StepEnv, state: State, step: Extract<Step, { kind: "copy" }>, ins: Instruction, stageIndex: number): Promise<void> {
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
      const name = await download(ctx, s, dl, spec.checksum);
      sources.push({ src: { root: dl, ignore: [] }, rel: name, keepOwner: false, resolve: BENEATH, archive: undefined, scratch: true });
    } else if (spec.from !== undefined) {
      sources.push({ src: { root: await env.sourceRootOf(spec.from, stageIndex), ignore: [] }, rel: cleanSource(s), keepOwner: true, resolve: IN_ROOT, archive: undefined });
    } else {
      for (const rel of expandSource(context, s)) sources.push({ src: context, rel, keepOwner: false, resolve: BENEATH, archive: spec.add ? await archiveOf(path.join(context.root, rel)) : undefined });
    }
  }
  if (spec.checksum !== undefined && !spec.sources.every((s) => /^https?:\/\//.test(s))) throw new InvalidArgumentError(`Cannot build: ADD --checksum takes an http(s) source only (line ${ins.line})`);
  // Downloads and documents live in directories of this build only: their digests are not kept.
  const contentHash = sources.map((x) => hashSources(x.src, [x.rel], x.scratch ? new DigestCache() : env.digests)).join(",");
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
      copySource(c, rootFd, rel, dest, x.archive !== undefined || intoDir, x.src.ignore, keepOwner, x.resolve);
    } finally {
      fs.closeSync(rootFd);
    }
  }
  commitLayer(env, state, await env.adoptDir(upper), step.createdBy);
}

type TarOpener = () => { stream: ReadableStream<Uint8Array>; compression: Compression; stop(): void };

/**
 * A local file ADD extracts, as Docker's: a tar, plain or compressed with gzip, zstd, bzip2 or xz
 * (these two through the host's bzip2 and xz, as moby runs xz), told by its leading bytes and the
 * tar header inside; anything else (a gzip of a text file…) is copied as it is.
 */
export async function archiveOf(file: string): Promise<TarOpener | undefined> {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!st?.isFile() || st.size < 2) return undefined;
  const b = Buffer.alloc(6);
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    fs.readSync(fd, b, 0, 6, 0);
  } finally {
    fs.closeSync(fd);
  }
  const plain = (compression: Compression): TarOpener => () => ({ stream: Bun.file(file).stream(), compression, stop: () => {} });
  const tool = (cmd: string): TarOpener => () => {
    let p: ReturnType<typeof Bun.spawn>;
    try {
      p = Bun.spawn([cmd, "-dc", file], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
    } catch (err) {
      throw new FailedPreconditionError(`Cannot extract "${path.basename(file)}": ${cmd} is needed to decompress it`, { cause: err });
    }
    return { stream: p.stdout as ReadableStream<Uint8Array>, compression: "none", stop: () => p.kill() };
  };
  let open: TarOpener;
  if (b[0] === 0x1f && b[1] === 0x8b) open = plain("gzip");
  else if (b.readUInt32BE(0) === 0x28b52ffd) open = plain("zstd");
  else if (b.subarray(0, 3).toString("latin1") === "BZh") open = tool("bzip2");
  else if (b.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) open = tool("xz");
  else open = plain("none");
  // The first tar header, decompressed: "ustar" at 257.
  const o = open();
  let head = Buffer.alloc(0);
  try {
    for await (const chunk of decompress(o.stream, o.compression, file)) {
      head = Buffer.concat([head, chunk]);
      if (head.length >= 263) break;
    }
  } catch {
    return undefined;
  } finally {
    o.stop();
  }
  return head.length >= 262 && head.subarray(257, 262).toString("latin1") === "ustar" ? open : undefined;
}

/**
 * ADD's http(s) source into `dir`, as Docker saves it: the URL's last path name, mode 0600, its
 * Last-Modified as mtime; --checksum (sha256) checked before anything is copied.
 */
async function download(ctx: Ctx, url: string, dir: string, checksum?: string): Promise<string> {
  let res: Response;
  try {
    res = await ctx.fetch(url, { redirect: "follow" });
  } catch (err) {
    throw new FailedPreconditionError(`Cannot download "${url}": ${(err as Error).message}`, { cause: err });
  }
  if (!res.ok) throw new FailedPreconditionError(`Cannot download "${url}": HTTP ${res.status}`);
  const body = new Uint8Array(await res.arrayBuffer());
  const digest = `sha256:${new Bun.CryptoHasher("sha256").update(body).digest("hex")}`;
  if (checksum !== undefined && digest !== checksum) throw new FailedPreconditionError(`Cannot download "${url}": digest mismatch ${digest}: expected ${checksum}`);
  const name = path.posix.basename(new URL(url).pathname) || "index.html";
  const file = path.join(dir, name);
  fs.writeFileSync(file, body, { mode: 0o600 });
  const lm = res.headers.get("last-modified");
  if (lm && !Number.isNaN(Date.parse(lm))) fs.utimesSync(file, new Date(lm), new Date(lm));
  return name;
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
  return [uid, gid];
}
