"""Functions on tensors that models use: activations, softmax and friends, losses.

`from from_scratch import functional as F` gives PyTorch's spelling: F.relu(x), F.softmax(x).
"""

from __future__ import annotations

import numpy as np

from . import ops, random
from .autograd import Function
from .tensor import Tensor, as_tensor


def relu(x: Tensor) -> Tensor:
    """max(x, 0) elementwise."""
    return ops.ReLU.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e^-x) elementwise, computed without overflow."""
    return ops.Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    """tanh(x) elementwise."""
    return ops.Tanh.apply(x)


def softmax(x: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """exp(x) / Σ exp(x) along `axis` (shifted by the max, so it never overflows)."""
    return ops.Softmax.apply(as_tensor(x), axis=axis if dim is None else dim)


def log_softmax(x: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """x - logsumexp(x) along `axis`: the log of softmax, stable for logits of ±1000."""
    return ops.LogSoftmax.apply(as_tensor(x), axis=axis if dim is None else dim)


def logsumexp(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """log Σ exp(x) along `axis`, computed as max + log Σ exp(x - max)."""
    return as_tensor(x).logsumexp(axis=axis, keepdims=keepdims, dim=dim, keepdim=keepdim)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, with W of shape (out_features, in_features), as one graph node."""
    if bias is None:
        return ops.Linear.apply(as_tensor(x), weight)
    return ops.Linear.apply(as_tensor(x), weight, bias)


# ----------------------------------------------------------------------------- dropout

class DropoutFunction(Function):
    """z = x * mask, where mask holds 0 (dropped) or 1/(1-p) (kept); the gradient flows
    through the kept units only, scaled the same way."""

    def forward(self, x, mask=None):
        self.save_for_backward(mask)
        return x * mask

    def backward(self, grad):
        (mask,) = self.saved
        return grad * mask


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (inverted dropout,
    so evaluation needs no rescaling); the identity when not training or p == 0."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be between 0 and 1, got {p}")
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"dropout needs a float32 or float64 input, got {x.dtype}")
    # The uniform draw is in x's dtype and the scale a Python float: float32 stays float32.
    keep = random.default_generator().random(x.shape, dtype=x.dtype) >= p
    mask = keep.astype(x.dtype)
    if p < 1.0:
        mask *= 1.0 / (1.0 - p)
    return DropoutFunction.apply(x, mask=mask)


# ----------------------------------------------------------------------------- losses
#
# Every loss takes `reduction`: 'none' keeps one value per element (per sample for
# cross_entropy and nll_loss), 'sum' adds them up, and 'mean' divides by the number of ALL
# elements, as PyTorch does: mse_loss of (N, D) tensors divides by N*D. Dividing by the batch
# size N only is the classic bug: the effective learning rate then grows with D.

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, loss: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{loss}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    """Apply `reduction` to a graph of per-element losses."""
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _reduce_array(loss: np.ndarray, reduction: str) -> np.ndarray:
    """Apply `reduction` inside a fused loss Function (arrays, not Tensors)."""
    if reduction == "mean":
        return np.mean(loss)
    return np.sum(loss) if reduction == "sum" else loss


def _check_pair(input, target, loss: str) -> tuple[Tensor, Tensor]:
    """`input` as a float Tensor and `target` as a Tensor of the same shape and dtype.

    PyTorch only warns when the shapes differ; we refuse, because broadcasting (N, 1)
    predictions against (N,) targets silently builds an (N, N) loss that still trains, badly.
    """
    input = as_tensor(input)
    if input.dtype.kind != "f":
        raise TypeError(f"{loss}: input (the predictions) must be floating point, got "
                        f"{input.dtype}")
    if not (isinstance(target, Tensor) and target.requires_grad):
        arr = target.data if isinstance(target, Tensor) else np.asarray(target)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{loss}: target must hold numbers, got dtype {arr.dtype}")
        # A constant target takes the input's dtype: int or float64 targets must not turn
        # a float32 loss into float64.
        target = Tensor._from_op(arr.astype(input.dtype, copy=False), None)
    if target.shape != input.shape:
        if target.size == input.size:
            fix = f"reshape one of them, e.g. target.reshape{input.shape}"
        else:
            fix = (f"they do not even hold the same number of elements ({input.size} vs "
                   f"{target.size}): are they from the same batch?")
        raise ValueError(
            f"{loss}: input has shape {input.shape} but target has shape {target.shape}; "
            f"they must be equal, since broadcasting would silently compare every prediction "
            f"with every target (e.g. (N, 1) against (N,) gives an (N, N) loss). Fix: {fix}.")
    return input, target


