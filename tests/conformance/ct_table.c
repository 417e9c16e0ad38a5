/* The conformance table: per op, the generator of its cases, the dtypes
** and value ranges it uses, its elementwise reference, and its tolerance
** in units of the output dtype's epsilon (integers and bool: exact).
**
** Tolerances, in ulps: 0 for results that are exact in every dtype (moves,
** max/min, floor); 2 for one correctly rounded operation computed in a
** wider type and rounded (add, mul, div); 4-8 for library functions (exp,
** tanh, erf) whose float versions may be off by an ulp or two; and an
** absolute term for sums of up to a few dozen products of values in
** [-1, 1] (MatMul, Conv2D, reductions), whose rounding grows with their
** length and whose results may cancel to near zero. */
#include <math.h>
#include <string.h>
#include "conformance.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define INT(dt) (!ct_is_float(dt))

/* --------------------------------------------------------------- unary */

static double f_abs(const double *x, kiln_dtype t) { (void)t; return fabs(x[0]); }
static double f_neg(const double *x, kiln_dtype t) { (void)t; return -x[0]; }
static double f_square(const double *x, kiln_dtype t) { (void)t; return x[0] * x[0]; }
static double f_recip(const double *x, kiln_dtype t) {
  return INT(t) ? trunc(1 / x[0]) : 1 / x[0];
}
/* Round and Rint round halves to even (banker's rounding) in TensorFlow. */
static double f_rint(const double *x, kiln_dtype t) { (void)t; return nearbyint(x[0]); }
static double f_sign(const double *x, kiln_dtype t) {
  (void)t;
  return x[0] > 0 ? 1 : x[0] < 0 ? -1 : 0;
}
static double f_exp(const double *x, kiln_dtype t) { (void)t; return exp(x[0]); }
static double f_expm1(const double *x, kiln_dtype t) { (void)t; return expm1(x[0]); }
static double f_log(const double *x, kiln_dtype t) { (void)t; return log(x[0]); }
static double f_log1p(const double *x, kiln_dtype t) { (void)t; return log1p(x[0]); }
static double f_sqrt(const double *x, kiln_dtype t) { (void)t; return sqrt(x[0]); }
static double f_rsqrt(const double *x, kiln_dtype t) { (void)t; return 1 / sqrt(x[0]); }
static double f_tanh(const double *x, kiln_dtype t) { (void)t; return tanh(x[0]); }
static double f_sigmoid(const double *x, kiln_dtype t) {
  (void)t;
  return 1 / (1 + exp(-x[0]));
}
static double f_sin(const double *x, kiln_dtype t) { (void)t; return sin(x[0]); }
static double f_cos(const double *x, kiln_dtype t) { (void)t; return cos(x[0]); }
static double f_floor(const double *x, kiln_dtype t) { (void)t; return floor(x[0]); }
static double f_ceil(const double *x, kiln_dtype t) { (void)t; return ceil(x[0]); }
static double f_erf(const double *x, kiln_dtype t) { (void)t; return erf(x[0]); }
static double f_isnan(const double *x, kiln_dtype t) { (void)t; return isnan(x[0]); }
static double f_isfinite(const double *x, kiln_dtype t) { (void)t; return isfinite(x[0]); }
static double f_relu(const double *x, kiln_dtype t) { (void)t; return x[0] > 0 ? x[0] : 0; }
static double f_relu6(const double *x, kiln_dtype t) {
  (void)t;
  return x[0] < 0 ? 0 : x[0] > 6 ? 6 : x[0];
}
static double f_elu(const double *x, kiln_dtype t) {
  (void)t;
  return x[0] < 0 ? expm1(x[0]) : x[0];
}
static double f_selu(const double *x, kiln_dtype t) {
  (void)t;
  const double scale = 1.0507009873554804934193349852946;
  const double alpha = 1.6732632423543772848170429916717;
  return x[0] < 0 ? scale * alpha * expm1(x[0]) : scale * x[0];
}
static double f_softplus(const double *x, kiln_dtype t) { (void)t; return log1p(exp(x[0])); }
static double f_softsign(const double *x, kiln_dtype t) {
  (void)t;
  return x[0] / (1 + fabs(x[0]));
}
/* LeakyRelu's default alpha, as the float attr holds it. */
static double f_leaky_relu(const double *x, kiln_dtype t) {
  (void)t;
  return x[0] < 0 ? (double)0.2f * x[0] : x[0];
}
static double f_logical_not(const double *x, kiln_dtype t) { (void)t; return !x[0]; }

