"""Solution kits: create, revise, freeze."""

from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from marketplace.catalogue.listings import price_break_errors
from marketplace.exceptions import KitInvalid, OrderInvalid
from marketplace.kits.models import AssemblyBreak, BomLine, Kit, KitNrePaid, SubKit
from organizations.models import Organization

KIT_FIELDS = ("name", "category", "description", "currency", "design_fee_per_unit", "nre")


def _descendant_ids(kit_ids: set[int]) -> set[int]:
    """Every kit reachable through sub-kit edges from `kit_ids` (one query per level)."""
    seen, frontier = set(), set(kit_ids)
    while frontier:
        seen |= frontier
        frontier = set(SubKit.objects.filter(kit_id__in=frontier).values_list("child_id", flat=True)) - seen
    return seen


def _validate(owner: Organization, spec: dict, *, kit: Kit | None) -> None:
    errors: dict[str, list[str]] = {}
    if not owner.is_solution_house and not spec.get("private"):
        errors["non_field_errors"] = ["Only solution houses publish kits."]
    if not (spec.get("name") or "").strip():
        errors["name"] = ["Give the kit a name."]
    if spec["currency"] not in settings.KITSTREET_CURRENCIES:
        errors["currency"] = [f"Unsupported currency; use one of {settings.KITSTREET_CURRENCIES}."]
    for name in ("design_fee_per_unit", "nre"):
        if Decimal(spec[name]) < 0:
            errors[name] = ["Must be zero or more."]
    if not spec["bom"] and not spec["subkits"]:
        errors["bom"] = ["A kit needs at least one BOM line or sub-kit."]
    bom_errors = []
    seen_parts = set()
    for i, line in enumerate(spec["bom"], start=1):
        if Decimal(line["quantity"]) <= 0:
            bom_errors.append(f"Line {i}: quantity per unit must be positive.")
        if not Decimal(0) <= Decimal(line.get("attrition", 0)) < 1:
            bom_errors.append(f"Line {i}: attrition is a fraction from 0 up to (not including) 1, e.g. 0.05.")
        if line["part"].pk in seen_parts:
            bom_errors.append(f"Line {i}: {line['part']} appears twice; add the quantities into one line.")
        seen_parts.add(line["part"].pk)
        if any(sub.pk == line["part"].pk for sub in line.get("substitutes", [])):
            bom_errors.append(f"Line {i}: a part cannot substitute for itself.")
    if bom_errors:
        errors["bom"] = bom_errors
    sub_errors = []
    child_ids = set()
    for i, sub in enumerate(spec["subkits"], start=1):
        child: Kit = sub["kit"]
        if int(sub.get("quantity", 1)) < 1:
            sub_errors.append(f"Sub-kit {i}: quantity must be at least 1.")
        # A buyer's private kit (a purchase plan's kits) may mix currencies: quotes convert each
        # kit's own costs at their rates; a published kit keeps one price currency.
        if child.currency != spec["currency"] and not spec.get("private"):
            sub_errors.append(f"Sub-kit {i} ({child}) is priced in {child.currency}, this kit in {spec['currency']}.")
        if child.pk in child_ids:
            sub_errors.append(f"Sub-kit {i}: {child} appears twice.")
        child_ids.add(child.pk)
    if kit is not None and child_ids:
        family = set(Kit.objects.filter(pk=kit.family_id or kit.pk).values_list("pk", flat=True))
        family |= set(Kit.objects.filter(family_id=kit.family_id or kit.pk).values_list("pk", flat=True))
        if _descendant_ids(child_ids) & family:
            sub_errors.append("A kit cannot contain itself, directly or through its sub-kits.")
    if sub_errors:
        errors["subkits"] = sub_errors
    assembly = spec.get("assembly")
    if assembly:
        factory: Organization = assembly["factory"]
        problems = []
        if not factory.is_factory:
            problems.append(f"{factory} is not a factory.")
        if Decimal(assembly.get("setup_cost", 0)) < 0:
            problems.append("Setup cost must be zero or more.")
        breaks = [(int(q), Decimal(c)) for q, c in assembly.get("unit_cost_breaks", [])]
        problems += price_break_errors(breaks)
        if problems:
            errors["assembly"] = problems
    if errors:
        raise KitInvalid(errors)


def _write(kit: Kit, spec: dict) -> Kit:
    for name in KIT_FIELDS:
        setattr(kit, name, spec[name])
    assembly = spec.get("assembly")
    kit.assembly_factory = assembly["factory"] if assembly else None
    kit.assembly_setup_cost = Decimal(assembly.get("setup_cost", 0)) if assembly else Decimal(0)
    kit.private = bool(spec.get("private"))
    kit.full_clean(exclude=["family"])
    kit.save()
    kit.bom_lines.all().delete()
    kit.subkits.all().delete()
    kit.assembly_breaks.all().delete()
    lines = BomLine.objects.bulk_create([
        BomLine(kit=kit, part=line["part"], quantity=Decimal(line["quantity"]), designators=line.get("designators", ""),
                attrition=Decimal(line.get("attrition", 0)), position=i)
        for i, line in enumerate(spec["bom"])
    ])
    through = BomLine.substitutes.through
    through.objects.bulk_create([
        through(bomline_id=bom_line.pk, part_id=sub.pk)
        for bom_line, line in zip(lines, spec["bom"]) for sub in {s.pk: s for s in line.get("substitutes", [])}.values()
    ])
    SubKit.objects.bulk_create([SubKit(kit=kit, child=s["kit"], quantity=int(s.get("quantity", 1))) for s in spec["subkits"]])
    if assembly:
        AssemblyBreak.objects.bulk_create([
            AssemblyBreak(kit=kit, min_qty=int(q), unit_cost=Decimal(c)) for q, c in assembly.get("unit_cost_breaks", [])
        ])
    return kit


