"""Demo world, part 1: organisations, people and the demo logins. Later parts of this module and
the other apps' demo.py files add the catalogue, kits, credit and trials to the same context."""

import random
from dataclasses import dataclass, field
from typing import Iterable, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from tqdm import tqdm

from marketplace.models import Organization
from marketplace.services import membership_add, organization_create

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
    # A colleague at the buyer, to show that people can belong to more than one organisation.
    membership_add(organization=ctx.orgs["buyer:pocket"], user=buyer)
    ctx.say(f"  {len(ctx.orgs)} organisations, {len(ctx.users)} people")
