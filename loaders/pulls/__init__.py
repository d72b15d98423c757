"""The pulls: from a live system into the inputs the loaders read (`sacct` into files beside
the config) or straight into the raw layer (Distiller's database)."""
