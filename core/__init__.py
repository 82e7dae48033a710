"""Airlock's engine: everything the desktop and the command line can do, without Qt."""

__version__ = "0.1.0"
