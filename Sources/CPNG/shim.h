#include <png.h>
/* Composite macros such as PNG_FORMAT_RGBA ((A|B)) do not import into Swift;
   re-export them as typed constants. */
static const png_uint_32 SHIM_PNG_FORMAT_GRAY = PNG_FORMAT_GRAY;
static const png_uint_32 SHIM_PNG_FORMAT_GA   = PNG_FORMAT_GA;
static const png_uint_32 SHIM_PNG_FORMAT_RGB  = PNG_FORMAT_RGB;
static const png_uint_32 SHIM_PNG_FORMAT_RGBA = PNG_FORMAT_RGBA;
