"""Queue rules: the order in which reps take the attempts that are due.

Every entry carries a sort key that means the same in every queue of a run, so a rep who can
take from its own queue and from the shared pool takes whichever head comes first:

- ``fifo``: the entry that joined first (key: the join counter);
- ``lifo``: the entry that joined last (key: minus the join counter);
- ``priority``: the highest lead score, then the one that joined first (key: (-score, counter)).

An entry is an int code (hand-off row * attempts + attempt index). A queue may hold stale
entries (a lead moved elsewhere): the ``alive`` test given at construction skips them.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from typing import Any


class FifoQueue:
    __slots__ = ("_q", "_alive")

    def __init__(self, alive: Callable[[int, Any], bool] | None = None) -> None:
        self._q: deque = deque()
        self._alive = alive

    def put(self, key: Any, code: int) -> None:
        self._q.append((key, code))

    def _clean(self) -> None:
        q, alive = self._q, self._alive
        while q and not alive(q[0][1], self):
            q.popleft()

    def head(self) -> Any:
        """The key of the entry `take` would return (None when empty)."""
        if self._alive is not None:
            self._clean()
        return self._q[0][0] if self._q else None

    def take(self) -> int:
        if self._alive is not None:
            self._clean()
        return self._q.popleft()[1]

    def __len__(self) -> int:
        if self._alive is not None:
            self._clean()
        return len(self._q)


class LifoQueue(FifoQueue):
    __slots__ = ()

    def _clean(self) -> None:
        q, alive = self._q, self._alive
        while q and not alive(q[-1][1], self):
            q.pop()

    def head(self) -> Any:
        if self._alive is not None:
            self._clean()
        return self._q[-1][0] if self._q else None

    def take(self) -> int:
        if self._alive is not None:
            self._clean()
        return self._q.pop()[1]


class PriorityQueue:
    __slots__ = ("_q", "_alive")

    def __init__(self, alive: Callable[[int, Any], bool] | None = None) -> None:
        self._q: list = []
        self._alive = alive

    def put(self, key: Any, code: int) -> None:
        heapq.heappush(self._q, (key, code))

    def _clean(self) -> None:
        q, alive = self._q, self._alive
        while q and not alive(q[0][1], self):
            heapq.heappop(q)

    def head(self) -> Any:
        if self._alive is not None:
            self._clean()
        return self._q[0][0] if self._q else None

    def take(self) -> int:
        if self._alive is not None:
            self._clean()
        return heapq.heappop(self._q)[1]

    def __len__(self) -> int:
        if self._alive is not None:
            self._clean()
        return len(self._q)


QUEUES = {"fifo": FifoQueue, "lifo": LifoQueue, "priority": PriorityQueue}
Queue = FifoQueue | LifoQueue | PriorityQueue


def make_queue(discipline: str, alive: Callable[[int, Any], bool] | None = None) -> Queue:
    """An empty queue of ``discipline`` (fifo, lifo or priority)."""
    return QUEUES[discipline](alive)


def key_maker(discipline: str) -> Callable[[int, float], Any]:
    """``key(counter, score)``: the sort key of an entry that joins as the ``counter``-th."""
    if discipline == "fifo":
        return lambda counter, score: counter
    if discipline == "lifo":
        return lambda counter, score: -counter
    return lambda counter, score: (-score, counter)
