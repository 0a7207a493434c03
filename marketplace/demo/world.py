"""Demo world, part 1: organisations, people and the demo logins, then the catalogue (parts,
listings from ~45 traders), nested solution kits and, with `--scale large`, a 1M-listing long tail.
The other apps' demo.py files add credit and trials to the same context."""

import json
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone
from django.utils.text import slugify
from tqdm import tqdm

from marketplace.catalogue.listings import listing_price_history_record
from marketplace.catalogue.models import (
    CategoryVocabulary,
    Listing,
    Part,
    PartPackBand,
    PartPriceBand,
    PriceBreak,
    listing_search_values,
    normalize_mpn,
    part_search_fields,
    search_text_of,
)
from marketplace.catalogue.price_bands import PACK_COLUMNS, SUMMARY_COLUMNS, summarise_with_packs
from marketplace.catalogue.units import normalise_parameters
from marketplace.demo.catalogue import (
    CAP_VALUES,
    CAPACITOR_FAMILIES,
    E12,
    PARTS,
    RESISTOR_FAMILIES,
)
from marketplace.kits.services import kit_create
from organizations.models import Organization
from organizations.services import membership_add, organization_create

DEMO_PASSWORD = "kitstreet"
T = TypeVar("T")


@dataclass
class DemoContext:
    rng: random.Random
    scale: str = "small"
    seed: int = 7
    stdout: object = None
    show_progress: bool = True
    orgs: dict[str, Organization] = field(default_factory=dict)  # by short key, e.g. "trader:huaxin"
    users: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # anything one seeder hands to the next

    def progress(self, iterable: Iterable[T], *, total: int | None = None, desc: str = "") -> Iterable[T]:
        """A progress bar on long runs (stderr), silent in tests."""
        return tqdm(iterable, total=total, desc=desc, disable=not self.show_progress, leave=False, unit_scale=True)

    def say(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message)

    def of_kind(self, kind: str) -> list[Organization]:
        return [org for key, org in self.orgs.items() if key.startswith(f"{kind}:")]


# (key, name, kinds, location, description) — stalls in the real buildings of Huaqiangbei.
ORGANIZATIONS = [
    ("trader:huaxin", "Hua Xin Electronics", ["trader"], "SEG Plaza 3F-3A12",
     "MCUs and wireless SoCs from Espressif, Nordic and ST, cut tape and reels."),
    ("trader:yuanwang", "Yuan Wang Components", ["trader"], "Huaqiang Electronics World 2F-B037",
     "Passives by the reel: Yageo, Murata, Samsung, UNI-ROYAL."),
    ("trader:saige", "Sai Ge Semiconductor", ["trader"], "SEG Plaza 1F-1C08",
     "Power management ICs, MOSFETs and battery chargers; TI, Injoinic, Richtek."),
    ("trader:mingtong", "Mingtong Passive Parts", ["trader"], "Mingtong Digital City 4F-412",
     "Connectors, switches and crystals; fast on small quantities."),
    ("trader:tongtian", "Tongtian Audio Parts", ["trader"], "Yuan Wang Digital Mall 3F-3056",
     "Bluetooth audio SoCs, MEMS microphones, speakers and Li-po cells."),
    ("solution:brightpath", "Bright Path Solutions", ["solution_house"], "Huaqiangbei Rd 1019, Room 1203",
     "Reference designs for BLE trackers, smart plugs and power banks."),
    ("solution:audiocore", "AudioCore Design House", ["solution_house"], "Saige Science Park 17F",
     "TWS earbuds and speaker solutions on BES and Bluetrum SoCs."),
    ("factory:longhua", "Longhua SMT Works", ["factory"], "Longhua District, Minzhi Building 7",
     "Two SMT lines, hand assembly and test; 200 to 20,000 units."),
    ("factory:baoan", "Bao'an Rapid Assembly", ["factory"], "Bao'an District, Fuyong Industrial Park B3",
     "Small-batch box build and packaging in 3 days."),
    ("buyer:lumen", "Lumen Labs", ["buyer"], "Nanshan, Shenzhen",
     "Hardware start-up: smart lighting and trackers."),
    ("buyer:pocket", "Pocket Robotics", ["buyer"], "Singapore",
     "Educational robot kits."),
    ("buyer:makerbox", "Makerbox Retail", ["buyer"], "Berlin",
     "Online shop for gadgets; runs a lot of small trials."),
    ("trader:newstall", "Xin Feng Trading", ["trader"], "Huaqiang Electronics World 3F-C22",
     "Newly joined stall, waiting for verification."),
]
UNVERIFIED = {"trader:newstall"}


