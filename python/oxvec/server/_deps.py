"""The server's third-party packages, imported only by oxvec.server: a
missing one is an ImportError that names the pip command."""

from __future__ import annotations

import importlib

_PIP = "pip install 'oxvec[server]'"


def require(*modules: str) -> None:
    """Import each module or raise ImportError naming the extra."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as e:
            raise ImportError(f"oxvec.server needs {name.split('.')[0]} ({e}); install it with: {_PIP}") from e


require("fastapi", "uvicorn", "strawberry")
