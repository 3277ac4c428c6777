"""Extensions loaded by the Rasa server (runs in ``.venv-rasa``, Python 3.10, Rasa 3.6).

Nothing here is imported by the ``.venv`` application: Rasa finds these classes through
their dotted path in ``credentials.yml`` and ``config.yml``. The one exception is
``onnx_sentence_encoder``, free of Rasa imports, which ``.venv`` uses too: the encoder export
checks its output with it, and the catalog embedder (``catalog_index/embedder.py``) runs the
search's encoder through it (hence ``rasa_addons`` among the installed packages).
"""
