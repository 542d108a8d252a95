"""`sipas-bot zalo authorize`: being written on branch zalo-tokens."""
