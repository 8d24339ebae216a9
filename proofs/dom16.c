/* proofs/dom16.c — the abstract domains compiled at 16 bits (dom_inst.h). */
#define VFM_DOMAIN_BITS 16
#define VFM_DOM_PREFIX d16_
#define VFM_DOM_TABLE vfm_dom16
#include "dom_inst.h"
