/*
** kiln/sparse.h: sparse tensors (TensorFlow 1.x's SparseTensor,
** SparseTensorValue and tf.sparse_placeholder).
**
** A sparse tensor of rank R with N stored values is three dense tensors:
**   indices      int64 [N, R]  row n holds the coordinates of value n
**   values       T     [N]     the stored values, any dtype
**   dense_shape  int64 [R]     the shape of the dense tensor it stands for
** Elements not listed are zero (or the default a consumer is given). Kiln
** passes the triple through sessions as three ordinary tensors, as
** TensorFlow does: a graph holds a kiln_sparse_output (three outputs), a
** feed or fetch is a kiln_sparse_tensor (three tensors, checked to fit
** together). The helpers below put a sparse feed or fetch into the flat
** arrays kiln_session_run takes, and take a fetched triple back out.
**
** As in TensorFlow, indices need not be sorted or distinct to make a
** sparse value; ops that need them ordered (SparseToDense with
** validate_indices) check that themselves.
**
** Thread-safety: a kiln_sparse_tensor never changes after it is made, so
** any number of threads may read it and feed it at once; freeing it must
** not race with those uses. The graph functions are thread-safe as the
** graph API is.
*/
#ifndef KILN_SPARSE_H
#define KILN_SPARSE_H

#include <stdbool.h>
#include <kiln/defs.h>
#include <kiln/status.h>
#include <kiln/tensor.h>
#include <kiln/graph.h>

KILN_EXTERN_C_BEGIN

/* ------------------------------------------------------------- values */

/* A sparse tensor value: a checked (indices, values, dense_shape) triple. */
typedef struct kiln_sparse_tensor kiln_sparse_tensor;

/* Makes a sparse value of the three tensors after checking that they fit
** together. The value takes its own reference to each tensor; the caller
** keeps theirs, and must not change the tensors' contents afterwards (the
** checks would no longer hold). Returns NULL with status set:
** INVALID_ARGUMENT when a tensor is NULL; indices is not int64 or not a
** matrix; values is not a vector; dense_shape is not an int64 vector;
** indices' rows and values' length disagree (N); indices' columns and
** dense_shape's length disagree (R); R exceeds KILN_MAX_DIMS; a
** dense_shape entry is negative; an index is out of bounds ("indices[3] =
** [2,7] is out of bounds: need 0 <= index < [4,5]"). RESOURCE_EXHAUSTED
** when out of memory. Each message names the tensor at fault and the
** shapes involved. */
KILN_API kiln_sparse_tensor *kiln_sparse_tensor_new(kiln_tensor *indices,
                                                    kiln_tensor *values,
                                                    kiln_tensor *dense_shape,
                                                    kiln_status *status);

/* As kiln_sparse_tensor_new, for tensors the caller owns and hands over,
** such as three fetched ones: triple[0..3) are indices, values and
** dense_shape. The value takes those references whatever happens: on
** success it owns them, on error they are freed; in both cases
** triple[0..3) are set to NULL, so a cleanup loop that frees every fetched
** tensor stays correct. Errors as kiln_sparse_tensor_new; NULL triple is
** INVALID_ARGUMENT. */
KILN_API kiln_sparse_tensor *kiln_sparse_tensor_adopt(kiln_tensor **triple,
                                                      kiln_status *status);

/* Frees the value and drops its references to the three tensors. NULL is
** ignored. */
KILN_API void kiln_sparse_tensor_free(kiln_sparse_tensor *sp);

/* The three tensors, borrowed: valid while sp lives (take a reference with
** kiln_tensor_ref to keep one longer). */
KILN_API kiln_tensor *kiln_sparse_tensor_indices(const kiln_sparse_tensor *sp);
KILN_API kiln_tensor *kiln_sparse_tensor_values(const kiln_sparse_tensor *sp);
KILN_API kiln_tensor *kiln_sparse_tensor_dense_shape(
    const kiln_sparse_tensor *sp);

/* The values' dtype, the rank R, the number N of stored values, and the
** dense shape's R entries (owned by the dense_shape tensor; NULL when R
** is 0). */
KILN_API kiln_dtype kiln_sparse_tensor_dtype(const kiln_sparse_tensor *sp);
KILN_API int kiln_sparse_tensor_rank(const kiln_sparse_tensor *sp);
KILN_API int64_t kiln_sparse_tensor_nnz(const kiln_sparse_tensor *sp);
KILN_API const int64_t *kiln_sparse_tensor_dims(const kiln_sparse_tensor *sp);

/* -------------------------------------------------------------- graphs */

/* A sparse tensor in a graph: the three outputs that carry it. Fill one
** by hand to treat any three outputs as a sparse tensor. */
typedef struct kiln_sparse_output {
  kiln_output indices;      /* int64 [N, R] */
  kiln_output values;       /* T [N] */
  kiln_output dense_shape;  /* int64 [R] */
} kiln_sparse_output;

