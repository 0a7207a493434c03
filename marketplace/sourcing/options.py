"""A quote's options as the buyer gives them (currency, vendor cap, lead time, exclusions,
substitutes), parsed once and validated, with the limits that bound a quote."""

from dataclasses import dataclass
from decimal import Decimal

from credit.exceptions import FxRateMissing
from credit.fx import fx_rate as rate_in_force
from credit.models import Currency
from marketplace.exceptions import QuoteInvalid

MAX_QUANTITY = 10_000_000
MAX_NEEDED = 2_000_000_000
MAX_TOTAL = Decimal("999999999999.99")  # the money columns (14 digits, 2 places)
MAX_VENDORS = 200
MAX_EXCLUDED = 500


@dataclass(frozen=True)
class QuoteOptions:
    """The buyer's sourcing options for one quote (all optional; see the API contract).

    `allow_substitutes`: None (the default) uses a BOM line's substitutes only where the BOM lists
    them; False never; True is the same as None today (there is no other source of substitutes),
    kept so a buyer can say it explicitly."""

    max_vendors: int | None = None
    allow_substitutes: bool | None = None
    max_lead_time_days: int | None = None
    exclude_vendors: tuple[int, ...] = ()
    currency: str | None = None

    def as_json(self) -> dict:
        return {"max_vendors": self.max_vendors, "allow_substitutes": self.allow_substitutes,
                "max_lead_time_days": self.max_lead_time_days, "exclude_vendors": list(self.exclude_vendors),
                "currency": self.currency}


def quote_options_parse(raw: dict | None, *, kit_currency: str) -> QuoteOptions:
    """Validate the `options` of a quote request; every problem is a 400 naming its field."""
    if raw is None:
        return QuoteOptions()
    if not isinstance(raw, dict):
        raise QuoteInvalid({"options": ["Give options as an object, e.g. {\"max_vendors\": 5}."]})
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(raw) - {"max_vendors", "allow_substitutes", "max_lead_time_days", "exclude_vendors", "currency"})
    if unknown:
        errors["options"] = [f"Unknown option(s): {', '.join(map(str, unknown))}."]

    def integer(name: str, low: int, high: int) -> int | None:
        value = raw.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[name] = [f"Give a whole number from {low} to {high:,}."]
            return None
        return value

    max_vendors = integer("max_vendors", 1, MAX_VENDORS)
    max_lead = integer("max_lead_time_days", 0, 3650)
    substitutes = raw.get("allow_substitutes")
    if substitutes is not None and not isinstance(substitutes, bool):
        errors["allow_substitutes"] = ["Give true, false or null (null: only where the BOM lists substitutes)."]
        substitutes = None
    excluded = raw.get("exclude_vendors") or []
    if not isinstance(excluded, list) or len(excluded) > MAX_EXCLUDED or any(
            isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in excluded):
        errors["exclude_vendors"] = [f"Give a list of at most {MAX_EXCLUDED} organisation ids."]
        excluded = []
    currency = raw.get("currency")
    if currency is not None:
        if not isinstance(currency, str) or currency.upper() not in Currency.values:
            errors["currency"] = [f"Quote in one of {', '.join(Currency.values)} (ISO 4217 codes)."]
        else:
            currency = currency.upper()
            try:  # the kit's own costs (assembly, fees, NRE) must convert into the quote's currency
                rate_in_force(kit_currency, currency)
            except FxRateMissing as exc:
                errors["currency"] = exc.message_dict["currency"]
    if errors:
        raise QuoteInvalid(errors)
    return QuoteOptions(max_vendors=max_vendors, allow_substitutes=substitutes, max_lead_time_days=max_lead,
                        exclude_vendors=tuple(sorted(set(excluded))), currency=currency)
