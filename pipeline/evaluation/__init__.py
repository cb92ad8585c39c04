"""Evaluation: how well each stage does on labelled data (the ``vlinder eval`` commands)."""
