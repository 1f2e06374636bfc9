import type { CommandSpec } from "../command.ts";

export const events: CommandSpec = {
  command: "events",
  describe: "Get real time events from the engine",
  builder: (y) =>
    y
      .option("filter", { alias: "f", type: "string", array: true, describe: "Filter output based on conditions provided (container=, event=, type=, label=, image=)" })
      .option("format", { type: "string", describe: 'Format output: "json" or a Go template' })
      .option("since", { type: "string", describe: "Show all events created since timestamp" })
      .option("until", { type: "string", describe: "Stream events until this timestamp" }),
  async run(ctx, argv, io) {
    const { followEvents, formatEvent, parseEventFilters, parseEventTime } = await import("../../lifecycle/events.ts");
    const filters = parseEventFilters(((argv.filter as string[] | undefined) ?? []).map(String));
    const now = ctx.clock();
    const since = typeof argv.since === "string" && argv.since !== "" ? parseEventTime(argv.since, now, "--since") : undefined;
    const until = typeof argv.until === "string" && argv.until !== "" ? parseEventTime(argv.until, now, "--until") : undefined;
    const format = typeof argv.format === "string" ? argv.format : "";
    let render: (e: Parameters<typeof formatEvent>[0]) => string = formatEvent;
    if (format === "json" || format === "{{json .}}") render = (e) => JSON.stringify(e);
    else if (format !== "") {
      const { compileTemplate } = await import("../template.ts");
      const t = compileTemplate(format);
      render = (e) => t(withGoFields(e as unknown as Record<string, unknown>) as never);
    }
    let stopped = false;
    const onSig = () => (stopped = true);
    process.once("SIGINT", onSig);
    process.once("SIGTERM", onSig);
    try {
      await followEvents(ctx.root, {
        ...(since !== undefined ? { sinceNs: since } : {}),
        ...(until !== undefined ? { untilNs: until } : {}),
        filters,
        emit: (e) => io.out(`${render(e)}\n`),
        now: () => ctx.clock(),
        sleep: ctx.sleep,
        stopped: () => stopped,
      });
    } finally {
      process.off("SIGINT", onSig);
      process.off("SIGTERM", onSig);
    }
  },
};

/** events.Message's Go names of its lower-case JSON keys. */
const GO_FIELDS: readonly [string, string][] = [
  ["Status", "status"],
  ["ID", "id"],
  ["From", "from"],
  ["Scope", "scope"],
  ["Time", "time"],
  ["TimeNano", "timeNano"],
];

/**
 * Docker's template runs on events.Message: `{{.Status}}`, `{{.ID}}`, `{{.Time}}` are its Go
 * fields, whose JSON keys are lower-case. They are added unlisted, so `{{json .}}` and `range` stay
 * the JSON's.
 */
function withGoFields(e: Record<string, unknown>): Record<string, unknown> {
  const o = { ...e };
  for (const [go, key] of GO_FIELDS) if (Object.hasOwn(e, key)) Object.defineProperty(o, go, { value: e[key], enumerable: false });
  return o;
}
