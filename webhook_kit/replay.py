"""Replay: verification, transforms and flows again, on events already stored.

``replay(store, listener, ...)`` takes one event, a list of ids, or every
event of the listener (filtered by status), oldest first, and for each:

1. verifies the stored request again with the listener's current settings,
   or with ``settings`` (edited ones), at the time it arrived (so signed
   timestamps are judged as they were then); an event whose credentials were
   redacted before storing (Basic passwords, tokens) cannot be verified again
   and keeps its status;
2. parses the stored body again (the XML options may have changed);
3. applies the listener's transform rules (perhaps edited);
4. unless ``dry_run``: saves the new status, payload, output and transform
   error, and runs the flows of events that are now accepted.

A dry run saves nothing and runs no flow: its report says, per event, how the
status and output would change (which output paths are added, removed or
changed). Duplicates and handshakes are not replayed.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from .model import Event, Verdict, iso_to_unix

log = logging.getLogger("webhook_kit.replay")

PAGE = 500
REPLAYABLE = ("accepted", "rejected")


@dataclass
class Change:
    """One difference between two outputs: ``path`` was ``before``, is ``after``."""

    path: str
    kind: str  # added, removed, changed
    before: Any = None
    after: Any = None

    def __str__(self) -> str:
        if self.kind == "added":
            return f"+{self.path} = {_short(self.after)}"
        if self.kind == "removed":
            return f"-{self.path} (was {_short(self.before)})"
        return f"~{self.path}: {_short(self.before)} -> {_short(self.after)}"


def _short(value: Any, limit: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def diff(before: Any, after: Any, path: str = "") -> list[Change]:
    """Differences between two outputs, by dotted path (lists compared whole)."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[Change] = []
        for key in before:
            sub = f"{path}.{key}" if path else str(key)
            if key not in after:
                changes.append(Change(sub, "removed", before[key], None))
            else:
                changes.extend(diff(before[key], after[key], sub))
        for key in after:
            if key not in before:
                changes.append(Change(f"{path}.{key}" if path else str(key), "added", None, after[key]))
        return changes
    # same type too: 1 -> 1.0 or "1" -> 1 is what a changed ``type`` does, and is shown
    if type(before) is type(after) and before == after:
        return []
    return [Change(path or "(output)", "changed", before, after)]


@dataclass
class ReplayResult:
    """What replay did (or, in a dry run, would do) to one event."""

    event_id: str
    status_before: str
    status_after: str
    verification: str  # ok, failed: <reason>, unverifiable: <why>, skipped
    output_before: Any = None
    output_after: Any = None
    error_before: str | None = None
    error_after: str | None = None
    changes: list = field(default_factory=list)
    flows: list = field(default_factory=list)
    saved: bool = False
    note: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.changes) or self.status_before != self.status_after or \
            self.error_before != self.error_after

    def to_dict(self) -> dict:
        return {"event_id": self.event_id, "status_before": self.status_before,
                "status_after": self.status_after, "verification": self.verification,
                "changed": self.changed, "changes": [str(c) for c in self.changes],
                "output_before": self.output_before, "output_after": self.output_after,
                "transform_error_before": self.error_before,
                "transform_error_after": self.error_after,
                "flows": [{k: r[k] for k in ("flow", "outcome", "error", "attempts")}
                          for r in self.flows],
                "saved": self.saved, "note": self.note}

    def line(self) -> str:
        """One line for the CLI."""
        status = self.status_before if self.status_before == self.status_after else \
            f"{self.status_before}->{self.status_after}"
        parts = [self.event_id, status]
        if self.verification not in ("ok", "skipped"):
            parts.append(f"verify {self.verification}")
        if self.note:
            parts.append(self.note)
        if self.changes:
            shown = "; ".join(str(c) for c in self.changes[:4])
            more = f"; +{len(self.changes) - 4} more" if len(self.changes) > 4 else ""
            parts.append(f"output: {shown}{more}")
        elif self.status_after == "accepted" and self.note is None:
            parts.append("output unchanged")
        if self.error_after:
            parts.append(f"transform error: {self.error_after}")
        for run in self.flows:
            parts.append(f"flow {run['flow']}: {run['outcome']}"
                         + (f" ({run['error']})" if run.get("error") else ""))
        return "  ".join(parts)