def seed(ctx: DemoContext) -> None:
    User = get_user_model()
    password_hash = make_password(DEMO_PASSWORD)  # hash once: PBKDF2 per user would dominate seeding

    def user(username: str, **extra) -> object:
        obj = User.objects.create(username=username, password=password_hash, email=f"{username}@example.com", **extra)
        ctx.users[username] = obj
        return obj

    buyer, supplier = user("buyer", first_name="Lin"), user("supplier", first_name="Chen")
    user("operator", is_staff=True, is_superuser=True, first_name="Ops")

    owners = {"buyer:lumen": buyer, "trader:huaxin": supplier, "solution:brightpath": supplier}
    for key, name, kinds, location, description in ctx.progress(ORGANIZATIONS, desc="organisations"):
        owner = owners.get(key) or user(key.split(":")[1])
        ctx.orgs[key] = organization_create(
            owner=owner, name=name, kinds=kinds, location=location, description=description,
            verified=key not in UNVERIFIED,
        )
    # `buyer` also works for Pocket Robotics: people can belong to more than one organisation.
    membership_add(organization=ctx.orgs["buyer:pocket"], user=buyer)
    # Colleagues at Lumen Labs with other roles: an admin (manages people and credit) and a viewer
    # (reads everything, changes nothing).
    membership_add(organization=ctx.orgs["buyer:lumen"], user=user("buyer_admin", first_name="Ada"), role="admin")
    membership_add(organization=ctx.orgs["buyer:lumen"], user=user("buyer_viewer", first_name="Vic"), role="viewer")
    ctx.say(f"  {len(ctx.orgs)} organisations, {len(ctx.users)} people")
    seed_catalogue(ctx)
    Listing.objects.refresh_search_columns()  # bulk inserts skip the services that keep them
    seed_kits(ctx)
    if ctx.scale == "large":
        seed_large(ctx)


# --- Catalogue, listings and kits --------------------------------------------------------------------

STALL_BUILDINGS = ["SEG Plaza", "Huaqiang Electronics World", "Mingtong Digital City", "Yuan Wang Digital Mall",
                   "Tongtian Di", "Huaqiang Plaza", "New Asia Guoli", "Duty-Free Building"]
STALL_NAMES = ["Sheng Hua", "Jin Da", "Xin Yuan", "Hong Xing", "Fu Tian", "Long Teng", "Tian Yu", "Hai Tong",
               "Rui Feng", "Da Sheng", "Wan Li", "Chuang Xin", "Kai Yuan", "Bo Tong", "Heng Xin", "Yi Da"]
STALL_SUFFIXES = ["Electronics", "Components", "Semiconductor", "Trading", "Technology", "IC Supply"]
# Which named trader is strong in which categories (they list more of those, a bit cheaper).
SPECIALITIES = {
    "trader:huaxin": {"Wireless SoC", "MCU", "GNSS module"},
    "trader:yuanwang": {"Resistor", "Capacitor", "Inductor"},
    "trader:saige": {"Battery charger", "Power bank SoC", "LDO", "DC-DC", "AC-DC", "MOSFET", "Battery protection",
                     "Energy meter", "Diode", "TVS"},
    "trader:mingtong": {"Connector", "Switch", "Crystal", "LED", "Relay", "Antenna", "Battery holder"},
    "trader:tongtian": {"Bluetooth audio SoC", "MEMS microphone", "Speaker", "Audio amplifier", "Battery", "Buzzer"},
}
LONG_TAIL = [  # (manufacturer, MPN prefix, category, description, base price) for --scale large
    ("Texas Instruments", "SN74LVC1G", "Logic", "Single gate, SOT-23-5", "0.60"),
    ("Nexperia", "74HC", "Logic", "CMOS logic, SOIC", "0.45"),
    ("Yageo", "RC0201FR-07", "Resistor", "Thick-film resistor, 0201", "0.003"),
    ("Samsung", "CL03A", "Capacitor", "MLCC, 0201", "0.004"),
    ("Murata", "GRM033R6", "Capacitor", "MLCC, 0201", "0.006"),
    ("STMicroelectronics", "STM32L0", "MCU", "Low-power Cortex-M0+ MCU", "6.00"),
    ("GigaDevice", "GD25Q", "Flash", "SPI NOR flash", "1.20"),
    ("Winbond", "W25Q", "Flash", "SPI NOR flash", "1.40"),
    ("Diodes Inc", "AP2112K-", "LDO", "600 mA LDO, SOT-23-5", "0.40"),
    ("onsemi", "MMBT", "Transistor", "Small-signal transistor, SOT-23", "0.04"),
    ("Vishay", "SI23", "MOSFET", "Small-signal MOSFET, SOT-23", "0.20"),
    ("Sunlord", "MWSA", "Inductor", "Power inductor", "0.30"),
    ("Littelfuse", "SMBJ", "TVS", "TVS diode, SMB", "0.25"),
    ("TDK", "MPZ1005S", "Ferrite bead", "Ferrite bead, 0402", "0.02"),
]
TIERS = [(1, Decimal("1")), (10, Decimal("0.95")), (100, Decimal("0.88")), (1000, Decimal("0.80")), (5000, Decimal("0.74"))]


def _resistor_values() -> list[tuple[str, int]]:
    """(Yageo value code, ohms): 10R … 820K over the E12 series, plus the 5K1 USB-C pull-down."""
    out = []
    for decade in (1, 10, 100, 1000, 10_000, 100_000):
        for base in E12:
            ohms = int(base) * decade
            if ohms < 1000:
                code = f"{ohms}R"
            else:
                k = ohms / 1000
                code = f"{int(k)}K" if k == int(k) else f"{str(k).replace('.', 'K')}"
            out.append((code, ohms))
    out.append(("5K1", 5100))
    return out


def _uniroyal_code(ohms: int) -> str:
    digits = str(ohms)
    return f"{digits[:3]}{len(digits) - 3}" if ohms >= 100 else f"{digits}R0"


