/* tinydock-monitor: what outlives the CLI for a detached container (conmon's role), and the
 * nsenter of `tinydock exec`.
 *
 * Built at `make` time, statically with musl (`musl-gcc -static -Os`, see the Makefile), embedded
 * in the tinydock binary and executed from a memfd (src/lifecycle/monitor.ts), so the host needs no
 * compiler. It #includes init.c: the plan parser and the child code (clone → mounts → execve) are
 * the very ones `tinydock run` compiles with TinyCC. Single-threaded, a poll() loop, no malloc after
 * the start, raw system calls: a few hundred KiB of memory per container (see the PSS figure in
 * test/e2e/detached.test.ts).
 *
 *   tinydock-monitor run -d DIR -l LOG [-s MAXSIZE] [-n MAXFILE] [-r POLICY -B RESET,DELAY...] [-R N] [-o OOMFILE]... [-t]
 *                        [-K LINKDIR -k MESSAGE]... [-- CLEANUP ARGV...]    < encoded plan
 *     Starts the container, reports on fd 1 (below) and closes it, then: logs stdout/stderr in
 *     Docker's json-file format with rotation, writes DIR/run.json atomically on every transition,
 *     applies the restart policy with the back-off table -B (ms, see run.c; never once DIR/stopping
 *     exists) and, when the container is done for good, execs CLEANUP ARGV (`tinydock container
 *     cleanup <id>`).
 *   tinydock-monitor exec PID [STARTTIME]    < encoded plan (only the process fields are used)
 *     Joins PID's namespaces and cgroup, runs the plan's command there with the plan's ids, caps,
 *     no_new_privs and seccomp, reports on fd 1 and exits as the command did (128+N for signal N).
 *
 *   tinydock-monitor launch CLONEFLAGS PARENTPID    (see monitor/launch.c)
 *   tinydock-monitor pause NETNS HOSTNAME           (a pod's infra process, see monitor/pause.c)
 *
 * The report on fd 1, i32 little-endian: [2, pid] once the command has exec'd, or [1, stage, errno,
 * index, len, detail...] (init.c's failure record) when it could not be started (enum event in
 * init/report.c; src/sys/protocol.ts decodes it).
 *
 * One file per role, built as one unit (the Makefile compiles this file alone): monitor/util.c
 * (what the modes share), log.c (the json-file log), state.c (run.json), run.c (the restart
 * manager), launch.c (the foreground init), exec.c, check.c (a check run in a child), health.c
 * (Docker's health checks), probe.c (Kubernetes' probes), links.c (a restart's --link check).
 */
#define TD_STATIC 1
#include "init.c"
#include "monitor/util.c"
#include "monitor/log.c"
#include "monitor/state.c"
#include "monitor/exec.c"
#include "monitor/events.c"
#include "monitor/hook.c"
#include "monitor/check.c"
#include "monitor/probe.c"
#include "monitor/health.c"
#include "monitor/stdin.c"
#include "monitor/links.c"
#include "monitor/run.c"
#include "monitor/launch.c"
#include "monitor/pause.c"

int main(int argc, char **argv, char **envp)
{
  S(SYS_prctl, PR_SET_NAME, "tinydock-monito", 0, 0, 0);
  /* The monitor's own failures (fail()) are reported on fd 1, typed; a child's go to its pipe. */
  report_fd = 1;
  report_typed = 1;
  if (argc >= 2 && streq(argv[1], "run")) return run_mode(argc, argv, envp);
  if (argc >= 2 && streq(argv[1], "exec")) return exec_mode(argc, argv);
  if (argc >= 2 && streq(argv[1], "launch")) return launch_mode(argc, argv);
  if (argc >= 2 && streq(argv[1], "pause")) return pause_mode(argc, argv);
  put_all(2, "usage: tinydock-monitor run|exec|launch ...\n", 44);
  return 2;
}

