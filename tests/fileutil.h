/* Helpers for the suites that touch files: a private directory per test,
** and running a step as an unprivileged user so that file modes apply. */
#ifndef KILN_FILEUTIL_H
#define KILN_FILEUTIL_H

#include <errno.h>
#include <ftw.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int kt_chmod_dir(const char *p, const struct stat *sb, int flag,
                               struct FTW *f) {
  (void)sb;
  (void)f;
  if (flag == FTW_D || flag == FTW_DNR) chmod(p, 0700);
  return 0;
}

static inline int kt_unlink_one(const char *p, const struct stat *sb, int flag,
                                struct FTW *f) {
  (void)sb;
  (void)f;
  if (flag == FTW_DP || flag == FTW_D) rmdir(p);
  else unlink(p);
  return 0;
}

/* Makes $TMPDIR/kiln-STEM-XXXXXX (mkdtemp fills in the X's) in buf,
** searchable by everyone: an unprivileged step must reach the files
** inside to be refused by their own modes. false when it cannot. */
static inline bool kt_tmpdir_make(char *buf, size_t cap, const char *stem) {
  const char *base = getenv("TMPDIR");
  snprintf(buf, cap, "%s/kiln-%s-XXXXXX", base && *base ? base : "/tmp", stem);
  if (!mkdtemp(buf)) return false;
  chmod(buf, 0755);
  return true;
}

/* Removes the directory and all below it, also directories a test locked:
** the first walk makes each searchable again, the second unlinks. */
static inline void kt_tmpdir_remove(const char *dir) {
  nftw(dir, kt_chmod_dir, 16, FTW_PHYS);
  nftw(dir, kt_unlink_one, 16, FTW_PHYS | FTW_DEPTH);
}

/* Switches the whole process's effective ids to nobody's when running as
** root, so that file modes apply; false, with the reason printed, when
** that is impossible (then the caller skips). A user other than root is
** refused by the modes already. */
static inline bool kt_unprivileged_begin(void) {
  if (geteuid() != 0) return true;
  struct passwd *pw = getpwnam("nobody");
  uid_t uid = pw ? pw->pw_uid : 65534;
  gid_t gid = pw ? pw->pw_gid : 65534;
  if (setegid(gid) != 0) {
    fprintf(stderr, "# SKIP: running as root and setegid(%u) fails (%s): "
                    "cannot test as an unprivileged user\n",
            (unsigned)gid, strerror(errno));
    return false;
  }
  if (seteuid(uid) != 0) {
    fprintf(stderr, "# SKIP: running as root and seteuid(%u) fails (%s): "
                    "cannot test as an unprivileged user\n",
            (unsigned)uid, strerror(errno));
    if (setegid(0) != 0) fail_msg("cannot restore egid 0");
    return false;
  }
  return true;
}

static inline void kt_unprivileged_end(void) {
  if (getuid() != 0) return;
  if (seteuid(0) != 0 || setegid(0) != 0)
    fail_msg("cannot restore root's effective ids: %s", strerror(errno));
}

#endif