def catalogue_parts() -> list[dict]:
    """The demo catalogue as dicts (deterministic, no randomness)."""
    parts = [dict(manufacturer=m, mpn=mpn, category=c, description=d, parameters=p, base=Decimal(price))
             for m, mpn, c, d, p, price in PARTS]
    for manufacturer, pattern, package, price in RESISTOR_FAMILIES:
        for code, ohms in _resistor_values():
            if "{code}" in pattern and ohms < 100:
                continue
            mpn = pattern.format(value=code, code=_uniroyal_code(ohms))
            parts.append(dict(manufacturer=manufacturer, mpn=mpn, category="Resistor",
                              description=f"{code.replace('R', ' Ω') if code.endswith('R') else code.replace('K', 'k', 1)} ±1 % thick-film resistor, {package}",
                              parameters={"resistance": str(ohms), "tolerance": "1%", "package": package}, base=Decimal(price)))
    for manufacturer, pattern, package, dielectric, voltage, price in CAPACITOR_FAMILIES:
        for code, value in CAP_VALUES:
            parts.append(dict(manufacturer=manufacturer, mpn=pattern.format(code=code), category="Capacitor",
                              description=f"{value} {voltage} {dielectric} MLCC, {package}",
                              parameters={"value": value, "voltage": voltage, "dielectric": dielectric, "package": package},
                              base=Decimal(price) * (Decimal("1.6") if code in ("106", "475") else 1)))
    return parts


def _stall_traders(ctx: DemoContext, count: int) -> list[Organization]:
    """Extra verified stalls (no logins): the crowd of Huaqiangbei traders behind the named ones."""
    rng = random.Random(ctx.seed + 1)
    taken = set(Organization.objects.values_list("slug", flat=True))
    orgs = []
    for i in range(count):
        name = f"{STALL_NAMES[i % len(STALL_NAMES)]} {STALL_SUFFIXES[(i // len(STALL_NAMES)) % len(STALL_SUFFIXES)]}"
        if i >= len(STALL_NAMES) * len(STALL_SUFFIXES):
            name += f" {i // (len(STALL_NAMES) * len(STALL_SUFFIXES)) + 1}"
        slug = slugify(name)
        if slug in taken:
            slug = f"{slug}-{i}"
        taken.add(slug)
        building = STALL_BUILDINGS[i % len(STALL_BUILDINGS)]
        orgs.append(Organization(
            name=name, slug=slug, is_supplier=True, is_trader=True, verified=True, verified_at=timezone.now(),
            location=f"{building} {rng.randint(1, 5)}F-{rng.choice('ABCDE')}{rng.randint(1, 99):02d}",
            description="Stall trader: cut tape, reels and trays.", simulated=True,
        ))
    return Organization.objects.bulk_create(orgs, batch_size=1000)


def _listing_rows(rng: random.Random, part_id: int, base: Decimal, vendor_ids: list[int], *,
                  cheaper: set[int] = frozenset()) -> list[tuple]:
    """(vendor_id, part_id, stock, moq, multiple, lead, currency, date_code, breaks[(qty, price)])."""
    rows = []
    for vendor_id in vendor_ids:
        factor = Decimal(rng.randint(88, 125)) / 100 * (Decimal("0.93") if vendor_id in cheaper else 1)
        price = base * factor
        currency = "CNY"
        if rng.random() < 0.04:
            currency, price = "USD", price / Decimal("7.2")
        if base < Decimal("0.05"):  # passives: reels or cut tape
            reel = rng.random() < 0.5
            moq = multiple = rng.choice([5000, 10000]) if reel else 100
            tiers = [(moq, Decimal("1"))] + ([(moq * 10, Decimal("0.8"))] if reel else [(1000, Decimal("0.85")), (10000, Decimal("0.72"))])
            stock = rng.choice([0, moq * rng.randint(1, 40), moq * rng.randint(50, 400)])
        else:
            moq = rng.choice([1, 1, 1, 5, 10])
            multiple = rng.choice([1, 1, 1, 5]) if moq > 1 else 1
            cut = rng.randint(2, len(TIERS))
            tiers = TIERS[:cut]
            stock = rng.choice([0, rng.randint(50, 1000), rng.randint(1000, 10000), rng.randint(5000, 60000),
                                rng.randint(5000, 60000)])
        lead = 0 if stock and rng.random() < 0.85 else rng.choice([3, 5, 7, 14, 21])
        breaks = []
        for qty, step in tiers:
            unit = (price * step).quantize(Decimal("0.000001"), ROUND_HALF_UP)
            if breaks and unit >= breaks[-1][1]:
                continue
            breaks.append((qty, max(unit, Decimal("0.000100"))))
        rows.append((vendor_id, part_id, stock, moq, multiple, lead, currency, f"{rng.randint(22, 25)}{rng.randint(1, 52):02d}", breaks))
    return rows


