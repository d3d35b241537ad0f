"""Tests for nablab.data.text: the bundled copy, file lookup/download, tokenization, Vocab,
samplers."""

import ast
import hashlib
import os
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from nablab.data import text
from nablab.data.text import (
    SeqDataLoader,
    Vocab,
    fetch_verified,
    load_corpus_time_machine,
    read_time_machine_lines,
    seq_data_iter_random,
    seq_data_iter_sequential,
    time_machine,
    tokenize,
)

SMALL = b"The Time Machine, by H. G. Wells [1898]\n\nI\n\nThe Time Traveller (for so it will\n"
SMALL_SHA1 = hashlib.sha1(SMALL).hexdigest()
NAME = "timemachine.txt"
URL = "http://example.invalid/timemachine.txt"


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No $NABLAB_DATA_DIR, cache under tmp_path, and any network access fails the test."""
    monkeypatch.delenv(text.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    def no_network(url):
        raise AssertionError(f"unexpected download of {url}")

    monkeypatch.setattr(text, "_fetch", no_network)
    return tmp_path


def _put(directory: Path, data: bytes = SMALL) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / NAME).write_bytes(data)
    return directory / NAME


# ---------------------------------------------------------------- lookup and download


def test_found_in_root(isolated):
    path = _put(isolated / "root")
    assert fetch_verified(NAME, URL, SMALL_SHA1, root=isolated / "root") == path


def test_time_machine_reads_root_with_patched_sha1(isolated, monkeypatch):
    _put(isolated / "root")
    monkeypatch.setattr(text, "TIME_MACHINE_SHA1", SMALL_SHA1)
    assert time_machine(root=isolated / "root", download=False) == SMALL.decode()


def test_found_via_env_var(isolated, monkeypatch):
    path = _put(isolated / "envdir")
    monkeypatch.setenv(text.DATA_DIR_ENV, str(isolated / "envdir"))
    assert fetch_verified(NAME, URL, SMALL_SHA1, download=False) == path


def test_found_in_cache(isolated):
    path = _put(isolated / "xdg" / "nablab")
    assert text.cache_dir() == isolated / "xdg" / "nablab"
    assert fetch_verified(NAME, URL, SMALL_SHA1, download=False) == path


def test_cache_dir_default_home(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert text.cache_dir() == tmp_path / ".cache" / "nablab"


def test_root_takes_precedence_over_env(isolated, monkeypatch):
    root_path = _put(isolated / "root")
    _put(isolated / "envdir", b"something else")  # would fail the sha1 check if chosen
    monkeypatch.setenv(text.DATA_DIR_ENV, str(isolated / "envdir"))
    assert fetch_verified(NAME, URL, SMALL_SHA1, root=isolated / "root") == root_path


def test_sha1_mismatch_names_path_and_digests(isolated):
    path = _put(isolated / "root", SMALL + b"tampered")
    with pytest.raises(ValueError) as e:
        fetch_verified(NAME, URL, SMALL_SHA1, root=isolated / "root")
    msg = str(e.value)
    assert str(path) in msg
    assert SMALL_SHA1 in msg
    assert hashlib.sha1(SMALL + b"tampered").hexdigest() in msg


def test_download_writes_cache_atomically(isolated, monkeypatch):
    calls = []

    def fake_fetch(url):
        calls.append(url)
        return SMALL

    monkeypatch.setattr(text, "_fetch", fake_fetch)
    path = fetch_verified(NAME, URL, SMALL_SHA1, root=isolated / "emptyroot")
    cache = isolated / "xdg" / "nablab"
    assert path == cache / NAME
    assert path.read_bytes() == SMALL
    assert calls == [URL]
    assert sorted(os.listdir(cache)) == [NAME]  # no temporary file left behind
    # The second call finds the cached copy and does not download again.
    assert fetch_verified(NAME, URL, SMALL_SHA1) == path
    assert calls == [URL]


def test_bad_download_leaves_no_file(isolated, monkeypatch):
    monkeypatch.setattr(text, "_fetch", lambda url: SMALL[:-5])  # truncated body
    with pytest.raises(ValueError, match="sha1 mismatch"):
        fetch_verified(NAME, URL, SMALL_SHA1)
    cache = isolated / "xdg" / "nablab"
    assert not (cache / NAME).exists()
    assert not cache.exists() or os.listdir(cache) == []


def test_failed_write_leaves_no_partial_file(isolated, monkeypatch):
    monkeypatch.setattr(text, "_fetch", lambda url: SMALL)

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(text.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        fetch_verified(NAME, URL, SMALL_SHA1)
    cache = isolated / "xdg" / "nablab"
    assert os.listdir(cache) == []


def test_download_false_says_where_to_put_it(isolated, monkeypatch):
    monkeypatch.setenv(text.DATA_DIR_ENV, str(isolated / "envdir"))
    with pytest.raises(FileNotFoundError) as e:
        fetch_verified(NAME, URL, SMALL_SHA1, root=isolated / "root", download=False)
    msg = str(e.value)
    assert NAME in msg
    assert str(isolated / "root") in msg
    assert str(isolated / "envdir") in msg
    assert str(isolated / "xdg" / "nablab") in msg
    assert "NABLAB_DATA_DIR" in msg
    assert SMALL_SHA1 in msg


def test_network_failure_is_a_clear_error(isolated, monkeypatch):
    def offline(url):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(text, "_fetch", offline)
    with pytest.raises(text.DataUnavailableError) as e:
        fetch_verified(NAME, URL, SMALL_SHA1)
    msg = str(e.value)
    assert URL in msg and "NABLAB_DATA_DIR" in msg and str(isolated / "xdg" / "nablab") in msg
    assert not (isolated / "xdg" / "nablab" / NAME).exists()


def test_module_imports_no_torch():
    tree = ast.parse(Path(text.__file__).read_text())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module.split(".")[0])
    assert "torch" not in modules
    assert modules <= {
        "__future__",
        "collections",
        "gzip",
        "hashlib",
        "importlib",
        "os",
        "re",
        "atomicfile",  # nablab's own atomic write
        "urllib",
        "pathlib",
        "numpy",
    }


# ---------------------------------------------------------------- lines, tokens, vocab


def test_read_lines_d2l_preprocessing():
    lines = read_time_machine_lines(SMALL.decode())
    assert lines == [
        "the time machine by h g wells",
        "",
        "i",
        "",
        "the time traveller for so it will",
    ]
    assert read_time_machine_lines("a\r\nb--c\n") == ["a", "b c"]


def test_tokenize_char_and_word():
    lines = ["the time", "", "a b"]
    assert tokenize(lines, "char") == [list("the time"), [], ["a", " ", "b"]]
    assert tokenize(lines, "word") == [["the", "time"], [], ["a", "b"]]
    with pytest.raises(ValueError, match="unknown token type"):
        tokenize(lines, "byte")


def test_vocab_order_ties_and_unk():
    # counts: b 3, a 2, c 2, d 1 -- a appears before c, so a wins the tie (stable sort).
    tokens = [["b", "a", "c"], ["c", "b", "a"], ["b", "d"]]
    vocab = Vocab(tokens)
    assert vocab.idx_to_token == ["<unk>", "b", "a", "c", "d"]
    assert vocab.token_to_idx == {"<unk>": 0, "b": 1, "a": 2, "c": 3, "d": 4}
    assert vocab.token_freqs == [("b", 3), ("a", 2), ("c", 2), ("d", 1)]
    assert len(vocab) == 5 and vocab.unk == 0
    assert vocab["c"] == 3
    assert vocab["zzz"] == 0
    assert vocab[["a", "zzz", "d"]] == [2, 0, 4]
    assert vocab[("b", "c")] == [1, 3]
    assert vocab.to_tokens(4) == "d"
    assert vocab.to_tokens([1, 0]) == ["b", "<unk>"]
    assert vocab.to_tokens(np.array([3, 2])) == ["c", "a"]
    # Flat tokens give the same vocabulary.
    assert Vocab([t for line in tokens for t in line]).idx_to_token == vocab.idx_to_token


def test_vocab_min_freq_and_reserved():
    tokens = list("aaabbc")
    vocab = Vocab(tokens, min_freq=2, reserved_tokens=["<pad>", "<bos>"])
    assert vocab.idx_to_token == ["<unk>", "<pad>", "<bos>", "a", "b"]
    assert vocab["c"] == vocab.unk == 0
    assert vocab["<bos>"] == 2
    assert len(Vocab()) == 1
    with pytest.raises(ValueError):
        Vocab(tokens, reserved_tokens=["<unk>"])


def test_vocab_tuple_tokens_are_not_flattened():
    # d2l builds a bigram vocabulary from tuples; only lists are treated as lines.
    bigrams = [("a", "b"), ("b", "c"), ("a", "b")]
    vocab = Vocab(bigrams)
    assert vocab.idx_to_token == ["<unk>", ("a", "b"), ("b", "c")]
    assert vocab.token_to_idx[("a", "b")] == 1


def test_load_corpus_small_file(isolated, monkeypatch):
    _put(isolated / "root")
    monkeypatch.setattr(text, "TIME_MACHINE_SHA1", SMALL_SHA1)
    corpus, vocab = load_corpus_time_machine(root=isolated / "root")
    lines = read_time_machine_lines(SMALL.decode())
    joined = "".join(lines)
    assert corpus.dtype == np.int64 and corpus.shape == (len(joined),)
    assert "".join(vocab.to_tokens(corpus.tolist())) == joined
    assert vocab.idx_to_token[:2] == ["<unk>", " "]
    short, _ = load_corpus_time_machine(max_tokens=7, root=isolated / "root")
    np.testing.assert_array_equal(short, corpus[:7])
    words, wvocab = load_corpus_time_machine(token="word", root=isolated / "root")
    assert wvocab.to_tokens(words[:3].tolist()) == ["the", "time", "machine"]


# ---------------------------------------------------------------- samplers

CORPUS = np.arange(1000, 1000 + 357, dtype=np.int64)  # token value - 1000 = its position


@pytest.mark.parametrize("batch_size,num_steps", [(2, 5), (3, 7), (4, 1), (1, 35)])
@pytest.mark.parametrize("seed", range(6))
def test_random_sampler_windows(batch_size, num_steps, seed):
    batches = list(seq_data_iter_random(CORPUS, batch_size, num_steps, np.random.default_rng(seed)))
    assert len(batches) == (len(CORPUS) - num_steps) // (batch_size * num_steps) > 0
    starts = []
    for X, Y in batches:
        assert X.dtype == Y.dtype == np.int64
        assert X.shape == Y.shape == (batch_size, num_steps)
        for x, y in zip(X, Y, strict=True):
            s = int(x[0] - 1000)
            np.testing.assert_array_equal(x, CORPUS[s : s + num_steps])
            np.testing.assert_array_equal(y, CORPUS[s + 1 : s + num_steps + 1])
            starts.append(s)
    assert len(set(starts)) == len(starts)
    offset = min(starts) % num_steps
    assert 0 <= offset < num_steps
    assert all((s - offset) % num_steps == 0 for s in starts)


def test_random_sampler_shuffles_and_is_seeded():
    a = [x for x, _ in seq_data_iter_random(CORPUS, 4, 5, np.random.default_rng(1))]
    b = [x for x, _ in seq_data_iter_random(CORPUS, 4, 5, np.random.default_rng(1))]
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    starts = np.concatenate([x[:, 0] for x in a])
    assert not np.all(np.diff(starts) > 0)  # not in text order
    # All offsets 0..num_steps-1 occur across epochs.
    rng = np.random.default_rng(0)
    offsets = {
        int(next(seq_data_iter_random(CORPUS, 4, 5, rng))[0][0, 0] - 1000) % 5 for _ in range(200)
    }
    assert offsets == set(range(5))


@pytest.mark.parametrize("batch_size,num_steps", [(2, 5), (3, 7), (4, 1), (1, 35), (5, 10)])
@pytest.mark.parametrize("seed", range(6))
def test_sequential_sampler_rows_continue(batch_size, num_steps, seed):
    batches = list(
        seq_data_iter_sequential(CORPUS, batch_size, num_steps, np.random.default_rng(seed))
    )
    assert len(batches) == (len(CORPUS) - num_steps - 1) // (batch_size * num_steps) > 0
    for X, Y in batches:
        assert X.dtype == Y.dtype == np.int64
        assert X.shape == Y.shape == (batch_size, num_steps)
    rows_x = np.concatenate([x for x, _ in batches], axis=1)
    rows_y = np.concatenate([y for _, y in batches], axis=1)
    offset = int(rows_x[0, 0] - 1000)
    assert 0 <= offset <= num_steps
    row_len = (len(CORPUS) - offset - 1) // batch_size
    for r in range(batch_size):
        s = offset + r * row_len
        n = rows_x.shape[1]
        np.testing.assert_array_equal(rows_x[r], CORPUS[s : s + n])
        np.testing.assert_array_equal(rows_y[r], CORPUS[s + 1 : s + n + 1])


def test_sequential_offsets_cover_range():
    rng = np.random.default_rng(0)
    offsets = {
        int(next(seq_data_iter_sequential(CORPUS, 4, 5, rng))[0][0, 0] - 1000) for _ in range(200)
    }
    assert offsets == set(range(6))  # d2l: randint(0, num_steps), inclusive


@pytest.mark.parametrize("sampler", [seq_data_iter_random, seq_data_iter_sequential])
def test_too_long_num_steps_raises(sampler):
    with pytest.raises(ValueError) as e:
        sampler(CORPUS, 4, 100, np.random.default_rng(0))
    msg = str(e.value)
    assert "num_steps=100" in msg and "batch_size=4" in msg and "357" in msg
    with pytest.raises(ValueError):
        sampler(CORPUS, 0, 5)
    with pytest.raises(ValueError):
        sampler(CORPUS, 2, 0)


@pytest.mark.parametrize("random_iter", [False, True])
def test_smallest_corpus_always_gives_one_batch(random_iter):
    b, n = 3, 4
    need = b * n + (n - 1 if random_iter else n) + 1
    sampler = seq_data_iter_random if random_iter else seq_data_iter_sequential
    rng = np.random.default_rng(0)
    for _ in range(50):
        assert len(list(sampler(np.arange(need), b, n, rng))) == 1
    with pytest.raises(ValueError):
        sampler(np.arange(need - 1), b, n, rng)


@pytest.mark.parametrize("use_random_iter", [False, True])
def test_seq_data_loader(use_random_iter):
    loader = SeqDataLoader(CORPUS, None, 4, 6, use_random_iter=use_random_iter, seed=3)
    epochs = [[x for x, _ in loader] for _ in range(5)]
    assert all(len(e) == len(loader) > 0 for e in epochs)
    # Fresh epochs differ (new offset / shuffle) but a same-seed loader replays them.
    assert any(not np.array_equal(epochs[0][0], e[0]) for e in epochs[1:])
    again = SeqDataLoader(CORPUS, None, 4, 6, use_random_iter=use_random_iter, seed=3)
    replay = [[x for x, _ in again] for _ in range(5)]
    assert all(
        np.array_equal(u, v)
        for e, f in zip(epochs, replay, strict=True)
        for u, v in zip(e, f, strict=True)
    )
    with pytest.raises(ValueError, match="num_steps=100"):
        SeqDataLoader(CORPUS, None, 4, 100, use_random_iter=use_random_iter)


# ---------------------------------------------------------------- the real book


def test_bundled_copy_is_the_default_and_needs_no_network(isolated):
    raw = time_machine()  # no root, no $NABLAB_DATA_DIR, no cache, no network
    assert hashlib.sha1(raw.encode()).hexdigest() == text.TIME_MACHINE_SHA1
    assert raw == text.bundled_time_machine()
    assert not (isolated / "xdg").exists()  # nothing was downloaded or cached


def test_data_dir_without_the_file_is_a_one_line_error(isolated, monkeypatch):
    monkeypatch.setenv(text.DATA_DIR_ENV, str(isolated / "empty"))
    with pytest.raises(text.DataUnavailableError) as e:
        time_machine()
    assert str(isolated / "empty") in str(e.value) and len(str(e.value).splitlines()) == 1


def test_corrupt_file_is_a_data_error_and_a_value_error(isolated, monkeypatch):
    _put(isolated / "env", SMALL)
    monkeypatch.setenv(text.DATA_DIR_ENV, str(isolated / "env"))
    with pytest.raises(text.DataCorruptError) as e:
        time_machine()
    assert isinstance(e.value, text.DataUnavailableError) and isinstance(e.value, ValueError)
    assert "sha1 mismatch" in str(e.value) and len(str(e.value).splitlines()) == 1


def test_corrupt_bundled_copy_is_detected(isolated, monkeypatch, tmp_path):
    import gzip

    (tmp_path / text.TIME_MACHINE_BUNDLED).write_bytes(gzip.compress(SMALL))
    monkeypatch.setattr(text.resources, "files", lambda package: tmp_path)
    with pytest.raises(text.DataCorruptError, match="sha1 mismatch"):
        text.bundled_time_machine()
    (tmp_path / text.TIME_MACHINE_BUNDLED).write_bytes(b"not gzip")
    with pytest.raises(text.DataUnavailableError, match="cannot be read"):
        text.bundled_time_machine()


@pytest.mark.parametrize("where", ["bundled", "data dir"])
def test_real_time_machine(monkeypatch, tmp_path, where):
    monkeypatch.setattr(text, "_fetch", lambda url: pytest.fail("must not download"))
    if where == "bundled":
        monkeypatch.delenv(text.DATA_DIR_ENV, raising=False)
        root = None
    else:  # a copy of the bundled text in a folder given as root=
        root = tmp_path / "root"
        _put(root, text.bundled_time_machine().encode())
    raw = time_machine(root=root, download=False)
    assert len(raw.encode()) == 178_979
    lines = read_time_machine_lines(raw)
    assert len(lines) == 3221
    assert lines[0] == "the time machine by h g wells"
    corpus, vocab = load_corpus_time_machine(root=root)
    assert corpus.dtype == np.int64 and corpus.shape == (170_580,)
    assert len(vocab) == 28
    assert vocab.idx_to_token[:11] == ["<unk>", " ", "e", "t", "a", "i", "n", "o", "s", "h", "r"]
    assert vocab.token_freqs[:3] == [(" ", 29927), ("e", 17838), ("t", 13515)]
    assert vocab[list("time!")] == [3, 5, 13, 2, 0]  # '!' is outside the vocabulary
    assert "".join(vocab.to_tokens(corpus[:29].tolist())) == "the time machine by h g wells"
    # d2l's classic setting: first 10,000 chars, batch 32, 35 steps -> 8 batches per epoch.
    short, _ = load_corpus_time_machine(max_tokens=10_000, root=root)
    for use_random_iter in (False, True):
        loader = SeqDataLoader(short, vocab, 32, 35, use_random_iter=use_random_iter, seed=0)
        assert len(loader) == len(list(loader)) == 8
