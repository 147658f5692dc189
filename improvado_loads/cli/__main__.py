"""``python -m improvado_loads.cli``: the same as the ``improvado-loads`` script."""

from improvado_loads.cli import main

main()
