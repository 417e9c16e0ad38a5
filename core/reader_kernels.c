/*
** Readers, TensorFlow's ReaderBase over a queue of work: WholeFileReaderV2
** makes (or finds) a reader and outputs its handle; ReaderReadV2 takes the
** next file name from a queue of strings and outputs (name, contents).
**
** A read that finds the queue empty parks on it (the queue's dequeue with
** a deliver callback) and reads the file on the thread that serves it. A
** closed, drained queue ends the read with the queue's OUT_OF_RANGE.
**
** As in TensorFlow, a file whose read failed stays the reader's work in
** progress: the next read tries it again instead of taking a new name, so
** a pipeline does not silently skip a file. TensorFlow serializes reads
** under the reader's lock and so has at most one such file; here reads
** do not hold the reader while they wait, so failed files form a list,
** retried in the order they failed.
**
** File errors are TensorFlow's POSIX ones: the errno picks the code
** (ENOENT NOT_FOUND, EACCES PERMISSION_DENIED, EISDIR FAILED_PRECONDITION)
** and the message is "<path>; <strerror>". A regular file that ends before
** the size stat() gave, because it shrank meanwhile, is DATA_LOSS
** ("Truncated read of ..."), as ReadFile.
*/
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core_kernels.h"
#include "kernel_context.h"
#include "queue.h"
#include "resource_mgr.h"
#include "session_internal.h"
#include "status_internal.h"
#include "tensor_internal.h"

/* Fails c with a message of any length. */
static void failf(kiln_kernel_context *c, kiln_code code, const char *fmt, ...)
    KN_PRINTF(3, 4);
static void failf(kiln_kernel_context *c, kiln_code code, const char *fmt, ...) {
  char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&msg, fmt, ap);
  va_end(ap);
  kn_kc_fail(c, code, n < 0 ? "out of memory formatting an I/O error" : msg);
  if (n >= 0) free(msg);
}

/* ---------------------------------------------------------------- reader */

typedef struct work {
  struct work *next;
  size_t len;
  char name[];                  /* len bytes, then a NUL */
} work;

typedef struct kn_reader {
  kn_resource res;
  pthread_mutex_t mu;           /* guards retry */
  work *retry, *retry_tail;     /* files whose read failed, oldest first */
} kn_reader;

static void reader_destroy(kn_resource *r) {
  kn_reader *rd = (kn_reader *)r;
  while (rd->retry) {
    work *next = rd->retry->next;
    free(rd->retry);
    rd->retry = next;
  }
  pthread_mutex_destroy(&rd->mu);
  free(rd);
}

static const kn_resource_kind reader_kind = {"reader", reader_destroy};

static kn_resource *reader_new(void *arg, kiln_status *st) {
  (void)arg;
  kn_reader *rd = calloc(1, sizeof *rd);
  if (!rd) {
    KN_OOM(st);
    return NULL;
  }
  pthread_mutex_init(&rd->mu, NULL);
  return &rd->res;
}

static work *work_new(const char *name, size_t len) {
  work *w = malloc(sizeof *w + len + 1);
  if (!w) return NULL;
  w->next = NULL;
  w->len = len;
  memcpy(w->name, name, len);
  w->name[len] = '\0';
  return w;
}

/* The oldest failed file, taken off the list; NULL when there is none. */
static work *take_retry(kn_reader *rd) {
  pthread_mutex_lock(&rd->mu);
  work *w = rd->retry;
  if (w) {
    rd->retry = w->next;
    if (!rd->retry) rd->retry_tail = NULL;
    w->next = NULL;
  }
  pthread_mutex_unlock(&rd->mu);
  return w;
}

/* Puts a failed file back: at the front when it was the one retried
** (it stays first in line), at the back when it came from the queue. */
static void keep_for_retry(kn_reader *rd, work *w, bool front) {
  pthread_mutex_lock(&rd->mu);
  if (front) {
    w->next = rd->retry;
    rd->retry = w;
    if (!rd->retry_tail) rd->retry_tail = w;
  } else {
    w->next = NULL;
    if (rd->retry_tail) rd->retry_tail->next = w;
    else rd->retry = w;
    rd->retry_tail = w;
  }
  pthread_mutex_unlock(&rd->mu);
}

/* ---------------------------------------------------------- file reading */

