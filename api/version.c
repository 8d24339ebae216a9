/*
 * api/version.c — vfm_version(): the version of the library that is
 * running, which a program compares with the VFM_VERSION_NUMBER it was
 * compiled with (include/vfm.h states what a minor and a major version may
 * change).  Its own file so the version lives in the header alone.
 */
#include "vfm.h"

_Static_assert(VFM_VERSION_MINOR < 256 && VFM_VERSION_PATCH < 256,
	       "VFM_VERSION_NUMBER packs minor and patch in 8 bits each");

VFM_API uint32_t vfm_version(void)
{
	return VFM_VERSION_NUMBER;
}
