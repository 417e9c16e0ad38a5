/*
** kiln/ops.h: typed builders for the standard operations.
**
** Each builder adds one operation to a graph (plus, for the convenience
** variants, the constants it needs) so that common work never assembles
** attrs by hand. For anything a builder does not offer (a device, control
** inputs, an attr left at its default here), use the op description API of
** <kiln/graph.h>.
**
** Conventions shared by every function below:
**  - The graph comes first and a caller-owned kiln_status * comes last. The
**    status must not be NULL (a builder given none builds nothing and
**    returns the error value).
**  - A builder returns the operation's first output, or {NULL, -1} with the
**    status set on error. Operations with several outputs return the
**    kiln_op * (NULL on error) and, where their outputs form a list, also
**    fill a caller array; each such builder says which.
**  - `name` NULL (or "") means the op type ("Mul"). The name goes through
**    kiln_graph_unique_name(): it is placed in the graph's current name
**    scope and made unique, as TensorFlow's Python API does: "Mul",
**    "Mul_1", "scope/Mul". An invalid name is INVALID_ARGUMENT.
**  - Type attrs (T, Tidx, SrcT, ...) are taken from the inputs' dtypes; the
**    op registry then checks every input against the op's schema.
**  - Errors every builder may report: INVALID_ARGUMENT for a NULL graph, an
**    input whose op is NULL or whose index is not an output of its op, an
**    input from another graph, an input of a dtype the op does not take or
**    inputs whose dtypes disagree (Add of float and int32), attr values the
**    op does not allow, input shapes the op's shape function rejects (the
**    message names the node); NOT_FOUND when the op is not registered;
**    RESOURCE_EXHAUSTED when out of memory.
**  - On error no operation is added: kiln_graph_num_ops() is as before.
**    The unique name the call reserved stays reserved, as in TensorFlow,
**    so a later "Mul" may become "Mul_1".
**  - Convenience variants (kiln_reshape_dims, kiln_concat_axis, ...) take
**    C arrays or integers where the op wants an int tensor, and make the
**    Const for it: int32 when every value fits, else int64 (TensorFlow's
**    conversion of a Python list). That Const is named
**    "<op name>/<argument>", e.g. "Reshape/shape", and is added together
**    with the op: both or neither.
**  - Operations and outputs returned belong to the graph and live as long
**    as it does. Tensors passed in stay the caller's (the graph takes its
**    own reference); arrays passed in are copied.
**  - Thread-safety: as the graph API. Builders may run concurrently on one
**    graph; name scopes are per graph, not per thread.
*/
#ifndef KILN_OPS_H
#define KILN_OPS_H

#include <stdbool.h>
#include <kiln/defs.h>
#include <kiln/status.h>
#include <kiln/tensor.h>
#include <kiln/graph.h>

KILN_EXTERN_C_BEGIN

/* -------------------------------------------------------------- constants */

/* Const holding `value` (attrs dtype, value). The graph takes its own
** reference to the tensor; the caller keeps theirs. INVALID_ARGUMENT for a
** NULL tensor. */
KILN_API kiln_output kiln_const(kiln_graph *g, kiln_tensor *value,
                                const char *name, kiln_status *status);

/* Scalar Consts of each common dtype. kiln_const_string copies
** data[0..len) (any bytes; data may be NULL when len is 0). */
KILN_API kiln_output kiln_const_float(kiln_graph *g, float value,
                                      const char *name, kiln_status *status);
KILN_API kiln_output kiln_const_double(kiln_graph *g, double value,
                                       const char *name, kiln_status *status);
KILN_API kiln_output kiln_const_int32(kiln_graph *g, int32_t value,
                                      const char *name, kiln_status *status);
KILN_API kiln_output kiln_const_int64(kiln_graph *g, int64_t value,
                                      const char *name, kiln_status *status);
KILN_API kiln_output kiln_const_bool(kiln_graph *g, bool value,
                                     const char *name, kiln_status *status);
KILN_API kiln_output kiln_const_string(kiln_graph *g, const char *data,
                                       size_t len, const char *name,
                                       kiln_status *status);

/* A Const of `dtype` and shape dims[0..ndims) whose elements are copied,
** row-major, from `values` (as many as the shape holds; ndims 0 gives a
** scalar). Any fixed-size dtype; strings go through kiln_const.
** INVALID_ARGUMENT for a string or unknown dtype, ndims outside
** 0..KILN_MAX_DIMS, a negative dimension, NULL values for a non-empty
** shape, or a size that overflows. */
KILN_API kiln_output kiln_const_values(kiln_graph *g, kiln_dtype dtype,
                                       const void *values,
                                       const int64_t *dims, int ndims,
                                       const char *name, kiln_status *status);
/* kiln_const_values for float, int32 and int64 arrays. */
KILN_API kiln_output kiln_const_floats(kiln_graph *g, const float *values,
                                       const int64_t *dims, int ndims,
                                       const char *name, kiln_status *status);
