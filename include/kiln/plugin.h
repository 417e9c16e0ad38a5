/*
** kiln/plugin.h: the plugin ABI, the whole contract between Kiln and a
** device backend. A plugin includes this header and nothing else of
** Kiln, never links libkiln, and exports one function:
**
**   int kiln_plugin_init(const kiln_plugin_api *api, kiln_plugin *self);
**
** Kiln calls it once after opening the module, with `api`, the table of
** everything the core offers a plugin (valid until the process exits), and
** `self`, which the plugin fills (its name, ABI version) and passes back as
** its identity. Through `api` the plugin registers device types, kernels
** and op schemas. It returns 0 on success; anything else makes Kiln
** unload it and log why.
**
** Versioning, in layers:
**  - KILN_PLUGIN_ABI_VERSION is the major version: a plugin built for
**    another one is refused, the message naming both numbers and the file.
**  - Every struct a plugin fills begins with `size_t struct_size`, set to
**    sizeof the struct as the plugin's header knows it. Structs only grow
**    at the end; Kiln never reads past struct_size and uses the documented
**    default for a field beyond it, so a plugin built against an older
**    header keeps working.
**  - Structs Kiln hands out (kiln_tensor_view, the api table) also only
**    grow at the end; a plugin reads the fields its header knows.
**  - Function pointers marked "required" are checked at registration; a
**    NULL one refuses the registration, naming the file, struct and field.
**    Members marked "(optional)" may be NULL.
**  - Set self->struct_size, abi_version and name first, before any
**    registration: a registration from a plugin declaring another ABI is
**    refused.
**
** Threading: kiln_plugin_init and every registration run on one thread,
** during loading. Device enumeration runs once, at load. open/close run
** under Kiln's device lock. compute() may run concurrently on many
** threads, for different steps and nodes: a kernel's state made by create()
** must be read-only during compute. Memory and copy callbacks may run on
** any thread.
*/
#ifndef KILN_PLUGIN_H
#define KILN_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI major version this header describes. */
#define KILN_PLUGIN_ABI_VERSION 1

/* Exports kiln_plugin_init even from a plugin compiled with
** -fvisibility=hidden. */
#if defined(_WIN32) || defined(__CYGWIN__)
#define KILN_PLUGIN_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define KILN_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define KILN_PLUGIN_EXPORT
#endif

/* Mirrors of Kiln's public enumerations, so that a plugin needs no other
** header. The values are TensorFlow's and never change. */
#ifndef KILN_CODE_DEFINED
#define KILN_CODE_DEFINED
typedef enum kiln_code {
  KILN_OK = 0, KILN_CANCELLED = 1, KILN_UNKNOWN = 2,
  KILN_INVALID_ARGUMENT = 3, KILN_DEADLINE_EXCEEDED = 4, KILN_NOT_FOUND = 5,
  KILN_ALREADY_EXISTS = 6, KILN_PERMISSION_DENIED = 7,
  KILN_RESOURCE_EXHAUSTED = 8, KILN_FAILED_PRECONDITION = 9,
  KILN_ABORTED = 10, KILN_OUT_OF_RANGE = 11, KILN_UNIMPLEMENTED = 12,
  KILN_INTERNAL = 13, KILN_UNAVAILABLE = 14, KILN_DATA_LOSS = 15,
  KILN_UNAUTHENTICATED = 16
} kiln_code;
#endif
typedef struct kiln_status kiln_status;
#ifndef KILN_DTYPE_DEFINED
#define KILN_DTYPE_DEFINED
typedef enum kiln_dtype {
  KILN_INVALID_DTYPE = 0, KILN_FLOAT = 1, KILN_DOUBLE = 2, KILN_INT32 = 3,
  KILN_UINT8 = 4, KILN_INT16 = 5, KILN_INT8 = 6, KILN_STRING = 7,
  KILN_COMPLEX64 = 8, KILN_INT64 = 9, KILN_BOOL = 10, KILN_QINT8 = 11,
  KILN_QUINT8 = 12, KILN_QINT32 = 13, KILN_BFLOAT16 = 14, KILN_QINT16 = 15,
  KILN_QUINT16 = 16, KILN_UINT16 = 17, KILN_COMPLEX128 = 18, KILN_HALF = 19,
  KILN_RESOURCE = 20, KILN_VARIANT = 21, KILN_UINT32 = 22, KILN_UINT64 = 23
} kiln_dtype;
#endif
#ifndef KILN_MAX_DIMS
#define KILN_MAX_DIMS 32
#endif

