"""Bounded records: a run of any length keeps at most ``capacity`` entries."""

from __future__ import annotations


class Thinned:
    """(step, value) pairs, thinned as they come: every one is kept until ``capacity`` are
    held, then every 2nd (by arrival), then every 4th… so memory stays below ``capacity``
    entries however many are added, and what is kept spans the whole run evenly.

    The arrivals kept are always 0, s, 2s, … for the current stride s, so thinning halves
    the lists (``[::2]``) and an add is a counter, a remainder and two appends."""

    def __init__(self, capacity: int = 4096):
        if capacity < 2:
            raise ValueError(f"Thinned: capacity must be at least 2, got {capacity}")
        self.capacity, self.stride, self.added = capacity, 1, 0
        self.steps: list[int] = []
        self.values: list = []

    def add(self, step: int, value) -> None:
        arrival = self.added
        self.added = arrival + 1
        if arrival % self.stride:
            return
        self.steps.append(step)
        self.values.append(value)
        if len(self.steps) >= self.capacity:
            self.stride *= 2
            self.steps, self.values = self.steps[::2], self.values[::2]

    def __len__(self) -> int:
        return len(self.steps)
