#ifndef MAILFERRY_CZLIB_SHIM_H
#define MAILFERRY_CZLIB_SHIM_H
#include <zlib.h>

/// deflateInit2 and inflateInit2 are macros (they pass the library version and
/// struct size); Swift sees these functions instead.
static inline int mf_deflateInit2(z_streamp strm, int level, int windowBits, int memLevel) {
  return deflateInit2(strm, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}
static inline int mf_inflateInit2(z_streamp strm, int windowBits) {
  return inflateInit2(strm, windowBits);
}
#endif
