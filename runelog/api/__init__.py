"""The user API, in parts: RuneLog (runelog.tracker) is made of these mixins.

Each mixin is a group of public calls over the services; all of them share
StoreHandle (base.py): the open store, its sessions and the active run.
"""