def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Mean squared error: mean of (input - target)² over all elements."""
    _check_reduction(reduction, "mse_loss")
    input, target = _check_pair(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Mean absolute error: mean of |input - target| over all elements."""
    _check_reduction(reduction, "l1_loss")
    input, target = _check_pair(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


def _constant(x, like: np.ndarray, shape: tuple, name: str, loss: str) -> np.ndarray | None:
    """An optional weight as an array of `like`'s dtype that broadcasts to `shape`."""
    if x is None:
        return None
    arr = np.asarray(x.data if isinstance(x, Tensor) else x).astype(like.dtype, copy=False)
    try:
        ok = np.broadcast_shapes(arr.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{loss}: {name} of shape {arr.shape} does not broadcast to the "
                         f"input's shape {shape}")
    return arr


class BinaryCrossEntropy(Function):
    """loss = -(y log p + (1 - y) log(1 - p)); each log is clamped at -100, as in PyTorch, so
    p = 0 or 1 gives a large finite loss instead of inf."""

    def forward(self, p, y, weight=None, reduction="mean"):
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), -100.0)
            log_q = np.maximum(np.log1p(-p), -100.0)  # log(1 - p), accurate for small p
        loss = -(y * log_p + (1 - y) * log_q)
        if weight is not None:
            loss *= weight
        self.save_for_backward(p, y, log_p, log_q, weight, reduction, p.size)
        return _reduce_array(loss, reduction)

    def backward(self, grad):
        p, y, log_p, log_q, weight, reduction, count = self.saved
        g = grad / count if reduction == "mean" else grad
        if weight is not None:
            g = g * weight
        gp = gy = None
        if self.needs_input_grad[0]:
            # d/dp = (p - y) / (p (1 - p)); PyTorch bounds the denominator by 1e-12.
            gp = g * (p - y) / np.maximum(p * (1 - p), 1e-12)
        if self.needs_input_grad[1]:
            gy = g * (log_q - log_p)
        return gp, gy


def binary_cross_entropy(input: Tensor, target, weight=None, reduction: str = "mean") -> Tensor:
    """Cross-entropy between probabilities `input` in [0, 1] and targets in [0, 1]."""
    _check_reduction(reduction, "binary_cross_entropy")
    input, target = _check_pair(input, target, "binary_cross_entropy")
    p = input.data
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(
            f"binary_cross_entropy expects probabilities in [0, 1], but the input has values "
            f"in [{p.min():.4g}, {p.max():.4g}]. If these are logits (raw scores), use "
            f"binary_cross_entropy_with_logits (nn.BCEWithLogitsLoss) instead, or apply "
            f"sigmoid first.")
    w = _constant(weight, p, p.shape, "weight", "binary_cross_entropy")
    return BinaryCrossEntropy.apply(input, target, weight=w, reduction=reduction)