/* Opaque handles the core passes to callbacks. */
typedef struct kiln_plugin_handle kiln_plugin_handle; /* the loading plugin */
typedef struct kiln_device_sink kiln_device_sink;     /* collects enumerated devices */
typedef struct kiln_kernel_context kiln_kernel_context; /* one compute call */
typedef struct kiln_kernel_construct kiln_kernel_construct; /* one kernel creation */
typedef struct kiln_attrs kiln_attrs;                 /* a node's attrs */
typedef struct kiln_shape_context kiln_shape_context; /* one shape inference */

/* Log levels for api->log. */
typedef enum kiln_log_level {
  KILN_LOG_DEBUG = 0, KILN_LOG_INFO = 1, KILN_LOG_WARNING = 2, KILN_LOG_ERROR = 3
} kiln_log_level;

/* ----------------------------------------------------------------- self */

/* Filled by the plugin in kiln_plugin_init. */
typedef struct kiln_plugin {
  size_t struct_size;        /* sizeof(kiln_plugin) */
  int abi_version;           /* KILN_PLUGIN_ABI_VERSION */
  /* (optional) Short and unique: "cpu", "vulkan" (letters, digits, '_',
  ** '-'); static storage. Default: NAME of the file kiln-NAME.so. */
  const char *name;
  const char *version;       /* (optional) the plugin's own version */
  const char *description;   /* (optional) one line */
  /* (optional) Called once before the module is unloaded at exit. */
  void (*shutdown)(void *user);
  void *user;                /* (optional) passed to shutdown */
  /* Set by Kiln before init: pass it to every registration call. */
  kiln_plugin_handle *handle;
} kiln_plugin;

/* ---------------------------------------------------------------- tensors */

/* A tensor as a kernel sees it. Owned by Kiln; valid during the compute
** call that obtained it. `data` is device memory for devices without host
** memory. For DT_STRING, use api->string_get/string_set. */
typedef struct kiln_tensor_view {
  kiln_dtype dtype;
  int ndims;
  const int64_t *dims;
  int64_t num_elements;
  void *data;
  size_t nbytes;
} kiln_tensor_view;

/* ---------------------------------------------------------------- devices */

/* One device found by enumeration; Kiln copies every field. */
typedef struct kiln_device_desc {
  size_t struct_size;        /* sizeof(kiln_device_desc) */
  const char *description;   /* (optional) "llvmpipe (LLVM 15, 256 bits)" */
  const char *vendor;        /* (optional) */
  /* (optional) stable identity of the physical device, the same through
  ** every plugin that reaches it: "pci:0000:01:00.0" or "uuid:..." */
  const char *stable_id;
  uint64_t memory_limit;     /* bytes the device may use */
  uint64_t free_memory;      /* 0 when the device cannot tell */
  void *cookie;              /* (optional) plugin's own, given back to open() */
} kiln_device_desc;

/* A device type: how to find, open, fill and copy to its devices. Devices
** of a type are numbered in enumeration order: /device:<TYPE>:0, ... */
typedef struct kiln_device_type {
  size_t struct_size;        /* sizeof(kiln_device_type) */
  const char *type;          /* "CPU", "VULKAN", "GPU": [A-Z][A-Z0-9_]* */
  /* True when device memory is host memory (the CPU): tensors move between
  ** it and the host without copies. Default false. */
  bool host_memory;
  /* Required. Reports each device through api->device_found(sink, &desc).
  ** Must not create contexts or allocate device memory: listing devices
  ** has no side effects. Finding none is not an error (say why with
  ** api->log). */
  void (*enumerate)(void *user, kiln_device_sink *sink, kiln_status *status);
  /* Required. Initialises device `cookie` when a session first uses it and
  ** returns the plugin's device state, passed to every call below (NULL is
  ** valid state; failure is said through status). `index` is the device's
  ** position in this type's enumeration, before any config filter. */
  void *(*open)(void *user, void *cookie, int index, kiln_status *status);
  /* (optional) Releases what open() made, at process exit. */
  void (*close)(void *device);
  /* Required unless host_memory: device memory of `bytes` aligned to
  ** `alignment` (a power of two, at least 64); NULL with status set
  ** (RESOURCE_EXHAUSTED) when it cannot. Default for host_memory types:
  ** Kiln's own aligned allocator (such types give both alloc and free, or
  ** neither). */
  void *(*alloc)(void *device, size_t bytes, size_t alignment, kiln_status *status);
  void (*free)(void *device, void *ptr);
  /* Required unless host_memory (default there: memcpy). */
  void (*copy_to_device)(void *device, void *dst, const void *host_src,
                         size_t bytes, kiln_status *status);
  void (*copy_to_host)(void *device, void *host_dst, const void *src,
                       size_t bytes, kiln_status *status);
  /* (optional) Within one device; default: through the host. */
  void (*copy_on_device)(void *device, void *dst, const void *src,
                         size_t bytes, kiln_status *status);
  /* (optional) Waits until all work queued on the device is done; called
  ** before results are read on the host. For synchronous devices NULL. */
  void (*synchronize)(void *device, kiln_status *status);
  void *user;                /* (optional) passed to enumerate and open */
} kiln_device_type;

