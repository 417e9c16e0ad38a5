/* I/O op schemas: checkpoints (SaveV2, RestoreV2 and the TF1 savers'
** helpers), whole files, and readers with the verbs that act on them
** (tensorflow/core/ops/io_ops.cc). The reader verbs are stateful here
** (TensorFlow marks only some): each changes or observes the reader, so
** no two of them may be merged or folded. */
#include "ops.h"

/* Requires inputs [0, n) to be scalars. */
static kiln_code scalars(kn_shape_ctx *ctx, int n) {
  for (int i = 0; i < n && i < ctx->ninputs; i++) {
    kiln_code rc = kn_ctx_require_rank(ctx, i, 0);
    if (rc != KILN_OK) return rc;
  }
  return KILN_OK;
}

/* Requires input i to be a vector of n elements. */
static kiln_code vector_of(kn_shape_ctx *ctx, int i, int64_t n) {
  kiln_code rc = kn_ctx_require_rank(ctx, i, 1);
  if (rc != KILN_OK) return rc;
  if (ctx->in[i].ndims == 1 && ctx->in[i].dims[0] >= 0 &&
      ctx->in[i].dims[0] != n)
    return kn_shape_error(ctx, "Dimension must be %lld but is %lld for input "
                               "%d ('%s')",
                          (long long)n, (long long)ctx->in[i].dims[0], i,
                          kn_ops_input_name(ctx, i));
  return KILN_OK;
}

/* SaveV2 and RestoreV2: a prefix, then one name and one slice spec per
** tensor. */
static kiln_code shape_save_restore_v2(kn_shape_ctx *ctx) {
  int count = 0;
  int64_t n;
  kiln_code rc;
  if (kn_ctx_input_arg(ctx, "tensors", &count) >= 0)
    n = count;  /* SaveV2 */
  else
    n = ctx->noutputs;
  if ((rc = scalars(ctx, 1)) != KILN_OK ||
      (rc = vector_of(ctx, 1, n)) != KILN_OK ||
      (rc = vector_of(ctx, 2, n)) != KILN_OK)
    return rc;
  return KILN_OK;
}

static kiln_code shape_merge_checkpoints(kn_shape_ctx *ctx) {
  kiln_code rc = kn_ctx_require_rank(ctx, 0, 1);
  return rc != KILN_OK ? rc : kn_ctx_require_rank(ctx, 1, 0);
}

/* Ops of scalar inputs and scalar outputs (file names, handles). */
static kiln_code shape_scalar_io(kn_shape_ctx *ctx) {
  kiln_code rc = scalars(ctx, ctx->ninputs);
  if (rc != KILN_OK) return rc;
  for (int i = 0; i < ctx->noutputs; i++) ctx->out[i] = kn_shape_scalar();
  return KILN_OK;
}

/* Save: a file name and a vector naming each tensor. */
static kiln_code shape_save(kn_shape_ctx *ctx) {
  int count = 0;
  kiln_code rc;
  kn_ctx_input_arg(ctx, "data", &count);
  if ((rc = scalars(ctx, 1)) != KILN_OK) return rc;
  return vector_of(ctx, 1, count);
}

/* Restore and RestoreSlice: scalar strings in, a tensor of the saved
** shape out. */
static kiln_code shape_restore(kn_shape_ctx *ctx) {
  return scalars(ctx, ctx->ninputs);
}

/* ReaderReadUpToV2: scalar handles and count in, two vectors of as many
** records as were read out. */
static kiln_code shape_read_up_to(kn_shape_ctx *ctx) {
  kiln_code rc = scalars(ctx, ctx->ninputs);
  if (rc != KILN_OK) return rc;
  ctx->out[0] = ctx->out[1] = kn_shape_unknown_dims(1);
  return KILN_OK;
}

#define RESOURCE_ATTRS "container: string = ''; shared_name: string = ''"

