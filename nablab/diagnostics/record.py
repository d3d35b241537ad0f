"""Bounded records: a run of any length keeps at most ``capacity`` entries."""

from __future__ import annotations


class Thinned:
    """(step, value) pairs, thinned as they come: every one is kept until ``capacity`` are
    held, then every 2nd (by arrival), then every 4th… so memory stays below ``capacity``
    entries however many are added, and what is kept spans the whole run evenly."""

    def __init__(self, capacity: int = 4096):
        if capacity < 2:
            raise ValueError(f"Thinned: capacity must be at least 2, got {capacity}")
        self.capacity, self.stride, self.added = capacity, 1, 0
        self.steps: list[int] = []
        self.values: list = []
        self._arrivals: list[int] = []

    def add(self, step: int, value) -> None:
        arrival = self.added
        self.added += 1
        if arrival % self.stride:
            return
        self.steps.append(step)
        self.values.append(value)
        self._arrivals.append(arrival)
        if len(self.steps) >= self.capacity:
            self.stride *= 2
            kept = [i for i, a in enumerate(self._arrivals) if a % self.stride == 0]
            self.steps = [self.steps[i] for i in kept]
            self.values = [self.values[i] for i in kept]
            self._arrivals = [self._arrivals[i] for i in kept]

    def __len__(self) -> int:
        return len(self.steps)
