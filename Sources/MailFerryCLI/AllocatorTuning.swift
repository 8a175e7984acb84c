#if canImport(Glibc)
  import Glibc
#endif

/// Keeps freed message buffers from staying in the process: glibc raises its mmap threshold
/// to the largest block freed so far (up to 32 MiB), after which bodies of a few MiB come
/// from per-thread arenas that keep them once freed. With 8 connections that held as much
/// again as the batches themselves (docs/benchmarks.md, "Peak memory"). A fixed threshold
/// (as `MALLOC_MMAP_THRESHOLD_` sets it) gives every block above it back when it is freed.
enum AllocatorTuning {
  static let mmapThreshold: Int32 = 256 << 10

  static func apply() {
    #if canImport(Glibc)
      // mallopt is declared in <malloc.h>, which Swift's Glibc module does not include.
      typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
      let mmapThresholdParameter: Int32 = -3  // M_MMAP_THRESHOLD
      guard let program = dlopen(nil, RTLD_NOW), let symbol = dlsym(program, "mallopt") else { return }
      _ = unsafeBitCast(symbol, to: MallOpt.self)(mmapThresholdParameter, mmapThreshold)
    #endif
  }
}
