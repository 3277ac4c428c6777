"""Rasa's TensorFlow models loaded for prediction without the training step Rasa 3.6 runs first.

``RasaModel.load`` (DIET here) builds an empty model, *trains it on one example* so that
Keras creates every variable, overwrites them with the saved weights, then predicts one
example to trace the prediction graph. The training step traces the whole backward pass and
the optimizer: it was most of Rasa's start, which is the critical path of ``shop-assistant
up`` (issue #15.5), and it left the gradient graph and the optimizer's slots in memory.

A server only predicts, so here the saved weights are read first and TensorFlow restores each
variable as the prediction pass creates it (Keras' deferred restoration of a subclassed
model's TF-format checkpoint), and the prediction graph is traced as before. The optimizer's
slots in the checkpoint are not needed for prediction and are left unread (``expect_partial``).

DIET's prediction graph is also traced without AutoGraph: converting its Python source was
most of what was left. That is safe for a model whose prediction code branches and loops on
Python values only (a branch on a tensor would fail the trace loudly, not change it); DIET's
does, and ``tests/test_model_load.py`` checks that its parses equal those of Rasa's own load.
Other models (TED, should a config bring it back) keep AutoGraph. Fine-tuning (``rasa train
--finetune``) and a load without a prediction example keep Rasa's own path.
"""

from __future__ import annotations

import logging
from typing import Any

import tensorflow as tf
from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
from rasa.utils.tensorflow.models import RasaModel
from rasa.utils.train_utils import create_data_generators

log = logging.getLogger(__name__)
_rasa_load = RasaModel.load.__func__  # type: ignore[attr-defined]
WITHOUT_AUTOGRAPH = frozenset({"DIET"})  # model classes whose prediction graph is checked to trace the same without it


def load_for_prediction(
    cls: type[RasaModel],
    model_file_name: str,
    model_data_example: Any,
    predict_data_example: Any = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> RasaModel:
    """``RasaModel.load`` without the one-example training step when the model is loaded to predict."""
    if finetune_mode or not predict_data_example:
        return _rasa_load(cls, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs)
    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    # compile as Rasa does: it sets run_eagerly, which the prediction path reads
    model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)), run_eagerly=config.get(RUN_EAGERLY))
    model.load_weights(model_file_name).expect_partial()
    if cls.__name__ in WITHOUT_AUTOGRAPH:
        batches, _ = create_data_generators(model_data=predict_data_example, batch_sizes=1, epochs=1, shuffle=False)
        signature = model._dynamic_signature(next(iter(batches))[0])
        # what Rasa's _rasa_predict would make on the first prediction, but traced from the Python code as written
        model._tf_predict_step = tf.function(model.predict_step, input_signature=signature, autograph=False)
    model.run_inference(predict_data_example)  # creates (and so restores) the variables, traces the graph
    log.debug("loaded %s for prediction from %s", cls.__name__, model_file_name)
    return model


def install() -> None:
    """Use :func:`load_for_prediction` for every Rasa TensorFlow model this process loads."""
    RasaModel.load = classmethod(load_for_prediction)  # type: ignore[assignment, method-assign]
