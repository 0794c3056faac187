"""The T.30 engine's transition table as data: whole, every state reachable, every row's action
declaring where it may lead (the back-to-back runs check each step against it, see
``helpers.BackToBack``), and ``docs/T30.md`` drawn from it."""

from pathlib import Path

from drivers.fax import t30_table as t30
from drivers.fax.t30 import Signal, State

DOC = Path(__file__).resolve().parents[2] / "docs" / "T30.md"


def test_every_action_declares_where_it_leads_and_under_which_guard():
    actions = {*t30._TABLE.values(), *t30._ANY_STATE.values(), t30.Steps._unexpected}
    assert actions <= set(t30._LEADS_TO), sorted(a.__name__ for a in actions - set(t30._LEADS_TO))
    assert set(t30._LEADS_TO) <= actions  # nothing declared for an action no row uses
    for action, targets in t30._LEADS_TO.items():  # a choice between states is a named one
        assert len(targets) == 1 or all(targets.values()), action.__name__


def test_every_state_but_done_takes_every_signal_somewhere():
    for state in State:
        if state is State.DONE:
            continue
        for signal in Signal:
            row = t30.transition(state, signal)
            assert row.to and State.DIALLING not in row.to and State.R_ANSWER not in row.to


def test_every_state_is_reachable_and_every_call_can_end():
    reach = {State.DIALLING, State.R_ANSWER}
    while True:
        more = {t for row in t30.transitions() if row.state in reach for t in row.to} - reach
        if not more:
            break
        reach |= more
    assert reach == set(State)
    ending = {State.DONE}
    while True:
        more = {row.state for row in t30.transitions() if set(row.to) & ending} - ending
        if not more:
            break
        ending |= more
    assert ending == set(State)


def test_the_diagram_in_docs_is_drawn_from_the_table():
    assert DOC.read_text() == t30.diagram(), "regenerate: python -m drivers.fax.t30_table > docs/T30.md"
