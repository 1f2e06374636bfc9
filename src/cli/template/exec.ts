// The executor of Go's text/template (src/text/template/exec.go) over JSON-like values: fields
// of objects (or functions the data provides, called with arguments, as Go calls methods),
// variables, pipelines, if/with/range with else, break/continue, named templates. Errors carry
// Go's text: `template: :1:2: executing "" at <.Foo>: ...`. Every run is bounded in steps,
// output and template nesting, so no input can hang or exhaust memory.
import { argString, cmdString, nodeString, type Arg, type Cmd, type Node, type Pipe } from "./ast.ts";
import { FUNCS, MAX_OUTPUT, type Func, type Param } from "./funcs.ts";
import type { Tree } from "./parse.ts";
import { goString, isInt, isObject, sortedKeys, truth, typeName, utf8Length, type Value } from "./value.ts";

export interface ExecOptions {
  funcs?: Record<string, Func>;
  /** Go's Option("missingkey=error"): a missing map key fails instead of printing <no value>. */
  missingKeyError?: boolean;
}

/** A failed execution: Go's message, and what was written before it. */
export class TemplateExecError extends Error {
  constructor(
    message: string,
    readonly partial: string,
  ) {
    super(message);
  }
}

const MAX_STEPS = 1_000_000;
const MAX_TEMPLATE_DEPTH = 200;
const NO_FINAL = Symbol("missing");
type Final = Value | typeof NO_FINAL;
type Flow = 0 | 1 | 2; // normal, break, continue
// Where an error happened: a node (its text is made only when an error is reported), or a spot.
type At = Node | Arg | Cmd | { pos: number; text: string };
const NODE_KINDS = new Set(["text", "action", "if", "range", "with", "template", "break", "continue"]);
function atText(w: At): string {
  if ("args" in w) return cmdString(w);
  if (!("k" in w)) return w.text;
  return NODE_KINDS.has(w.k) ? nodeString(w as Node) : argString(w as Arg);
}

