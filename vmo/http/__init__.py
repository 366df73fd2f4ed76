"""The HTTP edge shared by every package, one concern a module: `errors` (the JSON error answers),
`auth` (the bearer token's user), `idempotency` (Idempotency-Key), `paging` (SQL-paged lists),
`caching` (ETags and the public lists' page cache), `logs` (request ids and redaction in log lines)
and `app` (the JSON provider and the request hooks, hung on the app by `init_app`).

Import from the module, not from here: nothing is re-exported.
"""
