"""From an HTTP request to an HTTP reply: routing, gateway checks, faults, token in and out.

The order a request goes through, as the platform's gateway and services do it (a
lookup's or an update's token is decrypted first, only for its record: clientTxnId and
identifiers, whatever happens to the request next):

    unknown path                   404 plain JSON
    x-api-key missing / wrong      401 plain JSON (the gateway's own messages)
    wrong method                   405 plain JSON
    a helper endpoint              `Gateway._helper` (no fault, no latency)
    injected fault                 see `Faults` (no further processing, nothing changed);
                                   drop_after and hang_after strike at the end instead:
                                   the request applied, its answer never sent
    credentials                    1262 clientId, 1264/1031 bankId, 1311 secureCode,
                                   1310 X-Consumer-Custom-ID (headers or body fields, as
                                   the variant wants them for this API)
    body / token                   1055
    messageCode                    the variant's `wrong_message_code` (1056; seed 1055)
    clientTxnId                    1093 missing or over 100 characters, 1054 seen before
    the API's own rules            `lookup.lookup`, `update.update`

Paths, methods, credential placement and message codes are the served variant's
(`variants.Variant`). Every business answer, error or not, is HTTP 200 with the encrypted
answer under the variant's envelope key (``{"token": ...}``), success as its
``success_code``.

The helper endpoints (`POST .../encrypt`, `.../decrypt`) answer in the clear: encrypt
takes the plaintext request as the body and every credential in headers and answers
``{"token": ...}``; decrypt takes ``{"token": ...}`` with only x-api-key and answers the
bare decrypted JSON. A request they cannot serve is a 400 ``{"message": ...}`` (a
credential's message names the platform's code for it). The fault knobs stay off them:
they are how a profile is calibrated, and a queued fault is meant for the next API call.
"""

from __future__ import annotations

import base64
import hmac
import os
from typing import Any, Final

import wibmo_cli.sandbox.control as control
from wibmo_cli.crypto import TokenCodec
from wibmo_cli.errors import CryptoError
from wibmo_cli.sandbox.lookup import lookup, plaintext
from wibmo_cli.sandbox.model import (
    Context,
    PlatformError,
    fields_of,
    given,
    now14,
    number_or_text,
    response_message,
)
from wibmo_cli.sandbox.protocol import (
    Reply,
    Request,
    json_reply,
    parse_json,
    phrase,
    token_reply,
)
from wibmo_cli.sandbox.settings import (
    AFTER_THE_PLATFORM,
    IDENTIFIERS,
    MAX_RECORDED,
    RequestLog,
    RequestRecord,
    SandboxSettings,
)
from wibmo_cli.sandbox.store import Store
from wibmo_cli.sandbox.update_rules import update
from wibmo_cli.sandbox.variants import HELPER_METHOD

MAX_TXN_ID: Final = 100
_HTML_5XX: Final = (
    "<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_GATEWAY_MESSAGES: Final = {
    401: "Unauthorized",
    429: "API rate limit exceeded",
}


