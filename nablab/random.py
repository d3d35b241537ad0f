"""One random stream for the whole library, so `manual_seed(n)` makes every draw repeatable.

Factories (`rand`, `randn`, ...), `nn.init`, `Dropout` and `DataLoader` shuffling all
draw from `default_generator()` unless given their own `numpy.random.Generator`.
"""

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Reseed the library's generator; the same seed gives the same run, draw for draw."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed expects a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator():
    return _generator


def get_rng_state():
    return _generator.bit_generator.state


def set_rng_state(state):
    _generator.bit_generator.state = state


def seeded(generator):
    """`generator` as a Generator or None: an int seed makes a Generator (once, here)."""
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(
            "generator must be None, an int seed or a numpy.random.Generator, "
            f"got {type(generator).__name__}"
        )
    return generator
