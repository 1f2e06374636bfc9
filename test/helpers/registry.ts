// Starts Debian's docker-registry (CNCF distribution 2.8) on a free loopback port, with its own
// temp storage and config, for tests and the demo. Each call gets a private registry.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TestRegistry {
  /** "http://127.0.0.1:PORT" */
  url: string;
  /** "127.0.0.1:PORT" */
  host: string;
  dataDir: string;
  /** The registry process (for the CPU time a bench reads from /proc). */
  pid: number;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  htpasswd?: { user: string; password: string };
}

const REGISTRY_BIN = "/usr/bin/docker-registry";
const START_ATTEMPTS = 5;
const READY_TIMEOUT_MS = 15_000;
const INSTANCE_HEADER = "X-Tinydock-Test-Registry";

export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  if (!fs.existsSync(REGISTRY_BIN)) {
    throw new Error(`Cannot start registry "${REGISTRY_BIN}": not installed (apt-get install docker-registry)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tinydock-registry-"));
  let lastError: unknown;
  try {
    if (opts.htpasswd) {
      // distribution's htpasswd reader uses Go's x/crypto/bcrypt, which accepts $2b$ hashes.
      const hash = await Bun.password.hash(opts.htpasswd.password, { algorithm: "bcrypt", cost: 4 });
      fs.writeFileSync(path.join(dir, "htpasswd"), `${opts.htpasswd.user}:${hash}\n`);
    }
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      const port = await freePort();
      try {
        return await launch(dir, port, opts);
      } catch (err) {
        lastError = err; // most likely the port was taken between freePort() and bind: try another
      }
    }
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw new Error(`Cannot start registry after ${START_ATTEMPTS} attempts: ${(lastError as Error)?.message}`, {
    cause: lastError,
  });
}

async function launch(dir: string, port: number, opts: RegistryOptions): Promise<TestRegistry> {
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  const dataDir = path.join(dir, "data");
  fs.mkdirSync(dataDir, { recursive: true });
  const configPath = path.join(dir, "config.yml");
  // Every response carries this header, so we know /v2/ was answered by our process and not by
  // whoever else grabbed the port between freePort() and the registry's bind.
  const instance = crypto.randomUUID();
  fs.writeFileSync(configPath, registryConfig(host, dataDir, opts.htpasswd ? path.join(dir, "htpasswd") : null, instance));
  const logPath = path.join(dir, "registry.log");
  const logFd = fs.openSync(logPath, "a");
  const proc = Bun.spawn([REGISTRY_BIN, "serve", configPath], {
    stdin: "ignore",
    stdout: logFd,
    stderr: logFd,
  });
  fs.closeSync(logFd);

  const stopProcess = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGTERM");
    const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
    if (!exited) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      const log = tail(logPath);
      throw new Error(`Cannot start registry on ${host}: exited with ${proc.exitCode ?? proc.signalCode}\n${log}`);
    }
    try {
      // 200 anonymously, 401 with htpasswd: either way the registry is serving.
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if ((res.status === 200 || res.status === 401) && res.headers.get(INSTANCE_HEADER) === instance) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopProcess();
      throw new Error(`Cannot start registry on ${host}: /v2/ did not answer in ${READY_TIMEOUT_MS} ms\n${tail(logPath)}`);
    }
    await Bun.sleep(50);
  }

  let stopped = false;
  return {
    url,
    host,
    dataDir,
    pid: proc.pid,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopProcess();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function registryConfig(addr: string, dataDir: string, htpasswdPath: string | null, instance: string): string {
  const lines = [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${dataDir}`,
    "  delete:",
    "    enabled: true",
    "  maintenance:",
    "    uploadpurging:",
    "      enabled: false",
    "http:",
    `  addr: ${addr}`,
    "  headers:",
    "    X-Content-Type-Options: [nosniff]",
    `    ${INSTANCE_HEADER}: [${instance}]`,
  ];
  if (htpasswdPath) {
    lines.push("auth:", "  htpasswd:", "    realm: tinydock-test", `    path: ${htpasswdPath}`);
  }
  return `${lines.join("\n")}\n`;
}

/** A port the kernel just handed out on 127.0.0.1; the caller retries if someone takes it first. */
async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}
