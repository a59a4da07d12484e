"""One finding type for every static deploy rule (templates, crawler definitions, packaged code, linters).

``datalake deploy check`` prints each :class:`Finding` as ``<file>: <resource>: [<rule>] <message>``,
so a failure names where it is (a template, a crawler definition, the package manifest), which
resource, and which rule, whichever family of rules found it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

#: Where the layer templates live, relative to the repository root.
TEMPLATES_FOLDER = "cloudformation"


def template_file(layer: str) -> str:
    """The repository path of a layer's template (``cloudformation/<layer>.yaml``)."""
    return f"{TEMPLATES_FOLDER}/{layer}.yaml"


@dataclass(frozen=True)
class Finding:
    """One broken rule.

    Attributes
    ----------
    rule
        The rule's id (``versioned-export-imported``, ``crawler-incremental-needs-log``,
        ``cfn-lint E3012``...).
    file
        Where it is, relative to the repository root: ``cloudformation/<layer>.yaml``,
        ``crawlers/<name>.json``, ``cloudformation/params/<env>.json``, ``build/deploy/manifest.json``.
    resource
        The logical id, ``Outputs.<key>``, ``Parameters.<name>``, a crawler's name or an artifact key.
    message
        What was found and, where it helps, what to do.
    """

    rule: str
    file: str
    resource: str
    message: str

    @property
    def layer(self) -> str | None:
        """The layer whose template this is about, or None for other files."""
        path = PurePosixPath(self.file)
        if path.parent.as_posix() == TEMPLATES_FOLDER and path.suffix == ".yaml":
            return path.stem
        return None

    def __str__(self) -> str:
        return f"{self.file}: {self.resource}: [{self.rule}] {self.message}"
