/* Paths inside the rootfs, resolved as if the rootfs were "/". */

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
