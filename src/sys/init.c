/* tinydock's container init: the code between clone() and execve().
 *
 * Built two ways from this one file: linked statically into the monitor at `make` time (monitor.c
 * #includes it; its `launch` mode is what a foreground run uses, its `run` mode a detached one), and
 * compiled at run time by bun:ffi's cc (TinyCC) when the monitor cannot be executed from a memfd
 * here. For TinyCC it includes no header: every prototype, struct and constant is declared here
 * (x86_64 Linux). TypeScript builds the RunPlan (src/runtime/plan.ts),
 * encodes it (src/runtime/encode.ts) and calls td_spawn(); this file parses the bytes (bounds-checked,
 * in the parent, where malloc is allowed), clones the child into new namespaces and the child only
 * executes the plan: raw system calls, no malloc, no stdio, no JavaScript (Bun is multi-threaded, the
 * child of a clone() has one thread and must not touch any lock another thread may have held).
 *
 * A failure in the child is written to a CLOEXEC pipe as one record (stage, errno, index, detail);
 * a successful execve closes the pipe. A waiter thread per container turns "pipe closed" and the
 * child's exit into messages on a second pipe that TypeScript reads without blocking its event loop
 * (see td_spawn for why a thread). The stage numbers are the contract with src/runtime/encode.ts.
 */
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
/* Linked statically (musl-gcc -static) into the monitor, src/sys/monitor.c, which #includes this
 * file: the real functions, and no waiter thread (the monitor is single-threaded and polls). */
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

/* ---- the plan, as encodePlan wrote it (all little-endian; see src/runtime/encode.ts) ---- */

struct mnt { const char *src, *dst, *type, *data, *cwd; u32 flags, remount, kind; };
struct dev { const char *path; u32 mode, major, minor, uid, gid; };
struct lnk { const char *target, *path; };
struct rlim { u32 res; u64 soft, hard; };
struct join { u32 ns; const char *path; };
struct plan {
  u32 ns;
  const char *hostname;
  struct mnt root;
  const char *rootpath;
  u32 nm; struct mnt *m;
  u32 nmask; const char **mask;
  u32 nro; const char **ro;
  u32 roroot;
  u32 ndev; struct dev *dev;
  u32 nln; struct lnk *ln;
  u32 ncg; const char **cg;
  u32 uid, gid, ngid; u32 *gids;
  u64 cap[5]; /* bounding, effective, permitted, inheritable, ambient */
  u32 nnp;
  const u8 *bpf; u32 nbpf; /* instructions */
  u32 nrl; struct rlim *rl;
  u32 argc; const char **argv;
  u32 envc; const char **envp;
  const char *cwd;
  i32 stdio[3];
  i32 tty;
  u32 init;
  u32 hasoom; i32 oom;
  u32 njoin; struct join *join; /* namespaces entered by path (setns), not created */
  /* Not encoded: what the child still unshares after the joins, because the process was cloned
   * before its plan existed, into fewer namespaces (monitor.c's launch mode). 0 otherwise. */
  u32 late_ns;
};

struct rd { const u8 *p, *end; u8 *arena, *aend; int bad; };

static u32 rd_u32(struct rd *r)
{
  if (r->end - r->p < 4) { r->bad = 1; return 0; }
  u32 v = r->p[0] | r->p[1] << 8 | r->p[2] << 16 | (u32)r->p[3] << 24;
  r->p += 4;
  return v;
}
static u64 rd_u64(struct rd *r) { u64 lo = rd_u32(r); return lo | (u64)rd_u32(r) << 32; }

/* A string is u32 length, the bytes, and a NUL the reader checks; 0xFFFFFFFF is null when allowed. */
static const char *rd_str(struct rd *r, int nullable)
{
  u32 n = rd_u32(r), i;
  if (r->bad) return 0;
  if (n == 0xFFFFFFFFu && nullable) return 0;
  if ((u64)(r->end - r->p) < (u64)n + 1 || r->p[n] != 0) { r->bad = 1; return 0; }
  for (i = 0; i < n; i++) if (!r->p[i]) { r->bad = 1; return 0; }
  const char *s = (const char *)r->p;
  r->p += n + 1;
  return s;
}

/* A count of items each at least `min` bytes long, checked against what is left; then room for them. */
static void *rd_list(struct rd *r, u32 *count, u32 min, u32 size)
{
  u32 n = rd_u32(r);
  *count = 0;
  if (r->bad || n > (u64)(r->end - r->p) / min) { r->bad = 1; return 0; }
  u64 bytes = ((u64)n * size + 7) & ~7ull;
  if (bytes + 8 > (u64)(r->aend - r->arena)) { r->bad = 1; return 0; }
  void *a = r->arena;
  r->arena += bytes + 8; /* one spare slot keeps argv/envp NULL-terminated */
  *count = n;
  return a;
}

static void rd_mount(struct rd *r, struct mnt *m)
{
  m->src = rd_str(r, 1);
  m->dst = rd_str(r, 0);
  m->type = rd_str(r, 1);
  m->flags = rd_u32(r);
  m->data = rd_str(r, 1);
  m->cwd = rd_str(r, 1);
  m->remount = rd_u32(r);
  m->kind = rd_u32(r);
}

static const char **rd_strs(struct rd *r, u32 *n)
{
  const char **v = rd_list(r, n, 5, sizeof(char *));
  u32 i;
  for (i = 0; i < *n && !r->bad; i++) v[i] = rd_str(r, 0);
  if (v) v[*n] = 0;
  return v;
}

