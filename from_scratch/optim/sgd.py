"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay.

PyTorch's rule, for gradient g of parameter θ, learning rate γ, momentum μ, dampening τ,
weight decay λ (b is the momentum buffer, started as a copy of the first g):

    g ← g + λ θ                              if λ ≠ 0
    b ← μ b + (1 - τ) g                      if μ ≠ 0 (b ← g on the first step)
    g ← g + μ b  if Nesterov, else  g ← b
    θ ← θ - γ g
"""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_hyperparameters


class SGD(Optimizer):
    """Gradient descent: θ ← θ - lr · g, optionally with momentum and weight decay."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        check_hyperparameters(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening")
        # Python floats, never NumPy scalars: float32 arrays times a np.float64 would
        # become float64 (NumPy 2 promotion rules).
        super().__init__(params, dict(lr=float(lr), momentum=float(momentum),
                                      dampening=float(dampening),
                                      weight_decay=float(weight_decay), nesterov=bool(nesterov)))

    def update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, momentum = float(group["lr"]), float(group["momentum"])
        weight_decay, dampening = float(group["weight_decay"]), float(group["dampening"])
        if weight_decay != 0:
            grad = grad + weight_decay * param  # a new array: p.grad stays what backward made
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                buf *= momentum
                buf += grad if dampening == 0 else (1 - dampening) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param -= lr * grad  # in place: the model's array is this array
