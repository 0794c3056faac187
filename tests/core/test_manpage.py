"""The man pages: drawn from the programs' own parsers, and rendered by man-db without a warning.

Each parser is walked here, independently of the generator, so a command, an option or a help
text missing from its page fails; the page is rendered by the real ``man -l`` and ``groff``
(Debian's man-db and groff-base), as lintian does.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from gatewayd import cli, ctl, manpage

DATE = datetime(2026, 11, 29, tzinfo=timezone.utc)
PAGES = {page.filename: page for page in manpage.pages()}
UTF8 = {**os.environ, "LC_ALL": "C.UTF-8", "MANWIDTH": "80"}


def commands(parser: argparse.ArgumentParser) -> Iterator[tuple[argparse.ArgumentParser, str | None]]:
    """Every subcommand at every depth, with the help its parent gave it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield sub, helps.get(name)
                yield from commands(sub)


def leaves(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    return (sub for sub, _ in commands(parser)
            if not any(isinstance(a, argparse._SubParsersAction) for a in sub._actions))


def roff(s: str) -> str:
    return s.replace("-", "\\-")


def rendered(path: Path) -> subprocess.CompletedProcess[str]:
    """``man --warnings -l`` as a desk's UTF-8 terminal shows it: the page on stdout, warnings on stderr."""
    return subprocess.run(["man", "--warnings", "-l", str(path)], capture_output=True, text=True, env=UTF8,
                          timeout=60)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("man")
    for name, page in PAGES.items():
        (out / name).write_text(manpage.render(page, date=DATE), encoding="utf-8")
    return {name: out / name for name in PAGES}


@pytest.mark.parametrize("name, parser", [("gatewayd.8", cli.parser()), ("gatewayctl.1", ctl.parser())])
def test_every_command_and_option_is_on_its_page(name: str, parser: argparse.ArgumentParser,
                                                 written: dict[str, Path]) -> None:
    page = written[name].read_text()
    found = list(commands(parser))
    assert len(found) > 5
    for sub, help in found:
        assert help, f"{sub.prog} has no help text: its man page entry would say nothing"
        assert roff(help) in page, sub.prog
    for leaf in leaves(parser):
        assert f"\\fB{roff(leaf.prog)}\\fR" in page, f"{leaf.prog} is not on {name}"
        for action in leaf._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"\\fB{roff(option)}\\fR" in page, f"{leaf.prog} {option} is not on {name}"


def test_a_new_subcommand_is_on_the_page_without_editing_it() -> None:
    page = manpage.pages()[1]
    subparsers = next(a for a in page.parser._actions if isinstance(a, argparse._SubParsersAction))
    added = subparsers.add_parser("lost-and-found", help="items left at the desk")
    added.add_argument("--since", help="local date")
    text = manpage.render(page, date=DATE)
    assert "\\fBgatewayctl lost\\-and\\-found\\fR [\\-\\-since SINCE]" in text
    assert "items left at the desk" in text


@pytest.mark.parametrize("name", sorted(PAGES))
def test_man_renders_the_page_without_warnings(name: str, written: dict[str, Path]) -> None:
    shown = rendered(written[name])
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr == "", shown.stderr
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "FILES", "EXIT STATUS", "SEE ALSO"):
        assert f"\n{heading}\n" in shown.stdout, heading
    groff = subprocess.run(["groff", "-ww", "-z", "-k", "-man", "-Tutf8", str(written[name])],
                           capture_output=True, text=True, timeout=60)
    assert (groff.returncode, groff.stderr) == (0, "")
    # the whatis line lintian and mandb read (lexgrog is man-db's own parser of it)
    whatis = subprocess.run(["lexgrog", str(written[name])], capture_output=True, text=True, timeout=60)
    program = name.split(".")[0]
    assert whatis.stdout.strip() == f'{written[name]}: "{program} - {PAGES[name].parser.description[0].lower()}' \
                                    f'{PAGES[name].parser.description[1:]}"'


def test_gatewayctl_page_says_who_may_use_it_and_its_exit_codes(written: dict[str, Path]) -> None:
    shown = rendered(written["gatewayctl.1"]).stdout
    assert "usermod -aG gatewayd-staff NAME" in " ".join(shown.split())  # not hyphenated: typed as shown
    status = shown[shown.index("\nEXIT STATUS\n"):shown.index("\nSEE ALSO\n")]
    for code in (ctl.EXIT_OK, ctl.EXIT_REFUSED, ctl.EXIT_USAGE, ctl.EXIT_UNREACHABLE):
        assert f"\n       {code}      " in status
    assert "/run/gatewayd/api.sock" in shown and "GATEWAYD_SOCKET" in shown
    daemon = rendered(written["gatewayd.8"]).stdout
    for path in ("/etc/gatewayd/gatewayd.toml", "/var/lib/gatewayd/spool", "/run/gatewayd/api.sock"):
        assert f"\n       {path}\n" in daemon


def test_help_text_cannot_inject_roff(tmp_path: Path) -> None:
    """A help text is text: a leading dot, a backslash or a font escape is printed, never obeyed."""
    parser = argparse.ArgumentParser(prog="gatewayctl", description="Front-desk control of gatewayd")
    sub = parser.add_subparsers(dest="command", required=True)
    hostile = ".so /etc/passwd"
    p = sub.add_parser("x", help=hostile)
    p.add_argument("--y", help="\\fBbold\\fR and 'quoted")
    p.add_argument("--z", help="'\\\" not a comment")
    page = manpage.Page(parser, 1, (("DESCRIPTION", (".TH evil",)),), ("gatewayd(8)",))
    path = tmp_path / "gatewayctl.1"
    path.write_text(manpage.render(page, date=DATE), encoding="utf-8")
    shown = rendered(path)
    assert shown.stderr == ""
    for said in (hostile, "\\fBbold\\fR and 'quoted", "'\\\" not a comment", ".TH evil"):
        assert said in shown.stdout, said
    assert "root:" not in shown.stdout
