"""The copier lab: snmpsim serving recorded printer walks whose counters we can advance."""
