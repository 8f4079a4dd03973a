"""The docs that ship in the repository: a short README, links that resolve, the contract
linked from the OpenAPI description."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {
        _anchor(line.lstrip("#")) for line in path.read_text().splitlines() if line.startswith("#")
    }


def test_readme_is_a_short_front_door():
    readme = (ROOT / "README.md").read_text()

    assert len(readme.encode()) < 6 * 1024
    # The two commands come first.
    assert readme.index("make run") < 200 and readme.index("make test") < 300
    assert "API.md" not in readme


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_relative_link_resolves(doc):
    broken = []
    for target in LINK.findall(doc.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        resolved = (doc.parent / path).resolve() if path else doc
        if not resolved.exists():
            broken.append(target)
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(target)

    assert broken == []


def test_no_doc_points_outside_the_repository_for_the_contract():
    for doc in DOCS:
        text = doc.read_text()
        assert "shared folder" not in text, doc
        assert re.search(r"(?<![\w/])API\.md", text) is None, doc


@pytest.mark.django_db
def test_openapi_description_links_the_contract_in_the_repository(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    description = response.json()["info"]["description"]
    assert "docs/api.md" in description
    assert (ROOT / "docs" / "api.md").is_file()
