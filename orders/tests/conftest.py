import pytest


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Admin pages render without `collectstatic` (no manifest) in tests."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
