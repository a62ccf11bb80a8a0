"""Safe YAML loading that remembers where each value came from.

Admins edit flows by hand, so every error must name the file and the line. PyYAML's safe
loader builds plain dicts and lists and forgets positions; this loader records the line of
every mapping key and sequence item, so checks can point at the exact spot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

MAX_YAML_BYTES = 512 * 1024  # flows are small; a bigger file is a mistake or an attack


class LineDict(dict[str, Any]):
    """A dict that knows the line of itself and of each of its keys (1-based)."""

    line: int
    key_lines: dict[str, int]


class LineList(list[Any]):
    """A list that knows its own line and the line of each item (1-based)."""

    line: int
    item_lines: list[int]


@dataclass(frozen=True, slots=True)
class YamlError(Exception):
    """A file could not be read as YAML; ``line`` is 1-based (0 when unknown)."""

    path: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.problem}"


class _LineLoader(yaml.SafeLoader):
    """SafeLoader (no arbitrary objects) that keeps line numbers on containers."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:  # type: ignore[override]
        mapping = LineDict()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            if key in mapping:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.key_lines[key] = key_node.start_mark.line + 1
        return mapping

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:  # type: ignore[override]
        items = LineList(self.construct_object(child, deep=True) for child in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [child.start_mark.line + 1 for child in node.value]
        return items


# YAML 1.1 reads on/off/yes/no as booleans, so an admin's `on:` (an action's outcomes) or a
# distrik answer "no" would silently change meaning. Like YAML 1.2, only true/false are booleans.
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping
)
_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _LineLoader.construct_sequence
)


def load_yaml_text(text: str, path: str) -> Any:
    """Parses YAML text safely, with line numbers; raises YamlError naming the file and line."""
    if len(text.encode("utf-8")) > MAX_YAML_BYTES:
        # Line 1, not 0 (unknown): the problem is the whole file, and editors jump to path:1.
        raise YamlError(path, 1, f"file is larger than {MAX_YAML_BYTES // 1024} KiB")
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        raise YamlError(path, line, str(error.problem or error)) from None
    except yaml.YAMLError as error:
        raise YamlError(path, 0, str(error)) from None


def line_of(container: Any, key: str | int | None = None) -> int:
    """The best-known line for ``container[key]`` (or the container itself)."""
    if isinstance(container, LineDict):
        if isinstance(key, str) and key in container.key_lines:
            return container.key_lines[key]
        return container.line
    if isinstance(container, LineList):
        if isinstance(key, int) and 0 <= key < len(container.item_lines):
            return container.item_lines[key]
        return container.line
    return 0
