"""The webhook dispatcher: from the transactional outbox to signed POSTs, at least once.

Two steps, each safe with any number of dispatchers running at once (in every API worker,
in `briefboard worker` processes, or both):

1. Fan-out: claim undispatched `outbox_events` (`FOR UPDATE SKIP LOCKED`), add one
   `webhook_deliveries` row per enabled subscription the event reaches (the audience rule
   of `api.services.audience`, and the subscription's event types), mark them dispatched.
2. Delivery: claim due deliveries (`FOR UPDATE SKIP LOCKED`) and, in the same short
   transaction, push their `next_attempt_at` past a lease, so no other dispatcher takes the
   same attempt; then POST outside any transaction, and record the outcome. A dispatcher
   that dies mid-attempt leaves the delivery due again when the lease ends.

Retries back off exponentially with jitter for about three days (`retry_delay`); 410 Gone
disables the subscription; a subscription failing for 5 days straight is disabled too, and
its owner gets a `webhook.disabled` event. Time comes from an injectable clock.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from prometheus_client import Counter, Gauge
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.models.base import utcnow
from api.models.events import event_body
from api.models.webhooks import EXCERPT_BYTES, DisabledReason, WebhookRead, WebhookSubscription
from api.services import events, webhook_signing
from api.services.audience import reaches
from api.services.webhook_targets import Resolver, TargetRefused, resolve_target, system_resolver
from api.services.webhooks import RETRY_WINDOW, signing_secrets
from api.settings import Settings

log = logging.getLogger("briefboard.webhooks")

RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=12)
JITTER = 0.2
FAILING_DISABLES_AFTER = timedelta(days=5)
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "Briefboard-Webhooks/1.0"

ATTEMPTS = Counter(
    "briefboard_webhook_attempts_total",
    "Webhook delivery attempts by outcome",
    ["outcome"],
)
DELIVERIES = Counter(
    "briefboard_webhook_deliveries_total",
    "Webhook deliveries finished, by final status",
    ["status"],
)
OLDEST_UNDELIVERED = Gauge(
    "briefboard_webhook_oldest_undelivered_seconds",
    "Age of the oldest event not yet delivered (fanned out or not)",
    multiprocess_mode="livemax",
)


def retry_delay(attempts: int, rng: random.Random) -> timedelta:
    """Wait after the `attempts`-th failed attempt: 30 s doubling up to 12 h, ±20 % jitter.

    With the three-day window that is about 16 attempts: 30 s, 1, 2, 4, 8, 16, 32 min,
    1 h 4, 2 h 8, 4 h 16, 8 h 32, then every 12 h.
    """
    nominal = min(RETRY_BASE * 2 ** min(attempts - 1, 20), RETRY_CAP)
    delay: timedelta = nominal * rng.uniform(1 - JITTER, 1 + JITTER)
    return delay


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: Any
    subscription_id: Any
    attempt: int
    url: str
    secrets: list[str]
    event_id: Any
    body: bytes
    event_type: str


@dataclass(slots=True)
class Outcome:
    status_code: int | None = None
    error: str | None = None
    excerpt: str | None = None
    duration_ms: int = 0

    @property
    def label(self) -> str:
        if self.status_code is None:
            return self.error or "error"
        if 200 <= self.status_code < 300:
            return "delivered"
        return "gone" if self.status_code == 410 else "http_error"


_FAN_OUT = """
    WITH claimed AS (
        SELECT id FROM outbox_events WHERE dispatched_at IS NULL
        ORDER BY occurred_at LIMIT :limit FOR UPDATE SKIP LOCKED
    ), owed AS (
        INSERT INTO webhook_deliveries
            (id, subscription_id, event_id, status, attempt_count, next_attempt_at,
             give_up_at, created_at)
        SELECT gen_random_uuid(), webhook_subscriptions.id, outbox_events.id, 'pending', 0,
            :now, :give_up, :now
        FROM claimed
        JOIN outbox_events ON outbox_events.id = claimed.id
        JOIN webhook_subscriptions ON webhook_subscriptions.enabled AND ({reaches})
            AND outbox_events.occurred_at >= webhook_subscriptions.created_at
            AND (cardinality(webhook_subscriptions.event_types) = 0
                 OR outbox_events.type = ANY(webhook_subscriptions.event_types)
                 OR split_part(outbox_events.type, '.', 1) || '.*'
                    = ANY(webhook_subscriptions.event_types))
        ON CONFLICT (subscription_id, event_id) DO NOTHING
    )
    UPDATE outbox_events SET dispatched_at = :now FROM claimed
    WHERE outbox_events.id = claimed.id
    """

_CLAIM = text(
    """
    WITH due AS (
        SELECT d.id FROM webhook_deliveries d
        JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.enabled
        WHERE d.status = 'pending' AND d.next_attempt_at <= :now
        ORDER BY d.next_attempt_at LIMIT :limit
        FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE webhook_deliveries d
    SET next_attempt_at = :lease_until, attempt_count = d.attempt_count + 1
    FROM due, webhook_subscriptions s, outbox_events e
    WHERE d.id = due.id AND s.id = d.subscription_id AND e.id = d.event_id
    RETURNING d.id, d.subscription_id, d.attempt_count, s.url, s.secret_encrypted,
        s.previous_secret_encrypted, s.previous_secret_expires_at,
        e.id AS event_id, e.type, e.occurred_at, e.payload
    """
)

_DELIVERED = text(
    "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = :now,"
    " next_attempt_at = NULL WHERE id = ANY(:ids)"
)
# Subscription rows are locked in id order by every dispatcher: no deadlocks between them.
_RECOVERED = text(
    "UPDATE webhook_subscriptions SET failing_since = NULL WHERE id IN (SELECT id FROM"
    " webhook_subscriptions WHERE id = ANY(:ids) ORDER BY id FOR UPDATE)"
    " AND failing_since IS NOT NULL"
)
# Past its give-up time a delivery fails; otherwise its next attempt is due at `next`.
_RETRY = text(
    """
    UPDATE webhook_deliveries d SET
        status = CASE WHEN v.next > d.give_up_at THEN 'failed' ELSE d.status END,
        next_attempt_at = CASE WHEN v.next > d.give_up_at THEN NULL ELSE v.next END
    FROM unnest(CAST(:ids AS uuid[]), CAST(:next AS timestamptz[])) AS v(id, next)
    WHERE d.id = v.id
    RETURNING d.id, d.status
    """
)
_FAILING = text(
    "UPDATE webhook_subscriptions SET failing_since = coalesce(failing_since, :now)"
    " WHERE id IN (SELECT id FROM webhook_subscriptions WHERE id = ANY(:ids) ORDER BY id"
    " FOR UPDATE) RETURNING id, failing_since"
)

_OLDEST = text(
    """
    SELECT least(
        (SELECT min(occurred_at) FROM outbox_events WHERE dispatched_at IS NULL),
        (SELECT min(e.occurred_at) FROM webhook_deliveries d
         JOIN outbox_events e ON e.id = d.event_id
         JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.enabled
         WHERE d.status = 'pending')
    )
    """
)


def _fan_out_sql() -> Any:
    # The audience rule, compiled from its one home into this statement.
    s = WebhookSubscription.__table__.c  # type: ignore[attr-defined]
    condition = reaches(s.brand_id, s.creator_id).compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
    return text(_FAN_OUT.replace("{reaches}", str(condition)))


@dataclass
class Dispatcher:
    """Fan-out and delivery; `clock`, `resolver` and `rng` are injectable for tests."""

    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    resolver: Resolver = system_resolver
    rng: random.Random = field(default_factory=random.Random)
    client: httpx.AsyncClient | None = None
    _fan_out: Any = field(default_factory=_fan_out_sql)

    @property
    def batch(self) -> int:
        return self.settings.webhooks_dispatch_batch

    async def fan_out(self) -> int:
        """Turn up to one batch of new events into deliveries; returns the events taken."""
        now = self.clock()
        async with self.sessionmaker.begin() as session:
            result = await session.execute(
                self._fan_out, {"limit": self.batch, "now": now, "give_up": now + RETRY_WINDOW}
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def claim(self, limit: int | None = None) -> list[Claimed]:
        """Due deliveries (up to `limit`), leased to this dispatcher for one attempt each."""
        now = self.clock()
        lease = timedelta(seconds=self.settings.webhooks_timeout_seconds + 60)
        async with self.sessionmaker.begin() as session:
            rows = (
                await session.execute(
                    _CLAIM, {"now": now, "limit": limit or self.batch, "lease_until": now + lease}
                )
            ).all()
        out = []
        for row in rows:
            body = event_body(row.event_id, row.type, row.occurred_at, row.payload)
            out.append(
                Claimed(
                    delivery_id=row.id,
                    subscription_id=row.subscription_id,
                    attempt=row.attempt_count,
                    url=row.url,
                    secrets=signing_secrets(
                        self.settings,
                        row.secret_encrypted,
                        row.previous_secret_encrypted,
                        row.previous_secret_expires_at,
                        now,
                    ),
                    event_id=row.event_id,
                    body=body.model_dump_json().encode(),
                    event_type=row.type,
                )
            )
        return out

    async def run_once(self) -> int:
        """Fan out new events and make every due attempt, until none is left; returns the
        attempts made.

        Up to `webhooks_dispatch_concurrency` POSTs are in flight; a slot that frees is
        refilled at once, so a slow receiver holds one slot, not a batch. Outcomes are
        recorded by one task, many per transaction (one commit for a burst, not one each).
        """
        made = 0
        limit = self.settings.webhooks_dispatch_concurrency
        in_flight: set[asyncio.Task[None]] = set()
        # Refill when half the slots are free: a claim per few attempts, not one each.
        refill = max(1, limit // 2)
        async with self._http() as client, _Recorder(self) as recorder:
            drained = True
            while True:
                if drained:
                    while await self.fan_out() >= self.batch:
                        pass
                room = limit - len(in_flight)
                claimed = await self.claim(min(room, self.batch)) if room >= refill else []
                for item in claimed:
                    in_flight.add(asyncio.create_task(self._attempt(client, item, recorder)))
                made += len(claimed)
                if not in_flight:
                    break
                # Fewer due than asked for: fan out again before the next claim.
                drained = room >= refill and len(claimed) < min(room, self.batch)
                while in_flight and limit - len(in_flight) < refill:
                    _, in_flight = await asyncio.wait(
                        in_flight, return_when=asyncio.FIRST_COMPLETED
                    )
                if drained and in_flight:
                    # Nothing more due now: look again when a slot frees or a moment passes.
                    _, in_flight = await asyncio.wait(
                        in_flight, timeout=0.5, return_when=asyncio.FIRST_COMPLETED
                    )
        await self.measure()
        return made

    def _http(self) -> Any:
        if self.client is not None:
            return _Borrowed(self.client)
        return httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(self.settings.webhooks_timeout_seconds),
            trust_env=False,
            limits=httpx.Limits(max_connections=self.settings.webhooks_dispatch_concurrency),
        )

    async def _attempt(self, client: httpx.AsyncClient, item: Claimed, recorder: _Recorder) -> None:
        started = time.perf_counter()
        outcome = await self._post(client, item)
        outcome.duration_ms = int((time.perf_counter() - started) * 1000)
        recorder.put(item, outcome)

    async def _post(self, client: httpx.AsyncClient, item: Claimed) -> Outcome:
        try:
            target = await resolve_target(
                item.url,
                allow_private=self.settings.webhooks_allow_private_targets,
                resolver=self.resolver,
            )
        except TargetRefused as exc:
            return Outcome(error=f"refused_{exc.reason}")
        timestamp = int(self.clock().timestamp())
        msg_id = str(item.event_id)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": webhook_signing.signature_header(
                item.secrets, msg_id, timestamp, item.body
            ),
        }
        # Connect to the address just checked, never resolving the name again; the Host
        # header and TLS (SNI and certificate check) still use the name.
        url = httpx.URL(item.url)
        headers["host"] = url.netloc.decode()
        request = client.build_request(
            "POST",
            url.copy_with(host=target.address),
            headers=headers,
            content=item.body,
            extensions={"sni_hostname": target.host} if url.scheme == "https" else {},
        )
        try:
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                excerpt = await _read_capped(response)
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            return Outcome(error="timeout")
        except httpx.HTTPError:
            return Outcome(error="connection_error")
        return Outcome(status_code=response.status_code, excerpt=excerpt)

    async def record(self, outcomes: list[tuple[Claimed, Outcome]]) -> None:
        """Record a burst of attempts and their consequences in one transaction, a few
        set-based statements whatever its size."""
        now = self.clock()
        delivered = [(i, o) for i, o in outcomes if o.label == "delivered"]
        gone = [(i, o) for i, o in outcomes if o.label == "gone"]
        failed = [(i, o) for i, o in outcomes if o.label not in ("delivered", "gone")]
        finals: dict[Any, str] = {}
        async with self.sessionmaker.begin() as session:
            connection = await session.connection()
            raw = (await connection.get_raw_connection()).driver_connection
            assert raw is not None
            # A delivery deleted meanwhile (its subscription was) gets no attempt row.
            await raw.executemany(
                "INSERT INTO webhook_attempts (id, delivery_id, attempted_at, status_code,"
                " error, duration_ms, response_excerpt) SELECT gen_random_uuid(), $1, $2, $3,"
                " $4, $5, $6 WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = $1)",
                [
                    (i.delivery_id, now, o.status_code, o.error, o.duration_ms, o.excerpt)
                    for i, o in outcomes
                ],
            )
            if delivered:
                await session.execute(
                    _DELIVERED, {"ids": [i.delivery_id for i, _ in delivered], "now": now}
                )
                await session.execute(
                    _RECOVERED, {"ids": sorted({i.subscription_id for i, _ in delivered})}
                )
                finals.update((i.delivery_id, "delivered") for i, _ in delivered)
            if failed:
                rows = await session.execute(
                    _RETRY,
                    {
                        "ids": [i.delivery_id for i, _ in failed],
                        "next": [now + retry_delay(i.attempt, self.rng) for i, _ in failed],
                    },
                )
                finals.update((row.id, "failed") for row in rows if row.status == "failed")
                failing = await session.execute(
                    _FAILING,
                    {"ids": sorted({i.subscription_id for i, _ in failed}), "now": now},
                )
                for row in failing:
                    if now - row.failing_since >= FAILING_DISABLES_AFTER:
                        await self._disable(session, row.id, DisabledReason.failing, now)
            for item, _ in gone:
                finals[item.delivery_id] = "failed"
                await self._finish_failed(session, item)
                await self._disable(session, item.subscription_id, DisabledReason.gone, now)
        for item, outcome in outcomes:
            self._report(item, outcome, finals.get(item.delivery_id))

    def _report(self, item: Claimed, outcome: Outcome, final: str | None) -> None:
        label = outcome.label
        ATTEMPTS.labels(outcome=label).inc()
        if final:
            DELIVERIES.labels(status=final).inc()
        # One line per attempt: never the URL's path or query, the body or a secret.
        log.info(
            "webhook attempt",
            extra={
                "webhook_id": str(item.subscription_id),
                "delivery_id": str(item.delivery_id),
                "event_id": str(item.event_id),
                "event_type": item.event_type,
                "attempt": item.attempt,
                "outcome": label,
                "status_code": outcome.status_code,
                "duration_ms": outcome.duration_ms,
                "target_host": httpx.URL(item.url).host,
            },
        )

    async def _finish_failed(self, session: AsyncSession, item: Claimed) -> None:
        await session.execute(
            text(
                "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL"
                " WHERE id = :id"
            ),
            {"id": item.delivery_id},
        )

    async def _disable(
        self, session: AsyncSession, subscription_id: Any, reason: DisabledReason, now: datetime
    ) -> None:
        """Disable a subscription once (if still enabled) and tell its owner."""
        subscription = await session.get(WebhookSubscription, subscription_id, with_for_update=True)
        if subscription is None or not subscription.enabled:
            return
        subscription.enabled = False
        subscription.disabled_reason = reason
        subscription.updated_at = now
        session.add(subscription)
        await session.flush()
        await events.record(
            session,
            "webhook.disabled",
            WebhookRead.model_validate(subscription),
            brand_id=subscription.brand_id,
            creator_id=subscription.creator_id,
        )
        log.warning(
            "webhook disabled",
            extra={"webhook_id": str(subscription_id), "reason": str(reason)},
        )

    async def measure(self) -> float:
        """Set the oldest-undelivered gauge; returns the age in seconds (0: none)."""
        async with self.sessionmaker() as session:
            oldest = await session.scalar(_OLDEST)
        age = max(0.0, (self.clock() - oldest).total_seconds()) if oldest else 0.0
        OLDEST_UNDELIVERED.set(age)
        return age


class _Recorder:
    """One task recording attempt outcomes as they come, as many per transaction as have
    queued up meanwhile."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.queue: asyncio.Queue[tuple[Claimed, Outcome] | None] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _Recorder:
        self.task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *_: object) -> None:
        self.queue.put_nowait(None)
        assert self.task is not None
        await self.task

    def put(self, item: Claimed, outcome: Outcome) -> None:
        self.queue.put_nowait((item, outcome))

    async def _run(self) -> None:
        finished = False
        while not finished:
            first = await self.queue.get()
            if first is None:
                return
            batch = [first]
            while not self.queue.empty():
                more = self.queue.get_nowait()
                if more is None:
                    finished = True
                    break
                batch.append(more)
            await self.dispatcher.record(batch)