def seed_catalogue(ctx: DemoContext) -> None:
    rng = ctx.rng
    specs = catalogue_parts()
    parts = []
    for spec in specs:
        part = Part(manufacturer=spec["manufacturer"], mpn=spec["mpn"], category=spec["category"],
                    description=spec["description"][:300], parameters=spec["parameters"],
                    mpn_normalized=normalize_mpn(spec["mpn"]))
        part_search_fields(part)  # bulk_create skips save()
        parts.append(part)
    parts = Part.objects.bulk_create(parts, batch_size=1000)
    ctx.extra["parts"] = {p.mpn: p for p in parts}
    stalls = _stall_traders(ctx, 40)
    named = {key: org for key, org in ctx.orgs.items() if key.startswith("trader:")}
    vendor_pool = [o.pk for o in stalls]
    rows = []
    for part, spec in ctx.progress(list(zip(parts, specs)), desc="listings"):
        specialists = [org.pk for key, org in named.items() if spec["category"] in SPECIALITIES.get(key, ())]
        others = [org.pk for key, org in named.items() if org.pk not in specialists and rng.random() < 0.15]
        vendors = specialists + others + rng.sample(vendor_pool, rng.randint(3, 7))
        rows += _listing_rows(rng, part.pk, spec["base"], vendors, cheaper=set(specialists))
    _bulk_listings(rows, location_of={o.pk: o.location for o in [*stalls, *named.values()]})

    listing_price_history_record(list(Listing.objects.values_list("pk", flat=True)))  # the history starts here
    ctx.say(f"  {len(parts)} parts, {len(rows)} listings from {len(stalls) + len(named)} traders")


def _bulk_listings(rows: list[tuple], *, location_of: dict[int, str]) -> None:
    now = timezone.now()
    listings = Listing.objects.bulk_create([
        Listing(vendor_id=v, part_id=p, stock=s, moq=m, multiple=mu, lead_time_days=lt, currency=c, date_code=dc,
                location=location_of.get(v, "")[:100], created_at=now, updated_at=now)
        for v, p, s, m, mu, lt, c, dc, _ in rows
    ], batch_size=2000)
    PriceBreak.objects.bulk_create([
        PriceBreak(listing_id=listing.pk, min_qty=q, unit_price=price)
        for listing, row in zip(listings, rows) for q, price in row[8]
    ], batch_size=5000)