/* -------------------------------------------------------------- binary */

static double f_add(const double *x, kiln_dtype t) { (void)t; return x[0] + x[1]; }
static double f_sub(const double *x, kiln_dtype t) { (void)t; return x[0] - x[1]; }
static double f_mul(const double *x, kiln_dtype t) { (void)t; return x[0] * x[1]; }
/* Integer Div truncates toward zero, like C. */
static double f_div(const double *x, kiln_dtype t) {
  return INT(t) ? trunc(x[0] / x[1]) : x[0] / x[1];
}
static double f_floordiv(const double *x, kiln_dtype t) { (void)t; return floor(x[0] / x[1]); }
/* The remainder takes the divisor's sign. */
static double f_floormod(const double *x, kiln_dtype t) {
  (void)t;
  double r = fmod(x[0], x[1]);
  return r != 0 && ((r < 0) != (x[1] < 0)) ? r + x[1] : r;
}
static double f_divnonan(const double *x, kiln_dtype t) {
  (void)t;
  return x[1] == 0 ? 0 : x[0] / x[1];
}
static double f_max(const double *x, kiln_dtype t) { (void)t; return x[0] > x[1] ? x[0] : x[1]; }
static double f_min(const double *x, kiln_dtype t) { (void)t; return x[0] < x[1] ? x[0] : x[1]; }
static double f_pow(const double *x, kiln_dtype t) { (void)t; return pow(x[0], x[1]); }
static double f_sqdiff(const double *x, kiln_dtype t) {
  (void)t;
  return (x[0] - x[1]) * (x[0] - x[1]);
}
static double f_less(const double *x, kiln_dtype t) { (void)t; return x[0] < x[1]; }
static double f_less_eq(const double *x, kiln_dtype t) { (void)t; return x[0] <= x[1]; }
static double f_greater(const double *x, kiln_dtype t) { (void)t; return x[0] > x[1]; }
static double f_greater_eq(const double *x, kiln_dtype t) { (void)t; return x[0] >= x[1]; }
static double f_equal(const double *x, kiln_dtype t) { (void)t; return x[0] == x[1]; }
static double f_not_equal(const double *x, kiln_dtype t) { (void)t; return x[0] != x[1]; }
static double f_and(const double *x, kiln_dtype t) { (void)t; return x[0] && x[1]; }
static double f_or(const double *x, kiln_dtype t) { (void)t; return x[0] || x[1]; }
/* Gradients: x[0] is the forward output y, x[1] the incoming dy. */
static double f_sigmoid_grad(const double *x, kiln_dtype t) {
  (void)t;
  return x[1] * x[0] * (1 - x[0]);
}
static double f_tanh_grad(const double *x, kiln_dtype t) {
  (void)t;
  return x[1] * (1 - x[0] * x[0]);
}
static double f_rsqrt_grad(const double *x, kiln_dtype t) {
  (void)t;
  return -0.5 * x[1] * x[0] * x[0] * x[0];
}
static double f_sqrt_grad(const double *x, kiln_dtype t) {
  (void)t;
  return 0.5 * x[1] / x[0];
}
static double f_recip_grad(const double *x, kiln_dtype t) {
  (void)t;
  return -x[1] * x[0] * x[0];
}

/* -------------------------------------------------------------- ranges */

#define R_STD {-1, 1, -4, 4, 0}
#define R_POS {0.1, 2, 1, 4, 0}
#define R_NONZERO {-2, 2, -4, 4, CT_NONZERO}
#define R_WIDE {-8, 8, -8, 8, 0}
#define R_GRID {-1, 1, -3, 3, CT_GRID}
#define R_SPECIAL {-2, 2, -4, 4, CT_SPECIALS}
#define R_LOG1P {-0.9, 2, 0, 4, 0}
#define R_POW_EXP {-2, 2, 0, 3, 0}
#define R_PROD {-1.5, 1.5, -2, 2, 0}
#define R_LOGITS {-4, 4, -4, 4, 0}

