"""The front-desk console: the staff API's pages in a browser, served by the daemon on 127.0.0.1.

``logins`` mints and redeems the one-time links, ``server`` runs uvicorn in the daemon's loop,
``app`` assembles the Starlette app (sessions, CSRF, headers, the in-process API call), ``pages``
holds the pages, ``i18n`` the catalogs and formats; ``templates/`` and ``static/`` what the browser gets.
"""


class ConsoleError(Exception):
    """The console cannot listen where the configuration says."""
