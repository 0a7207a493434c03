from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "trials"

    def ready(self):
        # Services enqueue tasks by name (the outbox); registering them here lets any process,
        # not only a worker, run them eagerly or look them up.
        from trials import tasks  # noqa: F401

        # Orders paid by `demand_credit` get their line from a proven trial (trials.services.financing):
        # the marketplace is handed the function, it never imports trials.
        from marketplace.orders.financing import order_financer_register
        from trials.services.financing import trial_reorder_finance

        order_financer_register("demand_credit", trial_reorder_finance)
