/* The child's mounts: the plan's mounts and devices, masked and read-only paths. */
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

#define PROC_SUPER_MAGIC 0x9fa0

static int is_kernel_fs(const char *type)
{
  static const char *kfs[] = { "proc", "sysfs" };
  for (int k = 0; k < 2; k++) {
    size_t j = 0;
    while (type[j] && type[j] == kfs[k][j]) j++;
    if (!type[j] && !kfs[k][j]) return 1;
  }
  return 0;
}

static void mount_one(int rootfd, struct mnt *m, int i)
{
  char at[64];
  long st[16]; /* struct statfs: f_type first */
  /* procfs and sysfs only on an ordinary directory (runc's check): an image's /proc -> / or -> a
   * host-looking path would put them, and the masks that follow them, somewhere else. */
  if (m->type && is_kernel_fs(m->type)) {
    long d = open_in(rootfd, m->dst, O_PATH | O_NOFOLLOW | O_DIRECTORY);
    if (d == -ENOTDIR) fail(ST_MOUNT_TARGET, d, i, "ordinary");
    if (d >= 0) S(SYS_close, d);
  }
  long fd = resolve(rootfd, m->dst, m->kind == 1 ? 2 : 1);
  if (fd < 0) fail(ST_MOUNT_TARGET, fd, i, 0);
  fd_path(at, fd);
  /* Nothing lands in the container's procfs but what the plan names below /proc (the CLI allows
   * runc's lxcfs files only): a symlink of the image, or of a volume mounted before, that leads
   * "/data" into /proc/sys would cover the kernel's files the masks and read-only paths guard. */
  const char *pre = "/proc/";
  size_t j = 0;
  while (pre[j] && m->dst[j] == pre[j]) j++;
  if (pre[j] && S(SYS_statfs, at, st) == 0 && st[0] == PROC_SUPER_MAGIC) fail(ST_MOUNT_TARGET, -EPERM, i, "proc");
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
    /* No mknod here (a user namespace, no CAP_MKNOD): bind the host's node at the same path over an
     * empty file, only when it is the device asked for. A --device HOST:CTR names another node at
     * CTR on the host (/dev/kmsg for --device /dev/zero:/dev/kmsg), which is refused, not bound. */
    char from[64];
    u64 st[18]; /* struct stat: st_mode in the 4th word, st_rdev the 6th */
    long src = S(SYS_openat, AT_FDCWD, d->path, O_PATH | O_CLOEXEC);
    if (src < 0 || S(SYS_fstat, src, st) < 0 || ((u32)st[3] & S_IFMT) != (d->mode & S_IFMT) || (u32)st[5] != dev) fail(ST_DEVICE, r, i, "mknod");
    fd_path(from, src);
    long fd = S(SYS_openat, pfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) fail(ST_DEVICE, fd, i, "create");
    S(SYS_close, fd);
    fd = S(SYS_openat, pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) fail(ST_DEVICE, fd, i, "create");
    fd_path(at, fd);
    CHECK(S(SYS_mount, from, at, 0, MS_BIND, 0), ST_DEVICE, i, "bind");
    S(SYS_close, fd);
    S(SYS_close, src);
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
