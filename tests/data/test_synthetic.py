import numpy as np
import torch

from stgraph.data.synthetic import diffusion_signal, synthetic_regions


def test_planted_diffusion_is_recovered_by_regression():
    s = diffusion_signal(num_nodes=30, num_steps=2000, diffusion=0.6, noise=0.3, seed=4)
    x = s.signal[..., 0].double().numpy()
    src, dst = s.graph.edge_index.numpy()
    w = s.graph.diffusion_weight.double().numpy()
    mixed = np.stack([np.bincount(dst, weights=w * row[src], minlength=30) for row in x[:-1]])
    t = np.arange(1, 2000)
    coefficients = []
    for i in range(30):  # per node: x_t ~ W x_{t-1} + x_{t-1} + daily rhythm
        design = np.stack(
            [
                mixed[:, i],
                x[:-1, i],
                np.ones_like(t),
                np.sin(2 * np.pi * t / 24),
                np.cos(2 * np.pi * t / 24),
            ],
            1,
        )
        coef, *_ = np.linalg.lstsq(design, x[1:, i], rcond=None)
        coefficients.append(coef[:2])
    on_neighbours, on_self = np.mean(coefficients, axis=0)
    assert abs(on_neighbours - 0.6) < 0.05 and abs(on_self) < 0.05


def test_daily_period_dominates_the_spectrum():
    s = diffusion_signal(num_nodes=10, num_steps=24 * 20, steps_per_day=24, seed=1)
    series = s.signal[..., 0].mean(1).numpy()
    spectrum = np.abs(np.fft.rfft(series - series.mean()))
    assert np.argmax(spectrum) == 20  # 20 cycles in 20 days


def test_synthetic_regions_label_follows_flows():
    data = synthetic_regions(num_regions=50, seed=2)
    inflow = data.x_mobility.sum(0)
    corr = torch.corrcoef(torch.stack([inflow, data.y_target.float()]))[0, 1]
    assert corr > 0.5 and data.distance.shape == (50, 50)
