// src/sys/init.c, imported as text (Bun embeds it in the compiled binary).
declare const source: string;
export default source;
