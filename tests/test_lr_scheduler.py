"""Learning-rate schedules: the values epoch by epoch against PyTorch's closed forms (and
against PyTorch itself when installed), several parameter groups, get_last_lr, state_dict."""

import math

import numpy as np
import pytest

import from_scratch as fs
from from_scratch import optim
from from_scratch.optim.lr_scheduler import CosineAnnealingLR, StepLR

EPOCHS = 40


def make_optimizer(lrs=(0.1, 0.03)):
    groups = [{"params": [fs.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=1.0, momentum=0.9)


def lrs_by_epoch(scheduler, epochs=EPOCHS):
    """The lr of every group at epochs 0, 1, ..., stepping as a training loop does."""
    out = [scheduler.get_last_lr()]
    for _ in range(epochs):
        scheduler.optimizer.step()
        scheduler.step()
        out.append(scheduler.get_last_lr())
    return np.array(out)


def test_step_lr_follows_its_closed_form():
    scheduler = StepLR(make_optimizer(), step_size=7, gamma=0.5)
    got = lrs_by_epoch(scheduler)
    epochs = np.arange(EPOCHS + 1)[:, None]
    expected = np.array([0.1, 0.03]) * 0.5 ** (epochs // 7)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got[6, 0] == 0.1 and got[7, 0] == 0.05  # the drop happens at epoch 7, not 6 or 8


def test_step_lr_writes_into_the_optimizer_and_get_last_lr():
    opt = make_optimizer()
    scheduler = StepLR(opt, step_size=2)
    for _ in range(4):
        scheduler.step()
    assert [g["lr"] for g in opt.param_groups] == scheduler.get_last_lr()
    np.testing.assert_allclose(scheduler.get_last_lr(), [0.1 * 0.01, 0.03 * 0.01], rtol=1e-12)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.03]


@pytest.mark.parametrize("eta_min", [0.0, 0.001])
def test_cosine_annealing_follows_its_closed_form_over_several_periods(eta_min):
    t_max = 10
    scheduler = CosineAnnealingLR(make_optimizer(), T_max=t_max, eta_min=eta_min)
    got = lrs_by_epoch(scheduler)  # 40 epochs: down, up, down, up
    epochs = np.arange(EPOCHS + 1)[:, None]
    base = np.array([0.1, 0.03])
    expected = eta_min + (base - eta_min) * (1 + np.cos(np.pi * epochs / t_max)) / 2
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(got[t_max], [eta_min, eta_min], atol=1e-15)  # the bottom


def test_closed_forms_agree_with_the_recursive_values():
    for scheduler in (StepLR(make_optimizer(), 3, gamma=0.3),
                      CosineAnnealingLR(make_optimizer(), 6, eta_min=0.01)):
        for _ in range(15):
            scheduler.step()
            np.testing.assert_allclose(scheduler.get_last_lr(), scheduler._closed_form_lr(),
                                       rtol=1e-9)


def test_a_learning_rate_changed_by_hand_is_respected():
    opt = make_optimizer((0.1,))
    scheduler = StepLR(opt, step_size=2, gamma=0.5)
    opt.param_groups[0]["lr"] = 1.0  # e.g. a warm restart decided by the user
    scheduler.step()
    scheduler.step()
    assert scheduler.get_last_lr() == [0.5]


def test_state_dict_round_trip_continues_the_schedule(tmp_path):
    straight = CosineAnnealingLR(make_optimizer(), T_max=8, eta_min=0.002)
    expected = lrs_by_epoch(straight, 12)

    opt = make_optimizer()
    first = CosineAnnealingLR(opt, T_max=8, eta_min=0.002)
    head = lrs_by_epoch(first, 5)
    fs.save({"optimizer": opt.state_dict(), "scheduler": first.state_dict()},
            tmp_path / "ckpt.npz")
    ckpt = fs.load(tmp_path / "ckpt.npz")

    opt2 = make_optimizer()
    opt2.load_state_dict(ckpt["optimizer"])
    resumed = CosineAnnealingLR(opt2, T_max=8, eta_min=0.002)
    resumed.load_state_dict(ckpt["scheduler"])
    tail = lrs_by_epoch(resumed, 7)
    np.testing.assert_array_equal(np.concatenate([head, tail[1:]]), expected)


def test_scheduler_errors():
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        StepLR(make_optimizer(), step_size=0)
    with pytest.raises(ValueError, match="T_max must be a positive integer"):
        CosineAnnealingLR(make_optimizer(), T_max=0)
    with pytest.raises(TypeError, match="needs an optimizer"):
        StepLR([fs.zeros(1, requires_grad=True)], step_size=1)
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(make_optimizer(), step_size=1, last_epoch=3)


@pytest.mark.parametrize("make", [
    lambda opt, lib: lib.StepLR(opt, step_size=4, gamma=0.7),
    lambda opt, lib: lib.CosineAnnealingLR(opt, T_max=9, eta_min=0.005),
], ids=["StepLR", "CosineAnnealingLR"])
def test_schedules_match_pytorch(make):
    torch = pytest.importorskip("torch")
    ours = lrs_by_epoch(make(make_optimizer(), optim.lr_scheduler))
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in (0.1, 0.03)]
    torch_opt = torch.optim.SGD(groups, lr=1.0, momentum=0.9)
    scheduler = make(torch_opt, torch.optim.lr_scheduler)
    theirs = [scheduler.get_last_lr()]
    for _ in range(EPOCHS):
        torch_opt.step()
        scheduler.step()
        theirs.append(scheduler.get_last_lr())
    np.testing.assert_allclose(ours, np.array(theirs), rtol=1e-12, atol=1e-17)
    assert math.isclose(ours[-1, 0], theirs[-1][0], rel_tol=1e-12)
