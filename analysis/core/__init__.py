"""The ground floor: the results bundle and its contract.

Records and identity (``records``), the bundle reader and writer (``bundle``, ``atomic``, ``lock``,
``thumbnail_index``), path confinement (``confinement``, ``paths``), the bundle's records as tables
(``tables``), bundles side by side (``side_by_side``), tags, run files and run options, progress, the
notebook API (``api``) and the version.

May import: the standard library and third-party packages only; no other ``analysis`` package.
"""
