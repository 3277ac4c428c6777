"""Extensions loaded by the Rasa server (runs in ``.venv-rasa``, Python 3.10, Rasa 3.6).

Nothing here is imported by the ``.venv`` application: Rasa finds these classes through
their dotted path in ``credentials.yml`` and ``config.yml``. The one exception is
``onnx_sentence_encoder``, free of Rasa imports, which the encoder export in ``.venv`` uses
to check its output.
"""
