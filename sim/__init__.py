"""Verification of generated RTL: cocotb testbenches on Verilator, activity for energy."""
