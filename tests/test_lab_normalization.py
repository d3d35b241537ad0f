"""normalization: plain vs BatchNorm vs LayerNorm in a deep MLP; the book's BN check."""

import numpy as np

import nablab.labs as labs
from nablab.labs import normalization
from nablab.labs.params import resolve
from nablab.labs.runner import Context


def test_quick_run_counts_what_it_claims(quick_run):
    m = quick_run("normalization").metrics
    for arm, by_lr in m["final_loss"].items():
        for lr, losses in by_lr.items():
            below = np.mean([np.isfinite(v) and v < 0.3 for v in losses])
            assert m["trained"][arm][lr] == below
        trained = [float(lr) for lr, share in m["trained"][arm].items() if share == 1]
        assert m["largest_lr"][arm] == max(trained, default=None)
    first = np.array(m["grad_first"]["plain"])
    assert np.allclose(m["log_ratio"]["plain"], np.log10(first[:, 0] / first[:, -1]))
    assert first.shape[1] == 9  # 8 hidden layers and the output layer


def test_first_step_is_the_same_for_every_learning_rate_and_norms_change_it(tmp_path):
    p = resolve(labs.get_lab("normalization").params, True, {"epochs": 1, "depth": 3})
    ctx = Context(seed=0, quick=True, out=tmp_path, progress=False)
    slow, fast = (normalization.train_arm("plain", lr, 0, p, ctx) for lr in (0.01, 3.0))
    assert slow["grad_first"] == fast["grad_first"]  # same init, same first mini-batch
    normed = normalization.train_arm("batchnorm", 0.01, 0, p, ctx)
    assert normed["grad_first"] != slow["grad_first"]
    assert len(slow["grad_first"]) == 4


def test_he_init_lets_the_plain_net_train_until_the_learning_rate_is_large(tmp_path):
    result = labs.run(
        "normalization", quick=True, out=tmp_path, init="kaiming", lr=[0.1, 3.0],
        arms=["plain", "batchnorm"],
    )  # fmt: skip
    assert (
        "init kaiming" in result.setting and "lr 0.1, 3.0; arms plain, batchnorm" in result.setting
    )
    m = result.metrics
    assert m["largest_lr"] == {"plain": 0.1, "batchnorm": 3.0}
    assert not np.isfinite(m["final_loss"]["plain"]["3.0"][0])  # diverged
    holds = [c["holds"] for c in result.claims]
    assert holds[0] is True and holds[2] is None  # no LayerNorm run: that claim does not apply
    assert result.claims[0]["numbers"] == {"learning rates": "3"}


def test_the_plain_net_alone_and_a_shallower_net_change_setting_and_tables(tmp_path):
    result = labs.run("normalization", quick=True, out=tmp_path, arms=["plain"], depth=3,
                      lr=[0.3], epochs=5)  # fmt: skip
    assert "32 × 3 hidden layers" in result.setting and "5 epochs" in result.setting
    assert [c["holds"] for c in result.claims][:4] == [None, None, None, None]
    grad_table = result.tables[2]
    assert [row[0] for row in grad_table.rows] == ["fc1", "fc2", "fc3", "fc4", "log10 fc1/out"]
    assert result.to_dict()["changed"] == {"arms": ["plain"], "depth": 3, "lr": [0.3], "epochs": 5}


def test_book_check_and_moving_average():
    book = normalization.book_check(0)
    for i, (*_, means, stds) in enumerate(book["bn_book_affine"]):
        assert np.allclose(means, normalization.BOOK_BETA[i], atol=1e-3)
        assert np.allclose(stds, normalization.BOOK_GAMMA[i], rtol=1e-3)
    assert all(std > 5 for _, std, _, _ in book["no_bn"])  # N(0, 1) weights: far from 1
    mean_diff, var_ratio = normalization.book_moving_average(0, steps=5)
    assert mean_diff < 1e-9
    assert abs(var_ratio - 200 / 199) < 2e-3  # unbiased (ours) against biased (the book's)
