"""`sipas-bot zalo pull-ratings` and `sipas-bot outbox list`: being written on branch zns."""
