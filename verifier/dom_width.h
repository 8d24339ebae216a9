/*
 * verifier/dom_width.h — the word width of the abstract domain's operators
 * (verifier/tnum.c, interval.c, aval.c).  The library uses 64 bits; the
 * tests and proofs include those files again with VFM_DOMAIN_BITS 8 or 16
 * (proofs/dom_inst.h), so this header has no include guard.
 */
#ifndef VFM_DOMAIN_BITS
#define VFM_DOMAIN_BITS 64
#endif
#ifndef VFM_DOM_M
/* All ones at the domain's width. */
#define VFM_DOM_M (UINT64_MAX >> (64 - VFM_DOMAIN_BITS))
#endif
