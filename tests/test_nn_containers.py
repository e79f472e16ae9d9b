"""Tests of Sequential, ModuleList and ModuleDict (from_scratch/nn/containers.py)."""

import numpy as np
import pytest

import from_scratch as fs
from from_scratch import nn


def test_sequential_positional_indexing_slicing_len_iter():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3 and list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[2]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    x = fs.randn(4, 2)
    np.testing.assert_array_equal(model(x).data, layers[2](layers[1](layers[0](x))).data)
    with pytest.raises(IndexError, match="out of range for a Sequential of length 3"):
        model[3]
    model.append(nn.Sigmoid())
    assert len(model) == 4 and isinstance(model[3], nn.Sigmoid)


def test_sequential_accepts_an_ordered_dict_of_names():
    model = nn.Sequential({"hidden": nn.Linear(2, 3), "act": nn.ReLU(), "out": nn.Linear(3, 1)})
    assert [n for n, _ in model.named_parameters()] == [
        "hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert model.hidden is model[0]


def test_sequential_refuses_non_modules_with_a_fix():
    with pytest.raises(TypeError, match=r"class ReLU.*ReLU\(\) with parentheses"):
        nn.Sequential(nn.Linear(2, 2), nn.ReLU)
    with pytest.raises(TypeError, match=r"function relu.*nn.ReLU\(\)"):
        nn.Sequential(fs.functional.relu)


def test_names_sort_numerically():
    model = nn.Sequential(*[nn.Linear(1, 1) for _ in range(12)])
    names = [n for n, _ in model.named_parameters()]
    assert names[::2] == [f"{i}.weight" for i in range(12)]  # 10 and 11 after 9, not after 1
    assert list(model.state_dict())[-2:] == ["11.weight", "11.bias"]
    assert "(11): Linear" in repr(model).splitlines()[-2]


def test_module_list_append_extend_insert_index_delete():
    a, b, c, d = (nn.Linear(1, 1) for _ in range(4))
    ml = nn.ModuleList([a])
    ml.append(b)
    ml.extend([c])
    ml.insert(0, d)
    assert list(ml) == [d, a, b, c] and len(ml) == 4
    assert list(ml._modules) == ["0", "1", "2", "3"]
    assert ml[-1] is c and list(ml[1:3]) == [a, b]
    del ml[0]
    assert list(ml) == [a, b, c] and list(ml._modules) == ["0", "1", "2"]
    ml[0] = d
    assert ml[0] is d
    assert len(list(ml.parameters())) == 6
    with pytest.raises(NotImplementedError, match="loop over it"):
        ml(fs.zeros(1))


def test_python_list_is_not_registered_but_module_list_is():
    class WithList(nn.Module):
        def __init__(self, kind):
            super().__init__()
            self.layers = kind([nn.Linear(2, 2), nn.Linear(2, 2)])

    assert len(list(WithList(list).parameters())) == 0
    assert [n for n, _ in WithList(nn.ModuleList).named_parameters()][:2] == [
        "layers.0.weight", "layers.0.bias"]


def test_module_dict():
    md = nn.ModuleDict({"enc": nn.Linear(2, 3)})
    md["dec"] = nn.Linear(3, 2)
    assert list(md) == ["enc", "dec"] and "dec" in md and len(md) == 2
    assert [n for n, _ in md.named_parameters()][2:] == ["dec.weight", "dec.bias"]
    assert md.pop("enc").out_features == 3 and list(md.keys()) == ["dec"]
    with pytest.raises(KeyError, match="did you mean 'dec'"):
        md["dex"]
    md.update([("z10", nn.ReLU()), ("z2", nn.ReLU())])
    assert list(md) == ["dec", "z10", "z2"]  # insertion order, never re-sorted
