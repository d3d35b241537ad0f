"""Text data: The Time Machine corpus, tokenization, vocabulary and sequence samplers.

Mirrors d2l 0.17 (chapter 8.2-8.3): ``read_time_machine``, ``tokenize``, ``Vocab``,
``load_corpus_time_machine``, ``seq_data_iter_random``, ``seq_data_iter_sequential``
and ``SeqDataLoader``. Pure Python + NumPy: token ids and batches are NumPy ``int64``
arrays.

The book (public domain) ships with nablab, gzip-compressed (``timemachine.txt.gz``
beside this module), so :func:`time_machine` works offline by default. ``root=`` or
``$NABLAB_DATA_DIR`` name another folder holding ``timemachine.txt``; there
``fetch_verified`` looks in that folder, then the user cache (``$XDG_CACHE_HOME/nablab``
or ``~/.cache/nablab``), and downloads into the cache only when asked (``download=True``),
checking its sha1 before anything is written. Every copy, the bundled one included, is
sha1-checked; a missing or corrupt file is a one-line ``DataUnavailableError``.
"""

from __future__ import annotations

import collections
import gzip
import hashlib
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from .. import random
from ..atomicfile import write_atomic

__all__ = [
    "DataCorruptError",
    "DataUnavailableError",
    "DATA_DIR_ENV",
    "TIME_MACHINE_FILE",
    "TIME_MACHINE_SHA1",
    "TIME_MACHINE_URL",
    "SeqDataLoader",
    "bundled_time_machine",
    "Vocab",
    "cache_dir",
    "fetch_verified",
    "load_corpus_time_machine",
    "load_data_time_machine",
    "read_time_machine_lines",
    "seq_data_iter_random",
    "seq_data_iter_sequential",
    "time_machine",
    "tokenize",
]

DATA_DIR_ENV = "NABLAB_DATA_DIR"
TIME_MACHINE_FILE = "timemachine.txt"
TIME_MACHINE_URL = "http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt"
TIME_MACHINE_SHA1 = "090b5e7e70c295757f55df93cb0a180b9691891a"
TIME_MACHINE_BUNDLED = "timemachine.txt.gz"  # package data of nablab.data

Batch = tuple[np.ndarray, np.ndarray]


# --------------------------------------------------------------------------- files


