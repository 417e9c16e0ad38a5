/*
** cpu_plugin: the CPU backend's entry point and the helpers every kernel
** family shares (messages, dtype facts, broadcasting, the intra-op thread
** pool, half and bfloat16 conversions).
**
** The plugin registers one device type, "CPU", with one device whose memory
** is host memory; the core's aligned allocator serves it, so there is no
** alloc or copy callback here.
*/
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu.h"

const kiln_plugin_api *cpu_api;

/* ------------------------------------------------------------- messages */

void cpu_fail(kiln_kernel_context *ctx, kiln_code code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cpu_api->fail(ctx, code, msg);
}

/* ---------------------------------------------------------------- dtypes */

size_t cpu_dtype_size(kiln_dtype t) {
  switch (t) {
  case KILN_FLOAT: case KILN_INT32: case KILN_UINT32: case KILN_QINT32:
    return 4;
  case KILN_DOUBLE: case KILN_INT64: case KILN_UINT64: case KILN_COMPLEX64:
    return 8;
  case KILN_UINT8: case KILN_INT8: case KILN_BOOL: case KILN_QINT8:
  case KILN_QUINT8:
    return 1;
  case KILN_INT16: case KILN_UINT16: case KILN_QINT16: case KILN_QUINT16:
  case KILN_HALF: case KILN_BFLOAT16:
    return 2;
  case KILN_COMPLEX128:
    return 16;
  default:
    return 0;
  }
}

const char *cpu_dtype_name(kiln_dtype t) {
  switch (t) {
  case KILN_FLOAT: return "float";
  case KILN_DOUBLE: return "double";
  case KILN_INT32: return "int32";
  case KILN_UINT8: return "uint8";
  case KILN_INT16: return "int16";
  case KILN_INT8: return "int8";
  case KILN_STRING: return "string";
  case KILN_COMPLEX64: return "complex64";
  case KILN_INT64: return "int64";
  case KILN_BOOL: return "bool";
  case KILN_QINT8: return "qint8";
  case KILN_QUINT8: return "quint8";
  case KILN_QINT32: return "qint32";
  case KILN_BFLOAT16: return "bfloat16";
  case KILN_QINT16: return "qint16";
  case KILN_QUINT16: return "quint16";
  case KILN_UINT16: return "uint16";
  case KILN_COMPLEX128: return "complex128";
  case KILN_HALF: return "half";
  case KILN_RESOURCE: return "resource";
  case KILN_VARIANT: return "variant";
  case KILN_UINT32: return "uint32";
  case KILN_UINT64: return "uint64";
  default: return "invalid";
  }
}

/* ---------------------------------------------------------- broadcasting */

bool cpu_broadcast_make(const kiln_tensor_view *a, const kiln_tensor_view *b,
                        cpu_broadcast *out) {
  const kiln_tensor_view *in[2] = {a, b};
  int nd = a->ndims > b->ndims ? a->ndims : b->ndims;
  if (nd > KILN_MAX_DIMS) return false;
  out->ndims = nd;
  for (int k = 0; k < 2; k++) {
    int64_t stride = 1;
    int off = nd - in[k]->ndims;
    for (int i = nd - 1; i >= 0; i--) {
      int64_t d = i >= off ? in[k]->dims[i - off] : 1;
      if (k == 0) {
        out->dims[i] = d;
      } else if (d != out->dims[i]) {
        if (out->dims[i] == 1) out->dims[i] = d;
        else if (d != 1) return false;
      }
      out->strides[k][i] = d == 1 ? 0 : stride;
      stride *= d;
    }
  }
  /* A dim of 1 in both inputs has stride 0 in both, which is harmless. */
  int64_t n = 1;
  for (int i = 0; i < nd; i++) {
    if (out->dims[i] != 0 && n > INT64_MAX / out->dims[i]) {
      n = -1; /* overflow: allocate_output refuses these dims */
      for (int j = 0; j < nd; j++)
        if (out->dims[j] == 0) n = 0;
      break;
    }
    n *= out->dims[i];
  }
  out->num_elements = n;
  return true;
}

