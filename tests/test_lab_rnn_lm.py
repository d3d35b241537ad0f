"""rnn-lm beyond its claims: it runs offline from the bundled book, fails in one line before
any training when its data is missing, and its parameters show in the setting and results."""

import json
import string

import pytest

import nablab.labs as labs
from nablab import cli
from nablab.data import text
from nablab.labs import rnn_lm

VOCAB_CHARS = set(string.ascii_lowercase + " ")  # the 28 tokens but <unk>


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No $NABLAB_DATA_DIR, an empty cache, and any download fails the test."""
    monkeypatch.delenv(text.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(text, "_fetch", lambda url: pytest.fail(f"downloaded {url}"))


def test_quick_run_needs_no_network_and_no_data_dir(offline, tmp_path, capsys):
    assert cli.main(["run", "rnn-lm", "--quick", "--no-progress", "--out", str(tmp_path)]) == 0
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["claims"] and all(c["holds"] for c in saved["claims"])


@pytest.mark.parametrize("content", [None, b"not the book"])
def test_missing_or_corrupt_data_is_one_line_error_before_training(
    content, tmp_path, monkeypatch, capsys
):
    folder = tmp_path / "data"
    folder.mkdir()
    if content is not None:
        (folder / text.TIME_MACHINE_FILE).write_bytes(content)
    monkeypatch.setenv(text.DATA_DIR_ENV, str(folder))
    monkeypatch.setattr(rnn_lm, "train_model", lambda *a: pytest.fail("training started"))
    out = tmp_path / "out"
    assert cli.main(["run", "rnn-lm", "--quick", "--no-progress", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nablab: error: ") and str(folder) in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()
    with pytest.raises(text.DataUnavailableError):
        labs.run("rnn-lm", quick=True, out=out)


def test_every_model_trains_and_generates_from_the_vocabulary(quick_run):
    result = quick_run("rnn-lm")
    models = result.metrics["models"]
    assert list(models) == list(rnn_lm.MODELS) == result.params["models"]
    prefix, num_chars = result.params["prefix"], result.params["num_chars"]
    for name, m in models.items():
        assert len(m["perplexity"]) == m["epochs"] == result.params["epochs"], name
        assert m["tokens_per_s"] > 0, name
        assert m["generation"].startswith(prefix), name
        assert len(m["generation"]) == len(prefix) + num_chars, name
        assert set(m["generation"]) <= VOCAB_CHARS, name
        assert 0 <= m["book_match"] <= num_chars, name
    for table in result.tables:
        for row in table.rows:
            assert all(cell is None or isinstance(cell, (str, int, float)) for cell in row)
    d2l = result.tables[0].columns.index("d2l")
    assert [row[d2l] for row in result.tables[0].rows] == [m.d2l for m in rnn_lm.MODELS.values()]


def test_models_and_epochs_show_in_setting_and_results(offline, tmp_path, quick_run):
    result = labs.run("rnn-lm", quick=True, out=tmp_path, models=["rnn"], epochs=3)
    assert list(result.metrics["models"]) == ["rnn"]
    m, full = result.metrics["models"]["rnn"], quick_run("rnn-lm").metrics["models"]["rnn"]
    assert m["epochs"] == 3 and len(m["perplexity"]) == 3
    assert "hidden 32, lr 1, 3 epochs: rnn" in result.setting
    assert [row[0] for row in result.tables[0].rows] == ["rnn"]
    # the same seed gives the same batches and init: the first 3 epochs are the 16's first 3
    assert m["perplexity"] == pytest.approx(full["perplexity"][:3], rel=1e-5)
    assert m["final_perplexity"] > full["final_perplexity"]  # fewer epochs, less fitted
    assert result.claims[2]["holds"] is None  # no bidirectional model: does not apply
    changed = [n for n in result.notes if n.startswith("Changed from the lab's defaults")]
    assert changed and "models" in changed[0] and "epochs" in changed[0]


def test_hidden_sets_the_nn_layers_size(offline, tmp_path):
    result = labs.run("rnn-lm", quick=True, out=tmp_path, models=["gru"], epochs=1, hidden=8)
    assert result.metrics["models"]["gru"]["hidden"] == 8
    assert "hidden 8, lr 1, 1 epochs: gru" in result.setting


def test_iterations_sets_every_models_epochs(offline, tmp_path):
    result = labs.run("rnn-lm", quick=True, out=tmp_path, iterations=2, models=["rnn", "gru"])
    assert [m["epochs"] for m in result.metrics["models"].values()] == [2, 2]
    assert "2 epochs" in result.setting and "16 epochs" not in result.setting


def test_full_variant_trains_every_model_d2ls_500_epochs_at_d2ls_sizes():
    p = labs.params.resolve(labs.get_lab("rnn-lm").params, False, {})
    assert rnn_lm.settings("rnn-scratch", p) == {"hidden": 512, "lr": 1.0, "epochs": 500}
    assert rnn_lm.settings("lstm-deep", p) == {"hidden": 256, "lr": 2.0, "epochs": 500}
    assert {rnn_lm.settings(name, p)["epochs"] for name in rnn_lm.MODELS} == {500}


def test_book_match_counts_characters_continuing_the_text():
    assert rnn_lm.book_match("ab cde", "ab", "xx ab cd yy") == 3
    assert rnn_lm.book_match("ab!", "ab", "ab") == 0


def test_models_on_workers_give_the_rows_one_process_gives(tmp_path):
    options = dict(quick=True, models=["lstm", "rnn-scratch", "gru"], epochs=3)
    one = labs.run("rnn-lm", out=tmp_path / "one", **options).metrics["models"]
    two = labs.run("rnn-lm", out=tmp_path / "two", workers=2, **options).metrics["models"]
    assert list(two) == list(one) == options["models"]  # the order asked, not the finishing one
    for name in one:
        speed = one[name].pop("tokens_per_s"), two[name].pop("tokens_per_s")
        assert min(speed) > 0
        assert two[name] == one[name], name  # to the last bit


def test_a_model_that_fails_on_a_worker_fails_the_run_by_name(monkeypatch, tmp_path):
    from nablab.sweep import backends

    def failing(jobs, workers, fn):
        yield jobs[0][0], None, "MemoryError: out of memory"

    monkeypatch.setattr(backends, "run_local", failing)
    with pytest.raises(RuntimeError, match="rnn-lm models: gru failed on a worker: MemoryError"):
        labs.run("rnn-lm", quick=True, out=tmp_path, models=["gru"], workers=2)
