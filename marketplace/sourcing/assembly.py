"""Instant assembly: with `"assembly": "auto"` the engine chooses the factory that assembles the kit
and the parts together, from the factories' published rate cards (docs/quotes.md §6).

For every factory whose current card offers the processes asked for, takes the batch, has the
weekly capacity free and is not excluded, the kit is priced twice: with the parts plan as sourced
for the market (the loading fee waived for each part the plan already buys from that factory),
and with every line the factory itself stocks bought from it (no loading fee, one vendor fewer to
ship from). The candidate with the fewest units short, then the lowest landed cost (parts +
shipping + assembly), then the shortest lead time wins; the runner-up and the difference are kept
so the buyer sees why.
"""

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from marketplace.factories.capacity import capacity_problem
from marketplace.factories.models import PROCESS_LABELS
from marketplace.factories.rate_cards import CardPrice, card_price, rate_cards_offering
from marketplace.kits.models import BomLine, Kit
from marketplace.sourcing.allocation import MICRO, Offer
from marketplace.sourcing.plan import Plan
from marketplace.sourcing.rates import QuoteRates, cents

Problem = list[tuple[list[Offer], int]]


def count_designators(text: str) -> int:
    """Placements a line's designators name: `C1,C2,C7` is 3, `R1-R4` is 4 (same prefix)."""
    count = 0
    for token in re.split(r"[,;\s]+", text or ""):
        if not token:
            continue
        span = re.fullmatch(r"([A-Za-z_]+)(\d+)-(?:\1)?(\d+)", token)
        if span and 0 <= int(span.group(3)) - int(span.group(2)) < 10_000:
            count += int(span.group(3)) - int(span.group(2)) + 1
        else:
            count += 1
    return count


@dataclass(frozen=True)
class KitPlacements:
    per_board: int  # placements on one board: designators of the kit's own populated lines
    part_ids: frozenset[int]  # the unique parts the factory loads


def kit_placements(kit: Kit) -> KitPlacements:
    """Counted from the designators of the kit's own lines (a line without designators places its
    quantity, rounded up). Sub-kits are modules with their own assembly."""
    per_board, parts = 0, set()
    for part_id, quantity, designators in BomLine.objects.filter(kit=kit).values_list("part_id", "quantity",
                                                                                      "designators"):
        per_board += count_designators(designators) or math.ceil(quantity)
        parts.add(part_id)
    return KitPlacements(per_board=per_board, part_ids=frozenset(parts))


@dataclass
class Candidate:
    price: CardPrice
    plan: Plan
    items: list[tuple[str, int, Decimal]]  # in the quote's currency
    assembly_total: Decimal
    lead_time_days: int
    bought_from_factory: int  # lines the plan buys wholly from the factory

    @property
    def factory(self):
        return self.price.card.organization

    def key(self) -> tuple:
        return (self.plan.shortfall, self.plan.cost + int(self.assembly_total * MICRO), self.lead_time_days,
                self.factory.pk)


@dataclass
class AssemblyChoice:
    """What the engine chose (or why it could not), as saved on the quote (`Quote.assembly`)."""

    best: Candidate | None
    runner_up: Candidate | None = None
    considered: int = 0
    passed_over: list[dict] = field(default_factory=list)  # [{factory, name, reason}]
    problem: str = ""

    def as_json(self, currency: str) -> dict:
        out = {"mode": "auto", "considered": self.considered, "passed_over": self.passed_over}
        if self.best is None:
            return {**out, "factory": None, "problem": self.problem}
        best = self.best
        card = best.price.card
        out.update({
            "factory": {"id": best.factory.pk, "name": best.factory.name},
            "rate_card": {"id": card.pk, "version": card.version, "currency": card.currency,
                          "setup_fee": str(card.setup_fee), "per_placement": str(card.per_placement),
                          "per_unique_part": str(card.per_unique_part), "processes": card.processes},
            "boards": best.price.boards, "placements_per_board": best.price.placements_per_board,
            "unique_parts": best.price.unique_parts, "loaded_parts": best.price.loaded_parts,
            "parts_from_factory": best.bought_from_factory,
            "items": [{"description": d, "quantity": q, "unit_price": str(u)} for d, q, u in best.items],
            "total": str(best.assembly_total), "currency": currency,
        })
        if self.runner_up is not None:
            diff = Decimal(self.runner_up.key()[1] - best.key()[1]) / MICRO
            out["runner_up"] = {"factory": {"id": self.runner_up.factory.pk, "name": self.runner_up.factory.name},
                                "assembly_total": str(self.runner_up.assembly_total),
                                "landed_difference": str(cents(diff)),
                                "short_difference": self.runner_up.plan.shortfall - best.plan.shortfall}
            out["why"] = _why(best, self.runner_up, currency)
        else:
            out["why"] = "The only factory whose card fits this batch."
        return out


