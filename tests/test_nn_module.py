"""Tests of nn.Parameter, nn.Module and the containers (from_scratch/nn/module.py)."""

import copy

import numpy as np
import pytest

import from_scratch as fs
from from_scratch import nn


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2)
        self.scale = nn.Parameter(np.ones(2, dtype=np.float32))
        self.register_buffer("offset", np.full(2, 0.5, dtype=np.float32))
        self.cache = fs.tensor([1.0, 2.0], requires_grad=True)  # plain attribute, not a param

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale + self.offset


# ----------------------------------------------------------------------------- Parameter


def test_parameter_is_a_tensor_that_requires_grad_and_keeps_dtype():
    p = nn.Parameter(np.zeros((2, 3), dtype=np.float64), dtype=np.float64)
    assert isinstance(p, fs.Tensor) and p.requires_grad and p.dtype == np.float64
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    assert repr(nn.Parameter([1.0])).startswith("Parameter containing:\ntensor(")


def test_parameter_of_a_tensor_shares_its_array():
    t = fs.zeros(3)
    p = nn.Parameter(t)
    p.data[0] = 5.0
    assert t.data[0] == 5.0


# ----------------------------------------------------------------------------- registration


def test_setattr_registers_parameters_modules_and_buffers_only():
    m = TwoLayer()
    assert list(m._parameters) == ["scale"]
    assert list(m._modules) == ["fc1", "act", "fc2"]
    assert list(m._buffers) == ["offset"]
    ids = {id(p) for p in m.parameters()}
    assert id(m.cache) not in ids  # a plain Tensor attribute is not a parameter
    assert len(ids) == 5


def test_assigning_before_super_init_says_what_to_do():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)
            super().__init__()

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\).*super\(\).__init__"):
        Broken()

    class BrokenParam(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match="cannot assign a Parameter to 'w'"):
        BrokenParam()


def test_forgotten_super_init_gives_a_hint_on_attribute_access():
    class NoInit(nn.Module):
        def __init__(self):
            self.x = 1  # plain attributes are allowed before super().__init__()

    with pytest.raises(AttributeError, match=r"super\(\).__init__"):
        _ = NoInit().weight


def test_reassigning_a_name_unregisters_the_old_entry():
    m = TwoLayer()
    m.fc1 = nn.Parameter(np.zeros(2, dtype=np.float32))  # module -> parameter
    assert "fc1" not in m._modules and "fc1" in m._parameters
    m.fc1 = 3  # parameter -> plain value
    assert "fc1" not in m._parameters and m.fc1 == 3
    m.act = nn.Identity()  # module -> another module
    assert isinstance(m.act, nn.Identity) and list(m._modules) == ["act", "fc2"]  # in place
    m.offset = fs.tensor([9.0, 9.0])  # a Tensor assigned to a buffer name stays a buffer
    assert "offset" in m._buffers and m.offset.data[0] == 9.0
    m.offset = "gone"
    assert "offset" not in m._buffers and "offset" not in m.state_dict()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "fc2.weight", "fc2.bias"]


def test_delattr_unregisters():
    m = TwoLayer()
    del m.fc2
    assert "fc2" not in m._modules
    with pytest.raises(AttributeError):
        _ = m.fc2


def test_misspelled_attribute_raises_with_a_hint():
    lin = nn.Linear(2, 3)
    with pytest.raises(AttributeError, match=r"'Linear' object has no attribute 'wieght'\. "
                                             r"Did you mean 'weight'\?"):
        _ = lin.wieght
    with pytest.raises(AttributeError, match="no attribute 'zzz'$"):
        _ = lin.zzz


def test_call_runs_forward_and_base_forward_explains():
    m = TwoLayer()
    x = fs.randn(5, 3)
    np.testing.assert_array_equal(m(x).data, m.forward(x).data)

    class NoForward(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="def forward"):
        NoForward()(x)


