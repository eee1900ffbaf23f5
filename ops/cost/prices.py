"""Prices: ops/prices/<region>.toml (every price with its source, the date it was checked and
AWS's usage type), read, or renewed from the AWS Price List API."""

from __future__ import annotations

import datetime
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ops.core import ROOT
from ops.errors import Failed


PRICES_DIR = ROOT / "ops" / "prices"



def _price_list(path: Path) -> dict[str, tuple[str, dict[str, str], str]]:
    with open(path, "rb") as file:
        sections = tomllib.load(file)
    return {f"{section}.{name}": (entry["service"], entry["filters"], entry["usagetype"])
            for section, names in sections.items() for name, entry in names.items()}


# Price key -> where it is in the AWS Price List API: (service code, filters besides the region,
# usage type without its region prefix), from price_list.toml.
PRICE_LIST = _price_list(Path(__file__).with_name("price_list.toml"))
# Data transfer products name their region in fromRegionCode, the others in regionCode.
REGION_FIELD = {"AWSDataTransfer": "fromRegionCode"}


class PriceError(Failed):
    """No or bad price file for a region; the message is the one line shown to the user."""


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    usagetype: str
    checked_on: str
    source: str
    confirmed: bool  # False: no source for this region was found; the value is carried over


@dataclass(frozen=True)
class Prices:
    region: str
    recorded_on: str
    prices: dict[str, Price]
    path: Path

    def __getitem__(self, dotted: str) -> float:
        return self.price(dotted).usd

    def price(self, dotted: str) -> Price:
        try:
            return self.prices[dotted]
        except KeyError:
            raise PriceError(f"{self.path}: missing price '{dotted}'") from None

    @property
    def unconfirmed(self) -> tuple[str, ...]:
        return tuple(key for key, price in self.prices.items() if not price.confirmed)

    @property
    def verified(self) -> bool:
        return not self.unconfirmed

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(f"{key}: {price.usd:g} USD per {price.unit}, {price.source} "
                     f"(checked {price.checked_on})" for key, price in self.prices.items())


def load_prices(region: str, directory: Path = PRICES_DIR) -> Prices:
    path = directory / f"{region}.toml"
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        raise PriceError(f"no prices for region {region}: add {path} "
                         f"(python -m ops cost --refresh-prices --region {region}, with AWS "
                         "credentials)") from None
    except tomllib.TOMLDecodeError as error:
        raise PriceError(f"{path}: not valid TOML: {error}") from None
    if data.get("region") != region:
        raise PriceError(f"{path}: region = {data.get('region')!r}, expected {region!r}")
    prices = {}
    for section, names in data.items():
        if not isinstance(names, dict):
            continue
        for name, entry in names.items():
            try:
                prices[f"{section}.{name}"] = Price(
                    float(entry["usd"]), str(entry["unit"]), str(entry.get("usagetype", "")),
                    str(entry["checked_on"]), str(entry["source"]),
                    bool(entry.get("confirmed", True)))
            except (KeyError, TypeError, ValueError):
                raise PriceError(f"{path}: [{section}.{name}] needs usd (a number), unit, "
                                 "checked_on and source") from None
    return Prices(region, str(data.get("recorded_on", "unknown date")), prices, path)


def _on_demand(product: dict) -> tuple[float, str, str]:
    """(USD, unit, effective date) of a Price List product's first on-demand tier."""
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        dimensions = sorted(term.get("priceDimensions", {}).values(),
                            key=lambda d: float(d.get("beginRange", "0") or 0))
        if dimensions:
            first = dimensions[0]
            return (float(first["pricePerUnit"]["USD"]), first.get("unit", ""),
                    term.get("effectiveDate", "")[:10])
    raise PriceError(f"{product.get('product', {}).get('sku')}: no on-demand price")


def fetch_price(client, region: str, key: str) -> tuple[float, str, str, str]:
    """(USD, unit, usage type, effective date) of one PRICE_LIST entry, from get_products."""
    service, filters, usage = PRICE_LIST[key]
    fields = {REGION_FIELD.get(service, "regionCode"): region, **filters}
    found, token = [], None
    while True:
        request = {"ServiceCode": service, "FormatVersion": "aws_v1", "MaxResults": 100,
                   "Filters": [{"Type": "TERM_MATCH", "Field": f, "Value": v}
                               for f, v in fields.items()]}
        if token:
            request["NextToken"] = token
        page = client.get_products(**request)
        for text in page.get("PriceList", []):
            product = json.loads(text)
            usagetype = product.get("product", {}).get("attributes", {}).get("usagetype", "")
            if re.fullmatch(rf"(?:[A-Z0-9]+-)?{re.escape(usage)}", usagetype):
                found.append((usagetype, product))
        token = page.get("NextToken")
        if not token:
            break
    if len(found) != 1:
        raise PriceError(f"{key}: the Price List has {len(found)} {service} products with usage "
                         f"type *{usage} in {region} ({', '.join(u for u, _ in found) or 'none'}),"
                         " expected 1")
    usagetype, product = found[0]
    usd, unit, effective = _on_demand(product)
    return usd, unit, usagetype, effective


def refresh_prices(client, region: str, today: str | None = None) -> str:
    """The text of ops/prices/<region>.toml, every price read from the Price List API."""
    today = today or datetime.date.today().isoformat()
    lines = [f"# On-demand list prices for {region}, in USD, for `python -m ops cost`; written by",
             "# `python -m ops cost --refresh-prices` from the AWS Price List API (pricing",
             "# get_products). Renew with that command; do not edit by hand.",
             f'region = "{region}"', 'currency = "USD"', f'recorded_on = "{today}"']
    section = None
    for key in PRICE_LIST:
        usd, unit, usagetype, effective = fetch_price(client, region, key)
        service = PRICE_LIST[key][0]
        if key.split(".")[0] != section:
            section = key.split(".")[0]
            lines.append("")
        lines.append(f'[{key}]\nusd = {usd!r}\nunit = "{unit}"\nusagetype = "{usagetype}"\n'
                     f'checked_on = "{today}"\nsource = "AWS Price List API, {service} '
                     f'{usagetype}, effective {effective}"')
    return "\n".join(lines) + "\n"
