"""Reports: what a model costs on real FPGA families, from real synthesis and P&R."""
