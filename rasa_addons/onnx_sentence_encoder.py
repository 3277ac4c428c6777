"""The MiniLM sentence encoder run through ONNX Runtime and ``tokenizers``, without torch.

Kept free of Rasa imports so that the same code runs in both runtimes: in ``.venv-rasa``
inside ``minilm_featurizer.py``, and in ``.venv`` where ``assistant/encoder_export.py`` and
the tests compare it against sentence-transformers.

The ONNX graph (written by ``python -m assistant.encoder_export``) already applies mean
pooling and L2 normalisation, so ``encode`` returns what ``SentenceTransformer.encode(...,
normalize_embeddings=True)`` returns.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "encoder.json"
ENCODER_DIR_ENV = "SHOP_ENCODER_DIR"
DEFAULT_ENCODER_DIR = Path(__file__).resolve().parent.parent / "models" / "encoder" / "minilm"
PAD_TOKEN = "[PAD]"  # noqa: S105 - a vocabulary token, not a secret


SMALL_FILE_BYTES = 1 << 20


def model_fingerprint(model_dir: Path) -> str:
    """Identity of a model directory wherever it is installed: its files' names and sizes, and the content
    of the small ones (configuration, tokenizer, pooling).

    The export records it so that the catalog embedder can tell, in a few milliseconds at load, that an
    ONNX graph was exported from the model it is asked for (an install path differs between machines).
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(model_dir).as_posix()}\0{size}\0".encode())
        if size <= SMALL_FILE_BYTES:
            digest.update(path.read_bytes())
    return digest.hexdigest()


def resolve_encoder_dir(configured: str | None) -> Path:
    """The encoder directory: the configured one, else ``$SHOP_ENCODER_DIR``, else the project's export."""
    return Path(configured or os.environ.get(ENCODER_DIR_ENV) or DEFAULT_ENCODER_DIR)


class OnnxSentenceEncoder:
    """Encodes texts into L2-normalised 384-dimensional MiniLM sentence vectors."""

    def __init__(self, encoder_dir: Path, num_threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        missing = [name for name in (MODEL_FILE, TOKENIZER_FILE) if not (encoder_dir / name).is_file()]
        if missing:
            raise FileNotFoundError(
                f"sentence encoder incomplete in {encoder_dir} (missing {', '.join(missing)}): "
                f"run `make encoder` or `python -m assistant.encoder_export --out {encoder_dir}`"
            )
        self.encoder_dir = encoder_dir
        self._tokenizer = Tokenizer.from_file(str(encoder_dir / TOKENIZER_FILE))
        pad_id = self._tokenizer.token_to_id(PAD_TOKEN)
        self._tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token=PAD_TOKEN)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        # Threads that spin while waiting for work burn the CPU other processes need: on the shared 2-core
        # machine, 2 spinning threads used 30% more CPU for the same batches and were no faster.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(encoder_dir / MODEL_FILE), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.dimension = int(self._session.get_outputs()[0].shape[-1])
        manifest_path = encoder_dir / MANIFEST_FILE
        # What the export recorded (source model, quantization, worst check cosine); empty for a bare directory.
        self.manifest: dict[str, Any] = json.loads(manifest_path.read_text("utf-8")) if manifest_path.is_file() else {}

    def vocabulary(self) -> dict[str, int]:
        """The tokenizer's word pieces and their ids."""
        return self._tokenizer.get_vocab()

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """One row per text, in order. Texts are batched by length so padding stays short."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            vectors[batch] = self._encode_batch([texts[i] for i in batch])
        return vectors

    def _encode_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        encodings = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        # onnxruntime has no type information; the graph's output is a float32 matrix.
        return cast("npt.NDArray[np.float32]", self._session.run(["sentence_embedding"], feeds)[0])
