/* The ground every other part of the init stands on: x86_64 types, the libc functions used (linked,
 * or at addresses passed by src/sys/ffi.ts), system call numbers and constants, S(), strings. */
#ifndef __x86_64__
#error "tinydock's init.c knows the x86_64 system call numbers only"
#endif

typedef unsigned long size_t;
typedef unsigned long long u64;
typedef unsigned int u32;
typedef int i32;
typedef unsigned short u16;
typedef unsigned char u8;

#ifdef TD_STATIC
/* Linked statically (musl-gcc -static) into the monitor, src/sys/monitor.c, which #includes init.c: the real functions, and no waiter thread (the monitor is single-threaded and polls). */
long syscall(long, ...);
int *__errno_location(void);
void *malloc(size_t);
void free(void *);
#else
/* The libc functions used, at the addresses src/sys/ffi.ts found with dlsym(RTLD_DEFAULT) and passed
 * as -D: TinyCC's own lookup (-lc) needs libc.so, the linker script of libc6-dev, which a host
 * without a compiler does not have. */
#ifndef TD_SYSCALL
#error "compile through src/sys/ffi.ts: it defines the TD_* addresses of the libc functions"
#endif
#define syscall ((long (*)(long, ...))TD_SYSCALL)
#define __errno_location ((int *(*)(void))TD_ERRNO_LOCATION)
#define malloc ((void *(*)(size_t))TD_MALLOC)
#define free ((void (*)(void *))TD_FREE)
#define pthread_create ((int (*)(unsigned long *, const void *, void *(*)(void *), void *))TD_PTHREAD_CREATE)
#define pthread_detach ((int (*)(unsigned long))TD_PTHREAD_DETACH)
#endif

#define SYS_read 0
#define SYS_write 1
#define SYS_close 3
#define SYS_fstat 5
#define SYS_rt_sigaction 13
#define SYS_rt_sigprocmask 14
#define SYS_ioctl 16
#define SYS_dup3 292
#define SYS_socket 41
#define SYS_getpid 39
#define SYS_clone 56
#define SYS_execve 59
#define SYS_wait4 61
#define SYS_kill 62
#define SYS_fcntl 72
#define SYS_chdir 80
#define SYS_fchdir 81
#define SYS_umask 95
#define SYS_setpgid 109
#define SYS_setsid 112
#define SYS_setgroups 116
#define SYS_setresuid 117
#define SYS_setresgid 119
#define SYS_capset 126
#define SYS_rt_sigtimedwait 128
#define SYS_statfs 137
#define SYS_pivot_root 155
#define SYS_prctl 157
#define SYS_mount 165
#define SYS_umount2 166
#define SYS_sethostname 170
#define SYS_exit_group 231
#define SYS_waitid 247
#define SYS_openat 257
#define SYS_mkdirat 258
#define SYS_mknodat 259
#define SYS_fchownat 260
#define SYS_unlinkat 263
#define SYS_symlinkat 266
#define SYS_readlinkat 267
#define SYS_fchmodat 268
#define SYS_unshare 272
#define SYS_pipe2 293
#define SYS_prlimit64 302
#define SYS_seccomp 317
#define SYS_pidfd_send_signal 424
#define SYS_close_range 436
#define SYS_openat2 437
#define SYS_setns 308

#define EPERM 1
#define ENOENT 2
#define EINTR 4
#define EBADF 9
#define EACCES 13
#define EEXIST 17
#define ENOTDIR 20
#define EINVAL 22
#define ENAMETOOLONG 36
#define ENOSYS 38
#define ELOOP 40

#define AT_FDCWD -100
#define AT_SYMLINK_NOFOLLOW 0x100
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_EXCL 0200
#define O_DIRECTORY 0200000
#define O_NOFOLLOW 0400000
#define O_CLOEXEC 02000000
#define O_PATH 010000000
#define F_DUPFD_CLOEXEC 1030
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT 0x10

#define MS_RDONLY 0x1
#define MS_NOSUID 0x2
#define MS_NODEV 0x4
#define MS_NOEXEC 0x8
#define MS_REMOUNT 0x20
#define MS_BIND 0x1000
#define MS_REC 0x4000
#define MS_PRIVATE 0x40000
#define MNT_DETACH 2

#define CLONE_NEWTIME 0x80
#define CLONE_PIDFD 0x1000
#define CLONE_NEWNS 0x20000
#define CLONE_NEWCGROUP 0x02000000
#define CLONE_NEWUTS 0x04000000
#define CLONE_NEWNET 0x40000000
#define CLONE_NEWIPC 0x08000000
#define CLONE_NEWPID 0x20000000
#define SIGCHLD 17
#define SIGKILL 9
#define SIGTTOU 22

#define PR_SET_PDEATHSIG 1
#define PR_SET_DUMPABLE 4
#define PR_SET_NAME 15
#define PR_SET_KEEPCAPS 8
#define PR_CAPBSET_DROP 24
#define PR_SET_NO_NEW_PRIVS 38
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4