# Kits: key -> (owner, name, category, description, bom [(mpn, qty, attrition, [substitute mpns], designators)],
#               subkits [(key, qty)], assembly (factory key, setup, [(min_qty, unit_cost)]) or None, design fee, NRE)
KITS = [
    ("m:charger", "solution:brightpath", "Li-ion charger module (TP4056)", "Module", "1 A linear charger with protection, for any 1-cell product.",
     [("TP4056", 1, "0.01", ["MCP73831T-2ACI/OT"], "U1"), ("DW01A", 1, "0.01", [], "U2"), ("FS8205A", 1, "0.01", [], "Q1"),
      ("RC0402FR-071K2L", 1, "0.02", [], "R1"), ("RC0402FR-071KL", 2, "0.02", [], "R2,R3"),
      ("CL05A105KA5NNNC", 2, "0.03", ["GRM155R61A105KE15D"], "C1,C2"), ("CL10A106KP8NNNC", 2, "0.03", [], "C3,C4"),
      ("19-217/GHC-YR1S2/3T", 2, "0.02", [], "D1,D2")], [], None, "0.20", "0"),
    ("m:usbc", "solution:brightpath", "USB-C input module", "Module", "USB-C receptacle with CC pull-downs and ESD protection.",
     [("TYPE-C-31-M-12", 1, "0.01", [], "J1"), ("RC0402FR-075K1L", 2, "0.02", ["0402WGF5101TCE"], "R1,R2"),
      ("PESD5V0S1BA", 1, "0.01", [], "D1"), ("CL05A104KA5NNNC", 1, "0.03", ["GRM155R71C104KA88D"], "C1")], [], None, "0.10", "0"),
    ("m:ble", "solution:brightpath", "BLE core module (nRF52810)", "Module", "nRF52810 with crystals, DC-DC and chip antenna; FCC-tested layout.",
     [("NRF52810-QCAA-R", 1, "0.01", [], "U1"), ("7M32070001", 1, "0.01", [], "Y1"), ("Q13FC1350000400", 1, "0.01", [], "Y2"),
      ("AN2051", 1, "0.01", [], "ANT1"), ("GRM155R71C104KA88D", 6, "0.03", ["CL05A104KA5NNNC"], "C1-C6"),
      ("CL05A105KA5NNNC", 2, "0.03", [], "C7,C8"), ("CL05A100KA5NNNC", 2, "0.03", [], "C9,C10"), ("SDFL2012T100KTF", 1, "0.01", [], "L1")],
     [], None, "0.80", "0"),
    ("m:esp", "solution:brightpath", "ESP32-C3 Wi-Fi controller", "Module", "ESP32-C3-MINI-1 with 3.3 V LDO, reset and boot buttons.",
     [("ESP32-C3-MINI-1-N4", 1, "0.01", [], "U1"), ("SGM2036-3.3YN5G/TR", 1, "0.01", ["RT9193-33GB"], "U2"),
      ("CL05A104KA5NNNC", 4, "0.03", ["GRM155R71C104KA88D"], "C1-C4"), ("CL10A106KP8NNNC", 2, "0.03", [], "C5,C6"),
      ("RC0402FR-0710KL", 3, "0.02", ["0402WGF1002TCE"], "R1-R3"), ("TS-1187A-B-A-B", 2, "0.01", [], "SW1,SW2")], [], None, "1.00", "0"),
    ("m:bes", "solution:audiocore", "TWS audio core (BES2300)", "Module", "BES2300 Bluetooth 5.2 ANC audio core, one per earbud.",
     [("BES2300YP", 1, "0.01", [], "U1"), ("X322540MSB4SI", 1, "0.01", [], "Y1"), ("CL05A104KA5NNNC", 10, "0.03", [], "C1-C10"),
      ("CL05A105KA5NNNC", 4, "0.03", [], "C11-C14"), ("LQM2HPN2R2MG0L", 1, "0.01", [], "L1"), ("RC0402FR-0710KL", 4, "0.02", [], "R1-R4")],
     [], None, "2.50", "0"),
    ("m:mics", "solution:audiocore", "MEMS microphone pair", "Module", "Two matched MEMS microphones for call noise reduction.",
     [("S15OT421-005", 2, "0.02", [], "MK1,MK2"), ("CL05A104KA5NNNC", 2, "0.03", [], "C1,C2")], [], None, "0.30", "0"),
    ("m:case", "solution:audiocore", "TWS charging case", "Module", "500 mAh charging case: charger, USB-C, PY32 MCU and three LEDs.",
     [("GSP603040-500MAH", 1, "0.01", [], "BT1"), ("PY32F002AF15P6TU", 1, "0.01", ["CH32V003F4P6"], "U1"),
      ("19-217/GHC-YR1S2/3T", 3, "0.02", [], "D1-D3"), ("AO3400A", 2, "0.01", ["SI2302CDS-T1-GE3"], "Q1,Q2"),
      ("SGM2036-3.3YN5G/TR", 1, "0.01", [], "U2")], [("m:charger", 1), ("m:usbc", 1)], None, "1.50", "0"),
    ("k:tws", "solution:audiocore", "TWS earbuds with ANC", "Audio", "True-wireless earbuds on BES2300 with ANC, 40 mAh buds and a 500 mAh case.",
     [("GRP7840-40MAH", 2, "0.01", [], "BT1,BT2"), ("DY-10MM-32R", 2, "0.02", [], "SPK1,SPK2")],
     [("m:bes", 2), ("m:mics", 2), ("m:case", 1)], ("factory:longhua", "800", [(1, "9.00"), (500, "6.50"), (2000, "5.20")]), "6.00", "12000"),
    ("k:tracker", "solution:brightpath", "BLE tracker tag", "Trackers", "Coin-cell key finder: BLE 5, buzzer, motion wake-up, one-year battery.",
     [("HNB09A03", 1, "0.01", [], "BZ1"), ("3034TR", 1, "0.01", [], "BT1"), ("CR2032", 1, "0", [], "BT1"),
      ("LIS2DH12TR", 1, "0.01", [], "U2"), ("TS-1187A-B-A-B", 1, "0.01", ["PTS526SM15SMTR2LFS"], "SW1"),
      ("19-217/GHC-YR1S2/3T", 1, "0.02", [], "D1"), ("RC0402FR-071KL", 2, "0.02", [], "R1,R2")],
     [("m:ble", 1)], ("factory:longhua", "300", [(1, "3.50"), (500, "2.20"), (2000, "1.60")]), "1.20", "3000"),
    ("k:powerbank", "solution:brightpath", "Power bank 10,000 mAh, PD 18 W", "Power", "Four 18650 cells, IP5328P with PD/QC, USB-C in and out.",
     [("IP5328P", 1, "0.01", [], "U1"), ("INR18650-26V", 4, "0", [], "BT1-BT4"), ("19-217/GHC-YR1S2/3T", 4, "0.02", [], "D1-D4"),
      ("LQM2HPN2R2MG0L", 1, "0.01", [], "L1"), ("CL10A106KP8NNNC", 6, "0.03", [], "C1-C6"), ("AO3400A", 2, "0.01", [], "Q1,Q2"),
      ("RC0402FR-0710KL", 6, "0.02", [], "R1-R6")],
     [("m:usbc", 1)], ("factory:baoan", "500", [(1, "8.00"), (500, "5.50")]), "2.00", "5000"),
    ("k:powerbank-mini", "solution:brightpath", "Power bank 5,000 mAh mini", "Power", "Two-cell pocket power bank on IP5306.",
     [("IP5306", 1, "0.01", [], "U1"), ("INR18650-26V", 2, "0", [], "BT1,BT2"), ("SDFL2012T100KTF", 1, "0.01", [], "L1"),
      ("CL10A106KP8NNNC", 4, "0.03", [], "C1-C4"), ("19-217/GHC-YR1S2/3T", 4, "0.02", [], "D1-D4")],
     [("m:usbc", 1)], ("factory:baoan", "300", [(1, "5.00"), (500, "3.80")]), "1.00", "2000"),
    ("k:plug", "solution:brightpath", "Wi-Fi smart plug with energy metering", "Smart home", "10 A relay, HLW8032 metering, ESP32-C3 for Wi-Fi and BLE provisioning.",
     [("HLW8032", 1, "0.01", [], "U3"), ("HF32FA-G/012-HSL1", 1, "0.01", [], "K1"), ("KP3310SGA", 1, "0.01", ["PN8034"], "U4"),
      ("SS34", 2, "0.02", [], "D1,D2"), ("AO3400A", 1, "0.01", ["SI2302CDS-T1-GE3"], "Q1"), ("RC0603FR-07100KL", 4, "0.02", [], "R1-R4"),
      ("CL10A106KP8NNNC", 4, "0.03", [], "C1-C4"), ("19-217/GHC-YR1S2/3T", 1, "0.02", [], "D3")],
     [("m:esp", 1)], ("factory:longhua", "400", [(1, "6.00"), (1000, "4.20")]), "2.50", "6000"),
    ("k:climate", "solution:brightpath", "Room climate sensor", "Smart home", "Temperature and humidity over Wi-Fi, USB-C powered.",
     [("SHT40-AD1B-R2", 1, "0.01", [], "U3"), ("CL05A104KA5NNNC", 2, "0.03", [], "C10,C11")],
     [("m:esp", 1), ("m:usbc", 1)], ("factory:baoan", "200", [(1, "3.00"), (500, "2.00")]), "1.50", "1500"),
    ("k:band", "solution:brightpath", "Fitness band", "Wearables", "nRF52832 band with 6-axis IMU and a 200 mAh cell.",
     [("NRF52832-QFAA-R", 1, "0.01", [], "U1"), ("BMI270", 1, "0.01", ["LIS2DH12TR"], "U2"), ("GSP402030-200MAH", 1, "0.01", [], "BT1"),
      ("TPS62840DLCR", 1, "0.01", [], "U3"), ("7M32070001", 1, "0.01", [], "Y1"), ("Q13FC1350000400", 1, "0.01", [], "Y2"),
      ("CL05A104KA5NNNC", 8, "0.03", [], "C1-C8")],
     [("m:charger", 1)], ("factory:longhua", "600", [(1, "7.00"), (1000, "4.80")]), "3.00", "8000"),
    ("k:led", "solution:brightpath", "Addressable LED strip controller", "Lighting", "CH32V003 controller for WS2812 strips, two buttons, USB-C.",
     [("CH32V003F4P6", 1, "0.01", ["PY32F002AF15P6TU"], "U1"), ("SGM2036-3.3YN5G/TR", 1, "0.01", [], "U2"),
      ("AO3400A", 3, "0.01", [], "Q1-Q3"), ("TS-1187A-B-A-B", 2, "0.01", [], "SW1,SW2"), ("WS2812B-2020", 1, "0.02", [], "D1")],
     [("m:usbc", 1)], ("factory:baoan", "150", [(1, "2.00"), (1000, "1.20")]), "0.50", "800"),
    ("k:gps", "solution:brightpath", "GPS pet tracker", "Trackers", "GNSS + BLE collar tracker with a 200 mAh cell and motion sensing.",
     [("L76K", 1, "0.01", [], "U5"), ("GSP402030-200MAH", 1, "0.01", [], "BT1"), ("LIS2DH12TR", 1, "0.01", [], "U6")],
     [("m:ble", 1), ("m:charger", 1)], ("factory:longhua", "500", [(1, "6.50"), (500, "4.50")]), "2.80", "6000"),
    ("k:speaker", "solution:audiocore", "Bluetooth speaker 3 W", "Audio", "Pocket speaker on JieLi AC6956C with a 40 mm driver and an 18650 cell.",
     [("AC6956C", 1, "0.01", ["AB5376T"], "U1"), ("NS4150B", 1, "0.01", [], "U2"), ("DY-40MM-4R3W", 1, "0.01", [], "SPK1"),
      ("INR18650-26V", 1, "0", [], "BT1"), ("TS-1187A-B-A-B", 3, "0.01", [], "SW1-SW3"), ("CL05A104KA5NNNC", 8, "0.03", [], "C1-C8")],
     [("m:charger", 1), ("m:usbc", 1)], ("factory:baoan", "400", [(1, "5.00"), (500, "3.50")]), "1.80", "4000"),
    ("k:remote", "solution:brightpath", "BLE remote button", "Smart home", "Coin-cell BLE button on Telink TLSR8258 for scenes and doorbells.",
     [("TLSR8258F512ET32", 1, "0.01", [], "U1"), ("CR2032", 1, "0", [], "BT1"), ("3034TR", 1, "0.01", [], "BT1"),
      ("TS-1187A-B-A-B", 2, "0.01", [], "SW1,SW2"), ("X322540MSB4SI", 1, "0.01", [], "Y1"), ("CL05A104KA5NNNC", 3, "0.03", [], "C1-C3")],
     [], ("factory:baoan", "150", [(1, "1.80"), (1000, "1.10")]), "0.60", "1200"),
]


