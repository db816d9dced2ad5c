/* malloc_count.c: an LD_PRELOAD library that counts malloc calls (operator new included) and
 * prints the total at exit, for bench/probe_allocs.sh. */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
static atomic_long calls;

void *malloc(size_t size) {
  atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
  return __libc_malloc(size);
}

__attribute__((destructor)) static void report(void) {
  char line[64];
  int n = snprintf(line, sizeof line, "MALLOC_CALLS %ld\n", (long)atomic_load(&calls));
  if (n > 0) (void)!write(2, line, (size_t)n);
}
