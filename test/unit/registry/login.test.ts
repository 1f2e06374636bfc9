import { describe, expect, test } from "bun:test";
import { UnauthenticatedError } from "../../../src/errors.ts";
import { checkLogin } from "../../../src/registry/login.ts";
import type { Handler } from "./fake-server.ts";
import { perTest } from "./fixtures.ts";

const { serve, makeCtx } = perTest();
const setup = (handler: Handler) => ({ server: serve(handler), t: makeCtx() });
const basicOf = (u: string, p: string) => `Basic ${btoa(`${u}:${p}`)}`;

describe("checkLogin", () => {
  const bearer: Handler = (req, s) => {
    if (req.url.pathname === "/token") {
      if (req.headers.get("authorization") !== basicOf("u", "p")) {
        return { status: 401, body: JSON.stringify({ details: "incorrect username or password" }) };
      }
      return { status: 200, body: JSON.stringify({ token: "good" }) };
    }
    if (req.headers.get("authorization") === "Bearer good") return { status: 200, body: "{}" };
    return { status: 401, headers: { "WWW-Authenticate": `Bearer realm="${s.url}/token",service="reg"` } };
  };

  test("bearer: good credentials; account sent, no scope", async () => {
    const { server, t } = setup(bearer);
    await checkLogin(t.ctx, server.host, "u", "p");
    const tokenReq = server.requests.find((r) => r.url.pathname === "/token")!;
    expect(tokenReq.url.searchParams.get("account")).toBe("u");
    expect(tokenReq.url.searchParams.get("service")).toBe("reg");
    expect(tokenReq.url.searchParams.has("scope")).toBe(false);
    expect(server.requests.at(-1)!.target).toBe("/v2/");
  });

  test("bearer: wrong credentials", async () => {
    const { server, t } = setup(bearer);
    const err = await checkLogin(t.ctx, server.host, "u", "bad").catch((e) => e);
    expect(err).toBeInstanceOf(UnauthenticatedError);
    expect(err.message).toBe(`Cannot log in to "${server.host}": unauthorized: incorrect username or password`);
  });

  const basic: Handler = (req) =>
    req.headers.get("authorization") === basicOf("u", "p")
      ? { status: 200, body: "{}" }
      : { status: 401, headers: { "WWW-Authenticate": 'Basic realm="Registry Realm"' } };

  test("basic: good and bad", async () => {
    const { server, t } = setup(basic);
    await checkLogin(t.ctx, server.host, "u", "p");
    const err = await checkLogin(t.ctx, `http://${server.host}/v2/`, "u", "x").catch((e) => e);
    expect(err).toBeInstanceOf(UnauthenticatedError);
    expect(err.message).toBe(`Cannot log in to "${server.host}": unauthorized: incorrect username or password`);
  });

  test("a registry without auth accepts anything, as with docker login", async () => {
    const { server, t } = setup(() => ({ status: 200, body: "{}" }));
    await expect(checkLogin(t.ctx, server.host, "u", "p")).resolves.toBeUndefined();
    // One GET /v2/, and no credentials offered to a registry that never asked for them.
    expect(server.requests.map((r) => `${r.method} ${r.target}`)).toEqual(["GET /v2/"]);
    expect(server.requests[0]!.headers.get("authorization")).toBeNull();
  });

  test("a server that is not a registry (404 at /v2/) is refused", async () => {
    const { server, t } = setup(() => ({ status: 404, body: "not here" }));
    const err = await checkLogin(t.ctx, server.host, "u", "p").catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain(`Cannot log in to "${server.host}"`);
    expect(err.message).toContain("not a registry");
  });

  test("refuses to send credentials to a plain-HTTP token server elsewhere", async () => {
    const { server, t } = setup(() => ({ status: 401, headers: { "WWW-Authenticate": 'Bearer realm="http://token.invalid/token"' } }));
    const err = await checkLogin(t.ctx, server.host, "u", "p").catch((e) => e);
    expect(err).toBeInstanceOf(UnauthenticatedError);
    expect(err.message).toContain("refusing to send credentials");
  });
});
