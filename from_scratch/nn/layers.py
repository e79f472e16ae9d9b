"""Layers: Linear and LazyLinear, activations, Flatten, Identity, Dropout; and nn.summary.

Every layer is a Module whose forward calls the library's ops, so autograd needs nothing new,
except Dropout, whose random mask is a small Function of its own.
"""

from __future__ import annotations

import math

import numpy as np

from .. import functional as F
from .. import ops
from ..autograd import no_grad
from ..tensor import Tensor, as_tensor, get_default_dtype
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x Wᵀ + b, with weight W of shape (out_features, in_features) as in PyTorch.

    Default init (PyTorch's): W ~ kaiming_uniform_(a=√5), which is U(-1/√in, 1/√in), and
    b ~ U(-1/√in, 1/√in). Call nn.init functions on .weight for He or Xavier instead.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features")
        self.out_features = _positive_int(out_features, "out_features")
        dtype = np.dtype(dtype or get_default_dtype())
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype), dtype=dtype)
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype), dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights with PyTorch's default init (see the class docstring)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        # self._parameters[...], not self.weight: that goes through Module.__getattr__, a
        # Python call that costs more than the checks below (this runs every step).
        weight, bias = self._parameters["weight"], self._parameters["bias"]
        if not isinstance(x, Tensor):
            x = _as_input(x, weight.data.dtype)
        data = x.data
        if data.ndim == 0 or data.shape[-1] != self.in_features or data.dtype != weight.data.dtype:
            self._reject_input(x)
        # One graph node (ops.Linear); what F.linear does, without checking x a second time.
        if bias is None:
            return ops.Linear.apply(x, weight)
        return ops.Linear.apply(x, weight, bias)

    def _reject_input(self, x: Tensor) -> None:
        """Raise the error that says what is wrong with an input forward cannot take."""
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r} got input of shape {x.shape}; expected (..., {self.in_features}). "
                f"If the input is images or any (N, H, W) array, flatten it first: put "
                f"nn.Flatten() before this layer, or use x.reshape(len(x), -1).")
        raise TypeError(
            f"{self!r} has {self.weight.dtype} weights but got a {x.dtype} input; convert "
            f"the input (x.astype(np.{self.weight.dtype})) so the model stays in one dtype")

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class LazyLinear(Linear):
    """A Linear whose in_features is read from the first input; it then becomes a Linear.

    Its parameters do not exist before that first call: run one batch (or nn.summary)
    before building the optimizer, so that model.parameters() contains them.
    """

    _is_lazy = True

    def __init__(self, out_features: int, bias: bool = True, dtype=None):
        Module.__init__(self)
        self.in_features = None
        self.out_features = _positive_int(out_features, "out_features")
        self._dtype = np.dtype(dtype or get_default_dtype())
        self._use_bias = bool(bias)
        self.register_parameter("weight", None)
        self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        x = _as_input(x, self._dtype)
        if x.ndim == 0:
            raise ValueError(f"{self!r} needs an input with a feature axis, got a scalar")
        self.in_features = int(x.shape[-1])
        shape = (self.out_features, self.in_features)
        self.weight = Parameter(np.empty(shape, self._dtype), dtype=self._dtype)
        if self._use_bias:
            self.bias = Parameter(np.empty(self.out_features, self._dtype), dtype=self._dtype)
        self.reset_parameters()
        self.__class__ = Linear  # from now on it is an ordinary Linear (as in PyTorch)
        return self.forward(x)

    def extra_repr(self) -> str:
        return f"out_features={self.out_features}, bias={self._use_bias}"


def _as_input(x, dtype) -> Tensor:
    """Tensors pass unchanged; arrays and lists become Tensors, floats in the layer's dtype
    (so a float64 NumPy array, the NumPy default, feeds a float32 model)."""
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    return as_tensor(arr.astype(dtype, copy=False) if arr.dtype.kind == "f" else arr)


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


# ----------------------------------------------------------------------------- activations


