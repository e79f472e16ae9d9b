"""Optimizers: trajectories against the published update rules (plain NumPy float64 written
here), against PyTorch when it is installed, in-place float32 updates, parameter groups,
shared parameters, state_dict round trips that resume bit-identically, and the errors."""

import math

import numpy as np
import pytest

import from_scratch as fs
from from_scratch import nn, optim

RNG = np.random.default_rng(0)
A = RNG.uniform(0.5, 2.0, size=(3, 4))  # curvature of the test problem
C = RNG.normal(size=(3, 4))  # its minimum, before the quartic term
THETA0 = RNG.normal(size=(3, 4))
B0 = RNG.normal(size=4)
STEPS = 20


# --------------------------------------------------------------------------- the test problem
# f(θ, b) = Σ ½ A (θ - C)² + 0.025 θ⁴ + 0.1 Σ (b - 1)² θ[0]²: curved, coupled, bounded
# below and not quadratic, so the gradient depends on where the optimizer has been.


def loss_fs(theta, b):
    return ((0.5 * A * (theta - C) ** 2 + 0.025 * theta**4).sum()
            + 0.1 * ((b - 1.0) ** 2 * theta[0] ** 2).sum())


def grads_np(theta, b):
    g_theta = A * (theta - C) + 0.1 * theta**3
    g_theta[0] += 0.2 * (b - 1.0) ** 2 * theta[0]
    g_b = 0.2 * (b - 1.0) * theta[0] ** 2
    return [g_theta, g_b]


# --------------------------------------------------------------------------- reference rules
# Each takes the parameters and the gradients (lists of float64 arrays), the state dict of
# the reference, the step number t (from 1) and the options; it returns the new parameters.


def ref_sgd(params, grads, state, t, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
            nesterov=False):
    out = []
    for i, (p, g) in enumerate(zip(params, grads, strict=True)):
        g = g + weight_decay * p
        if momentum:
            b = g.copy() if t == 1 else momentum * state[i] + (1 - dampening) * g
            state[i] = b
            g = g + momentum * b if nesterov else b
        out.append(p - lr * g)
    return out


def ref_adam(params, grads, state, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
             amsgrad=False, decoupled=False):
    b1, b2 = betas
    out = []
    for i, (p, g) in enumerate(zip(params, grads, strict=True)):
        m, v, vmax = state.get(i, (0.0, 0.0, 0.0))
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        m_hat = m / (1 - b1**t)
        v_hat = (vmax if amsgrad else v) / (1 - b2**t)
        state[i] = (m, v, vmax)
        out.append(p - lr * m_hat / (np.sqrt(v_hat) + eps))
    return out


def ref_adamw(params, grads, state, t, lr, weight_decay=1e-2, **kw):
    return ref_adam(params, grads, state, t, lr, weight_decay=weight_decay, decoupled=True, **kw)


def ref_rmsprop(params, grads, state, t, lr, alpha=0.99, eps=1e-8, weight_decay=0.0,
                momentum=0.0, centered=False):
    out = []
    for i, (p, g) in enumerate(zip(params, grads, strict=True)):
        v, g_avg, buf = state.get(i, (0.0, 0.0, 0.0))
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        v_tilde = v
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            v_tilde = v - g_avg**2
        if momentum > 0:
            buf = momentum * buf + g / (np.sqrt(v_tilde) + eps)
            p = p - lr * buf
        else:
            p = p - lr * g / (np.sqrt(v_tilde) + eps)
        state[i] = (v, g_avg, buf)
        out.append(p)
    return out


def ref_adagrad(params, grads, state, t, lr, lr_decay=0.0, weight_decay=0.0,
                initial_accumulator_value=0.0, eps=1e-10):
    out = []
    for i, (p, g) in enumerate(zip(params, grads, strict=True)):
        s = state.get(i, initial_accumulator_value)
        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        state[i] = s
        out.append(p - clr * g / (np.sqrt(s) + eps))
    return out


REFERENCES = {"SGD": ref_sgd, "Adam": ref_adam, "AdamW": ref_adamw, "RMSprop": ref_rmsprop,
              "Adagrad": ref_adagrad}

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.5)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CASES]


def reference_trajectory(name, kw, steps=STEPS):
    params, state = [THETA0.copy(), B0.copy()], {}
    for t in range(1, steps + 1):
        params = REFERENCES[name](params, grads_np(*params), state, t, **kw)
    assert all(np.all(np.isfinite(p)) for p in params), "the test problem diverged"
    return params


