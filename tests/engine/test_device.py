import warnings

import pytest
import torch

from stgraph.data.synthetic import diffusion_signal
from stgraph.engine import device as device_module
from stgraph.engine.device import (
    SlowPrecisionWarning,
    autocast,
    check_precision,
    resolve_device,
    to_device,
)
from stgraph.engine.distributed import Context
from stgraph.engine.trainer import TrainConfig, Trainer
from stgraph.errors import InputError
from stgraph.models.stid import STID


def test_auto_is_the_gpu_when_there_is_one_else_the_cpu():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on machines without GPU")
def test_asking_for_a_missing_gpu_is_an_input_error():
    with pytest.raises(InputError, match="sees no CUDA GPU"):
        resolve_device("cuda:1")


def test_unknown_devices_and_precisions_are_input_errors():
    with pytest.raises(InputError, match="unknown device"):
        resolve_device("gpu0")
    with pytest.raises(InputError, match="not supported"):
        resolve_device("meta")
    with pytest.raises(InputError, match="unknown precision"):
        check_precision("fp16", torch.device("cpu"))


def test_batches_follow_the_device_and_other_entries_pass_through():
    batch = {"x": torch.ones(2), "name": "window"}
    moved = to_device(batch, torch.device("cpu"))
    assert moved["x"].device.type == "cpu" and moved["name"] == "window"


def test_bf16_autocast_runs_the_forward_in_bfloat16_and_training_still_learns():
    with autocast(torch.device("cpu"), "bf16"):
        assert (torch.ones(4, 4) @ torch.ones(4, 4)).dtype == torch.bfloat16
    with autocast(torch.device("cpu"), "fp32"):
        assert (torch.ones(4, 4) @ torch.ones(4, 4)).dtype == torch.float32
    signal = diffusion_signal(num_nodes=12, num_steps=600, seed=0)
    scaler = signal.fit_scaler()
    train, val = signal.windows("train", scaler), signal.windows("val", scaler)
    maes = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        model = STID(12, 12, 12, 1, steps_per_day=signal.protocol.steps_per_day)
        config = TrainConfig(epochs=4, batch_size=32, progress=False, precision=precision)
        trainer = Trainer(model, config, Context(device=resolve_device("cpu")))
        before = trainer.evaluate(val).compute(("MAE",))["MAE"]
        trainer.fit(train, val)
        maes[precision] = trainer.evaluate(val).compute(("MAE",))["MAE"]
        assert maes[precision] < 0.8 * before
    assert maes["bf16"] == pytest.approx(maes["fp32"], rel=0.15)


def test_bf16_on_a_cpu_without_bf16_instructions_warns_that_it_is_emulated(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(device_module, "cpu_has_native_bf16", lambda: False)
    with pytest.warns(SlowPrecisionWarning, match="emulated"):
        check_precision("bf16", cpu)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_precision("fp32", cpu)  # fp32 never warns
        monkeypatch.setattr(device_module, "cpu_has_native_bf16", lambda: True)
        check_precision("bf16", cpu)
