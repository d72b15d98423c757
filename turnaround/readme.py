"""The README's command table, generated from the command line itself so the two cannot drift:
`python -m turnaround.readme` (`make readme`) rewrites it, and a test fails when it differs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from turnaround.commands import cli

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN = "<!-- commands: generated from `turnaround --help` by `make readme`; edit the help -->"
END = "<!-- end of commands -->"
SKIPPED = {"config", "help"}  # every command takes them; the text under the table says so


def signature(name: str, command: click.Command) -> str:
    """`turnaround load [--config FILE] [--strict] [SOURCE ...]`."""
    parts = [f"turnaround {name}"]
    for param in command.params:
        if isinstance(param, click.Option):
            if "help" in (param.name or ""):
                continue
            flag = max(param.opts, key=len)
            text = flag if param.is_flag else f"{flag} {param.metavar or param.name}"
            parts.append(text if param.required else f"[{text}]")
        else:
            parts.append(param.metavar or (param.name or "").upper())
    return " ".join(parts)


def description(command: click.Command) -> str:
    """The command's help, then each option's (but `--config`), as one line."""
    text = " ".join((command.help or "").split())
    for param in command.params:
        if isinstance(param, click.Option) and param.name not in SKIPPED and param.help:
            text += f" `{max(param.opts, key=len)}`: {' '.join(param.help.split())}."
    return text.replace("|", "\\|")


def table() -> str:
    """The markdown table of every command, in the order `--help` lists them."""
    context = click.Context(cli, info_name="turnaround")
    rows = ["| command | what it does |", "|---|---|"]
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        assert command is not None
        rows.append(f"| `{signature(name, command)}` | {description(command)} |")
    return "\n".join(rows)


def rewritten(readme: str) -> str:
    """The README with its command table replaced by the generated one."""
    start = readme.index(BEGIN) + len(BEGIN)
    end = readme.index(END)
    return readme[:start] + "\n" + table() + "\n" + readme[end:]


def main() -> int:
    text = README.read_text(encoding="utf-8")
    new = rewritten(text)
    if new != text:
        README.write_text(new, encoding="utf-8")
        print(f"{README}: command table rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
