/* The plan, as encodePlan wrote it (all little-endian; see src/runtime/encode.ts), parsed in the
 * parent, where malloc is allowed: every length is checked against what is left. */

struct mnt { const char *src, *dst, *type, *data, *cwd; u32 flags, remount, kind; };
struct dev { const char *path; u32 mode, major, minor, uid, gid; };
struct lnk { const char *target, *path; };
struct rlim { u32 res; u64 soft, hard; };
struct join { u32 ns; const char *path; };
struct sysctl { const char *path, *value; };
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
  i32 tty; /* the console socket (-t), or -1 */
  u32 rows, cols; /* the terminal's size, 0 0: unset */
  u32 init;
  u32 hasoom; i32 oom;
  u32 njoin; struct join *join; /* namespaces entered by path (setns), not created */
  u32 nsysctl; struct sysctl *sysctl; /* /proc/sys/... files written in the container's namespaces */
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
  p->rows = rd_u32(&r);
  p->cols = rd_u32(&r);
  if (p->rows > 0xffff || p->cols > 0xffff) r.bad = 1;
  p->init = rd_u32(&r);
  p->hasoom = rd_u32(&r);
  p->oom = (i32)rd_u32(&r);
  p->join = rd_list(&r, &p->njoin, 9, sizeof(struct join));
  for (i = 0; i < p->njoin && !r.bad; i++) {
    p->join[i].ns = rd_u32(&r);
    p->join[i].path = rd_str(&r, 0);
    /* net, ipc, uts, cgroup, pid (entered by the parent for the clone) only; never one the clone also creates */
    if (!r.bad && ((p->join[i].ns & ~(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_NEWPID)) ||
                   !p->join[i].ns || (p->join[i].ns & (p->join[i].ns - 1)) || (p->ns & p->join[i].ns)))
      r.bad = 1;
  }
  p->sysctl = rd_list(&r, &p->nsysctl, 10, sizeof(struct sysctl));
  for (i = 0; i < p->nsysctl && !r.bad; i++) {
    const char *path = p->sysctl[i].path = rd_str(&r, 0);
    p->sysctl[i].value = rd_str(&r, 0);
    /* under /proc/sys/ and never out of it: no ".." component */
    for (u32 k = 0; !r.bad && k < 10; k++)
      if (path[k] != "/proc/sys/"[k]) r.bad = 1;
    for (const char *c = path; !r.bad && *c; c++)
      if (c[0] == '/' && c[1] == '.' && c[2] == '.' && (c[3] == '/' || !c[3])) r.bad = 1;
  }
  if (rd_u32(&r) != PLAN_MAGIC) r.bad = 1;
  if (!r.bad && r.p != r.end) r.bad = 1;
  /* What the child relies on without checking again. */
  if (!r.bad && (!(p->ns & CLONE_NEWNS) || p->argc == 0 || p->cwd[0] != '/' || p->rootpath[0] != '/')) r.bad = 1;
  return r.bad ? (long)(r.p - buf) + 1 : 0;
}
