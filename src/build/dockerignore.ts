// .dockerignore as moby's patternmatcher reads it: one pattern a line, `#` comments, `!` exceptions,
// the last matching pattern decides, a pattern that matches a parent directory matches everything
// below it; `*` and `?` stop at `/`, `**` spans directories, `[...]` classes, `\` escapes (src/build/globmatch.ts). Pure.
import path from "node:path";
import { ParseError } from "../errors.ts";
import { compileGlob } from "./globmatch.ts";

export interface IgnorePattern {
  text: string;
  exclusion: boolean;
  match: (rel: string) => boolean;
}

export function parseDockerignore(text: string): IgnorePattern[] {
  const out: IgnorePattern[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let p = raw.trim();
    if (p === "" || p.startsWith("#")) continue;
    let exclusion = false;
    if (p.startsWith("!")) {
      exclusion = true;
      p = p.slice(1).trim();
      if (p === "") throw new ParseError(`Cannot parse .dockerignore: illegal exclusion pattern: "!"`);
    }
    p = path.posix.normalize(p);
    if (p.startsWith("/")) p = p.replace(/^\/+/, "") || ".";
    if (p.endsWith("/") && p !== "/") p = p.replace(/\/+$/, "");
    let match: (rel: string) => boolean;
    try {
      match = compileGlob(p);
    } catch {
      throw new ParseError(`Cannot parse .dockerignore pattern "${p}": syntax error in pattern`);
    }
    out.push({ text: p, exclusion, match });
  }
  return out;
}

/** True when `rel` (slash-separated, relative to the context) is excluded from the context. */
export function isIgnored(patterns: readonly IgnorePattern[], rel: string): boolean {
  const file = path.posix.normalize(rel);
  const parents = path.posix.dirname(file) === "." ? [] : path.posix.dirname(file).split("/");
  let matched = false;
  for (const p of patterns) {
    if (p.exclusion !== matched) continue;
    let match = p.match(file);
    for (let i = 0; !match && i < parents.length; i++) match = p.match(parents.slice(0, i + 1).join("/"));
    if (match) matched = !p.exclusion;
  }
  return matched;
}

/**
 * Whether a walk must look inside ignored directory `dir`: an exception may bring back something
 * below it. moby's test: an exception pattern that starts with the directory's path (or with `**`).
 */
export function reincludesBelow(patterns: readonly IgnorePattern[], dir: string): boolean {
  const prefix = `${dir}/`;
  return patterns.some((p) => p.exclusion && (`${p.text}/`.startsWith(prefix) || p.text.startsWith("**")));
}

/** COPY's source globs (Go's filepath.Match over the whole relative path). */
export function matchGlob(pattern: string, rel: string): boolean {
  return compileGlob(pattern.replace(/\*\*/g, "*"))(rel);
}

export function hasGlob(s: string): boolean {
  return /[*?[]/.test(s);
}