bool cpu_broadcast_or_fail(kiln_kernel_context *ctx,
                           const kiln_tensor_view *a,
                           const kiln_tensor_view *b, cpu_broadcast *out) {
  char sa[256], sb[256];
  if (cpu_broadcast_make(a, b, out)) return true;
  cpu_fail(ctx, KILN_INVALID_ARGUMENT, "Incompatible shapes: %s vs. %s",
           ks_dims_str(a->dims, a->ndims, sa, sizeof sa),
           ks_dims_str(b->dims, b->ndims, sb, sizeof sb));
  return false;
}

/* ----------------------------------------------------------- thread pool */

/* One parallel_for in flight. Chunks are claimed with an atomic counter by
** the caller and by at most `helpers_max` pool workers; the caller waits
** until every chunk is done and no worker still holds the job. */
typedef struct cpu_job {
  void (*fn)(int64_t begin, int64_t end, void *arg);
  void *arg;
  int64_t n, chunk, nchunks;
  atomic_llong next;
  int64_t done;        /* under pool.mu */
  int helpers, helpers_max;
  struct cpu_job *link;
} cpu_job;

#define CPU_POOL_MAX 256

static struct {
  pthread_mutex_t mu;
  pthread_cond_t work, done;
  cpu_job *jobs;       /* jobs with unclaimed chunks */
  pthread_t threads[CPU_POOL_MAX];
  int nthreads;
  bool stop;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER,
          .work = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

static int64_t job_run(cpu_job *job) {
  int64_t finished = 0, c;
  while ((c = atomic_fetch_add(&job->next, 1)) < job->nchunks) {
    int64_t begin = c * job->chunk;
    int64_t end = begin + job->chunk < job->n ? begin + job->chunk : job->n;
    job->fn(begin, end, job->arg);
    finished++;
  }
  return finished;
}

static void *pool_worker(void *unused) {
  (void)unused;
  pthread_mutex_lock(&pool.mu);
  while (!pool.stop) {
    cpu_job *job = pool.jobs;
    while (job && (job->helpers >= job->helpers_max ||
                   atomic_load(&job->next) >= job->nchunks))
      job = job->link;
    if (!job) {
      pthread_cond_wait(&pool.work, &pool.mu);
      continue;
    }
    job->helpers++;
    pthread_mutex_unlock(&pool.mu);
    int64_t finished = job_run(job);
    pthread_mutex_lock(&pool.mu);
    job->done += finished;
    job->helpers--;
    if (job->helpers == 0) pthread_cond_broadcast(&pool.done);
  }
  pthread_mutex_unlock(&pool.mu);
  return NULL;
}

/* Grows the pool to `want` workers (under pool.mu). A thread that cannot be
** started only means less parallelism. */
static void pool_grow(int want) {
  if (want > CPU_POOL_MAX) want = CPU_POOL_MAX;
  while (!pool.stop && pool.nthreads < want) {
    if (pthread_create(&pool.threads[pool.nthreads], NULL, pool_worker,
                       NULL) != 0)
      break;
    pool.nthreads++;
  }
}

static void pool_shutdown(void *unused) {
  (void)unused;
  pthread_mutex_lock(&pool.mu);
  pool.stop = true;
  pthread_cond_broadcast(&pool.work);
  int n = pool.nthreads;
  pthread_mutex_unlock(&pool.mu);
  for (int i = 0; i < n; i++) pthread_join(pool.threads[i], NULL);
  pthread_mutex_lock(&pool.mu);
  pool.nthreads = 0;
  pthread_mutex_unlock(&pool.mu);
}

static int online_cpus(void) {
  static atomic_int cached;
  int n = atomic_load(&cached);
  if (n <= 0) {
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    n = c > 0 ? (c > CPU_POOL_MAX ? CPU_POOL_MAX : (int)c) : 1;
    atomic_store(&cached, n);
  }
  return n;
}

void cpu_parallel_for(kiln_kernel_context *ctx, int64_t n, int64_t grain,
                      void (*fn)(int64_t begin, int64_t end, void *arg),
                      void *arg) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int threads = ctx ? cpu_api->intra_op_threads(ctx) : 0;
  if (threads <= 0) threads = online_cpus();
  int64_t nchunks = (n + grain - 1) / grain;
  /* A few chunks per thread even out uneven progress. */
  if (nchunks > (int64_t)threads * 4) nchunks = (int64_t)threads * 4;
  if (threads <= 1 || nchunks <= 1) {
    fn(0, n, arg);
    return;
  }
  cpu_job job = {.fn = fn, .arg = arg, .n = n};
  job.chunk = (n + nchunks - 1) / nchunks;
  job.nchunks = (n + job.chunk - 1) / job.chunk;
  job.helpers_max = threads - 1;
  atomic_init(&job.next, 0);

