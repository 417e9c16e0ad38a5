/*
** The kernel conformance suite's shared definitions.
**
** A case is one concrete run of one op: its inputs (host arrays, fed
** through placeholders or given as constants), its attrs, and the outputs
** a naive reference computed for it. The driver (test_conformance.c) turns
** a case into a graph, runs it on the kernel's device (and on CPU when the
** kernel is another plugin's), and compares. The table (ct_table.c) says,
** per op, which generator makes its cases, which dtypes and value ranges
** it uses, and the tolerance; the generators and their references live in
** ct_reference.c; dtype handling and the random source in ct_dtype.c.
*/
#ifndef KILN_CONFORMANCE_H
#define KILN_CONFORMANCE_H

#include <stdbool.h>
#include <stdint.h>
#include <kiln/kiln.h>

/* ------------------------------------------------------------- arrays */

/* Values held as doubles, each exactly representable in `dtype` (every
** dtype the suite handles fits: the values stay small). Row-major. */
typedef struct ct_array {
  kiln_dtype dtype;
  int ndims;
  int64_t dims[KILN_MAX_DIMS];
  int64_t n;
  double *v;
} ct_array;

/* Allocates the values (zeroed); false when out of memory. */
bool ct_array_init(ct_array *a, kiln_dtype dt, const int64_t *dims, int ndims);
void ct_array_free(ct_array *a);
/* "[3,4]" into buf. */
const char *ct_dims_str(const int64_t *dims, int ndims, char *buf, size_t cap);

/* ------------------------------------------------------------- dtypes */

/* Dtype classes, for the table's masks. */
enum {
  CT_F = 1u << 0, /* float, double, half, bfloat16 */
  CT_I = 1u << 1, /* int8, int16, int32, int64 */
  CT_U = 1u << 2, /* uint8, uint16, uint32, uint64 */
  CT_B = 1u << 3  /* bool */
};
/* The class of a dtype, 0 when the suite cannot make or read it. */
unsigned ct_dtype_class(kiln_dtype t);
bool ct_is_float(kiln_dtype t);
/* Machine epsilon of a float dtype, 0 for the exact ones. */
double ct_eps(kiln_dtype t);
/* x as stored in dtype t: rounded to nearest even for floats, truncated
** toward zero and wrapped for integers (as C's conversions do), 0/1 for
** bool. */
double ct_round(kiln_dtype t, double x);
/* Between ct_array values and tensor memory. */
void ct_store(kiln_dtype t, void *data, int64_t i, double x);
double ct_load(kiln_dtype t, const void *data, int64_t i);

/* ------------------------------------------------------ random values */

typedef struct ct_rng {
  uint64_t s;
} ct_rng;

void ct_rng_seed(ct_rng *r, uint64_t seed);
uint64_t ct_rng_next(ct_rng *r);
/* Uniform in [0, 1). */
double ct_rng_unit(ct_rng *r);
/* FNV-1a of a string, to derive a seed per case from names. */
uint64_t ct_hash(uint64_t h, const char *s);

/* Where random input values come from. Floats are drawn from [lo, hi],
** integers from [ilo, ihi] (unsigned types clamp ilo to 0). */
enum {
  CT_NONZERO = 1u << 0,  /* |x| >= 0.25 for floats, x != 0 for integers */
  CT_GRID = 1u << 1,     /* floats on multiples of 0.25 (ties, equality) */
  CT_SPECIALS = 1u << 2  /* floats: NaN, +Inf, -Inf among the values */
};
typedef struct ct_range {
  double lo, hi;
  int ilo, ihi;
  unsigned flags;
} ct_range;

/* Fills a with random values of its dtype from range r. */
void ct_fill(ct_array *a, const ct_range *r, ct_rng *rng);

/* -------------------------------------------------------------- cases */

#define CT_MAX_INPUTS 8
#define CT_MAX_OUTPUTS 4
#define CT_MAX_ATTRS 6

