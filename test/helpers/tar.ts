// Builds tar archives in memory from a list of entries, for fixtures and hostile-archive tests.
// Every fixture is made here in code, so its recipe is the test itself.
import { pack as tarPack } from "tar-stream";

export type TarEntryType = "file" | "directory" | "symlink" | "link" | "character-device" | "block-device" | "fifo";

export interface TarEntry {
  name: string;
  type?: TarEntryType; // default "file"
  content?: string | Uint8Array;
  mode?: number; // permission bits incl. setuid/setgid/sticky; default 0o644 files, 0o755 dirs
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extra PAX records, e.g. { "SCHILY.xattr.user.note": "hi" } */
  pax?: Record<string, string>;
}

export async function buildTar(entries: TarEntry[]): Promise<Uint8Array> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on("data", (c: unknown) => chunks.push(c as Buffer));
    pack.on("end", () => resolve());
    pack.on("error", reject);
  });
  for (const e of entries) {
    const type = e.type ?? "file";
    const body = e.content === undefined ? undefined : Buffer.from(e.content);
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === "directory" ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? new Date("2024-01-02T03:04:05Z"),
      linkname: e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      pax: e.pax,
      size: type === "file" ? (body?.length ?? 0) : 0,
    };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (type === "file") pack.entry(header, body ?? Buffer.alloc(0), done);
      else pack.entry(header, done);
    });
  }
  pack.finalize();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}