  pthread_mutex_lock(&pool.mu);
  pool_grow(threads - 1);
  bool queued = pool.nthreads > 0 && !pool.stop;
  if (queued) {
    job.link = pool.jobs;
    pool.jobs = &job;
    pthread_cond_broadcast(&pool.work);
  }
  pthread_mutex_unlock(&pool.mu);

  int64_t finished = job_run(&job);
  if (!queued) return;

  pthread_mutex_lock(&pool.mu);
  for (cpu_job **p = &pool.jobs; *p; p = &(*p)->link)
    if (*p == &job) {
      *p = job.link;
      break;
    }
  job.done += finished;
  while (job.helpers > 0 || job.done < job.nchunks)
    pthread_cond_wait(&pool.done, &pool.mu);
  pthread_mutex_unlock(&pool.mu);
}

/* ------------------------------------------------------- half, bfloat16 */

static inline uint32_t f2u(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static inline float u2f(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static inline float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  if (exp == 0x1f) /* inf, nan (payload kept, quiet) */
    return u2f(sign | 0x7f800000u | (man << 13) | (man ? 0x400000u : 0));
  if (exp == 0) { /* zero, subnormal: man * 2^-24 exactly */
    float v = (float)man * 0x1p-24f;
    return sign ? -v : v;
  }
  return u2f(sign | ((exp + 112) << 23) | (man << 13));
}

static inline uint16_t float_to_half(float f) {
  uint32_t u = f2u(f);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
  uint32_t a = u & 0x7fffffffu;
  if (a >= 0x7f800000u) /* inf or nan */
    return sign | 0x7c00 | (a > 0x7f800000u ? 0x200 | ((a >> 13) & 0x3ff) : 0);
  if (a >= 0x477ff000u) /* rounds to >= 65520: overflow */
    return sign | 0x7c00;
  if (a < 0x38800000u) { /* below the smallest normal half: subnormal */
    /* Adding 0.5 makes the FPU round to nearest even at 2^-24. */
    float v = u2f(a) + 0.5f;
    return sign | (uint16_t)(f2u(v) - f2u(0.5f));
  }
  uint32_t odd = (a >> 13) & 1;
  a += 0xc8000fffu + odd; /* rebias (-112 << 23) and round to nearest even */
  return sign | (uint16_t)(a >> 13);
}

static inline float bfloat16_to_float(uint16_t b) {
  return u2f((uint32_t)b << 16);
}

static inline uint16_t float_to_bfloat16(float f) {
  uint32_t u = f2u(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) /* nan: keep it a quiet nan */
    return (uint16_t)((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1);
  return (uint16_t)(u >> 16);
}

float cpu_half_to_float(uint16_t h) { return half_to_float(h); }
uint16_t cpu_float_to_half(float f) { return float_to_half(f); }
float cpu_bfloat16_to_float(uint16_t b) { return bfloat16_to_float(b); }
uint16_t cpu_float_to_bfloat16(float f) { return float_to_bfloat16(f); }

void cpu_half_to_float_n(const uint16_t *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = half_to_float(src[i]);
}

void cpu_float_to_half_n(const float *src, uint16_t *dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = float_to_half(src[i]);
}

void cpu_bfloat16_to_float_n(const uint16_t *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = bfloat16_to_float(src[i]);
}

void cpu_float_to_bfloat16_n(const float *src, uint16_t *dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = float_to_bfloat16(src[i]);
}

/* ---------------------------------------------------------------- device */

static int cpu_device_state; /* open() returns its address */

/* Copies the value of the first "key : value" line of /proc/cpuinfo whose
** key is `key`; false when absent or unreadable. */
static bool cpuinfo_field(const char *key, char *out, size_t cap) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512];
  bool found = false;
  size_t klen = strlen(key);
  if (!f) return false;
  while (!found && fgets(line, sizeof line, f)) {
    if (strncmp(line, key, klen) != 0) continue;
    char *p = line + klen;
    while (*p == ' ' || *p == '\t') p++;
    if (*p != ':') continue;
    p++;
    while (*p == ' ') p++;
    size_t len = strcspn(p, "\n");
    while (len > 0 && p[len - 1] == ' ') len--;
    if (len == 0) continue;
    if (len >= cap) len = cap - 1;
    memcpy(out, p, len);
    out[len] = '\0';
    found = true;
  }
  fclose(f);
  return found;
}

