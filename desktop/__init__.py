"""Airlock's PySide6 desktop: windows, Qt models and the task runner over ``core.api``.

Nothing here holds business rules or touches the storage package; see ``desktop.app``.
"""
