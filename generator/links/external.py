"""External links: checked concurrently and politely, and remembered, so reruns in CI do not hammer a host.

Each host gets a few requests at a time. HEAD first, since most servers answer it without a body; GET where a
server refuses HEAD. Timeouts, dropped connections and 5xx answers are retried with a growing pause, a 429's
Retry-After is honoured up to a few seconds, and redirects are followed and reported. Every wait is bounded: a
try, all tries at one URL, and the whole run each have a deadline, so a server that answers a byte at a time or
asks for a day's pause cannot hold a CI job. Good answers are kept in a cache file for a while; failures are
always asked again.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import itertools
import json
import math
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from generator import __version__
from generator.system.progress import ProgressSink

RETRY_STATUSES = {429, 500, 502, 503, 504}
#: Answers to HEAD after which GET is worth a try: servers that refuse or mishandle HEAD say one of these.
HEAD_REFUSED = {400, 403, 404, 405, 406, 501}


@dataclass(frozen=True)
class UrlResult:
    url: str
    ok: bool
    status: int | None = None
    final_url: str | None = None
    error: str = ""
    #: Neither good nor broken as far as we know (rate-limited, or not checked in time): a warning, never cached.
    unsure: bool = False

    @property
    def redirected(self) -> bool:
        return bool(self.final_url) and self.final_url != self.url


@dataclass
class ExternalOptions:
    per_host: int = 4
    concurrency: int = 32
    #: Seconds one try may take: the whole answer, not one read (a server can send a byte every few seconds).
    timeout: float = 10.0
    #: Seconds all tries at one URL may take, pauses included; by default three times `timeout`.
    url_deadline: float | None = None
    #: Seconds the whole check may take; URLs not answered by then are reported as not checked.
    budget: float = 300.0
    retries: int = 3
    backoff: float = 0.5
    #: The longest Retry-After honoured; a server that asks for more is reported as rate-limited, not waited for.
    max_retry_after: float = 5.0
    cache_file: Path | None = None
    cache_max_age: float = 24 * 3600.0

    @property
    def deadline(self) -> float:
        return self.url_deadline if self.url_deadline is not None else 3 * self.timeout


Warn = Callable[[str], None]
#: A cache file bigger than this is not read (it holds good URLs only; a real one is far smaller).
MAX_CACHE_BYTES = 64 * 2**20
#: How far in the future a cache entry's time may be, for clocks that differ a little between machines.
CLOCK_SKEW = 300.0


class UrlCache:
    """Good answers from earlier runs, by URL, with the time they were got.

    The file may come from anywhere a CI cache does, so it is checked: one that is not a JSON object of entries
    is set aside with a warning, and an entry with a malformed field or a time in the future (which would keep a
    dead link passing for ever) is dropped.
    """

    def __init__(self, path: Path | None, max_age: float, warn: Warn | None = None) -> None:
        self.path, self.max_age = path, max_age
        self.warn: Warn = warn or (lambda message: None)
        self.entries: dict[str, dict[str, object]] = self._load() if path else {}

    def _load(self) -> dict[str, dict[str, object]]:
        assert self.path is not None
        try:
            if not self.path.is_file():
                return {}
            if self.path.stat().st_size > MAX_CACHE_BYTES:
                raise ValueError(f"it is larger than {MAX_CACHE_BYTES:,} bytes")
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as err:  # RecursionError: JSON nested too deep
            return self._set_aside(str(getattr(err, "strerror", None) or err))
        if not isinstance(data, dict):
            return self._set_aside(f"it holds a JSON {type(data).__name__}, not an object of URLs")
        now = time.time()
        entries = {url: entry for url, entry in data.items() if _valid_entry(entry, now)}
        if len(entries) < len(data):
            dropped = len(data) - len(entries)
            entries_word = "entries" if dropped != 1 else "entry"
            self.warn(f"{self.path}: {dropped:,} cache {entries_word} malformed or dated in the future; checked again")
        return entries

    def _set_aside(self, reason: str) -> dict[str, dict[str, object]]:
        self.warn(f"{self.path}: not a cache of outside links ({reason}); starting a fresh one")
        return {}

    def get(self, url: str) -> UrlResult | None:
        entry = self.entries.get(url)
        if not entry or time.time() - entry["checked_at"] > self.max_age:  # type: ignore[operator]
            return None
        return UrlResult(url, True, entry.get("status"), entry.get("final_url"))  # type: ignore[arg-type]

    def put(self, result: UrlResult) -> None:
        if result.ok:
            self.entries[result.url] = {**asdict(result), "checked_at": time.time()}

    def save(self) -> None:
        """Writes the entries still young enough, all at once: an interrupted run leaves the old file whole."""
        if not self.path:
            return
        now = time.time()
        kept = {url: entry for url, entry in self.entries.items() if now - entry["checked_at"] <= self.max_age}  # type: ignore[operator]
        scratch = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, scratch = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(kept, file, indent=1, sort_keys=True)
            os.replace(scratch, self.path)
            scratch = None
        except OSError as err:
            self.warn(f"{self.path}: the cache of outside links could not be saved: {err.strerror or err}")
        finally:
            if scratch:  # not renamed: an error, or an interruption while writing
                with contextlib.suppress(OSError):
                    os.unlink(scratch)


def _valid_entry(entry: object, now: float) -> bool:
    if not isinstance(entry, dict):
        return False
    checked_at, status, final = entry.get("checked_at"), entry.get("status"), entry.get("final_url")
    return (
        isinstance(checked_at, int | float)
        and not isinstance(checked_at, bool)
        and math.isfinite(checked_at)
        and 0 <= checked_at <= now + CLOCK_SKEW
        and (status is None or (isinstance(status, int) and not isinstance(status, bool)))
        and (final is None or isinstance(final, str))
    )


def check_urls(
    urls: Iterable[str],
    options: ExternalOptions,
    progress: ProgressSink | None = None,
    warn: Warn | None = None,
) -> dict[str, UrlResult]:
    """Each distinct URL checked once (or taken from the cache); `warn` hears of a cache set aside."""
    cache = UrlCache(options.cache_file, options.cache_max_age, warn)
    results: dict[str, UrlResult] = {}
    pending = []
    for url in dict.fromkeys(urls):
        cached = cache.get(url)
        if cached:
            results[url] = cached
        else:
            pending.append(url)
    for result in asyncio.run(_check_all(pending, options, progress)):
        results[result.url] = result
        cache.put(result)
    cache.save()
    return results


async def _check_all(urls: list[str], options: ExternalOptions, progress: ProgressSink | None) -> list[UrlResult]:
    """Every URL's result; a few workers take the URLs in turn (not a task per URL: a page may hold a million)."""
    per_host: dict[str, asyncio.Semaphore] = {}
    results: dict[str, UrlResult] = {}
    headers = {"User-Agent": f"partner-playbook-linkcheck/{__version__}"}
    limits = httpx.Limits(max_connections=options.concurrency, max_keepalive_connections=options.concurrency)
    turns = iter(_by_turns(urls))
    finished = itertools.count(1)
    async with httpx.AsyncClient(
        follow_redirects=True, timeout=options.timeout, headers=headers, limits=limits
    ) as client:

        async def worker() -> None:
            for url, host in turns:  # one iterator shared by all workers, on one thread
                async with per_host.setdefault(host, asyncio.Semaphore(options.per_host)):
                    results[url] = await _check(client, url, options)
                if progress is not None:
                    progress("checking outside links", next(finished), len(urls))

        workers = [asyncio.create_task(worker()) for _ in range(min(options.concurrency, len(urls)))]
        if workers:
            await asyncio.wait(workers, timeout=options.budget)
            for task in workers:
                task.cancel()  # those still at work when the budget ran out
            await asyncio.gather(*workers, return_exceptions=True)
    late = f"not checked: the {options.budget:g} s for all outside links were used up"
    return [results.get(url) or UrlResult(url, False, error=late, unsure=True) for url in urls]


