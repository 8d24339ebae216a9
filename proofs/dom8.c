/* proofs/dom8.c — the abstract domains compiled at 8 bits (dom_inst.h). */
#define VFM_DOMAIN_BITS 8
#define VFM_DOM_PREFIX d8_
#define VFM_DOM_TABLE vfm_dom8
#include "dom_inst.h"