def make_params(dtype):
    return [fs.tensor(THETA0, requires_grad=True, dtype=dtype),
            fs.tensor(B0, requires_grad=True, dtype=dtype)]


def train(opt, params, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss_fs(*params).backward()
        opt.step()


# --------------------------------------------------------------------------- trajectories


@pytest.mark.parametrize("name, kw", CASES, ids=IDS)
def test_float64_trajectory_follows_the_published_rule(name, kw):
    params = make_params(np.float64)
    train(getattr(optim, name)(params, **kw), params, STEPS)
    for ours, ref in zip(params, reference_trajectory(name, kw), strict=True):
        np.testing.assert_allclose(ours.data, ref, rtol=1e-9, atol=1e-12)
    assert not np.allclose(params[0].data, THETA0)  # it did move


@pytest.mark.parametrize("name, kw", CASES, ids=IDS)
def test_float32_stays_float32_in_place_and_close_to_the_rule(name, kw):
    params = make_params(np.float32)
    arrays = [p.data for p in params]
    opt = getattr(optim, name)(params, **kw)
    train(opt, params, STEPS)
    for p, arr, ref in zip(params, arrays, reference_trajectory(name, kw), strict=True):
        assert p.data is arr and p.data.dtype == np.float32  # updated in place
        np.testing.assert_allclose(p.data, ref, rtol=2e-4, atol=2e-5)
    for state in opt.state.values():
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, key


@pytest.mark.parametrize("name, kw", CASES, ids=IDS)
def test_trajectory_matches_pytorch(name, kw):
    torch = pytest.importorskip("torch")
    params = make_params(np.float32)
    train(getattr(optim, name)(params, **kw), params, STEPS)

    theta = torch.tensor(THETA0.astype(np.float32), requires_grad=True)
    b = torch.tensor(B0.astype(np.float32), requires_grad=True)
    a, c = torch.tensor(A.astype(np.float32)), torch.tensor(C.astype(np.float32))
    opt = getattr(torch.optim, name)([theta, b], **kw)
    for _ in range(STEPS):
        opt.zero_grad()
        loss = ((0.5 * a * (theta - c) ** 2 + 0.025 * theta**4).sum()
                + 0.1 * ((b - 1.0) ** 2 * theta[0] ** 2).sum())
        loss.backward()
        opt.step()
    for ours, theirs in zip(params, (theta, b), strict=True):
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_numpy_scalar_hyperparameters_do_not_promote_to_float64():
    params = make_params(np.float32)
    opt = optim.Adam(params, lr=np.float64(0.01), betas=(np.float64(0.9), 0.999))
    opt.param_groups[0]["lr"] = np.float64(0.02)  # as a scheduler written by hand might
    train(opt, params, 3)
    assert all(p.data.dtype == np.float32 for p in params)
    assert all(v.dtype == np.float32 for s in opt.state.values() for v in s.values()
               if isinstance(v, np.ndarray))


# --------------------------------------------------------------------------- groups, sharing


def test_parameter_groups_have_their_own_learning_rate():
    w, b = fs.tensor([1.0, 2.0], requires_grad=True), fs.tensor([3.0], requires_grad=True)
    opt = optim.SGD([{"params": [w]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.0)
    w.grad, b.grad = np.ones(2, np.float32), np.ones(1, np.float32)
    opt.step()
    np.testing.assert_allclose(w.data, [0.9, 1.9], rtol=1e-6)
    np.testing.assert_allclose(b.data, [2.5], rtol=1e-6)
    assert opt.param_groups[1]["momentum"] == 0.0  # filled from the defaults


def test_a_shared_parameter_is_stepped_once():
    def final(param_spec):
        w = fs.tensor([1.0, -2.0], requires_grad=True)
        opt = optim.SGD(param_spec(w), lr=0.1, momentum=0.9)
        for _ in range(5):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        return w.data, opt

    once, _ = final(lambda w: [w])
    twice, opt = final(lambda w: [w, w])
    across, opt2 = final(lambda w: [{"params": [w]}, {"params": [w], "lr": 10.0}])
    np.testing.assert_array_equal(twice, once)
    np.testing.assert_array_equal(across, once)  # the first group that lists it owns it
    assert len(opt.param_groups[0]["params"]) == 1 and len(opt.state) == 1
    assert opt2.param_groups[1]["params"] == []


def test_equal_valued_distinct_parameters_are_both_kept():
    w1, w2 = fs.zeros(3, requires_grad=True), fs.zeros(3, requires_grad=True)  # w1 == w2
    opt = optim.SGD([w1, w2], lr=1.0)
    assert len(opt.param_groups[0]["params"]) == 2


def test_parameters_without_grad_are_skipped_and_get_no_state():
    used, unused = fs.tensor([1.0], requires_grad=True), fs.tensor([5.0], requires_grad=True)
    opt = optim.Adam([used, unused], lr=0.1)
    (used * 2.0).sum().backward()
    opt.step()
    assert unused.data[0] == 5.0 and unused not in opt.state and used in opt.state


def test_zero_grad_sets_to_none_or_zeroes_in_place():
    w = fs.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad and np.all(grad == 0)
    opt.zero_grad()
    assert w.grad is None


def test_step_with_a_closure_returns_its_loss():
    w = fs.tensor([3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 9.0 and w.data[0] == 1.5  # 3 - 0.25 * 6


def test_optimizing_an_nn_module_updates_the_module_arrays():
    fs.manual_seed(0)
    model = nn.Linear(3, 2)
    weight_array = model.weight.data
    before = weight_array.copy()
    opt = optim.SGD(model.parameters(), lr=0.1)
    model(fs.ones(4, 3)).sum().backward()
    opt.step()
    assert model.weight.data is weight_array
    np.testing.assert_allclose(weight_array, before - 0.1 * 4.0, rtol=1e-6)


# --------------------------------------------------------------------------- state_dict


def assert_plain(obj, where="state_dict"):
    """Only arrays, numbers, booleans, strings and containers of them: no pickle needed."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            assert isinstance(k, (str, int)), f"{where}: key {k!r}"
            assert_plain(v, f"{where}[{k!r}]")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            assert_plain(v, f"{where}[{i}]")
    else:
        assert isinstance(obj, (np.ndarray, int, float, bool, str)), f"{where}: {type(obj)}"


@pytest.mark.parametrize("through_file", [False, True], ids=["dict", "fs.save"])
@pytest.mark.parametrize("name, kw", CASES, ids=IDS)
def test_state_dict_round_trip_resumes_bit_identically(name, kw, through_file, tmp_path):
    straight = make_params(np.float32)
    train(getattr(optim, name)(straight, **kw), straight, 20)

    first = make_params(np.float32)
    opt = getattr(optim, name)(first, **kw)
    train(opt, first, 10)
    saved = opt.state_dict()
    assert_plain(saved)
    assert saved["param_groups"][0]["params"] == [0, 1]
    if through_file:
        fs.save({"optimizer": saved}, tmp_path / "ckpt.npz")
        saved = fs.load(tmp_path / "ckpt.npz")["optimizer"]

    resumed = [fs.tensor(p.data.copy(), requires_grad=True) for p in first]
    opt2 = getattr(optim, name)(resumed, lr=123.0)  # options come back from the state_dict
    opt2.load_state_dict(saved)
    train(opt2, resumed, 10)
    for a, b in zip(resumed, straight, strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    assert opt2.param_groups[0]["lr"] == kw["lr"]


def test_state_dict_is_a_snapshot():
    params = make_params(np.float32)
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    train(opt, params, 2)
    saved = opt.state_dict()
    buffer = saved["state"][0]["momentum_buffer"].copy()
    train(opt, params, 2)
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"], buffer)


def test_load_state_dict_refuses_a_different_model():
    params = make_params(np.float32)
    opt = optim.Adam(params, lr=0.1)
    train(opt, params, 1)
    saved = opt.state_dict()
    with pytest.raises(ValueError, match="has 1 parameters but the saved one has 2"):
        optim.Adam([fs.zeros(3, 4, requires_grad=True)]).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"shape \(3, 4\) but the parameter has shape \(4, 3\)"):
        optim.Adam([fs.zeros(4, 3, requires_grad=True),
                    fs.zeros(4, requires_grad=True)]).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"1 parameter group\(s\) but this optimizer has 2"):
        optim.Adam([{"params": [fs.zeros(3, 4, requires_grad=True)]},
                    {"params": [fs.zeros(4, requires_grad=True)]}]).load_state_dict(saved)


# --------------------------------------------------------------------------- errors


def test_constructor_errors_say_what_is_wrong():
    w = fs.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"single Tensor; wrap it in a list"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2.0], lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="invalid lr: -0.1"):
        optim.Adam([w], lr=-0.1)
    with pytest.raises(ValueError, match="invalid lr: nan"):
        optim.SGD([w], lr=math.nan)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([w], betas=(0.9, 1.0))