def _why(best: Candidate, other: Candidate, currency: str) -> str:
    if other.plan.shortfall > best.plan.shortfall:
        return (f"{other.factory.name} would leave {other.plan.shortfall - best.plan.shortfall:,} more units short.")
    diff = cents(Decimal(other.key()[1] - best.key()[1]) / MICRO)
    if diff:
        return f"{diff:,} {currency} cheaper landed (parts, shipping and assembly) than {other.factory.name}."
    return f"As cheap as {other.factory.name}, with a shorter lead time or listed first."


def _lines_from(plan: Plan, factory_id: int, needs_part_ids: list[int], kit_part_ids: frozenset[int]) -> int:
    """How many of the kit's unique parts the plan buys wholly from the factory (no loading fee)."""
    done = 0
    for part_id, solution in zip(needs_part_ids, plan.lines):
        if part_id in kit_part_ids and solution.allocations and solution.shortfall == 0 and all(
                a.offer.vendor_id == factory_id for a in solution.allocations):
            done += 1
    return done


def assembly_choose(*, kit: Kit, boards: int, processes: list[str], exclude: tuple[int, ...], rates: QuoteRates,
                    problem: Problem, need_part_ids: list[int], base_plan: Plan,
                    replan: Callable[[Problem], Plan]) -> AssemblyChoice:
    """The best factory for the kit at `boards` boards, choosing parts with it (see the module)."""
    placements = kit_placements(kit)
    cards = rate_cards_offering(processes=processes, exclude=exclude)
    labels = ", ".join(PROCESS_LABELS.get(p, p) for p in processes)
    if not cards:
        return AssemblyChoice(best=None, problem=f"No factory publishes a rate card for {labels}"
                                                 f"{' (excluded ones left out)' if exclude else ''}.")
    candidates: dict[int, Candidate] = {}
    passed: list[dict] = []
    for card in cards:
        factory = card.organization
        reason = None
        if not card.takes_batch(boards):
            reason = (f"takes batches of {card.min_batch:,}"
                      f"{f' to {card.max_batch:,}' if card.max_batch else ' or more'} boards")
        elif card.currency not in rates.rates:
            reason = f"prices in {card.currency}, with no exchange rate into {rates.currency}"
        else:
            reason = capacity_problem(factory=factory, units=boards)
        if reason:
            passed.append({"factory": factory.pk, "name": factory.name, "reason": reason})
            continue
        plans = [base_plan]
        stocked_lines = [i for i, (offers, _) in enumerate(problem)
                         if need_part_ids[i] in placements.part_ids and any(o.vendor_id == factory.pk for o in offers)]
        if stocked_lines:  # buy what the factory stocks from the factory itself
            restricted = [([o for o in offers if o.vendor_id == factory.pk] if i in stocked_lines else offers, needed)
                          for i, (offers, needed) in enumerate(problem)]
            plans.append(replan(restricted))
        for plan in plans:
            from_factory = _lines_from(plan, factory.pk, need_part_ids, placements.part_ids)
            price = card_price(card=card, boards=boards, placements_per_board=placements.per_board,
                               unique_parts=len(placements.part_ids), stocked_parts=from_factory)
            rates.used.add(card.currency)
            items = [(d, q, rates.unit_price(u, card.currency)) for d, q, u in price.items]
            total = sum((cents(q * u) for _, q, u in items), Decimal(0))
            lead = max((a.offer.lead_time_days for s in plan.lines for a in s.allocations), default=0)
            candidate = Candidate(price=price, plan=plan, items=items, assembly_total=total, lead_time_days=lead,
                                  bought_from_factory=from_factory)
            if factory.pk not in candidates or candidate.key() < candidates[factory.pk].key():
                candidates[factory.pk] = candidate
    ranked = sorted(candidates.values(), key=Candidate.key)
    if not ranked:
        return AssemblyChoice(best=None, considered=len(cards), passed_over=passed,
                              problem=f"No factory offering {labels} can take {boards:,} boards now: "
                                      + "; ".join(f"{p['name']} {p['reason']}" for p in passed) + ".")
    return AssemblyChoice(best=ranked[0], runner_up=ranked[1] if len(ranked) > 1 else None, considered=len(cards),
                          passed_over=passed)


def quote_assembly_factory_id(quote, *, default: int | None) -> int | None:
    """The factory that assembles a quote's kit itself: the rate card's (auto), the awarded
    assembly bid's, none (`"assembly": "none"`), or the kit author's (`default`)."""
    mode = (quote.assembly or {}).get("mode") or (quote.options or {}).get("assembly") or "author"
    if mode == "none":
        return None
    if mode == "auto":
        return ((quote.assembly or {}).get("factory") or {}).get("id")
    if quote.assembly_offer_id:
        return quote.assembly_offer.factory_id
    return default


def saved_assembly_lines(quote) -> list[tuple[int, str, int, Decimal]] | None:
    """A rate-card quote's assembly lines as saved (factory id, description, quantity, unit price in
    the quote's currency): an order buys exactly these. None when the quote has no such lines."""
    saved = quote.assembly or {}
    if saved.get("mode") != "auto" or not saved.get("factory"):
        return None
    factory_id = saved["factory"]["id"]
    return [(factory_id, item["description"], int(item["quantity"]), Decimal(item["unit_price"]))
            for item in saved.get("items", [])]