#define PLAN_MAGIC 0x31504454u /* "TDP1" */

/* Returns 0, or the offset (+1) at which the bytes stopped making sense. */
static long parse(const u8 *buf, u32 len, u8 *arena, u32 arenalen, struct plan *p)
{
  struct rd r = { buf, buf + len, arena, arena + arenalen, 0 };
  u32 i;
  if (rd_u32(&r) != PLAN_MAGIC) return 1;
  p->ns = rd_u32(&r);
  p->hostname = rd_str(&r, 0);
  rd_mount(&r, &p->root);
  p->rootpath = rd_str(&r, 0);
  p->m = rd_list(&r, &p->nm, 30, sizeof(struct mnt));
  for (i = 0; i < p->nm && !r.bad; i++) rd_mount(&r, &p->m[i]);
  p->mask = rd_strs(&r, &p->nmask);
  p->ro = rd_strs(&r, &p->nro);
  p->roroot = rd_u32(&r);
  p->dev = rd_list(&r, &p->ndev, 25, sizeof(struct dev));
  for (i = 0; i < p->ndev && !r.bad; i++) {
    struct dev *d = &p->dev[i];
    d->path = rd_str(&r, 0);
    d->mode = rd_u32(&r);
    d->major = rd_u32(&r);
    d->minor = rd_u32(&r);
    d->uid = rd_u32(&r);
    d->gid = rd_u32(&r);
  }
  p->ln = rd_list(&r, &p->nln, 10, sizeof(struct lnk));
  for (i = 0; i < p->nln && !r.bad; i++) {
    p->ln[i].target = rd_str(&r, 0);
    p->ln[i].path = rd_str(&r, 0);
  }
  p->cg = rd_strs(&r, &p->ncg);
  if (p->ncg > MAX_CGROUPS) r.bad = 1;
  p->uid = rd_u32(&r);
  p->gid = rd_u32(&r);
  p->gids = rd_list(&r, &p->ngid, 4, sizeof(u32));
  for (i = 0; i < p->ngid && !r.bad; i++) p->gids[i] = rd_u32(&r);
  for (i = 0; i < 5; i++) p->cap[i] = rd_u64(&r);
  p->nnp = rd_u32(&r);
  p->nbpf = rd_u32(&r);
  if (p->nbpf == 0xFFFFFFFFu) {
    p->nbpf = 0;
    p->bpf = 0;
  } else if (p->nbpf == 0 || p->nbpf > 4096 || (u64)(r.end - r.p) < (u64)p->nbpf * 8) {
    r.bad = 1;
  } else {
    p->bpf = r.p;
    r.p += (u64)p->nbpf * 8;
  }
  p->rl = rd_list(&r, &p->nrl, 20, sizeof(struct rlim));
  for (i = 0; i < p->nrl && !r.bad; i++) {
    p->rl[i].res = rd_u32(&r);
    p->rl[i].soft = rd_u64(&r);
    p->rl[i].hard = rd_u64(&r);
  }
  p->argv = rd_strs(&r, &p->argc);
  p->envp = rd_strs(&r, &p->envc);
  p->cwd = rd_str(&r, 0);
  for (i = 0; i < 3; i++) p->stdio[i] = (i32)rd_u32(&r);
  p->tty = (i32)rd_u32(&r);
  p->init = rd_u32(&r);
  p->hasoom = rd_u32(&r);
  p->oom = (i32)rd_u32(&r);
  p->join = rd_list(&r, &p->njoin, 9, sizeof(struct join));
  for (i = 0; i < p->njoin && !r.bad; i++) {
    p->join[i].ns = rd_u32(&r);
    p->join[i].path = rd_str(&r, 0);
    /* net, ipc, uts, cgroup only; never one the clone also creates */
    if (!r.bad && ((p->join[i].ns & ~(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)) ||
                   !p->join[i].ns || (p->join[i].ns & (p->join[i].ns - 1)) || (p->ns & p->join[i].ns)))
      r.bad = 1;
  }
  if (rd_u32(&r) != PLAN_MAGIC) r.bad = 1;
  if (!r.bad && r.p != r.end) r.bad = 1;
  /* What the child relies on without checking again. */
  if (!r.bad && (!(p->ns & CLONE_NEWNS) || p->argc == 0 || p->cwd[0] != '/' || p->rootpath[0] != '/')) r.bad = 1;
  return r.bad ? (long)(r.p - buf) + 1 : 0;
}

/* ---- the child: failure reports ---- */

enum stage {
  ST_PRCTL = 1, ST_PROPAGATION, ST_CGROUP, ST_UNSHARE, ST_OOM, ST_HOSTNAME, ST_LOOPBACK, ST_ROOTFS,
  ST_MOUNT_TARGET, ST_MOUNT, ST_REMOUNT, ST_DEVICE, ST_SYMLINK, ST_CWD, ST_PIVOT, ST_MASK, ST_READONLY,
  ST_READONLY_ROOT, ST_RLIMIT, ST_BOUNDING, ST_SETGROUPS, ST_SETGID, ST_SETUID, ST_CAPSET, ST_AMBIENT,
  ST_NO_NEW_PRIVS, ST_CHDIR, ST_TTY, ST_STDIO, ST_CLOSE_FDS, ST_SECCOMP, ST_FORK, ST_EXEC, ST_SIGNALS, ST_JOIN
};

