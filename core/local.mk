# libkiln: the device-independent core. Everything is compiled once into a
# convenience library that tests link directly (they reach internals);
# libkiln.so wraps it and exports only kiln_* symbols.
noinst_LTLIBRARIES += core/libkilnproto.la core/libkilncore.la
lib_LTLIBRARIES += libkiln.la

kilnincludedir = $(includedir)/kiln
kilninclude_HEADERS = \
	include/kiln/kiln.h \
	include/kiln/defs.h \
	include/kiln/status.h \
	include/kiln/buffer.h \
	include/kiln/tensor.h \
	include/kiln/graph.h \
	include/kiln/ops.h \
	include/kiln/plugin.h \
	include/kiln/devices.h \
	include/kiln/config.h \
	include/kiln/session.h \
	include/kiln/sparse.h

KILN_PROTOS = \
	core/proto/types.proto \
	core/proto/resource_handle.proto \
	core/proto/tensor_shape.proto \
	core/proto/tensor.proto \
	core/proto/attr_value.proto \
	core/proto/node_def.proto \
	core/proto/op_def.proto \
	core/proto/function.proto \
	core/proto/versions.proto \
	core/proto/graph.proto \
	core/proto/step_stats.proto \
	core/proto/cost_graph.proto \
	core/proto/config.proto
KILN_PROTO_C = $(KILN_PROTOS:.proto=.pb-c.c)
KILN_PROTO_H = $(KILN_PROTOS:.proto=.pb-c.h)
EXTRA_DIST += $(KILN_PROTOS)
BUILT_SOURCES += $(KILN_PROTO_C) $(KILN_PROTO_H)
CLEANFILES += $(KILN_PROTO_C) $(KILN_PROTO_H) core/proto/.stamp

# protoc-c writes every .pb-c.[ch] at once; one stamp orders them.
core/proto/.stamp: $(KILN_PROTOS)
	@$(MKDIR_P) core/proto
	$(AM_V_GEN)$(PROTOC_C) --proto_path=$(srcdir)/core/proto \
	  --c_out=core/proto $(addprefix $(srcdir)/,$(KILN_PROTOS)) && touch $@
$(KILN_PROTO_C) $(KILN_PROTO_H): core/proto/.stamp

core_libkilncore_la_CPPFLAGS = $(AM_CPPFLAGS) -DKILN_BUILDING_LIBRARY \
	-DKILN_PLUGINDIR='"$(plugindir)"' -DKILN_SYSCONFDIR='"$(kilnconfdir)"'
core_libkilncore_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(PROTOBUF_C_CFLAGS) $(INIH_CFLAGS)
core_libkilncore_la_LIBADD = core/libkilnproto.la $(PROTOBUF_C_LIBS) $(INIH_LIBS) $(LTDL_LIBS)
core_libkilncore_la_SOURCES = \
	core/status.c core/status_internal.h \
	core/buffer.c \
	core/tensor.c core/tensor_internal.h \
	core/shape.c core/shape.h \
	core/attr.c core/attr.h \
	core/strmap.c core/strmap.h \
	core/op_spec.c core/op_registry.c core/op_registry.h \
	core/shape_inference.c \
	core/graph.c core/op_desc.c core/op_create.c core/op.c \
	core/default_graph.c core/graph_internal.h \
	core/graph_def.c core/graph_def_library.c core/import_options.c core/proto_convert.c core/graph_def.h \
	core/op_builders.c core/op_builders_array.c core/op_builders.h \
	core/device.c core/device.h \
	core/kernel_registry.c core/kernel_registry.h \
	core/plugin_loader.c core/plugin_loader.h \
	core/plugin_api.c core/kernel_context.h \
	core/config_file.c core/config_file.h \
	core/devices_api.c \
	core/session_config.c core/run_metadata.c core/session_config.h \
	core/session.c core/plan.c core/placer.c core/executor.c \
	core/callable.c core/partial_run.c core/default_session.c \
	core/resource_mgr.c core/resource_mgr.h core/core_kernels.c core/core_kernels.h \
	core/variable.h core/variable_kernels.c core/queue.c core/queue.h core/queue_kernels.c \
	core/reader_kernels.c core/session_handles.c core/sparse.c \
	core/session_internal.h core/thread_pool.c core/thread_pool.h \
	core/ops/ops.h \
	core/ops/array_ops.c \
	core/ops/slice_ops.c \
	core/ops/math_ops.c \
	core/ops/nn_ops.c \
	core/ops/control_flow_ops.c \
	core/ops/state_ops.c \
	core/ops/random_ops.c \
	core/ops/io_ops.c \
	core/ops/string_ops.c \
	core/ops/parsing_ops.c \
	core/ops/audio_ops.c

# Generated code is compiled apart, without -Werror's stricter warnings.
nodist_core_libkilnproto_la_SOURCES = $(KILN_PROTO_C) $(KILN_PROTO_H)
core_libkilnproto_la_CFLAGS = -std=c11 -fvisibility=hidden $(PROTOBUF_C_CFLAGS)

libkiln_la_SOURCES =
libkiln_la_LIBADD = core/libkilncore.la
libkiln_la_LDFLAGS = -version-info $(KILN_LT_VERSION) -export-symbols-regex '^kiln_' -no-undefined
