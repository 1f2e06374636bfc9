// `export`: a container's filesystem as one plain tar, as Docker writes it: the merged view of its
// image and its changes, so deleted files are simply absent (no whiteouts) and nothing mounted into
// it at run time (/proc, volumes, /etc/hosts) is in it. The view is a read-only overlay of its own
// whose top lower is the container's upper dir: it needs no work dir and no lock, so a running
// container is exported as it stands, as Docker does, and a stopped one is left unmounted.
// A sparse file goes in at its full length, holes as zeros, as Docker's tar writes it (no sparse
// headers); its holes are found with SEEK_DATA/SEEK_HOLE, not read (treeTar). It streams a MiB at a
// time, so memory stays flat however large the file, and `signal` stops it between pieces.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { applyMount, overlayMount, unmount } from "../rootfs/mount.ts";
import { treeTar } from "../rootfs/writelayer.ts";
import { scratchDir } from "../store/scratch.ts";
import { withContainerLayers } from "./container-layers.ts";

/** Output between turns of the event loop: writes that never wait would hold off a signal's handler. */
const TURN_BYTES = 16 << 20;

/** Each piece through `write` (which may wait for its reader); `signal` is looked at between turns. */
export async function writePieces(pieces: Iterable<Uint8Array>, write: (bytes: Uint8Array) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let sinceTurn = 0;
  for (const piece of pieces) {
    await write(piece);
    sinceTurn += piece.length;
    if (sinceTurn < TURN_BYTES) continue;
    sinceTurn = 0;
    await new Promise((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
  }
}

/** Writes the tar of container `ref`'s filesystem through `write`, which may wait for its reader. */
export function exportContainer(ctx: Ctx, ref: string, write: (bytes: Uint8Array) => Promise<void>, signal?: AbortSignal): Promise<void> {
  return withContainerLayers(ctx, ref, "export", async ({ layout, upper, lowers: imageLowers }) => {
    // Lowers are named relative to <root>/l (see overlayMount).
    const lowers = [...(fs.existsSync(upper) ? [path.relative(path.join(layout.root, "l"), upper)] : []), ...imageLowers];
    const target = scratchDir(layout.tmpDir, "export");
    try {
      applyMount(ctx.sys, overlayMount({ lowers, target, root: layout.root, emptyLower: path.relative(layout.root, layout.emptyDir) }));
      try {
        await writePieces(treeTar(ctx.sys, target), write, signal);
      } finally {
        unmount(ctx.sys, target);
      }
    } finally {
      fs.rmdirSync(target);
    }
  });
}