def cache_dir() -> Path:
    """The user cache directory: ``$XDG_CACHE_HOME/nablab``, else ``~/.cache/nablab``."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "nablab"


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _fetch(url: str) -> bytes:
    """Download ``url`` and return its body (tests replace this function)."""
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def _search_dirs(root: str | os.PathLike | None) -> list[tuple[str, Path]]:
    """``(label, directory)`` in lookup order: root, $NABLAB_DATA_DIR, user cache."""
    dirs = []
    if root is not None:
        dirs.append(("root", Path(root)))
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        dirs.append((f"${DATA_DIR_ENV}", Path(env)))
    dirs.append(("cache", cache_dir()))
    return dirs


class DataUnavailableError(FileNotFoundError):
    """A data file is neither on disk nor downloadable here; the message (one line) says
    where to put it."""


class DataCorruptError(DataUnavailableError, ValueError):
    """A data file is there but its sha1 is not the expected one (also a ValueError)."""


def fetch_verified(
    name: str,
    url: str,
    sha1: str,
    root: str | os.PathLike | None = None,
    download: bool = True,
) -> Path:
    """Path of the data file ``name`` whose content has the sha1 digest ``sha1``.

    Looks in ``root``, then ``$NABLAB_DATA_DIR``, then :func:`cache_dir`; the first
    ``<dir>/<name>`` that exists is returned if its sha1 matches (``ValueError`` if not).
    If none exists and ``download`` is true, ``url`` is fetched, its sha1 checked, and
    it is written atomically into the cache, so a failed or corrupt download never
    leaves a file under ``name``. Otherwise ``DataUnavailableError`` (a
    ``FileNotFoundError``: ``download=False``, or the download failed) says where to put it.
    """
    searched = _search_dirs(root)
    for _, directory in searched:
        path = directory / name
        if path.is_file():
            actual = _sha1(path.read_bytes())
            if actual != sha1:
                raise DataCorruptError(
                    f"{path}: sha1 mismatch (expected {sha1}, got {actual}); "
                    "delete or replace the file"
                )
            return path

    where = ", ".join(f"{directory} ({label})" for label, directory in searched)
    hint = (
        f"Put {name} (sha1 {sha1}, from {url}) in one of: {where}; "
        f"or set ${DATA_DIR_ENV} to the directory that holds it"
    )
    if not download:
        raise DataUnavailableError(f"{name} not found and download=False. {hint}.")
    try:
        data = _fetch(url)
    except OSError as e:  # urllib.error.URLError is an OSError
        raise DataUnavailableError(f"could not download {name} from {url}: {e}. {hint}.") from e
    actual = _sha1(data)
    if actual != sha1:
        raise DataCorruptError(
            f"download of {name} from {url}: sha1 mismatch (expected {sha1}, got {actual}); "
            "nothing was written"
        )
    target = cache_dir() / name
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, data)
    return target


def time_machine(root: str | os.PathLike | None = None, download: bool = False) -> str:
    """The raw text of H. G. Wells' *The Time Machine* (d2l's file, 178,979 bytes).

    From ``root``, else ``$NABLAB_DATA_DIR`` (found, or downloaded with ``download=True``,
    by :func:`fetch_verified`), else the copy bundled with nablab; each is checked against
    ``TIME_MACHINE_SHA1``. Missing or corrupt: ``DataUnavailableError`` (one line).
    """
    if root is None and not os.environ.get(DATA_DIR_ENV):
        return bundled_time_machine()
    path = fetch_verified(TIME_MACHINE_FILE, TIME_MACHINE_URL, TIME_MACHINE_SHA1, root, download)
    return path.read_bytes().decode("utf-8")


def bundled_time_machine() -> str:
    """The text of the gzip-compressed copy shipped in the package, sha1-checked."""
    source = resources.files(__package__) / TIME_MACHINE_BUNDLED
    try:
        data = gzip.decompress(source.read_bytes())
    except (OSError, EOFError) as e:  # missing, unreadable or not gzip
        raise DataUnavailableError(
            f"the copy of {TIME_MACHINE_FILE} bundled with nablab ({source}) cannot be read: "
            f"{e}; reinstall nablab or set ${DATA_DIR_ENV} to a folder holding the file"
        ) from None
    actual = _sha1(data)
    if actual != TIME_MACHINE_SHA1:
        raise DataCorruptError(
            f"{source}: sha1 mismatch (expected {TIME_MACHINE_SHA1}, got {actual}); "
            "reinstall nablab"
        )
    return data.decode("utf-8")


# --------------------------------------------------------------------------- tokens


def read_time_machine_lines(text: str) -> list[str]:
    """d2l's preprocessing: ``re.sub('[^A-Za-z]+', ' ', line).strip().lower()`` per line.

    Lines are split on newlines as ``readlines`` would (a final newline does not start
    an extra empty line); empty lines are kept. The book gives 3,221 lines.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [re.sub("[^A-Za-z]+", " ", line).strip().lower() for line in lines]


def tokenize(lines: Sequence[str], token: str = "char") -> list[list[str]]:
    """Split each line into tokens: ``"char"`` → ``list(line)``, ``"word"`` → ``line.split()``."""
    if token == "char":
        return [list(line) for line in lines]
    if token == "word":
        return [line.split() for line in lines]
    raise ValueError(f"unknown token type {token!r}; expected 'char' or 'word'")


def _flatten(tokens) -> list:
    # As d2l's count_corpus: only a list of lists is nested (tuples are tokens, e.g. bigrams).
    if len(tokens) > 0 and isinstance(tokens[0], list):
        return [tok for line in tokens for tok in line]
    return list(tokens)


class Vocab:
    """Token ↔ index mapping, d2l 0.17 semantics.

    Index 0 is ``<unk>``, then ``reserved_tokens`` in order, then the tokens sorted by
    frequency, descending (ties keep first-appearance order:
    ``sorted(Counter(tokens).items(), key=lambda x: x[1], reverse=True)``), leaving out
    tokens seen fewer than ``min_freq`` times. ``tokens`` is flat or a list of lines.
    Unknown tokens map to index 0.
    """

    def __init__(self, tokens=None, min_freq: int = 0, reserved_tokens=None):
        tokens = [] if tokens is None else tokens
        reserved = [] if reserved_tokens is None else list(reserved_tokens)
        if "<unk>" in reserved or len(set(reserved)) != len(reserved):
            raise ValueError(f"reserved_tokens must be distinct and exclude '<unk>': {reserved}")
        counter = collections.Counter(_flatten(tokens))
        self._token_freqs = sorted(counter.items(), key=lambda x: x[1], reverse=True)
        self.idx_to_token: list = ["<unk>", *reserved]
        self.token_to_idx: dict = {tok: i for i, tok in enumerate(self.idx_to_token)}
        for tok, freq in self._token_freqs:
            if freq < min_freq:
                break
            if tok not in self.token_to_idx:
                self.token_to_idx[tok] = len(self.idx_to_token)
                self.idx_to_token.append(tok)

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        """Index of a token, or a list of indices for a list/tuple of tokens (unknown → 0)."""
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, self.unk)
        return [self.__getitem__(tok) for tok in tokens]

    def to_tokens(self, indices):
        """Token of an index, or a list of tokens for a list/tuple/array of indices."""
        if isinstance(indices, np.ndarray):
            indices = indices.tolist()
        if not isinstance(indices, (list, tuple)):
            return self.idx_to_token[indices]
        return [self.to_tokens(i) for i in indices]

    @property
    def unk(self) -> int:
        """Index of ``<unk>``: 0."""
        return 0

    @property
    def token_freqs(self) -> list[tuple]:
        """``(token, count)`` pairs, most frequent first (before ``min_freq`` filtering)."""
        return self._token_freqs

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.idx_to_token[:8])
        return f"Vocab(size={len(self)}, tokens=[{head}{', ...' if len(self) > 8 else ''}])"


