"""The package's version: the one place it is written (``pyproject.toml`` reads it from
here), so asking for it costs no ``importlib.metadata``."""

__all__ = ["__version__"]

__version__ = "0.1.0.dev0"
