"""``gatewayctl``: the front desk's command line, a client of the staff API and nothing more.

Exit codes: 0 done, 1 refused by the daemon (its detail is printed), 2 usage, 3 daemon unreachable.
Each command module registers its subcommands with a ``handler(args, client) -> (json, text)``.
"""

from __future__ import annotations

import argparse
import getpass
import grp
import json
import os
import sys

from gatewayd.ctl import backup, billing, console, core, desk, devices, fax, printing, render, reports
from gatewayd.ctl.client import Client, Refused, Unreachable

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
SOCKET_ENV = "GATEWAYD_SOCKET"
DEFAULT_SOCKET = "/run/gatewayd/api.sock"
COMMAND_MODULES = (core, billing, printing, devices, fax, reports, desk, backup, console)

__all__ = ["Client", "Refused", "Unreachable", "main", "parser"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gatewayctl", description="Front-desk control of gatewayd")
    p.add_argument("--socket", default=os.environ.get(SOCKET_ENV, DEFAULT_SOCKET),
                   help=f"the daemon's API socket (default ${SOCKET_ENV} or {DEFAULT_SOCKET})")
    p.add_argument("--json", action="store_true", help="print JSON for scripts instead of tables")
    sub = p.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return p


def _group_of(path: str) -> str:
    gid = os.stat(path).st_gid
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)  # exits 2 on usage errors
    client = Client(args.socket)
    render.site_zone = render.SiteZone(None if args.json else client)
    try:
        result, text = args.handler(args, client)
    except Unreachable as err:
        print(f"gatewayctl: {err}", file=sys.stderr)
        if isinstance(err.__cause__, PermissionError):
            print(f"hint: only members of the group {_group_of(args.socket)} may use gatewayd: ask an "
                  f"administrator to add you (usermod -aG {_group_of(args.socket)} {getpass.getuser()})",
                  file=sys.stderr)
        else:
            print(f"hint: is gatewayd running? (systemctl status gatewayd) "
                  f"or point --socket / ${SOCKET_ENV} at its socket", file=sys.stderr)
        return EXIT_UNREACHABLE
    except Refused as err:
        print(f"gatewayctl: refused ({err.status}): {err.detail}", file=sys.stderr)
        return EXIT_REFUSED
    except (OSError, ValueError) as err:  # a CSV that cannot be read, a --payload that is not JSON
        print(f"gatewayctl: {err}", file=sys.stderr)
        return EXIT_USAGE
    if args.json or text is None:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(text)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
