/*
** Readers, TensorFlow's ReaderBase over a queue of work. WholeFileReaderV2
** and TFRecordReaderV2 make (or find) a reader and output its handle; the
** verbs act on the reader behind a handle: ReaderReadV2 outputs the next
** (key, value), ReaderReadUpToV2 up to num_records of them,
** ReaderNumRecordsProducedV2 and ReaderNumWorkUnitsCompletedV2 its
** counters, ReaderResetV2 puts it back as new.
**
** A reader keeps its work in progress: files whose names it took from the
** queue and has not finished. A whole-file reader finishes a file with its
** one record; a TFRecord reader keeps the file open and reads record after
** record, noticing the end (as TensorFlow) only on the read after the last
** record. ReadUpTo stops at the end of a file when it has something, so one
** call never mixes two files, and gives fewer records then.
**
** Reads hold the reader's lock while they read a file, as TensorFlow's do,
** but not while they wait for a name: a read that finds no work and an
** empty queue parks on the queue (its dequeue with a deliver callback) and
** reads on the thread that serves it. A closed, drained queue ends the read
** with the queue's OUT_OF_RANGE. Because several reads of one reader can
** be waiting at once, the work in progress is a list, read oldest first.
**
** Errors follow TensorFlow. A file whose read failed stays in progress, so
** the next read tries it again at the same place and a pipeline does not
** skip data silently. A TFRecord file that cannot be opened is not started
** and the next read takes a new name (TensorFlow's OnWorkStarted). File
** errors are POSIX ones: kn_errno_code picks the code and the message is
** "<path>; <strerror>". A whole file that ends before the size stat() gave,
** because it shrank meanwhile, is DATA_LOSS ("Truncated read of ..."); a
** TFRecord cut short is DATA_LOSS "truncated record at <offset>" and one
** whose checksum fails "corrupted record at <offset>", the offset being
** TensorFlow's (the record's start, or its data's when the data is at
** fault), followed by the path.
**
** A read that receives the name of a TFRecord file with no records left,
** and has no other work, takes the next name, as TensorFlow's does: at
** once when it is starting, or by dequeuing again from the deliver
** callback when it was parked (it stays parked).
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
#include "attr.h"
#include "core_kernels.h"
#include "kernel_context.h"
#include "kernel_registry.h"
#include "queue.h"
#include "resource_mgr.h"
#include "session_internal.h"
#include "status_internal.h"
#include "tensor_internal.h"

/* Fails c with a message of any length. */
static void errno_fail(kiln_kernel_context *c, int e, const char *path) {
  char buf[256];
  kn_kc_failf(c, kn_errno_code(e), "%s; %s", path, strerror_r(e, buf, sizeof buf));
}

/* ---------------------------------------------------------------- crc32c */

/* CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), a byte at a time
** from a table made on first use. */
static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    crc_table[i] = c;
  }
}

