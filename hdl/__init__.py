"""Netlist to pipelined, streaming Amaranth circuits and Verilog."""
