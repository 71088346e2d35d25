"""Standard addresses (标准地址): reading typed Chinese address text into its parts."""

from grids.services.addresses.parse import (
    MAX_LENGTH,
    AddressError,
    ParsedAddress,
    normalise,
    parse_address,
)

__all__ = ["MAX_LENGTH", "AddressError", "ParsedAddress", "normalise", "parse_address"]
