"""The data store's one error (its own module, so that the readers of each kind need not import the store)."""


class DataError(Exception):
    """A data file that cannot be imported (its message names the file and the problem), or a store that cannot
    be opened."""
