/*
** Status objects. The message lives in a growable buffer so that setting
** a status in a loop does not allocate each time.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "status_internal.h"

struct kiln_status {
  kiln_code code;
  char *msg;            /* NUL-terminated; NULL means "" */
  size_t msg_cap;
  char *op_name;
  void *node_def;
  size_t node_def_len;
  char *printable;      /* kiln_status_string's result */
};

static const char *const class_names[] = {
  "OK", "CancelledError", "UnknownError", "InvalidArgumentError",
  "DeadlineExceededError", "NotFoundError", "AlreadyExistsError",
  "PermissionDeniedError", "ResourceExhaustedError",
  "FailedPreconditionError", "AbortedError", "OutOfRangeError",
  "UnimplementedError", "InternalError", "UnavailableError",
  "DataLossError", "UnauthenticatedError"
};

static const char *const code_strs[] = {
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
  "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
  "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"
};

#define NCODES ((int)(sizeof code_strs / sizeof code_strs[0]))

static int valid_code(kiln_code c) { return (int)c >= 0 && (int)c < NCODES; }

KILN_API const char *kiln_code_name(kiln_code code) {
  return valid_code(code) ? class_names[code] : class_names[KILN_UNKNOWN];
}

KILN_API const char *kiln_code_str(kiln_code code) {
  return valid_code(code) ? code_strs[code] : code_strs[KILN_UNKNOWN];
}

KILN_API kiln_status *kiln_status_new(void) {
  return calloc(1, sizeof(kiln_status));
}

static void clear_op(kiln_status *s) {
  free(s->op_name);
  free(s->node_def);
  s->op_name = NULL;
  s->node_def = NULL;
  s->node_def_len = 0;
}

KILN_API void kiln_status_free(kiln_status *s) {
  if (!s) return;
  clear_op(s);
  free(s->msg);
  free(s->printable);
  free(s);
}

KILN_API kiln_code kiln_status_code(const kiln_status *s) {
  return s ? s->code : KILN_OK;
}

KILN_API const char *kiln_status_message(const kiln_status *s) {
  return s && s->msg ? s->msg : "";
}

KILN_API const char *kiln_status_op_name(const kiln_status *s) {
  return s ? s->op_name : NULL;
}

KILN_API const void *kiln_status_node_def(const kiln_status *s, size_t *len) {
  if (len) *len = s ? s->node_def_len : 0;
  return s ? s->node_def : NULL;
}

static const char oom_msg[] = "out of memory while reporting an error";

/* Makes room for n bytes plus NUL; false when memory ran out, in which
** case the message becomes oom_msg if it fits the old buffer. */
static int reserve(kiln_status *s, size_t n) {
  if (n + 1 <= s->msg_cap) return 1;
  size_t cap = s->msg_cap ? s->msg_cap : 64;
  while (cap < n + 1) cap *= 2;
  char *p = realloc(s->msg, cap);
  if (!p) return 0;
  s->msg = p;
  s->msg_cap = cap;
  return 1;
}

static void set_text(kiln_status *s, const char *msg, size_t n) {
  if (reserve(s, n)) {
    memmove(s->msg, msg, n);
    s->msg[n] = '\0';
  } else if (s->msg_cap >= sizeof oom_msg) {
    memcpy(s->msg, oom_msg, sizeof oom_msg);
  } else if (s->msg) {
    s->msg[0] = '\0';
  }
}

KILN_API void kiln_status_set(kiln_status *s, kiln_code code, const char *msg) {
  if (!s) return;
  s->code = valid_code(code) ? code : KILN_UNKNOWN;
  if (code == KILN_OK) msg = "";
  if (!msg) msg = "";
  set_text(s, msg, strlen(msg));
  clear_op(s); /* after the copy: msg may be the op's name */
}

KILN_API void kiln_status_reset(kiln_status *s) {
  kiln_status_set(s, KILN_OK, "");
}

kiln_code kn_verrorf(kiln_status *s, kiln_code code, const char *fmt,
                     va_list ap) {
  if (!s) return code;
  char small[256];
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  s->code = valid_code(code) ? code : KILN_UNKNOWN;
  if (n < 0) {
    set_text(s, fmt, strlen(fmt));
  } else if ((size_t)n < sizeof small) {
    set_text(s, small, (size_t)n);
  } else {
    /* Format into a fresh block, never into s->msg: an argument may be the
    ** status's own message (re-wrapping an error), which growing s->msg
    ** would free and writing over it would corrupt. */
    char *big = malloc((size_t)n + 1);
    if (big) {
      vsnprintf(big, (size_t)n + 1, fmt, ap2);
      free(s->msg);
      s->msg = big;
      s->msg_cap = (size_t)n + 1;
    } else {
      set_text(s, small, sizeof small - 1); /* truncated beats nothing */
    }
  }
  va_end(ap2);
  clear_op(s); /* last: an argument may have been the op's name */
  return code;
}

