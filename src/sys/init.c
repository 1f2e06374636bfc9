/* tinydock's container init: the code between clone() and execve().
 *
 * Built two ways from the files below: linked statically into the monitor at `make` time (monitor.c
 * #includes this file; its `launch` mode is what a foreground run uses, its `run` mode a detached
 * one), and compiled at run time by bun:ffi's cc (TinyCC) when the monitor cannot be executed from a
 * memfd here. TinyCC compiles from one text, where an #include of a sibling would not resolve:
 * src/sys/init-source.ts concatenates the same files in the same order (a unit test checks the two
 * lists agree). No system header anywhere: every prototype, struct and constant is declared in
 * init/base.c (x86_64 Linux). TypeScript builds the RunPlan (src/runtime/plan.ts),
 * encodes it (src/runtime/encode.ts) and calls td_spawn(); init/plan.c parses the bytes (bounds-checked,
 * in the parent, where malloc is allowed), clones the child into new namespaces and the child only
 * executes the plan: raw system calls, no malloc, no stdio, no JavaScript (Bun is multi-threaded, the
 * child of a clone() has one thread and must not touch any lock another thread may have held).
 *
 * A failure in the child is written to a CLOEXEC pipe as one record (stage, errno, index, detail);
 * a successful execve closes the pipe. A waiter thread per container turns "pipe closed" and the
 * child's exit into messages on a second pipe that TypeScript reads without blocking its event loop
 * (see td_spawn for why a thread). The stage numbers are the contract with src/runtime/encode.ts.
 */
#include "init/base.c"
#include "init/report.c"
#include "init/plan.c"
#include "init/paths.c"
#include "init/mounts.c"
#include "init/security.c"
#include "init/process.c"
#include "init/console.c"
#include "init/child.c"
#include "init/spawn.c"
