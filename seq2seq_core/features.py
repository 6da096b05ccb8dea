"""Token ids into the vectors a recurrent layer reads: one home for the network builder
(`models`) and the compiled state inspector (`compiled`), so neither imports the other for it."""
from __future__ import annotations

import keras


def token_features(layer, ids):
    """Embed or one-hot `ids` (batch, steps) into (batch, steps, features).

    CategoryEncoding drops a length-1 time axis, so one-hot output is reshaped back; where
    the length varies (bucketed tasks) the same one-hot vectors come from `ops.one_hot`.
    """
    if not isinstance(layer, keras.layers.CategoryEncoding):
        return layer(ids)
    if ids.shape[1] is None:  # CategoryEncoding cannot be traced for an unknown length
        return keras.ops.one_hot(ids, layer.num_tokens)
    return keras.layers.Reshape((ids.shape[1], layer.num_tokens))(layer(ids))
