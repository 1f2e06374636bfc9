// Between cold runs each tool's storage is moved aside, not deleted, and the pile is deleted when
// the bench ends. On ext4 without a journal (this machine's root, and many VM images), creating an
// inode scans past every inode freed in the last minute or more (ext4 `recently_deleted`): a pull
// started right after `rm -rf` of 15 000 files spent 6-14 s in the kernel instead of ~1.5 s, and
// the tool whose directory the allocator happens to reuse pays the most. A rename frees nothing.
import fs from "node:fs";

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export class Trash {
  /** `dir` undefined: too little disk for the pile, so storage is deleted (and timings may suffer). */
  constructor(readonly dir: string | undefined) {
    if (dir) fs.mkdirSync(dir, { recursive: true });
  }

  /** A shell command that gets `paths` out of the way, whichever of them exist. */
  command(paths: string[]): string {
    if (!this.dir) return `rm -rf ${paths.map(q).join(" ")}`;
    return (
      `d=$(mktemp -d ${q(`${this.dir}/XXXXXXXX`)}) && ` +
      `for p in ${paths.map(q).join(" ")}; do if [ -e "$p" ]; then mv "$p" "$d"/ || exit 1; fi; done`
    );
  }
}
