"""Bench-only settings: the project's, with the baseline list's URLs (bench/catalog.py)."""

from shop.settings import *  # noqa: F403

ROOT_URLCONF = "bench.catalog_baseline"
