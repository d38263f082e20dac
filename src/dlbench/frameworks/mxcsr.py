"""Flush denormals for a framework that has no switch of its own (Chainer on NumPy, PaddlePaddle on a CPU).

torch.set_flush_denormal(True) sets two bits of the x86 SSE control register (MXCSR) of the calling thread: FTZ
(results that would be subnormal become 0) and DAZ (subnormal inputs are read as 0). This does the same through
glibc's fegetenv/fesetenv, whose x86-64 fenv_t ends with the MXCSR word. MXCSR is per thread: threads created
afterwards inherit it (pthread_create copies the floating-point environment), threads that already exist do not.
Intel's OpenMP runtime (PaddlePaddle's libiomp5) copies the calling thread's MXCSR into its workers at every parallel
region (KMP_INHERIT_FP_CONTROL, on by default); NumPy's OpenBLAS starts its pool when NumPy is imported, so that
pool is restarted (blas_thread_shutdown_: the next BLAS call starts new workers from this thread). Python 3.6-safe.
"""
import ctypes
import ctypes.util
import platform

FTZ_DAZ = 0x8040  # MXCSR bit 15 (flush to zero) and bit 6 (denormals are zero)
MXCSR_WORD = 7    # glibc x86-64 fenv_t: 28 bytes of x87 environment, then the 32-bit MXCSR


def _libm():
    name = ctypes.util.find_library("m")
    return ctypes.CDLL(name) if name else None


def read():
    """This thread's MXCSR (None where this is not x86-64 Linux with glibc)."""
    libm = _libm() if platform.machine() in ("x86_64", "AMD64") else None
    if libm is None:
        return None
    env = (ctypes.c_uint32 * 8)()
    if libm.fegetenv(env) != 0:
        return None
    return int(env[MXCSR_WORD])


def flush_denormals():
    """Set FTZ and DAZ in this thread's MXCSR. Returns how, in words, or None where it cannot (not x86-64 glibc)."""
    libm = _libm() if platform.machine() in ("x86_64", "AMD64") else None
    if libm is None:
        return None
    env = (ctypes.c_uint32 * 8)()
    if libm.fegetenv(env) != 0:
        return None
    env[MXCSR_WORD] |= FTZ_DAZ
    if libm.fesetenv(env) != 0 or (read() or 0) & FTZ_DAZ != FTZ_DAZ:
        return None
    return "MXCSR FTZ+DAZ set on the main thread (glibc fesetenv), as torch.set_flush_denormal does"


def restart_openblas():
    """Stop NumPy's OpenBLAS thread pool: its next threaded call starts new workers from the calling thread, with
    this thread's MXCSR. Returns the library's path (None: no OpenBLAS with that entry point is loaded)."""
    library = _loaded("openblas")
    if library is None:
        return None
    lib = ctypes.CDLL(library)
    if not hasattr(lib, "blas_thread_shutdown_"):
        return None
    lib.blas_thread_shutdown_()
    return library


def openblas_threads():
    """The thread count NumPy's OpenBLAS reports (None: no OpenBLAS loaded)."""
    library = _loaded("openblas")
    if library is None:
        return None
    lib = ctypes.CDLL(library)
    for symbol in ("openblas_get_num_threads64_", "openblas_get_num_threads"):
        if hasattr(lib, symbol):
            return int(getattr(lib, symbol)())
    return None


def _loaded(fragment):
    """The path of a shared library loaded into this process whose file name contains `fragment`."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                if fragment in path.rsplit("/", 1)[-1]:
                    return path
    except (IOError, OSError):
        pass
    return None