/* ---------------------------------------------------------------- kernels */

typedef struct kiln_kernel_def {
  size_t struct_size;        /* sizeof(kiln_kernel_def) */
  const char *op;            /* op type: "MatMul" */
  const char *device_type;   /* "CPU" */
  /* (optional) dtypes the kernel takes, per type attr:
  ** "T=float,double" or "T=float;Tidx=int32,int64". NULL: any. */
  const char *constraints;
  /* (optional) input arguments the kernel wants in host memory even on a
  ** device without host memory (shapes, axes): "shape" or "begin,end". */
  const char *host_memory_args;
  int priority;              /* higher wins among matching kernels; default 0 */
  /* (optional) Prepares a kernel for one node: reads attrs once and
  ** returns state passed to compute (NULL is valid state). Fail through
  ** api->construct_fail. */
  void *(*create)(kiln_kernel_construct *ctx);
  /* Required. Runs the node: reads inputs, makes outputs, or fails through
  ** api->fail. May run concurrently with itself (see threading above). */
  void (*compute)(void *kernel, kiln_kernel_context *ctx);
  /* (optional) Frees what create returned. */
  void (*destroy)(void *kernel);
  void *user;                /* (optional) readable through api->kernel_user */
} kiln_kernel_def;

/* -------------------------------------------------------------- op schemas */

/* A custom op, in the spec language of Kiln's own ops (see docs/plugins.md):
** inputs "x: T; y: T", outputs "z: T", attrs "T: {float, double}". */
typedef struct kiln_op_schema {
  size_t struct_size;        /* sizeof(kiln_op_schema) */
  const char *name;          /* CamelCase op type */
  const char *inputs;        /* (optional) */
  const char *outputs;       /* (optional) */
  const char *attrs;         /* (optional) */
  bool stateful;
  /* (optional) Computes output shapes through api->shape_*; without one
  ** outputs have unknown shape. Returns KILN_OK or fails through
  ** api->shape_fail. */
  kiln_code (*shape_fn)(kiln_shape_context *ctx);
} kiln_op_schema;

/* -------------------------------------------------------------- the table */