static void cpu_enumerate(void *user, kiln_device_sink *sink,
                          kiln_status *status) {
  char model[256], vendor[128], desc[320];
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  (void)user;
  (void)status;
  if (!cpuinfo_field("model name", model, sizeof model) &&
      !cpuinfo_field("Model", model, sizeof model) &&
      !cpuinfo_field("cpu model", model, sizeof model))
    snprintf(model, sizeof model, "host CPU");
  if (!cpuinfo_field("vendor_id", vendor, sizeof vendor) &&
      !cpuinfo_field("CPU implementer", vendor, sizeof vendor))
    vendor[0] = '\0';
  snprintf(desc, sizeof desc, "%s (%d logical cores)", model, online_cpus());
  kiln_device_desc d = {
      .struct_size = sizeof d,
      .description = desc,
      .vendor = vendor[0] ? vendor : NULL,
      .stable_id = "",
      .memory_limit = pages > 0 && page > 0
                          ? (uint64_t)pages * (uint64_t)page
                          : 0,
      .free_memory = 0,
      .cookie = NULL,
  };
  cpu_api->device_found(sink, &d);
}

static void *cpu_open(void *user, void *cookie, int index,
                      kiln_status *status) {
  (void)user;
  (void)cookie;
  (void)index;
  (void)status;
  return &cpu_device_state;
}

static const kiln_device_type cpu_device_type = {
    .struct_size = sizeof(kiln_device_type),
    .type = "CPU",
    .host_memory = true,
    .enumerate = cpu_enumerate,
    .open = cpu_open,
};

/* ------------------------------------------------------------------ init */

static const cpu_kernel_table *const cpu_tables[] = {
    &cpu_math_kernels,   &cpu_reduce_kernels, &cpu_matmul_kernels,
    &cpu_nn_kernels,     &cpu_conv_kernels,   &cpu_array_kernels,
    &cpu_slice_kernels,  &cpu_random_kernels, &cpu_io_kernels,
    &cpu_sparse_kernels, &cpu_training_kernels,
};

__attribute__((visibility("default"))) int
kiln_plugin_init(const kiln_plugin_api *api, kiln_plugin *self);

int kiln_plugin_init(const kiln_plugin_api *api, kiln_plugin *self) {
  if (api == NULL || self == NULL ||
      api->abi_version != KILN_PLUGIN_ABI_VERSION)
    return 1;
  cpu_api = api;
  self->struct_size = sizeof *self;
  self->abi_version = KILN_PLUGIN_ABI_VERSION;
  self->name = "cpu";
  self->version = "1";
  self->description = "host CPU kernels on OpenBLAS";
  self->shutdown = pool_shutdown;
  self->user = NULL;

  if (api->register_device_type(self->handle, &cpu_device_type) != KILN_OK)
    return 1;
  /* A refused kernel is logged by the core and the others still load. */
  for (size_t t = 0; t < sizeof cpu_tables / sizeof cpu_tables[0]; t++)
    for (size_t i = 0; i < cpu_tables[t]->count; i++)
      api->register_kernel(self->handle, &cpu_tables[t]->defs[i]);
  return 0;
}