def _normalised(spec: dict) -> dict:
    assembly = spec.get("assembly")
    if assembly:
        assembly = {**assembly, "unit_cost_breaks": [
            (b["min_qty"], b["unit_cost"]) if isinstance(b, dict) else tuple(b) for b in assembly.get("unit_cost_breaks", [])
        ]}
    return {**spec, "assembly": assembly, "bom": list(spec.get("bom") or []), "subkits": list(spec.get("subkits") or [])}


@transaction.atomic
def kit_create(
    *,
    owner: Organization,
    name: str,
    bom: list[dict],
    subkits: list[dict] | None = None,
    assembly: dict | None = None,
    design_fee_per_unit: Decimal = Decimal("0"),
    nre: Decimal = Decimal("0"),
    currency: str | None = None,
    category: str = "",
    description: str = "",
    private: bool = False,
) -> Kit:
    """`bom`: [{"part": Part, "quantity": Decimal, "designators": str, "substitutes": [Part],
    "attrition": Decimal}]; `subkits`: [{"kit": Kit, "quantity": int}]; `assembly`: {"factory":
    Organization, "setup_cost": Decimal, "unit_cost_breaks": [(min_qty, unit_cost)]} or None.
    `private`: a buyer's own BOM as a kit (any organisation may own one; only it sees it)."""
    spec = _normalised({"name": name.strip(), "category": category, "description": description, "bom": bom,
                        "private": private,
                        "subkits": subkits, "assembly": assembly, "design_fee_per_unit": Decimal(design_fee_per_unit),
                        "nre": Decimal(nre), "currency": currency or owner.default_currency})
    _validate(owner, spec, kit=None)
    return _write(Kit(owner=owner, revision=1), spec)


def kit_spec(kit: Kit) -> dict:
    """The kit as kit_create's arguments (to revise it)."""
    return {
        **{name: getattr(kit, name) for name in KIT_FIELDS},
        "private": kit.private,
        "bom": [{"part": l.part, "quantity": l.quantity, "designators": l.designators, "attrition": l.attrition,
                 "substitutes": list(l.substitutes.all())} for l in kit.bom_lines.all()],
        "subkits": [{"kit": s.child, "quantity": s.quantity} for s in kit.subkits.all()],
        "assembly": {"factory": kit.assembly_factory, "setup_cost": kit.assembly_setup_cost,
                     "unit_cost_breaks": [(b.min_qty, b.unit_cost) for b in kit.assembly_breaks.all()]}
        if kit.assembly_factory_id else None,
    }


@transaction.atomic
def kit_update(*, kit: Kit, **changes) -> Kit:
    """Edit a kit. A frozen revision (used by a quote, order or trial) is never changed: the edit
    becomes a new revision of the same family, which is returned."""
    kit = Kit.objects.select_for_update().get(pk=kit.pk)
    if not kit.is_current:
        raise KitInvalid({"non_field_errors": [f"Revision {kit.revision} is not the latest; edit the latest revision."]})
    unknown = set(changes) - set(KIT_FIELDS) - {"bom", "subkits", "assembly"}
    if unknown:
        raise KitInvalid({name: ["This field cannot be changed."] for name in sorted(unknown)})
    spec = _normalised({**kit_spec(kit), **changes})
    _validate(kit.owner, spec, kit=kit)
    if not kit.frozen:
        return _write(kit, spec)
    kit.is_current = False
    kit.save(update_fields=["is_current", "updated_at"])
    family_id = kit.family_id or kit.pk
    revision = 1 + max([kit.revision, *Kit.objects.filter(family_id=family_id).values_list("revision", flat=True)])
    return _write(Kit(owner=kit.owner, family_id=family_id, revision=revision), spec)


def kit_freeze(*, kit: Kit) -> None:
    """Mark a kit and its sub-kits as used (a quote, order or trial refers to them)."""
    ids = _descendant_ids({kit.pk})
    Kit.objects.filter(pk__in=ids, frozen=False).update(frozen=True)
    kit.frozen = True


def kit_nre_record(*, buyer: Organization, payments: list[tuple[Kit, int, int, Decimal, str]]) -> None:
    """Record that `buyer` pays these kits' NRE: (kit, purchase order id, order id, amount,
    currency) each. A kit whose NRE the buyer has already paid (by a concurrent order, say) is
    refused: the order's quote charged it again, so ask for a new quote."""
    for kit, po_id, order_id, amount, currency in payments:
        try:
            with transaction.atomic():
                KitNrePaid.objects.create(kit=kit, buyer=buyer, purchase_order_id=po_id, order_id=order_id,
                                          amount=amount, currency=currency)
        except IntegrityError:
            paid = KitNrePaid.objects.filter(kit=kit, buyer=buyer).first()
            raise OrderInvalid({"quote": [
                f"You already paid the NRE of {kit} (order {paid.order_id if paid else '?'}); this quote charges it "
                "again. Ask for a new quote: it leaves the NRE out."
            ]}) from None


def kit_nre_release(*, purchase_order_id: int) -> int:
    """The purchase order that paid NRE was cancelled: the next order of those kits pays it."""
    deleted, _ = KitNrePaid.objects.filter(purchase_order_id=purchase_order_id).delete()
    return deleted