def load_corpus_time_machine(
    max_tokens: int = -1, token: str = "char", root: str | os.PathLike | None = None
) -> tuple[np.ndarray, Vocab]:
    """Token ids of the whole book and its vocabulary (d2l's ``load_corpus_time_machine``).

    Lines are concatenated without separators; at char level the book gives 170,580
    tokens and 28 vocabulary entries. ``max_tokens > 0`` keeps only the first ones
    (the vocabulary is still built from the whole book, as in d2l).
    """
    tokens = tokenize(read_time_machine_lines(time_machine(root)), token)
    vocab = Vocab(tokens)
    lookup = vocab.token_to_idx
    corpus = np.fromiter(
        (lookup.get(tok, 0) for line in tokens for tok in line),
        dtype=np.int64,
        count=sum(map(len, tokens)),
    )
    if max_tokens > 0:
        corpus = corpus[:max_tokens]
    return corpus, vocab


# --------------------------------------------------------------------------- samplers


def _max_offset(num_steps: int, random_iter: bool) -> int:
    # d2l: random sampling drops randint(0, num_steps - 1) tokens, sequential
    # partitioning randint(0, num_steps) (both bounds inclusive).
    return num_steps - 1 if random_iter else num_steps


def _num_batches(corpus_len: int, batch_size: int, num_steps: int, random_iter: bool) -> int:
    """Batches per epoch: ``(len - max_offset - 1) // (batch_size * num_steps)``.

    This is d2l's count for the largest offset; d2l's count for a smaller offset is at
    most one more, and we drop that extra batch so every epoch has the same length.
    """
    return (corpus_len - _max_offset(num_steps, random_iter) - 1) // (batch_size * num_steps)


def _check(corpus, batch_size: int, num_steps: int, random_iter: bool) -> np.ndarray:
    corpus = np.asarray(corpus, dtype=np.int64)
    if corpus.ndim != 1:
        raise ValueError(f"corpus must be 1-D, got shape {corpus.shape}")
    if batch_size < 1 or num_steps < 1:
        raise ValueError(f"batch_size and num_steps must be >= 1, got {batch_size}, {num_steps}")
    if _num_batches(len(corpus), batch_size, num_steps, random_iter) < 1:
        need = batch_size * num_steps + _max_offset(num_steps, random_iter) + 1
        raise ValueError(
            f"corpus of length {len(corpus)} is too short for num_steps={num_steps}, "
            f"batch_size={batch_size}: one batch needs {need} tokens "
            "(batch_size*num_steps, the random offset, and 1 for the shifted targets)"
        )
    return corpus


def _random_epoch(
    corpus: np.ndarray, batch_size: int, num_steps: int, rng: np.random.Generator
) -> Iterator[Batch]:
    num_batches = _num_batches(len(corpus), batch_size, num_steps, True)
    offset = int(rng.integers(0, num_steps))  # in [0, num_steps - 1]
    num_subseqs = (len(corpus) - offset - 1) // num_steps
    starts = offset + np.arange(0, num_subseqs * num_steps, num_steps, dtype=np.int64)
    rng.shuffle(starts)
    window = np.arange(num_steps, dtype=np.int64)
    for i in range(num_batches):
        idx = starts[i * batch_size : (i + 1) * batch_size, None] + window
        yield corpus[idx], corpus[idx + 1]


