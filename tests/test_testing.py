"""fs.testing: numerical gradients, and gradcheck catching wrong backward passes with a useful
message (the chapters' exercises rely on it to grade students' ops)."""

import re

import numpy as np
import pytest

import from_scratch as fs
from from_scratch.testing import gradcheck, numerical_grad


class DoubledSquare(fs.Function):
    """x² with a backward off by a factor 2 (2·2x instead of 2x): the kind of slip gradcheck
    exists to catch."""

    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, grad):
        (x,) = self.saved
        return grad * 4 * x


class WrongSecondInput(fs.Function):
    """z = x * y whose gradient for y forgets the factor x."""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x * y

    def backward(self, grad):
        x, y = self.saved
        return grad * y, grad


def test_numerical_grad_of_known_functions():
    x = np.array([1.0, -2.0, 3.0])
    (g,) = numerical_grad(lambda t: (t * t).sum(), x)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-7)
    gx, gy = numerical_grad(lambda a, b: (a * b).sum(), x, np.array([4.0, 5.0, 6.0]))
    np.testing.assert_allclose(gx, [4, 5, 6], rtol=1e-7)
    np.testing.assert_allclose(gy, x, rtol=1e-7)


def test_numerical_grad_weights_non_scalar_outputs_and_skips_integer_inputs():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    idx = np.array([1, 1, 0])
    w = np.array([1.0, 10.0, 100.0])
    g, g_idx = numerical_grad(lambda t, i: t[i, 0], x, idx, weight=w)
    np.testing.assert_allclose(g, [[100, 0], [11, 0]], rtol=1e-7)
    assert g_idx is None


def test_numerical_grad_leaves_inputs_unchanged():
    x = np.array([0.5, 1.5])
    numerical_grad(lambda t: t.exp().sum(), x)
    np.testing.assert_array_equal(x, [0.5, 1.5])


def test_gradcheck_accepts_correct_ops_and_float32_inputs():
    x32 = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)
    assert gradcheck(lambda t: (t.tanh() * t).sum(axis=1), x32) is True
    assert gradcheck(lambda t: t.exp(), fs.tensor(x32)) is True      # Tensors are accepted too


def test_gradcheck_rejects_a_backward_off_by_a_factor_2_with_a_full_report():
    x = np.array([1.0, -3.0, 2.0])
    with pytest.raises(AssertionError) as info:
        gradcheck(lambda t: DoubledSquare.apply(t).sum(), x)
    msg = str(info.value)
    assert "input 0" in msg and "shape (3,)" in msg
    assert "worst at index (1,)" in msg                 # |error| = 2|x| is largest at x = -3
    number = r"(-?[\d.]+(?:e[-+]?\d+)?)"
    values = {name: float(re.search(name + " " + number, msg).group(1))
              for name in ("analytic", "numeric", "abs error", "rel error")}
    # The output is weighted by a fixed random w (here a scalar): analytic = 4wx, numeric = 2wx.
    assert values["analytic"] == pytest.approx(2 * values["numeric"], rel=1e-5)
    assert values["numeric"] < -3                      # 2 w (-3) with w in [0.5, 1.5]
    assert values["abs error"] == pytest.approx(-values["numeric"], rel=1e-2)
    assert values["rel error"] == pytest.approx(1, rel=1e-2)


def test_gradcheck_names_the_input_that_is_wrong():
    x, y = np.array([2.0, 3.0]), np.array([0.5, -1.0])
    with pytest.raises(AssertionError) as info:
        gradcheck(WrongSecondInput.apply, x, y)
    assert "input 1" in str(info.value) and "input 0" not in str(info.value)


def test_gradcheck_catches_a_missing_gradient():
    class ForgetsY(fs.Function):
        def forward(self, x, y):
            return x + y

        def backward(self, grad):
            return grad, None

    with pytest.raises(AssertionError, match="input 1"):
        gradcheck(ForgetsY.apply, np.ones(2), np.ones(2))


def test_nan_from_an_op_is_allowed_but_gradcheck_reports_it():
    with np.errstate(invalid="ignore", divide="ignore"):
        y = fs.tensor([-1.0, 0.0, 4.0], requires_grad=True).log()
        assert np.isnan(y.data[0]) and np.isneginf(y.data[1])   # no exception from the op
        with pytest.raises(AssertionError, match=r"non-finite value\(s\).*index \(0,\)"):
            gradcheck(lambda t: t.log(), np.array([-1.0, 0.0, 4.0]))


def test_gradcheck_reports_an_infinite_analytic_gradient():
    with np.errstate(divide="ignore", invalid="ignore"):   # sqrt(0 - eps) in the numeric pass
        with pytest.raises(AssertionError, match=r"analytic gradient is not finite at \(0,\)"):
            gradcheck(lambda t: t.sqrt(), np.array([0.0, 1.0]))


def test_gradcheck_needs_a_floating_input():
    with pytest.raises(ValueError, match="floating-point input"):
        gradcheck(lambda i: fs.tensor([1.0])[i], np.array([0]))


def test_gradcheck_tolerances_are_tight_enough_to_matter():
    # A 0.5 % error in the gradient must fail at the default rtol of 1e-3.
    class SlightlyOff(fs.Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x * x

        def backward(self, grad):
            (x,) = self.saved
            return grad * 2 * x * 1.005

    with pytest.raises(AssertionError):
        gradcheck(SlightlyOff.apply, np.array([1.0, 2.0]))
    assert gradcheck(SlightlyOff.apply, np.array([1.0, 2.0]), rtol=1e-2)