class ReLU(Module):
    """max(x, 0) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class Sigmoid(Module):
    """1 / (1 + e^-x) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to switch a layer off)."""

    def __init__(self, *args, **kwargs):
        super().__init__()  # arguments are accepted and ignored, as in PyTorch

    def forward(self, x):
        return x


class Flatten(Module):
    """Merge axes start_dim..end_dim into one: (N, 1, 28, 28) -> (N, 784) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        x = as_tensor(x)
        shape = x.shape
        start, end = self.start_dim % max(x.ndim, 1), self.end_dim % max(x.ndim, 1)
        if x.ndim == 0 or start > end:
            raise ValueError(f"{self!r} cannot flatten an input of shape {shape}")
        # math.prod rather than -1, so that an empty batch (0, 28, 28) still reshapes.
        return x.reshape(*shape[:start], math.prod(shape[start:end + 1]), *shape[end + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


# ----------------------------------------------------------------------------- dropout


class Dropout(Module):
    """Inverted dropout in training mode, the identity in eval mode (model.eval())."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be between 0 and 1, got {p}")
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


# ----------------------------------------------------------------------------- summary


class ModelSummary:
    """The result of nn.summary: printing it shows the table; the numbers are attributes."""

    def __init__(self, model_name, rows, input_shape, output_shape, dtype, total_params,
                 trainable_params, total_bytes):
        self.model_name = model_name
        self.rows = rows  # (name, type, output shape, new params, param bytes, shared?)
        self.input_shape, self.output_shape, self.dtype = input_shape, output_shape, dtype
        self.total_params, self.trainable_params = total_params, trainable_params
        self.total_bytes = total_bytes

    def __str__(self) -> str:
        header = ("Layer (type)", "Output shape", "Param #", "Param memory")
        body = [(f"{name} ({kind})" if name else kind, str(shape),
                 f"{n:,}" + (" (shared)" if shared else ""), _format_bytes(nbytes))
                for name, kind, shape, n, nbytes, shared in self.rows]
        widths = [max(len(r[i]) for r in [header] + body) for i in range(4)]

        def line(r):
            return "  ".join(r[i].ljust(widths[i]) if i < 2 else r[i].rjust(widths[i])
                             for i in range(4)).rstrip()

        rule = "=" * len(line(header))
        return "\n".join(
            [f"{self.model_name} summary, input {self.input_shape} {self.dtype}", rule,
             line(header), "-" * len(rule)] + [line(r) for r in body] + [
                rule, f"Output shape: {self.output_shape}",
                f"Total params: {self.total_params:,}, {self.total_bytes:,} bytes "
                f"({_format_bytes(self.total_bytes)})",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.total_params - self.trainable_params:,}"])

    __repr__ = __str__


def _format_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024**2:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024**2:.1f} MB"


def _shape_of(out):
    if isinstance(out, (Tensor, np.ndarray)):
        return tuple(out.shape)
    if isinstance(out, (tuple, list)):
        return [_shape_of(o) for o in out]
    return type(out).__name__


def summary(model: Module, input_shape: tuple, dtype=None) -> ModelSummary:
    """Run model on zeros of `input_shape` (batch axis included) under no_grad and in eval
    mode, and return a table of layers, output shapes, parameter counts and memory.

    Shared parameters are counted once. Training modes are restored afterwards; lazy layers
    are materialised, exactly as a first real forward pass would do.
    """
    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    input_shape = tuple(int(n) for n in input_shape)
    if dtype is None:
        first = next(model.parameters(), None)
        dtype = first.dtype if first is not None else get_default_dtype()
    names = {id(m): name for name, m in model.named_modules()}
    calls = []  # (module, output) in the order the forward passes finish
    handles = [m.register_forward_hook(lambda m, args, out: calls.append((m, _shape_of(out))))
               for m in model.modules()]
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()  # Dropout off: no random numbers drawn, the chapter's RNG is untouched
        with no_grad():
            out = model(Tensor(np.zeros(input_shape, dtype=dtype), dtype=dtype))
    finally:
        for handle in handles:
            handle.remove()
        for m, mode in modes:
            object.__setattr__(m, "training", mode)

    counted, rows = set(), []
    for m, shape in calls:
        own = [p for p in m._parameters.values() if p is not None]
        if m._modules and not own:
            continue  # a container: its layers have rows of their own
        new = [p for p in own if id(p) not in counted]
        counted.update(id(p) for p in new)
        rows.append((names.get(id(m), "?"), type(m).__name__, shape, sum(p.size for p in new),
                     sum(p.data.nbytes for p in new), len(new) < len(own)))
    params = list(model.parameters())  # each once
    return ModelSummary(type(model).__name__, rows, input_shape, _shape_of(out),
                        np.dtype(dtype), sum(p.size for p in params),
                        sum(p.size for p in params if p.requires_grad),
                        sum(p.data.nbytes for p in params))