def seed_kits(ctx: DemoContext) -> None:
    parts = {p.mpn: p for p in Part.objects.all()}
    kits = {}
    for key, owner_key, name, category, description, bom, subkits, assembly, fee, nre in ctx.progress(KITS, desc="kits"):
        owner = ctx.orgs[owner_key]
        lines = [{"part": parts[mpn], "quantity": Decimal(qty), "attrition": Decimal(attrition),
                  "substitutes": [parts[s] for s in subs if s in parts], "designators": designators}
                 for mpn, qty, attrition, subs, designators in bom if mpn in parts]
        kits[key] = kit_create(
            owner=owner, name=name, category=category, description=description, bom=lines,
            subkits=[{"kit": kits[k], "quantity": q} for k, q in subkits],
            assembly={"factory": ctx.orgs[assembly[0]], "setup_cost": Decimal(assembly[1]),
                      "unit_cost_breaks": [(q, Decimal(c)) for q, c in assembly[2]]} if assembly else None,
            design_fee_per_unit=Decimal(fee), nre=Decimal(nre), currency="CNY",
        )
    ctx.extra["kits"] = kits
    ctx.say(f"  {len(kits)} kits ({sum(1 for k in kits if k.startswith('m:'))} of them modules used inside others)")


# --- --scale large: ≥ 1,000,000 listings for benchmarks --------------------------------------------

