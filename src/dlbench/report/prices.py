"""An optional price table: what an hour of a device costs, so that epoch times become money.

A TOML file:

    currency = "USD"            # optional, a label only
    [prices]                    # per hour, per device kind
    cpu = 0.10                  # every CPU run (or name the CPU model: "Intel(R) Xeon(R) Platinum 8480+" = 0.40)
    "NVIDIA H100 80GB HBM3" = 2.50
    H200 = 3.80                 # a key matches a run's device when it is a (case-insensitive) part of its name

A run's device is the node it ran on (e.g. "cpu: Intel(R) Xeon(R) Processor" or "NVIDIA H100 80GB HBM3"). The
longest key that is part of that name wins; "cpu" and "gpu" also match the run's device setting. A run whose
device has no price gets no cost, never a guessed one.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib


class PriceError(ValueError):
    pass


@dataclass(frozen=True)
class PriceTable:
    prices: dict            # device kind -> price per hour
    currency: str = "USD"
    source: str = ""

    def per_hour(self, node_device, device_setting=None):
        """(key, price per hour) for a run's device, or (None, None)."""
        name = (node_device or "").lower()
        matches = [key for key in self.prices if key.lower() in name]
        if matches:
            key = max(matches, key=len)
            return key, self.prices[key]
        for key in self.prices:
            if device_setting and key.lower() == str(device_setting).lower():
                return key, self.prices[key]
        return None, None

    def cost(self, seconds, per_hour):
        return None if seconds is None or per_hour is None else seconds * per_hour / 3600.0

    def money(self, value):
        if value is None:
            return "-"
        digits = 2 if value >= 1 else 4 if value >= 0.01 else 6
        return f"{value:.{digits}f} {self.currency}"


def load(path):
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as exc:
        raise PriceError(f"cannot read the price table {path}: {exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PriceError(f"{path} is not valid TOML: {exc}") from exc
    unknown = set(raw) - {"currency", "prices"}
    if unknown:
        raise PriceError(f"{path}: unknown keys {', '.join(sorted(unknown))}; expected currency and [prices]")
    prices = raw.get("prices")
    if not isinstance(prices, dict) or not prices:
        raise PriceError(f"{path}: needs a [prices] table of device kind = price per hour")
    for key, value in prices.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise PriceError(f"{path}: price of {key!r} is {value!r}: expected a non-negative number per hour")
    currency = raw.get("currency", "USD")
    if not isinstance(currency, str):
        raise PriceError(f"{path}: currency must be a string")
    return PriceTable({k: float(v) for k, v in prices.items()}, currency, str(path))
