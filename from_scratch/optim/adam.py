"""Adam and AdamW: a step per parameter scaled by running averages of g and g².

PyTorch's rule, for gradient g of parameter θ at step t (from 1), learning rate γ:

    g ← g + λ θ                           Adam's weight decay (an L2 penalty in the gradient)
    θ ← θ (1 - γ λ)                       AdamW's instead: decoupled from the gradient
    m ← β₁ m + (1 - β₁) g                 running mean of the gradient
    v ← β₂ v + (1 - β₂) g²                running mean of its square
    v̂ ← max(v̂, v)                         AMSGrad only: the denominator never shrinks
    θ ← θ - γ / (1 - β₁ᵗ) · m / (√v / √(1 - β₂ᵗ) + ε)

The (1 - βᵗ) factors correct the bias of m and v towards their zero start.
"""

from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer, check_hyperparameters


class Adam(Optimizer):
    """Adaptive moment estimation (Kingma & Ba, 2015), with optional AMSGrad."""

    decoupled_weight_decay = False  # AdamW sets this

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        check_hyperparameters(lr=lr, eps=eps, weight_decay=weight_decay)
        beta1, beta2 = (float(b) for b in betas)
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError(f"invalid betas {tuple(betas)}: each must be in [0, 1)")
        super().__init__(params, dict(lr=float(lr), betas=(beta1, beta2), eps=float(eps),
                                      weight_decay=float(weight_decay), amsgrad=bool(amsgrad)))

    def update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, eps = float(group["lr"]), float(group["eps"])
        weight_decay = float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        step = state["step"] = int(state["step"]) + 1

        if weight_decay != 0:
            if self.decoupled_weight_decay:
                param *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * param
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * np.square(grad)
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])

        step_size = lr / (1 - beta1**step)
        denom = np.sqrt(v)
        denom /= math.sqrt(1 - beta2**step)
        denom += eps
        update = m * step_size
        update /= denom
        param -= update


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): θ shrinks by lr·λ·θ."""

    decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)