LARGE_PARTS = 100_000
VARIANTS = ["", "TR", "DBVR", "-7", "G", "CSIG", "ESIG"]
LARGE_VENDORS = 1_000
LARGE_LISTINGS_PER_PART = 10


LARGE_CAP_VALUES = ["1pF", "10pF", "22pF", "100pF", "1nF", "10nF", "100nF", "220nF", "1uF", "2.2uF", "4.7uF", "10uF", "22uF"]
LARGE_RES_VALUES = ["10", "47", "100", "470", "1k", "4.7k", "10k", "47k", "100k", "1M"]


def _large_parameters(category: str, family: int, variant: str) -> dict:
    """Parameters a parametric search can filter on, varied per family like real series."""
    if category == "Capacitor":
        return {"value": LARGE_CAP_VALUES[family % len(LARGE_CAP_VALUES)], "voltage": ["6.3V", "10V", "16V", "25V", "50V"][family % 5],
                "package": "0201", "dielectric": ["X5R", "X7R", "C0G"][family % 3]}
    if category == "Resistor":
        return {"resistance": LARGE_RES_VALUES[family % len(LARGE_RES_VALUES)], "tolerance": "1%", "package": "0201"}
    if category == "Flash":
        return {"capacity": ["8Mbit", "16Mbit", "32Mbit", "64Mbit", "128Mbit"][family % 5], "package": ["SOIC8", "WSON8", "USON8"][family % 3]}
    if category == "LDO":
        return {"voltage": ["1.8V", "2.5V", "3.0V", "3.3V"][family % 4], "current": "600mA", "package": "SOT-23-5"}
    if category in ("MOSFET", "Transistor"):
        return {"vds": ["20V", "30V", "40V", "60V"][family % 4], "package": "SOT-23"}
    return {"package": ["SOT-23-5", "SOIC14", "TSSOP14", "QFN32"][family % 4]}


def large_catalogue_present() -> bool:
    manufacturer, prefix = LONG_TAIL[0][:2]
    return Part.objects.filter(manufacturer=manufacturer, mpn_normalized=normalize_mpn(f"{prefix}00000")).exists()


