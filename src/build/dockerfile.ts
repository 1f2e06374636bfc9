// Dockerfile text → stages of instructions, as plain data. dockerfile-ast finds the instructions,
// their lines and the parser directives; the arguments are joined here by moby's rules (the escape
// character at a line's end continues it, comment and empty lines inside a continuation are
// dropped) and split into flags and the rest. Variables are expanded later, per step (expand.ts),
// because their values depend on the base image's ENV. Pure: reads no file.
import { DockerfileParser } from "dockerfile-ast";
import { ParseError } from "../errors.ts";

export interface Instruction {
  keyword: string;
  /** 1-based line of the keyword. */
  line: number;
  /** `--name=value` flags before the arguments (`--link` alone: "true"). */
  flags: Record<string, string>;
  /** The arguments after the flags, continuation lines joined. */
  args: string;
  /** The exec (JSON) form, when the arguments are a JSON array of strings. */
  json?: string[];
  /** RUN/COPY/ADD here-documents (`<<EOF` … `EOF`), in the order of their markers. */
  heredocs?: Heredoc[];
}

export interface Heredoc {
  /** The marker word as written (`<<EOF`, `<<-"EOF"`). */
  marker: string;
  name: string;
  /** The lines between the marker's line and the terminator, each ending in a newline. */
  content: string;
  /** `<<-`: leading tabs are stripped from the content lines. */
  chomp: boolean;
  /** An unquoted name: variables in the content are expanded (COPY/ADD). */
  expand: boolean;
}

export interface StageDef {
  index: number;
  /** `AS name`, lower-cased as Docker compares it. */
  name?: string;
  /** The image reference as written (variables not yet expanded). */
  from: string;
  platform?: string;
  line: number;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  escape: string;
  syntax?: string;
  /** ARGs before the first FROM: usable in FROM lines, and in a stage that declares them again. */
  metaArgs: Instruction[];
  stages: StageDef[];
}

export const KEYWORDS = new Set([
  "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
  "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
]);

/** The flags each instruction takes; anything else is a parse error, as in Docker. */
const FLAGS: Record<string, readonly string[]> = {
  FROM: ["platform"],
  COPY: ["from", "chown", "chmod", "link", "parents", "exclude"],
  ADD: ["chown", "chmod", "checksum", "link", "keep-git-dir", "exclude"],
  HEALTHCHECK: ["interval", "timeout", "start-period", "start-interval", "retries"],
  RUN: [],
};

/** Parses `text` (the file `source`); every error names the file and the line. */
export function parseDockerfile(text: string, source: string): ParsedDockerfile {
  const df = DockerfileParser.parse(text);
  let escape = "\\";
  let syntax: string | undefined;
  for (const d of df.getDirectives()) {
    const name = d.getName()?.toLowerCase();
    const value = d.getValue() ?? "";
    if (name === "escape") {
      if (value !== "\\" && value !== "`") throw new ParseError(`Cannot parse Dockerfile "${source}" line 1: invalid escape token '${value}' does not match ` + "` or \\");
      escape = value;
    } else if (name === "syntax") syntax = value;
  }
  const lines = text.split(/\r?\n/);
  const out: ParsedDockerfile = { escape, ...(syntax ? { syntax } : {}), metaArgs: [], stages: [] };
  for (const ins of df.getInstructions()) {
    const range = ins.getRange();
    const line = range.start.line + 1;
    const fail = (reason: string): never => {
      throw new ParseError(`Cannot parse Dockerfile "${source}" line ${line}: ${reason}`);
    };
    const keyword = ins.getKeyword().toUpperCase();
    if (!KEYWORDS.has(keyword)) fail(`unknown instruction: ${ins.getKeyword()}`);
    const { text: joined, last } = joinLinesAt(lines, range.start.line, range.end.line, escape);
    const { flags, rest } = splitFlags(joined, fail);
    const allowed = FLAGS[keyword] ?? [];
    for (const f of Object.keys(flags)) if (!allowed.includes(f)) fail(`unknown flag: --${f}`);
    const parsed: Instruction = { keyword, line, flags, args: rest };
    const json = parseJsonForm(rest);
    if (json) parsed.json = json;
    else if (HEREDOC_KEYWORDS.has(keyword)) {
      const docs = readHeredocs(rest, lines, last, escape);
      if (docs === "unterminated") fail("unterminated here-document");
      else if (docs.length) parsed.heredocs = docs;
    }
    if (keyword === "FROM") {
      const words = rest.split(/\s+/).filter(Boolean);
      if (words.length !== 1 && !(words.length === 3 && words[1]!.toLowerCase() === "as")) fail('FROM requires either one or three arguments ("FROM IMAGE [AS NAME]")');
      const stage: StageDef = { index: out.stages.length, from: words[0]!, line, instructions: [] };
      if (words[2]) {
        const name = words[2].toLowerCase();
        if (!/^[a-z][a-z0-9-_.]*$/.test(name)) fail(`invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`);
        if (out.stages.some((s) => s.name === name)) fail(`duplicate stage name "${name}"`);
        stage.name = name;
      }
      if (flags.platform) stage.platform = flags.platform;
      out.stages.push(stage);
      continue;
    }
    if (needsArguments(keyword) && rest === "") fail(`${keyword} requires at least one argument`);
    const stage = out.stages.at(-1);
    if (!stage) {
      if (keyword !== "ARG") fail(`no build stage in current context: ${keyword} before FROM`);
      out.metaArgs.push(parsed);
    } else {
      stage.instructions.push(parsed);
    }
  }
  if (!out.stages.length) throw new ParseError(`Cannot parse Dockerfile "${source}": no FROM instruction`);
  return out;
}

