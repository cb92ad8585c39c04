"""Vlinder: recorded talks and interviews in, a searchable podcast out."""

__version__ = "0.1.0"
