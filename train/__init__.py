"""The numpy trainer of local LUT meshes: data in, a bit-exact netlist out."""
