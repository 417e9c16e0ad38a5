/* The kernel-facing half of the plugin API: what a kernel sees while it is
** created and while it computes. The executor defines the contexts; the
** api table (plugin_api.c) points at these functions. */
#ifndef KN_KERNEL_CONTEXT_H
#define KN_KERNEL_CONTEXT_H

#include <kiln/plugin.h>
#include <kiln/tensor.h>

/* Kernel creation: one per (node, device) when a step plan is built. */
const kiln_attrs *kn_kcc_attrs(kiln_kernel_construct *ctx);
int kn_kcc_num_inputs(kiln_kernel_construct *ctx);
int kn_kcc_num_outputs(kiln_kernel_construct *ctx);
kiln_dtype kn_kcc_input_dtype(kiln_kernel_construct *ctx, int i);
kiln_dtype kn_kcc_output_dtype(kiln_kernel_construct *ctx, int i);
const char *kn_kcc_node_name(kiln_kernel_construct *ctx);
void kn_kcc_fail(kiln_kernel_construct *ctx, kiln_code code, const char *msg);

/* Kernel compute. */
void *kn_kc_kernel_user(kiln_kernel_context *ctx);
const kiln_attrs *kn_kc_attrs(kiln_kernel_context *ctx);
const char *kn_kc_node_name(kiln_kernel_context *ctx);
void *kn_kc_device(kiln_kernel_context *ctx);
int kn_kc_intra_op_threads(kiln_kernel_context *ctx);
int kn_kc_num_inputs(kiln_kernel_context *ctx);
int kn_kc_num_outputs(kiln_kernel_context *ctx);
const kiln_tensor_view *kn_kc_input(kiln_kernel_context *ctx, int i);
kiln_dtype kn_kc_output_dtype(kiln_kernel_context *ctx, int i);
const kiln_tensor_view *kn_kc_allocate_output(kiln_kernel_context *ctx, int i,
                                              const int64_t *dims, int ndims);
const kiln_tensor_view *kn_kc_forward_or_allocate(kiln_kernel_context *ctx,
                                                  int in, int out,
                                                  const int64_t *dims,
                                                  int ndims);
bool kn_kc_set_output_alias(kiln_kernel_context *ctx, int out, int in,
                            const int64_t *dims, int ndims);
void kn_kc_fail(kiln_kernel_context *ctx, kiln_code code, const char *msg);
const char *kn_kc_string_get(const kiln_tensor_view *t, int64_t i, size_t *len);
bool kn_kc_string_set(kiln_kernel_context *ctx, const kiln_tensor_view *t,
                      int64_t i, const char *data, size_t len);

/* For the core's own kernels (core_kernels.c), which see past the API. */
struct kiln_session;
struct kiln_op;
struct kiln_session *kn_kc_session(kiln_kernel_context *ctx);
const struct kiln_op *kn_kc_op(kiln_kernel_context *ctx);
/* Input i as the tensor in its slot: for KN_KERNEL_RAW_REFS kernels, a
** ref input is the variable's reference tensor. Borrowed. */
kiln_tensor *kn_kc_input_tensor(kiln_kernel_context *ctx, int i);
/* Stores t (the caller's reference) as output i. */
void kn_kc_set_output_tensor(kiln_kernel_context *ctx, int i, kiln_tensor *t);
bool kn_kc_failed(kiln_kernel_context *ctx);
/* kn_kc_fail with a printf-style message. */
void kn_kc_failf(kiln_kernel_context *ctx, kiln_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The full name of the device the node runs on. */
const char *kn_kc_device_name(kiln_kernel_context *ctx);
/* The step's frame. */
struct kn_frame *kn_kc_frame(kiln_kernel_context *ctx);

/* Asynchronous kernels (KN_KERNEL_ASYNC). In compute, kn_kc_go_async says
** the node finishes later and returns its token; the kernel keeps it (a
** queue's waiter) and returns. Whoever finishes the work sets outputs or
** fails through kn_async_context(a), which stays valid until then, and
** calls kn_async_done(a) exactly once, from any thread; the token is gone
** after. NULL (step failed) when memory runs out. */
typedef struct kn_async kn_async;
kn_async *kn_kc_go_async(kiln_kernel_context *ctx);
kiln_kernel_context *kn_async_context(kn_async *a);
void kn_async_done(kn_async *a);

/* Cancellation of a parked node: fn(arg, code, msg) runs once if the step
** is cancelled (its session closes, its deadline passes, another node
** fails) while registered. false when the step is already cancelled: fn
** is not registered and the caller finishes the node with the reason from
** kn_async_cancel_reason. kn_async_forget_cancel unregisters, waiting for
** a callback already running; call it before finishing a node that
** registered. */
typedef void (*kn_cancel_fn)(void *arg, kiln_code code, const char *msg);
bool kn_async_on_cancel(kn_async *a, kn_cancel_fn fn, void *arg);
void kn_async_forget_cancel(kn_async *a);
kiln_code kn_async_cancel_reason(kn_async *a, const char **msg);

#endif
