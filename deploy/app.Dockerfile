# syntax=docker/dockerfile:1
# The application image: web app, action server and the `shop-assistant` CLI (db migrate,
# catalog import/build-index, agents, nudge run) on Python 3.11. Build from the repository root:
#   docker build -f deploy/app.Dockerfile -t shop-assistant-app .
#
# Dependencies come from requirements.lock with --require-hashes, so a changed file on an index
# is refused. torch is locked as the CPU build (2.13.0+cpu), which lives on the PyTorch CPU index,
# not PyPI: pointing pip at it keeps the multi-GB CUDA build out of the image.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libgomp1: OpenMP runtime of faiss-cpu and implicit (the slim image lacks it).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-hashes --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.lock

# The project itself, installed editable in place: settings resolve store_policy.yml and the
# migrations from the source tree, as in a checkout.
COPY pyproject.toml README.md LICENSE store_policy.yml ./
COPY assistant ./assistant
COPY actions ./actions
COPY catalog_index ./catalog_index
COPY rasa_sdk_plugins ./rasa_sdk_plugins
# The ONNX encoder code the catalog embedder shares with the Rasa featurizer, and the encoders
# `make encoder` exported (the search uses models/encoder/minilm-search through ONNX Runtime).
COPY rasa_addons/__init__.py rasa_addons/onnx_sentence_encoder.py ./rasa_addons/
COPY models/encoder ./models/encoder
RUN pip install --no-deps --no-build-isolation -e . && python -m compileall -q assistant actions catalog_index rasa_sdk_plugins rasa_addons

# Never root: the store directory (catalog, index, recommender tables) is the only place written.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin shop \
    && mkdir -p /data && chown shop /data
USER 10001
ENV SHOP_DATA_DIR=/data \
    SHOP_PROFILE=production \
    SHOP_WEB_HOST=0.0.0.0 \
    SANIC_HOST=0.0.0.0
VOLUME ["/data"]
EXPOSE 8080 5055

# The web app by default; the action server runs `python -m rasa_sdk --actions actions --port 5055`.
CMD ["shop-assistant", "web", "--port", "8080"]
