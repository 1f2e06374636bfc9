// Container directories under the root: containers/<id>/ holds the state file, the generated
// /etc files, and the overlay's upper and work dirs. Every name carries the id.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { NotFoundError, AlreadyExistsError, FailedPreconditionError } from "../errors.ts";
import { readJson, writeFileAtomic } from "../atomic.ts";
import type { NetworkSettingsRecord } from "../network/attach.ts"; // network

export type ContainerStatus = "created" | "running" | "paused" | "restarting" | "exited" | "dead" | "removing";

export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  exitCode: number;
  oomKilled: boolean;
  startedAt: string;
  finishedAt: string;
  error?: string;
}

export interface ContainerRecord {
  id: string;
  name: string;
  /** What the user asked for ("busybox") and what it resolved to. */
  image: string;
  imageId: string;
  created: string;
  args: string[];
  hostname: string;
  state: ContainerState;
  // network
  /** What attachNetwork set up (mode, netns file, endpoint): detachNetwork undoes it. */
  network?: NetworkSettingsRecord;
  // end network
}

export interface ContainerPaths {
  dir: string;
  state: string;
  upper: string;
  work: string;
  rootfs: string;
  hostname: string;
  hosts: string;
  resolvConf: string;
}

export function containersDir(root: string): string {
  return path.join(root, "containers");
}

export function containerPaths(root: string, id: string): ContainerPaths {
  if (!/^[a-f0-9]{64}$/.test(id)) throw new NotFoundError(`No such container: ${id}`);
  const dir = path.join(containersDir(root), id);
  return {
    dir,
    state: path.join(dir, "state.json"),
    upper: path.join(dir, "upper"),
    work: path.join(dir, "work"),
    rootfs: path.join(dir, "rootfs"),
    hostname: path.join(dir, "hostname"),
    hosts: path.join(dir, "hosts"),
    resolvConf: path.join(dir, "resolv.conf"),
  };
}

export function newContainerId(): string {
  return crypto.randomBytes(32).toString("hex");
}

const ADJECTIVES = ["brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry", "nifty", "proud", "quirky", "sharp", "tender", "vivid", "witty", "zen"];
const NOUNS = ["babbage", "curie", "darwin", "euler", "feynman", "gauss", "hopper", "knuth", "lovelace", "noether", "pascal", "ritchie", "shannon", "turing", "wozniak"];

export function randomName(): string {
  const pick = <T>(a: T[]) => a[crypto.randomInt(a.length)]!;
  return `${pick(ADJECTIVES)}_${pick(NOUNS)}`;
}

export function listContainers(root: string): ContainerRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(containersDir(root));
  } catch {
    return [];
  }
  const out: ContainerRecord[] = [];
  for (const n of names) {
    if (!/^[a-f0-9]{64}$/.test(n)) continue;
    const rec = readJson<ContainerRecord>(containerPaths(root, n).state);
    if (rec) out.push(rec);
  }
  return out;
}

export function saveContainer(root: string, rec: ContainerRecord): void {
  writeFileAtomic(containerPaths(root, rec.id).state, `${JSON.stringify(rec, null, 2)}\n`);
}

/** Names are unique: a second container with a taken name is refused, as Docker does. */
export function checkNameFree(root: string, name: string): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
    throw new FailedPreconditionError(`Invalid container name "${name}", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  const other = listContainers(root).find((c) => c.name === name);
  if (other) {
    throw new AlreadyExistsError(
      `Conflict. The container name "/${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name`,
    );
  }
}
