// What a registry's unwanted answer means: which error kind, retried or not, and its message.
import { NotFoundError, PermissionError, UnauthenticatedError, UnavailableError } from "../../errors.ts";
import { clean, registryErrorMessage } from "../auth.ts";
import { readErrorBody } from "./body.ts";
import type { Connection } from "./connection.ts";
import type { Exchange } from "./transport.ts";
import { TransientError } from "./transient.ts";

/** The error for a response that is not the success the caller wanted. */
export async function statusError(conn: Connection, ex: Exchange, what: string, notFound: (message: string) => string): Promise<Error> {
  const { res, url } = ex;
  const message = registryErrorMessage(await readErrorBody(conn, res, url.origin));
  const detail = message ? `: ${message}` : "";
  const status = `${res.status}${res.statusText ? ` ${clean(res.statusText)}` : ""}`;
  if (res.status === 404) return new NotFoundError(notFound(message));
  if (res.status === 429 || res.status >= 500) {
    return new TransientError(`${url.origin} answered ${status}${detail}`, { answered: true });
  }
  if (res.status === 401) return new UnauthenticatedError(`Cannot ${what}: ${url.origin} answered ${status}${detail}`);
  if (res.status === 403) return new PermissionError(`Cannot ${what}: ${message || "denied: access forbidden"}`);
  return new UnavailableError(`Cannot ${what}: ${url.origin} answered ${status}${detail}`);
}
