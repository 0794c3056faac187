"""Broken configurations, each with the exact message an operator sees."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gatewayd import config

GOOD = """
[site]
name = "Tower A"
"""


def check(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    path = tmp_path / "gatewayd.toml"
    path.write_text(text, encoding="utf-8")
    return subprocess.run([str(Path(sys.executable).parent / "gatewayd"), "check-config", str(path)],
                          capture_output=True, text=True)


def test_the_shipped_example_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "config" / "gatewayd.toml"
    loaded = config.load(example)
    assert loaded.site["name"] == "Tower A Business Centre"
    assert loaded.database_url == "sqlite:////var/lib/gatewayd/gatewayd.sqlite3"


def test_minimal_config_gets_defaults(tmp_path: Path) -> None:
    result = check(tmp_path, GOOD)
    assert result.returncode == 0, result.stderr
    loaded = config.load(tmp_path / "gatewayd.toml", state_dir=tmp_path)
    assert loaded.site["currency"] == "CNY"
    assert loaded.spool_dir == tmp_path.resolve() / "spool"
    assert str(loaded.socket_path) == "/run/gatewayd/api.sock"


BROKEN = [
    ("[site]\nname = \"A\"\ncolour = 1\n", "site.colour: unknown key (known: name, country, timezone, currency, dial_plan)"),
    ("[sight]\nname = \"A\"\n", "sight: unknown section"),
    ("[site]\n", "site.name: missing required value"),
    ("", "site: missing required section (at least site.name)"),
    ("[site]\nname = 5\n", "site.name: must be a string, got int 5"),
    ("[site]\nname = \"A\"\ntimezone = \"Mars/Olympus\"\n",
     "site.timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as 'Asia/Shanghai')"),
    ("[site]\nname = \"A\"\ncountry = \"china\"\n",
     "site.country: must be a two-letter ISO 3166 country code such as 'CN', got 'china'"),
    ("[site]\nname = \"A\"\n[api]\nmode = \"rw\"\n", "api.mode: must be an octal file mode such as '0660', got 'rw'"),
    ("[site]\nname = \"A\"\n[api]\nmax_body_bytes = true\n", "api.max_body_bytes: must be an integer, got bool True"),
    ("[site]\nname = \"A\"\n[api]\nsocket = \"api.sock\"\n", "api.socket: must be an absolute path, got 'api.sock'"),
    ("[site]\nname = \"A\"\n[api]\ngroup = \"no-such-group-here\"\n",
     "api.group: no such group 'no-such-group-here' on this machine"),
    ("[site]\nname = \"A\"\n[paths]\nstate_dir = \"var/lib\"\n",
     "paths.state_dir: must be an absolute path, got 'var/lib'"),
    ("[site]\nname = \"A\"\n[database]\nurl = \"mysql://x\"\n",
     "database.url: must be a sqlite:// or postgresql:// URL, got 'mysql://x'"),
    ("[site]\nname = \"A\"\n[logging]\nlevel = \"loud\"\n",
     "logging.level: must be one of debug, info, warning, error, got 'loud'"),
    ("[site]\nname = \"A\"\n[desk]\nmail_hold_days = 0\n", "desk.mail_hold_days: must be positive, got 0"),
    ("[site]\nname = \"A\"\n[desk]\nnotify_command = \"notify.sh\"\n",
     "desk.notify_command: must be a list, got str 'notify.sh'"),
    ("[site]\nname = \"A\"\n[desk]\nnotify_command = [\"x\", 1]\n",
     "desk.notify_command: must be a list of strings, got ['x', 1]"),
    ("[site]\nname = \"A\"\n[desk]\nsweep_s = \"5\"\n", "desk.sweep_s: must be a number, got str '5'"),
    ("[site]\nname = \"A\"\n[console]\nlisten = \"localhost:8631\"\n",
     "console.listen: must be an IP address and port such as '127.0.0.1:8631' (or empty for off), got 'localhost:8631'"),
    ("[site]\nname = \"A\"\n[console]\nlisten = \"127.0.0.1:99999\"\n",
     "console.listen: must end in a port number 0-65535, such as '127.0.0.1:8631', got '127.0.0.1:99999'"),
    ("[site]\nname = \"A\"\n[console]\nsession_timeout_s = 0\n", "console.session_timeout_s: must be positive, got 0"),
    ("[site\nname = \"A\"\n", "not valid TOML: "),
    ("[site]\nname = \"A\"\nsite = 3\n[database]\nurl = 7\n", "database.url: must be a string, got int 7"),
]


@pytest.mark.parametrize(("text", "message"), BROKEN, ids=[m.split(":")[0] for _, m in BROKEN])
def test_broken_config_is_refused_with_its_reason(tmp_path: Path, text: str, message: str) -> None:
    result = check(tmp_path, text)
    assert result.returncode == 2
    path = tmp_path / "gatewayd.toml"
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"{path}: {message}") for line in lines), lines


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    result = check(tmp_path, "[site]\nname = 1\ncountry = \"x\"\n[api]\nmode = \"9\"\n")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 3


def test_unreadable_file(tmp_path: Path) -> None:
    result = subprocess.run([str(Path(sys.executable).parent / "gatewayd"), "check-config",
                             str(tmp_path / "missing.toml")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == f"{tmp_path / 'missing.toml'}: cannot read: No such file or directory"


def test_an_included_price_list_is_merged_and_clashes_are_refused(tmp_path: Path) -> None:
    (tmp_path / "extra.toml").write_text('[logging]\nlevel = "debug"\n', encoding="utf-8")
    result = check(tmp_path, 'include = ["extra.toml"]\n[site]\nname = "A"\n')
    assert result.returncode == 0, result.stderr
    assert config.load(tmp_path / "gatewayd.toml").logging["level"] == "debug"

    result = check(tmp_path, 'include = ["extra.toml"]\n[site]\nname = "A"\n[logging]\nlevel = "info"\n')
    assert result.returncode == 2
    assert result.stderr.strip() == f"{tmp_path / 'extra.toml'}: logging.level: set both here and in the main file"

    result = check(tmp_path, 'include = ["missing.toml"]\n[site]\nname = "A"\n')
    assert result.stderr.strip() == (f"{tmp_path / 'gatewayd.toml'}: include: cannot read "
                                     f"{tmp_path / 'missing.toml'}: No such file or directory")
