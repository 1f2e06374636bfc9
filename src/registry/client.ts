// The registry HTTP API (distribution spec v2) for pulls: what to fetch (manifests by tag or
// digest, blobs whole or as resumable streams) and the checks on what comes back: every size capped,
// every digest checked, for the registry may be hostile. How bytes travel (endpoints, auth, retries,
// deadlines, redirects, resumption) is transport/'s.
import type { Ctx } from "../context.ts";
import { DataLossError, InvalidArgumentError, ParseError } from "../errors.ts";
import { isDigest, sha256Digest } from "../image/digest.ts";
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, type Descriptor } from "../image/manifest.ts";
import { familiarName, isRepositoryPath, isTag } from "../image/reference.ts";
import { clean } from "./auth.ts";
import { readCredentials, type Credentials } from "./credentials.ts";
import { resolveEndpoints, type Endpoint } from "./endpoints.ts";
import { readBody } from "./transport/body.ts";
import { Connection } from "./transport/connection.ts";
import { openRange, resumableStream, type RangeRequest } from "./transport/resumable.ts";
import { statusError } from "./transport/status.ts";
import { Transport } from "./transport/transport.ts";

export interface ManifestResponse {
  body: Uint8Array;
  contentType: string | null;
  /** "sha256:<hex>" of body */
  digest: string;
}

function checkDescriptor(desc: Descriptor): void {
  if (!isDigest(desc.digest)) throw new ParseError(`Cannot parse digest ${JSON.stringify(desc.digest)}: want sha256: and 64 hex digits`);
  if (!Number.isSafeInteger(desc.size) || desc.size < 0) {
    throw new InvalidArgumentError(`Cannot fetch blob ${desc.digest}: size ${desc.size} is not a non-negative integer`);
  }
}

export class RegistryClient {
  private readonly ctx: Ctx;
  private readonly registry: string;
  private readonly repository: string;
  /** As Docker shows it: "busybox", "127.0.0.1:5000/app". */
  private readonly name: string;
  private transportCache: Transport | undefined;

  constructor(ctx: Ctx, repo: { registry: string; repository: string }) {
    if (!isRepositoryPath(repo.repository)) {
      throw new ParseError(`Cannot parse repository "${repo.repository}": not a lowercase path of name components`);
    }
    this.ctx = ctx;
    this.registry = repo.registry;
    this.repository = repo.repository;
    this.name = familiarName(repo);
  }

  /** Endpoints and credentials are worked out on first use, so constructing costs nothing. */
  private get transport(): Transport {
    if (!this.transportCache) {
      const known = new Map<string, Credentials | null>();
      const dir = this.ctx.dockerConfigDir;
      this.transportCache = new Transport(this.ctx, resolveEndpoints(this.registry, this.ctx.config), {
        action: `pull "${this.name}"`,
        scope: `repository:${this.repository}:pull`,
        credentials: (ep) => {
          if (!known.has(ep.credentialsKey)) known.set(ep.credentialsKey, readCredentials(dir, ep.credentialsKey));
          return known.get(ep.credentialsKey) ?? null;
        },
      });
    }
    return this.transportCache;
  }

  async getManifest(reference: string): Promise<ManifestResponse> {
    const byDigest = reference.includes(":");
    if (byDigest ? !isDigest(reference) : !isTag(reference)) {
      throw new ParseError(`Cannot parse manifest reference "${reference}": not a tag or sha256 digest`);
    }
    const shown = `${this.name}${byDigest ? "@" : ":"}${reference}`;
    const what = `fetch manifest for ${shown}`;
    const path = `/v2/${this.repository}/manifests/${reference}`;
    return this.transport.onEndpoints(what, async (ep, deadline) => {
      const conn = new Connection(this.ctx, deadline);
      try {
        const ex = await this.transport.send(conn, ep, path, { Accept: MANIFEST_ACCEPT });
        if (ex.res.status !== 200) {
          throw await statusError(conn, ex, what, (m) => `manifest for ${shown} not found: ${m || "manifest unknown"}`);
        }
        const body = await readBody(conn, ex.res, ex.url.origin, MAX_MANIFEST_BYTES, () => new DataLossError(`Cannot ${what}: larger than ${MAX_MANIFEST_BYTES} bytes`));
        const digest = sha256Digest(body);
        if (byDigest && digest !== reference) {
          throw new DataLossError(`Cannot ${what}: the registry sent content with digest ${digest}`);
        }
        const claimed = ex.res.headers.get("docker-content-digest")?.trim();
        if (claimed?.startsWith("sha256:") && claimed !== digest) {
          throw new DataLossError(`Cannot ${what}: Docker-Content-Digest ${clean(claimed)} does not match the content (${digest})`);
        }
        return { body, contentType: ex.res.headers.get("content-type"), digest };
      } finally {
        conn.close();
      }
    });
  }

  async getBlob(desc: Descriptor, max: number): Promise<Uint8Array> {
    checkDescriptor(desc);
    if (desc.size > max) {
      throw new DataLossError(`Cannot fetch blob ${desc.digest} of ${this.name}: its size ${desc.size} exceeds the limit of ${max} bytes`);
    }
    const reader = (await this.openBlob(desc, 0)).getReader();
    const out = new Uint8Array(desc.size);
    let at = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      out.set(value, at); // openBlob never yields more than desc.size bytes
      at += value.length;
    }
    if (at !== desc.size) throw new DataLossError(`Cannot fetch blob ${desc.digest} of ${this.name}: got ${at} of ${desc.size} bytes`);
    const digest = sha256Digest(out);
    if (digest !== desc.digest) {
      throw new DataLossError(`Cannot fetch blob ${desc.digest} of ${this.name}: the registry sent content with digest ${digest}`);
    }
    return out;
  }

  /** The blob from byte `offset`, at most desc.size bytes in all; the caller checks the digest. */
  async openBlob(desc: Descriptor, offset: number): Promise<ReadableStream<Uint8Array>> {
    checkDescriptor(desc);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > desc.size) {
      throw new InvalidArgumentError(`Cannot fetch blob ${desc.digest}: offset ${offset} is outside 0..${desc.size}`);
    }
    if (offset === desc.size) return new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    const req: RangeRequest = {
      path: `/v2/${this.repository}/blobs/${desc.digest}`,
      size: desc.size,
      what: `download blob ${desc.digest} of ${this.name}`,
      notFound: (m) => `blob ${desc.digest} of ${this.name} not found: ${m || "blob unknown"}`,
    };
    const { transport } = this;
    let ep: Endpoint | undefined;
    const first = await transport.onEndpoints(req.what, async (e, deadline) => {
      const body = await openRange(transport, e, req, offset, deadline);
      ep = e;
      return body;
    });
    // Reconnects stay at the endpoint that answered, under the same deadline.
    const at = ep!;
    return resumableStream(this.ctx, req, first, offset, (position) => openRange(transport, at, req, position, first.conn.deadline));
  }
}