/* What Kiln offers a plugin. Every member is always set. */
typedef struct kiln_plugin_api {
  size_t struct_size;
  int abi_version;           /* the core's KILN_PLUGIN_ABI_VERSION */

  /* Registration (during kiln_plugin_init only). Each returns KILN_OK or
  ** an error code with a message in the log: ALREADY_EXISTS for a device
  ** type or kernel key (op, device type, constraints) or op name another
  ** plugin registered (the first stays), INVALID_ARGUMENT for a bad or
  ** incomplete struct. A refused registration does not fail the plugin. */
  kiln_code (*register_device_type)(kiln_plugin_handle *self,
                                    const kiln_device_type *type);
  kiln_code (*register_kernel)(kiln_plugin_handle *self,
                               const kiln_kernel_def *kernel);
  kiln_code (*register_op)(kiln_plugin_handle *self,
                           const kiln_op_schema *schema);
  /* Writes a line to Kiln's log, tagged with the plugin's name. */
  void (*log)(kiln_plugin_handle *self, kiln_log_level level, const char *msg);

  /* Enumeration: reports one device (fields copied). */
  void (*device_found)(kiln_device_sink *sink, const kiln_device_desc *desc);

  /* Status objects handed to device callbacks. */
  void (*status_set)(kiln_status *status, kiln_code code, const char *msg);

  /* Kernel creation. */
  const kiln_attrs *(*construct_attrs)(kiln_kernel_construct *ctx);
  int (*construct_num_inputs)(kiln_kernel_construct *ctx);
  int (*construct_num_outputs)(kiln_kernel_construct *ctx);
  kiln_dtype (*construct_input_dtype)(kiln_kernel_construct *ctx, int i);
  kiln_dtype (*construct_output_dtype)(kiln_kernel_construct *ctx, int i);
  const char *(*construct_node_name)(kiln_kernel_construct *ctx);
  void (*construct_fail)(kiln_kernel_construct *ctx, kiln_code code,
                         const char *msg);

  /* Attr reading: true when the attr exists with that kind. Pointers are
  ** owned by Kiln and live as long as the node. */
  bool (*attr_int)(const kiln_attrs *a, const char *name, int64_t *out);
  bool (*attr_float)(const kiln_attrs *a, const char *name, float *out);
  bool (*attr_bool)(const kiln_attrs *a, const char *name, bool *out);
  bool (*attr_type)(const kiln_attrs *a, const char *name, kiln_dtype *out);
  bool (*attr_string)(const kiln_attrs *a, const char *name,
                      const char **data, size_t *len);
  bool (*attr_int_list)(const kiln_attrs *a, const char *name,
                        const int64_t **values, int *n);
  bool (*attr_float_list)(const kiln_attrs *a, const char *name,
                          const float **values, int *n);
  bool (*attr_type_list)(const kiln_attrs *a, const char *name,
                         const kiln_dtype **values, int *n);
  /* A shape attr: rank (-1 unknown) and dims (-1 unknown sizes). */
  bool (*attr_shape)(const kiln_attrs *a, const char *name, int *ndims,
                     const int64_t **dims);
  /* A tensor attr (host memory). */
  bool (*attr_tensor)(const kiln_attrs *a, const char *name,
                      const kiln_tensor_view **out);

  /* Kernel compute. */
  void *(*kernel_user)(kiln_kernel_context *ctx);
  const kiln_attrs *(*kernel_attrs)(kiln_kernel_context *ctx);
  const char *(*node_name)(kiln_kernel_context *ctx);
  void *(*device)(kiln_kernel_context *ctx);   /* what open() returned */
  int (*intra_op_threads)(kiln_kernel_context *ctx);
  int (*num_inputs)(kiln_kernel_context *ctx);
  int (*num_outputs)(kiln_kernel_context *ctx);
  /* Input i, or NULL when i is out of range. For an input the op's
  ** schema declares Ref(T) (a variable, as ApplyGradientDescent's `var`),
  ** the view is the variable's current value and `data` its own buffer:
  ** the kernel may update it in place (Kiln holds the variable's lock
  ** around compute when the node's use_locking attr is true), and passes
  ** the reference on to a Ref(T) output with set_output_alias. Kiln fails
  ** the step (FAILED_PRECONDITION) before compute when it is
  ** uninitialised. */
  const kiln_tensor_view *(*input)(kiln_kernel_context *ctx, int i);
  /* The dtype output i must have. */
  kiln_dtype (*output_dtype)(kiln_kernel_context *ctx, int i);
  /* Makes output i with these dims (uninitialised contents). NULL, with
  ** the step failed (RESOURCE_EXHAUSTED / INVALID_ARGUMENT), on error. */
  const kiln_tensor_view *(*allocate_output)(kiln_kernel_context *ctx, int i,
                                             const int64_t *dims, int ndims);
  /* Like allocate_output, but reuses input `in`'s buffer when this node is
  ** its last reader and dtype and size agree (elementwise ops in place). */
  const kiln_tensor_view *(*forward_or_allocate)(kiln_kernel_context *ctx,
                                                 int in, int out,
                                                 const int64_t *dims, int ndims);
  /* Output `out` shares input `in`'s buffer with new dims of the same
  ** element count (Identity, Reshape, Squeeze). false (step failed) when
  ** the counts differ. */
  bool (*set_output_alias)(kiln_kernel_context *ctx, int out, int in,
                           const int64_t *dims, int ndims);
  /* Fails the step with code and message; Kiln adds the node's name. */
  void (*fail)(kiln_kernel_context *ctx, kiln_code code, const char *msg);
  /* Strings of a DT_STRING tensor: element i's bytes and length; and
  ** replacing element i of an output with a copy (false on OOM, step
  ** failed). */
  const char *(*string_get)(const kiln_tensor_view *t, int64_t i, size_t *len);
  bool (*string_set)(kiln_kernel_context *ctx, const kiln_tensor_view *t,
                     int64_t i, const char *data, size_t len);

  /* Shape functions of plugin op schemas. */
  const kiln_attrs *(*shape_attrs)(kiln_shape_context *ctx);
  int (*shape_num_inputs)(kiln_shape_context *ctx);
  /* Rank of input i (-1 unknown); dims written up to max_dims. */
  int (*shape_input)(kiln_shape_context *ctx, int i, int64_t *dims, int max_dims);
  void (*shape_set_output)(kiln_shape_context *ctx, int i,
                           const int64_t *dims, int ndims);
  kiln_code (*shape_fail)(kiln_shape_context *ctx, const char *msg);
} kiln_plugin_api;

/* The one symbol a plugin exports. */
typedef int (*kiln_plugin_init_fn)(const kiln_plugin_api *api, kiln_plugin *self);
#define KILN_PLUGIN_INIT_SYMBOL "kiln_plugin_init"
#ifndef KILN_BUILDING_LIBRARY
KILN_PLUGIN_EXPORT int kiln_plugin_init(const kiln_plugin_api *api,
                                        kiln_plugin *self);
#endif

#ifdef __cplusplus
}
#endif

#endif /* KILN_PLUGIN_H */