/* Adds the ops of TensorFlow 1.15's tf.sparse_placeholder(dtype, shape,
** name) to g and returns their outputs:
**   "<name>/values"   Placeholder of dtype and shape [?]
**   "<name>/indices"  Placeholder of int64 and shape [?, R]
**   "<name>/shape"    the dense shape. With the shape unknown (ndims -1):
**                     a Placeholder of int64 and shape [?], R unknown.
**                     Otherwise a PlaceholderWithDefault of shape [R] over
**                     a Const "<name>/shape_default" holding dims, -1 for
**                     each size not known: feeding it is optional.
** dims[0..ndims) is the dense shape, -1 for a size not known; dims NULL
** with ndims >= 0 gives rank ndims with every size unknown. Names pass
** through kiln_graph_unique_name (name scope, "_1" suffixes), as
** TensorFlow's do; name NULL or "" gives each op its type's default name
** ("Placeholder", "Placeholder_1", ...), as TensorFlow's name=None does.
** All the ops are added or none. On error every output is {NULL, -1} and
** status is set: INVALID_ARGUMENT for a NULL graph, a dtype that is no
** value type (invalid or a reference type), ndims outside
** -1..KILN_MAX_DIMS, a size below -1, or an invalid name;
** RESOURCE_EXHAUSTED when out of memory. */
KILN_API kiln_sparse_output kiln_sparse_placeholder(kiln_graph *g,
                                                    kiln_dtype dtype,
                                                    const int64_t *dims,
                                                    int ndims,
                                                    const char *name,
                                                    kiln_status *status);

/* SparseToDense over sp (tf.sparse_tensor_to_dense): the dense tensor of shape
** sp.dense_shape holding sp's values, default_value (a scalar of the
** values' dtype) elsewhere. With validate_indices the kernel checks that
** the indices are in bounds, sorted and distinct. Returns the output, or
** {NULL, -1} with status set: the errors of the builders in <kiln/ops.h>
** (the inputs' dtypes are checked against the op). */
KILN_API kiln_output kiln_sparse_to_dense(kiln_graph *g, kiln_sparse_output sp,
                                          kiln_output default_value,
                                          bool validate_indices,
                                          const char *name,
                                          kiln_status *status);

/* SparseTensorDenseMatMul (tf.sparse_tensor_dense_matmul): the product of
** the rank-2 sparse sp (transposed when adjoint_a; conjugated too for
** complex types) and the dense matrix b (likewise with adjoint_b).
** Returns the output, or {NULL, -1} with status set, as
** kiln_sparse_to_dense. */
KILN_API kiln_output kiln_sparse_dense_matmul(kiln_graph *g,
                                              kiln_sparse_output sp,
                                              kiln_output b, bool adjoint_a,
                                              bool adjoint_b, const char *name,
                                              kiln_status *status);

/* ----------------------------------------------------- feeds and fetches */

/* Appends a sparse feed to the flat feed arrays of kiln_session_run:
** feeds[nfeeds + k] = placeholder's indices, values, dense_shape and
** feed_values[nfeeds + k] = value's tensors (k = 0, 1, 2). The tensors
** are borrowed from value, which must outlive the run; nothing is
** allocated, so nothing needs freeing. cap is the arrays' length. Returns
** the new count (nfeeds + 3), or -1 with status set and the arrays
** untouched: INVALID_ARGUMENT for NULL arrays or value, nfeeds outside
** 0..cap, fewer than 3 free slots, or a placeholder output with no op.
** Dtypes and shapes are checked by the run, whose messages name the
** placeholder tensor ("Cannot feed value of dtype int32 for Tensor
** 'sp/values:0', which has dtype float"). */
KILN_API int kiln_sparse_feed_append(kiln_sparse_output placeholder,
                                     const kiln_sparse_tensor *value,
                                     kiln_output *feeds,
                                     kiln_tensor **feed_values, int nfeeds,
                                     int cap, kiln_status *status);

/* Appends sp's three outputs to a flat fetch array: fetches[nfetches + k]
** = indices, values, dense_shape. After the run, pass &fetch_values
** [nfetches] to kiln_sparse_tensor_adopt. Returns the new count, or -1
** with status set and the array untouched: INVALID_ARGUMENT for a NULL
** array, nfetches outside 0..cap, fewer than 3 free slots, or an output
** with no op. */
KILN_API int kiln_sparse_fetch_append(kiln_sparse_output sp,
                                      kiln_output *fetches, int nfetches,
                                      int cap, kiln_status *status);

KILN_EXTERN_C_END

#endif /* KILN_SPARSE_H */
