// Image references with Docker's normalisation (distribution/reference): "busybox" means
// docker.io/library/busybox:latest. Pure.
import { ParseError } from "../errors.ts";
import { isDigest } from "./digest.ts";

export const DOCKER_HUB = "docker.io";

export interface Reference {
  /** "docker.io", "127.0.0.1:5000", "[::1]:5000" */
  registry: string;
  /** "library/busybox" */
  repository: string;
  tag?: string;
  digest?: string;
}

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_NAME}|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
// An address to connect to: also an IPv4-mapped IPv6 literal, and a port that fits a URL.
const REGISTRY_HOST_RE = new RegExp(`^(?:${DOMAIN_NAME}|\\[[a-fA-F0-9:.]+\\])(?::[0-9]{1,5})?$`);
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const PATH_COMPONENT_RE = new RegExp(`^${PATH_COMPONENT}$`);
const REPOSITORY_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const NAME_MAX = 255;

/** "latest", "1.36.1-musl": a tag as a reference or a manifest request may carry it. */
export function isTag(text: string): boolean {
  return TAG_RE.test(text);
}

/** "library/busybox": lowercase path components joined by "/", at most 255 characters. */
export function isRepositoryPath(text: string): boolean {
  return REPOSITORY_RE.test(text) && text.length <= NAME_MAX;
}

/** "registry.example:5000", "127.0.0.1:5000", "[::1]:5000", "[::ffff:10.0.0.5]": a registry to connect to. */
export function isRegistryHost(text: string): boolean {
  return REGISTRY_HOST_RE.test(text);
}

function bad(text: string, reason: string): never {
  throw new ParseError(`Cannot parse reference "${text}": ${reason}`);
}

/**
 * Parse and normalise. A reference with neither tag nor digest gets tag "latest" unless
 * `defaultTag` is false (as for `rmi`/`tag` of a name that may mean all tags).
 */
export function parseReference(text: string, opts: { defaultTag?: boolean } = {}): Reference {
  if (text.length === 0) bad(text, "empty");
  if (/\s/.test(text)) bad(text, "contains white space");
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) bad(text, `invalid digest "${digest}" (want sha256: and 64 hex digits)`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isTag(tag)) bad(text, `invalid tag "${tag}"`);
  }
  if (rest.length === 0) bad(text, "missing repository name");
  if (/^[a-f0-9]{64}$/.test(rest) && tag === undefined && digest === undefined) {
    bad(text, "a 64-character hexadecimal string is an image ID, not a repository name");
  }
  let registry = DOCKER_HUB;
  let remote = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === "localhost" || first.toLowerCase() !== first) {
      registry = first;
      remote = rest.slice(slash + 1);
    }
  }
  if (!DOMAIN_RE.test(registry)) bad(text, `invalid registry "${registry}"`);
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = DOCKER_HUB;
  // Docker's words (distribution/reference ParseNormalizedNamed), the name as Docker Hub's.
  if (remote.toLowerCase() !== remote) {
    const named = registry === DOCKER_HUB && !remote.includes("/") ? `library/${remote}` : remote;
    throw new ParseError(`invalid reference format: repository name (${named}) must be lowercase`);
  }
  for (const component of remote.split("/")) {
    if (!PATH_COMPONENT_RE.test(component)) bad(text, `invalid repository path component "${component}"`);
  }
  if (registry === DOCKER_HUB && !remote.includes("/")) remote = `library/${remote}`;
  if (registry.length + 1 + remote.length > NAME_MAX) bad(text, `repository name longer than ${NAME_MAX} characters`);
  if (tag === undefined && digest === undefined && opts.defaultTag !== false) tag = "latest";
  const ref: Reference = { registry, repository: remote };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/**
 * `run`/`create`'s image checked before any lookup or pull, as Docker's client does
 * (ParseAnyReference): an image id, or a reference that parses.
 */
export function checkImageArgument(text: string): void {
  if (/^(?:sha256:)?[a-f0-9]{64}$/.test(text)) return;
  parseReference(text);
}

/** "docker.io/library/busybox" */
export function repositoryName(ref: Reference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The fully qualified form: "docker.io/library/busybox:latest@sha256:…" */
export function formatReference(ref: Reference): string {
  return `${repositoryName(ref)}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** The short name Docker shows: "busybox", "user/app", "127.0.0.1:5000/app". */
export function familiarName(ref: Pick<Reference, "registry" | "repository">): string {
  if (ref.registry !== DOCKER_HUB) return `${ref.registry}/${ref.repository}`;
  return ref.repository.startsWith("library/") ? ref.repository.slice("library/".length) : ref.repository;
}

/** familiarName plus tag or digest, as `docker pull` echoes it. */
export function familiarString(ref: Reference): string {
  return `${familiarName(ref)}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}
