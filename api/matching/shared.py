"""One copy of each match index per host: segments in shared memory, written by one follower.

Every worker of a host ranks over the same arrays. The *follower*, the process holding the
host's lock file, makes the full copies and the merges and *publishes* each as a segment:
one file in the host's run directory (tmpfs, `/dev/shm`, when it has room) holding the
batch's arrays one after another, named by a small pointer file (`<kind>.json`) that also
holds the snapshot its rows are current to (`State`). Every process maps the newest
segment read-only (`MAP_SHARED`, its page tables filled at map time): the kernel keeps one
copy of the pages, shared by all the workers (`sync.py` says how each follows the log from
there).

- *Swaps.* A segment is written whole under a temporary name and renamed; then the pointer
  is replaced (`os.replace`, atomic) and older segment files are unlinked. A reader opens
  only a file the pointer names, so it never sees a half-written one; a file unlinked
  between its reading the pointer and opening the file makes it read the pointer again;
  a segment it has mapped stays valid until its last array is let go, when the kernel
  frees the pages (no reader left).
- *The follower* of a kind holds an exclusive `flock` on `<kind>.lock`: the kernel
  releases it when that process exits or dies, and the next process to try takes over
  (each worker's background task tries every round, a merge or a request that needs a
  copy tries too). A process without that background task (tools, a test's bare index)
  takes it only while it copies or merges. One lock per kind, so that at start-up two
  workers make the two first copies side by side.
- *Asking for a copy.* A worker whose request needs a newer segment than the one published
  (after a TRUNCATE, say) touches `wanted-<kind>` and waits; the follower looks at it every tick.
- The run directory is `MATCH_INDEX_DIR` (`briefboard serve` makes one per server and
  removes it at exit), else a private one per app, removed when the app stops: a single
  process then is its own follower, by the same code.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import fcntl
import json
import mmap
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

_MAGIC = b"BBSEG001"
_ALIGN = 64
# How often a waiting process looks for a newer segment (and the follower for `wanted`).
TICK_SECONDS = 0.05
# tmpfs is used when it has at least this much room; else the system's temporary directory
# (disk-backed files: the mapped pages are still one page-cache copy).
# (mkdtemp makes each run directory private to its user: mode 0700.)
_SHM = Path("/dev/shm")  # noqa: S108
_SHM_ROOM = 1 << 30


def run_directory_base() -> str:
    """Where run directories go: tmpfs when it has room, else the temporary directory."""
    with contextlib.suppress(OSError):
        if _SHM.is_dir() and shutil.disk_usage(_SHM).free >= _SHM_ROOM:
            return str(_SHM)
    return tempfile.gettempdir()


def make_run_directory() -> str:
    return tempfile.mkdtemp(prefix="briefboard-index-", dir=run_directory_base())


@dataclass(frozen=True)
class State:
    """What a copy's rows are current to: the database (`identity`: the state table's oid,
    new when the schema is rebuilt) and its `generation`, and a snapshot (`xmin`, `xmax`,
    `xip`): the copy holds every change of the transactions the snapshot sees."""

    identity: int
    generation: int
    xmin: int
    xmax: int
    xip: tuple[int, ...]

    @classmethod
    def of(cls, head: Mapping[str, Any]) -> State:
        return cls(
            int(head["_identity"]),
            int(head["_generation"]),
            int(head["_xmin"]),
            int(head["_xmax"]),
            tuple(int(x) for x in head["_xip"]),
        )

    def is_before(self, other: State) -> bool:
        return self.xmax < other.xmax or (self.xmax == other.xmax and self.xmin < other.xmin)


@dataclass(frozen=True)
class Pointer:
    """The newest published segment of a kind: its number, file and state."""

    seq: int
    file: str
    state: State
    published_at: float

    @classmethod
    def parse(cls, text: str) -> Pointer:
        raw = json.loads(text)
        state = raw["state"]
        return cls(
            int(raw["seq"]),
            str(raw["file"]),
            State(
                state["identity"],
                state["generation"],
                state["xmin"],
                state["xmax"],
                tuple(state["xip"]),
            ),
            float(raw["published_at"]),
        )

    def dump(self) -> str:
        return json.dumps(
            {
                "seq": self.seq,
                "file": self.file,
                "state": asdict(self.state) | {"xip": list(self.state.xip)},
                "published_at": self.published_at,
            }
        )


# Every open Host of a directory in this process: a request waiting for a copy wakes the
# follower at once when it is in the same process (as in tests with two apps).
_WAKERS: dict[str, weakref.WeakSet[Host]] = {}


class Host:
    """A run directory and this process's part in it (see the module's docstring). Created
    without a directory, it makes a private one on first use and removes it on `close`."""

    def __init__(self, directory: str | None = None) -> None:
        self._given = directory
        self._directory: Path | None = None
        self._locks: dict[str, Any] = {}  # kind: the open lock file this Host holds
        self.following = False  # a background task keeps this process a follower
        self._leading: dict[str, int] = {}  # copies and merges under way (they keep the lock)
        self._publishing = threading.Lock()
        self._wake: dict[str, asyncio.Event] = {}  # kind: set when a copy is asked for here
        self._wanted_seen: dict[str, int] = {}

    @property
    def directory(self) -> Path:
        if self._directory is None:
            if self._given is None:
                self._directory = Path(make_run_directory())
                weakref.finalize(self, shutil.rmtree, self._directory, True)
            else:
                self._directory = Path(self._given)
                self._directory.mkdir(parents=True, exist_ok=True)
            _WAKERS.setdefault(str(self._directory), weakref.WeakSet()).add(self)
        return self._directory

    # --- the followers' locks ---

    def leads(self, kind: str) -> bool:
        return kind in self._locks

    def lead(self, kind: str) -> bool:
        """Take the follower's lock of `kind` if nobody holds it; whether this Host holds
        it. (One lock per kind: two workers can make the two first copies side by side.)"""
        if kind not in self._locks:
            handle = open(self.directory / f"{kind}.lock", "a+b")  # noqa: SIM115
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return False
            self._locks[kind] = handle
        return True

    def release(self, kind: str) -> None:
        handle = self._locks.pop(kind, None)
        if handle is not None:
            handle.close()  # closing the file releases the lock

    @contextlib.contextmanager
    def leading(self, kind: str) -> Iterator[bool]:
        """Whether this process is (or has now become) the follower of `kind`, held as such
        for the block; a process with no background follower task holds the lock only while
        it copies or merges."""
        if not self.lead(kind):
            yield False
            return
        self._leading[kind] = self._leading.get(kind, 0) + 1
        try:
            yield True
        finally:
            self._leading[kind] -= 1
            if not self._leading[kind] and not self.following:
                self.release(kind)

    def close(self) -> None:
        for kind in list(self._locks):
            self.release(kind)
        self.following = False
        if self._given is None and self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)

    # --- asking the follower, and waiting ---

    def want(self, kind: str) -> None:
        """Ask the follower of `kind` for a round now (a newer segment than the published
        one)."""
        (self.directory / f"wanted-{kind}").touch()
        for host in list(_WAKERS.get(str(self.directory), ())):
            host._wake.setdefault(kind, asyncio.Event()).set()

    def wanted(self, kind: str) -> bool:
        """Whether a round of `kind` was asked for since this Host last looked."""
        try:
            stamp = (self.directory / f"wanted-{kind}").stat().st_mtime_ns
        except FileNotFoundError:
            return False
        asked = stamp != self._wanted_seen.get(kind, 0)
        self._wanted_seen[kind] = stamp
        return asked

    async def tick(self, kind: str, seconds: float = TICK_SECONDS) -> None:
        """Sleep for `seconds`, or until `want(kind)` is called in this process."""
        wake = self._wake.setdefault(kind, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), seconds)
        wake.clear()

    # --- segments ---

    def latest(self, kind: str) -> Pointer | None:
        try:
            return Pointer.parse((self.directory / f"{kind}.json").read_text())
        except (FileNotFoundError, ValueError, KeyError):
            return None

    def publish(
        self,
        kind: str,
        arrays: Mapping[str, np.ndarray],
        meta: Mapping[str, Any],
        state: State,
        *,
        replacing: Pointer | None,
    ) -> Pointer | None:
        """Write a segment of `arrays` (and `meta`, JSON) current to `state` and point to
        it, if the published one is still `replacing` (else None: a newer one was published
        meanwhile); older segments of `kind` are unlinked. Only the follower calls it."""
        assert self.leads(kind), "only the follower publishes"
        with self._publishing:
            latest = self.latest(kind)
            if latest != replacing:
                return None
            seq = (latest.seq if latest else 0) + 1
            name = f"{kind}-{seq}.seg"
            temporary = self.directory / f".{name}.{os.getpid()}.tmp"
            write_segment(temporary, arrays, meta)
            os.replace(temporary, self.directory / name)
            return self._point(kind, Pointer(seq, name, state, time.time()))

    def republish(self, kind: str, pointer: Pointer, state: State) -> Pointer | None:
        """Point to the same segment as current to a later `state` (its rows unchanged),
        if it is still the published one."""
        with self._publishing:
            if self.latest(kind) != pointer:
                return None
            return self._point(kind, Pointer(pointer.seq + 1, pointer.file, state, time.time()))

    def _point(self, kind: str, pointer: Pointer) -> Pointer:
        temporary = self.directory / f".{kind}.json.{os.getpid()}.tmp"
        temporary.write_text(pointer.dump())
        os.replace(temporary, self.directory / f"{kind}.json")
        for old in self.directory.glob(f"{kind}-*.seg"):
            if old.name != pointer.file:
                old.unlink(missing_ok=True)
        return pointer

    def open(self, pointer: Pointer) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """The segment's arrays (read-only views of its shared pages) and meta; None when
        its file was unlinked meanwhile (a newer one is published: read the pointer again)."""
        try:
            return map_segment(self.directory / pointer.file)
        except FileNotFoundError:
            return None


def write_segment(path: Path, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
    layout: list[tuple[str, str, list[int], int]] = []
    offset = 0
    for name, array in arrays.items():
        offset = -(-offset // _ALIGN) * _ALIGN
        layout.append((name, array.dtype.str, list(array.shape), offset))
        offset += array.nbytes
    header = json.dumps({"arrays": layout, "meta": meta}).encode()
    start = -(-(len(_MAGIC) + 8 + len(header)) // _ALIGN) * _ALIGN
    with open(path, "wb") as f:
        f.write(_MAGIC + len(header).to_bytes(8, "little") + header)
        for (_, _, _, at), array in zip(layout, arrays.values(), strict=True):
            f.seek(start + at)
            f.write(np.ascontiguousarray(array).data)
        f.truncate(start + offset)


def map_segment(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    with open(path, "rb") as f:
        # Page tables filled now (in the caller's thread), not by the first requests.
        memory = mmap.mmap(
            f.fileno(), 0, flags=mmap.MAP_SHARED | mmap.MAP_POPULATE, prot=mmap.PROT_READ
        )
    if memory[: len(_MAGIC)] != _MAGIC:
        raise ValueError(f"{path} is not a segment")
    size = int.from_bytes(memory[len(_MAGIC) : len(_MAGIC) + 8], "little")
    header = json.loads(memory[len(_MAGIC) + 8 : len(_MAGIC) + 8 + size])
    start = -(-(len(_MAGIC) + 8 + size) // _ALIGN) * _ALIGN
    arrays = {}
    for name, dtype, shape, at in header["arrays"]:
        count = int(np.prod(shape)) if shape else 1
        array = np.frombuffer(memory, dtype=np.dtype(dtype), count=count, offset=start + at)
        arrays[name] = array.reshape(shape)
    return arrays, header["meta"]


_LIBC = ctypes.util.find_library("c")


def settle() -> None:
    """After a copy: return freed heap to the system (glibc keeps it otherwise: ~300 MB at a
    million creators). The copy's arrays are no Python objects (the garbage collector never
    walks them); what start-up built is frozen once per process (`api.main`)."""
    if _LIBC:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(_LIBC).malloc_trim(0)
