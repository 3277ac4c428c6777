"""Derive the catalog search's sentence encoder from the ONNX export: int8 where its vectors hold, else fp32.

Dynamic int8 quantization (``onnxruntime.quantization.quantize_dynamic``, weights per channel,
activations per tensor at run time) shrinks the model four times and can be faster on CPUs with
int8 dot-product instructions. It also moves the vectors: the catalog index and the shoppers'
queries must stay within ``MIN_COSINE`` of the sentence-transformers vectors on every check
sentence, or search results would change with the backend. When the quantized graph misses
that, it is refused and the output directory holds the fp32 graph instead, so the embedder
always finds a usable encoder there and ``encoder.json`` says which one it is and why.

Measured on all-MiniLM-L6-v2 (Dec 2026): the int8 graph's worst check cosine was 0.98
("hello there"; one- and two-word texts fare worst, 0.96 for "hi"), so it is refused; on the
AVX-only benchmark machine it was no faster than fp32 either.

Usage::

    python -m assistant.encoder_quantize --source models/encoder/minilm --out models/encoder/minilm-search
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from onnxruntime.quantization import QuantType, quantize_dynamic
from sentence_transformers import SentenceTransformer

from assistant.encoder_export import staged_directory, worst_cosine
from rasa_addons.onnx_sentence_encoder import MANIFEST_FILE, MODEL_FILE, TOKENIZER_FILE

MIN_COSINE = 0.99
INT8 = "int8-dynamic"


def derive(source: Path, out_dir: Path) -> dict[str, object]:
    """Writes the search encoder to ``out_dir`` (int8 if it passes the check, else fp32); returns its manifest."""
    manifest: dict[str, Any] = json.loads((source / MANIFEST_FILE).read_text("utf-8"))
    reference = SentenceTransformer(manifest["source_model"], device="cpu")
    with staged_directory(out_dir) as staging:
        shutil.copyfile(source / TOKENIZER_FILE, staging / TOKENIZER_FILE)
        quantize_dynamic(
            str(source / MODEL_FILE), str(staging / MODEL_FILE),
            op_types_to_quantize=["MatMul"], per_channel=True, weight_type=QuantType.QInt8,
        )
        int8_cosine = worst_cosine(staging, reference)
        if int8_cosine >= MIN_COSINE:
            manifest.update(quantization=INT8, check_min_cosine=int8_cosine)
        else:
            shutil.copyfile(source / MODEL_FILE, staging / MODEL_FILE)
            manifest["quantization"] = "none"
            manifest["int8_refused"] = f"worst check cosine {int8_cosine:.4f} < {MIN_COSINE}"
        manifest["int8_check_min_cosine"] = int8_cosine
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("models/encoder/minilm"),
                        help="the fp32 export of assistant.encoder_export")
    parser.add_argument("--out", type=Path, default=Path("models/encoder/minilm-search"), help="directory to write")
    args = parser.parse_args(argv)
    manifest = derive(args.source, args.out)
    kept = manifest.get("int8_refused")
    print(f"wrote {args.out}: " + (f"fp32 (int8 refused: {kept})" if kept else f"int8, worst cosine {manifest['check_min_cosine']:.4f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
