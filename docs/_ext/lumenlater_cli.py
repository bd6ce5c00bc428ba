"""``.. lumenlater-cli::``: the ``lumenlater`` command line, read from its own parser.

Walks :func:`lumenlater_sdk.cli.build_parser` (every subcommand, nested ones too) and
writes one section per command: what it does, its usage line and each argument with
its help, as ``lumenlater COMMAND --help`` prints them. Nothing is written by hand, so
a command or option added to the CLI appears in the reference on the next build.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

# The width usage lines are wrapped at (argparse reads COLUMNS), as in a wide terminal.
_COLUMNS = "90"


@dataclass(frozen=True)
class Command:
    """One command of the CLI: its full name, parser and one-line help."""

    prog: str
    parser: argparse.ArgumentParser
    summary: str | None


def commands(parser: argparse.ArgumentParser, summary: str | None = None) -> Iterator[Command]:
    """*parser* and every subcommand below it, depth first, aliases once."""
    yield Command(parser.prog, parser, summary)
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        seen: set[int] = set()
        for name, sub in action.choices.items():
            if id(sub) in seen or helps.get(name) == argparse.SUPPRESS:
                continue  # an alias of one already listed, or a hidden command
            seen.add(id(sub))
            yield from commands(sub, helps.get(name))


# Code in help text: ``x`` or `x` as written, and option names (``--forward-to``, ``-d``,
# not the "-zero" of "non-zero"), which would otherwise get typographic dashes.
_CODE = re.compile(r"``(.+?)``|`([^`]+)`|(?<![\w-])(--?[A-Za-z][\w-]*)")


def _escape(text: str) -> str:
    """*text* as reST: its code as inline literals, the rest with no markup character
    starting a construct; paragraphs (blank-line separated) kept."""
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        out, end = [], 0
        flat = " ".join(paragraph.split())
        for match in _CODE.finditer(flat):
            out.append(_plain(flat[end : match.start()]))
            out.append(_literal(next(g for g in match.groups() if g)))
            end = match.end()
        out.append(_plain(flat[end:]))
        paragraphs.append("".join(out))
    return "\n\n".join(paragraphs)


def _plain(text: str) -> str:
    return re.sub(r"([\\`*_|\[\]<>:])", r"\\\1", text)


def _literal(text: str) -> str:
    # Escaped on the outside: a literal followed by a letter ("``x``s") still ends.
    return "\\ ``" + text.replace("`", "'").strip() + "``\\ "


def _arguments(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    """``(invocation, help)`` of each argument but ``--help`` and the subcommand slot."""
    formatter = parser._get_formatter()
    rows = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if action.help == argparse.SUPPRESS:
            continue
        invocation = formatter._format_action_invocation(action)
        help_text = formatter._expand_help(action) if action.help else ""
        rows.append((invocation, help_text))
    return rows


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    """``(name, help)`` of the subcommands directly below *parser*."""
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if choice.help != argparse.SUPPRESS:
                    rows.append((choice.dest, choice.help or ""))
    return rows


def _section(command: Command, underline: str) -> list[str]:
    parser = command.parser
    lines = [command.prog, underline * len(command.prog), ""]
    texts = [t for t in (command.summary, parser.description) if t and t != argparse.SUPPRESS]
    if len(texts) == 2 and texts[1].startswith(texts[0]):
        texts = texts[1:]  # the description opens with the summary: say it once
    for text in texts:
        lines += [*_escape(text).splitlines(), ""]
    usage = parser.format_usage().strip().removeprefix("usage: ")
    lines += [".. code-block:: text", ""]
    lines += ["   " + line for line in usage.splitlines()]
    lines.append("")
    subcommands = _subcommands(parser)
    if subcommands:
        lines += ["Commands:", ""]
        for name, help_text in subcommands:
            target = f"{command.prog} {name}"
            lines += [f"* :ref:`{target} <{_label(target)}>`: {_escape(help_text)}"]
        lines.append("")
    arguments = _arguments(parser)
    if arguments:
        lines += ["Arguments:", ""]
        for invocation, help_text in arguments:
            lines.append("``" + invocation + "``")
            lines += ["   " + line for line in (_escape(help_text) or "\\ ").splitlines()]
            lines.append("")
    return lines


def _label(prog: str) -> str:
    return "cli-" + prog.replace(" ", "-")


class LumenLaterCli(SphinxDirective):
    """Renders every ``lumenlater`` command (no arguments or options)."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from lumenlater_sdk.cli import build_parser

        before = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = _COLUMNS
        try:
            lines: list[str] = []
            for command in commands(build_parser(), None):
                lines += [f".. _{_label(command.prog)}:", ""]
                lines += _section(command, "-")
        finally:
            if before is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = before
        container = nodes.section()  # a parent for the sections nested_parse adds
        source = self.get_source_info()[0] or "lumenlater-cli"
        nested_parse_with_titles(
            self.state, StringList(lines, source=source), container, self.content_offset
        )
        return list(container.children)


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("lumenlater-cli", LumenLaterCli)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
