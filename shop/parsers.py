"""The API's JSON parser: DRF's, with the limits checked before any parsing (API.md)."""

import io
import re
from itertools import accumulate

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Deeper documents are refused before Python's recursive decoder sees them (a 2 KB body
# nested 1,000 deep would otherwise raise RecursionError: a 500).
MAX_JSON_DEPTH = 32

# A string, escapes included; possessive, and an unterminated one runs to the end, so a match
# never fails and is never retried: linear whatever the text (an invalid one is refused later).
_STRING = re.compile(r'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of a JSON text nest (brackets inside strings aside)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser, after two checks on the raw body: its size (413 `request_too_large`
    over DATA_UPLOAD_MAX_MEMORY_SIZE) and its nesting (400 deeper than MAX_JSON_DEPTH)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            from shop.exceptions import RequestTooLarge  # it imports DRF's views, which import us

            raise RequestTooLarge()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        openings = text.count("[") + text.count("{")  # fast: no deeper than that
        if openings > MAX_JSON_DEPTH and json_depth(text) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return super().parse(io.BytesIO(body), media_type, parser_context)
