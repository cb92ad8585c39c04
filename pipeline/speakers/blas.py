"""One BLAS thread for the small matrices of clustering.

numpy and scipy each bundle OpenBLAS with a pool of one thread per core. For the 256 x 256
eigenproblem and the few-hundred-row products of clustering the pool only costs: on a busy
machine (cores shared) its threads wait for each other, and ``numpy.linalg.eigh`` of a 256 x 256
matrix took 1 to 3 s instead of 20 ms (measured on the 2-core development machine). OpenBLAS
(>= 0.3.27, as numpy 2 and scipy ship) has ``openblas_set_num_threads_local``, which sets the
count for the calling thread only and returns the previous one; it is found in the libraries the
process has loaded. Where it is missing, nothing changes.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Iterator
from functools import cache
from pathlib import Path

SYMBOL = "openblas_set_num_threads_local"


def _libraries() -> tuple[ctypes.CDLL, ...]:
    """The OpenBLAS libraries loaded so far (looked up again when more were loaded)."""
    return _find(_mapped())


def _mapped() -> tuple[str, ...]:
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:  # pragma: no cover - not Linux
        return ()
    return tuple(
        sorted({line.split()[-1] for line in maps.splitlines() if "openblas" in line.lower()})
    )


@cache
def _find(paths: tuple[str, ...]) -> tuple[ctypes.CDLL, ...]:
    libs = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:  # pragma: no cover - a mapping that is not a library
            continue
        if hasattr(lib, SYMBOL):
            getattr(lib, SYMBOL).restype = ctypes.c_int
            getattr(lib, SYMBOL).argtypes = [ctypes.c_int]
            libs.append(lib)
    return tuple(libs)


@contextlib.contextmanager
def blas_threads(count: int = 1) -> Iterator[int]:
    """Run the block with ``count`` OpenBLAS threads (this thread only); yields how many
    libraries were limited."""
    import numpy  # noqa: F401  (loads numpy's OpenBLAS; scipy's, if loaded, is found too)

    libs = _libraries()
    previous = [getattr(lib, SYMBOL)(count) for lib in libs]
    try:
        yield len(libs)
    finally:
        for lib, old in zip(libs, previous, strict=True):
            getattr(lib, SYMBOL)(old)