KILN_API kiln_output kiln_const_int32s(kiln_graph *g, const int32_t *values,
                                       const int64_t *dims, int ndims,
                                       const char *name, kiln_status *status);
KILN_API kiln_output kiln_const_int64s(kiln_graph *g, const int64_t *values,
                                       const int64_t *dims, int ndims,
                                       const char *name, kiln_status *status);

/* ----------------------------------------------------------- placeholders */

/* Placeholder of `dtype` (attrs dtype, shape). dims[0..ndims) is the
** static shape, -1 for a dimension of unknown size; ndims -1 means unknown
** rank (dims ignored). INVALID_ARGUMENT for ndims outside
** -1..KILN_MAX_DIMS, NULL dims when ndims > 0, or a dimension below -1. */
KILN_API kiln_output kiln_placeholder(kiln_graph *g, kiln_dtype dtype,
                                      const int64_t *dims, int ndims,
                                      const char *name, kiln_status *status);

/* PlaceholderWithDefault: yields `input` unless fed. dtype comes from the
** input; dims/ndims give the (possibly looser) shape a feed may have, as
** for kiln_placeholder. */
KILN_API kiln_output kiln_placeholder_with_default(kiln_graph *g,
                                                   kiln_output input,
                                                   const int64_t *dims,
                                                   int ndims, const char *name,
                                                   kiln_status *status);

/* ------------------------------------------------------------- variables */

/* VariableV2 (attrs dtype, shape; container and shared_name ""): its output
** is a reference to the variable (dtype's ref type, "float_ref"), which any
** op taking a value reads as the variable's current value. The variable
** itself lives in each session that runs the op, in the session's default
** container: it starts uninitialised (reading it is FAILED_PRECONDITION
** "Attempting to use uninitialized value NAME"), keeps its value across
** runs, and is gone when the session closes. dims/ndims as for
** kiln_placeholder. For a named container or shared_name, use the op
** description API. */
KILN_API kiln_output kiln_variable(kiln_graph *g, kiln_dtype dtype,
                                   const int64_t *dims, int ndims,
                                   const char *name, kiln_status *status);

/* Assign (attr T; validate_shape and use_locking true): sets the variable
** behind `ref` to a copy of `value` when run. Returns its output, the
** variable's reference again. A value whose shape differs from the
** variable's is INVALID_ARGUMENT when the step runs. */
KILN_API kiln_output kiln_assign(kiln_graph *g, kiln_output ref,
                                 kiln_output value, const char *name,
                                 kiln_status *status);
/* AssignAdd / AssignSub: ref += value / ref -= value, in place, on an
** initialised variable of the same shape (FAILED_PRECONDITION when it is
** uninitialised, INVALID_ARGUMENT for another shape, when run). */
KILN_API kiln_output kiln_assign_add(kiln_graph *g, kiln_output ref,
                                     kiln_output value, const char *name,
                                     kiln_status *status);
KILN_API kiln_output kiln_assign_sub(kiln_graph *g, kiln_output ref,
                                     kiln_output value, const char *name,
                                     kiln_status *status);

/* --------------------------------------------------- identity and control */

/* Identity: passes x through (attr T). */
KILN_API kiln_output kiln_identity(kiln_graph *g, kiln_output x,
                                   const char *name, kiln_status *status);

/* IdentityN over inputs[0..n) (attr T, the list of their dtypes). Returns
** the op; when `outputs` is not NULL it receives the n outputs, output i
** passing input i. INVALID_ARGUMENT for n < 1 or NULL inputs. */
KILN_API kiln_op *kiln_identity_n(kiln_graph *g, const kiln_output *inputs,
                                  int n, kiln_output *outputs,
                                  const char *name, kiln_status *status);

/* NoOp with control inputs on deps[0..n) (n may be 0): TensorFlow's
** tf.group. Returns the op (it has no outputs). INVALID_ARGUMENT for a
** NULL deps array when n > 0, a NULL entry, or n < 0. */
KILN_API kiln_op *kiln_no_op(kiln_graph *g, kiln_op *const *deps, int n,
                             const char *name, kiln_status *status);

/* StopGradient: passes input through, blocking gradients (attr T). */
KILN_API kiln_output kiln_stop_gradient(kiln_graph *g, kiln_output input,
                                        const char *name, kiln_status *status);

/* ------------------------------------------------- elementwise, two inputs */

/* Binary elementwise ops with numpy-style broadcasting; x and y must share
** their dtype (attr T). The comparisons give bool; LogicalAnd and
** LogicalOr take bool. Div is TensorFlow's legacy Div (floor for
** integers); RealDiv always divides exactly. Add and AddV2 compute the
** same; AddV2 is what TF 2 emits. */

/* x + y. */
KILN_API kiln_output kiln_add(kiln_graph *g, kiln_output x, kiln_output y,
                              const char *name, kiln_status *status);