#define S_IFMT 0170000
#define S_IFCHR 0020000
#define S_IFBLK 0060000
#define TIOCSCTTY 0x540E
#define TIOCSPGRP 0x5410
#define SIOCGIFFLAGS 0x8913
#define SIOCSIFFLAGS 0x8914
#define CLOSE_RANGE_CLOEXEC 4
#define PATHMAX 4096
#define MAX_CGROUPS 32 /* cgroup.procs files a plan may name (v1 has a dozen hierarchies) */

/* Every system call goes through here: arguments widened to long, result as -errno on failure. glibc's
 * wrappers are avoided on purpose: set*id() would try to signal the parent's other threads. */
static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
  long r = syscall(n, a, b, c, d, e, f);
  return r == -1 ? -*__errno_location() : r;
}
#define S(...) S_(__VA_ARGS__, 0, 0, 0, 0, 0, 0, 0)
#define S_(n, a, b, c, d, e, f, ...) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

static size_t slen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

/* Appends s to buf[*n], keeping room for a NUL; returns -1 when it does not fit. */
static int cat(char *buf, size_t *n, size_t cap, const char *s)
{
  size_t l = slen(s);
  if (*n + l + 1 > cap) return -1;
  while (*s) buf[(*n)++] = *s++;
  buf[*n] = 0;
  return 0;
}

static void fmt_int(char *out, long v)
{
  char tmp[24];
  int i = 0, j = 0;
  unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
  do { tmp[i++] = '0' + u % 10; u /= 10; } while (u);
  if (v < 0) out[j++] = '-';
  while (i) out[j++] = tmp[--i];
  out[j] = 0;
}

/* v in decimal, appended to out (as cat appends a string). */
static void cat_int(char *out, size_t *n, size_t cap, long v)
{
  char num[24];
  fmt_int(num, v);
  cat(out, n, cap, num);
}

static void fd_path(char *out, long fd)
{
  size_t n = 0;
  char num[24];
  fmt_int(num, fd);
  out[0] = 0;
  cat(out, &n, 64, "/proc/self/fd/");
  cat(out, &n, 64, num);
}

static long write_file(const char *path, const char *text)
{
  long fd = S(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fd;
  long r = S(SYS_write, fd, text, slen(text));
  S(SYS_close, fd);
  return r;
}

/* Writes all of buf, through EINTR and short writes; gives up on an error (the reader has gone). */
static void put_all(int fd, const void *buf, long n)
{
  const u8 *b = buf;
  while (n > 0) {
    long w = S(SYS_write, fd, b, n);
    if (w == -EINTR) continue;
    if (w < 0) return;
    b += w;
    n -= w;
  }
}

static u64 parse_u64(const char *s)
{
  u64 v = 0;
  while (*s >= '0' && *s <= '9') v = v * 10 + (u64)(*s++ - '0');
  return v;
}

/* Field 22 of <proc dir>/stat (start time in clock ticks): with the pid, names a process for good. */
static u64 start_time_at(long dirfd, const char *path)
{
  char buf[1024];
  long fd = S(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC), r, i, field = 2;
  if (fd < 0) return 0;
  r = S(SYS_read, fd, buf, sizeof buf - 1);
  S(SYS_close, fd);
  if (r <= 0) return 0;
  buf[r] = 0;
  for (i = r - 1; i > 0 && buf[i] != ')'; i--) ;
  for (; i < r; i++) {
    if (buf[i] == ' ') { if (++field == 22) return parse_u64(buf + i + 1); }
  }
  return 0;
}

/* A namespace file to open for setns. "/proc/<pid>/ns/<name>@<start>" (a recorded process's, as
 * src/sys/procfs.ts nsJoinPath writes it) is opened below an fd on /proc/<pid>, and only once that
 * directory is checked to be the process started at <start>: a pid its process left to another is
 * refused (ESRCH), never entered (the directory stays with its process: nothing below it opens once
 * that one is gone). Any other path (a netns file) is opened as it is. The fd, or -errno. */
static long open_ns(const char *path)
{
  char dir[40];
  const char *p = path + 6, *name, *at;
  size_t n = 0;
  if (slen(path) < 6 || path[0] != '/' || path[1] != 'p' || path[2] != 'r' || path[3] != 'o' || path[4] != 'c' || path[5] != '/') p = 0;
  if (p) {
    while (*p >= '0' && *p <= '9') p++;
    name = p + 4;
    at = name;
    while (*at >= 'a' && *at <= 'z') at++;
    if (p == path + 6 || p - path > 30 || p[0] != '/' || p[1] != 'n' || p[2] != 's' || p[3] != '/' || at == name || *at != '@' || at[1] < '0' || at[1] > '9') p = 0;
  }
  if (!p) return S(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  char rel[24];
  for (; path + n < p; n++) dir[n] = path[n];
  dir[n] = 0;
  n = 0;
  for (const char *c = p + 1; c < at && n + 1 < sizeof rel; c++) rel[n++] = *c;
  rel[n] = 0;
  long procfd = S(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (procfd < 0) return procfd;
  if (start_time_at(procfd, "stat") != parse_u64(at + 1)) {
    S(SYS_close, procfd);
    return -3; /* ESRCH */
  }
  long fd = S(SYS_openat, procfd, rel, O_RDONLY | O_CLOEXEC);
  S(SYS_close, procfd);
  return fd;
}
