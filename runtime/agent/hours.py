"""Business hours: is the business open now, when does it open next, and the pt-BR text for leads.

Conventions (pure functions, no database):

- `BusinessHours.week` maps 0 = Monday ... 6 = Sunday to a list of ranges; a day that is missing or
  has an empty list is closed. When NO day has any range, nothing is configured: the business is
  treated as always open (`is_open` is True, `next_opening` returns `at`) and `describe` returns "".
  An agent must never tell leads "we are closed" just because the owner skipped the hours form.
- A range whose close is not after its open runs overnight ("22:00"-"02:00" closes at 2h the next
  day); open == close means 24 hours from the open time; "24:00" as a close means midnight.
- A range belongs to the day it opens on. A closed date (YYYY-MM-DD, or MM-DD for a holiday every
  year) cancels the ranges that OPEN on that date; the tail of the previous night's overnight range
  still counts.
- Times are compared in the hours' timezone (an unknown timezone falls back to America/Sao_Paulo);
  a naive `at` is taken as UTC, the way the rest of the project stores timestamps.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .settings import BusinessHours

DEFAULT_TIMEZONE = "America/Sao_Paulo"
DAY_NAMES = ("segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo")
# How far ahead next_opening looks (closed dates can chain; past a year it's "not open at all").
_HORIZON_DAYS = 400


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The hours' timezone; an unknown or empty name falls back to America/Sao_Paulo."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def _minutes(hhmm: str) -> int | None:
    """'08:30' -> 510; '24:00' -> 1440; anything invalid -> None."""
    try:
        h, m = (int(x) for x in hhmm.split(":"))
    except ValueError:
        return None
    if not (0 <= m < 60 and (0 <= h < 24 or (h == 24 and m == 0))):
        return None
    return h * 60 + m


def minutes_of(hhmm: str) -> int | None:
    """A time of day as these rules read it ('08:30' -> 510, '24:00' -> 1440), None when invalid."""
    return _minutes(hhmm)


def _day_ranges(hours: BusinessHours, weekday: int) -> list[tuple[int, int]]:
    """The valid (open, close) ranges of a weekday in minutes from midnight, sorted by open."""
    out: list[tuple[int, int]] = []
    for r in hours.week.get(weekday) or []:
        o, c = _minutes(r.open), _minutes(r.close)
        if o is None or c is None or o == 1440:
            continue
        out.append((o, c))
    return sorted(out)


def is_configured(hours: BusinessHours) -> bool:
    """Whether the owner set any opening range at all (otherwise: always open)."""
    return any(_day_ranges(hours, d) for d in range(7))


def _closed_dates(hours: BusinessHours) -> tuple[set[date], set[tuple[int, int]]]:
    exact: set[date] = set()
    yearly: set[tuple[int, int]] = set()
    for raw in hours.closed_dates:
        s = raw.strip()
        try:
            if len(s) == 5:  # MM-DD: every year
                d = date(2000, int(s[:2]), int(s[3:]))  # 2000 is a leap year: 02-29 is valid
                yearly.add((d.month, d.day))
            else:
                exact.add(date.fromisoformat(s))
        except ValueError:
            continue
    return exact, yearly


def is_closed_date(hours: BusinessHours, day: date) -> bool:
    """Whether `day` is one of the closed dates (holidays), exact or yearly."""
    exact, yearly = _closed_dates(hours)
    return day in exact or (day.month, day.day) in yearly


def local_time(hours: BusinessHours, at: datetime) -> datetime:
    """`at` in the hours' timezone (naive = UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(zone(hours.timezone))


