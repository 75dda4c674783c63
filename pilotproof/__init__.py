"""pilotproof: tell real AI-pilot impact from a value mirage."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pilotproof")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