/* x + y (AddV2). */
KILN_API kiln_output kiln_add_v2(kiln_graph *g, kiln_output x, kiln_output y,
                                 const char *name, kiln_status *status);
/* x - y. */
KILN_API kiln_output kiln_sub(kiln_graph *g, kiln_output x, kiln_output y,
                              const char *name, kiln_status *status);
/* x * y. */
KILN_API kiln_output kiln_mul(kiln_graph *g, kiln_output x, kiln_output y,
                              const char *name, kiln_status *status);
/* x / y, exact for every type. */
KILN_API kiln_output kiln_real_div(kiln_graph *g, kiln_output x,
                                   kiln_output y, const char *name,
                                   kiln_status *status);
/* x / y, flooring for integers (legacy Div). */
KILN_API kiln_output kiln_div(kiln_graph *g, kiln_output x, kiln_output y,
                              const char *name, kiln_status *status);
/* max(x, y). */
KILN_API kiln_output kiln_maximum(kiln_graph *g, kiln_output x, kiln_output y,
                                  const char *name, kiln_status *status);
/* min(x, y). */
KILN_API kiln_output kiln_minimum(kiln_graph *g, kiln_output x, kiln_output y,
                                  const char *name, kiln_status *status);
/* x to the power y. */
KILN_API kiln_output kiln_pow(kiln_graph *g, kiln_output x, kiln_output y,
                              const char *name, kiln_status *status);
/* (x - y)^2. */
KILN_API kiln_output kiln_squared_difference(kiln_graph *g, kiln_output x,
                                             kiln_output y, const char *name,
                                             kiln_status *status);
/* x == y, as bool. */
KILN_API kiln_output kiln_equal(kiln_graph *g, kiln_output x, kiln_output y,
                                const char *name, kiln_status *status);
/* x != y, as bool. */
KILN_API kiln_output kiln_not_equal(kiln_graph *g, kiln_output x,
                                    kiln_output y, const char *name,
                                    kiln_status *status);
/* x < y, as bool. */
KILN_API kiln_output kiln_less(kiln_graph *g, kiln_output x, kiln_output y,
                               const char *name, kiln_status *status);
/* x <= y, as bool. */
KILN_API kiln_output kiln_less_equal(kiln_graph *g, kiln_output x,
                                     kiln_output y, const char *name,
                                     kiln_status *status);
/* x > y, as bool. */
KILN_API kiln_output kiln_greater(kiln_graph *g, kiln_output x, kiln_output y,
                                  const char *name, kiln_status *status);
/* x >= y, as bool. */
KILN_API kiln_output kiln_greater_equal(kiln_graph *g, kiln_output x,
                                        kiln_output y, const char *name,
                                        kiln_status *status);
/* x && y over bools (no T attr). */
KILN_API kiln_output kiln_logical_and(kiln_graph *g, kiln_output x,
                                      kiln_output y, const char *name,
                                      kiln_status *status);
/* x || y over bools (no T attr). */
KILN_API kiln_output kiln_logical_or(kiln_graph *g, kiln_output x,
                                     kiln_output y, const char *name,
                                     kiln_status *status);

/* -------------------------------------------------- elementwise, one input */

/* Unary ops of the same shape as x (attr T, except LogicalNot, which takes
** bool). Relu6 is min(max(x, 0), 6); Elu and Softplus as in TensorFlow;
** Round rounds half to even; ZerosLike and OnesLike give a tensor of x's
** shape and dtype. */

/* -x. */
KILN_API kiln_output kiln_neg(kiln_graph *g, kiln_output x, const char *name,
                              kiln_status *status);
/* |x|. */
KILN_API kiln_output kiln_abs(kiln_graph *g, kiln_output x, const char *name,
                              kiln_status *status);
/* e^x. */
KILN_API kiln_output kiln_exp(kiln_graph *g, kiln_output x, const char *name,
                              kiln_status *status);
/* Natural log of x. */
KILN_API kiln_output kiln_log(kiln_graph *g, kiln_output x, const char *name,
                              kiln_status *status);
/* Square root of x. */
KILN_API kiln_output kiln_sqrt(kiln_graph *g, kiln_output x, const char *name,
                               kiln_status *status);
/* 1 / sqrt(x). */
KILN_API kiln_output kiln_rsqrt(kiln_graph *g, kiln_output x,
                                const char *name, kiln_status *status);
/* x * x. */
KILN_API kiln_output kiln_square(kiln_graph *g, kiln_output x,
                                 const char *name, kiln_status *status);
/* tanh(x). */
KILN_API kiln_output kiln_tanh(kiln_graph *g, kiln_output x, const char *name,
                               kiln_status *status);
/* 1 / (1 + e^-x). */
KILN_API kiln_output kiln_sigmoid(kiln_graph *g, kiln_output x,
                                  const char *name, kiln_status *status);
/* max(x, 0). */
KILN_API kiln_output kiln_relu(kiln_graph *g, kiln_output x, const char *name,
                               kiln_status *status);
