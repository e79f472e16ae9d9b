"""The reference: the same MLP in plain NumPy, forward and backward written out by hand.

No autograd, no graph, no objects: what a careful student writes on paper, in float32.
It is the floor that from_scratch's autograd is measured against (its overhead is whatever
it costs above this), and the shared initial weights every system starts from.
"""

from __future__ import annotations

import numpy as np

SIZES = (784, 128, 64, 10)


def init_params(seed: int = 0, sizes: tuple = SIZES) -> list[np.ndarray]:
    """[W1, b1, W2, b2, ...] as PyTorch's nn.Linear initialises them, in float32.

    W has PyTorch's layout (out_features, in_features); W and b ~ U(-1/√in, 1/√in).
    Every system copies these exact arrays, so they all start from the same point.
    """
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = 1.0 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return params


def forward(params: list[np.ndarray], xb: np.ndarray, yb: np.ndarray) -> tuple[float, tuple]:
    """Mean cross-entropy of one batch, and what backward needs."""
    w1, b1, w2, b2, w3, b3 = params
    h1 = xb @ w1.T + b1  # (B, 784) @ (784, 128) -> (B, 128)
    a1 = np.maximum(h1, 0)
    h2 = a1 @ w2.T + b2  # (B, 128) @ (128, 64) -> (B, 64)
    a2 = np.maximum(h2, 0)
    z = a2 @ w3.T + b3  # (B, 64) @ (64, 10) -> (B, 10)

    # mean cross-entropy through a stable log-softmax
    rows = np.arange(len(xb))
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    log_p = z - m - np.log(s)
    loss = -log_p[rows, yb].mean()
    return float(loss), (xb, yb, rows, h1, a1, h2, a2, e / s)


def backward(params: list[np.ndarray], cache: tuple) -> list[np.ndarray]:
    """Gradients of the mean cross-entropy, in the order of `params`."""
    _, _, w2, _, w3, _ = params
    xb, yb, rows, h1, a1, h2, a2, probs = cache
    # d loss / d z = (softmax - onehot) / B
    dz = probs
    dz[rows, yb] -= 1
    dz /= len(xb)
    dw3 = dz.T @ a2  # (10, B) @ (B, 64) -> (10, 64)
    db3 = dz.sum(axis=0)
    dh2 = (dz @ w3) * (h2 > 0)  # (B, 10) @ (10, 64) -> (B, 64), times ReLU's mask
    dw2 = dh2.T @ a1  # (64, B) @ (B, 128) -> (64, 128)
    db2 = dh2.sum(axis=0)
    dh1 = (dh2 @ w2) * (h1 > 0)  # (B, 64) @ (64, 128) -> (B, 128)
    dw1 = dh1.T @ xb  # (128, B) @ (B, 784) -> (128, 784)
    db1 = dh1.sum(axis=0)
    return [dw1, db1, dw2, db2, dw3, db3]


def sgd_update(params: list[np.ndarray], grads: list[np.ndarray], lr: float) -> None:
    """p -= lr * g, in place; lr is a Python float, so float32 stays float32."""
    for p, g in zip(params, grads, strict=True):
        p -= lr * g


def train_epoch(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, batch_size: int,
                lr: float = 0.1) -> float:
    """One epoch of SGD on the 3-layer ReLU MLP, updating `params` in place; returns last loss.

    `x` is already shuffled: batch k is x[k*B:(k+1)*B] (views, no copies), the same batches
    every other system sees. len(x) must be a multiple of batch_size.
    """
    loss = float("nan")
    for start in range(0, len(x), batch_size):
        loss, cache = forward(params, x[start:start + batch_size], y[start:start + batch_size])
        sgd_update(params, backward(params, cache), lr)
    return loss


def predict(params: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """Class indices (argmax of the logits) for the rows of `x`."""
    w1, b1, w2, b2, w3, b3 = params
    a1 = np.maximum(x @ w1.T + b1, 0)
    a2 = np.maximum(a1 @ w2.T + b2, 0)
    return (a2 @ w3.T + b3).argmax(axis=1)
