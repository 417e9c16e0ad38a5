/*
** Registration of the core's kernels. They are registered like a plugin's,
** under a record of their own that is not listed among plugins, for each
** device type whose memory is host memory: their state (a variable's
** value, a queue's elements) lives in host memory.
*/
#include <string.h>
#include "core_kernels.h"
#include "device.h"
#include "kernel_context.h"
#include "kernel_registry.h"
#include "plugin_loader.h"
#include "session_internal.h"
#include "status_internal.h"

static kn_plugin core_record = {
    .path = "", .stem = "core", .name = "core", .label = "Kiln's core",
    .message = "", .builtin = true,
};

static void register_table(const kn_core_kernel *t, size_t n, const char *type,
                           kiln_status *st) {
  for (size_t i = 0; i < n; i++) {
    kiln_kernel_def def = {
        .struct_size = sizeof def, .op = t[i].op, .device_type = type,
        .create = t[i].create, .compute = t[i].compute, .destroy = t[i].destroy,
    };
    if (kn_kernel_register_flags(&core_record, &def, t[i].flags, st) != KILN_OK)
      kn_log(KILN_LOG_ERROR, "core kernel %s on %s: %s", t[i].op, type,
             kiln_status_message(st));
  }
}

void kn_core_kernels_register(void) {
  kiln_status *st = kiln_status_new();
  if (!st) {
    kn_log(KILN_LOG_ERROR, "out of memory registering the core's kernels");
    return;
  }
  const char *done[16];
  int ndone = 0;
  for (size_t d = 0; d < kn_device_count(); d++) {
    const kn_device_type *t = kn_device_at(d)->type;
    bool seen = false;
    for (int k = 0; k < ndone; k++) seen |= strcmp(done[k], t->type) == 0;
    if (seen || !t->def.host_memory || ndone == 16) continue;
    done[ndone++] = t->type;
    register_table(kn_variable_kernels, kn_variable_kernels_count, t->type, st);
    register_table(kn_queue_kernels, kn_queue_kernels_count, t->type, st);
    register_table(kn_reader_kernels, kn_reader_kernels_count, t->type, st);
    register_table(kn_handle_kernels, kn_handle_kernels_count, t->type, st);
  }
  kiln_status_free(st);
}

void kn_kc_output_resource(kiln_kernel_context *c, const char *container,
                           const char *name, const kn_resource_kind *kind,
                           kn_resource *(*create)(void *arg, kiln_status *st),
                           kiln_code (*check)(kn_resource *r, void *arg,
                                              kiln_status *st),
                           void *arg, kiln_dtype dtype, bool ref) {
  kiln_status *st = kiln_status_new();
  if (!st) {
    kn_kc_fail(c, KILN_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  kn_resource *r = kn_resource_lookup_or_create(
      kn_session_resources(kn_kc_session(c), container), container, name, kind,
      create, arg, st);
  if (r && (!check || check(r, arg, st) == KILN_OK)) {
    kiln_tensor *t = kn_resource_tensor(r, dtype, ref, st);
    if (t) kn_kc_set_output_tensor(c, 0, t);
  }
  kn_resource_unref(r);
  if (!kn_ok(st)) kn_kc_fail(c, kiln_status_code(st), kiln_status_message(st));
  kiln_status_free(st);
}
