"""Extensions loaded by the Rasa server (runs in ``.venv-rasa``, Python 3.10, Rasa 3.6).

Nothing here is imported by the ``.venv`` application: Rasa finds these classes through
their dotted path in ``credentials.yml``.
"""
