"""The apps' boundaries where import-linter cannot see them: the migration graph's dependencies
(strings, not imports) and the models' relations. The user model is the exception: any app
may point at settings.AUTH_USER_MODEL (and depend on the migration that creates it)."""

import pytest
from django.apps import apps
from django.conf import settings
from django.db.migrations.loader import MigrationLoader

# The layers of pyproject.toml's import-linter contract, highest first: an app may depend on
# the ones after it only.
LAYERS = ["analytics", "accounts", "orders", "inventory"]


def _allowed(importer: str, imported: str) -> bool:
    if importer == imported or imported not in LAYERS or importer not in LAYERS:
        return True
    return LAYERS.index(importer) < LAYERS.index(imported)


@pytest.mark.django_db
def test_migration_dependencies_follow_the_layers():
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    user_model = apps.get_model(settings.AUTH_USER_MODEL)._meta.app_label
    wrong = sorted(
        (key, parent.key)
        for key in graph.nodes
        for parent in graph.node_map[key].parents
        if not _allowed(key[0], parent.key[0]) and parent.key != graph.root_nodes(user_model)[0]
    )
    assert wrong == []


def test_model_relations_follow_the_layers():
    wrong = sorted(
        (model._meta.label, field.name, field.related_model._meta.label)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.is_relation
        and field.concrete
        and field.related_model._meta.label != settings.AUTH_USER_MODEL
        and not _allowed(model._meta.app_label, field.related_model._meta.app_label)
    )
    assert wrong == []