def _intervals(hours: BusinessHours, first: date, days: int) -> Iterator[tuple[datetime, datetime]]:
    """(start, end) aware datetimes, in order of start, for the ranges opening on first .. first+days-1."""
    tz = zone(hours.timezone)
    exact, yearly = _closed_dates(hours)
    for i in range(days):
        d = first + timedelta(days=i)
        if d in exact or (d.month, d.day) in yearly:
            continue
        for o, c in _day_ranges(hours, d.weekday()):
            start = datetime.combine(d, time(o // 60, o % 60), tz)
            if c == 1440:  # "24:00": midnight
                end_day, end_min = d + timedelta(days=1), 0
            elif c > o:
                end_day, end_min = d, c
            else:  # overnight, or open == close: 24 hours
                end_day, end_min = d + timedelta(days=1), c
            end = datetime.combine(end_day, time(end_min // 60, end_min % 60), tz)
            yield start, end


def _utc(dt: datetime) -> datetime:
    # Aware datetimes sharing a tzinfo compare by wall clock: compare in UTC so DST changes don't lie.
    return dt.astimezone(UTC)


def is_open(hours: BusinessHours, at: datetime) -> bool:
    """Whether the business is open at `at` (always True when no hours are configured)."""
    if not is_configured(hours):
        return True
    local = local_time(hours, at)
    now = _utc(local)
    return any(_utc(s) <= now < _utc(e) for s, e in _intervals(hours, local.date() - timedelta(days=1), 2))


def next_opening(hours: BusinessHours, at: datetime) -> datetime | None:
    """The earliest moment >= `at` when the business is open, in the hours' timezone: `at` itself
    when open now (and always when nothing is configured); None when it never opens again within
    about a year (every day closed, or closed dates covering all of it)."""
    local = local_time(hours, at)
    if not is_configured(hours):
        return local
    now = _utc(local)
    for start, end in _intervals(hours, local.date() - timedelta(days=1), _HORIZON_DAYS):
        if _utc(end) <= now:
            continue
        return local if _utc(start) <= now else start
    return None


def _fmt_time(minutes: int) -> str:
    """510 -> '8h30'; 480 -> '8h'; 1440 -> '0h' (midnight)."""
    h, m = divmod(minutes % 1440, 60)
    return f"{h}h{m:02d}" if m else f"{h}h"


def _fmt_ranges(ranges: list[tuple[int, int]]) -> str:
    if not ranges:
        return "fechado"
    parts = []
    for o, c in ranges:
        if o == c or (o, c) in ((0, 1439), (0, 1440)):
            parts.append("24 horas")
        else:
            parts.append(f"{_fmt_time(o)} às {_fmt_time(c)}")
    return " e ".join(parts)


def describe(hours: BusinessHours) -> str:
    """pt-BR text of the weekly hours, consecutive days with the same hours grouped, e.g.
    'Segunda a sexta: 8h às 18h · Sábado: 8h às 13h · Domingo: fechado'. '' when not configured."""
    if not is_configured(hours):
        return ""
    texts = [_fmt_ranges(_day_ranges(hours, d)) for d in range(7)]
    if len(set(texts)) == 1:
        return f"Todos os dias: {texts[0]}"
    groups: list[tuple[int, int, str]] = []  # (first day, last day, text)
    for d, t in enumerate(texts):
        if groups and groups[-1][2] == t:
            groups[-1] = (groups[-1][0], d, t)
        else:
            groups.append((d, d, t))
    out = []
    for first, last, t in groups:
        name = DAY_NAMES[first].capitalize()
        if last == first + 1:
            name += f" e {DAY_NAMES[last]}"
        elif last > first:
            name += f" a {DAY_NAMES[last]}"
        out.append(f"{name}: {t}")
    return " · ".join(out)


def describe_opening(hours: BusinessHours, opening: datetime, now: datetime) -> str:
    """When `opening` is, relative to `now`, for a lead: 'hoje às 14h', 'amanhã às 8h',
    'segunda às 8h', 'dia 26/12 às 8h'."""
    local_now = local_time(hours, now)
    local = local_time(hours, opening)
    when = _fmt_time(local.hour * 60 + local.minute)
    days = (local.date() - local_now.date()).days
    if days <= 0:
        return f"hoje às {when}"
    if days == 1:
        return f"amanhã às {when}"
    if days < 7:
        return f"{DAY_NAMES[local.weekday()]} às {when}"
    return f"dia {local:%d/%m} às {when}"


def status_line(hours: BusinessHours, now: datetime) -> str:
    """'Agora estamos abertos!' or 'Agora estamos fechados. Abrimos amanhã às 8h.' ('' when the
    hours are not configured: there is nothing true to say)."""
    if not is_configured(hours):
        return ""
    if is_open(hours, now):
        return "Agora estamos abertos!"
    nxt = next_opening(hours, now)
    if nxt is None:
        return "Agora estamos fechados."
    return f"Agora estamos fechados. Abrimos {describe_opening(hours, nxt, now)}."
