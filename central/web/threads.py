"""Blocking calls (the store, the file system) off the event loop, on a pool of threads.

asyncio's own executor hand-over (``loop.run_in_executor``): Starlette's
``run_in_threadpool`` goes through anyio (a capacity limiter, a cancel scope, sniffio and
a queue per call) and cost several times more CPU per call, measured
(``benchmarks/central_cpu.py``). The bound on blocking calls at once is kept: 40 threads,
anyio's default.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

MAX_THREADS = 40

R = TypeVar("R")

_executor = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="central-call")


async def blocking(fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
    """``fn(*args, **kwargs)`` run on a pool thread; its result (or its exception)."""
    call = functools.partial(fn, *args, **kwargs) if kwargs else fn
    return await asyncio.get_running_loop().run_in_executor(
        _executor, call, *(() if kwargs else args))
