"""Ridge regression from each node's input window to its forecast, shared by all nodes."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from stgraph.data.temporal import WindowDataset

ALPHAS = (1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0)


class RidgeLags(nn.Module):
    r"""Linear forecast :math:`\hat y = W [x_{t-L+1}, \ldots, x_t, 1]` per node, one :math:`W`
    for all nodes, fitted in closed form on the training windows,

    .. math::
        W = \arg\min_W \tfrac{1}{n}\lVert X W - Y \rVert^2 + \alpha \lVert W \rVert^2

    (intercept not penalised), with :math:`\alpha \in` :data:`ALPHAS` chosen by a validation
    score (:meth:`fit_closed_form`; the benchmark runner passes the masked validation MAE).
    Rows with a missing target are left out of the fit.

    Args:
        input_len: input steps :math:`L`.
        output_len: predicted steps.
        num_features: features per node :math:`F` (all are inputs and outputs).
    """

    def __init__(self, input_len: int, output_len: int, num_features: int) -> None:
        super().__init__()
        self.input_len = input_len
        self.output_len = output_len
        self.num_features = num_features
        self.weight = nn.Parameter(  # fitted in closed form, never by gradient steps
            torch.zeros(
                input_len * num_features + 1, output_len * num_features, dtype=torch.float64
            )
        )
        self.alpha = float("nan")

    def _design(self, x: Tensor) -> Tensor:
        """``[B, L, N, F]`` windows → ``[B, N, L*F + 1]`` rows with a constant column."""
        rows = x.permute(0, 2, 1, 3).reshape(x.size(0), x.size(2), -1).double()
        return torch.cat(
            [rows, torch.ones(*rows.shape[:2], 1, dtype=rows.dtype, device=rows.device)], dim=-1
        )

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        """Predictions ``[B, L_out, N, F]`` in the scaler's units."""
        out = self._design(batch["x"]) @ self.weight
        b, n = out.shape[:2]
        return out.view(b, n, self.output_len, self.num_features).transpose(1, 2).float()

    def fit_closed_form(self, train: WindowDataset, validation_error: Callable[[], float]) -> None:
        """Fit on ``train`` for each :data:`ALPHAS`; keep the one with the lowest
        ``validation_error()`` (the error of the model in its current state)."""
        batch = train.gather(torch.arange(len(train)))
        x = self._design(batch["x"]).reshape(-1, self.weight.size(0))
        target = batch["y"] if train.scaler is None else train.scaler.transform(batch["y"])
        y = target.permute(0, 2, 1, 3).reshape(x.size(0), -1).double()
        keep = batch["y_mask"].permute(0, 2, 1, 3).reshape(x.size(0), -1).all(dim=1)
        x, y = x[keep], y[keep]
        gram, cross = x.T @ x, x.T @ y
        eye = torch.eye(gram.size(0), dtype=gram.dtype)
        eye[-1, -1] = 0.0  # the intercept is not penalised
        best = None
        for alpha in ALPHAS:
            self.weight.data.copy_(torch.linalg.solve(gram / len(x) + alpha * eye, cross / len(x)))
            score = validation_error()
            if best is None or score < best[0]:
                best = (score, alpha, self.weight.detach().clone())
        _, self.alpha, weight = best
        self.weight.data.copy_(weight)
