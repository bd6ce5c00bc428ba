"""The rules of the backend. No HTTP here: routes call these, these call the store and chain."""
