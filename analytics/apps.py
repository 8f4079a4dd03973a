from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "analytics"

    def ready(self):
        # orders imports no analytics: it calls the recorders registered with it.
        from analytics.recorder import sales_record
        from orders.sales import sales_recorder_register

        sales_recorder_register(sales_record)
