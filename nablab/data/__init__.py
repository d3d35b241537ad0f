"""Datasets and loaders."""

from .text import (
    SeqDataLoader,
    Vocab,
    fetch_verified,
    load_corpus_time_machine,
    load_data_time_machine,
    read_time_machine_lines,
    seq_data_iter_random,
    seq_data_iter_sequential,
    time_machine,
    tokenize,
)

__all__ = [
    "SeqDataLoader",
    "Vocab",
    "fetch_verified",
    "load_corpus_time_machine",
    "load_data_time_machine",
    "read_time_machine_lines",
    "seq_data_iter_random",
    "seq_data_iter_sequential",
    "time_machine",
    "tokenize",
]

from .dataloader import DataLoader, default_collate
from .dataset import Dataset, TensorDataset
from .synthetic import (
    Regression,
    circles,
    linear_high_dim,
    moons,
    polynomial,
    spirals,
    split,
    xor,
)

__all__ += [
    "DataLoader",
    "Dataset",
    "Regression",
    "TensorDataset",
    "circles",
    "default_collate",
    "linear_high_dim",
    "moons",
    "polynomial",
    "spirals",
    "split",
    "xor",
]
