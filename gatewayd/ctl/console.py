"""gatewayctl console: log into the browser console with a one-time link for your Unix user."""

from __future__ import annotations

import argparse
import webbrowser

from gatewayd.ctl.client import Client
from gatewayd.ctl.core import Result


def console(args: argparse.Namespace, client: Client) -> Result:
    link = client.post("/console/login-link")
    if args.print_url:
        return link, link["url"]
    if not webbrowser.open(link["url"]):
        return link, f"no browser to open here; open this link within {link['expires_in_s']:g} s:\n{link['url']}"
    return link, f"opened the console as {link['user']} in your browser"


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("console", help="open the front-desk console in the browser (one-time login link)")
    c.add_argument("--print-url", action="store_true", help="print the link instead of opening a browser")
    c.set_defaults(handler=console)