#define FIU (CT_F | CT_I | CT_U)
#define FI (CT_F | CT_I)
#define ALL (CT_F | CT_I | CT_U | CT_B)
#define NOOUT KILN_INVALID_DTYPE

#define UNARY(op, cls, r, a, rng, fn) \
  {op, ct_gen_unary, "T", cls, NULL, 0, r, a, {rng}, fn, NULL, NOOUT, NULL}
#define BINARY(op, cls, r, a, r0, r1, fn) \
  {op, ct_gen_binary, "T", cls, NULL, 0, r, a, {r0, r1}, fn, NULL, NOOUT, NULL}
#define COMPARE(op, cls, fn) \
  {op, ct_gen_binary, "T", cls, NULL, 0, 0, 0, {R_GRID, R_GRID}, fn, NULL, KILN_BOOL, NULL}
#define GRAD(op, r0, fn) \
  {op, ct_gen_binary_same, "T", CT_F, NULL, 0, 4, 2, {r0, R_STD}, fn, NULL, NOOUT, NULL}
#define GEN(op, gen, attr, cls, r, a, rng, param) \
  {op, gen, attr, cls, NULL, 0, r, a, {rng}, NULL, param, NOOUT, NULL}

#define MOVE(op, gen, attr, param) \
  {op, gen, attr, ALL, NULL, 0, 0, 0, {R_STD}, NULL, param, NOOUT, NULL}