kiln_code kn_errorf(kiln_status *s, kiln_code code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  kn_verrorf(s, code, fmt, ap);
  va_end(ap);
  return code;
}

void kn_status_prefix(kiln_status *s, const char *fmt, ...) {
  if (!s || s->code == KILN_OK) return;
  char pre[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(pre, sizeof pre, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof pre) n = sizeof pre - 1;
  size_t old = s->msg ? strlen(s->msg) : 0;
  if (!reserve(s, old + (size_t)n)) return;
  if (old) memmove(s->msg + n, s->msg, old + 1);
  else s->msg[n] = '\0';
  memcpy(s->msg, pre, (size_t)n);
}

void kn_status_set_op(kiln_status *s, const char *op_name,
                      const void *node_def, size_t len) {
  if (!s) return;
  /* Copy before clearing: the arguments may be the status's own. */
  char *name = op_name ? strdup(op_name) : NULL;
  void *def = node_def && len ? malloc(len) : NULL;
  if (def) memcpy(def, node_def, len);
  clear_op(s);
  s->op_name = name;
  s->node_def = def;
  s->node_def_len = def ? len : 0;
}

void kn_status_copy(kiln_status *dst, const kiln_status *src) {
  if (!dst || dst == src) return;
  kiln_status_set(dst, kiln_status_code(src), kiln_status_message(src));
  if (src && src->op_name)
    kn_status_set_op(dst, src->op_name, src->node_def, src->node_def_len);
}

KILN_API const char *kiln_status_string(kiln_status *s) {
  if (!s || s->code == KILN_OK) return "OK";
  const char *cls = kiln_code_name(s->code);
  const char *msg = kiln_status_message(s);
  size_t n = strlen(cls) + strlen(msg) + 3;
  if (s->op_name) n += strlen(s->op_name) + 20;
  char *p = realloc(s->printable, n + 1);
  if (!p) return msg;
  s->printable = p;
  if (s->op_name)
    snprintf(p, n + 1, "%s: %s\n\t [[{{node %s}}]]", cls, msg, s->op_name);
  else
    snprintf(p, n + 1, "%s: %s", cls, msg);
  return p;
}

/* The cases follow TensorFlow's table (platform/error.cc) group by group,
** so that a file error has the code a TensorFlow program expects. Names a
** platform may lack are guarded. */
kiln_code kn_errno_code(int err) {
  switch (err) {
  case 0:
    return KILN_OK;
  case EINVAL: case ENAMETOOLONG: case E2BIG: case EDESTADDRREQ: case EDOM:
  case EFAULT: case EILSEQ: case ENOPROTOOPT: case ENOTSOCK: case ENOTTY:
  case EPROTOTYPE: case ESPIPE:
#ifdef ENOSTR
  case ENOSTR:
#endif
    return KILN_INVALID_ARGUMENT;
  case ETIMEDOUT:
#ifdef ETIME
  case ETIME:
#endif
    return KILN_DEADLINE_EXCEEDED;
  case ENODEV: case ENOENT: case ENXIO: case ESRCH:
    return KILN_NOT_FOUND;
  case EEXIST: case EADDRNOTAVAIL: case EALREADY:
    return KILN_ALREADY_EXISTS;
  case EPERM: case EACCES: case EROFS:
    return KILN_PERMISSION_DENIED;
  case ENOTEMPTY: case EISDIR: case ENOTDIR: case EADDRINUSE: case EBADF:
  case EBUSY: case ECHILD: case EISCONN: case ENOTCONN: case EPIPE:
  case ESHUTDOWN: case ETXTBSY:
#ifdef ENOTBLK
  case ENOTBLK:
#endif
    return KILN_FAILED_PRECONDITION;
  case ENOSPC: case EDQUOT: case EMFILE: case EMLINK: case ENFILE:
  case ENOBUFS: case ENOMEM: case EUSERS:
#ifdef ENODATA
  case ENODATA:
#endif
#ifdef ENOSR
  case ENOSR:
#endif
    return KILN_RESOURCE_EXHAUSTED;
  case EFBIG: case EOVERFLOW: case ERANGE:
    return KILN_OUT_OF_RANGE;
  case ENOSYS: case EAFNOSUPPORT: case EPFNOSUPPORT: case EPROTONOSUPPORT:
  case ESOCKTNOSUPPORT: case EXDEV:
  case ENOTSUP:
    return KILN_UNIMPLEMENTED;
  case EAGAIN: case ECONNREFUSED: case ECONNABORTED: case ECONNRESET:
  case EINTR: case EHOSTDOWN: case EHOSTUNREACH: case ENETDOWN:
  case ENETRESET: case ENETUNREACH: case ENOLCK: case ENOLINK:
#ifdef ENONET
  case ENONET:
#endif
    return KILN_UNAVAILABLE;
  case EDEADLK: case ESTALE:
    return KILN_ABORTED;
  case ECANCELED:
    return KILN_CANCELLED;
  default:
    return KILN_UNKNOWN;
  }
}
