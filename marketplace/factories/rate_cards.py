"""Factories' published assembly prices (rate cards): publishing a version, reading the current
ones, and pricing a batch on a card. The formula is JLCPCB's (setup per batch, a price per
placement, a loading fee per unique part the factory does not stock); docs/quotes.md §6."""

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import QuerySet

from credit.fx import CENT
from credit.models import Currency
from marketplace.exceptions import RateCardInvalid
from marketplace.factories.models import PROCESS_LABELS, PROCESSES, RateCard
from organizations.models import Organization

MAX_SETUP_FEE = Decimal("1000000")
MAX_PER_PLACEMENT = Decimal("100")
MAX_PER_UNIQUE_PART = Decimal("100000")
MAX_BATCH = 10_000_000


def _price(errors: dict, name: str, value, *, places: int, high: Decimal) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        errors[name] = ["Give a price as a decimal string, e.g. \"12.50\"."]
        return Decimal(0)
    if not amount.is_finite() or amount < 0 or amount > high:
        errors[name] = [f"Give a price from 0 to {high:,}."]
        return Decimal(0)
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        errors[name] = [f"At most {places} decimal places."]
    return amount


@transaction.atomic
def rate_card_publish(*, organization: Organization, currency: str, setup_fee, per_placement, per_unique_part,
                      processes: list[str], min_batch: int | None = None, max_batch: int | None = None) -> RateCard:
    """Publish a new version of the factory's card; the previous one stays for the quotes that used
    it. Every problem is named by its field and nothing is saved."""
    errors: dict[str, list[str]] = {}
    if not (organization.is_supplier and organization.is_factory):
        raise RateCardInvalid({"organization": [f"{organization.name} is not a factory: only factories publish "
                                                "assembly rate cards."]})
    if currency not in Currency.values:
        errors["currency"] = [f"Price in one of {', '.join(Currency.values)}."]
    setup = _price(errors, "setup_fee", setup_fee, places=2, high=MAX_SETUP_FEE)
    placement = _price(errors, "per_placement", per_placement, places=6, high=MAX_PER_PLACEMENT)
    loading = _price(errors, "per_unique_part", per_unique_part, places=2, high=MAX_PER_UNIQUE_PART)
    if not isinstance(processes, list) or not processes or any(p not in PROCESSES for p in processes):
        errors["processes"] = [f"Give one or more of: {', '.join(PROCESSES)}."]
        processes = []
    low = 1 if min_batch is None else min_batch
    for name, value in (("min_batch", min_batch), ("max_batch", max_batch)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BATCH):
            errors[name] = [f"Give a whole number of boards from 1 to {MAX_BATCH:,}."]
    if not errors and max_batch is not None and max_batch < low:
        errors["max_batch"] = [f"The largest batch ({max_batch:,}) is below the smallest ({low:,})."]
    if errors:
        raise RateCardInvalid(errors)
    # Lock the factory's current card: two publishes at once make two versions, never two current cards.
    current = (RateCard.objects.select_for_update().filter(organization=organization, is_current=True).first())
    version = (current.version if current else
               (RateCard.objects.filter(organization=organization).order_by("-version").values_list("version", flat=True)
                .first() or 0)) + 1
    if current:
        current.is_current = False
        current.save(update_fields=["is_current"])
    return RateCard.objects.create(
        organization=organization, version=version, currency=currency, setup_fee=setup, per_placement=placement,
        per_unique_part=loading, processes=sorted(set(processes), key=PROCESSES.index), min_batch=low,
        max_batch=max_batch,
    )


def rate_card_current(*, organization: Organization) -> RateCard | None:
    return RateCard.objects.filter(organization=organization, is_current=True).first()


def rate_cards_offering(*, processes: list[str], exclude: tuple[int, ...] = ()) -> QuerySet[RateCard]:
    """Current cards of verified factories that offer every process asked for."""
    qs = (RateCard.objects.filter(is_current=True, organization__verified=True, organization__is_factory=True)
          .exclude(organization_id__in=exclude).select_related("organization").order_by("organization_id"))
    return [card for card in qs if set(processes) <= set(card.processes)]


@dataclass(frozen=True)
class CardPrice:
    """A batch priced on one card, in the card's currency: the items as order lines
    (description, quantity, unit price) and their total, each line rounded to the cent once."""

    card: RateCard
    boards: int
    placements_per_board: int
    unique_parts: int
    loaded_parts: int  # unique parts that pay the loading fee (the factory does not stock them)
    items: tuple[tuple[str, int, Decimal], ...]

    @property
    def total(self) -> Decimal:
        return sum(((qty * unit).quantize(CENT, ROUND_HALF_EVEN) for _, qty, unit in self.items), Decimal(0))


def card_price(*, card: RateCard, boards: int, placements_per_board: int, unique_parts: int, stocked_parts: int
               ) -> CardPrice:
    """setup + boards × placements × per_placement + (unique parts not stocked) × per_unique_part."""
    loaded = max(0, unique_parts - stocked_parts)
    items = [(f"Assembly setup ({card.organization.name}, card v{card.version})", 1, card.setup_fee),
             (f"Placements: {boards:,} boards × {placements_per_board:,}", boards * placements_per_board,
              card.per_placement)]
    if loaded:
        items.append((f"Loading fee: {loaded} unique part{'s' if loaded != 1 else ''} not stocked by the factory",
                      loaded, card.per_unique_part))
    return CardPrice(card=card, boards=boards, placements_per_board=placements_per_board, unique_parts=unique_parts,
                     loaded_parts=loaded, items=tuple((d, q, u) for d, q, u in items if q and u))


def process_label(process: str) -> str:
    return PROCESS_LABELS.get(process, process)
