"""One lab seed, two independent streams: one for the data, one for the model."""

import numpy as np


def data_and_model_seeds(seed: int) -> tuple[int, int]:
    """Two seeds drawn from SeedSequence(seed): the data set's and the model's (init, batches).

    nablab.manual_seed(s) and the data sets' seed=s both start np.random.default_rng(s);
    seeding both with the same s draws the init from the very numbers that made the data
    (linear_high_dim(seed=0).X_train[0] equals randn(200) after manual_seed(0)).
    """
    data_seed, model_seed = np.random.SeedSequence(seed).generate_state(2)
    return int(data_seed), int(model_seed)