/* min(max(x, 0), 6). */
KILN_API kiln_output kiln_relu6(kiln_graph *g, kiln_output x,
                                const char *name, kiln_status *status);
/* x > 0 ? x : e^x - 1. */
KILN_API kiln_output kiln_elu(kiln_graph *g, kiln_output x, const char *name,
                              kiln_status *status);
/* log(e^x + 1). */
KILN_API kiln_output kiln_softplus(kiln_graph *g, kiln_output x,
                                   const char *name, kiln_status *status);
/* Largest integer <= x. */
KILN_API kiln_output kiln_floor(kiln_graph *g, kiln_output x,
                                const char *name, kiln_status *status);
/* Smallest integer >= x. */
KILN_API kiln_output kiln_ceil(kiln_graph *g, kiln_output x, const char *name,
                               kiln_status *status);
/* x rounded half to even. */
KILN_API kiln_output kiln_round(kiln_graph *g, kiln_output x,
                                const char *name, kiln_status *status);
/* -1, 0 or 1 by the sign of x. */
KILN_API kiln_output kiln_sign(kiln_graph *g, kiln_output x, const char *name,
                               kiln_status *status);
/* !x over bools (no T attr). */
KILN_API kiln_output kiln_logical_not(kiln_graph *g, kiln_output x,
                                      const char *name, kiln_status *status);
/* Zeros of x's shape and dtype. */
KILN_API kiln_output kiln_zeros_like(kiln_graph *g, kiln_output x,
                                     const char *name, kiln_status *status);
/* Ones of x's shape and dtype. */
KILN_API kiln_output kiln_ones_like(kiln_graph *g, kiln_output x,
                                    const char *name, kiln_status *status);

/* Softmax and LogSoftmax over the last dimension of logits (rank >= 1;
** attr T). */
KILN_API kiln_output kiln_softmax(kiln_graph *g, kiln_output logits,
                                  const char *name, kiln_status *status);
KILN_API kiln_output kiln_log_softmax(kiln_graph *g, kiln_output logits,
                                      const char *name, kiln_status *status);

/* LeakyRelu: x where x > 0, alpha * x elsewhere (attrs alpha, T;
** TensorFlow's default alpha is 0.2). */
KILN_API kiln_output kiln_leaky_relu(kiln_graph *g, kiln_output features,
                                     float alpha, const char *name,
                                     kiln_status *status);

/* Select: condition ? t : e elementwise (condition bool, of t's shape or a
** vector over t's first dimension; t and e alike; attr T). */
KILN_API kiln_output kiln_select(kiln_graph *g, kiln_output condition,
                                 kiln_output t, kiln_output e,
                                 const char *name, kiln_status *status);

/* Cast x to dtype (attrs SrcT, DstT). */
KILN_API kiln_output kiln_cast(kiln_graph *g, kiln_output x, kiln_dtype dtype,
                               const char *name, kiln_status *status);

/* -------------------------------------------------------- linear algebra */

/* MatMul of two matrices, optionally transposed first (attrs transpose_a,
** transpose_b, T). */
KILN_API kiln_output kiln_matmul(kiln_graph *g, kiln_output a, kiln_output b,
                                 bool transpose_a, bool transpose_b,
                                 const char *name, kiln_status *status);

/* BatchMatMulV2: matrix products over the last two dimensions, leading
** dimensions broadcast; adj_x / adj_y take the adjoint first (attrs adj_x,
** adj_y, T). */
KILN_API kiln_output kiln_batch_matmul(kiln_graph *g, kiln_output x,
                                       kiln_output y, bool adj_x, bool adj_y,
                                       const char *name, kiln_status *status);

/* BiasAdd: value + bias along the channel dimension. data_format "NHWC"
** (channels last; also the default when NULL) or "NCHW" (attrs T,
** data_format). */
KILN_API kiln_output kiln_bias_add(kiln_graph *g, kiln_output value,
                                   kiln_output bias, const char *data_format,
                                   const char *name, kiln_status *status);

/* ------------------------------------------------ convolution and pooling */

/* Each takes four strides (and four ksize values for pools) in the order
** of data_format, padding "SAME" or "VALID", and data_format "NHWC" or
** "NCHW" (NULL: NHWC). Attrs T, strides, padding, data_format, and ksize
** for the pools; the others keep TensorFlow's defaults (dilations
** [1,1,1,1]). INVALID_ARGUMENT for a NULL strides or ksize. */
KILN_API kiln_output kiln_conv2d(kiln_graph *g, kiln_output input,
                                 kiln_output filter, const int64_t strides[4],
                                 const char *padding, const char *data_format,
                                 const char *name, kiln_status *status);
KILN_API kiln_output kiln_depthwise_conv2d(kiln_graph *g, kiln_output input,
                                           kiln_output filter,
                                           const int64_t strides[4],
                                           const char *padding,
                                           const char *data_format,
                                           const char *name,
                                           kiln_status *status);