@dataclass
class ReplayReport:
    """Every event's :class:`ReplayResult`, and the totals."""

    results: list
    dry_run: bool

    def __iter__(self):
        return iter(self.results)

    def __len__(self):
        return len(self.results)

    @property
    def changed(self) -> list:
        return [r for r in self.results if r.changed]

    def counts(self) -> dict:
        c = {"events": len(self.results), "changed": 0, "accepted": 0, "rejected": 0,
             "transform_errors": 0, "flow_runs": 0, "flow_errors": 0, "skipped": 0}
        for r in self.results:
            c["changed"] += r.changed
            if r.status_after in ("accepted", "rejected"):
                c[r.status_after] += 1
            if r.note and r.note.startswith("not replayed"):
                c["skipped"] += 1
            c["transform_errors"] += bool(r.error_after)
            c["flow_runs"] += sum(1 for run in r.flows if run["outcome"] != "skipped")
            c["flow_errors"] += sum(1 for run in r.flows if run["outcome"] == "error")
        return c

    def summary(self) -> str:
        c = self.counts()
        verb = "would change" if self.dry_run else "changed"
        text = (f"{'dry run: ' if self.dry_run else ''}{c['events']} event(s), {c['changed']} {verb}; "
                f"{c['accepted']} accepted, {c['rejected']} rejected, "
                f"{c['transform_errors']} with transform errors")
        if not self.dry_run:
            text += f"; {c['flow_runs']} flow run(s), {c['flow_errors']} failed"
        if c["skipped"]:
            text += f"; {c['skipped']} not replayed"
        return text

    def to_dicts(self) -> list[dict]:
        return [r.to_dict() for r in self.results]


def select(store, listener_id: str | None, *, ids: Iterable[str] | None = None,
           status: str | Iterable[str] | None = None, limit: int | None = None) -> Iterator[Event]:
    """The events to replay: ``ids`` in the order given, else oldest first, page by page."""
    if ids is not None:
        for event_id in ids:
            event = store.get(event_id)
            if event is None:
                raise LookupError(f"no event {event_id}")
            if listener_id and event.listener != listener_id:
                raise LookupError(f"event {event_id} belongs to listener {event.listener!r}, "
                                  f"not {listener_id!r}")
            yield event
        return
    seen, after = 0, None
    while limit is None or seen < limit:
        page = PAGE if limit is None else min(PAGE, limit - seen)
        batch = store.events(listener=listener_id, status=status, limit=page, after_seq=after,
                             newest_first=False)
        if not batch:
            return
        for event in batch:
            yield event
        seen += len(batch)
        after = batch[-1].seq
        if after is None:  # a store that does not number its events: one page is all
            return


def _count(store, listener_id, ids, status, limit) -> int | None:
    if ids is not None:
        return len(ids)
    try:
        if status is None or isinstance(status, str):
            total = store.count(listener=listener_id, status=status)
        else:
            total = sum(store.count(listener=listener_id, status=s) for s in status)
    except Exception:
        return None
    return min(total, limit) if limit is not None else total


def _verify(listener, event: Event, settings: dict | None) -> tuple[Verdict | None, str]:
    """The verdict on the stored request (None when it cannot be judged again)."""
    if event.redactions:
        return None, f"unverifiable: credentials were redacted before storing ({', '.join(event.redactions)})"
    provider = listener.provider_obj
    resolved = provider.settings_with_defaults(settings) if settings is not None else listener.settings()
    request = event.to_request()
    request.listener_id = listener.id
    if event.payload is not None:
        request.payload, request.parsed = event.payload, True
    try:
        verdict = provider.verify(request, resolved, now=iso_to_unix(event.received_at))
    except Exception as exc:  # as in the pipeline: hostile input never raises
        verdict = Verdict.reject(f"verification error: {type(exc).__name__}: {exc}")
    if not isinstance(verdict, Verdict):
        verdict = Verdict.reject(f"provider {provider.name} returned no verdict")
    return verdict, "ok" if verdict.ok else f"failed: {verdict.reason}"


def _reparse(listener, event: Event) -> tuple[Any, str | None]:
    from .parsers import ParseError, parse_body
    try:
        return parse_body(event.body, event.content_type, listener.parse_options()).payload, None
    except ParseError as exc:
        return None, f"unparseable: {exc}"
    except (RecursionError, MemoryError, ValueError, TypeError) as exc:
        return None, f"unparseable: {exc}"