def _sequential_epoch(
    corpus: np.ndarray, batch_size: int, num_steps: int, rng: np.random.Generator
) -> Iterator[Batch]:
    num_batches = _num_batches(len(corpus), batch_size, num_steps, False)
    offset = int(rng.integers(0, num_steps + 1))  # in [0, num_steps]
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    xs = corpus[offset : offset + num_tokens].reshape(batch_size, -1)
    ys = corpus[offset + 1 : offset + 1 + num_tokens].reshape(batch_size, -1)
    for i in range(0, num_batches * num_steps, num_steps):
        yield xs[:, i : i + num_steps].copy(), ys[:, i : i + num_steps].copy()


def seq_data_iter_random(
    corpus, batch_size: int, num_steps: int, rng: np.random.Generator | None = None
) -> Iterator[Batch]:
    """Random sampling (d2l): one epoch of ``(X, Y)``, each ``(batch_size, num_steps)`` int64.

    Drop a random offset ``o ∈ [0, num_steps-1]``, cut the rest into subsequences
    starting at ``o + k*num_steps``, shuffle the starts, and batch them:
    ``X[r] = corpus[s:s+num_steps]``, ``Y[r] = corpus[s+1:s+num_steps+1]``. Consecutive
    batches are not adjacent in the text (reset the hidden state every batch).
    Every epoch yields ``(len(corpus) - num_steps) // (batch_size*num_steps)`` batches.
    ``rng`` is a ``numpy.random.Generator`` (or a seed; ``None`` → fresh entropy).
    """
    corpus = _check(corpus, batch_size, num_steps, True)
    return _random_epoch(corpus, batch_size, num_steps, np.random.default_rng(rng))


def seq_data_iter_sequential(
    corpus, batch_size: int, num_steps: int, rng: np.random.Generator | None = None
) -> Iterator[Batch]:
    """Sequential partitioning (d2l): one epoch of ``(X, Y)``, each ``(batch_size, num_steps)``.

    Drop a random offset ``o ∈ [0, num_steps]``, keep
    ``n = ((len(corpus) - o - 1) // batch_size) * batch_size`` tokens, reshape inputs
    ``corpus[o:o+n]`` and targets ``corpus[o+1:o+1+n]`` to ``(batch_size, n/batch_size)``
    and yield consecutive column windows of width ``num_steps``: row ``r`` of batch
    ``i+1`` continues exactly where row ``r`` of batch ``i`` ended (carry the state).
    Every epoch yields ``(len(corpus) - num_steps - 1) // (batch_size*num_steps)`` batches.
    """
    corpus = _check(corpus, batch_size, num_steps, False)
    return _sequential_epoch(corpus, batch_size, num_steps, np.random.default_rng(rng))


class SeqDataLoader:
    """Iterable over ``(X, Y)`` batches of a token corpus; each ``iter()`` is a new epoch.

    ``use_random_iter`` picks :func:`seq_data_iter_random`, else
    :func:`seq_data_iter_sequential`; ``seed`` seeds the loader's own Generator, so a
    seeded loader replays the same sequence of epochs; without one it draws from the
    library generator (``nablab.manual_seed``). ``len(loader)`` is the number of
    batches per epoch.
    """

    def __init__(
        self,
        corpus,
        vocab: Vocab | None,
        batch_size: int,
        num_steps: int,
        use_random_iter: bool = False,
        seed: int | None = None,
    ):
        self.corpus = _check(corpus, batch_size, num_steps, use_random_iter)
        self.vocab = vocab
        self.batch_size = batch_size
        self.num_steps = num_steps
        self.use_random_iter = use_random_iter
        self.rng = None if seed is None else np.random.default_rng(seed)

    def __iter__(self) -> Iterator[Batch]:
        epoch = _random_epoch if self.use_random_iter else _sequential_epoch
        rng = self.rng if self.rng is not None else random.default_generator()
        return epoch(self.corpus, self.batch_size, self.num_steps, rng)

    def __len__(self) -> int:
        return _num_batches(len(self.corpus), self.batch_size, self.num_steps, self.use_random_iter)


def load_data_time_machine(
    batch_size: int,
    num_steps: int,
    use_random_iter: bool = False,
    max_tokens: int = 10000,
    root: str | os.PathLike | None = None,
    seed: int | None = None,
) -> tuple[SeqDataLoader, Vocab]:
    """d2l's ``load_data_time_machine``: a char-level loader over the first ``max_tokens``."""
    corpus, vocab = load_corpus_time_machine(max_tokens, "char", root)
    return SeqDataLoader(corpus, vocab, batch_size, num_steps, use_random_iter, seed), vocab
