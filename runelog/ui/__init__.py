"""The web UI (Streamlit): `runelog ui`. Needs the `ui` extra: pip install "runelog[ui]"."""
