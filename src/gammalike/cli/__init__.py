"""The ``gammalike`` command."""
from .main import cli

__all__ = ["cli"]
