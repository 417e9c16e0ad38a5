/* Helpers for the session suites: tensors from C arrays and checks. */
#ifndef KILN_SESSIONUTIL_H
#define KILN_SESSIONUTIL_H

#include "testutil.h"

/* C array literals for shapes: f(DIMS(2, 3)) passes dims and ndims;
** SCALAR passes none. */
#define DIMS(...) (const int64_t[]){__VA_ARGS__}, \
    (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
#define SCALAR NULL, 0

#ifdef KT_GRAPH_FIXTURE
/* The fixture of suites whose tests each build one graph: a fresh graph g
** and status s per test (cmocka setup/teardown). */
static kiln_graph *g;
static kiln_status *s;

static int setup(void **state) {
  (void)state;
  g = kiln_graph_new();
  s = kiln_status_new();
  return g && s ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  kiln_graph_free(g);
  kiln_status_free(s);
  return 0;
}
#endif

static inline kiln_tensor *kt_floats(const float *v, const int64_t *dims, int ndims) {
  kiln_status *st = kiln_status_new();
  kiln_tensor *t = kiln_tensor_new(KILN_FLOAT, dims, ndims, st);
  assert_ok(st);
  if (kiln_tensor_num_elements(t))
    memcpy(kiln_tensor_data(t), v, (size_t)kiln_tensor_num_elements(t) * sizeof(float));
  kiln_status_free(st);
  return t;
}

static inline kiln_tensor *kt_scalar(float v) { return kt_floats(&v, NULL, 0); }

static inline kiln_tensor *kt_int32s(const int32_t *v, const int64_t *dims, int ndims) {
  kiln_status *st = kiln_status_new();
  kiln_tensor *t = kiln_tensor_new(KILN_INT32, dims, ndims, st);
  assert_ok(st);
  if (kiln_tensor_num_elements(t))
    memcpy(kiln_tensor_data(t), v, (size_t)kiln_tensor_num_elements(t) * sizeof(int32_t));
  kiln_status_free(st);
  return t;
}

/* Asserts t is a float tensor of the given shape and values (exact). */
static inline void kt_assert_floats(const kiln_tensor *t, const float *want,
                                    const int64_t *dims, int ndims) {
  assert_non_null(t);
  assert_int_equal(kiln_tensor_dtype(t), KILN_FLOAT);
  assert_int_equal(kiln_tensor_ndims(t), ndims);
  for (int i = 0; i < ndims; i++) assert_int_equal(kiln_tensor_dim(t, i), dims[i]);
  const float *got = kiln_tensor_data(t);
  for (int64_t i = 0; i < kiln_tensor_num_elements(t); i++)
    if (got[i] != want[i])
      fail_msg("element %lld: got %g, want %g", (long long)i, (double)got[i],
               (double)want[i]);
}

static inline float kt_scalar_of(const kiln_tensor *t) {
  assert_non_null(t);
  assert_int_equal(kiln_tensor_dtype(t), KILN_FLOAT);
  assert_int_equal(kiln_tensor_num_elements(t), 1);
  return *(const float *)kiln_tensor_data(t);
}

/* Fails, with what the loader saw, unless a CPU device is loaded: the
** suites run end to end on the real CPU plugin. */
#define KT_REQUIRE_CPU()                                                    \
  do {                                                                      \
    kiln_status *s_ = kiln_status_new();                                    \
    kiln_device_list *l_ = kiln_devices_list(s_);                           \
    int n_ = 0;                                                             \
    for (int i_ = 0; l_ && i_ < kiln_device_list_size(l_); i_++)            \
      if (strcmp(kiln_device_list_type(l_, i_), "CPU") == 0) n_++;          \
    kiln_device_list_free(l_);                                              \
    kiln_status_free(s_);                                                   \
    if (n_ == 0) {                                                          \
      kiln_plugin_list *pl_ = kiln_plugins_list();                          \
      for (int i_ = 0; pl_ && i_ < kiln_plugin_list_size(pl_); i_++)        \
        fprintf(stderr, "# plugin %s: %s\n", kiln_plugin_list_path(pl_, i_), \
                kiln_plugin_list_message(pl_, i_));                         \
      kiln_plugin_list_free(pl_);                                           \
      fail_msg("no CPU device: the kiln-cpu plugin did not load");          \
    }                                                                       \
  } while (0)

#endif
