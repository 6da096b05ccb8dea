"""Token ids into the vectors a recurrent layer reads: one home for the network builder
(`models`) and the compiled state inspector (`compiled`), so neither imports the other for it."""
from __future__ import annotations

import keras


def token_features(layer, ids):
    """Embed or one-hot `ids` (batch, steps) into (batch, steps, features).

    CategoryEncoding drops a length-1 time axis, so one-hot output is reshaped back.
    """
    x = layer(ids)
    if isinstance(layer, keras.layers.CategoryEncoding):
        x = keras.layers.Reshape((ids.shape[1], layer.num_tokens))(x)
    return x
