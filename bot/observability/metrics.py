"""A small metrics registry rendered in the Prometheus text format (version 0.0.4).

Written here rather than taken from ``prometheus_client``: Loket needs counters, one kind of
histogram and gauges read at scrape time, and a registry object that is created with the
running bot and passed explicitly (``prometheus_client`` keeps a process-wide default one).
Every update and agency call touches a counter, so recording is a dict lookup and an add.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Sequence

Labels = tuple[tuple[str, str], ...]
# Seconds. From a cached answer (a few ms) to an agency at its timeout (5-10 s).
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
logger = logging.getLogger(__name__)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: Labels = ()) -> str:
    pairs = (*labels, *extra)
    if not pairs:
        return ""
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in pairs) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.labelnames = tuple(labelnames)

    def _key(self, labels: dict[str, str]) -> Labels:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {sorted(labels)}")
        return tuple((name, str(labels[name])) for name in self.labelnames)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]

    def samples(self) -> Iterable[str]:
        raise NotImplementedError


class Counter(_Metric):
    """Only goes up (since the process started); Prometheus' rate() does the rest."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labelnames)
        self._values: dict[Labels, float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = self._key(labels)
        self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self._values.get(self._key(labels), 0.0)

    def samples(self) -> Iterable[str]:
        for key, value in sorted(self._values.items()):
            yield f"{self.name}{_labels(key)} {_number(value)}"


class Histogram(_Metric):
    """Cumulative buckets, sum and count, as Prometheus expects them."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        help_text: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        super().__init__(name, help_text, labelnames)
        self.buckets = tuple(sorted(buckets))
        # Per label set: counts per bucket (non-cumulative, +Inf last), sum.
        self._counts: dict[Labels, list[int]] = {}
        self._sums: dict[Labels, float] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        counts = self._counts.get(key)
        if counts is None:
            counts = self._counts[key] = [0] * (len(self.buckets) + 1)
            self._sums[key] = 0.0
        counts[bisect.bisect_left(self.buckets, value)] += 1
        self._sums[key] += value

    def count(self, **labels: str) -> int:
        return sum(self._counts.get(self._key(labels), ()))

    def samples(self) -> Iterable[str]:
        for key in sorted(self._counts):
            running = 0
            for bound, count in zip((*self.buckets, math.inf), self._counts[key], strict=True):
                running += count
                le = (("le", _number(bound)),)
                yield f"{self.name}_bucket{_labels(key, le)} {running}"
            yield f"{self.name}_sum{_labels(key)} {_number(self._sums[key])}"
            yield f"{self.name}_count{_labels(key)} {running}"


GaugeReader = Callable[[], Awaitable[Iterable[tuple[dict[str, str], float]]]]


class Gauge(_Metric):
    """A value read when scraped (``reader`` returns (labels, value) pairs), e.g. the depth of
    the broadcast queue, which lives in the database and is shared by every worker."""

    kind = "gauge"

    def __init__(
        self, name: str, help_text: str, reader: GaugeReader, labelnames: Sequence[str] = ()
    ) -> None:
        super().__init__(name, help_text, labelnames)
        self._reader = reader
        self._read: list[tuple[Labels, float]] = []

    async def refresh(self) -> None:
        self._read = [(self._key(labels), value) for labels, value in await self._reader()]

    def samples(self) -> Iterable[str]:
        for key, value in self._read:
            yield f"{self.name}{_labels(key)} {_number(value)}"


class Registry:
    """The metrics of one running Loket, in registration order."""

    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}

    def _add(self, metric: _Metric) -> None:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} registered twice")
        self._metrics[metric.name] = metric

    def counter(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> Counter:
        metric = Counter(name, help_text, labelnames)
        self._add(metric)
        return metric

    def histogram(
        self,
        name: str,
        help_text: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> Histogram:
        metric = Histogram(name, help_text, labelnames, buckets)
        self._add(metric)
        return metric

    def gauge(
        self, name: str, help_text: str, reader: GaugeReader, labelnames: Sequence[str] = ()
    ) -> Gauge:
        metric = Gauge(name, help_text, reader, labelnames)
        self._add(metric)
        return metric

    async def render(self) -> str:
        """The exposition text; gauges are read first (a failed read leaves them out)."""
        lines: list[str] = []
        for metric in self._metrics.values():
            if isinstance(metric, Gauge):
                try:
                    await metric.refresh()
                except Exception as error:  # database down: /healthz says so; counters stay
                    logger.warning("metric %s not read: %s", metric.name, type(error).__name__)
                    lines.append(f"# {metric.name} could not be read")
                    continue
            lines.extend(metric.header())
            lines.extend(metric.samples())
        return "\n".join(lines) + "\n"
