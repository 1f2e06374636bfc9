// WWW-Authenticate parser (RFC 7235 §4.1, §2.1). A header may hold several challenges, each a
// scheme followed by either a token68 or a comma-separated list of auth-params whose values are
// tokens or quoted strings (with backslash escapes, and commas that do not end anything). Pure.
import { ParseError } from "../errors.ts";

export interface Challenge {
  /** Lower-cased: "bearer", "basic". */
  scheme: string;
  /** Lower-cased parameter names; values unquoted and unescaped. */
  params: Record<string, string>;
  /** The token68 form ("Negotiate abc=="), when that is what followed the scheme. */
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;
const MAX_SHOWN = 120;

function bad(header: string, reason: string): never {
  const shown = header.length > MAX_SHOWN ? `${header.slice(0, MAX_SHOWN)}…` : header;
  throw new ParseError(`Cannot parse authentication challenge "${shown.replace(/[\x00-\x1f\x7f]/g, "?")}": ${reason}`);
}

/** All challenges of one (possibly comma-joined) WWW-Authenticate value, in order. */
export function parseChallenges(header: string): Challenge[] {
  const s = header;
  let i = 0;
  const out: Challenge[] = [];

  const skipWs = (): void => {
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && TCHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    // at the opening quote
    i++;
    let value = "";
    while (i < s.length) {
      const c = s[i]!;
      if (c === '"') {
        i++;
        return value;
      }
      if (c === "\\") {
        if (i + 1 >= s.length) break;
        value += s[i + 1];
        i += 2;
        continue;
      }
      const code = c.charCodeAt(0);
      if ((code < 0x20 && c !== "\t") || code === 0x7f) bad(header, "control character in quoted string");
      value += c;
      i++;
    }
    bad(header, "unterminated quoted string");
  };
  /** Where the next list element starts: past white space and empty elements (RFC 7230 §7). */
  const skipSeparators = (): boolean => {
    let sawComma = false;
    for (;;) {
      skipWs();
      if (s[i] === ",") {
        sawComma = true;
        i++;
        continue;
      }
      return sawComma;
    }
  };
  /** Whether an auth-param (token BWS "=") starts at i, without consuming anything. */
  const paramAhead = (): boolean => {
    let j = i;
    while (j < s.length && TCHAR.test(s[j]!)) j++;
    if (j === i) return false;
    while (j < s.length && (s[j] === " " || s[j] === "\t")) j++;
    return s[j] === "=";
  };

  skipSeparators();
  while (i < s.length) {
    const scheme = readToken();
    if (!scheme) bad(header, `unexpected character ${JSON.stringify(s[i])} where a scheme should start`);
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    if (i < s.length && s[i] !== " " && s[i] !== "\t" && s[i] !== ",") {
      bad(header, `unexpected character ${JSON.stringify(s[i])} after scheme "${scheme}"`);
    }
    skipWs();
    if (i >= s.length) break;
    if (s[i] === ",") {
      skipSeparators(); // a scheme without parameters: "Negotiate, Basic realm=…"
      continue;
    }

    // token68: token68 chars, then "="s, then the end of this challenge.
    const t68Start = i;
    let j = i;
    while (j < s.length && TOKEN68_CHAR.test(s[j]!)) j++;
    let k = j;
    while (k < s.length && s[k] === "=") k++;
    let end = k;
    while (end < s.length && (s[end] === " " || s[end] === "\t")) end++;
    if (j > t68Start && (end === s.length || s[end] === ",") && (k > j || !paramAhead())) {
      challenge.token68 = s.slice(t68Start, k);
      i = end;
      skipSeparators();
      continue;
    }

    // auth-params, until something that is not "name=" (the next challenge's scheme) or the end.
    if (!paramAhead()) bad(header, `unexpected character ${JSON.stringify(s[i])} after scheme "${scheme}"`);
    while (paramAhead()) {
      const name = readToken().toLowerCase();
      skipWs();
      i++; // "="
      skipWs();
      let value: string;
      if (s[i] === '"') {
        value = readQuoted();
      } else {
        value = readToken();
        if (!value) bad(header, `parameter "${name}" has no value`);
      }
      if (Object.hasOwn(challenge.params, name)) bad(header, `parameter "${name}" appears twice`);
      challenge.params[name] = value;
      skipWs();
      if (i >= s.length) break;
      if (s[i] !== ",") bad(header, `unexpected character ${JSON.stringify(s[i])} after parameter "${name}"`);
      skipSeparators();
    }
  }
  if (out.length === 0) bad(header, "no challenge");
  return out;
}

/** The first challenge with this scheme (case-insensitive), if any. */
export function findChallenge(challenges: Challenge[], scheme: string): Challenge | undefined {
  const want = scheme.toLowerCase();
  return challenges.find((c) => c.scheme === want);
}