class BinaryCrossEntropyWithLogits(Function):
    """binary_cross_entropy(sigmoid(x), y) computed from the logits x without overflow:
    loss = (1 - y) x + (1 + (pw - 1) y) softplus(-x), softplus(z) = max(z, 0) + log(1 + e^-|z|)."""

    def forward(self, x, y, weight=None, pos_weight=None, reduction="mean"):
        e = np.exp(-np.abs(x))  # in (0, 1]: never overflows, even for x = ±1000
        softplus_neg = np.maximum(-x, 0) + np.log1p(e)  # softplus(-x) = -log sigmoid(x)
        if pos_weight is None:
            loss = (1 - y) * x + softplus_neg
        else:
            loss = (1 - y) * x + (1 + (pos_weight - 1) * y) * softplus_neg
        if weight is not None:
            loss *= weight
        self.save_for_backward(x, y, e, softplus_neg, weight, pos_weight, reduction, x.size)
        return _reduce_array(loss, reduction)

    def backward(self, grad):
        x, y, e, softplus_neg, weight, pos_weight, reduction, count = self.saved
        g = grad / count if reduction == "mean" else grad
        if weight is not None:
            g = g * weight
        gx = gy = None
        if self.needs_input_grad[0]:
            # sigmoid(x) straight from e = exp(-|x|): stable both ways, and no 1 - sigmoid(-x)
            # cancellation, which would round a tiny gradient like 2e-9 at x = -20 to 0.
            sigmoid = np.where(x >= 0, 1, e) / (1 + e)
            if pos_weight is None:
                gx = g * (sigmoid - y)
            else:
                gx = g * ((1 + (pos_weight - 1) * y) * sigmoid - pos_weight * y)
        if self.needs_input_grad[1]:
            gy = g * (-x if pos_weight is None else (pos_weight - 1) * softplus_neg - x)
        return gx, gy


def binary_cross_entropy_with_logits(input: Tensor, target, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """binary_cross_entropy(sigmoid(input), target), stable for logits of any size."""
    loss = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, loss)
    input, target = _check_pair(input, target, loss)
    w = _constant(weight, input.data, input.shape, "weight", loss)
    pw = _constant(pos_weight, input.data, input.shape, "pos_weight", loss)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight=w, pos_weight=pw,
                                              reduction=reduction)


def _class_labels(target, shape: tuple, loss: str) -> np.ndarray:
    """Check integer class labels against (N, C) scores; return them as an int array."""
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    n, c = shape
    if labels.dtype.kind not in "iu":
        if labels.shape == shape and labels.dtype.kind == "f":
            hint = ("they look like one-hot vectors or probabilities; pass the class indices "
                    "instead, e.g. target.argmax(axis=1)")
        else:
            hint = "convert them, e.g. labels.astype(np.int64)"
        raise ValueError(f"{loss} expects integer class labels (0 to {c - 1}), got dtype "
                         f"{labels.dtype}: {hint}.")
    if labels.shape != (n,):
        hint = " Use labels.reshape(-1)." if labels.size == n else ""
        raise ValueError(f"{loss}: input of shape {shape} needs labels of shape ({n},), one "
                         f"per row, got shape {labels.shape}.{hint}")
    if n and (labels.min() < 0 or labels.max() >= c):
        bad = labels[(labels < 0) | (labels >= c)]
        raise ValueError(f"{loss}: label {bad[0]} is out of range for {c} classes (labels must "
                         f"be in 0..{c - 1}; {bad.size} of {n} are not). Does the last layer "
                         f"have one output per class?")
    return labels


def _class_scores(input, loss: str) -> Tensor:
    input = as_tensor(input)
    if input.data.ndim != 2 or input.data.dtype.kind != "f":
        raise ValueError(f"{loss} expects float scores of shape (N, C) (a batch of N rows, one "
                         f"score per class), got shape {input.shape} and dtype {input.dtype}. "
                         f"For a single sample use input.reshape(1, -1).")
    return input


def _class_weights(weight, labels: np.ndarray, c: int, dtype, loss: str):
    """Per-sample weights w[y_i] and the mean's denominator Σ w[y_i] (N without weights)."""
    if weight is None:
        return None, len(labels)
    w = np.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=dtype)
    if w.shape != (c,):
        raise ValueError(f"{loss}: weight must have one entry per class, shape ({c},), got "
                         f"shape {w.shape}")
    per_sample = w[labels]
    return per_sample, per_sample.sum()


