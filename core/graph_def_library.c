/*
** A GraphDef's function library merged into a graph's, as TensorFlow's
** import adds it: functions and gradients new by name are added, equal
** ones are kept once, a different definition under a taken name is an
** error or keeps the graph's.
*/
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <protobuf-c/protobuf-c.h>
#include "function.pb-c.h"
#include "graph_def.h"
#include "status_internal.h"

static bool library_empty(const Tensorflow__FunctionDefLibrary *l) {
  return !l || (l->n_function == 0 && l->n_gradient == 0 &&
                l->n_registered_gradients == 0);
}

/* 1 when x and y pack to the same bytes, 0 when not, -1 when out of
** memory. */
static int same_message(kn_arena *a, const ProtobufCMessage *x,
                        const ProtobufCMessage *y) {
  size_t n = protobuf_c_message_get_packed_size(x);
  if (n != protobuf_c_message_get_packed_size(y)) return 0;
  uint8_t *bx = kn_arena_alloc(a, n), *by = kn_arena_alloc(a, n);
  if (!bx || !by) return -1;
  protobuf_c_message_pack(x, bx);
  protobuf_c_message_pack(y, by);
  return memcmp(bx, by, n) == 0;
}

static const char *function_name(const Tensorflow__FunctionDef *f) {
  return f->signature ? f->signature->name : "";
}

/* An arena array of base[0..n) with room for `more` elements after it. */
static void *with_room(kn_arena *a, const void *base, size_t n, size_t more,
                       size_t elem) {
  void *p = kn_arena_alloc(a, (n + more + 1) * elem);
  if (p && n) memcpy(p, base, n * elem);
  return p;
}

kiln_code kn_merge_library(const void *old, size_t old_len,
                           const Tensorflow__FunctionDefLibrary *add,
                           bool strict, void **out, size_t *out_len,
                           kiln_status *s) {
  *out = NULL;
  *out_len = 0;
  if (library_empty(add)) return KILN_OK;
  kn_arena *a = kn_arena_new();
  if (!a) return KN_OOM(s);
  kiln_code rc = KILN_OK;
  int same;
  ProtobufCAllocator al;
  kn_arena_allocator(a, &al);
  Tensorflow__FunctionDefLibrary none = TENSORFLOW__FUNCTION_DEF_LIBRARY__INIT;
  Tensorflow__FunctionDefLibrary *base = &none;
  if (old && !(base = tensorflow__function_def_library__unpack(&al, old_len, old)))
    goto oom;
  /* m starts as base, with room for all of add. */
  Tensorflow__FunctionDefLibrary *m = kn_arena_alloc(a, sizeof *m);
  if (!m) goto oom;
  *m = *base;
  m->function = with_room(a, base->function, base->n_function,
                          add->n_function, sizeof *m->function);
  m->gradient = with_room(a, base->gradient, base->n_gradient,
                          add->n_gradient, sizeof *m->gradient);
  m->registered_gradients =
      with_room(a, base->registered_gradients, base->n_registered_gradients,
                add->n_registered_gradients, sizeof *m->registered_gradients);
  if (!m->function || !m->gradient || !m->registered_gradients) goto oom;
  for (size_t i = 0; i < add->n_function; i++) {
    Tensorflow__FunctionDef *f = add->function[i], *had = NULL;
    for (size_t k = 0; k < base->n_function && !had; k++)
      if (strcmp(function_name(base->function[k]), function_name(f)) == 0)
        had = base->function[k];
    if (!had) {
      m->function[m->n_function++] = f;
    } else if (strict && (same = same_message(a, &had->base, &f->base)) != 1) {
      if (same < 0) goto oom;
      rc = kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "GraphDef library function '%s' differs from the "
                     "graph's function of that name", function_name(f));
      goto done;
    }
  }
  for (size_t i = 0; i < add->n_gradient; i++) {
    Tensorflow__GradientDef *gd = add->gradient[i], *had = NULL;
    for (size_t k = 0; k < base->n_gradient && !had; k++)
      if (strcmp(base->gradient[k]->function_name, gd->function_name) == 0)
        had = base->gradient[k];
    if (!had) {
      m->gradient[m->n_gradient++] = gd;
    } else if (strict && strcmp(had->gradient_func, gd->gradient_func) != 0) {
      rc = kn_errorf(s, KILN_INVALID_ARGUMENT,
                     "GraphDef library gives function '%s' the gradient "
                     "'%s' but the graph has '%s'", gd->function_name,
                     gd->gradient_func, had->gradient_func);
      goto done;
    }
  }
  for (size_t i = 0; i < add->n_registered_gradients; i++) {
    Tensorflow__RegisteredGradient *r = add->registered_gradients[i];
    same = 0;
    for (size_t k = 0; k < m->n_registered_gradients && same == 0; k++)
      same = same_message(a, &m->registered_gradients[k]->base, &r->base);
    if (same < 0) goto oom;
    if (!same) m->registered_gradients[m->n_registered_gradients++] = r;
  }
  size_t n = protobuf_c_message_get_packed_size(&m->base);
  if (!(*out = malloc(n ? n : 1))) goto oom;
  *out_len = protobuf_c_message_pack(&m->base, *out);
  goto done;
oom:
  rc = KN_OOM(s);
done:
  kn_arena_free(a);
  return rc;
}

