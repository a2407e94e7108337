/* LAME's config.h for video2mp3's build of libmp3lame (see PATCHED.md).
 *
 * It holds what LAME's own `configure` finds on Linux with gcc or clang (the headers the library
 * includes), and what that configure turns on for x86 CPUs. One addition: MIN_ARCH_SSE on CPUs
 * with SSE2 (every x86_64), which LAME's configure never sets, so a Linux build never used LAME's
 * SSE code (the windows x64 build does, through _M_X64).
 */
#ifndef LAME_CONFIG_H
#define LAME_CONFIG_H

#define STDC_HEADERS 1
#define HAVE_STDINT_H 1
#define HAVE_INTTYPES_H 1
#define HAVE_ERRNO_H 1
#define HAVE_FCNTL_H 1
#define HAVE_STRCHR 1
#define HAVE_MEMCPY 1
#define LAME_LIBRARY_BUILD 1
#define PACKAGE "lame"
#define VERSION "3.100"

/* the types configure adds (int8_t and the like come from <stdint.h>) */
typedef float ieee754_float32_t;
typedef double ieee754_float64_t;

#if defined(__x86_64__) || defined(__i386__)
/* configure.in, `case $host_cpu in x86_64|amd64|*86)` */
# define TAKEHIRO_IEEE754_HACK 1
# define USE_FAST_LOG 1
#endif

#if defined(__SSE2__)
/* init_xrpow_core_sse and fht_SSE2 (libmp3lame/vector/xmm_quantize_sub.c) */
# define HAVE_XMMINTRIN_H 1
# define MIN_ARCH_SSE 1
#endif

#endif /* LAME_CONFIG_H */
