"""The evaluation protocol that travels with a dataset.

A :class:`Protocol` fixes what a fair comparison on a dataset means: window lengths, how the
windows are split chronologically, which value marks a missing reading, how many steps make a
day, and which metrics and horizons are reported. Models read it; they never override it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

BOUNDARIES = ("straddle", "drop")
SCALERS = ("feature", "node")


@dataclass(frozen=True)
class Protocol:
    r"""Forecasting protocol of a temporal dataset.

    Args:
        input_len: steps fed to the model (default: ``12``).
        output_len: steps predicted (default: ``12``).
        split: train/val/test fractions of the windows, in time order; DCRNN's rounding:
            ``n_train = round(S * train)``, ``n_test = round(S * test)``, the rest validation
            (default: ``(0.7, 0.1, 0.2)``).
        split_steps: instead of ``split``, time-step boundaries ``(train_end, val_end,
            test_end)``; a window belongs to the part that holds *all* its target steps, and
            windows whose targets straddle a boundary are dropped (default: ``None``).
        split_windows: instead of ``split``, the number of ``(val, test)`` windows counted
            from the end of the series (default: ``None``).
        boundary: what a split by window counts (``split`` or ``split_windows``) does with the
            windows whose targets cross into the next part: ``"straddle"`` keeps them (DCRNN's
            convention: the last training targets reach into validation, the last validation
            targets into test) or ``"drop"`` leaves them out, so every part's targets lie
            inside it; ``split_steps`` always drops them (default: ``"drop"``).
        null_value: reading that means "missing" (masked out of metrics and scaler fitting);
            ``None`` when only NaN is missing (default: ``0.0``).
        steps_per_day: sampling rate, for time-of-day features (default: ``288``, 5 minutes).
        metrics: metric names reported (default: ``("MAE", "RMSE", "MAPE")``).
        horizons: 1-based horizons reported beside the average (default: ``(3, 6, 12)``).
        scaler: ``"feature"`` (one mean and deviation per feature, pooled over nodes) or
            ``"node"`` (one per node and feature: the LTSF convention of one scaler per
            variable) (default: ``"feature"``).
        scaled_metrics: report metrics (and train) on standardised values, as the LTSF papers
            do, instead of original units (default: ``False``).
        mape_threshold: MAPE leaves out truths with :math:`|y| \le` this value, so that near-zero
            truths do not dominate it (default: ``0.0``: only zeros are left out).
        score_above: when set, targets at or below this value are left out of the training
            loss and of every metric (ST-LLM's demand convention: scored where truth > 0).
            Unlike ``null_value`` they are real readings: they stay in the inputs and in the
            scaler (default: ``None``: every observed target is scored).
        attribute_mean: score each feature (attribute) on its own and report the mean over
            features, PromptST's convention; per-attribute values are reported beside it
            (default: ``False``: metrics pooled over every entry).
        selection_metric: the validation metric that early stopping and model selection read
            (default: ``"MAE"``).
        note: where the protocol comes from (default: ``""``).
    """

    input_len: int = 12
    output_len: int = 12
    split: tuple[float, float, float] = (0.7, 0.1, 0.2)
    split_steps: tuple[int, int, int] | None = None
    split_windows: tuple[int, int] | None = None
    boundary: str = "drop"
    null_value: float | None = 0.0
    steps_per_day: int | None = 288
    metrics: tuple[str, ...] = ("MAE", "RMSE", "MAPE")
    horizons: tuple[int, ...] = field(default=(3, 6, 12))
    scaler: str = "feature"
    scaled_metrics: bool = False
    mape_threshold: float = 0.0
    score_above: float | None = None
    attribute_mean: bool = False
    selection_metric: str = "MAE"
    note: str = ""

    def __post_init__(self) -> None:
        if self.scaler not in SCALERS:
            raise ValueError(f"unknown scaler '{self.scaler}'; choose {' or '.join(SCALERS)}")
        if self.boundary not in BOUNDARIES:
            raise ValueError(
                f"unknown boundary '{self.boundary}'; choose {' or '.join(BOUNDARIES)}"
            )

    def describe(self) -> str:
        """One line stating the protocol, printed beside every result."""
        if self.split_steps is not None:
            split = "steps " + "/".join(str(s) for s in self.split_steps)
        elif self.split_windows is not None:
            split = f"last {self.split_windows[1]} test, {self.split_windows[0]} val windows"
        else:
            split = ":".join(f"{round(r * 10):g}" for r in self.split)
        if self.split_steps is None:
            split += (
                " (windows straddling a boundary kept, DCRNN's convention)"
                if self.boundary == "straddle"
                else " (windows straddling a boundary dropped)"
            )
        null = "none" if self.null_value is None else f"{self.null_value:g}"
        scaling = ", one scaler per variable" if self.scaler == "node" else ""
        units = " on standardised values" if self.scaled_metrics else ""
        mape = f" (MAPE over |truth| > {self.mape_threshold:g})" if "MAPE" in self.metrics else ""
        scored = "" if self.score_above is None else f", scored where truth > {self.score_above:g}"
        averaged = ", each the mean over attributes" if self.attribute_mean else ""
        selection = (
            "" if self.selection_metric == "MAE" else f", selected on val {self.selection_metric}"
        )
        return (
            f"{self.input_len}->{self.output_len}, chronological split {split}, "
            f"null={null}{scaling}{scored}, metrics {'/'.join(self.metrics)}{units}{mape}"
            f"{averaged}{selection}"
        )

    def to_dict(self) -> dict:
        """Plain-dict form, for results files and recipes."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> Protocol:
        """Inverse of :meth:`to_dict` (lists become tuples; unknown keys are an error)."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown protocol field(s): {', '.join(sorted(unknown))}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
