"""The command line (the top floor): ``python -m analysis`` / ``cornlens`` (``commands``) and the demo.

May import: every other ``analysis`` package.
"""
