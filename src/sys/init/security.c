/* Ids, groups, capabilities and the seccomp filter. */

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