class Gateway:
    """Routes requests and answers them; used only from the server's event-loop thread."""

    def __init__(self, settings: SandboxSettings, store: Store, records: RequestLog):
        self.settings = settings
        self.store = store
        self.records = records
        self.codec = TokenCodec(settings.key, settings.iv)
        self.variant = variant = settings.variant
        self.routes = {path: "encrypt" for path in variant.encrypt_paths}
        self.routes.update({path: "decrypt" for path in variant.decrypt_paths})
        if variant.lenient:
            self.routes.update({path: "lookup" for path in settings.lookup_paths})
            self.routes.update({path: "update" for path in settings.update_paths})
        self.routes.update({path: "lookup" for path in variant.lookup.paths})
        self.routes.update({path: "update" for path in variant.update.paths})
        self.bank_id = number_or_text(settings.bank_id)
        self._api_key = settings.api_key.encode()

    def handle(self, request: Request) -> tuple[Reply, RequestRecord | None]:
        """The reply, and the record to keep (none for a reset, which starts a new record)."""
        if request.path.startswith(control.PREFIX):
            record = RequestRecord(request.method, request.path, "control")
            reply = control.handle(self, request)
            if request.path == control.RESET and reply.status == 200:
                return reply, None
        else:
            api = self.routes.get(request.path)
            helper = api in ("encrypt", "decrypt")
            record = RequestRecord(
                request.method, request.path, "helper" if helper else api or "other"
            )
            if api is None:
                reply = json_reply(404, {"message": "no Route matched with those values"})
            elif helper:
                reply = self._gateway(HELPER_METHOD, request) or self._helper(api, request)
            else:
                reply = self._api(api, request, record)
                reply.delay = self.settings.faults.latency_ms / 1000
        record.status = 0 if reply.action != "answer" else reply.status
        return reply, record

    # -- the gateway in front of the platform ------------------------------------------

    def _gateway(self, method: str, request: Request) -> Reply | None:
        """The gateway's refusal (no or a wrong x-api-key, another method), or None."""
        key = request.headers.get("x-api-key")
        if key is None:
            return json_reply(401, {"message": "No API key found in request"})
        if not hmac.compare_digest(key.encode(), self._api_key):
            return json_reply(401, {"message": "Invalid authentication credentials"})
        if request.method != method:
            return json_reply(405, {"message": "Method Not Allowed"}, headers=(("Allow", method),))
        return None

    def _api(self, api: str, request: Request, record: RequestRecord) -> Reply:
        body = _json_object(request.body)
        decrypted = self._decrypted(body)
        payload = decrypted if isinstance(decrypted, dict) else None
        txn_id = _recorded(payload, api, record)  # a request the gateway refuses too
        refused = self._gateway(self.variant.api(api).method, request)
        if refused is not None:
            return refused
        fault = self.settings.faults.take()
        record.fault = fault
        if fault is not None and fault not in AFTER_THE_PLATFORM:
            return self._fault_reply(fault)
        with self.store.transaction():
            answer = self._answer(api, request.headers, body, payload, txn_id)
        record.response_code = str(answer.get("responseCode"))
        if fault is not None:  # applied and committed: now the answer is lost
            return self._fault_reply(fault)
        return token_reply(self.codec.encrypt(plaintext(answer)), key=self.variant.envelope)

    def _fault_reply(self, fault: str) -> Reply:
        if fault in ("drop", "drop_after"):
            return Reply(0, action="drop")
        if fault in ("hang", "hang_after"):
            return Reply(0, action="hang", hang=self.settings.faults.hang_seconds)
        if fault == "garbage":  # 37 bytes: not whole AES blocks, so no scheme decrypts it
            return json_reply(200, {"token": base64.b64encode(os.urandom(37)).decode()})
        status = int(fault)
        if status >= 500:
            page = _HTML_5XX.format(status=status, phrase=phrase(status))
            return Reply(status, page.encode(), content_type="text/html")
        return json_reply(status, {"message": _GATEWAY_MESSAGES.get(status, "Request rejected")})

    # -- the platform ------------------------------------------------------------------

    def _answer(
        self,
        api: str,
        headers: dict[str, str],
        body: dict[str, Any] | None,
        payload: dict[str, Any] | None,
        txn_id: str | None,
    ) -> dict[str, Any]:
        served = self.variant.api(api)
        message_code = int(served.message_codes[0])
        now = now14()
        try:
            self._credentials(served.credentials, headers, body or {})
            if payload is None:
                raise PlatformError("1055", 'the body is not {"token": ...} with a JSON token')
            code = str(payload.get("messageCode", "")).strip()
            if code not in served.message_codes or isinstance(payload.get("messageCode"), bool):
                raise PlatformError(
                    self.variant.wrong_message_code,
                    f"messageCode must be {' or '.join(served.message_codes)}",
                )
            message_code = int(code)
            if not txn_id or len(txn_id) > MAX_TXN_ID:
                raise PlatformError("1093")
            accosa = self.store.remember_txn(txn_id, api, now)
            if accosa is None:
                raise PlatformError("1054")
            ctx = Context(
                self.settings.client_id,
                self.bank_id,
                txn_id,
                accosa,
                message_code,
                now,
                self.settings.shape,
                update_fields=self.variant.update_fields,
                date_format=self.variant.date_format,
                documents=self.variant.documents,
            )
            try:
                answer = (lookup if api == "lookup" else update)(self.store, payload, ctx)
            except PlatformError as exc:
                return self._error(api, exc, now, txn_id, message_code, accosa)
        except PlatformError as exc:
            return self._error(api, exc, now, txn_id, message_code, 0)
        if answer.get("responseCode") == "00":
            answer["responseCode"] = self.variant.success_code
        return answer

    def _credentials(
        self, where: str | None, headers: dict[str, str], body: dict[str, Any]
    ) -> None:
        """Check the credentials found ``where`` ("headers", "body"; None: either, headers
        first): a credential elsewhere is as good as missing; `PlatformError` if wrong."""
        in_headers = {} if where == "body" else headers
        in_body = {} if where == "headers" else {k.lower(): v for k, v in body.items()}
        in_body.pop("token", None)

        def value(name: str) -> str | None:
            found = in_headers.get(name)
            if found is None:
                raw = in_body.get(name)
                found = None if raw is None or isinstance(raw, dict | list) else str(raw)
            return found.strip() if found is not None else None

        settings = self.settings
        if value("clientid") != settings.client_id:
            raise PlatformError("1262")
        bank_id = value("bankid")
        if not bank_id:
            raise PlatformError("1264")
        if bank_id != settings.bank_id:
            raise PlatformError("1031")
        secure_code = value("securecode") or ""
        if not hmac.compare_digest(secure_code.encode(), settings.secure_code.encode()):
            raise PlatformError("1311")
        if settings.consumer_custom_id or self.variant.consumer_id:
            custom = value("x-consumer-custom-id") or ""
            expected = settings.consumer_custom_id or custom
            if not custom or not hmac.compare_digest(custom.encode(), expected.encode()):
                raise PlatformError("1310")

    # -- the helper endpoints ----------------------------------------------------------

    def _helper(self, kind: str, request: Request) -> Reply:
        """The platform's encrypt or decrypt helper, in the clear (see the module doc)."""
        if kind == "encrypt":
            try:
                self._credentials("headers", request.headers, {})
            except PlatformError as exc:
                return json_reply(400, {"message": f"{exc.code} {response_message(exc.code)}"})
            plaintext = _json_object(request.body)
            if plaintext is None:
                return json_reply(400, {"message": "the body must be the JSON object to encrypt"})
            return token_reply(self.codec.encrypt_json(plaintext))
        body = _json_object(request.body)
        if body is None or not isinstance(body.get("token"), str):
            return json_reply(400, {"message": 'the body must be {"token": "..."}'})
        decrypted = self._decrypted(body)
        if decrypted is None:
            return json_reply(
                400, {"message": "the token does not decrypt to JSON with this environment's key"}
            )
        return json_reply(200, decrypted)

    def _decrypted(self, body: dict[str, Any] | None) -> Any:
        """The JSON a ``{"token": ...}`` body's token decrypts to, or None."""
        token = body.get("token") if body is not None else None
        if not isinstance(token, str):
            return None
        try:
            return parse_json(self.codec.decrypt(token))
        except CryptoError:
            return None

    def _error(
        self,
        api: str,
        exc: PlatformError,
        now: str,
        txn_id: str | None,
        message_code: int,
        accosa: int,
    ) -> dict[str, Any]:
        """An error answer: lookup's exactly as the retrieve document's failure sample."""
        if api == "lookup":
            return {
                "bankId": 0,
                "responseDateTime": now,
                "accosaTransactionId": 0,
                "messageCode": 0,
                "responseMessage": response_message(exc.code),
                "responseCode": exc.code,
            }
        answer: dict[str, Any] = {"bankId": self.bank_id, "responseDateTime": now}
        if txn_id is not None:
            answer["clientTxnId"] = txn_id
        answer.update(
            accosaTransactionId=accosa,
            messageCode=message_code + 1,
            responseMessage=response_message(exc.code),
            responseCode=exc.code,
        )
        if exc.detail:
            answer["description"] = exc.detail
        return answer


def _recorded(payload: dict[str, Any] | None, api: str, record: RequestRecord) -> str | None:
    """The payload's clientTxnId (None when it has none the platform could read), noted
    in ``record`` with the customer identifiers ``api`` reads (`IDENTIFIERS`)."""
    if payload is None:
        return None
    txn = payload.get("clientTxnId")
    txn_id = str(txn) if isinstance(txn, str | int) and not isinstance(txn, bool) else None
    record.client_txn_id = None if txn_id is None else _cut(txn_id)
    fields = fields_of(payload)
    for name in IDENTIFIERS[api]:
        value = given(fields, name.lower())
        if value is not None:
            record.identifiers[name] = _cut(value)
    return txn_id


def _cut(text: str) -> str:
    """Text from a request as a record keeps it: at most `MAX_RECORDED` characters."""
    return text if len(text) <= MAX_RECORDED else text[:MAX_RECORDED] + "…"


def _json_object(body: bytes) -> dict[str, Any] | None:
    value = parse_json(body)
    return value if isinstance(value, dict) else None
