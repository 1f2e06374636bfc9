// A userland TCP proxy (docker-proxy's job), only for bench/net.ts to compare with DNAT:
//   bun bench/tcp-proxy.ts LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT
// Each side's bytes are queued while the other side cannot take them, and reading pauses meanwhile.
import type { Socket } from "bun";

const [listenHost, listenPort, targetHost, targetPort] = process.argv.slice(2);
if (!targetPort) {
  console.error("usage: tcp-proxy.ts LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT");
  process.exit(2);
}

interface Side {
  peer?: Socket<Side>;
  /** What the client sent before the upstream connection was up. */
  early: Uint8Array[];
  queue: Uint8Array[];
  ended: boolean;
}

/** Writes what it can; the rest waits for drain. */
function send(to: Socket<Side>, data: Uint8Array): void {
  const q = to.data.queue;
  if (q.length > 0) {
    q.push(data);
    return;
  }
  const n = to.write(data);
  if (n < data.length) q.push(data.subarray(Math.max(n, 0)));
}

function flush(s: Socket<Side>): void {
  const q = s.data.queue;
  while (q.length > 0) {
    const head = q[0]!;
    const n = s.write(head);
    if (n < head.length) {
      q[0] = head.subarray(Math.max(n, 0));
      return;
    }
    q.shift();
  }
  if (s.data.ended) s.end();
}

const handlers = {
  data(s: Socket<Side>, chunk: Uint8Array) {
    if (s.data.peer) send(s.data.peer, chunk);
    else s.data.early.push(chunk.slice());
  },
  drain(s: Socket<Side>) {
    flush(s);
  },
  close(s: Socket<Side>) {
    const p = s.data.peer;
    if (p) {
      p.data.ended = true;
      if (p.data.queue.length === 0) p.end();
    }
  },
  error(s: Socket<Side>) {
    s.data.peer?.end();
  },
};

Bun.listen<Side>({
  hostname: listenHost!,
  port: Number(listenPort),
  socket: {
    ...handlers,
    async open(client) {
      client.data = { queue: [], ended: false, early: [] };
      const upstream = await Bun.connect<Side>({ hostname: targetHost!, port: Number(targetPort), socket: handlers });
      upstream.data = { peer: client, queue: [], ended: false, early: [] };
      client.data.peer = upstream;
      for (const chunk of client.data.early) send(upstream, chunk);
      client.data.early = [];
    },
  },
});
console.log("listening");