export function execute(tree: Tree, text: string, data: Value, opts: ExecOptions = {}): string {
  const funcs = opts.funcs ?? FUNCS;
  let out = "";
  let steps = 0;
  let depth = 0;
  let name = "";
  const vars: { name: string; value: Value }[] = [{ name: "$", value: data }];

  const errorf = (where: At, msg: string): never => {
    const before = text.slice(0, "pos" in where ? where.pos : 0);
    const nl = before.lastIndexOf("\n");
    const line = 1 + (before.match(/\n/g)?.length ?? 0);
    const col = utf8Length(nl < 0 ? before : before.slice(nl + 1));
    const whole = atText(where);
    const ctx = [...whole];
    const shown = ctx.length > 20 ? `${ctx.slice(0, 20).join("")}...` : whole;
    throw new TemplateExecError(`template: ${name}:${line}:${col}: executing ${JSON.stringify(name)} at <${shown}>: ${msg}`, out);
  };
  const step = (where: At) => {
    if (++steps > MAX_STEPS) errorf(where, `execution exceeds ${MAX_STEPS} steps`);
  };
  const write = (s: string, where: At) => {
    out += s;
    if (out.length > MAX_OUTPUT) errorf(where, `output exceeds ${MAX_OUTPUT} bytes`);
  };

  function walkList(dot: Value, list: Node[]): Flow {
    for (const n of list) {
      const f = walk(dot, n);
      if (f) return f;
    }
    return 0;
  }

  function walk(dot: Value, n: Node): Flow {
    if (n.k === "text") {
      write(n.text, n);
      return 0;
    }
    const where = n;
    step(where);
    switch (n.k) {
      case "action": {
        const v = evalPipeline(dot, n.pipe);
        if (n.pipe.decl.length === 0) write(goString(v), where);
        return 0;
      }
      case "if":
      case "with": {
        const mark = vars.length;
        try {
          const v = evalPipeline(dot, n.pipe);
          if (truth(v)) return walkList(n.k === "with" ? v : dot, n.list);
          return n.else ? walkList(dot, n.else) : 0;
        } finally {
          vars.length = mark;
        }
      }
      case "range":
        return walkRange(dot, n, where);
      case "break":
        return 1;
      case "continue":
        return 2;
      case "template": {
        const list = tree.defs.get(n.name);
        if (!list) return errorf(where, `template ${JSON.stringify(n.name)} not defined`);
        if (depth >= MAX_TEMPLATE_DEPTH) errorf(where, `exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
        const newDot = n.pipe ? evalPipeline(dot, n.pipe) : undefined;
        const saved = vars.splice(0);
        const savedName = name;
        vars.push({ name: "$", value: newDot });
        depth++;
        name = n.name;
        try {
          walkList(newDot, list);
        } finally {
          depth--;
          name = savedName;
          vars.splice(0, vars.length, ...saved);
        }
        return 0;
      }
    }
  }

  function walkRange(dot: Value, n: Extract<Node, { list: Node[] }>, where: At): Flow {
    const mark = vars.length;
    try {
      const val = evalPipeline(dot, n.pipe);
      const inner = vars.length;
      const decl = n.pipe.decl;
      const one = (index: Value, elem: Value): Flow => {
        if (decl.length > 0) {
          if (n.pipe.isAssign) setVar(decl.length > 1 ? decl[0]! : decl[0]!, decl.length > 1 ? index : elem, where);
          else vars[vars.length - 1]!.value = elem;
        }
        if (decl.length > 1) {
          if (n.pipe.isAssign) setVar(decl[1]!, elem, where);
          else vars[vars.length - 2]!.value = index;
        }
        try {
          return walkList(elem, n.list);
        } finally {
          vars.length = inner;
        }
      };
      let count = 0;
      const run = (index: Value, elem: Value) => {
        count++;
        step(where);
        return one(index, elem);
      };
      if (Array.isArray(val)) {
        for (let i = 0; i < val.length; i++) if (run(i, val[i]) === 1) break;
      } else if (isObject(val)) {
        for (const k of sortedKeys(val)) if (run(k, val[k]) === 1) break;
      } else if (isInt(val)) {
        if (decl.length > 1) errorf(where, `can't use ${val} to iterate over more than one variable`);
        for (let i = 0; i < val; i++) if (run(i, i) === 1) break;
      } else if (val !== null && val !== undefined) {
        errorf(where, `range can't iterate over ${goString(val)}`);
      }
      if (count === 0 && n.else) return walkList(dot, n.else);
      return 0;
    } finally {
      vars.length = mark;
    }
  }

  function setVar(varName: string, value: Value, where: At): void {
    for (let i = vars.length - 1; i >= 0; i--) {
      if (vars[i]!.name === varName) {
        vars[i]!.value = value;
        return;
      }
    }
    errorf(where, `undefined variable: ${varName}`);
  }

  function varValue(a: Arg, varName: string): Value {
    for (let i = vars.length - 1; i >= 0; i--) if (vars[i]!.name === varName) return vars[i]!.value;
    return errorf(a, `undefined variable: ${varName}`);
  }

  function evalPipeline(dot: Value, pipe: Pipe): Value {
    let value: Final = NO_FINAL;
    for (const cmd of pipe.cmds) value = evalCommand(dot, cmd, value);
    const v = value === NO_FINAL ? undefined : value;
    for (const d of pipe.decl) {
      if (pipe.isAssign) setVar(d, v, { pos: pipe.pos, text: d });
      else vars.push({ name: d, value: v });
    }
    return v;
  }

  function notAFunction(args: Arg[], final: Final): void {
    if (args.length > 1 || final !== NO_FINAL) errorf(args[0]!, `can't give argument to non-function ${argString(args[0]!)}`);
  }

  function evalCommand(dot: Value, cmd: Cmd, final: Final): Value {
    const first = cmd.args[0]!;
    step(first);
    switch (first.k) {
      case "field":
        return evalFieldChain(dot, dot, first, first.idents, cmd.args, final, false);
      case "chain": {
        const recv = evalArg(dot, "any", first.node);
        return evalFieldChain(dot, recv, first, first.fields, cmd.args, final, false);
      }
      case "ident":
        return evalFunction(dot, first, cmd, cmd.args, final);
      case "pipe":
        notAFunction(cmd.args, final);
        return evalPipeline(dot, first.pipe);
      case "var": {
        const v = varValue(first, first.idents[0]!);
        if (first.idents.length === 1) {
          notAFunction(cmd.args, final);
          return v;
        }
        return evalFieldChain(dot, v, first, first.idents.slice(1), cmd.args, final, false);
      }
    }
    notAFunction(cmd.args, final);
    switch (first.k) {
      case "bool":
        return first.v;
      case "dot":
        return dot;
      case "nil":
        return errorf(first, "nil is not a command");
      case "num":
        return first.v;
      case "str":
        return first.v;
    }
  }

  function evalFieldChain(dot: Value, recv: Value, node: Arg, idents: string[], args: Arg[], final: Final, fromMap: boolean): Value {
    let r = recv;
    let inMap = fromMap;
    for (let i = 0; i < idents.length - 1; i++) {
      r = evalField(dot, idents[i]!, node, [], NO_FINAL, r, inMap);
      inMap = true;
    }
    return evalField(dot, idents[idents.length - 1]!, node, args, final, r, inMap);
  }

  function evalField(dot: Value, field: string, node: Arg, args: Arg[], final: Final, recv: Value, fromMap: boolean): Value {
    const where = (node);
    if (recv === undefined) {
      if (opts.missingKeyError) errorf(where, `nil data; no entry for key ${JSON.stringify(field)}`);
      return undefined;
    }
    if (recv === null) return errorf(where, `nil pointer evaluating interface {}.${field}`);
    const hasArgs = args.length > 1 || final !== NO_FINAL;
    if (isObject(recv)) {
      const v = Object.hasOwn(recv, field) ? recv[field] : undefined;
      if (typeof v === "function") {
        const argv = args.slice(1).map((a) => evalArg(dot, "any", a));
        if (final !== NO_FINAL) argv.push(final);
        return callFn(field, node, () => (v as (...a: Value[]) => Value).apply(recv, argv));
      }
      if (hasArgs) errorf(where, `${field} is not a method but has arguments`);
      if (v === undefined && opts.missingKeyError) errorf(where, `map has no entry for key ${JSON.stringify(field)}`);
      return v;
    }
    return errorf(where, `can't evaluate field ${field} in type ${fromMap ? "interface {}" : typeName(recv)}`);
  }

  function callFn(fname: string, where: At, f: () => Value): Value {
    try {
      return f();
    } catch (e) {
      if (e instanceof TemplateExecError) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      return errorf(where, `error calling ${fname}: ${msg.split("\n")[0]}`);
    }
  }

  function evalFunction(dot: Value, id: Extract<Arg, { k: "ident" }>, cmd: Cmd | Arg, args: Arg[], final: Final): Value {
    const fn = funcs[id.name];
    const where = (id);
    if (!fn) return errorf(where, `${JSON.stringify(id.name)} is not a defined function`);
    const given = args.length - 1 + (final !== NO_FINAL ? 1 : 0);
    if (fn.variadic ? given < fn.params.length : given !== fn.params.length) {
      errorf(where, `wrong number of args for ${id.name}: want ${fn.variadic ? "at least " : ""}${fn.params.length} got ${given}`);
    }
    const paramOf = (i: number): Param => fn.params[i] ?? fn.variadic ?? "any";
    if (id.name === "and" || id.name === "or") {
      let v: Value;
      for (const a of args.slice(1)) {
        v = evalArg(dot, "any", a);
        if (truth(v) === (id.name === "or")) return v;
      }
      return final !== NO_FINAL ? final : v;
    }
    const argv = args.slice(1).map((a, i) => evalArg(dot, paramOf(i), a));
    if (final !== NO_FINAL) argv.push(validate(final, paramOf(argv.length), where));
    return callFn(id.name, cmd, () => fn.fn(argv));
  }

  function validate(v: Value, p: Param, where: At): Value {
    if (p === "any") return v === undefined ? null : v;
    const want = p === "strings" ? "[]string" : p;
    if (v === undefined) return errorf(where, `invalid value; expected ${want}`);
    const ok = p === "string" ? typeof v === "string" : p === "int" ? isInt(v) : Array.isArray(v) && v.every((e) => typeof e === "string");
    if (!ok) errorf(where, `wrong type for value; expected ${want}; got ${v === null ? "interface {}" : typeName(v)}`);
    return v;
  }

  function evalArg(dot: Value, p: Param, a: Arg): Value {
    const where = (a);
    switch (a.k) {
      case "dot":
        return validate(dot, p, where);
      case "nil":
        return p === "any" ? null : errorf(where, `cannot assign nil to ${p === "strings" ? "[]string" : p}`);
      case "field":
        return validate(evalFieldChain(dot, dot, a, a.idents, [a], NO_FINAL, false), p, where);
      case "var": {
        const v = varValue(a, a.idents[0]!);
        return validate(a.idents.length === 1 ? v : evalFieldChain(dot, v, a, a.idents.slice(1), [a], NO_FINAL, false), p, where);
      }
      case "pipe":
        return validate(evalPipeline(dot, a.pipe), p, where);
      case "chain":
        return validate(evalFieldChain(dot, evalArg(dot, "any", a.node), a, a.fields, [a], NO_FINAL, false), p, where);
      case "ident":
        return validate(evalFunction(dot, a, a, [a], NO_FINAL), p, where);
      case "bool":
      case "num":
      case "str": {
        const ok = p === "any" || (p === "string" && a.k === "str") || (p === "int" && a.k === "num" && Number.isInteger(a.v));
        if (!ok) errorf(where, `expected ${p === "int" ? "integer" : p === "strings" ? "[]string" : p}; found ${argString(a)}`);
        return a.v;
      }
    }
  }

  walkList(data, tree.root);
  return out;
}
