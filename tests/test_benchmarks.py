"""The benchmark compares like with like: the hand-written NumPy reference and from_scratch
(written as a student writes it) compute the same training steps from the same weights."""

import importlib.util
import pathlib
import sys

import numpy as np

from from_scratch import functional as F
from from_scratch import nn, optim

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _numpy_reference():
    spec = importlib.util.spec_from_file_location(
        "numpy_reference", ROOT / "benchmarks" / "numpy_reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("numpy_reference", module)
    spec.loader.exec_module(module)
    return module


def test_from_scratch_follows_the_hand_written_numpy_reference_step_for_step():
    ref = _numpy_reference()
    sizes, batch, steps, lr = (20, 16, 8, 5), 12, 25, 0.1
    rng = np.random.default_rng(7)
    x = rng.random((batch * steps, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], size=batch * steps)

    params = ref.init_params(3, sizes)
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(),
                          nn.Linear(8, 5))
    for p, value in zip(model.parameters(), params, strict=True):
        p.data[...] = value
    opt = optim.SGD(model.parameters(), lr=lr)

    last_loss = ref.train_epoch(params, x, y, batch, lr)
    for start in range(0, len(x), batch):
        loss = F.cross_entropy(model(x[start:start + batch]), y[start:start + batch])
        opt.zero_grad()
        loss.backward()
        opt.step()

    assert abs(loss.item() - last_loss) < 1e-5
    for p, q in zip(model.parameters(), params, strict=True):
        assert p.dtype == q.dtype == np.float32
        np.testing.assert_allclose(p.data, q, rtol=1e-5, atol=1e-6)
    # and the run really trained: the weights moved away from the shared start
    assert not np.allclose(params[0], ref.init_params(3, sizes)[0])
