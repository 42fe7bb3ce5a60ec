"""The package's version; `make dist` writes the Swift package's version here in the wheel."""

__version__ = "0+source"
