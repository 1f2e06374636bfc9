// Read one small file of an image without mounting it: look it up layer by layer from the top,
// honouring overlay whiteouts (0:0 char devices) and opaque directories, as overlayfs would.
import fs from "node:fs";
import path from "node:path";
import type { StoreLayout } from "../store/layout.ts";
import { layerKey, type ImageRecord } from "../store/images.ts";
import type { Sys } from "../sys/sys.ts";
import { BENEATH, FileTooLargeError, MAX_ETC_FILE, NotRegularFileError, O_CLOEXEC, readFileAt } from "./beneath.ts";
import { isWhiteoutNode } from "./whiteout.ts";

/**
 * The text of `file` (absolute, inside the image) or undefined when the image has none. Symlinks
 * are not followed: /etc/passwd as a symlink is treated as absent (it could point anywhere), and so
 * is anything but a regular file of at most MAX_ETC_FILE bytes (a FIFO is never opened).
 */
export function readImageFile(sys: Sys, layout: StoreLayout, record: ImageRecord, file: string): string | undefined {
  const parts = path.posix.normalize(file).split("/").filter(Boolean);
  for (let i = record.layers.length - 1; i >= 0; i--) {
    const diff = layout.layerDiff(layerKey(record.layers[i]!));
    let dir = diff;
    let hidden = false;
    for (let j = 0; j < parts.length; j++) {
      const p = path.join(dir, parts[j]!);
      const st = fs.lstatSync(p, { throwIfNoEntry: false });
      if (!st) {
        // Absent in this layer; an opaque parent hides everything below from lower layers.
        if (j > 0 && isOpaque(sys, dir)) hidden = true;
        break;
      }
      if (isWhiteoutNode(st)) return undefined;
      if (j === parts.length - 1) return readRegular(sys, dir, parts[j]!);
      if (!st.isDirectory()) return undefined;
      dir = p;
    }
    if (hidden) return undefined;
  }
  return undefined;
}

function isOpaque(sys: Sys, dir: string): boolean {
  try {
    const v = sys.lgetxattr(dir, "trusted.overlay.opaque");
    return v !== null && v[0] === 0x79; // "y"
  } catch {
    return false;
  }
}

/** Entry `name` of layer directory `dir` if a regular file within the cap, opened as beneath.ts does. */
function readRegular(sys: Sys, dir: string, name: string): string | undefined {
  const dirFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_CLOEXEC);
  try {
    return readFileAt(sys, dirFd, name, MAX_ETC_FILE, BENEATH);
  } catch (err) {
    if (err instanceof NotRegularFileError || err instanceof FileTooLargeError || (err as { code?: string }).code === "ELOOP") return undefined;
    throw err;
  } finally {
    fs.closeSync(dirFd);
  }
}
