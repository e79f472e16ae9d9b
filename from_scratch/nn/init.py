"""Weight initialisers with PyTorch's names and conventions (torch.nn.init).

Each function fills the tensor's array in place with values drawn from the library's generator
(`fs.manual_seed` makes them reproducible), keeps the tensor's dtype, and returns the tensor.

Fan conventions (PyTorch's): for a weight of shape (out, in, *kernel), fan_in = in * prod(kernel)
and fan_out = out * prod(kernel). So nn.Linear's weight of shape (out_features, in_features) has
fan_in = in_features.

Why these scales: with y = W x and independent entries, Var(y) = fan_in * Var(W) * E[x²]. He
(Kaiming) keeps E[y²] constant through ReLU layers with Var(W) = 2 / fan_in; Glorot (Xavier)
balances the forward and backward passes of linear/tanh layers with Var(W) = 2 / (fan_in +
fan_out). Too small and activations shrink to 0 with depth; too large and they explode.
"""

from __future__ import annotations

import math

import numpy as np

from ..random import default_generator
from ..tensor import Tensor

_LINEAR_GAIN_NAMES = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                      "conv_transpose2d", "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' scale through `nonlinearity` (torch's table):
    1 for linear and sigmoid, 5/3 for tanh, √2 for relu, √(2 / (1 + slope²)) for leaky_relu."""
    if nonlinearity in _LINEAR_GAIN_NAMES:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}; use one of "
                     f"{', '.join(_LINEAR_GAIN_NAMES + ('tanh', 'relu', 'leaky_relu', 'selu'))}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel)."""
    shape = _array(tensor).shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with at least 2 dimensions "
                         f"(out, in, ...), got shape {shape}; a bias has no fan: initialise "
                         f"it with uniform_ or zeros_")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' (keeps the forward pass's scale) or "
                         f"'fan_out' (keeps the backward pass's scale), got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _array(tensor, random: bool = True) -> np.ndarray:
    arr = tensor.data if isinstance(tensor, Tensor) else tensor
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"init functions fill a Tensor (or NumPy array) in place, got "
                        f"{type(tensor).__name__}")
    if random and arr.dtype not in (np.float32, np.float64):
        raise TypeError(f"init functions fill float32 or float64 tensors, this one is "
                        f"{arr.dtype}")
    return arr


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples of U(a, b)."""
    arr = _array(tensor)
    gen = generator or default_generator()
    # Drawn directly in the tensor's dtype; a, b as Python floats so float32 stays float32.
    values = gen.random(arr.shape, dtype=arr.dtype)
    values *= float(b) - float(a)
    values += float(a)
    arr[...] = values
    return tensor


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples of N(mean, std²)."""
    arr = _array(tensor)
    gen = generator or default_generator()
    values = gen.standard_normal(arr.shape, dtype=arr.dtype)
    values *= float(std)
    values += float(mean)
    arr[...] = values
    return tensor


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the value `val`."""
    _array(tensor, random=False)[...] = val
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot: U(-a, a) with a = gain · √(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std  # U(-a, a) has standard deviation a / √3
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot: N(0, std²) with std = gain · √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He: U(-bound, bound) with bound = gain · √(3 / fan); gain from `nonlinearity` (and the
    negative slope `a` for leaky_relu)."""
    if 0 in _array(tensor).shape:
        return tensor  # nothing to fill (and the fan would be 0)
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He: N(0, std²) with std = gain / √fan."""
    if 0 in _array(tensor).shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)
