"""One pipeline for every way in: request -> handshake? -> verify -> parse -> dedupe -> store -> notify.

No Tornado here. The server, the Python API, replay and the tests all call
:meth:`Pipeline.prepare` (everything up to storing, pure computation), commit
the event through the store, then :meth:`Pipeline.finish` (the answer, and the
hand-off of notifications and flows to the dispatcher, off the request path).
:meth:`Pipeline.process` does all three synchronously.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from . import secret_values
from .listener import Listener
from .model import Event, Request, Response, Verdict, new_event_id, utc_now_iso
from .parsers import ParseError, parse_body
from .providers.base import REDACTED
from .store import EventStore

log = logging.getLogger("webhook_kit.pipeline")

ALLOWED_METHODS = ("POST",)
#: headers redacted before any event is stored, whichever provider or type
CREDENTIAL_HEADERS = ("Authorization", "Proxy-Authorization")


@dataclass
class Prepared:
    """The event to store and, for anything but an accepted delivery, its answer."""

    event: Event
    listener: Listener
    response: Response | None = None
    verdict: Verdict | None = None
    #: the event may be stored in a bounded ring (rejected, handshake)
    ring: bool = False
    extra: dict = field(default_factory=dict)
    #: the provider and settings prepare() resolved, reused by finish()
    provider: Any = None
    settings: dict | None = None


@dataclass
class Result:
    """What :meth:`Pipeline.process` gives back: the stored event and the answer."""

    event: Event
    response: Response


def error_response(status: int, message: str, **extra) -> Response:
    body = {"error": message}
    body.update(extra)
    return Response.json(body, status)


def build_event(request: Request, listener: Listener, status: str, reason: str | None,
                received_at: str, **fields) -> Event:
    return Event(
        id=new_event_id(), listener=listener.id, received_at=received_at, status=status,
        reason=reason, method=request.method, path=request.path, query=request.query,
        headers=list(request.headers.items()), body=request.body, url=request.url,
        content_type=request.headers.get("Content-Type") or "", **fields)


class Pipeline:
    """Turns a :class:`Request` for a listener into a stored :class:`Event` and an answer."""

    def __init__(self, store: EventStore, dispatcher=None):
        self.store = store
        self.dispatcher = dispatcher

    # -- stage 1: everything before the commit -----------------------------

    def prepare(self, request: Request, listener: Listener) -> Prepared:
        received_at = utc_now_iso()
        request.listener_id = listener.id
        try:
            provider = listener.provider_obj
            settings = listener.settings()
        except Exception as exc:  # a provider unregistered after the listener was made
            return self._reject(request, listener, None, received_at, str(exc),
                                error_response(503, "listener is misconfigured"))

        # a provider's URL-verification challenge comes first (it may be a GET)
        try:
            answer = provider.handshake(request, settings)
        except secret_values.SecretError as exc:
            return self._reject(request, listener, provider, received_at,
                                f"listener misconfigured: {exc}",
                                error_response(503, "listener is misconfigured"))
        except Exception as exc:
            log.warning("handshake of %s raised: %r", listener.id, exc)
            answer = None
        if answer is not None:
            if answer.status >= 400:
                reason = f"handshake refused: {answer.reason}" if answer.reason else "handshake refused"
                return self._reject(request, listener, provider, received_at, reason, answer)
            event = self._event(request, listener, provider, settings, "handshake", None,
                                received_at)
            event.http_status = answer.status
            return Prepared(event, listener, answer, ring=True)

        if request.method not in ALLOWED_METHODS:
            response = error_response(405, "method not allowed")
            response.headers["Allow"] = ", ".join(ALLOWED_METHODS)
            return self._reject(request, listener, provider, received_at,
                                f"method {request.method} not allowed", response)

        options = listener.parse_options(provider)
        needs_payload = (provider.needs_payload_for(settings)
                         if hasattr(provider, "needs_payload_for") else provider.needs_payload)
        parse_error: ParseError | None = None
        if needs_payload:
            parse_error = self._parse(request, options)
            if parse_error is not None:
                return self._unparseable(request, listener, provider, settings, received_at,
                                         parse_error)

        verdict = self._verify(provider, request, settings)
        if not verdict.ok:
            if verdict.status == 503:
                response = error_response(503, "listener is misconfigured")
            elif verdict.status == 404:
                response = error_response(404, "not found")
            else:
                response = error_response(verdict.status, "verification failed")
            response.headers.update(verdict.headers)
            return self._reject(request, listener, provider, received_at, verdict.reason,
                                response, verdict=verdict, settings=settings)

        if not request.parsed:
            parse_error = self._parse(request, options)
            if parse_error is not None:
                return self._unparseable(request, listener, provider, settings, received_at,
                                         parse_error)

        try:
            delivery_id = provider.delivery_id(request)
        except Exception:
            delivery_id = None
        event = self._event(request, listener, provider, settings, "accepted", None, received_at,
                            delivery_id=str(delivery_id) if delivery_id else None)
        self._transform(listener, event)
        return Prepared(event, listener, None, verdict, provider=provider, settings=settings)

    def _verify(self, provider, request: Request, settings: dict) -> Verdict:
        try:
            verdict = provider.verify(request, settings)
        except secret_values.SecretError as exc:
            return Verdict.reject(f"listener misconfigured: {exc}", status=503)
        except Exception as exc:  # a provider must never turn hostile input into a 500
            log.warning("verify of %s raised: %r", provider.name, exc)
            return Verdict.reject(f"verification error: {type(exc).__name__}: {exc}")
        if not isinstance(verdict, Verdict):
            return Verdict.reject(f"provider {provider.name} returned no verdict")
        return verdict

    @staticmethod
    def _parse(request: Request, options: dict) -> ParseError | None:
        try:
            parsed = parse_body(request.body, request.content_type, options)
        except ParseError as exc:
            return exc
        except (RecursionError, MemoryError, ValueError, TypeError, LookupError) as exc:
            return ParseError(f"cannot parse body: {exc}")
        request.payload = parsed.payload
        request.parsed = True
        return None

    def _unparseable(self, request, listener, provider, settings, received_at, error):
        response = Response.json(error.to_dict(), 400)
        return self._reject(request, listener, provider, received_at,
                            f"unparseable: {error}", response, settings=settings)

    def _reject(self, request, listener, provider, received_at, reason, response,
                verdict: Verdict | None = None, settings: dict | None = None) -> Prepared:
        if settings is None and provider is not None:
            try:
                settings = listener.settings()
            except Exception:
                settings = {}
        event = self._event(request, listener, provider, settings or {}, "rejected", reason,
                            received_at)
        if verdict is not None:
            event.details = dict(verdict.details)
        event.http_status = response.status
        return Prepared(event, listener, response, verdict, ring=True)

    def _event(self, request, listener, provider, settings, status, reason, received_at,
               **fields) -> Event:
        notes: list[str] = []
        if provider is not None:
            try:
                notes = provider.redact(request, settings)
            except Exception as exc:
                log.warning("redaction by %s failed: %r", getattr(provider, "name", "?"), exc)
        # whatever the scheme, these headers carry credentials: never stored in clear
        for name in CREDENTIAL_HEADERS:
            if request.headers.get(name) not in (None, REDACTED):
                request.headers.set(name, REDACTED)
                notes.append(f"header:{name}")
        return build_event(request, listener, status, reason, received_at,
                           payload=request.payload, redactions=notes, **fields)

    @staticmethod
    def _transform(listener: Listener, event: Event) -> None:
        if not listener.transforms:
            return
        from .transforms import apply_to_event
        apply_to_event(listener, event)

    # -- stage 2: after the commit -----------------------------------------

    def finish(self, prepared: Prepared, stored_status: str) -> Response:
        """The answer for a committed event; hands it to the dispatcher (never blocks on it)."""
        event = prepared.event
        event.status = stored_status
        if self.dispatcher is not None:
            self.dispatcher.submit(event, prepared.listener)
        if prepared.response is not None:
            return prepared.response
        return self.accepted_response(event, prepared.listener, prepared.provider,
                                      prepared.settings)

    @staticmethod
    def accepted_response(event: Event, listener: Listener, provider=None,
                          settings: dict | None = None) -> Response:
        """The 2xx for an accepted (or duplicate) event: provider's, shaped, or the default."""
        provider_answer = None
        try:
            provider = provider or listener.provider_obj
            provider_answer = provider.respond(event, settings if settings is not None
                                               else listener.settings())
        except Exception as exc:
            log.warning("respond of %s raised: %r", listener.provider, exc)
        if provider_answer is not None:  # a provider's own answer (SOAP Ack) wins
            return provider_answer
        if listener.response:
            from .responses import shape_response
            return shape_response(listener, event)
        body: dict[str, Any] = {"event_id": event.id}
        if event.status == "duplicate":
            body["duplicate"] = True
        return Response.json(body, 200)

    # -- all at once -------------------------------------------------------

    def process(self, request: Request, listener: Listener, timeout: float = 30) -> Result:
        """Prepare, commit (waiting for durability) and finish, synchronously."""
        prepared = self.prepare(request, listener)
        keep = listener.keep_rejected if prepared.ring else None
        status = self.store.add(prepared.event, keep=keep).result(timeout)
        return Result(prepared.event, self.finish(prepared, status))
