"""The package's version: a leaf module that imports nothing, so any module may read it without importing the API."""

__version__ = "0.1.0"
