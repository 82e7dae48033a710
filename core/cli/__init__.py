"""The ``airlock`` command line: a thin argparse layer over :mod:`core.api`.

It holds no business rules and speaks no SQL; everything it does goes through the engine
facade, exactly as the desktop does. It must never import Qt or the storage package.
"""