/* TensorFlow's status code for an errno (its POSIX IOError). */
static kiln_code errno_code(int e) {
  switch (e) {
  case EINVAL: case ENAMETOOLONG: case E2BIG: case EFAULT: case EILSEQ:
  case ENOTTY: case ESPIPE:
    return KILN_INVALID_ARGUMENT;
  case ETIMEDOUT:
    return KILN_DEADLINE_EXCEEDED;
  case ENODEV: case ENOENT: case ENXIO: case ESRCH:
    return KILN_NOT_FOUND;
  case EEXIST:
    return KILN_ALREADY_EXISTS;
  case EPERM: case EACCES: case EROFS:
    return KILN_PERMISSION_DENIED;
  case ENOTEMPTY: case EISDIR: case ENOTDIR: case EBADF: case EBUSY:
  case EPIPE: case ETXTBSY:
    return KILN_FAILED_PRECONDITION;
  case ENOSPC: case EDQUOT: case EMFILE: case ENFILE: case ENOBUFS:
  case ENODATA: case ENOMEM:
    return KILN_RESOURCE_EXHAUSTED;
  case EFBIG: case EOVERFLOW: case ERANGE:
    return KILN_OUT_OF_RANGE;
  case ENOSYS: case ENOTSUP: case EXDEV:
    return KILN_UNIMPLEMENTED;
  case EAGAIN: case EINTR: case ENOLCK:
    return KILN_UNAVAILABLE;
  case EDEADLK: case ESTALE:
    return KILN_ABORTED;
  case ECANCELED:
    return KILN_CANCELLED;
  default:
    return KILN_UNKNOWN;
  }
}

static void errno_fail(kiln_kernel_context *c, int e, const char *path) {
  char buf[256];
  failf(c, errno_code(e), "%s; %s", path, strerror_r(e, buf, sizeof buf));
}

/* Reads fd to its end, expecting about `expect` bytes. The bytes (caller
** frees) and their count, or NULL with *err the errno. */
static char *read_all(int fd, size_t expect, size_t *got, int *err) {
  size_t cap = expect + 1, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      size_t ncap = cap < SIZE_MAX / 2 ? cap * 2 : SIZE_MAX;
      char *nb = ncap > cap ? realloc(buf, ncap) : NULL;
      if (!nb) break;
      buf = nb;
      cap = ncap;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      *err = errno;
      free(buf);
      return NULL;
    }
    if (r == 0) {
      *got = n;
      return buf;
    }
    n += (size_t)r;
  }
  free(buf);
  *err = ENOMEM;
  return NULL;
}

/* The contents of file w (caller frees), or NULL with c failed. */
static char *read_file(kiln_kernel_context *c, const work *w, size_t *len) {
  const char *path = w->name;
  struct stat st, after;
  if (memchr(w->name, '\0', w->len)) {
    /* The OS would see a shorter path than the one queued. */
    failf(c, KILN_INVALID_ARGUMENT,
          "File name contains a NUL byte at offset %zu: '%s\\0...'",
          strlen(w->name), w->name);
    return NULL;
  }
  if (stat(path, &st) != 0) {
    errno_fail(c, errno, path);
    return NULL;
  }
  /* open() of a directory succeeds and its read fails with EISDIR: say
  ** so without the detour. */
  if (S_ISDIR(st.st_mode)) {
    errno_fail(c, EISDIR, path);
    return NULL;
  }
  if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size >= SIZE_MAX) {
    errno_fail(c, EFBIG, path);
    return NULL;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    errno_fail(c, errno, path);
    return NULL;
  }
  size_t expect = S_ISREG(st.st_mode) ? (size_t)st.st_size : 0;
  int err = 0;
  char *data = read_all(fd, expect, len, &err);
  if (!data) {
    if (err == ENOMEM)
      failf(c, KILN_RESOURCE_EXHAUSTED, "%s; out of memory reading %zu bytes",
            path, expect);
    else
      errno_fail(c, err, path);
  } else if (*len < expect && (fstat(fd, &after) != 0 || after.st_size < st.st_size)) {
    /* Short of stat()'s size because the file shrank, not because its
    ** size was nominal (procfs, sysfs: it still claims the same). */
    failf(c, KILN_DATA_LOSS, "Truncated read of '%s' expected %lld got %zu",
          path, (long long)st.st_size, *len);
    free(data);
    data = NULL;
  }
  close(fd);
  return data;
}

/* A scalar string tensor of data[0..len). */
static kiln_tensor *scalar_string(const char *data, size_t len, kiln_status *st) {
  kiln_tensor *t = kn_tensor_alloc(KILN_STRING, NULL, 0, st);
  if (t) kiln_tensor_set_string(t, 0, data, len, st);
  if (t && !kn_ok(st)) {
    kiln_tensor_free(t);
    t = NULL;
  }
  return t;
}

/* The reader behind input 0 (borrowed), or NULL with c failed. */
static kn_reader *reader_of(kiln_kernel_context *c) {
  kn_resource *r = kn_tensor_resource(kn_kc_input_tensor(c, 0));
  if (r && r->kind == &reader_kind) return (kn_reader *)r;
  kn_kc_fail(c, KILN_INVALID_ARGUMENT,
             r ? "reader_handle is a handle to a resource that is not a reader"
               : "reader_handle is not a reader handle (a DT_RESOURCE tensor "
                 "made by WholeFileReaderV2)");
  return NULL;
}

