# cmocka suites, one per area. Each prints TAP (CMOCKA_MESSAGE_OUTPUT=TAP)
# so the harness counts test cases, not programs. KILN_VALGRIND=1 runs each
# suite under valgrind (tests/run-test.sh).
KILN_TESTS = \
	tests/test_status \
	tests/test_tensor \
	tests/test_graph \
	tests/test_op_registry \
	tests/test_ops \
	tests/test_array_ops \
	tests/test_builders \
	tests/test_graph_def \
	tests/test_tensor_proto \
	tests/test_cpu_math \
	tests/test_cpu_nn \
	tests/test_cpu_array \
	tests/test_cpu_io \
	tests/test_cpu_sparse \
	tests/test_run_metadata \
	tests/test_session_run \
	tests/test_partial_run \
	tests/test_callable \
	tests/test_default_session \
	tests/test_close_reset \
	tests/test_executor_concurrency \
	tests/test_placement \
	tests/test_devices \
	tests/test_variables \
	tests/test_queues \
	tests/test_readers \
	tests/test_session_handles \
	tests/test_training \
	tests/test_cpu_training \
	tests/test_sparse \
	tests/test_strings

if HAVE_CMOCKA
check_PROGRAMS += $(KILN_TESTS)
TESTS += $(KILN_TESTS) examples/check-examples.sh tests/test_plugin_template.sh
else
check-local:
	@echo "make check needs cmocka (libcmocka-dev); ./bootstrap.sh check installs it" >&2; exit 1
endif

TEST_EXTENSIONS =
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
LOG_COMPILER = $(top_builddir)/tests/run-test.sh
AM_TESTS_ENVIRONMENT = CMOCKA_MESSAGE_OUTPUT=TAP; export CMOCKA_MESSAGE_OUTPUT; \
	ASAN_OPTIONS=allocator_may_return_null=1; export ASAN_OPTIONS; \
	KILN_SRCDIR='$(abs_top_srcdir)'; export KILN_SRCDIR; \
	KILN_PLUGIN_PATH='$(abs_top_builddir)/plugins/cpu/.libs'; export KILN_PLUGIN_PATH; \
	XDG_CONFIG_HOME='$(abs_top_builddir)/tests'; export XDG_CONFIG_HOME; \
	KILN_BUILDDIR='$(abs_top_builddir)'; export KILN_BUILDDIR; \
	KILN_PKGCONFIGDIR='$(pkgconfigdir)'; KILN_LIBDIR='$(libdir)'; \
	KILN_PLUGINDIR='$(plugindir)'; export KILN_PKGCONFIGDIR KILN_LIBDIR KILN_PLUGINDIR; \
	KILN_SAN_FLAGS='$(KILN_SAN_FLAGS)'; export KILN_SAN_FLAGS; \
	unset KILN_CONFIG KILN_PLUGINS;
EXTRA_DIST += tests/testutil.h tests/sessionutil.h tests/test_plugin_template.sh \
	examples/plugin-template/Makefile examples/plugin-template/demo.c \
	examples/plugin-template/example_plugin.c examples/plugin-template/kiln.conf

KILN_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(PROTOBUF_C_CFLAGS)
KILN_TEST_LIBS = core/libkilncore.la $(CMOCKA_LIBS)

