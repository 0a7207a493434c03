"""`python manage.py run_trial --simulate --kit ID --org ID --arm "at 99:99:200" [--arm ...]`

Plans and runs one simulated trial end to end in this process (the same services the worker
calls), with a progress bar, then prints the report. `--trial ID` runs an existing draft instead.
"""

from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from config.api import validation_error_detail
from organizations.models import Organization
from marketplace.models import Kit
from trials.models import Trial
from trials.selectors import trial_report
from trials.services import trial_create, trial_run, trial_start


def parse_arm(text: str) -> dict:
    try:
        label, price, units = text.rsplit(":", 2)
        return {"label": label, "unit_price": Decimal(price), "units": int(units)}
    except (ValueError, InvalidOperation):
        raise CommandError(f"--arm takes LABEL:PRICE:UNITS, e.g. 'at 99:99:200' (got {text!r})") from None


class Command(BaseCommand):
    help = "Run one simulated market trial from the shell and print its report."

    def add_arguments(self, parser):
        parser.add_argument("--simulate", action="store_true", required=True,
                            help="required: the shell only runs simulated trials (live ones need real sales)")
        parser.add_argument("--trial", type=int, help="run this existing simulated draft")
        parser.add_argument("--kit", type=int, help="kit id (default: the first visible kit)")
        parser.add_argument("--org", type=int, help="buyer organisation id (default: the first buyer)")
        parser.add_argument("--name", default="Shell trial")
        parser.add_argument("--arm", action="append", default=[], help="LABEL:PRICE:UNITS, repeatable")
        parser.add_argument("--window", type=int, default=30, help="window in days (default 30)")
        parser.add_argument("--scale-at", default="0.8")
        parser.add_argument("--kill-below", default="0.3")
        parser.add_argument("--base-daily", type=float, default=3.0)
        parser.add_argument("--dispersion", type=float, default=2.0)
        parser.add_argument("--elasticity", type=float, default=-1.5)
        parser.add_argument("--reference-price", default=None)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **o):
        if o["trial"]:
            trial = Trial.objects.filter(pk=o["trial"], mode=Trial.Mode.SIMULATED, status=Trial.Status.DRAFT).first()
            if trial is None:
                raise CommandError(f"No simulated draft trial {o['trial']}.")
        else:
            trial = self._create(o)
        trial_start(trial=trial, enqueue=False)  # run here, in this process
        bar = tqdm(total=100, desc=f"trial {trial.pk} (simulated)", unit="%", file=self.stderr._out)

        def progress(t):
            bar.update(round(t.progress * 100) - bar.n)
            bar.set_postfix_str(f"{t.status}, day {t.sim_day}/{t.window_days}")

        trial = trial_run(trial_id=trial.pk, on_progress=progress)
        bar.close()
        self._print(trial)

    def _create(self, o) -> Trial:
        arms = [parse_arm(a) for a in o["arm"]] or [{"label": "at 99", "unit_price": Decimal("99"), "units": 100}]
        org = Organization.objects.filter(pk=o["org"]).first() if o["org"] else Organization.objects.filter(is_buyer=True).first()
        kit = Kit.objects.filter(pk=o["kit"]).first() if o["kit"] else Kit.objects.filter(is_active=True, owner__verified=True).first()
        if org is None or kit is None:
            raise CommandError("Need a buyer organisation and a kit (run `manage.py seed_demo` first, or pass --org and --kit).")
        user = org.memberships.select_related("user").first()
        user = user.user if user else get_user_model().objects.filter(is_superuser=True).first()
        demand = {"base_daily": o["base_daily"], "dispersion": o["dispersion"], "elasticity": o["elasticity"],
                  "seed": o["seed"], "reference_price": o["reference_price"]}
        try:
            return trial_create(
                organization=org, created_by=user, name=o["name"], kit=kit, mode=Trial.Mode.SIMULATED,
                window_days=o["window"], scale_at=Decimal(o["scale_at"]), kill_below=Decimal(o["kill_below"]),
                arms=arms, demand=demand,
            )
        except ValidationError as exc:
            raise CommandError(f"Invalid trial: {validation_error_detail(exc)}") from None

    def _print(self, trial: Trial) -> None:
        report = trial_report(trial=trial)
        w = self.stdout.write
        w(f"\nTrial {trial.pk} “{trial.name}” — SIMULATED (demand model, no orders, no money) — {trial.status}")
        if trial.status == Trial.Status.FAILED:
            w(self.style.ERROR(f"Failed: {trial.failure_reason}"))
            return
        w(f"Kit {trial.kit} · window {trial.window_days} days · scale at ≥ {trial.scale_at}, kill below {trial.kill_below}")
        header = f"{'arm':<14}{'price':>9}{'recv':>6}{'sold':>6}{'sell-thr':>9}{'out days':>9}{'margin/unit':>12}{'P(scale)':>9}{'P(kill)':>8}  verdict"
        w(header)
        w("-" * len(header))
        for arm in report["arms"]:
            w(f"{arm['label'][:13]:<14}{arm['unit_price']:>9}{arm['units_received']:>6}{arm['units_sold']:>6}"
              f"{arm['sell_through'] * 100:>8.0f}%{arm['stockout_days']:>9}{arm['margin_per_stocked_unit']:>12}"
              f"{arm['p_reach_scale']:>9.2f}{arm['p_below_kill']:>8.2f}  {arm['verdict']}{' (censored)' if arm['censored'] else ''}")
        w(f"\nCash deployed {report['cash']['deployed']} {trial.currency} (quoted, not paid) · recovered {report['cash']['recovered']} {trial.currency}")
        style = {"scale": self.style.SUCCESS, "kill": self.style.ERROR}.get(trial.verdict, self.style.WARNING)
        w(style(f"Verdict: {trial.verdict.upper()}"))
        w(trial.verdict_reason)
        for arm in report["arms"]:
            w(f"  · {arm['reason']}")