def test_register_buffer_and_non_persistent_buffers():
    m = nn.Module()
    m.register_buffer("mean", np.arange(3, dtype=np.float64))
    m.register_buffer("tmp", fs.zeros(2), persistent=False)
    assert m.mean.dtype == np.float64  # a buffer keeps its array's dtype
    assert [n for n, _ in m.named_buffers()] == ["mean", "tmp"]
    assert list(m.state_dict()) == ["mean"]
    assert list(m.parameters()) == []
    with pytest.raises(TypeError, match="buffer 'x' must be a Tensor"):
        m.register_buffer("x", [1, 2])
    with pytest.raises(KeyError, match="without '.'"):
        m.register_buffer("a.b", fs.zeros(1))
    with pytest.raises(KeyError, match="already has an attribute 'train'"):
        m.register_buffer("train", fs.zeros(1))


def test_register_parameter_refuses_plain_tensors():
    m = nn.Module()
    with pytest.raises(TypeError, match=r"nn.Parameter\(value\)"):
        m.register_parameter("w", fs.zeros(2))


# ----------------------------------------------------------------------------- inventory


def test_named_parameters_children_and_named_modules():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 1)))
    assert [n for n, _ in model.named_parameters()] == [
        "0.weight", "0.bias", "2.0.weight", "2.0.bias"]
    assert [type(c).__name__ for c in model.children()] == ["Linear", "ReLU", "Sequential"]
    assert [n for n, _ in model.named_modules()] == ["", "0", "1", "2", "2.0"]
    inner = model[2]
    assert next(iter(model.named_modules()))[1] is model and list(inner.modules())[1] is inner[0]


def test_parameters_recurse_false():
    m = TwoLayer()
    assert [id(p) for p in m.parameters(recurse=False)] == [id(m.scale)]


