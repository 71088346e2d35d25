"""The 一表通 API, one module per area: indicators (and rules), templates (and generated
reports), the ledger, completeness, burden, and Excel forms brought in. Everything is scoped
by the foundation's rule: units and regions outside the user's jurisdiction answer 404."""
