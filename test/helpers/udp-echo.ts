// UDP for the port tests (Debian's busybox nc has no -u):
//   bun udp-echo.ts server PORT          answers each datagram with "echo:" + its text, prints it
//   bun udp-echo.ts client HOST PORT MSG sends MSG until an answer comes (bounded: 20 × 250 ms)
export {};
const [mode, a, b, msg] = process.argv.slice(2);
if (mode === "server") {
  await Bun.udpSocket({
    hostname: "0.0.0.0",
    port: Number(a),
    socket: {
      data(sock, buf, port, addr) {
        const text = buf.toString();
        console.log(`${addr}:${port} ${text}`);
        sock.send(`echo:${text}`, port, addr);
      },
    },
  });
} else if (mode === "client") {
  let answered = false;
  const sock = await Bun.udpSocket({
    socket: {
      data(_s, buf, port, addr) {
        console.log(`${addr}:${port} ${buf.toString()}`);
        answered = true;
      },
    },
  });
  for (let i = 0; i < 20 && !answered; i++) {
    sock.send(msg ?? "ping", Number(b), a!);
    await Bun.sleep(250);
  }
  sock.close();
  process.exit(answered ? 0 : 1);
} else {
  console.error("usage: udp-echo.ts server PORT | client HOST PORT MSG");
  process.exit(2);
}
