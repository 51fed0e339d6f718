from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = _("Metrics")

    def ready(self) -> None:
        from hotline.jobs import register_step
        from metrics.hotspots import scan_step
        from metrics.quality import run_quality_sampling
        from metrics.reports import run_due_reports

        register_step("quality_sampling", run_quality_sampling)
        register_step("hotspots.scan", scan_step)
        register_step("reports", run_due_reports)