KILN_API kiln_output kiln_max_pool(kiln_graph *g, kiln_output input,
                                   const int64_t ksize[4],
                                   const int64_t strides[4],
                                   const char *padding,
                                   const char *data_format, const char *name,
                                   kiln_status *status);
KILN_API kiln_output kiln_avg_pool(kiln_graph *g, kiln_output value,
                                   const int64_t ksize[4],
                                   const int64_t strides[4],
                                   const char *padding,
                                   const char *data_format, const char *name,
                                   kiln_status *status);

/* Indices of the outputs of FusedBatchNorm and FusedBatchNormV3. */
enum {
  KILN_FBN_Y = 0,
  KILN_FBN_BATCH_MEAN = 1,
  KILN_FBN_BATCH_VARIANCE = 2,
  KILN_FBN_RESERVE_SPACE_1 = 3,
  KILN_FBN_RESERVE_SPACE_2 = 4,
  KILN_FBN_RESERVE_SPACE_3 = 5   /* V3 only */
};

/* FusedBatchNorm (float only) and FusedBatchNormV3 (x half, bfloat16 or
** float; scale, offset, mean and variance float): normalises x over all
** but the channel dimension. When is_training, mean and variance may be
** empty and the batch statistics are used; otherwise they are the
** population statistics. data_format "NHWC" or "NCHW" (NULL: NHWC).
** Attrs T (and U for V3), epsilon, data_format, is_training. Returns the
** op: KILN_FBN_* index its outputs. */
KILN_API kiln_op *kiln_fused_batch_norm(kiln_graph *g, kiln_output x,
                                        kiln_output scale, kiln_output offset,
                                        kiln_output mean, kiln_output variance,
                                        float epsilon, const char *data_format,
                                        bool is_training, const char *name,
                                        kiln_status *status);
KILN_API kiln_op *kiln_fused_batch_norm_v3(kiln_graph *g, kiln_output x,
                                           kiln_output scale,
                                           kiln_output offset,
                                           kiln_output mean,
                                           kiln_output variance, float epsilon,
                                           const char *data_format,
                                           bool is_training, const char *name,
                                           kiln_status *status);

/* ------------------------------------------------------------ shape ops */

/* Reshape tensor to `shape` (a 1-D int32/int64 tensor; one entry may be
** -1, inferred). Attrs T, Tshape. */
KILN_API kiln_output kiln_reshape(kiln_graph *g, kiln_output tensor,
                                  kiln_output shape, const char *name,
                                  kiln_status *status);
/* Reshape to dims[0..ndims) (a Const "<name>/shape"). INVALID_ARGUMENT for
** a NULL dims when ndims > 0 or ndims < 0. */
KILN_API kiln_output kiln_reshape_dims(kiln_graph *g, kiln_output tensor,
                                       const int64_t *dims, int ndims,
                                       const char *name, kiln_status *status);

/* Transpose x so that output dimension i is input dimension perm[i]
** (attrs T, Tperm). */
KILN_API kiln_output kiln_transpose(kiln_graph *g, kiln_output x,
                                    kiln_output perm, const char *name,
                                    kiln_status *status);
/* Transpose with perm[0..n) (Const "<name>/perm"). */
KILN_API kiln_output kiln_transpose_perm(kiln_graph *g, kiln_output x,
                                         const int64_t *perm, int n,
                                         const char *name,
                                         kiln_status *status);

/* ConcatV2 of values[0..n) (n >= 2, one dtype) along the scalar `axis`
** (negative counts from the end). Attrs N, T, Tidx. */
KILN_API kiln_output kiln_concat(kiln_graph *g, const kiln_output *values,
                                 int n, kiln_output axis, const char *name,
                                 kiln_status *status);
/* ConcatV2 along a given axis (Const "<name>/axis"). */
KILN_API kiln_output kiln_concat_axis(kiln_graph *g, const kiln_output *values,
                                      int n, int64_t axis, const char *name,
                                      kiln_status *status);

/* Pack values[0..n) (n >= 1, one dtype and shape) into one tensor of rank
** one higher, stacked along `axis` (attrs N, T, axis). */
KILN_API kiln_output kiln_pack(kiln_graph *g, const kiln_output *values,
                               int n, int64_t axis, const char *name,
                               kiln_status *status);

/* Unpack value along `axis` into `num` tensors (attrs num, T, axis). num
** -1 takes the size of that dimension from value's inferred shape
** (INVALID_ARGUMENT when it is unknown). Returns the op; when `outputs` is
** not NULL it receives the outputs and must have room for all of them
** (kiln_op_num_outputs() of the op). */
KILN_API kiln_op *kiln_unpack(kiln_graph *g, kiln_output value, int num,
                              int64_t axis, kiln_output *outputs,
                              const char *name, kiln_status *status);

/* Slice: size[i] elements of input from begin[i] in each dimension (size
** -1: to the end). begin and size are 1-D int32/int64 tensors (attrs T,
** Index). */
KILN_API kiln_output kiln_slice(kiln_graph *g, kiln_output input,
                                kiln_output begin, kiln_output size,
                                const char *name, kiln_status *status);
