"""The sandbox's own endpoints, for tests that drive a sandbox in another process.

    GET  /__sandbox/status     what is served: the variant (paths, methods, credential
                               placement, codes, envelope, helpers), the answer shape,
                               the worker processes and the answering one's pid,
                               and the records: how many are kept, how many were
                               forgotten (`settings.RequestLog`: the oldest tenth goes
                               beyond 100,000)
    GET  /__sandbox/requests   every request received so far (JSON list of records:
                               `settings.RequestRecord`, clientTxnId and identifiers
                               included)
    GET  /__sandbox/urns       one URN per customer with a card, in customer order,
                               with the customer's id, mobile, email and city as the
                               database holds them now (`Store.urns`): what a test or a
                               bench needs to address many customers
    GET  /__sandbox/faults     the current fault knobs
    POST /__sandbox/faults     set some fault knobs: a JSON object of `Faults` fields
    POST /__sandbox/reset      forget the records (this request is not recorded either)
                               and clear every fault; with the body {"seed": true}, also
                               put the seed back in the database (`wibmo sandbox reset`,
                               which needs no running sandbox, does only that)

No authentication: the server listens on loopback. Faults never apply here.

A sandbox run in several worker processes (``--workers``) answers each request from one
of them, whose records and fault knobs are its own: there ``requests``, ``reset`` and
POST ``faults`` are refused (409) rather than show or change one worker's as the
sandbox's; the knobs given at start apply to every worker, and the status says how many
there are, and which one answered (its pid; its "records" are that worker's).
"""

from __future__ import annotations

import os
import sqlite3
from typing import TYPE_CHECKING, Final

from wibmo_cli.sandbox.protocol import Reply, Request, json_reply, parse_json

if TYPE_CHECKING:
    from wibmo_cli.sandbox.gateway import Gateway

PREFIX: Final = "/__sandbox/"
RESET: Final = "/__sandbox/reset"
_ROUTES: Final = {
    "/__sandbox/status": ("GET",),
    "/__sandbox/requests": ("GET",),
    "/__sandbox/urns": ("GET",),
    "/__sandbox/faults": ("GET", "POST"),
    "/__sandbox/reset": ("POST",),
}

# What shows or changes one worker's state only (`settings.SandboxSettings.workers`).
_ONE_WORKERS: Final = ("/__sandbox/requests", RESET)


def handle(gateway: Gateway, request: Request) -> Reply:
    methods = _ROUTES.get(request.path)
    if methods is None:
        return json_reply(404, {"message": f"no sandbox endpoint {request.path}"})
    if request.method not in methods:
        allow = ", ".join(methods)
        return json_reply(405, {"message": "Method Not Allowed"}, headers=(("Allow", allow),))
    faults = gateway.settings.faults
    workers = gateway.settings.workers
    if workers > 1 and (request.path in _ONE_WORKERS or request.method == "POST"):
        seed = "; the seed again: wibmo sandbox reset --db PATH" if request.path == RESET else ""
        return json_reply(
            409,
            {
                "message": f"this sandbox runs {workers} worker processes, each with its own "
                f"records and fault knobs: {request.method} {request.path} needs --workers 1 "
                f"(the knobs given at start apply to every worker){seed}"
            },
        )
    if request.path == "/__sandbox/status":
        records = gateway.records
        status = {
            "variant": gateway.variant.to_json(),
            "shape": gateway.settings.shape,
            "workers": workers,
            "pid": os.getpid(),  # the process that answered (one of the workers)
            "records": {"kept": len(records), "forgotten": records.forgotten},
        }
        return json_reply(200, status)
    if request.path == "/__sandbox/requests":
        return json_reply(200, [record.to_json() for record in list(gateway.records)])
    if request.path == "/__sandbox/urns":
        return json_reply(200, [each.to_json() for each in gateway.store.urns()])
    if request.path == RESET:
        try:
            wanted = parse_json(request.body or b"{}")
            if not isinstance(wanted, dict) or not isinstance(wanted.get("seed", False), bool):
                raise ValueError('the body must be {} or {"seed": true}')
        except ValueError as exc:
            return json_reply(400, {"message": str(exc)})
        if wanted.get("seed"):
            try:
                gateway.store.reseed()
            except sqlite3.Error as exc:  # e.g. another process held the lock too long
                return json_reply(503, {"message": f"the seed was not put back: {exc}"})
        gateway.records.restart()
        faults.reset()
        return json_reply(200, {"ok": True})
    if request.method == "POST":
        try:
            changes = parse_json(request.body or b"{}")
            if not isinstance(changes, dict):
                raise ValueError("the body must be a JSON object of fault fields")
            faults.set_from_json(changes)
        except ValueError as exc:
            return json_reply(400, {"message": str(exc)})
    return json_reply(200, faults.to_json())
