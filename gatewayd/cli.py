"""``gatewayd``: run the daemon, apply migrations, check a configuration file."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from gatewayd import config as config_mod
from gatewayd import logs

EXIT_OK, EXIT_REFUSED, EXIT_BAD_CONFIG = 0, 1, 2


def _load(args: argparse.Namespace) -> config_mod.Config:
    return config_mod.load(
        Path(args.config),
        state_dir=Path(args.state_dir) if getattr(args, "state_dir", None) else None,
        socket=Path(args.socket) if getattr(args, "socket", None) else None,
    )


#: Files the daemon makes (database, spool, cursors) are 0640 and its directories 0750 whatever
#: the caller's umask: they hold customers' names, phones and bills.
UMASK = 0o027


def cmd_run(args: argparse.Namespace) -> int:
    from gatewayd import db
    from gatewayd.daemon import Daemon

    from gatewayd.api.server import SocketInUse
    from gatewayd.console import ConsoleError
    from gatewayd.storage import StorageUnavailable

    os.umask(UMASK)
    config = _load(args)
    logs.configure(config.logging["level"])
    try:
        asyncio.run(Daemon(config, state_dir=args.state_dir and Path(args.state_dir),
                           socket=args.socket and Path(args.socket)).run())
    except (SocketInUse, db.SchemaTooNew, ConsoleError) as err:
        print(f"gatewayd: {err}", file=sys.stderr)
        return EXIT_REFUSED
    except StorageUnavailable as err:
        print(f"gatewayd: {err.detail}", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    from gatewayd import db

    os.umask(UMASK)
    config = _load(args)
    try:
        db.migrate(db.make_engine(config.database_url))
    except db.SchemaTooNew as err:
        print(f"gatewayd: {err}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"database at {config.database_url} is up to date")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from gatewayd import backup, db

    config = _load(args)
    try:
        kept = backup.restore(db.make_engine(config.database_url), Path(args.file),
                              socket_path=config.socket_path, state_dir=config.state_dir)
    except (backup.BackupError, db.SchemaTooNew) as err:
        print(f"gatewayd: {err}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"restored {args.file} into {config.database_url}; the database as it was is kept in {kept}")
    return EXIT_OK


def cmd_check_config(args: argparse.Namespace) -> int:
    config = config_mod.load(Path(args.path))
    print(f"{config.path}: OK")
    return EXIT_OK


def cmd_rates_check(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from gatewayd.billing import BillingError, format_table

    config = config_mod.load(Path(args.config))
    if "rates" not in config.sections:
        print(f"{config.path}: no [rates] section: nothing can be priced", file=sys.stderr)
        return EXIT_BAD_CONFIG
    site = config.sections["site"]
    for warning in config.sections["rates"].warnings:
        print(f"{config.path}: warning: {warning}", file=sys.stderr)
    at = datetime.fromisoformat(args.at) if args.at else datetime.now(timezone.utc)
    try:
        print(format_table(config.sections["rates"].in_force(at, site.zone), site), end="")
    except BillingError as err:
        print(f"{config.path}: {err}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    return EXIT_OK


def cmd_modem_probe(args: argparse.Namespace) -> int:
    """Question a fax modem; print a ready [[fax.modems]] table and what to do about it."""
    from drivers.fax.channel import ChannelError, FlowControl, ModemChannel
    from drivers.fax.lock import PortBusy
    from drivers.fax.probe import modem_block, probe

    channel = ModemChannel(args.port, baudrate=args.baudrate, flow=FlowControl(args.flow),
                           lock_dir=args.lock_dir)
    try:
        channel.open()
    except PortBusy as err:
        print(f"{args.port}: port locked by {err.owner} pid {err.pid}: stop it, or give gatewayd "
              "another modem", file=sys.stderr)
        return EXIT_REFUSED
    except ChannelError as err:
        print(f"{args.port}: {err}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        report = probe(channel)
    except ChannelError as err:
        print(f"{args.port}: the modem does not answer ({err}): check the cable, the port and "
              "the baud rate", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        channel.close()
    for finding in report.findings:
        print(f"# {finding}")
    if report.recommended is None:
        return EXIT_REFUSED
    print(modem_block(report, args.name, args.lock_dir), end="")
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    """gatewayd's command line (also the source of its man page, gatewayd.manpage)."""
    parser = argparse.ArgumentParser(prog="gatewayd", description="Business-centre gateway daemon")
    commands = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", default=str(config_mod.DEFAULT_PATH), help="configuration file (TOML)")
        p.add_argument("--state-dir", help="override paths.state_dir (database, spool)")
        p.add_argument("--socket", help="override api.socket")

    run = commands.add_parser("run", help="run the daemon in the foreground")
    with_config(run)
    run.set_defaults(func=cmd_run)
    migrate = commands.add_parser("migrate", help="create or upgrade the database schema")
    with_config(migrate)
    migrate.set_defaults(func=cmd_migrate)
    restore = commands.add_parser("restore", help="replace the database with a backup (daemon stopped)")
    restore.add_argument("file", help="a file written by gatewayctl backup")
    with_config(restore)
    restore.set_defaults(func=cmd_restore)
    check = commands.add_parser("check-config", help="validate a configuration file")
    check.add_argument("path", help="the configuration file (TOML)")
    check.set_defaults(func=cmd_check_config)

    rates = commands.add_parser("rates", help="the price list").add_subparsers(dest="action", required=True)
    rates_check = rates.add_parser("check", help="validate the configuration and print the rate table in force")
    rates_check.add_argument("--config", default=str(config_mod.DEFAULT_PATH), help="configuration file (TOML)")
    rates_check.add_argument("--at", help="ISO time with offset (default now)")
    rates_check.set_defaults(func=cmd_rates_check)

    modem = commands.add_parser("modem", help="fax modems").add_subparsers(dest="action", required=True)
    modem_probe = modem.add_parser("probe", help="identify a fax modem and print its [[fax.modems]] table")
    modem_probe.add_argument("port", help="device (/dev/ttyS0) or pyserial URL")
    modem_probe.add_argument("--name", default="fax1", help="the modem's name in the table")
    modem_probe.add_argument("--lock-dir", default="/var/lock", help="UUCP lock directory")
    modem_probe.add_argument("--baudrate", type=int, default=115200, help="serial speed (default 115200)")
    modem_probe.add_argument("--flow", choices=("rtscts", "xonxoff", "none"), default="rtscts",
                             help="flow control (default rtscts)")
    modem_probe.set_defaults(func=cmd_modem_probe)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except config_mod.ConfigError as err:
        for line in err.lines:
            print(line, file=sys.stderr)
        return EXIT_BAD_CONFIG


if __name__ == "__main__":
    sys.exit(main())
