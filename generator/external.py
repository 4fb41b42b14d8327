"""External links: checked concurrently and politely, and remembered, so reruns in CI do not hammer a host.

Each host gets a few requests at a time. HEAD first, since most servers answer it without a body; GET where a
server refuses HEAD. Timeouts, dropped connections and 5xx answers are retried with a growing pause, a 429's
Retry-After is honoured, and redirects are followed and reported. Good answers are kept in a cache file for a
while; failures are always asked again.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from generator import __version__
from generator.progress import ProgressSink

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

    @property
    def redirected(self) -> bool:
        return bool(self.final_url) and self.final_url != self.url


@dataclass
class ExternalOptions:
    per_host: int = 4
    concurrency: int = 32
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    max_retry_after: float = 60.0
    cache_file: Path | None = None
    cache_max_age: float = 24 * 3600.0


class UrlCache:
    """Good answers from earlier runs, by URL, with the time they were got."""

    def __init__(self, path: Path | None, max_age: float) -> None:
        self.path, self.max_age = path, max_age
        self.entries: dict[str, dict[str, object]] = {}
        if path and path.is_file():
            try:
                self.entries = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}  # an unreadable cache is only a slower run

    def get(self, url: str) -> UrlResult | None:
        entry = self.entries.get(url)
        if not entry or time.time() - float(entry.get("checked_at", 0)) > self.max_age:  # type: ignore[arg-type]
            return None
        return UrlResult(url, True, entry.get("status"), entry.get("final_url"))  # type: ignore[arg-type]

    def put(self, result: UrlResult) -> None:
        if result.ok:
            self.entries[result.url] = {**asdict(result), "checked_at": time.time()}

    def save(self) -> None:
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.entries, indent=1, sort_keys=True), encoding="utf-8")


def check_urls(
    urls: Iterable[str], options: ExternalOptions, progress: ProgressSink | None = None
) -> dict[str, UrlResult]:
    """Each distinct URL checked once (or taken from the cache)."""
    cache = UrlCache(options.cache_file, options.cache_max_age)
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
    overall = asyncio.Semaphore(options.concurrency)
    per_host: dict[str, asyncio.Semaphore] = {}
    headers = {"User-Agent": f"partner-playbook-linkcheck/{__version__}"}
    limits = httpx.Limits(max_connections=options.concurrency, max_keepalive_connections=options.concurrency)
    async with httpx.AsyncClient(
        follow_redirects=True, timeout=options.timeout, headers=headers, limits=limits
    ) as client:

        async def one(url: str) -> UrlResult:
            host = urlsplit(url).netloc.lower()
            gate = per_host.setdefault(host, asyncio.Semaphore(options.per_host))
            async with overall, gate:
                result = await _check(client, url, options)
            if progress is not None:
                progress("checking outside links", next(finished), len(urls))
            return result

        finished = itertools.count(1)
        return list(await asyncio.gather(*(one(url) for url in urls)))


async def _check(client: httpx.AsyncClient, url: str, options: ExternalOptions) -> UrlResult:
    last = UrlResult(url, False, error="not checked")
    for attempt in range(options.retries + 1):
        last, pause = await _attempt(client, url, options)
        if last.ok or pause is None or attempt == options.retries:
            return last
        await asyncio.sleep(pause if pause > 0 else options.backoff * 2**attempt)
    return last


async def _attempt(client: httpx.AsyncClient, url: str, options: ExternalOptions) -> tuple[UrlResult, float | None]:
    """One try: the result, and how long to wait before the next (0 = back off, None = do not retry)."""
    try:
        response = await client.head(url)
        if response.status_code in HEAD_REFUSED:
            async with client.stream("GET", url) as streamed:  # the body is never read
                response = streamed
    except httpx.TimeoutException:
        return UrlResult(url, False, error=f"no answer within {options.timeout:g} s"), 0
    except httpx.TransportError as err:
        return UrlResult(url, False, error=f"connection failed: {type(err).__name__}"), 0
    except httpx.InvalidURL as err:
        return UrlResult(url, False, error=f"not a valid URL: {err}"), None
    status, final = response.status_code, str(response.url)
    result = UrlResult(url, status < 400, status, final if final != url else None)
    if status == 429:
        return result, _retry_after(response.headers.get("Retry-After"), options.max_retry_after)
    return result, (0 if status in RETRY_STATUSES else None)


def _retry_after(header: str | None, cap: float) -> float:
    """Seconds to wait by a Retry-After header (seconds, or an HTTP date), within `cap`; 0 = back off as usual."""
    if not header:
        return 0
    if header.strip().isdigit():
        return min(float(header), cap)
    try:
        when = email.utils.parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return 0
    return max(0.0, min(when - time.time(), cap))
