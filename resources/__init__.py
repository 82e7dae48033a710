"""Airlock's shipped data files, installed as the package ``airlock_resources``.

Holds no code: read these files through :mod:`core.resources`, never by path.
"""
