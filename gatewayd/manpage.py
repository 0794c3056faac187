"""Man pages drawn from the programs' own parsers: gatewayd(8) and gatewayctl(1).

``python -m gatewayd.manpage DIR`` writes ``DIR/gatewayd.8`` and ``DIR/gatewayctl.1`` (roff with
the man(7) macros); scripts/build-deb.sh runs it on the code it packages and installs the pages
gzipped. Every command, argument, usage line and help text comes from the argparse parser the
program parses its own command line with (``gatewayd.cli.parser``, ``gatewayd.ctl.parser``), so a
page cannot drift from the program. What a parser has nothing to say about — what the daemon is,
who may use it, its files and exit codes — is written below, naming the constants it describes.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import gatewayd
from gatewayd import cli, config, ctl

#: A section's body: paragraphs (str) and tagged paragraphs ((tag, text), the tag in bold).
Body = tuple[str | tuple[str, str], ...]


@dataclass(frozen=True)
class Page:
    parser: argparse.ArgumentParser
    section: int
    sections: tuple[tuple[str, Body], ...]  # hand-written: DESCRIPTION first, the rest after COMMANDS
    see_also: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.parser.prog

    @property
    def filename(self) -> str:
        return f"{self.name}.{self.section}"


# --- roff ----------------------------------------------------------------------------------------

def text(s: str) -> str:
    r"""Plain text for roff: backslashes and hyphens escaped (``\-`` is the one to type in an option)."""
    return " ".join(s.split()).replace("\\", "\\e").replace("-", "\\-")


def line(s: str) -> str:
    """An output line of text: one starting with a control character ('.', "'") is protected."""
    return "\\&" + s if s.startswith((".", "'")) else s


def words(s: str) -> str:
    r"""Text of argparse's making: a list of choices ``{a,b,c}`` may break after a comma (``\:``)."""
    return text(s).replace(",", ",\\:")


def bold(s: str) -> str:
    return f"\\fB{text(s)}\\fR"


def italic(s: str) -> str:
    return f"\\fI{words(s)}\\fR"


def _formatter(parser: argparse.ArgumentParser) -> argparse.HelpFormatter:
    """argparse's own formatter (the one behind ``--help``), on one endless line."""
    return argparse.HelpFormatter(parser.prog, width=1 << 16)


