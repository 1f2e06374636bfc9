// `tinydock login`'s check: the registry's /v2/ with the given credentials, over the same transport
// as pulls (endpoints, retries, the token dance when challenged).
import type { Ctx } from "../context.ts";
import { DOCKER_HUB } from "../image/reference.ts";
import { normalizeRegistryKey, type Credentials } from "./credentials.ts";
import { resolveEndpoints } from "./endpoints.ts";
import { discard } from "./transport/body.ts";
import { Connection } from "./transport/connection.ts";
import { statusError } from "./transport/status.ts";
import { Transport } from "./transport/transport.ts";

/** `tinydock login`: checks the credentials against the registry's /v2/ (with the token dance if challenged). */
export async function checkLogin(ctx: Ctx, registry: string, username: string, password: string): Promise<void> {
  const key = normalizeRegistryKey(registry);
  const name = key === "docker.io" ? DOCKER_HUB : key;
  const action = `log in to "${name}"`;
  // Mirrors serve pulls only: credentials are checked against the registry itself.
  const endpoints = resolveEndpoints(name, { registryMirrors: [], insecureRegistries: ctx.config.insecureRegistries });
  const creds: Credentials = { username, password };
  const transport = new Transport(ctx, endpoints, { action, scope: null, credentials: () => creds, login: true });
  await transport.onEndpoints(action, async (ep, deadline) => {
    const conn = new Connection(ctx, deadline);
    try {
      const ex = await transport.send(conn, ep, "/v2/", {});
      if (ex.res.status !== 200) {
        throw await statusError(conn, ex, action, (m) => `Cannot ${action}: ${ep.base}/v2/ not found, not a registry${m ? `: ${m}` : ""}`);
      }
      await discard(ex.res);
    } finally {
      conn.close();
    }
  });
}
