/* Internal status helpers: formatted messages and failing-op details. */
#ifndef KN_STATUS_INTERNAL_H
#define KN_STATUS_INTERNAL_H

#include <stdarg.h>
#include <kiln/status.h>

#if defined(__GNUC__)
#define KN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KN_PRINTF(f, a)
#endif

/* Sets code and a printf-formatted message; NULL status is ignored.
** Always returns `code`, so callers can `return kn_errorf(...)`. */
kiln_code kn_errorf(kiln_status *s, kiln_code code, const char *fmt, ...)
    KN_PRINTF(3, 4);
kiln_code kn_verrorf(kiln_status *s, kiln_code code, const char *fmt,
                     va_list ap) KN_PRINTF(3, 0);

/* Prepends "<prefix>" to the current message (for context such as
** "node 'x': "), keeping code and op. */
void kn_status_prefix(kiln_status *s, const char *fmt, ...) KN_PRINTF(2, 3);

/* Records the failing op: name and serialized NodeDef (copied). */
void kn_status_set_op(kiln_status *s, const char *op_name,
                      const void *node_def, size_t len);

/* Copies code, message and op from src into dst. */
void kn_status_copy(kiln_status *dst, const kiln_status *src);

static inline int kn_ok(const kiln_status *s) {
  return kiln_status_code(s) == KILN_OK;
}

/* TensorFlow's status code for a failed system call's errno (its POSIX
** ErrnoToCode): ENOENT NOT_FOUND, EACCES PERMISSION_DENIED, EISDIR and
** ENOTDIR FAILED_PRECONDITION, ENOSPC RESOURCE_EXHAUSTED, EEXIST
** ALREADY_EXISTS, EINVAL INVALID_ARGUMENT, ...; 0 is OK, anything it does
** not list UNKNOWN. */
kiln_code kn_errno_code(int err);

/* The message all out-of-memory errors share. */
#define KN_OOM(s) kn_errorf((s), KILN_RESOURCE_EXHAUSTED, "out of memory in %s", __func__)

#endif
