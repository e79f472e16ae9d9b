"""fs.viz.show_images and fs.viz.plot_confusion_matrix draw exactly what they are given."""

import matplotlib  # conftest.py selects the Agg backend and closes figures after each test
import numpy as np
import pytest

import from_scratch as fs


def _shown(fig):
    """(image array, title) of every axes that holds an image, in grid order."""
    return [(ax.images[0].get_array(), ax.get_title()) for ax in fig.axes if ax.images]


def test_show_images_grid_titles_and_pixels():
    rng = np.random.default_rng(0)
    images = rng.random((7, 28, 28), dtype=np.float32)
    fig = fs.viz.show_images(images, labels=np.array([3, 1, 4, 1, 5, 9, 2]), ncols=3)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 9  # 3 rows of 3; the last two slots stay empty
    shown = _shown(fig)
    assert [t for _, t in shown] == ["3", "1", "4", "1", "5", "9", "2"]
    for (pixels, _), image in zip(shown, images, strict=True):
        np.testing.assert_array_equal(np.asarray(pixels), image)
    assert not any(ax.axison for ax in fig.axes)


def test_show_images_reshapes_flat_rows_and_accepts_tensors_and_titles():
    flat = fs.tensor(np.arange(2 * 784, dtype=np.float32).reshape(2, 784))
    fig = fs.viz.show_images(flat, titles=["a", "b"])
    shown = _shown(fig)
    assert len(fig.axes) == 2  # ncols shrinks to the number of images
    assert [np.asarray(p).shape for p, _ in shown] == [(28, 28), (28, 28)]
    np.testing.assert_array_equal(np.asarray(shown[1][0]), flat.data[1].reshape(28, 28))
    assert [t for _, t in shown] == ["a", "b"]


def test_show_images_symmetric_range_is_centred_on_zero():
    w = np.array([[[0.5, -2.0], [1.0, 0.0]], [[0.1, 0.2], [0.3, 0.4]]], dtype=np.float32)
    fig = fs.viz.show_images(w, symmetric=True, cmap="RdBu_r")
    limits = [ax.images[0].get_clim() for ax in fig.axes]
    assert limits == [(-2.0, 2.0), (-0.4000000059604645, 0.4000000059604645)]


@pytest.mark.parametrize("images, kwargs, match", [
    (np.zeros((3, 10)), {}, "not a square"),
    (np.zeros(5), {}, "expects images of shape"),
    (np.zeros((0, 4, 4)), {}, "no images"),
    (np.zeros((2, 4, 4)), {"labels": [1, 2, 3]}, "2 images but 3 labels"),
    (np.zeros((2, 4, 4)), {"labels": [1, 2], "titles": ["a", "b"]}, "not both"),
    (np.zeros((2, 4, 4)), {"ncols": 0}, "ncols"),
])
def test_show_images_rejects_bad_input_with_a_hint(images, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fs.viz.show_images(images, **kwargs)


def test_confusion_matrix_writes_every_count_and_emphasizes_errors():
    cm = np.array([[50, 2, 0], [1, 40, 7], [0, 0, 30]])
    fig = fs.viz.plot_confusion_matrix(cm, classes=["a", "b", "c"])
    ax = fig.axes[0]
    counts = [t for t in ax.texts if t.get_gid() == "count"]
    assert [t.get_text() for t in counts] == [str(v) for v in cm.ravel()]
    assert ax.images[0].get_clim() == (0.0, 7.0)  # the largest off-diagonal count
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), cm)
    plain = fs.viz.plot_confusion_matrix(cm, emphasize_errors=False)
    assert plain.axes[0].images[0].get_clim() == (0.0, 50.0)


def test_confusion_matrix_rejects_non_square_input():
    with pytest.raises(ValueError, match="square"):
        fs.viz.plot_confusion_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="class names"):
        fs.viz.plot_confusion_matrix(np.eye(3), classes=["a", "b"])
