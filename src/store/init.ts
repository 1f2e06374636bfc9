// Creates the store's directories. The root is 0700: layers hold setuid binaries and image secrets
// that other users of the host must not read.
import fs from "node:fs";
import { storeLayout, type StoreLayout } from "./layout.ts";

export function openStore(root: string): StoreLayout {
  const layout = storeLayout(root);
  // The empty dir is made last: when it is there, so is everything else.
  if (!fs.existsSync(layout.emptyDir)) {
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
    fs.chmodSync(root, 0o700);
    for (const dir of [
      layout.blobsDir,
      layout.ingestDir,
      layout.layersDir,
      layout.linksDir,
      layout.imagesDir,
      layout.mountsDir,
      layout.tmpDir,
      layout.locksDir,
      layout.emptyDir,
    ]) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    fs.chmodSync(layout.emptyDir, 0o755);
  }
  return layout;
}
