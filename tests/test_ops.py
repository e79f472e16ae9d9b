"""Every primitive op: forward against a NumPy formula, backward against central differences.

Example-based tests first (one per op and per tricky case), then Hypothesis property tests
over random broadcasting shapes (size-1 dims and 0-d operands included) for every binary op
and every reduction, then dtype preservation for every op.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import from_scratch as fs
from from_scratch import functional as F
from from_scratch.testing import gradcheck

RNG = np.random.default_rng(0)
A = RNG.uniform(-2, 2, size=(3, 4))          # generic values
POS = RNG.uniform(0.5, 2, size=(3, 4))        # for log, sqrt, division, powers
AWAY = A + np.sign(A) * 0.2                   # away from the kinks of abs and relu at 0


def t64(a, requires_grad: bool = False) -> fs.Tensor:
    """A float64 tensor (exact enough to compare with NumPy at 1e-12)."""
    return fs.tensor(a, requires_grad=requires_grad, dtype=np.float64)


def close(t: fs.Tensor, expected, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    np.testing.assert_allclose(t.data, expected, rtol=rtol, atol=atol)
    assert t.shape == np.shape(expected)


# --------------------------------------------------------------------------- binary elementwise

BINARY = {
    "add": (lambda x, y: x + y, np.add),
    "sub": (lambda x, y: x - y, np.subtract),
    "mul": (lambda x, y: x * y, np.multiply),
    "div": (lambda x, y: x / y, np.divide),
    "pow": (lambda x, y: x**y, np.power),
    "maximum": (fs.maximum, np.maximum),
}


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes",
                         [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((), (3, 4))])
def test_binary_forward_and_backward(name, shapes):
    fn, np_fn = BINARY[name]
    x = RNG.uniform(0.5, 2, size=shapes[0])
    y = RNG.uniform(0.5, 2, size=shapes[1]) * (1 if name == "pow" else -1)
    close(fn(t64(x), t64(y)), np_fn(x, y))
    assert gradcheck(fn, x, y)


@pytest.mark.parametrize("expr, np_expr", [
    (lambda t: 3.0 + t, lambda a: 3.0 + a),
    (lambda t: 3.0 - t, lambda a: 3.0 - a),
    (lambda t: t - 3.0, lambda a: a - 3.0),
    (lambda t: 3.0 * t, lambda a: 3.0 * a),
    (lambda t: 3.0 / t, lambda a: 3.0 / a),
    (lambda t: t / 3.0, lambda a: a / 3.0),
    (lambda t: t**3, lambda a: a**3),
    (lambda t: t**0.5, lambda a: a**0.5),
    (lambda t: t**-1.5, lambda a: a**-1.5),
    (lambda t: 2.0**t, lambda a: 2.0**a),
    (lambda t: t ** t, lambda a: a**a),
    (lambda t: np.full(4, 3.0) - t, lambda a: 3.0 - a),
    (lambda t: np.full(4, 3.0) / t, lambda a: 3.0 / a),
])
def test_operators_with_scalars_arrays_and_reflection(expr, np_expr):
    close(expr(t64(POS)), np_expr(POS))
    assert gradcheck(expr, POS)


def test_pow_gradient_of_exponent_zero_is_zero_like_pytorch():
    x = t64([0.0, 2.0], requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_pow_tensor_tensor_gradient_of_exponent_at_zero_base():
    # d/dy 0**y = 0 for y > 0 (PyTorch's convention), not nan from log(0).
    x, y = t64([0.0, 2.0], requires_grad=True), t64([2.0, 3.0], requires_grad=True)
    (x**y).sum().backward()
    np.testing.assert_allclose(y.grad, [0.0, 8.0 * np.log(2.0)])


# --------------------------------------------------------------------------- matmul

@pytest.mark.parametrize("sx, sy", [
    ((4,), (4,)), ((4,), (4, 3)), ((2, 4), (4,)), ((2, 4), (4, 3)), ((5, 2, 4), (5, 4, 3)),
    ((2, 1, 3, 4), (5, 4, 2)), ((5, 2, 4), (4,)), ((4,), (5, 4, 3)), ((1, 2, 4), (3, 4, 2)),
])
def test_matmul_forward_and_backward(sx, sy):
    x, y = RNG.normal(size=sx), RNG.normal(size=sy)
    close(t64(x) @ t64(y), x @ y)
    assert gradcheck(lambda a, b: a @ b, x, y)


def test_ndarray_matmul_tensor_uses_rmatmul():
    x, y = RNG.normal(size=(2, 4)), RNG.normal(size=(4, 3))
    out = x @ t64(y, requires_grad=True)
    assert isinstance(out, fs.Tensor)
    close(out, x @ y)


@pytest.mark.parametrize("sx, sy", [((2, 3), (2, 3)), ((3,), (4,)), ((2, 2, 3), (3, 3, 4))])
def test_matmul_incompatible_shapes_names_both(sx, sy):
    with pytest.raises(ValueError) as info:
        fs.ones(*sx) @ fs.ones(*sy)
    assert str(sx) in str(info.value) and str(sy) in str(info.value)


def test_matmul_rejects_0d_with_a_hint():
    with pytest.raises(ValueError, match="use \\*"):
        fs.tensor(2.0) @ fs.ones(3)


# --------------------------------------------------------------------------- unary

UNARY = {
    "neg": (lambda t: -t, np.negative, A),
    "exp": (lambda t: t.exp(), np.exp, A),
    "log": (lambda t: t.log(), np.log, POS),
    "sqrt": (lambda t: t.sqrt(), np.sqrt, POS),
    "abs": (lambda t: t.abs(), np.abs, AWAY),
    "abs_builtin": (abs, np.abs, AWAY),
    "tanh": (lambda t: t.tanh(), np.tanh, A),
    "sigmoid": (lambda t: t.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), A),
    "relu": (lambda t: t.relu(), lambda a: np.maximum(a, 0), AWAY),
    "F.relu": (F.relu, lambda a: np.maximum(a, 0), AWAY),
    "F.sigmoid": (F.sigmoid, lambda a: 1 / (1 + np.exp(-a)), A),
    "F.tanh": (F.tanh, np.tanh, A),
    "clip": (lambda t: t.clip(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), A),
    "clip_min": (lambda t: t.clip(min=0.1), lambda a: np.maximum(a, 0.1), A),
    "clamp_max": (lambda t: t.clamp(max=0.1), lambda a: np.minimum(a, 0.1), A),
}


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("zero_d", [False, True])
def test_unary_forward_and_backward(name, zero_d):
    fn, np_fn, data = UNARY[name]
    data = data[0, 0] if zero_d else data
    close(fn(t64(data)), np_fn(data))
    assert gradcheck(fn, np.asarray(data))


def test_relu_abs_clip_gradients_at_their_kinks():
    x = t64([-1.0, 0.0, 1.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 0, 1])     # PyTorch: relu'(0) = 0
    x.grad = None
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad, [-1, 0, 1])    # sign(0) = 0
    x.grad = None
    x.clip(-1.0, 0.5).sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 1, 0])     # the bound itself lets grad through


def test_sigmoid_is_accurate_and_finite_in_the_tails():
    x = np.array([-1000.0, -30.0, -17.0, 0.0, 17.0, 30.0, 1000.0])
    exact = np.exp(-np.logaddexp(0.0, -x))               # 1/(1+e^-x) without overflow
    np.testing.assert_allclose(t64(x).sigmoid().data, exact, rtol=1e-12, atol=0)
    f32 = fs.tensor(x).sigmoid().data
    assert f32.dtype == np.float32
    np.testing.assert_allclose(f32, exact.astype(np.float32), rtol=1e-5, atol=0)
    t = t64(x, requires_grad=True)
    t.sigmoid().sum().backward()
    e = np.exp(-np.abs(x))
    # z (1 - z) loses relative precision near z = 1 (as in PyTorch); absolutely it is exact.
    np.testing.assert_allclose(t.grad, e / (1 + e) ** 2, rtol=1e-6, atol=1e-15)


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="min and max"):
        fs.ones(3).clip()


# --------------------------------------------------------------------------- reductions

def test_reductions_against_numpy_for_every_axis_form():
    x = RNG.permutation(24).reshape(2, 3, 4) / 4.0        # distinct values: no ties
    for axis in [None, 0, 1, -1, (0, 2), (-1, 0), ()]:
        for keepdims in [False, True]:
            for name, np_fn in [("sum", np.sum), ("mean", np.mean), ("max", np.max),
                                ("min", np.min)]:
                out = getattr(t64(x), name)(axis=axis, keepdims=keepdims)
                close(out, np_fn(x, axis=axis, keepdims=keepdims))
                alias = getattr(t64(x), name)(dim=axis, keepdim=keepdims)
                close(alias, np_fn(x, axis=axis, keepdims=keepdims))
            fn = lambda t, a=axis, k=keepdims, n=name: getattr(t, n)(axis=a, keepdims=k)  # noqa: E731
            assert gradcheck(fn, x)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "logsumexp"])
@pytest.mark.parametrize("axis", [0, -1, (0,)])
def test_reducing_a_0d_tensor_over_axis_0_or_minus_1_is_allowed_like_pytorch(name, axis):
    x = t64(3.0, requires_grad=True)
    out = getattr(x, name)(dim=axis)
    assert out.shape == () and out.item() == pytest.approx(3.0)
    out.backward()
    assert x.grad.item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="out of range"):
        getattr(x, name)(axis=1)


def test_sum_and_mean_positional_axis_and_list_axis():
    x = RNG.normal(size=(2, 3))
    close(t64(x).sum(1), x.sum(1))
    close(t64(x).mean([0, 1]), x.mean())


def test_reduction_argument_errors():
    with pytest.raises(TypeError, match="axis or dim"):
        fs.ones(2, 3).sum(axis=0, dim=1)
    with pytest.raises(ValueError, match="out of range"):
        fs.ones(2, 3).max(axis=2)
    with pytest.raises(ValueError, match="empty"):
        fs.ones(0).max()
    with pytest.raises(TypeError, match="integer"):
        fs.tensor([1, 2]).mean()


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_ties_split_the_gradient(name):
    x = t64([[1.0, 3.0, 3.0], [3.0, 3.0, 3.0]], requires_grad=True)
    if name == "min":
        x = t64(-x.data, requires_grad=True)
    getattr(x, name)(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


def test_argmax_argmin_are_integer_tensors_outside_the_graph():
    x = t64([[1.0, 5.0, 2.0]], requires_grad=True)
    i = x.argmax(axis=1)
    assert i.data.tolist() == [1] and x.argmin().item() == 0 and not i.requires_grad


# --------------------------------------------------------------------------- softmax family

LOGITS = np.array([[1000.0, -1000.0, 0.0, 999.0], [-1000.0, -1000.0, -1000.0, -999.0]])


def np_log_softmax(a, axis=-1):
    m = a.max(axis=axis, keepdims=True)
    return a - m - np.log(np.exp(a - m).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("data", [A, LOGITS])
@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_log_softmax_logsumexp_are_stable_and_correct(data, axis):
    expected = np_log_softmax(data, axis)
    assert np.all(np.isfinite(expected))
    close(F.log_softmax(t64(data), axis=axis), expected)
    close(F.log_softmax(t64(data), dim=axis), expected)
    close(F.softmax(t64(data), axis=axis), np.exp(expected))
    close(F.softmax(t64(data), dim=axis).sum(axis=axis), np.ones(data.shape[1 - axis % 2]))
    m = data.max(axis=axis)
    lse = m + np.log(np.exp(data - np.expand_dims(m, axis)).sum(axis=axis))
    close(F.logsumexp(t64(data), axis=axis), lse, rtol=1e-12)
    close(t64(data).logsumexp(dim=axis, keepdim=True), np.expand_dims(lse, axis), rtol=1e-12)
    assert gradcheck(lambda t: F.log_softmax(t, axis=axis), data)
    assert gradcheck(lambda t: F.softmax(t, axis=axis), data)
    assert gradcheck(lambda t: F.logsumexp(t, axis=axis), data)


def test_gradients_are_finite_and_exact_for_logits_of_1000():
    x = t64(LOGITS, requires_grad=True)
    F.log_softmax(x).sum().backward()
    soft = np.exp(np_log_softmax(LOGITS))
    np.testing.assert_allclose(x.grad, 1 - soft * LOGITS.shape[1], rtol=1e-12)


@pytest.mark.filterwarnings("ignore:divide by zero", "ignore:invalid value")
def test_logsumexp_of_all_minus_inf_is_minus_inf_not_nan():
    out = F.logsumexp(t64([[-np.inf, -np.inf], [0.0, 0.0]]), axis=1)
    np.testing.assert_array_equal(out.data, [-np.inf, np.log(2.0)])


# --------------------------------------------------------------------------- linear (fused)

@pytest.mark.parametrize("x_shape", [(5, 3), (2, 5, 3), (3,)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_matches_formula_and_gradients(x_shape, with_bias):
    x, w, b = RNG.normal(size=x_shape), RNG.normal(size=(4, 3)), RNG.normal(size=4)
    expected = x @ w.T + (b if with_bias else 0)
    if with_bias:
        out = F.linear(t64(x), t64(w), t64(b))
        assert gradcheck(F.linear, x, w, b)
    else:
        out = F.linear(t64(x), t64(w))
        assert gradcheck(F.linear, x, w)
    close(out, expected)


def test_linear_is_one_node_and_skips_the_data_gradient():
    x, w, b = t64(np.ones((2, 3))), t64(np.ones((4, 3)), True), t64(np.zeros(4), True)
    y = F.linear(x, w, b)
    assert type(y.grad_fn).__name__ == "Linear"
    assert all(t.is_leaf for t in y.grad_fn.inputs)
    y.sum().backward()
    assert x.grad is None and w.grad.shape == (4, 3) and b.grad.shape == (4,)


def test_linear_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError) as info:
        F.linear(fs.ones(2, 3), fs.ones(4, 2))
    assert "(2, 3)" in str(info.value) and "(4, 2)" in str(info.value)


# --------------------------------------------------------------------------- shape ops

SHAPE_OPS = [
    (lambda t: t.reshape(4, 3), lambda a: a.reshape(4, 3)),
    (lambda t: t.reshape((2, -1)), lambda a: a.reshape(2, -1)),
    (lambda t: t.view(-1), lambda a: a.reshape(-1)),
    (lambda t: t.flatten(), lambda a: a.reshape(-1)),
    (lambda t: t.T, lambda a: a.T),
    (lambda t: t.transpose(), lambda a: a.T),
    (lambda t: t.transpose(1, 0), lambda a: a.T),
    (lambda t: t.reshape(3, 2, 2).permute(2, 0, 1),
     lambda a: a.reshape(3, 2, 2).transpose(2, 0, 1)),
    # negative axes: the gradient must be permuted back with the normalised axes
    (lambda t: t.reshape(3, 2, 2).permute(-1, 0, 1),
     lambda a: a.reshape(3, 2, 2).transpose(2, 0, 1)),
    (lambda t: t.reshape(3, 2, 2).transpose((0, -1, -2)),
     lambda a: a.reshape(3, 2, 2).transpose(0, 2, 1)),
    (lambda t: t.reshape(3, 2, 2).flatten(1), lambda a: a.reshape(3, 4)),
]


@pytest.mark.parametrize("fn, np_fn", SHAPE_OPS)
def test_shape_ops_forward_and_backward(fn, np_fn):
    close(fn(t64(A)), np_fn(A))
    assert gradcheck(fn, A)


def test_shape_op_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match=r"shape \(3, 4\).*\(5, 2\)"):
        fs.ones(3, 4).reshape(5, 2)
    with pytest.raises(ValueError, match="permutation"):
        fs.ones(3, 4, 2).permute(0, 1)


# --------------------------------------------------------------------------- indexing

B = RNG.normal(size=(4, 3, 2))
INDICES = [
    1, -1, slice(1, 3), slice(None, None, -2), (1, 2), (-1, slice(None), 0), Ellipsis,
    (Ellipsis, 1), (None, 2), (slice(None), None, 1), B[..., 0] > 0, B > 0,
    np.array([0, 2]), [3, 0, 0, 1], np.array([[0, 1], [1, 1]]), ([0, 0, 2], slice(None), [1, 1, 0]),
    (slice(1, None), [2, 2]), np.array([True, False, True, True]),
]


@pytest.mark.parametrize("index", INDICES, ids=range(len(INDICES)))
def test_getitem_forward_and_backward(index):
    close(t64(B)[index], B[index])
    assert gradcheck(lambda t: t[index], B)


def test_repeated_indices_accumulate():
    x = t64([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 1]].sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 1.0, 0.0])
    y = t64(np.ones((2, 2)), requires_grad=True)
    y[fs.tensor([1, 1, 1])].sum().backward()          # an integer Tensor as index
    np.testing.assert_array_equal(y.grad, [[0, 0], [3, 3]])


def test_boolean_tensor_mask_index():
    x = t64([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    x[x > 0].sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 0, 1])


def test_iterating_a_tensor_gives_differentiable_rows():
    x = t64(np.ones((3, 2)), requires_grad=True)
    total = sum((row * i).sum() for i, row in enumerate(x))
    total.backward()
    np.testing.assert_array_equal(x.grad, [[0, 0], [1, 1], [2, 2]])


# --------------------------------------------------------------------------- property tests

SMALL = st.floats(-2, 2)
SHAPES2 = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
ELEMENTS = {
    "add": (SMALL, SMALL), "sub": (SMALL, SMALL), "mul": (SMALL, SMALL),
    "div": (SMALL, st.one_of(st.floats(-2, -0.5), st.floats(0.5, 2))),
    "pow": (st.floats(0.5, 2), SMALL),
    # quarters make ties frequent; a central difference at a tie gives 0.5, like the split
    "maximum": (st.integers(-4, 4).map(lambda i: i / 4),) * 2,
}


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_property_binary_ops_broadcast(name, data):
    fn, np_fn = BINARY[name]
    shapes = data.draw(SHAPES2)
    ex, ey = ELEMENTS[name]
    x = data.draw(hnp.arrays(np.float64, shapes.input_shapes[0], elements=ex))
    y = data.draw(hnp.arrays(np.float64, shapes.input_shapes[1], elements=ey))
    close(fn(t64(x), t64(y)), np_fn(x, y), rtol=1e-12)
    assert gradcheck(fn, x, y)


@given(data=st.data())
def test_property_where_broadcasts_three_ways(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
    sc, sx, sy = shapes.input_shapes
    cond = data.draw(hnp.arrays(np.bool_, sc))
    x = data.draw(hnp.arrays(np.float64, sx, elements=SMALL))
    y = data.draw(hnp.arrays(np.float64, sy, elements=SMALL))
    close(fs.where(cond, t64(x), t64(y)), np.where(cond, x, y))
    assert gradcheck(lambda a, b: fs.where(cond, a, b), x, y)


@given(data=st.data())
def test_property_matmul_with_broadcast_batch_dims(data):
    batch = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    sx = (k,) if data.draw(st.booleans()) else batch.input_shapes[0] + (n, k)
    sy = (k,) if data.draw(st.booleans()) else batch.input_shapes[1] + (k, m)
    x = data.draw(hnp.arrays(np.float64, sx, elements=SMALL))
    y = data.draw(hnp.arrays(np.float64, sy, elements=SMALL))
    close(t64(x) @ t64(y), x @ y, rtol=1e-12)
    assert gradcheck(lambda a, b: a @ b, x, y)


def np_logsumexp(a, axis, keepdims):
    return np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))


REDUCTIONS = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min,
              "logsumexp": np_logsumexp}


@st.composite
def array_and_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    ndim = len(shape)
    axis_options = [st.none(), hnp.valid_tuple_axes(ndim)]
    if ndim:
        axis_options.append(st.integers(-ndim, ndim - 1))
    axis = draw(st.one_of(*axis_options))
    # distinct values (a permutation) so max/min have a unique winner; gaps >> eps of gradcheck
    values = np.array(draw(st.permutations(range(int(np.prod(shape))))), dtype=np.float64)
    return (values / 4 - 1).reshape(shape), axis, draw(st.booleans()), draw(st.booleans())


@pytest.mark.parametrize("name", REDUCTIONS)
@given(case=array_and_axis())
def test_property_reductions(name, case):
    x, axis, keepdims, torch_names = case
    if torch_names:
        fn = lambda t: getattr(t, name)(dim=axis, keepdim=keepdims)  # noqa: E731
    else:
        fn = lambda t: getattr(t, name)(axis=axis, keepdims=keepdims)  # noqa: E731
    close(fn(t64(x)), REDUCTIONS[name](x, axis=axis, keepdims=keepdims), rtol=1e-12)
    assert gradcheck(fn, x)


# --------------------------------------------------------------------------- dtypes

X32 = RNG.uniform(0.5, 1.5, size=(3, 4)).astype(np.float32)
Y32 = RNG.uniform(0.5, 1.5, size=(3, 4)).astype(np.float32)
F64_ROW = np.linspace(0.5, 1.0, 4)                          # a float64 NumPy constant
EVERY_OP = {
    "add": lambda x, y: x + y, "add_py": lambda x, y: 2.5 + x, "add_np64": lambda x, y: x + F64_ROW,
    "sub": lambda x, y: x - y, "rsub_py": lambda x, y: 2.5 - x,
    "rsub_np64": lambda x, y: F64_ROW - x, "mul": lambda x, y: x * y,
    "mul_np64_scalar": lambda x, y: np.float64(0.5) * x, "mul_np_int": lambda x, y: x * np.int64(3),
    "mul_int_array": lambda x, y: x * np.arange(4), "div": lambda x, y: x / y,
    "div_np_count": lambda x, y: x / np.sum(np.ones(3, dtype=np.int64)),
    "rdiv_np64": lambda x, y: F64_ROW / x, "pow_int": lambda x, y: x**2,
    "pow_float": lambda x, y: x**1.5, "pow_np64": lambda x, y: x ** np.float64(2.0),
    "pow_np_int": lambda x, y: x ** np.int64(2), "pow_tensor": lambda x, y: x**y,
    "rpow": lambda x, y: 2.0**x, "rpow_np64": lambda x, y: np.float64(2.0) ** x,
    "matmul": lambda x, y: x @ y.T, "matmul_np64": lambda x, y: x @ np.ones((4, 2)),
    "rmatmul_np64": lambda x, y: np.ones((2, 3)) @ x,
    "neg": lambda x, y: -x, "exp": lambda x, y: x.exp(), "log": lambda x, y: x.log(),
    "sqrt": lambda x, y: x.sqrt(), "abs": lambda x, y: x.abs(), "tanh": lambda x, y: x.tanh(),
    "sigmoid": lambda x, y: x.sigmoid(), "relu": lambda x, y: x.relu(),
    "clip": lambda x, y: x.clip(0.7, 1.2), "clip_np64": lambda x, y: x.clip(np.float64(0.7)),
    "sum": lambda x, y: x.sum(axis=0), "mean": lambda x, y: x.mean(), "max": lambda x, y: x.max(1),
    "min": lambda x, y: x.min(), "logsumexp": lambda x, y: x.logsumexp(axis=1),
    "softmax": lambda x, y: F.softmax(x), "log_softmax": lambda x, y: F.log_softmax(x),
    "reshape": lambda x, y: x.reshape(-1), "T": lambda x, y: x.T,
    "permute": lambda x, y: x.permute(1, 0), "getitem": lambda x, y: x[1:, [0, 0]],
    "mask": lambda x, y: x[x > 1], "cat": lambda x, y: fs.cat([x, y], axis=1),
    "cat_np64": lambda x, y: fs.cat([x, np.ones((1, 4))]), "stack": lambda x, y: fs.stack([x, y]),
    "where": lambda x, y: fs.where(x > 1, x, y), "where_np64": lambda x, y: fs.where(x > 1, x, 0.0),
    "maximum": lambda x, y: fs.maximum(x, y), "maximum_np64": lambda x, y: fs.maximum(x, F64_ROW),
    "linear": lambda x, y: F.linear(x, y), "linear_bias": lambda x, y: F.linear(x, y, y[0, :3]),
}


@pytest.mark.parametrize("name", EVERY_OP)
def test_float32_in_float32_out_and_float32_grads(name):
    x, y = fs.tensor(X32, requires_grad=True), fs.tensor(Y32, requires_grad=True)
    out = EVERY_OP[name](x, y)
    assert out.dtype == np.float32, f"{name} returned {out.dtype}"
    out.sum().backward()
    assert x.grad is not None or y.grad is not None
    for t in (x, y):
        assert t.grad is None or t.grad.dtype == np.float32, f"{name}: grad is {t.grad.dtype}"


def test_integer_tensors_stay_integers():
    i = fs.tensor([1, 2, 3])
    assert (i + 1).dtype == np.int64 and (i * 2).dtype == np.int64 and i.sum().dtype == np.int64
    assert i[[0, 0]].dtype == np.int64 and i.reshape(3, 1).dtype == np.int64
