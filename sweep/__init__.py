"""Design-space sweeps: many flows at once on Ray (the optional ``[sweep]`` extra)."""
