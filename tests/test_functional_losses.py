"""Losses in from_scratch.functional and their nn modules.

Forward against closed forms written in NumPy float64, backward against central differences
(gradcheck), the averaging rules (mean over ALL elements; weighted cross-entropy divides by
the sum of the targets' weights), extreme logits, the promised errors, and PyTorch as an
optional oracle.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import from_scratch as fs
from from_scratch import functional as F
from from_scratch import nn
from from_scratch.testing import gradcheck

RNG = np.random.default_rng(0)
REDUCTIONS = ["mean", "sum", "none"]


def t64(a, requires_grad=False):
    return fs.tensor(a, requires_grad=requires_grad, dtype=np.float64)


def reduce_np(values, reduction):
    if reduction == "mean":
        return values.mean()
    return values.sum() if reduction == "sum" else values


def log_softmax_np(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# --------------------------------------------------------------------------- mse and l1


def test_mse_means_over_all_elements_not_the_batch():
    a, b = RNG.normal(size=(8, 5)), RNG.normal(size=(8, 5))
    loss = F.mse_loss(t64(a), t64(b))
    expected = np.sum((a - b) ** 2) / (8 * 5)
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    # The classic bug divides by the batch size only: 5 times too large here.
    assert not np.isclose(loss.item(), np.sum((a - b) ** 2) / 8)


def test_mse_gradient_is_2_diff_over_all_elements():
    a, b = RNG.normal(size=(8, 5)), RNG.normal(size=(8, 5))
    x = t64(a, requires_grad=True)
    F.mse_loss(x, b).backward()
    np.testing.assert_allclose(x.grad, 2 * (a - b) / 40, rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_and_l1_closed_forms_and_gradcheck(reduction):
    a, b = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    np.testing.assert_allclose(F.mse_loss(t64(a), t64(b), reduction=reduction).data,
                               reduce_np((a - b) ** 2, reduction), rtol=1e-12)
    np.testing.assert_allclose(F.l1_loss(t64(a), t64(b), reduction=reduction).data,
                               reduce_np(np.abs(a - b), reduction), rtol=1e-12)
    assert gradcheck(lambda x, y: F.mse_loss(x, y, reduction=reduction), a, b)
    assert gradcheck(lambda x, y: F.l1_loss(x, y, reduction=reduction), a, b)


def test_regression_losses_stay_float32_with_int_or_float64_targets():
    x = fs.tensor(RNG.normal(size=(6, 2)), requires_grad=True)
    for target in (RNG.integers(0, 3, size=(6, 2)), RNG.normal(size=(6, 2))):
        for fn in (F.mse_loss, F.l1_loss):
            loss = fn(x, target)
            assert loss.dtype == np.float32, fn.__name__
            x.grad = None
            loss.backward()
            assert x.grad.dtype == np.float32


@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.binary_cross_entropy,
                                F.binary_cross_entropy_with_logits])
def test_shape_mismatch_is_refused_with_a_fix(fn):
    pred = fs.tensor(RNG.uniform(0.1, 0.9, size=(5, 1)))
    with pytest.raises(ValueError, match=r"\(5, 1\).*\(5,\).*must be equal") as info:
        fn(pred, RNG.uniform(0.1, 0.9, size=5))
    assert "reshape" in str(info.value)
    with pytest.raises(ValueError, match="same number of elements"):
        fn(pred, RNG.uniform(0.1, 0.9, size=4))


def test_bad_reduction_is_refused():
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none'.*'avg'"):
        F.mse_loss(fs.zeros(3), fs.zeros(3), reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="average")


# --------------------------------------------------------------------------- cross-entropy


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_closed_form_and_gradient(reduction):
    x, y = RNG.normal(size=(6, 4)) * 3, RNG.integers(0, 4, size=6)
    per_sample = -log_softmax_np(x)[np.arange(6), y]
    np.testing.assert_allclose(F.cross_entropy(t64(x), y, reduction=reduction).data,
                               reduce_np(per_sample, reduction), rtol=1e-12)
    assert gradcheck(lambda z: F.cross_entropy(z, y, reduction=reduction), x)


def test_cross_entropy_backward_is_softmax_minus_onehot_over_n():
    x, y = RNG.normal(size=(5, 3)), np.array([0, 2, 1, 2, 0])
    z = t64(x, requires_grad=True)
    F.cross_entropy(z, y).backward()
    softmax = np.exp(log_softmax_np(x))
    np.testing.assert_allclose(z.grad, (softmax - np.eye(3)[y]) / 5, rtol=1e-12, atol=1e-15)


def test_cross_entropy_is_one_fused_node():
    x = fs.tensor(RNG.normal(size=(4, 3)), requires_grad=True)
    loss = F.cross_entropy(x, [0, 1, 2, 0])
    assert type(loss.grad_fn).__name__ == "CrossEntropy"
    assert loss.grad_fn.inputs == (x,)  # straight from the logits: no log_softmax node


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_is_stable_for_logits_of_1000(dtype):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0], [-1000.0, -1000.0, -999.0]])
    y = np.array([1, 2, 2])
    z = fs.tensor(x, requires_grad=True, dtype=dtype)
    loss = F.cross_entropy(z, y, reduction="none")
    # -log softmax: 2000; log 2 (two equal winners); log(1 + 2e^-1) (shift by the max).
    expected = [2000.0, np.log(2.0), np.log(1 + 2 * np.exp(-1.0))]
    np.testing.assert_allclose(loss.data, expected, rtol=1e-6)
    assert loss.dtype == dtype
    loss.sum().backward()
    assert np.all(np.isfinite(z.grad)) and z.grad.dtype == dtype
    np.testing.assert_allclose(z.grad[0], [1.0, -1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(z.grad[1], [0.0, 0.5, -0.5], atol=1e-6)
    assert gradcheck(lambda t: F.cross_entropy(t, y), x)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_cross_entropy_divides_by_the_targets_weights(reduction):
    x, y = RNG.normal(size=(7, 3)), np.array([0, 0, 1, 2, 2, 2, 1])
    w = np.array([0.2, 1.0, 3.0])
    per_sample = -w[y] * log_softmax_np(x)[np.arange(7), y]
    expected = {"mean": per_sample.sum() / w[y].sum(), "sum": per_sample.sum(),
                "none": per_sample}[reduction]
    loss = F.cross_entropy(t64(x), y, weight=w, reduction=reduction)
    np.testing.assert_allclose(loss.data, expected, rtol=1e-12)
    assert gradcheck(lambda z: F.cross_entropy(z, y, weight=w, reduction=reduction), x)


def test_cross_entropy_labels_may_be_a_tensor_an_array_or_a_list():
    x, y = RNG.normal(size=(4, 3)), np.array([2, 0, 1, 1])
    expected = F.cross_entropy(t64(x), y).item()
    for labels in (fs.tensor(y), y.astype(np.int32), y.tolist(), y.astype(np.uint8)):
        assert F.cross_entropy(t64(x), labels).item() == expected


@given(n=st.integers(1, 6), c=st.integers(1, 5), scale=st.sampled_from([0.1, 10.0, 300.0]),
       seed=st.integers(0, 2**16))
def test_cross_entropy_and_nll_match_numpy_for_any_batch(n, c, scale, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, c)) * scale, rng.integers(0, c, size=n)
    expected = -log_softmax_np(x)[np.arange(n), y].mean()
    np.testing.assert_allclose(F.cross_entropy(t64(x), y).item(), expected, rtol=1e-10)
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(t64(x)), y).item(), expected,
                               rtol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_closed_form_and_gradcheck(reduction):
    logp, y = log_softmax_np(RNG.normal(size=(5, 4))), RNG.integers(0, 4, size=5)
    w = np.array([1.0, 2.0, 0.5, 1.5])
    per_sample = -w[y] * logp[np.arange(5), y]
    expected = per_sample.sum() / w[y].sum() if reduction == "mean" else \
        reduce_np(per_sample, reduction)
    np.testing.assert_allclose(F.nll_loss(t64(logp), y, weight=w, reduction=reduction).data,
                               expected, rtol=1e-12)
    assert gradcheck(lambda z: F.nll_loss(z, y, weight=w, reduction=reduction), logp)


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_bad_labels_raise_clear_errors(fn):
    x = fs.tensor(RNG.normal(size=(4, 3)))
    with pytest.raises(ValueError, match="integer class labels.*float64.*astype"):
        fn(x, np.array([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="one-hot.*argmax"):
        fn(x, np.eye(3)[[0, 1, 2, 1]])
    with pytest.raises(ValueError, match=r"label 3 is out of range for 3 classes.*0\.\.2"):
        fn(x, np.array([0, 3, 1, 1]))
    with pytest.raises(ValueError, match="label -1 is out of range"):
        fn(x, np.array([0, -1, 1, 1]))
    with pytest.raises(ValueError, match=r"labels of shape \(4,\).*got shape \(3,\)"):
        fn(x, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"got shape \(4, 1\).*reshape\(-1\)"):
        fn(x, np.array([[0], [1], [2], [1]]))
    with pytest.raises(ValueError, match=r"shape \(N, C\).*reshape\(1, -1\)"):
        fn(fs.tensor(RNG.normal(size=3)), np.array(1))
    with pytest.raises(ValueError, match=r"one entry per class, shape \(3,\)"):
        fn(x, np.array([0, 1, 2, 1]), weight=np.ones(4))


# --------------------------------------------------------------------------- binary


def bce_np(p, y):
    return -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log(1 - p), -100))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_closed_form_and_gradcheck(reduction):
    p, y = RNG.uniform(0.05, 0.95, size=(5, 2)), RNG.uniform(0, 1, size=(5, 2))
    w = RNG.uniform(0.5, 2, size=(1, 2))
    np.testing.assert_allclose(F.binary_cross_entropy(t64(p), y, reduction=reduction).data,
                               reduce_np(bce_np(p, y), reduction), rtol=1e-12)
    np.testing.assert_allclose(
        F.binary_cross_entropy(t64(p), y, weight=w, reduction=reduction).data,
        reduce_np(w * bce_np(p, y), reduction), rtol=1e-12)
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, weight=w, reduction=reduction),
                     p, y)


def test_binary_cross_entropy_clips_log_at_minus_100_for_certain_predictions():
    p = fs.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    loss = F.binary_cross_entropy(p, [1.0, 0.0, 0.0, 1.0], reduction="none")
    np.testing.assert_array_equal(loss.data, [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad))


def test_binary_cross_entropy_refuses_logits_and_points_to_with_logits():
    with pytest.raises(ValueError,
                       match=r"probabilities in \[0, 1\].*binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(fs.tensor([-2.0, 0.5, 3.0]), [0.0, 1.0, 1.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("with_pos_weight", [False, True])
def test_bce_with_logits_equals_bce_of_sigmoid_and_passes_gradcheck(reduction, with_pos_weight):
    x, y = RNG.normal(size=(4, 3)) * 3, RNG.uniform(0, 1, size=(4, 3))
    pw = np.array([0.5, 1.0, 4.0]) if with_pos_weight else None
    w = RNG.uniform(0.5, 2, size=(4, 1))
    p = 1 / (1 + np.exp(-x))
    coef = 1.0 if pw is None else pw
    per_elem = -w * (coef * y * np.log(p) + (1 - y) * np.log(1 - p))
    loss = F.binary_cross_entropy_with_logits(t64(x), y, weight=w, reduction=reduction,
                                              pos_weight=pw)
    np.testing.assert_allclose(loss.data, reduce_np(per_elem, reduction), rtol=1e-10)
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(
        a, b, weight=w, reduction=reduction, pos_weight=pw), x, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_stable_for_logits_of_1000(dtype):
    x = fs.tensor([1000.0, -1000.0, 1000.0, -1000.0, 0.0], requires_grad=True, dtype=dtype)
    y = [1.0, 0.0, 0.0, 1.0, 1.0]
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 0.0, 1000.0, 1000.0, np.log(2)], rtol=1e-6)
    assert loss.dtype == dtype
    loss.sum().backward()
    # sigmoid(x) - y, including the kink-free point x = 0 where it is exactly 0.5 - 1.
    np.testing.assert_allclose(x.grad, [0.0, 0.0, 1.0, -1.0, -0.5], atol=1e-7)


@pytest.mark.parametrize("with_pos_weight", [False, True])
def test_bce_with_logits_gradient_keeps_relative_precision_for_tiny_sigmoids(with_pos_weight):
    # At x = -20, y = 0 the gradient is sigmoid(-20) ≈ 2.06e-9 (times pos_weight's factor 1
    # when y = 0): computing it as 1 - sigmoid(20) in float32 would round it to 0.
    x = fs.tensor([-20.0, -30.0], requires_grad=True)
    pw = np.float32(3.0) if with_pos_weight else None
    F.binary_cross_entropy_with_logits(x, [0.0, 0.0], pos_weight=pw, reduction="sum").backward()
    expected = 1.0 / (1.0 + np.exp([20.0, 30.0]))
    np.testing.assert_allclose(x.grad, expected, rtol=1e-5)


# --------------------------------------------------------------------------- nn modules


def test_loss_modules_match_the_functions():
    x, y = fs.tensor(RNG.normal(size=(6, 3))), RNG.integers(0, 3, size=6)
    t, p = RNG.normal(size=(6, 3)), fs.tensor(RNG.uniform(0.1, 0.9, size=(6, 3)))
    w = np.array([1.0, 2.0, 0.5], dtype=np.float32)
    pairs = [
        (nn.MSELoss()(x, t), F.mse_loss(x, t)),
        (nn.L1Loss(reduction="sum")(x, t), F.l1_loss(x, t, reduction="sum")),
        (nn.CrossEntropyLoss(weight=w)(x, y), F.cross_entropy(x, y, weight=w)),
        (nn.NLLLoss()(F.log_softmax(x), y), F.nll_loss(F.log_softmax(x), y)),
        (nn.BCELoss()(p, p.data), F.binary_cross_entropy(p, p.data)),
        (nn.BCEWithLogitsLoss(pos_weight=w)(x, p.data),
         F.binary_cross_entropy_with_logits(x, p.data, pos_weight=w)),
    ]
    for module_value, function_value in pairs:
        np.testing.assert_array_equal(module_value.data, function_value.data)


def test_class_weights_are_buffers_saved_with_the_state_dict():
    criterion = nn.CrossEntropyLoss(weight=[1.0, 3.0])
    assert list(criterion.state_dict()) == ["weight"]
    np.testing.assert_array_equal(criterion.state_dict()["weight"], [1.0, 3.0])
    assert list(criterion.parameters()) == []
    assert nn.MSELoss().state_dict() == {}


# --------------------------------------------------------------------------- PyTorch oracle


def test_losses_match_pytorch():
    torch = pytest.importorskip("torch")
    x = (RNG.normal(size=(8, 5)) * 4).astype(np.float32)
    x[0, 0], x[1, 1] = 1000.0, -1000.0
    y = RNG.integers(0, 5, size=8)
    target = RNG.uniform(0, 1, size=(8, 5)).astype(np.float32)
    p = RNG.uniform(0.01, 0.99, size=(8, 5)).astype(np.float32)
    w = RNG.uniform(0.5, 2, size=5).astype(np.float32)
    # Each case: (the library's functional module, its array converter, input, reduction).
    cases = {
        "mse": (lambda f, c, a, r: f.mse_loss(a, c(target), reduction=r), x),
        "l1": (lambda f, c, a, r: f.l1_loss(a, c(target), reduction=r), x),
        "ce": (lambda f, c, a, r: f.cross_entropy(a, c(y), reduction=r), x),
        "ce_w": (lambda f, c, a, r: f.cross_entropy(a, c(y), weight=c(w), reduction=r), x),
        "nll": (lambda f, c, a, r: f.nll_loss(a, c(y), weight=c(w), reduction=r), x),
        "bce": (lambda f, c, a, r: f.binary_cross_entropy(a, c(target), reduction=r), p),
        "bcel": (lambda f, c, a, r: f.binary_cross_entropy_with_logits(
            a, c(target), pos_weight=c(w), reduction=r), x),
    }
    for name, (fn, data) in cases.items():
        for reduction in REDUCTIONS:
            ours = fs.tensor(data, requires_grad=True)
            theirs = torch.tensor(data, requires_grad=True)
            got = fn(F, lambda a: a, ours, reduction)
            expected = fn(torch.nn.functional, torch.tensor, theirs, reduction)
            got.sum().backward()
            expected.sum().backward()
            label = f"{name} {reduction}"
            assert got.dtype == np.float32 and ours.grad.dtype == np.float32, label
            np.testing.assert_allclose(got.data, expected.detach().numpy(), rtol=2e-6,
                                       atol=1e-6, err_msg=label)
            np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=2e-5, atol=1e-7,
                                       err_msg=label)