def _per_sample_grad_scale(grad, per_sample_w, denom, reduction):
    """d loss / d loss_i for each sample i (a scalar when every sample is weighted alike)."""
    g = grad / denom if reduction == "mean" else grad
    return g if per_sample_w is None else g * per_sample_w


class CrossEntropy(Function):
    """loss_i = -w[y_i] log softmax(x_i)[y_i], with log-softmax and the pick fused in one node.

    Forward subtracts each row's max before exp, so logits of ±1000 are fine. Backward is
    (softmax - onehot) scaled by the output gradient, made by subtracting at the label
    positions instead of building a one-hot matrix.
    """

    def forward(self, logits, labels=None, per_sample_w=None, denom=1, reduction="mean"):
        rows = np.arange(len(labels))
        m = logits.max(axis=1, keepdims=True)
        if not np.isfinite(m).all():  # a row of -inf (or inf, nan) must not become nan here
            m = np.where(np.isfinite(m), m, 0)
        shifted = logits - m  # (N, C); every row's max is now 0, so exp cannot overflow
        probs = np.exp(shifted)
        total = probs.sum(axis=1, keepdims=True)  # (N, 1), >= 1
        losses = np.log(total[:, 0]) - shifted[rows, labels]  # -log softmax at the label
        probs /= total  # softmax, kept for backward
        self.save_for_backward(probs, rows, labels, per_sample_w, denom, reduction)
        if per_sample_w is not None:
            losses *= per_sample_w
        if reduction == "mean":
            return losses.sum() / denom
        return losses.sum() if reduction == "sum" else losses

    def backward(self, grad):
        probs, rows, labels, per_sample_w, denom, reduction = self.saved
        scale = _per_sample_grad_scale(grad, per_sample_w, denom, reduction)
        if scale.ndim:
            gx = probs * scale[:, None]  # (N, C) * (N, 1)
        else:
            gx = probs * scale
        gx[rows, labels] -= scale  # minus the one-hot, without building it
        return gx


def cross_entropy(input: Tensor, target, weight=None, reduction: str = "mean") -> Tensor:
    """-log softmax(input)[target] for (N, C) logits and N integer labels, averaged."""
    _check_reduction(reduction, "cross_entropy")
    input = _class_scores(input, "cross_entropy")
    labels = _class_labels(target, input.shape, "cross_entropy")
    per_sample_w, denom = _class_weights(weight, labels, input.shape[1], input.dtype,
                                         "cross_entropy")
    return CrossEntropy.apply(input, labels=labels, per_sample_w=per_sample_w, denom=denom,
                              reduction=reduction)


class NLLLoss(Function):
    """loss_i = -w[y_i] x_i[y_i] for log-probabilities x (the output of log_softmax)."""

    def forward(self, logp, labels=None, per_sample_w=None, denom=1, reduction="mean"):
        rows = np.arange(len(labels))
        losses = -logp[rows, labels]
        if per_sample_w is not None:
            losses *= per_sample_w
        self.save_for_backward(logp.shape, rows, labels, per_sample_w, denom, reduction)
        if reduction == "mean":
            return np.sum(losses) / denom
        return np.sum(losses) if reduction == "sum" else losses

    def backward(self, grad):
        shape, rows, labels, per_sample_w, denom, reduction = self.saved
        gx = np.zeros(shape, dtype=grad.dtype)
        gx[rows, labels] = -_per_sample_grad_scale(grad, per_sample_w, denom, reduction)
        return gx


def nll_loss(input: Tensor, target, weight=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of (N, C) log-probabilities at N integer labels."""
    _check_reduction(reduction, "nll_loss")
    input = _class_scores(input, "nll_loss")
    labels = _class_labels(target, input.shape, "nll_loss")
    per_sample_w, denom = _class_weights(weight, labels, input.shape[1], input.dtype, "nll_loss")
    return NLLLoss.apply(input, labels=labels, per_sample_w=per_sample_w, denom=denom,
                         reduction=reduction)
