"""runelog's web UI: the Streamlit script that `runelog ui` serves.

The store comes from RUNELOG_HOME / RUNELOG_DATABASE_URL / RUNELOG_ARTIFACT_ROOT
(set by `runelog ui --store`). It is opened read-only on every rerun and closed
after, so the UI never creates, migrates or locks a store that scripts are
writing to; the Refresh button (or any click) shows new runs.
"""

from __future__ import annotations

from typing import cast

import streamlit as st

from runelog import exceptions, get_tracker
from runelog.ui import views


def open_store():
    """(tracker, None), or (None, problem) where problem is "empty" or an error message."""
    try:
        return get_tracker(read_only=True), None
    except exceptions.StoreNotFound:
        return None, "empty"
    except exceptions.RunelogException as exc:
        return None, str(exc)


def main() -> None:
    st.set_page_config(page_title="runelog", layout="wide")
    views.sync_from_address()
    st.sidebar.title("runelog")
    # A cast: radio's overloads name typing.Never, which Python 3.10 (our mypy target) lacks, so mypy
    # picks the "no options" overload (-> None) for every call; with options and index 0 it is a page name.
    page = cast(str, st.sidebar.radio("Page", list(views.PAGES), key="page"))
    st.sidebar.button("Refresh", help="Read the store again (new runs, new points).")
    tracker, problem = open_store()
    if problem == "empty":
        views.quickstart()
        return
    if problem:
        st.error(problem)
        return
    try:
        if views.is_empty(tracker):
            views.quickstart()
        else:
            views.PAGES[page](tracker)
    except exceptions.RunelogException as exc:
        st.error(str(exc))
    finally:
        tracker.close()


main()