const kn_op_spec kn_io_ops[] = {
    {.name = "SaveV2",
     .inputs = "prefix: string; tensor_names: string; "
               "shape_and_slices: string; tensors: dtypes",
     .attrs = "dtypes: list(type) >= 1", .shape_fn = shape_save_restore_v2,
     .flags = KN_OP_STATEFUL},
    {.name = "RestoreV2",
     .inputs = "prefix: string; tensor_names: string; "
               "shape_and_slices: string",
     .outputs = "tensors: dtypes", .attrs = "dtypes: list(type) >= 1",
     .shape_fn = shape_save_restore_v2, .flags = KN_OP_STATEFUL},
    {.name = "MergeV2Checkpoints",
     .inputs = "checkpoint_prefixes: string; destination_prefix: string",
     .attrs = "delete_old_dirs: bool = true; "
              "allow_missing_files: bool = false",
     .shape_fn = shape_merge_checkpoints, .flags = KN_OP_STATEFUL},
    {.name = "ShardedFilename",
     .inputs = "basename: string; shard: int32; num_shards: int32",
     .outputs = "filename: string", .shape_fn = shape_scalar_io},
    {.name = "ShardedFilespec", .inputs = "basename: string; num_shards: int32",
     .outputs = "filename: string", .shape_fn = shape_scalar_io},
    {.name = "Save", .inputs = "filename: string; tensor_names: string; data: T",
     .attrs = "T: list(type) >= 1", .shape_fn = shape_save,
     .flags = KN_OP_STATEFUL},
    {.name = "SaveSlices",
     .inputs = "filename: string; tensor_names: string; "
               "shapes_and_slices: string; data: T",
     .attrs = "T: list(type) >= 1", .shape_fn = shape_save,
     .flags = KN_OP_STATEFUL},
    {.name = "Restore", .inputs = "file_pattern: string; tensor_name: string",
     .outputs = "tensor: dt", .attrs = "dt: type; preferred_shard: int = -1",
     .shape_fn = shape_restore, .flags = KN_OP_STATEFUL},
    {.name = "RestoreSlice",
     .inputs = "file_pattern: string; tensor_name: string; "
               "shape_and_slice: string",
     .outputs = "tensor: dt", .attrs = "dt: type; preferred_shard: int = -1",
     .shape_fn = shape_restore, .flags = KN_OP_STATEFUL},

    {.name = "ReadFile", .inputs = "filename: string",
     .outputs = "contents: string", .shape_fn = shape_scalar_io},
    {.name = "WriteFile", .inputs = "filename: string; contents: string",
     .shape_fn = shape_scalar_io, .flags = KN_OP_STATEFUL},
    {.name = "WholeFileReaderV2", .outputs = "reader_handle: resource",
     .attrs = RESOURCE_ATTRS, .shape_fn = shape_scalar_io,
     .flags = KN_OP_STATEFUL},
    {.name = "ReaderReadV2",
     .inputs = "reader_handle: resource; queue_handle: resource",
     .outputs = "key: string; value: string", .shape_fn = shape_scalar_io,
     .flags = KN_OP_STATEFUL},
    {.name = "TFRecordReaderV2", .outputs = "reader_handle: resource",
     .attrs = RESOURCE_ATTRS "; compression_type: string = ''",
     .shape_fn = shape_scalar_io, .flags = KN_OP_STATEFUL},
    {.name = "ReaderReadUpToV2",
     .inputs = "reader_handle: resource; queue_handle: resource; "
               "num_records: int64",
     .outputs = "keys: string; values: string", .shape_fn = shape_read_up_to,
     .flags = KN_OP_STATEFUL},
    {.name = "ReaderNumRecordsProducedV2", .inputs = "reader_handle: resource",
     .outputs = "records_produced: int64", .shape_fn = shape_scalar_io,
     .flags = KN_OP_STATEFUL},
    {.name = "ReaderNumWorkUnitsCompletedV2",
     .inputs = "reader_handle: resource", .outputs = "units_completed: int64",
     .shape_fn = shape_scalar_io, .flags = KN_OP_STATEFUL},
    {.name = "ReaderResetV2", .inputs = "reader_handle: resource",
     .shape_fn = shape_scalar_io, .flags = KN_OP_STATEFUL},
};
const size_t kn_io_ops_count = sizeof kn_io_ops / sizeof kn_io_ops[0];