static int report_fd = -1;

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

/* One record on the report pipe, then exit: 127/126 for exec (Docker's codes), 1 for setup. */
static void fail(int stage, long err, int index, const char *detail)
{
  struct { i32 stage, err, index, len; char text[1024]; } rec;
  size_t n = 0;
  rec.stage = stage;
  rec.err = (i32)(err < 0 ? -err : err);
  rec.index = index;
  rec.text[0] = 0;
  if (detail) while (detail[n] && n < sizeof rec.text) { rec.text[n] = detail[n]; n++; }
  rec.len = (i32)n;
  if (report_fd >= 0) S(SYS_write, report_fd, &rec, 16 + n);
  S(SYS_exit_group, stage == ST_EXEC ? (rec.err == ENOENT ? 127 : 126) : 1);
  for (;;) ;
}
#define CHECK(expr, stage, index, detail) do { long r_ = (expr); if (r_ < 0) fail(stage, r_, index, detail); } while (0)

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

/* ---- paths inside the rootfs, resolved as if the rootfs were "/" ---- */

static long open_in(int rootfd, const char *path, long flags)
{
  struct { u64 flags, mode, resolve; } how = { (u64)flags | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  return S(SYS_openat2, rootfd, path, &how, sizeof how);
}

/* Opens `path` (inside the container) under rootfd as an O_PATH fd, creating what is missing: kind 0
 * creates nothing, 1 makes directories, 2 makes the last component an empty file. Every symlink,
 * including a dangling one met while creating, resolves inside the rootfs (runc's securejoin), so
 * an image whose /dev is a symlink to /tmp/x gets <rootfs>/tmp/x and the host gets nothing. */
static long resolve(int rootfd, const char *path, int kind)
{
  char cur[PATHMAX], link[PATHMAX], next[PATHMAX];
  size_t n = 0, start, end;
  int loops;
  cur[0] = 0;
  if (cat(cur, &n, PATHMAX, path) < 0) return -ENAMETOOLONG;
  for (loops = 0; loops < 40; loops++) {
    long fd = open_in(rootfd, cur, O_PATH);
    if (fd >= 0 || fd != -ENOENT || kind == 0) return fd;
    for (start = 0;;) {
      while (cur[start] == '/') start++;
      if (!cur[start]) break; /* everything exists now */
      for (end = start; cur[end] && cur[end] != '/'; end++) ;
      char save = cur[end];
      cur[end] = 0;
      fd = open_in(rootfd, cur, O_PATH);
      if (fd >= 0) { S(SYS_close, fd); cur[end] = save; start = end; continue; }
      if (fd != -ENOENT) return fd;
      char c0 = cur[start];
      cur[start] = 0;
      long pfd = open_in(rootfd, start ? cur : "/", O_PATH | O_DIRECTORY);
      cur[start] = c0;
      if (pfd < 0) return pfd;
      const char *name = cur + start;
      size_t rest = end;
      while (save == '/' && cur[rest + 1] == '/') rest++;
      int last = save == 0 || cur[rest + 1] == 0;
      long r;
      if (last && kind == 2) {
        r = S(SYS_openat, pfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (r >= 0) S(SYS_close, r);
      } else {
        r = S(SYS_mkdirat, pfd, name, 0755);
      }
      if (r == -EEXIST) {
        /* A symlink to something missing: continue from its target, still inside the rootfs. */
        long l = S(SYS_readlinkat, pfd, name, link, PATHMAX - 1);
        S(SYS_close, pfd);
        if (l < 0) return l == -EINVAL ? -EEXIST : l;
        link[l] = 0;
        size_t m = 0;
        next[0] = 0;
        cur[start] = 0;
        cur[end] = save;
        if ((link[0] != '/' && cat(next, &m, PATHMAX, cur) < 0) || cat(next, &m, PATHMAX, link) < 0 ||
            cat(next, &m, PATHMAX, cur + end) < 0)
          return -ENAMETOOLONG;
        n = 0;
        cat(cur, &n, PATHMAX, next);
        break;
      }
      S(SYS_close, pfd);
      if (r < 0) return r;
      cur[end] = save;
      start = end;
    }
  }
  return -ELOOP;
}

/* The directory that will hold `path` (created if missing) and the last component's name. */
static long resolve_parent(int rootfd, const char *path, char *buf, const char **name)
{
  size_t n = 0, i, cut = 0;
  buf[0] = 0;
  if (cat(buf, &n, PATHMAX, path) < 0) return -ENAMETOOLONG;
  while (n > 1 && buf[n - 1] == '/') buf[--n] = 0;
  for (i = 0; i < n; i++) if (buf[i] == '/') cut = i;
  *name = buf + cut + 1;
  if (!**name || (**name == '.' && (!(*name)[1] || ((*name)[1] == '.' && !(*name)[2])))) return -EINVAL;
  buf[cut] = 0;
  long fd = resolve(rootfd, cut ? buf : "/", 1);
  buf[cut] = '/';
  return fd;
}

/* ---- the child: the plan, in order ---- */

#define SYS_mount_setattr 442
#define AT_EMPTY_PATH 0x1000
#define AT_RECURSIVE 0x8000
#define MOUNT_ATTR_RDONLY 0x1
struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd; };

/* A remount changes the top mount only: the submounts of a read-only bind (-v /:/host:ro brings
 * /host/proc, /host/sys…) are made read-only too, as Docker 25 does. No fallback: without
 * mount_setattr (Linux < 5.12, ENOSYS) the start fails rather than leave them writable. */
static void mount_rdonly_recursive(long fd, int i)
{
  struct mount_attr a = { MOUNT_ATTR_RDONLY, 0, 0, 0 };
  CHECK(S(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a), ST_REMOUNT, i, "recursive");
}

static void mount_one(int rootfd, struct mnt *m, int i)
{
  char at[64];
  long fd = resolve(rootfd, m->dst, m->kind == 1 ? 2 : 1);
  if (fd < 0) fail(ST_MOUNT_TARGET, fd, i, 0);
  fd_path(at, fd);
  CHECK(S(SYS_mount, m->src, at, m->type, m->flags, m->data), ST_MOUNT, i, 0);
  S(SYS_close, fd);
  if (m->remount) {
    /* Bind mounts ignore flags at first: remount the new mount (found again, it covers the old fd). */
    fd = resolve(rootfd, m->dst, 0);
    if (fd < 0) fail(ST_MOUNT_TARGET, fd, i, 0);
    fd_path(at, fd);
    u32 keep = m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    CHECK(S(SYS_mount, "", at, 0, MS_BIND | MS_REMOUNT | keep | m->remount, 0), ST_REMOUNT, i, 0);
    if ((m->remount & (MS_REC | MS_RDONLY)) == (MS_REC | MS_RDONLY)) mount_rdonly_recursive(fd, i);
    S(SYS_close, fd);
  }
}

static void make_device(int rootfd, struct dev *d, int i)
{
  char buf[PATHMAX], at[64];
  const char *name;
  long pfd = resolve_parent(rootfd, d->path, buf, &name);
  if (pfd < 0) fail(ST_DEVICE, pfd, i, "parent");
  u32 dev = (d->minor & 0xff) | (d->major & 0xfff) << 8 | (d->minor & ~0xffu) << 12;
  long r = S(SYS_mknodat, pfd, name, d->mode, dev);
  if (r == -EEXIST) {
    S(SYS_unlinkat, pfd, name, 0);
    r = S(SYS_mknodat, pfd, name, d->mode, dev);
  }
  if (r == -EPERM) {
    /* No mknod here (a user namespace, a device cgroup): bind the host's node over an empty file. */
    long fd = S(SYS_openat, pfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) fail(ST_DEVICE, fd, i, "create");
    S(SYS_close, fd);
    fd = S(SYS_openat, pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) fail(ST_DEVICE, fd, i, "create");
    fd_path(at, fd);
    CHECK(S(SYS_mount, d->path, at, 0, MS_BIND, 0), ST_DEVICE, i, "bind");
    S(SYS_close, fd);
  } else {
    if (r < 0) fail(ST_DEVICE, r, i, "mknod");
    CHECK(S(SYS_fchownat, pfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW), ST_DEVICE, i, "chown");
    CHECK(S(SYS_fchmodat, pfd, name, d->mode & 07777), ST_DEVICE, i, "chmod");
  }
  S(SYS_close, pfd);
}

static u32 mount_flags_of(const char *path)
{
  long st[16]; /* struct statfs: f_flags is the 11th long */
  return S(SYS_statfs, path, st) < 0 ? 0 : (u32)st[10] & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

static void mask_path(const char *p, int i)
{
  long fd = S(SYS_openat, AT_FDCWD, p, O_PATH | O_CLOEXEC);
  if (fd == -ENOENT) return;
  if (fd < 0) fail(ST_MASK, fd, i, 0);
  S(SYS_close, fd);
  fd = S(SYS_openat, AT_FDCWD, p, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    S(SYS_close, fd);
    CHECK(S(SYS_mount, "tmpfs", p, "tmpfs", MS_RDONLY, 0), ST_MASK, i, 0);
  } else {
    CHECK(S(SYS_mount, "/dev/null", p, 0, MS_BIND, 0), ST_MASK, i, 0);
  }
}

static void readonly_path(const char *p, int i)
{
  long r = S(SYS_mount, p, p, 0, MS_BIND | MS_REC, 0);
  if (r == -ENOENT) return;
  if (r < 0) fail(ST_READONLY, r, i, 0);
  CHECK(S(SYS_mount, p, p, 0, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | mount_flags_of(p), 0), ST_READONLY, i, 0);
}

static void set_caps(struct plan *p)
{
  struct { u32 version; i32 pid; } hdr = { 0x20080522, 0 };
  struct { u32 eff, prm, inh; } data[2];
  int i;
  for (i = 0; i < 2; i++) {
    data[i].eff = (u32)(p->cap[1] >> (32 * i));
    data[i].prm = (u32)(p->cap[2] >> (32 * i));
    data[i].inh = (u32)(p->cap[3] >> (32 * i));
  }
  CHECK(S(SYS_capset, &hdr, data), ST_CAPSET, 0, 0);
  CHECK(S(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), ST_AMBIENT, -1, 0);
  for (i = 0; i < 64; i++)
    if (p->cap[4] >> i & 1) CHECK(S(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0), ST_AMBIENT, i, 0);
}

static void install_seccomp(struct plan *p)
{
  struct { u16 len; const void *filter; } prog = { (u16)p->nbpf, p->bpf };
  if (p->bpf) CHECK(S(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, 0, &prog), ST_SECCOMP, 0, 0);
}

static const char *env_get(struct plan *p, const char *key)
{
  u32 i;
  size_t k = slen(key), j;
  for (i = 0; i < p->envc; i++) {
    const char *e = p->envp[i];
    for (j = 0; j < k && e[j] == key[j]; j++) ;
    if (j == k && e[k] == '=') return e + k + 1;
  }
  return 0;
}

/* execvp without malloc: argv[0] without a slash is searched in the plan's PATH. */
static void exec_command(struct plan *p)
{
  const char *file = p->argv[0], *s;
  char buf[PATHMAX];
  long r;
  for (s = file; *s && *s != '/'; s++) ;
  if (*s == '/') {
    r = S(SYS_execve, file, p->argv, p->envp);
    fail(ST_EXEC, r, 0, file);
  }
  const char *path = env_get(p, "PATH");
  int eacces = 0;
  if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  if (!*file) fail(ST_EXEC, -ENOENT, 1, file);
  for (;;) {
    const char *end = path;
    size_t n = 0;
    while (*end && *end != ':') end++;
    if (end == path) buf[n++] = '.';
    while (path < end && n < PATHMAX - 2) buf[n++] = *path++;
    buf[n++] = '/';
    buf[n] = 0;
    if (cat(buf, &n, PATHMAX, file) == 0) {
      r = S(SYS_execve, buf, p->argv, p->envp);
      if (r == -EACCES) eacces = 1;
      else if (r != -ENOENT && r != -ENOTDIR) fail(ST_EXEC, r, 1, file);
    }
    if (!*end) break;
    path = end + 1;
  }
  fail(ST_EXEC, eacces ? -EACCES : -ENOENT, 1, file);
}

/* The --init reaper never execs: without this, `ps` in the container would show tinydock's command
 * line, -e secrets included. PR_SET_MM would need CAP_SYS_RESOURCE; overwriting our copy of the
 * argv strings (arg_start..arg_end, fields 48-49 of /proc/self/stat) needs nothing. */
static void hide_command_line(void)
{
  static const char name[] = "tinydock-init";
  char buf[1024];
  unsigned long v[2] = { 0, 0 };
  long fd = S(SYS_openat, AT_FDCWD, "/proc/self/stat", O_RDONLY | O_CLOEXEC), n, i, field = 2;
  S(SYS_prctl, PR_SET_NAME, name, 0, 0, 0);
  if (fd < 0) return;
  n = S(SYS_read, fd, buf, sizeof buf - 1);
  S(SYS_close, fd);
  if (n <= 0) return;
  buf[n] = 0;
  for (i = n - 1; i > 0 && buf[i] != ')'; i--) ; /* the name may hold anything, even ") " */
  for (; i < n && field < 50; i++) {
    if (buf[i] == ' ') { field++; continue; }
    if (field == 48 || field == 49) v[field - 48] = v[field - 48] * 10 + (buf[i] - '0');
  }
  if (!v[0] || v[1] <= v[0] || v[1] - v[0] > (1 << 20)) return;
  char *arg = (char *)v[0];
  for (i = 0; i < (long)(v[1] - v[0]); i++) arg[i] = i < (long)sizeof name - 1 ? name[i] : 0;
  arg[v[1] - v[0] - 1] = 0;
}

static const int forwarded[] = { 1, 2, 3, 10, 12, 15, 28 }; /* HUP INT QUIT USR1 USR2 TERM WINCH */

/* --init: PID 1 stays this code, reaps every zombie and forwards signals to the one child it runs;
 * it exits as that child did (128+N for a signal). Signals are still blocked from td_spawn. */
static void reaper(long child)
{
  u64 set = 1ull << (SIGCHLD - 1);
  int i, status;
  u8 info[128];
  for (i = 0; i < 7; i++) set |= 1ull << (forwarded[i] - 1);
  S(SYS_close_range, 0, ~0u, 0);
  for (;;) {
    long sig = S(SYS_rt_sigtimedwait, &set, info, 0, 8);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      S(SYS_kill, child, sig);
      continue;
    }
    for (;;) {
      long pid = S(SYS_wait4, -1, &status, 1 /* WNOHANG */, 0);
      if (pid <= 0) break;
      if (pid != child) continue;
      int code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
      S(SYS_exit_group, code);
    }
  }
}

/* Ids, groups, the bounding set and capabilities (shared with the monitor's exec). */
static void drop_privileges(struct plan *p)
{
  u32 i;
  /* Without no_new_privs the kernel wants CAP_SYS_ADMIN for a filter: install it while we have it
   * (runc does the same); the filter must then allow what follows (Docker's profile does). */
  if (!p->nnp) install_seccomp(p);
  for (i = 0; i < 64; i++) {
    if (p->cap[0] >> i & 1) continue;
    long r = S(SYS_prctl, PR_CAPBSET_DROP, i, 0, 0, 0);
    if (r == -EINVAL) break; /* past the kernel's last capability */
    if (r < 0) fail(ST_BOUNDING, r, i, 0);
  }
  CHECK(S(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0), ST_PRCTL, 0, "PR_SET_KEEPCAPS");
  CHECK(S(SYS_setgroups, p->ngid, p->gids), ST_SETGROUPS, 0, 0);
  CHECK(S(SYS_setresgid, p->gid, p->gid, p->gid), ST_SETGID, 0, 0);
  CHECK(S(SYS_setresuid, p->uid, p->uid, p->uid), ST_SETUID, 0, 0);
  /* A change of credentials clears the parent-death signal. */
  CHECK(S(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), ST_PRCTL, 0, "PR_SET_PDEATHSIG");
  set_caps(p);
}

/* The controlling terminal, fds 0-2, everything else close-on-exec, then no_new_privs. */
static void setup_stdio(struct plan *p)
{
  u32 i;
  /* Always a session of its own: in the caller's session it could open /dev/tty (the caller's
   * terminal, TIOCSTI into its shell) and signal the caller's process group, pty or not. */
  CHECK(S(SYS_setsid), ST_TTY, 0, "setsid");
  if (p->tty >= 0) CHECK(S(SYS_ioctl, p->tty, TIOCSCTTY, 0), ST_TTY, 0, "TIOCSCTTY");
  {
    /* Through fds above 2 first, so that a source that is itself 0, 1 or 2 is never clobbered. */
    long tmp[3];
    for (i = 0; i < 3; i++) {
      long src = p->stdio[i];
      if (src < 0) {
        src = S(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC);
        if (src < 0) fail(ST_STDIO, src, i, "/dev/null");
      }
      tmp[i] = S(SYS_fcntl, src, F_DUPFD_CLOEXEC, 3);
      if (tmp[i] < 0) fail(ST_STDIO, tmp[i], i, 0);
    }
    for (i = 0; i < 3; i++) CHECK(S(SYS_dup3, tmp[i], i, 0), ST_STDIO, i, 0);
  }
  /* Everything else closes at execve; the report pipe stays usable until then. */
  {
    long r = S(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC);
    if (r == -ENOSYS || r == -EINVAL)
      for (i = 3; i < 65536; i++) S(SYS_fcntl, i, 2 /* F_SETFD */, 1 /* FD_CLOEXEC */);
    else if (r < 0) fail(ST_CLOSE_FDS, r, 0, 0);
  }
  if (p->nnp) CHECK(S(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), ST_NO_NEW_PRIVS, 0, 0);
}

static void child_main(struct plan *p)
{
  u32 i;
  u64 none = 0;
  char num[24];
  /* Before anything the container could see: die with the parent, and stay out of reach of
   * ptrace and /proc/<pid> of the processes to come (runc's CVE-2019-5736 lesson). */
  CHECK(S(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), ST_PRCTL, 0, "PR_SET_PDEATHSIG");
  CHECK(S(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0), ST_PRCTL, 0, "PR_SET_DUMPABLE");
  /* Bun's handlers must never run here: every disposition back to default (SIG_IGN survives exec). */
  for (i = 1; i <= 64; i++) {
    u64 act[4] = { 0, 0, 0, 0 };
    S(SYS_rt_sigaction, i, act, 0, 8);
  }
  S(SYS_umask, 022);
  if (p->init) hide_command_line(); /* through the host's /proc, there whatever the plan mounts */

  /* Namespaces made by others (the network helper's netns file, --network container:): entered
   * before anything is unshared or mounted, still with the host's view of the paths. */
  for (i = 0; i < p->njoin; i++) {
    long fd = S(SYS_openat, AT_FDCWD, p->join[i].path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(ST_JOIN, fd, i, "open");
    CHECK(S(SYS_setns, fd, p->join[i].ns), ST_JOIN, i, "setns");
    S(SYS_close, fd);
  }
  if (p->late_ns) CHECK(S(SYS_unshare, p->late_ns), ST_UNSHARE, 0, "namespaces");

  CHECK(S(SYS_mount, "", "/", 0, MS_REC | MS_PRIVATE, 0), ST_PROPAGATION, 0, 0);
  /* The cgroup files are opened now, with the host's paths, and written only after the mounts (see
   * join_cgroups): the first cgroup migration after an idle spell waits out an RCU grace period,
   * which the CLI has started already (primeJoin) and which passes while this process mounts. */
  long cgfd[MAX_CGROUPS];
  for (i = 0; i < p->ncg; i++) {
    cgfd[i] = S(SYS_openat, AT_FDCWD, p->cg[i], O_WRONLY | O_CLOEXEC);
    if (cgfd[i] < 0) fail(ST_CGROUP, cgfd[i], i, 0);
  }
  if (p->ns & CLONE_NEWTIME) {
    long r = S(SYS_unshare, CLONE_NEWTIME);
    if (r < 0 && r != -EINVAL) fail(ST_UNSHARE, r, 0, "CLONE_NEWTIME");
  }
  if (p->hasoom) {
    fmt_int(num, p->oom);
    CHECK(write_file("/proc/self/oom_score_adj", num), ST_OOM, 0, 0);
  }
  if (p->ns & CLONE_NEWUTS) CHECK(S(SYS_sethostname, p->hostname, slen(p->hostname)), ST_HOSTNAME, 0, 0);
  if (p->ns & CLONE_NEWNET) {
    struct { char name[16]; short flags; char pad[22]; } ifr = { "lo" };
    long s = S(SYS_socket, 2 /* AF_INET */, 2 | O_CLOEXEC /* SOCK_DGRAM|SOCK_CLOEXEC */, 0);
    if (s < 0) fail(ST_LOOPBACK, s, 0, "socket");
    CHECK(S(SYS_ioctl, s, SIOCGIFFLAGS, &ifr), ST_LOOPBACK, 0, "SIOCGIFFLAGS");
    ifr.flags |= 1; /* IFF_UP */
    CHECK(S(SYS_ioctl, s, SIOCSIFFLAGS, &ifr), ST_LOOPBACK, 0, "SIOCSIFFLAGS");
    S(SYS_close, s);
  }

  /* The rootfs: overlay's lowerdir is relative to the store root, hence the chdir. */
  if (p->root.cwd) CHECK(S(SYS_chdir, p->root.cwd), ST_ROOTFS, 0, "chdir");
  CHECK(S(SYS_mount, p->root.src, p->root.dst, p->root.type, p->root.flags, p->root.data), ST_ROOTFS, 0, 0);
  long rootfd = S(SYS_openat, AT_FDCWD, p->rootpath, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) fail(ST_ROOTFS, rootfd, 0, "open");
  for (i = 0; i < p->nm; i++) mount_one(rootfd, &p->m[i], i);
  for (i = 0; i < p->ndev; i++) make_device(rootfd, &p->dev[i], i);
  for (i = 0; i < p->nln; i++) {
    char buf[PATHMAX];
    const char *name;
    long pfd = resolve_parent(rootfd, p->ln[i].path, buf, &name);
    if (pfd < 0) fail(ST_SYMLINK, pfd, i, 0);
    long r = S(SYS_symlinkat, p->ln[i].target, pfd, name);
    if (r < 0 && r != -EEXIST) fail(ST_SYMLINK, r, i, 0);
    S(SYS_close, pfd);
  }
  if (p->tty >= 0) {
    /* -t: the terminal also as /dev/console, as runc mounts it. The pty belongs to the host's devpts
     * instance, not the container's, so ttyname() (tty, ps, sudo) finds it only there.
     * The source is the pty's path (/dev/pts/N), looked up in this mount namespace: its magic link
     * /proc/self/fd/N names the parent namespace's mount, which bind refuses (EINVAL). */
    char link[64], src[PATHMAX], at[64];
    fd_path(link, p->tty);
    long n = S(SYS_readlinkat, AT_FDCWD, link, src, PATHMAX - 1);
    if (n < 0) fail(ST_TTY, n, 0, "readlink the terminal");
    src[n] = 0;
    long fd = resolve(rootfd, "/dev/console", 2);
    if (fd < 0) fail(ST_TTY, fd, 0, "create /dev/console");
    fd_path(at, fd);
    CHECK(S(SYS_mount, src, at, 0, MS_BIND, 0), ST_TTY, 0, "bind /dev/console");
    S(SYS_close, fd);
  }
  {
    long fd = resolve(rootfd, p->cwd, 1); /* Docker creates a missing -w directory */
    if (fd < 0) fail(ST_CWD, fd, 0, 0);
    S(SYS_close, fd);
  }

  /* pivot_root(".", ".") stacks the old root on the new one; detaching it leaves only the rootfs. */
  CHECK(S(SYS_fchdir, rootfd), ST_PIVOT, 0, "fchdir");
  CHECK(S(SYS_pivot_root, ".", "."), ST_PIVOT, 0, 0);
  CHECK(S(SYS_umount2, ".", MNT_DETACH), ST_PIVOT, 0, "umount the old root");
  CHECK(S(SYS_chdir, "/"), ST_PIVOT, 0, "chdir /");
  S(SYS_close, rootfd);

  for (i = 0; i < p->nmask; i++) mask_path(p->mask[i], i);
  for (i = 0; i < p->nro; i++) readonly_path(p->ro[i], i);
  if (p->roroot) CHECK(S(SYS_mount, "", "/", 0, MS_BIND | MS_REMOUNT | MS_RDONLY | mount_flags_of("/"), 0), ST_READONLY_ROOT, 0, 0);
  /* Into the container's cgroups, then the cgroup namespace rooted there; before any limit, id or
   * capability change, and long before the command. */
  for (i = 0; i < p->ncg; i++) {
    CHECK(S(SYS_write, cgfd[i], "0", 1), ST_CGROUP, i, 0);
    S(SYS_close, cgfd[i]);
  }
  if (p->ns & CLONE_NEWCGROUP) CHECK(S(SYS_unshare, CLONE_NEWCGROUP), ST_UNSHARE, 0, "CLONE_NEWCGROUP");
  for (i = 0; i < p->nrl; i++) CHECK(S(SYS_prlimit64, 0, p->rl[i].res, &p->rl[i].soft, 0), ST_RLIMIT, i, 0);

  drop_privileges(p);
  CHECK(S(SYS_chdir, p->cwd), ST_CHDIR, 0, 0);
  setup_stdio(p);

  if (p->init) {
    long child = S(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (child < 0) fail(ST_FORK, child, 0, 0);
    if (child > 0) reaper(child);
    /* The command gets its own process group, in the foreground of the terminal (as tini does);
     * SIGTTOU is still blocked, so tcsetpgrp from the background is allowed. */
    S(SYS_setpgid, 0, 0);
    if (p->tty >= 0) {
      i32 pgrp = (i32)S(SYS_getpid);
      S(SYS_ioctl, 0, TIOCSPGRP, &pgrp);
    }
  }
  if (p->nnp) install_seccomp(p);
  CHECK(S(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, &none, 0, 8), ST_SIGNALS, 0, 0);
  exec_command(p);
}

/* ---- the parent: called from TypeScript (the monitor has its own, in monitor.c) ---- */
#ifndef TD_STATIC

struct waiter { int report, events, pidfd; };

static void put(int fd, const void *buf, long n)
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

/* One thread per container, blocked in read() and waitid() where they cost nothing; it reports on
 * the events pipe: [1, failure record] or [2] (exec'd), then [3, code, signal] when PID 1 is reaped. */
static void *wait_thread(void *arg)
{
  struct waiter *w = arg;
  u8 buf[2048];
  long n = 0, r;
  i32 msg[3];
  i32 info[32];
  while (n < (long)sizeof buf) {
    r = S(SYS_read, w->report, buf + n, sizeof buf - n);
    if (r == -EINTR) continue;
    if (r <= 0) break;
    n += r;
  }
  S(SYS_close, w->report);
  if (n >= 16) {
    i32 type = 1;
    put(w->events, &type, 4);
    put(w->events, buf, n);
  } else {
    msg[0] = 2;
    put(w->events, msg, 4);
  }
  for (r = 0; r < 32; r++) info[r] = 0;
  do r = S(SYS_waitid, 3 /* P_PIDFD */, w->pidfd, info, 4 /* WEXITED */, 0);
  while (r == -EINTR);
  msg[0] = 3;
  msg[1] = r < 0 ? -1 : info[2] == 1 /* CLD_EXITED */ ? info[6] : 128 + info[6];
  msg[2] = r < 0 || info[2] == 1 ? 0 : info[6];
  put(w->events, msg, 12);
  S(SYS_close, w->events);
  free(w);
  return 0;
}

/* Parses the plan and starts the container. out: [pid, pidfd, events fd]. Returns 0, -errno, or
 * 1 + the offset where the plan's bytes stopped making sense (nothing was started then). With out
 * NULL it only parses (tests feed it hostile bytes).
 *
 * How the parent learns that PID 1 exited without blocking Bun's event loop: a detached thread per
 * container blocks in waitid(P_PIDFD) and writes the status into a pipe that TypeScript reads with
 * Bun's own non-blocking pipe reader (epoll). Measured against polling the pidfd from a timer: the
 * pipe reports an exit 0.25 ms (median; p90 0.6 ms) after kill() and costs no wake-up while the
 * container runs, where a 10 ms timer added 11 ms per exit (a 1 ms one 2.5 ms) and wakes the process
 * 100-1000 times a second; Bun has no API to watch a pidfd itself.
 * The same thread first reads the report pipe, so TypeScript watches a single fd. The pidfd (not the
 * pid) is what kill() uses, so a signal can never reach a recycled pid. */
int td_spawn(const u8 *buf, u32 len, i32 *out)
{
  static struct plan p;
  u32 arenalen = len * 4 + 256;
  u8 *arena;
  int report[2], events[2], pidfd = -1, i;
  long pid, r;
  u64 all = ~0ull, old = 0;
  struct waiter *w;
  unsigned long th;
  if (len > (1u << 26)) return 1;
  arena = malloc(arenalen);
  w = malloc(sizeof *w);
  if (!arena || !w) { free(arena); free(w); return -12; }
  r = parse(buf, len, arena, arenalen, &p);
  if (r || !out) { free(arena); free(w); return (int)r; }
  if ((r = S(SYS_pipe2, report, O_CLOEXEC)) < 0) { free(arena); free(w); return (int)r; }
  if ((r = S(SYS_pipe2, events, O_CLOEXEC)) < 0) {
    S(SYS_close, report[0]); S(SYS_close, report[1]); free(arena); free(w);
    return (int)r;
  }
  /* The child dups stdio onto 0-2: its report pipe must live above them. */
  if (report[1] < 3) {
    long fd = S(SYS_fcntl, report[1], F_DUPFD_CLOEXEC, 3);
    S(SYS_close, report[1]);
    report[1] = (int)fd;
  }
  /* The child starts with every signal blocked: none of Bun's handlers may run in it. */
  S(SYS_rt_sigprocmask, 2, &all, &old, 8);
  pid = report[1] < 0 ? report[1] : S(SYS_clone, (p.ns & ~(CLONE_NEWCGROUP | CLONE_NEWTIME)) | CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
  if (pid == 0) {
    report_fd = report[1];
    child_main(&p);
  }
  S(SYS_rt_sigprocmask, 2, &old, 0, 8);
  free(arena);
  if (report[1] >= 0) S(SYS_close, report[1]);
  if (pid < 0) {
    S(SYS_close, report[0]); S(SYS_close, events[0]); S(SYS_close, events[1]); free(w);
    return (int)pid;
  }
  w->report = report[0];
  w->events = events[1];
  w->pidfd = pidfd;
  if ((i = pthread_create(&th, 0, wait_thread, w)) != 0) {
    /* No thread, no way to learn the exit: do not leave a container nobody watches. */
    S(SYS_pidfd_send_signal, pidfd, SIGKILL, 0, 0);
    S(SYS_waitid, 3, pidfd, 0, 4, 0);
    S(SYS_close, report[0]); S(SYS_close, events[0]); S(SYS_close, events[1]); S(SYS_close, pidfd); free(w);
    return -i;
  }
  pthread_detach(th);
  out[0] = (i32)pid;
  out[1] = pidfd;
  out[2] = events[0];
  return 0;
}

/* Signals PID 1 through its pidfd: 0, or -errno (-ESRCH once it has exited). */
int td_kill(int pidfd, int sig)
{
  return (int)S(SYS_pidfd_send_signal, pidfd, sig, 0, 0);
}
#endif /* !TD_STATIC */