def replay_event(event: Event, listener, store=None, *, settings: dict | None = None,
                 verify: bool = True, dry_run: bool = False, run_flows: bool = True) -> ReplayResult:
    """Replay one stored event (see the module's description)."""
    from .transforms import transform_event
    result = ReplayResult(event.id, event.status, event.status, "skipped", event.output, event.output,
                          event.transform_error, event.transform_error)
    if event.status not in REPLAYABLE:
        result.note = f"not replayed: {event.status}"
        return result
    status, reason = event.status, event.reason
    if verify:
        verdict, result.verification = _verify(listener, event, settings)
        if verdict is not None:
            status = "accepted" if verdict.ok else "rejected"
            reason = None if verdict.ok else verdict.reason
    payload = event.payload
    if status == "accepted":
        payload, parse_problem = _reparse(listener, event)
        if parse_problem:
            status, reason = "rejected", parse_problem
    result.status_after = status
    if status != "accepted":
        # a rejected event gets no output: nothing was accepted to transform
        result.output_after, result.error_after = event.output, event.transform_error
        if not dry_run and (status, reason) != (event.status, event.reason):
            _save(store, event, status=status, reason=reason)
            result.saved = True
        return result
    candidate = Event(**{**event.__dict__, "payload": payload, "status": status, "reason": reason})
    if listener.transforms:
        outcome = transform_event(listener, candidate)
        candidate.output, candidate.transform_error = outcome.output, outcome.error
    else:
        candidate.output, candidate.transform_error = None, None
    result.output_after, result.error_after = candidate.output, candidate.transform_error
    result.changes = diff(event.output, candidate.output)
    if dry_run:
        return result
    fields = {"output": candidate.output, "transform_error": candidate.transform_error}
    if payload != event.payload:
        fields["payload"] = payload
    if (status, reason) != (event.status, event.reason):
        fields.update(status=status, reason=reason)
    try:
        _save(store, event, **fields)
    except Exception as exc:
        if "UNIQUE" in str(exc) or "unique" in str(exc):
            # an accepted event with the same delivery id exists: this one is its duplicate
            fields.pop("status", None)
            _save(store, event, status="duplicate", reason=None, **{k: v for k, v in fields.items()
                                                                  if k != "reason"})
            result.status_after = "duplicate"
            result.saved = True
            return result
        raise
    result.saved = True
    if run_flows and listener.flows:
        from .flows import run_flows as run_all
        result.flows = run_all(candidate, listener, store, origin="replay")
    return result


def _save(store, event: Event, **fields) -> None:
    store.update(event.id, **fields).result(60)


def replay(store, listener, ids: Iterable[str] | str | None = None,
           status: str | Iterable[str] | None = None, settings: dict | None = None,
           dry_run: bool = False, run_flows: bool = True,
           progress: Callable[[int, int | None], Any] | None = None, *,
           limit: int | None = None, verify: bool = True) -> ReplayReport:
    """Run verification, transforms and flows again on stored events of ``listener``.

    :param store: the :class:`~webhook_kit.store.EventStore` holding the events.
    :param listener: the listener as it is now, or an edited copy (rules, settings).
    :param ids: one event id or several (in that order); default: every event
        of the listener with ``status`` (default: accepted and rejected), oldest first.
    :param settings: verification settings to use instead of the listener's.
    :param dry_run: save nothing, run no flow; report what would change.
    :param run_flows: run the flows of events accepted after replay.
    :param progress: called as ``progress(done, total)`` after each event.
    :param limit: at most this many events.
    :param verify: verify again (default); False keeps each stored status.
    """
    if isinstance(ids, str):
        ids = [ids]
    ids = list(ids) if ids is not None else None
    if status is None and ids is None:
        status = list(REPLAYABLE)
    total = _count(store, listener.id, ids, status, limit)
    results = []
    for done, event in enumerate(select(store, listener.id, ids=ids, status=status, limit=limit), 1):
        results.append(replay_event(event, listener, store, settings=settings, verify=verify,
                                    dry_run=dry_run, run_flows=run_flows))
        if progress is not None:
            try:
                progress(done, total)
            except Exception:  # a progress bar must not stop a replay
                log.exception("replay progress callback failed")
    return ReplayReport(results, dry_run)


# -- the CLI ------------------------------------------------------------------------

def replay_cli(args, store) -> int:
    """``webhook-kit replay CONFIG [--listener ID] [--status S] [--id ID]... [--limit N] [--dry-run] [--no-flows]``.

    Prints one line per event and a summary; closes ``store`` when done.
    """
    from .cli import CliError
    from .listener import load_config
    try:
        listeners = {l.id: l for l in load_config(args.config)}
        listener_id = args.listener
        if listener_id is None and args.ids:
            first = store.get(args.ids[0])
            if first is None:
                raise CliError(f"no event {args.ids[0]}")
            listener_id = first.listener
        if listener_id is None:
            if len(listeners) != 1:
                raise CliError(f"--listener is needed: {args.config} has "
                               f"{len(listeners)} listeners ({', '.join(listeners) or 'none'})", 2)
            listener_id = next(iter(listeners))
        listener = listeners.get(listener_id)
        if listener is None:
            raise CliError(f"no listener {listener_id!r} in {args.config} "
                           f"(have: {', '.join(listeners) or 'none'})", 2)
        if args.limit is not None and args.limit < 1:
            raise CliError("--limit must be at least 1", 2)
        show_progress = sys.stderr.isatty()

        def progress(done, total):
            if show_progress and (done % 50 == 0 or done == total):
                print(f"\rreplayed {done}/{total if total is not None else '?'}", end="",
                      file=sys.stderr, flush=True)

        try:
            report = replay(store, listener, ids=args.ids, status=args.status, dry_run=args.dry_run,
                            run_flows=not args.no_flows, progress=progress, limit=args.limit)
        except LookupError as exc:
            raise CliError(str(exc).strip("'\"")) from None
        if show_progress:
            print(file=sys.stderr)
        for result in report:
            print(result.line())
        print(report.summary())
        return 0
    finally:
        store.close()