def _by_turns(urls: list[str]) -> list[tuple[str, str]]:
    """The URLs with their hosts, each host in turn, so the workers are not all queued behind one busy host."""
    by_host: dict[str, list[str]] = {}
    for url in urls:
        by_host.setdefault(_host(url), []).append(url)
    rounds = itertools.zip_longest(*(zip(queue, itertools.repeat(host)) for host, queue in by_host.items()))
    return [turn for round_ in rounds for turn in round_ if turn is not None]


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:  # `http://[nonsense`: the request itself says what is wrong with it
        return ""


async def _check(client: httpx.AsyncClient, url: str, options: ExternalOptions) -> UrlResult:
    """All tries at one URL, within its deadline; the last answer, or why there was none."""
    last = UrlResult(url, False, error=f"no answer within {options.deadline:g} s")
    try:
        async with asyncio.timeout(options.deadline):
            for attempt in range(options.retries + 1):
                last, pause = await _attempt(client, url, options)
                if last.ok or pause is None or attempt == options.retries:
                    break
                await asyncio.sleep(pause if pause > 0 else options.backoff * 2**attempt)
    except TimeoutError:
        pass  # the last answer (a 503, a timed-out try) says more than "out of time"
    if last.status == 429 and not last.unsure:  # a rate limit says nothing of the link
        return UrlResult(url, False, 429, error="rate-limited (HTTP 429)", unsure=True)
    return last


async def _attempt(client: httpx.AsyncClient, url: str, options: ExternalOptions) -> tuple[UrlResult, float | None]:
    """One try: the result, and how long to wait before the next (0 = back off, None = do not retry)."""
    try:
        async with asyncio.timeout(options.timeout):
            response = await client.head(url)
            if response.status_code in HEAD_REFUSED:
                async with client.stream("GET", url) as streamed:  # the body is never read
                    response = streamed
    except (TimeoutError, httpx.TimeoutException):
        return UrlResult(url, False, error=f"no answer within {options.timeout:g} s"), 0
    except httpx.TooManyRedirects:
        return UrlResult(url, False, error="a redirect loop (or a chain of more than 20 redirects)"), None
    except httpx.TransportError as err:
        return UrlResult(url, False, error=f"connection failed: {type(err).__name__}"), 0
    except (httpx.InvalidURL, httpx.RequestError, ValueError) as err:  # ValueError: a host name IDNA refuses
        return UrlResult(url, False, error=f"not a valid URL: {err}"), None
    status, final = response.status_code, str(response.url)
    result = UrlResult(url, status < 400, status, final if final != url else None)
    if status == 429:
        pause = _retry_after(response.headers.get("Retry-After"))
        if pause > options.max_retry_after:
            return UrlResult(url, False, 429, error=f"rate-limited: asked to wait {pause:,.0f} s", unsure=True), None
        return result, pause
    return result, (0 if status in RETRY_STATUSES else None)


def _retry_after(header: str | None) -> float:
    """Seconds to wait by a Retry-After header (seconds, or an HTTP date); 0 = back off as usual."""
    if not header:
        return 0
    if re.fullmatch(r"\s*[0-9]+\s*", header):
        return float(header)  # infinity for an absurdly long number, which is above any cap
    try:
        when = email.utils.parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError, OverflowError):
        return 0
    return max(0.0, when - time.time())
