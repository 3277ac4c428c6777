"""A Rasa 3.6 dense featurizer that gives DIET a MiniLM sentence vector for every message.

Why: the sparse word and char n-gram features only know the words of the training data, so a
shopper who says the same thing with other words ("when will my parcel get here" against
"where is my order") falls through. A sentence encoder trained on a billion sentence pairs
places paraphrases close together; DIET gets that vector beside the sparse features.

The encoder is the packaged all-MiniLM-L6-v2, exported to ONNX by
``python -m assistant.encoder_export`` (``make encoder``) and run with ONNX Runtime and
``tokenizers``, because ``.venv-rasa`` has no torch. Where it is read from, first found wins:

1. ``encoder_dir`` in this component's entry in ``config.yml``;
2. the ``SHOP_ENCODER_DIR`` environment variable;
3. ``models/encoder/minilm`` in the project.

Only sentence features are given (one 384-dimensional vector per message): token features
would have to be re-aligned from word pieces to Rasa's whitespace tokens, and the intents do
not need them. The encoder files' content is part of the training fingerprint, so a new
export retrains DIET rather than reusing features cached from the old one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_addons.onnx_sentence_encoder import MODEL_FILE, TOKENIZER_FILE, OnnxSentenceEncoder, resolve_encoder_dir


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the MiniLM sentence embedding of a message's text as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``encoder_dir`` None means ``$SHOP_ENCODER_DIR`` or the project's export."""
        return {
            **DenseFeaturizer.get_default_config(),
            "encoder_dir": None,
            # One thread per message at run time leaves the other core to the action server.
            "num_threads": 1,
            "batch_size": 64,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """ONNX Runtime runs the encoder; tokenizers splits the text into its word pieces."""
        return ["onnxruntime", "tokenizers"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Rejects thread and batch counts that cannot run."""
        for key in ("num_threads", "batch_size"):
            if not isinstance(config.get(key), int) or config[key] < 1:
                raise InvalidConfigException(
                    f"{cls.__name__}: '{key}' must be a positive integer, got {config.get(key)!r}"
                )

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The encoder files' content: a re-exported or replaced encoder invalidates cached features."""
        encoder_dir = resolve_encoder_dir(config.get("encoder_dir"))
        digest = hashlib.sha256()
        for name in (MODEL_FILE, TOKENIZER_FILE):
            path = encoder_dir / name
            if not path.is_file():
                return f"missing:{path}"
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        return digest.hexdigest()

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self._encoder = OnnxSentenceEncoder(
            resolve_encoder_dir(self._config["encoder_dir"]), num_threads=self._config["num_threads"]
        )

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MiniLMFeaturizer:
        """Loads the encoder; nothing is trained, so nothing is persisted."""
        return cls(config, execution_context.node_name)

    @property
    def encoder_dir(self) -> Path:
        """Where the encoder was loaded from (reported by the benchmark)."""
        return self._encoder.encoder_dir

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes every training example with text, encoding them in batches."""
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds a (1, 384) sentence feature to every message with a text attribute; others pass unchanged.

        An empty or blank text is encoded too (MiniLM gives it a vector): DIET was trained with
        this feature on every message, and a message without it makes the whole parse fail.
        """
        with_text = [message for message in messages if isinstance(message.get(TEXT), str)]
        if not with_text:
            return messages
        vectors = self._encoder.encode([message.get(TEXT) for message in with_text], self._config["batch_size"])
        for message, vector in zip(with_text, vectors, strict=True):
            self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)
        return messages
