"""Pulumi dynamic providers. Importable by reference, so the stack state holds
only their module and class names, never code or credentials."""

from improvado_loads.provider.errors import ProviderError
from improvado_loads.provider.load import LoadProvider, LoadProviderError
from improvado_loads.provider.run import LoadRunError, LoadRunProvider

__all__ = ["LoadProvider", "LoadProviderError", "LoadRunError", "LoadRunProvider", "ProviderError"]
