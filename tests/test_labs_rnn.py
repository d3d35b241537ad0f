"""The recurrent-network lab (rnn-lm): its quick variant trains every model, perplexity
falls, generations continue the prefix with vocabulary characters, and a bidirectional
LSTM scores far worse when it reads one character at a time. The quick run needs d2l's
Time Machine ($NABLAB_DATA_DIR or ../shared/data) and is skipped without it."""

import math
import string

import pytest

from nablab.data import text
from nablab.labs import LabConfig, get_lab
from nablab.labs.rnn_lm import BIDIRECTIONAL, NUM_CHARS, PREFIX, RUNS

VOCAB_CHARS = set(string.ascii_lowercase + " ")  # the 28 tokens but <unk>


@pytest.fixture(scope="module")
def quick(tmp_path_factory, book_dir):
    """The quick variant's result, run once for the module (one BLAS thread)."""
    data_dir = book_dir
    if data_dir is None:
        pytest.skip("timemachine.txt not available locally ($NABLAB_DATA_DIR or ../shared/data)")
    from threadpoolctl import threadpool_limits

    out = tmp_path_factory.mktemp("rnn_lm")
    with pytest.MonkeyPatch.context() as patch, threadpool_limits(limits=1):
        patch.setenv(text.DATA_DIR_ENV, str(data_dir))
        return get_lab("rnn-lm").run(LabConfig(quick=True, out=out, progress=False))


def test_rnn_lm_trains_every_model_and_perplexity_falls(quick):
    models = quick.metrics["models"]
    assert list(models) == [run.name for run in RUNS]
    for name, m in models.items():
        assert len(m["perplexity"]) == m["epochs"]
        assert m["first_perplexity"] < m["vocab_size"] + 5, name  # starts near the uniform 28
        assert m["final_perplexity"] < 0.75 * m["first_perplexity"], name
        assert m["tokens_per_s"] > 0 and m["seconds"] > 0, name
    for figure in quick.figures:
        assert figure.exists() and figure.stat().st_size > 0, figure
    for table in quick.tables:
        for row in table.rows:
            assert all(cell is None or isinstance(cell, (str, int, float)) for cell in row)


def test_rnn_lm_generations_continue_the_prefix_with_vocabulary_characters(quick):
    for name, m in quick.metrics["models"].items():
        generation = m["generation"]
        assert generation.startswith(PREFIX), name
        assert len(generation) == len(PREFIX) + NUM_CHARS, name
        assert set(generation) <= VOCAB_CHARS, name
        assert 0 <= m["book_match"] <= NUM_CHARS


def test_rnn_lm_bidirectional_model_needs_the_future(quick):
    models = quick.metrics["models"]
    for name, m in models.items():
        if name != BIDIRECTIONAL:  # left to right: the same text scores the same both ways
            assert math.isclose(m["causal_perplexity"], m["window_perplexity"], rel_tol=1e-3)
    bi = models[BIDIRECTIONAL]
    assert bi["causal_perplexity"] > 5 * bi["window_perplexity"]
    assert bi["causal_perplexity"] > 5 * max(
        m["causal_perplexity"] for n, m in models.items() if n != BIDIRECTIONAL
    )


def test_rnn_lm_iterations_sets_every_models_epochs(tmp_path, time_machine_dir):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        result = get_lab("rnn-lm").run(
            LabConfig(quick=True, iterations=2, out=tmp_path, progress=False)
        )
    for name, m in result.metrics["models"].items():
        assert m["epochs"] == 2 and len(m["perplexity"]) == 2, name
    assert "2 epochs" in result.setting and "16 epochs" not in result.setting
    assert any(note.startswith("iterations overridden: 2 epochs") for note in result.notes)


def test_rnn_lm_without_the_data_file_fails_with_the_loaders_error(tmp_path, monkeypatch):
    monkeypatch.setenv(text.DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def offline(url):
        raise OSError("network unreachable")

    monkeypatch.setattr(text, "_fetch", offline)
    with pytest.raises(
        text.DataUnavailableError, match="(?s)could not download timemachine.txt.*NABLAB_DATA_DIR"
    ):
        get_lab("rnn-lm").run(LabConfig(quick=True, out=tmp_path, progress=False))
