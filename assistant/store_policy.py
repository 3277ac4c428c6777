"""The store's written policy (``store_policy.yml``): shipping, returns, payment, support hours.

The bot answers policy questions only from this file, so what it says is what the
retailer wrote. The file is checked when it is loaded: a missing key or a mistyped value
fails at start-up naming the key (``returns.window_days must be int``), not in front of a
shopper. The file's own comments document each key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class PolicyError(ValueError):
    """``store_policy.yml`` is missing, unreadable, or a value has the wrong shape."""


def _take(data: Any, path: str, kind: type | tuple[type, ...], optional: bool = False) -> Any:
    """The value at a dotted ``path`` of ``data``, checked to be of ``kind``."""
    value = data
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if value is None and optional:
        return None
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise PolicyError(f"store policy: {path} must be {names}, got {value!r}")
    return value


def _items(data: Any, path: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = _take(data, path, list)
    if not all(isinstance(entry, dict) for entry in entries):
        raise PolicyError(f"store policy: every entry of {path} must be a mapping")
    return entries


NUMBER = (int, float)


@dataclass(frozen=True)
class ShippingOption:
    id: str
    name: str
    cost: float
    days_min: int
    days_max: int


@dataclass(frozen=True)
class PaymentProblem:
    id: str
    keywords: tuple[str, ...]
    answer: str

    def matches(self, text: str) -> bool:
        lowered = text.lower()
        return any(keyword.lower() in lowered for keyword in self.keywords)


@dataclass(frozen=True)
class StorePolicy:
    store_name: str
    currency: str
    shipping_options: tuple[ShippingOption, ...]
    free_shipping_threshold: float | None
    processing_days: int
    countries: tuple[str, ...]
    international_note: str | None
    tracking_note: str | None
    return_window_days: int
    return_conditions: tuple[str, ...]
    non_returnable: tuple[str, ...]
    return_how: str
    refund_timing_days: int
    refund_method: str
    cancellation_refund_days: int
    payment_methods: tuple[str, ...]
    payment_problems: tuple[PaymentProblem, ...]
    support_hours: dict[str, str]
    support_timezone: str
    stores: dict[str, str]

    def shipping_summary(self) -> str:
        lines = [f"We ship to {', '.join(self.countries)}. Orders leave our warehouse within {self.processing_days} business day(s)."]
        lines += [
            f"- {o.name}: {'free' if o.cost == 0 else f'${o.cost:,.2f}'}, {o.days_min}-{o.days_max} business days"
            for o in self.shipping_options
        ]
        if self.free_shipping_threshold is not None:
            lines.append(f"Standard shipping is free on orders of ${self.free_shipping_threshold:,.2f} or more.")
        lines += [note for note in (self.international_note, self.tracking_note) if note]
        return "\n".join(lines)

    def returns_summary(self) -> str:
        conditions = "\n".join(f"- {condition}" for condition in self.return_conditions)
        excluded = "; ".join(self.non_returnable)
        return (
            f"You can return items within {self.return_window_days} days of delivery.\n{conditions}\n"
            f"Not returnable: {excluded}.\n{self.return_how} Refunds are issued within {self.refund_timing_days} "
            f"business days after the return reaches us. {self.refund_method}"
        )

    def payment_answer(self, text: str) -> str:
        """The answer to the payment problem the message describes, or the methods and common fixes."""
        matching = [problem.answer for problem in self.payment_problems if problem.matches(text)]
        return matching[0] if matching else f"We accept {', '.join(self.payment_methods)}."

    def support_hours_text(self) -> str:
        """``monday 08:00-20:00, ...`` in the store's time zone, closed days left out."""
        hours = ", ".join(f"{day.title()} {self.support_hours[day]}" for day in DAYS if day in self.support_hours)
        return f"{hours} ({self.support_timezone} time)"


def parse_store_policy(data: Any) -> StorePolicy:
    """Validate a loaded YAML document and build the typed policy."""
    options = tuple(
        ShippingOption(id=_take(o, "id", str), name=_take(o, "name", str), cost=float(_take(o, "cost", NUMBER)),
                       days_min=_take(o, "days_min", int), days_max=_take(o, "days_max", int))
        for o in _items(data, "shipping.options")
    )
    problems = tuple(
        PaymentProblem(id=_take(p, "id", str), keywords=tuple(map(str, _take(p, "keywords", list))), answer=_take(p, "answer", str))
        for p in _items(data, "payment.problems")
    )
    hours = _take(data, "support.hours", dict)
    if set(hours) - set(DAYS) or not all(isinstance(value, str) for value in hours.values()):
        raise PolicyError(f"store policy: support.hours must map days ({', '.join(DAYS)}) to \"HH:MM-HH:MM\"")
    threshold = _take(data, "shipping.free_shipping_threshold", NUMBER, optional=True)
    return StorePolicy(
        store_name=_take(data, "store_name", str),
        currency=_take(data, "currency", str),
        shipping_options=options,
        free_shipping_threshold=None if threshold is None else float(threshold),
        processing_days=_take(data, "shipping.processing_days", int),
        countries=tuple(map(str, _take(data, "shipping.countries", list))),
        international_note=_take(data, "shipping.international_note", str, optional=True),
        tracking_note=_take(data, "shipping.tracking", str, optional=True),
        return_window_days=_take(data, "returns.window_days", int),
        return_conditions=tuple(map(str, _take(data, "returns.conditions", list))),
        non_returnable=tuple(map(str, _take(data, "returns.non_returnable", list))),
        return_how=_take(data, "returns.how_to_start", str),
        refund_timing_days=_take(data, "returns.refund_timing_days", int),
        refund_method=_take(data, "returns.refund_method", str),
        cancellation_refund_days=_take(data, "cancellation.refund_timing_days", int),
        payment_methods=tuple(_take(m, "name", str) for m in _items(data, "payment.methods")),
        payment_problems=problems,
        support_hours=dict(hours),
        support_timezone=_take(data, "support.timezone", str),
        stores={_take(s, "id", str): _take(s, "name", str) for s in _items(data, "stores")},
    )


def load_store_policy(path: Path | str) -> StorePolicy:
    """Read and validate ``store_policy.yml``; :class:`PolicyError` says what is wrong and where."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise PolicyError(f"cannot read the store policy at {path}: {error}") from error
    return parse_store_policy(data)
