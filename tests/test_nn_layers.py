"""Tests of the layers and nn.summary (from_scratch/nn/layers.py)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import from_scratch as fs
from from_scratch import functional as F
from from_scratch import nn
from from_scratch.testing import gradcheck, numerical_grad


def randn64(*shape, seed=0):
    """A float64 tensor (built from NumPy: fs.randn(dtype=np.float64) returns float32 today)."""
    return fs.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=np.float64)

# ----------------------------------------------------------------------------- Linear


@settings(max_examples=25, deadline=None)
@given(batch=st.lists(st.integers(1, 4), min_size=0, max_size=2),
       n_in=st.integers(1, 6), n_out=st.integers(1, 6), bias=st.booleans())
def test_linear_forward_is_x_wt_plus_b(batch, n_in, n_out, bias):
    lin = nn.Linear(n_in, n_out, bias=bias)
    x = fs.randn(*batch, n_in)
    y = lin(x)
    expected = x.data @ lin.weight.data.T + (lin.bias.data if bias else 0)
    assert lin.weight.shape == (n_out, n_in) and y.shape == (*batch, n_out)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, expected, rtol=1e-5, atol=1e-6)


def test_linear_forward_matches_pytorch():
    torch = pytest.importorskip("torch")
    lin = nn.Linear(5, 3)
    x = fs.randn(4, 5)
    ref = torch.nn.functional.linear(torch.from_numpy(x.data), torch.from_numpy(lin.weight.data),
                                     torch.from_numpy(lin.bias.data))
    np.testing.assert_allclose(lin(x).data, ref.numpy(), rtol=1e-5, atol=1e-6)


def test_linear_is_one_fused_graph_node():
    lin = nn.Linear(3, 2)
    y = lin(fs.randn(4, 3))
    assert type(y.grad_fn).__name__ == "Linear"
    assert y.grad_fn.inputs[1] is lin.weight and y.grad_fn.inputs[2] is lin.bias


def test_linear_without_bias():
    lin = nn.Linear(3, 2, bias=False)
    assert lin.bias is None and [n for n, _ in lin.named_parameters()] == ["weight"]
    assert list(lin.state_dict()) == ["weight"]
    assert repr(lin) == "Linear(in_features=3, out_features=2, bias=False)"


def test_linear_gradcheck_wrt_input():
    lin = nn.Linear(4, 3, dtype=np.float64)
    assert gradcheck(lambda x: lin(x), randn64(2, 4))


def test_the_fused_op_linear_uses_passes_gradcheck_wrt_input_weight_and_bias():
    x, w, b = randn64(3, 4), randn64(2, 4, seed=1), randn64(2, seed=2)
    assert gradcheck(lambda x, w, b: fs.functional.linear(x, w, b), x, w, b)


def test_linear_gradients_wrt_weight_and_bias_match_finite_differences():
    lin = nn.Linear(4, 3, dtype=np.float64)
    x = randn64(5, 4)
    weight = np.random.default_rng(1).uniform(0.5, 1.5, size=(5, 3))
    lin(x).backward(weight)  # d sum(weight * y) / d W and / d b

    def through_the_layer(w, b):  # the module's own forward, with W and b set from outside
        lin.weight.data, lin.bias.data = w.data, b.data
        return lin(x)

    w0, b0 = lin.weight.data.copy(), lin.bias.data.copy()
    num_w, num_b = numerical_grad(through_the_layer, w0, b0, weight=weight)
    np.testing.assert_allclose(lin.weight.grad, num_w, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(lin.bias.grad, num_b, rtol=1e-6, atol=1e-8)
    assert lin.weight.grad.shape == (3, 4) and lin.bias.grad.shape == (3,)


def test_linear_default_init_is_pytorchs():
    fs.manual_seed(0)
    n_in = 400
    lin = nn.Linear(n_in, 300)
    bound = 1 / math.sqrt(n_in)  # kaiming_uniform_(a=√5): gain √(1/3) · √(3 / fan_in)
    for p in (lin.weight, lin.bias):
        assert p.dtype == np.float32
        assert np.abs(p.data).max() <= bound
    assert np.abs(lin.weight.data).max() > 0.99 * bound
    np.testing.assert_allclose(lin.weight.data.std(), bound / math.sqrt(3), rtol=0.02)


def test_linear_keeps_float64_when_asked():
    lin = nn.Linear(3, 2, dtype=np.float64)
    assert lin.weight.dtype == np.float64 and lin.bias.dtype == np.float64
    assert lin(randn64(2, 3)).dtype == np.float64


def test_linear_turns_a_float64_numpy_array_into_the_layers_dtype():
    lin = nn.Linear(3, 2)
    y = lin(np.ones((2, 3)))  # NumPy's default float64
    assert y.dtype == np.float32


def test_linear_wrong_feature_count_names_layer_shapes_and_suggests_flattening():
    lin = nn.Linear(784, 128)
    with pytest.raises(ValueError) as info:
        lin(fs.zeros(8, 28, 28))
    message = str(info.value)
    assert "Linear(in_features=784, out_features=128, bias=True)" in message
    assert "(8, 28, 28)" in message and "(..., 784)" in message
    assert "flatten" in message and "nn.Flatten()" in message


def test_linear_wrong_dtype_is_a_clear_type_error():
    lin = nn.Linear(3, 2)
    with pytest.raises(TypeError, match=r"float32 weights but got a float64 input"):
        lin(randn64(2, 3))
    with pytest.raises(ValueError, match="in_features must be a positive integer, got 0"):
        nn.Linear(0, 3)


# ----------------------------------------------------------------------------- LazyLinear


def test_lazy_linear_materialises_on_first_call():
    model = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.Linear(4, 1))
    assert [n for n, _ in model.named_parameters()] == ["2.weight", "2.bias"]
    assert repr(model[0]) == "LazyLinear(out_features=4, bias=True)"
    x = fs.randn(5, 7)
    y = model(x)
    lazy = model[0]
    assert type(lazy) is nn.Linear and lazy.in_features == 7
    assert lazy.weight.shape == (4, 7) and lazy.weight.dtype == np.float32
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight",
                                                        "2.bias"]
    hidden = np.maximum(x.data @ lazy.weight.data.T + lazy.bias.data, 0)
    np.testing.assert_allclose(y.data, hidden @ model[2].weight.data.T + model[2].bias.data,
                               rtol=1e-5, atol=1e-6)
    assert np.abs(lazy.weight.data).max() <= 1 / math.sqrt(7)  # Linear's default init
    with pytest.raises(ValueError, match="in_features=7"):
        model(fs.randn(5, 8))  # the size is now fixed


def test_lazy_linear_gradients_reach_its_new_parameters():
    lazy = nn.LazyLinear(2, bias=False, dtype=np.float64)
    lazy(randn64(3, 4)).sum().backward()
    assert lazy.weight.grad.shape == (2, 4) and lazy.bias is None


# ----------------------------------------------------------------------------- activations


@pytest.mark.parametrize("layer, formula", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Identity(), lambda x: x),
])
def test_activations_match_numpy(layer, formula):
    x = fs.randn(3, 4)
    y = layer(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, formula(x.data), rtol=1e-6, atol=1e-7)
    assert repr(layer) == f"{type(layer).__name__}()"


def test_identity_returns_its_input_and_ignores_arguments():
    x = fs.randn(2)
    assert nn.Identity(54, unused="yes")(x) is x


def test_flatten_shapes():
    x = fs.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Flatten()(fs.zeros(0, 28, 28)).shape == (0, 784)  # an empty batch works
    np.testing.assert_array_equal(nn.Flatten()(x).data, x.data.reshape(2, 60))
    x.requires_grad = True
    nn.Flatten()(x).sum().backward()
    assert x.grad.shape == (2, 3, 4, 5)


# ----------------------------------------------------------------------------- Dropout


def test_dropout_eval_is_identity():
    drop = nn.Dropout(0.5).eval()
    x = fs.randn(10, 10)
    assert drop(x) is x


def test_dropout_train_zeroes_about_p_and_scales_the_rest():
    fs.manual_seed(0)
    p = 0.3
    x = fs.ones(200, 500)
    y = nn.Dropout(p)(x)
    assert y.dtype == np.float32
    dropped = np.mean(y.data == 0)
    assert abs(dropped - p) < 0.01  # 100,000 draws: the standard error is 0.0014
    kept = y.data[y.data != 0]
    np.testing.assert_allclose(kept, 1 / (1 - p), rtol=1e-6)
    assert abs(y.data.mean() - 1.0) < 0.01  # inverted dropout keeps the expected value


def test_dropout_same_seed_same_mask():
    x = fs.ones(50, 20)
    fs.manual_seed(3)
    a = nn.Dropout(0.5)(x).data
    fs.manual_seed(3)
    b = nn.Dropout(0.5)(x).data
    c = nn.Dropout(0.5)(x).data
    np.testing.assert_array_equal(a, b)
    assert np.any(a != c)


def test_dropout_gradient_flows_through_kept_units_only():
    fs.manual_seed(1)
    p = 0.5
    x = fs.randn(20, 30, requires_grad=True)
    y = nn.Dropout(p)(x)
    y.sum().backward()
    kept = y.data != 0
    np.testing.assert_allclose(x.grad[kept], 1 / (1 - p))
    assert np.all(x.grad[~kept] == 0)
    assert x.grad.dtype == np.float32


def test_dropout_extremes_and_validation():
    x = fs.randn(4, 4)
    assert nn.Dropout(0.0)(x) is x
    assert np.all(nn.Dropout(1.0)(x).data == 0)
    with pytest.raises(ValueError, match="between 0 and 1, got 1.5"):
        nn.Dropout(1.5)
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2)"


def test_dropout_keeps_float64():
    y = nn.Dropout(0.5)(randn64(3, 3))
    assert y.dtype == np.float64


# ----------------------------------------------------------------------------- summary


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU())
        self.head = nn.Linear(8, 8)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.head(self.head(self.drop(self.body(x))))  # head used twice


def test_summary_table_shapes_counts_and_memory():
    model = Net()
    s = nn.summary(model, (2, 3, 4))
    assert [(name, kind, shape) for name, kind, shape, *_ in s.rows] == [
        ("body.0", "Flatten", (2, 12)), ("body.1", "Linear", (2, 8)), ("body.2", "ReLU", (2, 8)),
        ("drop", "Dropout", (2, 8)), ("head", "Linear", (2, 8)), ("head", "Linear", (2, 8))]
    assert [row[3] for row in s.rows] == [0, 12 * 8 + 8, 0, 0, 8 * 8 + 8, 0]
    assert s.total_params == 12 * 8 + 8 + 8 * 8 + 8 == sum(p.size for p in model.parameters())
    assert s.total_bytes == 4 * s.total_params  # float32
    assert s.output_shape == (2, 8)
    text = str(s)
    assert repr(s) == text
    assert "body.1 (Linear)" in text and "104" in text and "(shared)" in text
    assert f"Total params: {s.total_params:,}, {s.total_bytes:,} bytes" in text
    assert "704 B" in text
    big = str(nn.summary(nn.Linear(784, 128), (1, 784)))
    assert "100,480" in big and "401,920 bytes (392.5 KB)" in big


def test_summary_counts_a_shared_weight_once_and_restores_modes_and_rng():
    model = nn.Sequential(nn.Linear(4, 4, bias=False), nn.Dropout(0.5),
                          nn.Linear(4, 4, bias=False))
    model[2].weight = model[0].weight
    model[1].train()
    model[0].eval()
    state = fs.random.default_generator().bit_generator.state
    s = model.summary((1, 4))
    assert s.total_params == 16 and [row[3] for row in s.rows] == [16, 0, 0]
    assert model[1].training and not model[0].training
    assert fs.random.default_generator().bit_generator.state == state  # no dropout drawn


def test_summary_materialises_lazy_layers():
    model = nn.Sequential(nn.LazyLinear(3))
    s = nn.summary(model, (1, 5))
    assert s.total_params == 18 and model[0].in_features == 5


def test_functional_dropout_is_what_the_module_uses():
    x = fs.ones(1000, 10)
    fs.manual_seed(3)
    y_module = nn.Dropout(0.3)(x)
    fs.manual_seed(3)
    y_function = F.dropout(x, p=0.3, training=True)
    np.testing.assert_array_equal(y_module.data, y_function.data)
    assert F.dropout(x, p=0.3, training=False) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, p=1.5)