def seed_large(ctx: DemoContext) -> None:
    """A synthetic long tail on top of the demo world: 100k parts × ~10 vendors among 1,000
    stalls = 1M+ listings and ~3M price breaks. PostgreSQL: COPY; other databases: bulk_create."""
    rng = random.Random(ctx.seed + 2)
    stalls = _stall_traders(ctx, LARGE_VENDORS)
    vendor_ids = [o.pk for o in stalls]
    start = (Part.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    part_rows, bases = [], []
    for i in range(LARGE_PARTS):
        # Families of 7 variants under one stem, as real MPNs go (GD25Q64CSIG, GD25Q64ESIG, ...).
        family, variant = divmod(i, len(VARIANTS))
        manufacturer, prefix, category, description, price = LONG_TAIL[family % len(LONG_TAIL)]
        mpn = f"{prefix}{family:05d}{VARIANTS[variant]}"
        parameters = _large_parameters(category, family, VARIANTS[variant])
        part_rows.append((start + i, manufacturer, mpn, normalize_mpn(mpn), category, description, parameters, "active",
                          normalise_parameters(parameters, category=category),
                          search_text_of(manufacturer=manufacturer, mpn=mpn, category=category, description=description,
                                         parameters=parameters)))
        bases.append(Decimal(price) * Decimal(rng.randint(60, 180)) / 100)
    listing_start = (Listing.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    listing_rows, break_rows, next_id = [], [], listing_start
    verified = dict(Organization.objects.filter(pk__in=vendor_ids).values_list("pk", "verified"))
    for i in ctx.progress(range(LARGE_PARTS), total=LARGE_PARTS, desc="large: generate"):
        vendors = rng.sample(vendor_ids, LARGE_LISTINGS_PER_PART + (1 if i % 10 == 0 else 0))
        category = part_rows[i][4]
        for v, p, s, m, mu, lt, c, dc, breaks in _listing_rows(rng, start + i, bases[i], vendors):
            # The search columns as the listing services keep them, computed here: no UPDATE afterwards.
            search = listing_search_values(category=category, vendor_verified=verified[v], moq=m, breaks=breaks)
            listing_rows.append((next_id, v, p, s, m, mu, lt, c, "new", dc, "", True, *search))
            break_rows.extend((next_id, q, price) for q, price in breaks)
            next_id += 1
    # The parts' price summaries too, from the same rows (what `PartPriceBand.objects.refresh` reads).
    band_rows, pack_rows = summarise_with_packs(((r[0], r[2], r[7], r[4], r[5], r[12]) for r in listing_rows if r[13]),
                                                break_rows)
    _copy_or_bulk(ctx, part_rows, listing_rows, break_rows, band_rows, pack_rows)
    CategoryVocabulary.objects.rebuild()  # the categories' vocabulary, from the parts just written
    ctx.say(f"  large: {len(part_rows):,} parts, {len(listing_rows):,} listings, {len(break_rows):,} price breaks, "
            f"{len(vendor_ids):,} more stalls")


SEARCH_COLUMNS = ("category_key", "vendor_verified", "min_unit_price", "max_unit_price", "first_break_qty", "min_spend")


def _copy_or_bulk(ctx: DemoContext, part_rows: list, listing_rows: list, break_rows: list, band_rows: list[dict],
                  pack_rows: list[dict]) -> None:
    """Writes the rows with their search columns already computed. PostgreSQL: the tables' plain
    indexes are dropped, the rows COPYed, then the indexes built once over the whole table (much
    cheaper than updating them row by row); no UPDATE over the new rows."""
    now = timezone.now()
    if connection.vendor != "postgresql":
        Part.objects.bulk_create([Part(id=r[0], manufacturer=r[1], mpn=r[2], mpn_normalized=r[3], category=r[4],
                                       description=r[5], parameters=r[6], parameter_values=r[8], search_text=r[9],
                                       created_at=now) for r in part_rows], batch_size=5000)
        for chunk in ctx.progress(range(0, len(listing_rows), 20000), desc="large: listings"):
            Listing.objects.bulk_create([
                Listing(id=r[0], vendor_id=r[1], part_id=r[2], stock=r[3], moq=r[4], multiple=r[5], lead_time_days=r[6],
                        currency=r[7], condition=r[8], date_code=r[9], location=r[10], is_active=r[11], created_at=now,
                        updated_at=now, **dict(zip(SEARCH_COLUMNS, r[12:])))
                for r in listing_rows[chunk:chunk + 20000]])
        PriceBreak.objects.bulk_create([PriceBreak(listing_id=l, min_qty=q, unit_price=p) for l, q, p in break_rows],
                                       batch_size=20000)
        PartPriceBand.objects.bulk_create([PartPriceBand(**row) for row in band_rows], batch_size=20000)
        PartPackBand.objects.bulk_create([PartPackBand(**row) for row in pack_rows], batch_size=20000)
        return
    raw = connection.connection  # the psycopg connection, inside seed_demo's transaction
    tables = ("marketplace_part", "marketplace_listing", "marketplace_pricebreak", "marketplace_partpriceband",
              "marketplace_partpackband")
    with raw.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        deferred = _drop_plain_indexes(cursor, tables)
        with cursor.copy("COPY marketplace_part (id, manufacturer, mpn, mpn_normalized, category, description, "
                         "parameters, lifecycle, parameter_values, search_text, created_at) FROM STDIN") as copy:
            for r in part_rows:
                copy.write_row((*r[:6], json.dumps(r[6]), r[7], json.dumps(r[8]), r[9], now))
        with cursor.copy("COPY marketplace_listing (id, vendor_id, part_id, stock, moq, multiple, lead_time_days, currency, "
                         f"condition, date_code, location, is_active, {', '.join(SEARCH_COLUMNS)}, created_at, updated_at) "
                         "FROM STDIN") as copy:
            for r in ctx.progress(listing_rows, total=len(listing_rows), desc="large: COPY listings"):
                copy.write_row((*r, now, now))
        with cursor.copy("COPY marketplace_pricebreak (listing_id, min_qty, unit_price) FROM STDIN") as copy:
            for r in ctx.progress(break_rows, total=len(break_rows), desc="large: COPY price breaks"):
                copy.write_row(r)
        with cursor.copy(f"COPY marketplace_partpriceband ({', '.join(SUMMARY_COLUMNS)}) FROM STDIN") as copy:
            for row in ctx.progress(band_rows, total=len(band_rows), desc="large: COPY price summaries"):
                copy.write_row([row[c] for c in SUMMARY_COLUMNS])
        with cursor.copy(f"COPY marketplace_partpackband ({', '.join(PACK_COLUMNS)}) FROM STDIN") as copy:
            for row in ctx.progress(pack_rows, total=len(pack_rows), desc="large: COPY pack summaries"):
                copy.write_row([row[c] for c in PACK_COLUMNS])
        for table in ("marketplace_part", "marketplace_listing"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        # The rows' foreign keys are checked now (they are deferred to the commit, and an index
        # cannot be built on a table with checks pending), then the indexes are built.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for definition in ctx.progress(deferred, total=len(deferred), desc="large: indexes"):
            cursor.execute(definition)
        for table in tables:
            cursor.execute(f"ANALYZE {table}")  # fresh statistics, so the first searches get good plans


def _drop_plain_indexes(cursor, tables) -> list[str]:
    """Drops the tables' indexes that back no constraint (primary keys and unique constraints stay:
    foreign keys and the loader rely on them); returns their definitions to build them again."""
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", [list(tables)])
    rows = cursor.fetchall()
    for name, _ in rows:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _, definition in rows]