typedef enum ct_attr_kind {
  CT_ATTR_INT,
  CT_ATTR_BOOL,
  CT_ATTR_FLOAT,
  CT_ATTR_TYPE,
  CT_ATTR_STRING,
  CT_ATTR_INTS,
  CT_ATTR_SHAPE,              /* ints[0..nints) as dims */
  CT_ATTR_TENSOR              /* the case's attr_value */
} ct_attr_kind;

typedef struct ct_attr {
  const char *name;
  ct_attr_kind kind;
  int64_t i;                  /* INT, BOOL */
  double f;                   /* FLOAT */
  kiln_dtype t;               /* TYPE */
  const char *s;              /* STRING */
  int64_t ints[KILN_MAX_DIMS];/* INTS, SHAPE */
  int nints;
} ct_attr;

typedef struct ct_case {
  char label[160];            /* what varies: shapes, attrs */
  int ninputs;
  ct_array in[CT_MAX_INPUTS];
  bool in_const[CT_MAX_INPUTS];   /* a Const node, not a placeholder */
  /* Argument grouping: the op's arguments in order, each 0 for a single
  ** tensor or the length of a list (ConcatV2's values, AddN's inputs).
  ** nargs 0: every input is a single argument. */
  int nargs;
  int arg_len[CT_MAX_INPUTS];
  int nattrs;
  ct_attr attrs[CT_MAX_ATTRS];
  int noutputs;               /* outputs compared (the first ones) */
  ct_array want[CT_MAX_OUTPUTS];
  ct_array attr_value;        /* the tensor of a CT_ATTR_TENSOR attr */
} ct_case;

/* Frees the arrays of a case and zeroes it. */
void ct_case_clear(ct_case *c);
/* Appends an input of dtype dt and dims, filled from range r (false when
** out of memory). */
bool ct_case_input(ct_case *c, kiln_dtype dt, const int64_t *dims, int ndims,
                   const ct_range *r, ct_rng *rng);
/* Appends a constant int32/int64 vector (or scalar when ndims is 0). */
bool ct_case_const_ints(ct_case *c, kiln_dtype dt, const int64_t *v, int n,
                        int ndims);
/* Appends a constant of any shape holding v[0..n) (values rounded to dt). */
bool ct_case_const(ct_case *c, kiln_dtype dt, const int64_t *dims, int ndims,
                   const double *v);
ct_attr *ct_case_attr(ct_case *c, const char *name, ct_attr_kind kind);
bool ct_case_output(ct_case *c, kiln_dtype dt, const int64_t *dims, int ndims);

/* Up to 5 dims, for the generators' tables of shapes. */
typedef struct ct_shape {
  int nd;
  int64_t d[5];
} ct_shape;

/* ---------------------------------------------------------- the table */

struct ct_entry;
/* Calls emit once per case made for dtype dt (the op's main type attr)
** and dt2 (its second type attr, when the entry names one):
** the generator fills the inputs and the reference outputs; emit runs and
** compares, and the generator then clears the case. Returns false when it
** ran out of memory or emit asked to stop. */
typedef bool (*ct_emit_fn)(void *ctx, const struct ct_entry *e, ct_case *c);
typedef bool (*ct_gen_fn)(const struct ct_entry *e, kiln_dtype dt,
                          kiln_dtype dt2, ct_rng *rng, ct_emit_fn emit,
                          void *ctx);

/* Per-element reference of an elementwise op on values of dtype dt (the
** inputs'); the result is rounded to the output's dtype by the caller. */
typedef double (*ct_elem_fn)(const double *x, kiln_dtype dt);

