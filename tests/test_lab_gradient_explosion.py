"""gradient-explosion beyond its claims: offline from the bundled book, a one-line error
before any work when its data is missing, its helpers, and its parameters."""

import json
import math

import numpy as np
import pytest

import nablab.labs as labs
from nablab import cli
from nablab.data import text
from nablab.labs import gradient_explosion as ge


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No $NABLAB_DATA_DIR, an empty cache, and any download fails the test."""
    monkeypatch.delenv(text.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(text, "_fetch", lambda url: pytest.fail(f"downloaded {url}"))


def test_quick_run_needs_no_network_and_no_data_dir(offline, tmp_path):
    args = ["run", "gradient-explosion", "--quick", "--no-progress", "--out", str(tmp_path)]
    assert cli.main(args) == 0
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["claims"] and all(c["holds"] for c in saved["claims"])


def test_missing_data_is_one_line_error_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(text.DATA_DIR_ENV, str(tmp_path / "nothing here"))
    monkeypatch.setattr(ge, "matrix_product_norms", lambda *a: pytest.fail("work started"))
    out = tmp_path / "out"
    assert cli.main(["run", "gradient-explosion", "--quick", "--no-progress", "--out", str(out)])
    err = capsys.readouterr().err
    assert err.startswith("nablab: error: timemachine.txt not found")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_quick_results_tables_and_published_column(quick_run):
    result = quick_run("gradient-explosion")
    m = result.metrics
    assert m["scalars"]["0.25^30"] == pytest.approx(0.25**30)
    sigma4 = 1 / (1 + math.exp(-4))
    assert m["sigmoid_grad"]["4"] == pytest.approx(sigma4 * (1 - sigma4), rel=1e-5)
    assert set(m["deep_mlp"]) == {
        "tanh_g_0.5", "tanh_g_1", "tanh_g_1.667", "tanh_g_3",
        "relu_g_1", "relu_g_1.414", "relu_g_2",
    }  # fmt: skip
    assert m["deep_mlp"]["relu_g_1.414"]["label"] == "relu g=√2 (He)"
    assert len(m["rnn"]["clipped"]["blew_up"]) == result.params["rnn_seeds"]
    assert len(m["rnn"]["unclipped_small_lr"]["blew_up"]) == 1  # the first seed only
    scalars = result.tables[0]
    assert scalars.columns == ["product", "seed", "value"]
    assert [row[1] for row in scalars.rows] == ["≈ 1e−21", "≈ 9e20", None]
    for table in result.tables:
        for row in table.rows:
            assert all(c is None or isinstance(c, (str, int, float)) for c in row), table.title


def test_matrix_products_and_the_theoretical_rate():
    logs = ge.matrix_product_norms(0, products=20)
    assert len(logs) == 21 and logs == ge.matrix_product_norms(0, products=20)
    rates = [np.mean(np.diff(ge.matrix_product_norms(s, products=200))) for s in range(10)]
    assert np.mean(rates) == pytest.approx(ge.lyapunov_log10(), abs=0.02)
    with pytest.raises(ValueError):
        ge.lyapunov_log10(3)


def test_gain_labels():
    assert [ge.gain_label(g) for g in (1.0, 0.5, 5 / 3, math.sqrt(2), 1.6667)] == [
        "1", "0.5", "5/3 (tanh gain)", "√2 (He)", "5/3 (tanh gain)",
    ]  # fmt: skip


def test_relu_net_scales_every_layers_gradient_by_the_same_factor():
    _, g1 = ge.deep_mlp_norms("relu", 1.0, 6, 16, 8, seed=0)
    _, g2 = ge.deep_mlp_norms("relu", 2.0, 6, 16, 8, seed=0)
    assert np.asarray(g2) / np.asarray(g1) == pytest.approx(2.0**5, rel=1e-4)  # g^(L-1)


def test_clipping_bounds_every_applied_step(offline, tmp_path):
    p = labs.params.resolve(labs.get_lab("gradient-explosion").params, True,
                            {"epochs": 1, "hidden": 16, "max_tokens": 2000})  # fmt: skip
    ctx = labs.Context(seed=0, quick=True, out=tmp_path, progress=False)
    clipped = ge.rnn_clipping(0.05, 1.0, p, 0, ctx, "clipped")
    assert max(clipped["clipped_norm"]) <= 0.05 * (1 + 1e-5) < max(clipped["norm"])
    free = ge.rnn_clipping(None, 1.0, p, 0, ctx, "free")
    assert free["norm"] == pytest.approx(free["clipped_norm"], rel=1e-6)  # float32 norms
    assert len(free["perplexity"]) == 1 and free["norm"][0] == clipped["norm"][0]


def test_parameters_show_in_setting_and_results(offline, tmp_path):
    result = labs.run(
        "gradient-explosion", quick=True, out=tmp_path, epochs=2, rnn_seeds=1, seeds=2,
        depth=12, tanh_gains=[1.0, 3.0], relu_gains=[1.0], products=50, lr_small=0.2,
    )  # fmt: skip
    m = result.metrics
    assert "12-layer" in result.setting and "2 epochs" in result.setting
    assert "lr 0.2 without" in result.setting and "tanh with g = 1, 3" in result.setting
    assert set(m["deep_mlp"]) == {"tanh_g_1", "tanh_g_3", "relu_g_1"}
    assert all(len(r["rms"]) == 12 for r in m["deep_mlp"].values())
    assert len(m["matrix_product"]["log10_norm"]) == 2
    assert all(len(r["perplexity"]) <= 2 for r in m["rnn"].values())
    assert m["rnn"]["unclipped_small_lr"]["label"] == "no clipping, lr 0.2"
    by_text = {c["text"][:20]: c["holds"] for c in result.claims}
    assert by_text["12-layer ReLU MLP: g"] is None  # g = √2 and 2 were not run
    # a shallower ReLU net at g = 1 loses less of its signal than the quick run's 30 layers
    assert m["deep_mlp"]["relu_g_1"]["rms"][-1] > 1e-3