/* Sorted by op name (ct_find searches it). */
static const ct_entry table[] = {
    UNARY("Abs", FI, 0, 0, R_STD, f_abs),
    BINARY("Add", FIU, 2, 1, R_STD, R_STD, f_add),
    GEN("AddN", ct_gen_addn, "T", FIU, 2, 4, R_STD, NULL),
    BINARY("AddV2", FIU, 2, 1, R_STD, R_STD, f_add),
    {"All", ct_gen_reduce, NULL, CT_B, NULL, 0, 0, 0, {R_STD}, NULL, "all", KILN_BOOL, NULL},
    {"Any", ct_gen_reduce, NULL, CT_B, NULL, 0, 0, 0, {R_STD}, NULL, "any", KILN_BOOL, NULL},
    GEN("ArgMax", ct_gen_argminmax, "T", ALL, 0, 0, R_STD, "max"),
    GEN("ArgMin", ct_gen_argminmax, "T", ALL, 0, 0, R_STD, "min"),
    GEN("AvgPool", ct_gen_pool, "T", CT_F, 4, 4, R_STD, "avg"),
    GEN("BatchMatMul", ct_gen_batch_matmul, "T", FI, 4, 16, R_STD, "v1"),
    GEN("BatchMatMulV2", ct_gen_batch_matmul, "T", FI, 4, 16, R_STD, "v2"),
    GEN("BiasAdd", ct_gen_bias_add, "T", FIU, 2, 1, R_STD, NULL),
    GEN("BiasAddV1", ct_gen_bias_add, "T", FIU, 2, 1, R_STD, "v1"),
    MOVE("BroadcastTo", ct_gen_broadcast_to, "T", NULL),
    {"Cast", ct_gen_cast, "SrcT", ALL, "DstT", ALL, 1, 0, {R_STD}, NULL, NULL, NOOUT, NULL},
    UNARY("Ceil", CT_F, 0, 0, R_WIDE, f_ceil),
    GEN("Concat", ct_gen_concat, "T", ALL, 0, 0, R_STD, "v1"),
    GEN("ConcatV2", ct_gen_concat, "T", ALL, 0, 0, R_STD, NULL),
    MOVE("Const", ct_gen_const, "dtype", NULL),
    GEN("Conv2D", ct_gen_conv2d, "T", FI, 4, 32, R_STD, NULL),
    UNARY("Cos", CT_F, 4, 2, R_WIDE, f_cos),
    GEN("DepthwiseConv2dNative", ct_gen_depthwise, "T", CT_F, 4, 16, R_STD, NULL),
    BINARY("Div", FIU, 2, 1, R_STD, R_NONZERO, f_div),
    BINARY("DivNoNan", CT_F, 2, 1, R_STD, R_GRID, f_divnonan),
    UNARY("Elu", CT_F, 4, 2, R_WIDE, f_elu),
    COMPARE("Equal", ALL, f_equal),
    UNARY("Erf", CT_F, 8, 2, R_WIDE, f_erf),
    UNARY("Exp", CT_F, 4, 1, R_LOGITS, f_exp),
    MOVE("ExpandDims", ct_gen_reshape, "T", "expand"),
    UNARY("Expm1", CT_F, 4, 2, R_LOGITS, f_expm1),
    MOVE("Fill", ct_gen_fill, "T", NULL),
    UNARY("Floor", CT_F, 0, 0, R_WIDE, f_floor),
    BINARY("FloorDiv", FIU, 0, 0, R_WIDE, R_NONZERO, f_floordiv),
    BINARY("FloorMod", FIU, 2, 2, R_WIDE, R_NONZERO, f_floormod),
    {"FusedBatchNorm", ct_gen_fused_batch_norm, "T", CT_F, NULL, 0, 8, 16, {R_STD},
     NULL, NULL, NOOUT, NULL},
    {"FusedBatchNormV2", ct_gen_fused_batch_norm, "T", CT_F, "U", CT_F, 8, 16,
     {R_STD}, NULL, NULL, NOOUT, NULL},
    {"FusedBatchNormV3", ct_gen_fused_batch_norm, "T", CT_F, "U", CT_F, 8, 16,
     {R_STD}, NULL, NULL, NOOUT, NULL},
    MOVE("Gather", ct_gen_gather, "Tparams", "v1"),
    MOVE("GatherV2", ct_gen_gather, "Tparams", NULL),
    COMPARE("Greater", FIU, f_greater),
    COMPARE("GreaterEqual", FIU, f_greater_eq),
    MOVE("Identity", ct_gen_identity, "T", NULL),
    MOVE("IdentityN", ct_gen_identity, "T", "n"),
    UNARY("Inv", FI, 2, 1, R_NONZERO, f_recip),
    GRAD("InvGrad", R_STD, f_recip_grad),
    {"IsFinite", ct_gen_unary, "T", CT_F, NULL, 0, 0, 0, {R_SPECIAL}, f_isfinite,
     NULL, KILN_BOOL, NULL},
    {"IsNan", ct_gen_unary, "T", CT_F, NULL, 0, 0, 0, {R_SPECIAL}, f_isnan, NULL,
     KILN_BOOL, NULL},
    UNARY("LeakyRelu", CT_F, 2, 1, R_WIDE, f_leaky_relu),
    COMPARE("Less", FIU, f_less),
    COMPARE("LessEqual", FIU, f_less_eq),
    UNARY("Log", CT_F, 4, 2, R_POS, f_log),
    UNARY("Log1p", CT_F, 4, 2, R_LOG1P, f_log1p),
    GEN("LogSoftmax", ct_gen_softmax, "T", CT_F, 8, 8, R_LOGITS, "log"),
    {"LogicalAnd", ct_gen_binary, NULL, CT_B, NULL, 0, 0, 0, {R_STD, R_STD}, f_and,
     NULL, KILN_BOOL, NULL},
    {"LogicalNot", ct_gen_unary, NULL, CT_B, NULL, 0, 0, 0, {R_STD}, f_logical_not,
     NULL, KILN_BOOL, NULL},
    {"LogicalOr", ct_gen_binary, NULL, CT_B, NULL, 0, 0, 0, {R_STD, R_STD}, f_or,
     NULL, KILN_BOOL, NULL},
    GEN("MatMul", ct_gen_matmul, "T", FI, 4, 16, R_STD, NULL),
    GEN("Max", ct_gen_reduce, "T", FIU, 0, 0, R_STD, "max"),
    GEN("MaxPool", ct_gen_pool, "T", FIU, 0, 0, R_STD, "max"),
    BINARY("Maximum", FIU, 0, 0, R_GRID, R_GRID, f_max),
    GEN("Mean", ct_gen_reduce, "T", FIU, 4, 8, R_STD, "mean"),
    GEN("Min", ct_gen_reduce, "T", FIU, 0, 0, R_STD, "min"),
    BINARY("Minimum", FIU, 0, 0, R_GRID, R_GRID, f_min),
    MOVE("MirrorPad", ct_gen_pad, "T", "mirror"),
    BINARY("Mul", FIU, 2, 1, R_STD, R_STD, f_mul),
    UNARY("Neg", FI, 0, 0, R_STD, f_neg),
    {"NoOp", ct_gen_noop, NULL, CT_B, NULL, 0, 0, 0, {R_STD}, NULL, NULL, NOOUT, NULL},
    COMPARE("NotEqual", ALL, f_not_equal),
    MOVE("OneHot", ct_gen_one_hot, "T", NULL),
    MOVE("OnesLike", ct_gen_identity, "T", "ones"),
    GEN("Pack", ct_gen_pack, "T", ALL, 0, 0, R_STD, NULL),
    MOVE("Pad", ct_gen_pad, "T", NULL),
    MOVE("PadV2", ct_gen_pad, "T", "v2"),
    MOVE("PlaceholderWithDefault", ct_gen_identity, "dtype", "pwd"),
    BINARY("Pow", FI, 8, 2, R_POS, R_POW_EXP, f_pow),
    MOVE("PreventGradient", ct_gen_identity, "T", NULL),
    GEN("Prod", ct_gen_reduce, "T", FIU, 8, 4, R_PROD, "prod"),
    {"RandomStandardNormal", ct_gen_random, "dtype", CT_F, NULL, 0, 0, 0, {R_STD},
     NULL, NULL, NOOUT, ct_check_normal},
    {"RandomUniform", ct_gen_random, "dtype", CT_F, NULL, 0, 0, 0, {R_STD}, NULL,
     NULL, NOOUT, ct_check_uniform},
    {"Range", ct_gen_range, "Tidx", FIU, NULL, 0, 4, 4, {R_STD}, NULL, NULL, NOOUT, NULL},
    MOVE("Rank", ct_gen_shape, "T", "rank"),
    BINARY("RealDiv", CT_F, 2, 1, R_STD, R_NONZERO, f_div),
    UNARY("Reciprocal", FI, 2, 1, R_NONZERO, f_recip),
    GRAD("ReciprocalGrad", R_STD, f_recip_grad),
    UNARY("Relu", FIU, 0, 0, R_STD, f_relu),
    UNARY("Relu6", FIU, 0, 0, R_WIDE, f_relu6),
    MOVE("Reshape", ct_gen_reshape, "T", NULL),
    UNARY("Rint", CT_F, 0, 0, R_WIDE, f_rint),
    UNARY("Round", FI, 0, 0, R_WIDE, f_rint),
    UNARY("Rsqrt", CT_F, 4, 1, R_POS, f_rsqrt),
    GRAD("RsqrtGrad", R_POS, f_rsqrt_grad),
    GEN("Select", ct_gen_select, "T", ALL, 0, 0, R_STD, "v1"),
    GEN("SelectV2", ct_gen_select, "T", ALL, 0, 0, R_STD, NULL),
    UNARY("Selu", CT_F, 4, 2, R_WIDE, f_selu),
    MOVE("Shape", ct_gen_shape, "T", "shape"),
    MOVE("ShapeN", ct_gen_shape, "T", "shape_n"),
    UNARY("Sigmoid", CT_F, 4, 1, R_LOGITS, f_sigmoid),
    GRAD("SigmoidGrad", R_STD, f_sigmoid_grad),
    UNARY("Sign", FI, 0, 0, R_GRID, f_sign),
    UNARY("Sin", CT_F, 4, 2, R_WIDE, f_sin),
    MOVE("Size", ct_gen_shape, "T", "size"),
    MOVE("Slice", ct_gen_slice, "T", NULL),
    MOVE("Snapshot", ct_gen_identity, "T", NULL),
    GEN("Softmax", ct_gen_softmax, "T", CT_F, 8, 8, R_LOGITS, NULL),
    UNARY("Softplus", CT_F, 8, 2, R_LOGITS, f_softplus),
    UNARY("Softsign", CT_F, 4, 1, R_WIDE, f_softsign),
    {"SparseTensorDenseMatMul", ct_gen_sparse_matmul, "T", FI, NULL, 0, 4, 16,
     {R_STD, R_STD}, NULL, NULL, NOOUT, NULL},
    MOVE("SparseToDense", ct_gen_sparse_to_dense, "T", NULL),
    MOVE("Split", ct_gen_split, "T", NULL),
    MOVE("SplitV", ct_gen_split, "T", "v"),
    UNARY("Sqrt", CT_F, 2, 1, R_POS, f_sqrt),
    GRAD("SqrtGrad", R_POS, f_sqrt_grad),
    UNARY("Square", FI, 2, 1, R_STD, f_square),
    BINARY("SquaredDifference", FI, 2, 2, R_STD, R_STD, f_sqdiff),
    MOVE("Squeeze", ct_gen_squeeze, "T", NULL),
    MOVE("StopGradient", ct_gen_identity, "T", NULL),
    MOVE("StridedSlice", ct_gen_strided_slice, "T", NULL),
    BINARY("Sub", FIU, 2, 1, R_STD, R_STD, f_sub),
    GEN("Sum", ct_gen_reduce, "T", FIU, 4, 16, R_STD, "sum"),
    UNARY("Tanh", CT_F, 4, 1, R_LOGITS, f_tanh),
    GRAD("TanhGrad", R_STD, f_tanh_grad),
    MOVE("Tile", ct_gen_tile, "T", NULL),
    GEN("Transpose", ct_gen_transpose, "T", ALL, 0, 0, R_STD, NULL),
    BINARY("TruncateDiv", CT_I | CT_U, 0, 0, R_WIDE, R_NONZERO, f_div),
    {"TruncatedNormal", ct_gen_random, "dtype", CT_F, NULL, 0, 0, 0, {R_STD}, NULL,
     NULL, NOOUT, ct_check_truncated},
    MOVE("Unpack", ct_gen_unpack, "T", NULL),
    MOVE("ZerosLike", ct_gen_identity, "T", "zeros"),
};

