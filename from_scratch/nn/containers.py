"""Containers: Sequential, ModuleList and ModuleDict.

They are Modules whose sub-modules are registered under their position ("0", "1", ...) or
their name, so a model built from them has dotted parameter names such as "layers.0.weight".
Order is insertion order everywhere: nothing is sorted, so "10" never comes before "2".
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Iterator, Mapping

from .module import Module


class Sequential(Module):
    """Modules applied one after the other: Sequential(nn.Linear(2, 8), nn.ReLU(), ...),
    or Sequential({'fc': ..., 'act': ...}) to name them."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x):
        """Feed x through each module in order."""
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(dict(items[index]))  # keeps the names, as PyTorch
        return items[_checked_index(index, len(items), "Sequential")][1]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def append(self, module: Module) -> Sequential:
        """Add a module at the end."""
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (a Python list's are not)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _renumber(self, modules: list) -> None:
        self._modules.clear()
        for i, module in enumerate(modules):
            self.add_module(str(i), module)

    def append(self, module: Module) -> ModuleList:
        """Add a module at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> ModuleList:
        """Add modules at the end, in order."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert a module before position `index`; the later ones are renumbered."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[_checked_index(index, len(modules), "ModuleList")]

    def __setitem__(self, index: int, module: Module) -> None:
        i = _checked_index(index, len(self), "ModuleList")
        self.add_module(str(i), module)

    def __delitem__(self, index) -> None:
        modules = list(self._modules.values())
        if not isinstance(index, slice):
            index = _checked_index(index, len(modules), "ModuleList")
        del modules[index]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def forward(self, *args, **kwargs):
        raise NotImplementedError("a ModuleList has no forward(): loop over it in your own "
                                  "module's forward, e.g. `for layer in self.layers: x = layer(x)`")


class ModuleDict(Module):
    """A dict of modules whose parameters are registered; keeps insertion order."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            close = difflib.get_close_matches(str(key), list(self._modules), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise KeyError(f"no module '{key}' in this ModuleDict (keys: "
                           f"{list(self._modules)}){hint}")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __contains__(self, key) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def keys(self):
        """The names, in insertion order."""
        return self._modules.keys()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self):
        """(name, module) pairs, in insertion order."""
        return self._modules.items()

    def pop(self, key: str) -> Module:
        """Remove the module called `key` and return it."""
        module = self[key]
        del self._modules[key]
        return module

    def update(self, modules) -> None:
        """Add (name, module) pairs from a dict or an iterable of pairs, in their order."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in pairs:
            self[key] = module

    def forward(self, *args, **kwargs):
        raise NotImplementedError("a ModuleDict has no forward(): pick modules by name in "
                                  "your own module's forward, e.g. self.heads['cls'](x)")


def _checked_index(index, length: int, container: str) -> int:
    """A non-negative position for `index`, or an IndexError that says the length."""
    try:
        i = operator.index(index)
    except TypeError:
        raise TypeError(f"{container} indices must be integers or slices, got "
                        f"{type(index).__name__}") from None
    if not -length <= i < length:
        raise IndexError(f"index {i} is out of range for a {container} of length {length}")
    return i % length
