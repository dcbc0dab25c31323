"""Which attributes of a multi-attribute dataset each training stage sees: all of them, a
held-out set (pretrain on the others, adapt on these), or one model per attribute."""

from __future__ import annotations

from dataclasses import dataclass

from stgraph.data.temporal import TemporalSignal
from stgraph.engine.stages import Stage
from stgraph.errors import InputError


@dataclass(frozen=True)
class AttributePlan:
    """Which attributes (features) of a multi-attribute dataset each stage trains on.

    Attributes:
        held_out: positions of the attributes kept out of pretraining: ``pretrain`` trains on
            the others, every other stage (and a model without stages) on these.
        per_attribute: every stage but ``pretrain`` trains one model per attribute, on that
            attribute alone; their test sums are merged into one row.
    """

    held_out: tuple[int, ...] = ()
    per_attribute: bool = False

    @classmethod
    def choose(
        cls, signal: TemporalSignal, held_out: list[str] | None, per_attribute: bool
    ) -> AttributePlan:
        """The plan for ``signal`` that holds out the attributes ``held_out`` (names or
        0-based indices; ``None`` for none); input errors for choices that cannot be met."""
        if (held_out is not None or per_attribute) and signal.num_features < 2:
            raise InputError(f"'{signal.name}' has one attribute: nothing to hold out or split")
        positions = signal.feature_index(held_out) if held_out is not None else []
        if held_out is not None and not positions:
            raise InputError("no attribute was named to hold out")
        if len(positions) == signal.num_features:
            raise InputError("holding out every attribute leaves none to pretrain on")
        return cls(tuple(positions), per_attribute)

    def subset(self, signal: TemporalSignal, stage: Stage | None) -> tuple[TemporalSignal, str]:
        """The attributes ``stage`` trains on, and the name of that subset (``""``: all)."""
        everything = list(range(signal.num_features))
        if not self.held_out:
            return signal, ""
        if stage is not None and stage.name == "pretrain":
            keep = [i for i in everything if i not in self.held_out]
            return signal.select_features(keep), f"{len(keep)} of {len(everything)} attributes"
        held = list(self.held_out)
        return signal.select_features(held), f"{len(held)} held-out attributes"

    def splits(self, stage: Stage | None) -> bool:
        """Whether ``stage`` trains one model per attribute."""
        return self.per_attribute and not (stage is not None and stage.name == "pretrain")

    def parts(
        self, signal: TemporalSignal, stage: Stage | None
    ) -> list[tuple[TemporalSignal, str]]:
        """The ``(signal, part)`` runs of ``stage``: ``part`` names the attribute subset in the
        row's dataset label and checkpoint folder (``""`` for every attribute together)."""
        chosen, part = self.subset(signal, stage)
        if not self.splits(stage):
            return [(chosen, part)]
        prefix = f"{part}, " if part else ""
        return [
            (chosen.select_features([i]), f"{prefix}{name}")
            for i, name in enumerate(chosen.feature_names)
        ]

    def merged_part(self, signal: TemporalSignal, stage: Stage | None) -> str:
        """The part named by the one row that merges ``stage``'s per-attribute runs."""
        part = self.subset(signal, stage)[1]
        return f"{part}, one model per attribute" if part else "one model per attribute"


def part_slug(part: str) -> str:
    """``part`` as a file-name suffix (``""`` for every attribute)."""
    return "-" + "".join(c if c.isalnum() else "-" for c in part) if part else ""
