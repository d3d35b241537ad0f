"""Datasets and loaders: `Dataset`, `TensorDataset`, `DataLoader`, `Subset`,
`random_split`; the labs' synthetic
sets (`xor`, `moons`, `circles`, `spirals`, `polynomial`, `linear_high_dim`, `split`);
text: The Time Machine, `Vocab` and d2l's sequence samplers."""

from .dataloader import DataLoader, default_collate
from .dataset import Dataset, Subset, TensorDataset, random_split
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
from .text import (
    DataCorruptError,
    DataUnavailableError,
    SeqDataLoader,
    Vocab,
    bundled_time_machine,
    fetch_verified,
    load_corpus_time_machine,
    load_data_time_machine,
    read_time_machine_lines,
    seq_data_iter_random,
    seq_data_iter_sequential,
    time_machine,
    tokenize,
)
