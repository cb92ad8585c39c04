"""Whisper weights: the bundled model, resolving a model name, loading once per process, and
the exact conversion of the bundled CTranslate2 model for openai-whisper."""