typedef struct ct_entry {
  const char *op;
  ct_gen_fn gen;
  /* The op's main type attr ("T", "dtype", "Tparams"), whose allowed
  ** values the kernel's constraints give; NULL for ops of fixed dtypes
  ** (LogicalAnd: bool). */
  const char *type_attr;
  unsigned classes;           /* dtype classes the reference handles */
  /* (optional) A second type attr iterated with the first (Cast's DstT,
  ** FusedBatchNormV3's U), and the classes handled for it. */
  const char *type_attr2;
  unsigned classes2;
  /* Tolerance: |got - want| <= atol_ulps*eps + rtol_ulps*eps*|want|, eps
  ** the machine epsilon of the output dtype (exact for integers/bool). */
  double rtol_ulps, atol_ulps;
  ct_range range[3];          /* value ranges of the first inputs */
  ct_elem_fn fn;              /* elementwise reference (unary/binary/...) */
  const char *param;          /* generator-specific: an attr value, ... */
  kiln_dtype out_dtype;       /* fixed output dtype (bool for compares);
                              ** KILN_INVALID_DTYPE: the input's */
  /* (optional) For outputs no reference can predict (random ops): checks
  ** the n values of output 0 for properties (range, moments) instead of
  ** comparing; NULL when they hold, else why not (written into buf). The
  ** case's want[0] then only gives the dtype and shape. */
  const char *(*check)(const double *got, int64_t n, char *buf, size_t cap);
} ct_entry;

/* The table, sorted by op; NULL when op has no entry. */
const ct_entry *ct_find(const char *op);

/* An op tested by another suite instead of the table. */
typedef struct ct_elsewhere {
  const char *op;
  const char *suite;          /* source file, from the top of the tree */
} ct_elsewhere;
const ct_elsewhere *ct_find_elsewhere(const char *op);
size_t ct_elsewhere_size(void);
const ct_elsewhere *ct_elsewhere_at(size_t i);
size_t ct_table_size(void);
const ct_entry *ct_table_at(size_t i);

/* Helpers shared by the generators (ct_reference.c): the entry's range
** for input i (a default of [-1, 1], integers [-4, 4], when unset); a
** finished case handed to emit and cleared; a label part formatted from
** dims ("x%s"); a flat index as a multi-index. */
const ct_range *ct_range_of(const ct_entry *e, int i);
bool ct_fire(const ct_entry *e, ct_case *c, ct_emit_fn emit, void *ctx);
void ct_label(ct_case *c, const char *fmt, const int64_t *dims, int nd);
void ct_unflatten(int64_t flat, const int64_t *dims, int nd, int64_t *idx);

/* Generators (ct_reference.c). */
bool ct_gen_unary(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_binary(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_binary_same(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_addn(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_matmul(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_batch_matmul(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_reduce(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_argminmax(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_softmax(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_bias_add(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_conv2d(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_depthwise(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_pool(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_transpose(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_concat(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_pack(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_select(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_fused_batch_norm(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_sparse_matmul(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
/* Data movement and shapes (ct_movement.c). */
bool ct_gen_identity(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_const(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_reshape(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_squeeze(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_tile(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_pad(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_slice(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_strided_slice(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_fill(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_broadcast_to(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_gather(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_range(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_one_hot(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_split(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_unpack(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_shape(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_sparse_to_dense(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
/* Random ops (ct_random.c), checked by ct_entry.check; and NoOp. */
bool ct_gen_random(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
const char *ct_check_uniform(const double *got, int64_t n, char *buf, size_t cap);
const char *ct_check_normal(const double *got, int64_t n, char *buf, size_t cap);
const char *ct_check_truncated(const double *got, int64_t n, char *buf, size_t cap);
bool ct_gen_noop(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);
bool ct_gen_cast(const ct_entry *, kiln_dtype, kiln_dtype, ct_rng *,
                 ct_emit_fn, void *);

/* The self-test plugin (ct_selftest.c): registers it; and whether kernel
** k is its planted wrong kernel. */
struct kn_kernel;
kiln_code ct_selftest_register(kiln_status *s);
bool ct_selftest_planted(const struct kn_kernel *k);

#endif