const ct_entry *ct_find(const char *op) {
  size_t lo = 0, hi = NELEMS(table);
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(op, table[mid].op);
    if (c == 0) return &table[mid];
    if (c < 0) hi = mid;
    else lo = mid + 1;
  }
  return NULL;
}

size_t ct_table_size(void) { return NELEMS(table); }
const ct_entry *ct_table_at(size_t i) { return i < NELEMS(table) ? &table[i] : NULL; }

/* Kernels whose behaviour a table entry cannot state (they touch files,
** strings, or a variable's state across steps) and the suite that tests
** them instead. test_conformance checks that each suite names its op. */
static const ct_elsewhere elsewhere[] = {
    {"ApplyAdagrad", "tests/test_cpu_training.c"},
    {"ApplyAdam", "tests/test_cpu_training.c"},
    {"ApplyGradientDescent", "tests/test_cpu_training.c"},
    {"ApplyMomentum", "tests/test_cpu_training.c"},
    {"ApplyRMSProp", "tests/test_cpu_training.c"},
    {"BiasAddGrad", "tests/test_cpu_training.c"},
    {"BroadcastGradientArgs", "tests/test_cpu_training.c"},
    {"ConcatOffset", "tests/test_cpu_training.c"},
    {"DynamicStitch", "tests/test_cpu_training.c"},
    {"EluGrad", "tests/test_cpu_training.c"},
    {"InvertPermutation", "tests/test_cpu_training.c"},
    {"L2Loss", "tests/test_cpu_training.c"},
    {"LeakyReluGrad", "tests/test_cpu_training.c"},
    {"ReadFile", "tests/test_cpu_io.c"},
    {"Relu6Grad", "tests/test_cpu_training.c"},
    {"ReluGrad", "tests/test_cpu_training.c"},
    {"SeluGrad", "tests/test_cpu_training.c"},
    {"SoftmaxCrossEntropyWithLogits", "tests/test_cpu_training.c"},
    {"SoftplusGrad", "tests/test_cpu_training.c"},
    {"SparseSoftmaxCrossEntropyWithLogits", "tests/test_cpu_training.c"},
    {"StringJoin", "tests/test_strings.c"},
    {"WriteFile", "tests/test_cpu_io.c"},
};

const ct_elsewhere *ct_find_elsewhere(const char *op) {
  for (size_t i = 0; i < NELEMS(elsewhere); i++)
    if (strcmp(op, elsewhere[i].op) == 0) return &elsewhere[i];
  return NULL;
}

size_t ct_elsewhere_size(void) { return NELEMS(elsewhere); }
const ct_elsewhere *ct_elsewhere_at(size_t i) {
  return i < NELEMS(elsewhere) ? &elsewhere[i] : NULL;
}
