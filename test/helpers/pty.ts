// A command on a pty of its own, typed at as a person would: each step waits until the output shows
// a text, then types its keys. python3's pty module holds the master (util-linux `script` cannot
// wait for output before it types). The window is 33 rows × 101 columns.
export interface PtyStep {
  /** Wait until the output (from the start, \r removed) contains this… */
  expect?: string;
  /** …and this long (the program may not be reading yet: a terminal in cooked mode echoes it itself)… */
  afterMs?: number;
  /** …then type this. */
  send?: string;
}

export interface PtyResult {
  /** The exit code, or null when it still ran after the last step and `waitMs` (it is then killed). */
  code: number | null;
  /** Everything the terminal showed, \r removed. */
  out: string;
  /** The same with every \r kept: the bytes as they came. */
  bytes: string;
}

const DRIVER = String.raw`
import fcntl, json, os, pty, select, signal, struct, sys, termios, time
steps, wait_ms = json.loads(sys.argv[1]), int(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(sys.argv[3], sys.argv[3:], os.environ)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
out, eof = b"", False
def read(until, deadline):
    global out, eof
    while not eof and time.time() < deadline and not (until and until in out.replace(b"\r", b"")):
        r, _, _ = select.select([fd], [], [], 0.05)
        if not r: continue
        try: d = os.read(fd, 4096)
        except OSError: d = b""
        if not d: eof = True
        out += d
for s in steps:
    if s.get("expect"):
        read(s["expect"].encode(), time.time() + 15)
        if s["expect"].encode() not in out.replace(b"\r", b""): break
    if s.get("afterMs"): read(None, time.time() + s["afterMs"] / 1000)
    if s.get("send"): os.write(fd, s["send"].encode())
read(None, time.time() + wait_ms / 1000)
end, code = time.time() + (wait_ms / 1000 if eof else 0.2), None
while time.time() < end:
    p, st = os.waitpid(pid, os.WNOHANG)
    if p: code = os.waitstatus_to_exitcode(st); break
    time.sleep(0.02)
if code is None:
    os.kill(pid, signal.SIGKILL); os.waitpid(pid, 0)
sys.stdout.write(json.dumps({"code": code, "out": out.decode("utf-8", "replace")}))
`;

/** Runs argv on a pty through the steps; gives it `waitMs` after the last one to end. */
export function onPty(argv: string[], steps: PtyStep[], env: Record<string, string>, waitMs = 5000): PtyResult {
  const r = Bun.spawnSync(["python3", "-c", DRIVER, JSON.stringify(steps), String(waitMs), ...argv], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 120_000 });
  if (r.exitCode !== 0) throw new Error(`pty driver: ${r.stderr.toString()}`);
  const res = JSON.parse(r.stdout.toString()) as PtyResult;
  return { code: res.code, out: res.out.replace(/\r/g, ""), bytes: res.out };
}
