/* stdin of a detached container run with -i (without -t): a FIFO, DIR/stdin, that we hold open
 * read-write for the container's life, so its reader never sees EOF between `attach`es (Docker
 * keeps an -i container's stdin open too) and a writer never blocks at open. `attach` writes the
 * caller's stdin into it (src/lifecycle/stdin.ts). */

#define SYS_mknodat 259
#define S_IFIFO 0010000
static int stdin_wanted;

/* The fd the container gets as stdin: the FIFO, or -1 (/dev/null) without -i. */
static long stdin_fd(void)
{
  char path[PATHMAX];
  if (!stdin_wanted) return -1;
  copy(path, PATHMAX, dir, "/stdin");
  S(SYS_unlinkat, AT_FDCWD, path, 0);
  if (S(SYS_mknodat, AT_FDCWD, path, S_IFIFO | 0600, 0) < 0) return -1;
  long fd = S(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC);
  return fd < 0 ? -1 : fd;
}