class _Borrowed:
    """A client the caller owns: used, not closed."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __aenter__(self) -> httpx.AsyncClient:
        return self.client

    async def __aexit__(self, *_: object) -> None:
        return None


async def _read_capped(response: httpx.Response) -> str:
    """Read at most 64 KB of the body (a huge or endless answer costs nothing more); keep
    the first 1 KB as text for the owner to see."""
    read = bytearray()
    async for chunk in response.aiter_raw():
        read.extend(chunk[: MAX_RESPONSE_BYTES - len(read)])
        if len(read) >= MAX_RESPONSE_BYTES:
            break
    return bytes(read[:EXCERPT_BYTES]).decode("utf-8", errors="replace")


async def run_forever(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """Background task: dispatch, then wait `webhooks_dispatch_interval_seconds` when idle.
    Failures are logged and retried; only cancellation stops it."""
    dispatcher = Dispatcher(sessionmaker, settings)
    # One HTTP client for the dispatcher's life: a client per round built a TLS context
    # (reading the CA bundle) every second in every worker, idle or not.
    async with dispatcher._http() as client:
        dispatcher.client = client
        while True:
            try:
                made = await dispatcher.run_once()
            except Exception:
                log.warning("webhook dispatch failed; retrying", exc_info=True)
                made = 0
            if not made:
                await asyncio.sleep(settings.webhooks_dispatch_interval_seconds)


async def work(database_url: str, settings: Settings) -> None:
    """`briefboard worker`: a process that only dispatches webhooks, with its own pool."""
    from api.db import create_engine, create_sessionmaker

    engine = create_engine(database_url, settings)
    interval = settings.webhooks_dispatch_interval_seconds or 1.0
    try:
        await run_forever(
            create_sessionmaker(engine),
            settings.model_copy(update={"webhooks_dispatch_interval_seconds": interval}),
        )
    finally:
        await engine.dispose()