/* Slice with begin[0..n) and size[0..n) (Consts "<name>/begin",
** "<name>/size"). */
KILN_API kiln_output kiln_slice_dims(kiln_graph *g, kiln_output input,
                                     const int64_t *begin, const int64_t *size,
                                     int n, const char *name,
                                     kiln_status *status);

/* The five bit masks of StridedSlice, as TensorFlow documents them
** (numpy's x[a:b:c, ..., tf.newaxis, i]). Zero-initialise for none. */
typedef struct kiln_strided_slice_masks {
  int64_t begin_mask, end_mask, ellipsis_mask, new_axis_mask,
      shrink_axis_mask;
} kiln_strided_slice_masks;

/* StridedSlice of input by 1-D begin, end and strides tensors of one index
** dtype; masks may be NULL for all zero (attrs T, Index and the masks). */
KILN_API kiln_output kiln_strided_slice(kiln_graph *g, kiln_output input,
                                        kiln_output begin, kiln_output end,
                                        kiln_output strides,
                                        const kiln_strided_slice_masks *masks,
                                        const char *name, kiln_status *status);
/* StridedSlice with begin, end and strides of n values each (Consts
** "<name>/begin", "<name>/end", "<name>/strides"); strides NULL means all
** 1. */
KILN_API kiln_output kiln_strided_slice_dims(
    kiln_graph *g, kiln_output input, const int64_t *begin,
    const int64_t *end, const int64_t *strides, int n,
    const kiln_strided_slice_masks *masks, const char *name,
    kiln_status *status);

/* Squeeze: removes the size-1 dimensions axes[0..n) of input, or all of
** them when n is 0 (attrs T, squeeze_dims). */
KILN_API kiln_output kiln_squeeze(kiln_graph *g, kiln_output input,
                                  const int64_t *axes, int n,
                                  const char *name, kiln_status *status);

/* ExpandDims: inserts a size-1 dimension at the scalar `axis` (negative
** counts from the end; attrs T, Tdim). */
KILN_API kiln_output kiln_expand_dims(kiln_graph *g, kiln_output input,
                                      kiln_output axis, const char *name,
                                      kiln_status *status);
/* ExpandDims at a given axis (Const "<name>/dim"). */
KILN_API kiln_output kiln_expand_dims_axis(kiln_graph *g, kiln_output input,
                                           int64_t axis, const char *name,
                                           kiln_status *status);

/* Shape (1-D) and Size (scalar) of input, as out_type int32 or int64
** (KILN_INVALID_DTYPE: int32); Rank is an int32 scalar. Attrs T, and
** out_type for Shape and Size. */
KILN_API kiln_output kiln_shape(kiln_graph *g, kiln_output input,
                                kiln_dtype out_type, const char *name,
                                kiln_status *status);
KILN_API kiln_output kiln_size(kiln_graph *g, kiln_output input,
                               kiln_dtype out_type, const char *name,
                               kiln_status *status);
KILN_API kiln_output kiln_rank(kiln_graph *g, kiln_output input,
                               const char *name, kiln_status *status);

/* Fill: a tensor of shape `dims` (1-D int32/int64) with every element the
** scalar `value` (attrs T, index_type). */
KILN_API kiln_output kiln_fill(kiln_graph *g, kiln_output dims,
                               kiln_output value, const char *name,
                               kiln_status *status);
/* Fill of shape dims[0..ndims) (Const "<name>/dims"). */
KILN_API kiln_output kiln_fill_dims(kiln_graph *g, const int64_t *dims,
                                    int ndims, kiln_output value,
                                    const char *name, kiln_status *status);

/* Pad input with zeros: paddings is an int32/int64 [rank, 2] tensor of
** (before, after) counts per dimension (attrs T, Tpaddings). */
KILN_API kiln_output kiln_pad(kiln_graph *g, kiln_output input,
                              kiln_output paddings, const char *name,
                              kiln_status *status);
/* Pad with paddings[0..2*rank), pairs (before, after) per dimension
** (Const "<name>/paddings" of shape [rank, 2]). */
KILN_API kiln_output kiln_pad_dims(kiln_graph *g, kiln_output input,
                                   const int64_t *paddings, int rank,
                                   const char *name, kiln_status *status);

/* Tile: input repeated multiples[i] times along dimension i (attrs T,
** Tmultiples). */
KILN_API kiln_output kiln_tile(kiln_graph *g, kiln_output input,
                               kiln_output multiples, const char *name,
                               kiln_status *status);
/* Tile with multiples[0..n) (Const "<name>/multiples"). */
KILN_API kiln_output kiln_tile_dims(kiln_graph *g, kiln_output input,
                                    const int64_t *multiples, int n,
                                    const char *name, kiln_status *status);

