"""Board targets (amaranth-boards): UART inference top, bitstream build, flashing.

Not implemented yet; see the boards issue.
"""
