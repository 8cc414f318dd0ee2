/*
 * atomic.h — the few atomic operations the runtime uses, in one place, so the
 * memory-order choices are visible and reviewable.
 */
#ifndef SKIFF_ATOMIC_H
#define SKIFF_ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>

#define ATOM_INT atomic_int
#define ATOM_UINT atomic_uint
#define ATOM_SIZET atomic_size_t
#define ATOM_ULONG atomic_ulong
#define ATOM_POINTER atomic_uintptr_t
#define ATOM_BOOL atomic_bool

#define ATOM_INIT(p, v) atomic_init(p, v)
#define ATOM_LOAD(p) atomic_load(p)
#define ATOM_STORE(p, v) atomic_store(p, v)
#define ATOM_CAS(p, oldv, newv)                                                                              \
	({                                                                                                   \
		__typeof__(oldv) o_ = (oldv);                                                                \
		atomic_compare_exchange_strong(p, &o_, newv);                                                \
	})
#define ATOM_FINC(p) atomic_fetch_add(p, 1)
#define ATOM_FDEC(p) atomic_fetch_sub(p, 1)
#define ATOM_FADD(p, n) atomic_fetch_add(p, n)
#define ATOM_FSUB(p, n) atomic_fetch_sub(p, n)

#endif
