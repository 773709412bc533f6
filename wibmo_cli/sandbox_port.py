"""Where `wibmo sandbox` listens unless told otherwise: one constant for the command's
--port default, the server, and what an embedded profile's dry run shows.

Outside the sandbox package on purpose: importing anything in wibmo_cli.sandbox runs
its __init__, which loads the whole server (asyncio, SQLite), and `wibmo --help` builds
every command, `sandbox` among them.
"""

from __future__ import annotations

from typing import Final

DEFAULT_PORT: Final = 8765
SANDBOX_URL: Final = f"http://127.0.0.1:{DEFAULT_PORT}"
