"""A minimal client of Streamlit's browser protocol, enough to open a page and read what it drew.

It does what the frontend does on load: connect to ``/_stcore/stream`` (subprotocol "streamlit"),
send a ``BackMsg.rerun_script`` carrying the link's query string, then read ``ForwardMsg``s until
``script_finished``. Element types, alert texts and markdown bodies are collected for checks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from dataclasses import dataclass, field

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a fresh thread: works even when this thread already runs an event loop
    (Playwright's sync API, used by the browser tests in the same pytest session, keeps one)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="st-client") as pool:
        return pool.submit(asyncio.run, coro).result()


@dataclass
class PageResult:
    """What one session saw."""

    query: str
    finished: bool = False
    status: str = ""
    element_types: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    markdown: list[str] = field(default_factory=list)
    seconds: float = 0.0
    failure: str = ""

    @property
    def ok(self) -> bool:
        """Finished successfully, no exception element, no error box."""
        return self.finished and self.status == "FINISHED_SUCCESSFULLY" and "exception" not in self.element_types and not self.errors


def rerun_message(query: str, page: str = "") -> bytes:
    """The BackMsg a browser sends when it opens ``/<page>?<query>``."""
    msg = BackMsg()
    msg.rerun_script.query_string = query
    msg.rerun_script.page_script_hash = ""
    msg.rerun_script.page_name = page
    return msg.SerializeToString()


def _record(result: PageResult, msg: ForwardMsg) -> None:
    """Collect element types and texts from one delta."""
    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return
    element = msg.delta.new_element
    kind = element.WhichOneof("type")
    result.element_types.add(kind)
    if kind == "alert":
        target = result.errors if element.alert.format == Alert.ERROR else result.warnings
        target.append(element.alert.body)
    elif kind == "markdown":
        result.markdown.append(element.markdown.body)
    elif kind == "exception":
        result.errors.append(element.exception.message)


async def open_page(port: int, query: str, timeout: float = 90.0, page: str = "") -> PageResult:
    """Open ``/<page>?query`` as a new session and wait for the script to finish (bounded by ``timeout``)."""
    result = PageResult(query)
    start = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            async with connect(
                f"ws://127.0.0.1:{port}/_stcore/stream",
                subprotocols=["streamlit"],
                max_size=64 * 2**20,
                open_timeout=timeout,
            ) as ws:
                await ws.send(rerun_message(query, page))
                async for frame in ws:
                    msg = ForwardMsg()
                    msg.ParseFromString(frame)
                    _record(result, msg)
                    if msg.WhichOneof("type") == "script_finished":
                        result.status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                        result.finished = msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
                        if result.finished:
                            break
    except Exception as error:  # noqa: BLE001 - reported, and the test fails on it
        result.failure = f"{type(error).__name__}: {error}"
    result.seconds = time.monotonic() - start
    return result


async def open_pages(
    port: int, queries: list[str], concurrency: int, timeout: float = 90.0, page: str = ""
) -> list[PageResult]:
    """Open every query (on ``page``), at most ``concurrency`` sessions at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(query: str) -> PageResult:
        async with gate:
            return await open_page(port, query, timeout, page)

    return list(await asyncio.gather(*(one(q) for q in queries)))