def _shown(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The arguments a page lists: all but ``-h`` (said once, in OPTIONS) and suppressed ones."""
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction) and a.help != argparse.SUPPRESS]


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser, str]]:
    """(name, parser, help) of each subcommand, in the order they were added (aliases once)."""
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            seen: set[int] = set()
            for name, sub in action.choices.items():
                if id(sub) not in seen and helps.get(name) != argparse.SUPPRESS:
                    seen.add(id(sub))
                    out.append((name, sub, helps.get(name) or ""))
    return out


def usage(parser: argparse.ArgumentParser, *, commands: bool = False) -> str:
    """The usage line argparse prints, the program in bold; ``commands``: COMMAND for the list."""
    actions = [a for a in _shown(parser) if not (commands and isinstance(a, argparse._SubParsersAction))]
    formatter = _formatter(parser)
    formatter.add_usage(None, actions, parser._mutually_exclusive_groups, prefix="")
    said = formatter.format_help().strip()
    assert said.startswith(parser.prog), said
    rest = said[len(parser.prog):].strip()
    tail = " \\fICOMMAND\\fR [\\fIARGS\\fR]" if commands else ""
    return line(bold(parser.prog) + (" " + words(rest) if rest else "") + tail)


def _arguments(parser: argparse.ArgumentParser, actions: list[argparse.Action]) -> list[str]:
    """Each argument tagged as in ``--help``, its choices named by the argument and listed in the text."""
    formatter = _formatter(parser)
    out = []
    for action in actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        named = copy.copy(action)
        if action.choices is not None and action.metavar is None:
            named.metavar = action.dest.upper() if action.option_strings else action.dest
        if action.option_strings:
            args = formatter._format_args(named, action.dest.upper()) if action.nargs != 0 else ""
            tag = ", ".join(bold(o) for o in action.option_strings) + (f" {italic(args)}" if args else "")
        else:
            tag = italic(formatter._format_args(named, action.dest))
        said = [formatter._expand_help(action)] if action.help else []
        if action.choices is not None:
            said.insert(0, f"One of: {', '.join(map(str, action.choices))}.")
        out += [".TP", line(tag)] + ([line(text(" ".join(said)))] if said else [])
    return out


def _command(parser: argparse.ArgumentParser, help: str, *, top: bool) -> list[str]:
    """A group of commands is a subsection; a command its usage line, help and arguments."""
    children = _subcommands(parser)
    heading = [f".SS {text(parser.prog.split(' ', 1)[1])}"]
    if children:
        out = heading + ([".PP", line(text(help))] if help else [])
        for _, child, child_help in children:
            out += _command(child, child_help, top=False)
        return out
    out = (heading if top else []) + [".TP", usage(parser)]
    if help:
        out.append(line(text(help)))
    arguments = _arguments(parser, _shown(parser))
    if arguments:
        out += [".RS", *arguments, ".RE"]
    return out


def _section(heading: str, body: Body) -> list[str]:
    out = [f".SH {heading}"]
    for block in body:
        if isinstance(block, tuple):
            out += [".TP", line(bold(block[0])), line(text(block[1]))]
        else:
            out += [".PP"] if out[-1] != f".SH {heading}" else []  # a heading starts a paragraph
            out.append(line(text(block)))
    return out


def render(page: Page, *, date: datetime) -> str:
    parser = page.parser
    description = (parser.description or "").strip()
    (first, first_body), *after = page.sections
    assert first == "DESCRIPTION", first
    top_options = [a for a in parser._actions if a.option_strings and a.help != argparse.SUPPRESS]
    out = [
        "'\\\" -*- coding: UTF-8 -*-",
        f'.\\" {page.filename}: written by gatewayd.manpage from the program\'s own parser; edit that, not this.',
        f'.TH {page.name.upper()} {page.section} {date:%Y-%m-%d} "gatewayd {gatewayd.__version__}" "gatewayd manual"',
        ".nh",  # no hyphenation: paths, groups and options are copied from the page as printed
        ".SH NAME",
        f"{page.name} \\- {text(description[:1].lower() + description[1:])}",
        ".SH SYNOPSIS",
        usage(parser, commands=True),
        *_section(first, first_body),
        ".SH OPTIONS",
        *_arguments(parser, top_options),
        ".SH COMMANDS",
        ".ad l",  # ragged right: a usage line's long choices fill a line with no space to stretch
    ]
    for _, sub, help in _subcommands(parser):
        out += _command(sub, help, top=True)
    out.append(".ad")
    for heading, body in after:
        out += _section(heading, body)
    refs = [ref.rstrip(")").split("(") for ref in page.see_also]
    out += [".SH SEE ALSO", ",\n".join(f"{bold(name)}({section})" for name, section in refs)]
    return "\n".join(out) + "\n"


# --- what the parsers cannot say ---------------------------------------------------------------

_STATE_DIR = config.SECTIONS["paths"]["state_dir"].default
_SOCKET = config.SECTIONS["api"]["socket"].default
_CONFIG = str(config.DEFAULT_PATH)
_STAFF_GROUP = "gatewayd-staff"  # systemd/gatewayd.sysusers; the package's gatewayd.toml names it

GATEWAYD = (8, (
    ("DESCRIPTION", (
        "gatewayd is the daemon on a business centre's front-desk PC. It sends and receives faxes "
        "through the desk's modems (Class 1, 2 and 2.0, on serial ports), watches the CUPS print "
        "queues, reads the copiers' page counters over SNMP, and bills every job to the service "
        "ticket it belongs to — or keeps it as unattributed usage for the monthly reconciliation, "
        "never dropped. Its ledger is an SQLite file in the state directory, or a PostgreSQL "
        "database several sites share ([database] url).",
        "The front desk uses it through gatewayctl(1) and the console in a browser, both clients of "
        "its staff API: HTTP/JSON on a Unix socket, whose caller is known by the socket's peer "
        "credentials and recorded in the audit trail. Who may connect is set by the socket's group "
        f"and mode ([api] group and mode; the Debian package gives it to the group {_STAFF_GROUP}).",
        "Under systemd (gatewayd.service) the daemon runs as the user gatewayd with Type=notify and a "
        "watchdog; its log is JSON lines on standard output (the journal), key=value on a terminal. "
        "It migrates the database when it starts and refuses a database newer than itself. The "
        "configuration is one TOML file, checked at start and by gatewayd check-config: one line "
        "per problem, naming the file, the dotted key and the reason.",
    )),
    ("SIGNALS", (
        ("SIGHUP", "Reload the configuration. An invalid file is refused and the old one kept."),
        ("SIGTERM", "Stop after answering the requests in flight."),
    )),
    ("FILES", (
        (_CONFIG, "The configuration (mode 0640, group gatewayd); --config names another."),
        (str(config.DEFAULT_PATH.with_name("rates.toml")), "The price list, included by the configuration."),
        (_STATE_DIR, "The state directory ([paths] state_dir, or --state-dir): the SQLite ledger "
                     "gatewayd.sqlite3 and the spool."),
        (f"{_STATE_DIR}/spool", "The spool ([paths] spool_dir): received faxes' pages (TIFF, with a PNG "
                                "preview) and pages being sent. Not in a backup: back it up as files."),
        (_SOCKET, "The staff API's socket ([api] socket, or --socket)."),
        ("/var/backups/gatewayd", "The nightly backups of gatewayd-backup.timer, when it is enabled."),
        ("/var/lock/LCK..*", "UUCP lock files of the modems' serial ports ([[fax.modems]] lock_dir), "
                             "respected by and against mgetty and HylaFAX."),
    )),
    ("EXIT STATUS", (
        (str(cli.EXIT_OK), "Done; for run, stopped by SIGTERM."),
        (str(cli.EXIT_REFUSED), "Refused: the socket is in use by another daemon, the database is newer than "
                                "this program or cannot be written at start, a backup cannot be restored, a "
                                "modem does not answer."),
        (str(cli.EXIT_BAD_CONFIG), "The configuration is invalid (one line per problem on standard error), or "
                                   "the command line is."),
    )),
    ("NOTES", (
        "The package's README, /usr/share/doc/gatewayd/README.md, is the full manual: every "
        "configuration key, the API's routes, the fax, print and copy procedures.",
    )),
), ("gatewayctl(1)", "systemctl(1)", "journalctl(1)", "cupsd(8)"))

GATEWAYCTL = (1, (
    ("DESCRIPTION", (
        "gatewayctl is the front desk's command line for gatewayd(8): the service tickets (the "
        "service form), their charges, payments and receipts, the fax, print and copy jobs billed "
        "to them, and the desk's registers — mail, complaints, visits, meeting rooms, newspapers, "
        "typing and copies. It is a client of the daemon's staff API and nothing more: each command "
        "asks the daemon on its Unix socket, and the daemon checks and records it.",
        "Output is tables for people, times in the site's time zone; --json prints the daemon's "
        "answer for scripts. Every command also takes -h (--help). Long lists show a page; --all "
        "shows every row.",
    )),
    ("WHO MAY USE IT", (
        f"Whoever may open the daemon's socket. The daemon gives the socket to the group named by "
        f"[api] group in {_CONFIG}, mode [api] mode (0660): in the Debian package that group is "
        f"{_STAFF_GROUP}. An administrator lets a member of staff in with usermod -aG {_STAFF_GROUP} "
        "NAME (it takes effect at their next login). Anyone else is refused by the socket's "
        f"permissions: gatewayctl exits {ctl.EXIT_UNREACHABLE} naming the group to ask for.",
        "The daemon knows the caller by the socket's peer credentials, so nothing gatewayctl sends "
        "can claim another identity; every change is written to the audit trail with the caller's "
        "Unix user. Commands marked (staff only) are refused to a caller outside the staff group "
        "when a looser socket mode lets others in.",
    )),
    ("ENVIRONMENT", (
        (ctl.SOCKET_ENV, f"The daemon's socket when --socket is not given (default {ctl.DEFAULT_SOCKET})."),
    )),
    ("FILES", (
        (ctl.DEFAULT_SOCKET, "The daemon's staff API socket."),
        (_CONFIG, "The daemon's configuration: [api] socket, mode and group say where the socket is "
                  "and who may use it."),
    )),
    ("EXIT STATUS", (
        (str(ctl.EXIT_OK), "Done."),
        (str(ctl.EXIT_REFUSED), "Refused by the daemon, with its reason: an unknown ticket, an illegal "
                                "state change, a value out of range, a staff-only command."),
        (str(ctl.EXIT_USAGE), "A usage error, or a file that cannot be read."),
        (str(ctl.EXIT_UNREACHABLE), "The daemon cannot be reached: it is not running, or permission is "
                                    f"denied on its socket (not a member of {_STAFF_GROUP})."),
    )),
), ("gatewayd(8)", "usermod(8)"))


def pages() -> list[Page]:
    return [Page(parser, section, sections, see_also) for parser, (section, sections, see_also)
            in ((cli.parser(), GATEWAYD), (ctl.parser(), GATEWAYCTL))]


def build_date() -> datetime:
    """SOURCE_DATE_EPOCH (reproducible builds) or now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gatewayd.manpage", description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, help="where to write gatewayd.8 and gatewayctl.1")
    args = parser.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    for page in pages():
        path = args.outdir / page.filename
        path.write_text(render(page, date=build_date()), encoding="utf-8")
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
