/* Failure reports: what went wrong as (stage, errno, index, detail), never a formatted message;
 * src/runtime/launch.ts describeFailure names the operation from the plan. The numbers are the
 * contract with InitStage (src/runtime/encode.ts); test/unit/sys/protocol.test.ts compares them. */

enum stage {
  ST_PRCTL = 1, ST_PROPAGATION, ST_CGROUP, ST_UNSHARE, ST_OOM, ST_HOSTNAME, ST_LOOPBACK, ST_ROOTFS,
  ST_MOUNT_TARGET, ST_MOUNT, ST_REMOUNT, ST_DEVICE, ST_SYMLINK, ST_CWD, ST_PIVOT, ST_MASK, ST_READONLY,
  ST_READONLY_ROOT, ST_RLIMIT, ST_BOUNDING, ST_SETGROUPS, ST_SETGID, ST_SETUID, ST_CAPSET, ST_AMBIENT,
  ST_NO_NEW_PRIVS, ST_CHDIR, ST_TTY, ST_STDIO, ST_CLOSE_FDS, ST_SECCOMP, ST_FORK, ST_EXEC, ST_SIGNALS, ST_JOIN, ST_SYSCTL
};

/* The records on the monitor's fd 1 and on the events pipe of td_spawn's waiter thread (i32
 * little-endian, each led by its type); src/sys/protocol.ts decodes them. */
enum event { EV_FAILURE = 1, EV_STARTED = 2, EV_EXITED = 3, EV_MALFORMED = 4 };

/* The failure record: 16 bytes, then len bytes of detail. */
struct failure { i32 stage, err, index, len; char text[1024]; };

/* Where fail() writes: the child's CLOEXEC report pipe, or (typed, led by EV_FAILURE) the monitor's
 * fd 1 when the monitor itself fails before a child exists. */
static int report_fd = -1, report_typed;

/* Fills f; returns the record's size. */
static u32 failure_record(struct failure *f, int stage, long err, int index, const char *detail)
{
  u32 n = 0;
  f->stage = stage;
  f->err = (i32)(err < 0 ? -err : err);
  f->index = index;
  f->text[0] = 0;
  if (detail) while (detail[n] && n < sizeof f->text) { f->text[n] = detail[n]; n++; }
  f->len = (i32)n;
  return 16 + n;
}

/* One record on report_fd, then exit: 127/126 for exec (Docker's codes), 1 for setup. */
static void fail(int stage, long err, int index, const char *detail)
{
  struct { i32 type; struct failure f; } rec;
  u32 n = failure_record(&rec.f, stage, err, index, detail);
  rec.type = EV_FAILURE;
  if (report_fd >= 0) S(SYS_write, report_fd, report_typed ? (void *)&rec : (void *)&rec.f, n + (report_typed ? 4 : 0));
  S(SYS_exit_group, stage == ST_EXEC ? (rec.f.err == ENOENT ? 127 : 126) : 1);
  for (;;) ;
}
#define CHECK(expr, stage, index, detail) do { long r_ = (expr); if (r_ < 0) fail(stage, r_, index, detail); } while (0)
