"""What every dataset format's loader returns: its sequences in listed order, by position or by name.

Each format (datasets/formats.py) has its own sequence type; what evaluation, training and bench
need from any of them is here: length, iteration, lookup by name, the names, and a subset.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from collections.abc import Sequence as TypingSequence
from typing import Generic, Self, TypeVar

S = TypeVar("S")


class SequenceList(Generic[S]):
    """A dataset of any layout; subclasses are dataclasses with a `sequences` field."""

    sequences: TypingSequence[S]

    def __len__(self) -> int:
        return len(self.sequences)

    def __iter__(self) -> Iterator[S]:
        return iter(self.sequences)

    def __getitem__(self, name: str) -> S:
        for seq in self.sequences:
            if seq.name == name:  # type: ignore[attr-defined]
                return seq
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.sequences]  # type: ignore[attr-defined]

    def subset(self, names: Iterable[str]) -> Self:
        """The same dataset holding only the sequences `names`, in that order (e.g. the held-out ones)."""
        picked = [self[name] for name in names]
        # the same container the loader used (a list for VOT, a tuple for the frozen DAVIS dataset)
        return dataclasses.replace(self, sequences=type(self.sequences)(picked))  # type: ignore[type-var]
