"""The CUPS driver: finished print jobs as :class:`~drivers.cups.events.PrintJobFinished` events.

Read in this order:

* :mod:`~drivers.cups.config` -- the ``[cups]`` section (no pycups needed);
* :mod:`~drivers.cups.events` -- the event and its enums;
* :mod:`~drivers.cups.pages` -- page truth: what a job is billed for, and why not CUPS' counts;
* :mod:`~drivers.cups.marks` -- the ticket id in a job (:func:`~drivers.cups.marks.ticket_ref`);
* :mod:`~drivers.cups.attributes` -- IPP job attributes -> event (pure);
* :mod:`~drivers.cups.pagecount` -- counting a document's pages with Ghostscript;
* :mod:`~drivers.cups.errors` / :mod:`~drivers.cups.client` -- the pycups edge;
* :mod:`~drivers.cups.submit` -- printing a document for a ticket;
* :mod:`~drivers.cups.watcher` / :mod:`~drivers.cups.cursor` -- subscription, catch-up scan;
* :mod:`~drivers.cups.driver` -- ``CupsDriver``: the supervisor's contract.

Nothing is imported here, so ``drivers.cups.config`` loads without pycups installed.
"""
