"""A TCP proxy for fault injection in tests: clients connect to it, it forwards to one
upstream (the broker), and faults can be switched on and off while traffic flows.

Faults (each applies only to connections the ``faulty`` predicate picked at accept time,
by default every connection):

- latency: every chunk, either way, waits ``ms`` before it is forwarded;
- reset: every current connection is aborted with a TCP RST (SO_LINGER 0), so both ends
  see "connection reset by peer";
- blackhole: for a while, connections are accepted and bytes are read but nothing is
  forwarded (held in order); afterwards the held bytes flow on ("resume") or every
  connection is reset ("reset").

The proxy runs its own asyncio event loop in a daemon thread; every public method is
called from other threads and is thread-safe.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, TypeVar

Peer = tuple[str, int]
T = TypeVar("T")
_CHUNK = 64 * 1024


@dataclass
class Stats:
    """Counters, for tests to check that a fault really hit something."""

    accepted: int = 0
    faulty: int = 0  # of the accepted, those the faults apply to
    active: int = 0
    reset: int = 0
    bytes_forwarded: int = 0


@dataclass(eq=False)
class _Link:
    """One client connection and its upstream connection."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    faulty: bool
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def _abort_with_rst(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    """Forwards ``host:port`` (a free loopback port by default) to ``upstream``."""

    def __init__(
        self,
        upstream: Peer,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faulty: Callable[[Peer], bool] | None = None,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.upstream = upstream
        self.host = host
        self.port = port
        self.stats = Stats()
        self._faulty = faulty or (lambda _peer: True)
        self._connect_timeout_s = connect_timeout_s
        self._latency_s = 0.0
        self._links: set[_Link] = set()
        self._handlers: set[asyncio.Task[Any]] = set()  # one per accepted connection
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._flowing: asyncio.Event | None = None  # cleared while blackholed
        self._blackhole_end: asyncio.TimerHandle | None = None
        self._blackhole_done: concurrent.futures.Future[None] | None = None

    @property
    def address(self) -> str:
        """host:port for clients (and for the broker to advertise)."""
        return f"{self.host}:{self.port}"

    # -- lifecycle (any thread) --

    def start(self, timeout_s: float = 5.0) -> FaultProxy:
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name=f"fault-proxy->{self.upstream}", daemon=True
        )
        self._thread.start()
        ready.result(timeout_s)
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Close the listener, reset every connection, end the loop and its thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError, concurrent.futures.TimeoutError):
            self._call(self._shutdown(), timeout_s)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout_s)
        self._loop = self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- faults (any thread) --

    def set_latency(self, ms: float) -> None:
        """Delay every chunk by ``ms`` milliseconds from now on (0: no delay)."""
        if ms < 0:
            raise ValueError("latency must be >= 0")
        self._latency_s = ms / 1000.0  # a float store is atomic; pumps read it per chunk

    def reset_all(self, timeout_s: float = 5.0) -> int:
        """Abort every current (faulty) connection with a RST; how many were reset."""
        return self._call(self._now(self._reset), timeout_s)

    def blackhole(
        self, seconds: float, then: Literal["resume", "reset"] = "resume", timeout_s: float = 5.0
    ) -> concurrent.futures.Future[None]:
        """Hold every byte for ``seconds``, then let the held bytes flow or reset every
        connection. Returns at once; the future is done when traffic flows again."""
        if seconds <= 0:
            raise ValueError("a blackhole lasts > 0 s")
        return self._call(self._now(lambda: self._start_blackhole(seconds, then)), timeout_s)

    def clear(self, timeout_s: float = 5.0) -> None:
        """No latency, and an ongoing blackhole ends now (held bytes flow on)."""
        self._latency_s = 0.0
        self._call(self._now(lambda: self._end_blackhole("resume")), timeout_s)

    @property
    def blackholed(self) -> bool:
        return self._flowing is not None and not self._flowing.is_set()

    # -- the event loop's side --

    @staticmethod
    async def _now(fn: Callable[[], T]) -> T:
        """Run ``fn`` on the loop's thread (what ``_call`` schedules)."""
        return fn()

    def _call(self, coro: Coroutine[Any, Any, T], timeout_s: float) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the proxy is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)

    def _run(self, ready: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            self._flowing = asyncio.Event()
            self._flowing.set()
            self._server = loop.run_until_complete(
                asyncio.start_server(self._accept, self.host, self.port)
            )
            self.port = int(self._server.sockets[0].getsockname()[1])
            self._loop = loop
        except BaseException as e:
            ready.set_exception(e)
            loop.close()
            return
        ready.set_result(None)
        try:
            loop.run_forever()
        finally:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self._closing = True
        self._end_blackhole("resume")
        for link in list(self._links):
            self._kill(link)
        if self._handlers:  # let them end on their own: cancelling one upsets asyncio.streams
            await asyncio.wait(self._handlers, timeout=2.0)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        try:
            await self._serve(reader, writer)
        finally:
            self._handlers.discard(handler)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.accepted += 1
        peer = writer.get_extra_info("peername")
        faulty = bool(self._faulty((str(peer[0]), int(peer[1]))))
        self.stats.faulty += faulty
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(*self.upstream), self._connect_timeout_s
            )
        except (OSError, TimeoutError):
            _abort_with_rst(writer)
            return
        if self._closing:
            _abort_with_rst(writer)
            _abort_with_rst(up_writer)
            return
        link = _Link(writer, up_writer, faulty)
        self._links.add(link)
        self.stats.active += 1
        link.tasks = [
            asyncio.create_task(self._pump(reader, up_writer, faulty)),
            asyncio.create_task(self._pump(up_reader, writer, faulty)),
        ]
        try:
            await asyncio.wait(link.tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:  # one side closed (or was reset): so is the other
            self._links.discard(link)
            self.stats.active -= 1
            for task in link.tasks:
                task.cancel()
            await asyncio.gather(*link.tasks, return_exceptions=True)
            for w in (link.client, link.upstream):
                w.close()
                with contextlib.suppress(OSError):
                    await w.wait_closed()

    async def _pump(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, faulty: bool
    ) -> None:
        assert self._flowing is not None
        try:
            while chunk := await src.read(_CHUNK):
                if faulty:
                    await self._flowing.wait()
                    if self._latency_s > 0:
                        await asyncio.sleep(self._latency_s)
                        await self._flowing.wait()  # a blackhole may have begun meanwhile
                dst.write(chunk)
                await dst.drain()
                self.stats.bytes_forwarded += len(chunk)
        except (ConnectionError, OSError):
            return

    def _kill(self, link: _Link) -> None:
        self._links.discard(link)
        for w in (link.client, link.upstream):
            _abort_with_rst(w)
        for task in link.tasks:
            task.cancel()

    def _reset(self) -> int:
        victims = [link for link in self._links if link.faulty]
        for link in victims:
            self._kill(link)
        self.stats.reset += len(victims)
        return len(victims)

    def _start_blackhole(
        self, seconds: float, then: Literal["resume", "reset"]
    ) -> concurrent.futures.Future[None]:
        assert self._flowing is not None and self._loop is not None
        self._end_blackhole("resume")  # a new blackhole replaces an ongoing one
        self._flowing.clear()
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._blackhole_done = done
        self._blackhole_end = self._loop.call_later(seconds, self._end_blackhole, then)
        return done

    def _end_blackhole(self, then: Literal["resume", "reset"]) -> None:
        assert self._flowing is not None
        if self._blackhole_end is not None:
            self._blackhole_end.cancel()
            self._blackhole_end = None
        if self._flowing.is_set():
            return
        if then == "reset":
            self._reset()
        self._flowing.set()
        if self._blackhole_done is not None:
            self._blackhole_done.set_result(None)
            self._blackhole_done = None