function needsArguments(keyword: string): boolean {
  return keyword !== "HEALTHCHECK";
}

const HEREDOC_KEYWORDS = new Set(["RUN", "COPY", "ADD"]);
const HEREDOC_MARKER = /^\d*<<(-?)(["']?)([A-Za-z0-9_.-]+)\2$/;

/**
 * BuildKit's here-documents: each `<<NAME` word of the instruction takes the lines after it (after
 * the previous document's) up to a line that is NAME; `<<-` strips leading tabs, a quoted name is
 * not expanded. The content is read as written: no continuation, no comment removal.
 */
export function readHeredocs(args: string, lines: readonly string[], last: number, escape: string): Heredoc[] | "unterminated" {
  const out: Heredoc[] = [];
  let i = last + 1;
  for (const word of splitRaw(args, escape)) {
    const m = HEREDOC_MARKER.exec(word);
    if (!m) continue;
    const chomp = m[1] === "-";
    const name = m[3]!;
    const body: string[] = [];
    for (;;) {
      if (i >= lines.length) return "unterminated";
      const l = lines[i++]!;
      if ((chomp ? l.replace(/^\t+/, "") : l) === name) break;
      body.push(chomp ? l.replace(/^\t+/, "") : l);
    }
    out.push({ marker: word, name, content: body.map((l) => `${l}\n`).join(""), chomp, expand: m[2] === "" });
  }
  return out;
}

/** moby's continuation: escape + optional blanks at the end of a line joins the next one. */
export function joinLines(lines: readonly string[], start: number, end: number, escape: string): string {
  return joinLinesAt(lines, start, end, escape).text;
}

/** joinLines, and the index of the last line it read. */
function joinLinesAt(lines: readonly string[], start: number, end: number, escape: string): { text: string; last: number } {
  const cont = new RegExp(`${escape === "\\" ? "\\\\" : "`"}[ \\t]*$`);
  let first = (lines[start] ?? "").replace(/^\s+/, "");
  first = first.replace(/^\S+\s*/, ""); // the keyword
  let out = "";
  let cur = first;
  let i = start;
  for (;;) {
    const m = cont.exec(cur);
    if (!m) {
      out += cur;
      break;
    }
    out += cur.slice(0, m.index);
    // the next line that is not a comment or blank
    let next: string | undefined;
    while (++i <= Math.max(end, start) + 1000 && i < lines.length) {
      const l = lines[i]!;
      if (/^\s*#/.test(l) || /^\s*$/.test(l)) continue;
      next = l;
      break;
    }
    if (next === undefined) break;
    cur = next;
  }
  return { text: out.trim(), last: Math.min(i, lines.length - 1) };
}

/** Leading `--name=value` words (Docker's flag syntax: always with `=`, or a bare boolean). */
export function splitFlags(text: string, fail: (reason: string) => never): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = text;
  for (;;) {
    const m = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
    if (!m) break;
    if (Object.hasOwn(flags, m[1]!)) fail(`duplicate flag specified: --${m[1]}`);
    flags[m[1]!] = m[2] ?? "true";
    rest = rest.slice(m[0].length);
  }
  return { flags, rest: rest.trim() };
}

/** The exec form: a JSON array of strings, else undefined (then it is the shell form, as Docker). */
export function parseJsonForm(text: string): string[] | undefined {
  if (!text.startsWith("[")) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v as string[];
  } catch {}
  return undefined;
}

/**
 * Words of the text with their quotes and escapes left in (for KEY=VALUE pairs, whose values are
 * expanded one by one afterwards).
 */
export function splitRaw(text: string, escape = "\\"): string[] {
  const out: string[] = [];
  let word = "";
  let quote = "";
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (!quote && /\s/.test(c)) {
      if (inWord) out.push(word);
      word = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === escape && quote !== "'" && i + 1 < text.length) {
      word += c + text[++i];
      continue;
    }
    if (!quote && (c === '"' || c === "'")) quote = c;
    else if (quote === c) quote = "";
    word += c;
  }
  if (inWord) out.push(word);
  return out;
}

/**
 * ENV/LABEL/ARG pairs as written: `K=V ...`, or the legacy `K V with spaces` (ENV, LABEL). Values
 * unexpanded; undefined for an ARG with no default.
 */
export function rawPairs(keyword: string, args: string, escape: string, fail: (reason: string) => never): [string, string | undefined][] {
  const words = splitRaw(args, escape);
  if (!words.length) fail(`${keyword} requires at least one argument`);
  if (keyword !== "ARG" && !words[0]!.includes("=")) {
    if (words.length < 2) fail(`${keyword} must have two arguments`);
    const value = args.slice(args.indexOf(words[0]!) + words[0]!.length).trim();
    return [[words[0]!, value]];
  }
  return words.map((w) => {
    const eq = w.indexOf("=");
    if (eq < 0) {
      if (keyword !== "ARG") fail(`${keyword} names can not be blank: "${w}" has no "="`);
      return [w, undefined];
    }
    if (eq === 0) fail(`${keyword} names can not be blank`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}
