"""RMSprop and Adagrad: divide each step by a running size of the gradient.

RMSprop (PyTorch's rule; α the smoothing constant, μ the momentum):

    g ← g + λ θ                          if λ ≠ 0
    v ← α v + (1 - α) g²
    a ← α a + (1 - α) g;  d ← √(v - a²)  if centered (an estimate of the variance)
    d ← √v                               otherwise
    b ← μ b + g / (d + ε);  θ ← θ - γ b  if μ > 0
    θ ← θ - γ g / (d + ε)                otherwise

Adagrad (s starts at initial_accumulator_value, t counts steps from 1):

    g ← g + λ θ                          if λ ≠ 0
    s ← s + g²
    θ ← θ - γ / (1 + (t - 1) η) · g / (√s + ε)     η the lr_decay
"""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_hyperparameters


class RMSprop(Optimizer):
    """Divide the gradient by a running root-mean-square of its recent values (Hinton, 2012)."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        check_hyperparameters(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                              momentum=momentum)
        super().__init__(params, dict(lr=float(lr), alpha=float(alpha), eps=float(eps),
                                      weight_decay=float(weight_decay), momentum=float(momentum),
                                      centered=bool(centered)))

    def update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        weight_decay, momentum = float(group["weight_decay"]), float(group["momentum"])
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
        # Created when first needed, so options switched on mid-training work too.
        if momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(param)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = np.zeros_like(param)
        state["step"] = int(state["step"]) + 1

        if weight_decay != 0:
            grad = grad + weight_decay * param
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * np.square(grad)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1 - alpha) * grad
            avg = np.sqrt(square_avg - np.square(grad_avg))
        else:
            avg = np.sqrt(square_avg)
        avg += eps
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += grad / avg
            param -= lr * buf
        else:
            step = lr * grad
            step /= avg
            param -= step


class Adagrad(Optimizer):
    """Per-coordinate steps that shrink with the sum of all past squared gradients (Duchi)."""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        check_hyperparameters(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                              initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, dict(lr=float(lr), lr_decay=float(lr_decay),
                                      weight_decay=float(weight_decay),
                                      initial_accumulator_value=float(initial_accumulator_value),
                                      eps=float(eps)))

    def update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        weight_decay = float(group["weight_decay"])
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param, float(group["initial_accumulator_value"]))
        step = state["step"] = int(state["step"]) + 1

        if weight_decay != 0:
            grad = grad + weight_decay * param
        clr = lr / (1 + (step - 1) * lr_decay)
        state["sum"] += np.square(grad)
        std = np.sqrt(state["sum"])
        std += eps
        update = clr * grad
        update /= std
        param -= update
