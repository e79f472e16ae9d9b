"""One epoch of the same MLP on MNIST in four systems, set up to be compared fairly.

784-128-64-10, ReLU, float32, SGD lr 0.1 without momentum, mean cross-entropy. Fairness:
- the same float32 arrays: the training set is shuffled once with one permutation, outside
  the timed region, and every system takes batch k as rows [k*B, (k+1)*B) of it (views);
- the same initial weights (`numpy_reference.init_params`), copied into each system;
- the same number of steps (the last incomplete batch is dropped, for every system);
- only the training loop is timed: building the model, copying weights and measuring test
  accuracy happen outside it.
Each `train_*` returns an `EpochResult` whose final weights let `run.py` check that the
systems really computed the same thing (they should agree to float32 rounding).
"""

from __future__ import annotations

import gc
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy_reference

import from_scratch as fs
from from_scratch import functional as F

LR = 0.1
REPO = Path(__file__).resolve().parent.parent


@dataclass
class MnistSetup:
    """Shuffled float32 training data, test data, and the initial weights every system copies."""

    x: np.ndarray  # (60000, 784) float32, rows already in the shared permuted order
    y: np.ndarray  # (60000,) int64
    x_test: np.ndarray
    y_test: np.ndarray
    init: list  # [W1, b1, W2, b2, W3, b3], PyTorch layout, float32

    def batches(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """The training rows used at this batch size: a whole number of batches (views)."""
        n = len(self.x) // batch_size * batch_size
        return self.x[:n], self.y[:n]


@dataclass
class EpochResult:
    seconds: float  # wall clock
    cpu_seconds: float  # CPU time of the process (all threads): steadier on a busy machine
    accuracy: float
    params: list  # final [W1, b1, ...] as NumPy arrays in PyTorch layout


def load_setup(seed: int = 0) -> MnistSetup:
    """MNIST from the library's loader (cache, else the shared folder), shuffled with `seed`."""
    from from_scratch import datasets  # explicit: works before __init__ re-exports it

    try:
        x, y, x_test, y_test = datasets.load_mnist(download=False)
    except FileNotFoundError:
        # This machine has no internet; the four files also live in ../shared/data/mnist.
        x, y, x_test, y_test = datasets.load_mnist(root=REPO.parent / "shared" / "data",
                                                   download=False)
    perm = np.random.default_rng(seed).permutation(len(x))
    x, y = np.ascontiguousarray(x[perm]), y[perm]
    assert x.dtype == np.float32 and x_test.dtype == np.float32
    return MnistSetup(x, y, x_test, y_test, numpy_reference.init_params(seed))


def _timed(loop) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of loop()."""
    gc.collect()  # start every system with no garbage left by the previous one
    start, start_cpu = time.perf_counter(), time.process_time()
    loop()
    return time.perf_counter() - start, time.process_time() - start_cpu


# ----------------------------------------------------------------------------- from_scratch


def build_from_scratch(setup: MnistSetup):
    """The model and optimizer, as a student writes them, starting from the shared weights."""
    from from_scratch import nn, optim

    model = nn.Sequential(
        nn.Linear(784, 128), nn.ReLU(),
        nn.Linear(128, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )
    for p, value in zip(model.parameters(), setup.init, strict=True):
        p.data[...] = value
    return model, optim.SGD(model.parameters(), lr=LR)


def from_scratch_step(model, opt, xb: fs.Tensor, yb: fs.Tensor) -> None:
    """One training step: forward, loss, zero_grad, backward, step."""
    loss = F.cross_entropy(model(xb), yb)
    opt.zero_grad()
    loss.backward()
    opt.step()


def train_from_scratch(setup: MnistSetup, batch_size: int) -> EpochResult:
    """The public API: Sequential, F.cross_entropy, optim.SGD, zero_grad/backward/step."""
    model, opt = build_from_scratch(setup)
    x, y = setup.batches(batch_size)
    x_t, y_t = fs.tensor(x), fs.tensor(y)

    def loop():
        for start in range(0, len(x), batch_size):
            from_scratch_step(model, opt, x_t[start:start + batch_size],
                              y_t[start:start + batch_size])

    seconds, cpu = _timed(loop)
    with fs.no_grad():
        pred = model(fs.tensor(setup.x_test)).data.argmax(axis=1)
    params = [p.data.copy() for p in model.parameters()]
    return EpochResult(seconds, cpu, float((pred == setup.y_test).mean()), params)


# ----------------------------------------------------------------------------- NumPy


def train_numpy(setup: MnistSetup, batch_size: int) -> EpochResult:
    """Hand-written forward and backward, no autograd (numpy_reference.py)."""
    params = [p.copy() for p in setup.init]
    x, y = setup.batches(batch_size)
    seconds, cpu = _timed(lambda: numpy_reference.train_epoch(params, x, y, batch_size, LR))
    pred = numpy_reference.predict(params, setup.x_test)
    return EpochResult(seconds, cpu, float((pred == setup.y_test).mean()), params)


# ----------------------------------------------------------------------------- PyTorch


def train_torch(setup: MnistSetup, batch_size: int) -> EpochResult:
    """The same loop in PyTorch on CPU (threads set by run.py to NumPy's BLAS thread count)."""
    import torch
    from torch import nn

    model = nn.Sequential(
        nn.Linear(784, 128), nn.ReLU(),
        nn.Linear(128, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )
    with torch.no_grad():
        for p, value in zip(model.parameters(), setup.init, strict=True):
            p.copy_(torch.from_numpy(value))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    x, y = setup.batches(batch_size)
    x_t, y_t = torch.from_numpy(x), torch.from_numpy(y)  # share memory with NumPy

    def loop():
        for start in range(0, len(x), batch_size):
            logits = model(x_t[start:start + batch_size])
            loss = nn.functional.cross_entropy(logits, y_t[start:start + batch_size])
            opt.zero_grad()
            loss.backward()
            opt.step()

    seconds, cpu = _timed(loop)
    with torch.no_grad():
        pred = model(torch.from_numpy(setup.x_test)).argmax(dim=1).numpy()
    params = [p.detach().numpy().copy() for p in model.parameters()]
    return EpochResult(seconds, cpu, float((pred == setup.y_test).mean()), params)


# ----------------------------------------------------------------------------- scikit-learn


def train_sklearn(setup: MnistSetup, batch_size: int) -> EpochResult:
    """MLPClassifier(solver='sgd') for exactly one pass, on float32 input, from our weights.

    shuffle=False because the rows are already in the shared order; alpha=0 (no L2),
    momentum=0, constant learning rate. fit() also validates its input and one-hot encodes
    the labels; assume_finite skips the NaN scan of the whole array, the rest is counted.
    """
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=(128, 64), activation="relu", solver="sgd",
                        alpha=0.0, batch_size=batch_size, learning_rate="constant",
                        learning_rate_init=LR, momentum=0.0, nesterovs_momentum=False,
                        max_iter=1, shuffle=False, early_stopping=False, random_state=0)
    # sklearn draws its own initial weights in _init_coef, layer by layer; hand it ours
    # instead (its layout is (in, out), the transpose of PyTorch's).
    layers = iter([(setup.init[i].T.copy(), setup.init[i + 1].copy())
                   for i in range(0, len(setup.init), 2)])
    clf._init_coef = lambda fan_in, fan_out, dtype: next(layers)
    x, y = setup.batches(batch_size)

    def loop():
        with warnings.catch_warnings(), sklearn.config_context(assume_finite=True):
            warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=1 is the point
            clf.fit(x, y)

    seconds, cpu = _timed(loop)
    accuracy = float((clf.predict(setup.x_test) == setup.y_test).mean())
    params = [a for w, b in zip(clf.coefs_, clf.intercepts_, strict=True) for a in (w.T, b)]
    return EpochResult(seconds, cpu, accuracy, params)


SYSTEMS = {
    "from_scratch": train_from_scratch,
    "numpy": train_numpy,
    "torch": train_torch,
    "sklearn": train_sklearn,
}