/* Reads file w (taken by this call) for the node: key and value, or the
** error, and w kept for the next read. */
static void read_work(kiln_kernel_context *c, kn_reader *rd, work *w, bool retried) {
  size_t len = 0;
  char *data = read_file(c, w, &len);
  if (!data) {
    keep_for_retry(rd, w, retried);
    return;
  }
  kiln_status *st = kiln_status_new();
  kiln_tensor *key = st ? scalar_string(w->name, w->len, st) : NULL;
  kiln_tensor *value = key ? scalar_string(data, len, st) : NULL;
  free(data);
  if (value) {
    kn_kc_set_output_tensor(c, 0, key);
    kn_kc_set_output_tensor(c, 1, value);
    free(w);
  } else {
    kiln_tensor_free(key);
    kn_kc_fail(c, KILN_RESOURCE_EXHAUSTED,
               st ? kiln_status_message(st) : "out of memory");
    keep_for_retry(rd, w, retried);
  }
  kiln_status_free(st);
}

/* Takes the file name a dequeue brought (queue.h's kn_queue_deliver). */
static void deliver(kiln_kernel_context *c, kiln_tensor **tuples, int64_t n,
                    bool many) {
  (void)n;
  (void)many;
  kiln_tensor *t = tuples[0];
  kn_reader *rd = reader_of(c);
  if (rd && kiln_tensor_num_elements(t) != 1) {
    kn_kc_fail(c, KILN_INVALID_ARGUMENT,
               "Expected to dequeue a one-element string tensor");
  } else if (rd) {
    size_t len = 0;
    const char *name = kiln_tensor_string(t, 0, &len);
    work *w = work_new(name ? name : "", name ? len : 0);
    if (w) read_work(c, rd, w, false);
    else kn_kc_fail(c, KILN_RESOURCE_EXHAUSTED, "out of memory");
  }
  kiln_tensor_free(t);
}

static void read_compute(void *p, kiln_kernel_context *c) {
  (void)p;
  kn_reader *rd = reader_of(c);
  if (!rd) return;
  work *w = take_retry(rd);
  if (w) {
    read_work(c, rd, w, true);
    return;
  }
  kn_resource *r = kn_tensor_resource(kn_kc_input_tensor(c, 1));
  if (!r || r->kind != &kn_queue_kind) {
    kn_kc_fail(c, KILN_INVALID_ARGUMENT,
               r ? "queue_handle is a handle to a resource that is not a queue"
                 : "queue_handle is not a queue handle (a DT_RESOURCE tensor "
                   "made by FIFOQueueV2)");
    return;
  }
  kn_queue *q = (kn_queue *)r;
  const kn_queue_spec *spec = kn_queue_get_spec(q);
  if (spec->ncomp != 1) {
    failf(c, KILN_INVALID_ARGUMENT,
          "Expected single component queue: queue '%s' has %d components",
          kn_queue_name(q), spec->ncomp);
    return;
  }
  if (spec->types[0] != KILN_STRING) {
    failf(c, KILN_INVALID_ARGUMENT,
          "Expected queue with single string component: queue '%s' holds %s",
          kn_queue_name(q), kiln_dtype_name(spec->types[0]));
    return;
  }
  kn_queue_dequeue(q, 1, false, deliver, c);
}

/* ----------------------------------------------------- WholeFileReaderV2 */

typedef struct reader_kernel {
  char *container, *name;
} reader_kernel;

static void *reader_create(kiln_kernel_construct *c) {
  reader_kernel *k = calloc(1, sizeof *k);
  if (!k) {
    kn_kcc_fail(c, KILN_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
  }
  if (!kn_resource_names(c, &k->container, &k->name)) {
    free(k);
    return NULL;
  }
  return k;
}

static void reader_kernel_destroy(void *p) {
  reader_kernel *k = p;
  free(k->container);
  free(k->name);
  free(k);
}

static void reader_compute(void *p, kiln_kernel_context *c) {
  reader_kernel *k = p;
  kiln_status *st = kiln_status_new();
  if (!st) {
    kn_kc_fail(c, KILN_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  kn_resource *r = kn_resource_lookup_or_create(
      kn_session_resources(kn_kc_session(c), k->container), k->container,
      k->name, &reader_kind, reader_new, NULL, st);
  if (r) {
    kiln_tensor *t = kn_resource_tensor(r, KILN_RESOURCE, false, st);
    if (t) kn_kc_set_output_tensor(c, 0, t);
    kn_resource_unref(r);
  }
  if (!kn_ok(st)) kn_kc_fail(c, kiln_status_code(st), kiln_status_message(st));
  kiln_status_free(st);
}

const kn_core_kernel kn_reader_kernels[] = {
    {"WholeFileReaderV2", reader_create, reader_compute, reader_kernel_destroy, 0},
    {"ReaderReadV2", NULL, read_compute, NULL, KN_KERNEL_ASYNC},
};
const size_t kn_reader_kernels_count =
    sizeof kn_reader_kernels / sizeof kn_reader_kernels[0];