/* Range: start, start + delta, ... while below limit (above it for a
** negative delta); three scalars of one dtype (attr Tidx). */
KILN_API kiln_output kiln_range(kiln_graph *g, kiln_output start,
                                kiln_output limit, kiln_output delta,
                                const char *name, kiln_status *status);
/* Range over integers (Consts "<name>/start", "<name>/limit",
** "<name>/delta"; int32 when all three fit, else int64). */
KILN_API kiln_output kiln_range_ints(kiln_graph *g, int64_t start,
                                     int64_t limit, int64_t delta,
                                     const char *name, kiln_status *status);

/* ------------------------------------------------- splitting and gathering */

/* Split value along the scalar int32 `axis` into num_split equal parts
** (attrs num_split, T). Returns the op; when `outputs` is not NULL it
** receives the num_split outputs. */
KILN_API kiln_op *kiln_split(kiln_graph *g, kiln_output value,
                             kiln_output axis, int num_split,
                             kiln_output *outputs, const char *name,
                             kiln_status *status);
/* Split along a given axis (Const "<name>/split_dim", int32). */
KILN_API kiln_op *kiln_split_axis(kiln_graph *g, kiln_output value,
                                  int64_t axis, int num_split,
                                  kiln_output *outputs, const char *name,
                                  kiln_status *status);

/* SplitV: value split along the scalar int32 `axis` into num_split parts of
** the sizes in the 1-D size_splits (one entry may be -1; attrs num_split,
** T, Tlen). Returns the op; `outputs` as for kiln_split. */
KILN_API kiln_op *kiln_split_v(kiln_graph *g, kiln_output value,
                               kiln_output size_splits, kiln_output axis,
                               int num_split, kiln_output *outputs,
                               const char *name, kiln_status *status);
/* SplitV into the n parts sizes[0..n) (Consts "<name>/size_splits",
** "<name>/split_dim"). */
KILN_API kiln_op *kiln_split_v_sizes(kiln_graph *g, kiln_output value,
                                     const int64_t *sizes, int n,
                                     int64_t axis, kiln_output *outputs,
                                     const char *name, kiln_status *status);

/* GatherV2: slices of params at `indices` along the scalar `axis` (attrs
** Tparams, Tindices, Taxis). */
KILN_API kiln_output kiln_gather(kiln_graph *g, kiln_output params,
                                 kiln_output indices, kiln_output axis,
                                 const char *name, kiln_status *status);
/* GatherV2 along a given axis (Const "<name>/axis"). */
KILN_API kiln_output kiln_gather_axis(kiln_graph *g, kiln_output params,
                                      kiln_output indices, int64_t axis,
                                      const char *name, kiln_status *status);

/* OneHot: depth-long one-hot vectors for indices (uint8/int32/int64),
** on_value where an index matches and off_value elsewhere (two scalars of
** one dtype), inserted at `axis` (-1: last). Attrs axis, T, TI. */
KILN_API kiln_output kiln_one_hot(kiln_graph *g, kiln_output indices,
                                  kiln_output depth, kiln_output on_value,
                                  kiln_output off_value, int64_t axis,
                                  const char *name, kiln_status *status);
/* OneHot with an int32 depth and float on/off values (Consts
** "<name>/depth", "<name>/on_value", "<name>/off_value"). INVALID_ARGUMENT
** for a depth outside int32. */
KILN_API kiln_output kiln_one_hot_depth(kiln_graph *g, kiln_output indices,
                                        int64_t depth, float on_value,
                                        float off_value, int64_t axis,
                                        const char *name, kiln_status *status);

/* ------------------------------------------------------------ reductions */

/* Sum, Mean, Max, Min and Prod of input over the dimensions listed in
** `axis` (a scalar or 1-D int32/int64 tensor; negative entries count from
** the end); keep_dims keeps them with size 1 (attrs keep_dims, T, Tidx). */
KILN_API kiln_output kiln_reduce_sum(kiln_graph *g, kiln_output input,
                                     kiln_output axis, bool keep_dims,
                                     const char *name, kiln_status *status);
KILN_API kiln_output kiln_reduce_mean(kiln_graph *g, kiln_output input,
                                      kiln_output axis, bool keep_dims,
                                      const char *name, kiln_status *status);
KILN_API kiln_output kiln_reduce_max(kiln_graph *g, kiln_output input,
                                     kiln_output axis, bool keep_dims,
                                     const char *name, kiln_status *status);
KILN_API kiln_output kiln_reduce_min(kiln_graph *g, kiln_output input,
                                     kiln_output axis, bool keep_dims,
                                     const char *name, kiln_status *status);
KILN_API kiln_output kiln_reduce_prod(kiln_graph *g, kiln_output input,
                                      kiln_output axis, bool keep_dims,
                                      const char *name, kiln_status *status);

/* The same over axes[0..naxes) (Const "<name>/reduction_indices"). naxes
** -1 (axes ignored) reduces every dimension, as TensorFlow's axis=None;
** the input's rank must then be known (INVALID_ARGUMENT otherwise). */
KILN_API kiln_output kiln_reduce_sum_axes(kiln_graph *g, kiln_output input,
                                          const int64_t *axes, int naxes,
                                          bool keep_dims, const char *name,
                                          kiln_status *status);
