// A raw HTTP/1.1 server on 127.0.0.1 (Bun.listen) whose every answer is scripted by the test,
// faults included: bodies cut off by a reset, bodies that stall, lying Content-Length, slow headers.
// Bun.serve cannot break a connection half-way on purpose; a raw socket can.

export interface FakeRequest {
  method: string;
  /** Path and query, as sent. */
  target: string;
  url: URL;
  headers: Headers;
  /** The request body (Content-Length or chunked), read whole before the handler is called. */
  body: Uint8Array;
}

export interface FakeReply {
  status: number;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Declared length; default the body's; null sends none (the body ends when the socket closes). */
  contentLength?: number | null;
  /** Send only this many body bytes, then close the connection before the declared length. */
  cutAfter?: number;
  /** Send only this many body bytes, then go silent (the socket stays open). */
  stallAfter?: number;
  /** Say nothing at all (not even headers) and keep the socket open. */
  silent?: boolean;
  /** Send the body one byte every this many ms (a drip that never stalls long enough to count). */
  dripEveryMs?: number;
  /** Close the connection without an answer (a connection broken mid-request, as the client sees it). */
  drop?: boolean;
}

export type Handler = (req: FakeRequest, server: FakeServer) => FakeReply | Promise<FakeReply>;

export interface FakeServer {
  /** "http://127.0.0.1:PORT" */
  url: string;
  /** "127.0.0.1:PORT" */
  host: string;
  port: number;
  requests: FakeRequest[];
  handler: Handler;
  stop(): void;
}

const REASONS: Record<number, string> = {
  200: "OK",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  307: "Temporary Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  416: "Range Not Satisfiable",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

interface Conn {
  head: string;
  raw: Uint8Array;
  out: Uint8Array | null;
  at: number;
  after: "end" | "cut" | "stall";
  handled: boolean;
}

export function startFakeServer(handler: Handler): FakeServer {
  const server: FakeServer = {
    url: "",
    host: "",
    port: 0,
    requests: [],
    handler,
    stop: () => listener.stop(true),
  };

  const flush = (s: Bun.Socket<Conn>): void => {
    const c = s.data;
    if (!c.out) return;
    while (c.at < c.out.length) {
      const n = s.write(c.out.subarray(c.at));
      if (n <= 0) return; // wait for drain
      c.at += n;
    }
    c.out = null;
    // A cut ends the stream short of its Content-Length: the client sees the connection break
    // (terminate() could drop the bytes still queued, so the break would come before any body).
    // The pause lets the client see the bytes before the break: Bun drops body bytes it buffered
    // but had not yet handed to the reader when the connection errors.
    if (c.after === "end") s.end();
    else if (c.after === "cut") setTimeout(() => s.end(), 20);
  };

  const respond = async (s: Bun.Socket<Conn>, req: FakeRequest): Promise<void> => {
    let reply: FakeReply;
    try {
      reply = await server.handler(req, server);
    } catch (err) {
      reply = { status: 500, body: `handler threw: ${(err as Error).message}` };
    }
    if (reply.silent) return;
    if (reply.drop) {
      s.end();
      return;
    }
    const body = typeof reply.body === "string" ? new TextEncoder().encode(reply.body) : (reply.body ?? new Uint8Array(0));
    let head = `HTTP/1.1 ${reply.status} ${REASONS[reply.status] ?? "Status"}\r\nConnection: close\r\n`;
    for (const [k, v] of Object.entries(reply.headers ?? {})) head += `${k}: ${v}\r\n`;
    const declared = reply.contentLength === undefined ? body.length : reply.contentLength;
    if (declared !== null) head += `Content-Length: ${declared}\r\n`;
    head += "\r\n";
    let sent = body;
    let after: Conn["after"] = "end";
    if (reply.cutAfter !== undefined) {
      sent = body.subarray(0, reply.cutAfter);
      after = "cut";
    } else if (reply.stallAfter !== undefined) {
      sent = body.subarray(0, reply.stallAfter);
      after = "stall";
    }
    if (reply.dripEveryMs !== undefined) {
      s.write(head);
      let i = 0;
      const timer = setInterval(() => {
        if (i >= sent.length || s.write(sent.subarray(i, i + 1)) <= 0) {
          clearInterval(timer);
          s.end();
          return;
        }
        i++;
      }, reply.dripEveryMs);
      return;
    }
    const headBytes = new TextEncoder().encode(head);
    const out = new Uint8Array(headBytes.length + sent.length);
    out.set(headBytes);
    out.set(sent, headBytes.length);
    s.data.out = out;
    s.data.at = 0;
    s.data.after = after;
    flush(s);
  };

  const listener = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { head: "", raw: new Uint8Array(0), out: null, at: 0, after: "end", handled: false };
      },
      data(s, chunk) {
        const c = s.data;
        if (c.handled) return;
        const raw = new Uint8Array(c.raw.length + chunk.length);
        raw.set(c.raw);
        raw.set(chunk, c.raw.length);
        c.raw = raw;
        c.head = new TextDecoder("latin1").decode(raw);
        const end = c.head.indexOf("\r\n\r\n");
        if (end < 0) return;
        const lines = c.head.slice(0, end).split("\r\n");
        const [method = "", target = ""] = (lines[0] ?? "").split(" ");
        const headers = new Headers();
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(":");
          if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
        }
        const body = requestBody(raw.subarray(end + 4), headers);
        if (body === null) return; // more to come
        c.handled = true;
        const req: FakeRequest = { method, target, url: new URL(target, server.url), headers, body };
        server.requests.push(req);
        void respond(s, req);
      },
      drain(s) {
        flush(s);
      },
      error() {},
      close() {},
    },
  });
  server.port = listener.port;
  server.host = `127.0.0.1:${listener.port}`;
  server.url = `http://${server.host}`;
  return server;
}

/** The whole body once it has arrived (by Content-Length, or chunked to its last chunk), else null. */
function requestBody(rest: Uint8Array, headers: Headers): Uint8Array | null {
  if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
    const parts: Uint8Array[] = [];
    let at = 0;
    for (;;) {
      const text = new TextDecoder("latin1").decode(rest.subarray(at, at + 32));
      const eol = text.indexOf("\r\n");
      if (eol < 0) return null;
      const n = parseInt(text.slice(0, eol), 16);
      at += eol + 2;
      if (n === 0) break;
      if (rest.length < at + n + 2) return null;
      parts.push(rest.subarray(at, at + n));
      at += n + 2;
    }
    return new Uint8Array(Buffer.concat(parts));
  }
  const length = Number(headers.get("content-length") ?? "0");
  return rest.length >= length ? rest.slice(0, length) : null;
}
