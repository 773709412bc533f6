"""A local stand-in for the Wibmo Prepaid platform: both APIs over real HTTP on loopback.

Real encryption, a SQLite database seeded with demo customers (the documents' sample
customer among them), the documents' error codes, the gateway's credential checks, and
knobs for latency and injected failures (`Faults`). ``SandboxSettings.variant`` picks
the environment served (`variants`: seed, the lenient default, or a strict mob1, v3,
gitbook or wallet), and every variant has the platform's encrypt/decrypt helpers. Not
imported at wibmo start-up: the commands that need it import it.

    settings = SandboxSettings(key=..., iv=IvScheme("zero"), api_key=..., client_id=...,
                               bank_id=..., secure_code=..., db_path=Path("sandbox.db"))
    with Sandbox(settings) as sandbox:
        ...  # sandbox.url, sandbox.requests, sandbox.settings.faults
"""

from wibmo_cli.sandbox.seed import (
    CARDLESS_CUSTOMER_ID,
    DUPLICATE_EMAIL,
    DUPLICATE_MOBILE,
    SAMPLE_CUSTOMER_ID,
    SAMPLE_MOBILE,
    SAMPLE_URN,
)
from wibmo_cli.sandbox.server import Sandbox, serve
from wibmo_cli.sandbox.settings import (
    LOOKUP_PATHS,
    UPDATE_PATHS,
    Faults,
    RequestRecord,
    SandboxSettings,
)

__all__ = [
    "CARDLESS_CUSTOMER_ID",
    "DUPLICATE_EMAIL",
    "DUPLICATE_MOBILE",
    "LOOKUP_PATHS",
    "SAMPLE_CUSTOMER_ID",
    "SAMPLE_MOBILE",
    "SAMPLE_URN",
    "UPDATE_PATHS",
    "Faults",
    "RequestRecord",
    "Sandbox",
    "SandboxSettings",
    "serve",
]
