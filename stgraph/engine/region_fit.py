"""Fitting region regressors inside one cross-validation fold (see :mod:`region_eval`).

Every function here fits on ``split.train`` (and selects on ``split.val``) and predicts
``split.test``; scalers and ridge penalties are fitted on the training regions only.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.linear_model import RidgeCV
from sklearn.preprocessing import StandardScaler

from stgraph.engine.region_eval import Split
from stgraph.models.topt import PromptRegressor

RIDGE_ALPHAS = np.logspace(-3, 4, 30)


def ridge_fit_predict(features: np.ndarray, labels: np.ndarray, split: Split) -> np.ndarray:
    """Standardise (fit on the training regions), choose the ridge penalty by leave-one-out on
    the training regions (``RidgeCV``), predict the test regions."""
    fit = (
        np.concatenate([split.train, split.val])
        if not np.array_equal(split.val, split.test)
        else split.train
    )
    scaler = StandardScaler().fit(features[fit])
    model = RidgeCV(alphas=RIDGE_ALPHAS).fit(scaler.transform(features[fit]), labels[fit])
    return model.predict(scaler.transform(features[split.test]))


@dataclass
class PromptConfig:
    """Training of :class:`~stgraph.models.topt.PromptRegressor` in one fold.

    Attributes:
        epochs: maximum full-batch Adam steps (default: ``300``).
        lr: learning rate (default: ``3e-4``).
        weight_decay: weight decay (default: ``1e-4``).
        check_every: validation interval in steps (default: ``10``).
        patience: validation checks without improvement before stopping (default: ``10``).
        seed: initialisation and dropout seed (default: ``0``).
    """

    epochs: int = 300
    lr: float = 3e-4
    weight_decay: float = 1e-4
    check_every: int = 10
    patience: int = 10
    seed: int = 0


def prompt_fit_predict(
    embedding: np.ndarray,
    prompts: np.ndarray,
    labels: np.ndarray,
    split: Split,
    config: PromptConfig,
) -> tuple[np.ndarray, int]:
    """Train a prompt regressor on ``split.train``, early-stop on ``split.val``, predict
    ``split.test``; returns the predictions and the number of trainable parameters.

    Embeddings are standardised and labels z-scored with training-region statistics; the head
    starts from the ridge regression on the training regions' embeddings (penalty chosen by
    leave-one-out, where the reference code fixes ``alpha=1``), so the starting point is the
    ``ridge-srel`` baseline and validation decides whether the prompts improve on it. The
    prompt vectors of all regions serve as keys and values: they are label-free inputs.
    """
    torch.manual_seed(config.seed)
    scaler = StandardScaler().fit(embedding[split.train])
    e = torch.as_tensor(scaler.transform(embedding), dtype=torch.float32)
    p = torch.as_tensor(StandardScaler().fit_transform(prompts), dtype=torch.float32)
    mean, std = labels[split.train].mean(), labels[split.train].std() or 1.0
    y = torch.as_tensor((labels - mean) / std, dtype=torch.float32)
    ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit(e[split.train].numpy(), y[split.train].numpy())
    model = PromptRegressor(e.size(1), p.size(1))
    model.warm_start(torch.as_tensor(ridge.coef_, dtype=torch.float32), float(ridge.intercept_))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    train, val = torch.as_tensor(split.train), torch.as_tensor(split.val)

    def val_loss() -> float:
        model.eval()
        with torch.no_grad():
            return (model(e[val], p) - y[val]).square().mean().item()

    best, best_state, bad = val_loss(), copy.deepcopy(model.state_dict()), 0
    for step in range(1, config.epochs + 1):
        model.train()
        loss = (model(e[train], p) - y[train]).square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % config.check_every == 0:
            current = val_loss()
            if current < best:
                best, best_state, bad = current, copy.deepcopy(model.state_dict()), 0
            else:
                bad += 1
                if bad >= config.patience:
                    break
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        predicted = model(e[torch.as_tensor(split.test)], p).numpy() * std + mean
    trainable = sum(x.numel() for x in model.parameters() if x.requires_grad)
    return predicted, trainable
