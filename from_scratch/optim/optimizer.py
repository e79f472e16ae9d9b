"""Optimizer: the base class every update rule shares (PyTorch's torch.optim.Optimizer).

An optimizer holds the parameters in *groups* (each a dict with "params" and its own options,
such as a learning rate), a *state* per parameter (momentum buffers, running averages), and
a `step()` that applies the update rule in place: the arrays the optimizer writes into are
the arrays the model reads from. Subclasses only write `update`, the rule for one parameter.
"""

from __future__ import annotations

import numpy as np

from ..autograd import enable_grad
from ..tensor import Tensor


class Optimizer:
    """Base class: parameter groups, per-parameter state, zero_grad, step, state_dict."""

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        # Per-parameter state, keyed by the parameter itself (Tensors hash by identity).
        self.state: dict[Tensor, dict] = {}
        self.param_groups: list[dict] = []
        if isinstance(params, (Tensor, dict)):
            raise TypeError(
                f"params must be an iterable of Tensors or of dicts (parameter groups), got a "
                f"single {type(params).__name__}; wrap it in a list: [{type(params).__name__}]")
        groups = list(params)
        if not groups:
            raise ValueError(
                "the optimizer got an empty parameter list. Does the model define its "
                "parameters as nn.Parameter attributes? A generator such as "
                "model.parameters() can also only be consumed once.")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (missing ones take the defaults).

        A parameter already in the optimizer (listed twice, or in an earlier group) is left
        out, so that it is updated once per step. Duplicates are found by id(): Tensor == is
        elementwise, so `p in list` would compare values, not identities.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict with a 'params' key, got "
                            f"{type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group needs a 'params' entry (a list of Tensors)")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        unique = []
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"an optimizer can only optimize Tensors, got "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("cannot optimize a non-leaf tensor (the result of an "
                                 "operation); optimize the leaf tensors it was computed from")
            if p.data.dtype.kind != "f":
                raise TypeError(f"an optimizer can only optimize floating-point tensors, got "
                                f"one of dtype {p.data.dtype}")
            if id(p) not in seen:
                seen.add(id(p))
                unique.append(p)
        group = {"params": unique}
        for key, default in self.defaults.items():
            group[key] = param_group.get(key, default)
        for key, value in param_group.items():  # extra keys (e.g. "initial_lr") are kept
            group.setdefault(key, value)
        self.param_groups.append(group)

    # ------------------------------------------------------------------ the training loop

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of the last backward (they accumulate otherwise)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.fill(0)  # in place: keeps the array, as PyTorch's zero_()

    def step(self, closure=None):
        """Update every parameter that has a gradient; return closure()'s loss if given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:  # not used in this forward pass: nothing to do
                    continue
                state = self.state.setdefault(p, {})
                self.update(p.data, p.grad, state, group)
        return loss

    def update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        """Apply the update rule to one parameter's array, in place."""
        raise NotImplementedError(f"{type(self).__name__} must implement update(param, grad, "
                                  f"state, group)")

    # ------------------------------------------------------------------ saving and resuming

    def state_dict(self) -> dict:
        """{"state": {index: {name: array or number}}, "param_groups": [options + "params":
        [indices]]}, as PyTorch: parameters are referred to by their position, so the dict can
        be loaded into a new optimizer over a new (identically built) model."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            # Copies: the live arrays keep changing with every step.
            state[index[id(p)]] = {k: v.copy() if isinstance(v, np.ndarray) else v
                                   for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the state and options saved by state_dict(), so training resumes exactly."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"the saved state has {len(saved_groups)} parameter group(s) but "
                             f"this optimizer has {len(self.param_groups)}")
        by_index = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            indices = np.asarray(saved["params"]).reshape(-1).tolist()
            if len(indices) != len(group["params"]):
                raise ValueError(f"parameter group {i} has {len(group['params'])} parameters "
                                 f"but the saved one has {len(indices)}: was the optimizer "
                                 f"built over the same model?")
            by_index.update(zip((int(k) for k in indices), group["params"], strict=True))

        new_state = {}
        for key, saved in state_dict["state"].items():
            p = by_index.get(int(key))
            if p is None:
                raise ValueError(f"the saved state refers to parameter {key}, which no "
                                 f"parameter group lists")
            new_state[p] = {name: _restore(value, p, name) for name, value in saved.items()}
        self.state = new_state
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            for key, value in saved.items():
                if key != "params":
                    group[key] = _to_python(value)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def _to_python(value):
    """Numbers and tuples back from whatever a file format made of them (0-d or 1-d arrays)."""
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else tuple(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return tuple(value)
    return value


def _restore(value, p: Tensor, name: str):
    """A private copy of a saved state entry: arrays shaped like `p` take its dtype."""
    if isinstance(value, np.ndarray) and value.shape == p.data.shape:
        return np.array(value, dtype=p.data.dtype)
    if isinstance(value, np.ndarray) and value.ndim > 0:
        raise ValueError(f"saved state {name!r} has shape {value.shape} but the parameter has "
                         f"shape {p.data.shape}: was the optimizer built over the same model?")
    return _to_python(value)


def check_hyperparameters(**values: float) -> None:
    """Raise a ValueError naming the first negative option (learning rates, decays, eps)."""
    for name, value in values.items():
        if not value >= 0.0:  # also catches nan
            raise ValueError(f"invalid {name}: {value} (it must be >= 0)")