KILN_API kiln_output kiln_reduce_mean_axes(kiln_graph *g, kiln_output input,
                                           const int64_t *axes, int naxes,
                                           bool keep_dims, const char *name,
                                           kiln_status *status);
KILN_API kiln_output kiln_reduce_max_axes(kiln_graph *g, kiln_output input,
                                          const int64_t *axes, int naxes,
                                          bool keep_dims, const char *name,
                                          kiln_status *status);
KILN_API kiln_output kiln_reduce_min_axes(kiln_graph *g, kiln_output input,
                                          const int64_t *axes, int naxes,
                                          bool keep_dims, const char *name,
                                          kiln_status *status);
KILN_API kiln_output kiln_reduce_prod_axes(kiln_graph *g, kiln_output input,
                                           const int64_t *axes, int naxes,
                                           bool keep_dims, const char *name,
                                           kiln_status *status);

/* ArgMax and ArgMin of input along the scalar `dimension`, as output_type
** int32 or int64 (KILN_INVALID_DTYPE: int64, TensorFlow's default).
** Attrs T, Tidx, output_type. */
KILN_API kiln_output kiln_argmax(kiln_graph *g, kiln_output input,
                                 kiln_output dimension, kiln_dtype output_type,
                                 const char *name, kiln_status *status);
KILN_API kiln_output kiln_argmin(kiln_graph *g, kiln_output input,
                                 kiln_output dimension, kiln_dtype output_type,
                                 const char *name, kiln_status *status);
/* ArgMax / ArgMin along a given axis (Const "<name>/dimension"). */
KILN_API kiln_output kiln_argmax_axis(kiln_graph *g, kiln_output input,
                                      int64_t axis, kiln_dtype output_type,
                                      const char *name, kiln_status *status);
KILN_API kiln_output kiln_argmin_axis(kiln_graph *g, kiln_output input,
                                      int64_t axis, kiln_dtype output_type,
                                      const char *name, kiln_status *status);

/* ---------------------------------------------------------------- random */

/* Pass as the op seed of a random builder for "no op seed" (TensorFlow's
** seed=None). */
#define KILN_NO_SEED INT64_MIN

/* The graph-level seed used for an op seed when no graph seed is set. */
#define KILN_DEFAULT_GRAPH_SEED 87654321

/* RandomUniform ([0, 1)), RandomStandardNormal and TruncatedNormal
** (normal, redrawn beyond two standard deviations) of shape `shape` (1-D
** int32/int64) and `dtype` (half, bfloat16, float or double). Attrs dtype,
** T, seed and seed2, chosen as TensorFlow's get_seed does, from the op
** seed and the seed set by kiln_graph_set_random_seed:
**   graph seed set, op seed given:  (graph seed, op seed)
**   graph seed set, KILN_NO_SEED:   (graph seed, a per-graph counter that
**                                    grows by one per random op built)
**   no graph seed, op seed given:   (KILN_DEFAULT_GRAPH_SEED, op seed)
**   neither:                        (0, 0): a new sequence every run.
** Seeds are reduced modulo 2^31 - 1 (to non-negative values), and a pair
** that comes out (0, 0) from given seeds becomes (0, 2^31 - 1) so that it
** does not mean "nondeterministic". A builder that fails may still have
** advanced the counter. */
KILN_API kiln_output kiln_random_uniform(kiln_graph *g, kiln_output shape,
                                         kiln_dtype dtype, int64_t seed,
                                         const char *name,
                                         kiln_status *status);
KILN_API kiln_output kiln_random_normal(kiln_graph *g, kiln_output shape,
                                        kiln_dtype dtype, int64_t seed,
                                        const char *name, kiln_status *status);
KILN_API kiln_output kiln_truncated_normal(kiln_graph *g, kiln_output shape,
                                           kiln_dtype dtype, int64_t seed,
                                           const char *name,
                                           kiln_status *status);
/* The same of shape dims[0..ndims) (Const "<name>/shape"). */
KILN_API kiln_output kiln_random_uniform_dims(kiln_graph *g,
                                              const int64_t *dims, int ndims,
                                              kiln_dtype dtype, int64_t seed,
                                              const char *name,
                                              kiln_status *status);
KILN_API kiln_output kiln_random_normal_dims(kiln_graph *g,
                                             const int64_t *dims, int ndims,
                                             kiln_dtype dtype, int64_t seed,
                                             const char *name,
                                             kiln_status *status);
KILN_API kiln_output kiln_truncated_normal_dims(kiln_graph *g,
                                                const int64_t *dims, int ndims,
                                                kiln_dtype dtype, int64_t seed,
                                                const char *name,
                                                kiln_status *status);

KILN_EXTERN_C_END

#endif /* KILN_OPS_H */