tests_test_status_SOURCES = tests/test_status.c tests/testutil.h
tests_test_status_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_status_LDADD = $(KILN_TEST_LIBS)
tests_test_tensor_SOURCES = tests/test_tensor.c tests/testutil.h
tests_test_tensor_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_tensor_LDADD = $(KILN_TEST_LIBS)
tests_test_graph_SOURCES = tests/test_graph.c tests/testutil.h
tests_test_graph_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_graph_LDADD = $(KILN_TEST_LIBS)
tests_test_ops_SOURCES = tests/test_ops.c tests/opsutil.h tests/testutil.h
tests_test_ops_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_ops_LDADD = $(KILN_TEST_LIBS)
tests_test_graph_def_SOURCES = tests/test_graph_def.c tests/testutil.h
tests_test_graph_def_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_graph_def_LDADD = $(KILN_TEST_LIBS)
tests_test_op_registry_SOURCES = tests/test_op_registry.c tests/testutil.h
tests_test_op_registry_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_op_registry_LDADD = $(KILN_TEST_LIBS)
tests_test_builders_SOURCES = tests/test_builders.c tests/testutil.h
tests_test_builders_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_builders_LDADD = $(KILN_TEST_LIBS)
tests_test_tensor_proto_SOURCES = tests/test_tensor_proto.c tests/testutil.h
tests_test_tensor_proto_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_tensor_proto_LDADD = $(KILN_TEST_LIBS)
tests_test_array_ops_SOURCES = tests/test_array_ops.c tests/opsutil.h tests/testutil.h
tests_test_array_ops_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_array_ops_LDADD = $(KILN_TEST_LIBS)
tests_test_cpu_math_SOURCES = tests/test_cpu_math.c tests/testutil.h
tests_test_cpu_math_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_cpu_math_LDADD = $(KILN_TEST_LIBS)
tests_test_cpu_nn_SOURCES = tests/test_cpu_nn.c tests/testutil.h
tests_test_cpu_nn_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_cpu_nn_LDADD = $(KILN_TEST_LIBS)
tests_test_cpu_array_SOURCES = tests/test_cpu_array.c tests/testutil.h
tests_test_cpu_array_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_cpu_array_LDADD = $(KILN_TEST_LIBS)
tests_test_cpu_io_SOURCES = tests/test_cpu_io.c tests/fileutil.h tests/sessionutil.h tests/testutil.h
tests_test_cpu_io_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_cpu_io_LDADD = $(KILN_TEST_LIBS)
tests_test_cpu_sparse_SOURCES = tests/test_cpu_sparse.c tests/sessionutil.h tests/testutil.h
tests_test_cpu_sparse_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_cpu_sparse_LDADD = $(KILN_TEST_LIBS)
tests_test_run_metadata_SOURCES = tests/test_run_metadata.c tests/testutil.h
tests_test_run_metadata_CFLAGS = $(KILN_TEST_CFLAGS) $(JANSSON_CFLAGS)
tests_test_run_metadata_LDADD = $(KILN_TEST_LIBS) $(JANSSON_LIBS)
tests_test_session_run_SOURCES = tests/test_session_run.c tests/sessionutil.h tests/testutil.h
tests_test_session_run_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_session_run_LDADD = $(KILN_TEST_LIBS)
tests_test_partial_run_SOURCES = tests/test_partial_run.c tests/sessionutil.h tests/testutil.h
tests_test_partial_run_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_partial_run_LDADD = $(KILN_TEST_LIBS)
tests_test_callable_SOURCES = tests/test_callable.c tests/sessionutil.h tests/testutil.h
tests_test_callable_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_callable_LDADD = $(KILN_TEST_LIBS)
tests_test_default_session_SOURCES = tests/test_default_session.c tests/sessionutil.h tests/testutil.h
tests_test_default_session_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_default_session_LDADD = $(KILN_TEST_LIBS)
tests_test_close_reset_SOURCES = tests/test_close_reset.c tests/sessionutil.h tests/testutil.h
tests_test_close_reset_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_close_reset_LDADD = $(KILN_TEST_LIBS)
tests_test_executor_concurrency_SOURCES = tests/test_executor_concurrency.c tests/sessionutil.h tests/testutil.h
tests_test_executor_concurrency_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_executor_concurrency_LDADD = $(KILN_TEST_LIBS)
tests_test_placement_SOURCES = tests/test_placement.c tests/sessionutil.h tests/testutil.h
tests_test_placement_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_placement_LDADD = $(KILN_TEST_LIBS)
tests_test_devices_SOURCES = tests/test_devices.c tests/sessionutil.h tests/testutil.h
tests_test_devices_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_devices_LDADD = $(KILN_TEST_LIBS)

tests_test_variables_SOURCES = tests/test_variables.c tests/sessionutil.h tests/testutil.h
tests_test_variables_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_variables_LDADD = $(KILN_TEST_LIBS)
tests_test_queues_SOURCES = tests/test_queues.c tests/sessionutil.h tests/testutil.h
tests_test_queues_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_queues_LDADD = $(KILN_TEST_LIBS)
tests_test_readers_SOURCES = tests/test_readers.c tests/fileutil.h tests/sessionutil.h tests/testutil.h
tests_test_readers_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_readers_LDADD = $(KILN_TEST_LIBS)
tests_test_session_handles_SOURCES = tests/test_session_handles.c tests/sessionutil.h tests/testutil.h
tests_test_session_handles_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_session_handles_LDADD = $(KILN_TEST_LIBS)
tests_test_training_SOURCES = tests/test_training.c tests/sessionutil.h tests/testutil.h
tests_test_training_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_training_LDADD = $(KILN_TEST_LIBS)
tests_test_cpu_training_SOURCES = tests/test_cpu_training.c tests/sessionutil.h tests/testutil.h
tests_test_cpu_training_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_cpu_training_LDADD = $(KILN_TEST_LIBS)
tests_test_sparse_SOURCES = tests/test_sparse.c tests/sessionutil.h tests/testutil.h
tests_test_sparse_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_sparse_LDADD = $(KILN_TEST_LIBS)
tests_test_strings_SOURCES = tests/test_strings.c tests/sessionutil.h tests/testutil.h
tests_test_strings_CFLAGS = $(KILN_TEST_CFLAGS)
tests_test_strings_LDADD = $(KILN_TEST_LIBS)
