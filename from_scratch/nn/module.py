"""Parameter and Module: the inventory of a model (the containers are in containers.py).

A `Module` keeps an inventory of what it owns. Assigning `self.fc = nn.Linear(...)` or
`self.w = nn.Parameter(...)` inside `__init__` goes through `__setattr__`, which files the
value under `_modules` or `_parameters`; `parameters()`, `state_dict()` and `train()` then
walk that inventory. Nothing else is registered: a plain Tensor attribute (a cached input, a
constant) is not a parameter, and a buffer must be declared with `register_buffer`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Callable, NamedTuple

import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that requires grad and that a Module registers when assigned as an attribute."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        if isinstance(data, Tensor) and dtype is None:
            # Like torch.nn.Parameter(t): share t's array, so in-place init is seen by both.
            Tensor.__init__(self, 0.0)
            self.data = data.data
            self.requires_grad = requires_grad
        else:
            Tensor.__init__(self, data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` skipped: keys the model has and the dict lacks,
    and keys the dict has and the model lacks."""

    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class of every layer and model: subclass it, assign layers and Parameters in
    `__init__` (after `super().__init__()`), and write `forward`."""

    _is_lazy = False  # True for layers whose parameters exist only after a first call

    def __init__(self):
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        """What model(x) computes; every subclass defines it."""
        raise NotImplementedError(
            f"{type(self).__name__} has no forward(): define `def forward(self, x):` in the "
            f"class (it is what model(x) runs)")

    def __call__(self, *args, **kwargs):
        """model(x) runs forward(x), then any forward hooks."""
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, args, out)
                if result is not None:
                    out = result
        return out

    # ------------------------------------------------------------------ registration

    def __setattr__(self, name: str, value) -> None:
        params = self.__dict__.get("_parameters")
        if params is None:
            if isinstance(value, (Parameter, Module)):
                kind = "a Parameter" if isinstance(value, Parameter) else "a Module"
                raise AttributeError(
                    f"cannot assign {kind} to '{name}' before Module.__init__() has run: call "
                    f"super().__init__() first in {type(self).__name__}.__init__")
            object.__setattr__(self, name, value)
            return
        buffers = self._buffers
        if isinstance(value, Parameter):
            self._unregister(name, keep=params)
            params[name] = value
        elif isinstance(value, Module):
            self._unregister(name, keep=self._modules)
            self._modules[name] = value
        elif name in buffers and (value is None or isinstance(value, (Tensor, np.ndarray))):
            buffers[name] = _as_buffer(value)  # a buffer stays a buffer (as in PyTorch)
        elif name in params and value is None:
            params[name] = None  # `self.bias = None`: an absent parameter, as in PyTorch
        else:
            # Anything else is a plain attribute; a parameter, buffer or module of the same
            # name is unregistered, so no stale entry lingers in parameters() or state_dict().
            self._unregister(name)
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # Only called when normal lookup fails: look in the registries, else fail loudly.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = d.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(self._missing_attribute_message(name))

    def __delattr__(self, name: str) -> None:
        if not self._unregister(name):
            object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` (or None, for an absent optional parameter) under `name`."""
        self._check_new_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot register a {type(param).__name__} as parameter '{name}': "
                            f"wrap it as nn.Parameter(value)")
        self._unregister(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Register state that is not trained (a running mean, a constant mask): it is
        saved in state_dict (unless persistent=False) but never given to an optimizer."""
        self._check_new_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, (Tensor, np.ndarray)):
            raise TypeError(f"buffer '{name}' must be a Tensor, a NumPy array or None, "
                            f"got {type(tensor).__name__}")
        self._unregister(name, keep=self._buffers)
        self._buffers[name] = _as_buffer(tensor)
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a sub-module under `name` (what `self.name = module` does)."""
        self._check_new_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(_not_a_module_message(module, f"sub-module '{name}'"))
        self._unregister(name, keep=self._modules)
        self._modules[name] = module

    def register_forward_hook(self, hook: Callable) -> _HookHandle:
        """Call hook(module, inputs, output) after every forward; returns a handle whose
        remove() takes the hook off again. Used by nn.summary and to record activations."""
        handle = _HookHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------ the inventory

    def named_modules(self, prefix: str = "", remove_duplicate: bool = True
                      ) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every descendant, parents first."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m)
                        for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every descendant, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for the direct sub-modules, each once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct sub-modules, each once."""
        for _, module in self.named_children():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) such as ('layers.0.weight', W). A parameter shared by two
        modules is listed once, under its first name, so an optimizer steps it once."""
        yield from self._named_tensors("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter of the model, each once (give this to an optimizer)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) for every registered buffer, each once."""
        yield from self._named_tensors("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer of the model, each once."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def _named_tensors(self, registry, prefix, recurse, remove_duplicate):
        seen = set()  # by id(): Tensor == is elementwise, so `p in list` would be wrong
        modules = (self.named_modules(prefix, remove_duplicate) if recurse
                   else [(prefix, self)])
        for module_name, module in modules:
            for name, t in getattr(module, registry).items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield (f"{module_name}.{name}" if module_name else name), t

    # ------------------------------------------------------------------ modes and grads

    def train(self, mode: bool = True) -> Module:
        """Set training mode here and in every sub-module (Dropout reads it); returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """train(False): evaluation mode (Dropout becomes the identity)."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget the gradients of every parameter (set them to None, as PyTorch does)."""
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter; returns self."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call fn(m) on every sub-module, children first, then on self (e.g. to init)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ saving and loading

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and persistent buffer by dotted name, in model order.

        Unlike PyTorch (whose state_dict shares memory), these are snapshots: keeping
        `best = model.state_dict()` is safe while training goes on.
        """
        return {name: t.data.copy() for name, t in self._state_tensors().items()}

    def load_state_dict(self, state_dict: Mapping, strict: bool = True) -> IncompatibleKeys:
        """Copy values into the existing parameter and buffer arrays (an optimizer holding
        them sees the new values; the model's dtypes are kept).

        With strict=True every missing key, unexpected key and shape mismatch is reported at
        once, by name, and nothing is changed. strict=False skips missing and unexpected keys.
        """
        if not isinstance(state_dict, Mapping):
            hint = (" (to copy another model, pass other.state_dict())"
                    if isinstance(state_dict, Module) else "")
            raise TypeError(f"load_state_dict expects a dict name -> array, such as "
                            f"model.state_dict() or fs.load(path), got "
                            f"{type(state_dict).__name__}{hint}")
        own = self._state_tensors()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems, values = [], {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = value.data if isinstance(value, Tensor) else np.asarray(value)
            if value.dtype.kind not in "fiub":
                problems.append(f"'{key}': the value has dtype {value.dtype}, not a number")
            elif value.shape != target.shape:
                problems.append(f"size mismatch for '{key}': the dict has shape {value.shape}, "
                                f"the model has {target.shape}")
            elif not np.can_cast(value.dtype, target.dtype, casting="same_kind"):
                problems.append(f"'{key}': cannot store dtype {value.dtype} in the model's "
                                f"{target.dtype}")
            else:
                values[key] = value
        if strict:
            if missing:
                problems.append("missing key(s): " + ", ".join(map(repr, missing)))
            if unexpected:
                problems.append("unexpected key(s): " + ", ".join(map(repr, unexpected)))
        if problems:
            if any(m._is_lazy for m in self.modules()):
                problems.append("this model has lazy layers without parameters yet: run one "
                                "forward pass (e.g. model(x[:1])) before loading")
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n  "
                               + "\n  ".join(problems) + "\nNothing was changed.")
        for key, value in values.items():
            np.copyto(own[key].data, value, casting="same_kind")  # in place: same arrays
        return IncompatibleKeys(missing, unexpected)

    def _state_tensors(self) -> dict[str, Tensor]:
        """name -> Tensor for state_dict: every name, shared tensors under each of their names
        (as PyTorch), so a checkpoint loads into a model whichever name it looks up."""
        out = {}
        for module_name, module in self.named_modules(remove_duplicate=False):
            prefix = f"{module_name}." if module_name else ""
            for name, p in module._parameters.items():
                if p is not None:
                    out[prefix + name] = p
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    out[prefix + name] = b
        return out

    # ------------------------------------------------------------------ display

    def extra_repr(self) -> str:
        """The text between the parentheses of repr, e.g. 'in_features=2, out_features=3'."""
        return ""

    def __repr__(self) -> str:
        lines = self.extra_repr().split("\n") if self.extra_repr() else []
        for name, module in self._modules.items():
            if module is not None:
                lines.append(f"({name}): " + repr(module).replace("\n", "\n  "))
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def summary(self, input_shape: tuple, dtype=None):
        """nn.summary(self, input_shape): a table of layers, output shapes and parameters."""
        from .layers import summary

        return summary(self, input_shape, dtype=dtype)

    # ------------------------------------------------------------------ helpers

    def _unregister(self, name: str, keep: dict | None = None) -> bool:
        """Remove `name` from every registry but `keep` and from the plain attributes.
        (Replacing an entry in `keep` then keeps its place: ModuleList[i] = m stays at i.)"""
        found = False
        for registry in (self._parameters, self._buffers, self._modules, self.__dict__):
            if name in registry and registry is not keep:
                del registry[name]
                found = True
        self._non_persistent.discard(name)
        return found

    def _check_new_name(self, name, kind: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot register a {kind} before Module.__init__() has run: "
                                 f"call super().__init__() first in {type(self).__name__}."
                                 f"__init__")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{kind} name must be a non-empty string without '.', got {name!r}")
        registered = name in self._parameters or name in self._buffers or name in self._modules
        if not registered and hasattr(type(self), name):
            raise KeyError(f"cannot use '{name}' as a {kind} name: {type(self).__name__} "
                           f"already has an attribute '{name}'")

    def _missing_attribute_message(self, name: str) -> str:
        message = f"'{type(self).__name__}' object has no attribute '{name}'"
        if name.startswith("__") and name.endswith("__"):
            return message  # a protocol probe (copy, NumPy, IPython): no hint, stay fast
        d = self.__dict__
        if "_parameters" not in d:
            return message + f" (did {type(self).__name__}.__init__ call super().__init__()?)"
        known = (list(d) + list(d["_parameters"]) + list(d["_buffers"]) + list(d["_modules"])
                 + [a for a in dir(type(self)) if not a.startswith("__")])
        close = difflib.get_close_matches(name, known, n=1)
        return message + (f". Did you mean '{close[0]}'?" if close else "")


class _HookHandle:
    """Returned by register_forward_hook; remove() unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self.hooks = hooks
        self.id = _HookHandle._next_id
        _HookHandle._next_id += 1

    def remove(self) -> None:
        """Take the hook off (calling it twice is harmless)."""
        self.hooks.pop(self.id, None)


def _as_buffer(value) -> Tensor | None:
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor(value, dtype=value.dtype)  # keep the array's dtype (no float32 cast)


def _not_a_module_message(obj, what: str) -> str:
    if isinstance(obj, type) and issubclass(obj, Module):
        return f"{what} is the class {obj.__name__}, not a module: write {obj.__name__}() " \
               f"with parentheses"
    if callable(obj):
        name = getattr(obj, "__name__", type(obj).__name__)
        return f"{what} is the function {name}, not a Module: use the module form, " \
               f"e.g. nn.ReLU() instead of F.relu"
    return f"{what} must be a Module, got {type(obj).__name__}"
