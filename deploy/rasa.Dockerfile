# syntax=docker/dockerfile:1
# The Rasa server image: Rasa Open Source 3.6.21 on Python 3.10 (it supports nothing newer),
# our gateway and messaging channels (rasa_addons), and the trained model with the ONNX
# MiniLM encoder its pipeline loads. Build from the repository root after `make model`:
#   docker build -f deploy/rasa.Dockerfile -t shop-assistant-rasa .
# To ship the model separately (a model server, a mounted volume), point --model elsewhere
# at run time (the Helm chart's rasa.model.url downloads it before Rasa starts).
FROM python:3.10-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1

WORKDIR /app
COPY requirements-rasa.lock ./
RUN pip install --require-hashes -r requirements-rasa.lock

# rasa_addons runs inside Rasa; it signs customer tokens with assistant.identity (stdlib only),
# the one module of the application it needs.
COPY rasa_addons ./rasa_addons
COPY assistant/__init__.py assistant/identity.py ./assistant/
COPY credentials.yml endpoints.production.yml ./
COPY models/current.tar.gz ./models/current.tar.gz
COPY models/encoder ./models/encoder

# Never root; Rasa writes only its home (global config) and temporary files (the unpacked model).
RUN useradd --system --uid 10001 --create-home --home-dir /home/rasa --shell /usr/sbin/nologin rasa
USER 10001
ENV PYTHONPATH=/app \
    RASA_TELEMETRY_ENABLED=false \
    SHOP_ENCODER_DIR=/app/models/encoder/minilm
EXPOSE 5005

# rasa_addons.rasa_server: `rasa run` with the API token read from RASA_AUTH_TOKEN, never argv.
CMD ["python", "-m", "rasa_addons.rasa_server", "--enable-api", "--interface", "0.0.0.0", "--port", "5005", \
     "--model", "models/current.tar.gz", "--credentials", "credentials.yml", "--endpoints", "endpoints.production.yml"]