class Tied(nn.Module):
    """The same Linear used twice, and its weight also held by a second module."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 2, bias=False)
        self.b = nn.Linear(2, 2, bias=False)
        self.b.weight = self.a.weight  # a shared parameter

    def forward(self, x):
        return self.b(self.a(x))


def test_shared_parameter_is_listed_once_stepped_once_and_its_grad_is_the_sum():
    fs.manual_seed(0)
    model = Tied()
    params = list(model.parameters())
    assert len(params) == 1 and params[0] is model.a.weight
    assert [n for n, _ in model.named_parameters()] == ["a.weight"]

    x = fs.randn(4, 2)
    w = model.a.weight.data.copy()
    model(x).sum().backward()
    # y = x Wᵀ Wᵀ; d sum(y) / dW = the sum of the two uses' gradients:
    g = np.ones((4, 2), dtype=np.float32)
    h = x.data @ w.T
    grad_first_use = (g @ w).T @ x.data  # through a: the grad arriving at h, times x
    grad_second_use = g.T @ h  # through b
    np.testing.assert_allclose(model.a.weight.grad, grad_first_use + grad_second_use, rtol=1e-5)

    lr = 0.1
    with fs.no_grad():  # a minimal SGD written here, over model.parameters()
        for p in model.parameters():
            p.data -= lr * p.grad
    np.testing.assert_allclose(model.a.weight.data, w - lr * (grad_first_use + grad_second_use),
                               rtol=1e-5)  # moved once, not twice
    assert model.b.weight is model.a.weight
    assert list(model.state_dict()) == ["a.weight", "b.weight"]  # every name, as in PyTorch


def test_shared_module_is_listed_once():
    lin = nn.Linear(2, 2)
    model = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_modules()] == ["", "0", "1"]
    assert len(list(model.children())) == 2


def test_train_eval_are_recursive_and_return_self():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_apply_and_requires_grad_():
    model = TwoLayer()
    model(fs.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())

    visited = []
    assert model.apply(lambda m: visited.append(type(m).__name__)) is model
    assert visited == ["Linear", "ReLU", "Linear", "TwoLayer"]  # children first

    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_forward_hook_sees_output_and_can_be_removed():
    lin = nn.Linear(2, 3)
    seen = []
    handle = lin.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    lin(fs.randn(4, 2))
    handle.remove()
    lin(fs.randn(5, 2))
    assert seen == [(4, 3)]


def test_deepcopy_keeps_sharing_and_is_independent():
    model = Tied()
    clone = copy.deepcopy(model)
    assert clone.a.weight is clone.b.weight and clone.a.weight is not model.a.weight
    clone.a.weight.data[...] = 0
    assert np.any(model.a.weight.data != 0)


# ----------------------------------------------------------------------------- state_dict


def test_state_dict_has_parameters_and_buffers_by_dotted_name_as_copies():
    m = TwoLayer()
    sd = m.state_dict()
    assert list(sd) == ["scale", "offset", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    sd["scale"][...] = 7.0  # a snapshot: changing it does not change the model
    assert m.scale.data[0] == 1.0


def test_load_state_dict_copies_into_the_existing_arrays():
    fs.manual_seed(0)
    src, dst = TwoLayer(), TwoLayer()
    arrays_before = [p.data for p in dst.parameters()]
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for a, p, q in zip(arrays_before, dst.parameters(), src.parameters(), strict=True):
        assert p.data is a  # same array object: an optimizer holding it sees the new values
        np.testing.assert_array_equal(p.data, q.data)
    x = fs.randn(3, 3)
    np.testing.assert_array_equal(src(x).data, dst(x).data)


def test_load_state_dict_preserves_the_model_dtype():
    lin = nn.Linear(2, 3)
    sd = {k: v.astype(np.float64) for k, v in nn.Linear(2, 3).state_dict().items()}
    lin.load_state_dict(sd)
    assert lin.weight.dtype == np.float32 and lin.bias.dtype == np.float32
    np.testing.assert_array_equal(lin.weight.data, sd["weight"].astype(np.float32))


def test_strict_load_reports_every_problem_by_name_and_changes_nothing():
    model = TwoLayer()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    sd = model.state_dict()
    del sd["fc1.bias"]  # missing
    sd["fc3.weight"] = np.zeros((2, 2), dtype=np.float32)  # unexpected
    sd["fc2.weight"] = np.zeros((3, 4), dtype=np.float32)  # wrong shape
    sd["scale"] = np.full(2, 42.0, dtype=np.float32)  # fine, but must not be applied
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(sd)
    message = str(info.value)
    assert "TwoLayer" in message
    assert "missing key(s): 'fc1.bias'" in message
    assert "unexpected key(s): 'fc3.weight'" in message
    assert "size mismatch for 'fc2.weight'" in message and "(3, 4)" in message
    assert "(2, 4)" in message and "Nothing was changed" in message
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_non_strict_load_skips_missing_and_unexpected_but_not_shape_errors():
    model = TwoLayer()
    sd = {"scale": np.full(2, 3.0, dtype=np.float32), "extra": np.zeros(1)}
    result = model.load_state_dict(sd, strict=False)
    assert model.scale.data.tolist() == [3.0, 3.0]
    assert result.unexpected_keys == ["extra"] and "fc1.weight" in result.missing_keys
    with pytest.raises(RuntimeError, match="size mismatch for 'scale'"):
        model.load_state_dict({"scale": np.zeros(5)}, strict=False)


def test_load_state_dict_rejects_wrong_types_clearly():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"pass other.state_dict\(\)"):
        lin.load_state_dict(nn.Linear(2, 2))
    bad = lin.state_dict()
    bad["bias"] = np.array(["a", "b"])
    with pytest.raises(RuntimeError, match="'bias': the value has dtype <U1, not a number"):
        lin.load_state_dict(bad)


def test_load_into_lazy_model_hints_to_run_a_forward_pass_first():
    model = nn.Sequential(nn.LazyLinear(2))
    with pytest.raises(RuntimeError, match=r"run one forward pass"):
        model.load_state_dict({"0.weight": np.zeros((2, 3)), "0.bias": np.zeros(2)})


# ----------------------------------------------------------------------------- repr


def test_repr_is_pytorch_style_without_ids():
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Sequential(nn.Linear(128, 10)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=784, out_features=128, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Linear(in_features=128, out_features=10, bias=True)\n"
        "  )\n"
        ")")
    assert "0x" not in repr(TwoLayer())


def test_repr_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Flatten(), nn.Linear(784, 128, bias=False), nn.ReLU(),
                         nn.Sequential(nn.Linear(128, 10), nn.Sigmoid(), nn.Tanh()))
    theirs = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 128, bias=False),
                                 torch.nn.ReLU(), torch.nn.Sequential(
                                     torch.nn.Linear(128, 10), torch.nn.Sigmoid(),
                                     torch.nn.Tanh()))
    assert repr(ours) == repr(theirs)
