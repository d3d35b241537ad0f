"""poly-fit: the published row sits beside ours, and the knobs reach the fits."""

import nablab.labs as labs


def test_published_row_beside_ours(quick_run):
    table = quick_run("poly-fit").tables[0]
    assert table.columns[:5] == ["fit", "train (d2l)", "test (d2l)", "w (d2l)", "b (d2l)"]
    assert table.rows[0][1:3] == [1.0e-4, 9.8e-5]


def test_fewer_epochs_leave_the_cubic_fit_worse(tmp_path, quick_run):
    short = labs.run("poly-fit", quick=True, out=tmp_path, epochs=2, seeds=1,
                     current_epochs=2, current_long_epochs=2)  # fmt: skip
    full = quick_run("poly-fit").metrics["classic"]["cubic"]["test_loss"]
    assert short.metrics["classic"]["cubic"]["test_loss"] > 10 * full
    assert "2 epochs" in short.setting and "2 epochs (2 for 20)" in short.setting