static uint32_t crc32c(const unsigned char *p, size_t n) {
  pthread_once(&crc_once, crc_init);
  uint32_t c = 0xffffffffu;
  while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

/* TFRecord stores checksums masked, so that a checksum of data that holds
** checksums is not trivially related to them. */
static uint32_t masked_crc(const unsigned char *p, size_t n) {
  uint32_t c = crc32c(p, n);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

static uint64_t le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

/* ---------------------------------------------------------------- reader */

typedef struct work {
  struct work *next;
  int fd;                       /* TFRecord: the open file; else -1 */
  uint64_t offset;              /* TFRecord: where the next record starts */
  size_t len;
  char name[];                  /* len bytes, then a NUL */
} work;

typedef struct kn_reader {
  kn_resource res;
  pthread_mutex_t mu;           /* guards the rest; held while reading */
  work *head, *tail;            /* work in progress, oldest first */
  int64_t produced, finished;   /* records and work units, since reset */
} kn_reader;

static void work_free(work *w) {
  if (w->fd >= 0) close(w->fd);
  free(w);
}

/* Drops the work in progress and the counters. Under rd->mu. */
static void reader_clear(kn_reader *rd) {
  while (rd->head) {
    work *next = rd->head->next;
    work_free(rd->head);
    rd->head = next;
  }
  rd->tail = NULL;
  rd->produced = rd->finished = 0;
}

static void reader_destroy(kn_resource *r) {
  kn_reader *rd = (kn_reader *)r;
  reader_clear(rd);
  pthread_mutex_destroy(&rd->mu);
  free(rd);
}

/* The whole-file reader keeps the kind name "reader" that messages about
** a name taken by another kind of resource have always used. */
static const kn_resource_kind whole_file_kind = {"reader", reader_destroy};
static const kn_resource_kind tfrecord_kind = {"TFRecord reader", reader_destroy};

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

static bool is_tfrecord(const kn_reader *rd) { return rd->res.kind == &tfrecord_kind; }

/* ------------------------------------------------------------- records */

typedef struct record {
  char *key, *value;
  size_t key_len, value_len;
} record;

/* What one read gathers before it outputs. */
typedef struct batch {
  record *r;
  int64_t n, cap;
} batch;

static void batch_free(batch *b) {
  for (int64_t i = 0; i < b->n; i++) {
    free(b->r[i].key);
    free(b->r[i].value);
  }
  free(b->r);
}

/* Appends (key, value), taking both; false (both freed) without memory. */
static bool batch_add(batch *b, char *key, size_t key_len, char *value,
                      size_t value_len) {
  if (b->n == b->cap) {
    int64_t ncap = b->cap ? b->cap * 2 : 4;
    record *nr = realloc(b->r, (size_t)ncap * sizeof *nr);
    if (!nr) {
      free(key);
      free(value);
      return false;
    }
    b->r = nr;
    b->cap = ncap;
  }
  b->r[b->n++] = (record){key, value, key_len, value_len};
  return true;
}

/* ---------------------------------------------------------- whole files */

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

/* False, with c failed, when the queued name holds a NUL byte: the OS
** would see a shorter path than the one queued. */
static bool name_ok(kiln_kernel_context *c, const work *w) {
  if (!memchr(w->name, '\0', w->len)) return true;
  kn_kc_failf(c, KILN_INVALID_ARGUMENT,
        "File name contains a NUL byte at offset %zu: '%s\\0...'",
        strlen(w->name), w->name);
  return false;
}

/* The contents of file w (caller frees), or NULL with c failed. */
static char *read_file(kiln_kernel_context *c, const work *w, size_t *len) {
  const char *path = w->name;
  struct stat st, after;
  if (!name_ok(c, w)) return NULL;
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
      kn_kc_failf(c, KILN_RESOURCE_EXHAUSTED, "%s; out of memory reading %zu bytes",
            path, expect);
    else
      errno_fail(c, err, path);
  } else if (*len < expect && (fstat(fd, &after) != 0 || after.st_size < st.st_size)) {
    /* Short of stat()'s size because the file shrank, not because its
    ** size was nominal (procfs, sysfs: it still claims the same). */
    kn_kc_failf(c, KILN_DATA_LOSS, "Truncated read of '%s' expected %lld got %zu",
          path, (long long)st.st_size, *len);
    free(data);
    data = NULL;
  }
  close(fd);
  return data;
}

/* Whole file w as one record; false with c failed. */
static bool read_whole(kiln_kernel_context *c, kn_reader *rd, work *w, batch *b) {
  size_t len = 0;
  char *data = read_file(c, w, &len);
  if (!data) return false;
  char *key = malloc(w->len + 1);
  if (key) memcpy(key, w->name, w->len + 1);
  else free(data);
  if (!key || !batch_add(b, key, w->len, data, len)) {
    kn_kc_failf(c, KILN_RESOURCE_EXHAUSTED, "out of memory reading '%s'", w->name);
    return false;
  }
  rd->produced++;
  return true;
}

/* -------------------------------------------------------------- TFRecord */

enum { HEADER = 12, FOOTER = 4 };   /* length and its checksum; checksum */

/* Reads up to n bytes at off; the count, or -1 with errno set. */
static ssize_t pread_full(int fd, unsigned char *p, size_t n, uint64_t off) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, p + got, n - got, (off_t)(off + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

typedef enum { REC_OK, REC_END, REC_FAILED } rec_rc;

/* The record at w->offset: its data (caller frees) in *value, w->offset
** past it. REC_END at a clean end of the file, REC_FAILED with c failed;
** w->offset stays put in both. */
static rec_rc read_record(kiln_kernel_context *c, work *w, char **value,
                          size_t *len) {
  const uint64_t off = w->offset;
  const unsigned long long at = off;
  unsigned char h[HEADER];
  ssize_t got = pread_full(w->fd, h, HEADER, off);
  if (got < 0) {
    errno_fail(c, errno, w->name);
    return REC_FAILED;
  }
  if (got == 0) return REC_END;
  if (got < HEADER) {
    kn_kc_failf(c, KILN_DATA_LOSS, "truncated record at %llu in '%s': the file ends "
          "%zd bytes into the record's %d-byte header", at, w->name, got, HEADER);
    return REC_FAILED;
  }
  if (masked_crc(h, 8) != le32(h + 8)) {
    kn_kc_failf(c, KILN_DATA_LOSS, "corrupted record at %llu in '%s': the checksum "
          "of its length does not match", at, w->name);
    return REC_FAILED;
  }
  const uint64_t n = le64(h);
  const uint64_t data_at = off + HEADER;
  struct stat st;
  if (fstat(w->fd, &st) != 0) {
    errno_fail(c, errno, w->name);
    return REC_FAILED;
  }
  /* Bound the length by what the file holds before allocating for it: a
  ** length from a truncated file is not a size to trust. */
  uint64_t left = (uint64_t)st.st_size > data_at ? (uint64_t)st.st_size - data_at : 0;
  if (n > UINT64_MAX - FOOTER || left < n + FOOTER) {
    /* As TensorFlow: no byte of the data is the record's fault; some is
    ** the data's. */
    kn_kc_failf(c, KILN_DATA_LOSS, "truncated record at %llu in '%s': the record "
          "holds %llu bytes of data and a %d-byte checksum, the file has %llu "
          "left", left ? (unsigned long long)data_at : at, w->name,
          (unsigned long long)n, FOOTER, (unsigned long long)left);
    return REC_FAILED;
  }
  if (n > SIZE_MAX - FOOTER - 1) {
    kn_kc_failf(c, KILN_DATA_LOSS, "record size too large: %llu bytes at %llu in '%s'",
          (unsigned long long)n, at, w->name);
    return REC_FAILED;
  }
  unsigned char *buf = malloc((size_t)n + FOOTER);
  if (!buf) {
    kn_kc_failf(c, KILN_RESOURCE_EXHAUSTED, "out of memory reading the %llu-byte "
          "record at %llu in '%s'", (unsigned long long)n, at, w->name);
    return REC_FAILED;
  }
  got = pread_full(w->fd, buf, (size_t)n + FOOTER, data_at);
  if (got < 0) {
    errno_fail(c, errno, w->name);
    free(buf);
    return REC_FAILED;
  }
  if ((size_t)got < (size_t)n + FOOTER) {
    /* The file shrank since fstat(). */
    kn_kc_failf(c, KILN_DATA_LOSS, "truncated record at %llu in '%s': the record "
          "holds %llu bytes of data and a %d-byte checksum, the file has %zd "
          "left", got ? (unsigned long long)data_at : at, w->name,
          (unsigned long long)n, FOOTER, got);
    free(buf);
    return REC_FAILED;
  }
  if (masked_crc(buf, (size_t)n) != le32(buf + n)) {
    kn_kc_failf(c, KILN_DATA_LOSS, "corrupted record at %llu in '%s': the checksum "
          "of its %llu bytes of data does not match",
          (unsigned long long)data_at, w->name, (unsigned long long)n);
    free(buf);
    return REC_FAILED;
  }
  w->offset = data_at + n + FOOTER;
  *value = (char *)buf;
  *len = (size_t)n;
  return REC_OK;
}

/* Up to `want` records of w, keyed "<file>:<offset>". *at_end when the
** file ended first; false with c failed. */
static bool read_records(kiln_kernel_context *c, kn_reader *rd, work *w,
                         int64_t want, batch *b, bool *at_end) {
  for (int64_t i = 0; i < want; i++) {
    uint64_t off = w->offset;
    char *value = NULL, *key = NULL;
    size_t len = 0;
    rec_rc rc = read_record(c, w, &value, &len);
    if (rc == REC_FAILED) return false;
    if (rc == REC_END) {
      *at_end = true;
      return true;
    }
    int klen = asprintf(&key, "%s:%llu", w->name, (unsigned long long)off);
    if (klen < 0 || !batch_add(b, key, (size_t)klen, value, len)) {
      if (klen < 0) free(value);
      /* The record is consumed: keep the offset before it. */
      w->offset = off;
      kn_kc_failf(c, KILN_RESOURCE_EXHAUSTED, "out of memory reading '%s'", w->name);
      return false;
    }
    rd->produced++;
  }
  return true;
}

/* Opens a queued TFRecord file; false with c failed (TensorFlow's
** OnWorkStarted: the name is then dropped). */
static bool open_tfrecord(kiln_kernel_context *c, work *w) {
  if (!name_ok(c, w)) return false;
  int fd = open(w->name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    errno_fail(c, errno, w->name);
    return false;
  }
  struct stat st;
  int err = fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
  if (err) {
    close(fd);
    errno_fail(c, err, w->name);
    return false;
  }
  w->fd = fd;
  return true;
}

/* ----------------------------------------------------------- the reading */

typedef enum { READ_DONE, READ_FAILED, READ_NEED_WORK } read_rc;

/* Reads up to `want` records from the work in progress into b, oldest
** work first, stopping after a file that ended with records in b.
** READ_NEED_WORK when there is no work left and b is empty. Under rd->mu. */
static read_rc read_locked(kiln_kernel_context *c, kn_reader *rd, int64_t want,
                           batch *b) {
  while (b->n < want) {
    work *w = rd->head;
    if (!w) return READ_NEED_WORK;
    bool at_end = false;
    if (is_tfrecord(rd)) {
      if (!read_records(c, rd, w, want - b->n, b, &at_end)) return READ_FAILED;
    } else {
      if (!read_whole(c, rd, w, b)) return READ_FAILED;
      at_end = true;
    }
    if (at_end) {
      rd->head = w->next;
      if (!rd->head) rd->tail = NULL;
      work_free(w);
      rd->finished++;
      if (b->n) return READ_DONE;
    }
  }
  return READ_DONE;
}

/* Makes the queued name work in progress (last in line); false with c
** failed. Under rd->mu. */
static bool start_work(kiln_kernel_context *c, kn_reader *rd, const char *name,
                       size_t len) {
  work *w = malloc(sizeof *w + len + 1);
  if (!w) {
    kn_kc_fail(c, KILN_RESOURCE_EXHAUSTED, "out of memory");
    return false;
  }
  w->next = NULL;
  w->fd = -1;
  w->offset = 0;
  w->len = len;
  memcpy(w->name, name, len);
  w->name[len] = '\0';
  if (is_tfrecord(rd) && !open_tfrecord(c, w)) {
    free(w);
    return false;
  }
  if (rd->tail) rd->tail->next = w;
  else rd->head = w;
  rd->tail = w;
  return true;
}

/* A string tensor of shape [n] (or a scalar, when !vec) of the batch's
** keys or values; NULL with st set. */
static kiln_tensor *strings_of(const batch *b, bool values, bool vec,
                               kiln_status *st) {
  int64_t dim = b->n;
  kiln_tensor *t = kn_tensor_alloc(KILN_STRING, &dim, vec ? 1 : 0, st);
  for (int64_t i = 0; t && i < b->n && kn_ok(st); i++) {
    const record *r = &b->r[i];
    kiln_tensor_set_string(t, i, values ? r->value : r->key,
                           values ? r->value_len : r->key_len, st);
  }
  if (t && !kn_ok(st)) {
    kiln_tensor_free(t);
    t = NULL;
  }
  return t;
}

/* Outputs the batch: scalars for ReaderReadV2 (one record), vectors for
** ReaderReadUpToV2. */
static void emit(kiln_kernel_context *c, const batch *b) {
  bool vec = kn_kc_num_inputs(c) == 3;
  kiln_status *st = kiln_status_new();
  kiln_tensor *keys = st ? strings_of(b, false, vec, st) : NULL;
  kiln_tensor *values = keys ? strings_of(b, true, vec, st) : NULL;
  if (values) {
    kn_kc_set_output_tensor(c, 0, keys);
    kn_kc_set_output_tensor(c, 1, values);
  } else {
    kiln_tensor_free(keys);
    kn_kc_fail(c, KILN_RESOURCE_EXHAUSTED,
               st ? kiln_status_message(st) : "out of memory");
  }
  kiln_status_free(st);
}

/* The reader behind input 0 (borrowed), or NULL with c failed. */
static kn_reader *reader_of(kiln_kernel_context *c) {
  kn_resource *r = kn_tensor_resource(kn_kc_input_tensor(c, 0));
  if (r && (r->kind == &whole_file_kind || r->kind == &tfrecord_kind))
    return (kn_reader *)r;
  kn_kc_fail(c, KILN_INVALID_ARGUMENT,
             r ? "reader_handle is a handle to a resource that is not a reader"
               : "reader_handle is not a reader handle (a DT_RESOURCE tensor "
                 "made by WholeFileReaderV2 or TFRecordReaderV2)");
  return NULL;
}

/* How many records the read asks for: 1 for ReaderReadV2, num_records for
** ReaderReadUpToV2; -1 with c failed. */
static int64_t wanted(kiln_kernel_context *c) {
  if (kn_kc_num_inputs(c) < 3) return 1;
  const kiln_tensor *t = kn_kc_input_tensor(c, 2);
  if (kiln_tensor_ndims(t) != 0) {
    kn_kc_failf(c, KILN_INVALID_ARGUMENT, "num_records must be a scalar, got a "
          "tensor of rank %d", kiln_tensor_ndims(t));
    return -1;
  }
  int64_t n = *(const int64_t *)kiln_tensor_data(t);
  if (n < 0)
    kn_kc_failf(c, KILN_INVALID_ARGUMENT, "num_records must be >= 0, got %lld",
          (long long)n);
  return n < 0 ? -1 : n;
}

/* The queue behind input 1 when it holds single file names; NULL with c
** failed. */
static kn_queue *name_queue(kiln_kernel_context *c) {
  kn_queue *q = kn_queue_input(c, 1, "queue_handle");
  if (!q) return NULL;
  const kn_queue_spec *spec = kn_queue_get_spec(q);
  if (spec->ncomp != 1) {
    kn_kc_failf(c, KILN_INVALID_ARGUMENT,
          "Expected single component queue: queue '%s' has %d components",
          kn_queue_name(q), spec->ncomp);
    return NULL;
  }
  if (spec->types[0] != KILN_STRING) {
    kn_kc_failf(c, KILN_INVALID_ARGUMENT,
          "Expected queue with single string component: queue '%s' holds %s",
          kn_queue_name(q), kiln_dtype_name(spec->types[0]));
    return NULL;
  }
  return q;
}

/* The read being started on this thread, inside kn_queue_dequeue: a name
** delivered at once comes to its context, and a deliver that finds
** nothing to read asks it (again) to take another name. */
static _Thread_local struct starting {
  kiln_kernel_context *c;
  bool again;
} starting;

/* Takes the file name a dequeue brought (queue.h's kn_queue_deliver). */
static void deliver(kiln_kernel_context *c, kiln_tensor **tuples, int64_t n,
                    bool many) {
  (void)n;
  (void)many;
  kiln_tensor *t = tuples[0];
  kn_reader *rd = reader_of(c);
  int64_t want = rd ? wanted(c) : -1;
  if (want >= 0 && kiln_tensor_num_elements(t) != 1) {
    kn_kc_fail(c, KILN_INVALID_ARGUMENT,
               "Expected to dequeue a one-element string tensor");
  } else if (want >= 0) {
    size_t len = 0;
    const char *name = kiln_tensor_string(t, 0, &len);
    batch b = {0};
    pthread_mutex_lock(&rd->mu);
    read_rc rc = start_work(c, rd, name ? name : "", name ? len : 0)
                     ? read_locked(c, rd, want, &b) : READ_FAILED;
    pthread_mutex_unlock(&rd->mu);
    if (rc == READ_DONE) {
      emit(c, &b);
    } else if (rc == READ_NEED_WORK && starting.c == c) {
      starting.again = true;
    } else if (rc == READ_NEED_WORK) {
      /* A parked read whose file held nothing waits for the next name. */
      kn_queue *q = name_queue(c);
      if (q) kn_queue_dequeue(q, 1, false, deliver, c);
    }
    batch_free(&b);
  }
  kiln_tensor_free(t);
}

/* ReaderReadV2 and ReaderReadUpToV2. */
static void read_compute(void *p, kiln_kernel_context *c) {
  (void)p;
  kn_reader *rd = reader_of(c);
  int64_t want = rd ? wanted(c) : -1;
  if (want < 0) return;
  for (;;) {
    batch b = {0};
    read_rc rc = READ_DONE;
    if (want > 0) {
      pthread_mutex_lock(&rd->mu);
      rc = read_locked(c, rd, want, &b);
      pthread_mutex_unlock(&rd->mu);
    }
    if (rc == READ_DONE) emit(c, &b);
    batch_free(&b);
    if (rc != READ_NEED_WORK) return;
    kn_queue *q = name_queue(c);
    if (!q) return;
    struct starting saved = starting;
    starting = (struct starting){c, false};
    kn_queue_dequeue(q, 1, false, deliver, c);
    bool again = starting.again;
    starting = saved;
    if (!again) return;
  }
}

/* ------------------------------------------------- counters and reset */

static void counter_compute(kiln_kernel_context *c, bool records) {
  kn_reader *rd = reader_of(c);
  if (!rd) return;
  kiln_status *st = kiln_status_new();
  kiln_tensor *t = st ? kn_tensor_alloc(KILN_INT64, NULL, 0, st) : NULL;
  if (!t) {
    kn_kc_fail(c, KILN_RESOURCE_EXHAUSTED,
               st ? kiln_status_message(st) : "out of memory");
    kiln_status_free(st);
    return;
  }
  pthread_mutex_lock(&rd->mu);
  *(int64_t *)kiln_tensor_data(t) = records ? rd->produced : rd->finished;
  pthread_mutex_unlock(&rd->mu);
  kn_kc_set_output_tensor(c, 0, t);
  kiln_status_free(st);
}

static void records_produced_compute(void *p, kiln_kernel_context *c) {
  (void)p;
  counter_compute(c, true);
}

static void units_completed_compute(void *p, kiln_kernel_context *c) {
  (void)p;
  counter_compute(c, false);
}

/* As new: no work in progress (open files closed), counters at zero. */
static void reset_compute(void *p, kiln_kernel_context *c) {
  (void)p;
  kn_reader *rd = reader_of(c);
  if (!rd) return;
  pthread_mutex_lock(&rd->mu);
  reader_clear(rd);
  pthread_mutex_unlock(&rd->mu);
}

/* ------------------------------------------ WholeFileReaderV2, TFRecord */

typedef struct reader_kernel {
  char *container, *name;
  const kn_resource_kind *kind;
} reader_kernel;

static void reader_kernel_destroy(void *p) {
  reader_kernel *k = p;
  free(k->container);
  free(k->name);
  free(k);
}

static void *reader_create(kiln_kernel_construct *c, const kn_resource_kind *kind) {
  reader_kernel *k = calloc(1, sizeof *k);
  if (!k) {
    kn_kcc_fail(c, KILN_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
  }
  k->kind = kind;
  if (!kn_resource_names(c, &k->container, &k->name)) {
    free(k);
    return NULL;
  }
  return k;
}

static void *whole_file_create(kiln_kernel_construct *c) {
  return reader_create(c, &whole_file_kind);
}

/* Only uncompressed files: TensorFlow's ZLIB and GZIP need zlib, which
** Kiln does not link; a file read as uncompressed would only fail its
** checksums, so say so at once. */
static void *tfrecord_create(kiln_kernel_construct *c) {
  const kn_attr_value *v =
      kn_attr_map_get((const kn_attr_map *)kn_kcc_attrs(c), "compression_type");
  if (v && v->v.s.len) {
    char *msg = NULL;
    int n = asprintf(&msg, "compression_type '%.*s' is not supported: "
                     "TFRecordReaderV2 reads uncompressed files only "
                     "(compression_type ''); ZLIB and GZIP are not supported",
                     (int)v->v.s.len, v->v.s.data);
    kn_kcc_fail(c, n < 0 ? KILN_RESOURCE_EXHAUSTED : KILN_UNIMPLEMENTED,
                n < 0 ? "out of memory" : msg);
    if (n >= 0) free(msg);
    return NULL;
  }
  return reader_create(c, &tfrecord_kind);
}

static void reader_compute(void *p, kiln_kernel_context *c) {
  reader_kernel *k = p;
  kn_kc_output_resource(c, k->container, k->name, k->kind, reader_new, NULL,
                        NULL, KILN_RESOURCE, false);
}

const kn_core_kernel kn_reader_kernels[] = {
    {"WholeFileReaderV2", whole_file_create, reader_compute, reader_kernel_destroy, 0},
    {"TFRecordReaderV2", tfrecord_create, reader_compute, reader_kernel_destroy, 0},
    {"ReaderReadV2", NULL, read_compute, NULL, KN_KERNEL_ASYNC},
    {"ReaderReadUpToV2", NULL, read_compute, NULL, KN_KERNEL_ASYNC},
    {"ReaderNumRecordsProducedV2", NULL, records_produced_compute, NULL, 0},
    {"ReaderNumWorkUnitsCompletedV2", NULL, units_completed_compute, NULL, 0},
    {"ReaderResetV2", NULL, reset_compute, NULL, 0},
};
const size_t kn_reader_kernels_count =
    sizeof kn_reader_kernels / sizeof kn_reader_kernels[0];
