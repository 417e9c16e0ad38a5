# kiln-cpu: the CPU backend, a plugin module on OpenBLAS. It sees only the
# public plugin header and never links libkiln.
if BUILD_CPU
plugin_LTLIBRARIES += plugins/cpu/kiln-cpu.la
plugins_cpu_kiln_cpu_la_SOURCES = \
	plugins/cpu/cpu.h \
	plugins/cpu/cpu_plugin.c \
	plugins/cpu/cpu_math.c \
	plugins/cpu/cpu_reduce.c \
	plugins/cpu/cpu_matmul.c \
	plugins/cpu/cpu_nn.c \
	plugins/cpu/cpu_conv.c \
	plugins/cpu/cpu_array.c \
	plugins/cpu/cpu_slice.c \
	plugins/cpu/cpu_random.c \
	plugins/cpu/cpu_io.c \
	plugins/cpu/cpu_sparse.c \
	plugins/cpu/cpu_training.c \
	plugins/common/kernel_shapes.h \
	plugins/common/kernel_shapes.c
plugins_cpu_kiln_cpu_la_CPPFLAGS = -D_GNU_SOURCE -I$(top_srcdir)/include \
	-I$(top_srcdir)/plugins/common
plugins_cpu_kiln_cpu_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(OPENBLAS_CFLAGS)
plugins_cpu_kiln_cpu_la_LIBADD = $(OPENBLAS_LIBS) -lm
plugins_cpu_kiln_cpu_la_LDFLAGS = -module -avoid-version -no-undefined \
	-export-symbols-regex '^kiln_plugin_init$$'
endif
